# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: many writers on every interface at once, unloading
# with a signal receiver registered, and load/unload cycles while events
# flow and kuifd runs. The kernel log is checked after each.

ST_BADK='BUG:|Oops|WARNING:|general protection|KASAN|refcount_t|list_add corruption|list_del corruption|Call Trace:'

st_klog_clean() {
	local bad
	bad=$(dmesg | grep -E "$ST_BADK" | head -3)
	[ -z "$bad" ] || { echo "kernel log: $bad"; return 1; }
}

t_concurrent_writers_on_every_interface() {
	local e0 e1 end pids="" g=/sys/kernel/config/kuif/generators/stress
	systemctl start kuifd || return 1
	e0=$(sed -n 's/^events: //p' /proc/kuif/status)
	end=$(( $(date +%s) + 5 ))
	( while [ "$(date +%s)" -lt $end ]; do printf 'w' > /dev/kuif; done ) & pids="$pids $!"
	( i=0; while [ "$(date +%s)" -lt $end ]; do echo $((i++)) > /sys/kernel/kuif/value; done ) & pids="$pids $!"
	( while [ "$(date +%s)" -lt $end ]; do echo t > /sys/kernel/debug/kuif/trigger; done ) & pids="$pids $!"
	( while [ "$(date +%s)" -lt $end ]; do echo 11 > /proc/sys/kuif/value1; echo 19 > /proc/sys/kuif/value1; done ) & pids="$pids $!"
	( while [ "$(date +%s)" -lt $end ]; do cat /proc/kuif/events /proc/kuif/status > /dev/null; done ) & pids="$pids $!"
	( while [ "$(date +%s)" -lt $end ]; do mkdir $g 2>/dev/null; echo 10 > $g/interval_ms; echo 1 > $g/enable; rmdir $g 2>/dev/null; done ) & pids="$pids $!"
	( "$HERE/ioctl-msg" emit stress.ioctl x 2000 > /dev/null ) & pids="$pids $!"
	( "$HERE/udp-echo" -c 200 > /dev/null 2>&1 ) & pids="$pids $!"
	( "$HERE/nl-cmd" bench 5000 64 15 > /dev/null ) & pids="$pids $!"
	( "$HERE/ring-reader" --timeout 5 --quiet ) & pids="$pids $!"
	# shellcheck disable=SC2086
	wait $pids
	rmdir $g 2>/dev/null
	e1=$(sed -n 's/^events: //p' /proc/kuif/status)
	[ "$e1" -gt $((e0 + 5000)) ] || { echo "only $((e1 - e0)) events"; return 1; }
	[ "$("$HERE/nl-echo" still-there)" = still-there ] || { echo "netlink echo broken"; return 1; }
	kuifctl ping > /dev/null || { echo "kuifd not answering"; return 1; }
	st_klog_clean
}

t_rmmod_with_signal_receiver_registered() {
	local pid
	systemctl stop kuifd
	"$HERE/signal-receiver" --sysfs --count 100000 --timeout 60 > /dev/null 2>$T/st-sig.err &
	pid=$!
	wait_for "grep -q registered $T/st-sig.err" 50 || return 1
	printf 'one signal' > /dev/kuif
	rmmod kuif || { kill $pid; echo "rmmod failed"; return 1; }
	kill -0 $pid || { echo "the receiver died"; return 1; }
	modprobe kuif || return 1
	[ "$(cat /sys/kernel/kuif/signal_pid)" = 0 ] || { kill $pid; echo "registration survived the reload"; return 1; }
	kill $pid; wait $pid 2>/dev/null
	st_klog_clean
}

