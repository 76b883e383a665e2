// SPDX-License-Identifier: GPL-2.0
/* src_ring.c: decoding records of the mmap ring, including hostile ones. */
#include <sys/mman.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <cmocka.h>

#include "kuifd.h"

#define DATA_SIZE 4096

/* Exactly the data area, on the heap: a read past it is a read past it. */
static uint8_t *data;

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

static void
test_ring_rejects_hostile_lengths(void **state)
{
	struct kuif_ring_record *r;
	struct event ev;
	bool is_event;

	(void)state;
	/* The largest payload_len, with a len past the ring or inside it. */
	r = put(0, KUIF_RING_EVENT, 1, "ok", "abc");
	r->payload_len = 0xffff;
	r->len = 0xfff8;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	r->len = DATA_SIZE;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	/* payload_len at the limit, len one short of holding it. */
	r->payload_len = KUIF_PAYLOAD_MAX;
	r->len = (uint32_t)(sizeof(*r) + KUIF_PAYLOAD_MAX + 7) / 8 * 8 - 8;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), 0);
	/* At the limit and whole: accepted, all of it. */
	r->len = (uint32_t)(sizeof(*r) + KUIF_PAYLOAD_MAX + 7) / 8 * 8;
	memset(r->payload, 'z', KUIF_PAYLOAD_MAX);
	assert_int_equal(src_ring_decode(data, DATA_SIZE, 0, DATA_SIZE, &ev,
	    &is_event), r->len);
	assert_int_equal(ev.len, KUIF_PAYLOAD_MAX);
	assert_int_equal(ev.payload[KUIF_PAYLOAD_MAX - 1], 'z');
	/* The last 8 bytes of the ring: a pad is read, nothing past it. */
	r = (void *)(data + DATA_SIZE - 8);
	r->len = 8;
	r->type = KUIF_RING_PAD;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, DATA_SIZE - 8, 8,
	    &ev, &is_event), 8);
	/* An event that claims to end there cannot hold its header. */
	r->type = KUIF_RING_EVENT;
	assert_int_equal(src_ring_decode(data, DATA_SIZE, DATA_SIZE - 8, 8,
	    &ev, &is_event), 0);
}

#if defined(__x86_64__)
/*
 * A writer racing the decoder as well as one can: after every instruction
 * that reads the ring, the header is rewritten to claim a 64 KiB payload.
 * The ring page is PROT_NONE; each access faults, the SIGSEGV handler opens
 * the page and sets the trap flag, the access runs, and the SIGTRAP that
 * follows is the writer's turn: it closes the page again. Run with the
 * rewrite after the first access, then after the second, and so on: a
 * decoder that checks a length and reads it again for the copy takes the
 * hostile one at some turn. The event is followed by 64 KiB of slack so
 * that such a decoder fails an assertion instead of smashing the stack.
 */
static uint8_t *race_page;
static volatile sig_atomic_t race_accesses, race_turn;

static void
race_segv(int sig, siginfo_t *si, void *arg)
{
	ucontext_t *uc = arg;
	uint8_t *a = si->si_addr;

	(void)sig;
	if (a < race_page || a >= race_page + DATA_SIZE) {
		signal(SIGSEGV, SIG_DFL);	/* a real fault: die of it */
		return;
	}
	mprotect(race_page, DATA_SIZE, PROT_READ | PROT_WRITE);
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;	/* TF */
}

static void
race_trap(int sig, siginfo_t *si, void *arg)
{
	ucontext_t *uc = arg;
	struct kuif_ring_record *r = (void *)race_page;

	(void)sig;
	(void)si;
	if (++race_accesses >= race_turn) {
		r->len = DATA_SIZE;
		r->payload_len = 0xffff;
	}
	mprotect(race_page, DATA_SIZE, PROT_NONE);
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
}

static void
test_ring_header_is_read_once(void **state)
{
	struct {
		struct event	ev;
		uint8_t		slack[65536];
	} *out;
	struct sigaction sa, old_segv, old_trap;
	struct kuif_ring_record *r;
	bool is_event;
	size_t len, want;
	int turn, decoded = 0;

	(void)state;
	out = calloc(1, sizeof(*out));
	race_page = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_non_null(out);
	assert_true(race_page != MAP_FAILED);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = race_segv;
	sigaction(SIGSEGV, &sa, &old_segv);
	sa.sa_sigaction = race_trap;
	sigaction(SIGTRAP, &sa, &old_trap);
	for (turn = 1; turn < 200; turn++) {
		r = (void *)race_page;
		memset(r, 0, 128);
		r->type = KUIF_RING_EVENT;
		r->kseq = 9;
		r->payload_len = 5;
		strcpy(r->event, "race.me");
		memcpy(r->payload, "hello", 5);
		want = r->len = (uint32_t)(sizeof(*r) + 5 + 7) / 8 * 8;
		race_accesses = 0;
		race_turn = turn;
		mprotect(race_page, DATA_SIZE, PROT_NONE);
		len = src_ring_decode(race_page, DATA_SIZE, 0, DATA_SIZE,
		    &out->ev, &is_event);
		mprotect(race_page, DATA_SIZE, PROT_READ | PROT_WRITE);
		/* The first access reads len, type and payload_len at once:
		 * the decoder sees the record as it was, whole. */
		if (len != want || !is_event || out->ev.len != 5 ||
		    memcmp(out->ev.payload, "hello", 5) != 0 ||
		    strcmp(out->ev.name, "race.me") != 0) {
			print_error("rewritten after access %d of %d: "
			    "decoded %zu bytes, payload %zu\n", turn,
			    (int)race_accesses, len, out->ev.len);
			break;
		}
		decoded++;
		if (race_accesses < turn)
			break;		/* no turn left to try */
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGTRAP, &old_trap, NULL);
	munmap(race_page, DATA_SIZE);
	free(out);
	/* Every turn decoded the record as it was, and the ring was read by
	 * at least one instruction (else nothing was tested). */
	assert_int_equal(decoded, turn);
	assert_true(turn > 1);
}
#else
static void
test_ring_header_is_read_once(void **state)
{
	(void)state;
	skip();		/* the single-step writer needs x86-64 */
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_decodes_event),
		cmocka_unit_test(test_ring_position_wraps_by_data_size),
		cmocka_unit_test(test_ring_pad_is_skipped),
		cmocka_unit_test(test_ring_rejects_malformed),
		cmocka_unit_test(test_ring_rejects_hostile_lengths),
		cmocka_unit_test(test_ring_header_is_read_once),
	};

	data = aligned_alloc(8, DATA_SIZE);
	if (data == NULL)
		return 1;
	memset(data, 0, DATA_SIZE);
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
