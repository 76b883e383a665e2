// SPDX-License-Identifier: GPL-2.0
/* Allocation that cannot fail: out of memory is fatal for a daemon. */
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		fatal("calloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}
