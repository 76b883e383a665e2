# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: procfs, sysfs and the pseudo bus, debugfs, sysctl,
# and real-time signals.

status_field() {	# status_field KEY: a number from /proc/kuif/status
	sed -n "s/^$1: //p" /proc/kuif/status
}

# expect_refused FILE VALUE ERRNO-TEXT: the write fails with that error
# and the file reads the same afterwards.
expect_refused() {
	local before after err
	before=$(cat "$1")
	if err=$(printf '%s' "$2" 2>&1 > "$1"); then
		echo "$1 accepted '$2'"; return 1
	fi
	err=$( (printf '%s' "$2" > "$1") 2>&1 )
	echo "$err" | grep -q "$3" || { echo "$1 <- '$2': $err (want $3)"; return 1; }
	after=$(cat "$1")
	[ "$before" = "$after" ] || { echo "$1 changed from '$before' to '$after'"; return 1; }
}

last_event() {	# the newest line of /proc/kuif/events
	tail -n 1 /proc/kuif/events
}

t_files_exist_with_modes() {
	local f m want bad=""
	while read -r f want; do
		m=$(stat -c %a "$f" 2>/dev/null) || { bad="$bad $f:missing"; continue; }
		[ "$m" = "$want" ] || bad="$bad $f:$m"
	done <<'LIST'
/proc/kuif/status 444
/proc/kuif/events 400
/sys/kernel/kuif/value 644
/sys/kernel/kuif/event_count 444
/sys/kernel/kuif/signal_pid 644
/sys/kernel/kuif/channels 644
/sys/bus/kuif/description 644
/proc/sys/kuif/value1 644
/proc/sys/kuif/value2 644
/sys/kernel/debug/kuif/level 600
/sys/kernel/debug/kuif/trigger 600
/sys/kernel/debug/kuif/stats 400
/sys/kernel/debug/kuif/signalconfpid 600
LIST
	[ -z "$bad" ] || { echo "wrong:$bad"; return 1; }
}

t_proc_status_counts_events() {
	local e0 e1
	e0=$(status_field events)
	printf 'count me' > /dev/kuif
	e1=$(status_field events)
	[ "$e1" = $((e0 + 1)) ] || { echo "events $e0 -> $e1"; return 1; }
	grep -q "^version: " /proc/kuif/status || { echo "no version"; return 1; }
	[ "$(grep -c '_sent: \|_dropped: ' /proc/kuif/status)" = 8 ] ||
		{ echo "not 4 channels x 2 counters"; return 1; }
}

t_proc_events_any_read_size() {
	local a b
	printf 'probe\001line' > /dev/kuif
	last_event | grep -q ' chardev.write probe\\x01line$' ||
		{ echo "last line: $(last_event)"; return 1; }
	for i in $(seq 200); do printf "fill-$i" > /dev/kuif; done
	a=$(cat /proc/kuif/events)
	b=$(dd if=/proc/kuif/events bs=7 2>/dev/null)
	[ "$a" = "$b" ] || { echo "dd bs=7 differs from cat"; return 1; }
	[ "$(echo "$a" | wc -l)" = 128 ] || { echo "$(echo "$a" | wc -l) lines, want 128"; return 1; }
	echo "$a" | awk '{ if (NR > 1 && $1 != last + 1) exit 1; last = $1 }' ||
		{ echo "kseqs not consecutive"; return 1; }
}

t_sysfs_value_emits_and_refuses_bad_input() {
	echo 42 > /sys/kernel/kuif/value || return 1
	last_event | grep -q ' sysfs.value 42$' || { echo "last: $(last_event)"; return 1; }
	[ "$(cat /sys/kernel/kuif/value)" = 42 ] || return 1
	expect_refused /sys/kernel/kuif/value abc "Invalid argument" || return 1
	expect_refused /sys/kernel/kuif/value 99999999999 "Numerical result out of range" || return 1
}

