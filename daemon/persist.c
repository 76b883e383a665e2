// SPDX-License-Identifier: GPL-2.0
/*
 * The history, kept in a memfd that systemd holds for us in its file
 * descriptor store (FDSTORE=1, name "history"). Every record the bus
 * publishes is also written into a slot of the memfd; when kuifd restarts,
 * even after a crash, it gets the memfd back, restores its seq, history
 * and how far the kernel's kseqs were accounted for, and a client that
 * reconnects with "since" misses nothing the history holds. Without
 * systemd the memfd simply dies with the process.
 *
 * The same memfd comes back on every restart, so whatever is in it must
 * not be able to crash kuifd, or it would crash again at every start.
 * Nothing is trusted: the header and each slot carry a checksum (a slot
 * torn by a crash in the middle of its write fails it), each slot is
 * copied once out of the shared memory and then checked field by field,
 * and a record that fails is replaced by a loss record
 * ("history_corrupt"). The newest record is the valid slot with the
 * highest seq; at most nslots records are read back.
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "kuifd.h"
#include "persist.h"

#define PERSIST_NAME	"history"
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

struct persist {
	int			 fd;
	size_t			 size;
	size_t			 nslots;
	struct persist_header	*hdr;
	struct persist_slot	*slots;		/* shared: copy before use */
	bool			 restored;
};

/*
 * FNV-1a, 64 bits, over 8-byte words (then the bytes left): cheap, and
 * any torn or scribbled slot fails it. It runs for every record.
 */
static inline uint64_t
persist_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

uint64_t
persist_checksum(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	const size_t w = sizeof(uint64_t);
	size_t i = 0;

	/* Four words a turn, each loaded on its own (one copy of all four
	 * went through the stack): the same hash, half the instructions. */
	for (; i + 4 * w <= len; i += 4 * w) {
		h = (h ^ persist_word(p + i)) * FNV_PRIME;
		h = (h ^ persist_word(p + i + w)) * FNV_PRIME;
		h = (h ^ persist_word(p + i + 2 * w)) * FNV_PRIME;
		h = (h ^ persist_word(p + i + 3 * w)) * FNV_PRIME;
	}
	for (; i + w <= len; i += w)
		h = (h ^ persist_word(p + i)) * FNV_PRIME;
	for (; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t
persist_header_check(const struct persist_header *h)
{
	return persist_checksum(FNV_OFFSET, h,
	    offsetof(struct persist_header, check));
}

/* Over everything after the check, up to the payload bytes in use. */
uint64_t
persist_slot_check(const struct persist_slot *s)
{
	size_t len = s->len <= KUIF_PAYLOAD_MAX ? s->len : KUIF_PAYLOAD_MAX;

	return persist_checksum(FNV_OFFSET, &s->seq,
	    offsetof(struct persist_slot, payload) + len -
	    offsetof(struct persist_slot, seq));
}

static size_t
persist_size(size_t nslots)
{
	return sizeof(struct persist_header) +
	    nslots * sizeof(struct persist_slot);
}

static bool
persist_header_valid(const struct persist_header *shared, size_t nslots)
{
	struct persist_header h;

	memcpy(&h, shared, sizeof(h));
	if (h.magic != PERSIST_MAGIC)
		return false;
	if (h.version != PERSIST_VERSION ||
	    h.slot_size != sizeof(struct persist_slot) || h.nslots != nslots ||
	    h.check != persist_header_check(&h)) {
		log_warnx("history memfd: version %u, %llu slots of %u bytes, "
		    "or checksum does not match (want version %d, %zu slots "
		    "of %zu): starting afresh", h.version,
		    (unsigned long long)h.nslots, h.slot_size, PERSIST_VERSION,
		    nslots, sizeof(struct persist_slot));
		return false;
	}
	return true;
}

/*
 * fd: the memfd systemd passed back (named "history"), or -1. Returns NULL
 * when no memory can be had: the history then lives only in the heap.
 */
struct persist *
persist_open(int fd, size_t nslots)
{
	struct persist *p = xcalloc(1, sizeof(*p));
	struct persist_header h;
	void *map;

	p->nslots = nslots;
	p->size = persist_size(nslots);
	if (fd == -1) {
		fd = memfd_create("kuifd-history", MFD_CLOEXEC);
		if (fd == -1) {
			log_warn("memfd_create");
			free(p);
			return NULL;
		}
	}
	p->fd = fd;
	/* Any other size is made right first: no access past its end. */
	if (ftruncate(fd, (off_t)p->size) == -1) {
		log_warn("history memfd");
		goto fail;
	}
	map = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		log_warn("history mmap");
		goto fail;
	}
	p->hdr = map;
	p->slots = (struct persist_slot *)(p->hdr + 1);
	if (persist_header_valid(p->hdr, nslots)) {
		p->restored = true;
	} else {
		memset(map, 0, p->size);
		memset(&h, 0, sizeof(h));
		h.magic = PERSIST_MAGIC;
		h.version = PERSIST_VERSION;
		h.slot_size = sizeof(struct persist_slot);
		h.nslots = nslots;
		h.check = persist_header_check(&h);
		memcpy(p->hdr, &h, sizeof(h));
	}
	/* Hand it to systemd; harmless when not run by systemd. */
	if (sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=" PERSIST_NAME,
	    &fd, 1) > 0)
		log_debug("history stored with systemd");
	return p;
fail:
	close(fd);
	free(p);
	return NULL;
}

