// SPDX-License-Identifier: GPL-2.0
/*
 * Source: generic netlink. One socket listens to the family's "events"
 * multicast group and to nlctrl's "notify" group, which tells us when the
 * family appears or disappears (module loaded or unloaded); a second,
 * blocking socket carries requests (resolve, emit).
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kuifd.h"

#define SRC_NETLINK_RCVBUF	(8 * 1024 * 1024)
#define SRC_NETLINK_BUF		(32 * 1024)	/* the largest datagram read */
#define SRC_NETLINK_BATCH	256	/* datagrams per wakeup before yielding */
#define SRC_NETLINK_REQ_MS	1000	/* longest wait for the kernel's answer */

struct src_netlink {
	struct event_base	*base;
	struct bus		*bus;
	src_state_fn		 state_cb;
	void			*state_arg;

	struct nl_sock		*listen;	/* multicast, non-blocking */
	struct nl_sock		*req;		/* requests, blocking */
	struct event		*ev_read;
	int			 family;	/* -1 while detached */
	int			 group;

	uint64_t		 received;
	uint64_t		 overruns;
	struct log_count	*say_overruns;
	uint8_t			 buf[SRC_NETLINK_BUF];	/* one datagram */
};

static struct nla_policy src_netlink_policy[KUIF_A_MAX + 1] = {
	[KUIF_A_KSEQ]		= { .type = NLA_U64 },
	[KUIF_A_TIME]		= { .type = NLA_U64 },
	[KUIF_A_EVENT]		= { .type = NLA_STRING,
				    .maxlen = KUIF_EVENT_NAME_MAX },
	[KUIF_A_PAYLOAD]	= { .type = NLA_UNSPEC,
				    .maxlen = KUIF_PAYLOAD_MAX },
};

/*
 * An overrun comes with every read of a socket the kernel outpaces: the
 * first is logged, then one message in SRC_NETLINK_SAY_S seconds with
 * the count since. Each is a loss record on the bus anyway.
 */
#define SRC_NETLINK_SAY_S	10

static void
src_netlink_overrun_say(uint64_t total, uint64_t since, void *arg)
{
	(void)arg;
	log_warnx("netlink: receive buffer overrun (%llu so far, %llu since "
	    "the last message)", (unsigned long long)total,
	    (unsigned long long)since);
}

void
src_netlink_counters(const struct src_netlink *src, uint64_t *received,
    uint64_t *overruns)
{
	*received = src->received;
	*overruns = src->overruns;
}

bool
src_netlink_attached(const struct src_netlink *src)
{
	return src->family >= 0;
}

static int	src_netlink_last_kseq(struct src_netlink *, uint64_t *);

static void
src_netlink_attach(struct src_netlink *src)
{
	uint64_t last;
	int family, group, err;

	family = genl_ctrl_resolve(src->req, KUIF_GENL_NAME);
	if (family < 0) {
		log_debug("netlink: family %s not present: %s",
		    KUIF_GENL_NAME, nl_geterror(family));
		return;
	}
	group = genl_ctrl_resolve_grp(src->req, KUIF_GENL_NAME,
	    KUIF_GENL_MCGRP_EVENTS);
	if (group < 0) {
		log_warnx("netlink: group %s: %s", KUIF_GENL_MCGRP_EVENTS,
		    nl_geterror(group));
		return;
	}
	err = nl_socket_add_membership(src->listen, group);
	if (err < 0) {
		log_warnx("netlink: join group %d: %s", group,
		    nl_geterror(err));
		return;
	}
	src->family = family;
	src->group = group;
	/* A newly loaded module numbers its events from 1 again; after a
	 * restart, the bus resumes from what the kernel says. */
	if (src_netlink_last_kseq(src, &last) == 0)
		bus_kernel_attach(src->bus, &last);
	else
		bus_kernel_attach(src->bus, NULL);
	log_lifecycle("source_up", "source netlink attached: family %s id %d, "
	    "group %s id %d", KUIF_GENL_NAME, family, KUIF_GENL_MCGRP_EVENTS,
	    group);
	if (src->state_cb != NULL)
		src->state_cb("netlink", true, src->state_arg);
}

static void
src_netlink_detach(struct src_netlink *src)
{
	if (src->family < 0)
		return;
	nl_socket_drop_membership(src->listen, src->group);
	log_count_flush(src->say_overruns);
	src->family = -1;
	src->group = -1;
	log_lifecycle("source_down", "source netlink detached: family %s "
	    "removed", KUIF_GENL_NAME);
	if (src->state_cb != NULL)
		src->state_cb("netlink", false, src->state_arg);
}

