// SPDX-License-Identifier: GPL-2.0
/*
 * The event core: every event gets the next global sequence number and is
 * handed to each enabled channel while the event lock is held, so that
 * every channel sees events in kseq order. The last KUIF_HISTORY_LEN
 * events are kept for /proc/kuif/events. The sources any local user can
 * drive are rate-limited here too.
 */
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include "kuif.h"

static DEFINE_SPINLOCK(kuif_event_lock);
static u64 kuif_kseq;		/* last sequence number handed out */
static u32 kuif_channels = KUIF_CH_ALL;	/* written under the lock */

/* History: a ring of the newest events, event kseq at kseq % LEN. */
static struct kuif_event kuif_history[KUIF_HISTORY_LEN];

static atomic64_t kuif_sent[KUIF_CHAN_COUNT];
static atomic64_t kuif_dropped[KUIF_CHAN_COUNT];

const char *const kuif_channel_names[KUIF_CHAN_COUNT] = {
	[KUIF_CHAN_NETLINK]	= "netlink",
	[KUIF_CHAN_RING]	= "ring",
	[KUIF_CHAN_SIGNAL]	= "signal",
	[KUIF_CHAN_UPCALL]	= "upcall",
};

/*
 * ASCII only: the kernel's islower() is Latin-1 and takes bytes such as
 * 0xff, which user space (kuifd, JSON) must not be handed as a name.
 */
