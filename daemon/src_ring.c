// SPDX-License-Identifier: GPL-2.0
/*
 * Source: the shared-memory ring of /dev/kuif. The kernel writes records
 * and advances the producer position; we read them in place, hand them to
 * the bus, and advance the consumer position. poll() wakes us when the ring
 * goes from empty to not empty, so a busy ring costs one wakeup per batch.
 *
 * An open /dev/kuif pins the module: while this source is attached,
 * `rmmod kuif` fails with EBUSY. The source is attached at start and when
 * the netlink source reports that the module came back.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kuifd.h"

#define SRC_RING_BATCH	4096	/* records per wakeup before yielding */
#define SRC_RING_STORE	256	/* records between consumer stores */
#define SRC_RING_SAY_S	10	/* s between messages about drops */

struct src_ring {
	struct event_base	*base;
	struct bus		*bus;
	const char		*path;
	int			 fd;
	/* The consumer page, the only part we can write; shared with every
	 * other reader, so only ever written, never believed. */
	struct kuif_ring_consumer *cpage;
	/* The producer page and the records: read-only. */
	const struct kuif_ring_producer *ppage;
	const uint8_t		*data;
	size_t			 ro_size;
	uint32_t		 data_size;
	uint64_t		 cons;		/* our position */
	struct event		*ev_read;
	uint64_t		 received;
	struct log_count	*say_dropped;	/* kernel's drop counter */
	struct log_count	*say_bad;	/* kernel's bad_consumer */
	uint64_t		 expected;	/* last kseq told to the bus */
	uint64_t		 malformed;
	time_t			 skip_logged;	/* skips: one message a second */
	uint64_t		 skips_unlogged;
};

static void src_ring_drain(evutil_socket_t, short, void *);

bool
src_ring_attached(const struct src_ring *src)
{
	return src->fd != -1;
}

void
src_ring_counters(const struct src_ring *src, uint64_t *received,
    uint64_t *dropped, uint64_t *malformed)
{
	*received = src->received;
	*dropped = src->ppage != NULL ?
	    __atomic_load_n(&src->ppage->dropped, __ATOMIC_RELAXED) : 0;
	*malformed = src->malformed;
}

static void
src_ring_unmap(struct src_ring *src)
{
	if (src->cpage != NULL)
		munmap(src->cpage, sizeof(*src->cpage));
	if (src->ppage != NULL)
		munmap((void *)src->ppage, src->ro_size);
	src->cpage = NULL;
	src->ppage = NULL;
	src->data = NULL;
}

void
src_ring_detach(struct src_ring *src)
{
	if (src->fd == -1)
		return;
	log_count_flush(src->say_dropped);
	log_count_flush(src->say_bad);
	event_free(src->ev_read);
	src->ev_read = NULL;
	src_ring_unmap(src);
	close(src->fd);
	src->fd = -1;
	log_lifecycle("source_down", "source ring detached");
	/* Nothing more to catch up on: the other sources may go on. */
	bus_caught_up(src->bus);
}

/*
 * Two maps, as the UAPI header describes: the consumer page read-write,
 * the producer page and the records read-only (the kernel refuses to map
 * them writable). Returns 0, or -1 when the ring cannot be used (logged).
 */
static int
src_ring_map(struct src_ring *src, const struct kuif_ring_info *info)
{
	void *map;

	if (info->data_size == 0 ||
	    (info->data_size & (info->data_size - 1)) ||
	    info->consumer_size < sizeof(struct kuif_ring_consumer) ||
	    info->producer_size < sizeof(struct kuif_ring_producer) ||
	    info->producer_offset < info->consumer_offset +
	    info->consumer_size ||
	    info->data_offset < info->producer_offset + info->producer_size ||
	    info->mmap_size != (uint64_t)info->data_offset + info->data_size) {
		log_warnx("ring: inconsistent geometry: consumer %u+%u "
		    "producer %u+%u data %u+%u map %llu",
		    info->consumer_offset, info->consumer_size,
		    info->producer_offset, info->producer_size,
		    info->data_offset, info->data_size,
		    (unsigned long long)info->mmap_size);
		return -1;
	}
	map = mmap(NULL, sizeof(*src->cpage), PROT_READ | PROT_WRITE,
	    MAP_SHARED, src->fd, info->consumer_offset);
	if (map == MAP_FAILED) {
		log_warn("ring: mmap of the consumer page");
		return -1;
	}
	src->cpage = map;
	src->ro_size = info->mmap_size - info->producer_offset;
	map = mmap(NULL, src->ro_size, PROT_READ, MAP_SHARED, src->fd,
	    info->producer_offset);
	if (map == MAP_FAILED) {
		log_warn("ring: mmap of the producer page and data");
		src_ring_unmap(src);
		return -1;
	}
	src->ppage = map;
	src->data = (const uint8_t *)map +
	    (info->data_offset - info->producer_offset);
	src->data_size = info->data_size;
	if (src->ppage->magic != KUIF_RING_MAGIC ||
	    src->ppage->version != KUIF_RING_VERSION ||
	    src->ppage->data_size != info->data_size) {
		log_warnx("ring: bad magic %#x, version %u or size %u",
		    src->ppage->magic, src->ppage->version,
		    src->ppage->data_size);
		src_ring_unmap(src);
		return -1;
	}
	return 0;
}

