// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink: messages built by hand for the "kuif" family, with
 * random commands, versions and flags, and attributes missing, duplicated,
 * oversized, of the wrong type or length, with nested garbage, and
 * structurally broken (attribute or message lengths that lie).
 *
 * Promises checked: every well-framed request that asks for an ack gets
 * exactly one, with an error code in range, within five seconds; an ECHO
 * that succeeds returns the string sent.
 *
 * The fuzzer runs as root, so privileged commands run too. Two values are
 * kept safe rather than random: KUIF_A_PID is always a pid of the fuzzer's
 * own set (a real process would get a real signal), and a BENCH count is
 * at most 1000 when it is in range (the budget is operations, not events;
 * the range itself is fuzzed with the values outside it).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <kuif.h>
#include "kfuzz.h"

#define MSG_MAX		8192
#define NLA_HDR		((int)NLA_HDRLEN)
#define NO_ACK		INT32_MIN	/* from await_ack: none came */

static int sock = -1;
static uint16_t family;
static uint32_t mcast_group;
static uint32_t seq = 1;
static uint8_t msg[MSG_MAX], reply[65536];
static unsigned long acks, echoes, well_ok;

static void find_group(const uint8_t *p, size_t len);
static int await_ack(uint32_t s, uint8_t cmd, const char *echo);
static size_t put_u32(uint8_t *p, size_t room, uint16_t type, uint32_t v);

static size_t put_attr(uint8_t *p, size_t room, uint16_t type,
		       const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)p;

	if (room < NLA_ALIGN(NLA_HDRLEN + len))
		return 0;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy(p + NLA_HDRLEN, data, len);
	memset(p + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return NLA_ALIGN(NLA_HDRLEN + len);
}

static int resolve_family(void)
{
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct genlmsghdr *g = NLMSG_DATA(h);
	ssize_t n;
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;

	memset(msg, 0, sizeof(msg));
	off += put_attr(msg + off, MSG_MAX - off, CTRL_ATTR_FAMILY_NAME,
			KUIF_GENL_NAME, sizeof(KUIF_GENL_NAME));
	h->nlmsg_len = (uint32_t)off;
	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq++;
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	if (send(sock, msg, off, 0) < 0)
		return -1;
	n = recv(sock, reply, sizeof(reply), 0);
	if (n < (ssize_t)NLMSG_HDRLEN)
		return -1;
	h = (struct nlmsghdr *)reply;
	if (h->nlmsg_type != GENL_ID_CTRL)
		return -1;
	for (off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= h->nlmsg_len;) {
		struct nlattr *a = (struct nlattr *)(reply + off);

		if (a->nla_len < NLA_HDRLEN)
			return -1;
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&family, reply + off + NLA_HDRLEN, 2);
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GROUPS)
			find_group(reply + off + NLA_HDRLEN,
				   a->nla_len - NLA_HDRLEN);
		off += NLA_ALIGN(a->nla_len);
	}
	return family && mcast_group ? 0 : -1;
}

/* The nested list of groups: the id of the one named "events". */
static void find_group(const uint8_t *p, size_t len)
{
	for (size_t off = 0; off + NLA_HDRLEN <= len;) {
		const struct nlattr *grp = (const void *)(p + off);
		uint32_t id = 0;
		int named = 0;

		if (grp->nla_len < NLA_HDRLEN || off + grp->nla_len > len)
			return;
		for (size_t in = NLA_HDRLEN; in + NLA_HDRLEN <= grp->nla_len;) {
			const struct nlattr *a = (const void *)(p + off + in);
			const char *v = (const char *)a + NLA_HDRLEN;

			if (a->nla_len < NLA_HDRLEN)
				return;
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				memcpy(&id, v, 4);
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				named = !strcmp(v, KUIF_GENL_MCGRP_EVENTS);
			in += NLA_ALIGN(a->nla_len);
		}
		if (named)
			mcast_group = id;
		off += NLA_ALIGN(grp->nla_len);
	}
}

