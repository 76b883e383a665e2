// SPDX-License-Identifier: GPL-2.0
/*
 * The batch: the records published since the subscribers were last given
 * theirs (one pass of the event loop, at most BATCH_RECORDS records or
 * BATCH_BYTES bytes, less for a small client_buffer), in one buffer, so that what a subscriber costs is
 * per batch, not per record.
 *
 * - Filters are shared: subscribers that asked for the same patterns hold
 *   one batch_filter, and a batch is matched once per distinct filter, as
 *   runs of consecutive records the filter takes.
 * - A long run goes into a client's output as a reference to the batch's
 *   buffer, which is counted and lives until the last output holding it
 *   has written it; a short one is copied. A reference pins its whole
 *   buffer, so only a run of at least half the buffer's bytes is one: a
 *   client's references pin at most twice what its output counts.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "kuifd.h"

/* libevent gives each reference a chain of 1 KiB: below this, copy. */
#define BATCH_REF_MIN		4096

struct batch_buf {
	LIST_ENTRY(batch_buf) entry;	/* on held */
	struct batch	*batch;		/* NULL once the batch is freed */
	bool		 held;		/* outputs' alone: on batch->held */
	unsigned int	 refs;		/* the batch's own, and its references */
	size_t		 cap;
	char		 data[];
};
LIST_HEAD(batch_buf_list, batch_buf);

struct batch_record {
	size_t		 off;
	bool		 is_event;
	char		 source[EVENT_SOURCE_MAX];
	char		 name[KUIF_EVENT_NAME_MAX];
};

struct batch_filter {
	TAILQ_ENTRY(batch_filter) entry;
	struct filter	 filter;
	unsigned int	 refs;
	uint64_t	 gen;		/* the runs are of batch generation gen */
	size_t		 upto;		/* ... and its first upto records */
	size_t		 nruns;
	struct batch_run runs[BATCH_RECORDS / 2 + 1];
};
TAILQ_HEAD(batch_filter_list, batch_filter);

struct batch {
	uint64_t		 gen;		/* one for each reset */
	uint64_t		 first;		/* seq of rec[0] */
	size_t			 n;
	size_t			 len;		/* bytes in buf */
	struct batch_buf	*buf;
	struct batch_buf	*spare;		/* a free buffer, kept */
	struct batch_buf_list	 held;		/* earlier buffers outputs hold */
	size_t			 limit;		/* bytes: delivered at this */
	struct batch_filter_list filters;
	struct batch_run	 all;		/* the run of an empty filter */
	struct batch_record	 rec[BATCH_RECORDS];
};

struct batch *
batch_create(void)
{
	struct batch *b = xcalloc(1, sizeof(*b));

	TAILQ_INIT(&b->filters);
	LIST_INIT(&b->held);
	b->limit = BATCH_BYTES;
	return b;
}

/*
 * At most a quarter of the smallest output bound (client_buffer), so
 * that a subscriber's output crosses half of it, where it holds the
 * sources, before a batch can take it past the bound.
 */
void
batch_set_limit(struct batch *b, size_t client_buffer)
{
	b->limit = client_buffer / 4 < BATCH_BYTES ? client_buffer / 4 :
	    BATCH_BYTES;
}

/* The last holder let go: kept as the spare, or freed. */
static void
batch_buf_unref(struct batch_buf *bb)
{
	struct batch *b = bb->batch;

	if (--bb->refs > 0)
		return;
	if (bb->held)
		LIST_REMOVE(bb, entry);
	if (b != NULL && b->spare == NULL && bb->cap == BATCH_BYTES) {
		bb->held = false;
		b->spare = bb;
		return;
	}
	free(bb);
}

/* The batch lets go of its buffer: outputs may still hold it. */
static void
batch_buf_release(struct batch *b)
{
	struct batch_buf *bb = b->buf;

	b->buf = NULL;
	if (bb->refs > 1) {
		bb->held = true;
		LIST_INSERT_HEAD(&b->held, bb, entry);
	}
	batch_buf_unref(bb);
}

/* The last output holding a reference to the buffer let it go. */
static void
batch_buf_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	batch_buf_unref(arg);
}

/* Buffers still referenced by outputs outlive the batch. */
void
batch_free(struct batch *b)
{
	struct batch_filter *f;

	struct batch_buf *bb;

	if (b == NULL)
		return;
	if (b->buf != NULL)
		batch_buf_release(b);
	while ((bb = LIST_FIRST(&b->held)) != NULL) {
		LIST_REMOVE(bb, entry);
		bb->held = false;
		bb->batch = NULL;
	}
	free(b->spare);
	while ((f = TAILQ_FIRST(&b->filters)) != NULL) {
		TAILQ_REMOVE(&b->filters, f, entry);
		filter_clear(&f->filter);
		free(f);
	}
	free(b);
}

size_t
batch_count(const struct batch *b)
{
	return b->n;
}

uint64_t
batch_first(const struct batch *b)
{
	return b->first;
}

