# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: configfs event generators, the kernel UDP echo
# socket, and the netdevice and module notifiers.

CU_G=/sys/kernel/config/kuif/generators
CU_BADK='BUG:|Oops|WARNING:|general protection|KASAN|refcount_t|list_add corruption|list_del corruption|Call Trace:'

# ---------------------------------------------------------------- helpers
# The VM runs under emulation with its root on 9p: every exec is slow, so
# these helpers use shell builtins where they can.

# cu_errname MESSAGE: the errno name for a strerror() text in MESSAGE.
cu_errname() {
	case "$1" in
	*"Invalid argument"*) echo EINVAL ;;
	*"Message too long"*) echo EMSGSIZE ;;
	*"Permission denied"*) echo EACCES ;;
	*"No space left on device"*) echo ENOSPC ;;
	*"No such file or directory"*) echo ENOENT ;;
	*"No such device"*) echo ENODEV ;;
	*"File exists"*) echo EEXIST ;;
	*) echo "unknown: $1" ;;
	esac
}

# cu_write FILE DATA: one write of DATA (as is); prints OK or the errno name.
cu_write() {
	local err
	if err=$( { printf '%s' "$2" > "$1"; } 2>&1 ); then
		echo OK
	else
		cu_errname "$err"
	fi
}

# cu_mkdir DIR: prints OK or the errno name.
cu_mkdir() {
	local err
	if err=$(mkdir "$1" 2>&1); then echo OK; else cu_errname "$err"; fi
}

# cu_refused ERRNO FILE VALUE: the write is refused with ERRNO and FILE
# reads the same afterwards.
cu_refused() {
	local want=$1 f=$2 val=$3 before got after
	before=$(< "$f")
	got=$(cu_write "$f" "$val")
	after=$(< "$f")
	[ "$got" = "$want" ] || { echo "$f <- '${val:0:40}': $got, want $want"; return 1; }
	[ "$before" = "$after" ] || { echo "$f changed to '$after' by a refused write"; return 1; }
}

# The whole path kernel -> kuifd -> subscriber works (after a reload).
cu_kuifd_ready() {
	local i
	for ((i = 1; i <= 30; i++)); do
		monitor_start probe --event test.probe --count 1 --timeout 5 || return 1
		if kuifctl emit test.probe "ready $i" > /dev/null 2>&1 && wait "$MON_PID"; then
			return 0
		fi
		kill "$MON_PID" 2>/dev/null
		wait "$MON_PID" 2>/dev/null
		sleep 0.2
	done
	echo "kuifd did not deliver events after the module came back"
	return 1
}

# cu_reload [PARAM=VALUE...]: rmmod kuif, modprobe it again, wait for kuifd.
cu_reload() {
	rmmod kuif || { echo "rmmod kuif failed"; return 1; }
	modprobe kuif "$@" || { echo "modprobe kuif $* failed"; return 1; }
	cu_kuifd_ready
}

# cu_mon_start TAG FILTER...: a monitor that runs until cu_mon_stop TAG,
# which emits a marker event and stops once the marker came through (all
# earlier events have then been delivered).
cu_mon_start() {
	local tag=$1
	shift
	monitor_start "$tag" --timeout 120 --event test.marker "$@" || return 1
	CU_MON=$MON_PID
}

cu_mon_stop() {
	local tag=$1 rc=0
	if ! kuifctl emit test.marker "$tag" > /dev/null; then
		echo "cannot emit the marker"; rc=1
	elif ! wait_for "grep -q '\"event\":\"test.marker\"' $T/$tag.out" 150; then
		echo "marker not delivered: $(< "$T/$tag.err")"; rc=1
	fi
	kill "$CU_MON" 2>/dev/null
	wait "$CU_MON" 2>/dev/null
	return $rc
}

# cu_events FILE: "event payload" per event record of `kuifctl monitor
# --json` (compact, keys in kuifd's order), markers left out.
cu_events() {
	sed -n -e '/"type":"event"/!d' -e '/"event":"test.marker"/d' \
		-e 's/.*"event":"\([^"]*\)".*"data":{"payload":"\(.*\)"}.*$/\1 \2/p' "$1"
}

