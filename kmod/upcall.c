// SPDX-License-Identifier: GPL-2.0
/*
 * Upcalls: for events whose name matches upcall_events, the kernel runs
 * upcall_helper with call_usermodehelper():
 *
 *   argv: HELPER EVENT KSEQ
 *   envp: HOME=/ PATH=/sbin:/usr/sbin:/bin:/usr/bin KUIF_SEQ=K
 *         KUIF_EVENT=NAME KUIF_TIME_NS=T KUIF_PAYLOAD_HEX=HEX
 *
 * The payload travels hex-encoded: a helper never sees raw bytes. Events
 * are emitted in atomic context, so the publish hook only queues (at most
 * KUIF_UPCALL_QUEUE pending, at most KUIF_UPCALL_RATE a second: beyond,
 * the upcall is dropped and counted); a work item runs the helper with
 * UMH_WAIT_EXEC, so a helper that hangs holds nothing up. An upcall counts
 * as sent once the helper was started, as dropped when it could not be.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/glob.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/umh.h>
#include <linux/workqueue.h>
#include "kuif.h"

#define KUIF_UPCALL_QUEUE	64
#define KUIF_UPCALL_RATE	50	/* per second */
#define KUIF_UPCALL_PATH_MAX	256
#define KUIF_UPCALL_EVENTS_MAX	256

static char upcall_helper[KUIF_UPCALL_PATH_MAX] =
	"/usr/libexec/kuif/kuif-upcall";
#define KUIF_UPCALL_EVENTS_DEF	"netdev.*,module.*,upcall.*"
static char upcall_events[KUIF_UPCALL_EVENTS_MAX] = KUIF_UPCALL_EVENTS_DEF;

/*
 * The publish hook runs in atomic context and cannot take
 * kernel_param_lock (a mutex): it matches against kuif_upcall_globs, the
 * copy of upcall_events that the parameter's set function, called with
 * kernel_param_lock held, updates under kuif_upcall_globs_lock.
 */
static DEFINE_SPINLOCK(kuif_upcall_globs_lock);
static char kuif_upcall_globs[KUIF_UPCALL_EVENTS_MAX] = KUIF_UPCALL_EVENTS_DEF;

static int kuif_upcall_helper_set(const char *val,
				  const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n");

	if (len == 0 || len >= KUIF_UPCALL_PATH_MAX || val[0] != '/' ||
	    memchr(val, ' ', len))
		return -EINVAL;
	memcpy(upcall_helper, val, len);
	upcall_helper[len] = '\0';
	return 0;
}

static int kuif_upcall_events_set(const char *val,
				  const struct kernel_param *kp)
{
	size_t i, len = strcspn(val, "\n");

	if (len >= KUIF_UPCALL_EVENTS_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-*?[],",
			    val[i]))
			return -EINVAL;
	}
	memcpy(upcall_events, val, len);
	upcall_events[len] = '\0';
	spin_lock_bh(&kuif_upcall_globs_lock);
	strscpy(kuif_upcall_globs, upcall_events, sizeof(kuif_upcall_globs));
	spin_unlock_bh(&kuif_upcall_globs_lock);
	return 0;
}

static int kuif_upcall_string_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", (const char *)kp->arg);
}

static const struct kernel_param_ops kuif_upcall_helper_ops = {
	.set = kuif_upcall_helper_set,
	.get = kuif_upcall_string_get,
};

static const struct kernel_param_ops kuif_upcall_events_ops = {
	.set = kuif_upcall_events_set,
	.get = kuif_upcall_string_get,
};

module_param_cb(upcall_helper, &kuif_upcall_helper_ops, upcall_helper, 0644);
MODULE_PARM_DESC(upcall_helper, "absolute path of the program upcalls run");
module_param_cb(upcall_events, &kuif_upcall_events_ops, upcall_events, 0644);
MODULE_PARM_DESC(upcall_events, "comma-separated globs of events that upcall");

struct kuif_upcall {
	u64 kseq;
	u64 time_ns;
	char name[KUIF_EVENT_NAME_MAX];
	u16 len;
	u8 payload[KUIF_PAYLOAD_MAX];
};

static DEFINE_SPINLOCK(kuif_upcall_lock);
static struct kuif_upcall kuif_upcall_queue[KUIF_UPCALL_QUEUE];
static unsigned int kuif_upcall_head, kuif_upcall_count;
static unsigned long kuif_upcall_window;	/* jiffies of this second */
static unsigned int kuif_upcall_in_window;
static bool kuif_upcall_on;

static void kuif_upcall_work_fn(struct work_struct *work);
static DECLARE_WORK(kuif_upcall_work, kuif_upcall_work_fn);

