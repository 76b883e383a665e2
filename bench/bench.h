/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark programs in bench/: clocks, a latency
 * sample buffer, the "ready" file a driver script waits for.
 */
#ifndef KUIF_BENCH_H
#define KUIF_BENCH_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t
bench_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_REALTIME, the clock of the kernel's event timestamps. */
static inline int64_t
bench_real(void)
{
	return bench_now(CLOCK_REALTIME);
}

static inline int64_t
bench_mono(void)
{
	return bench_now(CLOCK_MONOTONIC);
}

/* Latency samples in ns, kept in memory and written once at the end. */
struct bench_lat {
	int64_t	*v;
	size_t	 n, cap;
};

static inline void
bench_lat_add(struct bench_lat *l, int64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	l->v[l->n++] = ns;
}

static inline int
bench_lat_write(const struct bench_lat *l, const char *path)
{
	FILE *f;
	size_t i;

	if (path == NULL)
		return 0;
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (i = 0; i < l->n; i++)
		fprintf(f, "%lld\n", (long long)l->v[i]);
	return fclose(f);
}

/* The options every reader takes: --count --timeout --idle --lat --ready. */
struct bench_opts {
	uint64_t	 count;		/* stop after this many; 0: no limit */
	double		 timeout;	/* s in all */
	double		 idle;		/* s without an event */
	const char	*lat_path;	/* latency samples, one per line */
	const char	*ready;		/* touched once the reader listens */
};
#define BENCH_OPTS_DEFAULT { 0, 600, 3, NULL, NULL }

/* Takes argv[*i] and its value if it is one of them; returns 1 if so. */
static inline int
bench_reader_opt(int argc, char **argv, int *i, struct bench_opts *o)
{
	const char *a = argv[*i];

	if (*i + 1 >= argc)
		return 0;
	if (strcmp(a, "--count") == 0)
		o->count = strtoull(argv[++*i], NULL, 0);
	else if (strcmp(a, "--timeout") == 0)
		o->timeout = strtod(argv[++*i], NULL);
	else if (strcmp(a, "--idle") == 0)
		o->idle = strtod(argv[++*i], NULL);
	else if (strcmp(a, "--lat") == 0)
		o->lat_path = argv[++*i];
	else if (strcmp(a, "--ready") == 0)
		o->ready = argv[++*i];
	else
		return 0;
	return 1;
}

/* Field i of this process's schedstat in ns, or -1: 0, the CPU time the
 * scheduler measured (sum_exec_runtime, as of the last switch or tick);
 * 1, the time spent runnable, waiting for a CPU (run_delay). */
static inline long long
bench_schedstat(int i)
{
	FILE *f = fopen("/proc/self/schedstat", "r");
	long long v[2] = { -1, -1 };

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld %lld", &v[0], &v[1]) != 2)
		v[0] = v[1] = -1;
	fclose(f);
	return v[i];
}

/* This process's CPU time in ns, or -1. Not schedstat's figure: that is
 * brought up to date only when the task is switched out or the tick
 * lands, so a driver that ran for less than a tick without sleeping read
 * the same value before and after (a cpu_ns of 0 in the smoke run). */
static inline long long
bench_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long long
bench_wait_ns(void)
{
	return bench_schedstat(1);
}

/*
 * Whether a reader that started at start and last received at last
 * (bench_mono() ns; last == start: nothing yet) is done waiting at now:
 * --idle seconds without an event, or --timeout in all. Before the first
 * event, 30 s at least: the driver may still be starting (seconds under
 * emulation on a loaded host).
 */
static inline int
bench_gave_up(const struct bench_opts *o, int64_t start, int64_t last,
    int64_t now)
{
	double idle = last != start ? o->idle : (o->idle > 30 ? o->idle : 30);

	return now - (last != start ? last : start) > idle * 1e9 ||
	    now - start > o->timeout * 1e9;
}

/* Waits up to 100 ms for the ring of /dev/kuif (fd) to have records;
 * -1 on an error, said as who's. */
static inline int
bench_ring_wait(int fd, const char *who)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 100) == -1 && errno != EINTR) {
		fprintf(stderr, "%s: poll: %s\n", who, strerror(errno));
		return -1;
	}
	return 0;
}

static inline void
bench_ready(const char *path)
{
	FILE *f;

	if (path == NULL)
		return;
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
}

#endif
