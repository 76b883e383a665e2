// SPDX-License-Identifier: GPL-2.0
/*
 * The event bus: every source hands its events here. The bus drops copies
 * of an event another channel already delivered (same kseq), turns kseq
 * gaps into loss records, numbers what it publishes with kuifd's own seq,
 * serializes each event once and hands the shared bytes to the sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

struct bus {
	uint64_t	 seq;		/* last seq published */
	uint64_t	 last_kseq;	/* 0: nothing seen since (re)attach */
	struct bus_stats stats;
	bus_sink_fn	 sink;
	void		*sink_arg;
	bus_emit_fn	 emit;
	void		*emit_arg;
};

/* Takes ownership of data, a NUL-terminated line. */
struct blob *
blob_new(char *data)
{
	struct blob *b;

	if (data == NULL)
		return NULL;
	b = malloc(sizeof(*b));
	if (b == NULL) {
		free(data);
		return NULL;
	}
	b->refs = 1;
	b->len = strlen(data);
	b->data = data;
	return b;
}

void
blob_ref(struct blob *b)
{
	b->refs++;
}

void
blob_unref(struct blob *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

struct bus *
bus_create(void)
{
	return xcalloc(1, sizeof(struct bus));
}

void
bus_free(struct bus *bus)
{
	free(bus);
}

void
bus_set_sink(struct bus *bus, bus_sink_fn fn, void *arg)
{
	bus->sink = fn;
	bus->sink_arg = arg;
}

void
bus_set_emitter(struct bus *bus, bus_emit_fn fn, void *arg)
{
	bus->emit = fn;
	bus->emit_arg = arg;
}

/* The module was reloaded: its kseq starts again at 1. */
void
bus_reset_kseq(struct bus *bus)
{
	bus->last_kseq = 0;
}

uint64_t
bus_seq(const struct bus *bus)
{
	return bus->seq;
}

const struct bus_stats *
bus_stats(const struct bus *bus)
{
	return &bus->stats;
}

static void
bus_deliver_lost(struct bus *bus, uint64_t count)
{
	struct event lost;
	struct blob *b;

	bus->stats.lost += count;
	if (bus->sink == NULL)
		return;
	memset(&lost, 0, sizeof(lost));
	b = blob_new(proto_lost(count, "missed", NULL));
	if (b == NULL)
		return;
	/* A loss record has no name or source: it passes every filter. */
	bus->sink(NULL, b, bus->sink_arg);
	blob_unref(b);
}

void
bus_publish(struct bus *bus, struct event *ev)
{
	struct blob *b;

	bus->stats.received++;
	if (bus->last_kseq != 0 && ev->kseq <= bus->last_kseq) {
		bus->stats.duplicates++;
		return;
	}
	if (bus->last_kseq != 0 && ev->kseq > bus->last_kseq + 1)
		bus_deliver_lost(bus, ev->kseq - bus->last_kseq - 1);
	bus->last_kseq = ev->kseq;

	ev->seq = ++bus->seq;
	bus->stats.published++;
	if (bus->sink == NULL)
		return;
	b = blob_new(event_to_json(ev, NULL));
	if (b == NULL) {
		log_warnx("cannot encode event kseq %llu",
		    (unsigned long long)ev->kseq);
		return;
	}
	bus->sink(ev, b, bus->sink_arg);
	blob_unref(b);
}

/* Asks the kernel to emit an event; it comes back through the sources. */
int
bus_emit(struct bus *bus, const char *name, const void *payload, size_t len,
    uint64_t *kseq, char *err, size_t errlen)
{
	if (bus->emit == NULL) {
		snprintf(err, errlen, "no source can reach the kernel");
		return -1;
	}
	return bus->emit(name, payload, len, kseq, err, errlen, bus->emit_arg);
}
