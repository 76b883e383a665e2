# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: what kuifd costs when the kernel is quiet, with the
# installed configuration (netlink, ring, signals and inotify on) and every
# channel on, so that each kernel event reaches kuifd up to three times.

kuifd_wakeups() {	# voluntary context switches: the times it slept
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"
}

# Events far apart (20 a second, each on netlink, the ring and a signal):
# kuifd wakes about once per event, not once per channel, and nothing it
# arms for an event (the reorder timer of a signal's copy) wakes it again.
# Idle, it wakes only for systemd's watchdog (every 15 s; the sweep of
# half-closed subscribers ran every 2 s).
t_kuifd_wakes_once_per_event() {
	local n=60 rc=0 pid w0 w1 i0 i1 ev per
	kuifd_config_default
	pid=$(systemctl show -P MainPID kuifd)
	monitor_start wk --event bench || return 1
	sleep 1
	i0=$(kuifd_wakeups "$pid")
	sleep 5
	i1=$(kuifd_wakeups "$pid")
	w0=$(kuifd_wakeups "$pid")
	"$HERE/bench-drive" --count $n --rate 20 --batch 1 --channels 15 > /dev/null ||
		{ echo "bench-drive failed"; rc=1; }
	wait_for "[ \$(grep -c '\"event\":\"bench\"' $T/wk.out) -ge $n ]" 100 ||
		{ echo "not every event came"; rc=1; }
	sleep 0.5
	w1=$(kuifd_wakeups "$pid")
	kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null
	ev=$(grep -c '"event":"bench"' "$T/wk.out")
	per=$(awk -v w=$((w1 - w0)) -v n=$n 'BEGIN { printf "%.2f", w / n }')
	echo "wakeups: $((w1 - w0)) for $n events ($per per event, $ev delivered); idle: $((i1 - i0)) in 5 s" |
		tee -a "$R/wakeup-figures.txt"
	[ "$ev" -eq $n ] || rc=1
	awk -v p="$per" 'BEGIN { exit !(p <= 1.5) }' || { echo "more than 1.5 wakeups per event"; rc=1; }
	[ $((i1 - i0)) -le 1 ] || { echo "kuifd woke $((i1 - i0)) times in 5 s idle"; rc=1; }
	return $rc
}

check kuifd_wakes_once_per_event t_kuifd_wakes_once_per_event
