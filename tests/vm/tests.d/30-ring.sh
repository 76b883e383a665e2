# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: the mmap ring of /dev/kuif, poll, and the ioctls.

ring_stat() {	# ring_stat FIELD: one number from ring-reader --stats
	"$HERE/ring-reader" --stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"
}

ring_drain() {	# consume everything pending
	"$HERE/ring-reader" --set-consumer "$(ring_stat producer)"
}

t_ring_info_matches_ring_pages() {
	local pages size map
	pages=$(cat /sys/module/kuif/parameters/ring_pages)
	size=$(ring_stat data_size); map=$(ring_stat mmap_size)
	[ "$size" = $((pages * 4096)) ] || { echo "data_size $size for $pages pages"; return 1; }
	[ "$map" = $(((pages + 1) * 4096)) ] || { echo "mmap_size $map"; return 1; }
}

t_ring_delivers_in_kseq_order() {
	local out
	systemctl stop kuifd 2>/dev/null
	ring_drain
	"$HERE/ring-reader" --count 5 --timeout 10 > "$T/ring5.out" &
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
	# 64 data pages hold about 4000 small records: overflow it.
	"$HERE/ioctl-msg" emit ring.flood "$(head -c 200 /dev/zero | tr '\0' f)" 3000 > /dev/null || return 1
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

t_ring_mmap_refuses_bad_requests() {
	python3 - <<'PY'
import mmap, os, fcntl, errno
fd = os.open("/dev/kuif", os.O_RDWR)
pages = int(open("/sys/module/kuif/parameters/ring_pages").read())
def refused(length, offset=0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE):
    try:
        mmap.mmap(fd, length, flags=flags, prot=prot, offset=offset)
    except OSError as e:
        return e.errno
    return 0
assert refused((pages + 2) * 4096) == errno.EINVAL, "too long"
assert refused(4096, offset=4096) == errno.EINVAL, "offset"
assert refused(4096, flags=mmap.MAP_PRIVATE) == errno.EACCES, "private writable"
m = mmap.mmap(fd, (pages + 1) * 4096, flags=mmap.MAP_SHARED)
assert m[:4] == b"FIUK", m[:4]    # KUIF_RING_MAGIC, little endian
m.close()
# A private read-only map cannot be made writable afterwards.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
addr = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)
assert addr not in (None, ctypes.c_void_p(-1).value), "private read-only map refused"
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
rc = libc.mprotect(ctypes.c_void_p(addr), 4096, mmap.PROT_READ | mmap.PROT_WRITE)
assert rc == -1 and ctypes.get_errno() == errno.EACCES, (rc, ctypes.get_errno())
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

check ring_info_matches_ring_pages t_ring_info_matches_ring_pages
check ring_delivers_in_kseq_order t_ring_delivers_in_kseq_order
check ring_full_drops_and_never_corrupts t_ring_full_drops_and_never_corrupts
check ring_corrupt_consumer_is_recovered t_ring_corrupt_consumer_is_recovered
check ring_mmap_refuses_bad_requests t_ring_mmap_refuses_bad_requests
check poll_wakes_on_new_data t_poll_wakes_on_new_data
check ioctl_set_get_and_errors t_ioctl_set_get_and_errors
check rmmod_busy_while_ring_mapped t_rmmod_busy_while_ring_mapped
check kuifd_reads_the_ring t_kuifd_reads_the_ring
