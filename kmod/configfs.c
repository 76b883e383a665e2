// SPDX-License-Identifier: GPL-2.0
/*
 * configfs: /sys/kernel/config/kuif/generators/NAME is an event generator.
 *
 * mkdir creates one (event "configfs.mkdir", payload NAME) and rmdir
 * removes it ("configfs.rmdir"). NAME must make "generator.NAME" a valid
 * event name: at most 21 characters of [a-z0-9._-] (else EINVAL). At most
 * KUIF_GEN_MAX generators exist at a time (mkdir beyond: ENOSPC).
 *
 * Attributes:
 *   interval_ms  rw  10..60000, default 1000 (else EINVAL)
 *   event        rw  event name emitted, default "generator.tick" (EINVAL)
 *   payload      rw  text of at most KUIF_PAYLOAD_MAX bytes after one
 *                    trailing newline is stripped (longer: EMSGSIZE);
 *                    mode 0600, as every other way to a payload is root's
 *   enable       rw  0 or 1 (else EINVAL); 1 emits the event every
 *                    interval_ms until 0 is written or the directory goes
 *   count        ro  events emitted by this generator
 * A refused write leaves the attribute unchanged.
 *
 * Generators can be made once the module is loaded (before: EAGAIN), so
 * that a load that fails after configfs never finds one pinning it.
 *
 * The ticks run from delayed work on system_wq. enable=0, rmdir and the
 * final release all cancel it synchronously; configfs pins the module
 * while a generator directory exists, so rmmod fails until they are gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/configfs.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include "kuif.h"

#define KUIF_GEN_MAX		64
#define KUIF_GEN_INTERVAL_MIN	10
#define KUIF_GEN_INTERVAL_MAX	60000
#define KUIF_GEN_INTERVAL_DEF	1000
#define KUIF_GEN_EVENT_DEF	"generator.tick"
#define KUIF_GEN_PREFIX		"generator."

struct kuif_gen {
	struct config_item item;
	struct mutex enable_lock;	/* serialises enable and disable */
	struct mutex lock;		/* the fields below */
	struct delayed_work work;
	unsigned int interval_ms;
	bool enabled;
	bool dead;			/* removed by rmdir */
	u16 payload_len;
	u64 count;
	char event[KUIF_EVENT_NAME_MAX];
	u8 payload[KUIF_PAYLOAD_MAX];
};

/* Generators allocated and not yet released. */
static atomic_t kuif_gen_nr = ATOMIC_INIT(0);

static inline struct kuif_gen *to_gen(struct config_item *item)
{
	return container_of(item, struct kuif_gen, item);
}

static void kuif_gen_emit_dir(const char *event, struct config_item *item)
{
	const char *name = config_item_name(item);

	kuif_emit(event, name, strlen(name), NULL);
}

/* One tick: emit the event and schedule the next one. */
static void kuif_gen_tick(struct work_struct *work)
{
	struct kuif_gen *g = container_of(to_delayed_work(work),
					  struct kuif_gen, work);

	mutex_lock(&g->lock);
	if (g->enabled) {
		if (!kuif_emit(g->event, g->payload, g->payload_len, NULL))
			g->count++;
		queue_delayed_work(system_wq, &g->work,
				   msecs_to_jiffies(g->interval_ms));
	}
	mutex_unlock(&g->lock);
}

/*
 * Stops the ticks; none is running or pending when this returns. With
 * @dead, the generator can never be enabled again.
 */
static void kuif_gen_stop(struct kuif_gen *g, bool dead)
{
	mutex_lock(&g->enable_lock);
	mutex_lock(&g->lock);
	g->enabled = false;
	if (dead)
		g->dead = true;
	mutex_unlock(&g->lock);
	cancel_delayed_work_sync(&g->work);
	mutex_unlock(&g->enable_lock);
}

static int kuif_gen_start(struct kuif_gen *g)
{
	int err = 0;

	mutex_lock(&g->enable_lock);
	mutex_lock(&g->lock);
	/* configfs itself refuses writes after rmdir (ENOENT): a 2nd guard. */
	if (g->dead) {
		err = -ENODEV;
	} else if (!g->enabled) {
		g->enabled = true;
		queue_delayed_work(system_wq, &g->work,
				   msecs_to_jiffies(g->interval_ms));
	}
	mutex_unlock(&g->lock);
	mutex_unlock(&g->enable_lock);
	return err;
}

