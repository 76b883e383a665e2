/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kuif.ko internal interfaces: the event core and each mechanism's
 * init/exit pair, called in order by main.c.
 */
#ifndef _KUIF_H
#define _KUIF_H

#include <linux/types.h>
#include <linux/version.h>
#include "include/uapi/kuif.h"

#define KUIF_NAME "kuif"

struct kuif_event {
	u64 kseq;
	u64 time_ns;
	char name[KUIF_EVENT_NAME_MAX];
	u16 len;
	u8 payload[KUIF_PAYLOAD_MAX];
};

/* event.c: the one place where events are numbered and published. */
int kuif_emit(const char *name, const void *payload, size_t len, u64 *kseq);
bool kuif_event_name_valid(const char *name);
u64 kuif_event_count(void);

/* genl.c */
int kuif_genl_init(void);
void kuif_genl_exit(void);
int kuif_genl_publish(const struct kuif_event *ev);

/* chardev.c */
int kuif_chardev_init(void);
void kuif_chardev_exit(void);

#endif /* _KUIF_H */