void
persist_close(struct persist *p)
{
	if (p == NULL)
		return;
	munmap(p->hdr, p->size);
	close(p->fd);
	free(p);
}

/*
 * Record seq; kseq_done: every kseq up to it is accounted for. Written in
 * place (kuifd is the only writer), the checksum last: a crash in the
 * middle leaves a slot that fails it.
 */
void
persist_record(struct persist *p, uint64_t seq, uint64_t kseq_done,
    const struct event *ev, uint64_t lost_count, const char *reason)
{
	struct persist_slot *s = &p->slots[seq % p->nslots];
	size_t n;

	s->seq = seq;
	s->kseq_done = kseq_done;
	if (ev != NULL) {
		/* Every byte the check covers, written once: the arrays
		 * whole (fixed sizes, so no call), then their last NUL. */
		s->kind = PERSIST_EVENT;
		s->len = (uint32_t)(ev->len <= KUIF_PAYLOAD_MAX ? ev->len :
		    KUIF_PAYLOAD_MAX);
		s->kseq = ev->kseq;
		s->time_ns = ev->time_ns;
		s->lost_count = 0;
		memset(s->reason, 0, sizeof(s->reason));
		memcpy(s->source, ev->source, sizeof(s->source));
		s->source[sizeof(s->source) - 1] = '\0';
		memcpy(s->name, ev->name, sizeof(s->name));
		s->name[sizeof(s->name) - 1] = '\0';
		memcpy(s->payload, ev->payload, s->len);
	} else {
		memset(&s->kind, 0, offsetof(struct persist_slot, payload) -
		    offsetof(struct persist_slot, kind));
		s->kind = PERSIST_LOSS;
		s->lost_count = lost_count;
		if (reason != NULL) {
			n = strnlen(reason, sizeof(s->reason) - 1);
			memcpy(s->reason, reason, n);
		}
	}
	s->check = persist_slot_check(s);
}

/*
 * How far kseqs are accounted for changed with no record (the module went
 * away: 0, nothing to resume): said in the newest record, seq.
 */
void
persist_kseq(struct persist *p, uint64_t seq, uint64_t kseq_done)
{
	struct persist_slot s;
	size_t i = seq % p->nslots;

	memcpy(&s, &p->slots[i], sizeof(s));
	if (s.seq != seq || s.len > KUIF_PAYLOAD_MAX ||
	    s.check != persist_slot_check(&s))
		return;
	s.kseq_done = kseq_done;
	s.check = persist_slot_check(&s);
	memcpy(&p->slots[i], &s, offsetof(struct persist_slot, payload));
}

