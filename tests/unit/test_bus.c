// SPDX-License-Identifier: GPL-2.0
/* bus.c, reorder.c, history.c and filter.c: numbering, deduplication,
 * gaps, filters. Time is the test's clock: nothing sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fnmatch.h>

#include <sys/time.h>

#include "kuifd.h"

#include <event2/event.h>

/* A loss record's line without its time, which must be there (RFC 3339
 * with ns, kuifd's clock): the rest is compared exactly. */
static const char *
untimed(const char *line)
{
	static char buf[1024];
	const char *t = strstr(line, "\"time\":\"");
	size_t n;

	assert_non_null(t);
	assert_true(strlen(t) > 8 + 30 + 2);
	assert_int_equal(t[8 + 29], 'Z');
	assert_int_equal(t[8 + 30], '"');
	n = (size_t)(t - line);
	assert_true(n + strlen(t + 8 + 32) < sizeof(buf));
	memcpy(buf, line, n);
	strcpy(buf + n, t + 8 + 32);	/* after "time":"...", */
	return buf;
}

#define SEEN_MAX 64

struct seen {
	size_t	n;
	char	line[SEEN_MAX][1024];
	bool	is_event[SEEN_MAX];
};

static void
sink(const struct bus_record *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < SEEN_MAX);
	assert_true(r->blob->len < sizeof(s->line[0]));
	memcpy(s->line[s->n], r->blob->data, r->blob->len);
	s->line[s->n][r->blob->len] = '\0';
	s->is_event[s->n] = r->is_event;
	s->n++;
}

static void
fill(struct event *ev, uint64_t kseq, const char *source)
{
	memset(ev, 0, sizeof(*ev));
	ev->kseq = kseq;
	ev->time_ns = kseq * 1000;
	snprintf(ev->source, sizeof(ev->source), "%s", source);
	snprintf(ev->name, sizeof(ev->name), "test.e%llu",
	    (unsigned long long)kseq);
}

static void
publish(struct bus *bus, uint64_t kseq, const char *source)
{
	struct event ev;

	fill(&ev, kseq, source);
	bus_publish(bus, &ev);
}

/* The bus's clock in these tests: moved by hand, its reads counted. */
static uint64_t now_ms;
static unsigned long clock_reads;

static uint64_t
test_clock(void *arg)
{
	(void)arg;
	clock_reads++;
	return now_ms;
}

static struct bus *
new_bus(size_t history, unsigned int reorder_ms, struct seen *s)
{
	struct bus *bus = bus_create(NULL, history, reorder_ms);

	now_ms = 1000;
	bus_set_clock(bus, test_clock, NULL);
	if (s != NULL)
		bus_set_sink(bus, sink, s);
	return bus;
}

/* Time passes; the reorder timer would fire. */
static void
advance(struct bus *bus, uint64_t ms)
{
	now_ms += ms;
	bus_timeout(bus);
}

static void
has(const char *line, const char *want)
{
	if (strstr(line, want) == NULL)
		fail_msg("want \"%s\" in %s", want, line);
}

static void
test_bus_numbers_in_order(void **state)
{
	struct bus *bus = bus_create(NULL, 64, 100);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 10, "netlink");
	publish(bus, 11, "netlink");
	assert_int_equal(s.n, 2);
	has(s.line[0], "\"seq\":1,\"kseq\":10,");
	has(s.line[1], "\"seq\":2,\"kseq\":11,");
	assert_int_equal(bus_seq(bus), 2);
	bus_free(bus);
}

static void
test_bus_drops_duplicates_from_other_channels(void **state)
{
	struct bus *bus = bus_create(NULL, 64, 100);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 1, "netlink");
	publish(bus, 1, "ring");
	publish(bus, 2, "ring");
	publish(bus, 2, "netlink");
	assert_int_equal(s.n, 2);
	has(s.line[1], "\"source\":\"ring\"");
	assert_int_equal(bus_stats(bus)->received, 4);
	assert_int_equal(bus_stats(bus)->published, 2);
	assert_int_equal(bus_stats(bus)->duplicates, 2);
	bus_free(bus);
}

