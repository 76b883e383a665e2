#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test: unit tests and kuifd's socket tests on the host, sparse on
# the module, then the VM suite on each kernel. Ends with "N passed, N failed".
#
#   check.sh [--unit-only] [--kernel KVER]...
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

unit_only=0
vm_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) unit_only=1; shift ;;
	--kernel) vm_args+=(--kernel "$2"); shift 2 ;;
	*) echo "usage: $0 [--unit-only] [--kernel KVER]..." >&2; exit 2 ;;
	esac
done

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# Unit tests: cmocka in TAP mode, one "ok N - name" per test.
units=(build/tests/test_*)
if [ ! -e "${units[0]}" ]; then
	fail unit.built "no unit test binaries in build/tests (make check builds them)"
fi
for t in "${units[@]}"; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
	rc=$?
	n=0
	while read -r line; do
		case "$line" in
		"ok "*) pass "unit.$name.${line#ok * - }"; n=$((n + 1)) ;;
		"not ok "*) fail "unit.$name.${line#not ok * - }" "see output above"; n=$((n + 1)) ;;
		esac
	done <<< "$out"
	if [ $rc -ne 0 ] || [ $n -eq 0 ]; then
		echo "$out" | grep -v '^ok ' | sed 's/^/    /'
		[ $n -eq 0 ] && fail "unit.$name" "ran no test (exit $rc)"
	fi
done

# kuifd over its real socket, built with ASan/UBSan/LeakSanitizer.
if [ -x build/asan/kuifd ]; then
	while read -r verdict name rest; do
		case "$verdict" in
		PASS) pass "host.$name" ;;
		FAIL) fail "host.$name" "$rest" ;;
		esac
	done < <(python3 tests/host/test_kuifd.py build/asan/kuifd build/kuifd 2>build/host-tests.log)
	[ -s build/host-tests.log ] && sed 's/^/    /' build/host-tests.log | tail -n 40
	# kuifctl, libkuif and its examples against the same kuifd.
	while read -r verdict name rest; do
		case "$verdict" in
		PASS) pass "host.clients.$name" ;;
		FAIL) fail "host.clients.$name" "$rest" ;;
		esac
	done < <(python3 tests/host/test_clients.py build/asan/kuifd build 2>build/client-tests.log)
	[ -s build/client-tests.log ] && sed 's/^/    /' build/client-tests.log | tail -n 40
else
	fail host.built "build/asan/kuifd is missing (make check builds it)"
fi

# Every event name in kmod/ and daemon/ is in docs/events.md and
# kuif-events(7).
while read -r verdict name rest; do
	case "$verdict" in
	PASS) pass "host.events_doc.$name" ;;
	FAIL) fail "host.events_doc.$name" "$rest" ;;
	esac
done < <(python3 tests/host/test_events_doc.py . 2>/dev/null)

