// SPDX-License-Identifier: GPL-2.0
/*
 * nl-cmd: the other generic netlink commands of the kuif family.
 *
 *   nl-cmd stats                         GET_STATS, "name value" lines
 *   nl-cmd bench COUNT SIZE CHANNELS     BENCH; prints the last kseq and
 *                                        the time it took
 *   nl-cmd bench-raw [COUNT] [SIZE] [CHANNELS]
 *                                        BENCH with only the given
 *                                        attributes (for error tests)
 *   nl-cmd register-signal PID           REGISTER_SIGNAL (0 unregisters)
 *
 * Errors print the libnl message and exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <kuif.h>

static const char *const stat_names[] = {
	[KUIF_STAT_EVENTS] = "events",
	[KUIF_STAT_NETLINK_SENT] = "netlink_sent",
	[KUIF_STAT_NETLINK_DROPPED] = "netlink_dropped",
	[KUIF_STAT_RING_SENT] = "ring_sent",
	[KUIF_STAT_RING_DROPPED] = "ring_dropped",
	[KUIF_STAT_SIGNAL_SENT] = "signal_sent",
	[KUIF_STAT_SIGNAL_DROPPED] = "signal_dropped",
	[KUIF_STAT_UPCALL_SENT] = "upcall_sent",
	[KUIF_STAT_UPCALL_DROPPED] = "upcall_dropped",
};

static int
on_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KUIF_A_MAX + 1], *st[KUIF_STAT_MAX + 1];
	int i;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KUIF_A_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[KUIF_A_KSEQ] != NULL)
		printf("kseq %llu\n",
		    (unsigned long long)nla_get_u64(tb[KUIF_A_KSEQ]));
	if (tb[KUIF_A_STATS] != NULL &&
	    nla_parse_nested(st, KUIF_STAT_MAX, tb[KUIF_A_STATS], NULL) == 0) {
		for (i = 1; i <= KUIF_STAT_MAX; i++) {
			if (st[i] != NULL && i < (int)(sizeof(stat_names) /
			    sizeof(stat_names[0])) && stat_names[i] != NULL)
				printf("%s %llu\n", stat_names[i],
				    (unsigned long long)nla_get_u64(st[i]));
		}
	}
	return NL_OK;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, cmd, err, i;

	if (argc < 2) {
		fprintf(stderr, "usage: nl-cmd stats | bench COUNT SIZE CHANNELS"
		    " | bench-raw [COUNT [SIZE [CHANNELS]]] | "
		    "register-signal PID\n");
		return 2;
	}
	sk = nl_socket_alloc();
	if (sk == NULL || genl_connect(sk) < 0)
		return 1;
	family = genl_ctrl_resolve(sk, KUIF_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "nl-cmd: %s\n", nl_geterror(family));
		return 1;
	}
	msg = nlmsg_alloc();
	if (strcmp(argv[1], "stats") == 0)
		cmd = KUIF_CMD_GET_STATS;
	else if (strncmp(argv[1], "bench", 5) == 0)
		cmd = KUIF_CMD_BENCH;
	else if (strcmp(argv[1], "register-signal") == 0 && argc == 3)
		cmd = KUIF_CMD_REGISTER_SIGNAL;
	else
		return 2;
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
	    KUIF_GENL_VERSION);
	if (cmd == KUIF_CMD_BENCH) {
		if (strcmp(argv[1], "bench") == 0 && argc != 5)
			return 2;
		for (i = 2; i < argc && i < 5; i++)
			nla_put_u32(msg, i == 2 ? KUIF_A_COUNT : i == 3 ?
			    KUIF_A_SIZE : KUIF_A_CHANNELS,
			    (uint32_t)strtoul(argv[i], NULL, 0));
	} else if (cmd == KUIF_CMD_REGISTER_SIGNAL)
		nla_put_u32(msg, KUIF_A_PID, (uint32_t)strtoul(argv[2], NULL, 0));

	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	if (err >= 0 && cmd != KUIF_CMD_REGISTER_SIGNAL)
		err = nl_wait_for_ack(sk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nl_socket_free(sk);
	if (err < 0) {
		fprintf(stderr, "nl-cmd: %s\n", nl_geterror(err));
		return 1;
	}
	if (cmd == KUIF_CMD_BENCH)
		printf("seconds %.6f\n", (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
