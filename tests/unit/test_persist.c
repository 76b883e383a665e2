// SPDX-License-Identifier: GPL-2.0
/*
 * persist.c and the bus across a restart: the history memfd is read back
 * without trusting it, and the kseqs the kernel emitted while kuifd was
 * down are accounted for. A "restart" here is what systemd does: the same
 * memfd handed to a new bus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "kuifd.h"
#include "persist.h"

/* A loss record's line without its time, which must be there (RFC 3339
 * with ns, kuifd's clock): the rest is compared exactly. */
static const char *
untimed(const char *line)
{
	static char buf[1024];
	const char *t = strstr(line, "\"time\":\"");
	size_t n;

	assert_non_null(t);
	assert_true(strlen(t) > 8 + 30 + 2);
	assert_int_equal(t[8 + 29], 'Z');
	assert_int_equal(t[8 + 30], '"');
	n = (size_t)(t - line);
	assert_true(n + strlen(t + 8 + 32) < sizeof(buf));
	memcpy(buf, line, n);
	strcpy(buf + n, t + 8 + 32);	/* after "time":"...", */
	return buf;
}

#define NSLOTS		16
#define SEEN_MAX	64

struct seen {
	size_t	n;
	char	line[SEEN_MAX][1024];
};

static uint64_t now_ms;

static uint64_t
test_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

static void
sink(const struct bus_record *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < SEEN_MAX);
	assert_true(r->blob->len < sizeof(s->line[0]));
	memcpy(s->line[s->n], r->blob->data, r->blob->len + 1);
	s->n++;
}

static void
has(const char *line, const char *want)
{
	if (strstr(line, want) == NULL)
		fail_msg("want \"%s\" in %s", want, line);
}

static void
publish(struct bus *bus, uint64_t kseq)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kseq = kseq;
	ev.time_ns = kseq * 1000;
	strcpy(ev.source, "ring");
	snprintf(ev.name, sizeof(ev.name), "test.e%llu",
	    (unsigned long long)kseq);
	ev.len = 3;
	memcpy(ev.payload, "abc", 3);
	bus_publish(bus, &ev);
}

/* One run of kuifd over the memfd: a bus with its persisted history. */
struct run {
	struct bus	*bus;
	struct persist	*persist;
	struct seen	 seen;
};

static void
run_start(struct run *r, int memfd)
{
	memset(r, 0, sizeof(*r));
	r->bus = bus_create(NULL, NSLOTS, 100);
	bus_set_clock(r->bus, test_clock, NULL);
	r->persist = persist_open(dup(memfd), NSLOTS);
	assert_non_null(r->persist);
	bus_set_persist(r->bus, r->persist);
	bus_restore(r->bus);
	bus_set_sink(r->bus, sink, &r->seen);
}

/* A crash: nothing is flushed. */
static void
run_stop(struct run *r)
{
	bus_free(r->bus);
	persist_close(r->persist);
}

static int
new_memfd(void)
{
	int fd = memfd_create("test-history", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* The slots, mapped the way persist.c maps them, to forge them. */
static struct persist_slot *
map_slots(int fd, struct persist_header **hdrp)
{
	size_t size = sizeof(struct persist_header) +
	    NSLOTS * sizeof(struct persist_slot);
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);

	assert_true(map != MAP_FAILED);
	if (hdrp != NULL)
		*hdrp = map;
	return (struct persist_slot *)((struct persist_header *)map + 1);
}

static void
unmap_slots(struct persist_slot *slots)
{
	munmap((struct persist_header *)slots - 1,
	    sizeof(struct persist_header) +
	    NSLOTS * sizeof(struct persist_slot));
}

static void
seal(struct persist_slot *s)
{
	s->check = persist_slot_check(s);
}

/* Writes 5 events (seq 1..5, kseq 1..5) into a fresh memfd. */
static int
history_of_five(void)
{
	struct run r;
	int fd = new_memfd();
	uint64_t k;

	now_ms = 1000;
	run_start(&r, fd);
	for (k = 1; k <= 5; k++)
		publish(r.bus, k);
	assert_int_equal(r.seen.n, 5);
	run_stop(&r);
	return fd;
}

static void
test_persist_restores_history_and_seq(void **state)
{
	struct run r;
	const struct bus_record *rec;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 5);
	rec = bus_history_get(r.bus, 3);
	assert_non_null(rec);
	assert_true(rec->is_event);
	has(rec->blob->data, "\"seq\":3,\"kseq\":3,");
	has(rec->blob->data, "\"event\":\"test.e3\",\"data\":{\"payload\":"
	    "\"abc\"}");
	/* Published before the kernel's source attached: the kseq to
	 * resume from is kept all the same. */
	bus_publish_loss(r.bus, 7, "inotify_overflow");
	run_stop(&r);
	run_start(&r, fd);
	publish(r.bus, 5);
	publish(r.bus, 6);
	bus_kernel_attach(r.bus, NULL);
	publish(r.bus, 6);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"seq\":7,\"kseq\":6,");
	run_stop(&r);
	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 7);
	assert_string_equal(untimed(bus_history_get(r.bus, 6)->blob->data),
	    "{\"type\":\"lost\",\"seq\":6,\"count\":7,"
	    "\"reason\":\"inotify_overflow\"}\n");
	run_stop(&r);
	close(fd);
}