cu_klog_clean() {
	local bad
	bad=$(dmesg | grep -E "$CU_BADK" | head -3)
	[ -z "$bad" ] || { echo "kernel log: $bad"; return 1; }
}

# ---------------------------------------------------------------- configfs

t_cu_kuifd_running() {
	# These tests unload the module while kuifd runs: without the ring,
	# which would keep /dev/kuif open and the module pinned.
	kuifd_config '[sources]\nring = no\n' || return 1
	cu_kuifd_ready
}

t_configfs_mounted() {
	grep -q '^configfs /sys/kernel/config configfs ' /proc/mounts || {
		mount -t configfs configfs /sys/kernel/config
		echo "configfs was not mounted at /sys/kernel/config"
		return 1
	}
	[ -d $CU_G ] || { echo "$CU_G missing"; return 1; }
	[ -z "$(ls -A $CU_G)" ] || { echo "generators at start: $(ls $CU_G)"; return 1; }
}

t_gen_mkdir_defaults() {
	local g=$CU_G/g1 spec name mode val got modes
	mkdir $g || return 1
	modes=$(cd $g && stat -c '%n:%a' *)
	[ "$(echo $modes)" = "count:444 enable:644 event:644 interval_ms:644 payload:600" ] ||
		{ echo "attributes and modes: $(echo $modes)"; rmdir $g; return 1; }
	for spec in interval_ms:1000 event:generator.tick payload: enable:0 count:0; do
		name=${spec%%:*} val=${spec#*:}
		got=$(< $g/$name)
		[ "$got" = "$val" ] || { echo "$name is '$got', want '$val'"; rmdir $g; return 1; }
	done
	rmdir $g || return 1
	[ ! -e $g ] || { echo "g1 still there"; return 1; }
}

t_gen_mkdir_rmdir_events() {
	local got
	monitor_start mkd --event 'configfs.*' --count 2 --timeout 30 || return 1
	mkdir $CU_G/ev-one || return 1
	rmdir $CU_G/ev-one || return 1
	wait "$MON_PID" || { echo "monitor exited $?: $(< $T/mkd.out)"; return 1; }
	got=$(cu_events $T/mkd.out)
	[ "$(echo $got)" = "configfs.mkdir ev-one configfs.rmdir ev-one" ] || { echo "events: $got"; return 1; }
}

t_gen_bad_names() {
	local n r long21=abcdefghijklmnopqrstu
	# Latin-1 letters (0xe9, 0xff) are lower case to the kernel's ctype.
	for n in Bad "with space" 'a$b' "${long21}v" $'caf\xe9' $'x\xff'; do
		r=$(cu_mkdir "$CU_G/$n")
		[ "$r" = EINVAL ] || { echo "mkdir '$n': $r, want EINVAL"; rmdir "$CU_G/$n" 2>/dev/null; return 1; }
		[ ! -e "$CU_G/$n" ] || { echo "'$n' exists"; return 1; }
	done
	mkdir "$CU_G/$long21" || { echo "a 21-character name was refused"; return 1; }
	rmdir "$CU_G/$long21"
}

t_gen_ticks() {
	local g=$CU_G/tick c1 c2 got
	mkdir $g || return 1
	echo 50 > $g/interval_ms && echo gen.tick-test > $g/event &&
		echo "tick payload" > $g/payload || return 1
	[ "$(< $g/interval_ms)/$(< $g/event)/$(< $g/payload)" = "50/gen.tick-test/tick payload" ] ||
		{ echo "attributes not stored"; return 1; }
	monitor_start ticks --event gen.tick-test --timeout 90 || return 1
	echo 1 > $g/enable || return 1
	[ "$(< $g/enable)" = 1 ] || { echo "enable reads $(< $g/enable)"; return 1; }
	wait_for "[ \$(grep -c gen.tick-test $T/ticks.out) -ge 5 ]" 300 ||
		{ echo "ticks seen: $(grep -c gen.tick-test $T/ticks.out)"; kill $MON_PID; return 1; }
	kill $MON_PID; wait $MON_PID 2>/dev/null
	got=$(cu_events $T/ticks.out | sort | uniq -c)
	[[ "$got" =~ ^\ *[0-9]+\ gen.tick-test\ tick\ payload$ ]] || { echo "events: $got"; return 1; }
	c1=$(< $g/count); sleep 0.5; c2=$(< $g/count)
	[ "$c1" -ge 5 ] && [ "$c2" -gt "$c1" ] || { echo "count $c1 then $c2"; return 1; }
}

t_gen_disable_stops() {
	local g=$CU_G/tick c1 c2
	echo 0 > $g/enable || return 1
	[ "$(< $g/enable)" = 0 ] || return 1
	c1=$(< $g/count); sleep 0.5; c2=$(< $g/count)
	[ "$c1" = "$c2" ] || { echo "count went on: $c1 then $c2"; return 1; }
	monitor_start quiet --event gen.tick-test --timeout 4 || return 1
	wait $MON_PID
	[ ! -s $T/quiet.out ] || { echo "events after enable=0: $(head -2 $T/quiet.out)"; return 1; }
	[ "$(< $g/count)" = "$c1" ] || { echo "count changed"; return 1; }
}

t_gen_bad_values() {
	local g=$CU_G/tick v p
	for v in 5 9 60001 text -1 "" 1e3; do
		cu_refused EINVAL $g/interval_ms "$v"$'\n' || return 1
	done
	[ "$(< $g/interval_ms)" = 50 ] || return 1
	[ "$(cu_write $g/interval_ms 10)/$(< $g/interval_ms)" = OK/10 ] || { echo "10 refused"; return 1; }
	[ "$(cu_write $g/interval_ms 60000)/$(< $g/interval_ms)" = OK/60000 ] || { echo "60000 refused"; return 1; }
	echo 50 > $g/interval_ms || return 1

	for v in "Bad Name" Upper 9lives "" "abcdefghijklmnopqrstuvwxyz.abcde" \
	    $'\xffx' $'x\xe9'; do
		cu_refused EINVAL $g/event "$v"$'\n' || return 1
	done
	[ "$(cu_write $g/event abcdefghijklmnopqrstuvwxyz.abcd)" = OK ] || { echo "31-byte name refused"; return 1; }
	echo gen.tick-test > $g/event || return 1

	p=xxxxxxxxxxxxxxxx; p=$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p	# 256
	cu_refused EMSGSIZE $g/payload "${p}x" || return 1
	cu_refused EMSGSIZE $g/payload "$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p" || return 1
	[ "$(cu_write $g/payload "$p"$'\n')" = OK ] || { echo "256 bytes + newline refused"; return 1; }
	[ "$(< $g/payload)" = "$p" ] || { echo "256-byte payload not read back"; return 1; }
	echo "tick payload" > $g/payload || return 1

	for v in 2 x -1 "" 01x; do
		cu_refused EINVAL $g/enable "$v"$'\n' || return 1
	done
	[ "$(< $g/enable)" = 0 ] || return 1
	v=$(cu_write $g/count 5)
	[ "$v" = EACCES ] || { echo "write to count: $v, want EACCES"; return 1; }
	rmdir $g
}

t_gen_rmdir_while_enabled() {
	local g=$CU_G/busy got err
	mkdir $g || return 1
	echo 10 > $g/interval_ms && echo gen.busy > $g/event && echo 1 > $g/enable || return 1
	monitor_start rmd --event configfs.rmdir --count 1 --timeout 30 || return 1
	sleep 0.3
	[ "$(< $g/count)" -gt 0 ] || { echo "not ticking"; return 1; }
	rmdir $g || { echo "rmdir failed"; return 1; }
	[ ! -e $g ] || { echo "$g still exists"; return 1; }
	wait "$MON_PID" || { echo "no configfs.rmdir event"; return 1; }
	got=$(cu_events $T/rmd.out)
	[ "$got" = "configfs.rmdir busy" ] || { echo "event: $got"; return 1; }
	# An attribute file still open after rmdir cannot restart it.
	mkdir $g || return 1
	exec 5> $g/enable
	rmdir $g || { exec 5>&-; echo "rmdir with an open attribute failed"; return 1; }
	err=$( { echo 1 >&5; } 2>&1 )
	exec 5>&-
	[ "$(cu_errname "$err")" = ENOENT ] || { echo "enable=1 after rmdir: '$err'"; return 1; }
}

t_gen_pins_module() {
	local r0 r1 err
	r0=$(< /sys/module/kuif/refcnt)
	mkdir $CU_G/pin || return 1
	r1=$(< /sys/module/kuif/refcnt)
	[ "$r1" -gt "$r0" ] || { echo "refcnt $r0 -> $r1"; rmdir $CU_G/pin; return 1; }
	if err=$(rmmod kuif 2>&1); then
		echo "rmmod succeeded with a generator present"; modprobe kuif; return 1
	fi
	echo "$err" | grep -q "in use" || { echo "rmmod said: $err"; rmdir $CU_G/pin; return 1; }
	grep -q '^kuif ' /proc/modules || { echo "module gone"; return 1; }
	rmdir $CU_G/pin || return 1
	[ "$(< /sys/module/kuif/refcnt)" = "$r0" ] || { echo "refcnt not back to $r0"; return 1; }
	cu_reload || return 1
	[ -d $CU_G ] || { echo "$CU_G missing after reload"; return 1; }
}

# 64 generators, then the 65th is refused.
cu_fill_to_cap() {
	local r
	(cd $CU_G && mkdir c{0..63}) || { echo "64 mkdirs failed"; return 1; }
	r=$(cu_mkdir $CU_G/c64)
	[ "$r" = ENOSPC ] || { echo "65th mkdir: $r, want ENOSPC"; return 1; }
	[ ! -e $CU_G/c64 ] || { echo "c64 exists"; return 1; }
}

t_gen_cap_64() {
	local rc=0
	(cd $CU_G && rmdir * 2>/dev/null)
	cu_fill_to_cap || rc=1
	(cd $CU_G && rmdir c* 2>/dev/null)
	[ -z "$(ls -A $CU_G)" ] || { echo "left: $(ls $CU_G)"; return 1; }
	return $rc
}

# mkdir/rmdir 200 times (every other one ticking every 10 ms), then two
# threads racing on one name while ticking: nothing may be left behind.
t_gen_storm() {
	local r0 rc=0
	r0=$(< /sys/module/kuif/refcnt)
	python3 - "$CU_G" <<'PY' || return 1
import os, sys, threading
G = sys.argv[1]
def put(path, v):
    with open(path, "w") as f:
        f.write(v)
for i in range(200):
    d = G + "/storm"
    os.mkdir(d)
    if i % 2:
        put(d + "/interval_ms", "10")
        put(d + "/enable", "1")
    os.rmdir(d)
def race():
    d = G + "/race"
    for i in range(100):
        for op in (lambda: os.mkdir(d), lambda: put(d + "/interval_ms", "10"),
                   lambda: put(d + "/enable", "1"), lambda: put(d + "/enable", "0"),
                   lambda: put(d + "/enable", "1"), lambda: os.rmdir(d)):
            try:
                op()
            except OSError:
                pass
ts = [threading.Thread(target=race) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
try:
    os.rmdir(G + "/race")
except OSError:
    pass
PY
	[ -z "$(ls -A $CU_G)" ] || { echo "left behind: $(ls $CU_G)"; return 1; }
	[ "$(< /sys/module/kuif/refcnt)" = "$r0" ] ||
		{ echo "refcnt $(< /sys/module/kuif/refcnt), was $r0"; return 1; }
	# Every generator was released: the cap is whole again.
	cu_fill_to_cap || rc=1
	(cd $CU_G && rmdir c* 2>/dev/null)
	[ $rc = 0 ] && cu_klog_clean
}

# ---------------------------------------------------------------- UDP

t_udp_port_param() {
	local f=/sys/module/kuif/parameters/udp_port
	[ "$(cat $f)" = 5555 ] || { echo "udp_port is $(cat $f)"; return 1; }
	[ "$(stat -c %a $f)" = 444 ] || { echo "mode $(stat -c %a $f)"; return 1; }
	ss -Hnlu | grep -q '127\.0\.0\.1:5555 ' || { echo "nothing on 127.0.0.1:5555: $(ss -Hnlu)"; return 1; }
}

t_udp_echo_round_trip() {
	local out
	out=$("$HERE/udp-echo" -t 10000) || { echo "$out"; return 1; }
	[ "$out" = "hello world" ] || { echo "got '$out'"; return 1; }
	out=$("$HERE/udp-echo" -t 10000 -c 50 -m "again" | sort | uniq -c | tr -s ' ')
	[ "$out" = " 50 again" ] || { echo "50 round trips: $out"; return 1; }
}

t_udp_event() {
	local got
	monitor_start udp1 --event udp.datagram --count 1 --timeout 20 || return 1
	"$HERE/udp-echo" -t 10000 -m "udp event test" > /dev/null || return 1
	wait "$MON_PID" || { echo "no udp.datagram event"; return 1; }
	got=$(cu_events $T/udp1.out)
	[ "$got" = "udp.datagram udp event test" ] || { echo "event: $got"; return 1; }
}

t_udp_sizes() {
	local s out p got
	for s in 0 1 1472 65507; do
		out=$("$HERE/udp-echo" -t 10000 -s $s) || { echo "size $s: $out"; return 1; }
		[ "$out" = "$s bytes echoed" ] || { echo "size $s: $out"; return 1; }
	done
	# The event carries the first 256 bytes.
	monitor_start udp2 --event udp.datagram --count 1 --timeout 20 || return 1
	"$HERE/udp-echo" -t 10000 -s 1000 > /dev/null || return 1
	wait "$MON_PID" || return 1
	p=abcdefghijklmnopqrstuvwxyz; p=$p$p$p$p$p$p$p$p$p$p; p=${p:0:256}
	got=$(cu_events $T/udp2.out)
	[ "$got" = "udp.datagram $p" ] || { echo "event: ${got:0:80}..."; return 1; }
}

t_udp_port_param_checked() {
	local v err
	rmmod kuif || return 1
	for v in 0 65536 -1 abc; do
		if err=$(modprobe kuif udp_port=$v 2>&1); then
			echo "udp_port=$v accepted"; return 1
		fi
		echo "$err" | grep -q "Invalid argument" || { echo "udp_port=$v: $err"; return 1; }
		grep -q '^kuif ' /proc/modules && { echo "loaded with udp_port=$v"; return 1; }
	done
	modprobe kuif udp_port=5556 || return 1
	[ "$(cat /sys/module/kuif/parameters/udp_port)" = 5556 ] || return 1
	"$HERE/udp-echo" -t 10000 -p 5556 > /dev/null || { echo "no echo on 5556"; return 1; }
	if "$HERE/udp-echo" -p 5555 -t 500 > /dev/null 2>&1; then
		echo "echo on 5555 with udp_port=5556"; return 1
	fi
	cu_reload || return 1
	"$HERE/udp-echo" -t 10000 > /dev/null || { echo "no echo on 5555 after reload"; return 1; }
}

t_udp_port_busy_fails_load() {
	local err holder rc=0
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5557)); print("bound", flush=True); time.sleep(300)' > $T/holder.out 2>&1 &
	holder=$!
	wait_for "grep -q bound $T/holder.out" 300 || { kill $holder; echo "holder did not bind"; return 1; }
	rmmod kuif || { kill $holder; return 1; }
	if err=$(modprobe kuif udp_port=5557 2>&1); then
		echo "loaded although 5557 is taken"; rc=1
	elif ! echo "$err" | grep -q "Address already in use"; then
		echo "modprobe said: $err"; rc=1
	fi
	[ ! -e /dev/kuif ] || { echo "/dev/kuif left by the failed load"; rc=1; }
	kill $holder; wait $holder 2>/dev/null
	grep -q '^kuif ' /proc/modules && rmmod kuif
	modprobe kuif || return 1
	cu_kuifd_ready || return 1
	[ $rc = 0 ] && cu_klog_clean
}

