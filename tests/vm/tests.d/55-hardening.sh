# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: what local users without privilege can and cannot
# do (see payloads, have processes signalled, flood the event stream), and
# the orderings that keep kuif.ko safe: /proc/kuif/events read in small
# pieces, generic netlink strict validation and parallel handlers, a
# failed load while /dev/kuif is being opened.

NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
HD=/sys/kernel/config/kuif/generators

# A small generic netlink client: python3 $T/genl.py COMMAND ... (see below).
cat > $T/genl.py <<'PY'
import os, socket, struct, sys, time

NETLINK_GENERIC, SOL_NETLINK, ADD_MEMBERSHIP = 16, 270, 1
CTRL_CMD_GETFAMILY, CTRL_A_FAMILY_ID, CTRL_A_FAMILY_NAME = 3, 1, 2
CTRL_A_MCAST_GROUPS = 7
NLM_F_REQUEST, NLM_F_ACK = 1, 4
KUIF_CMD_ECHO, KUIF_CMD_EMIT, KUIF_CMD_EVENT, KUIF_CMD_GET_STATS = 1, 2, 3, 5
KUIF_A_MSG, KUIF_A_KSEQ, KUIF_A_EVENT, KUIF_A_PAYLOAD = 1, 2, 4, 5
KUIF_A_MAX = 11

def attr(t, v):
    n = 4 + len(v)
    return struct.pack("HH", n, t) + v + b"\0" * ((4 - n % 4) % 4)

def attrs(b):
    out = {}
    while len(b) >= 4:
        n, t = struct.unpack_from("HH", b)
        if n < 4:
            break
        out[t & 0x3fff] = b[4:n]
        b = b[(n + 3) & ~3:]
    return out

class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.seq = 1
        a = self.request(0x10, CTRL_CMD_GETFAMILY,
                         attr(CTRL_A_FAMILY_NAME, b"kuif\0"), ver=1)[1]
        self.family = struct.unpack("H", a[CTRL_A_FAMILY_ID][:2])[0]
        self.groups = {}
        for g in attrs(a[CTRL_A_MCAST_GROUPS]).values():
            g = attrs(g)
            self.groups[g[1].rstrip(b"\0").decode()] = \
                struct.unpack("I", g[2])[0]

    def send(self, fam, cmd, body, ver=1, reserved=0, flags=0):
        self.seq += 1
        msg = struct.pack("BBH", cmd, ver, reserved) + body
        hdr = struct.pack("IHHII", 16 + len(msg), fam,
                          NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0)
        self.s.send(hdr + msg)
        return self.seq

    def request(self, fam, cmd, body=b"", ver=1, reserved=0):
        """Returns (errno, attributes of the reply or {})."""
        seq = self.send(fam, cmd, body, ver, reserved)
        reply = {}
        while True:
            data = self.s.recv(65536)
            while len(data) >= 16:
                n, typ, _, s, _ = struct.unpack_from("IHHII", data)
                if s == seq and typ == 2:
                    return -struct.unpack_from("i", data, 16)[0], reply
                if s == seq:
                    reply = attrs(data[20:n])
                data = data[(n + 3) & ~3:]

    def kuif(self, cmd, body=b"", **kw):
        return self.request(self.family, cmd, body, **kw)

    def join(self, how):
        g = self.groups["events"]
        if how == "setsockopt":
            self.s.setsockopt(SOL_NETLINK, ADD_MEMBERSHIP, g)
        else:
            self.s.close()
            self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                   NETLINK_GENERIC)
            self.s.bind((0, 1 << (g - 1)))

