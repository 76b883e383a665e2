# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: upcalls through kuif-upcall, generic netlink
# GET_STATS, BENCH and REGISTER_SIGNAL, and the netdevice and module
# notifiers.

P=/sys/module/kuif/parameters

stat_of() {	# stat_of NAME: a GET_STATS counter
	"$HERE/nl-cmd" stats | sed -n "s/^$1 //p"
}

params_default() {
	echo /usr/libexec/kuif/kuif-upcall > $P/upcall_helper
	echo 'netdev.*,module.*,upcall.*' > $P/upcall_events
	echo 0xf > /sys/kernel/kuif/channels
}

t_upcall_reaches_subscriber_through_kuifd() {
	systemctl start kuifd || return 1
	monitor_start up1 --count 1 --timeout 20 --event upcall.only || return 1
	echo 0x8 > /sys/kernel/kuif/channels	# the upcall channel alone
	"$HERE/ioctl-msg" emit upcall.only 'via helper' > /dev/null
	echo 0xf > /sys/kernel/kuif/channels
	wait "$MON_PID" || { echo "nothing came: $(cat $T/up1.err)"; return 1; }
	python3 - "$T/up1.out" <<'PY'
import json, sys
e = json.loads(open(sys.argv[1]).readline())
assert e["source"] == "upcall" and e["data"]["payload"] == "via helper", e
PY
}

t_upcall_logs_to_journal_without_kuifd() {
	local kseq
	systemctl stop kuifd
	kseq=$("$HERE/ioctl-msg" emit upcall.journal 'no daemon') || return 1
	wait_for "journalctl --sync; journalctl -o cat SYSLOG_IDENTIFIER=kuif-upcall KUIF_EVENT=upcall.journal KUIF_SEQ=$kseq | grep -q unreachable" 50 ||
		{ echo "no journal entry for kseq $kseq"; return 1; }
	journalctl -o json SYSLOG_IDENTIFIER=kuif-upcall KUIF_SEQ=$kseq | tail -1 |
		python3 -c 'import json,sys; e=json.load(sys.stdin); assert e["KUIF_PAYLOAD_HEX"] == "no daemon".encode().hex(), e'
}

t_upcall_only_for_matching_events() {
	local s0
	s0=$(stat_of upcall_sent)
	"$HERE/ioctl-msg" emit other.event x > /dev/null
	sleep 0.5
	[ "$(stat_of upcall_sent)" = "$s0" ] || { echo "upcall for a non-matching event"; return 1; }
	"$HERE/ioctl-msg" emit upcall.match x > /dev/null
	wait_for '[ "$(stat_of upcall_sent)" -gt "$s0" ]' 30 || { echo "no upcall"; return 1; }
}

t_upcall_bad_helper_is_counted_not_fatal() {
	local d0
	d0=$(stat_of upcall_dropped)
	echo /nonexistent/helper > $P/upcall_helper
	"$HERE/ioctl-msg" emit upcall.missing x > /dev/null || return 1
	printf '#!/bin/sh\n' > $T/noexec; chmod 0644 $T/noexec
	wait_for '[ "$(stat_of upcall_dropped)" -gt "$d0" ]' 30 || { params_default; echo "missing helper not counted"; return 1; }
	d0=$(stat_of upcall_dropped)
	echo $T/noexec > $P/upcall_helper
	"$HERE/ioctl-msg" emit upcall.noexec x > /dev/null || return 1
	wait_for '[ "$(stat_of upcall_dropped)" -gt "$d0" ]' 30 || { params_default; echo "non-executable helper not counted"; return 1; }
	params_default
}

t_upcall_hanging_helper_blocks_nothing() {
	local t0 t1
	printf '#!/bin/sh\nsleep 30\n' > $T/hang; chmod 0755 $T/hang
	echo $T/hang > $P/upcall_helper
	t0=$(date +%s%N)
	"$HERE/ioctl-msg" emit upcall.hang x 20 > /dev/null || { params_default; return 1; }
	t1=$(date +%s%N)
	params_default
	pkill -f "$T/hang" 2>/dev/null
	# One emit that waited for the helper would take its full 30 s; the
	# bound leaves room for a slow debug kernel under emulation (3.4 s seen).
	[ $(( (t1 - t0) / 1000000 )) -lt 15000 ] || { echo "20 emits took $(( (t1 - t0) / 1000000 )) ms"; return 1; }
}

t_upcall_rate_limited_and_counted() {
	local s0 d0 s1 d1
	printf '#!/bin/sh\nexit 0\n' > $T/quick; chmod 0755 $T/quick
	echo $T/quick > $P/upcall_helper
	sleep 1.1
	s0=$(stat_of upcall_sent); d0=$(stat_of upcall_dropped)
	"$HERE/ioctl-msg" emit upcall.burst x 500 > /dev/null || { params_default; return 1; }
	# The accepted ones run one after another: wait for the last.
	wait_for '[ $(( $(stat_of upcall_sent) - s0 + $(stat_of upcall_dropped) - d0 )) -ge 500 ]' 300
	s1=$(stat_of upcall_sent); d1=$(stat_of upcall_dropped)
	params_default
	[ $((s1 - s0)) -le 64 ] || { echo "$((s1 - s0)) upcalls ran"; return 1; }
	[ $((d1 - d0 + s1 - s0)) -eq 500 ] || { echo "sent $((s1 - s0)) + dropped $((d1 - d0)) != 500"; return 1; }
}

