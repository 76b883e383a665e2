# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: the benchmark harness (bench/vm/bench.sh) with tiny
# counts, so that it cannot rot; `make bench` runs it for real. Its figures
# are not checked, only that every path delivered and the results are whole.

t_bench_smoke() {
	local o=$R/bench-smoke k p was
	was=$(systemctl is-active kuifd)
	rm -rf "$o"
	BENCH_OUT=$o BENCH_SCALE=0.002 BENCH_LOSS_SECONDS=1 BENCH_LOSS_STEPS=1 \
		BENCH_LAT_RATE=200 BENCH_LAT_SECONDS=1 BENCH_LAT_ROUNDS=2 \
		BENCH_TP_ROUNDS=2 \
		BENCH_FANOUT="1 4" \
		BENCH_SIZE=64 BENCH_PROFILE_N=100000000 BENCH_RING_SIZES=64 \
		BENCH_CG_N=64 \
		BENCH_CG_STEADY_N=20 "$HERE/bench.sh" > "$T/bench.log" 2>&1 ||
		{ tail -n 5 "$T/bench.log"; return 1; }
	[ -f "$o/done" ] || { echo "bench.sh did not finish"; return 1; }
	for k in tp.ring_raw.received tp.ring_relay.received \
		tp.ring_kuifd.received tp.nl_raw.received \
		tp.nl_kuifd.received fan.4.received_min mem.received mem.hwm_kib \
		lat.ring_raw.samples lat.ring_relay.samples lat.ring_kuifd.samples \
		lat.nl_raw.samples lat.nl_kuifd.samples cg.ring.1 cg.netlink.4 \
		cg.ring_r200.1 cg.netlink_r200.1 journal.lines \
		tp.ring_relay.cpu_ns_per_event tp.ring_kuifd.cpu_ns_per_event \
		tp.ring_raw.driver_cpu_ns_per_event \
		tp.ring_kuifd.driver_cpu_ns_per_event \
		tp.nl_kuifd.reader_cpu_ns_per_event; do
		awk -v k="$k" '$1 == k && $2 + 0 > 0 { f = 1 } END { exit !f }' \
			"$o/results.txt" || { echo "$k missing or zero"; return 1; }
	done
	# The latency rounds pooled: two of 10 samples for each path.
	for k in lat.ring_raw.samples lat.ring_relay.samples \
		lat.ring_kuifd.samples lat.nl_raw.samples lat.nl_kuifd.samples; do
		awk -v k="$k" '$1 == k && $2 == 20 { f = 1 } END { exit !f }' \
			"$o/results.txt" || { echo "$k: $(grep "^$k " "$o/results.txt"), not 20"; return 1; }
	done
	# ... and each round's own p99; the throughput rounds: two runs for
	# each path, the median's figures. Each a quoted pair of numbers, one
	# of them at least above 1.
	for k in lat.ring_raw.round_p99s lat.ring_relay.round_p99s \
		lat.nl_kuifd.round_p99s tp.ring_raw.rates tp.ring_relay.rates \
		tp.ring_kuifd.rates tp.nl_raw.rates tp.nl_kuifd.rates; do
		awk -v k="$k" '$1 == k && NF == 3 && $2 ~ /^"[0-9]+$/ &&
			$3 ~ /^[0-9]+"$/ && (substr($2, 2) + 0 > 1 || $3 + 0 > 1) { f = 1 } END { exit !f }' "$o/results.txt" ||
			{ echo "$k: $(grep "^$k " "$o/results.txt"), not 2 figures"; return 1; }
	done
	# Where the time went: a wait may be 0 in so short a run, but is
	# there for each process of each path (the bridge's on the relay and
	# kuifd paths), and so is the vCPUs' idle share.
	for p in ring_raw ring_relay ring_kuifd nl_raw nl_kuifd; do
		for k in reader_wait driver_wait $(case $p in *_raw) ;; *) echo bridge_wait ;; esac); do
			awk -v k="tp.$p.${k}_ns_per_event" '$1 == k && $2 ~ /^[0-9]+$/ { f = 1 }
				END { exit !f }' "$o/results.txt" ||
				{ echo "tp.$p.${k}_ns_per_event missing or not a count"; return 1; }
		done
		awk -v k="tp.$p.idle_share" '$1 == k && $2 ~ /^[01]\.[0-9][0-9]$/ { f = 1 }
			END { exit !f }' "$o/results.txt" ||
			{ echo "tp.$p.idle_share missing or not a share"; return 1; }
	done
	# One step of the zero-loss search may lose (a 64-page ring under
	# emulation, at 0.9 times a throughput measured over 400 events), so
	# its rate may be 0: the step must be there and whole.
	for k in loss.ring_relay.steps loss.ring_kuifd.steps loss.nl_kuifd.steps \
		ringsz.64.ring_kuifd.steps; do
		awk -v k="$k" '$1 == k && $2 ~ /^"[0-9]+:[0-9]+:(ok|lost[0-9]+)/ \
			{ f = 1 } END { exit !f }' "$o/results.txt" ||
			{ echo "$k missing or malformed: $(grep "^$k " "$o/results.txt")"
			  return 1; }
	done
	# The profile: the bridge was sampled while running, and its samples
	# were named (a table row with a share, a count and an object).
	for p in ring_kuifd ring_relay; do
		awk -v k="profile.$p.samples" '$1 == k && $2 + 0 > 0 { f = 1 }
			END { exit !f }' "$o/results.txt" ||
			{ echo "profile.$p.samples missing or zero"; return 1; }
		grep -Eq '^\| [0-9.]+% \| [0-9]+ \| [^|]+ \| [^|]+ \|$' \
			"$o/profile-$p.md" ||
			{ echo "profile-$p.md has no named sample: $(head -c 300 "$o/profile-$p.md")"
			  return 1; }
	done
	systemctl is-active -q kuifd || { echo "kuifd not running after the bench"; return 1; }
	[ ! -e /etc/kuifd/kuifd.conf.bench-orig ] ||
		{ echo "bench.sh did not restore kuifd.conf"; return 1; }
	# Leave kuifd as the previous tests left it.
	[ "$was" = active ] || systemctl stop kuifd
}

check bench_smoke t_bench_smoke