/* The length of a written value without its trailing newline. */
static size_t kuif_gen_line(const char *page, size_t count)
{
	if (count && page[count - 1] == '\n')
		count--;
	return count;
}

static ssize_t kuif_gen_interval_ms_show(struct config_item *item, char *page)
{
	struct kuif_gen *g = to_gen(item);
	unsigned int v;

	mutex_lock(&g->lock);
	v = g->interval_ms;
	mutex_unlock(&g->lock);
	return sysfs_emit(page, "%u\n", v);
}

static ssize_t kuif_gen_interval_ms_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct kuif_gen *g = to_gen(item);
	unsigned int v;
	int err;

	err = kstrtouint(page, 10, &v);
	if (err)
		return -EINVAL;
	if (v < KUIF_GEN_INTERVAL_MIN || v > KUIF_GEN_INTERVAL_MAX)
		return -EINVAL;

	mutex_lock(&g->lock);
	g->interval_ms = v;
	/* A running generator takes the new interval from now on. */
	if (g->enabled)
		mod_delayed_work(system_wq, &g->work, msecs_to_jiffies(v));
	mutex_unlock(&g->lock);
	return count;
}

static ssize_t kuif_gen_event_show(struct config_item *item, char *page)
{
	struct kuif_gen *g = to_gen(item);
	ssize_t n;

	mutex_lock(&g->lock);
	n = sysfs_emit(page, "%s\n", g->event);
	mutex_unlock(&g->lock);
	return n;
}

static ssize_t kuif_gen_event_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct kuif_gen *g = to_gen(item);
	char name[KUIF_EVENT_NAME_MAX];
	size_t len = kuif_gen_line(page, count);

	if (len >= sizeof(name))
		return -EINVAL;
	memcpy(name, page, len);
	name[len] = '\0';
	if (!kuif_event_name_valid(name))
		return -EINVAL;

	mutex_lock(&g->lock);
	strscpy(g->event, name, sizeof(g->event));
	mutex_unlock(&g->lock);
	return count;
}

static ssize_t kuif_gen_payload_show(struct config_item *item, char *page)
{
	struct kuif_gen *g = to_gen(item);
	size_t len;

	/* configfs gives a zeroed page: KUIF_PAYLOAD_MAX + 1 bytes fit. */
	mutex_lock(&g->lock);
	len = g->payload_len;
	memcpy(page, g->payload, len);
	mutex_unlock(&g->lock);
	page[len] = '\n';
	return len + 1;
}

static ssize_t kuif_gen_payload_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct kuif_gen *g = to_gen(item);
	size_t len = kuif_gen_line(page, count);

	if (len > KUIF_PAYLOAD_MAX)
		return -EMSGSIZE;

	mutex_lock(&g->lock);
	memcpy(g->payload, page, len);
	g->payload_len = len;
	mutex_unlock(&g->lock);
	return count;
}

static ssize_t kuif_gen_enable_show(struct config_item *item, char *page)
{
	struct kuif_gen *g = to_gen(item);
	bool on;

	mutex_lock(&g->lock);
	on = g->enabled;
	mutex_unlock(&g->lock);
	return sysfs_emit(page, "%d\n", on);
}

static ssize_t kuif_gen_enable_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct kuif_gen *g = to_gen(item);
	unsigned int v;
	int err;

	if (kstrtouint(page, 10, &v) || v > 1)
		return -EINVAL;
	if (v) {
		err = kuif_gen_start(g);
		if (err)
			return err;
	} else {
		kuif_gen_stop(g, false);
	}
	return count;
}

static ssize_t kuif_gen_count_show(struct config_item *item, char *page)
{
	struct kuif_gen *g = to_gen(item);
	u64 n;

	mutex_lock(&g->lock);
	n = g->count;
	mutex_unlock(&g->lock);
	return sysfs_emit(page, "%llu\n", n);
}

CONFIGFS_ATTR(kuif_gen_, interval_ms);
CONFIGFS_ATTR(kuif_gen_, event);
/* CONFIGFS_ATTR() with mode 0600: a payload is not everyone's to read. */
static struct configfs_attribute kuif_gen_attr_payload = {
	.ca_name	= "payload",
	.ca_owner	= THIS_MODULE,
	.ca_mode	= 0600,
	.show		= kuif_gen_payload_show,
	.store		= kuif_gen_payload_store,
};

