// SPDX-License-Identifier: GPL-2.0
/*
 * Subscriber filters: an event passes when its source matches one of the
 * source patterns and its name one of the event patterns (shell globs); an
 * empty list matches everything.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

static bool
filter_any(char *const *patterns, size_t n, const char *s)
{
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++) {
		if (fnmatch(patterns[i], s, 0) == 0)
			return true;
	}
	return false;
}

bool
filter_match(const struct filter *f, const char *source, const char *name)
{
	return filter_any(f->sources, f->nsources, source) &&
	    filter_any(f->events, f->nevents, name);
}

void
filter_clear(struct filter *f)
{
	size_t i;

	for (i = 0; i < f->nsources; i++)
		free(f->sources[i]);
	for (i = 0; i < f->nevents; i++)
		free(f->events[i]);
	memset(f, 0, sizeof(*f));
}

/* Moves src into dst, freeing what dst held; src is left empty. */
void
filter_move(struct filter *dst, struct filter *src)
{
	filter_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}