t_upcall_params_refuse_bad_values() {
	local v
	for v in relative/path $'\n' "$(head -c 300 /dev/zero | tr '\0' a)" "/with space"; do
		if printf '%s' "$v" > $P/upcall_helper 2>/dev/null; then
			params_default; echo "upcall_helper accepted '$v'"; return 1
		fi
	done
	for v in "Upper.*" "a b" "x;y"; do
		if printf '%s' "$v" > $P/upcall_events 2>/dev/null; then
			params_default; echo "upcall_events accepted '$v'"; return 1
		fi
	done
	[ "$(cat $P/upcall_helper)" = /usr/libexec/kuif/kuif-upcall ] || return 1
}

t_genl_stats_match_events() {
	local ev last
	last=$(tail -n 1 /proc/kuif/events | cut -d' ' -f1)
	ev=$(stat_of events)
	[ "$ev" = "$last" ] || { echo "GET_STATS events $ev, last kseq $last"; return 1; }
	[ "$(stat_of ring_sent)" = "$(status_field ring_sent)" ] || { echo "stats disagree with /proc"; return 1; }
}

t_genl_bench_emits_count() {
	local e0 out
	systemctl start kuifd || return 1
	e0=$(stat_of events)
	out=$("$HERE/nl-cmd" bench 1000 64 1) || { echo "$out"; return 1; }
	[ "$(stat_of events)" = $((e0 + 1000)) ] || { echo "events $e0 -> $(stat_of events)"; return 1; }
	echo "$out" | grep -q "^kseq $((e0 + 1000))$" || { echo "reply: $out"; return 1; }
}

t_genl_bench_needs_admin_and_good_attributes() {
	local out
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$HERE/nl-cmd" bench 10 8 1 2>&1) &&
		{ echo "nobody ran BENCH"; return 1; }
	echo "$out" | grep -q "Operation not permitted" || { echo "nobody: $out"; return 1; }
	for args in "0 8 1" "10 1000 1" "10 8 0" "10 8 0x100" "10 8" ""; do
		# shellcheck disable=SC2086
		if out=$("$HERE/nl-cmd" bench-raw $args 2>&1); then
			echo "BENCH $args accepted"; return 1
		fi
		echo "$out" | grep -Eq "Invalid input|out of range|Numeric" || { echo "BENCH $args: $out"; return 1; }
	done
}

t_genl_register_signal() {
	local pid
	systemctl stop kuifd
	"$HERE/signal-receiver" --no-register --count 1 --timeout 10 > $T/gsig.out 2>$T/gsig.err &
	pid=$!
	wait_for "grep -q registered $T/gsig.err" 50 || return 1
	"$HERE/nl-cmd" register-signal $pid || return 1
	[ "$(cat /sys/kernel/kuif/signal_pid)" = $pid ] || { echo "not registered"; return 1; }
	printf 'genl signal' > /dev/kuif
	wait $pid || { echo "no signal"; return 1; }
	"$HERE/nl-cmd" register-signal 0 || return 1
	[ "$(cat /sys/kernel/kuif/signal_pid)" = 0 ] || return 1
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$HERE/nl-cmd" register-signal 1 2>/dev/null &&
		{ echo "nobody registered"; return 1; }
	return 0
}

t_netdev_and_module_events() {
	local out
	rmmod dummy 2>/dev/null
	modprobe dummy || return 1
	ip link add kuiftest0 type dummy || return 1
	ip link set kuiftest0 up && ip link set kuiftest0 down && ip link del kuiftest0 || return 1
	out=$(grep -E ' (netdev\.[a-z]+ kuiftest0|module\.load dummy)$' /proc/kuif/events | cut -d' ' -f3- | tail -n 5)
	[ "$out" = "module.load dummy
netdev.register kuiftest0
netdev.up kuiftest0
netdev.down kuiftest0
netdev.unregister kuiftest0" ] || { echo "got: $out"; return 1; }
	rmmod dummy && tail -n 1 /proc/kuif/events | grep -q ' module.unload dummy$' ||
		{ echo "no module.unload"; return 1; }
}

status_field() { sed -n "s/^$1: //p" /proc/kuif/status; }

check upcall_reaches_subscriber_through_kuifd t_upcall_reaches_subscriber_through_kuifd
check upcall_logs_to_journal_without_kuifd t_upcall_logs_to_journal_without_kuifd
check upcall_only_for_matching_events t_upcall_only_for_matching_events
check upcall_bad_helper_is_counted_not_fatal t_upcall_bad_helper_is_counted_not_fatal
check upcall_hanging_helper_blocks_nothing t_upcall_hanging_helper_blocks_nothing
check upcall_rate_limited_and_counted t_upcall_rate_limited_and_counted
check upcall_params_refuse_bad_values t_upcall_params_refuse_bad_values
check genl_stats_match_events t_genl_stats_match_events
check genl_bench_emits_count t_genl_bench_emits_count
check genl_bench_needs_admin_and_good_attributes t_genl_bench_needs_admin_and_good_attributes
check genl_register_signal t_genl_register_signal
check netdev_and_module_events t_netdev_and_module_events
params_default
