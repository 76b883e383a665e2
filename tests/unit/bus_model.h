/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of the kernel and its channels driving the real bus, and a
 * checker of what the bus publishes; shared by the property test
 * (tests/unit/test_bus_property.c, a seeded PRNG) and the fuzzer
 * (tests/fuzz/fuzz_bus.c, the input bytes).
 *
 * The kernel numbers its events; each event goes to each channel or not
 * (drops). Channels deliver in their own order and at their own pace:
 * netlink and the ring in kseq order, signals in order but with only the
 * low 32 bits of kseq (partial copies), upcalls in any order. Time passes
 * on the bus's injected clock. Netlink overruns (copies dropped, then the
 * kernel's last kseq given to bus_expect), the module is reloaded (a new
 * kseq epoch), and kuifd crashes and restarts over its persisted history,
 * with the module still there or reloaded meanwhile.
 *
 * The property: records carry seq + 1 each, always; from the base of an
 * epoch (its first published kseq), every kseq is published exactly once
 * or counted in exactly one loss record, in kseq order: each event is the
 * next kseq not yet accounted for, each "missed" loss counts the kseqs
 * just after it (a count > 0, never past what the kernel emitted); an
 * unknown count (0) comes only as "module_reloaded" where the module was
 * reloaded while kuifd was down; and after the kernel's last kseq is
 * expected and the window has had time, everything up to it is
 * accounted for.
 */
#ifndef BUS_MODEL_H
#define BUS_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "kuifd.h"

#define MODEL_HISTORY	64
#define MODEL_REORDER	50
#define MODEL_QMAX	4096

enum model_chan {
	MODEL_NETLINK,
	MODEL_RING,
	MODEL_SIGNAL,
	MODEL_UPCALL,
	MODEL_NCHAN
};

struct model_queue {
	uint64_t	k[MODEL_QMAX];
	size_t		first;
	size_t		len;
};

struct model {
	struct bus		*bus;
	struct persist		*persist;
	int			 memfd;
	uint64_t		 now;

	/* The kernel: this epoch's kseqs are kstart..klast. */
	uint64_t		 kstart;
	uint64_t		 klast;
	struct model_queue	 q[MODEL_NCHAN];

	/* The checker. */
	uint64_t		 seq;		/* last seq seen */
	uint64_t		 acc;		/* accounted up to; 0: no base */
	bool			 reload_due;	/* a module_reloaded may come */
	uint64_t		 records;
	uint64_t		 published;
	uint64_t		 lost;
	char			 why[512];	/* the first violation */
};

static uint64_t
model_clock(void *arg)
{
	return ((struct model *)arg)->now;
}

