// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs: the /sys/kernel/kuif kobject and the /sys/bus/kuif pseudo bus.
 *
 * /sys/kernel/kuif/value        rw int; a store emits "sysfs.value"
 * /sys/kernel/kuif/event_count  ro; sysfs_notify()'d, at most every 100 ms
 * /sys/kernel/kuif/signal_pid   rw; the process that receives signals
 * /sys/kernel/kuif/channels     rw; mask of KUIF_CH_* enabled
 * /sys/bus/kuif/description     rw bus attribute, at most 63 bytes
 *
 * Events are emitted in atomic context, where sysfs_notify() (which may
 * sleep) cannot be called: the notification is deferred to a work item,
 * which also rate-limits it.
 */
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/string.h>
#include "kuif.h"

#define KUIF_NOTIFY_DELAY	(HZ / 10)

static struct kobject *kuif_kobj;
static struct kernfs_node *kuif_count_kn;
static int kuif_value;
static bool kuif_notify_on;

static void kuif_notify_fn(struct work_struct *work)
{
	sysfs_notify_dirent(kuif_count_kn);
}

static DECLARE_DELAYED_WORK(kuif_notify_work, kuif_notify_fn);

/*
 * Called for every event, with the event lock held: once kuif_sysfs_exit()
 * has cleared kuif_notify_on and passed kuif_event_sync(), no emitter can
 * queue the work again, so cancelling it is final.
 */
void kuif_sysfs_event_notify(void)
{
	if (READ_ONCE(kuif_notify_on))
		schedule_delayed_work(&kuif_notify_work, KUIF_NOTIFY_DELAY);
}

static ssize_t value_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(kuif_value));
}

static ssize_t value_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	char payload[16];
	int v, err;

	err = kstrtoint(buf, 0, &v);
	if (err)
		return err;
	WRITE_ONCE(kuif_value, v);
	snprintf(payload, sizeof(payload), "%d", v);
	kuif_emit("sysfs.value", payload, strlen(payload), NULL);
	return count;
}

static ssize_t event_count_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", kuif_event_count());
}

static ssize_t signal_pid_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", kuif_signal_registered());
}

static ssize_t signal_pid_store(struct kobject *kobj,
				struct kobj_attribute *attr, const char *buf,
				size_t count)
{
	int nr, err;

	err = kstrtoint(buf, 10, &nr);
	if (err)
		return err;
	err = kuif_signal_register(nr);
	return err ? err : count;
}

static ssize_t channels_show(struct kobject *kobj,
			     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "0x%x\n", kuif_channels_get());
}

static ssize_t channels_store(struct kobject *kobj,
			      struct kobj_attribute *attr, const char *buf,
			      size_t count)
{
	u32 mask;
	int err;

	err = kstrtou32(buf, 0, &mask);
	if (err)
		return err;
	err = kuif_channels_set(mask);
	return err ? err : count;
}

static struct kobj_attribute kuif_attr_value = __ATTR_RW(value);
static struct kobj_attribute kuif_attr_event_count = __ATTR_RO(event_count);
static struct kobj_attribute kuif_attr_signal_pid = __ATTR_RW(signal_pid);
static struct kobj_attribute kuif_attr_channels = __ATTR_RW(channels);

static struct attribute *kuif_attrs[] = {
	&kuif_attr_value.attr,
	&kuif_attr_event_count.attr,
	&kuif_attr_signal_pid.attr,
	&kuif_attr_channels.attr,
	NULL,
};

static const struct attribute_group kuif_attr_group = {
	.attrs = kuif_attrs,
};

/* The pseudo bus (KUIF_BUS_TYPE: compat.h). */
static DEFINE_MUTEX(kuif_bus_lock);
static char kuif_bus_description[64] = "kuif pseudo bus";

static ssize_t description_show(KUIF_BUS_TYPE *bus, char *buf)
{
	ssize_t n;

	mutex_lock(&kuif_bus_lock);
	n = sysfs_emit(buf, "%s\n", kuif_bus_description);
	mutex_unlock(&kuif_bus_lock);
	return n;
}

static ssize_t description_store(KUIF_BUS_TYPE *bus, const char *buf,
				 size_t count)
{
	size_t len = count;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len >= sizeof(kuif_bus_description))
		return -EINVAL;
	mutex_lock(&kuif_bus_lock);
	memcpy(kuif_bus_description, buf, len);
	kuif_bus_description[len] = '\0';
	mutex_unlock(&kuif_bus_lock);
	kuif_emit("sysfs.bus", buf, len, NULL);
	return count;
}
static BUS_ATTR_RW(description);

/* Not const: 6.1's bus_register() takes a writable bus_type. */
static struct bus_type kuif_bus = {
	.name = KUIF_NAME,
};

int __init kuif_sysfs_init(void)
{
	int err;

	kuif_kobj = kobject_create_and_add(KUIF_NAME, kernel_kobj);
	if (!kuif_kobj)
		return -ENOMEM;
	err = sysfs_create_group(kuif_kobj, &kuif_attr_group);
	if (err)
		goto err_kobj;
	kuif_count_kn = sysfs_get_dirent(kuif_kobj->sd, "event_count");
	if (!kuif_count_kn) {
		err = -ENOENT;
		goto err_kobj;
	}
	err = bus_register(&kuif_bus);
	if (err)
		goto err_dirent;
	err = bus_create_file(&kuif_bus, &bus_attr_description);
	if (err)
		goto err_bus;
	WRITE_ONCE(kuif_notify_on, true);
	return 0;

err_bus:
	bus_unregister(&kuif_bus);
err_dirent:
	sysfs_put(kuif_count_kn);
err_kobj:
	kobject_put(kuif_kobj);
	return err;
}

void kuif_sysfs_exit(void)
{
	WRITE_ONCE(kuif_notify_on, false);
	kuif_event_sync();
	cancel_delayed_work_sync(&kuif_notify_work);
	bus_remove_file(&kuif_bus, &bus_attr_description);
	bus_unregister(&kuif_bus);
	sysfs_put(kuif_count_kn);
	kobject_put(kuif_kobj);
}
