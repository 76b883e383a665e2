#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# Initramfs init for the kuif test VM (@KVER@ and @STAGE@ are filled in by
# tests/vm/run): reach the host's root over 9p, overlay a tmpfs on it, copy
# the staged installation in, and hand over to systemd.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

die() {
	echo "kuif-init: $*" > /dev/console
	poweroff -f
}

for m in $(cat /modules.order); do
	insmod "/lib/modules/$m" || die "insmod $m failed"
done

opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower || die "mount hostroot"
mount -t tmpfs -o size=768m,mode=0755 tmpfs /rw || die "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay \
	-o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	die "mount overlay"

echo "kuif-init: root mounted" > /dev/kmsg
cp -a "/lower@STAGE@/." /newroot/ || die "copy staged installation"
echo "kuif-init: installation copied" > /dev/kmsg
mkdir -p /newroot/kuif-results
mount -t 9p -o "$opts" results /newroot/kuif-results || die "mount results"
# A clean machine-id and no host state that would confuse systemd: the
# host may be a container (systemd would then ignore the kernel command
# line), and its /run belongs to it.
: > /newroot/etc/machine-id
rm -f /newroot/.dockerenv /newroot/run/.containerenv
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || die "mount /run"

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
