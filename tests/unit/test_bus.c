// SPDX-License-Identifier: GPL-2.0
/* bus.c and filter.c: numbering, deduplication, gaps, filters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kuifd.h"

#include <event2/event.h>

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

/* Runs the loop long enough for the reorder timer to give up on gaps. */
static void
wait_ms(struct event_base *base, int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
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
	struct event_base *base = event_base_new();
	struct bus *bus = bus_create(base, 64, 1000);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
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
	event_base_free(base);
}

static void
test_bus_gap_becomes_lost_record(void **state)
{
	struct event_base *base = event_base_new();
	struct bus *bus = bus_create(base, 64, 30);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 5, "netlink");
	publish(bus, 9, "netlink");
	assert_int_equal(s.n, 1);		/* 9 waits for 6..8 */
	wait_ms(base, 150);
	assert_int_equal(s.n, 3);
	assert_false(s.is_event[1]);
	assert_string_equal(s.line[1], "{\"type\":\"lost\",\"seq\":2,"
	    "\"count\":3,\"reason\":\"missed\"}\n");
	has(s.line[2], "\"seq\":3,\"kseq\":9,");
	assert_int_equal(bus_stats(bus)->lost, 3);
	/* A straggler after the gap was given up is a duplicate. */
	publish(bus, 7, "ring");
	assert_int_equal(s.n, 3);
	bus_free(bus);
	event_base_free(base);
}

static void
test_bus_expected_tail_becomes_lost_record(void **state)
{
	struct event_base *base = event_base_new();
	struct bus *bus = bus_create(base, 64, 30);
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 5, "netlink");
	publish(bus, 6, "netlink");
	bus_expect(bus, 9);		/* 7..9 emitted, none came yet */
	publish(bus, 7, "ring");	/* one arrives in time */
	assert_int_equal(s.n, 3);
	wait_ms(base, 150);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[3], "{\"type\":\"lost\",\"seq\":4,"
	    "\"count\":2,\"reason\":\"missed\"}\n");
	/* Late copies are duplicates; the next kseq is published at once. */
	publish(bus, 9, "ring");
	publish(bus, 10, "netlink");
	assert_int_equal(s.n, 5);
	has(s.line[4], "\"seq\":5,\"kseq\":10,");
	/* Nothing is expected that already came. */
	bus_expect(bus, 10);
	wait_ms(base, 100);
	assert_int_equal(s.n, 5);
	bus_free(bus);
	event_base_free(base);
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
	struct event_base *base = event_base_new();
	struct bus *bus = bus_create(base, 64, 30);
	struct seen s = { 0 };
	struct event ev;

	(void)state;
	bus_set_sink(bus, sink, &s);
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
	wait_ms(base, 120);			/* none comes */
	assert_int_equal(s.n, 3);
	has(s.line[2], "\"kseq\":3,");
	has(s.line[2], "\"source\":\"signal\"");
	bus_free(bus);
	event_base_free(base);
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
		cmocka_unit_test(test_filter_globs),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
