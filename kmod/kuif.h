/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kuif.ko internal interfaces: the event core and each mechanism's
 * init/exit pair, called in order by main.c.
 */
#ifndef _KUIF_H
#define _KUIF_H

#include <linux/types.h>
#include "include/uapi/kuif.h"
#include "compat.h"

#define KUIF_NAME "kuif"

struct file;
struct poll_table_struct;
struct seq_file;
struct vm_area_struct;

/* main.c: true once every part is up; false during a load and unload. */
bool kuif_loaded(void);

struct kuif_event {
	u64 kseq;
	u64 time_ns;
	char name[KUIF_EVENT_NAME_MAX];
	u16 len;
	u8 payload[KUIF_PAYLOAD_MAX];
};

/*
 * event.c: the one place where events are numbered and published.
 *
 * kuif_emit() may be called from process or softirq context. Each channel's
 * publish hook runs with the event lock held and BH disabled, in kseq
 * order; it returns 1 when it delivered the event, 0 when it had nobody to
 * deliver to, or a negative errno when the event was dropped. A mechanism
 * that stops delivering clears its state and then calls kuif_event_sync(),
 * after which no publish hook of it is running.
 */
int kuif_emit(const char *name, const void *payload, size_t len, u64 *kseq);
int kuif_emit_on(u32 channels, const char *name, const void *payload,
		 size_t len, u64 *kseq);
bool kuif_event_name_valid(const char *name);
void kuif_event_sync(void);

/* Channels and their counters. */
enum kuif_channel {
	KUIF_CHAN_NETLINK,
	KUIF_CHAN_RING,
	KUIF_CHAN_SIGNAL,
	KUIF_CHAN_UPCALL,
	KUIF_CHAN_COUNT,
};

struct kuif_stats {
	u64 events;
	u64 sent[KUIF_CHAN_COUNT];
	u64 dropped[KUIF_CHAN_COUNT];
};

extern const char *const kuif_channel_names[KUIF_CHAN_COUNT];
void kuif_stats_get(struct kuif_stats *st);
/* rc as from a publish hook: 1 sent, 0 nothing, < 0 dropped. */
void kuif_channel_count(enum kuif_channel ch, int rc);
u64 kuif_event_count(void);
u32 kuif_channels_get(void);
int kuif_channels_set(u32 mask);

/*
 * The most recent events, for /proc/kuif/events. Between lock and unlock
 * (BH disabled, no sleeping) kuif_history_oldest() is the kseq of the
 * oldest retained event (0: none yet) and kuif_history_get(kseq) returns
 * the event with that kseq, or NULL if it is not retained.
 */
#define KUIF_HISTORY_LEN 128
void kuif_history_lock(void) __acquires(kuif_history);
void kuif_history_unlock(void) __releases(kuif_history);
u64 kuif_history_oldest(void);
const struct kuif_event *kuif_history_get(u64 kseq);

/*
 * Sources any local user can drive (a generic netlink ECHO without
 * CAP_NET_ADMIN, a datagram to the UDP port) emit at most
 * KUIF_LIMIT_RATE events a second each; beyond, the event is not emitted
 * and is counted, so that a flood from one of them cannot fill the
 * channels and make a listener lose the events of the others.
 */
enum kuif_limited {
	KUIF_LIMITED_ECHO,
	KUIF_LIMITED_UDP,
	KUIF_LIMITED_COUNT,
};

#define KUIF_LIMIT_RATE 100
extern const char *const kuif_limited_names[KUIF_LIMITED_COUNT];
bool kuif_limit_allow(enum kuif_limited src);
u64 kuif_limit_dropped(enum kuif_limited src);

/* genl.c */
int kuif_genl_init(void);
void kuif_genl_exit(void);
int kuif_genl_publish(const struct kuif_event *ev);

/* ring.c */
int kuif_ring_init(void);
void kuif_ring_exit(void);
int kuif_ring_publish(const struct kuif_event *ev);
void kuif_ring_poll_wait(struct file *file, struct poll_table_struct *pt);
bool kuif_ring_readable(void);
void kuif_ring_info(struct kuif_ring_info *info);
int kuif_ring_mmap(struct file *file, struct vm_area_struct *vma);

/* procfs.c */
int kuif_procfs_init(void);
void kuif_procfs_exit(void);
int kuif_status_show(struct seq_file *m, void *v);

/* sysfs.c */
int kuif_sysfs_init(void);
void kuif_sysfs_exit(void);
void kuif_sysfs_event_notify(void);

/* debugfs.c */
int kuif_debugfs_init(void);
void kuif_debugfs_exit(void);

/* sysctl.c */
int kuif_sysctl_init(void);
void kuif_sysctl_exit(void);

/* signal.c */
int kuif_signal_register(pid_t nr);
pid_t kuif_signal_registered(void);
int kuif_signal_send(u32 value);
int kuif_signal_publish(const struct kuif_event *ev);
void kuif_signal_exit(void);

/* upcall.c */
int kuif_upcall_init(void);
void kuif_upcall_exit(void);
int kuif_upcall_publish(const struct kuif_event *ev);

/* configfs.c */
int kuif_configfs_init(void);
void kuif_configfs_exit(void);

/* udp.c */
int kuif_udp_init(void);
void kuif_udp_exit(void);

/* notifiers.c */
int kuif_notifiers_init(void);
void kuif_notifiers_exit(void);

/* chardev.c */
int kuif_chardev_init(void);
void kuif_chardev_exit(void);

#endif /* _KUIF_H */