CONFIGFS_ATTR(kuif_gen_, enable);
CONFIGFS_ATTR_RO(kuif_gen_, count);

static struct configfs_attribute *kuif_gen_attrs[] = {
	&kuif_gen_attr_interval_ms,
	&kuif_gen_attr_event,
	&kuif_gen_attr_payload,
	&kuif_gen_attr_enable,
	&kuif_gen_attr_count,
	NULL,
};

/* The last reference is gone: nothing can reach the generator any more. */
static void kuif_gen_release(struct config_item *item)
{
	struct kuif_gen *g = to_gen(item);

	cancel_delayed_work_sync(&g->work);
	mutex_destroy(&g->lock);
	mutex_destroy(&g->enable_lock);
	kfree(g);
	atomic_dec(&kuif_gen_nr);
}

static struct configfs_item_operations kuif_gen_item_ops = {
	.release	= kuif_gen_release,
};

static const struct config_item_type kuif_gen_type = {
	.ct_item_ops	= &kuif_gen_item_ops,
	.ct_attrs	= kuif_gen_attrs,
	.ct_owner	= THIS_MODULE,
};

/* "generator.NAME" must be a valid event name. */
static bool kuif_gen_name_valid(const char *name)
{
	char ev[KUIF_EVENT_NAME_MAX];
	int n;

	n = snprintf(ev, sizeof(ev), KUIF_GEN_PREFIX "%s", name);
	if (n < 0 || n >= (int)sizeof(ev))
		return false;
	return kuif_event_name_valid(ev);
}

static struct config_item *kuif_gens_make_item(struct config_group *group,
					       const char *name)
{
	struct kuif_gen *g;

	if (!kuif_gen_name_valid(name))
		return ERR_PTR(-EINVAL);
	if (!kuif_loaded())
		return ERR_PTR(-EAGAIN);
	if (atomic_inc_return(&kuif_gen_nr) > KUIF_GEN_MAX) {
		atomic_dec(&kuif_gen_nr);
		return ERR_PTR(-ENOSPC);
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		atomic_dec(&kuif_gen_nr);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&g->enable_lock);
	mutex_init(&g->lock);
	INIT_DELAYED_WORK(&g->work, kuif_gen_tick);
	g->interval_ms = KUIF_GEN_INTERVAL_DEF;
	strscpy(g->event, KUIF_GEN_EVENT_DEF, sizeof(g->event));
	config_item_init_type_name(&g->item, name, &kuif_gen_type);

	kuif_gen_emit_dir("configfs.mkdir", &g->item);
	return &g->item;
}

static void kuif_gens_drop_item(struct config_group *group,
				struct config_item *item)
{
	kuif_gen_stop(to_gen(item), true);
	kuif_gen_emit_dir("configfs.rmdir", item);
	config_item_put(item);
}

static struct configfs_group_operations kuif_gens_group_ops = {
	.make_item	= kuif_gens_make_item,
	.drop_item	= kuif_gens_drop_item,
};

static const struct config_item_type kuif_gens_type = {
	.ct_group_ops	= &kuif_gens_group_ops,
	.ct_owner	= THIS_MODULE,
};

static const struct config_item_type kuif_root_type = {
	.ct_owner	= THIS_MODULE,
};

static struct config_group kuif_gens_group;

static struct configfs_subsystem kuif_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= KUIF_NAME,
			.ci_type	= &kuif_root_type,
		},
	},
};

int __init kuif_configfs_init(void)
{
	int err;

	config_group_init(&kuif_subsys.su_group);
	mutex_init(&kuif_subsys.su_mutex);
	config_group_init_type_name(&kuif_gens_group, "generators",
				    &kuif_gens_type);
	configfs_add_default_group(&kuif_gens_group, &kuif_subsys.su_group);

	err = configfs_register_subsystem(&kuif_subsys);
	if (err) {
		pr_err("configfs subsystem: %d\n", err);
		mutex_destroy(&kuif_subsys.su_mutex);
	}
	return err;
}

void kuif_configfs_exit(void)
{
	/* No generator is left: each one pinned the module. */
	configfs_unregister_subsystem(&kuif_subsys);
	mutex_destroy(&kuif_subsys.su_mutex);
}
