// SPDX-License-Identifier: GPL-2.0
/*
 * bench-sub: kuifd's subscribers, as many as asked, in one process. Each
 * connects to kuifd's socket, subscribes to "bench" events
 * (docs/protocol.md) and counts the events and the losses kuifd reports;
 * the first also keeps each event's latency: receipt time (CLOCK_REALTIME)
 * minus the kernel's timestamp, from the "time" field (ns precision).
 *
 *   bench-sub [--socket PATH] [--clients K] --count N [--timeout S]
 *             [--idle S] [--lat FILE] [--ready FILE] [--stall]
 *             [--linger S] [--after-kseq K]
 *
 * Stops when every client has N events or losses, after --idle seconds
 * without a byte (default 3; before the first byte, 30 s at least), or
 * after --timeout seconds (default 600).
 * Prints "clients K events_min E events_total T lost L first_ns F
 * last_ns L cpu_ns C wait_ns W" (C and W: this process's CPU time, and
 * its time spent waiting for a CPU, from the subscription on).
 * --stall subscribes and then never reads, until killed.
 * --linger S stays connected S seconds after printing (until killed).
 * --after-kseq K counts only events the kernel numbered above K, and the
 * losses kuifd reports once the first of them came: what kuifd still
 * delivers of an earlier run is not this run's.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define BUFSZ	(256 * 1024)

struct conn {
	int		 fd;
	int		 sample;	/* keeps latencies */
	size_t		 have;
	uint64_t	 events, lost;
	int		 done;
	int		 started;	/* an event above --after-kseq came */
	char		*buf;
};

static uint64_t count;
static uint64_t after_kseq;
static struct bench_lat lat;

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads lines (blocking) until one contains want. */
static int
expect(int fd, const char *want)
{
	char line[4096];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] != '\n')
			continue;
		line[n] = '\0';
		if (strstr(line, want) != NULL)
			return 0;
		n = 0;
	}
	return -1;
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-28T22:15:34.123456789Z" in ns since the epoch, or -1. */
static int64_t
parse_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	int64_t ns = 0;
	const char *p;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	    &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			ns = ns * 10 + (*p - '0');
		for (; digits < 9; digits++)
			ns *= 10;
	}
	return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec) * 1000000000LL) + ns;
}

static void
on_line(struct conn *c, char *line, int64_t now)
{
	const char *p;
	int64_t t;

	if (strncmp(line, "{\"type\":\"event\"", 15) == 0) {
		if (after_kseq && ((p = strstr(line, ",\"kseq\":")) == NULL ||
		    strtoull(p + 8, NULL, 10) <= after_kseq))
			return;
		c->started = 1;
		c->events++;
		if (c->sample && (p = strstr(line, "\"time\":\"")) != NULL &&
		    (t = parse_time(p + 8)) > 0)
			bench_lat_add(&lat, now - t);
	} else if (strncmp(line, "{\"type\":\"lost\"", 14) == 0 &&
	    (c->started || !after_kseq) &&
	    (p = strstr(line, "\"count\":")) != NULL)
		c->lost += strtoull(p + 8, NULL, 10);
	if (count && c->events + c->lost >= count)
		c->done = 1;
}

