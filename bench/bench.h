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
