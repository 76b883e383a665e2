// SPDX-License-Identifier: GPL-2.0
/*
 * The event bus. Sources hand it their copies of kernel events; the
 * reorder window (reorder.c) lets each kernel event out once, in kseq
 * order, or counts it lost. The bus numbers what comes out with kuifd's
 * own seq, serializes it once, keeps it in the history (history.c) and in
 * the persisted history (persist.c), logs the events the journal filter
 * names, and hands each record to the sink (the server).
 *
 * Time comes from a clock that tests replace; the reorder timer runs
 * bus_timeout() when the head of the window is due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "kuifd.h"

#define BUS_FLOWS	4

struct bus {
	struct event		*ev_timer;	/* NULL without a loop */
	bool			 timer_armed;	/* ev_timer pending */
	struct reorder		*reorder;
	struct history		*history;
	uint64_t		 seq;		/* last seq published */
	uint64_t		 resume_kseq;	/* until the kernel is asked */

	struct bus_stats	 stats;
	bus_sink_fn		 sink;
	void			*sink_arg;
	bus_emit_fn		 emit;
	void			*emit_arg;
	bus_clock_fn		 clock;
	void			*clock_arg;
	const struct filter	*journal;	/* events also logged */
	bus_observer_fn		 observer;	/* NULL: none (no actions) */
	void			*observer_arg;
	struct persist		*persist;	/* NULL: heap only */
	char			 line[EVENT_JSON_MAX];	/* the one encoded */

	struct {
		bus_flow_fn	 fn;
		void		*arg;
		bool		 primary;
	}			 flows[BUS_FLOWS];
	size_t			 nflows;
	bool			 held;		/* the sink asked */
	bool			 catching_up;	/* primaries released */
	bool			 others_held;	/* secondaries not yet */
};

static uint64_t
bus_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
bus_now(const struct bus *bus)
{
	return bus->clock(bus->clock_arg);
}

static uint64_t
bus_clock(void *arg)
{
	return bus_now(arg);
}

static void	bus_timer_cb(evutil_socket_t, short, void *);
static void	bus_window_event(struct event *, void *);
static void	bus_window_lost(uint64_t, const char *, void *);

struct bus *
bus_create(struct event_base *base, size_t history_len,
    unsigned int reorder_ms)
{
	struct bus *bus = xcalloc(1, sizeof(*bus));

	bus->clock = bus_monotonic_ms;
	bus->history = history_create(history_len);
	bus->reorder = reorder_create(reorder_ms, bus_window_event,
	    bus_window_lost, bus_clock, bus, &bus->stats);
	if (base != NULL) {
		bus->ev_timer = evtimer_new(base, bus_timer_cb, bus);
		if (bus->ev_timer == NULL)
			fatalx("cannot create the reorder timer");
	}
	return bus;
}

