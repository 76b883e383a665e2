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
 * A state change of a device ("netdev.change", NETDEV_CHANGE: carrier and
 * operational state, after linkwatch has applied them), payload
 * "IFNAME carrier=on|off operstate=STATE" with STATE as in
 * /sys/class/net/IFNAME/operstate.
 *
 * Addresses: "inet.add", "inet.del", "inet6.add", "inet6.del", payload
 * "IFNAME ADDRESS/PREFIXLEN" (an IPv6 address in its RFC 5952 form). The
 * inet6addr chain is atomic: kuif_emit() only takes BH-safe spinlocks.
 *
 * Power: "power.suspend" before the system sleeps and "power.resume" after
 * it woke (or the attempt failed), payload "suspend", "hibernate" or
 * "restore" (the PM notifier's three transitions). The reboot notifier is
 * left out on purpose: it runs after systemd has stopped every process that
 * could hear an event, kuifd included.
 *
 * Modules: "module.load" when one is coming (MODULE_STATE_COMING, before
 * its init runs) and "module.unload" when one is going (after its exit
 * ran, or after its init failed), payload the module name. kuif's own
 * load and unload are not seen: the notifier is registered after kuif is
 * coming and unregistered before it is going.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/inetdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <linux/suspend.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <net/net_namespace.h>
#include "kuif.h"

/* "IFNAME " and an IPv6 address with its prefix length fit, with room. */
#define KUIF_NOTIFY_PAYLOAD	80

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
	case NETDEV_CHANGE:
		return "netdev.change";
	default:
		return NULL;
	}
}

/* RFC 2863 states, as net-sysfs names them (IF_OPER_*). */
static const char *const kuif_operstates[] = {
	"unknown", "notpresent", "down", "lowerlayerdown",
	"testing", "dormant", "up",
};

static void kuif_netdev_change(struct net_device *dev)
{
	unsigned int state = READ_ONCE(dev->operstate);
	char buf[KUIF_NOTIFY_PAYLOAD];
	int len;

	len = scnprintf(buf, sizeof(buf), "%s carrier=%s operstate=%s",
			dev->name, netif_carrier_ok(dev) ? "on" : "off",
			state < ARRAY_SIZE(kuif_operstates) ?
			kuif_operstates[state] : "unknown");
	kuif_emit("netdev.change", buf, len, NULL);
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
	if (action == NETDEV_CHANGE)
		kuif_netdev_change(dev);
	else
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

static int kuif_inetaddr_event(struct notifier_block *nb,
			       unsigned long action, void *ptr)
{
	const struct in_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->ifa_dev->dev;
	char buf[KUIF_NOTIFY_PAYLOAD];
	int len;

	if ((action != NETDEV_UP && action != NETDEV_DOWN) ||
	    !net_eq(dev_net(dev), &init_net))
		return NOTIFY_DONE;
	len = scnprintf(buf, sizeof(buf), "%s %pI4/%u", dev->name,
			&ifa->ifa_local, ifa->ifa_prefixlen);
	kuif_emit(action == NETDEV_UP ? "inet.add" : "inet.del", buf, len,
		  NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_inetaddr_nb = {
	.notifier_call	= kuif_inetaddr_event,
};

#if IS_ENABLED(CONFIG_IPV6)
static int kuif_inet6addr_event(struct notifier_block *nb,
				unsigned long action, void *ptr)
{
	const struct inet6_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->idev->dev;
	char buf[KUIF_NOTIFY_PAYLOAD];
	int len;

	if ((action != NETDEV_UP && action != NETDEV_DOWN) ||
	    !net_eq(dev_net(dev), &init_net))
		return NOTIFY_DONE;
	len = scnprintf(buf, sizeof(buf), "%s %pI6c/%u", dev->name,
			&ifa->addr, ifa->prefix_len);
	kuif_emit(action == NETDEV_UP ? "inet6.add" : "inet6.del", buf, len,
		  NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_inet6addr_nb = {
	.notifier_call	= kuif_inet6addr_event,
};

static int kuif_inet6addr_register(void)
{
	return register_inet6addr_notifier(&kuif_inet6addr_nb);
}

static void kuif_inet6addr_unregister(void)
{
	unregister_inet6addr_notifier(&kuif_inet6addr_nb);
}
#else
static int kuif_inet6addr_register(void)
{
	return 0;
}

static void kuif_inet6addr_unregister(void)
{
}
#endif

static int kuif_pm_event(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	const char *name = "power.suspend", *kind;

	switch (action) {
	case PM_POST_SUSPEND:
		name = "power.resume";
		fallthrough;
	case PM_SUSPEND_PREPARE:
		kind = "suspend";
		break;
	case PM_POST_HIBERNATION:
		name = "power.resume";
		fallthrough;
	case PM_HIBERNATION_PREPARE:
		kind = "hibernate";
		break;
	case PM_POST_RESTORE:
		name = "power.resume";
		fallthrough;
	case PM_RESTORE_PREPARE:
		kind = "restore";
		break;
	default:
		return NOTIFY_DONE;
	}
	kuif_emit(name, kind, strlen(kind), NULL);
	return NOTIFY_DONE;
}

static struct notifier_block kuif_pm_nb = {
	.notifier_call	= kuif_pm_event,
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
	err = register_inetaddr_notifier(&kuif_inetaddr_nb);
	if (err) {
		pr_err("inetaddr notifier: %d\n", err);
		goto out_netdev;
	}
	err = kuif_inet6addr_register();
	if (err) {
		pr_err("inet6addr notifier: %d\n", err);
		goto out_inet;
	}
	err = register_pm_notifier(&kuif_pm_nb);
	if (err) {
		pr_err("pm notifier: %d\n", err);
		goto out_inet6;
	}
	err = register_module_notifier(&kuif_module_nb);
	if (err) {
		pr_err("module notifier: %d\n", err);
		goto out_pm;
	}
	return 0;

out_pm:
	unregister_pm_notifier(&kuif_pm_nb);
out_inet6:
	kuif_inet6addr_unregister();
out_inet:
	unregister_inetaddr_notifier(&kuif_inetaddr_nb);
out_netdev:
	kuif_netdev_unregister();
	return err;
}

void kuif_notifiers_exit(void)
{
	unregister_module_notifier(&kuif_module_nb);
	unregister_pm_notifier(&kuif_pm_nb);
	kuif_inet6addr_unregister();
	unregister_inetaddr_notifier(&kuif_inetaddr_nb);
	kuif_netdev_unregister();
}