/* A socket in the kuif events group, for the readers target. */
int kf_genl_events_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &mcast_group,
		       sizeof(mcast_group)) != 0) {
		close(s);
		return -1;
	}
	return s;
}

/* BENCH: count events of size bytes on channels; 0 or a negative errno. */
int kf_genl_bench(uint32_t count, uint32_t size, uint32_t channels)
{
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct genlmsghdr *g = NLMSG_DATA(h);
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	uint32_t s = seq++;
	char none[1] = "";

	memset(msg, 0, off);
	off += put_u32(msg + off, MSG_MAX - off, KUIF_A_COUNT, count);
	off += put_u32(msg + off, MSG_MAX - off, KUIF_A_SIZE, size);
	off += put_u32(msg + off, MSG_MAX - off, KUIF_A_CHANNELS, channels);
	h->nlmsg_len = (uint32_t)off;
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = s;
	g->cmd = KUIF_CMD_BENCH;
	g->version = KUIF_GENL_VERSION;
	if (send(sock, msg, off, 0) < 0)
		return -errno;
	return await_ack(s, KUIF_CMD_BENCH, none);
}

/* Also the readers target's: whichever runs first opens the socket. */
int kf_genl_init(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };

	if (sock >= 0)
		return 0;
	sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		kf_fail("netlink socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (resolve_family() != 0) {
		kf_fail("cannot resolve the generic netlink family %s",
			KUIF_GENL_NAME);
		return -1;
	}
	return 0;
}

/* An attribute's bytes: mostly what its type wants, often not. */
static size_t attr_value(uint16_t type, uint8_t *v, size_t max)
{
	uint64_t x = kf_number();
	size_t len;

	switch (kf_below(4)) {
	case 0:				/* a 4-byte number */
		memcpy(v, &x, 4);
		len = 4;
		break;
	case 1:				/* an 8-byte number */
		memcpy(v, &x, 8);
		len = 8;
		break;
	case 2:				/* a string, NUL-terminated or not */
		len = kf_fill(v, max > 300 ? 300 : max);
		if (len > 0 && kf_chance(70))
			v[len - 1] = '\0';
		break;
	default:			/* nested garbage */
		len = 0;
		for (int i = (int)kf_below(4); i > 0; i--) {
			struct nlattr *in = (struct nlattr *)(v + len);
			size_t body = kf_len(40);

			if (len + NLA_HDRLEN + body + 8 > max)
				break;
			in->nla_type = (uint16_t)kf_rand();
			in->nla_len = kf_chance(80) ?
				(uint16_t)(NLA_HDRLEN + body) :
				(uint16_t)kf_rand();
			kf_fill(v + len + NLA_HDRLEN, body);
			len += NLA_ALIGN(NLA_HDRLEN + body);
		}
		break;
	}
	if ((type & NLA_TYPE_MASK) == KUIF_A_PID && len >= 4) {
		int32_t pid = kf_safe_pid();

		memcpy(v, &pid, 4);
	}
	if ((type & NLA_TYPE_MASK) == KUIF_A_COUNT && len >= 4) {
		uint32_t count;

		memcpy(&count, v, 4);
		if (count > 1000 && count <= KUIF_BENCH_MAX)
			count = count % 1000 + 1;
		memcpy(v, &count, 4);
	}
	return len;
}

static size_t put_u32(uint8_t *p, size_t room, uint16_t type, uint32_t v)
{
	return put_attr(p, room, type, &v, sizeof(v));
}

/*
 * A request as a careful client would send it, for each command, so the
 * paths past validation run too. Returns the attributes' length; *cmd is
 * set, and echo to the ECHO string.
 */
