// SPDX-License-Identifier: GPL-2.0
/*
 * ring-reader: drain the mmap ring of /dev/kuif, the fastest way to hear
 * the kernel. Prints "kseq name payload" per record.
 *
 *   ring-reader [--count N] [--timeout S] [--quiet] [--event NAME]
 *               [--stats] [--set-consumer POS] [--scribble S]
 *
 * Two maps, as the UAPI header says: the consumer page read-write, the
 * producer page and the records read-only. --stats maps all of it
 * read-only instead.
 *
 * --set-consumer writes a (possibly bogus) consumer position and exits:
 * the kernel must notice and recover. --scribble writes garbage consumer
 * positions in a loop for S seconds, as a hostile reader would. --event
 * prints and counts only the events of that name. Exits 1 if --count
 * records did not come before the timeout.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
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

/* Pseudo-random garbage: ahead, behind, misaligned, huge, or plausible. */
static uint64_t
garbage(uint64_t *x, uint64_t prod, uint32_t size)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	switch (*x % 6) {
	case 0:
		return prod + 8 * (*x >> 40 & 0xff);
	case 1:
		return prod - size - 8;
	case 2:
		return prod - 1 - (*x >> 50 & 7);
	case 3:
		return *x;
	case 4:
		return prod;
	default:
		return prod - (*x >> 32) % (size + 1) / 8 * 8;
	}
}

static int
stats(int fd, const struct kuif_ring_info *info)
{
	const uint8_t *m;
	const struct kuif_ring_consumer *c;
	const struct kuif_ring_producer *p;

	m = mmap(NULL, info->mmap_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("ring-reader: mmap");
		return 2;
	}
	c = (const void *)(m + info->consumer_offset);
	p = (const void *)(m + info->producer_offset);
	printf("mmap_size %llu data_size %u producer %llu consumer %llu "
	    "dropped %llu records %llu bad_consumer %llu last_kseq %llu "
	    "version %u\n",
	    (unsigned long long)info->mmap_size, info->data_size,
	    (unsigned long long)p->producer,
	    (unsigned long long)c->consumer,
	    (unsigned long long)p->dropped,
	    (unsigned long long)p->records,
	    (unsigned long long)p->bad_consumer,
	    (unsigned long long)p->last_kseq, p->version);
	return 0;
}

int
main(int argc, char **argv)
{
	long long count = -1, seen = 0, deadline = -1, left, scribble = -1;
	int quiet = 0, want_stats = 0, set = 0, i, fd;
	struct kuif_ring_info info;
	struct kuif_ring_consumer *c;
	const struct kuif_ring_producer *p;
	struct kuif_ring_record r;	/* private copy of each header */
	uint64_t prod, cons, dropped = 0, setpos = 0, x = 88172645463325252ULL;
	const char *only = NULL;
	const uint8_t *data;
	struct pollfd pfd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atoll(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			deadline = now_ms() + atoll(argv[++i]) * 1000;
		else if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "--event") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--stats") == 0)
			want_stats = 1;
		else if (strcmp(argv[i], "--set-consumer") == 0 && i + 1 < argc) {
			set = 1;
			setpos = strtoull(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--scribble") == 0 && i + 1 < argc)
			scribble = now_ms() + atoll(argv[++i]) * 1000;
		else {
			fprintf(stderr, "usage: ring-reader [--count N] "
			    "[--timeout S] [--quiet] [--event NAME] [--stats] "
			    "[--set-consumer POS] [--scribble S]\n");
			return 2;
		}
	}

	fd = open(KUIF_DEVICE_PATH, (want_stats ? O_RDONLY : O_RDWR) |
	    O_CLOEXEC);
	if (fd == -1 || ioctl(fd, KUIF_IOC_RING_INFO, &info) == -1) {
		perror("ring-reader: " KUIF_DEVICE_PATH);
		return 2;
	}
	if (want_stats)
		return stats(fd, &info);
	c = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, info.consumer_offset);
	p = mmap(NULL, info.mmap_size - info.producer_offset, PROT_READ,
	    MAP_SHARED, fd, info.producer_offset);
	if (c == MAP_FAILED || p == MAP_FAILED) {
		perror("ring-reader: mmap");
		return 2;
	}
	if (p->magic != KUIF_RING_MAGIC || p->version != KUIF_RING_VERSION) {
		fprintf(stderr, "ring-reader: bad magic or version\n");
		return 2;
	}
	data = (const uint8_t *)p + (info.data_offset - info.producer_offset);
	if (set) {
		__atomic_store_n(&c->consumer, setpos, __ATOMIC_RELEASE);
		return 0;
	}
	if (scribble >= 0) {
		x ^= (uint64_t)getpid();
		while (now_ms() < scribble) {
			prod = __atomic_load_n(&p->producer, __ATOMIC_ACQUIRE);
			__atomic_store_n(&c->consumer,
			    garbage(&x, prod, info.data_size),
			    __ATOMIC_RELEASE);
			sched_yield();
		}
		return 0;
	}

	/* Our own position: the shared one is only written. */
	cons = __atomic_load_n(&c->consumer, __ATOMIC_ACQUIRE);
	while (count < 0 || seen < count) {
		prod = __atomic_load_n(&p->producer, __ATOMIC_ACQUIRE);
		if (cons > prod || prod - cons > info.data_size || cons % 8) {
			fprintf(stderr, "ring-reader: lost our place at %llu "
			    "(producer %llu); skipping\n",
			    (unsigned long long)cons,
			    (unsigned long long)prod);
			cons = prod;
		}
		while (cons < prod) {
			uint32_t off = (uint32_t)(cons & (info.data_size - 1));

			/* One read of the header, then only the copy. */
			memcpy(&r, data + off, 8);
			if (r.len < 8 || r.len % 8 || r.len > prod - cons ||
			    r.len > info.data_size - off) {
				fprintf(stderr, "ring-reader: bad record at %llu\n",
				    (unsigned long long)cons);
				return 3;
			}
			if (r.type == KUIF_RING_EVENT) {
				if (r.len < sizeof(r) + r.payload_len) {
					fprintf(stderr, "ring-reader: bad event "
					    "at %llu\n",
					    (unsigned long long)cons);
					return 3;
				}
				memcpy((uint8_t *)&r + 8, data + off + 8,
				    sizeof(r) - 8);
				if (only != NULL && strncmp(r.event, only,
				    sizeof(r.event)) != 0) {
					cons += r.len;
					__atomic_store_n(&c->consumer, cons,
					    __ATOMIC_RELEASE);
					continue;
				}
				if (!quiet)
					printf("%llu %.*s %.*s\n",
					    (unsigned long long)r.kseq,
					    (int)sizeof(r.event), r.event,
					    (int)r.payload_len,
					    data + off + sizeof(r));
				seen++;
			}
			cons += r.len;
			__atomic_store_n(&c->consumer, cons, __ATOMIC_RELEASE);
			if (count >= 0 && seen >= count)
				break;
		}
		fflush(stdout);
		if (p->dropped != dropped) {
			dropped = p->dropped;
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