static void
src_netlink_on_ctrl(struct src_netlink *src, struct nlmsghdr *nlh)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlh);
	const char *name;

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 ||
	    tb[CTRL_ATTR_FAMILY_NAME] == NULL)
		return;
	name = nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]);
	if (strncmp(name, KUIF_GENL_NAME, nla_len(tb[CTRL_ATTR_FAMILY_NAME]))
	    != 0)
		return;
	if (gh->cmd == CTRL_CMD_NEWFAMILY && src->family < 0)
		src_netlink_attach(src);
	else if (gh->cmd == CTRL_CMD_DELFAMILY)
		src_netlink_detach(src);
}

/*
 * A KUIF_CMD_EVENT message into an event. Returns 0, 1 when the message is
 * not an event, or -1 when it is malformed. The message length must have
 * been checked against what was received (genlmsg_valid_hdr).
 */
int
src_netlink_decode(struct nlmsghdr *nlh, struct event *ev)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	const struct nlattr *a, *kseq = NULL, *time = NULL, *name = NULL,
	    *pl = NULL;
	int rem;

	if (gh->cmd != KUIF_CMD_EVENT)
		return 1;
	/*
	 * What genlmsg_parse() with src_netlink_policy does, for the four
	 * attributes an event has, without filling a table of every type:
	 * the last of a type counts, types it does not know are skipped,
	 * and a known one of the wrong size makes the message malformed.
	 */
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
	    rem) {
		switch (nla_type(a)) {
		case KUIF_A_KSEQ:
			if (nla_len(a) < (int)sizeof(uint64_t))
				return -1;
			kseq = a;
			break;
		case KUIF_A_TIME:
			if (nla_len(a) < (int)sizeof(uint64_t))
				return -1;
			time = a;
			break;
		case KUIF_A_EVENT:
			if (nla_len(a) < 1 || nla_len(a) > KUIF_EVENT_NAME_MAX ||
			    ((const char *)nla_data(a))[nla_len(a) - 1] != '\0')
				return -1;
			name = a;
			break;
		case KUIF_A_PAYLOAD:
			if (nla_len(a) > KUIF_PAYLOAD_MAX)
				return -1;
			pl = a;
			break;
		default:
			break;
		}
	}
	if (kseq == NULL || time == NULL || name == NULL)
		return -1;
	/* The last byte is a NUL: it must be the only. */
	if (strnlen(nla_data(name), (size_t)nla_len(name)) !=
	    (size_t)nla_len(name) - 1 ||
	    !event_name_valid(nla_data(name), (size_t)nla_len(name) - 1))
		return -1;

	/* All but the payload past its length, which nothing reads. */
	memset(ev, 0, offsetof(struct event, payload));
	ev->kseq = nla_get_u64((struct nlattr *)kseq);
	ev->time_ns = nla_get_u64((struct nlattr *)time);
	if (ev->kseq == 0)
		return -1;
	memcpy(ev->name, nla_data(name), (size_t)nla_len(name));
	memcpy(ev->source, "netlink", sizeof("netlink"));
	if (pl != NULL) {
		ev->len = (size_t)nla_len(pl);
		memcpy(ev->payload, nla_data(pl), ev->len);
	}
	return 0;
}

/* The kseq attribute of an event message, 0 when it has none: enough to
 * tell a duplicate before the whole message is parsed. */
static uint64_t
src_netlink_peek_kseq(struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	uint64_t kseq;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
	    genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) == KUIF_A_KSEQ && nla_len(a) == sizeof(kseq)) {
			memcpy(&kseq, nla_data(a), sizeof(kseq));
			return kseq;
		}
	}
	return 0;
}

static void
src_netlink_on_event(struct src_netlink *src, struct nlmsghdr *nlh)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct event ev;
	int rc;

	if (gh->cmd == KUIF_CMD_EVENT &&
	    bus_duplicate(src->bus, src_netlink_peek_kseq(nlh))) {
		src->received++;
		return;
	}
	rc = src_netlink_decode(nlh, &ev);
	if (rc == -1)
		log_warnx("netlink: malformed event dropped");
	if (rc != 0)
		return;
	src->received++;
	bus_publish(src->bus, &ev);
}

