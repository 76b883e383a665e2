// SPDX-License-Identifier: GPL-2.0
/* log.c: the counted warning's rate limit, on a real libevent loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "kuifd.h"

struct said {
	int		n;
	uint64_t	total[8];
	uint64_t	since[8];
};

static void
say(uint64_t total, uint64_t since, void *arg)
{
	struct said *s = arg;

	assert_true(s->n < 8);
	s->total[s->n] = total;
	s->since[s->n] = since;
	s->n++;
}

/* Runs the loop until nothing is pending, or two seconds at most. */
static void
run(struct event_base *base)
{
	struct timeval two = { 2, 0 };

	event_base_loopexit(base, &two);
	event_base_dispatch(base);
}

/* The first growth at once; what comes within the second, by the timer;
 * the count from where counting began. */
static void
test_log_count_says_what_it_held_back(void **state)
{
	struct event_base *base = event_base_new();
	struct said s = { 0 };
	struct log_count *lc = log_count_new(base, 1, say, &s);

	(void)state;
	log_count_reset(lc, 100);
	log_count_set(lc, 100);
	assert_int_equal(s.n, 0);
	log_count_set(lc, 103);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.total[0], 3);
	assert_int_equal(s.since[0], 3);
	log_count_set(lc, 104);
	log_count_set(lc, 110);
	assert_int_equal(s.n, 1);	/* held back */
	run(base);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.total[1], 10);
	assert_int_equal(s.since[1], 7);
	/* Nothing new: the flush says nothing. */
	log_count_flush(lc);
	assert_int_equal(s.n, 2);
	log_count_free(lc);
	event_base_free(base);
}

/* A flush (detach) says what is held back at once, and disarms. */
static void
test_log_count_flush_says_now(void **state)
{
	struct event_base *base = event_base_new();
	struct said s = { 0 };
	struct log_count *lc = log_count_new(base, 10, say, &s);

	(void)state;
	log_count_reset(lc, 0);
	log_count_set(lc, 1);
	log_count_set(lc, 5);
	assert_int_equal(s.n, 1);
	log_count_flush(lc);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.total[1], 5);
	assert_int_equal(s.since[1], 4);
	/* The timer went with the flush: the loop has nothing to do. */
	assert_int_equal(event_base_dispatch(base), 1);
	assert_int_equal(s.n, 2);
	log_count_free(lc);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_count_says_what_it_held_back),
		cmocka_unit_test(test_log_count_flush_says_now),
	};

	log_init(0, "test_log");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