static void
test_bus_reorders_within_window(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 1000, &s);

	(void)state;
	publish(bus, 5, "netlink");
	publish(bus, 7, "ring");		/* 6 is late on netlink */
	assert_int_equal(s.n, 1);
	publish(bus, 6, "netlink");
	assert_int_equal(s.n, 3);
	has(s.line[1], "\"kseq\":6,");
	has(s.line[2], "\"kseq\":7,");
	publish(bus, 7, "netlink");
	assert_int_equal(s.n, 3);
	assert_int_equal(bus_stats(bus)->lost, 0);
	bus_free(bus);
}

static void
test_bus_gap_becomes_lost_record(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);

	(void)state;
	publish(bus, 5, "netlink");
	publish(bus, 9, "netlink");
	assert_int_equal(s.n, 1);		/* 9 waits for 6..8 */
	advance(bus, 29);
	assert_int_equal(s.n, 1);
	advance(bus, 1);
	assert_int_equal(s.n, 3);
	assert_false(s.is_event[1]);
	assert_string_equal(untimed(s.line[1]), "{\"type\":\"lost\",\"seq\":2,"
	    "\"count\":3,\"reason\":\"missed\"}\n");
	has(s.line[2], "\"seq\":3,\"kseq\":9,");
	assert_int_equal(bus_stats(bus)->lost, 3);
	/* A straggler after the gap was given up is a duplicate. */
	publish(bus, 7, "ring");
	assert_int_equal(s.n, 3);
	bus_free(bus);
}

static void
test_bus_expected_tail_becomes_lost_record(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);

	(void)state;
	publish(bus, 5, "netlink");
	publish(bus, 6, "netlink");
	bus_expect(bus, 9);		/* 7..9 emitted, none came yet */
	publish(bus, 7, "ring");	/* one arrives in time */
	assert_int_equal(s.n, 3);
	advance(bus, 29);
	assert_int_equal(s.n, 3);
	advance(bus, 1);
	assert_int_equal(s.n, 4);
	assert_string_equal(untimed(s.line[3]), "{\"type\":\"lost\",\"seq\":4,"
	    "\"count\":2,\"reason\":\"missed\"}\n");
	/* Late copies are duplicates; the next kseq is published at once. */
	publish(bus, 9, "ring");
	publish(bus, 10, "netlink");
	assert_int_equal(s.n, 5);
	has(s.line[4], "\"seq\":5,\"kseq\":10,");
	/* Nothing is expected that already came. */
	bus_expect(bus, 10);
	advance(bus, 100);
	assert_int_equal(s.n, 5);
	bus_free(bus);
}

static void
test_bus_far_ahead_gives_up_at_once(void **state)
{
	struct bus *bus = bus_create(NULL, 64, 1000);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 1, "netlink");
	publish(bus, 5001, "netlink");
	assert_int_equal(s.n, 3);
	has(s.line[1], "\"count\":4999,");
	has(s.line[2], "\"kseq\":5001,");
	bus_free(bus);
}

static void
test_bus_signal_kseq_waits_for_full_copy(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);
	struct event ev;

	(void)state;
	publish(bus, 1, "netlink");
	fill(&ev, 0, "signal");
	strcpy(ev.name, "signal");
	bus_publish_partial32(bus, &ev, 2);
	assert_int_equal(s.n, 1);		/* waits for a full copy */
	publish(bus, 2, "netlink");
	assert_int_equal(s.n, 2);
	has(s.line[1], "\"event\":\"test.e2\"");

	fill(&ev, 0, "signal");
	strcpy(ev.name, "signal");
	bus_publish_partial32(bus, &ev, 3);
	advance(bus, 29);
	assert_int_equal(s.n, 2);
	advance(bus, 1);			/* none came */
	assert_int_equal(s.n, 3);
	has(s.line[2], "\"kseq\":3,");
	has(s.line[2], "\"source\":\"signal\"");
	bus_free(bus);
}

