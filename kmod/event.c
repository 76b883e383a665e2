// SPDX-License-Identifier: GPL-2.0
/*
 * The event core: every event gets the next global sequence number and is
 * handed to each channel while the sequence lock is held, so that every
 * channel sees events in kseq order.
 */
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/ctype.h>
#include "kuif.h"

static DEFINE_SPINLOCK(kuif_event_lock);
static u64 kuif_kseq;		/* last sequence number handed out */

/* Names are short dotted identifiers: "chardev.write", "netdev.up". */
bool kuif_event_name_valid(const char *name)
{
	size_t i, n = strnlen(name, KUIF_EVENT_NAME_MAX);

	if (n == 0 || n == KUIF_EVENT_NAME_MAX || !islower(name[0]))
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!islower(c) && !isdigit(c) && c != '.' && c != '_' &&
		    c != '-')
			return false;
	}
	return true;
}

/*
 * Callable from process and softirq context. @kseq, if not NULL, receives
 * the sequence number given to the event.
 */
int kuif_emit(const char *name, const void *payload, size_t len, u64 *kseq)
{
	struct kuif_event ev;

	if (!kuif_event_name_valid(name))
		return -EINVAL;
	if (len > KUIF_PAYLOAD_MAX)
		return -EMSGSIZE;

	memset(&ev, 0, sizeof(ev));
	strscpy(ev.name, name, sizeof(ev.name));
	if (len)
		memcpy(ev.payload, payload, len);
	ev.len = len;

	spin_lock_bh(&kuif_event_lock);
	ev.kseq = ++kuif_kseq;
	ev.time_ns = ktime_get_real_ns();
	kuif_genl_publish(&ev);
	spin_unlock_bh(&kuif_event_lock);

	if (kseq)
		*kseq = ev.kseq;
	return 0;
}

u64 kuif_event_count(void)
{
	u64 n;

	spin_lock_bh(&kuif_event_lock);
	n = kuif_kseq;
	spin_unlock_bh(&kuif_event_lock);
	return n;
}
