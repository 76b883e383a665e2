# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: kuifd's instructions per event on the ring and
# netlink paths to one subscriber (bench/vm/callgrind.sh, deterministic
# counts under callgrind, small N), against the budget committed in
# bench/budget.txt: more than 10% over it fails.
#
# BENCH_CALLGRIND_N and BENCH_CALLGRIND_FANOUT (passed into the VM like
# every BENCH_* variable; subscriber counts separated by commas, as a
# systemd Environment= line splits at spaces) make it the full
# measurement: the figures for each subscriber count go to
# $R/callgrind.txt. Checked: one subscriber against the budget, and 16
# subscribers against one (the "fan16" line of the budget, in percent):
# a subscriber more must cost a copy per batch, not work per event.

t_callgrind_budget() {
	local n=${BENCH_CALLGRIND_N:-256} fan=${BENCH_CALLGRIND_FANOUT:-1,16}
	fan=${fan//,/ }
	local budget=$HERE/budget.txt p got max many pct
	[ -r "$budget" ] || { echo "no budget file $budget"; return 1; }
	rm -f "$R/callgrind.txt"
	"$HERE/callgrind.sh" -n "$n" -k "$fan" -o "$R/callgrind.txt" -d "$R" \
		> "$T/callgrind.log" 2>&1 || { tail -n 3 "$T/callgrind.log"; return 1; }
	for p in ring netlink; do
		got=$(awk -v k="cg.$p.1" '$1 == k { print $2 }' "$R/callgrind.txt")
		max=$(awk -v p="$p" '$1 == p { print $2 }' "$budget")
		[ -n "$got" ] && [ -n "$max" ] ||
			{ fail "callgrind_$p" "no figure ($got) or no budget ($max)"; continue; }
		if [ $((got * 10)) -gt $((max * 11)) ]; then
			fail "callgrind_$p" "$got instructions per event, over the budget $max (+10%)"
		else
			echo "PASS callgrind_$p $got instructions per event, budget $max (+10%)" |
				tee -a "$OUT"
		fi
		many=$(awk -v k="cg.$p.16" '$1 == k { print $2 }' "$R/callgrind.txt")
		pct=$(awk '$1 == "fan16" { print $2 }' "$budget")
		[ -n "$many" ] || continue	# not measured: a fan-out given without 16
		[ -n "$got" ] && [ -n "$pct" ] ||
			{ fail "callgrind_fanout_$p" "no figure ($got) or no fan16 budget ($pct)"; continue; }
		if [ $((many * 100)) -gt $((got * pct)) ]; then
			fail "callgrind_fanout_$p" "16 subscribers $many instructions per event, one $got: over $pct%"
		else
			echo "PASS callgrind_fanout_$p 16 subscribers $many, one $got instructions per event (at most $pct%)" |
				tee -a "$OUT"
		fi
	done
}

t_callgrind_budget > "$T/callgrind.out" 2>&1 ||
	fail callgrind_budget "$(tail -n 3 "$T/callgrind.out" | tr '\n' ' ')"