/* Forges slot seq 3 (a valid checksum) and checks that the restore
 * replaces it, and only it, by a loss record. */
static void
expect_slot_3_discarded(int fd)
{
	struct run r;
	const struct bus_record *rec;

	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 5);
	rec = bus_history_get(r.bus, 3);
	assert_non_null(rec);
	assert_false(rec->is_event);
	assert_string_equal(untimed(rec->blob->data), "{\"type\":\"lost\",\"seq\":3,"
	    "\"count\":0,\"reason\":\"history_corrupt\"}\n");
	assert_true(bus_history_get(r.bus, 2)->is_event);
	assert_true(bus_history_get(r.bus, 4)->is_event);
	run_stop(&r);
}

/* Issue 12, item 2: a slot whose length is 4000 overflowed a stack
 * buffer (struct event's payload) when it was encoded. */
static void
test_persist_slot_with_oversized_length_is_discarded(void **state)
{
	int fd = history_of_five();
	struct persist_slot *slots = map_slots(fd, NULL);

	(void)state;
	slots[3].len = 4000;
	seal(&slots[3]);
	unmap_slots(slots);
	expect_slot_3_discarded(fd);
	close(fd);
}

/* Issue 12, item 2: a seq of UINT64_MAX looped forever. It is not a seq
 * kuifd can reach: the slot is ignored, the newest valid one is used. */
static void
test_persist_seq_uint64_max_is_ignored(void **state)
{
	struct run r;
	int fd = history_of_five();
	struct persist_slot *slots = map_slots(fd, NULL);

	(void)state;
	/* Valid records in every other way, in the right slots. */
	slots[UINT64_MAX % NSLOTS] = slots[3];
	slots[UINT64_MAX % NSLOTS].seq = UINT64_MAX;
	seal(&slots[UINT64_MAX % NSLOTS]);
	slots[1].seq = ((uint64_t)1 << 63) + 1;
	seal(&slots[1]);
	unmap_slots(slots);
	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 5);
	has(bus_history_get(r.bus, 1)->blob->data, "history_corrupt");
	publish(r.bus, 6);
	assert_int_equal(bus_seq(r.bus), 6);
	run_stop(&r);
	close(fd);
}

/* Issue 12, item 2: a reason without NUL was read past its end. */
static void
test_persist_reason_without_nul_is_discarded(void **state)
{
	int fd = history_of_five();
	struct persist_slot *slots = map_slots(fd, NULL);

	(void)state;
	memset(&slots[3], 0, sizeof(slots[3]));
	slots[3].seq = 3;
	slots[3].kind = PERSIST_LOSS;
	slots[3].lost_count = 1;
	memset(slots[3].reason, 'a', sizeof(slots[3].reason));
	seal(&slots[3]);
	unmap_slots(slots);
	expect_slot_3_discarded(fd);
	close(fd);
}

/* Issue 12, item 2: a record that cannot be encoded left a NULL blob a
 * replay dereferenced. Names, sources and reasons that could not be
 * encoded are refused; whatever else fails to encode still gets a line
 * (test_bus_record_that_fails_to_encode_leaves_no_hole). */
