#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Instructions per event on kuifd's real paths, inside the VM, under
# callgrind: the kernel emits N "bench" events (payload SIZE bytes) on one
# channel (the mmap ring, or the netlink multicast group), kuifd reads
# them from that channel and delivers them to K subscribers (bench-sub)
# over its Unix socket. kuifd starts once per channel; for each K, BASE
# events warm it up (first use of the history's slots, of the clients'
# buffers), then callgrind's counters are zeroed, N events pass, and the
# counters are dumped (callgrind_control): the count over N is the cost
# of one event, from the channel to the bytes written to the
# subscribers. kuifd is stopped while the N events are emitted, so it
# reads them in the largest passes it takes, whatever the machine's load
# and timing; with -r, one event per wakeup instead.
#
#   callgrind.sh [-n N] [-k "K..."] [-p "ring netlink"] [-r RATE] [-o OUT]
#                [-d DIR]
#
# -r RATE sends the events one at a time at RATE per second instead of in
# batches of 64: each is a wakeup of its own, and the figures, named
# cg.PATH_rRATE.K, are the cost of an event that comes alone, wakeup and
# write included.
# -d DIR keeps each profile there as callgrind-PATH-K.out, for
# callgrind_annotate.
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
DUMPS=
RATE=
BASE=64
SIZE=${BENCH_SIZE:-64}
while getopts n:k:p:r:o:d: o; do
	case $o in
	n) N=$OPTARG ;;
	k) FANOUT=$OPTARG ;;
	p) PATHS=$OPTARG ;;
	o) OUTF=$OPTARG ;;
	d) DUMPS=$OPTARG ;;
	r) RATE=$OPTARG ;;
	*) echo "usage: $0 [-n N] [-k \"K...\"] [-p \"ring netlink\"] [-r RATE] [-o OUT] [-d DIR]" >&2
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

wait_file() {
	local i
	for i in $(seq 1200); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# start PATH: kuifd under callgrind, reading PATH's channel.
start() {
	local ring=no
	[ "$1" = ring ] && ring=yes
	printf '[server]\nmax_clients = 1024\n[sources]\nring = %s\nsignal = no\ninotify = no\n[journal]\nevents =\n' \
		"$ring" > "$T/kuifd.conf"
	rm -f "$T/s.sock" "$T"/cg.out*
	valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$T/cg.out" \
		/usr/sbin/kuifd -c "$T/kuifd.conf" -s "$T/s.sock" \
		> "$T/kuifd.log" 2>&1 &
	KP=$!
	wait_file "$T/s.sock" ||
		{ echo "kuifd did not start: $(tail -3 "$T/kuifd.log")" >&2; return 1; }
}

stop() {
	kill -TERM "$KP"
	wait "$KP"
	KP=
}

# subs K COUNT TAG [ARGS]: K subscribers that stop after COUNT events;
# waits until they have subscribed.
subs() {
	rm -f "$T/$3.ready"
	"$B/bench-sub" --socket "$T/s.sock" --clients "$1" --count "$2" \
		--ready "$T/$3.ready" --idle 600 "${@:4}" > "$T/$3.out" 2> "$T/$3.err" &
	SP=$!
	wait_file "$T/$3.ready" ||
		{ echo "subscribers did not subscribe: $(tail -3 "$T/$3.err")" >&2; return 1; }
}

# got K COUNT TAG: every subscriber got COUNT events, none lost.
got() {
	awk -v n="$2" -v k="$1" '$1 == "clients" && $2 == k && $4 == n && $8 == 0 { ok = 1 }
		END { exit !ok }' "$T/$3.out" ||
		{ echo "subscribers did not get $2 events: $(cat "$T/$3.out")" >&2; return 1; }
}

drive() {
	"$B/bench-drive" --count "$1" --size "$SIZE" --channels "$CH" \
		$PACE > "$T/drive.out" ||
		{ echo "bench-drive failed: $(cat "$T/drive.out")" >&2; return 1; }
}

# measure PATH K: instructions per event for K subscribers.
measure() {
	local k=$2 main warm dump i
	# They stay connected until the dump: K clients closing is not the
	# cost of an event.
	subs "$k" $((BASE + N)) main --linger 600 || return 1
	main=$SP
	subs 1 "$BASE" warm || return 1
	warm=$SP
	drive "$BASE" || return 1
	wait "$warm"
	got 1 "$BASE" warm || return 1
	sleep 2		# the other subscribers' writes

	callgrind_control -z "$KP" > "$T/cgc.log" 2>&1 ||
		{ echo "callgrind_control -z: $(cat "$T/cgc.log")" >&2; return 1; }
	if [ -z "$RATE" ]; then
		# Stopped while the kernel fills the channel, kuifd finds all
		# N events at once and reads them in passes as large as it
		# takes (the ring holds them; its netlink socket's buffer is
		# 8 MiB): the count does not depend on how the driver's
		# batches fell into kuifd's wakeups, which made it bimodal
		# (4,501 or 8,290 for 256 subscribers, by the run).
		kill -STOP "$KP"
		drive "$N" || { kill -CONT "$KP"; return 1; }
		kill -CONT "$KP"
	else
		drive "$N" || return 1
	fi
	for i in $(seq 6000); do
		grep -q '^clients' "$T/main.out" && break
		kill -0 "$main" 2> /dev/null || break
		sleep 0.1
	done
	got "$k" $((BASE + N)) main || { kill "$main" 2> /dev/null; return 1; }
	callgrind_control -d "$KP" > "$T/cgc.log" 2>&1 ||
		{ echo "callgrind_control -d: $(cat "$T/cgc.log")" >&2; return 1; }
	kill "$main" 2> /dev/null
	wait "$main" 2> /dev/null
	dump=$(ls -t "$T"/cg.out.* 2> /dev/null | head -1)
	[ -n "$dump" ] || { echo "callgrind wrote no dump" >&2; return 1; }
	[ -z "$DUMPS" ] || cp "$dump" "$DUMPS/callgrind-$1$TAG-$k.out"
	awk -v n="$N" '/^(summary|totals):/ { printf "%d\n", $2 / n; exit }' "$dump"
}

for p in $PATHS; do
	CH=1
	PACE="--batch 64"
	TAG=
	[ "$p" = ring ] && { CH=2; PACE="--batch 64 --follow-ring"; }
	[ -n "$RATE" ] && { PACE="--batch 1 --rate $RATE"; TAG=_r$RATE; }
	start "$p" || exit 1
	for k in $FANOUT; do
		v=$(measure "$p" "$k") || exit 1
		line="cg.$p$TAG.$k $v"
		echo "$line"
		[ -z "$OUTF" ] || echo "$line" >> "$OUTF"
	done
	stop
done
