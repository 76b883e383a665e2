// SPDX-License-Identifier: GPL-2.0
/*
 * nl-echo: the generic netlink round trip. Sends KUIF_CMD_ECHO with a
 * message to the kuif family and prints the kernel's reply.
 *
 *   nl-echo [MESSAGE]      default "hello world!"
 *   nl-echo --no-attr      send ECHO without its attribute (must fail)
 */
#include <stdio.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <kuif.h>

static int
on_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KUIF_A_MAX + 1];
	int *got = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KUIF_A_MAX, NULL) < 0 ||
	    tb[KUIF_A_MSG] == NULL) {
		fprintf(stderr, "nl-echo: reply without KUIF_A_MSG\n");
		return NL_STOP;
	}
	printf("%s\n", nla_get_string(tb[KUIF_A_MSG]));
	*got = 1;
	return NL_OK;
}

int
main(int argc, char **argv)
{
	const char *text = argc > 1 ? argv[1] : "hello world!";
	int with_attr = !(argc > 1 && strcmp(argv[1], "--no-attr") == 0);
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, err, got = 0;

	sk = nl_socket_alloc();
	if (sk == NULL || genl_connect(sk) < 0) {
		fprintf(stderr, "nl-echo: cannot open generic netlink\n");
		return 1;
	}
	family = genl_ctrl_resolve(sk, KUIF_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "nl-echo: family %s: %s (is kuif loaded?)\n",
		    KUIF_GENL_NAME, nl_geterror(family));
		return 1;
	}
	msg = nlmsg_alloc();
	if (msg == NULL ||
	    genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
	    KUIF_CMD_ECHO, KUIF_GENL_VERSION) == NULL ||
	    (with_attr && nla_put_string(msg, KUIF_A_MSG, text) < 0)) {
		fprintf(stderr, "nl-echo: cannot build the message\n");
		return 1;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, &got);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	/* The reply, then the ack; an error comes instead of both. */
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	if (err >= 0)
		err = nl_wait_for_ack(sk);
	nl_socket_free(sk);
	if (err < 0) {
		fprintf(stderr, "nl-echo: %s\n", nl_geterror(err));
		return 1;
	}
	return got ? 0 : 1;
}
