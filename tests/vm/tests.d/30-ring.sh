# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: the mmap ring of /dev/kuif, poll, and the ioctls.

ring_stat() {	# ring_stat FIELD: one number from ring-reader --stats
	"$HERE/ring-reader" --stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"
}

ring_drain() {	# consume everything pending
	"$HERE/ring-reader" --set-consumer "$(ring_stat producer)"
}

# ring_capacity PAYLOAD: records of PAYLOAD bytes the ring holds (a
# 56-byte header, the payload rounded up to 8). The installed modprobe.d
# file sets ring_pages: the tests that overflow the ring size their bursts
# by it.
ring_capacity() {
	echo $(( $(cat /sys/module/kuif/parameters/ring_pages) * 4096 / (56 + ($1 + 7) / 8 * 8) ))
}

# The ring's size as installed: conf/kuif-modprobe.conf, read by modprobe
# and systemd-modules-load at boot.
t_ring_pages_as_installed() {
	local want
	want=$(sed -n 's/^options kuif .*ring_pages=\([0-9]*\).*/\1/p' /etc/modprobe.d/kuif.conf)
	[ -n "$want" ] || { echo "no ring_pages in /etc/modprobe.d/kuif.conf"; return 1; }
	[ "$(cat /sys/module/kuif/parameters/ring_pages)" = "$want" ] ||
		{ echo "ring_pages $(cat /sys/module/kuif/parameters/ring_pages), installed $want"; return 1; }
}

t_ring_info_matches_ring_pages() {
	local pages size map
	pages=$(cat /sys/module/kuif/parameters/ring_pages)
	size=$(ring_stat data_size); map=$(ring_stat mmap_size)
	[ "$size" = $((pages * 4096)) ] || { echo "data_size $size for $pages pages"; return 1; }
	[ "$map" = $(((pages + 2) * 4096)) ] || { echo "mmap_size $map"; return 1; }
	[ "$(ring_stat version)" = 2 ] || { echo "ring version $(ring_stat version)"; return 1; }
}

t_ring_delivers_in_kseq_order() {
	local out
	systemctl stop kuifd 2>/dev/null
	ring_drain
	# Only these: the kernel may emit others meanwhile (module.load).
	"$HERE/ring-reader" --count 5 --timeout 10 --event chardev.write > "$T/ring5.out" &
	local pid=$!
	sleep 0.3
	for i in 1 2 3 4 5; do printf "ring-$i" > /dev/kuif; done
	wait $pid || { echo "reader got $(wc -l < "$T/ring5.out") records"; return 1; }
	python3 - "$T/ring5.out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert [r[1] for r in rows] == ["chardev.write"] * 5, rows
assert [r[2] for r in rows] == ["ring-%d" % i for i in range(1, 6)], rows
k = [int(r[0]) for r in rows]
assert all(b == a + 1 for a, b in zip(k, k[1:])), k
PY
}