st_load_unload_50() {
	local i n emitter
	# Emitters that do not hold /dev/kuif open, which would pin the
	# module: sysctl writes and generic netlink requests.
	( while :; do echo 11 > /proc/sys/kuif/value1; echo 12 > /proc/sys/kuif/value1
		"$HERE/nl-echo" flow > /dev/null 2>&1; done 2>/dev/null ) &
	emitter=$!
	for i in $(seq 50); do
		n=0
		until rmmod kuif 2>/dev/null; do
			n=$((n + 1))
			[ $n -lt 50 ] || { kill $emitter; echo "rmmod $i kept failing"; return 1; }
			sleep 0.05
		done
		modprobe kuif || { kill $emitter; echo "modprobe $i failed"; return 1; }
	done
	kill $emitter; wait $emitter 2>/dev/null
	systemctl is-active -q kuifd || { echo "kuifd died"; return 1; }
	# kuifd may still be working through the cycles' events: a debug
	# kernel under emulation took more than 10 s. The event ends the wait.
	monitor_start st-back --count 1 --timeout 120 --event chardev.write || return 1
	wait_for "printf 'after 50' > /dev/kuif; grep -q 'after 50' $T/st-back.out" 900 ||
		{ echo "no event after the cycles"; return 1; }
	kill "$MON_PID" 2>/dev/null
	st_klog_clean
}

t_load_unload_50_while_events_flow() {
	local rc
	kuifd_config '[sources]\nring = no\n' || return 1
	st_load_unload_50
	rc=$?
	kuifd_config_default
	return $rc
}

# A burst on netlink alone overruns kuifd's socket: whatever is lost, at
# the end of the burst too (where no later event reveals the gap), must be
# counted as lost: events + lost = the burst, on kuifd's bus.
st_bus_counts() {	# "unique-events lost"
	kuifctl stats --json | python3 -c '
import json, sys
b = json.load(sys.stdin)["bus"]
print(b["received"] - b["duplicates"], b["lost"])'
}

st_netlink_overruns() {
	kuifctl stats --json | python3 -c '
import json, sys
print(json.load(sys.stdin)["sources"]["netlink"]["overruns"])'
}

t_netlink_burst_losses_all_reported() {
	local n=100000 rc=0 out e0 l0 e1 l1 end o0 o1 said t0 max
	kuifd_config '[sources]\nring = no\nsignal = no\ninotify = no\n' || return 1
	read -r e0 l0 < <(st_bus_counts)
	o0=$(st_netlink_overruns)
	t0=$SECONDS
	local since
	since=$(date +%s)
	out=$("$HERE/nl-cmd" bench $n 64 1) || { echo "bench: $out"; rc=1; }
	# Until the burst has drained (a debug kernel under emulation takes its
	# time), then well past the reorder window, so that a late count shows.
	# Bounded by the clock: a stats request itself may wait while kuifd
	# works through the burst.
	end=$((SECONDS + 240))
	while [ $rc -eq 0 ] && [ $SECONDS -lt $end ]; do
		read -r e1 l1 < <(st_bus_counts) && [ $((e1 - e0 + l1 - l0)) -ge $n ] && break
		sleep 1
	done
	[ $rc -eq 0 ] && sleep 2
	read -r e1 l1 < <(st_bus_counts)
	echo "$((e1 - e0)) events + $((l1 - l0)) lost of $n"
	[ $rc -eq 0 ] && [ $((e1 - e0 + l1 - l0)) -eq $n ] || rc=1
	# Overruns are logged once in 10 s, not once each.
	o1=$(st_netlink_overruns)
	said=$(journalctl -q -u kuifd --since "@$since" -o cat |
		grep -c 'netlink: receive buffer overrun')
	max=$(( (SECONDS - t0) / 10 + 2 ))
	echo "overruns $((o1 - o0)), logged $said times in $((SECONDS - t0)) s (at most $max)" |
		tee -a "$R/netlink-overruns.txt"
	[ "$said" -le "$max" ] || { echo "overrun messages not rate-limited"; rc=1; }
	# What the limit held back is said when its 10 s are over: the
	# journal's last count is kuifd's.
	[ "$o1" -eq 0 ] || wait_for "journalctl -q -u kuifd --since @$since -o cat |
		grep -q 'netlink: receive buffer overrun ($o1 so far'" 150 ||
		{ echo "no message says the $o1 overruns: $(journalctl -q -u kuifd --since "@$since" -o cat |
			grep 'netlink: receive buffer overrun' | tail -n 1)"; rc=1; }
	kuifd_config_default
	return $rc
}

check netlink_burst_losses_all_reported t_netlink_burst_losses_all_reported
check concurrent_writers_on_every_interface t_concurrent_writers_on_every_interface
check rmmod_with_signal_receiver_registered t_rmmod_with_signal_receiver_registered
check load_unload_50_while_events_flow t_load_unload_50_while_events_flow
