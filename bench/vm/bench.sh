#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside the VM: kuifd against the simplest direct readers of
# the same kernel channels, in the same boot. Writes raw figures as
# "key value" lines to $BENCH_OUT/results.txt and latency samples (ns, one
# per line) to $BENCH_OUT/lat-PATH.txt; bench/render.py turns them into
# the table and the plots on the host.
#
# Paths: ring_raw (bench-ring drains the mmap ring), ring_relay
# (bench-relay drains it and writes kuifd's lines to bench-sub, doing
# nothing else: the floor under kuifd's two hops), ring_kuifd (kuifd
# drains it and delivers JSON to bench-sub), nl_raw (bench-nl, a libnl
# subscriber), nl_kuifd (kuifd's netlink source to bench-sub). The direct
# readers and the relay run with kuifd stopped: the ring has one reader.
#
# Environment (defaults in brackets):
#   BENCH_OUT           where results go [/kuif-results/bench]
#   BENCH_SCALE         multiplies every event count [1]; the smoke test
#                       uses a tiny one
#   BENCH_SIZE          payload bytes per event [64]
#   BENCH_LOSS_SECONDS  length of one step of the zero-loss search [10]
#   BENCH_LOSS_STEPS    steps of that search per path [6]
#   BENCH_LAT_RATE      events per second of the latency runs [1000]
#   BENCH_LAT_SECONDS   seconds of latency samples per path [10]
#   BENCH_LAT_ROUNDS    rounds they are taken in, the paths taking turns [4]
#   BENCH_TP_ROUNDS     rounds of the throughput runs, the paths taking
#                       turns; the median run counts [3]
#   BENCH_FANOUT        subscriber counts, commas or spaces [1 16 64 256]
#   BENCH_FAN_RATE      steady rate of the fan-out CPU runs, events/s [200]
#   BENCH_SAMPLE_HZ     the profile's samples per second [250]
#   BENCH_PROFILE_N     events of each profiled run [2000000, scaled]
#   BENCH_CG_N          events counted by callgrind per figure [512]
#   BENCH_CG_STEADY_N   the same, one event at a time at BENCH_FAN_RATE [400]
#   BENCH_RING_SIZES    ring_pages values the ring's zero-loss search is
#                       repeated with, besides the loaded one [64 4096:
#                       the module's default and its largest]
#   BENCH_PARTS         the parts to run, separated by commas or spaces
#                       [tp loss ring lat fan default cg mem profile]: a
#                       subset shortens a run while iterating (render.py
#                       needs all but default, cg and profile)
set -u
B=${BENCH_BIN:-$(dirname "$(readlink -f "$0")")}
O=${BENCH_OUT:-/kuif-results/bench}
SCALE=${BENCH_SCALE:-1}
SIZE=${BENCH_SIZE:-64}
LOSS_S=${BENCH_LOSS_SECONDS:-10}
LOSS_STEPS=${BENCH_LOSS_STEPS:-6}
LAT_RATE=${BENCH_LAT_RATE:-1000}
LAT_S=${BENCH_LAT_SECONDS:-10}
LAT_ROUNDS=${BENCH_LAT_ROUNDS:-4}
TP_ROUNDS=${BENCH_TP_ROUNDS:-3}
FANOUT=$(echo "${BENCH_FANOUT:-1 16 64 256}" | tr , " ")
FAN_RATE=${BENCH_FAN_RATE:-200}
PARTS=$(echo "${BENCH_PARTS:-tp loss ring lat fan default cg mem profile}" | tr , ' ')
SAMPLE_HZ=${BENCH_SAMPLE_HZ:-250}
RING_SIZES=$(echo "${BENCH_RING_SIZES:-64 4096}" | tr , ' ')
CG_N=${BENCH_CG_N:-512}
CG_STEADY_N=${BENCH_CG_STEADY_N:-400}
PATHS="ring_raw ring_relay ring_kuifd nl_raw nl_kuifd"
T=$(mktemp -d /tmp/kuif-bench.XXXXXX)
CONF=/etc/kuifd/kuifd.conf

scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); print (v < 1 ? 1 : v) }'; }
N_TP=$(scaled 200000)
N_FAN=$(scaled 20000)
N_PROF=$(scaled "${BENCH_PROFILE_N:-2000000}")
N_FAN_STEADY=$(scaled $((FAN_RATE * 10)))
N_MEM=$(scaled 1000000)

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$O"
rm -f "$O"/results.txt "$O"/lat-*.txt "$O"/done
put() { echo "$1 $2" >> "$O/results.txt"; echo "bench: $1 $2"; }
die() { echo "bench: $*" >&2; put error "\"$*\""; exit 1; }

