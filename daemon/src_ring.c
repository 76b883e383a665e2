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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kuifd.h"

#define SRC_RING_BATCH	4096	/* records per wakeup before yielding */

struct src_ring {
	struct event_base	*base;
	struct bus		*bus;
	const char		*path;
	int			 fd;
	struct kuif_ring_header	*hdr;
	uint8_t			*data;
	size_t			 map_size;
	uint32_t		 data_size;
	struct event		*ev_read;
	uint64_t		 received;
	uint64_t		 dropped_seen;	/* kernel's drop counter */
	uint64_t		 malformed;
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
	*dropped = src->hdr != NULL ?
	    __atomic_load_n(&src->hdr->dropped, __ATOMIC_RELAXED) : 0;
	*malformed = src->malformed;
}

void
src_ring_detach(struct src_ring *src)
{
	if (src->fd == -1)
		return;
	event_free(src->ev_read);
	src->ev_read = NULL;
	munmap(src->hdr, src->map_size);
	src->hdr = NULL;
	close(src->fd);
	src->fd = -1;
	log_lifecycle("source_down", "source ring detached");
}

/* Returns 0, or -1 when the ring cannot be used (logged). */
int
src_ring_attach(struct src_ring *src)
{
	struct kuif_ring_info info;
	void *map;

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
	if (info.data_size == 0 || (info.data_size & (info.data_size - 1)) ||
	    info.data_offset < sizeof(struct kuif_ring_header) ||
	    info.mmap_size != (uint64_t)info.data_offset + info.data_size) {
		log_warnx("ring: inconsistent geometry: offset %u size %u "
		    "map %llu", info.data_offset, info.data_size,
		    (unsigned long long)info.mmap_size);
		goto fail;
	}
	map = mmap(NULL, info.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    src->fd, 0);
	if (map == MAP_FAILED) {
		log_warn("ring: mmap");
		goto fail;
	}
	src->hdr = map;
	src->map_size = info.mmap_size;
	src->data = (uint8_t *)map + info.data_offset;
	src->data_size = info.data_size;
	if (src->hdr->magic != KUIF_RING_MAGIC ||
	    src->hdr->version != KUIF_RING_VERSION) {
		log_warnx("ring: bad magic %#x or version %u",
		    src->hdr->magic, src->hdr->version);
		munmap(map, src->map_size);
		src->hdr = NULL;
		goto fail;
	}
	src->dropped_seen = src->hdr->dropped;
	src->ev_read = event_new(src->base, src->fd, EV_READ | EV_PERSIST,
	    src_ring_drain, src);
	if (src->ev_read == NULL || event_add(src->ev_read, NULL) == -1)
		fatalx("ring: cannot add read event");
	log_lifecycle("source_up", "source ring attached: %u bytes of records",
	    src->data_size);
	/* Whatever the kernel kept while nobody read it. */
	src_ring_drain(src->fd, EV_READ, src);
	return 0;
fail:
	close(src->fd);
	src->fd = -1;
	return -1;
}

/*
 * Decodes one record at pos. Returns its length, or 0 when the record is
 * malformed (the rest of the ring cannot be trusted).
 */
size_t
src_ring_decode(const uint8_t *data, uint32_t data_size, uint64_t pos,
    uint64_t avail, struct event *ev, bool *is_event)
{
	const struct kuif_ring_record *rec;
	uint32_t off = (uint32_t)(pos & (data_size - 1));
	size_t name_len;

	if (off % 8 != 0 || avail < sizeof(rec->len) + sizeof(rec->type))
		return 0;
	rec = (const struct kuif_ring_record *)(data + off);
	if (rec->len % 8 != 0 || rec->len > avail ||
	    rec->len > data_size - off || rec->len < 8)
		return 0;
	*is_event = false;
	if (rec->type == KUIF_RING_PAD)
		return rec->len;
	if (rec->type != KUIF_RING_EVENT || rec->len < sizeof(*rec) ||
	    rec->payload_len > KUIF_PAYLOAD_MAX ||
	    sizeof(*rec) + rec->payload_len > rec->len)
		return 0;
	name_len = strnlen(rec->event, sizeof(rec->event));
	if (!event_name_valid(rec->event, name_len) || rec->kseq == 0)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->kseq = rec->kseq;
	ev->time_ns = rec->time_ns;
	memcpy(ev->name, rec->event, name_len);
	strcpy(ev->source, "ring");
	ev->len = rec->payload_len;
	memcpy(ev->payload, rec->payload, rec->payload_len);
	*is_event = true;
	return rec->len;
}

static void
src_ring_drain(evutil_socket_t fd, short what, void *arg)
{
	struct src_ring *src = arg;
	uint64_t prod, cons, dropped;
	struct event ev;
	bool is_event;
	size_t len;
	int n = 0;

	(void)fd;
	(void)what;
	prod = __atomic_load_n(&src->hdr->producer, __ATOMIC_ACQUIRE);
	cons = src->hdr->consumer;
	while (cons < prod && n++ < SRC_RING_BATCH) {
		len = src_ring_decode(src->data, src->data_size, cons,
		    prod - cons, &ev, &is_event);
		if (len == 0) {
			/* Skip what we cannot parse; the bus reports the
			 * kseqs no other channel delivered. */
			src->malformed++;
			log_warnx("ring: malformed record at %llu; skipping "
			    "%llu bytes", (unsigned long long)cons,
			    (unsigned long long)(prod - cons));
			cons = prod;
			break;
		}
		cons += len;
		if (is_event) {
			src->received++;
			bus_publish(src->bus, &ev);
		}
		/* Per record: a crash re-reads at most the one in hand. */
		__atomic_store_n(&src->hdr->consumer, cons, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&src->hdr->consumer, cons, __ATOMIC_RELEASE);
	dropped = __atomic_load_n(&src->hdr->dropped, __ATOMIC_RELAXED);
	if (dropped != src->dropped_seen) {
		log_warnx("ring: the kernel dropped %llu records (ring full)",
		    (unsigned long long)(dropped - src->dropped_seen));
		src->dropped_seen = dropped;
	}
	/* More than one batch waiting: come back after other work. */
	if (cons < prod && src->ev_read != NULL)
		event_active(src->ev_read, EV_READ, 0);
}

struct src_ring *
src_ring_create(struct event_base *base, struct bus *bus, const char *path)
{
	struct src_ring *src = xcalloc(1, sizeof(*src));

	src->base = base;
	src->bus = bus;
	src->path = path;
	src->fd = -1;
	return src;
}

void
src_ring_free(struct src_ring *src)
{
	if (src == NULL)
		return;
	src_ring_detach(src);
	free(src);
}