/* Returns 0, or -1 when the ring cannot be used (logged). */
int
src_ring_attach(struct src_ring *src)
{
	struct kuif_ring_info info;
	uint64_t prod, cons;

	if (src->fd != -1)
		return 0;
	src->fd = open(src->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (src->fd == -1) {
		log_warn("ring: %s", src->path);
		return -1;
	}
	if (ioctl(src->fd, KUIF_IOC_RING_INFO, &info) == -1) {
		log_warn("ring: KUIF_IOC_RING_INFO");
		goto fail;
	}
	if (src_ring_map(src, &info) == -1)
		goto fail;
	/* Resume where the last reader stopped, if that makes sense: what
	 * the kernel kept while nobody read it is ours. */
	prod = __atomic_load_n(&src->ppage->producer, __ATOMIC_ACQUIRE);
	cons = __atomic_load_n(&src->cpage->consumer, __ATOMIC_RELAXED);
	if (cons > prod || prod - cons > src->data_size || cons % 8 != 0)
		cons = prod;
	src->cons = cons;
	src->expected = 0;	/* the kernel may count from 1 again */
	log_count_reset(src->say_dropped,
	    __atomic_load_n(&src->ppage->dropped, __ATOMIC_RELAXED));
	log_count_reset(src->say_bad,
	    __atomic_load_n(&src->ppage->bad_consumer, __ATOMIC_RELAXED));
	src->ev_read = event_new(src->base, src->fd, EV_READ | EV_PERSIST,
	    src_ring_drain, src);
	if (src->ev_read == NULL || event_add(src->ev_read, NULL) == -1)
		fatalx("ring: cannot add read event");
	log_lifecycle("source_up", "source ring attached: %u bytes of records",
	    src->data_size);
	src_ring_drain(src->fd, EV_READ, src);
	return 0;
fail:
	close(src->fd);
	src->fd = -1;
	return -1;
}

/* The compiler must not re-read shared memory for what it copied. */
#define SRC_RING_BARRIER()	__asm__ __volatile__("" ::: "memory")

/*
 * Decodes one record at pos. Returns its length, or 0 when the record is
 * malformed (the rest of the ring cannot be trusted).
 *
 * data is shared with every process that can open /dev/kuif, and the
 * kernel rewrites it behind a reader that is lapped: it may change between
 * two reads. So each field of the header is read from it exactly once,
 * into the private copy h, which alone is checked and used; only the
 * payload is copied from data afterwards, by the length checked in h.
 * A length checked in the ring and read again for the copy could have
 * grown in between (up to 64 KiB into ev->payload).
 */
/*
 * bus: when not NULL, asked about the record's kseq before the rest is
 * decoded; a duplicate's length is returned with *is_event false and
 * *dup true.
 */
static size_t
src_ring_decode_one(const uint8_t *data, uint32_t data_size, uint64_t pos,
    uint64_t avail, struct event *ev, bool *is_event, struct bus *bus,
    bool *dup)
{
	const size_t fixed = offsetof(struct kuif_ring_record, kseq);
	struct kuif_ring_record h;
	uint32_t off = (uint32_t)(pos & (data_size - 1));
	size_t name_len;

	if (off % 8 != 0 || avail < fixed || data_size - off < fixed)
		return 0;
	/* len, type and payload_len: all a pad record has. */
	memcpy(&h, data + off, fixed);
	SRC_RING_BARRIER();
	if (h.len % 8 != 0 || h.len > avail || h.len > data_size - off ||
	    h.len < fixed)
		return 0;
	*is_event = false;
	if (h.type == KUIF_RING_PAD)
		return h.len;
	if (h.type != KUIF_RING_EVENT || h.len < sizeof(h) ||
	    h.payload_len > KUIF_PAYLOAD_MAX ||
	    sizeof(h) + h.payload_len > h.len)
		return 0;
	/* The rest of the header, inside the record just checked. */
	memcpy((uint8_t *)&h + fixed, data + off + fixed, sizeof(h) - fixed);
	SRC_RING_BARRIER();
	if (h.kseq == 0)
		return 0;
	if (bus != NULL && bus_duplicate(bus, h.kseq)) {
		*dup = true;
		return h.len;
	}
	name_len = event_name_check(h.event, sizeof(h.event));
	if (name_len == 0)
		return 0;
	/* All but the payload past its length, which nothing reads. */
	memset(ev, 0, offsetof(struct event, payload));
	ev->kseq = h.kseq;
	ev->time_ns = h.time_ns;
	memcpy(ev->name, h.event, name_len);
	memcpy(ev->source, "ring", sizeof("ring"));
	ev->len = h.payload_len;
	memcpy(ev->payload, data + off + sizeof(h), h.payload_len);
	*is_event = true;
	return h.len;
}

size_t
src_ring_decode(const uint8_t *data, uint32_t data_size, uint64_t pos,
    uint64_t avail, struct event *ev, bool *is_event)
{
	bool dup = false;

	return src_ring_decode_one(data, data_size, pos, avail, ev, is_event,
	    NULL, &dup);
}

/*
 * Gives up on what lies between pos and prod, counted as malformed; the bus
 * reports the kseqs no other channel delivered. A hostile reader can make
 * this happen at every event: one message a second at most.
 */
static uint64_t
src_ring_skip(struct src_ring *src, uint64_t pos, uint64_t prod,
    const char *why)
{
	time_t now = time(NULL);

	src->malformed++;
	if (now == src->skip_logged) {
		src->skips_unlogged++;
		return prod;
	}
	log_warnx("ring: skipping %llu bytes at %llu: %s (%llu more skips "
	    "not logged)", (unsigned long long)(prod - pos),
	    (unsigned long long)pos, why,
	    (unsigned long long)src->skips_unlogged);
	src->skip_logged = now;
	src->skips_unlogged = 0;
	return prod;
}

/*
 * The kernel writes over what lies before the highest consumer position it
 * accepted. Another reader, or a hostile process, can move the shared one
 * past us: a record we copied from before consumer_max may be torn (a
 * header of one record, the payload of another), and what follows it
 * cannot be found. Checked after the copy (the kernel raises consumer_max
 * before writing what it frees).
 */
static bool
src_ring_overrun(const struct src_ring *src, uint64_t pos)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&src->ppage->consumer_max, __ATOMIC_RELAXED) >
	    pos;
}