# kuifd as installed, with room for 256 subscribers and a subscriber that
# stalls for the whole run; everything else at its default.
[ -e "$CONF.bench-orig" ] || cp "$CONF" "$CONF.bench-orig"
restore() {
	[ -e "$CONF.bench-orig" ] && mv "$CONF.bench-orig" "$CONF"
	systemctl restart kuifd
	rm -rf "$T"
}
trap restore EXIT
bench_conf() {
	printf '[server]\nmax_clients = 1024\nclient_timeout = 3600\n[journal]\nevents =\n' > "$CONF"
}
bench_conf

kuifd_on() {
	systemctl restart kuifd || die "kuifd did not start"
	KPID=$(systemctl show -P MainPID kuifd)
}
kuifd_off() { systemctl stop kuifd; KPID=; }

# kuifd's voluntary context switches: the times it went to sleep, i.e.
# its wakeups (kuifd is one thread).
kuifd_wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$KPID/status"; }

# kuifd's CPU time in ns, as the scheduler measured it (schedstat's
# sum_exec_runtime). utime + stime are sampled at the tick, and a task that
# wakes a vCPU from idle is often the one the first tick finds: at low
# rates that charged kuifd many times its real time per event.
kuifd_cpu_ns() {
	if [ -r "/proc/$KPID/schedstat" ]; then
		awk '{ print $1 }' "/proc/$KPID/schedstat"
	else
		awk -v hz="$(getconf CLK_TCK)" \
			'{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$KPID/stat"
	fi
}

wait_ready() {
	local i
	for i in $(seq 300); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	die "reader did not get ready: $(cat "$T"/*.err 2>/dev/null | tail -3)"
}

# The default path: every channel, as kuif_emit() does (netlink, ring,
# signal, upcall), each event reaching kuifd up to three times.
channels_of() { case $1 in ring_*) echo 2 ;; nl_*) echo 1 ;; def_*) echo 15 ;; esac; }

# kuifd's time spent runnable, waiting for a CPU, in ns (schedstat's
# run_delay).
kuifd_wait_ns() { awk '{ print $2 }' "/proc/$KPID/schedstat"; }

# The vCPUs' idle and total time, in clock ticks.
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i
	print $5 + $6, t }' /proc/stat; }

# "key value" -> value, from a line of a bench tool's output.
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++)
	if ($i == k) print $(i + 1) }'; }

# kuifd's user and system CPU in clock ticks (coarse, but split).
kuifd_ticks() { awk '{ print $14, $15 }' "/proc/$KPID/stat"; }

# The kernel's last kseq: the next run's events are numbered above it.
kseq_now() { awk '/^events:/ { print $2 }' /proc/kuif/status; }

# Waits until kuifd has taken in and delivered what an earlier run left in
# the kernel's channels: its bus counters unchanged over two polls, longer
# apart than the reorder window, so that a `missed` record is out too.
# Otherwise one run's backlog and losses fall into the next.
kuifd_quiet() {
	local i prev="" cur
	for i in $(seq 600); do
		cur=$(kuifctl stats -o json 2>/dev/null | grep -o '"bus":{[^}]*}')
		if [ -n "$cur" ] && [ "$cur" = "$prev" ]; then
			return 0
		fi
		prev=$cur
		sleep 0.3
	done
	echo "bench: kuifd still busy after 180 s: $cur" >&2
}