t_udp_rmmod_under_load() {
	local flood i rc=0 unloaded=0 busy=0
	rm -f $T/flood.stop
	python3 - $T/flood.stop > $T/flood.out 2>&1 <<'PY' &
import os, random, socket, sys, time
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
for s in socks:
    s.setblocking(False)
sizes = [0, 1, 100, 1472, 8000, 65507]
end, n = time.time() + 120, 0
print("flooding", flush=True)
while time.time() < end and not os.path.exists(sys.argv[1]):
    for s in socks:
        try:
            s.sendto(os.urandom(random.choice(sizes)), ("127.0.0.1", 5555))
            n += 1
        except OSError:
            pass
print("sent", n)
PY
	flood=$!
	wait_for "grep -q flooding $T/flood.out" 300 || { kill $flood; echo "no flood"; return 1; }
	sleep 1
	for i in 1 2 3 4; do
		if rmmod kuif 2> $T/rmmod.err; then
			unloaded=$((unloaded + 1))
			! ss -Hnlu | grep -q '127\.0\.0\.1:5555 ' || { echo "port still bound after rmmod"; rc=1; }
			modprobe kuif || { echo "modprobe $i failed"; touch $T/flood.stop; return 1; }
		else
			busy=$((busy + 1))
		fi
		sleep 0.5
	done
	touch $T/flood.stop
	wait $flood
	grep -q '^kuif ' /proc/modules || modprobe kuif || return 1
	echo "$(cat $T/flood.out), $unloaded unloads, $busy refused" > $T/flood.summary
	[ "$unloaded" -gt 0 ] || { echo "rmmod never succeeded: $(cat $T/rmmod.err)"; return 1; }
	cu_kuifd_ready || return 1
	"$HERE/udp-echo" -t 10000 > /dev/null || { echo "no echo after the reloads"; return 1; }
	[ $rc = 0 ] && cu_klog_clean
}