void
bus_free(struct bus *bus)
{
	if (bus == NULL)
		return;
	if (bus->ev_timer != NULL)
		event_free(bus->ev_timer);
	reorder_free(bus->reorder);
	history_free(bus->history);
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

/* fn NULL: the monotonic clock. */
void
bus_set_clock(struct bus *bus, bus_clock_fn fn, void *arg)
{
	bus->clock = fn != NULL ? fn : bus_monotonic_ms;
	bus->clock_arg = arg;
}

void
bus_set_observer(struct bus *bus, bus_observer_fn fn, void *arg)
{
	bus->observer = fn;
	bus->observer_arg = arg;
}

void
bus_set_persist(struct bus *bus, struct persist *p)
{
	bus->persist = p;
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
	return history_oldest(bus->history, bus->seq);
}

const struct bus_record *
bus_history_get(const struct bus *bus, uint64_t seq)
{
	return history_get(bus->history, bus->seq, seq);
}

/*
 * A loss record's line. When it cannot be encoded (a reason that is not
 * UTF-8, no memory), a plain one that can: the seq is never left without
 * a record.
 */
static char *
bus_lost_line(uint64_t seq, uint64_t count, const char *reason)
{
	char *line;

	struct timespec ts;
	char t[64];

	line = proto_lost(seq, count, reason, NULL);
	if (line == NULL) {
		log_warnx("cannot encode the loss record %llu",
		    (unsigned long long)seq);
		clock_gettime(CLOCK_REALTIME, &ts);
		if (event_format_time((uint64_t)ts.tv_sec * 1000000000ULL +
		    (uint64_t)ts.tv_nsec, t, sizeof(t)) == -1)
			strcpy(t, "1970-01-01T00:00:00.000000000Z");
		line = xcalloc(1, 192);
		snprintf(line, 192, "{\"type\":\"lost\",\"seq\":%llu,"
		    "\"time\":\"%s\",\"count\":%llu,"
		    "\"reason\":\"encode_failed\"}\n",
		    (unsigned long long)seq, t, (unsigned long long)count);
	}
	return line;
}

/* Keeps record seq (a copy of the len bytes of line) and hands it to the
 * sink. */
static void
bus_keep(struct bus *bus, const char *line, size_t len,
    const struct event *ev)
{
	const struct bus_record *r;

	r = history_keep(bus->history, bus->seq, line, len, ev);
	if (bus->sink != NULL)
		bus->sink(r, bus->sink_arg);
}

static void
bus_keep_lost(struct bus *bus, uint64_t count, const char *reason)
{
	char *line = bus_lost_line(bus->seq, count, reason);

	bus_keep(bus, line, strlen(line), NULL);
	free(line);
}

static void
bus_emit_lost(struct bus *bus, uint64_t count, const char *reason)
{
	bus->stats.lost += count;
	bus->seq++;
	if (bus->persist != NULL)
		persist_record(bus->persist, bus->seq, reorder_accounted(bus->reorder),
		    NULL, count, reason);
	bus_keep_lost(bus, count, reason);
}

static void
bus_emit_event(struct bus *bus, struct event *ev)
{
	size_t len;

	ev->seq = bus->seq + 1;
	len = event_json_write(ev, bus->line);
	if (len == 0) {
		/* The event is there, its line is not: count it lost. */
		log_warnx("cannot encode event %s (kseq %llu)", ev->name,
		    (unsigned long long)ev->kseq);
		bus_emit_lost(bus, 1, "encode_failed");
		return;
	}
	bus->seq++;
	bus->stats.published++;
	if (bus->persist != NULL)
		persist_record(bus->persist, bus->seq, reorder_accounted(bus->reorder),
		    ev, 0, NULL);
	bus_keep(bus, bus->line, len, ev);
	if (bus->journal != NULL && bus->journal->nevents > 0 &&
	    filter_match(bus->journal, ev->source, ev->name))
		log_event(ev);
	if (bus->observer != NULL)
		bus->observer(ev, bus->observer_arg);
}

static void
bus_window_event(struct event *ev, void *arg)
{
	bus_emit_event(arg, ev);
}

static void
bus_window_lost(uint64_t count, const char *reason, void *arg)
{
	bus_emit_lost(arg, count, reason);
}

/* How long until the head of the window is due; false: nothing waits. */
bool
bus_next_timeout(const struct bus *bus, struct timeval *tv)
{
	uint64_t when, now, ms;

	if (!reorder_deadline(bus->reorder, &when))
		return false;
	now = bus_now(bus);
	ms = when > now ? when - now : 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000 * 1000);
	return true;
}

/*
 * Wakes up when the head of the window is due (deadlines only move
 * later, so a timer already set is early, never late), and not at all
 * when nothing waits: a copy that waited and was completed by another
 * channel cancels the timer it armed.
 */
static void
bus_arm(struct bus *bus)
{
	struct timeval tv;

	if (bus->ev_timer == NULL)
		return;
	/* Held, a gap may be in a kernel buffer: it is not due. */
	/* Asking libevent, even to delete a timer it does not hold, costs
	 * more than the rest of a record's way through here. */
	if (bus->held || bus->catching_up || !bus_next_timeout(bus, &tv)) {
		if (bus->timer_armed)
			evtimer_del(bus->ev_timer);
		bus->timer_armed = false;
	} else if (!bus->timer_armed) {
		evtimer_add(bus->ev_timer, &tv);
		bus->timer_armed = true;
	}
}