# run PATH N DRIVE-ARGS... [-- READER-ARGS...]: one measured run. Sets RECV
# (events the reader got), LOST (N - RECV), SPAN (s between the reader's
# first and last receipt), DRIVE (s the driver took), CPU (the bridge's
# ns: kuifd's, or the relay's), WAKE (kuifd's wakeups), SYS (the share of
# kuifd's CPU in the kernel), RCPU (the reader's own ns: the direct
# reader, or bench-sub). Where the time went: BWAIT, RWAIT and DWAIT, the
# ns the bridge, the reader and the driver spent runnable but waiting for
# a CPU; DCPU, the driver's CPU ns; IDLE, the vCPUs' idle share while the
# reader ran.
run() {
	local path=$1 n=$2 rd=() dr=() out rc rlpid= rl
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do dr+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	rd=("$@")
	rm -f "$T/ready" "$T/relay.ready"
	case $path in
	*_kuifd|def_*) kuifd_quiet; rd+=(--after-kseq "$(kseq_now)") ;;
	ring_relay)
		"$B/bench-relay" --socket "$T/relay.sock" --count "$n" \
			--ready "$T/relay.ready" > "$T/relay.out" 2> "$T/relay.err" &
		rlpid=$!
		wait_ready "$T/relay.ready"
		rd+=(--socket "$T/relay.sock") ;;
	esac
	local c0 c1
	c0=$(cpu_ticks)
	case $path in
	ring_raw) "$B/bench-ring" --count "$n" --ready "$T/ready" "${rd[@]}" ;;
	nl_raw) "$B/bench-nl" --count "$n" --ready "$T/ready" "${rd[@]}" ;;
	*_kuifd|*_relay|def_*) "$B/bench-sub" --count "$n" --ready "$T/ready" "${rd[@]}" ;;
	esac > "$T/reader.out" 2> "$T/reader.err" &
	local rpid=$!
	wait_ready "$T/ready"
	local cpu0=0 wk0=0 kw0=0 tk0="0 0" tk1 smpid=
	[ -n "${KPID:-}" ] && { cpu0=$(kuifd_cpu_ns); wk0=$(kuifd_wakeups)
		kw0=$(kuifd_wait_ns); tk0=$(kuifd_ticks); }
	# SAMPLE_OUT set: the bridge's instruction pointer sampled meanwhile.
	if [ -n "${SAMPLE_OUT:-}" ]; then
		"$B/bench-sample" "${rlpid:-$KPID}" "$SAMPLE_HZ" 3600 \
			> "$SAMPLE_OUT" 2> "$T/sample.err" &
		smpid=$!
	fi
	out=$("$B/bench-drive" --count "$n" --size "$SIZE" \
		--channels "$(channels_of "$path")" "${dr[@]}") ||
		die "bench-drive failed: $out"
	wait $rpid
	rc=$?
	[ -n "$smpid" ] && { kill -INT "$smpid"; wait "$smpid" ||
		die "bench-sample failed: $(tail -3 "$T/sample.err")"; }
	c1=$(cpu_ticks)
	[ $rc -eq 0 ] || { [ -n "$rlpid" ] && kill "$rlpid"
		die "$path reader failed: $(tail -3 "$T/reader.err")"; }
	CPU=0
	WAKE=0
	SYS=0
	BWAIT=0
	[ -n "${KPID:-}" ] && { CPU=$(( $(kuifd_cpu_ns) - cpu0 ))
		WAKE=$(( $(kuifd_wakeups) - wk0 )); tk1=$(kuifd_ticks)
		BWAIT=$(( $(kuifd_wait_ns) - kw0 ))
		SYS=$(echo "$tk0 $tk1" | awk '{ u = $3 - $1; s = $4 - $2
			printf "%.2f\n", (u + s > 0 ? s / (u + s) : 0) }'); }
	if [ -n "$rlpid" ]; then
		wait "$rlpid" || die "the relay failed: $(tail -3 "$T/relay.err")"
		rl=$(cat "$T/relay.out")
		CPU=$(field "$rl" cpu_ns)
		BWAIT=$(field "$rl" wait_ns)
	fi
	DRIVE=$(echo "$out" | awk '{ print $4 }')
	DCPU=$(field "$out" cpu_ns)
	DWAIT=$(field "$out" wait_ns)
	IDLE=$(echo "$c0 $c1" | awk '{ t = $4 - $2
		printf "%.2f\n", (t > 0 ? ($3 - $1) / t : 0) }')
	out=$(cat "$T/reader.out")
	case $path in
	*_kuifd|*_relay|def_*) RECV=$(echo "$out" | awk '{ print $4 }') ;;
	*) RECV=$(echo "$out" | awk '{ print $2 }') ;;
	esac
	LOST=$((n - RECV))
	RCPU=$(field "$out" cpu_ns)
	RWAIT=$(field "$out" wait_ns)
	SPAN=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) {
		if ($i == "first_ns") f = $(i + 1); if ($i == "last_ns") l = $(i + 1) }
		printf "%.6f\n", (l - f) / 1e9 }')
	# Every event in one read (a tiny run, which the relay can write in
	# one pass) spans no time: the driver's time stands for it.
	[ "$RECV" -gt 0 ] && awk -v s="$SPAN" 'BEGIN { exit !(s <= 0) }' &&
		SPAN=$DRIVE
	echo "bench:   $path n=$n drive=${DRIVE}s recv=$RECV lost=$LOST span=${SPAN}s cpu=${CPU}ns sys=$SYS wake=$WAKE ($out)"
}