/* Reads what is there; returns -1 on EOF or error. */
static int
on_readable(struct conn *c, int64_t *first_ns, int64_t *last_ns)
{
	char *nl, *line;
	ssize_t n;
	int64_t now;
	uint64_t seen;

	for (;;) {
		n = read(c->fd, c->buf + c->have, BUFSZ - 1 - c->have);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		now = bench_real();
		seen = c->events + c->lost;
		c->have += (size_t)n;
		c->buf[c->have] = '\0';
		line = c->buf;
		while ((nl = memchr(line, '\n', c->have -
		    (size_t)(line - c->buf))) != NULL) {
			*nl = '\0';
			on_line(c, line, now);
			line = nl + 1;
		}
		if (c->events + c->lost != seen) {
			if (*first_ns == 0)
				*first_ns = now;
			*last_ns = now;
		}
		c->have -= (size_t)(line - c->buf);
		memmove(c->buf, line, c->have);
		if (c->have == BUFSZ - 1)	/* a line longer than us */
			c->have = 0;
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts o = BENCH_OPTS_DEFAULT;
	const char *path = "/run/kuifd/kuifd.sock";
	const char *sub = "{\"op\":\"subscribe\",\"filter\":"
	    "{\"event\":[\"bench\"]}}\n";
	int clients = 1, stall = 0, linger = 0, ep, i, n, left;
	uint64_t total = 0, min = UINT64_MAX, lost = 0;
	int64_t first_ns = 0, last_ns = 0, start, last, now;
	long long cpu0, wait0;
	struct epoll_event evs[64], e;
	struct conn *c;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			clients = atoi(argv[++i]);
		else if (bench_reader_opt(argc, argv, &i, &o))
			continue;
		else if (strcmp(argv[i], "--stall") == 0)
			stall = 1;
		else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc)
			linger = atoi(argv[++i]);
		else if (strcmp(argv[i], "--after-kseq") == 0 && i + 1 < argc)
			after_kseq = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench-sub [--socket PATH] "
			    "[--clients K] --count N [--timeout S] [--idle S] "
			    "[--lat FILE] [--ready FILE] [--stall] "
			    "[--linger S] [--after-kseq K]\n");
			return 2;
		}
	}
	if (clients < 1) {
		fprintf(stderr, "bench-sub: --clients must be at least 1\n");
		return 2;
	}
	count = o.count;
	c = calloc((size_t)clients, sizeof(*c));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (c == NULL || ep == -1) {
		perror("bench-sub");
		return 2;
	}
	for (i = 0; i < clients; i++) {
		c[i].fd = connect_to(path);
		if (c[i].fd == -1 || expect(c[i].fd, "\"hello\"") == -1 ||
		    write(c[i].fd, sub, strlen(sub)) != (ssize_t)strlen(sub) ||
		    expect(c[i].fd, "\"subscribed\"") == -1) {
			fprintf(stderr, "bench-sub: client %d: cannot subscribe"
			    " on %s: %s\n", i, path, strerror(errno));
			return 2;
		}
		c[i].sample = i == 0 && o.lat_path != NULL;
		if (stall)
			continue;
		c[i].buf = malloc(BUFSZ);
		if (c[i].buf == NULL)
			return 2;
		fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
		e.events = EPOLLIN;
		e.data.ptr = &c[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e) == -1) {
			perror("bench-sub: epoll_ctl");
			return 2;
		}
	}
	bench_ready(o.ready);
	if (stall) {
		sleep((unsigned)o.timeout);
		return 0;
	}

	start = last = bench_mono();
	cpu0 = bench_cpu_ns();
	wait0 = bench_wait_ns();
	left = clients;
	while (left > 0) {
		n = epoll_wait(ep, evs, 64, 100);
		if (n == -1 && errno != EINTR) {
			perror("bench-sub: epoll_wait");
			return 2;
		}
		now = bench_mono();
		for (i = 0; i < n; i++) {
			struct conn *cc = evs[i].data.ptr;
			int was = cc->done, rc;

			rc = on_readable(cc, &first_ns, &last_ns);
			if (rc == -1) {
				epoll_ctl(ep, EPOLL_CTL_DEL, cc->fd, NULL);
				cc->done = 1;
			}
			if (cc->done && !was)
				left--;
			last = now;
		}
		if (bench_gave_up(&o, start, last, now))
			break;
	}
	for (i = 0; i < clients; i++) {
		total += c[i].events;
		lost += c[i].lost;
		if (c[i].events < min)
			min = c[i].events;
	}
	printf("clients %d events_min %llu events_total %llu lost %llu "
	    "first_ns %lld last_ns %lld cpu_ns %lld wait_ns %lld\n", clients,
	    (unsigned long long)min, (unsigned long long)total,
	    (unsigned long long)lost, (long long)first_ns, (long long)last_ns,
	    bench_cpu_ns() - cpu0, bench_wait_ns() - wait0);
	if (linger > 0) {
		/* Connected, so that what is measured until then does not
		 * include kuifd closing K clients. */
		fflush(stdout);
		sleep((unsigned)linger);
	}
	return bench_lat_write(&lat, o.lat_path) ? 2 : 0;
}
