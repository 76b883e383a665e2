// SPDX-License-Identifier: GPL-2.0
/*
 * The event bus. Every source hands its copies of kernel events here; the
 * bus publishes each kernel event once, in kseq order:
 *
 * - A copy whose kseq was already published is a duplicate (another
 *   channel was faster) and is dropped.
 * - A copy that arrives ahead of a missing kseq waits in a bounded reorder
 *   window for the other channels to fill the gap; when the gap is still
 *   open after reorder_ms, it becomes one "lost" record and publishing
 *   goes on. A copy that knows only its kseq (a signal) waits the same way
 *   for a complete copy and is published as it is if none comes.
 * - Every published record (event or loss) gets kuifd's own seq, is
 *   serialized once into a shared blob and kept in a bounded history, from
 *   which subscribers are served: live, or replaying from a "since" seq.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "kuifd.h"

#define BUS_WINDOW	1024	/* kseqs held while waiting for a gap */

struct bus_pending {
	bool		used;
	bool		partial;	/* kseq known, content not */
	uint64_t	deadline_ms;
	struct event	ev;
};

struct bus {
	struct event_base	*base;
	struct event		*ev_flush;
	unsigned int		 reorder_ms;

	uint64_t		 seq;		/* last seq published */
	uint64_t		 next_kseq;	/* 0: none seen since (re)attach */
	struct bus_pending	 window[BUS_WINDOW];
	size_t			 npending;
	uint64_t		 gap_deadline_ms; /* when the head gap expires */
	uint64_t		 expect_kseq;	/* the kernel has emitted up to */
	uint64_t		 expect_deadline_ms;

	struct bus_record	*history;	/* indexed by seq % history_len */
	size_t			 history_len;

	struct bus_stats	 stats;
	bus_sink_fn		 sink;
	void			*sink_arg;
	bus_emit_fn		 emit;
	void			*emit_arg;
	const struct filter	*journal;	/* events also logged */
	struct persist		*persist;	/* NULL: heap only */
};

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

static uint64_t
bus_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void bus_flush_cb(evutil_socket_t, short, void *);

struct bus *
bus_create(struct event_base *base, size_t history_len,
    unsigned int reorder_ms)
{
	struct bus *bus = xcalloc(1, sizeof(*bus));

	bus->base = base;
	bus->reorder_ms = reorder_ms;
	bus->history_len = history_len;
	bus->history = xcalloc(history_len, sizeof(*bus->history));
	if (base != NULL) {
		bus->ev_flush = evtimer_new(base, bus_flush_cb, bus);
		if (bus->ev_flush == NULL)
			fatalx("cannot create the reorder timer");
	}
	return bus;
}