t_sysfs_event_count_notifies_pollpri() {
	rm -f "$T/pri.ready"
	python3 - "$T/pri.ready" <<'PY' &
import os, select, sys
fd = os.open("/sys/kernel/kuif/event_count", os.O_RDONLY)
os.read(fd, 64)
p = select.poll(); p.register(fd, select.POLLPRI | select.POLLERR)
open(sys.argv[1], "w").close()
ev = p.poll(5000)
sys.exit(0 if ev and ev[0][1] & select.POLLPRI else 1)
PY
	local pid=$!
	wait_for "[ -e $T/pri.ready ]" 100 || return 1
	printf 'notify' > /dev/kuif
	wait $pid || { echo "POLLPRI waiter not woken"; return 1; }
}

t_channels_mask() {
	local n0 r0
	expect_refused /sys/kernel/kuif/channels 0x10 "Invalid argument" || return 1
	expect_refused /sys/kernel/kuif/channels lots "Invalid argument" || return 1
	echo 0xe > /sys/kernel/kuif/channels || return 1
	n0=$(status_field netlink_sent); r0=$(status_field ring_sent)
	kuifctl emit chan.test x >/dev/null 2>&1 || printf 'chan' > /dev/kuif
	[ "$(status_field netlink_sent)" = "$n0" ] || { echo "netlink still sent"; echo 0xf > /sys/kernel/kuif/channels; return 1; }
	echo 0xf > /sys/kernel/kuif/channels
	[ "$(cat /sys/kernel/kuif/channels)" = 0xf ] || return 1
}

t_bus_attribute() {
	local f=/sys/bus/kuif/description
	echo "hello bus" > $f || return 1
	[ "$(cat $f)" = "hello bus" ] || { echo "read $(cat $f)"; return 1; }
	expect_refused $f "$(head -c 64 /dev/zero | tr '\0' b)" "Invalid argument" || return 1
	expect_refused $f $'\n' "Invalid argument" || return 1
}

t_debugfs_trigger_and_level() {
	local d=/sys/kernel/debug/kuif
	echo fire > $d/trigger || return 1
	last_event | grep -q ' debugfs.trigger fire$' || { echo "last: $(last_event)"; return 1; }
	[ "$(cat $d/trigger)" = fire ] || return 1
	expect_refused $d/trigger "$(head -c 258 /dev/zero | tr '\0' t)" "Message too long" || return 1
	echo 7 > $d/level && [ "$(cat $d/level)" = 7 ] || { echo "level"; return 1; }
	grep -q "^events: " $d/stats && grep -q "^level: 7$" $d/stats || { echo "stats"; return 1; }
}

t_sysctl_range() {
	local f=/proc/sys/kuif/value1 v
	for v in 9 21 -1 abc; do
		expect_refused $f $v "Invalid argument" || return 1
	done
	echo 10 > $f && echo 20 > $f || { echo "10 or 20 refused"; return 1; }
	last_event | grep -q ' sysctl.value1 20$' || { echo "last: $(last_event)"; return 1; }
	sysctl -w kuif.value2=11 >/dev/null || return 1
	last_event | grep -q ' sysctl.value2 11$' || { echo "last: $(last_event)"; return 1; }
}

t_signal_tutorial_1234() {
	local out
	systemctl stop kuifd 2>/dev/null
	out=$("$HERE/signal-receiver" --count 1 --timeout 5 2>/dev/null) ||
		{ echo "no signal: $out"; return 1; }
	[ "$out" = "signal 44 si_code SI_QUEUE value 1234" ] || { echo "got: $out"; return 1; }
}

t_signal_carries_kseq_and_ends_with_process() {
	local out pid want
	systemctl stop kuifd 2>/dev/null
	"$HERE/signal-receiver" --sysfs --count 3 --timeout 10 > "$T/sig.out" 2>"$T/sig.err" &
	pid=$!
	wait_for "grep -q registered $T/sig.err" 50 || return 1
	[ "$(cat /sys/kernel/kuif/signal_pid)" = "$pid" ] || { echo "signal_pid $(cat /sys/kernel/kuif/signal_pid)"; return 1; }
	for i in 1 2 3; do printf "sig-$i" > /dev/kuif; done
	wait $pid || { echo "got $(cat "$T/sig.out")"; return 1; }
	want=$(tail -n 3 /proc/kuif/events | awk '{ print "signal 44 si_code SI_QUEUE value " $1 }')
	[ "$(cat "$T/sig.out")" = "$want" ] || { echo "got $(cat "$T/sig.out") want $want"; return 1; }
	# The receiver is gone: the next event ends the registration.
	printf 'after exit' > /dev/kuif
	[ "$(cat /sys/kernel/kuif/signal_pid)" = 0 ] || { echo "still registered"; return 1; }
}