static void
test_persist_unencodable_fields_are_discarded(void **state)
{
	static const char *const bad_names[] = { "\xff\xfe", "Upper", "" };
	int fd = history_of_five();
	struct persist_slot *slots;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		slots = map_slots(fd, NULL);
		snprintf(slots[3].name, sizeof(slots[3].name), "%s",
		    bad_names[i]);
		seal(&slots[3]);
		unmap_slots(slots);
		expect_slot_3_discarded(fd);
	}
	slots = map_slots(fd, NULL);
	strcpy(slots[3].name, "test.e3");
	strcpy(slots[3].source, "\xff");
	seal(&slots[3]);
	unmap_slots(slots);
	expect_slot_3_discarded(fd);

	slots = map_slots(fd, NULL);
	memset(&slots[3], 0, sizeof(slots[3]));
	slots[3].seq = 3;
	slots[3].kind = PERSIST_LOSS;
	strcpy(slots[3].reason, "\xff\"x");
	seal(&slots[3]);
	unmap_slots(slots);
	expect_slot_3_discarded(fd);
	close(fd);
}

/* A torn write (a crash in the middle of it) fails the checksum. */
static void
test_persist_torn_slot_is_discarded(void **state)
{
	int fd = history_of_five();
	struct persist_slot *slots = map_slots(fd, NULL);

	(void)state;
	slots[3].payload[1] ^= 1;
	unmap_slots(slots);
	expect_slot_3_discarded(fd);
	close(fd);
}

/* A header that is not ours, or of another version, is started afresh. */
static void
test_persist_foreign_header_starts_afresh(void **state)
{
	struct run r;
	struct persist_header *hdr;
	int fd = history_of_five();
	struct persist_slot *slots = map_slots(fd, &hdr);

	(void)state;
	hdr->version = 1;
	hdr->check = persist_header_check(hdr);
	unmap_slots(slots);
	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 0);
	run_stop(&r);

	close(fd);
	fd = history_of_five();
	slots = map_slots(fd, &hdr);
	hdr->nslots = 1ULL << 40;	/* checksum no longer matches */
	unmap_slots(slots);
	run_start(&r, fd);
	assert_int_equal(bus_seq(r.bus), 0);
	run_stop(&r);
	close(fd);
}

/*
 * Issue 12, item 7: kuifd restarts; the kernel emitted 6..9 meanwhile and
 * the ring kept 6 and 7. Those are published, 8 and 9 are lost, and an
 * old copy still in the ring (3) is a duplicate, not a new base.
 */
static void
test_restart_expects_what_the_kernel_emitted_meanwhile(void **state)
{
	struct run r;
	uint64_t last = 9;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, &last);
	publish(r.bus, 3);
	publish(r.bus, 6);
	publish(r.bus, 7);
	assert_int_equal(r.seen.n, 2);
	has(r.seen.line[0], "\"seq\":6,\"kseq\":6,");
	has(r.seen.line[1], "\"seq\":7,\"kseq\":7,");
	now_ms += 99;
	bus_timeout(r.bus);
	assert_int_equal(r.seen.n, 2);
	now_ms += 1;
	bus_timeout(r.bus);
	assert_int_equal(r.seen.n, 3);
	assert_string_equal(untimed(r.seen.line[2]), "{\"type\":\"lost\",\"seq\":8,"
	    "\"count\":2,\"reason\":\"missed\"}\n");
	assert_int_equal(bus_stats(r.bus)->duplicates, 1);
	run_stop(&r);

	/* And the losses persist how far they accounted: 10 is next. */
	run_start(&r, fd);
	last = 10;
	bus_kernel_attach(r.bus, &last);
	publish(r.bus, 9);
	publish(r.bus, 10);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"seq\":9,\"kseq\":10,");
	run_stop(&r);
	close(fd);
}

/* Nothing emitted meanwhile: nothing lost, the next kseq goes out. */
static void
test_restart_with_nothing_missed_reports_nothing(void **state)
{
	struct run r;
	uint64_t last = 5;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, &last);
	now_ms += 1000;
	bus_timeout(r.bus);
	assert_int_equal(r.seen.n, 0);
	publish(r.bus, 6);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"seq\":6,\"kseq\":6,");
	run_stop(&r);
	close(fd);
}

/* Issue 12, item 7: the kernel is below what kuifd had: the module was
 * reloaded while kuifd was down. Said once, with an unknown count; the
 * new module's kseqs set a new base. */
static void
test_restart_after_module_reload_reports_it(void **state)
{
	struct run r;
	uint64_t last = 2;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, &last);
	assert_int_equal(r.seen.n, 1);
	assert_string_equal(untimed(r.seen.line[0]), "{\"type\":\"lost\",\"seq\":6,"
	    "\"count\":0,\"reason\":\"module_reloaded\"}\n");
	publish(r.bus, 1);
	publish(r.bus, 2);
	assert_int_equal(r.seen.n, 3);
	has(r.seen.line[1], "\"seq\":7,\"kseq\":1,");
	/* A later reattach (a reload while running) says nothing more. */
	bus_kernel_attach(r.bus, &last);
	assert_int_equal(r.seen.n, 3);
	run_stop(&r);
	close(fd);
}