path_setup() { case $1 in *_raw|*_relay) kuifd_off ;; *_kuifd) kuifd_on ;; esac; }

rate_of() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f\n", (s > 0 ? n / s : 0) }'; }

START=$(date +%s)
put meta.kernel "$(uname -r)"
put meta.cpus "$(nproc)"
put meta.scale "$SCALE"
put meta.size "$SIZE"
put meta.ring_pages "$(cat /sys/module/kuif/parameters/ring_pages)"
put meta.loss_seconds "$LOSS_S"
put meta.lat_rate "$LAT_RATE"

# Throughput: the ring paths at the reader's pace (the driver waits for
# room, so the kernel drops nothing); netlink as fast as BENCH goes, as
# there is no way to wait for a netlink reader. In TP_ROUNDS rounds, the
# paths taking turns; each path's figures are those of its median run:
# under emulation on a shared host, one path's rate moved by a factor of
# two between two runs in one boot (204,000 and 110,000 events/s).
declare -A TP
if part tp; then
declare -A TPR
for round in $(seq "$TP_ROUNDS"); do
	for p in $PATHS; do
		path_setup "$p"
		case $p in
		ring_*) run "$p" "$N_TP" --follow-ring --batch 256 ;;
		nl_*) run "$p" "$N_TP" --batch 256 ;;
		esac
		TPR[$p.$round]="$(rate_of "$RECV" "$SPAN") $RECV $LOST $SPAN $CPU $SYS ${RCPU:-0} $BWAIT ${RWAIT:-0} ${DCPU:-0} ${DWAIT:-0} $IDLE"
	done
done
for p in $PATHS; do
	rates=""
	for round in $(seq "$TP_ROUNDS"); do
		rates+="${TPR[$p.$round]%% *} "
	done
	# The median run (the lower of the middle two for an even count).
	mid=$(for round in $(seq "$TP_ROUNDS"); do
		echo "${TPR[$p.$round]%% *} $round"; done |
		sort -n | sed -n "$(( (TP_ROUNDS + 1) / 2 ))p" | cut -d' ' -f2)
	read -r rate recv lost span cpu sys rcpu bwait rwait dcpu dwait idle \
		<<< "${TPR[$p.$mid]}"
	TP[$p]=$rate
	put "tp.$p.sent" "$N_TP"
	put "tp.$p.received" "$recv"
	put "tp.$p.lost" "$lost"
	put "tp.$p.seconds" "$span"
	put "tp.$p.rate" "$rate"
	put "tp.$p.rates" "\"${rates% }\""
	case $p in
	*_kuifd) put "tp.$p.kernel_share" "$sys" ;;
	esac
	# Where the median run's time went, per event received: the CPU
	# of each process, and its time runnable but waiting for a CPU.
	per=$((recv > 0 ? recv : 1))
	case $p in
	*_kuifd|*_relay)
		put "tp.$p.cpu_ns_per_event" $((cpu / N_TP))
		put "tp.$p.bridge_wait_ns_per_event" $((bwait / per)) ;;
	esac
	put "tp.$p.reader_cpu_ns_per_event" $((rcpu / per))
	put "tp.$p.reader_wait_ns_per_event" $((rwait / per))
	put "tp.$p.driver_cpu_ns_per_event" $((dcpu / per))
	put "tp.$p.driver_wait_ns_per_event" $((dwait / per))
	put "tp.$p.idle_share" "$idle"
done
put meta.tp_rounds "$TP_ROUNDS"
fi