/* What the reorder timer does: publishes or gives up what is due. */
void
bus_timeout(struct bus *bus)
{
	if (bus->held || bus->catching_up)
		return;
	reorder_drain(bus->reorder, bus_now(bus));
	bus_arm(bus);
}

/* A source the sink's hold pauses; primary: it catches up first. */
void
bus_flow_add(struct bus *bus, bus_flow_fn fn, void *arg, bool primary)
{
	if (bus->nflows == BUS_FLOWS)
		fatalx("too many flow-controlled sources");
	bus->flows[bus->nflows].fn = fn;
	bus->flows[bus->nflows].arg = arg;
	bus->flows[bus->nflows].primary = primary;
	bus->nflows++;
}

static void
bus_flow_set(struct bus *bus, bool hold, bool primary)
{
	size_t i;
	bool pending = false;

	for (i = 0; i < bus->nflows; i++) {
		if (bus->flows[i].primary == primary &&
		    bus->flows[i].fn(hold ? BUS_FLOW_HOLD : BUS_FLOW_RELEASE,
		    bus->flows[i].arg))
			pending = true;
	}
	if (primary && !hold)
		bus->catching_up = pending;
}

/* True if a primary source is there to absorb a burst. */
bool
bus_flow_attached(struct bus *bus)
{
	size_t i;

	for (i = 0; i < bus->nflows; i++) {
		if (bus->flows[i].primary &&
		    bus->flows[i].fn(BUS_FLOW_ATTACHED, bus->flows[i].arg))
			return true;
	}
	return false;
}

/*
 * The sink's hold: every source stops reading what the kernel queues.
 * Refused (false) when no primary source is there to absorb the burst.
 * Released, the primary sources read first, and the others resume when
 * bus_caught_up() says the primaries have emptied their buffers: until
 * then the reorder window gives up no gap, which they may still fill.
 */
bool
bus_hold(struct bus *bus, bool hold)
{
	if (hold == bus->held)
		return true;
	if (hold && !bus_flow_attached(bus))
		return false;
	bus->held = hold;
	if (hold) {
		bus->catching_up = false;
		bus->others_held = true;
		bus_flow_set(bus, true, true);
		bus_flow_set(bus, true, false);
		bus_arm(bus);
		return true;
	}
	bus_flow_set(bus, false, true);
	if (!bus->catching_up)
		bus_caught_up(bus);
	return true;
}

bool
bus_holding(const struct bus *bus)
{
	return bus->held;
}

/* A primary source read all it had, or went away. */
void
bus_caught_up(struct bus *bus)
{
	if (bus->held || !bus->others_held)
		return;
	bus->catching_up = false;
	bus->others_held = false;
	bus_flow_set(bus, false, false);
	bus_arm(bus);
}

static void
bus_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bus *bus = arg;

	(void)fd;
	(void)what;
	bus->timer_armed = false;	/* it fired: no longer pending */
	bus_timeout(bus);
}

void
bus_publish(struct bus *bus, struct event *ev)
{
	bus->stats.received++;
	reorder_add(bus->reorder, ev, false);
	bus_arm(bus);
}

/*
 * A source that has read kseq from a copy's header asks before it decodes
 * the rest: true when another channel delivered it already (counted as a
 * duplicate, as bus_publish() would).
 */
bool
bus_duplicate(struct bus *bus, uint64_t kseq)
{
	if (!reorder_seen(bus->reorder, kseq))
		return false;
	bus->stats.received++;
	bus->stats.duplicates++;
	return true;
}

/* A copy that carries only the low 32 bits of its kseq (a real-time
 * signal's value). */
void
bus_publish_partial32(struct bus *bus, struct event *ev, uint32_t low)
{
	struct timespec ts;

	/* A signal has no time: published alone (kernel.signal), the event
	 * says when kuifd received it; a complete copy replaces it all. */
	if (ev->time_ns == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ev->time_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
		    (uint64_t)ts.tv_nsec;
	}
	bus->stats.received++;
	reorder_add_partial32(bus->reorder, ev, low, bus_now(bus));
	bus_arm(bus);
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
	bus_emit_lost(bus, count, reason);
}

/*
 * The module went away: what waits will not be completed, and the next
 * kseqs are another module's. A restart from here must not resume from
 * the old module's kseqs: the newest persisted record says so.
 */
