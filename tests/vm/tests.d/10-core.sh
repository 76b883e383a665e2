# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: the module, /dev/kuif, generic netlink, kuifd and kuifctl.

# ---------------------------------------------------------------- module

t_module_loads() {
	modprobe kuif || return 1
	[ -d /sys/module/kuif ] || { echo "/sys/module/kuif missing"; return 1; }
	[ -c /dev/kuif ] || { echo "/dev/kuif is not a character device"; return 1; }
	grep -q "^kuif " /proc/modules || { echo "kuif not in /proc/modules"; return 1; }
}

t_module_is_the_installed_one() {
	local f
	f=$(modinfo -n kuif) || return 1
	case "$f" in
	*/updates/kuif.ko) ;;
	*) echo "modinfo -n kuif gives $f"; return 1 ;;
	esac
}

t_dev_kuif_mode() {
	local m
	m=$(stat -c %a /dev/kuif)
	[ "$m" = 660 ] || { echo "/dev/kuif mode $m, want 660"; return 1; }
}

t_chardev_write_read() {
	printf 'hello world' > /dev/kuif || return 1
	local got
	got=$(cat /dev/kuif)
	[ "$got" = "hello world" ] || { echo "read back '$got'"; return 1; }
}

t_chardev_rejects_201_bytes() {
	local err
	printf 'keep me' > /dev/kuif || return 1
	if err=$(head -c 201 /dev/zero | tr '\0' a | dd of=/dev/kuif bs=201 count=1 2>&1); then
		echo "a 201-byte write succeeded"; return 1
	fi
	echo "$err" | grep -q "Message too long" || { echo "error was: $err"; return 1; }
	[ "$(cat /dev/kuif)" = "keep me" ] || { echo "message changed"; return 1; }
}

t_chardev_accepts_200_bytes() {
	local msg
	msg=$(head -c 200 /dev/zero | tr '\0' b)
	printf '%s' "$msg" | dd of=/dev/kuif bs=200 count=1 2>/dev/null || return 1
	[ "$(cat /dev/kuif)" = "$msg" ] || { echo "200-byte message not read back"; return 1; }
}

t_genl_echo() {
	local out
	out=$("$HERE/nl-echo" "hello world!") || { echo "$out"; return 1; }
	[ "$out" = "hello world!" ] || { echo "reply '$out'"; return 1; }
}

t_genl_echo_requires_msg() {
	local out
	if out=$("$HERE/nl-echo" --no-attr 2>&1); then
		echo "ECHO without KUIF_A_MSG succeeded: $out"; return 1
	fi
	echo "$out" | grep -q "Invalid input data or parameter" ||
		{ echo "unexpected error: $out"; return 1; }
}

# ---------------------------------------------------------------- kuifd

t_kuifd_starts() {
	systemctl start kuifd || { journalctl -u kuifd --no-pager | tail -5; return 1; }
	[ "$(systemctl show -P ActiveState kuifd)" = active ] ||
		{ echo "kuifd not active"; return 1; }
	[ "$(systemctl show -P Type kuifd)" = notify ] ||
		{ echo "kuifd is not Type=notify"; return 1; }
}

t_socket_mode_and_group() {
	local s=/run/kuifd/kuifd.sock m g
	[ -S $s ] || { echo "$s is not a socket"; return 1; }
	m=$(stat -c %a $s); g=$(stat -c %G $s)
	[ "$m" = 660 ] || { echo "mode $m, want 660"; return 1; }
	[ "$g" = kuif ] || { echo "group $g, want kuif"; return 1; }
}

t_client_ping() {
	local out
	out=$(kuifctl ping -o json) || return 1
	echo "$out" | grep -q '"type":"pong"' || { echo "got: $out"; return 1; }
	out=$(kuifctl ping) || return 1
	echo "$out" | grep -qE '^pong from kuifd .*: time=[0-9.]+ ms$' || { echo "got: $out"; return 1; }
}