def main():
    g = Genl()
    cmd = sys.argv[1]
    if cmd == "join":		# join setsockopt|bind: prints "joined" or the errno
        try:
            g.join(sys.argv[2])
        except OSError as e:
            print(os.strerror(e.errno)); return 1
        print("joined", flush=True)
        if len(sys.argv) > 3:	# ... then wait for an event named argv[3]
            g.s.settimeout(20)
            while True:
                data = g.s.recv(65536)
                a = attrs(data[20:])
                if a.get(KUIF_A_EVENT, b"").rstrip(b"\0").decode() == sys.argv[3]:
                    print("payload", a[KUIF_A_PAYLOAD].decode())
                    return 0
    elif cmd == "echo-flood":	# echo-flood SECONDS: ECHO as fast as it goes
        end, n = time.time() + float(sys.argv[2]), 0
        while time.time() < end:
            g.send(g.family, KUIF_CMD_ECHO, attr(KUIF_A_MSG, b"flood\0"))
            n += 1
            try:
                while g.s.recv(65536, socket.MSG_DONTWAIT):
                    pass
            except OSError:	# EAGAIN, or ENOBUFS: acks overran
                pass
        print(n)
    elif cmd == "strict":	# each op still works; what strict refuses
        err, r = g.kuif(KUIF_CMD_ECHO, attr(KUIF_A_MSG, b"strict\0"))
        assert err == 0 and r[KUIF_A_MSG] == b"strict\0", ("ECHO", err, r)
        err, r = g.kuif(KUIF_CMD_EMIT, attr(KUIF_A_EVENT, b"strict.emit\0") +
                        attr(KUIF_A_PAYLOAD, b"p"))
        assert err == 0 and KUIF_A_KSEQ in r, ("EMIT", err, r)
        err, r = g.kuif(KUIF_CMD_GET_STATS)
        assert err == 0 and r, ("GET_STATS", err, r)
        for what, kw, body in (
                ("reserved field", {"reserved": 1}, b""),
                ("attribute past KUIF_A_MAX", {}, attr(KUIF_A_MAX + 1, b"x")),
                ("attribute without a policy (PAD)", {}, attr(6, b"12345678")),
                ("trailing bytes", {}, b"\1\2\3")):
            err, _ = g.kuif(KUIF_CMD_GET_STATS, body, **kw)
            assert err == 22, (what, "accepted" if not err else os.strerror(err))
        print("ok")
    elif cmd == "bench-probe":	# bench-probe NL_CMD: nlctrl during a BENCH
        import subprocess
        def events():
            for l in open("/proc/kuif/status"):
                if l.startswith("events: "):
                    return int(l.split()[1])
        e0 = events()
        p = subprocess.Popen([sys.argv[2], "bench", "1000000", "0", "8"],
                             stdout=subprocess.DEVNULL)
        end = time.time() + 30
        while events() < e0 + 1000 and time.time() < end:
            time.sleep(0.01)
        t0 = time.monotonic()
        # nlctrl has no parallel_ops: it needs genl_mutex.
        g.request(0x10, CTRL_CMD_GETFAMILY, attr(CTRL_A_FAMILY_NAME, b"kuif\0"))
        ms = int((time.monotonic() - t0) * 1000)
        mid, running = events() - e0, p.poll() is None
        rc = p.wait()
        print(ms, mid, events() - e0, int(running), rc)
    return 0

sys.exit(main())
PY

hd_status() { sed -n "s/^$1: //p" /proc/kuif/status; }

# ------------------------------------------------------------- item 4

t_payloads_hidden_from_nobody() {
	local secret=hidden-$RANDOM$RANDOM out g=$HD/hdsecret rc=0 how
	systemctl start kuifd || return 1
	printf '%s' "$secret.dev" > /dev/kuif || return 1
	echo "$secret.dbg" > /sys/kernel/debug/kuif/trigger || return 1
	"$HERE/ioctl-msg" emit hd.secret "$secret.ioctl" > /dev/null || return 1
	mkdir $g && echo "$secret.cfg" > $g/payload || return 1
	grep -q "$secret.dev" /proc/kuif/events || { rmdir $g; echo "root cannot see the payload"; return 1; }
	# Every file nobody can read under kuif's trees, and the events file.
	out=$($NOBODY sh -c "cat /proc/kuif/events; cat $g/payload; grep -rsa '$secret' /proc/kuif /sys/kernel/kuif /sys/bus/kuif /sys/kernel/config/kuif /proc/sys/kuif /sys/module/kuif" 2>&1)
	rmdir $g
	case "$out" in *"$secret"*) echo "nobody saw a payload: $out"; rc=1 ;; esac
	[ "$(stat -c %a /proc/kuif/events)" = 400 ] || { echo "events mode $(stat -c %a /proc/kuif/events)"; rc=1; }
	$NOBODY sh -c 'exec 3</dev/kuif' 2>/dev/null && { echo "nobody opened /dev/kuif"; rc=1; }
	$NOBODY kuifctl monitor --count 1 --timeout 2 > /dev/null 2>&1 && { echo "nobody subscribed to kuifd"; rc=1; }
	for how in setsockopt bind; do
		out=$($NOBODY python3 $T/genl.py join $how 2>&1)
		[ "$out" = "Operation not permitted" ] || { echo "nobody joined \"events\" ($how): $out"; rc=1; }
	done
	return $rc
}