static void
test_bus_partial32_widens_across_4g(void **state)
{
	struct bus *bus = bus_create(NULL, 64, 0);
	struct seen s = { 0 };
	struct event ev;

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 0xfffffffeULL, "netlink");
	publish(bus, 0xffffffffULL, "netlink");
	fill(&ev, 0, "signal");
	bus_publish_partial32(bus, &ev, 0);	/* 0x100000000 */
	assert_int_equal(s.n, 3);
	has(s.line[2], "\"kseq\":4294967296,");
	bus_free(bus);
}

static void
test_bus_history_keeps_newest(void **state)
{
	struct bus *bus = bus_create(NULL, 16, 100);
	const struct bus_record *r;
	uint64_t k;

	(void)state;
	for (k = 1; k <= 40; k++)
		publish(bus, k, "netlink");
	assert_int_equal(bus_seq(bus), 40);
	assert_int_equal(bus_history_oldest(bus), 25);
	assert_null(bus_history_get(bus, 24));
	assert_null(bus_history_get(bus, 41));
	r = bus_history_get(bus, 25);
	assert_non_null(r);
	assert_int_equal(r->seq, 25);
	assert_true(r->is_event);
	assert_string_equal(r->name, "test.e25");
	has(r->blob->data, "\"seq\":25,");
	bus_free(bus);
}

static void
test_bus_reset_accepts_restarted_kernel(void **state)
{
	struct bus *bus = bus_create(NULL, 64, 100);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 100, "netlink");
	bus_reset_kseq(bus);
	publish(bus, 1, "netlink");
	assert_int_equal(s.n, 2);
	has(s.line[1], "\"seq\":2,\"kseq\":1,");
	bus_free(bus);
}

static void
partial(struct bus *bus, uint32_t low)
{
	struct event ev;

	fill(&ev, 0, "signal");
	strcpy(ev.name, "kernel.signal");
	bus_publish_partial32(bus, &ev, low);
}

/* The count of a loss record, as a client reads it (signed JSON). */
static long long
lost_count(const char *line)
{
	const char *c = strstr(line, "\"count\":");

	if (strstr(line, "\"type\":\"lost\"") == NULL || c == NULL)
		fail_msg("not a loss record: %s", line);
	return strtoll(c + 8, NULL, 10);
}

/*
 * Issue 12, item 5: the kernel said it emitted up to 5000, then a copy
 * more than the window ahead came (3000). The copy's gap is given up, the
 * expected tail waits; no count goes negative, nothing is declared lost
 * twice, next_kseq never moves back.
 */
static void
test_bus_expect_then_far_ahead_copy_counts_each_kseq_once(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 100, &s);

	(void)state;
	publish(bus, 1, "netlink");
	bus_expect(bus, 5000);
	publish(bus, 3000, "netlink");
	assert_int_equal(s.n, 3);
	assert_int_equal(lost_count(s.line[1]), 2998);	/* 2..2999 */
	has(s.line[2], "\"kseq\":3000,");
	publish(bus, 3001, "ring");			/* in time */
	assert_int_equal(s.n, 4);
	advance(bus, 100);				/* 3002..5000 */
	assert_int_equal(s.n, 5);
	assert_int_equal(lost_count(s.line[4]), 1999);
	publish(bus, 2500, "ring");			/* declared lost */
	publish(bus, 4000, "ring");			/* declared lost */
	assert_int_equal(s.n, 5);
	assert_int_equal(bus_stats(bus)->lost, 2998 + 1999);
	assert_int_equal(bus_stats(bus)->published, 3);
	publish(bus, 5001, "netlink");
	assert_int_equal(s.n, 6);
	has(s.line[5], "\"kseq\":5001,");
	bus_free(bus);
}

/*
 * Issue 12, item 6: a gap's deadline is reorder_ms after the first copy
 * after it arrived, not after the first copy that found the window empty.
 */
