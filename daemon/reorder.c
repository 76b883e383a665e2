// SPDX-License-Identifier: GPL-2.0
/*
 * The reorder window. Every channel's copy of a kernel event comes here;
 * what leaves, in kseq order, is each kernel event once, or a count of
 * kseqs that no channel delivered:
 *
 * - The base is the first kseq accounted for since (re)attach: set by the
 *   first complete copy, or by reorder_resume() after a restart. A copy
 *   below next_kseq is a duplicate (another channel was faster).
 * - A copy ahead of a missing kseq waits, at most REORDER_WINDOW kseqs
 *   ahead, for the other channels to fill the gap. A gap is given up, as
 *   one loss, reorder_ms after the first copy after it arrived; a copy too
 *   far ahead to wait gives up everything before it at once.
 * - A copy that knows only the low 32 bits of its kseq (a signal) is
 *   widened to the kseq nearest to next_kseq, and waits reorder_ms for a
 *   complete copy before it is published as it is. Before there is a base
 *   it cannot be widened: it is held until a complete copy sets one.
 * - The kernel may say how far it has emitted (reorder_expect): what has
 *   not come reorder_ms after that, or after the last copy that came
 *   since, is lost, even with no later copy to show it.
 *
 * Every kseq from the base on leaves exactly once, as an event or in one
 * loss, and next_kseq - 1 always says how far that is.
 */
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

#define REORDER_HELD		64	/* signals waiting for a base */
#define REORDER_ARRIVALS	(2 * REORDER_WINDOW)

struct reorder_slot {
	bool		used;
	bool		partial;	/* kseq known, content not */
	uint64_t	arrived_ms;
	struct event	ev;
};

struct reorder_held {
	uint32_t	low;
	uint64_t	arrived_ms;
	struct event	ev;
};

struct reorder {
	unsigned int		 reorder_ms;
	reorder_event_fn	 on_event;
	reorder_lost_fn		 on_lost;
	reorder_clock_fn	 clock;
	void			*arg;
	struct bus_stats	*stats;

	uint64_t		 next_kseq;	/* 0: no base */
	struct reorder_slot	 window[REORDER_WINDOW];
	size_t			 npending;
	/*
	 * The kseqs put in the window, in the order they arrived (so with
	 * arrival times that never decrease); those taken out since are
	 * skipped when they reach the front. The front is the first copy
	 * after the head gap: the gap's deadline is reorder_ms after it.
	 */
	uint64_t		 arrivals[REORDER_ARRIVALS];
	size_t			 arr_first;
	size_t			 arr_len;

	uint64_t		 expect_kseq;	/* the kernel has emitted up to */
	uint64_t		 expect_deadline_ms;

	struct reorder_held	 held[REORDER_HELD];
	size_t			 nheld;
};

struct reorder *
reorder_create(unsigned int reorder_ms, reorder_event_fn on_event,
    reorder_lost_fn on_lost, reorder_clock_fn clock, void *arg,
    struct bus_stats *stats)
{
	struct reorder *r = xcalloc(1, sizeof(*r));

	r->reorder_ms = reorder_ms;
	r->on_event = on_event;
	r->on_lost = on_lost;
	r->clock = clock;
	r->arg = arg;
	r->stats = stats;
	return r;
}

void
reorder_free(struct reorder *r)
{
	free(r);
}

/* How far every kseq is accounted for (published or lost); 0: no base. */
uint64_t
reorder_accounted(const struct reorder *r)
{
	return r->next_kseq == 0 ? 0 : r->next_kseq - 1;
}

/* The kseq nearest to ref whose low 32 bits are low. */
uint64_t
reorder_widen32(uint64_t ref, uint32_t low)
{
	uint64_t k = (ref & ~(uint64_t)0xffffffff) | low;

	if (k + 0x80000000ULL < ref)
		k += 0x100000000ULL;
	else if (k > ref + 0x80000000ULL && k >= 0x100000000ULL)
		k -= 0x100000000ULL;
	return k;
}

static struct reorder_slot *
reorder_slot(struct reorder *r, uint64_t kseq)
{
	return &r->window[kseq % REORDER_WINDOW];
}

