#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Instructions per event on kuifd's real paths, inside the VM, under
# callgrind: the kernel emits N "bench" events (payload SIZE bytes) on one
# channel (the mmap ring, or the netlink multicast group), kuifd reads
# them from that channel and delivers them to K subscribers (bench-sub)
# over its Unix socket. Each figure is the difference of two runs with
# the same start and stop, one with BASE events and one with BASE + N,
# divided by N: reading the channel, decoding, dedup, numbering, history,
# JSON, fan-out and the writes to the subscribers. Instruction counts do
# not depend on the machine's load; what varies between runs is how the
# events fall into wakeups (the driver sends them in batches of 64).
#
#   callgrind.sh [-n N] [-k "K..."] [-p "ring netlink"] [-o OUT]
#
# Prints one line per figure, "cg.PATH.K INSTRUCTIONS_PER_EVENT", and
# appends it to OUT when given. kuifd runs with the installed default
# configuration, except: only the measured channel among the sources
# (the ring on or off; signals and inotify off, whose records no event of
# the measured channel causes), room for 256 subscribers, no journal.
set -u
B=${BENCH_BIN:-$(dirname "$(readlink -f "$0")")}
N=2000
FANOUT="1"
PATHS="ring netlink"
OUTF=
BASE=64
SIZE=${BENCH_SIZE:-64}
while getopts n:k:p:o: o; do
	case $o in
	n) N=$OPTARG ;;
	k) FANOUT=$OPTARG ;;
	p) PATHS=$OPTARG ;;
	o) OUTF=$OPTARG ;;
	*) echo "usage: $0 [-n N] [-k \"K...\"] [-p \"ring netlink\"] [-o OUT]" >&2
	   exit 2 ;;
	esac
done
command -v valgrind > /dev/null || { echo "callgrind: valgrind is not installed" >&2; exit 1; }
T=$(mktemp -d /tmp/kuif-cg.XXXXXX)
was=$(systemctl is-active kuifd)
was_sock=$(systemctl is-active kuifd.socket)
cleanup() {
	[ -n "${KP:-}" ] && kill "$KP" 2> /dev/null
	rm -rf "$T"
	[ "$was_sock" = active ] && systemctl start kuifd.socket
	[ "$was" = active ] && systemctl start kuifd
}
trap cleanup EXIT
# One reader on the ring: kuifd under callgrind, not the service.
systemctl stop kuifd kuifd.socket 2> /dev/null

# total PATH K COUNT: kuifd's total instructions for COUNT events to K
# subscribers.
total() {
	local path=$1 k=$2 n=$3 ring=no ch=1 follow= i
	[ "$path" = ring ] && { ring=yes; ch=2; follow=--follow-ring; }
	printf '[server]\nmax_clients = 1024\n[sources]\nring = %s\nsignal = no\ninotify = no\n[journal]\nevents =\n' \
		"$ring" > "$T/kuifd.conf"
	rm -f "$T/s.sock" "$T/cg.out" "$T/ready"
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" \
		/usr/sbin/kuifd -c "$T/kuifd.conf" -s "$T/s.sock" \
		> "$T/kuifd.log" 2>&1 &
	KP=$!
	for i in $(seq 600); do
		[ -S "$T/s.sock" ] && break
		sleep 0.1
	done
	[ -S "$T/s.sock" ] || { echo "kuifd did not start: $(tail -3 "$T/kuifd.log")" >&2; return 1; }
	"$B/bench-sub" --socket "$T/s.sock" --clients "$k" --count "$n" \
		--ready "$T/ready" --idle 60 > "$T/sub.out" 2> "$T/sub.err" &
	local sp=$!
	for i in $(seq 1200); do
		[ -e "$T/ready" ] && break
		sleep 0.1
	done
	[ -e "$T/ready" ] || { echo "subscribers did not subscribe: $(tail -3 "$T/sub.err")" >&2; return 1; }
	"$B/bench-drive" --count "$n" --size "$SIZE" --channels "$ch" \
		--batch 64 $follow > "$T/drive.out" || { echo "bench-drive failed" >&2; return 1; }
	wait $sp
	kill -TERM "$KP"
	wait "$KP"
	KP=
	# Every subscriber got every event, none lost.
	awk -v n="$n" -v k="$k" '$1 == "clients" && $2 == k && $4 == n && $8 == 0 { ok = 1 }
		END { exit !ok }' "$T/sub.out" ||
		{ echo "subscribers did not get $n events: $(cat "$T/sub.out")" >&2; return 1; }
	awk '/^(summary|totals):/ { print $2; exit }' "$T/cg.out"
}

for p in $PATHS; do
	for k in $FANOUT; do
		a=$(total "$p" "$k" "$BASE") || exit 1
		b=$(total "$p" "$k" $((BASE + N))) || exit 1
		line="cg.$p.$k $(( (b - a) / N ))"
		echo "$line"
		[ -z "$OUTF" ] || echo "$line" >> "$OUTF"
	done
done