# ---------------------------------------------------------------- notifiers

t_module_notifier() {
	local got
	if grep -q '^dummy ' /proc/modules; then
		ip -o link show type dummy | awk -F': ' '{print $2}' |
			while read -r d; do ip link del "$d"; done
		rmmod dummy || { echo "cannot unload dummy"; return 1; }
	fi
	cu_mon_start mod --event 'module.*' || return 1
	modprobe dummy || { cu_mon_stop mod; echo "modprobe dummy failed"; return 1; }
	rmmod dummy || { cu_mon_stop mod; echo "rmmod dummy failed"; return 1; }
	cu_mon_stop mod || return 1
	got=$(cu_events $T/mod.out | grep ' dummy$' | tr '\n' '|')
	[ "$got" = "module.load dummy|module.unload dummy|" ] ||
		{ echo "events: $(cu_events $T/mod.out | tr '\n' '|')"; return 1; }
}

t_netdev_notifier() {
	local got want
	modprobe dummy numdummies=0 || return 1
	cu_mon_start nd --event 'netdev.*' || return 1
	ip link add kuiftest0 type dummy &&
		ip link set kuiftest0 up &&
		ip link set kuiftest0 down &&
		ip link del kuiftest0 &&
		ip link add kuiftest0 type dummy &&
		ip link set kuiftest0 up &&
		ip link del kuiftest0 || { cu_mon_stop nd; ip link del kuiftest0 2>/dev/null; return 1; }
	cu_mon_stop nd || return 1
	got=$(cu_events $T/nd.out | grep ' kuiftest0$' | tr '\n' '|')
	want="netdev.register kuiftest0|netdev.up kuiftest0|netdev.down kuiftest0|netdev.unregister kuiftest0|"
	want="$want$want"
	[ "$got" = "$want" ] || { echo "events: $got"; return 1; }
	rmmod dummy
}