static void
test_bus_gap_deadline_counts_from_first_copy_after_it(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 100, &s);

	(void)state;
	publish(bus, 5, "netlink");
	publish(bus, 7, "ring");		/* t=0: 6 is missing */
	now_ms += 75;
	publish(bus, 9, "ring");		/* t=75: 8 is missing too */
	now_ms += 5;
	publish(bus, 6, "netlink");		/* t=80: 6, 7 go out */
	assert_int_equal(s.n, 3);
	advance(bus, 20);			/* t=100: 9 waited 25 ms */
	assert_int_equal(s.n, 3);
	advance(bus, 74);			/* t=174 */
	assert_int_equal(s.n, 3);
	advance(bus, 1);			/* t=175: 9 waited 100 ms */
	assert_int_equal(s.n, 5);
	assert_string_equal(untimed(s.line[3]), "{\"type\":\"lost\",\"seq\":4,"
	    "\"count\":1,\"reason\":\"missed\"}\n");
	has(s.line[4], "\"kseq\":9,");
	bus_free(bus);
}

/*
 * Issue 12, item 9: the first copy after (re)attach is a signal, and the
 * low 32 bits of kseq have wrapped (kseq 0x100000005). It cannot be
 * widened without a base, so it must not set one: it waits for a complete
 * copy. No bogus loss of 4.29 billion.
 */
static void
test_bus_signal_first_after_attach_waits_for_a_base(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);
	struct timeval tv;

	(void)state;
	bus_reset_kseq(bus);
	partial(bus, 5);
	assert_int_equal(s.n, 0);
	assert_false(bus_next_timeout(bus, &tv)); /* no base: it waits */
	advance(bus, 10);
	assert_int_equal(s.n, 0);
	publish(bus, 0x100000006ULL, "netlink");
	assert_int_equal(s.n, 0);		/* 0x100000005 goes first */
	advance(bus, 20);			/* when a copy would be late */
	assert_int_equal(s.n, 2);
	has(s.line[0], "\"kseq\":4294967301,");
	has(s.line[0], "\"source\":\"signal\"");
	has(s.line[1], "\"kseq\":4294967302,");
	assert_int_equal(bus_stats(bus)->lost, 0);

	/* A complete copy of the signal's kseq completes it. */
	bus_reset_kseq(bus);
	partial(bus, 0x10);
	publish(bus, 0x200000010ULL, "ring");
	assert_int_equal(s.n, 3);
	has(s.line[2], "\"kseq\":8589934608,");
	has(s.line[2], "\"source\":\"ring\"");
	assert_int_equal(bus_stats(bus)->lost, 0);
	bus_free(bus);
}

/* Downward: a signal for a kseq just below a 4 GiB boundary after the
 * bus has passed it is a late duplicate, not a loss of 4 billion. */
static void
test_bus_partial32_below_4g_boundary_is_a_duplicate(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);

	(void)state;
	publish(bus, 0xffffffffULL, "netlink");
	publish(bus, 0x100000000ULL, "netlink");
	publish(bus, 0x100000001ULL, "netlink");
	partial(bus, 0xffffffffU);
	partial(bus, 0xfffffffeU);
	advance(bus, 100);
	assert_int_equal(s.n, 3);
	assert_int_equal(bus_stats(bus)->duplicates, 2);
	assert_int_equal(bus_stats(bus)->lost, 0);
	/* And the widening itself, both ways and at the bottom. */
	assert_true(reorder_widen32(0x1fffffff0ULL, 0x5) == 0x200000005ULL);
	assert_true(reorder_widen32(0x200000005ULL, 0xfffffff0U) ==
	    0x1fffffff0ULL);
	assert_true(reorder_widen32(3, 0xffffffffU) == 0xffffffffULL);
	assert_true(reorder_widen32(0x7ffffff0ULL, 2) == 2);
	bus_free(bus);
}

/*
 * Issue 12, item 10: the reorder timer's timeval is normalised (the old
 * one was reorder_ms * 250 us, over a million from 4000 ms), and set for
 * when the head is due, not a few times per period.
 */
