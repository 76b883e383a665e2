// SPDX-License-Identifier: GPL-2.0
/*
 * bench-relay: the least a bridge from the mmap ring to a subscriber does,
 * as the floor under kuifd's ring path. It drains the ring as bench-ring
 * does and writes each "bench" record to one subscriber over a Unix
 * socket, as the line kuifd would write (the same fields, text and
 * length), one write per pass over the ring; a subscriber that does not
 * read blocks it, so that the ring, not a buffer, absorbs the difference,
 * as kuifd's flow control does. Nothing else of kuifd: no other channel,
 * no history, filter, persistence or checks of a protocol. The subscriber
 * is bench-sub: the relay says hello, reads one line (the subscription)
 * and says subscribed.
 *
 *   bench-relay --socket PATH --count N [--timeout S] [--idle S]
 *               [--ready FILE]
 *
 * --ready is written once PATH listens. The ring is read from where it
 * is when the subscriber has subscribed. Stops as bench-ring does; prints
 * "relayed R dropped D cpu_ns C wait_ns W" (C and W: its CPU time, and its
 * time spent waiting for a CPU, from the subscription on).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kuif.h>

#include "bench.h"

#define RELAY_BUF	(256 * 1024)
#define RELAY_LINE_MAX	(512 + 2 * KUIF_PAYLOAD_MAX)

struct relay_ring {
	struct kuif_ring_consumer	*c;
	const struct kuif_ring_producer	*h;
	const uint8_t			*data;
	uint32_t			 size;
};

static size_t
put_u64(char *p, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

/* RFC 3339 with nanoseconds, as kuifd writes it: 30 bytes at p. */
static size_t
put_time(char *p, uint64_t ns)
{
	static time_t sec_cached = -1;
	static char text[20];
	time_t sec = (time_t)(ns / 1000000000ULL);
	uint32_t frac = (uint32_t)(ns % 1000000000ULL);
	struct tm tm;
	int i;

	if (sec != sec_cached) {
		gmtime_r(&sec, &tm);
		strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		sec_cached = sec;
	}
	memcpy(p, text, 19);
	p[19] = '.';
	for (i = 28; i >= 20; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p[29] = 'Z';
	return 30;
}

#define PUT(lit) do {						\
	memcpy(p + o, lit, sizeof(lit) - 1);			\
	o += sizeof(lit) - 1;					\
} while (0)

/* The line kuifd writes for a bench record, into p (RELAY_LINE_MAX). */
static size_t
relay_line(char *p, uint64_t seq, const struct kuif_ring_record *r,
    const uint8_t *payload)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i, len = r->payload_len;
	int plain = 1;

	for (i = 0; i < len; i++)
		if (payload[i] < 0x20 || payload[i] > 0x7e ||
		    payload[i] == '"' || payload[i] == '\\')
			plain = 0;
	PUT("{\"type\":\"event\",\"seq\":");
	o += put_u64(p + o, seq);
	PUT(",\"kseq\":");
	o += put_u64(p + o, r->kseq);
	PUT(",\"time\":\"");
	o += put_time(p + o, r->time_ns);
	PUT("\",\"source\":\"ring\",\"event\":\"bench\",\"data\":{");
	if (plain) {
		PUT("\"payload\":\"");
		memcpy(p + o, payload, len);
		o += len;
	} else {
		PUT("\"payload_hex\":\"");
		for (i = 0; i < len; i++) {
			p[o++] = hex[payload[i] >> 4];
			p[o++] = hex[payload[i] & 0xf];
		}
	}
	PUT("\"}}\n");
	return o;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Listens on path; the one subscriber, its subscription read, or -1. */
static int
relay_accept(const char *path, const char *ready)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *hello = "{\"type\":\"hello\"}\n";
	char c;
	int l, fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bench-relay: socket path too long\n");
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(l, 1) == -1) {
		perror("bench-relay: listen");
		return -1;
	}
	bench_ready(ready);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	unlink(path);
	if (fd == -1 || write_all(fd, hello, strlen(hello)) == -1) {
		perror("bench-relay: accept");
		return -1;
	}
	/* The subscription: one line, whatever it says. */
	do {
		if (read(fd, &c, 1) != 1) {
			perror("bench-relay: the subscription");
			return -1;
		}
	} while (c != '\n');
	return fd;
}

