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

#define SEEN_MAX 16

struct seen {
	size_t	n;
	char	line[SEEN_MAX][1024];
	bool	is_event[SEEN_MAX];
};

static void
sink(const struct event *ev, struct blob *b, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < SEEN_MAX);
	assert_true(b->len < sizeof(s->line[0]));
	memcpy(s->line[s->n], b->data, b->len);
	s->line[s->n][b->len] = '\0';
	s->is_event[s->n] = ev != NULL;
	s->n++;
}

static void
publish(struct bus *bus, uint64_t kseq, const char *source)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kseq = kseq;
	ev.time_ns = kseq * 1000;
	snprintf(ev.source, sizeof(ev.source), "%s", source);
	snprintf(ev.name, sizeof(ev.name), "test.e%llu",
	    (unsigned long long)kseq);
	bus_publish(bus, &ev);
}

static void
test_bus_numbers_in_order(void **state)
{
	struct bus *bus = bus_create();
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 10, "netlink");
	publish(bus, 11, "netlink");
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.line[0], "\"seq\":1,\"kseq\":10,"));
	assert_non_null(strstr(s.line[1], "\"seq\":2,\"kseq\":11,"));
	assert_int_equal(bus_seq(bus), 2);
	bus_free(bus);
}

static void
test_bus_drops_duplicates_from_other_channels(void **state)
{
	struct bus *bus = bus_create();
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 1, "netlink");
	publish(bus, 1, "ring");
	publish(bus, 2, "ring");
	publish(bus, 2, "netlink");
	assert_int_equal(s.n, 2);
	assert_int_equal(bus_stats(bus)->received, 4);
	assert_int_equal(bus_stats(bus)->published, 2);
	assert_int_equal(bus_stats(bus)->duplicates, 2);
	bus_free(bus);
}

static void
test_bus_gap_becomes_lost_record(void **state)
{
	struct bus *bus = bus_create();
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 5, "netlink");
	publish(bus, 9, "netlink");
	assert_int_equal(s.n, 3);
	assert_false(s.is_event[1]);
	assert_string_equal(s.line[1],
	    "{\"type\":\"lost\",\"count\":3,\"reason\":\"missed\"}\n");
	assert_non_null(strstr(s.line[2], "\"kseq\":9,"));
	assert_int_equal(bus_stats(bus)->lost, 3);
	bus_free(bus);
}

static void
test_bus_reset_accepts_restarted_kernel(void **state)
{
	struct bus *bus = bus_create();
	struct seen s = { 0 };

	(void)state;
	bus_set_sink(bus, sink, &s);
	publish(bus, 100, "netlink");
	bus_reset_kseq(bus);
	publish(bus, 1, "netlink");
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.line[1], "\"seq\":2,\"kseq\":1,"));
	bus_free(bus);
}

static void
test_filter_globs(void **state)
{
	struct filter f;
	struct event ev;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&ev, 0, sizeof(ev));
	strcpy(ev.source, "netlink");
	strcpy(ev.name, "netdev.up");
	assert_true(filter_match(&f, &ev));	/* empty matches all */

	f.events[f.nevents++] = xstrdup("netdev.*");
	assert_true(filter_match(&f, &ev));
	strcpy(ev.name, "module.load");
	assert_false(filter_match(&f, &ev));
	f.events[f.nevents++] = xstrdup("module.[lu]*");
	assert_true(filter_match(&f, &ev));

	f.sources[f.nsources++] = xstrdup("ring");
	assert_false(filter_match(&f, &ev));
	f.sources[f.nsources++] = xstrdup("net*");
	assert_true(filter_match(&f, &ev));
	filter_clear(&f);
	assert_int_equal(f.nevents + f.nsources, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_numbers_in_order),
		cmocka_unit_test(test_bus_drops_duplicates_from_other_channels),
		cmocka_unit_test(test_bus_gap_becomes_lost_record),
		cmocka_unit_test(test_bus_reset_accepts_restarted_kernel),
		cmocka_unit_test(test_filter_globs),
	};

	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
