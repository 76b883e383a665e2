// SPDX-License-Identifier: GPL-2.0
/* batch.c: shared filters as runs, and buffers that outlive their batch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "kuifd.h"

/* A record as the history keeps it: line is "<seq>:<source>:<name>\n"
 * padded with x to len bytes (0: no padding). */
struct rec {
	struct bus_record	 r;
	struct blob		 blob;
	char			 line[BATCH_BYTES];
};

static void
mkrec(struct rec *x, uint64_t seq, const char *source, const char *name,
    size_t len)
{
	int n;

	memset(x, 0, sizeof(*x));
	n = snprintf(x->line, sizeof(x->line), "%llu:%s:%s",
	    (unsigned long long)seq, source ? source : "-",
	    name ? name : "lost");
	if (len < (size_t)n + 1)
		len = (size_t)n + 1;
	memset(x->line + n, 'x', len - (size_t)n - 1);
	x->line[len - 1] = '\n';
	x->line[len] = '\0';
	x->blob.data = x->line;
	x->blob.len = len;
	x->r.seq = seq;
	x->r.blob = &x->blob;
	x->r.is_event = source != NULL;
	if (source != NULL) {
		snprintf(x->r.source, sizeof(x->r.source), "%s", source);
		snprintf(x->r.name, sizeof(x->r.name), "%s", name);
	}
}

static void
add(struct batch *b, uint64_t seq, const char *source, const char *name,
    size_t len)
{
	struct rec x;

	mkrec(&x, seq, source, name, len);
	assert_false(batch_full(b, x.blob.len));
	batch_add(b, &x.r);
}

static void
filter_of(struct filter *f, const char *source)
{
	memset(f, 0, sizeof(*f));
	f->sources[0] = strdup(source);
	f->nsources = 1;
}

/* Records a a b (lost) a b: a filter on "a" takes 0-1 and 3-4. */
static void
test_batch_runs_of_a_shared_filter(void **state)
{
	struct batch *b = batch_create();
	struct batch_filter *fa, *fa2, *fb;
	const struct batch_run *runs;
	struct filter f;
	size_t n;

	(void)state;
	filter_of(&f, "a");
	fa = batch_filter_get(b, &f);
	fa2 = batch_filter_get(b, &f);
	assert_non_null(fa);
	assert_ptr_equal(fa, fa2);	/* one for the same patterns */
	filter_clear(&f);
	filter_of(&f, "b");
	fb = batch_filter_get(b, &f);
	assert_ptr_not_equal(fa, fb);
	filter_clear(&f);
	assert_null(batch_filter_get(b, &f));	/* empty: all */

	add(b, 10, "a", "e", 0);
	add(b, 11, "a", "e", 0);
	add(b, 12, "b", "e", 0);
	add(b, 13, NULL, NULL, 0);
	n = batch_runs(b, fa, &runs);
	assert_int_equal(n, 2);		/* a loss record goes to everyone */
	assert_int_equal(runs[0].from, 0);
	assert_int_equal(runs[0].to, 2);
	assert_int_equal(runs[1].from, 3);
	assert_int_equal(runs[1].to, 4);
	/* Records added after a match are matched on the next call, and
	 * extend the last run when they follow it. */
	add(b, 14, "a", "e", 0);
	add(b, 15, "b", "e", 0);
	n = batch_runs(b, fa, &runs);
	assert_int_equal(n, 2);
	assert_int_equal(runs[1].from, 3);	/* the loss record, then a */
	assert_int_equal(runs[1].to, 5);
	n = batch_runs(b, fb, &runs);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].from, 2);
	assert_int_equal(runs[0].to, 4);
	assert_int_equal(runs[1].from, 5);
	assert_int_equal(runs[1].to, 6);
	n = batch_runs(b, NULL, &runs);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0].to, 6);
	assert_int_equal(batch_first(b), 10);

	/* A new batch: no stale runs. */
	batch_reset(b);
	add(b, 16, "b", "e", 0);
	n = batch_runs(b, fa, &runs);
	assert_int_equal(n, 0);
	assert_int_equal(batch_first(b), 16);

	batch_filter_put(b, fa);
	batch_filter_put(b, fa2);
	batch_filter_put(b, fb);
	batch_free(b);
}