/* Whether a record of len bytes must wait for the next batch. */
bool
batch_full(const struct batch *b, size_t len)
{
	return b->n == BATCH_RECORDS ||
	    (b->n > 0 && b->len + len > b->limit);
}

/*
 * The batch's records were delivered. A buffer that outputs still hold
 * is theirs now; the next record gets another.
 */
void
batch_reset(struct batch *b)
{
	b->gen++;
	b->n = 0;
	b->len = 0;
	if (b->buf != NULL && b->buf->refs > 1)
		batch_buf_release(b);
}

/* A buffer for at least need bytes, only while the batch is empty. */
static void
batch_buf_get(struct batch *b, size_t need)
{
	struct batch_buf *bb;
	size_t cap = need > BATCH_BYTES ? need : BATCH_BYTES;

	if (b->buf != NULL && b->buf->cap >= need)
		return;
	if (b->buf != NULL)
		batch_buf_release(b);
	if (cap == BATCH_BYTES && b->spare != NULL) {
		bb = b->spare;
		b->spare = NULL;
	} else {
		bb = malloc(sizeof(*bb) + cap);
		if (bb == NULL)
			fatal("cannot allocate a batch of %zu bytes", cap);
		bb->cap = cap;
	}
	bb->batch = b;
	bb->held = false;
	bb->refs = 1;
	b->buf = bb;
}

/* Adds a published record; the caller delivered the batch if full. */
void
batch_add(struct batch *b, const struct bus_record *r)
{
	struct batch_record *br;
	size_t len = r->blob->len;

	if (batch_full(b, len))
		fatalx("batch_add to a full batch");
	if (b->n == 0) {
		batch_buf_get(b, len);
		b->first = r->seq;
	}
	br = &b->rec[b->n++];
	br->off = b->len;
	br->is_event = r->is_event;
	if (r->is_event) {
		memcpy(br->source, r->source, sizeof(br->source));
		memcpy(br->name, r->name, sizeof(br->name));
	}
	memcpy(b->buf->data + b->len, r->blob->data, len);
	b->len += len;
}

/* Bytes of records [from, to). */
size_t
batch_bytes(const struct batch *b, size_t from, size_t to)
{
	size_t end = to < b->n ? b->rec[to].off : b->len;

	return from < to ? end - b->rec[from].off : 0;
}

/*
 * Appends records [from, to) to out: a reference to the buffer for a long
 * run, a copy for a short one. -1 if libevent could not.
 */
int
batch_add_to(struct batch *b, struct evbuffer *out, size_t from, size_t to)
{
	const char *data = b->buf->data + b->rec[from].off;
	size_t len = batch_bytes(b, from, to);

	if (len >= BATCH_REF_MIN && len >= b->buf->cap / 2) {
		if (evbuffer_add_reference(out, data, len, batch_buf_cleanup,
		    b->buf) == -1)
			return -1;
		b->buf->refs++;
		return 0;
	}
	return evbuffer_add(out, data, len);
}

/* The shared filter with these patterns; NULL for an empty one. */
struct batch_filter *
batch_filter_get(struct batch *b, const struct filter *filter)
{
	struct batch_filter *f;

	if (filter_empty(filter))
		return NULL;
	TAILQ_FOREACH(f, &b->filters, entry) {
		if (filter_equal(&f->filter, filter)) {
			f->refs++;
			return f;
		}
	}
	f = xcalloc(1, sizeof(*f));
	filter_copy(&f->filter, filter);
	f->refs = 1;
	f->gen = b->gen - 1;	/* no runs yet */
	TAILQ_INSERT_TAIL(&b->filters, f, entry);
	return f;
}

void
batch_filter_put(struct batch *b, struct batch_filter *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	TAILQ_REMOVE(&b->filters, f, entry);
	filter_clear(&f->filter);
	free(f);
}

static bool
batch_filter_takes(const struct batch_filter *f, const struct batch_record *r)
{
	return !r->is_event || filter_match(&f->filter, r->source, r->name);
}

/*
 * The runs of records the filter takes (every record for f NULL), matched
 * once a batch: records added since are matched on the next call.
 */
size_t
batch_runs(struct batch *b, struct batch_filter *f,
    const struct batch_run **runs)
{
	struct batch_run *last;
	size_t i;

	if (f == NULL) {
		b->all.from = 0;
		b->all.to = (uint16_t)b->n;
		*runs = &b->all;
		return b->n > 0 ? 1 : 0;
	}
	if (f->gen != b->gen) {
		f->gen = b->gen;
		f->upto = 0;
		f->nruns = 0;
	}
	for (i = f->upto; i < b->n; i++) {
		if (!batch_filter_takes(f, &b->rec[i]))
			continue;
		last = f->nruns > 0 ? &f->runs[f->nruns - 1] : NULL;
		if (last != NULL && last->to == i)
			last->to = (uint16_t)(i + 1);
		else {
			f->runs[f->nruns].from = (uint16_t)i;
			f->runs[f->nruns].to = (uint16_t)(i + 1);
			f->nruns++;
		}
	}
	f->upto = b->n;
	*runs = f->runs;
	return f->nruns;
}