static bool kuif_name_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Names are short dotted identifiers: "chardev.write", "netdev.up". */
bool kuif_event_name_valid(const char *name)
{
	size_t i, n = strnlen(name, KUIF_EVENT_NAME_MAX);

	if (n == 0 || n == KUIF_EVENT_NAME_MAX || !kuif_name_lower(name[0]))
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!kuif_name_lower(c) && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

void kuif_channel_count(enum kuif_channel ch, int rc)
{
	if (rc > 0)
		atomic64_inc(&kuif_sent[ch]);
	else if (rc < 0)
		atomic64_inc(&kuif_dropped[ch]);
}

/* Called with kuif_event_lock held. */
static void kuif_publish(u32 channels, const struct kuif_event *ev)
{
	if (channels & KUIF_CH_NETLINK)
		kuif_channel_count(KUIF_CHAN_NETLINK, kuif_genl_publish(ev));
	if (channels & KUIF_CH_RING)
		kuif_channel_count(KUIF_CHAN_RING, kuif_ring_publish(ev));
	if (channels & KUIF_CH_SIGNAL)
		kuif_channel_count(KUIF_CHAN_SIGNAL, kuif_signal_publish(ev));
	if (channels & KUIF_CH_UPCALL)
		kuif_channel_count(KUIF_CHAN_UPCALL, kuif_upcall_publish(ev));
}

/*
 * Emits an event on the given channels (those of them that are enabled).
 * @kseq, if not NULL, receives the sequence number given to the event.
 */
int kuif_emit_on(u32 channels, const char *name, const void *payload,
		 size_t len, u64 *kseq)
{
	struct kuif_event *ev;

	if (!kuif_event_name_valid(name))
		return -EINVAL;
	if (len > KUIF_PAYLOAD_MAX)
		return -EMSGSIZE;

	spin_lock_bh(&kuif_event_lock);
	ev = &kuif_history[(kuif_kseq + 1) % KUIF_HISTORY_LEN];
	memset(ev, 0, sizeof(*ev));
	strscpy(ev->name, name, sizeof(ev->name));
	if (len)
		memcpy(ev->payload, payload, len);
	ev->len = len;
	ev->kseq = ++kuif_kseq;
	ev->time_ns = ktime_get_real_ns();
	kuif_publish(channels & kuif_channels, ev);
	if (kseq)
		*kseq = ev->kseq;
	/* Under the lock: kuif_event_sync() orders it against sysfs exit. */
	kuif_sysfs_event_notify();
	spin_unlock_bh(&kuif_event_lock);
	return 0;
}

int kuif_emit(const char *name, const void *payload, size_t len, u64 *kseq)
{
	return kuif_emit_on(KUIF_CH_ALL, name, payload, len, kseq);
}

/* After this returns, no publish hook that started before it is running. */
void kuif_event_sync(void)
{
	spin_lock_bh(&kuif_event_lock);
	spin_unlock_bh(&kuif_event_lock);
}

u64 kuif_event_count(void)
{
	u64 n;

	spin_lock_bh(&kuif_event_lock);
	n = kuif_kseq;
	spin_unlock_bh(&kuif_event_lock);
	return n;
}

void kuif_stats_get(struct kuif_stats *st)
{
	int i;

	st->events = kuif_event_count();
	for (i = 0; i < KUIF_CHAN_COUNT; i++) {
		st->sent[i] = atomic64_read(&kuif_sent[i]);
		st->dropped[i] = atomic64_read(&kuif_dropped[i]);
	}
}

u32 kuif_channels_get(void)
{
	return READ_ONCE(kuif_channels);
}

int kuif_channels_set(u32 mask)
{
	if (mask & ~KUIF_CH_ALL)
		return -EINVAL;
	spin_lock_bh(&kuif_event_lock);
	WRITE_ONCE(kuif_channels, mask);
	spin_unlock_bh(&kuif_event_lock);
	return 0;
}

void kuif_history_lock(void)
	__acquires(kuif_history)
{
	spin_lock_bh(&kuif_event_lock);
}

void kuif_history_unlock(void)
	__releases(kuif_history)
{
	spin_unlock_bh(&kuif_event_lock);
}

/* The kseq of the oldest retained event, 0 when there is none yet. */
u64 kuif_history_oldest(void)
{
	lockdep_assert_held(&kuif_event_lock);
	if (kuif_kseq > KUIF_HISTORY_LEN)
		return kuif_kseq - KUIF_HISTORY_LEN + 1;
	return kuif_kseq ? 1 : 0;
}

/* The event numbered kseq, NULL if it is not (or no longer) retained. */
const struct kuif_event *kuif_history_get(u64 kseq)
{
	u64 oldest = kuif_history_oldest();

	if (!oldest || kseq < oldest || kseq > kuif_kseq)
		return NULL;
	return &kuif_history[kseq % KUIF_HISTORY_LEN];
}

/*
 * Rate limits of the sources any local user can drive: a window of one
 * second, KUIF_LIMIT_RATE events in it, the rest counted as dropped.
 */
struct kuif_limit {
	unsigned long window;	/* jiffies when the window began */
	unsigned int used;	/* events allowed in it */
	atomic64_t dropped;
};

static DEFINE_SPINLOCK(kuif_limit_lock);
static struct kuif_limit kuif_limits[KUIF_LIMITED_COUNT];

const char *const kuif_limited_names[KUIF_LIMITED_COUNT] = {
	[KUIF_LIMITED_ECHO]	= "echo",
	[KUIF_LIMITED_UDP]	= "udp",
};

/* True if src may emit one more event now. */
bool kuif_limit_allow(enum kuif_limited src)
{
	struct kuif_limit *l = &kuif_limits[src];
	unsigned long now = jiffies;
	bool ok;

	spin_lock_bh(&kuif_limit_lock);
	/* Both ways: jiffies starts 5 minutes before wrapping. */
	if (!time_in_range(now, l->window, l->window + HZ - 1)) {
		l->window = now;
		l->used = 0;
	}
	ok = l->used < KUIF_LIMIT_RATE;
	if (ok)
		l->used++;
	spin_unlock_bh(&kuif_limit_lock);
	if (!ok)
		atomic64_inc(&l->dropped);
	return ok;
}

u64 kuif_limit_dropped(enum kuif_limited src)
{
	return atomic64_read(&kuif_limits[src].dropped);
}