static void
bus_reset(struct bus *bus, uint64_t now)
{
	reorder_reset(bus->reorder, now);
	if (bus->persist != NULL && bus->seq > 0)
		persist_kseq(bus->persist, bus->seq, 0);
}

void
bus_reset_kseq(struct bus *bus)
{
	bus_reset(bus, bus_now(bus));
}

/*
 * The kernel's source attached; last: the kernel's last kseq, NULL when
 * it could not be asked. A newly loaded module numbers from 1 again, so
 * the next copy sets the base. But after a restart of kuifd, the run
 * before accounted for every kseq up to resume_kseq, and the bus resumed
 * from there: when the kernel is at or past it, the same module is still
 * there, and what it emitted meanwhile is expected (the ring still holds
 * some of it; the rest is lost). When the kernel is below it, the module
 * was reloaded while kuifd was down: how many events the old one emitted
 * after resume_kseq is unknown, and the new one's set a new base.
 */
void
bus_kernel_attach(struct bus *bus, const uint64_t *last)
{
	uint64_t now = bus_now(bus), resume = bus->resume_kseq;

	bus->resume_kseq = 0;
	if (resume == 0)
		bus_reset(bus, now);
	else if (last != NULL && *last < resume) {
		log_warnx("the kuif module was reloaded while kuifd was down "
		    "(kernel kseq %llu, kuifd had %llu): its last events are "
		    "lost", (unsigned long long)*last,
		    (unsigned long long)resume);
		bus_reset(bus, now);
		bus_emit_lost(bus, 0, "module_reloaded");
	} else if (last != NULL) {
		log_lifecycle("resumed", "resuming after kseq %llu, the "
		    "kernel is at %llu", (unsigned long long)resume,
		    (unsigned long long)*last);
		reorder_expect(bus->reorder, *last, now);
	} else
		log_warnx("resuming after kseq %llu; the kernel's kseq is "
		    "unknown: events emitted while kuifd was down may be lost "
		    "unreported", (unsigned long long)resume);
	bus_arm(bus);
}

/* The kernel is not there when kuifd starts: the module whose kseqs the
 * run before accounted for is gone, and what it emitted at the end with
 * it. */
void
bus_kernel_absent(struct bus *bus)
{
	if (bus->resume_kseq == 0)
		return;
	bus->resume_kseq = 0;
	log_warnx("the kuif module was unloaded while kuifd was down: its "
	    "last events are lost");
	bus_reset(bus, bus_now(bus));
	bus_emit_lost(bus, 0, "module_reloaded");
}

/*
 * The kernel has emitted up to kseq (a source that overran asked it).
 * What has not come within reorder_ms from now is lost.
 */
void
bus_expect(struct bus *bus, uint64_t kseq)
{
	reorder_expect(bus->reorder, kseq, bus_now(bus));
	bus_arm(bus);
}

static void
bus_restore_one(uint64_t seq, const struct event *ev, uint64_t lost_count,
    const char *reason, void *arg)
{
	struct bus *bus = arg;
	struct event copy;
	size_t len;

	bus->seq = seq;
	if (ev != NULL) {
		copy = *ev;
		copy.seq = seq;
		len = event_json_write(&copy, bus->line);
		if (len != 0) {
			bus_keep(bus, bus->line, len, &copy);
			return;
		}
		lost_count = 1;
		reason = "encode_failed";
	}
	bus_keep_lost(bus, lost_count, reason);
}

/* Takes back the history of the previous run, before any source runs. */
void
bus_restore(struct bus *bus)
{
	uint64_t newest, kseq = 0;

	if (bus->persist == NULL)
		return;
	newest = persist_restore(bus->persist, bus_restore_one, bus, &kseq);
	if (newest == 0)
		return;
	/* Until the kernel says otherwise, the same module goes on. */
	bus->resume_kseq = kseq;
	reorder_resume(bus->reorder, kseq, bus_now(bus));
	log_lifecycle("restored", "history restored: seq %llu, %llu "
	    "records, kseq %llu", (unsigned long long)newest,
	    (unsigned long long)(newest - bus_history_oldest(bus) + 1),
	    (unsigned long long)kseq);
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
