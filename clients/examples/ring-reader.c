// SPDX-License-Identifier: GPL-2.0
/*
 * ring-reader: drain the mmap ring of /dev/kuif, the fastest way to hear
 * the kernel. Prints "kseq name payload" per record.
 *
 *   ring-reader [--count N] [--timeout S] [--quiet] [--stats]
 *               [--set-consumer POS]
 *
 * --set-consumer writes a (possibly bogus) consumer position and exits:
 * the kernel must notice and recover. Exits 1 if --count records did not
 * come before the timeout.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kuif.h>

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	long long count = -1, seen = 0, deadline = -1, left;
	int quiet = 0, stats = 0, i, fd;
	struct kuif_ring_info info;
	struct kuif_ring_header *h;
	const struct kuif_ring_record *r;
	uint64_t prod, cons, dropped = 0;
	uint8_t *data;
	struct pollfd pfd;

	fd = open(KUIF_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd == -1 || ioctl(fd, KUIF_IOC_RING_INFO, &info) == -1) {
		perror("ring-reader: " KUIF_DEVICE_PATH);
		return 2;
	}
	h = mmap(NULL, info.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (h == MAP_FAILED) {
		perror("ring-reader: mmap");
		return 2;
	}
	if (h->magic != KUIF_RING_MAGIC || h->version != KUIF_RING_VERSION) {
		fprintf(stderr, "ring-reader: bad magic or version\n");
		return 2;
	}
	data = (uint8_t *)h + info.data_offset;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atoll(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			deadline = now_ms() + atoll(argv[++i]) * 1000;
		else if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "--stats") == 0)
			stats = 1;
		else if (strcmp(argv[i], "--set-consumer") == 0 && i + 1 < argc) {
			__atomic_store_n(&h->consumer,
			    strtoull(argv[++i], NULL, 0), __ATOMIC_RELEASE);
			return 0;
		} else {
			fprintf(stderr, "usage: ring-reader [--count N] "
			    "[--timeout S] [--quiet] [--stats] "
			    "[--set-consumer POS]\n");
			return 2;
		}
	}
	if (stats) {
		printf("mmap_size %llu data_size %u producer %llu consumer %llu "
		    "dropped %llu records %llu bad_consumer %llu\n",
		    (unsigned long long)info.mmap_size, info.data_size,
		    (unsigned long long)h->producer,
		    (unsigned long long)h->consumer,
		    (unsigned long long)h->dropped,
		    (unsigned long long)h->records,
		    (unsigned long long)h->bad_consumer);
		return 0;
	}

	while (count < 0 || seen < count) {
		prod = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);
		cons = h->consumer;
		while (cons < prod) {
			r = (const void *)(data + (cons & (info.data_size - 1)));
			if (r->len < 8 || r->len % 8 || r->len > prod - cons) {
				fprintf(stderr, "ring-reader: bad record at %llu\n",
				    (unsigned long long)cons);
				return 3;
			}
			if (r->type == KUIF_RING_EVENT) {
				if (!quiet)
					printf("%llu %.*s %.*s\n",
					    (unsigned long long)r->kseq,
					    (int)sizeof(r->event), r->event,
					    (int)r->payload_len, r->payload);
				seen++;
			}
			cons += r->len;
			__atomic_store_n(&h->consumer, cons, __ATOMIC_RELEASE);
			if (count >= 0 && seen >= count)
				break;
		}
		fflush(stdout);
		if (h->dropped != dropped) {
			dropped = h->dropped;
			fprintf(stderr, "ring-reader: dropped %llu so far\n",
			    (unsigned long long)dropped);
		}
		if (count >= 0 && seen >= count)
			break;
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			perror("ring-reader: poll");
			return 2;
		}
	}
	return count >= 0 && seen < count ? 1 : 0;
}
