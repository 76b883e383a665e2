// SPDX-License-Identifier: GPL-2.0
/*
 * procfs: /proc/kuif/status, one page of "key: value" lines, and
 * /proc/kuif/events, a seq_file over the most recent events that reads
 * correctly at any buffer size. The events file shows payloads, which come
 * from root-only interfaces: it is root's alone (0400).
 *
 * The position in /proc/kuif/events is a kseq, not an index into the
 * history: while events come and old ones are dropped between two reads,
 * a reader goes on with the event after the last it got, never skipping
 * nor repeating one (unless it fell more than KUIF_HISTORY_LEN events
 * behind: it then goes on with the oldest retained).
 */
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "kuif.h"

static struct proc_dir_entry *kuif_proc_dir;

/* The counters, also shown by debugfs "stats". */
int kuif_status_show(struct seq_file *m, void *v)
{
	struct kuif_stats st;
	int i;

	kuif_stats_get(&st);
	seq_printf(m, "version: %s\n", KUIF_VERSION_STRING);
	seq_printf(m, "events: %llu\n", st.events);
	seq_printf(m, "channels: 0x%x\n", kuif_channels_get());
	for (i = 0; i < KUIF_CHAN_COUNT; i++) {
		seq_printf(m, "%s_sent: %llu\n", kuif_channel_names[i],
			   st.sent[i]);
		seq_printf(m, "%s_dropped: %llu\n", kuif_channel_names[i],
			   st.dropped[i]);
	}
	for (i = 0; i < KUIF_LIMITED_COUNT; i++)
		seq_printf(m, "%s_limited: %llu\n", kuif_limited_names[i],
			   kuif_limit_dropped(i));
	return 0;
}

/*
 * The event lock is held from start to stop: no sleeping in between. *pos
 * is the kseq to show next; 0, or one no longer retained, is the oldest.
 */
static void *kuif_events_start(struct seq_file *m, loff_t *pos)
	__acquires(kuif_history)
{
	u64 oldest;

	kuif_history_lock();
	oldest = kuif_history_oldest();
	if (!oldest)
		return NULL;
	if (*pos < oldest)
		*pos = oldest;
	return (void *)kuif_history_get(*pos);
}

static void *kuif_events_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return (void *)kuif_history_get(*pos);
}

static void kuif_events_stop(struct seq_file *m, void *v)
	__releases(kuif_history)
{
	kuif_history_unlock();
}

/* "kseq time_ns name payload", the payload printable with \xHH escapes. */
static int kuif_events_show(struct seq_file *m, void *v)
{
	const struct kuif_event *ev = v;
	u16 i;

	seq_printf(m, "%llu %llu %s ", ev->kseq, ev->time_ns, ev->name);
	for (i = 0; i < ev->len; i++) {
		u8 c = ev->payload[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			seq_putc(m, c);
		else
			seq_printf(m, "\\x%02x", c);
	}
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations kuif_events_seq_ops = {
	.start	= kuif_events_start,
	.next	= kuif_events_next,
	.stop	= kuif_events_stop,
	.show	= kuif_events_show,
};

int __init kuif_procfs_init(void)
{
	kuif_proc_dir = proc_mkdir(KUIF_NAME, NULL);
	if (!kuif_proc_dir)
		return -ENOMEM;
	if (!proc_create_single("status", 0444, kuif_proc_dir,
				kuif_status_show) ||
	    !proc_create_seq("events", 0400, kuif_proc_dir,
			     &kuif_events_seq_ops)) {
		proc_remove(kuif_proc_dir);
		return -ENOMEM;
	}
	return 0;
}

void kuif_procfs_exit(void)
{
	proc_remove(kuif_proc_dir);
}
