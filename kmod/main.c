// SPDX-License-Identifier: GPL-2.0
/*
 * kuif: every classic kernel<->user interface in one module, with kernel
 * activity turned into sequenced events.
 *
 * Each mechanism has an init/exit pair. They run in the order of
 * kuif_parts, and exit (or a failed load's unwind) in reverse:
 *
 * - first the channels events leave by, which user space cannot reach
 *   until an entry point exists, so nothing emits into a channel that is
 *   gone;
 * - then the parts that can fail for reasons outside kuif (the UDP port
 *   taken by any local user), before any file user space could open;
 * - then the files whose removal waits for the calls in them (procfs,
 *   sysfs, debugfs, sysctl) and configfs, whose generators can only be
 *   created once the load succeeded (kuif_loaded());
 * - generic netlink, whose handlers use every part above: unregistered
 *   first, so that none of them runs against a part that is gone;
 * - /dev/kuif last: an open file points into this module's memory, which
 *   a failed load frees whatever the module's reference count, so nothing
 *   may fail once it exists.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include "kuif.h"

static const struct {
	const char *name;
	int (*init)(void);
	void (*exit)(void);
} kuif_parts[] = {
	{ "ring",		kuif_ring_init,		kuif_ring_exit },
	{ "signals",		NULL,			kuif_signal_exit },
	{ "upcalls",		kuif_upcall_init,	kuif_upcall_exit },
	{ "udp",		kuif_udp_init,		kuif_udp_exit },
	{ "notifiers",		kuif_notifiers_init,	kuif_notifiers_exit },
	{ "procfs",		kuif_procfs_init,	kuif_procfs_exit },
	{ "sysfs",		kuif_sysfs_init,	kuif_sysfs_exit },
	{ "debugfs",		kuif_debugfs_init,	kuif_debugfs_exit },
	{ "sysctl",		kuif_sysctl_init,	kuif_sysctl_exit },
	{ "configfs",		kuif_configfs_init,	kuif_configfs_exit },
	{ "generic netlink",	kuif_genl_init,		kuif_genl_exit },
	{ "/dev/kuif",		kuif_chardev_init,	kuif_chardev_exit },
};

static bool kuif_up;

bool kuif_loaded(void)
{
	return READ_ONCE(kuif_up);
}

static void kuif_unwind(int n)
{
	while (n-- > 0)
		kuif_parts[n].exit();
}

static int __init kuif_init(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(kuif_parts); i++) {
		err = kuif_parts[i].init ? kuif_parts[i].init() : 0;
		if (err) {
			pr_err("%s: %d\n", kuif_parts[i].name, err);
			kuif_unwind(i);
			return err;
		}
	}
	WRITE_ONCE(kuif_up, true);
	pr_info("version %s loaded\n", KUIF_VERSION_STRING);
	return 0;
}

static void __exit kuif_exit(void)
{
	WRITE_ONCE(kuif_up, false);
	kuif_unwind(ARRAY_SIZE(kuif_parts));
	pr_info("unloaded after %llu events\n", kuif_event_count());
}

module_init(kuif_init);
module_exit(kuif_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kuif developers");
MODULE_DESCRIPTION("Kernel to user space interfaces, with an event stream");
MODULE_VERSION(KUIF_VERSION_STRING);