static void
test_bus_timer_is_normalised_and_exact(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 4000, &s);
	struct timeval tv;

	(void)state;
	assert_false(bus_next_timeout(bus, &tv));	/* nothing waits */
	publish(bus, 1, "netlink");
	publish(bus, 3, "netlink");
	assert_true(bus_next_timeout(bus, &tv));
	assert_int_equal(tv.tv_sec, 4);
	assert_int_equal(tv.tv_usec, 0);
	now_ms += 1500;
	assert_true(bus_next_timeout(bus, &tv));
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 500000);
	now_ms += 2499;
	assert_true(bus_next_timeout(bus, &tv));
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 1000);
	advance(bus, 1);
	assert_int_equal(s.n, 3);
	assert_false(bus_next_timeout(bus, &tv));
	bus_free(bus);

	bus = new_bus(64, 9999, NULL);
	publish(bus, 1, "netlink");
	publish(bus, 3, "netlink");
	assert_true(bus_next_timeout(bus, &tv));
	assert_int_equal(tv.tv_sec, 9);
	assert_int_equal(tv.tv_usec, 999000);
	bus_free(bus);
}

/* The timer really fires through libevent, with a real clock. */
static void
test_bus_timer_fires_in_the_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct bus *bus = bus_create(base, 64, 20);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 1, "netlink");
	publish(bus, 3, "netlink");
	assert_int_equal(s.n, 1);
	event_base_dispatch(base);	/* returns once nothing is armed */
	assert_int_equal(s.n, 3);
	has(s.line[1], "\"count\":1,");
	bus_free(bus);
	event_base_free(base);
}

/*
 * Issue 12, item 2 (the NULL blob): a record that cannot be encoded still
 * takes its seq, and the history holds a line for it that a replay can
 * send. Here a loss whose reason is not UTF-8, which jansson refuses.
 */
static void
test_bus_record_that_fails_to_encode_leaves_no_hole(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(16, 30, &s);
	const struct bus_record *r;

	(void)state;
	publish(bus, 1, "netlink");
	bus_publish_loss(bus, 2, "\xff\xfe");
	publish(bus, 2, "netlink");
	assert_int_equal(bus_seq(bus), 3);
	r = bus_history_get(bus, 2);
	assert_non_null(r);
	assert_non_null(r->blob);
	assert_false(r->is_event);
	assert_string_equal(untimed(r->blob->data), "{\"type\":\"lost\",\"seq\":2,"
	    "\"count\":2,\"reason\":\"encode_failed\"}\n");
	assert_int_equal(s.n, 3);
	bus_free(bus);
}

/* Copies with a kseq no kernel can reach are not numbered. */
static void
test_bus_absurd_kseq_is_refused(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(16, 30, &s);

	(void)state;
	publish(bus, 1, "netlink");
	publish(bus, UINT64_MAX, "ring");
	publish(bus, 2, "netlink");
	assert_int_equal(s.n, 2);
	assert_int_equal(bus_stats(bus)->lost, 0);
	bus_free(bus);
}

/*
 * The expected tail waits reorder_ms after the last copy that came, not
 * only after the kernel was asked: a backlog read at startup (the ring
 * after a restart) or a socket queue read after an overrun can take
 * longer than reorder_ms, and must not be declared lost as it comes.
 */
static void
test_bus_expected_tail_waits_while_copies_come(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 100, &s);

	(void)state;
	publish(bus, 3, "netlink");
	bus_expect(bus, 6);			/* t=0 */
	now_ms += 150;				/* a slow start */
	publish(bus, 4, "ring");		/* t=150: 5 and 6 follow */
	publish(bus, 5, "ring");
	publish(bus, 6, "ring");
	assert_int_equal(s.n, 4);
	assert_int_equal(bus_stats(bus)->lost, 0);

	bus_expect(bus, 9);			/* t=150 */
	advance(bus, 90);
	publish(bus, 7, "netlink");		/* t=240 */
	advance(bus, 99);			/* t=339: 8, 9 may come */
	assert_int_equal(s.n, 5);
	advance(bus, 1);			/* t=340 */
	assert_int_equal(s.n, 6);
	assert_int_equal(lost_count(s.line[5]), 2);
	bus_free(bus);
}

/* A copy in order with nothing waiting needs no time: the clock is read
 * for a gap, and while the kernel's announced tail is still coming. */