# Addresses (IPv4 and IPv6) and a device's carrier and operational state.
# The link-local address IPv6 gives the device by itself is not ours.
t_address_and_link_notifiers() {
	local got want
	modprobe dummy numdummies=0 || return 1
	cu_mon_start ad --event 'inet*' --event netdev.change || return 1
	{ ip link add kuiftest1 type dummy &&
		ip link set kuiftest1 up &&
		ip addr add 192.0.2.1/24 dev kuiftest1 &&
		ip addr add 2001:db8::1/64 dev kuiftest1 nodad &&
		ip addr del 192.0.2.1/24 dev kuiftest1 &&
		ip addr del 2001:db8::1/64 dev kuiftest1 &&
		ip link set kuiftest1 carrier off &&
		wait_for "grep -q 'kuiftest1 carrier=off' $T/ad.out" 100 &&
		ip link set kuiftest1 carrier on &&
		wait_for "grep -q 'kuiftest1 carrier=on' $T/ad.out" 100; } ||
		{ cu_mon_stop ad; ip link del kuiftest1 2>/dev/null; echo "events: $(cu_events $T/ad.out | tr '\n' '|')"; return 1; }
	ip link del kuiftest1
	cu_mon_stop ad || return 1
	got=$(cu_events $T/ad.out | grep ' kuiftest1 ' | grep -v ' fe80::' | tr '\n' '|')
	want="inet.add kuiftest1 192.0.2.1/24|inet6.add kuiftest1 2001:db8::1/64|"
	want+="inet.del kuiftest1 192.0.2.1/24|inet6.del kuiftest1 2001:db8::1/64|"
	want+="netdev.change kuiftest1 carrier=off operstate=down|"
	want+="netdev.change kuiftest1 carrier=on operstate=up|"
	[ "$got" = "$want" ] || { echo "events: $got"; return 1; }
	rmmod dummy
}

