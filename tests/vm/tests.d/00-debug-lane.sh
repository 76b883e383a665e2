# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh, first. In the debug lane (`make check-debug`: run
# --debug-kernel puts KUIF_DEBUG_LANE=1 in $R/params) the kernel's checkers
# must be on, and kmemleak forgets what it suspects from boot, so that
# 99-debug-lane-end.sh reports what the suite left behind. On Debian's
# kernels this file checks nothing and says so.

DEBUG_LANE=$(sed -n 's/^KUIF_DEBUG_LANE=//p' "$R/params" 2>/dev/null)

t_debug_checkers_on() {
	grep -q 'debug_locks: *1$' /proc/lockdep_stats 2>/dev/null ||
		{ echo "lockdep is off: $(grep debug_locks /proc/lockdep_stats 2>&1)"; return 1; }
	grep -q 'enabled: 1' /sys/kernel/debug/kfence/stats 2>/dev/null ||
		{ echo "KFENCE is off: $(cat /sys/kernel/debug/kfence/stats 2>&1 | head -1)"; return 1; }
	[ -w /sys/kernel/debug/kmemleak ] ||
		{ echo "no /sys/kernel/debug/kmemleak"; return 1; }
	[ -e /sys/kernel/debug/debug_objects ] ||
		{ echo "no debug objects in debugfs"; return 1; }
	[ "$(cat /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null)" -gt 0 ] 2>/dev/null ||
		{ echo "no hung-task detector"; return 1; }
}

t_debug_kmemleak_clear() {
	echo clear > /sys/kernel/debug/kmemleak || return 1
}

if [ "$DEBUG_LANE" = 1 ]; then
	check debug.checkers_on t_debug_checkers_on
	check debug.kmemleak_clear t_debug_kmemleak_clear
else
	echo "debug lane: not this run (make check-debug runs its checks)"
fi
