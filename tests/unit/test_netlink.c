// SPDX-License-Identifier: GPL-2.0
/*
 * src_netlink_decode: KUIF_CMD_EVENT messages, well-formed and not, built
 * with libnl as the kernel would send them (or as a broken or hostile
 * sender might).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kuifd.h"

#define FAMILY	0x20	/* any id: the decoder does not look at it */

/* Which attributes to put, and how. */
struct msg_spec {
	uint8_t		 cmd;
	bool		 no_kseq, no_time, no_event;
	uint64_t	 kseq;
	const void	*event;		/* raw bytes of KUIF_A_EVENT */
	int		 event_len;	/* -1: strlen + 1 */
	const void	*payload;	/* NULL: none */
	int		 payload_len;
	int		 kseq_len;	/* 0: 8 */
};

static struct nl_msg *
build(const struct msg_spec *m)
{
	struct nl_msg *msg = nlmsg_alloc_size(4096);
	uint64_t kseq = m->kseq;

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 0, 0, FAMILY, 0, 0,
	    m->cmd != 0 ? m->cmd : KUIF_CMD_EVENT, KUIF_GENL_VERSION));
	if (!m->no_kseq)
		assert_int_equal(nla_put(msg, KUIF_A_KSEQ,
		    m->kseq_len != 0 ? m->kseq_len : 8, &kseq), 0);
	if (!m->no_time)
		assert_int_equal(nla_put_u64(msg, KUIF_A_TIME, 1234567890ULL),
		    0);
	if (!m->no_event) {
		const char *e = m->event != NULL ? m->event : "netdev.up";
		int len = m->event_len >= 0 && m->event != NULL ?
		    m->event_len : (int)strlen(e) + 1;

		assert_int_equal(nla_put(msg, KUIF_A_EVENT, len, e), 0);
	}
	if (m->payload != NULL)
		assert_int_equal(nla_put(msg, KUIF_A_PAYLOAD, m->payload_len,
		    m->payload), 0);
	return msg;
}

static int
decode(const struct msg_spec *m, struct event *ev)
{
	struct nl_msg *msg = build(m);
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int rc;

	/* What src_netlink_on_msg checks before decoding. */
	assert_true(genlmsg_valid_hdr(nlh, 0));
	memset(ev, 0xa5, sizeof(*ev));
	rc = src_netlink_decode(nlh, ev);
	nlmsg_free(msg);
	return rc;
}

static void
test_netlink_decode_event(void **state)
{
	struct msg_spec m = { .kseq = 42, .payload = "eth0",
	    .payload_len = 4, .event_len = -1 };
	struct event ev;

	(void)state;
	assert_int_equal(decode(&m, &ev), 0);
	assert_int_equal(ev.kseq, 42);
	assert_int_equal(ev.time_ns, 1234567890ULL);
	assert_int_equal(ev.seq, 0);
	assert_string_equal(ev.source, "netlink");
	assert_string_equal(ev.name, "netdev.up");
	assert_int_equal(ev.len, 4);
	assert_memory_equal(ev.payload, "eth0", 4);
}

static void
test_netlink_decode_payload_sizes(void **state)
{
	uint8_t big[KUIF_PAYLOAD_MAX + 1];
	struct msg_spec m = { .kseq = 1, .event_len = -1 };
	struct event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	/* No payload attribute, an empty one, a full one. */
	assert_int_equal(decode(&m, &ev), 0);
	assert_int_equal(ev.len, 0);
	m.payload = big;
	m.payload_len = 0;
	assert_int_equal(decode(&m, &ev), 0);
	assert_int_equal(ev.len, 0);
	m.payload_len = KUIF_PAYLOAD_MAX;
	assert_int_equal(decode(&m, &ev), 0);
	assert_int_equal(ev.len, KUIF_PAYLOAD_MAX);
	assert_memory_equal(ev.payload, big, KUIF_PAYLOAD_MAX);
	/* One byte too many. */
	m.payload_len = KUIF_PAYLOAD_MAX + 1;
	assert_int_equal(decode(&m, &ev), -1);
}

static void
test_netlink_decode_missing_attributes(void **state)
{
	struct msg_spec m = { .kseq = 1, .event_len = -1 };
	struct event ev;

	(void)state;
	m.no_kseq = true;
	assert_int_equal(decode(&m, &ev), -1);
	m.no_kseq = false;
	m.no_time = true;
	assert_int_equal(decode(&m, &ev), -1);
	m.no_time = false;
	m.no_event = true;
	assert_int_equal(decode(&m, &ev), -1);
	m.no_event = false;
	/* kseq 0 is never a kernel event. */
	m.kseq = 0;
	assert_int_equal(decode(&m, &ev), -1);
}

static void
test_netlink_decode_bad_attribute_sizes(void **state)
{
	struct msg_spec m = { .kseq = 7, .event_len = -1 };
	struct event ev;

	(void)state;
	/* A u64 of 4 bytes is refused by the policy, not read past. */
	m.kseq_len = 4;
	assert_int_equal(decode(&m, &ev), -1);
	m.kseq_len = 0;
	assert_int_equal(decode(&m, &ev), 0);
}