static void
test_bus_reads_the_clock_only_when_something_waits(void **state)
{
	struct bus *bus = new_bus(64, 100, NULL);
	uint64_t k;

	(void)state;
	clock_reads = 0;
	for (k = 1; k <= 1000; k++)
		publish(bus, k, "ring");
	assert_int_equal(bus_stats(bus)->published, 1000);
	assert_int_equal(clock_reads, 0);

	publish(bus, 1002, "ring");		/* 1001 is missing */
	assert_true(clock_reads > 0);
	advance(bus, 99);
	assert_int_equal(bus_stats(bus)->lost, 0);
	advance(bus, 1);			/* given up, as before */
	assert_int_equal(bus_stats(bus)->lost, 1);
	assert_int_equal(bus_stats(bus)->published, 1001);

	clock_reads = 0;
	for (k = 1003; k <= 1100; k++)
		publish(bus, k, "ring");
	assert_int_equal(clock_reads, 0);

	/* The kernel says 1105 was emitted: each copy until then
	 * extends the wait, so it reads the time. */
	bus_expect(bus, 1105);
	clock_reads = 0;
	publish(bus, 1101, "ring");
	assert_true(clock_reads > 0);
	advance(bus, 100);
	assert_int_equal(bus_stats(bus)->lost, 5);	/* and 1102..1105 */
	assert_int_equal(bus_stats(bus)->published, 1100);
	assert_int_equal(bus_seq(bus), 1100 + 2);	/* 2 loss records */
	bus_free(bus);
}

static void
test_filter_globs(void **state)
{
	struct filter f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_true(filter_match(&f, "netlink", "netdev.up"));	/* empty: all */

	f.events[f.nevents++] = xstrdup("netdev.*");
	assert_true(filter_match(&f, "netlink", "netdev.up"));
	assert_false(filter_match(&f, "netlink", "module.load"));
	f.events[f.nevents++] = xstrdup("module.[lu]*");
	assert_true(filter_match(&f, "netlink", "module.load"));

	f.sources[f.nsources++] = xstrdup("ring");
	assert_false(filter_match(&f, "netlink", "module.load"));
	f.sources[f.nsources++] = xstrdup("net*");
	assert_true(filter_match(&f, "netlink", "module.load"));
	filter_clear(&f);
	assert_int_equal(f.nevents + f.nsources, 0);
}

/* Literal patterns are compared without fnmatch: every pattern against
 * every name, as fnmatch says. */
static void
test_filter_literal_and_glob_agree_with_fnmatch(void **state)
{
	static const char *const pats[] = {
		"bench", "bench.x", "benc", "", "bench*", "b?nch", "ben[cd]h",
		"ben\\ch", "bench\\", "*", "net*.up", "netdev.up", "netdev.u",
		"[", "netdev.up*",
	};
	static const char *const names[] = {
		"bench", "bench.x", "benc", "", "benchmark", "bonch",
		"bendh", "netdev.up", "netdev.u", "netdev.upx", "[",
	};
	struct filter f;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.events[f.nevents++] = xstrdup(pats[i]);
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			assert_int_equal(filter_match(&f, "ring", names[j]),
			    fnmatch(pats[i], names[j], 0) == 0);
		filter_clear(&f);
	}
}

/*
 * A source asks about a copy's kseq before it decodes the rest: a kseq
 * published, or waiting complete in the window, is a duplicate (counted
 * as one); a later one, or one only a signal announced, is not.
 */
