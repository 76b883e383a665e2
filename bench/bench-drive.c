// SPDX-License-Identifier: GPL-2.0
/*
 * bench-drive: make the kernel emit COUNT "bench" events through the
 * module's BENCH command, as fast as possible or at a steady rate.
 *
 *   bench-drive --count N [--size S] [--channels MASK] [--rate R]
 *               [--batch B] [--follow-ring]
 *
 * --rate R     events per second, sent in small batches at least every
 *              millisecond (0, the default: as fast as BENCH goes)
 * --batch B    at most B events per BENCH request (default 64)
 * --follow-ring
 *              never emit more than the ring has room for: a read-only
 *              map of the ring's first two pages (consumer and producer)
 *              shows how far its reader is, so
 *              the rate follows the reader's speed and the kernel drops
 *              nothing (the reader's throughput without loss)
 *
 * Prints "sent N seconds S last_kseq K cpu_ns C wait_ns W" (C and W: its
 * CPU time, and its time spent waiting for a CPU, while it emitted).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <kuif.h>

#include "bench.h"

static uint64_t last_kseq;

static int
on_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KUIF_A_MAX + 1];

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KUIF_A_MAX, NULL) == 0 &&
	    tb[KUIF_A_KSEQ] != NULL)
		last_kseq = nla_get_u64(tb[KUIF_A_KSEQ]);
	return NL_OK;
}

static int
bench(struct nl_sock *sk, int family, uint32_t n, uint32_t size,
    uint32_t channels)
{
	struct nl_msg *msg = nlmsg_alloc();
	int err;

	if (msg == NULL)
		return -NLE_NOMEM;
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
	    KUIF_CMD_BENCH, KUIF_GENL_VERSION);
	nla_put_u32(msg, KUIF_A_COUNT, n);
	nla_put_u32(msg, KUIF_A_SIZE, size);
	nla_put_u32(msg, KUIF_A_CHANNELS, channels);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	if (err >= 0)
		err = nl_wait_for_ack(sk);
	return err;
}

int
main(int argc, char **argv)
{
	uint64_t count = 0, sent = 0, due;
	uint32_t size = 64, channels = KUIF_CH_RING, batch = 64, n, rec;
	double rate = 0;
	int follow = 0, family, err, i, fd;
	const struct kuif_ring_consumer *c = NULL;
	const struct kuif_ring_producer *h = NULL;
	const uint8_t *m;
	struct kuif_ring_info info;
	struct nl_sock *sk;
	int64_t t0, t;
	long long cpu0, wait0;
	struct timespec nap = { 0, 200000 };

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--channels") == 0 && i + 1 < argc)
			channels = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--follow-ring") == 0)
			follow = 1;
		else {
			fprintf(stderr, "usage: bench-drive --count N [--size S]"
			    " [--channels MASK] [--rate R] [--batch B]"
			    " [--follow-ring]\n");
			return 2;
		}
	}
	if (count == 0 || batch == 0 || batch > KUIF_BENCH_MAX ||
	    size > KUIF_PAYLOAD_MAX) {
		fprintf(stderr, "bench-drive: bad --count, --batch or --size\n");
		return 2;
	}
	rec = (uint32_t)((sizeof(struct kuif_ring_record) + size + 7) & ~7UL);
	if (follow) {
		fd = open(KUIF_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (fd == -1 || ioctl(fd, KUIF_IOC_RING_INFO, &info) == -1) {
			perror("bench-drive: " KUIF_DEVICE_PATH);
			return 2;
		}
		m = mmap(NULL, info.data_offset, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			perror("bench-drive: mmap");
			return 2;
		}
		c = (const void *)(m + info.consumer_offset);
		h = (const void *)(m + info.producer_offset);
	}

	sk = nl_socket_alloc();
	if (sk == NULL || genl_connect(sk) < 0)
		return 1;
	family = genl_ctrl_resolve(sk, KUIF_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "bench-drive: %s\n", nl_geterror(family));
		return 1;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, NULL);

	cpu0 = bench_cpu_ns();
	wait0 = bench_wait_ns();
	t0 = bench_mono();
	while (sent < count) {
		n = (uint32_t)(count - sent < batch ? count - sent : batch);
		if (rate > 0) {
			t = bench_mono();
			due = (uint64_t)(rate * (double)(t - t0) / 1e9) + 1;
			if (due > count)
				due = count;
			if (due <= sent) {
				nanosleep(&nap, NULL);
				continue;
			}
			if (due - sent < n)
				n = (uint32_t)(due - sent);
		}
		if (follow) {
			uint64_t used = __atomic_load_n(&h->producer,
			    __ATOMIC_ACQUIRE) -
			    __atomic_load_n(&c->consumer, __ATOMIC_ACQUIRE);
			/* Room for n records and a pad in the worst case. */
			uint64_t room = info.data_size - used;

			/* No room: sleep, so as not to take the CPU the
			 * reader needs (2 vCPUs: reader, kuifd, us). */
			if (room < 2ULL * rec) {
				nanosleep(&nap, NULL);
				continue;
			}
			if ((uint64_t)n * rec > room - rec)
				n = (uint32_t)((room - rec) / rec);
		}
		err = bench(sk, family, n, size, channels);
		if (err < 0) {
			fprintf(stderr, "bench-drive: BENCH: %s\n",
			    nl_geterror(err));
			return 1;
		}
		sent += n;
	}
	t = bench_mono();
	printf("sent %llu seconds %.6f last_kseq %llu cpu_ns %lld wait_ns %lld\n",
	    (unsigned long long)sent, (double)(t - t0) / 1e9,
	    (unsigned long long)last_kseq, bench_cpu_ns() - cpu0,
	    bench_wait_ns() - wait0);
	nl_socket_free(sk);
	return 0;
}
