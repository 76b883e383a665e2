// SPDX-License-Identifier: GPL-2.0
/*
 * bench-ring: the raw limit of the mmap ring. Drains /dev/kuif's ring and
 * discards what it reads, counting "bench" records; optionally keeps each
 * record's latency (receipt time, CLOCK_REALTIME, minus the kernel's
 * time_ns).
 *
 *   bench-ring --count N [--timeout S] [--idle S] [--lat FILE]
 *              [--ready FILE]
 *
 * Stops when N bench records were read or dropped, after --idle seconds
 * without a record (default 3), or after --timeout seconds (default 600).
 * Prints "received R dropped D first_ns F last_ns L"; dropped is the
 * kernel's drop counter (ring full) since the start.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kuif.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	struct bench_opts o = BENCH_OPTS_DEFAULT;
	uint64_t seen = 0, prod, cons, drop0;
	struct kuif_ring_header *h;
	const struct kuif_ring_record *r;
	struct kuif_ring_info info;
	struct bench_lat lat = { 0 };
	int64_t start, last, now, first_ns = 0, last_ns = 0, t;
	struct pollfd pfd;
	uint8_t *data;
	int i, fd;

	for (i = 1; i < argc; i++) {
		if (bench_reader_opt(argc, argv, &i, &o))
			continue;
		fprintf(stderr, "usage: bench-ring --count N [--timeout S]"
		    " [--idle S] [--lat FILE] [--ready FILE]\n");
		return 2;
	}
	fd = open(KUIF_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd == -1 || ioctl(fd, KUIF_IOC_RING_INFO, &info) == -1) {
		perror("bench-ring: " KUIF_DEVICE_PATH);
		return 2;
	}
	h = mmap(NULL, info.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (h == MAP_FAILED || h->magic != KUIF_RING_MAGIC) {
		perror("bench-ring: mmap");
		return 2;
	}
	data = (uint8_t *)h + info.data_offset;
	/* Start from an empty ring: what was there is not ours. */
	__atomic_store_n(&h->consumer, __atomic_load_n(&h->producer,
	    __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	drop0 = __atomic_load_n(&h->dropped, __ATOMIC_RELAXED);
	bench_ready(o.ready);

	start = last = bench_mono();
	for (;;) {
		prod = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);
		cons = h->consumer;
		if (cons < prod) {
			t = bench_real();
			if (first_ns == 0)
				first_ns = t;
			last_ns = t;
			while (cons < prod) {
				r = (const void *)(data +
				    (cons & (info.data_size - 1)));
				if (r->len < 8 || r->len % 8 ||
				    r->len > prod - cons) {
					fprintf(stderr, "bench-ring: bad record"
					    " at %llu\n",
					    (unsigned long long)cons);
					return 3;
				}
				if (r->type == KUIF_RING_EVENT &&
				    memcmp(r->event, "bench", 6) == 0) {
					seen++;
					if (o.lat_path != NULL)
						bench_lat_add(&lat,
						    t - (int64_t)r->time_ns);
				}
				cons += r->len;
			}
			__atomic_store_n(&h->consumer, cons, __ATOMIC_RELEASE);
			last = bench_mono();
		}
		if (o.count && seen + (h->dropped - drop0) >= o.count)
			break;
		now = bench_mono();
		if (now - last > o.idle * 1e9 || now - start > o.timeout * 1e9)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR) {
			perror("bench-ring: poll");
			return 2;
		}
	}
	printf("received %llu dropped %llu first_ns %lld last_ns %lld\n",
	    (unsigned long long)seen,
	    (unsigned long long)(h->dropped - drop0), (long long)first_ns,
	    (long long)last_ns);
	return bench_lat_write(&lat, o.lat_path) ? 2 : 0;
}