/*
 * A long run goes out as a reference to the batch's buffer: the next
 * batch must not write over it while an output holds it, and the output
 * must still hold the right bytes after the batch is freed.
 */
static void
test_batch_referenced_buffer_outlives_batch(void **state)
{
	struct batch *b = batch_create();
	struct evbuffer *out = evbuffer_new(), *small = evbuffer_new();
	struct rec x;
	char want[9 * 4096 + 1], got[9 * 4096 + 1];
	size_t i, len = 0;

	(void)state;
	/* Over half the buffer: a reference. */
	for (i = 0; i < 9; i++) {
		mkrec(&x, 100 + i, "a", "big", 4096);
		memcpy(want + len, x.line, x.blob.len);
		len += x.blob.len;
		batch_add(b, &x.r);
	}
	assert_int_equal(batch_bytes(b, 0, 9), len);
	assert_int_equal(batch_add_to(b, out, 0, 9), 0);
	assert_int_equal(batch_add_to(b, small, 0, 1), 0);	/* a copy */
	batch_reset(b);
	/* The next batches fill a buffer of the same size. */
	for (i = 0; i < 40; i++) {
		if (batch_full(b, 4096))
			batch_reset(b);
		add(b, 200 + i, "a", "new", 4096);
	}
	batch_reset(b);
	batch_free(b);
	assert_int_equal(evbuffer_get_length(out), len);
	assert_int_equal(evbuffer_remove(out, got, sizeof(got)), (int)len);
	assert_memory_equal(got, want, len);
	assert_int_equal(evbuffer_get_length(small), 4096);
	evbuffer_free(out);	/* the last holder frees the buffer */
	evbuffer_free(small);
}

/* A short run is copied, not referenced: it pins nothing. */
static void
test_batch_short_run_is_copied(void **state)
{
	struct batch *b = batch_create();
	struct evbuffer *out = evbuffer_new();
	char got[256];
	int n;

	(void)state;
	add(b, 1, "a", "e", 100);
	add(b, 2, "a", "e", 100);
	assert_int_equal(batch_add_to(b, out, 1, 2), 0);
	batch_free(b);		/* would leave a dangling reference */
	n = evbuffer_remove(out, got, sizeof(got));
	assert_int_equal(n, 100);
	assert_memory_equal(got, "2:a:e", 5);
	evbuffer_free(out);
}

/* Full at BATCH_RECORDS records, or when the bytes would pass BATCH_BYTES. */
static void
test_batch_full(void **state)
{
	struct batch *b = batch_create();
	size_t i;

	(void)state;
	assert_false(batch_full(b, BATCH_BYTES * 2));	/* empty: takes it */
	for (i = 0; i < BATCH_RECORDS; i++)
		add(b, i + 1, "a", "e", 0);
	assert_true(batch_full(b, 1));
	batch_reset(b);
	add(b, 1000, "a", "e", BATCH_BYTES - 100);
	assert_false(batch_full(b, 100));
	assert_true(batch_full(b, 101));
	/* A quarter of a small client_buffer: the output crosses half of
	 * it, and holds the sources, before a batch can pass it. */
	batch_reset(b);
	batch_set_limit(b, 65536);
	add(b, 2000, "a", "e", 16000);
	assert_false(batch_full(b, 384));
	assert_true(batch_full(b, 385));
	batch_set_limit(b, 1 << 30);
	assert_false(batch_full(b, 385));
	batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_runs_of_a_shared_filter),
		cmocka_unit_test(test_batch_referenced_buffer_outlives_batch),
		cmocka_unit_test(test_batch_short_run_is_copied),
		cmocka_unit_test(test_batch_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