static void
test_netlink_decode_event_names(void **state)
{
	char longest[KUIF_EVENT_NAME_MAX], toolong[KUIF_EVENT_NAME_MAX + 1];
	struct msg_spec m = { .kseq = 3, .event_len = -1 };
	struct event ev;
	static const char *const bad[] = {
		"", "Netdev.up", "1up", "net dev", "net/dev", "net\xc3\xa9",
		".up",
	};
	size_t i;

	(void)state;
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	m.event = longest;
	assert_int_equal(decode(&m, &ev), 0);
	assert_string_equal(ev.name, longest);
	memset(toolong, 'a', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	m.event = toolong;
	assert_int_equal(decode(&m, &ev), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.event = bad[i];
		if (decode(&m, &ev) != -1)
			fail_msg("name \"%s\" accepted", bad[i]);
	}
	/* Not NUL-terminated: refused, never read past the attribute. */
	m.event = "netdev";
	m.event_len = 6;
	assert_int_equal(decode(&m, &ev), -1);
	/* Bytes after the NUL: not a name the kernel sends. */
	m.event = "ab\0cd";
	m.event_len = 6;
	assert_int_equal(decode(&m, &ev), -1);
	/* A zero-length attribute. */
	m.event_len = 0;
	assert_int_equal(decode(&m, &ev), -1);
}

static void
test_netlink_decode_other_commands(void **state)
{
	struct msg_spec m = { .kseq = 3, .event_len = -1 };
	struct event ev;

	(void)state;
	m.cmd = KUIF_CMD_ECHO;
	assert_int_equal(decode(&m, &ev), 1);
	m.cmd = KUIF_CMD_GET_STATS;
	assert_int_equal(decode(&m, &ev), 1);
	m.cmd = 200;
	assert_int_equal(decode(&m, &ev), 1);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct nl_sock *
genl_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	assert_non_null(sk);
	assert_int_equal(nl_connect(sk, NETLINK_GENERIC), 0);
	return sk;
}

static int
on_family(struct nl_msg *msg, void *arg)
{
	struct nl_reply *r = arg;
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, NULL) == 0 &&
	    tb[CTRL_ATTR_FAMILY_ID] != NULL) {
		r->value = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
		r->got = true;
	}
	return NL_OK;
}

static struct nl_msg *
getfamily(const char *name)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ,
	    GENL_ID_CTRL, 0, 0, CTRL_CMD_GETFAMILY, 1));
	assert_int_equal(nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name), 0);
	return msg;
}

/*
 * A request nobody answers: sent to a user-space socket standing in for
 * a kernel that hangs. The wait ends at the deadline with a timeout.
 */
static void
test_netlink_request_times_out(void **state)
{
	struct nl_sock *hung, *req;
	struct nl_reply r;
	char buf[4096];
	long long t;
	int rc;

	(void)state;
	/* Unicast between user-space generic netlink sockets needs root. */
	if (geteuid() != 0)
		skip();
	hung = genl_socket();
	req = genl_socket();
	nl_socket_set_peer_port(req, nl_socket_get_local_port(hung));
	t = now_ms();
	rc = src_netlink_request(req, getfamily("nlctrl"), on_family, &r,
	    200);
	t = now_ms() - t;
	assert_int_equal(rc, SRC_NETLINK_TIMEOUT);
	assert_false(r.got);
	assert_true(t >= 190 && t < 1000);
	/* It did reach the stand-in. */
	assert_true(recv(nl_socket_get_fd(hung), buf, sizeof(buf),
	    MSG_DONTWAIT) > 0);

	/* A late datagram on the request socket does not spoil the next
	 * request, which the kernel answers. */
	nl_socket_set_peer_port(hung, nl_socket_get_local_port(req));
	assert_true(nl_send_simple(hung, GENL_ID_CTRL, 0, buf, 64) >= 0);
	nl_socket_set_peer_port(req, 0);
	rc = src_netlink_request(req, getfamily("nlctrl"), on_family, &r,
	    1000);
	assert_int_equal(rc, 0);
	assert_true(r.got && r.acked);
	assert_int_equal(r.value, GENL_ID_CTRL);
	nl_socket_free(hung);
	nl_socket_free(req);
}

/* The kernel's error answer (no such family) is an error, at once. */
static void
test_netlink_request_error_answer(void **state)
{
	struct nl_sock *req = genl_socket();
	struct nl_reply r;
	long long t = now_ms();

	(void)state;
	assert_true(src_netlink_request(req, getfamily("no-such-family"),
	    on_family, &r, 1000) < 0);
	assert_true(now_ms() - t < 500);
	assert_false(r.got);
	nl_socket_free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netlink_decode_event),
		cmocka_unit_test(test_netlink_decode_payload_sizes),
		cmocka_unit_test(test_netlink_decode_missing_attributes),
		cmocka_unit_test(test_netlink_decode_bad_attribute_sizes),
		cmocka_unit_test(test_netlink_decode_event_names),
		cmocka_unit_test(test_netlink_decode_other_commands),
		cmocka_unit_test(test_netlink_request_times_out),
		cmocka_unit_test(test_netlink_request_error_answer),
	};

	return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
