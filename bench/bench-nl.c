// SPDX-License-Identifier: GPL-2.0
/*
 * bench-nl: the raw limit of generic netlink. A minimal libnl-genl-3
 * subscriber of the kuif "events" multicast group that counts "bench"
 * events and discards them; optionally keeps each event's latency
 * (receipt time, CLOCK_REALTIME, minus KUIF_A_TIME). Its receive buffer is
 * the size kuifd asks for (8 MiB), so the two compare on equal terms.
 *
 *   bench-nl --count N [--timeout S] [--idle S] [--lat FILE] [--ready FILE]
 *
 * Stops when N bench events came, after --idle seconds without one
 * (default 3; before the first, 30 s at least), or after --timeout seconds (default 600). Prints
 * "received R overruns O first_ns F last_ns L"; overruns counts ENOBUFS,
 * each a burst of events the kernel could not queue for us.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <kuif.h>

#include "bench.h"

#define RCVBUF	(8 * 1024 * 1024)

static struct {
	int		 family;
	uint64_t	 seen;
	int64_t		 first_ns, last_ns, last_mono;
	const char	*lat_path;
	struct bench_lat lat;
} st;

static int
on_msg(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[KUIF_A_MAX + 1];
	int64_t t;

	(void)arg;
	if (nlh->nlmsg_type != st.family ||
	    genlmsg_parse(nlh, 0, tb, KUIF_A_MAX, NULL) < 0 ||
	    tb[KUIF_A_EVENT] == NULL || tb[KUIF_A_TIME] == NULL ||
	    strcmp(nla_get_string(tb[KUIF_A_EVENT]), "bench") != 0)
		return NL_SKIP;
	t = bench_real();
	if (st.first_ns == 0)
		st.first_ns = t;
	st.last_ns = t;
	st.seen++;
	if (st.lat_path != NULL)
		bench_lat_add(&st.lat, t - (int64_t)nla_get_u64(tb[KUIF_A_TIME]));
	return NL_OK;
}

int
main(int argc, char **argv)
{
	struct bench_opts o = BENCH_OPTS_DEFAULT;
	uint64_t overruns = 0;
	struct timeval tv = { 0, 100000 };
	int64_t start, now;
	struct nl_sock *sk;
	int i, grp, err, size = RCVBUF;
	long long cpu0, wait0;

	for (i = 1; i < argc; i++) {
		if (bench_reader_opt(argc, argv, &i, &o))
			continue;
		fprintf(stderr, "usage: bench-nl --count N [--timeout S]"
		    " [--idle S] [--lat FILE] [--ready FILE]\n");
		return 2;
	}
	st.lat_path = o.lat_path;
	sk = nl_socket_alloc();
	if (sk == NULL || genl_connect(sk) < 0)
		return 2;
	st.family = genl_ctrl_resolve(sk, KUIF_GENL_NAME);
	grp = genl_ctrl_resolve_grp(sk, KUIF_GENL_NAME, KUIF_GENL_MCGRP_EVENTS);
	if (st.family < 0 || grp < 0) {
		fprintf(stderr, "bench-nl: family %s not found\n",
		    KUIF_GENL_NAME);
		return 2;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_disable_auto_ack(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, NULL);
	nl_socket_set_buffer_size(sk, RCVBUF, 0);
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size));
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
	if (nl_socket_add_membership(sk, grp) < 0) {
		fprintf(stderr, "bench-nl: cannot join the events group\n");
		return 2;
	}
	cpu0 = bench_cpu_ns();
	wait0 = bench_wait_ns();
	bench_ready(o.ready);

	start = st.last_mono = bench_mono();
	for (;;) {
		uint64_t before = st.seen;

		err = nl_recvmsgs_default(sk);
		if (err == -NLE_NOMEM)
			overruns++;
		else if (err < 0 && err != -NLE_AGAIN) {
			fprintf(stderr, "bench-nl: %s\n", nl_geterror(err));
			return 2;
		}
		now = bench_mono();
		if (st.seen != before)
			st.last_mono = now;
		if (o.count && st.seen >= o.count)
			break;
		if (bench_gave_up(&o, start, st.last_mono, now))
			break;
	}
	printf("received %llu overruns %llu first_ns %lld last_ns %lld cpu_ns %lld "
	    "wait_ns %lld\n", (unsigned long long)st.seen,
	    (unsigned long long)overruns, (long long)st.first_ns,
	    (long long)st.last_ns, bench_cpu_ns() - cpu0,
	    bench_wait_ns() - wait0);
	return bench_lat_write(&st.lat, st.lat_path) ? 2 : 0;
}
