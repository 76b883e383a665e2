# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: action rules (/etc/kuifd/actions.d, kuifd-actions(5)).
# kuifd, as user kuifd with CAP_NET_ADMIN alone, has systemd start
# kuif-action-NAME@SEQ.service for matching events, through D-Bus and the
# polkit rule kuif installs; the action gets the event in its environment.

AC_OUT=/run/kuif-act		# what the test actions write
AC_DIR=/etc/kuifd/actions.d
AC_UNITS=/etc/systemd/system

ac_setup() {
	mkdir -p "$AC_OUT" "$AC_DIR" || return 1
	# The shipped examples, kept for the test of the netlog one.
	cp "$AC_DIR/50-examples.conf" "$T/50-examples.conf" ||
		{ echo "no shipped examples in $AC_DIR"; return 1; }
	rm -f "$AC_OUT"/* "$AC_DIR"/*.conf
	# Writes the KUIF_* variables it got and its own cgroup.
	cat > "$AC_UNITS/kuif-action-kuiftest@.service" <<'UNIT'
[Unit]
Description=kuif test action %i
[Service]
Type=oneshot
EnvironmentFile=/run/kuifd/actions/%n.env
ExecStart=/bin/sh -c 'date +%%s.%%N > /run/kuif-act/%i.started; env | grep ^KUIF_ | sort > /run/kuif-act/%i.part; cat /proc/self/cgroup > /run/kuif-act/%i.cgroup; mv /run/kuif-act/%i.part /run/kuif-act/%i.env'
UNIT
	# Says it started, then waits for the gate to open.
	cat > "$AC_UNITS/kuif-action-kuifslow@.service" <<'UNIT'
[Unit]
Description=kuif slow test action %i
[Service]
Type=oneshot
EnvironmentFile=/run/kuifd/actions/%n.env
ExecStart=/bin/sh -c 'touch /run/kuif-act/slow-%i; while [ ! -e /run/kuif-act/gate ]; do sleep 0.1; done'
TimeoutStartSec=300
UNIT
	systemctl daemon-reload || return 1
	# The system bus (socket-activated) and polkit (bus-activated) are
	# what a real machine runs; this VM's test target starts neither.
	systemctl start dbus.socket dbus.service || { echo "dbus did not start"; return 1; }
	wait_for "busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1" 300 ||
		{ echo "systemd is not on the system bus"; return 1; }
}

ac_cleanup() {
	touch "$AC_OUT/gate"
	rm -f "$AC_DIR"/*.conf
	cp "$T/50-examples.conf" "$AC_DIR/" 2>/dev/null
	systemctl reload kuifd 2>/dev/null
}

# kuifctl actions -o json, one expression of Python over it (r: the
# record, rule(NAME): that rule, c(NAME): its counters).
ac_json() {
	kuifctl actions -o json | python3 -c "
import json, sys
r = json.load(sys.stdin)
def rule(n):
    return [x for x in r['rules'] if x['name'] == n][0]
def c(n):
    return dict(rule(n)['counters'], running=rule(n)['running'])
sys.exit(0 if ($1) else 1)"
}

ac_show() {
	kuifctl actions 2>&1 | tail -n 6
}

t_action_runs_with_the_events_fields() {
	local seq rec
	ac_setup || return 1
	printf '[fields]\nevent = kuiftest.fields\nunit = kuif-action-kuiftest@.service\n' \
		> "$AC_DIR/10-fields.conf"
	systemctl restart kuifd || return 1
	wait_for "ac_json \"r['bus'] == 'connected' and len(r['rules']) == 1\"" 100 ||
		{ echo "rule not loaded or bus not connected: $(ac_show)"; return 1; }
	monitor_start acf --event kuiftest.fields --count 1 || return 1
	kuifctl emit kuiftest.fields 'hello "act" $HOME `x` \n' > /dev/null ||
		{ kill $MON_PID; return 1; }
	wait $MON_PID
	rec=$(head -1 "$T/acf.out")
	seq=$(echo "$rec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])') ||
		{ echo "no record: $rec"; return 1; }
	wait_for "[ -e $AC_OUT/$seq.env ]" 300 ||
		{ echo "the action did not run for seq $seq: $(ac_show); $(journalctl -q -n 5 -u kuifd -o cat)"; return 1; }
	python3 - "$rec" "$AC_OUT/$seq.env" "$AC_OUT/$seq.cgroup" <<'PY' || return 1
import json, sys
rec = json.loads(sys.argv[1])
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[2]))
want = {
    "KUIF_EVENT": rec["event"], "KUIF_SEQ": str(rec["seq"]),
    "KUIF_KSEQ": str(rec["kseq"]), "KUIF_SOURCE": rec["source"],
    "KUIF_PAYLOAD": rec["data"]["payload"], "KUIF_PAYLOAD_ENCODING": "text",
    "KUIF_TIME": rec["time"],
}
for k, v in want.items():
    assert env.get(k) == v, "%s: got %r, want %r" % (k, env.get(k), v)
cg = open(sys.argv[3]).read()
unit = "kuif-action-kuiftest@%d.service" % rec["seq"]
assert unit in cg and "kuifd.service" not in cg, "cgroup %r, want %s" % (cg, unit)
PY
	# The start job ended: counted, the slot free, the file gone.
	wait_for "ac_json \"c('fields')['succeeded'] == 1 and c('fields')['running'] == 0 and c('fields')['matched'] == 1\"" 100 ||
		{ echo "counters: $(ac_show)"; return 1; }
	wait_for "[ ! -e /run/kuifd/actions/kuif-action-kuiftest@$seq.service.env ]" 50 ||
		{ echo "environment file left behind"; return 1; }
	# How long from the kernel's timestamp to the action's first command
	# (kuifd, D-Bus, polkit, systemd's fork and exec), for the record:
	# the first (polkitd is activated) and five more, one at a time.
	ac_latency "$rec" first
	for i in 1 2 3 4 5; do
		monitor_start acl --event kuiftest.fields --count 1 || return 1
		kuifctl emit kuiftest.fields "latency $i" > /dev/null || { kill $MON_PID; return 1; }
		wait $MON_PID
		rec=$(head -1 "$T/acl.out")
		seq=$(echo "$rec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])') || return 1
		wait_for "[ -e $AC_OUT/$seq.env ]" 300 || { echo "action $i did not run"; return 1; }
		ac_latency "$rec" "next"
	done
}

# ac_latency RECORD LABEL: the event's time to its action's start.
ac_latency() {
	python3 - "$1" "$2" "$AC_OUT" >> "$R/action-latency.txt" <<'PY'
import calendar, json, sys
rec = json.loads(sys.argv[1])
t = rec["time"]
ev = calendar.timegm(tuple(int(x) for x in (t[0:4], t[5:7], t[8:10], t[11:13], t[14:16], t[17:19]))) + int(t[20:29]) / 1e9
start = float(open("%s/%d.started" % (sys.argv[3], rec["seq"])).read())
print("%s: event to action start %.1f ms" % (sys.argv[2], (start - ev) * 1000))
PY
}

# Ten events at once: the rule capped at 2 running starts 2 and counts 8
# capped; the rule limited to 3 per 10 min starts 3 and counts 7 rate
# limited. What ran is what was counted as started.
t_action_rate_limit_and_cap_hold_under_a_burst() {
	local i n
	rm -f "$AC_OUT"/* "$AC_DIR"/*.conf
	printf '[cap]\nevent = kuiftest.burst\nunit = kuif-action-kuifslow@.service\nmax_running = 2\nrate_limit = 1000/1s\n\n[rate]\nevent = kuiftest.burst\nunit = kuif-action-kuiftest@.service\nrate_limit = 3/600s\nmax_running = 64\n' \
		> "$AC_DIR/20-burst.conf"
	systemctl reload kuifd || return 1
	wait_for "ac_json \"len(r['rules']) == 2 and r['bus'] == 'connected'\"" 100 ||
		{ echo "rules not loaded: $(ac_show)"; return 1; }
	for i in 1 2 3 4 5 6 7 8 9 10; do
		kuifctl emit kuiftest.burst "$i" > /dev/null || return 1
	done
	wait_for "ac_json \"c('cap')['matched'] == 10 and c('rate')['matched'] == 10 and c('rate')['succeeded'] == 3\"" 300 ||
		{ echo "counters: $(ac_show)"; return 1; }
	wait_for "[ \$(ls $AC_OUT/slow-* 2>/dev/null | wc -l) -ge 2 ]" 300 ||
		{ echo "the capped rule's actions did not start"; return 1; }
	ac_json "c('cap') == dict(c('cap'), started=2, capped=8, rate_limited=0, running=2)" ||
		{ echo "cap rule: $(ac_show)"; return 1; }
	ac_json "c('rate') == dict(c('rate'), started=3, rate_limited=7, capped=0, running=0, failed=0)" ||
		{ echo "rate rule: $(ac_show)"; return 1; }
	n=$(ls "$AC_OUT"/slow-* | wc -l)
	[ "$n" = 2 ] || { echo "$n capped actions ran, want 2"; return 1; }
	n=$(ls "$AC_OUT"/*.env | wc -l)
	[ "$n" = 3 ] || { echo "$n rate-limited actions ran, want 3"; return 1; }
	journalctl --sync
	journalctl -q -u kuifd -o cat | grep -q 'action 20-burst.conf/\[cap\]: .*dropped' ||
		{ echo "no drop message in the journal"; return 1; }
	# The record goes through the schema check (records.jsonl).
	kuifctl actions -o json > "$T/ac-actions.out"
	touch "$AC_OUT/gate"
	wait_for "ac_json \"c('cap')['running'] == 0 and c('cap')['succeeded'] == 2\"" 300 ||
		{ echo "after the gate opened: $(ac_show)"; return 1; }
}

# A file with an error is reported as file:line and skipped; the rules of
# the other files work; a reload picks up a new file.
t_action_broken_file_reported_others_work_reload_adds() {
	local seq
	rm -f "$AC_OUT"/* "$AC_DIR"/*.conf
	printf '[fields]\nevent = kuiftest.fields\nunit = kuif-action-kuiftest@.service\n' \
		> "$AC_DIR/10-fields.conf"
	printf '[broken]\nevent = kuiftest.fields\nmax_running = lots\nunit = kuif-action-kuiftest@.service\n' \
		> "$AC_DIR/30-broken.conf"
	systemctl reload kuifd || { echo "reload failed on a broken rule file"; return 1; }
	wait_for "journalctl --sync; journalctl -q -u kuifd -o cat | grep -q '30-broken.conf:3: max_running must be'" 100 ||
		{ echo "no file:line message: $(journalctl -q -n 5 -u kuifd -o cat)"; return 1; }
	kuifctl actions | grep -q '^30-broken.conf:3: max_running must be' ||
		{ echo "kuifctl actions: $(ac_show)"; return 1; }
	ac_json "[x['name'] for x in r['rules']] == ['fields']" ||
		{ echo "rules: $(ac_show)"; return 1; }
	seq=$(kuifctl emit kuiftest.fields still-works >/dev/null &&
		kuifctl stats -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
	wait_for "grep -qx KUIF_PAYLOAD=still-works $AC_OUT/*.env 2>/dev/null" 300 ||
		{ echo "the good rule did not run (seq ~$seq): $(ac_show)"; return 1; }
	# A new rule: not before the reload, at once after.
	printf '[new]\nevent = kuiftest.new\nunit = kuif-action-kuiftest@.service\n' \
		> "$AC_DIR/40-new.conf"
	kuifctl emit kuiftest.new before-reload > /dev/null || return 1
	systemctl reload kuifd || return 1
	kuifctl emit kuiftest.new after-reload > /dev/null || return 1
	wait_for "grep -qx KUIF_PAYLOAD=after-reload $AC_OUT/*.env 2>/dev/null" 300 ||
		{ echo "the new rule did not run: $(ac_show)"; return 1; }
	! grep -qx KUIF_PAYLOAD=before-reload "$AC_OUT"/*.env ||
		{ echo "a rule ran before it was loaded"; return 1; }
	ac_json "c('new')['matched'] == 1" || { echo "new rule: $(ac_show)"; return 1; }
}

# polkit lets user kuifd start instances of action templates, and nothing
# else: not another unit, not another verb, not another instance name.
t_action_polkit_allows_only_action_instances() {
	local as_kuifd="setpriv --reuid=kuifd --regid=kuif --clear-groups"
	local m="org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager"
	local out
	out=$($as_kuifd busctl --system call $m StartUnit ss kuif-action-kuiftest@999999.service fail 2>&1) ||
		{ echo "kuifd may not start an action instance: $out"; return 1; }
	# Refused by polkit: another unit, another instance name.
	for u in systemd-journald.service kuif-action-kuiftest@x.service; do
		if out=$($as_kuifd busctl --system call $m StartUnit ss "$u" fail 2>&1); then
			echo "kuifd could start $u"; return 1
		fi
		echo "$out" | grep -qi 'access denied\|interactive authentication required' ||
			{ echo "start $u: unexpected answer: $out"; return 1; }
	done
	# The bare template is no unit systemd can start (refused before polkit).
	if $as_kuifd busctl --system call $m StartUnit ss kuif-action-kuiftest@.service fail > /dev/null 2>&1; then
		echo "kuifd could start the bare template"; return 1
	fi
	if out=$($as_kuifd busctl --system call $m StopUnit ss kuif-action-kuiftest@999999.service fail 2>&1); then
		echo "kuifd could stop a unit"; return 1
	fi
	# Not kuifd: no more than before.
	if out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups busctl --system call $m StartUnit ss kuif-action-kuiftest@999998.service fail 2>&1); then
		echo "nobody could start an action instance"; return 1
	fi
	return 0
}

# The shipped example, uncommented: a network device going up is logged
# by kuif-action-netlog@SEQ.service, sandboxed as shipped (DynamicUser).
t_action_shipped_netlog_example_logs_a_device_up() {
	local rc=0
	rm -f "$AC_DIR"/*.conf
	sed -n '/^#\[netdev-up\]/,/^$/p' "$T/50-examples.conf" 2>/dev/null |
		sed 's/^#//' > "$AC_DIR/50-netlog.conf"
	grep -q '^unit = kuif-action-netlog@.service' "$AC_DIR/50-netlog.conf" ||
		{ echo "no [netdev-up] example in 50-examples.conf: $(cat "$AC_DIR/50-netlog.conf")"; return 1; }
	systemctl reload kuifd || return 1
	wait_for "ac_json \"[x['name'] for x in r['rules']] == ['netdev-up'] and r['bus'] == 'connected'\"" 100 ||
		{ echo "example rule not loaded: $(ac_show)"; return 1; }
	modprobe dummy numdummies=0 && ip link add kuifact0 type dummy && ip link set kuifact0 up ||
		{ echo "cannot set up a dummy device"; return 1; }
	wait_for "journalctl --sync; journalctl -q -o cat -u 'kuif-action-netlog@*' | grep -q 'network device up: kuifact0 (kuifd seq '" 300 ||
		{ echo "no log line from the example action: $(ac_show); $(journalctl -q -n 5 -u 'kuif-action-netlog@*' -o cat)"; rc=1; }
	[ $rc = 1 ] || wait_for "ac_json \"c('netdev-up')['succeeded'] >= 1 and c('netdev-up')['failed'] == 0\"" 100 ||
		{ echo "counters: $(ac_show)"; rc=1; }
	ip link del kuifact0
	rmmod dummy 2>/dev/null
	return $rc
}

# The system bus goes away: kuifd runs on, says so, counts what it could
# not start, and starts actions again when the bus is back.
t_action_bus_loss_is_survived() {
	local before
	rm -f "$AC_OUT"/* "$AC_DIR"/*.conf
	printf '[fields]\nevent = kuiftest.fields\nunit = kuif-action-kuiftest@.service\n' \
		> "$AC_DIR/10-fields.conf"
	systemctl reload kuifd || return 1
	wait_for "ac_json \"r['bus'] == 'connected'\"" 100 || { echo "not connected: $(ac_show)"; return 1; }
	before=$(kuifctl actions -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rules"][0]["counters"]["start_failed"])')
	systemctl stop dbus.socket dbus.service || return 1
	wait_for "ac_json \"r['bus'] == 'unreachable'\"" 100 ||
		{ systemctl start dbus.socket dbus.service; echo "bus loss not noticed: $(ac_show)"; return 1; }
	kuifctl emit kuiftest.fields bus-down > /dev/null || { systemctl start dbus.socket dbus.service; return 1; }
	wait_for "ac_json \"c('fields')['start_failed'] == $before + 1\"" 100 ||
		{ systemctl start dbus.socket dbus.service; echo "not counted: $(ac_show)"; return 1; }
	kuifctl ping > /dev/null || { systemctl start dbus.socket dbus.service; echo "kuifd does not answer"; return 1; }
	journalctl --sync
	journalctl -q -u kuifd -o cat | grep -q 'actions: lost the system bus' ||
		{ systemctl start dbus.socket dbus.service; echo "loss not logged"; return 1; }
	systemctl start dbus.socket dbus.service || return 1
	wait_for "busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1" 300 ||
		{ echo "systemd did not come back on the bus"; return 1; }
	wait_for "ac_json \"r['bus'] == 'connected'\"" 150 || { echo "not reconnected: $(ac_show)"; return 1; }
	kuifctl emit kuiftest.fields bus-back > /dev/null || return 1
	wait_for "grep -qx KUIF_PAYLOAD=bus-back $AC_OUT/*.env 2>/dev/null" 300 ||
		{ echo "no action after the bus came back: $(ac_show)"; return 1; }
	! grep -qx KUIF_PAYLOAD=bus-down "$AC_OUT"/*.env 2>/dev/null ||
		{ echo "an action ran while the bus was down"; return 1; }
}

# Rules and the bus do not weaken kuifd's sandbox (80-service has the
# same bound without rules).
t_action_sandbox_exposure_unchanged() {
	local score
	score=$(systemd-analyze security kuifd.service 2>/dev/null |
		sed -n 's/.*Overall exposure level for kuifd.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || { echo "no score from systemd-analyze security"; return 1; }
	echo "exposure with actions $score" >> "$R/exposure.txt"
	python3 -c "import sys; sys.exit(0 if float('$score') <= 1.5 else 1)" ||
		{ echo "exposure $score, want at most 1.5"; return 1; }
	# ... and the running kuifd still has CAP_NET_ADMIN alone.
	grep -q '^CapEff:.*0000000000001000$' /proc/$(systemctl show -P MainPID kuifd)/status ||
		{ echo "kuifd's capabilities changed"; return 1; }
}

check action_runs_with_the_events_fields t_action_runs_with_the_events_fields
check action_rate_limit_and_cap_hold_under_a_burst t_action_rate_limit_and_cap_hold_under_a_burst
check action_broken_file_reported_others_work_reload_adds t_action_broken_file_reported_others_work_reload_adds
check action_polkit_allows_only_action_instances t_action_polkit_allows_only_action_instances
check action_shipped_netlog_example_logs_a_device_up t_action_shipped_netlog_example_logs_a_device_up
check action_bus_loss_is_survived t_action_bus_loss_is_survived
check action_sandbox_exposure_unchanged t_action_sandbox_exposure_unchanged
ac_cleanup