t_client_hello_line() {
	local line
	line=$(timeout 30 python3 -c '
import socket
s = socket.socket(socket.AF_UNIX); s.connect("/run/kuifd/kuifd.sock")
print(s.makefile().readline().strip())')
	echo "$line" | grep -Eq '^\{"type":"hello","version":1,"server":"kuifd [0-9.]+","seq":[0-9]+\}$' ||
		{ echo "hello line: $line"; return 1; }
}

t_event_reaches_subscriber() {
	monitor_start ev1 --count 1 --timeout 20 || return 1
	printf 'payload-one' > /dev/kuif
	wait "$MON_PID" || { echo "monitor exited $?: $(cat $T/ev1.err)"; return 1; }
	python3 - "$T/ev1.out" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, f"want 1 line, got {lines!r}"
e = json.loads(lines[0])
want = {"type": "event", "event": "chardev.write"}
for k, v in want.items():
    assert e.get(k) == v, f"{k}: want {v!r}, got {e.get(k)!r} in {e}"
assert e["source"] in ("netlink", "ring", "signal"), e
assert e["data"]["payload"] == "payload-one", e
assert isinstance(e["kseq"], int) and e["kseq"] > 0, e
assert isinstance(e["seq"], int) and e["seq"] > 0, e
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", e["time"]), e
PY
}

t_kseq_strictly_increasing() {
	local i
	monitor_start ev5 --count 5 --timeout 30 || return 1
	for i in 1 2 3 4 5; do printf "m$i" > /dev/kuif; done
	wait "$MON_PID" || { echo "monitor exited $?"; return 1; }
	python3 - "$T/ev5.out" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert [e["data"]["payload"] for e in evs] == ["m1", "m2", "m3", "m4", "m5"], evs
ks = [e["kseq"] for e in evs]
assert all(b == a + 1 for a, b in zip(ks, ks[1:])), ks
ss = [e["seq"] for e in evs]
assert all(b == a + 1 for a, b in zip(ss, ss[1:])), ss
PY
}

t_filter_by_event() {
	monitor_start flt --count 1 --timeout 20 --event 'user.*' || return 1
	printf 'not this' > /dev/kuif
	kuifctl emit user.filtered "this one" > /dev/null || return 1
	wait "$MON_PID" || { echo "monitor exited $?"; return 1; }
	grep -q '"event":"user.filtered"' "$T/flt.out" ||
		{ echo "got: $(cat $T/flt.out)"; return 1; }
}

t_emit_round_trip() {
	local out
	monitor_start emit --count 1 --timeout 20 --event demo.hello || return 1
	out=$(kuifctl emit demo.hello "from kuifctl") || { echo "$out"; return 1; }
	echo "$out" | grep -q '"type":"emitted","kseq":[0-9]' || { echo "reply: $out"; return 1; }
	wait "$MON_PID" || return 1
	grep -q '"payload":"from kuifctl"' "$T/emit.out" || { cat "$T/emit.out"; return 1; }
}

t_emit_rejects_bad_name() {
	local out
	if out=$(kuifctl emit "Bad Name" x 2>&1); then
		echo "accepted: $out"; return 1
	fi
	echo "$out" | grep -q bad_request || { echo "got: $out"; return 1; }
}

t_bad_request_keeps_connection() {
	python3 - <<'PY'
import json, socket
s = socket.socket(socket.AF_UNIX); s.connect("/run/kuifd/kuifd.sock")
f = s.makefile("rw")
assert json.loads(f.readline())["type"] == "hello"
for bad in ["{not json", '{"op":"fly"}', '[1,2]', '{"op":"subscribe","filter":{"event":"x"}}']:
    f.write(bad + "\n"); f.flush()
    r = json.loads(f.readline())
    assert r["type"] == "error" and r["code"] == "bad_request", (bad, r)
f.write('{"op":"ping","id":"still here"}\n'); f.flush()
r = json.loads(f.readline())
assert r == {"type": "pong", "id": "still here"}, r
PY
}

t_oversized_line_closes() {
	python3 - <<'PY'
import json, socket
s = socket.socket(socket.AF_UNIX); s.connect("/run/kuifd/kuifd.sock")
f = s.makefile("rwb")
assert json.loads(f.readline())["type"] == "hello"
s.sendall(b"x" * (70 * 1024))
r = json.loads(f.readline())
assert r["type"] == "error" and r["code"] == "line_too_long", r
assert f.readline() == b"", "connection stayed open"
PY
}

t_journal_shows_start() {
	journalctl --sync 2>/dev/null
	journalctl -u kuifd --no-pager -o cat | grep -q "kuifd .* starting" ||
		{ echo "no start message in journalctl -u kuifd"; return 1; }
	journalctl --no-pager -o cat KUIF_LIFECYCLE=ready | grep -q ready ||
		{ echo "no KUIF_LIFECYCLE=ready entry"; return 1; }
}

t_journal_records_events_by_field() {
	kuifd_config '[journal]\nevents = chardev.*\n' || return 1
	printf 'to the journal' > /dev/kuif
	wait_for "journalctl --sync; journalctl -u kuifd -o cat KUIF_EVENT=chardev.write KUIF_SOURCE=netlink | grep -q 'to the journal'" 50 ||
		{ echo "no entry with KUIF_EVENT=chardev.write"; return 1; }
	journalctl -u kuifd -o json KUIF_EVENT=chardev.write | tail -1 |
		python3 -c 'import json,sys; e=json.load(sys.stdin); assert int(e["KUIF_SEQ"]) > 0 and int(e["KUIF_KSEQ"]) > 0 and e["KUIF_PAYLOAD"] == "to the journal", e' ||
		return 1
	kuifd_config_default
}

t_since_resumes_within_history() {
	local out first
	printf 'resume-0' > /dev/kuif
	monitor_start res0 --count 1 --timeout 20 --event chardev.write || return 1
	printf 'resume-1' > /dev/kuif
	wait "$MON_PID" || return 1
	first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seq"])' "$T/res0.out")
	for i in 2 3 4; do printf "resume-$i" > /dev/kuif; done
	# A client that saw seq $first reconnects and asks for what followed.
	out=$(kuifctl monitor --json --since "$first" --count 3 --timeout 10 --event chardev.write 2>/dev/null) || return 1
	echo "$out" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert [e["data"]["payload"] for e in evs] == ["resume-2", "resume-3", "resume-4"], evs'
}

t_kuifd_reattaches_after_reload() {
	# The ring keeps /dev/kuif open, which pins the module: without it,
	# the module can go while kuifd runs.
	kuifd_config '[sources]\nring = no\n' || return 1
	rmmod kuif || return 1
	wait_for "journalctl -u kuifd -o cat --no-pager | grep -q 'source netlink detached'" 50 ||
		{ echo "kuifd did not notice the unload"; return 1; }
	modprobe kuif || return 1
	monitor_start back --count 1 --timeout 20 || return 1
	printf 'after reload' > /dev/kuif
	wait "$MON_PID" || { echo "no event after reload: $(cat $T/back.err)"; return 1; }
	grep -q '"payload":"after reload"' "$T/back.out" || { cat "$T/back.out"; return 1; }
	systemctl is-active -q kuifd || { echo "kuifd died"; return 1; }
	kuifd_config_default
}

check module_loads t_module_loads
check module_is_the_installed_one t_module_is_the_installed_one
check dev_kuif_mode_0660 t_dev_kuif_mode
check chardev_write_read t_chardev_write_read
check chardev_rejects_201_bytes t_chardev_rejects_201_bytes
check chardev_accepts_200_bytes t_chardev_accepts_200_bytes
check genl_echo t_genl_echo
check genl_echo_requires_msg t_genl_echo_requires_msg
check kuifd_starts t_kuifd_starts
check socket_mode_and_group t_socket_mode_and_group
check client_ping t_client_ping
check client_hello_line t_client_hello_line
check event_reaches_subscriber t_event_reaches_subscriber
check kseq_strictly_increasing t_kseq_strictly_increasing
check filter_by_event t_filter_by_event
check emit_round_trip t_emit_round_trip
check emit_rejects_bad_name t_emit_rejects_bad_name
check bad_request_keeps_connection t_bad_request_keeps_connection
check oversized_line_closes t_oversized_line_closes
check journal_shows_start t_journal_shows_start
check journal_records_events_by_field t_journal_records_events_by_field
check since_resumes_within_history t_since_resumes_within_history
check kuifd_reattaches_after_reload t_kuifd_reattaches_after_reload