# Zero loss: the highest steady rate each path takes for LOSS_S seconds
# without losing an event: from 0.9 times its throughput, doubling while
# nothing is lost, then bisecting. The rate recorded is the one the driver
# achieved, not the one it was asked for. Each step is its own: run()
# waits until kuifd has delivered what the last one left, and bench-sub
# counts only the events numbered after the step began. The paths' searches
# take turns, a step each, so that the host's load of the moment falls on
# all of them alike.
declare -A LS_R LS_LO LS_HI LS_BEST LS_STEPS LS_DONE
loss_init() {
	LS_R[$1]=$2; LS_LO[$1]=0; LS_HI[$1]=0; LS_BEST[$1]=0; LS_STEPS[$1]=""
	LS_DONE[$1]=0
}
# loss_step PATH: one step of PATH's search.
loss_step() {
	local p=$1 r=${LS_R[$1]} lo=${LS_LO[$1]} hi=${LS_HI[$1]} n achieved
	n=$(awk -v r="$r" -v s="$LOSS_S" 'BEGIN { printf "%.0f\n", r * s }')
	[ "$n" -ge 1 ] || n=1
	run "$p" "$n" --rate "$r" --batch 64
	achieved=$(rate_of "$n" "$DRIVE")
	if [ "$LOST" -eq 0 ] &&
	    awk -v a="$achieved" -v r="$r" 'BEGIN { exit !(a < r * 0.9) }'; then
		# The driver, not the reader, set the pace: no higher rate
		# can be asked for.
		LS_STEPS[$p]+="$r:$achieved:ok,driver "
		awk -v a="$achieved" -v b="${LS_BEST[$p]}" 'BEGIN { exit !(a > b) }' &&
			LS_BEST[$p]=$achieved
		LS_DONE[$p]=1
		return
	fi
	if [ "$LOST" -eq 0 ]; then
		LS_STEPS[$p]+="$r:$achieved:ok "
		lo=$r
		awk -v a="$achieved" -v b="${LS_BEST[$p]}" 'BEGIN { exit !(a > b) }' &&
			LS_BEST[$p]=$achieved
	else
		LS_STEPS[$p]+="$r:$achieved:lost$LOST "
		hi=$r
	fi
	if [ "$hi" -eq 0 ]; then r=$((lo * 2))
	elif [ "$lo" -eq 0 ]; then r=$((hi / 3))
	else r=$(( (lo + hi) / 2 )); fi
	[ "$r" -ge 1 ] || LS_DONE[$p]=1
	LS_R[$p]=$r; LS_LO[$p]=$lo; LS_HI[$p]=$hi
}
# loss_search PREFIX PATH...: the searches of the paths, taking turns;
# puts PREFIX.PATH.rate and PREFIX.PATH.steps.
loss_search() {
	local prefix=$1 p s
	shift
	for p in "$@"; do
		loss_init "$p" "$(awk -v t="${TP[$p]}" 'BEGIN { printf "%.0f\n", t * 0.9 + 10 }')"
	done
	for s in $(seq "$LOSS_STEPS"); do
		for p in "$@"; do
			[ "${LS_DONE[$p]}" -eq 1 ] && continue
			path_setup "$p"
			loss_step "$p"
		done
	done
	for p in "$@"; do
		put "$prefix.$p.rate" "${LS_BEST[$p]}"
		put "$prefix.$p.steps" "\"${LS_STEPS[$p]% }\""
	done
}

# shellcheck disable=SC2086
part loss && loss_search loss $PATHS

# The ring's size (kuif.ko's ring_pages) against the ring paths' zero-loss
# rates: what the kernel's buffer absorbs of the readers' pauses. The
# module is loaded again with each size, then with the one it had.
if part ring && part loss; then
	pages0=$(cat /sys/module/kuif/parameters/ring_pages)
	for pages in $RING_SIZES; do
		kuifd_off
		modprobe -r kuif && modprobe kuif ring_pages="$pages" ||
			die "cannot load kuif with ring_pages=$pages"
		loss_search "ringsz.$pages" ring_raw ring_kuifd
	done
	kuifd_off
	modprobe -r kuif && modprobe kuif ring_pages="$pages0" ||
		die "cannot load kuif again with ring_pages=$pages0"
	put meta.ring_sizes "\"$RING_SIZES\""
fi

