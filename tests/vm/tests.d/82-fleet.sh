# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: events beyond one machine (docs/fleet.md). kuifd's
# journal entries travel with systemd-journal-upload to
# systemd-journal-remote (both on this VM, over plain HTTP on the loopback)
# and are found in the received journal by their KUIF_* fields.

FL_DIR=/var/tmp/kuif-fleet
FL_URL=http://127.0.0.1:19532

fl_cleanup() {
	systemctl stop kuif-test-jremote.service 2>/dev/null
	ip link del kuiffleet0 2>/dev/null
	rmmod dummy 2>/dev/null
	rm -rf "$FL_DIR"
}

t_fleet_journal_remote_receives_events() {
	local out rc=0
	fl_cleanup
	mkdir -p "$FL_DIR/remote" || return 1
	systemctl is-active -q kuifd || systemctl start kuifd || return 1
	systemd-run -q --unit=kuif-test-jremote --collect \
		/lib/systemd/systemd-journal-remote --listen-http=127.0.0.1:19532 \
		--output="$FL_DIR/remote/" || { echo "journal-remote did not start"; return 1; }
	wait_for "ss -Hltn 'sport = :19532' | grep -q LISTEN" 100 ||
		{ echo "journal-remote not listening"; fl_cleanup; return 1; }
	# A real event kuifd journals by default: a network device appears.
	modprobe dummy numdummies=0 && ip link add kuiffleet0 type dummy || { fl_cleanup; return 1; }
	wait_for "journalctl --sync; journalctl -u kuifd -o cat KUIF_EVENT=netdev.register KUIF_PAYLOAD=kuiffleet0 | grep -q ." 100 ||
		{ echo "kuifd did not journal netdev.register"; fl_cleanup; return 1; }
	# The uploader as on a fleet member, once through (it follows in production).
	out=$(timeout 300 /lib/systemd/systemd-journal-upload --url=$FL_URL \
		--save-state="$FL_DIR/upload.state" --follow=no 2>&1) ||
		{ echo "upload failed: $(echo "$out" | tail -2)"; fl_cleanup; return 1; }
	[ -s "$FL_DIR/upload.state" ] || { echo "no upload state saved"; rc=1; }
	wait_for "journalctl -D '$FL_DIR/remote' KUIF_EVENT=netdev.register KUIF_PAYLOAD=kuiffleet0 -o json | grep -q ." 100 ||
		{ echo "not in the received journal: $(ls "$FL_DIR/remote")"; fl_cleanup; return 1; }
	journalctl -D "$FL_DIR/remote" -o json KUIF_EVENT=netdev.register KUIF_PAYLOAD=kuiffleet0 | tail -1 |
		python3 -c '
import json, sys
e = json.load(sys.stdin)
assert int(e["KUIF_SEQ"]) > 0 and int(e["KUIF_KSEQ"]) > 0, e
assert e["KUIF_SOURCE"] in ("netlink", "ring", "signal"), e
assert e["SYSLOG_IDENTIFIER"] == "kuifd" and e["_SYSTEMD_UNIT"] == "kuifd.service", e
assert e.get("_HOSTNAME"), e' || { echo "received entry lacks its fields"; rc=1; }
	# Resumed from the saved cursor: only what is new goes up.
	ip link del kuiffleet0
	wait_for "journalctl --sync; journalctl -u kuifd -o cat KUIF_EVENT=netdev.unregister KUIF_PAYLOAD=kuiffleet0 | grep -q ." 100 ||
		{ echo "kuifd did not journal netdev.unregister"; rc=1; }
	timeout 300 /lib/systemd/systemd-journal-upload --url=$FL_URL \
		--save-state="$FL_DIR/upload.state" --follow=no > /dev/null 2>&1 || { echo "second upload failed"; rc=1; }
	wait_for "journalctl -D '$FL_DIR/remote' KUIF_EVENT=netdev.unregister KUIF_PAYLOAD=kuiffleet0 | grep -q ." 100 ||
		{ echo "second upload did not arrive"; rc=1; }
	[ "$(journalctl -D "$FL_DIR/remote" -o cat KUIF_EVENT=netdev.register KUIF_PAYLOAD=kuiffleet0 | wc -l)" = 1 ] ||
		{ echo "the resumed upload sent the first entry again"; rc=1; }
	fl_cleanup
	return $rc
}

check fleet_journal_remote_receives_events t_fleet_journal_remote_receives_events
