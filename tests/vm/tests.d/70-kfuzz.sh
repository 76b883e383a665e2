# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: the kernel fuzzer (tests/fuzz/kernel) against every
# entry point of kuif.ko while kuifd listens, then kuifd and the module are
# checked: kuifd never restarted and still delivers, the module unloads.
#
# The seed and the number of operations come from the host (run passes
# KUIF_KFUZZ_SEED and KUIF_KFUZZ_OPS through $R/params); the seed is in
# every failure, so `KUIF_KFUZZ_SEED=N make check` repeats a run.

KF_SEED=$(sed -n 's/^KUIF_KFUZZ_SEED=//p' "$R/params" 2>/dev/null)
KF_OPS=$(sed -n 's/^KUIF_KFUZZ_OPS=//p' "$R/params" 2>/dev/null)
KF_SEED=${KF_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
KF_OPS=${KF_OPS:-20000}
KF_BADK='BUG:|Oops|WARNING:|general protection|Call Trace:|refcount_t|list_add corruption|list_del corruption'

kf_new_klog() {	# kernel log lines after the first $1
	dmesg | tail -n +"$(($1 + 1))"
}

t_kfuzz_every_entry_point() {
	local rc klog0 bad pid
	# The fuzzer must be the ring's only reader to check its header.
	kuifd_config '[sources]\nring = no\n' || return 1
	# check runs each test in a subshell: the next tests read this file.
	pid=$(systemctl show -P MainPID kuifd)
	{
		echo "KF_PID=$pid"
		echo "KF_RESTARTS=$(systemctl show -P NRestarts kuifd)"
		echo "KF_FDS=$(ls /proc/"$pid"/fd | wc -l)"
	} > "$T/kf-state"
	klog0=$(dmesg | wc -l)
	echo "kfuzz seed $KF_SEED, $KF_OPS operations"
	timeout 1200 "$HERE/kfuzz" -s "$KF_SEED" -n "$KF_OPS" > "$T/kfuzz.out" 2>&1
	rc=$?
	cp "$T/kfuzz.out" "$R/kfuzz.txt"
	bad=$(kf_new_klog "$klog0" | grep -E "$KF_BADK" | head -3)
	[ -z "$bad" ] || { echo "kernel log (seed $KF_SEED): $bad"; return 1; }
	[ $rc -eq 0 ] || {
		grep -aE '^(FAIL|HANG)' "$T/kfuzz.out" | head -3
		echo "kfuzz exited $rc (seed $KF_SEED)"
		return 1
	}
	grep -aq '^kfuzz: .* 0 broken promises' "$T/kfuzz.out" ||
		{ tail -n 3 "$T/kfuzz.out"; return 1; }
}

t_kuifd_survives_kfuzz() {
	local pid fds KF_PID KF_RESTARTS KF_FDS
	. "$T/kf-state" || return 1
	pid=$(systemctl show -P MainPID kuifd)
	[ "$pid" = "$KF_PID" ] && [ "$(systemctl show -P NRestarts kuifd)" = "$KF_RESTARTS" ] ||
		{ echo "kuifd restarted: pid $KF_PID -> $pid"; return 1; }
	fds=$(ls /proc/"$pid"/fd | wc -l)
	[ "$fds" -le "$KF_FDS" ] || { echo "kuifd fds $KF_FDS -> $fds"; return 1; }
	monitor_start kf-after --count 1 --timeout 30 --event chardev.write || return 1
	wait_for "printf 'after kfuzz' > /dev/kuif; grep -q 'after kfuzz' $T/kf-after.out" 100 ||
		{ kill "$MON_PID" 2>/dev/null; echo "no event through kuifd after the fuzz"; return 1; }
	kill "$MON_PID" 2>/dev/null
	return 0
}

t_module_unloads_after_kfuzz() {
	local rc=0
	systemctl stop kuifd
	if ! rmmod kuif; then
		echo "rmmod: $(lsmod | grep '^kuif ')"; rc=1
	elif [ -e /sys/module/kuif ]; then
		echo "/sys/module/kuif still there"; rc=1
	fi
	modprobe kuif || { echo "modprobe after the fuzz failed"; rc=1; }
	kuifd_config_default
	return $rc
}

check kfuzz_every_entry_point t_kfuzz_every_entry_point
check kuifd_survives_kfuzz t_kuifd_survives_kfuzz
check module_unloads_after_kfuzz t_module_unloads_after_kfuzz