# Latency at a steady rate well below saturation: kernel timestamp to the
# reader's receipt, every event. In LAT_ROUNDS rounds, the paths taking
# turns, each path's samples pooled: a p99 is the 1% slowest, which the
# host's load of the moment moves by a factor of three or four from one
# 10 s run to the next, so paths measured one after the other compared
# their moments more than themselves.
if part lat; then
n_lat=$(awk -v r="$LAT_RATE" -v s="$LAT_S" -v k="$SCALE" -v n="$LAT_ROUNDS" 'BEGIN { v = int(r * s * (k < 1 ? k : 1) / n); print (v < 10 ? 10 : v) }')
declare -A LAT_LOST LAT_P99
for p in $PATHS; do : > "$O/lat-$p.txt"; LAT_LOST[$p]=0; LAT_P99[$p]=""; done
for round in $(seq "$LAT_ROUNDS"); do
	for p in $PATHS; do
		path_setup "$p"
		run "$p" "$n_lat" --rate "$LAT_RATE" --batch 1 -- --lat "$T/lat.txt"
		cat "$T/lat.txt" >> "$O/lat-$p.txt"
		LAT_LOST[$p]=$((LAT_LOST[$p] + LOST))
		# Each round's own p99 (ns), to show how far rounds differ.
		LAT_P99[$p]+="$(sort -n "$T/lat.txt" | awk '{ a[NR] = $1 }
			END { print (NR ? a[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1] : 0) }') "
	done
done
for p in $PATHS; do
	put "lat.$p.samples" "$(wc -l < "$O/lat-$p.txt")"
	put "lat.$p.lost" "${LAT_LOST[$p]}"
	put "lat.$p.round_p99s" "\"${LAT_P99[$p]% }\""
done
put meta.lat_rounds "$LAT_ROUNDS"
fi

# Fan-out: kuifd delivering every event of the ring to K subscribers. At
# the pace kuifd drains the ring: events per second at the slowest
# subscriber. At a steady FAN_RATE well below that: kuifd's CPU time per
# event (a saturated kuifd spends its time on subscribers that fell behind
# and catch up from history, which is not the cost of an event).
if part fan; then
kuifd_on
for k in $FANOUT; do
	run ring_kuifd "$N_FAN" --follow-ring --batch 256 -- --clients "$k" --idle 5
	put "fan.$k.sent" "$N_FAN"
	put "fan.$k.received_min" "$RECV"
	put "fan.$k.lost_max" "$LOST"
	put "fan.$k.rate" "$(rate_of "$RECV" "$SPAN")"
	put "fan.$k.saturated_cpu_ns_per_event" $((CPU / N_FAN))
	run ring_kuifd "$N_FAN_STEADY" --rate "$FAN_RATE" -- --clients "$k" --idle 5
	put "fan.$k.steady_rate" "$FAN_RATE"
	put "fan.$k.steady_lost_max" "$LOST"
	put "fan.$k.cpu_ns_per_event" $((CPU / N_FAN_STEADY))
done
fi

# The installed default configuration (conf/kuifd.conf: netlink, ring,
# signal and inotify on) with every channel on, one subscriber: kuifd's
# wakeups (voluntary context switches) and CPU time per kernel event at a
# steady FAN_RATE, at saturation (the driver following the ring), and
# while idle (wakeups no event caused).
if part default; then
	cp "$CONF.bench-orig" "$CONF"
	kuifd_on
	w0=$(kuifd_wakeups)
	c0=$(kuifd_cpu_ns)
	sleep 5
	put def.idle_wakeups_per_s "$(awk -v w="$(( $(kuifd_wakeups) - w0 ))" 'BEGIN { printf "%.2f\n", w / 5 }')"
	put def.idle_cpu_us_per_s $(( ($(kuifd_cpu_ns) - c0) / 5000 ))
	run def_kuifd "$N_FAN_STEADY" --rate "$FAN_RATE" -- --idle 30
	put def.steady_rate "$FAN_RATE"
	put def.steady_sent "$N_FAN_STEADY"
	put def.steady_lost "$LOST"
	put def.steady_cpu_ns_per_event $((CPU / N_FAN_STEADY))
	put def.steady_wakeups_per_event "$(awk -v w="$WAKE" -v n="$N_FAN_STEADY" 'BEGIN { printf "%.3f\n", w / n }')"
	run def_kuifd "$N_FAN" --follow-ring --batch 256 -- --idle 5
	put def.saturated_sent "$N_FAN"
	put def.saturated_lost "$LOST"
	put def.saturated_rate "$(rate_of "$RECV" "$SPAN")"
	put def.saturated_cpu_ns_per_event $((CPU / N_FAN))
	put def.saturated_wakeups_per_event "$(awk -v w="$WAKE" -v n="$N_FAN" 'BEGIN { printf "%.3f\n", w / n }')"
	bench_conf
	# The floor: the direct readers' own CPU per event in the same runs.
	# Each steady event costs any reader a wakeup, whose price under
	# emulation is not the price on hardware.
	for p in ring_raw nl_raw; do
		path_setup "$p"
		run "$p" "$N_FAN_STEADY" --rate "$FAN_RATE" -- --idle 30
		put "def.$p.steady_cpu_ns_per_event" $((RCPU / N_FAN_STEADY))
		case $p in
		ring_raw) run "$p" "$N_FAN" --follow-ring --batch 256 -- --idle 5 ;;
		nl_raw) run "$p" "$N_FAN" --batch 256 -- --idle 5 ;;
		esac
		put "def.$p.saturated_cpu_ns_per_event" $((RCPU / (RECV > 0 ? RECV : 1)))
	done
