/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the benchmark programs in bench/: clocks, a latency
 * sample buffer, the "ready" file a driver script waits for.
 */
#ifndef KUIF_BENCH_H
#define KUIF_BENCH_H

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

/* This process's CPU time in ns as the scheduler measured it (schedstat's
 * sum_exec_runtime: not sampled at the tick), or -1. */
static inline long long
bench_cpu_ns(void)
{
	FILE *f = fopen("/proc/self/schedstat", "r");
	long long ns = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
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