t_root_still_joins_events_group() {
	local pid
	python3 $T/genl.py join setsockopt hd.root > $T/hdjoin.out 2>&1 &
	pid=$!
	wait_for "grep -q joined $T/hdjoin.out" 100 || { kill $pid; echo "root: $(cat $T/hdjoin.out)"; return 1; }
	"$HERE/ioctl-msg" emit hd.root for-root > /dev/null || return 1
	wait $pid || { echo "no event: $(cat $T/hdjoin.out)"; return 1; }
	grep -q "^payload for-root$" $T/hdjoin.out || { cat $T/hdjoin.out; return 1; }
}

# ------------------------------------------------------------- item 5

t_register_signal_follows_kill_rule() {
	local victim mine out rc=0
	systemctl stop kuifd
	$NOBODY sleep 60 &
	victim=$!
	# nobody with CAP_NET_ADMIN passes GENL_ADMIN_PERM, not kill(2)'s rule.
	out=$($NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin "$HERE/nl-cmd" register-signal 1 2>&1) &&
		{ echo "nobody registered pid 1"; rc=1; }
	echo "$out" | grep -q "not permitted" || { echo "pid 1: $out"; rc=1; }
	[ "$(cat /sys/kernel/kuif/signal_pid)" = 0 ] || { echo "signal_pid $(cat /sys/kernel/kuif/signal_pid)"; rc=1; }
	# Its own process: allowed.
	out=$($NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin "$HERE/nl-cmd" register-signal $victim 2>&1) ||
		{ echo "nobody could not register its own process: $out"; rc=1; }
	[ "$(cat /sys/kernel/kuif/signal_pid)" = $victim ] || { echo "own process not registered"; rc=1; }
	echo 0 > /sys/kernel/kuif/signal_pid
	# root without CAP_KILL: not nobody's process, through sysfs or debugfs.
	setpriv --bounding-set=-kill sh -c "echo $victim > /sys/kernel/kuif/signal_pid" 2>/dev/null &&
		{ echo "sysfs: registered without CAP_KILL"; rc=1; }
	setpriv --bounding-set=-kill sh -c "echo $victim > /sys/kernel/debug/kuif/signalconfpid" 2>/dev/null &&
		{ echo "debugfs: registered without CAP_KILL"; rc=1; }
	[ "$(cat /sys/kernel/kuif/signal_pid)" = 0 ] || { echo "registered: $(cat /sys/kernel/kuif/signal_pid)"; rc=1; }
	kill -0 $victim || { echo "the victim was signalled"; rc=1; }
	# With CAP_KILL (plain root): allowed.
	echo $victim > /sys/kernel/kuif/signal_pid || rc=1
	echo 0 > /sys/kernel/kuif/signal_pid
	kill $victim; wait $victim 2>/dev/null
	systemctl start kuifd
	return $rc
}

