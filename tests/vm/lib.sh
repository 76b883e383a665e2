# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the in-VM tests, sourced by suite.sh.

R=/kuif-results
OUT=$R/results.txt
T=/run/kuif-tests
mkdir -p "$T"
: > "$OUT"

pass() { echo "PASS $1" | tee -a "$OUT"; }
fail() { echo "FAIL $1: $2" | tee -a "$OUT"; }

# check NAME COMMAND...: passes when the command succeeds; its output is
# the failure message.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# Wait up to $2 tenths of a second for a command to succeed.
wait_for() {
	local cmd=$1 tries=${2:-100}
	while [ "$tries" -gt 0 ]; do
		eval "$cmd" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# Start `kuifctl monitor --json` in the background and wait until it has
# subscribed. Sets MON_PID; output in $T/$1.out.
monitor_start() {
	local tag=$1
	shift
	kuifctl monitor --json "$@" > "$T/$tag.out" 2> "$T/$tag.err" &
	MON_PID=$!
	wait_for "grep -q subscribed $T/$tag.err" 100 || {
		echo "monitor did not subscribe: $(cat "$T/$tag.err")"
		return 1
	}
}

# kuifd with a configuration of its own: kuifd_config 'TEXT' (restarts it).
kuifd_config() {
	[ -e /etc/kuifd/kuifd.conf.orig ] ||
		cp /etc/kuifd/kuifd.conf /etc/kuifd/kuifd.conf.orig
	printf '%b' "$1" > /etc/kuifd/kuifd.conf
	systemctl restart kuifd
}

kuifd_config_default() {
	cp /etc/kuifd/kuifd.conf.orig /etc/kuifd/kuifd.conf
	systemctl restart kuifd
}
