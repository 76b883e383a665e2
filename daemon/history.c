// SPDX-License-Identifier: GPL-2.0
/*
 * The history: the newest published records, indexed by seq modulo its
 * length, from which subscribers are served (live, or replaying from a
 * "since" seq). Each record is serialized once, when it is published, and
 * owned here; the server copies its bytes into the outputs of the clients
 * it goes to. A kept record always has its line: the bus never keeps a
 * seq without one.
 */
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

struct history {
	struct bus_record	*records;	/* by seq % len */
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
	return h;
}

static void
history_blob_free(struct blob *b)
{
	if (b != NULL) {
		free(b->data);
		free(b);
	}
}

void
history_free(struct history *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->len; i++)
		history_blob_free(h->records[i].blob);
	free(h->records);
	free(h);
}

/*
 * Keeps line (taken over, must not be NULL) as the record seq, replacing
 * the record seq - len. ev: the event it serializes, NULL for a loss.
 */
const struct bus_record *
history_keep(struct history *h, uint64_t seq, char *line,
    const struct event *ev)
{
	struct bus_record *r = &h->records[seq % h->len];
	struct blob *b;

	if (line == NULL)
		fatalx("history: record %llu without a line",
		    (unsigned long long)seq);
	b = xcalloc(1, sizeof(*b));
	b->data = line;
	b->len = strlen(line);
	history_blob_free(r->blob);
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->blob = b;
	if (ev != NULL) {
		r->is_event = true;
		memcpy(r->source, ev->source, sizeof(r->source));
		memcpy(r->name, ev->name, sizeof(r->name));
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