/*
 * A full ring drops records at every pass while the kernel outpaces us (a
 * pass each 10 ms logged 70 lines a second): the first drop is logged,
 * then one message in SRC_RING_SAY_S seconds with the count since. Each
 * drop is a loss record on the bus anyway.
 */
static void
src_ring_dropped_say(uint64_t total, uint64_t since, void *arg)
{
	(void)arg;
	log_warnx("ring: the kernel dropped records, the ring being full "
	    "(%llu so far, %llu since the last message)",
	    (unsigned long long)total, (unsigned long long)since);
}

/* A hostile reader can make the kernel reset one at every event. */
static void
src_ring_bad_say(uint64_t total, uint64_t since, void *arg)
{
	(void)arg;
	(void)total;
	log_warnx("ring: the kernel reset %llu corrupt consumer positions "
	    "(another reader wrote them)", (unsigned long long)since);
}

/*
 * Reads what the kernel published since our position. Nothing of the
 * shared mapping is believed without a check: the consumer page is only
 * written, a producer more than the ring ahead of us or a consumer_max
 * past a record we copied (another reader moved the shared consumer, and
 * the kernel wrote over what we had not read) is a loss, and so is
 * whatever does not decode.
 */
static void
src_ring_drain(evutil_socket_t fd, short what, void *arg)
{
	struct src_ring *src = arg;
	uint64_t prod, cons, last;
	struct event ev;
	bool is_event, dup;
	size_t len;
	int n = 0;

	(void)fd;
	(void)what;
	prod = __atomic_load_n(&src->ppage->producer, __ATOMIC_ACQUIRE);
	cons = src->cons;
	if (prod < cons || prod - cons > src->data_size)
		cons = src_ring_skip(src, prod < cons ? prod : cons, prod,
		    "the producer is not within the ring from our position "
		    "(another reader moved the consumer)");
	while (cons < prod && n++ < SRC_RING_BATCH) {
		/* Held (a subscriber is full): the ring keeps the rest. */
		if (bus_holding(src->bus)) {
			event_del(src->ev_read);
			break;
		}
		dup = false;
		len = src_ring_decode_one(src->data, src->data_size, cons,
		    prod - cons, &ev, &is_event, src->bus, &dup);
		if (src_ring_overrun(src, cons)) {
			cons = src_ring_skip(src, cons, prod, "the kernel was "
			    "let to write over them (another reader moved the "
			    "consumer)");
			break;
		}
		if (len == 0) {
			cons = src_ring_skip(src, cons, prod,
			    "malformed record");
			break;
		}
		cons += len;
		if (dup)
			src->received++;
		else if (is_event) {
			src->received++;
			bus_publish(src->bus, &ev);
		}
		/* Not per record: the kernel writes the cache line next to
		 * it. Every SRC_RING_STORE records, and once the batch is
		 * read, so that a long batch frees room as it goes; a crash
		 * re-reads at most those, which the restarted bus counts as
		 * duplicates. */
		if (n % SRC_RING_STORE == 0)
			__atomic_store_n(&src->cpage->consumer, cons,
			    __ATOMIC_RELEASE);
	}
	src->cons = cons;
	__atomic_store_n(&src->cpage->consumer, cons, __ATOMIC_RELEASE);
	/* Once a pass: unchanged counts cost the call alone. */
	log_count_set(src->say_dropped,
	    __atomic_load_n(&src->ppage->dropped, __ATOMIC_RELAXED));
	log_count_set(src->say_bad,
	    __atomic_load_n(&src->ppage->bad_consumer, __ATOMIC_RELAXED));
	/*
	 * Drained: last_kseq, then producer again (the kernel writes them in
	 * the other order). If nothing came meanwhile, every record up to
	 * last was below our position, so every kseq up to last the ring did
	 * not give us was dropped or discarded. Tell the bus the kernel
	 * emitted it: one no other channel delivers within the reorder
	 * window becomes a lost record, at the end of a burst too, where no
	 * later kseq reveals the gap. When nothing was lost the bus has seen
	 * last already, and this costs nothing. A drop after this look
	 * means the ring was full again, so there are records after our
	 * position, and we come back.
	 */
	if (cons == prod) {
		last = __atomic_load_n(&src->ppage->last_kseq,
		    __ATOMIC_ACQUIRE);
		prod = __atomic_load_n(&src->ppage->producer,
		    __ATOMIC_ACQUIRE);
		if (cons == prod && last > src->expected) {
			src->expected = last;
			bus_expect(src->bus, last);
		}
	}
	/* More waiting: come back after other work. */
	if (cons < prod && src->ev_read != NULL && !bus_holding(src->bus))
		event_active(src->ev_read, EV_READ, 0);
	else if (cons == prod)
		bus_caught_up(src->bus);
}