# A suspend cycle through pm_test's "freezer" level: the PM notifier's
# prepare and post calls, with processes frozen for pm_test's delay.
t_power_notifier() {
	local got rc=0
	cu_mon_start pw --event 'power.*' || return 1
	echo freezer > /sys/power/pm_test || { cu_mon_stop pw; return 1; }
	echo freeze > /sys/power/state || rc=$?
	echo none > /sys/power/pm_test
	cu_mon_stop pw || return 1
	got=$(cu_events $T/pw.out | tr '\n' '|')
	[ "$got" = "power.suspend suspend|power.resume suspend|" ] ||
		{ echo "events: $got (suspend status $rc)"; return 1; }
}

# Unregistering the notifier replays DOWN and UNREGISTER for every device:
# those are not real activity and must not become events.
t_netdev_no_replay_on_unload() {
	local got
	cu_mon_start rep --event 'netdev.*' --event 'module.*' || return 1
	rmmod kuif || { cu_mon_stop rep; return 1; }
	modprobe kuif || return 1
	cu_kuifd_ready || { cu_mon_stop rep; return 1; }
	cu_mon_stop rep || return 1
	got=$(cu_events $T/rep.out)
	[ -z "$got" ] || { echo "events: $(echo "$got" | tr '\n' '|')"; return 1; }
}

