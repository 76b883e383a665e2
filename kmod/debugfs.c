// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/kuif/
 *
 * level          u8, the one-line debugfs API
 * trigger        a written line (at most KUIF_PAYLOAD_MAX bytes, newline
 *                stripped) becomes a "debugfs.trigger" event; read gives it
 * stats          the counters, as a seq_file
 * signalconfpid  write a pid: it becomes the signal receiver and gets one
 *                signal with value 1234, as in the tutorial; 0 unregisters
 *
 * debugfs failures are not errors for the module: it works without them.
 */
#include <linux/kernel.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "kuif.h"

#define KUIF_SIGNAL_HELLO 1234

static struct dentry *kuif_debug_dir;
static u8 kuif_level;
static DEFINE_MUTEX(kuif_trigger_lock);
static char kuif_trigger_buf[KUIF_PAYLOAD_MAX];
static size_t kuif_trigger_len;

static ssize_t kuif_trigger_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char buf[KUIF_PAYLOAD_MAX + 1];
	size_t len = count;

	if (count > KUIF_PAYLOAD_MAX + 1)
		return -EMSGSIZE;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	if (len && buf[len - 1] == '\n')
		len--;
	if (len > KUIF_PAYLOAD_MAX)
		return -EMSGSIZE;
	mutex_lock(&kuif_trigger_lock);
	memcpy(kuif_trigger_buf, buf, len);
	kuif_trigger_len = len;
	mutex_unlock(&kuif_trigger_lock);
	kuif_emit("debugfs.trigger", buf, len, NULL);
	return count;
}

static ssize_t kuif_trigger_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[KUIF_PAYLOAD_MAX + 1];
	size_t len;

	mutex_lock(&kuif_trigger_lock);
	len = kuif_trigger_len;
	memcpy(buf, kuif_trigger_buf, len);
	mutex_unlock(&kuif_trigger_lock);
	buf[len++] = '\n';
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations kuif_trigger_fops = {
	.owner	= THIS_MODULE,
	.read	= kuif_trigger_read,
	.write	= kuif_trigger_write,
	.llseek	= default_llseek,
};

static int kuif_debug_stats_show(struct seq_file *m, void *v)
{
	kuif_status_show(m, v);
	seq_printf(m, "signal_pid: %d\n", kuif_signal_registered());
	seq_printf(m, "level: %u\n", READ_ONCE(kuif_level));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kuif_debug_stats);

static ssize_t kuif_signalconfpid_write(struct file *file,
					const char __user *ubuf, size_t count,
					loff_t *ppos)
{
	int nr, err;

	err = kstrtoint_from_user(ubuf, count, 10, &nr);
	if (err)
		return err;
	err = kuif_signal_register(nr);
	if (err)
		return err;
	if (nr > 0) {
		err = kuif_signal_send(KUIF_SIGNAL_HELLO);
		if (err < 0)
			return err;
	}
	return count;
}

static ssize_t kuif_signalconfpid_read(struct file *file, char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	char buf[16];
	int len;

	len = scnprintf(buf, sizeof(buf), "%d\n", kuif_signal_registered());
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations kuif_signalconfpid_fops = {
	.owner	= THIS_MODULE,
	.read	= kuif_signalconfpid_read,
	.write	= kuif_signalconfpid_write,
	.llseek	= default_llseek,
};

int __init kuif_debugfs_init(void)
{
	kuif_debug_dir = debugfs_create_dir(KUIF_NAME, NULL);
	debugfs_create_u8("level", 0600, kuif_debug_dir, &kuif_level);
	debugfs_create_file("trigger", 0600, kuif_debug_dir, NULL,
			    &kuif_trigger_fops);
	debugfs_create_file("stats", 0400, kuif_debug_dir, NULL,
			    &kuif_debug_stats_fops);
	debugfs_create_file("signalconfpid", 0600, kuif_debug_dir, NULL,
			    &kuif_signalconfpid_fops);
	return 0;
}

void kuif_debugfs_exit(void)
{
	debugfs_remove(kuif_debug_dir);
}
