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
 * without a record (default 3; before the first, 30 s at least), or after --timeout seconds (default 600).
 * Prints "received R dropped D first_ns F last_ns L cpu_ns C wait_ns W";
 * dropped is the kernel's drop counter (ring full) since the start; C and
 * W, this process's CPU time and time spent waiting for a CPU since then.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <fcntl.h>
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
	struct kuif_ring_consumer *c;
	const struct kuif_ring_producer *h;
	struct kuif_ring_record r;	/* private copy of a header */
	struct kuif_ring_info info;
	struct bench_lat lat = { 0 };
	int64_t start, last, now, first_ns = 0, last_ns = 0, t;
	const uint8_t *data;
	uint32_t off;
	int i, fd;
	long long cpu0, wait0;

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
	/* The consumer page read-write, the rest read-only. */
	c = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, info.consumer_offset);
	h = mmap(NULL, info.mmap_size - info.producer_offset, PROT_READ,
	    MAP_SHARED, fd, info.producer_offset);
	if (c == MAP_FAILED || h == MAP_FAILED ||
	    h->magic != KUIF_RING_MAGIC || h->version != KUIF_RING_VERSION) {
		perror("bench-ring: mmap");
		return 2;
	}
	data = (const uint8_t *)h + (info.data_offset - info.producer_offset);
	/* Start from an empty ring: what was there is not ours. Our position
	 * is our own; the shared one is only written. */
	cons = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);
	__atomic_store_n(&c->consumer, cons, __ATOMIC_RELEASE);
	drop0 = __atomic_load_n(&h->dropped, __ATOMIC_RELAXED);
	cpu0 = bench_cpu_ns();
	wait0 = bench_wait_ns();
	bench_ready(o.ready);

	start = last = bench_mono();
	for (;;) {
		prod = __atomic_load_n(&h->producer, __ATOMIC_ACQUIRE);
		if (prod < cons || prod - cons > info.data_size) {
			fprintf(stderr, "bench-ring: lapped at %llu\n",
			    (unsigned long long)cons);
			return 3;
		}
		if (cons < prod) {
			t = bench_real();
			if (first_ns == 0)
				first_ns = t;
			last_ns = t;
			while (cons < prod) {
				off = (uint32_t)(cons & (info.data_size - 1));
				/* One read of the header, then the copy. */
				memcpy(&r, data + off, sizeof(r) <
				    info.data_size - off ? sizeof(r) :
				    info.data_size - off);
				if (r.len < 8 || r.len % 8 ||
				    r.len > prod - cons) {
					fprintf(stderr, "bench-ring: bad record"
					    " at %llu\n",
					    (unsigned long long)cons);
					return 3;
				}
				if (r.type == KUIF_RING_EVENT &&
				    r.len >= sizeof(r) &&
				    memcmp(r.event, "bench", 6) == 0) {
					seen++;
					if (o.lat_path != NULL)
						bench_lat_add(&lat,
						    t - (int64_t)r.time_ns);
				}
				cons += r.len;
			}
			__atomic_store_n(&c->consumer, cons, __ATOMIC_RELEASE);
			last = bench_mono();
		}
		if (o.count && seen + (h->dropped - drop0) >= o.count)
			break;
		now = bench_mono();
		if (bench_gave_up(&o, start, last, now))
			break;
		if (bench_ring_wait(fd, "bench-ring") == -1)
			return 2;
	}
	printf("received %llu dropped %llu first_ns %lld last_ns %lld cpu_ns %lld "
	    "wait_ns %lld\n", (unsigned long long)seen,
	    (unsigned long long)(h->dropped - drop0), (long long)first_ns,
	    (long long)last_ns, bench_cpu_ns() - cpu0,
	    bench_wait_ns() - wait0);
	return bench_lat_write(&lat, o.lat_path) ? 2 : 0;
}
