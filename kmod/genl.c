// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "kuif": request/reply commands and the "events"
 * multicast group on which every kernel event is published.
 *
 * Event payloads come from root-only interfaces (/dev/kuif, debugfs,
 * configfs, EMIT), so joining "events" needs CAP_NET_ADMIN. ECHO is open
 * to everyone: the events of callers without CAP_NET_ADMIN are
 * rate-limited (kuif_limit_allow()). The family is new, so every command
 * is strictly validated (resv_start_op 0), and its handlers run in
 * parallel (parallel_ops): they share no state but what event.c, signal.c
 * and the counters lock themselves, and a BENCH must not hold genl_mutex,
 * which every other family without parallel_ops needs. GET_STATS still
 * waits for a BENCH in progress (kuif_genl_bench_lock), as it did behind
 * genl_mutex: kuifd asks for the last kseq after an overrun, and the end
 * of a burst is what no later event would reveal.
 *
 * The family is registered after, and unregistered before, every part its
 * handlers use; unregistering waits for the handlers that are running.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <net/genetlink.h>
#include "kuif.h"

enum kuif_genl_mcgrp {
	KUIF_MCGRP_EVENTS,
};

static const struct genl_multicast_group kuif_genl_mcgrps[] = {
	[KUIF_MCGRP_EVENTS] = {
		.name	= KUIF_GENL_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

/* Registered: events may be multicast (the group's id is valid). */
static bool kuif_genl_live;

/* Held by BENCH for its whole run; GET_STATS answers between runs. */
static DEFINE_MUTEX(kuif_genl_bench_lock);

/* A u32 range too wide for NLA_POLICY_RANGE; not const: 6.1 wants it so. */
static struct netlink_range_validation kuif_bench_count_range = {
	.min = 1,
	.max = KUIF_BENCH_MAX,
};

static const struct nla_policy kuif_genl_policy[KUIF_A_MAX + 1] = {
	[KUIF_A_MSG]	 = { .type = NLA_NUL_STRING, .len = KUIF_MSG_MAX - 1 },
	[KUIF_A_KSEQ]	 = { .type = NLA_U64 },
	[KUIF_A_TIME]	 = { .type = NLA_U64 },
	[KUIF_A_EVENT]	 = { .type = NLA_NUL_STRING,
			     .len = KUIF_EVENT_NAME_MAX - 1 },
	[KUIF_A_PAYLOAD] = { .type = NLA_BINARY, .len = KUIF_PAYLOAD_MAX },
	[KUIF_A_PID]	 = { .type = NLA_U32 },
	[KUIF_A_COUNT]	 = NLA_POLICY_FULL_RANGE(NLA_U32,
						 &kuif_bench_count_range),
	[KUIF_A_SIZE]	 = NLA_POLICY_MAX(NLA_U32, KUIF_PAYLOAD_MAX),
	[KUIF_A_CHANNELS] = NLA_POLICY_RANGE(NLA_U32, 1, KUIF_CH_ALL),
};

static struct genl_family kuif_genl_family;

static int kuif_genl_echo(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	const char *msg;
	void *hdr;
	int err;

	if (!info->attrs[KUIF_A_MSG]) {
		NL_SET_ERR_MSG(info->extack, "ECHO needs KUIF_A_MSG");
		return -EINVAL;
	}
	msg = nla_data(info->attrs[KUIF_A_MSG]);

	reply = genlmsg_new(nla_total_size(strlen(msg) + 1), GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &kuif_genl_family, 0,
				KUIF_CMD_ECHO);
	if (!hdr)
		goto err_free;
	if (nla_put_string(reply, KUIF_A_MSG, msg))
		goto err_cancel;
	genlmsg_end(reply, hdr);

	err = genlmsg_reply(reply, info);
	if (!err && (netlink_capable(skb, CAP_NET_ADMIN) ||
		     kuif_limit_allow(KUIF_LIMITED_ECHO)))
		kuif_emit("netlink.echo", msg, strlen(msg), NULL);
	return err;

err_cancel:
	genlmsg_cancel(reply, hdr);
err_free:
	nlmsg_free(reply);
	return -EMSGSIZE;
}

/* Sends reply, allocated by the caller, with KUIF_A_KSEQ; consumes it. */
static int kuif_genl_reply_kseq(struct sk_buff *reply, struct genl_info *info,
				u8 cmd, u64 kseq)
{
	void *hdr;

	hdr = genlmsg_put_reply(reply, info, &kuif_genl_family, 0, cmd);
	if (!hdr || nla_put_u64_64bit(reply, KUIF_A_KSEQ, kseq, KUIF_A_PAD)) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

static int kuif_genl_emit(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *pl = info->attrs[KUIF_A_PAYLOAD];
	struct sk_buff *reply;
	const char *name;
	u64 kseq;
	int err;

	if (!info->attrs[KUIF_A_EVENT]) {
		NL_SET_ERR_MSG(info->extack, "EMIT needs KUIF_A_EVENT");
		return -EINVAL;
	}
	name = nla_data(info->attrs[KUIF_A_EVENT]);
	if (!kuif_event_name_valid(name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KUIF_A_EVENT],
				    "event name must match [a-z][a-z0-9._-]*");
		return -EINVAL;
	}

	reply = genlmsg_new(nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!reply)
		return -ENOMEM;

	err = kuif_emit(name, pl ? nla_data(pl) : NULL, pl ? nla_len(pl) : 0,
			&kseq);
	if (err)
		goto err_free;

	return kuif_genl_reply_kseq(reply, info, KUIF_CMD_EMIT, kseq);

err_free:
	nlmsg_free(reply);
	return err;
}

static int kuif_genl_register_signal(struct sk_buff *skb,
				     struct genl_info *info)
{
	if (!info->attrs[KUIF_A_PID]) {
		NL_SET_ERR_MSG(info->extack, "REGISTER_SIGNAL needs KUIF_A_PID");
		return -EINVAL;
	}
	return kuif_signal_register(nla_get_u32(info->attrs[KUIF_A_PID]));
}

static int kuif_genl_put_stats(struct sk_buff *skb)
{
	struct kuif_stats st;
	struct nlattr *nest;
	int i, err = 0;

	/* Channel i's counters are the i-th pair after NETLINK_SENT. */
	BUILD_BUG_ON(KUIF_STAT_NETLINK_SENT + 2 * KUIF_CHAN_RING !=
		     KUIF_STAT_RING_SENT);
	BUILD_BUG_ON(KUIF_STAT_NETLINK_SENT + 2 * KUIF_CHAN_SIGNAL !=
		     KUIF_STAT_SIGNAL_SENT);
	BUILD_BUG_ON(KUIF_STAT_NETLINK_SENT + 2 * KUIF_CHAN_UPCALL !=
		     KUIF_STAT_UPCALL_SENT);
	BUILD_BUG_ON(KUIF_STAT_NETLINK_SENT + 1 != KUIF_STAT_NETLINK_DROPPED);
	BUILD_BUG_ON(KUIF_STAT_NETLINK_SENT + 2 * KUIF_CHAN_COUNT !=
		     KUIF_STAT_PAD);

	kuif_stats_get(&st);
	nest = nla_nest_start(skb, KUIF_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	err |= nla_put_u64_64bit(skb, KUIF_STAT_EVENTS, st.events,
				 KUIF_STAT_PAD);
	for (i = 0; i < KUIF_CHAN_COUNT; i++) {
		err |= nla_put_u64_64bit(skb, KUIF_STAT_NETLINK_SENT + 2 * i,
					 st.sent[i], KUIF_STAT_PAD);
		err |= nla_put_u64_64bit(skb, KUIF_STAT_NETLINK_DROPPED + 2 * i,
					 st.dropped[i], KUIF_STAT_PAD);
	}
	if (err) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kuif_genl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	void *hdr;
	int err;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &kuif_genl_family, 0,
				KUIF_CMD_GET_STATS);
	if (!hdr) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	if (mutex_lock_killable(&kuif_genl_bench_lock)) {
		nlmsg_free(reply);
		return -EINTR;
	}
	err = kuif_genl_put_stats(reply);
	mutex_unlock(&kuif_genl_bench_lock);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/* COUNT events of SIZE bytes on CHANNELS, as fast as they go. */
static int kuif_genl_bench(struct sk_buff *skb, struct genl_info *info)
{
	u8 payload[KUIF_PAYLOAD_MAX];
	struct sk_buff *reply;
	u32 i, count, size, channels;
	u64 kseq = 0;
	int err;

	if (!info->attrs[KUIF_A_COUNT] || !info->attrs[KUIF_A_SIZE] ||
	    !info->attrs[KUIF_A_CHANNELS]) {
		NL_SET_ERR_MSG(info->extack,
			       "BENCH needs KUIF_A_COUNT, _SIZE and _CHANNELS");
		return -EINVAL;
	}
	count = nla_get_u32(info->attrs[KUIF_A_COUNT]);
	size = nla_get_u32(info->attrs[KUIF_A_SIZE]);
	channels = nla_get_u32(info->attrs[KUIF_A_CHANNELS]);
	memset(payload, 'b', size);

	reply = genlmsg_new(nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	err = mutex_lock_killable(&kuif_genl_bench_lock);
	if (err)
		goto err_free;
	for (i = 0; i < count; i++) {
		err = kuif_emit_on(channels, "bench", payload, size, &kseq);
		if (err)
			break;
		if ((i & 255) == 255)
			cond_resched();
	}
	mutex_unlock(&kuif_genl_bench_lock);
	if (err)
		goto err_free;
	return kuif_genl_reply_kseq(reply, info, KUIF_CMD_BENCH, kseq);

err_free:
	nlmsg_free(reply);
	return err;
}

static const struct genl_small_ops kuif_genl_ops[] = {
	{
		.cmd = KUIF_CMD_ECHO,
		.doit = kuif_genl_echo,
	},
	{
		.cmd = KUIF_CMD_EMIT,
		.doit = kuif_genl_emit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KUIF_CMD_REGISTER_SIGNAL,
		.doit = kuif_genl_register_signal,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KUIF_CMD_GET_STATS,
		.doit = kuif_genl_get_stats,
	},
	{
		.cmd = KUIF_CMD_BENCH,
		.doit = kuif_genl_bench,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family kuif_genl_family __ro_after_init = {
	.name		= KUIF_GENL_NAME,
	.version	= KUIF_GENL_VERSION,
	.maxattr	= KUIF_A_MAX,
	.policy		= kuif_genl_policy,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.small_ops	= kuif_genl_ops,
	.n_small_ops	= ARRAY_SIZE(kuif_genl_ops),
	.resv_start_op	= 0,
	.mcgrps		= kuif_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kuif_genl_mcgrps),
};

static int kuif_genl_fill_event(struct sk_buff *skb,
				const struct kuif_event *ev)
{
	void *hdr;

	hdr = genlmsg_put(skb, 0, 0, &kuif_genl_family, 0, KUIF_CMD_EVENT);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KUIF_A_KSEQ, ev->kseq, KUIF_A_PAD) ||
	    nla_put_u64_64bit(skb, KUIF_A_TIME, ev->time_ns, KUIF_A_PAD) ||
	    nla_put_string(skb, KUIF_A_EVENT, ev->name) ||
	    nla_put(skb, KUIF_A_PAYLOAD, ev->len, ev->payload)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Publish hook (event lock held, BH disabled): see kuif.h. */
int kuif_genl_publish(const struct kuif_event *ev)
{
	struct sk_buff *skb;
	size_t size;
	int err;

	if (!READ_ONCE(kuif_genl_live))
		return 0;
	size = 2 * nla_total_size_64bit(sizeof(u64)) +
	       nla_total_size(strlen(ev->name) + 1) +
	       nla_total_size(ev->len);
	if (!genl_has_listeners(&kuif_genl_family, &init_net,
				KUIF_MCGRP_EVENTS))
		return 0;
	skb = genlmsg_new(size, GFP_ATOMIC);
	if (!skb)
		return -ENOMEM;
	err = kuif_genl_fill_event(skb, ev);
	if (err) {
		nlmsg_free(skb);
		return err;
	}

	/* Consumes skb. -ESRCH: the last listener left meanwhile. */
	err = genlmsg_multicast(&kuif_genl_family, skb, 0, KUIF_MCGRP_EVENTS,
				GFP_ATOMIC);
	if (err == -ESRCH)
		return 0;
	if (err) {
		pr_debug("multicast of kseq %llu failed: %d\n", ev->kseq, err);
		return err;
	}
	return 1;
}

int __init kuif_genl_init(void)
{
	int err;

	err = genl_register_family(&kuif_genl_family);
	if (err)
		return err;
	WRITE_ONCE(kuif_genl_live, true);
	return 0;
}

/*
 * No multicast once the family is unregistered: its group id may be given
 * to another family. Unregistering waits for the running handlers.
 */
void kuif_genl_exit(void)
{
	WRITE_ONCE(kuif_genl_live, false);
	kuif_event_sync();
	genl_unregister_family(&kuif_genl_family);
}