static bool
reorder_waiting(const struct reorder *r, uint64_t kseq)
{
	const struct reorder_slot *p = &r->window[kseq % REORDER_WINDOW];

	return p->used && p->ev.kseq == kseq;
}

static void
reorder_lost(struct reorder *r, uint64_t count)
{
	if (count > 0)
		r->on_lost(count, "missed", r->arg);
}

/* The head is here: out it goes (next_kseq moves first, so that what the
 * record persists says it is accounted for). */
static void
reorder_take(struct reorder *r, struct reorder_slot *p)
{
	struct event ev = p->ev;

	p->used = false;
	r->npending--;
	r->next_kseq++;
	r->on_event(&ev, r->arg);
}

/* Skips the arrivals taken out of the window; returns the front or NULL. */
static const struct reorder_slot *
reorder_first_arrival(struct reorder *r)
{
	uint64_t k;

	while (r->arr_len > 0) {
		k = r->arrivals[r->arr_first];
		if (reorder_waiting(r, k))
			return reorder_slot(r, k);
		r->arr_first = (r->arr_first + 1) % REORDER_ARRIVALS;
		r->arr_len--;
	}
	return NULL;
}

static void
reorder_arrived(struct reorder *r, uint64_t kseq)
{
	size_t i, n;
	uint64_t k;

	if (r->arr_len == REORDER_ARRIVALS) {
		/* Full of taken ones: keep those still waiting, in order. */
		for (i = n = 0; i < r->arr_len; i++) {
			k = r->arrivals[(r->arr_first + i) % REORDER_ARRIVALS];
			if (reorder_waiting(r, k))
				r->arrivals[(r->arr_first + n++) %
				    REORDER_ARRIVALS] = k;
		}
		r->arr_len = n;
		if (n == REORDER_ARRIVALS)
			fatalx("reorder: more arrivals than the window");
	}
	r->arrivals[(r->arr_first + r->arr_len) % REORDER_ARRIVALS] = kseq;
	r->arr_len++;
}

/*
 * When the head of the window must move on its own: the head's partial
 * copy or the head gap expires, or the expected tail. False: nothing
 * waits for time.
 */
bool
reorder_deadline(const struct reorder *r, uint64_t *when)
{
	const struct reorder_slot *p;

	if (r->npending > 0) {
		if (reorder_waiting(r, r->next_kseq)) {
			p = &r->window[r->next_kseq % REORDER_WINDOW];
			*when = p->partial ? p->arrived_ms + r->reorder_ms : 0;
			return true;
		}
		/* const: only skips arrivals that are gone. */
		p = reorder_first_arrival((struct reorder *)r);
		*when = p != NULL ? p->arrived_ms + r->reorder_ms : 0;
		return true;
	}
	if (r->next_kseq != 0 && r->expect_kseq >= r->next_kseq) {
		*when = r->expect_deadline_ms;
		return true;
	}
	return false;
}

/* Publishes and gives up what is due at now. */
void
reorder_drain(struct reorder *r, uint64_t now)
{
	struct reorder_slot *p;
	uint64_t missing, when;

	while (r->npending > 0) {
		p = reorder_slot(r, r->next_kseq);
		if (reorder_waiting(r, r->next_kseq)) {
			if (p->partial && p->arrived_ms + r->reorder_ms > now)
				break;
			reorder_take(r, p);
			continue;
		}
		if (!reorder_deadline(r, &when) || when > now)
			break;
		/* The gap is given up: up to the next copy that waits. */
		for (missing = 0; !reorder_waiting(r, r->next_kseq); missing++)
			r->next_kseq++;
		reorder_lost(r, missing);
	}
	/* A tail no later copy will ever reveal: the kernel told us. */
	if (r->npending == 0 && r->next_kseq != 0 &&
	    r->expect_kseq >= r->next_kseq && r->expect_deadline_ms <= now) {
		missing = r->expect_kseq - r->next_kseq + 1;
		r->next_kseq = r->expect_kseq + 1;
		reorder_lost(r, missing);
	}
}