/*
 * The bus's flow control. Held, the ring is not read (nor polled: it is
 * readable as long as it holds records): the kernel keeps what comes, up
 * to the ring's size, and counts what does not fit as dropped. Released,
 * it is read at once, before the other sources resume.
 */
static bool
src_ring_flow(enum bus_flow_op op, void *arg)
{
	struct src_ring *src = arg;

	if (src->ev_read == NULL)
		return false;
	switch (op) {
	case BUS_FLOW_HOLD:
		event_del(src->ev_read);
		return false;
	case BUS_FLOW_RELEASE:
		if (event_add(src->ev_read, NULL) == -1)
			fatalx("ring: cannot add read event");
		event_active(src->ev_read, EV_READ, 0);
		return true;
	case BUS_FLOW_ATTACHED:
		return true;
	}
	return false;
}

struct src_ring *
src_ring_create(struct event_base *base, struct bus *bus, const char *path)
{
	struct src_ring *src = xcalloc(1, sizeof(*src));

	src->base = base;
	src->bus = bus;
	src->path = path;
	src->fd = -1;
	src->say_dropped = log_count_new(base, SRC_RING_SAY_S,
	    src_ring_dropped_say, src);
	src->say_bad = log_count_new(base, 1, src_ring_bad_say, src);
	bus_flow_add(bus, src_ring_flow, src, true);
	return src;
}

void
src_ring_free(struct src_ring *src)
{
	if (src == NULL)
		return;
	src_ring_detach(src);
	log_count_free(src->say_dropped);
	log_count_free(src->say_bad);
	free(src);
}
