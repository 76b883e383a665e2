// SPDX-License-Identifier: GPL-2.0
/*
 * sysctl: /proc/sys/kuif/value1 and value2, integers in 10..20. Values out
 * of range, or not numbers, are refused with EINVAL and change nothing; a
 * change emits "sysctl.value1" or "sysctl.value2".
 */
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/sysctl.h>
#include "kuif.h"

/*
 * Serialises writers, so that the old value each one compares with is the
 * one its write replaced: two writers emit one event each, in the order
 * of their changes, and a write that changes nothing emits none.
 */
static DEFINE_MUTEX(kuif_sysctl_lock);
static int kuif_value1 = 15;
static int kuif_value2 = 15;
static int kuif_value_min = 10;
static int kuif_value_max = 20;

static int kuif_sysctl_value(KUIF_CTL_TABLE *table, int write, void *buffer,
			     size_t *lenp, loff_t *ppos)
{
	char name[KUIF_EVENT_NAME_MAX], val[16];
	int err, old, now;

	if (!write)
		return proc_dointvec_minmax(table, write, buffer, lenp, ppos);

	mutex_lock(&kuif_sysctl_lock);
	old = READ_ONCE(*(int *)table->data);
	err = proc_dointvec_minmax(table, write, buffer, lenp, ppos);
	now = READ_ONCE(*(int *)table->data);
	if (!err && now != old) {
		snprintf(name, sizeof(name), "sysctl.%s", table->procname);
		snprintf(val, sizeof(val), "%d", now);
		kuif_emit(name, val, strlen(val), NULL);
	}
	mutex_unlock(&kuif_sysctl_lock);
	return err;
}

static struct ctl_table kuif_sysctl_table[] = {
	{
		.procname	= "value1",
		.data		= &kuif_value1,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= kuif_sysctl_value,
		.extra1		= &kuif_value_min,
		.extra2		= &kuif_value_max,
	},
	{
		.procname	= "value2",
		.data		= &kuif_value2,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= kuif_sysctl_value,
		.extra1		= &kuif_value_min,
		.extra2		= &kuif_value_max,
	},
	KUIF_CTL_TABLE_END
};

static struct ctl_table_header *kuif_sysctl_header;

int __init kuif_sysctl_init(void)
{
	kuif_sysctl_header = register_sysctl("kuif", kuif_sysctl_table);
	return kuif_sysctl_header ? 0 : -ENOMEM;
}

void kuif_sysctl_exit(void)
{
	unregister_sysctl_table(kuif_sysctl_header);
}