static void
test_bus_duplicate_check_before_decode(void **state)
{
	struct seen s = { 0 };
	struct bus *bus = new_bus(64, 30, &s);
	struct event ev;

	(void)state;
	assert_false(bus_duplicate(bus, 1));	/* no base yet */
	publish(bus, 1, "netlink");
	publish(bus, 2, "netlink");
	assert_true(bus_duplicate(bus, 1));
	assert_true(bus_duplicate(bus, 2));
	assert_false(bus_duplicate(bus, 3));
	assert_false(bus_duplicate(bus, 0));
	publish(bus, 4, "netlink");		/* waits for 3 */
	assert_true(bus_duplicate(bus, 4));
	fill(&ev, 0, "signal");
	bus_publish_partial32(bus, &ev, 3);	/* a bare kseq: wants content */
	assert_false(bus_duplicate(bus, 3));
	assert_int_equal(bus_stats(bus)->received, 7);	/* 4 copies, 3 checked */
	assert_int_equal(bus_stats(bus)->duplicates, 3);
	publish(bus, 3, "ring");
	assert_int_equal(s.n, 4);
	has(s.line[2], "\"kseq\":3,");
	has(s.line[2], "\"source\":\"ring\"");
	bus_free(bus);
}

/*
 * The history keeps each record in its slot's buffer, reused when the
 * slot comes round again: a shorter line after a longer one is whole and
 * ends where it should, and the buffer does not move (publishing does not
 * allocate); a long line too.
 */
static void
test_bus_history_reuses_slot_buffers(void **state)
{
	struct history *h = history_create(2);
	const struct bus_record *r;
	char big[2000];
	const char *data;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = history_keep(h, 2, "a longer line\n", 14, NULL);
	data = r->blob->data;
	assert_false(r->is_event);
	r = history_keep(h, 4, "short\n", 6, NULL);
	assert_ptr_equal(r->blob->data, data);
	assert_int_equal(r->blob->len, 6);
	assert_string_equal(r->blob->data, "short\n");
	assert_int_equal(r->seq, 4);
	assert_null(history_get(h, 4, 2));
	assert_non_null(history_get(h, 4, 4));

	r = history_keep(h, 6, big, sizeof(big) - 1, NULL);
	assert_string_equal(r->blob->data, big);
	data = r->blob->data;
	big[1000] = '\0';
	r = history_keep(h, 8, big, 1000, NULL);
	assert_ptr_equal(r->blob->data, data);
	assert_int_equal(r->blob->len, 1000);
	assert_string_equal(r->blob->data, big);
	r = history_keep(h, 9, "other slot\n", 11, NULL);
	assert_string_equal(history_get(h, 9, 8)->blob->data, big);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_numbers_in_order),
		cmocka_unit_test(test_bus_drops_duplicates_from_other_channels),
		cmocka_unit_test(test_bus_reorders_within_window),
		cmocka_unit_test(test_bus_gap_becomes_lost_record),
		cmocka_unit_test(test_bus_expected_tail_becomes_lost_record),
		cmocka_unit_test(test_bus_far_ahead_gives_up_at_once),
		cmocka_unit_test(test_bus_signal_kseq_waits_for_full_copy),
		cmocka_unit_test(test_bus_partial32_widens_across_4g),
		cmocka_unit_test(test_bus_history_keeps_newest),
		cmocka_unit_test(test_bus_reset_accepts_restarted_kernel),
		cmocka_unit_test(
		    test_bus_expect_then_far_ahead_copy_counts_each_kseq_once),
		cmocka_unit_test(
		    test_bus_gap_deadline_counts_from_first_copy_after_it),
		cmocka_unit_test(
		    test_bus_signal_first_after_attach_waits_for_a_base),
		cmocka_unit_test(
		    test_bus_partial32_below_4g_boundary_is_a_duplicate),
		cmocka_unit_test(test_bus_timer_is_normalised_and_exact),
		cmocka_unit_test(test_bus_timer_fires_in_the_loop),
		cmocka_unit_test(
		    test_bus_record_that_fails_to_encode_leaves_no_hole),
		cmocka_unit_test(test_bus_absurd_kseq_is_refused),
		cmocka_unit_test(test_bus_expected_tail_waits_while_copies_come),
		cmocka_unit_test(test_bus_duplicate_check_before_decode),
		cmocka_unit_test(test_bus_history_reuses_slot_buffers),
		cmocka_unit_test(test_bus_reads_the_clock_only_when_something_waits),
		cmocka_unit_test(test_filter_globs),
		cmocka_unit_test(test_filter_literal_and_glob_agree_with_fnmatch),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
