// SPDX-License-Identifier: GPL-2.0
/*
 * The bus's promise, as a property over generated interleavings (see
 * bus_model.h): whatever the channels do (duplicates, reordering within
 * and beyond the window, drops, partial copies, overruns, module reloads,
 * kuifd restarts), every kseq from an epoch's base on is published once
 * or counted in one loss record, counts are never negative or unknown
 * where known, and seq goes up by one. Seeded; a failure names its seed
 * (KUIF_BUS_SEED=N reruns one scenario, KUIF_BUS_SEEDS=N runs more).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "bus_model.h"

#define PROP_SEEDS	2000	/* scenarios */
#define PROP_STEPS	300	/* operations each */

static uint64_t
prng(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* One scenario; returns its violation, or "" (static). */
static const char *
scenario(uint64_t seed, uint64_t *records)
{
	static struct model m;
	uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1, r;
	int i, steps;

	model_init(&m, (seed & 3) == 0 ? 0xffffff00ULL : 1);
	steps = (int)(prng(&s) % PROP_STEPS) + 1;
	for (i = 0; i < steps && m.why[0] == '\0'; i++) {
		r = prng(&s);
		model_step(&m, (unsigned int)(r & 0xff),
		    (unsigned int)(r >> 8));
	}
	if (m.why[0] == '\0')
		model_finish(&m);
	*records += m.records;
	model_free(&m);
	return m.why;
}

static void
test_bus_every_kseq_published_once_or_lost_once(void **state)
{
	const char *env = getenv("KUIF_BUS_SEED"), *why;
	uint64_t seed, first = 1, n = PROP_SEEDS, records = 0;
	int saved, devnull;

	(void)state;
	if (env != NULL) {
		first = strtoull(env, NULL, 0);
		n = 1;
	} else if ((env = getenv("KUIF_BUS_SEEDS")) != NULL)
		n = strtoull(env, NULL, 0);
	/* kuifd's own warnings (reloads, restarts) would drown the TAP. */
	fflush(stderr);
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	if (env == NULL || n > 1)
		dup2(devnull, 2);
	for (seed = first; seed < first + n; seed++) {
		why = scenario(seed, &records);
		if (why[0] != '\0') {
			dup2(saved, 2);
			fail_msg("seed %llu (KUIF_BUS_SEED=%llu): %s",
			    (unsigned long long)seed,
			    (unsigned long long)seed, why);
		}
	}
	dup2(saved, 2);
	close(saved);
	close(devnull);
	printf("# %llu scenarios, %llu records checked\n",
	    (unsigned long long)n, (unsigned long long)records);
	assert_true(records > n);
}

/* The checker itself must catch what it is there to catch. */
static void
test_bus_model_checker_catches_violations(void **state)
{
	static struct model m;
	struct bus_record r;
	struct blob b;
	char line[256];

	(void)state;
	model_init(&m, 1);
	m.klast = 10;
	r.blob = &b;
	b.data = line;
#define FEED(sq, text) do {						\
	snprintf(line, sizeof(line), text, (unsigned long long)(sq));	\
	b.len = strlen(line);						\
	r.seq = (sq);							\
	model_sink(&r, &m);						\
} while (0)
	FEED(1, "{\"type\":\"event\",\"seq\":%llu,\"kseq\":3,"
	    "\"source\":\"ring\",\"event\":\"m.k3\"}");
	assert_string_equal(m.why, "");
	FEED(2, "{\"type\":\"lost\",\"seq\":%llu,\"count\":-2,"
	    "\"reason\":\"missed\"}");
	assert_non_null(strstr(m.why, "negative"));
	m.why[0] = '\0';
	FEED(3, "{\"type\":\"event\",\"seq\":%llu,\"kseq\":5,"
	    "\"source\":\"ring\",\"event\":\"m.k5\"}");
	assert_non_null(strstr(m.why, "a gap not counted lost"));
	m.why[0] = '\0';
	FEED(4, "{\"type\":\"event\",\"seq\":%llu,\"kseq\":3,"
	    "\"source\":\"ring\",\"event\":\"m.k3\"}");
	assert_non_null(strstr(m.why, "published or lost before"));
	m.why[0] = '\0';
	FEED(6, "{\"type\":\"lost\",\"seq\":%llu,\"count\":1,"
	    "\"reason\":\"missed\"}");
	assert_non_null(strstr(m.why, "seq 6 after 4"));
	m.why[0] = '\0';
	FEED(7, "{\"type\":\"lost\",\"seq\":%llu,\"count\":0,"
	    "\"reason\":\"missed\"}");
	assert_non_null(strstr(m.why, "unexpected"));
#undef FEED
	model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_bus_every_kseq_published_once_or_lost_once),
		cmocka_unit_test(test_bus_model_checker_catches_violations),
	};

	log_init(0, "test_bus_property");
	return cmocka_run_group_tests_name("bus_property", tests, NULL, NULL);
}