t_cu_module_loaded_at_end() {
	grep -q '^kuif ' /proc/modules || { echo "kuif not loaded"; return 1; }
	[ -d $CU_G ] || { echo "$CU_G missing"; return 1; }
	[ -z "$(ls -A $CU_G)" ] || { echo "generators left: $(ls $CU_G)"; return 1; }
	kuifd_config_default
	cu_klog_clean
}

check cu_kuifd_running t_cu_kuifd_running
check configfs_mounted t_configfs_mounted
check gen_mkdir_defaults t_gen_mkdir_defaults
check gen_mkdir_rmdir_events t_gen_mkdir_rmdir_events
check gen_bad_names t_gen_bad_names
check gen_ticks t_gen_ticks
check gen_disable_stops t_gen_disable_stops
check gen_bad_values t_gen_bad_values
check gen_rmdir_while_enabled t_gen_rmdir_while_enabled
check gen_pins_module t_gen_pins_module
check gen_cap_64 t_gen_cap_64
check gen_storm t_gen_storm
check udp_port_param t_udp_port_param
check udp_echo_round_trip t_udp_echo_round_trip
check udp_event t_udp_event
check udp_sizes t_udp_sizes
check udp_port_param_checked t_udp_port_param_checked
check udp_port_busy_fails_load t_udp_port_busy_fails_load
check udp_rmmod_under_load t_udp_rmmod_under_load
check module_notifier t_module_notifier
check netdev_notifier t_netdev_notifier
check address_and_link_notifiers t_address_and_link_notifiers
# The debug kernel is built without power management (tests/vm/debug.config);
# every Debian kernel has pm_test (CONFIG_PM_DEBUG), so there it must run.
if [ -e /sys/power/pm_test ] || [ -z "$(sed -n 's/^KUIF_DEBUG_LANE=//p' "$R/params" 2>/dev/null)" ]; then
	check power_notifier t_power_notifier
else
	echo "power_notifier: not run (the debug kernel has no CONFIG_PM_SLEEP)"
fi
check netdev_no_replay_on_unload t_netdev_no_replay_on_unload
check cu_module_loaded_at_end t_cu_module_loaded_at_end
