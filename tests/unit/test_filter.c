// SPDX-License-Identifier: GPL-2.0
/* filter.c: every pattern matches exactly what fnmatch() says it does. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kuifd.h"

static const char *const patterns[] = {
	"", "*", "?", "bench", "bench*", "b*", "*h", "?ench", "[ab]ench",
	"[!a]ench", "\\bench", "\\*", "netdev.*", "module.*", "inet.*",
	"inet6.*", "power.*", "chardev.write", "chardev.*.x", "*.*", "[",
	"\\", "be\\nch", "benc", "benchx", "ring", "r*g", "[r]ing",
};

static const char *const names[] = {
	"", "bench", "bench.x", "bench2", "b", "*", "ring", "netdev.up",
	"module.load", "inet6.addr", "inet.addr", "power.suspend",
	"chardev.write", "chardev.y.x", "[", "\\", "rig", "xbench", "abench",
	"cench",
};

static void
test_filter_is_fnmatch(void **state)
{
	struct filter f;
	size_t i, j;
	char *one;

	(void)state;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		memset(&f, 0, sizeof(f));
		one = (char *)patterns[i];
		f.events[0] = one;
		f.nevents = 1;
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			bool want = fnmatch(patterns[i], names[j], 0) == 0;

			if (filter_match(&f, "ring", names[j]) != want)
				fail_msg("pattern \"%s\", name \"%s\": %d, "
				    "fnmatch says %d", patterns[i], names[j],
				    !want, want);
			/* Sources go through the same matcher. */
			f.sources[0] = one;
			f.nsources = 1;
			if (filter_match(&f, names[j], "x") !=
			    (want && fnmatch(patterns[i], "x", 0) == 0))
				fail_msg("source pattern \"%s\", \"%s\"",
				    patterns[i], names[j]);
			f.nsources = 0;
		}
	}
}

/* Several patterns: any one that matches is enough; none, no match. */
static void
test_filter_any_of_several(void **state)
{
	struct filter f = { 0 };

	(void)state;
	f.events[0] = "netdev.*";
	f.events[1] = "module.*";
	f.events[2] = "b?nch";
	f.nevents = 3;
	assert_true(filter_match(&f, "ring", "bench"));
	assert_true(filter_match(&f, "ring", "module.load"));
	assert_false(filter_match(&f, "ring", "benches"));
	assert_false(filter_match(&f, "ring", "net"));
	f.nevents = 0;
	assert_true(filter_match(&f, "ring", "anything"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_is_fnmatch),
		cmocka_unit_test(test_filter_any_of_several),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