t_ring_full_drops_and_never_corrupts() {
	local d0 d1 n
	systemctl stop kuifd 2>/dev/null
	ring_drain
	d0=$(ring_stat dropped)
	# Twice what the ring holds: overflow it.
	"$HERE/ioctl-msg" emit ring.flood "$(head -c 200 /dev/zero | tr '\0' f)" \
		$(( $(ring_capacity 200) * 2 )) > /dev/null || return 1
	d1=$(ring_stat dropped)
	[ "$d1" -gt "$d0" ] || { echo "no drop counted ($d0 -> $d1)"; return 1; }
	n=$("$HERE/ring-reader" --timeout 1 | awk '
		{ if (NR > 1 && $1 <= last) { print "order"; exit 1 } last = $1; n++ }
		END { print n }') || { echo "records out of order"; return 1; }
	[ "$n" -gt 100 ] || { echo "only $n records readable"; return 1; }
	grep -q "^ring_dropped" /proc/kuif/status 2>/dev/null || true
}

t_ring_corrupt_consumer_is_recovered() {
	local b0 b1 out
	systemctl stop kuifd 2>/dev/null
	ring_drain
	b0=$(ring_stat bad_consumer)
	"$HERE/ring-reader" --set-consumer 0xffffffffff00 || return 1
	printf 'after corruption' > /dev/kuif
	b1=$(ring_stat bad_consumer)
	[ "$b1" -gt "$b0" ] || { echo "bad_consumer $b0 -> $b1"; return 1; }
	"$HERE/ring-reader" --set-consumer 3 || return 1	# misaligned
	printf 'after misalignment' > /dev/kuif
	[ "$(ring_stat bad_consumer)" -gt "$b1" ] || { echo "misaligned not caught"; return 1; }
	out=$("$HERE/ring-reader" --count 1 --timeout 5) || { echo "ring unreadable"; return 1; }
	echo "$out" | grep -q "after misalignment" || { echo "got: $out"; return 1; }
}

# Python helpers for the ring's maps: raw mmap/mprotect through ctypes.
RING_PY='
import ctypes, errno, mmap, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PG = 4096
R, W, RW = mmap.PROT_READ, mmap.PROT_WRITE, mmap.PROT_READ | mmap.PROT_WRITE
SH, PR = mmap.MAP_SHARED, mmap.MAP_PRIVATE
fd = os.open("/dev/kuif", os.O_RDWR)
pages = int(open("/sys/module/kuif/parameters/ring_pages").read()) + 2
def map_(length, offset=0, flags=SH, prot=R):
    a = libc.mmap(None, length, prot, flags, fd, offset)
    if a in (None, ctypes.c_void_p(-1).value):
        return -ctypes.get_errno()
    return a
def refused(*a, **k):
    r = map_(*a, **k)
    if r > 0:
        libc.munmap(r, a[0])
        return 0
    return -r
def faults(addr):
    # A write through addr, in a child: it must die of SIGSEGV.
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        ctypes.memset(addr, 0x55, 8)
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    return os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGSEGV
'

t_ring_mmap_refuses_bad_requests() {
	python3 - <<PY
$RING_PY
e = errno
assert refused((pages + 1) * PG) == e.EINVAL, "too long"
assert refused(PG, offset=pages * PG) == e.EINVAL, "offset past the ring"
assert refused(2 * PG, offset=(pages - 1) * PG) == e.EINVAL, "running past the ring"
assert refused(PG, flags=PR, prot=RW) == e.EACCES, "private writable"
# Every map the reader needs, and an observer's read-only map of all.
c = map_(PG, prot=RW)
assert c > 0, "consumer page read-write: %d" % c
p = map_((pages - 1) * PG, offset=PG)
assert p > 0, "producer page and data read-only: %d" % p
assert ctypes.string_at(p, 4) == b"FIUK"      # KUIF_RING_MAGIC, little endian
a = map_(pages * PG)
assert a > 0, "read-only map of the whole ring: %d" % a
assert ctypes.string_at(a + PG, 4) == b"FIUK"
# A private read-only map of the consumer page cannot be made writable,
# a shared one can.
m = map_(PG, flags=PR)
assert m > 0 and libc.mprotect(m, PG, RW) == -1 and ctypes.get_errno() == e.EACCES
m = map_(PG)
assert m > 0 and libc.mprotect(m, PG, RW) == 0, "shared consumer page not upgradable"
PY
}

# Moving the consumer position is the consumer's right: a member of group
# kuif without CAP_NET_ADMIN may watch the whole ring read-only but gets
# EACCES for a writable map of the consumer page, even shared and alone.
t_ring_consumer_page_needs_net_admin() {
	local gid
	gid=$(getent group kuif | cut -d: -f3)
	[ -n "$gid" ] || { echo "no group kuif"; return 1; }
	setpriv --reuid=nobody --regid=nogroup --groups="$gid" \
		python3 - <<PY
$RING_PY
e = errno
assert os.getuid() != 0
assert refused(PG, prot=RW) == e.EACCES, "group member mapped the consumer page writable"
m = map_(PG)
assert m > 0, "group member's read-only map of the consumer page: %d" % m
assert libc.mprotect(m, PG, RW) == -1 and ctypes.get_errno() == e.EACCES, "made writable"
a = map_(pages * PG)
assert a > 0 and ctypes.string_at(a + PG, 4) == b"FIUK", "read-only map of the ring"
PY
}

# The producer page and the data are the kernel's: a reader cannot map them
# writable, cannot make a read-only map writable, and its writes fault.
t_ring_producer_and_data_are_read_only() {
	python3 - <<PY
$RING_PY
e = errno
for off, n, what in ((0, pages, "the whole ring"), (0, 2, "consumer + producer"),
                     (PG, 1, "the producer page"), (PG, pages - 1, "producer + data"),
                     (2 * PG, 1, "the data")):
    for fl in (SH, PR):
        for prot in (RW, W):
            r = refused(n * PG, offset=off, flags=fl, prot=prot)
            assert r in (e.EACCES, e.EPERM), "writable map of %s (%#x): %d" % (what, fl, r)
    m = map_(n * PG, offset=off)
    assert m > 0, "read-only map of %s: %d" % (what, m)
    assert libc.mprotect(m, n * PG, RW) == -1 and ctypes.get_errno() in (e.EACCES, e.EPERM), \
        "mprotect made %s writable" % what
    # Its last page is the producer page or data in every case.
    assert faults(m + (n - 1) * PG + 16), "a write to %s did not fault" % what
# The producer position did not move under those writes.
p = map_(PG, offset=PG)
before = ctypes.string_at(p, 64)
assert faults(p + 8) and ctypes.string_at(p, 64) == before
# The consumer page, mapped as a reader maps it, can be written.
c = map_(PG, prot=RW)
assert c > 0 and not faults(c + 4000), "the consumer page is not writable"
PY
}

t_poll_wakes_on_new_data() {
	systemctl stop kuifd 2>/dev/null
	ring_drain
	rm -f "$T/poll.ready"
	python3 - "$T/poll.ready" <<'PY' &
import os, select, sys
fd = os.open("/dev/kuif", os.O_RDWR)
p = select.poll(); p.register(fd, select.POLLIN)
assert p.poll(0) == [], "readable while empty"
open(sys.argv[1], "w").close()
ev = p.poll(5000)
sys.exit(0 if ev and ev[0][1] & select.POLLIN else 1)
PY
	local pid=$!
	wait_for "[ -e $T/poll.ready ]" 100 || return 1
	printf 'wake up' > /dev/kuif
	wait $pid || { echo "poll did not wake"; return 1; }
}

t_ioctl_set_get_and_errors() {
	local out
	out=$("$HERE/ioctl-msg") || return 1
	[ "$out" = "hello world" ] || { echo "got '$out'"; return 1; }
	[ "$(cat /dev/kuif)" = "hello world" ] || { echo "read() disagrees"; return 1; }
	out=$("$HERE/ioctl-msg" bad-cmd) || return 1
	[ "$out" = ENOTTY ] || { echo "unknown ioctl: $out"; return 1; }
	out=$("$HERE/ioctl-msg" bad-pointer) || return 1
	[ "$out" = "EFAULT EFAULT" ] || { echo "bad pointers: $out"; return 1; }
	[ "$(cat /dev/kuif)" = "hello world" ] || { echo "message changed by a failed ioctl"; return 1; }
	for n in "Bad Name" $'na\xffme' $'\xe9t\xe9'; do
		out=$("$HERE/ioctl-msg" emit "$n" x) && { echo "bad name '$n' accepted"; return 1; }
		[ "$out" = EINVAL ] || { echo "bad name '$n': $out"; return 1; }
	done
	out=$("$HERE/ioctl-msg" emit ok.name "$(head -c 300 /dev/zero | tr '\0' x)") &&
		{ echo "oversized payload accepted"; return 1; }
	[ "$out" = EINVAL ] || { echo "oversized payload: $out"; return 1; }
}

t_rmmod_busy_while_ring_mapped() {
	systemctl stop kuifd 2>/dev/null
	"$HERE/ring-reader" --timeout 30 --quiet &
	local pid=$!
	wait_for "grep -q /dev/kuif /proc/$pid/maps 2>/dev/null" 100 || { echo "reader did not map"; return 1; }
	if rmmod kuif 2>/dev/null; then
		kill $pid; modprobe kuif; echo "rmmod succeeded with the ring mapped"; return 1
	fi
	kill -9 $pid; wait $pid 2>/dev/null
	rmmod kuif || { echo "rmmod failed after the reader died"; return 1; }
	modprobe kuif
}

t_kuifd_reads_the_ring() {
	systemctl start kuifd || return 1
	local st
	kuifctl emit ring.seen x > /dev/null || return 1
	wait_for 'kuifctl stats --json | python3 -c "import json,sys; s=json.load(sys.stdin)[\"sources\"][\"ring\"]; sys.exit(0 if s[\"attached\"] and s[\"received\"] >= 1 else 1)"' 50 ||
		{ echo "kuifd's ring source saw nothing: $(kuifctl stats --json)"; return 1; }
	st=$(kuifctl stats --json)
	echo "$st" | python3 -c 'import json,sys; b=json.load(sys.stdin)["bus"]; assert b["duplicates"] >= 1, b' ||
		{ echo "no duplicate dropped between netlink and ring: $st"; return 1; }
	if rmmod kuif 2>/dev/null; then modprobe kuif; echo "rmmod with kuifd's ring open"; return 1; fi
}

# "events lost" at a subscriber: bench events received, and the sum of the
# counts of its lost records.
ring_sub_counts() {
	python3 - "$1" <<'PY'
import json, sys
ev = lost = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "event" and r["event"] == "bench":
        ev += 1
    elif r["type"] == "lost":
        assert r["count"] > 0, r
        lost += r["count"]
print(ev, lost)
PY
}

# kuifd with the ring as its only channel for BENCH events (BENCH on the
# ring channel alone: netlink and signals carry none of them), a
# subscriber, and one event through first so that the bus has a place.
ring_only_kuifd() {	# ring_only_kuifd TAG
	kuifd_config '[sources]\nring = yes\nsignal = no\ninotify = no\n' || return 1
	monitor_start "$1" --event bench || return 1
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null || return 1
	wait_for "grep -q bench $T/$1.out" 100 || { echo "the first event did not come"; return 1; }
}

# A burst larger than the ring while kuifd does not read it: the ring
# keeps the head and drops the tail, which no later event reveals. kuifd
# learns the last kseq from the producer page, so the subscriber gets
# events + lost = the burst, exactly.
t_ring_burst_losses_all_reported() {
	local n rc=0 pid d0 d1 ev lost
	# Half as much again as the ring holds, and at least 20000.
	n=$(( $(ring_capacity 64) * 3 / 2 ))
	[ "$n" -ge 20000 ] || n=20000
	ring_only_kuifd rb || { kill "$MON_PID" 2>/dev/null; kuifd_config_default; return 1; }
	d0=$(ring_stat dropped)
	pid=$(systemctl show -P MainPID kuifd)
	kill -STOP "$pid"
	"$HERE/nl-cmd" bench $n 64 2 > /dev/null || { echo "bench failed"; rc=1; }
	kill -CONT "$pid"
	d1=$(ring_stat dropped)
	# The tail's loss record comes last, a reorder window after the ring
	# has drained (the ring's whole content first, which takes seconds
	# under emulation); then a while past it, for anything after it.
	wait_for "grep -q '\"type\":\"lost\"' $T/rb.out" 1200 ||
		echo "no loss record after 120 s"
	sleep 2
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	read -r ev lost < <(ring_sub_counts "$T/rb.out")
	echo "ring burst: $ev events + $lost lost of $((n + 1)); the kernel dropped $((d1 - d0))" |
		tee -a "$R/ring-figures.txt"
	[ $((d1 - d0)) -gt 0 ] || { echo "the ring did not overflow"; rc=1; }
	[ $((ev + lost)) -eq $((n + 1)) ] || rc=1
	[ "$lost" -ge $((d1 - d0)) ] || { echo "fewer lost than dropped"; rc=1; }
	kuifd_config_default
	return $rc
}

# Bursts of a quarter of the ring, back to back, three rings in all,
# while kuifd reads: once the ring is full the kernel drops at many of
# kuifd's passes. Every drop is accounted for (events + lost = the
# bursts), and the journal says so once in 10 s, not once a pass (70
# lines a second in a benchmark), the last message with the whole count.
t_ring_drops_while_read_logged_rate_limited() {
	local n q i rc=0 d0 d1 ev lost since t0 said max size=-1 end
	q=$(( $(ring_capacity 64) / 4 ))
	n=$((q * 12))
	ring_only_kuifd rr || { kill "$MON_PID" 2>/dev/null; kuifd_config_default; return 1; }
	d0=$(ring_stat dropped)
	since=$(date +%s)
	t0=$SECONDS
	for i in $(seq 12); do
		"$HERE/nl-cmd" bench $q 64 2 > /dev/null || { echo "bench failed"; rc=1; }
	done
	d1=$(ring_stat dropped)
	# Until the subscriber's output stops growing for 3 s (the ring's
	# content, then the tail's loss record a reorder window later).
	end=$((SECONDS + 180))
	while [ "$(stat -c %s "$T/rr.out")" != "$size" ] && [ $SECONDS -lt $end ]; do
		size=$(stat -c %s "$T/rr.out")
		sleep 3
	done
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	read -r ev lost < <(ring_sub_counts "$T/rr.out")
	# Drops held back are said when the 10 s are over: the last message's
	# count so far reaches what the kernel dropped.
	wait_for "journalctl -q -u kuifd --since @$since -o cat |
		grep -q '($((d1 - d0)) so far'" 150 ||
		{ echo "the journal's last count is not the kernel's $((d1 - d0)):"
		  journalctl -q -u kuifd --since "@$since" -o cat | grep 'ring: the kernel dropped'
		  rc=1; }
	said=$(journalctl -q -u kuifd --since "@$since" -o cat |
		grep -c 'ring: the kernel dropped')
	max=$(( (SECONDS - t0) / 10 + 2 ))
	echo "ring burst while read: $ev events + $lost lost of $((n + 1)); the kernel dropped $((d1 - d0)), logged $said times in $((SECONDS - t0)) s (at most $max)" |
		tee -a "$R/ring-figures.txt"
	[ $((d1 - d0)) -gt 0 ] || { echo "the ring did not overflow"; rc=1; }
	[ $((ev + lost)) -eq $((n + 1)) ] || rc=1
	[ "$said" -ge 1 ] || { echo "drops not logged"; rc=1; }
	[ "$said" -le "$max" ] || { echo "drop messages not rate-limited"; rc=1; }
	kuifd_config_default
	return $rc
}

# A subscriber stopped during a burst that its output, its socket and
# kuifd's history (16 records) cannot hold, but the ring can: kuifd stops
# reading the ring while the subscriber's output is half full, and
# resumes as it drains, so it loses nothing; without flow control it was
# told it lost hundreds (slow_consumer).
t_ring_absorbs_slow_subscriber_burst() {
	local n=1800 rc=0 d0 d1 ev lost
	kuifd_config '[server]\nclient_buffer = 65536\n[events]\nhistory = 16\n[sources]\nring = yes\nsignal = no\ninotify = no\n' ||
		return 1
	monitor_start slow --event bench || { kuifd_config_default; return 1; }
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null
	wait_for "grep -q bench $T/slow.out" 100 || { echo "the first event did not come"; rc=1; }
	d0=$(ring_stat dropped)
	kill -STOP "$MON_PID"
	"$HERE/nl-cmd" bench $n 64 2 > /dev/null || { echo "bench failed"; rc=1; }
	kill -CONT "$MON_PID"
	d1=$(ring_stat dropped)
	wait_for "[ \$(grep -c '\"event\":\"bench\"' $T/slow.out) -ge $((n + 1)) ] || grep -q '\"lost\"' $T/slow.out" 300
	sleep 1
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	read -r ev lost < <(ring_sub_counts "$T/slow.out")
	echo "slow subscriber burst: $ev events + $lost lost of $((n + 1)); the kernel dropped $((d1 - d0))" |
		tee -a "$R/ring-figures.txt"
	[ $((d1 - d0)) -eq 0 ] || { echo "the ring overflowed: the test is too big"; rc=1; }
	[ "$lost" -eq 0 ] || { echo "$lost lost"; rc=1; }
	[ "$ev" -eq $((n + 1)) ] || { echo "$ev events of $((n + 1))"; rc=1; }
	kuifd_config_default
	return $rc
}

# A reader allowed to map the consumer page (CAP_NET_ADMIN) writes garbage
# positions into it while events flow through the ring: the kernel counts
# and resets them, kuifd keeps running, and every event reaches the
# subscriber or is reported lost.
t_kuifd_survives_consumer_scribbler() {
	local rc=0 pid b0 b1 spid i ev lost n=1
	ring_only_kuifd scr || { kill "$MON_PID" 2>/dev/null; kuifd_config_default; return 1; }
	pid=$(systemctl show -P MainPID kuifd)
	b0=$(ring_stat bad_consumer)
	"$HERE/ring-reader" --scribble 6 &
	spid=$!
	for i in $(seq 10); do
		"$HERE/nl-cmd" bench 1000 64 2 > /dev/null || { echo "bench $i failed"; rc=1; }
		n=$((n + 1000))
		sleep 0.3
	done
	wait "$spid" || { echo "the scribbler failed"; rc=1; }
	b1=$(ring_stat bad_consumer)
	# After the scribbler, its last write may still stand: a plausible
	# consumer that makes the ring look full drops the next event. The
	# drop wakes kuifd, which reports it and puts its own position back.
	# Once kuifd has, the next event must come.
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null; n=$((n + 1))
	wait_for '[ "$(ring_stat consumer)" = "$(ring_stat producer)" ]' 100 ||
		{ echo "kuifd did not put its consumer position back"; rc=1; }
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null; n=$((n + 1))
	sleep 3
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	read -r ev lost < <(ring_sub_counts "$T/scr.out")
	echo "scribbler: $ev events + $lost lost of $n; $((b1 - b0)) consumer positions reset" |
		tee -a "$R/ring-figures.txt"
	[ "$(systemctl show -P MainPID kuifd)" = "$pid" ] && systemctl is-active -q kuifd ||
		{ echo "kuifd died"; rc=1; }
	[ "$b1" -gt "$b0" ] || { echo "no bad consumer counted"; rc=1; }
	[ "$ev" -gt 0 ] || { echo "no event reached the subscriber"; rc=1; }
	[ $((ev + lost)) -eq "$n" ] || rc=1
	tail -n 1 "$T/scr.out" | grep -q '"event":"bench"' || { echo "the last event did not come"; rc=1; }
	kuifd_config_default
	return $rc
}

# A consumer position left where the ring looks full (another reader
# stopped there) drops the next record while kuifd sleeps with nothing
# to read. The drop must wake it: it reports the loss and puts its own
# position back, so the event after that comes.
t_ring_drop_wakes_the_reader() {
	local rc=0 size prod d0 d1 ev lost ev0 lost0
	ring_only_kuifd dropwake || { kill "$MON_PID" 2>/dev/null; kuifd_config_default; return 1; }
	size=$(ring_stat data_size)
	# The position must be a ring behind the producer, so at least a
	# ring's worth published.
	[ "$(ring_stat producer)" -ge "$size" ] ||
		"$HERE/nl-cmd" bench "$(ring_capacity 64)" 64 2 > /dev/null
	wait_for '[ "$(ring_stat consumer)" = "$(ring_stat producer)" ]' 300 ||
		{ echo "kuifd did not catch up"; rc=1; }
	sleep 1
	read -r ev0 lost0 < <(ring_sub_counts "$T/dropwake.out")
	prod=$(ring_stat producer)
	"$HERE/ring-reader" --set-consumer $((prod - size + 8)) || rc=1
	d0=$(ring_stat dropped)
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null
	d1=$(ring_stat dropped)
	[ $((d1 - d0)) -eq 1 ] || { echo "the kernel dropped $((d1 - d0)), not 1"; rc=1; }
	wait_for '[ "$(ring_stat consumer)" = "$(ring_stat producer)" ]' 50 ||
		{ echo "the drop did not wake kuifd: the consumer stays at $(ring_stat consumer), the producer at $(ring_stat producer)"; rc=1; }
	"$HERE/nl-cmd" bench 1 64 2 > /dev/null
	wait_for "[ \$(grep -c '\"event\":\"bench\"' $T/dropwake.out) -gt $ev0 ]" 50
	sleep 0.5
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	read -r ev lost < <(ring_sub_counts "$T/dropwake.out")
	ev=$((ev - ev0)) lost=$((lost - lost0))
	echo "drop wakes the reader: $ev events + $lost lost of 2" | tee -a "$R/ring-figures.txt"
	[ "$lost" -eq 1 ] || { echo "$lost reported lost, not 1"; rc=1; }
	[ "$ev" -eq 1 ] || { echo "$ev events came, not 1"; rc=1; }
	kuifd_config_default
	return $rc
}

check ring_pages_as_installed t_ring_pages_as_installed
check ring_info_matches_ring_pages t_ring_info_matches_ring_pages
check ring_delivers_in_kseq_order t_ring_delivers_in_kseq_order
check ring_full_drops_and_never_corrupts t_ring_full_drops_and_never_corrupts
check ring_corrupt_consumer_is_recovered t_ring_corrupt_consumer_is_recovered
check ring_mmap_refuses_bad_requests t_ring_mmap_refuses_bad_requests
check ring_producer_and_data_are_read_only t_ring_producer_and_data_are_read_only
check ring_consumer_page_needs_net_admin t_ring_consumer_page_needs_net_admin
check poll_wakes_on_new_data t_poll_wakes_on_new_data
check ioctl_set_get_and_errors t_ioctl_set_get_and_errors
check rmmod_busy_while_ring_mapped t_rmmod_busy_while_ring_mapped
check kuifd_reads_the_ring t_kuifd_reads_the_ring
check ring_burst_losses_all_reported t_ring_burst_losses_all_reported
check ring_drops_while_read_logged_rate_limited t_ring_drops_while_read_logged_rate_limited
check ring_absorbs_slow_subscriber_burst t_ring_absorbs_slow_subscriber_burst
check kuifd_survives_consumer_scribbler t_kuifd_survives_consumer_scribbler
check ring_drop_wakes_the_reader t_ring_drop_wakes_the_reader