static void
src_netlink_on_msg(struct src_netlink *src, struct nlmsghdr *nlh)
{
	if (!genlmsg_valid_hdr(nlh, 0))
		return;
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		src_netlink_on_ctrl(src, nlh);
	else if (src->family >= 0 && nlh->nlmsg_type == src->family)
		src_netlink_on_event(src, nlh);
}

static void	src_netlink_expect_last(struct src_netlink *);
static bool	src_netlink_flow(enum bus_flow_op, void *);

/*
 * Reads what is queued, a bounded batch of datagrams per wakeup, rather
 * than going back to the event loop for every event. Each is read once
 * into the buffer of the source, with no allocation: libnl's
 * nl_recvmsgs() peeks at each datagram for its size, then reads it into
 * a buffer it allocates, and copies every message into another.
 */
static void
src_netlink_read(evutil_socket_t fd, short what, void *arg)
{
	struct src_netlink *src = arg;
	uint64_t overruns = src->overruns;
	struct sockaddr_nl sa;
	struct iovec iov = { src->buf, SRC_NETLINK_BUF };
	struct msghdr mh;
	struct nlmsghdr *nlh;
	ssize_t r;
	int n, len;

	(void)what;
	for (n = 0; n < SRC_NETLINK_BATCH; n++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* The kernel dropped multicast for us. The
				 * kseq gap becomes a loss record on the bus. */
				src->overruns++;
				log_count_set(src->say_overruns,
				    src->overruns);
				continue;
			}
			if (errno != EAGAIN)
				log_warn("netlink: receive");
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			/* An event lost this way is a kseq gap too. */
			log_warnx("netlink: datagram over %d bytes dropped",
			    SRC_NETLINK_BUF);
			continue;
		}
		if (mh.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;	/* only the kernel speaks here */
		len = (int)r;
		for (nlh = (struct nlmsghdr *)src->buf; nlmsg_ok(nlh, len);
		    nlh = nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
				src_netlink_on_msg(src, nlh);
	}
	if (src->overruns != overruns)
		src_netlink_expect_last(src);
}

