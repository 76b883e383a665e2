// SPDX-License-Identifier: GPL-2.0
/*
 * Readers killed mid-read: a child drains the mmap ring or the netlink
 * events group while a BENCH burst flows, and dies of SIGKILL at a random
 * moment, in the middle of a record, a recv() or a poll().
 *
 * Promises checked: the burst completes, a reader's death stops nothing
 * (the next burst completes too), and the consumer position a dead ring
 * reader leaves behind is a valid one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <kuif.h>
#include "kfuzz.h"

static unsigned long killed_ring, killed_netlink;

static void __attribute__((noreturn)) ring_reader(int ready)
{
	struct kuif_ring_info info;
	volatile struct kuif_ring_consumer *cp;
	const volatile struct kuif_ring_producer *h;
	struct pollfd p;
	const uint8_t *data;
	int fd;

	fd = open("/dev/kuif", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, KUIF_IOC_RING_INFO, &info) != 0)
		_exit(1);
	cp = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE,
		  MAP_SHARED, fd, info.consumer_offset);
	h = mmap(NULL, info.mmap_size - info.producer_offset, PROT_READ,
		 MAP_SHARED, fd, info.producer_offset);
	if (cp == MAP_FAILED || h == MAP_FAILED)
		_exit(1);
	data = (const uint8_t *)h + (info.data_offset - info.producer_offset);
	(void)!write(ready, "r", 1);
	p.fd = fd;
	p.events = POLLIN;
	for (;;) {
		uint64_t c = __atomic_load_n(&cp->consumer, __ATOMIC_ACQUIRE);
		uint64_t end = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);

		if (c > end || end - c > info.data_size || c % 8)
			c = end;	/* the kernel will reset it too */
		while (c < end) {
			uint32_t len;

			memcpy(&len, data + c % info.data_size, sizeof(len));
			if (len < 8 || len % 8)
				break;
			c += len;
			__atomic_store_n(&cp->consumer, c, __ATOMIC_RELEASE);
		}
		poll(&p, 1, 10);
	}
}

static void __attribute__((noreturn)) netlink_reader(int ready)
{
	static uint8_t buf[65536];
	int s = kf_genl_events_socket();
	size_t size = sizeof(buf);

	if (s < 0)
		_exit(1);
	(void)!write(ready, "n", 1);
	for (;;) {
		/* Small reads too: messages cut short (MSG_TRUNC). */
		(void)!recv(s, buf, size, 0);
		size = size == sizeof(buf) ? 16 : sizeof(buf);
	}
}

static pid_t start_reader(int ring)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (ring)
			ring_reader(fds[1]);
		netlink_reader(fds[1]);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &c, 1) != 1) {
		kf_fail("the %s reader did not start", ring ? "ring" : "netlink");
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

/* The consumer a dead reader left must be one the kernel accepts. */
static void check_consumer(void)
{
	const volatile struct kuif_ring_consumer *cp;
	const volatile struct kuif_ring_producer *h;
	uint8_t *m;
	uint64_t c, p;
	int fd = open("/dev/kuif", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	/* The consumer and producer pages, read-only, in one map. */
	m = mmap(NULL, 2 * KF_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		kf_fail("mmap of the ring's first pages: %s", strerror(errno));
		return;
	}
	cp = (const void *)m;
	h = (const void *)(m + KF_PAGE);
	c = __atomic_load_n(&cp->consumer, __ATOMIC_ACQUIRE);
	p = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);
	if (c > p || p - c > h->data_size || c % 8)
		kf_fail("a dead reader left consumer %llu, producer %llu",
			(unsigned long long)c, (unsigned long long)p);
	munmap(m, 2 * KF_PAGE);
}

static pid_t start_killer(pid_t victim, unsigned int delay_us)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec ts = {
			.tv_sec = delay_us / 1000000,
			.tv_nsec = (long)(delay_us % 1000000) * 1000,
		};

		nanosleep(&ts, NULL);
		kill(victim, SIGKILL);
		_exit(0);
	}
	return pid;
}

static void readers_op(void)
{
	int ring = kf_chance(50), err;
	unsigned int delay = (unsigned int)kf_below(30000);
	uint32_t count = 50 + (uint32_t)kf_below(951);
	uint32_t size = (uint32_t)kf_below(KUIF_PAYLOAD_MAX + 1);
	pid_t reader, killer;

	reader = start_reader(ring);
	if (reader <= 0)
		return;
	killer = start_killer(reader, delay);
	err = kf_genl_bench(count, size, KUIF_CH_NETLINK | KUIF_CH_RING);
	if (err)
		kf_fail("BENCH of %u while a reader died: %s", count,
			strerror(-err));
	if (killer > 0)
		waitpid(killer, NULL, 0);
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	if (ring) {
		check_consumer();
		killed_ring++;
	} else
		killed_netlink++;
	err = kf_genl_bench(1, 0, KUIF_CH_NETLINK | KUIF_CH_RING);
	if (err)
		kf_fail("BENCH after a reader died: %s", strerror(-err));
}

static void readers_fini(void)
{
	printf("readers: %lu ring and %lu netlink readers killed mid-read\n",
	       killed_ring, killed_netlink);
}

struct target kf_target_readers = {
	.name = "readers",
	.init = kf_genl_init,
	.op = readers_op,
	.fini = readers_fini,
	.weight = 1,
};
