// SPDX-License-Identifier: GPL-2.0
/*
 * kuif: every classic kernel<->user interface in one module, with kernel
 * activity turned into sequenced events.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include "kuif.h"

static int __init kuif_init(void)
{
	int err;

	err = kuif_genl_init();
	if (err) {
		pr_err("generic netlink family: %d\n", err);
		return err;
	}
	err = kuif_ring_init();
	if (err) {
		pr_err("ring: %d\n", err);
		goto err_genl;
	}
	err = kuif_chardev_init();
	if (err) {
		pr_err("/dev/%s: %d\n", KUIF_NAME, err);
		goto err_ring;
	}

	pr_info("version %s loaded\n", KUIF_VERSION_STRING);
	return 0;

err_ring:
	kuif_ring_exit();
err_genl:
	kuif_genl_exit();
	return err;
}

static void __exit kuif_exit(void)
{
	kuif_chardev_exit();
	kuif_ring_exit();
	kuif_genl_exit();
	pr_info("unloaded after %llu events\n", kuif_event_count());
}

module_init(kuif_init);
module_exit(kuif_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kuif developers");
MODULE_DESCRIPTION("Kernel to user space interfaces, with an event stream");
MODULE_VERSION(KUIF_VERSION_STRING);