fi

# Instructions per event (callgrind.sh): deterministic, so in the same
# boot as the rest for the record, not for the ratios above.
if part cg; then
	rm -f "$T/cg.txt"
	put meta.cg_n "$CG_N"
	"$B/callgrind.sh" -n "$CG_N" -k "$FANOUT" -o "$T/cg.txt" > "$T/cg.log" 2>&1 ||
		die "callgrind.sh failed: $(tail -3 "$T/cg.log" | tr '\n' ' ')"
	# The same, one event at a time at the steady rate: what a wakeup
	# costs kuifd in instructions, against the CPU time it costs.
	"$B/callgrind.sh" -n "$CG_STEADY_N" -k 1 -r "$FAN_RATE" -o "$T/cg.txt" \
		> "$T/cg.log" 2>&1 ||
		die "callgrind.sh -r failed: $(tail -3 "$T/cg.log" | tr '\n' ' ')"
	while read -r k v; do put "$k" "$v"; done < "$T/cg.txt"
	bench_conf
fi

# Memory: kuifd's peak RSS while N_MEM events pass with one subscriber
# that never reads (and one that does, which tells when they have passed).
if part mem; then
kuifd_on
rm -f "$T/stall.ready"
"$B/bench-sub" --stall --count 1 --timeout 3600 --ready "$T/stall.ready" \
	> /dev/null 2> "$T/stall.err" &
spid=$!
wait_ready "$T/stall.ready"
put mem.start_hwm_kib "$(awk '/^VmHWM/ { print $2 }' "/proc/$KPID/status")"
run ring_kuifd "$N_MEM" --follow-ring --batch 256 -- --idle 10
put mem.events "$N_MEM"
put mem.received "$RECV"
put mem.hwm_kib "$(awk '/^VmHWM/ { print $2 }' "/proc/$KPID/status")"
put mem.rss_kib "$(awk '/^VmRSS/ { print $2 }' "/proc/$KPID/status")"
put mem.stalled_connected "$(kill -0 $spid 2>/dev/null && echo yes || echo no)"
kill $spid 2>/dev/null
wait $spid 2>/dev/null
fi

# Where the bridge's time goes (not part of the figures above): kuifd's
# and the relay's instruction pointers sampled with ptrace (bench-sample:
# perf's sampling records almost nothing under TCG) while the ring drains
# into one subscriber, then named in the VM, where kuifd is installed.
if part profile; then
	for p in ring_kuifd ring_relay; do
		path_setup "$p"
		SAMPLE_OUT=$T/sample-$p.txt
		run "$p" "$N_PROF" --follow-ring --batch 256
		SAMPLE_OUT=
		python3 "$B/sample_report.py" "$T/sample-$p.txt" 30 \
			> "$O/profile-$p.md" 2> "$T/report.err" ||
			die "sample_report failed: $(tail -3 "$T/report.err")"
		put "profile.$p.rate" "$(rate_of "$RECV" "$SPAN")"
		put "profile.$p.samples" "$(awk '/^running/ { print $2 }' "$T/sample-$p.txt")"
	done
fi

# What kuifd logged meanwhile (holds, overruns, losses): why a step lost.
# Without the clients' comings and goings: 256 subscribers at a time.
journalctl -q -u kuifd --since "@$START" -o short-precise --no-pager 2>&1 |
	grep -Ev ': client [0-9]+ (connected|\(uid [0-9]+ pid [0-9-]+\) disconnected)' \
	> "$O/kuifd-journal.txt"
put journal.lines "$(wc -l < "$O/kuifd-journal.txt")"

put done 1
echo "finished $(date -u +%FT%TZ)" > "$O/done"