# Each libFuzzer target briefly, from its seed corpus, so none can rot.
for t in build/fuzz/fuzz_*; do
	[ -x "$t" ] || { fail fuzz.built "no fuzz targets in build/fuzz"; break; }
	n=$(basename "$t"); n=${n#fuzz_}
	d=$(mktemp -d)
	cp tests/fuzz/corpus/"$n"/* "$d"/ 2>/dev/null
	if out=$("$t" -runs=20000 -print_final_stats=1 "$d" 2>&1); then
		pass "fuzz.$n ($(echo "$out" | sed -n 's/stat::number_of_executed_units: *//p') runs)"
	else
		fail "fuzz.$n" "$(echo "$out" | grep -E 'ERROR|SUMMARY|runtime error' | head -2 | tr '\n' ' ')"
		echo "$out" | tail -n 30 | sed 's/^/    /'
	fi
	rm -rf "$d"
done

# The benchmark harness with a tiny N, so that it cannot rot.
if out=$(python3 bench/host_callgrind.py build/kuifd 20 1 2 2>&1) &&
	echo "$out" | grep -q '^| 2 |'; then
	pass bench.smoke
else
	fail bench.smoke "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi
# The VM benchmark's renderer on a small real result (the VM suite's bench
# smoke of 6.1): table, rounds, the relay, where the time went and plots.
d=$(mktemp -d)
if out=$(python3 bench/render.py bench/testdata "$d" 2>&1) &&
	grep -q '^| peak RSS' "$d/results.md" &&
	grep -q 'figures are those of its median run of 2' "$d/results.md" &&
	grep -q '^p99 of each latency round on its own' "$d/results.md" &&
	grep -q '^| ring via a bare relay | [0-9]' "$d/results.md" &&
	grep -q '^The bare relay (bench-relay' "$d/results.md" &&
	grep -q '^| ring via kuifd | [0-9,]* | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* | [0-9.]* | [0-9]*% |$' "$d/results.md" &&
	[ -s "$d/throughput.png" ] && [ -s "$d/latency.png" ] && [ -s "$d/fanout.png" ]; then
	pass bench.render
else
	fail bench.render "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi
rm -rf "$d"

# Man pages render without a warning.
for m in docs/man/*.[1-8]; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null)
	if [ -n "$w" ]; then
		fail "man.$(basename "$m")" "$(echo "$w" | head -1)"
	elif [ -z "$(MANWIDTH=80 man -l "$m" 2>/dev/null | head -3)" ]; then
		fail "man.$(basename "$m")" "renders empty"
	else
		pass "man.$(basename "$m")"
	fi
done

if [ $unit_only -eq 0 ]; then
	# sparse on the module, for every kernel built.
	if command -v sparse >/dev/null; then
		make -s sparse >/dev/null 2>&1
		for log in build/sparse-*.log; do
			[ -e "$log" ] || { fail sparse.ran "no sparse log"; break; }
			k=${log#build/sparse-}; k=${k%.log}
			if grep -qE 'warning|error' "$log"; then
				fail "sparse.$k" "$(grep -E 'warning|error' "$log" | head -1)"
			else
				pass "sparse.$k"
			fi
		done
	else
		fail sparse.installed "sparse is missing (make deps installs it)"
	fi

	# checkpatch.pl --strict, from Debian's kernel sources, finds nothing in
	# kmod/ beyond the exceptions tests/checkpatch.allow justifies.
	cp=build/checkpatch/scripts/checkpatch.pl
	if [ ! -f "$cp" ] && [ -f /usr/src/linux-source-6.12.tar.xz ]; then
		mkdir -p build/checkpatch
		tar -xJf /usr/src/linux-source-6.12.tar.xz -C build/checkpatch \
			--strip-components=1 --wildcards '*/scripts/checkpatch.pl' \
			'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	fi
	if [ ! -f "$cp" ]; then
		fail checkpatch.kmod "no checkpatch.pl (make deps installs linux-source-6.12)"
	else
		extra=$(perl "$cp" --no-tree --strict --terse --show-types -f \
			kmod/*.c kmod/*.h kmod/include/uapi/*.h 2>&1 | grep -v '^total:' |
			while IFS= read -r line; do
				f=${line%%:*}
				t=$(echo "$line" | sed -n 's/^[^:]*:[0-9]*: [A-Z]*:\([A-Z_]*\):.*/\1/p')
				grep -q "^$f $t " tests/checkpatch.allow || echo "$line"
			done)
		if [ -z "$extra" ]; then
			pass checkpatch.kmod
		else
			fail checkpatch.kmod "$(echo "$extra" | head -3 | tr '\n' ' ')"
		fi
	fi

	# The system call patches apply to the Debian sources of their kernels.
	for v in 6.1 6.12; do
		src=/usr/src/linux-source-$v.tar.xz
		if [ ! -f "$src" ]; then
			fail "syscall.patch.$v" "$src missing (make deps installs linux-source-$v)"
			continue
		fi
		d=$(mktemp -d)
		files=$(sed -n 's|^+++ b/||p' "kmod/syscall/kuif_hello-$v.patch" | cut -f1 | grep -v kuif_hello.c)
		# shellcheck disable=SC2086
		tar -xJf "$src" -C "$d" --strip-components=1 \
			$(for f in $files; do echo "linux-source-$v/$f"; done)
		if out=$(cd "$d" && patch -p1 --dry-run < "$top/kmod/syscall/kuif_hello-$v.patch" 2>&1) &&
			! echo "$out" | grep -qi "fuzz\|offset\|failed"; then
			pass "syscall.patch.$v"
		else
			fail "syscall.patch.$v" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
		fi
		rm -rf "$d"
	done

	# DKMS builds the module from kmod/ for every kernel, in scratch trees.
	ver=$(sed -n 's/.*KUIF_VERSION_STRING[^"]*"\(.*\)"/\1/p' kmod/include/uapi/kuif.h)
	if ! grep -q "^PACKAGE_VERSION=\"$ver\"" kmod/dkms.conf; then
		fail dkms.version "kmod/dkms.conf PACKAGE_VERSION is not $ver"
	elif ! command -v dkms >/dev/null; then
		fail dkms.installed "dkms is missing (make deps installs it)"
	else
		d=$(mktemp -d)
		mkdir -p "$d/src" "$d/tree"
		cp -r kmod "$d/src/kuif-$ver"
		for b in /lib/modules/*/build; do
			k=$(basename "$(dirname "$b")")
			if dkms build --dkmstree "$d/tree" --sourcetree "$d/src" \
				-m kuif -v "$ver" -k "$k" >"$d/$k.log" 2>&1 &&
				ls "$d/tree/kuif/$ver/$k"/*/module/kuif.ko* >/dev/null 2>&1; then
				pass "dkms.build.$k"
			else
				fail "dkms.build.$k" "$(tail -n 3 "$d/$k.log" | tr '\n' ' ')"
			fi
		done
		rm -rf "$d"
	fi

	out=$(./tests/vm/run "${vm_args[@]}" | tee /dev/stderr)
	while read -r verdict name rest; do
		case "$verdict" in
		PASS) passed=$((passed + 1)) ;;
		FAIL) failed=$((failed + 1)) ;;
		esac
	done <<< "$out"
fi

# The debug lane is make check-debug (README: when to run it); say whether
# it ran, so that its absence is never silent.
if d=$(./scripts/debug-kernel.sh dir 2>/dev/null); then
	echo "debug lane: not run (make check-debug; kernel cached in $d)"
else
	echo "debug lane: not run (make check-debug; kernel not cached: its first run builds it, about an hour)"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
