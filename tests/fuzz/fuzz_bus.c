// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the bus under whatever the channels can do. The input bytes
 * are the operations of the model in tests/unit/bus_model.h (two bytes
 * each: the operation and its argument): events emitted on some channels,
 * copies delivered, time passing, overruns, reloads, restarts. Aborts
 * when a kseq is published twice, or neither published nor counted lost,
 * when a count is negative or unknown where it is known, or when seq does
 * not go up by one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/bus_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	size_t i;

	if (size > 257)		/* 128 operations */
		return 0;
	model_init(&m, size > 0 && (data[0] & 1) ? 0xffffff00ULL : 1);
	for (i = 1; i + 1 < size && m.why[0] == '\0'; i += 2)
		model_step(&m, data[i],
		    (unsigned int)data[i + 1] * 0x01010101u);
	if (m.why[0] == '\0')
		model_finish(&m);
	if (m.why[0] != '\0') {
		fprintf(stdout, "bus property violated: %s\n", m.why);
		fflush(stdout);
		abort();
	}
	model_free(&m);
	return 0;
}