static int
relay_map(int fd, struct relay_ring *ring)
{
	struct kuif_ring_info info;

	if (ioctl(fd, KUIF_IOC_RING_INFO, &info) == -1)
		return -1;
	ring->c = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, info.consumer_offset);
	ring->h = mmap(NULL, info.mmap_size - info.producer_offset, PROT_READ,
	    MAP_SHARED, fd, info.producer_offset);
	if (ring->c == MAP_FAILED || ring->h == MAP_FAILED ||
	    ring->h->magic != KUIF_RING_MAGIC ||
	    ring->h->version != KUIF_RING_VERSION)
		return -1;
	ring->data = (const uint8_t *)ring->h +
	    (info.data_offset - info.producer_offset);
	ring->size = info.data_size;
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts o = BENCH_OPTS_DEFAULT;
	const char *subscribed = "{\"type\":\"subscribed\"}\n";
	const char *path = NULL;
	struct relay_ring ring;
	struct kuif_ring_record r;
	uint64_t seq = 0, prod, cons, drop0;
	int64_t start, last, now;
	size_t have = 0;
	uint32_t off;
	long long cpu0, wait0;
	char *buf;
	int i, fd, sub;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (!bench_reader_opt(argc, argv, &i, &o) ||
		    o.lat_path != NULL) {
			fprintf(stderr, "usage: bench-relay --socket PATH "
			    "--count N [--timeout S] [--idle S] "
			    "[--ready FILE]\n");
			return 2;
		}
	}
	buf = malloc(RELAY_BUF);
	fd = open(KUIF_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (path == NULL || buf == NULL || fd == -1 ||
	    relay_map(fd, &ring) == -1) {
		perror("bench-relay: " KUIF_DEVICE_PATH);
		return 2;
	}
	sub = relay_accept(path, o.ready);
	if (sub == -1)
		return 2;
	cons = __atomic_load_n(&ring.h->producer, __ATOMIC_ACQUIRE);
	__atomic_store_n(&ring.c->consumer, cons, __ATOMIC_RELEASE);
	drop0 = __atomic_load_n(&ring.h->dropped, __ATOMIC_RELAXED);
	/* From here on the subscriber counts: its driver starts once it
	 * is told. */
	if (write_all(sub, subscribed, strlen(subscribed)) == -1) {
		perror("bench-relay: write");
		return 2;
	}
	cpu0 = bench_cpu_ns();
	wait0 = bench_wait_ns();

	start = last = bench_mono();
	for (;;) {
		prod = __atomic_load_n(&ring.h->producer, __ATOMIC_ACQUIRE);
		if (prod < cons || prod - cons > ring.size) {
			fprintf(stderr, "bench-relay: lapped at %llu\n",
			    (unsigned long long)cons);
			return 3;
		}
		while (cons < prod) {
			off = (uint32_t)(cons & (ring.size - 1));
			memcpy(&r, ring.data + off, sizeof(r) < ring.size - off ?
			    sizeof(r) : ring.size - off);
			if (r.len < 8 || r.len % 8 || r.len > prod - cons ||
			    r.len > ring.size - off ||
			    (r.type == KUIF_RING_EVENT && (r.len < sizeof(r) ||
			    r.payload_len > KUIF_PAYLOAD_MAX ||
			    sizeof(r) + r.payload_len > r.len))) {
				fprintf(stderr, "bench-relay: bad record at "
				    "%llu\n", (unsigned long long)cons);
				return 3;
			}
			if (r.type == KUIF_RING_EVENT &&
			    memcmp(r.event, "bench", 6) == 0)
				have += relay_line(buf + have, ++seq, &r,
				    ring.data + off + sizeof(r));
			cons += r.len;
			if (have > RELAY_BUF - RELAY_LINE_MAX) {
				if (write_all(sub, buf, have) == -1)
					goto gone;
				have = 0;
			}
		}
		__atomic_store_n(&ring.c->consumer, cons, __ATOMIC_RELEASE);
		if (have > 0) {
			if (write_all(sub, buf, have) == -1)
				goto gone;
			have = 0;
			last = bench_mono();
		}
		if (o.count && seq + (ring.h->dropped - drop0) >= o.count)
			break;
		now = bench_mono();
		if (bench_gave_up(&o, start, last, now))
			break;
		if (bench_ring_wait(fd, "bench-relay") == -1)
			return 2;
	}
gone:
	printf("relayed %llu dropped %llu cpu_ns %lld wait_ns %lld\n",
	    (unsigned long long)seq,
	    (unsigned long long)(ring.h->dropped - drop0),
	    bench_cpu_ns() - cpu0, bench_wait_ns() - wait0);
	close(sub);
	return 0;
}