t_signal_pid_refuses_bad_input() {
	expect_refused /sys/kernel/kuif/signal_pid 999999 "No such process" || return 1
	expect_refused /sys/kernel/kuif/signal_pid -5 "Invalid argument" || return 1
	expect_refused /sys/kernel/kuif/signal_pid abc "Invalid argument" || return 1
}

t_kuifd_hears_files_and_signals() {
	systemctl restart kuifd || return 1
	monitor_start ino --count 1 --timeout 20 --source inotify --event file.modified || return 1
	echo 77 > /sys/kernel/kuif/value
	wait "$MON_PID" || { echo "no file.modified: $(cat $T/ino.err)"; return 1; }
	python3 - "$T/ino.out" <<'PY' || return 1
import json, re, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["data"] == {"path": "/sys/kernel/kuif/value", "value": "77"}, r
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", r["time"]), r
assert "kseq" not in r, r
PY
	kuifctl stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["sources"]
assert s["signal"]["attached"] and s["signal"]["received"] >= 1, s
assert s["inotify"]["watches"] >= 2, s' || return 1
}

# event_count is sysfs_notify()'d after every event: kuifd does not
# republish it, so kernel events add no file records; a real write does.
# (Before, each of the five writes below gave a file.notified and a
# file.modified for event_count.)
t_event_count_is_not_republished() {
	local n
	systemctl restart kuifd || return 1
	# A long bound: under emulation on a loaded host the loop below has
	# taken more than 20 s.
	monitor_start cnt --timeout 180 --source inotify || return 1
	for n in 1 2 3 4 5; do printf "count-$n" > /dev/kuif; sleep 0.2; done
	echo 5 > /sys/kernel/kuif/value
	echo 6 > /sys/kernel/kuif/value
	wait_for "grep -q '\"value\":\"6\"' $T/cnt.out" 1200 || {
		echo "no file.modified for value $(cat /sys/kernel/kuif/value): $(cat $T/cnt.out)" \
			"inotify: $(kuifctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"].get("inotify"))')"
		kill "$MON_PID"; return 1; }
	kill "$MON_PID"; wait "$MON_PID" 2>/dev/null
	if grep -q event_count "$T/cnt.out"; then
		echo "event_count republished: $(grep -c event_count $T/cnt.out) records"; return 1
	fi
	# Only value's changes (5 may be read back as 6 already: the value
	# is read when the notification is handled).
	n=$(grep -vc '"event":"file.modified","data":{"path":"/sys/kernel/kuif/value"' "$T/cnt.out")
	[ "$n" = 0 ] || { echo "records other than value's: $(cat $T/cnt.out)"; return 1; }
}

check files_exist_with_modes t_files_exist_with_modes
check proc_status_counts_events t_proc_status_counts_events
check proc_events_any_read_size t_proc_events_any_read_size
check sysfs_value_emits_and_refuses_bad_input t_sysfs_value_emits_and_refuses_bad_input
check sysfs_event_count_notifies_pollpri t_sysfs_event_count_notifies_pollpri
check channels_mask t_channels_mask
check bus_attribute t_bus_attribute
check debugfs_trigger_and_level t_debugfs_trigger_and_level
check sysctl_range t_sysctl_range
check signal_tutorial_1234 t_signal_tutorial_1234
check signal_carries_kseq_and_ends_with_process t_signal_carries_kseq_and_ends_with_process
check signal_pid_refuses_bad_input t_signal_pid_refuses_bad_input
check kuifd_hears_files_and_signals t_kuifd_hears_files_and_signals
check event_count_is_not_republished t_event_count_is_not_republished