static size_t well_formed(uint8_t *p, size_t room, uint8_t *cmd, char *echo,
			  size_t echo_size)
{
	uint8_t v[KUIF_PAYLOAD_MAX];
	size_t len = 0, n;

	memset(v, 0, sizeof(v));
	switch (kf_below(5)) {
	case 0:
		*cmd = KUIF_CMD_ECHO;
		n = kf_below(echo_size - 1);
		memset(echo, 'a' + (int)kf_below(26), n);
		echo[n] = '\0';
		len += put_attr(p, room, KUIF_A_MSG, echo, n + 1);
		break;
	case 1:
		*cmd = KUIF_CMD_EMIT;
		n = (size_t)snprintf((char *)v, sizeof(v), "kfuzz.genl%u",
				     (unsigned int)kf_below(10));
		len += put_attr(p, room, KUIF_A_EVENT, v, n + 1);
		n = kf_below(KUIF_PAYLOAD_MAX + 1);
		kf_fill(v, n);
		if (kf_chance(80))
			len += put_attr(p + len, room - len, KUIF_A_PAYLOAD, v,
					n);
		break;
	case 2:
		*cmd = KUIF_CMD_GET_STATS;
		break;
	case 3:
		*cmd = KUIF_CMD_BENCH;
		len += put_u32(p, room, KUIF_A_COUNT, 1 + kf_below(200));
		len += put_u32(p + len, room - len, KUIF_A_SIZE,
			       (uint32_t)kf_below(KUIF_PAYLOAD_MAX + 1));
		len += put_u32(p + len, room - len, KUIF_A_CHANNELS,
			       1 + (uint32_t)kf_below(KUIF_CH_ALL));
		break;
	default:
		*cmd = KUIF_CMD_REGISTER_SIGNAL;
		len += put_u32(p, room, KUIF_A_PID, (uint32_t)kf_safe_pid());
		break;
	}
	return len;
}

/* Builds one request at msg + off; returns its length. *framed is 0 when
 * the lengths lie, so no ack can be expected. */
static size_t build(size_t off, uint32_t s, int *framed, int *ack,
		    int *must_succeed, uint8_t *cmd, char *echo,
		    size_t echo_size)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(msg + off);
	struct genlmsghdr *g = NLMSG_DATA(h);
	uint8_t v[600];
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN, vlen, room;
	uint16_t type;
	int n;

	room = MSG_MAX - off;
	memset(h, 0, len);
	echo[0] = '\0';
	*must_succeed = 0;
	if (kf_chance(30)) {
		len += well_formed(msg + off + len, room - len, cmd, echo,
				   echo_size);
		/* Unless spoiled below, it must work (a pid may be gone). */
		*must_succeed = *cmd != KUIF_CMD_REGISTER_SIGNAL;
		n = kf_chance(70) ? 0 : 1;
	} else {
		*cmd = kf_chance(80) ? (uint8_t)kf_below(8) :
				       (uint8_t)kf_rand();
		n = (int)kf_below(7);
	}
	g->cmd = *cmd;
	g->version = KUIF_GENL_VERSION;
	if (kf_chance(10)) {
		g->version = (uint8_t)kf_rand();
		g->reserved = (uint16_t)kf_rand();
		/* Strict validation: a reserved field not 0 is refused. */
		if (g->reserved)
			*must_succeed = 0;
	}
	if (n > 0)
		*must_succeed = 0;
	for (; n > 0 && len < room - 700; n--) {
		type = kf_chance(75) ? (uint16_t)kf_below(KUIF_A_MAX + 3) :
				       (uint16_t)kf_rand();
		if (type == KUIF_A_MSG && kf_chance(60)) {
			/* A real string for ECHO, to check what comes back. */
			vlen = kf_below(echo_size);
			memset(v, 'a' + (int)kf_below(26), vlen);
			v[vlen++] = '\0';
			memcpy(echo, v, vlen);
		} else {
			vlen = attr_value(type, v, sizeof(v));
			if ((type & NLA_TYPE_MASK) == KUIF_A_MSG)
				echo[0] = '\0';	/* unknown what is kept */
		}
		len += put_attr(msg + off + len, room - len, type, v, vlen);
		if (kf_chance(10))	/* the same again */
			len += put_attr(msg + off + len, room - len, type, v,
					vlen);
	}
	*framed = 1;
	if (kf_chance(8) && len > NLMSG_HDRLEN + GENL_HDRLEN) {
		/* The last four bytes become an attribute header that lies. */
		struct nlattr *a = (struct nlattr *)(msg + off + len - NLA_HDR);

		a->nla_len = (uint16_t)kf_rand();
		a->nla_type = (uint16_t)kf_rand();
		echo[0] = '\0';
		*must_succeed = 0;
	}
	h->nlmsg_len = (uint32_t)len;
	if (kf_chance(5)) {
		h->nlmsg_len = (uint32_t)kf_number();
		*framed = h->nlmsg_len == len;
	}
	if (*framed == 0)
		*must_succeed = 0;
	h->nlmsg_type = family;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (kf_chance(10))
		h->nlmsg_flags = (uint16_t)kf_rand();
	else if (kf_chance(5))
		h->nlmsg_flags |= NLM_F_DUMP;
	if (h->nlmsg_flags != (NLM_F_REQUEST | NLM_F_ACK) || !*framed ||
	    h->nlmsg_len != len)
		*must_succeed = 0;
	*ack = *framed && (h->nlmsg_flags & NLM_F_ACK);
	h->nlmsg_seq = s;
	return NLMSG_ALIGN(len);
}

