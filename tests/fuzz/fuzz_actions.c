// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: action rule files (kuifd-actions(5)) through libinih and
 * kuifd's rule parser; a rejected file names a line within it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	unsigned int line = 0, lines = 1;
	char *text, err[256];
	size_t n, i;

	if (!quiet) {
		log_init(0, "fuzz_actions");
		quiet = 1;
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (actions_check_string("fuzz.conf", text, &n, &line, err,
	    sizeof(err)) == 0) {
		if (n > ACTIONS_MAX_RULES)
			abort();
	} else if (err[0] == '\0' || line > lines || n != 0)
		abort();
	free(text);
	return 0;
}