# Ending or replacing a live registration needs the same right over the
# process registered now: nobody with CAP_NET_ADMIN cannot unregister root's
# process nor put its own in its place.
t_register_signal_keeps_others_registration() {
	local root_pid mine out rc=0
	systemctl stop kuifd
	sleep 60 &
	root_pid=$!
	$NOBODY sleep 60 &
	mine=$!
	echo $root_pid > /sys/kernel/kuif/signal_pid || rc=1
	out=$($NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin "$HERE/nl-cmd" register-signal 0 2>&1) &&
		{ echo "nobody unregistered root's process"; rc=1; }
	echo "$out" | grep -q "not permitted" || { echo "unregister: $out"; rc=1; }
	out=$($NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin "$HERE/nl-cmd" register-signal $mine 2>&1) &&
		{ echo "nobody replaced root's process"; rc=1; }
	echo "$out" | grep -q "not permitted" || { echo "replace: $out"; rc=1; }
	[ "$(cat /sys/kernel/kuif/signal_pid)" = $root_pid ] || { echo "signal_pid $(cat /sys/kernel/kuif/signal_pid)"; rc=1; }
	# Once root's process is gone, the stale registration is anyone's.
	kill $root_pid; wait $root_pid 2>/dev/null
	out=$($NOBODY --inh-caps=+net_admin --ambient-caps=+net_admin "$HERE/nl-cmd" register-signal $mine 2>&1) ||
		{ echo "after root's process ended: $out"; rc=1; }
	[ "$(cat /sys/kernel/kuif/signal_pid)" = $mine ] || { echo "not replaced: $(cat /sys/kernel/kuif/signal_pid)"; rc=1; }
	echo 0 > /sys/kernel/kuif/signal_pid
	kill $mine; wait $mine 2>/dev/null
	systemctl start kuifd
	return $rc
}

# ------------------------------------------------------------- item 3

t_unprivileged_flood_loses_no_other_event() {
	local s0 d0="" d1="" n=300 c echo_n udp_pid echo_pid="" i rc=0
	systemctl start kuifd || return 1
	# The count ends it; the timeout only bounds a failure (a debug kernel
	# under emulation delivers slowly).
	monitor_start hdflood --event hd.real --count $n --timeout 180 || return 1
	for c in netlink ring signal upcall; do d0="$d0 $(hd_status ${c}_dropped)"; done
	s0="$(hd_status echo_limited) $(hd_status udp_limited)"
	$NOBODY python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 4
while time.time() < end:
    s.sendto(b"flood", ("127.0.0.1", 5555))' &
	udp_pid=$!
	# Three senders: one alone stays under the limit on a slow kernel.
	for i in 1 2 3; do
		$NOBODY python3 $T/genl.py echo-flood 4 > $T/hdecho.$i.out &
		echo_pid="$echo_pid $!"
	done
	for i in 1 2 3; do
		sleep 0.7
		"$HERE/ioctl-msg" emit hd.real "batch $i" $((n / 3)) > /dev/null || { echo "emit $i failed"; rc=1; }
	done
	wait $udp_pid $echo_pid
	wait "$MON_PID" || { echo "the monitor got $(grep -c '"event":"hd.real"' $T/hdflood.out) of $n;" \
		"lost records: $(grep '"type":"lost"' $T/hdflood.out | head -3)"; rc=1; }
	echo_n=$(( $(cat $T/hdecho.1.out) + $(cat $T/hdecho.2.out) + $(cat $T/hdecho.3.out) ))
	for c in netlink ring signal upcall; do d1="$d1 $(hd_status ${c}_dropped)"; done
	[ "$d0" = "$d1" ] || { echo "dropped counters moved: $d0 ->$d1"; rc=1; }
	set -- $s0
	[ "$(hd_status echo_limited)" -gt "$1" ] || { echo "no ECHO limited ($echo_n sent)"; rc=1; }
	[ "$(hd_status udp_limited)" -gt "$2" ] || { echo "no datagram limited"; rc=1; }
	echo "flood: $echo_n ECHO sent; limited: echo $(hd_status echo_limited), udp $(hd_status udp_limited)" >> $R/hardening.txt
	return $rc
}

t_privileged_echo_not_limited() {
	local l0
	l0=$(hd_status echo_limited)
	python3 $T/genl.py echo-flood 1 > /dev/null || return 1
	[ "$(hd_status echo_limited)" = "$l0" ] || { echo "root's ECHO limited: $l0 -> $(hd_status echo_limited)"; return 1; }
}

# ------------------------------------------------------------- item 8