static bool
persist_string(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool
persist_source_known(const char *s)
{
	static const char *const known[] = {
		"netlink", "ring", "signal", "upcall", "inotify",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i]) == 0)
			return true;
	return false;
}

/* Reasons are short identifiers: [a-z0-9_]+. */
static bool
persist_reason_valid(const char *s, size_t size)
{
	size_t i;

	if (!persist_string(s, size) || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * Copies slot i out of the shared memory into s, once, and checks it all.
 * Only what passes may be used.
 */
static bool
persist_slot_read(const struct persist *p, size_t i, struct persist_slot *s)
{
	memcpy(s, &p->slots[i], sizeof(*s));
	if (s->len > KUIF_PAYLOAD_MAX || s->check != persist_slot_check(s))
		return false;
	if (s->seq == 0 || s->seq > PERSIST_SEQ_MAX ||
	    s->seq % p->nslots != i || s->kseq_done > REORDER_KSEQ_MAX)
		return false;
	switch (s->kind) {
	case PERSIST_EVENT:
		return persist_string(s->name, sizeof(s->name)) &&
		    event_name_valid(s->name, strlen(s->name)) &&
		    persist_string(s->source, sizeof(s->source)) &&
		    persist_source_known(s->source) &&
		    s->kseq <= REORDER_KSEQ_MAX && s->lost_count == 0;
	case PERSIST_LOSS:
		return persist_reason_valid(s->reason, sizeof(s->reason)) &&
		    s->lost_count <= PERSIST_SEQ_MAX && s->len == 0;
	default:
		return false;
	}
}

/*
 * The records of an earlier run, oldest first: calls fn for each seq the
 * memfd still holds, with a loss record where a slot fails its checks.
 * Returns the newest seq, 0 when there is nothing; *kseq_done: how far the
 * kernel's kseqs were accounted for at the newest record.
 */
uint64_t
persist_restore(struct persist *p, persist_restore_fn fn, void *arg,
    uint64_t *kseq_done)
{
	struct persist_slot *s;
	struct event *ev;
	uint64_t seq, first, newest = 0, bad = 0;
	size_t i;

	*kseq_done = 0;
	if (!p->restored)
		return 0;
	s = xcalloc(1, sizeof(*s));
	ev = xcalloc(1, sizeof(*ev));
	for (i = 0; i < p->nslots; i++)
		if (persist_slot_read(p, i, s) && s->seq > newest)
			newest = s->seq;
	if (newest == 0)
		goto out;
	first = newest >= p->nslots ? newest - p->nslots + 1 : 1;
	for (seq = first; seq <= newest; seq++) {
		if (!persist_slot_read(p, seq % p->nslots, s) ||
		    s->seq != seq) {
			bad++;
			fn(seq, NULL, 0, "history_corrupt", arg);
			continue;
		}
		if (seq == newest)
			*kseq_done = s->kseq_done;
		if (s->kind == PERSIST_LOSS) {
			fn(seq, NULL, s->lost_count, s->reason, arg);
			continue;
		}
		memset(ev, 0, sizeof(*ev));
		ev->seq = seq;
		ev->kseq = s->kseq;
		ev->time_ns = s->time_ns;
		memcpy(ev->source, s->source, sizeof(ev->source));
		memcpy(ev->name, s->name, sizeof(ev->name));
		ev->len = s->len;
		memcpy(ev->payload, s->payload, s->len);
		fn(seq, ev, 0, NULL, arg);
	}
	if (bad > 0)
		log_warnx("history memfd: %llu of %llu records corrupt, "
		    "replaced by loss records", (unsigned long long)bad,
		    (unsigned long long)(newest - first + 1));
out:
	free(ev);
	free(s);
	return newest;
}
