// SPDX-License-Identifier: GPL-2.0
/*
 * Real kernel activity as events.
 *
 * Network devices of the initial network namespace: "netdev.register",
 * "netdev.up", "netdev.down", "netdev.unregister", payload the interface
 * name. register_netdevice_notifier() replays REGISTER and UP for the
 * devices that already exist, and unregister_netdevice_notifier() replays
 * DOWN and UNREGISTER for them; those replays describe no activity (lo
 * did not just appear when kuif loaded), so they are not emitted.
 *
 * Modules: "module.load" when one is coming (MODULE_STATE_COMING, before
 * its init runs) and "module.unload" when one is going (after its exit
 * ran, or after its init failed), payload the module name. kuif's own
 * load and unload are not seen: the notifier is registered after kuif is
 * coming and unregistered before it is going.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <net/net_namespace.h>
#include "kuif.h"

/* The task (un)registering the netdevice notifier: its calls are replays. */
static struct task_struct *kuif_netdev_replayer;

static const char *kuif_netdev_event_name(unsigned long action)
{
	switch (action) {
	case NETDEV_REGISTER:
		return "netdev.register";
	case NETDEV_UP:
		return "netdev.up";
	case NETDEV_DOWN:
		return "netdev.down";
	case NETDEV_UNREGISTER:
		return "netdev.unregister";
	default:
		return NULL;
	}
}

static int kuif_netdev_event(struct notifier_block *nb, unsigned long action,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	const char *name = kuif_netdev_event_name(action);

	if (!name || READ_ONCE(kuif_netdev_replayer) == current)
		return NOTIFY_DONE;
	if (!net_eq(dev_net(dev), &init_net))
		return NOTIFY_DONE;
	kuif_emit(name, dev->name, strnlen(dev->name, IFNAMSIZ), NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_netdev_nb = {
	.notifier_call	= kuif_netdev_event,
};

static int kuif_module_event(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct module *mod = data;
	const char *name;

	if (mod == THIS_MODULE)
		return NOTIFY_DONE;
	if (action == MODULE_STATE_COMING)
		name = "module.load";
	else if (action == MODULE_STATE_GOING)
		name = "module.unload";
	else
		return NOTIFY_DONE;
	kuif_emit(name, mod->name, strnlen(mod->name, MODULE_NAME_LEN), NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_module_nb = {
	.notifier_call	= kuif_module_event,
};

static int kuif_netdev_register(void)
{
	int err;

	WRITE_ONCE(kuif_netdev_replayer, current);
	err = register_netdevice_notifier(&kuif_netdev_nb);
	WRITE_ONCE(kuif_netdev_replayer, NULL);
	return err;
}

static void kuif_netdev_unregister(void)
{
	WRITE_ONCE(kuif_netdev_replayer, current);
	unregister_netdevice_notifier(&kuif_netdev_nb);
	WRITE_ONCE(kuif_netdev_replayer, NULL);
}

int __init kuif_notifiers_init(void)
{
	int err;

	err = kuif_netdev_register();
	if (err) {
		pr_err("netdevice notifier: %d\n", err);
		return err;
	}
	err = register_module_notifier(&kuif_module_nb);
	if (err) {
		pr_err("module notifier: %d\n", err);
		kuif_netdev_unregister();
	}
	return err;
}

void kuif_notifiers_exit(void)
{
	unregister_module_notifier(&kuif_module_nb);
	kuif_netdev_unregister();
}
