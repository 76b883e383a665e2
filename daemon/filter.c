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

/*
 * fnmatch(pattern, s, 0) == 0, without fnmatch for the literal part: it
 * runs for every subscriber and every event, and most patterns are plain
 * names. Up to the first wildcard or backslash, a pattern matches only
 * the same bytes; from there on fnmatch decides, on the whole strings.
 */
static bool
filter_glob(const char *pattern, const char *s)
{
	const char *p = pattern, *t = s;

	for (;; p++, t++) {
		switch (*p) {
		case '*':
		case '?':
		case '[':
		case '\\':
			return fnmatch(pattern, s, 0) == 0;
		case '\0':
			return *t == '\0';
		default:
			if (*p != *t)
				return false;
		}
	}
}

/* What fnmatch treats specially, and filter_glob hands to it. */
static bool
filter_special(char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

static bool
filter_any(char *const *patterns, size_t n, const char *s)
{
	const char *p;
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++) {
		p = patterns[i];
		/* The usual miss, decided without a call: a pattern that
		 * starts with another byte, which is no wildcard. */
		if (p[0] != s[0] && !filter_special(p[0]))
			continue;
		if (filter_glob(p, s))
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

bool
filter_empty(const struct filter *f)
{
	return f->nsources == 0 && f->nevents == 0;
}

static bool
filter_same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0)
			return false;
	}
	return true;
}

/* The same patterns in the same order: the same filter. */
bool
filter_equal(const struct filter *a, const struct filter *b)
{
	return filter_same_list(a->sources, a->nsources, b->sources,
	    b->nsources) &&
	    filter_same_list(a->events, a->nevents, b->events, b->nevents);
}

void
filter_copy(struct filter *dst, const struct filter *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->nsources; i++)
		dst->sources[i] = xstrdup(src->sources[i]);
	dst->nsources = src->nsources;
	for (i = 0; i < src->nevents; i++)
		dst->events[i] = xstrdup(src->events[i]);
	dst->nevents = src->nevents;
}