/* Called with kuif_upcall_globs_lock held. */
static bool kuif_upcall_matches(const char *name)
{
	char pattern[KUIF_UPCALL_EVENTS_MAX];
	const char *p = kuif_upcall_globs;
	size_t n;

	lockdep_assert_held(&kuif_upcall_globs_lock);
	while (*p) {
		n = strcspn(p, ",");
		if (n > 0 && n < sizeof(pattern)) {
			memcpy(pattern, p, n);
			pattern[n] = '\0';
			if (glob_match(pattern, name))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/*
 * Publish hook (event lock held, BH disabled): see kuif.h. Counted later,
 * when the helper runs; 0 here unless dropped.
 */
int kuif_upcall_publish(const struct kuif_event *ev)
{
	struct kuif_upcall *u;
	bool match;
	int ret = 0;

	if (!READ_ONCE(kuif_upcall_on))
		return 0;
	spin_lock(&kuif_upcall_globs_lock);
	match = kuif_upcall_matches(ev->name);
	spin_unlock(&kuif_upcall_globs_lock);
	if (!match)
		return 0;
	spin_lock(&kuif_upcall_lock);
	if (time_after(jiffies, kuif_upcall_window + HZ)) {
		kuif_upcall_window = jiffies;
		kuif_upcall_in_window = 0;
	}
	if (kuif_upcall_in_window >= KUIF_UPCALL_RATE ||
	    kuif_upcall_count == KUIF_UPCALL_QUEUE) {
		ret = -ENOSPC;
		goto out;
	}
	kuif_upcall_in_window++;
	u = &kuif_upcall_queue[(kuif_upcall_head + kuif_upcall_count) %
			       KUIF_UPCALL_QUEUE];
	u->kseq = ev->kseq;
	u->time_ns = ev->time_ns;
	memcpy(u->name, ev->name, sizeof(u->name));
	u->len = ev->len;
	memcpy(u->payload, ev->payload, ev->len);
	kuif_upcall_count++;
	schedule_work(&kuif_upcall_work);
out:
	spin_unlock(&kuif_upcall_lock);
	return ret;
}

static bool kuif_upcall_take(struct kuif_upcall *u)
{
	bool got = false;

	spin_lock_bh(&kuif_upcall_lock);
	if (kuif_upcall_count) {
		*u = kuif_upcall_queue[kuif_upcall_head];
		kuif_upcall_head = (kuif_upcall_head + 1) % KUIF_UPCALL_QUEUE;
		kuif_upcall_count--;
		got = true;
	}
	spin_unlock_bh(&kuif_upcall_lock);
	return got;
}

static int kuif_upcall_run(const struct kuif_upcall *u)
{
	char helper[KUIF_UPCALL_PATH_MAX], kseq[24];
	char env_seq[32], env_event[16 + KUIF_EVENT_NAME_MAX], env_time[40];
	char env_payload[24 + 2 * KUIF_PAYLOAD_MAX];
	/* argv, envp: not static const, call_usermodehelper() takes char **. */
	char *argv[] = { helper, (char *)u->name, kseq, NULL };
	char *envp[] = { "HOME=/", "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
			 env_seq, env_event, env_time, env_payload, NULL };
	int n;

	kernel_param_lock(THIS_MODULE);
	strscpy(helper, upcall_helper, sizeof(helper));
	kernel_param_unlock(THIS_MODULE);
	snprintf(kseq, sizeof(kseq), "%llu", u->kseq);
	snprintf(env_seq, sizeof(env_seq), "KUIF_SEQ=%llu", u->kseq);
	snprintf(env_event, sizeof(env_event), "KUIF_EVENT=%s", u->name);
	snprintf(env_time, sizeof(env_time), "KUIF_TIME_NS=%llu", u->time_ns);
	n = snprintf(env_payload, sizeof(env_payload), "KUIF_PAYLOAD_HEX=");
	bin2hex(env_payload + n, u->payload, u->len);
	env_payload[n + 2 * u->len] = '\0';

	return call_usermodehelper(helper, argv, envp, UMH_WAIT_EXEC);
}

static void kuif_upcall_work_fn(struct work_struct *work)
{
	struct kuif_upcall *u;
	int err;

	u = kmalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return;
	while (kuif_upcall_take(u)) {
		err = kuif_upcall_run(u);
		if (err)
			pr_warn_ratelimited("upcall for kseq %llu: %d\n",
					    u->kseq, err);
		kuif_channel_count(KUIF_CHAN_UPCALL, err ? err : 1);
		cond_resched();
	}
	kfree(u);
}

int __init kuif_upcall_init(void)
{
	WRITE_ONCE(kuif_upcall_on, true);
	return 0;
}

void kuif_upcall_exit(void)
{
	WRITE_ONCE(kuif_upcall_on, false);
	kuif_event_sync();
	cancel_work_sync(&kuif_upcall_work);
}
