#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install, idempotently, every Debian package kuif needs to build and test.
# Works as root on a machine that reaches only Debian's archive.
set -eu

PKGS="build-essential pkg-config git
libnl-3-dev libnl-genl-3-dev libevent-dev libsystemd-dev libjansson-dev
libcmocka-dev libinih-dev
linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
qemu-system-x86 busybox-static kmod cpio xz-utils udev
sparse python3 valgrind dkms clang libclang-rt-14-dev zsh bash-completion
linux-source-6.1 linux-source-6.12 iproute2 gnuplot-nox
flex bison bc libelf-dev python3-jsonschema systemd-journal-remote
dbus polkitd"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Third-party sources may be unreachable; Debian's own lists are what matter.
$SUDO apt-get update -q || echo "deps: apt-get update reported errors; continuing with the lists it fetched"
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