/* Echo replies are checked; errors must be negative errnos or 0. */
static int await_ack(uint32_t s, uint8_t cmd, const char *echo)
{
	struct timespec t0, t1;
	ssize_t n;
	int left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = recv(sock, reply, sizeof(reply), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kf_fail("no ack for request %u (cmd %u): %s", s, cmd,
				strerror(errno));
			return NO_ACK;
		}
		left = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)reply;
		     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != s)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error > 0 || e->error < -4095)
					kf_fail("ack error %d", e->error);
				if (e->error)
					kf_note_refused();
				acks++;
				return e->error;
			}
			if (h->nlmsg_type == family && cmd == KUIF_CMD_ECHO &&
			    echo[0]) {
				struct nlattr *a = (void *)((uint8_t *)NLMSG_DATA(h) +
							    GENL_HDRLEN);

				if (a->nla_type != KUIF_A_MSG ||
				    strncmp((char *)a + NLA_HDRLEN, echo,
					    a->nla_len - NLA_HDRLEN))
					kf_fail("ECHO returned another string");
				echoes++;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 5) {
			kf_fail("no ack for request %u within 5 s", s);
			return NO_ACK;
		}
	}
}

static void drain(void)
{
	while (recv(sock, reply, sizeof(reply), MSG_DONTWAIT) > 0)
		;
}

static void genl_op(void)
{
	char echo[KUIF_MSG_MAX];
	size_t len;
	uint32_t s = seq++;
	int framed, ack, must_succeed, err;
	uint8_t cmd;

	len = build(0, s, &framed, &ack, &must_succeed, &cmd, echo,
		    sizeof(echo));
	if (kf_chance(5)) {
		/* A second message in the same datagram, never awaited. */
		char e2[KUIF_MSG_MAX];
		int f2, a2, m2;
		uint8_t c2;

		len += build(len, seq++, &f2, &a2, &m2, &c2, e2, sizeof(e2));
	}
	if (send(sock, msg, len, 0) < 0) {
		kf_note_refused();
		return;
	}
	if (ack) {
		err = await_ack(s, cmd, echo);
		if (must_succeed && err) {
			if (err != NO_ACK)
				kf_fail("well-formed request (cmd %u) refused: "
					"%s", cmd, strerror(-err));
		}
		well_ok += must_succeed && !err;
	}
	drain();
}

static void genl_fini(void)
{
	printf("genl: %lu acks, %lu echoes checked, %lu well-formed requests "
	       "done\n", acks, echoes, well_ok);
	close(sock);
}

struct target kf_target_genl = {
	.name = "genl",
	.init = kf_genl_init,
	.op = genl_op,
	.fini = genl_fini,
	.weight = 20,
};