static void
model_fail(struct model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
model_fail(struct model *m, const char *fmt, ...)
{
	va_list ap;

	if (m->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
}

static void
model_check_event(struct model *m, json_t *o, const char *line)
{
	json_t *jk = json_object_get(o, "kseq");
	const char *name, *source;
	char want[KUIF_EVENT_NAME_MAX];
	uint64_t k;

	if (!json_is_integer(jk) || json_integer_value(jk) <= 0) {
		model_fail(m, "event without a kseq: %s", line);
		return;
	}
	k = (uint64_t)json_integer_value(jk);
	if (k < m->kstart || k > m->klast) {
		model_fail(m, "kseq %llu never emitted in this epoch "
		    "(%llu..%llu): %s", (unsigned long long)k,
		    (unsigned long long)m->kstart,
		    (unsigned long long)m->klast, line);
		return;
	}
	if (m->acc == 0)
		m->acc = k - 1;		/* the base of the epoch */
	if (k != m->acc + 1) {
		model_fail(m, "kseq %llu published, %llu expected (%s)",
		    (unsigned long long)k, (unsigned long long)m->acc + 1,
		    k <= m->acc ? "published or lost before" : "a gap not "
		    "counted lost");
		return;
	}
	m->acc = k;
	m->published++;
	name = json_string_value(json_object_get(o, "event"));
	source = json_string_value(json_object_get(o, "source"));
	snprintf(want, sizeof(want), "m.k%llu", (unsigned long long)k);
	if (name == NULL || source == NULL ||
	    !(strcmp(name, want) == 0 || (strcmp(name, "kernel.signal") == 0
	    && strcmp(source, "signal") == 0)))
		model_fail(m, "kseq %llu carries the wrong event: %s",
		    (unsigned long long)k, line);
}

static void
model_check_lost(struct model *m, json_t *o, const char *line)
{
	json_t *jc = json_object_get(o, "count");
	const char *reason = json_string_value(json_object_get(o, "reason"));
	json_int_t count;

	if (!json_is_integer(jc) || reason == NULL) {
		model_fail(m, "malformed loss: %s", line);
		return;
	}
	count = json_integer_value(jc);
	if (count < 0) {
		model_fail(m, "negative count: %s", line);
		return;
	}
	if (strcmp(reason, "module_reloaded") == 0) {
		if (!m->reload_due || count != 0)
			model_fail(m, "unexpected: %s", line);
		m->reload_due = false;
		m->acc = 0;
		return;
	}
	if (strcmp(reason, "missed") != 0 || count == 0) {
		model_fail(m, "unexpected: %s", line);
		return;
	}
	if (m->acc == 0) {
		model_fail(m, "a loss before any base: %s", line);
		return;
	}
	if ((uint64_t)count > m->klast - m->acc) {
		model_fail(m, "%s: more than the %llu kseqs emitted after "
		    "%llu", line, (unsigned long long)(m->klast - m->acc),
		    (unsigned long long)m->acc);
		return;
	}
	m->acc += (uint64_t)count;
	m->lost += (uint64_t)count;
}

static void
model_sink(const struct bus_record *r, void *arg)
{
	struct model *m = arg;
	const char *type;
	json_error_t err;
	json_t *o, *js;

	m->records++;
	if (getenv("KUIF_BUS_TRACE") != NULL)
		fprintf(stderr, "  record %s", r->blob->data);
	o = json_loadb(r->blob->data, r->blob->len, 0, &err);
	if (o == NULL) {
		model_fail(m, "not JSON: %s", r->blob->data);
		return;
	}
	js = json_object_get(o, "seq");
	if (!json_is_integer(js) || r->seq != m->seq + 1 ||
	    (uint64_t)json_integer_value(js) != r->seq)
		model_fail(m, "seq %llu after %llu: %s",
		    (unsigned long long)r->seq, (unsigned long long)m->seq,
		    r->blob->data);
	m->seq = r->seq;
	type = json_string_value(json_object_get(o, "type"));
	if (type != NULL && strcmp(type, "event") == 0)
		model_check_event(m, o, r->blob->data);
	else if (type != NULL && strcmp(type, "lost") == 0)
		model_check_lost(m, o, r->blob->data);
	else
		model_fail(m, "unknown record: %s", r->blob->data);
	json_decref(o);
}

/* kuifd starts (again) over the memfd. */
static void
model_kuifd_start(struct model *m)
{
	m->bus = bus_create(NULL, MODEL_HISTORY, MODEL_REORDER);
	bus_set_clock(m->bus, model_clock, m);
	m->persist = persist_open(dup(m->memfd), MODEL_HISTORY);
	if (m->persist == NULL)
		abort();
	bus_set_persist(m->bus, m->persist);
	bus_restore(m->bus);
	if (bus_seq(m->bus) != m->seq)
		model_fail(m, "restored seq %llu, the run before ended at "
		    "%llu", (unsigned long long)bus_seq(m->bus),
		    (unsigned long long)m->seq);
	bus_set_sink(m->bus, model_sink, m);
}

/* A crash: nothing flushed. */
static void
model_kuifd_crash(struct model *m)
{
	bus_free(m->bus);
	persist_close(m->persist);
	m->bus = NULL;
	m->persist = NULL;
}

static void
model_init(struct model *m, uint64_t kstart)
{
	memset(m, 0, sizeof(*m));
	m->now = 1000;
	m->kstart = kstart;
	m->klast = kstart - 1;
	m->memfd = memfd_create("model-history", MFD_CLOEXEC);
	if (m->memfd == -1)
		abort();
	model_kuifd_start(m);
	/* The first attach: the module is there, nothing emitted yet. */
	bus_kernel_attach(m->bus, &m->klast);
}

static void
model_free(struct model *m)
{
	model_kuifd_crash(m);
	close(m->memfd);
}

static void
model_push(struct model_queue *q, uint64_t k)
{
	if (q->len == MODEL_QMAX)
		return;			/* the channel is full: dropped */
	q->k[(q->first + q->len) % MODEL_QMAX] = k;
	q->len++;
}

/* The kernel emits one event; mask: the channels that carry it. */
static void
model_emit(struct model *m, unsigned int mask)
{
	int c;

	m->klast++;
	for (c = 0; c < MODEL_NCHAN; c++)
		if (mask & (1u << c))
			model_push(&m->q[c], m->klast);
}

/* Channel c delivers one copy; pick: which one, for upcalls. */
static void
model_deliver(struct model *m, int c, unsigned int pick)
{
	struct model_queue *q = &m->q[c];
	struct event ev;
	size_t i = 0;
	uint64_t k;

	if (q->len == 0)
		return;
	if (c == MODEL_UPCALL)
		i = pick % q->len;
	k = q->k[(q->first + i) % MODEL_QMAX];
	/* Out of the middle: the rest close up. */
	for (; i > 0; i--)
		q->k[(q->first + i) % MODEL_QMAX] =
		    q->k[(q->first + i - 1) % MODEL_QMAX];
	q->first = (q->first + 1) % MODEL_QMAX;
	q->len--;

	memset(&ev, 0, sizeof(ev));
	ev.time_ns = 1;
	if (c == MODEL_SIGNAL) {
		strcpy(ev.source, "signal");
		strcpy(ev.name, "kernel.signal");
		bus_publish_partial32(m->bus, &ev, (uint32_t)k);
		return;
	}
	ev.kseq = k;
	strcpy(ev.source, c == MODEL_NETLINK ? "netlink" : c == MODEL_RING ?
	    "ring" : "upcall");
	snprintf(ev.name, sizeof(ev.name), "m.k%llu", (unsigned long long)k);
	bus_publish(m->bus, &ev);
}

static void
model_tick(struct model *m, unsigned int ms)
{
	m->now += ms;
	bus_timeout(m->bus);
}

/* The netlink socket overran: n copies gone; the kernel is asked. */
static void
model_overrun(struct model *m, unsigned int n)
{
	struct model_queue *q = &m->q[MODEL_NETLINK];

	while (n-- > 0 && q->len > 0) {
		q->first = (q->first + 1) % MODEL_QMAX;
		q->len--;
	}
	bus_expect(m->bus, m->klast);
}

static void
model_clear_queues(struct model *m)
{
	memset(m->q, 0, sizeof(m->q));
}

/* The module is reloaded while kuifd runs; the new one starts at kstart. */
static void
model_reload(struct model *m, uint64_t kstart)
{
	bus_reset_kseq(m->bus);		/* the old module goes */
	model_clear_queues(m);
	m->acc = 0;
	m->kstart = kstart;
	m->klast = kstart - 1;
	bus_kernel_attach(m->bus, &m->klast);
}

/* kuifd crashes and restarts; the module stays. The ring and upcalls
 * still hold what they held; netlink and signals do not. */
static void
model_restart(struct model *m)
{
	model_kuifd_crash(m);
	memset(&m->q[MODEL_NETLINK], 0, sizeof(m->q[0]));
	memset(&m->q[MODEL_SIGNAL], 0, sizeof(m->q[0]));
	model_kuifd_start(m);
	bus_kernel_attach(m->bus, &m->klast);
}

/* kuifd is down while the module is reloaded and emits n events (the
 * ring keeps them), fewer than kuifd had accounted for. */
static void
model_reload_while_down(struct model *m, unsigned int n)
{
	unsigned int i;

	model_kuifd_crash(m);
	model_clear_queues(m);
	m->reload_due = m->acc > 0;
	if (m->acc > 0 && n >= m->acc)
		n = (unsigned int)((m->acc - 1) % (n + 1));
	m->kstart = 1;
	m->klast = 0;
	for (i = 0; i < n; i++)
		model_emit(m, 1u << MODEL_RING);
	if (!m->reload_due)
		m->acc = 0;
	model_kuifd_start(m);
	bus_kernel_attach(m->bus, &m->klast);
	if (m->reload_due)
		model_fail(m, "no module_reloaded record after a reload");
	m->acc = 0;
}

/* One step; op and arg come from the PRNG or the fuzzer's bytes. */
static void
model_step(struct model *m, unsigned int op, unsigned int arg)
{
	static const uint64_t starts[] = {
		1, 0xffffffe0ULL, 0x1fffffff8ULL, 0x7fffffffff000000ULL,
	};
	unsigned int i;

	if (getenv("KUIF_BUS_TRACE") != NULL)
		fprintf(stderr, "op %u arg %u (klast %llu acc %llu)\n", op % 64,
		    arg, (unsigned long long)m->klast,
		    (unsigned long long)m->acc);
	switch (op % 64) {
	case 0 ... 15:
		/* Events on some channels; mask 0: dropped on all. */
		for (i = 0; i <= arg % 4; i++)
			model_emit(m, op % 8 == 0 ? 0 : 1 + (arg >> 2) % 15);
		break;
	case 16 ... 39:
		for (i = 0; i <= (arg >> 4) % 4; i++)
			model_deliver(m, (int)(op % MODEL_NCHAN), arg);
		break;
	case 40 ... 47:
		model_tick(m, arg % (3 * MODEL_REORDER));
		break;
	case 48:
		/* Beyond the window: a gap, or a channel far behind. */
		for (i = 0; i < REORDER_WINDOW + arg % 64; i++)
			model_emit(m, (arg & 0x300) == 0 ? 1u << MODEL_RING :
			    0);
		break;
	case 49 ... 51:
		model_overrun(m, arg % 64);
		break;
	case 52:
		bus_expect(m->bus, m->klast);
		break;
	case 53:
		model_reload(m, starts[arg % 4]);
		break;
	case 54:
		model_restart(m);
		break;
	case 55:
		model_reload_while_down(m, arg % 8);
		break;
	default:
		/* Channels in their own order: one at a time. */
		model_deliver(m, (int)(arg % MODEL_NCHAN), arg >> 2);
		break;
	}
}

/* The end: the kernel's last kseq is expected, the window has time, and
 * everything up to it must be accounted for. */
static void
model_finish(struct model *m)
{
	int c, n;

	/* Some stragglers; the rest never comes. */
	for (c = 0; c < MODEL_NCHAN; c++)
		for (n = 0; n < 64 && m->q[c].len > 0; n++)
			model_deliver(m, c, 0);
	bus_expect(m->bus, m->klast);
	model_tick(m, MODEL_REORDER);
	model_tick(m, MODEL_REORDER);
	if (m->acc != 0 && m->acc != m->klast)
		model_fail(m, "at the end, kseqs %llu..%llu were neither "
		    "published nor lost", (unsigned long long)m->acc + 1,
		    (unsigned long long)m->klast);
	if (bus_stats(m->bus)->lost > ((uint64_t)1 << 63))
		model_fail(m, "lost counter %llu", (unsigned long long)
		    bus_stats(m->bus)->lost);
}

#endif /* BUS_MODEL_H */