static struct nl_sock *
src_netlink_socket(void)
{
	struct nl_sock *sk;

	sk = nl_socket_alloc();
	if (sk == NULL)
		fatalx("netlink: out of memory");
	if (genl_connect(sk) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

struct src_netlink *
src_netlink_create(struct event_base *base, struct bus *bus,
    src_state_fn state_cb, void *state_arg)
{
	struct src_netlink *src;
	int notify, fd, size = SRC_NETLINK_RCVBUF;

	src = xcalloc(1, sizeof(*src));
	src->base = base;
	src->bus = bus;
	src->state_cb = state_cb;
	src->state_arg = state_arg;
	src->family = src->group = -1;
	src->say_overruns = log_count_new(base, SRC_NETLINK_SAY_S,
	    src_netlink_overrun_say, src);

	src->req = src_netlink_socket();
	src->listen = src_netlink_socket();
	if (src->req == NULL || src->listen == NULL) {
		log_warnx("netlink: cannot open generic netlink sockets");
		src_netlink_free(src);
		return NULL;
	}
	nl_socket_disable_seq_check(src->listen);
	nl_socket_disable_auto_ack(src->listen);
	nl_socket_set_buffer_size(src->listen, SRC_NETLINK_RCVBUF, 0);
	fd = nl_socket_get_fd(src->listen);
	/* Beyond net.core.rmem_max when we have CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		log_debug("netlink: SO_RCVBUFFORCE: %s", strerror(errno));
	nl_socket_set_nonblocking(src->listen);

	notify = genl_ctrl_resolve_grp(src->req, "nlctrl", "notify");
	if (notify < 0 ||
	    nl_socket_add_membership(src->listen, notify) < 0) {
		log_warnx("netlink: cannot watch nlctrl notifications");
		src_netlink_free(src);
		return NULL;
	}

	src->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    src_netlink_read, src);
	if (src->ev_read == NULL || event_add(src->ev_read, NULL) == -1)
		fatalx("netlink: cannot add read event");
	bus_flow_add(bus, src_netlink_flow, src, false);

	return src;
}

/*
 * The bus's flow control: held, the socket's receive buffer keeps what
 * it can, and an overrun is noticed (and accounted) once released.
 */
static bool
src_netlink_flow(enum bus_flow_op op, void *arg)
{
	struct src_netlink *src = arg;

	if (op == BUS_FLOW_HOLD)
		event_del(src->ev_read);
	else if (op == BUS_FLOW_RELEASE && event_add(src->ev_read, NULL) == -1)
		fatalx("netlink: cannot add read event");
	return false;
}

/*
 * Attaches to the module if it is there; the state callback runs from
 * here, so the caller has the source in hand before it does.
 */
void
src_netlink_start(struct src_netlink *src)
{
	src_netlink_attach(src);
	if (src->family < 0) {
		bus_kernel_absent(src->bus);
		log_lifecycle("source_waiting", "source netlink: family %s not "
		    "present yet; waiting for the kuif module",
		    KUIF_GENL_NAME);
	}
}

void
src_netlink_free(struct src_netlink *src)
{
	if (src == NULL)
		return;
	log_count_flush(src->say_overruns);
	log_count_free(src->say_overruns);
	if (src->ev_read != NULL)
		event_free(src->ev_read);
	if (src->listen != NULL)
		nl_socket_free(src->listen);
	if (src->req != NULL)
		nl_socket_free(src->req);
	free(src);
}

static int
src_netlink_on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_reply *r = arg;

	(void)msg;
	r->acked = true;
	return NL_STOP;
}

static int
src_netlink_on_emit_reply(struct nl_msg *msg, void *arg)
{
	struct nl_reply *r = arg;
	struct nlattr *tb[KUIF_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KUIF_A_MAX,
	    src_netlink_policy) == 0 && tb[KUIF_A_KSEQ] != NULL) {
		r->value = nla_get_u64(tb[KUIF_A_KSEQ]);
		r->got = true;
	}
	return NL_OK;
}

/*
 * Our own sequence check: libnl's expects the seq after the last answer
 * it saw, so after one unanswered request every later one would fail.
 * Answers to another request (one that timed out) are skipped.
 */
static int
src_netlink_seq_check(struct nl_msg *msg, void *arg)
{
	struct nl_reply *r = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == r->seq ? NL_OK : NL_SKIP;
}

static long long
src_netlink_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends msg (and frees it) on sk, a blocking request socket, and reads
 * until the kernel acks it, for at most timeout_ms: the loop must not
 * hang on a kernel that does not answer. on_reply fills r from the
 * reply. Replies that came too late for an earlier request are
 * discarded, whether queued before this one is sent or after.
 * Returns 0, SRC_NETLINK_TIMEOUT, or another negative libnl error.
 */
int
src_netlink_request(struct nl_sock *sk, struct nl_msg *msg,
    int (*on_reply)(struct nl_msg *, void *), struct nl_reply *r,
    int timeout_ms)
{
	struct pollfd pfd = { nl_socket_get_fd(sk), POLLIN, 0 };
	struct timeval tv = { timeout_ms / 1000, timeout_ms % 1000 * 1000 };
	long long deadline = src_netlink_now_ms() + timeout_ms, left;
	char stale[256];
	struct nl_cb *cb;
	int err, n;

	memset(r, 0, sizeof(*r));
	while (recv(pfd.fd, stale, sizeof(stale), MSG_DONTWAIT) >= 0)
		continue;
	/* Should a multipart answer stop halfway, recvmsg gives up too. */
	if (setsockopt(pfd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		log_warn("netlink: SO_RCVTIMEO");
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (cb == NULL) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_reply, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, src_netlink_on_ack, r);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, src_netlink_seq_check, r);
	err = nl_send_auto(sk, msg);
	r->seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	/* The reply and the ack arrive in separate reads. */
	while (err >= 0 && !r->acked) {
		if ((left = deadline - src_netlink_now_ms()) <= 0) {
			err = SRC_NETLINK_TIMEOUT;
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno != EINTR) {
			err = -NLE_FAILURE;
			break;
		}
		if (n == 1)
			err = nl_recvmsgs(sk, cb);
	}
	nl_cb_put(cb);
	if (err < 0)
		return err;
	return r->got ? 0 : -NLE_MSG_TRUNC;
}

static const char *
src_netlink_strerror(int err)
{
	if (err == SRC_NETLINK_TIMEOUT)
		return "the kernel did not answer within 1 s";
	return nl_geterror(err);
}

static int
src_netlink_on_stats_reply(struct nl_msg *msg, void *arg)
{
	static struct nla_policy stats_policy[KUIF_STAT_MAX + 1] = {
		[KUIF_STAT_EVENTS] = { .type = NLA_U64 },
	};
	struct nl_reply *r = arg;
	struct nlattr *tb[KUIF_A_MAX + 1], *st[KUIF_STAT_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KUIF_A_MAX, NULL) == 0 &&
	    tb[KUIF_A_STATS] != NULL &&
	    nla_parse_nested(st, KUIF_STAT_MAX, tb[KUIF_A_STATS],
	    stats_policy) == 0 && st[KUIF_STAT_EVENTS] != NULL) {
		r->value = nla_get_u64(st[KUIF_STAT_EVENTS]);
		r->got = true;
	}
	return NL_OK;
}

