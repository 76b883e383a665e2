#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of `make check-debug`: Linux 6.12 from Debian's
# linux-source-6.12, with lockdep, KFENCE, UBSAN, kmemleak and debug objects
# (tests/vm/debug.config, over allnoconfig) and the kuif_hello system call
# (kmod/syscall/kuif_hello-6.12.patch), built once and cached outside the
# tree, keyed by the source package's version and the hashes of the config
# fragment, and the patch.
#
#   debug-kernel.sh key      print the cache key
#   debug-kernel.sh dir      print the cached kernel's directory; exit 1 if
#                            it is not built
#   debug-kernel.sh build    build it unless cached (an hour or more on two
#                            cores), then print its directory
#   debug-kernel.sh check [tests/vm/run options]
#                            build it unless cached, then run the VM suite
#                            in it (make check-debug); ends with
#                            "N passed, N failed"
#
# A cached kernel's directory holds:
#   bzImage      the image the VM boots
#   release      its `uname -r`
#   src/         the configured and built source tree: make -C src M=...
#   modroot/     modules_install's root (lib/modules/RELEASE/...): the few
#                modules the suite loads besides kuif.ko (dummy)
#   build-seconds, build.log
#
# KUIF_DEBUG_CACHE overrides /var/cache/kuif/debug-kernel; KUIF_DEBUG_JOBS
# the make -j (2); KUIF_DEBUG_NICE the build's niceness (19: the machine is
# shared).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${KUIF_DEBUG_CACHE:-/var/cache/kuif/debug-kernel}
jobs=${KUIF_DEBUG_JOBS:-2}
nice=${KUIF_DEBUG_NICE:-19}
tarball=/usr/src/linux-source-6.12.tar.xz
fragment=$top/tests/vm/debug.config
patchfile=$top/kmod/syscall/kuif_hello-6.12.patch
# What else decides the kernel: change it when the recipe in build() changes.
recipe="allnoconfig + fragment v2"

die() { echo "debug-kernel: $*" >&2; exit 1; }

key() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
		die "linux-source-6.12 is not installed (make deps)"
	{ echo "$v $recipe"; cat "$fragment" "$patchfile"; } | sha256sum | cut -c1-16
}

built() { [ -f "$1/done" ] && [ -f "$1/bzImage" ] && [ -f "$1/release" ]; }

# Every option the fragment sets must be in the final .config as written:
# an option that Kconfig dropped (a missing dependency) would otherwise
# leave the lane without the check it claims to make.
verify_config() {
	local cfg=$1 line name bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) name=${line%%=*}
			grep -qxF "$line" "$cfg" || {
				echo "debug-kernel: $line wanted, got: $(grep -E "^(# )?$name[= ]" "$cfg" || echo unset)" >&2
				bad=1; } ;;
		"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}
			! grep -qE "^$name=" "$cfg" || {
				echo "debug-kernel: $name wanted off, got: $(grep -E "^$name=" "$cfg")" >&2
				bad=1; } ;;
		esac
	done < "$fragment"
	return $bad
}

build() {
	local d=$1 src=$1/src start
	[ -r "$tarball" ] || die "$tarball missing (make deps installs linux-source-6.12)"
	for t in flex bison bc gcc make; do
		command -v "$t" >/dev/null || die "$t missing (make deps)"
	done
	[ -e /usr/include/libelf.h ] || die "libelf-dev missing (make deps)"
	rm -rf "$d"
	mkdir -p "$src"
	start=$(date +%s)
	echo "debug-kernel: building in $d (log: $d/build.log)" >&2
	{
		tar xf "$tarball" -C "$src" --strip-components=1 &&
		(cd "$src" && patch -p1 < "$patchfile") &&
		(cd "$src" && ./scripts/kconfig/merge_config.sh -n "$fragment")
	} > "$d/build.log" 2>&1 || { tail -n 20 "$d/build.log" >&2; die "configuring failed"; }
	verify_config "$src/.config" || die "the config fragment did not take (see above)"
	nice -n "$nice" make -C "$src" -j"$jobs" bzImage modules >> "$d/build.log" 2>&1 ||
		{ tail -n 30 "$d/build.log" >&2; die "the kernel build failed"; }
	make -C "$src" -s modules_install INSTALL_MOD_PATH="$d/modroot" \
		>> "$d/build.log" 2>&1 || die "modules_install failed"
	cp "$src/arch/x86/boot/bzImage" "$d/bzImage"
	make -C "$src" -s kernelrelease > "$d/release"
	echo $(( $(date +%s) - start )) > "$d/build-seconds"
	touch "$d/done"
	echo "debug-kernel: built $(cat "$d/release") in $(cat "$d/build-seconds")s" >&2
}

cmd=${1:-}
case "$cmd" in
key) key ;;
dir)
	d=$cache/$(key)
	built "$d" || exit 1
	echo "$d" ;;
build)
	d=$cache/$(key)
	mkdir -p "$cache"
	exec 9> "$cache/lock"
	flock 9
	built "$d" || build "$d"
	echo "$d" ;;
check)
	shift
	if ! d=$("$0" build); then
		echo "FAIL debug.kernel_built: see the messages above"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "debug-kernel: $(cat "$d/release") from $d (built in $(cat "$d/build-seconds")s)"
	# kuif.ko anew: every key's kernel has the same release name.
	rm -rf "$top/build/kmod/$(cat "$d/release")"
	# It prints the VM's time ("VM exited ... after Ns") and the verdict.
	exec "$top/tests/vm/run" --debug-kernel "$d" "$@" ;;
*) echo "usage: $0 key|dir|build|check [run options]" >&2; exit 2 ;;
esac