/*
 * Gives up on every kseq below k now: what waits there is published, the
 * rest is lost, and next_kseq becomes k. Never moves next_kseq back.
 */
static void
reorder_give_up_before(struct reorder *r, uint64_t k)
{
	uint64_t missing;

	while (r->next_kseq < k) {
		if (r->npending == 0) {
			missing = k - r->next_kseq;
			r->next_kseq = k;
			reorder_lost(r, missing);
			break;
		}
		if (reorder_waiting(r, r->next_kseq)) {
			reorder_take(r, reorder_slot(r, r->next_kseq));
			continue;
		}
		/* What waits lies within the window: this ends there. */
		for (missing = 0; r->next_kseq < k &&
		    !reorder_waiting(r, r->next_kseq); missing++)
			r->next_kseq++;
		reorder_lost(r, missing);
	}
}

static void
reorder_insert(struct reorder *r, const struct event *ev, bool partial,
    uint64_t arrived)
{
	struct reorder_slot *p;

	if (ev->kseq < r->next_kseq) {
		r->stats->duplicates++;
		return;
	}
	if (ev->kseq >= r->next_kseq + REORDER_WINDOW)
		reorder_give_up_before(r, ev->kseq);	/* too far to wait */
	p = reorder_slot(r, ev->kseq);
	if (p->used) {
		/* A complete copy replaces a signal's bare kseq. */
		if (p->partial && !partial) {
			p->ev = *ev;
			p->partial = false;
		} else
			r->stats->duplicates++;
		return;
	}
	p->used = true;
	p->partial = partial;
	p->arrived_ms = arrived;
	p->ev = *ev;
	r->npending++;
	reorder_arrived(r, ev->kseq);
	/* The expected kseqs are still coming: wait for the rest as long
	 * after this one (a backlog read at startup, a socket queue read
	 * after an overrun, can take longer than reorder_ms). */
	if (r->expect_kseq >= r->next_kseq &&
	    r->expect_deadline_ms < arrived + r->reorder_ms)
		r->expect_deadline_ms = arrived + r->reorder_ms;
}

/*
 * A base is set (kseq k is the first to account for): the signals held
 * until now are widened against it. When the base comes from a copy, one
 * that comes out lower, but close, moves the base down to it: its event
 * was emitted, and is not lost. A base resumed from an earlier run stays.
 */
static void
reorder_set_base(struct reorder *r, uint64_t k, bool may_lower)
{
	uint64_t w, base = k;
	size_t i;

	for (i = 0; may_lower && i < r->nheld; i++) {
		w = reorder_widen32(k, r->held[i].low);
		if (w != 0 && w < base && k - w < REORDER_WINDOW)
			base = w;
	}
	r->next_kseq = base;
	r->expect_kseq = 0;
}

/*
 * The held signals go into the window, widened against k, in the order
 * they arrived. One that would not fit in the window from the base is
 * dropped: it must not give up kseqs before the copy that set the base
 * (if its event is not lost, another copy brings it).
 */
static void
reorder_release_held(struct reorder *r, uint64_t k)
{
	uint64_t w;
	size_t i;

	for (i = 0; i < r->nheld; i++) {
		w = reorder_widen32(k, r->held[i].low);
		r->held[i].ev.kseq = w;
		if (w == 0 || w > REORDER_KSEQ_MAX ||
		    w >= r->next_kseq + REORDER_WINDOW)
			r->stats->duplicates++;
		else
			reorder_insert(r, &r->held[i].ev, true,
			    r->held[i].arrived_ms);
	}
	r->nheld = 0;
}

/* True when a complete copy of kseq came already: another is a duplicate
 * (a source may check before it decodes the rest of a copy). */
bool
reorder_seen(const struct reorder *r, uint64_t kseq)
{
	const struct reorder_slot *p = &r->window[kseq % REORDER_WINDOW];

	if (kseq == 0 || r->next_kseq == 0)
		return false;
	return kseq < r->next_kseq ||
	    (p->used && p->ev.kseq == kseq && !p->partial);
}

/* Whether anything waits for time: when not, reorder_drain() has nothing
 * to do, whatever the time. */
