/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels kuif.ko is built for (6.1 and 6.12), in
 * one place. Each block names the release that changed the interface.
 *
 * checkpatch warns about every LINUX_VERSION_CODE test (and about the
 * non-const bus_type 6.1 needs): this header is where they are meant to
 * be, so that the rest of kmod/ has none.
 */
#ifndef _KUIF_COMPAT_H
#define _KUIF_COMPAT_H

#include <linux/version.h>

/* 6.3 made the bus_type of bus attribute callbacks const. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define KUIF_BUS_TYPE const struct bus_type
#else
#define KUIF_BUS_TYPE struct bus_type
#endif

/* 6.11 made the ctl_table handed to sysctl handlers const. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define KUIF_CTL_TABLE const struct ctl_table
#else
#define KUIF_CTL_TABLE struct ctl_table
#endif

/*
 * 6.6 sized sysctl tables by ARRAY_SIZE (register_sysctl_sz); before, a
 * table ends with an empty entry.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define KUIF_CTL_TABLE_END
#else
#define KUIF_CTL_TABLE_END	{ }
#endif

/* 6.3 made vm_flags read-only outside the vm_flags_*() helpers. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define kuif_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define kuif_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

#endif /* _KUIF_COMPAT_H */
