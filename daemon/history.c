// SPDX-License-Identifier: GPL-2.0
/*
 * The history: the newest published records, indexed by seq modulo its
 * length, from which subscribers are served (live, or replaying from a
 * "since" seq). Each record is serialized once, when it is published, and
 * its bytes are copied here; the server copies them into the outputs of
 * the clients it goes to. A kept record always has its line: the bus
 * never keeps a seq without one.
 *
 * Each slot keeps its buffer when its record is replaced, so publishing
 * allocates nothing (see HISTORY_SLOT).
 */
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

/*
 * Lines up to HISTORY_SLOT bytes (every event with a text payload up to
 * the largest, and every loss) are kept in the slot's part of one arena,
 * allocated at start and touched as the history fills; longer ones in a
 * buffer of the slot's own, kept for the next line that needs it.
 */
#define HISTORY_SLOT	512

struct history {
	struct bus_record	*records;	/* by seq % len */
	struct blob		*blobs;		/* records[i].blob, once kept */
	char			*arena;		/* HISTORY_SLOT bytes a slot */
	char			**own;		/* a slot's buffer for long lines */
	size_t			*own_cap;
	size_t			 len;
};

struct history *
history_create(size_t len)
{
	struct history *h = xcalloc(1, sizeof(*h));

	if (len == 0)
		fatalx("history: no room");
	h->len = len;
	h->records = xcalloc(len, sizeof(*h->records));
	h->blobs = xcalloc(len, sizeof(*h->blobs));
	h->own = xcalloc(len, sizeof(*h->own));
	h->own_cap = xcalloc(len, sizeof(*h->own_cap));
	h->arena = malloc(len * HISTORY_SLOT);
	if (h->arena == NULL)
		fatal("history");
	return h;
}

void
history_free(struct history *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->len; i++)
		free(h->own[i]);
	free(h->own);
	free(h->own_cap);
	free(h->arena);
	free(h->blobs);
	free(h->records);
	free(h);
}

/* Long lines are kept in buffers of a multiple of this. */
#define HISTORY_ROUND	256

/*
 * Keeps the len bytes of line (a copy) as the record seq, replacing the
 * record seq - len. ev: the event it serializes, NULL for a loss.
 */
const struct bus_record *
history_keep(struct history *h, uint64_t seq, const char *line, size_t len,
    const struct event *ev)
{
	size_t i = seq % h->len, cap;
	struct bus_record *r = &h->records[i];
	struct blob *b = &h->blobs[i];
	char *p;

	if (line == NULL)
		fatalx("history: record %llu without a line",
		    (unsigned long long)seq);
	if (len < HISTORY_SLOT)
		b->data = h->arena + i * HISTORY_SLOT;
	else {
		if (h->own_cap[i] < len + 1) {
			cap = (len + HISTORY_ROUND) / HISTORY_ROUND *
			    HISTORY_ROUND;
			p = realloc(h->own[i], cap);
			if (p == NULL)
				fatal("history");
			h->own[i] = p;
			h->own_cap[i] = cap;
		}
		b->data = h->own[i];
	}
	memcpy(b->data, line, len);
	b->data[len] = '\0';
	b->len = len;
	r->seq = seq;
	r->blob = b;
	r->is_event = ev != NULL;
	if (ev != NULL) {
		memcpy(r->source, ev->source, sizeof(r->source));
		memcpy(r->name, ev->name, sizeof(r->name));
	} else {
		memset(r->source, 0, sizeof(r->source));
		memset(r->name, 0, sizeof(r->name));
	}
	return r;
}

/* The oldest seq still held when newest is the last one kept. */
uint64_t
history_oldest(const struct history *h, uint64_t newest)
{
	if (newest < h->len)
		return 1;
	return newest - h->len + 1;
}

const struct bus_record *
history_get(const struct history *h, uint64_t newest, uint64_t seq)
{
	const struct bus_record *r;

	if (seq == 0 || seq > newest || seq < history_oldest(h, newest))
		return NULL;
	r = &h->records[seq % h->len];
	if (r->seq != seq || r->blob == NULL)
		return NULL;
	return r;
}