static bool
reorder_idle(const struct reorder *r)
{
	return r->npending == 0 &&
	    (r->next_kseq == 0 || r->expect_kseq < r->next_kseq);
}

/*
 * A copy of a kernel event (partial: only its kseq is known). The clock
 * is read only when something waits for time: not for the usual copy,
 * in order with nothing waiting (a clock_gettime per event was a tenth
 * of kuifd's time on the ring path under emulation).
 */
void
reorder_add(struct reorder *r, struct event *ev, bool partial)
{
	uint64_t now = 0;
	bool have_now = false;

	if (ev->kseq == 0 || ev->kseq > REORDER_KSEQ_MAX) {
		r->stats->duplicates++;		/* not ours to number */
		return;
	}
	if (r->next_kseq == 0) {
		reorder_set_base(r, ev->kseq, true);
		reorder_release_held(r, ev->kseq);
	}
	/*
	 * In order, with nothing waiting: out at once, as reorder_insert()
	 * and reorder_drain() would let it, without copying it into the
	 * window and out again.
	 */
	if (!partial && ev->kseq == r->next_kseq && r->npending == 0) {
		if (r->expect_kseq >= r->next_kseq) {
			now = r->clock(r->arg);
			have_now = true;
			if (r->expect_deadline_ms < now + r->reorder_ms)
				r->expect_deadline_ms = now + r->reorder_ms;
		}
		r->next_kseq++;
		r->on_event(ev, r->arg);
	} else {
		now = r->clock(r->arg);
		have_now = true;
		reorder_insert(r, ev, partial, now);
	}
	if (!reorder_idle(r))
		reorder_drain(r, have_now ? now : r->clock(r->arg));
}

/* A copy that carries only the low 32 bits of its kseq (a signal). */
void
reorder_add_partial32(struct reorder *r, struct event *ev, uint32_t low,
    uint64_t now)
{
	if (r->next_kseq == 0) {
		/* Nothing to widen against: wait for a complete copy. */
		if (r->nheld == REORDER_HELD) {
			r->stats->duplicates++;
			return;
		}
		r->held[r->nheld].low = low;
		r->held[r->nheld].arrived_ms = now;
		r->held[r->nheld].ev = *ev;
		r->nheld++;
		return;
	}
	ev->kseq = reorder_widen32(r->next_kseq, low);
	reorder_add(r, ev, true);
}

/*
 * The kernel has emitted up to kseq. Gaps are otherwise noticed only when
 * a later copy arrives; the events lost at the end of a burst have none.
 * What has not come within reorder_ms from now is lost.
 */
void
reorder_expect(struct reorder *r, uint64_t kseq, uint64_t now)
{
	if (r->next_kseq == 0 || kseq < r->next_kseq ||
	    kseq <= r->expect_kseq || kseq > REORDER_KSEQ_MAX)
		return;
	r->expect_kseq = kseq;
	r->expect_deadline_ms = now + r->reorder_ms;
	reorder_drain(r, now);
}

/* The module went away: what waits is published or lost now, and the
 * next copy sets a new base. */
void
reorder_reset(struct reorder *r, uint64_t now)
{
	uint64_t last = 0;
	size_t i;

	if (r->npending > 0) {
		for (i = 0; i < REORDER_WINDOW; i++)
			if (r->window[i].used && r->window[i].ev.kseq > last)
				last = r->window[i].ev.kseq;
		reorder_give_up_before(r, last + 1);
	}
	if (r->next_kseq != 0 && r->expect_kseq >= r->next_kseq)
		reorder_give_up_before(r, r->expect_kseq + 1);
	(void)now;
	r->next_kseq = 0;
	r->expect_kseq = 0;
	r->arr_len = 0;
	r->nheld = 0;
}

/* After a restart: every kseq up to kseq was accounted for by the run
 * before; the next one is expected next. */
void
reorder_resume(struct reorder *r, uint64_t kseq, uint64_t now)
{
	if (kseq == 0 || kseq >= REORDER_KSEQ_MAX)
		return;
	reorder_reset(r, now);
	reorder_set_base(r, kseq + 1, false);
	reorder_release_held(r, kseq + 1);
	reorder_drain(r, now);
}