/* The module is not there when kuifd starts: the same. */
static void
test_restart_with_module_absent_reports_it(void **state)
{
	struct run r;
	uint64_t last = 7;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_absent(r.bus);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"count\":0,\"reason\":\"module_reloaded\"");
	/* When it comes, its kseqs are new: the first copy is the base. */
	bus_kernel_attach(r.bus, &last);
	publish(r.bus, 7);
	assert_int_equal(r.seen.n, 2);
	has(r.seen.line[1], "\"kseq\":7,");
	run_stop(&r);
	close(fd);
}

/* The kernel could not be asked: kuifd resumes after what it had. */
static void
test_restart_with_kernel_unknown_resumes(void **state)
{
	struct run r;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, NULL);
	publish(r.bus, 4);
	publish(r.bus, 7);
	assert_int_equal(r.seen.n, 0);		/* 6 is awaited */
	now_ms += 100;
	bus_timeout(r.bus);
	assert_int_equal(r.seen.n, 2);
	has(r.seen.line[0], "\"count\":1,\"reason\":\"missed\"");
	has(r.seen.line[1], "\"kseq\":7,");
	run_stop(&r);
	close(fd);
}

/* A fresh start (no history) keeps the first-copy base. */
static void
test_fresh_start_takes_first_copy_as_base(void **state)
{
	struct run r;
	uint64_t last = 100;
	int fd = new_memfd();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, &last);
	publish(r.bus, 90);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"seq\":1,\"kseq\":90,");
	run_stop(&r);
	close(fd);
}

/* The module went away while kuifd ran, then kuifd crashed before any
 * new record: the restart must not resume from the old module's kseqs. */
static void
test_restart_after_reset_does_not_resume_old_kseqs(void **state)
{
	struct run r;
	uint64_t last = 8;
	int fd = history_of_five();

	(void)state;
	run_start(&r, fd);
	bus_kernel_attach(r.bus, &last);	/* the same module: 6..8 due */
	bus_reset_kseq(r.bus);			/* it goes */
	run_stop(&r);
	run_start(&r, fd);
	last = 20;				/* a new one, past 5 already */
	bus_kernel_attach(r.bus, &last);
	publish(r.bus, 2);
	assert_int_equal(r.seen.n, 1);
	has(r.seen.line[0], "\"kseq\":2,");
	run_stop(&r);
	close(fd);
}

/*
 * The checksum is FNV-1a over 8-byte words, then the bytes left: a memfd
 * written by an earlier kuifd must check the same. Against the plainest
 * statement of it, for every length and alignment of a buffer.
 */
static uint64_t
reference_checksum(uint64_t h, const uint8_t *p, size_t len)
{
	uint64_t w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void
test_persist_checksum_is_fnv1a_by_words(void **state)
{
	uint8_t buf[300];
	size_t i, off, len;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= 260; len++)
			assert_true(persist_checksum(0xcbf29ce484222325ULL,
			    buf + off, len) == reference_checksum(
			    0xcbf29ce484222325ULL, buf + off, len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_persist_checksum_is_fnv1a_by_words),
		cmocka_unit_test(test_persist_restores_history_and_seq),
		cmocka_unit_test(
		    test_persist_slot_with_oversized_length_is_discarded),
		cmocka_unit_test(test_persist_seq_uint64_max_is_ignored),
		cmocka_unit_test(test_persist_reason_without_nul_is_discarded),
		cmocka_unit_test(test_persist_unencodable_fields_are_discarded),
		cmocka_unit_test(test_persist_torn_slot_is_discarded),
		cmocka_unit_test(test_persist_foreign_header_starts_afresh),
		cmocka_unit_test(
		    test_restart_expects_what_the_kernel_emitted_meanwhile),
		cmocka_unit_test(
		    test_restart_with_nothing_missed_reports_nothing),
		cmocka_unit_test(test_restart_after_module_reload_reports_it),
		cmocka_unit_test(test_restart_with_module_absent_reports_it),
		cmocka_unit_test(test_restart_with_kernel_unknown_resumes),
		cmocka_unit_test(test_fresh_start_takes_first_copy_as_base),
		cmocka_unit_test(
		    test_restart_after_reset_does_not_resume_old_kseqs),
	};

	log_init(0, "test_persist");
	return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
