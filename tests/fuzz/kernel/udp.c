// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel UDP socket: datagrams of every size from 0 to the IPv4
 * maximum of 65507 bytes (and beyond, which the sender refuses), random
 * contents, floods sent without waiting, and senders that close before
 * the echo comes back.
 *
 * Promises checked: a datagram sent alone is echoed whole, byte for byte,
 * within five seconds; in a flood, every echo that arrives is exactly one
 * of the datagrams sent (some may be lost to a full receive buffer).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "kfuzz.h"

#define UDP_MAX		65507
#define FLOOD_MAX	200
#define FLOOD_LEN	1500

static struct sockaddr_in to = { .sin_family = AF_INET };
static uint8_t out[UDP_MAX + 64], in[UDP_MAX + 64];
static uint8_t flood[FLOOD_MAX][FLOOD_LEN];
static size_t flood_len[FLOOD_MAX];
static unsigned long echoed, lost_in_floods;

static int udp_init(void)
{
	char buf[32];

	if (kf_read_file("/sys/module/kuif/parameters/udp_port", buf,
			 sizeof(buf)) <= 0) {
		kf_fail("no udp_port parameter");
		return -1;
	}
	to.sin_port = htons((uint16_t)atoi(buf));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

static int new_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int size = 4 << 20;

	if (s < 0)
		kf_fail("socket: %s", strerror(errno));
	else
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return s;
}

static size_t udp_size(void)
{
	static const size_t edges[] = {
		0, 1, 255, 256, 257, 1472, 1473, 4096, 8192, 32768, 65506,
		65507, 65508, 65535,
	};

	if (kf_chance(40))
		return edges[kf_below(sizeof(edges) / sizeof(edges[0]))];
	if (kf_chance(70))
		return kf_below(2048);
	return kf_below(UDP_MAX + 1);
}

/* Waits up to ms for a datagram; signal 44 may interrupt the wait. */
static ssize_t recv_wait(int s, void *buf, size_t size, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct timespec t0, t1;
	int left = ms, r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((r = poll(&p, 1, left)) < 0 && errno == EINTR) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
				  (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return -1;
	}
	if (r <= 0)
		return -1;
	return recv(s, buf, size, MSG_DONTWAIT);
}

static void udp_single(void)
{
	size_t len = udp_size();
	int s = new_socket();
	ssize_t n;

	if (s < 0)
		return;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)kf_rand();
	n = sendto(s, out, len, 0, (struct sockaddr *)&to, sizeof(to));
	if (len > UDP_MAX) {
		kf_note_refused();
		if (n >= 0)
			kf_fail("a %zu-byte datagram was sent", len);
	} else if (n != (ssize_t)len) {
		kf_fail("sendto %zu bytes: %s", len, strerror(errno));
	} else if (kf_chance(10)) {
		/* Gone before the echo: it goes nowhere. */
	} else {
		n = recv_wait(s, in, sizeof(in), 5000);
		if (n != (ssize_t)len || memcmp(in, out, len))
			kf_fail("%zu-byte datagram: echo of %zd bytes%s", len,
				n, n == (ssize_t)len ? " that differ" : "");
		else
			echoed++;
	}
	close(s);
}

static void udp_flood(void)
{
	int s = new_socket(), count = 1 + (int)kf_below(FLOOD_MAX), got = 0;
	ssize_t n;

	if (s < 0)
		return;
	for (int i = 0; i < count; i++) {
		flood_len[i] = 4 + kf_below(FLOOD_LEN - 3);
		memcpy(flood[i], &i, 4);
		for (size_t j = 4; j < flood_len[i]; j++)
			flood[i][j] = (uint8_t)kf_rand();
		if (sendto(s, flood[i], flood_len[i], MSG_DONTWAIT,
			   (struct sockaddr *)&to, sizeof(to)) < 0)
			kf_note_refused();
	}
	while ((n = recv_wait(s, in, sizeof(in), 1000)) >= 0) {
		int i;

		memcpy(&i, in, 4);
		if (n < 4 || i < 0 || i >= count || (size_t)n != flood_len[i] ||
		    memcmp(in, flood[i], (size_t)n)) {
			kf_fail("a flood echo of %zd bytes is no datagram sent",
				n);
			break;
		}
		if (++got == count)
			break;
	}
	echoed += (unsigned long)got;
	lost_in_floods += (unsigned long)(count - got);
	close(s);
}

static void udp_op(void)
{
	if (kf_chance(85))
		udp_single();
	else
		udp_flood();
}

static void udp_fini(void)
{
	printf("udp: %lu echoes checked, %lu lost in floods\n", echoed,
	       lost_in_floods);
}

struct target kf_target_udp = {
	.name = "udp",
	.init = udp_init,
	.op = udp_op,
	.fini = udp_fini,
	.weight = 8,
};
