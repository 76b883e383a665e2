// SPDX-License-Identifier: GPL-2.0
/*
 * Real kernel activity as events: network devices appearing, going up or
 * down, and leaving (netdevice notifier), and modules loading and
 * unloading (module notifier). The payload is the device or module name.
 *
 * Registering the netdevice notifier replays REGISTER and UP for the
 * devices that exist already; those are emitted too, so a subscriber that
 * starts with the module learns the current devices.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include "kuif.h"

/* Unregistering replays DOWN and UNREGISTER for every device: not news. */
static bool kuif_netdev_leaving;

static int kuif_netdev_event(struct notifier_block *nb, unsigned long what,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	const char *name;

	if (READ_ONCE(kuif_netdev_leaving))
		return NOTIFY_DONE;
	switch (what) {
	case NETDEV_REGISTER:
		name = "netdev.register";
		break;
	case NETDEV_UP:
		name = "netdev.up";
		break;
	case NETDEV_DOWN:
		name = "netdev.down";
		break;
	case NETDEV_UNREGISTER:
		name = "netdev.unregister";
		break;
	default:
		return NOTIFY_DONE;
	}
	kuif_emit(name, dev->name, strnlen(dev->name, IFNAMSIZ), NULL);
	return NOTIFY_DONE;
}

static int kuif_module_event(struct notifier_block *nb, unsigned long what,
			     void *data)
{
	struct module *mod = data;
	const char *name;

	switch (what) {
	case MODULE_STATE_COMING:
		name = "module.load";
		break;
	case MODULE_STATE_GOING:
		name = "module.unload";
		break;
	default:
		return NOTIFY_DONE;
	}
	kuif_emit(name, mod->name, strnlen(mod->name, MODULE_NAME_LEN), NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_netdev_nb = {
	.notifier_call = kuif_netdev_event,
};

static struct notifier_block kuif_module_nb = {
	.notifier_call = kuif_module_event,
};

int __init kuif_notifiers_init(void)
{
	int err;

	err = register_module_notifier(&kuif_module_nb);
	if (err)
		return err;
	err = register_netdevice_notifier(&kuif_netdev_nb);
	if (err)
		unregister_module_notifier(&kuif_module_nb);
	return err;
}

void kuif_notifiers_exit(void)
{
	WRITE_ONCE(kuif_netdev_leaving, true);
	unregister_netdevice_notifier(&kuif_netdev_nb);
	unregister_module_notifier(&kuif_module_nb);
}
