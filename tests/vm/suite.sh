#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-VM suite: runs as a systemd service inside the test VM, against
# kuif as installed (kuif.ko from /lib/modules, kuifd started by systemd,
# kuifctl from /usr/bin). One line per test in /kuif-results/results.txt:
# "PASS name" or "FAIL name: why". /kuif-results/done marks a full run.
#
# Each tests.d/NN-name.sh defines its tests and runs them with `check`;
# the module is loaded before each file is sourced, and the files run in
# order (90-lifecycle.sh, which unloads it, last).
set -u
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/lib.sh"

echo "kuif VM suite on $(uname -r)"
# run --only GLOB leaves the glob in $R/only: the other files are skipped.
only=$(cat "$R/only" 2>/dev/null)
for f in "$HERE"/tests.d/*.sh; do
	# shellcheck disable=SC2254
	case "$(basename "$f")" in
	${only:-*}) ;;
	*) continue ;;
	esac
	modprobe kuif || fail "$(basename "$f" .sh).modprobe" "modprobe kuif failed"
	. "$f"
done

# Every record the tests saw (kuifctl's JSON output), for the host to
# validate against docs/schema/ (tests/vm/run).
cat "$T"/*.out 2>/dev/null | grep '^{"type":' > "$R/records.jsonl"

dmesg > "$R/dmesg.txt"
journalctl -b --no-pager > "$R/journal.txt" 2>&1
echo "finished $(date -u +%FT%TZ)" > "$R/done"
sync