/* The kernel's last kseq (GET_STATS). Returns 0, or -1 (logged). */
static int
src_netlink_last_kseq(struct src_netlink *src, uint64_t *kseq)
{
	struct nl_reply r;
	struct nl_msg *msg;
	int err;

	if (src->family < 0 || (msg = nlmsg_alloc()) == NULL)
		return -1;
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, src->family, 0, 0,
	    KUIF_CMD_GET_STATS, KUIF_GENL_VERSION) == NULL) {
		nlmsg_free(msg);
		return -1;
	}
	err = src_netlink_request(src->req, msg, src_netlink_on_stats_reply,
	    &r, SRC_NETLINK_REQ_MS);
	if (err < 0) {
		log_warnx("netlink: kernel statistics: %s",
		    src_netlink_strerror(err));
		return -1;
	}
	*kseq = r.value;
	return 0;
}

/*
 * After an overrun: the kernel's last kseq, so that events lost at the
 * end of a burst, which no later copy reveals, are reported too.
 */
static void
src_netlink_expect_last(struct src_netlink *src)
{
	uint64_t kseq;

	if (src_netlink_last_kseq(src, &kseq) == 0)
		bus_expect(src->bus, kseq);
}

/*
 * KUIF_CMD_EMIT on the request socket. The kernel answers at once; should
 * it not, the loop waits SRC_NETLINK_REQ_MS at most. Returns 0 or a
 * negative libnl error.
 */
static int
src_netlink_emit_request(struct src_netlink *src, const char *name,
    const void *payload, size_t len, uint64_t *kseq)
{
	struct nl_reply r;
	struct nl_msg *msg;
	int err;

	if (src->family < 0)
		return -NLE_OBJ_NOTFOUND;
	msg = nlmsg_alloc();
	if (msg == NULL)
		return -NLE_NOMEM;
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, src->family, 0, 0,
	    KUIF_CMD_EMIT, KUIF_GENL_VERSION) == NULL ||
	    nla_put_string(msg, KUIF_A_EVENT, name) < 0 ||
	    (len > 0 && nla_put(msg, KUIF_A_PAYLOAD, (int)len, payload) < 0)) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	err = src_netlink_request(src->req, msg, src_netlink_on_emit_reply,
	    &r, SRC_NETLINK_REQ_MS);
	if (err < 0)
		return err;
	*kseq = r.value;
	return 0;
}

/* The bus's emitter. Returns 0, or -1 with the reason in err. */
int
src_netlink_emit(const char *name, const void *payload, size_t len,
    uint64_t *kseq, char *err, size_t errlen, void *arg)
{
	int rc;

	rc = src_netlink_emit_request(arg, name, payload, len, kseq);
	if (rc < 0) {
		snprintf(err, errlen, "%s", rc == -NLE_OBJ_NOTFOUND ?
		    "the kuif module is not loaded" : src_netlink_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * KUIF_CMD_REGISTER_SIGNAL for pid (0: unregister). Returns 0, or -1
 * (logged).
 */
static int
src_netlink_no_reply(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int
src_netlink_register_signal(struct src_netlink *src, pid_t pid)
{
	struct nl_reply r;
	struct nl_msg *msg;
	int err;

	if (src == NULL || src->family < 0) {
		log_warnx("netlink: register signal: the kuif module is not "
		    "loaded");
		return -1;
	}
	msg = nlmsg_alloc();
	if (msg == NULL ||
	    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, src->family, 0, 0,
	    KUIF_CMD_REGISTER_SIGNAL, KUIF_GENL_VERSION) == NULL ||
	    nla_put_u32(msg, KUIF_A_PID, (uint32_t)pid) < 0) {
		nlmsg_free(msg);
		log_warnx("netlink: register signal: out of memory");
		return -1;
	}
	/* Only an ack answers: no reply is no error here. */
	err = src_netlink_request(src->req, msg, src_netlink_no_reply, &r,
	    SRC_NETLINK_REQ_MS);
	if (err < 0 && !(err == -NLE_MSG_TRUNC && r.acked)) {
		log_warnx("netlink: register signal for pid %d: %s", (int)pid,
		    src_netlink_strerror(err));
		return -1;
	}
	return 0;
}
