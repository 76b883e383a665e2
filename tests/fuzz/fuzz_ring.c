// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the ring as a hostile producer could leave it. The input is
 * the data area; records are decoded from position 0 the way src_ring
 * walks them, and every decoded event must be well formed. The data area
 * is a heap block of exactly its size, so that ASan catches any read past
 * it, and the event is one too, so that it catches any copy past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

#define DATA_SIZE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *ring;
	uint64_t pos = 0, prod;
	struct event *ev;
	bool is_event;
	size_t len;

	if (size < 8)
		return 0;
	ring = malloc(DATA_SIZE);
	ev = malloc(sizeof(*ev));
	if (ring == NULL || ev == NULL)
		abort();
	/* The first 8 bytes: how far the producer claims to be. */
	memcpy(&prod, data, sizeof(prod));
	prod %= 4 * DATA_SIZE;
	memset(ring, 0, DATA_SIZE);
	memcpy(ring, data + 8, size - 8 < DATA_SIZE ? size - 8 : DATA_SIZE);
	while (pos < prod) {
		len = src_ring_decode(ring, DATA_SIZE, pos, prod - pos, ev,
		    &is_event);
		if (len == 0)
			break;
		if (len % 8 != 0 || len > prod - pos)
			abort();
		if (is_event && (ev->len > KUIF_PAYLOAD_MAX ||
		    !event_name_valid(ev->name, strlen(ev->name))))
			abort();
		pos += len;
	}
	free(ev);
	free(ring);
	return 0;
}