void
bus_free(struct bus *bus)
{
	size_t i;

	if (bus == NULL)
		return;
	for (i = 0; i < bus->history_len; i++)
		blob_unref(bus->history[i].blob);
	free(bus->history);
	if (bus->ev_flush != NULL)
		event_free(bus->ev_flush);
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

void
bus_set_journal(struct bus *bus, const struct filter *journal)
{
	bus->journal = journal;
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

/* The oldest seq still in the history (bus_seq() + 1 when it is empty). */
uint64_t
bus_history_oldest(const struct bus *bus)
{
	if (bus->seq < bus->history_len)
		return 1;
	return bus->seq - bus->history_len + 1;
}

const struct bus_record *
bus_history_get(const struct bus *bus, uint64_t seq)
{
	if (seq == 0 || seq > bus->seq || seq < bus_history_oldest(bus))
		return NULL;
	return &bus->history[seq % bus->history_len];
}

/* Numbers a serialized record, keeps it, and hands it to the sink. */
static void
bus_record(struct bus *bus, char *line, const struct event *ev)
{
	struct bus_record *r;
	struct blob *b;

	b = blob_new(line);
	if (b == NULL) {
		log_warnx("cannot encode a record");
		return;
	}
	r = &bus->history[bus->seq % bus->history_len];
	blob_unref(r->blob);
	memset(r, 0, sizeof(*r));
	r->seq = bus->seq;
	r->blob = b;
	if (ev != NULL) {
		r->is_event = true;
		memcpy(r->source, ev->source, sizeof(r->source));
		memcpy(r->name, ev->name, sizeof(r->name));
	}
	if (bus->sink != NULL)
		bus->sink(r, bus->sink_arg);
}

static void
bus_emit_lost(struct bus *bus, uint64_t count, const char *reason)
{
	char *line;

	if (count == 0)
		return;
	bus->stats.lost += count;
	bus->seq++;
	if (bus->persist != NULL)
		persist_record(bus->persist, bus->seq, NULL, count, reason);
	line = proto_lost(bus->seq, count, reason, NULL);
	bus_record(bus, line, NULL);
}

static void
bus_emit_event(struct bus *bus, struct event *ev)
{
	bus->seq++;
	ev->seq = bus->seq;
	bus->stats.published++;
	if (bus->persist != NULL)
		persist_record(bus->persist, bus->seq, ev, 0, NULL);
	bus_record(bus, event_to_json(ev, NULL), ev);
	if (bus->journal != NULL && bus->journal->nevents > 0 &&
	    filter_match(bus->journal, ev->source, ev->name))
		log_event(ev);
}

static struct bus_pending *
bus_slot(struct bus *bus, uint64_t kseq)
{
	return &bus->window[kseq % BUS_WINDOW];
}

static void
bus_take(struct bus *bus, struct bus_pending *p)
{
	p->used = false;
	bus->npending--;
	bus_emit_event(bus, &p->ev);
	bus->next_kseq++;
}

static bool
bus_gap_expired(const struct bus *bus, uint64_t now)
{
	return bus->gap_deadline_ms <= now;
}

/* A kseq the kernel has emitted and no copy of has come yet. */
static bool
bus_expecting(const struct bus *bus)
{
	return bus->next_kseq != 0 && bus->expect_kseq >= bus->next_kseq;
}

/* While anything waits, look again a few times per reorder period. */
static void
bus_arm(struct bus *bus, uint64_t now)
{
	struct timeval tv = { 0, (suseconds_t)(bus->reorder_ms * 1000 / 4 + 1000) };

	(void)now;
	if ((bus->npending == 0 && !bus_expecting(bus)) ||
	    bus->ev_flush == NULL)
		return;
	if (!evtimer_pending(bus->ev_flush, NULL))
		evtimer_add(bus->ev_flush, &tv);
}

/* Publishes what is ready at the head of the window. */
static void
bus_drain(struct bus *bus, uint64_t now, bool force)
{
	struct bus_pending *p;
	uint64_t missing;

	while (bus->npending > 0) {
		p = bus_slot(bus, bus->next_kseq);
		if (p->used && p->ev.kseq == bus->next_kseq) {
			if (p->partial && !force && p->deadline_ms > now)
				break;
			bus_take(bus, p);
			continue;
		}
		/* A gap: give up on it once a later copy has waited long
		 * enough, or when forced. */
		if (!force && !bus_gap_expired(bus, now))
			break;
		missing = 0;
		while (!bus_slot(bus, bus->next_kseq)->used ||
		    bus_slot(bus, bus->next_kseq)->ev.kseq != bus->next_kseq) {
			bus->next_kseq++;
			missing++;
		}
		bus_emit_lost(bus, missing, "missed");
		bus->gap_deadline_ms = now + bus->reorder_ms;
	}
	/* A tail no later copy will ever reveal: the kernel told us. */
	if (bus->npending == 0 && bus_expecting(bus) &&
	    (force || bus->expect_deadline_ms <= now)) {
		bus_emit_lost(bus, bus->expect_kseq - bus->next_kseq + 1,
		    "missed");
		bus->next_kseq = bus->expect_kseq + 1;
	}
	bus_arm(bus, now);
}

static void
bus_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bus_drain(arg, bus_now_ms(), false);
}

static void
bus_add(struct bus *bus, struct event *ev, bool partial)
{
	struct bus_pending *p;
	uint64_t now = bus_now_ms();

	bus->stats.received++;
	if (bus->next_kseq == 0)
		bus->next_kseq = ev->kseq;	/* the first copy sets the base */
	if (ev->kseq < bus->next_kseq) {
		bus->stats.duplicates++;
		return;
	}
	if (ev->kseq >= bus->next_kseq + BUS_WINDOW) {
		/* Too far ahead to wait for the gap: give it up now. */
		bus_drain(bus, now, true);
		bus_emit_lost(bus, ev->kseq - bus->next_kseq, "missed");
		bus->next_kseq = ev->kseq;
	}

	p = bus_slot(bus, ev->kseq);
	if (p->used) {
		/* A complete copy replaces a signal's bare kseq. */
		if (p->partial && !partial) {
			p->ev = *ev;
			p->partial = false;
		} else
			bus->stats.duplicates++;
	} else {
		if (bus->npending == 0)
			bus->gap_deadline_ms = now + bus->reorder_ms;
		p->used = true;
		p->partial = partial;
		p->deadline_ms = now + bus->reorder_ms;
		p->ev = *ev;
		bus->npending++;
	}
	bus_drain(bus, now, false);
}

void
bus_publish(struct bus *bus, struct event *ev)
{
	bus_add(bus, ev, false);
}

/*
 * A copy that carries only the low 32 bits of its kseq (a real-time
 * signal's value): widen it to the kseq nearest to what is expected.
 */
void
bus_publish_partial32(struct bus *bus, struct event *ev, uint32_t low)
{
	uint64_t base = bus->next_kseq, k;

	k = (base & ~(uint64_t)0xffffffff) | low;
	if (base > 0 && k + 0x80000000ULL < base)
		k += 0x100000000ULL;
	else if (k > base + 0x80000000ULL && k >= 0x100000000ULL)
		k -= 0x100000000ULL;
	if (k == 0)
		return;
	ev->kseq = k;
	bus_add(bus, ev, true);
}

void
bus_set_persist(struct bus *bus, struct persist *p)
{
	bus->persist = p;
}

static void
bus_restore_one(uint64_t seq, const struct event *ev, uint64_t lost_count,
    const char *reason, void *arg)
{
	struct bus *bus = arg;
	struct event copy;

	bus->seq = seq;
	if (ev != NULL) {
		copy = *ev;
		copy.seq = seq;
		bus_record(bus, event_to_json(&copy, NULL), &copy);
	} else
		bus_record(bus, proto_lost(seq, lost_count, reason, NULL),
		    NULL);
}

/* Takes back the history of the previous run, before any source runs. */
void
bus_restore(struct bus *bus)
{
	uint64_t newest;

	if (bus->persist == NULL)
		return;
	newest = persist_restore(bus->persist, bus_restore_one, bus);
	if (newest > 0)
		log_lifecycle("restored", "history restored: seq %llu, %llu "
		    "records", (unsigned long long)newest,
		    (unsigned long long)(newest - bus_history_oldest(bus) + 1));
}

/* An observation without a kseq (a file change): published as it comes. */
void
bus_publish_file(struct bus *bus, struct event *ev)
{
	ev->kseq = 0;
	bus->stats.received++;
	bus_emit_event(bus, ev);
}

/* A loss a source noticed by itself; count 0 when it cannot tell. */
void
bus_publish_loss(struct bus *bus, uint64_t count, const char *reason)
{
	bus->stats.lost += count;
	bus->seq++;
	if (bus->persist != NULL)
		persist_record(bus->persist, bus->seq, NULL, count, reason);
	bus_record(bus, proto_lost(bus->seq, count, reason, NULL), NULL);
}

/* The module went away: what waits will not be completed. */
void
bus_reset_kseq(struct bus *bus)
{
	bus_drain(bus, bus_now_ms(), true);
	bus->next_kseq = 0;
	bus->expect_kseq = 0;
}

/*
 * The kernel has emitted up to kseq (a source that overran asked it). Gaps
 * are otherwise noticed only when a later copy arrives; the events lost at
 * the end of a burst have none. What has not come within reorder_ms from
 * now is lost.
 */
void
bus_expect(struct bus *bus, uint64_t kseq)
{
	uint64_t now = bus_now_ms();

	if (bus->next_kseq == 0 || kseq < bus->next_kseq ||
	    kseq <= bus->expect_kseq)
		return;
	bus->expect_kseq = kseq;
	bus->expect_deadline_ms = now + bus->reorder_ms;
	bus_drain(bus, now, false);
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