t_proc_events_small_reads_skip_nothing() {
	python3 - "$HERE/ioctl-msg" <<'PY'
import os, subprocess, sys
# The history is full (more than 128 events so far) and it rolls while the
# file is read 64 bytes at a time: one event every 4 reads.
subprocess.run([sys.argv[1], "emit", "hd.fill", "x", "130"], check=True,
               stdout=subprocess.DEVNULL)
fd = os.open("/proc/kuif/events", os.O_RDONLY)
dev = os.open("/dev/kuif", os.O_WRONLY)
buf, reads = b"", 0
while True:
    d = os.read(fd, 64)
    if not d:
        break
    buf += d
    reads += 1
    if reads % 4 == 0 and reads < 4000:
        os.write(dev, b"roll %d" % reads)
lines = buf.decode().splitlines()
kseqs = [int(l.split()[0]) for l in lines]
rolls = sum(1 for l in lines if " chardev.write roll " in l)
bad = [(a, b) for a, b in zip(kseqs, kseqs[1:]) if b != a + 1]
assert rolls >= 10 and not bad, (len(kseqs), rolls, bad[:5])
PY
}

# ------------------------------------------------------------- items 9, 10

t_genl_strict_validation() {
	local out
	out=$(python3 $T/genl.py strict 2>&1) && [ "$out" = ok ] || { echo "$out"; return 1; }
}

t_bench_blocks_no_other_family() {
	local ms mid all running rc
	read -r ms mid all running rc < <(python3 $T/genl.py bench-probe "$HERE/nl-cmd") || return 1
	echo "CTRL_CMD_GETFAMILY during BENCH: $ms ms, at event $mid of $all" >> $R/hardening.txt
	[ "$rc" = 0 ] && [ "$all" -ge 1000000 ] || { echo "BENCH: rc $rc, $all events"; return 1; }
	[ "$running" = 1 ] || { echo "BENCH ended before nlctrl answered ($ms ms, event $mid of $all)"; return 1; }
	[ "$ms" -lt 1000 ] || { echo "nlctrl took $ms ms"; return 1; }
}

# ------------------------------------------------------------- items 2, 6

t_failed_load_while_dev_opened() {
	local holder opener i err rc=0
	systemctl stop kuifd
	rmmod kuif || { systemctl start kuifd; return 1; }
	python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5555)); print("bound", flush=True); time.sleep(300)' > $T/hdhold.out 2>&1 &
	holder=$!
	wait_for "grep -q bound $T/hdhold.out" 300 || { kill $holder; modprobe kuif; echo "holder did not bind"; return 1; }
	: > $T/hdopened
	( while :; do if exec 3</dev/kuif; then echo opened >> $T/hdopened; exec 3<&-; fi; done 2>/dev/null ) &
	opener=$!
	for ((i = 0; i < 3; i++)); do
		if err=$(modprobe kuif 2>&1); then
			echo "loaded although 5555 is taken"; rc=1; rmmod kuif; break
		fi
		echo "$err" | grep -q "Address already in use" || { echo "modprobe: $err"; rc=1; break; }
	done
	kill $opener $holder; wait $opener $holder 2>/dev/null
	[ ! -s $T/hdopened ] || { echo "/dev/kuif opened $(wc -l < $T/hdopened) times during failed loads"; rc=1; }
	modprobe kuif || { echo "normal load failed"; return 1; }
	printf 'after failed loads' > /dev/kuif || rc=1
	systemctl start kuifd
	dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|refcount_t' | head -3 | grep . && rc=1
	return $rc
}

check payloads_hidden_from_nobody t_payloads_hidden_from_nobody
check root_still_joins_events_group t_root_still_joins_events_group
check register_signal_follows_kill_rule t_register_signal_follows_kill_rule
check register_signal_keeps_others_registration t_register_signal_keeps_others_registration
check unprivileged_flood_loses_no_other_event t_unprivileged_flood_loses_no_other_event
check privileged_echo_not_limited t_privileged_echo_not_limited
check proc_events_small_reads_skip_nothing t_proc_events_small_reads_skip_nothing
check genl_strict_validation t_genl_strict_validation
check bench_blocks_no_other_family t_bench_blocks_no_other_family
check failed_load_while_dev_opened t_failed_load_while_dev_opened
