# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh, last, in the debug lane only (see 00-debug-lane.sh):
# after the whole suite, kfuzz and the module's unloads, kmemleak scans
# twice (an object must be unreferenced for two scans, and at least five
# seconds old, to be reported) and must report nothing; lockdep must still
# be on (its first report switches it off, and the host's grep of the
# kernel log shows that report).

t_debug_kmemleak_none() {
	local f=/sys/kernel/debug/kmemleak n
	[ -w "$f" ] || { echo "no $f"; return 1; }
	echo scan > "$f" || return 1
	sleep 6
	echo scan > "$f" || return 1
	cat "$f" > "$R/kmemleak.txt" || return 1
	n=$(grep -c 'unreferenced object' "$R/kmemleak.txt")
	[ "$n" -eq 0 ] || {
		echo "$n unreferenced objects, the first from" \
			"$(grep -m1 -A20 'unreferenced object' "$R/kmemleak.txt" |
			grep -m1 -E '\[kuif\]|kuif_' || echo 'outside kuif') (results/kmemleak.txt)"
		return 1
	}
}

t_debug_lockdep_still_on() {
	grep -q 'debug_locks: *1$' /proc/lockdep_stats ||
		{ echo "lockdep switched itself off: it reported something (see the kernel log)"; return 1; }
}

DEBUG_LANE=$(sed -n 's/^KUIF_DEBUG_LANE=//p' "$R/params" 2>/dev/null)
if [ "$DEBUG_LANE" = 1 ]; then
	check debug.kmemleak_none t_debug_kmemleak_none
	check debug.lockdep_still_on t_debug_lockdep_still_on
fi
