// SPDX-License-Identifier: GPL-2.0
/* src_ring.c: decoding records of the mmap ring, including hostile ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kuifd.h"

#define DATA_SIZE 4096

static _Alignas(8) uint8_t data[DATA_SIZE];

static struct kuif_ring_record *
put(uint32_t off, uint16_t type, uint64_t kseq, const char *name,
    const char *payload)
{
	struct kuif_ring_record *r = (void *)(data + off);
	size_t pl = payload ? strlen(payload) : 0;

	memset(r, 0, sizeof(*r));
	r->type = type;
	r->kseq = kseq;
	r->time_ns = kseq * 10;
	r->payload_len = (uint16_t)pl;
	if (name)
		strcpy(r->event, name);
	if (pl)
		memcpy(r->payload, payload, pl);
	r->len = (uint32_t)((sizeof(*r) + pl + 7) & ~7UL);
	return r;
}

static void
test_ring_decodes_event(void **state)
{
	struct kuif_ring_record *r;
	struct event ev;
	bool is_event;
	size_t len;

	(void)state;
	r = put(0, KUIF_RING_EVENT, 42, "chardev.write", "hello");
	len = src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev, &is_event);
	assert_int_equal(len, r->len);
	assert_true(is_event);
	assert_int_equal(ev.kseq, 42);
	assert_int_equal(ev.time_ns, 420);
	assert_string_equal(ev.name, "chardev.write");
	assert_string_equal(ev.source, "ring");
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.payload, "hello", 5);
}

static void
test_ring_position_wraps_by_data_size(void **state)
{
	struct event ev;
	bool is_event;

	(void)state;
	put(64, KUIF_RING_EVENT, 7, "x.y", NULL);
	assert_int_not_equal(src_ring_decode(data, DATA_SIZE,
	    3 * DATA_SIZE + 64, DATA_SIZE, &ev, &is_event), 0);
	assert_int_equal(ev.kseq, 7);
}

static void
test_ring_pad_is_skipped(void **state)
{
	struct kuif_ring_record *r = (void *)(data + DATA_SIZE - 64);
	struct event ev;
	bool is_event = true;

	(void)state;
	r->len = 64;
	r->type = KUIF_RING_PAD;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, DATA_SIZE - 64, 64,
	    &ev, &is_event), 64);
	assert_false(is_event);
}

static void
test_ring_rejects_malformed(void **state)
{
	struct kuif_ring_record *r;
	struct event ev;
	bool is_event;

	(void)state;
	r = put(0, KUIF_RING_EVENT, 1, "ok.name", "abc");
	/* Misaligned position. */
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 4, DATA_SIZE, &ev,
	    &is_event), 0);
	/* Longer than what the producer published. */
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, r->len - 8, &ev,
	    &is_event), 0);
	/* Running past the end of the data area. */
	put(DATA_SIZE - 64, KUIF_RING_EVENT, 1, "x", "0123456789");
	assert_int_equal(src_ring_decode(data, DATA_SIZE, DATA_SIZE - 64,
	    DATA_SIZE, &ev, &is_event), 0);
	/* Length zero, not a multiple of 8, or shorter than the header. */
	r = put(0, KUIF_RING_EVENT, 1, "ok", NULL);
	r->len = 0;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	r->len = 60;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	r->len = 16;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	/* Unknown type. */
	r = put(0, 9, 1, "ok", NULL);
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	/* Payload longer than the record or than the limit. */
	r = put(0, KUIF_RING_EVENT, 1, "ok", "abc");
	r->payload_len = 200;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	r->payload_len = KUIF_PAYLOAD_MAX + 1;
	r->len = 1024;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	/* Name empty or not terminated. */
	r = put(0, KUIF_RING_EVENT, 1, "", NULL);
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	r = put(0, KUIF_RING_EVENT, 1, NULL, NULL);
	memset(r->event, 'a', sizeof(r->event));
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_decodes_event),
		cmocka_unit_test(test_ring_position_wraps_by_data_size),
		cmocka_unit_test(test_ring_pad_is_skipped),
		cmocka_unit_test(test_ring_rejects_malformed),
	};

	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
