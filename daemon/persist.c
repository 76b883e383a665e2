// SPDX-License-Identifier: GPL-2.0
/*
 * The history, kept in a memfd that systemd holds for us in its file
 * descriptor store (FDSTORE=1, name "history"). Every record the bus
 * publishes is also written into a slot of the memfd; when kuifd restarts,
 * even after a crash, it gets the memfd back, restores its seq and history,
 * and a client that reconnects with "since" misses nothing the history
 * holds. Without systemd the memfd simply dies with the process.
 *
 * A slot is written before the header's seq names it, and a slot whose
 * own seq does not match is treated as a hole, so a crash in the middle
 * of a write loses at most that record.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "kuifd.h"

#define PERSIST_MAGIC	0x6b75696668697374ULL	/* "kuifhist" */
#define PERSIST_VERSION	1
#define PERSIST_NAME	"history"

struct persist_header {
	uint64_t	magic;
	uint32_t	version;
	uint32_t	slot_size;
	uint64_t	nslots;
	uint64_t	seq;		/* newest complete record */
};

struct persist_slot {
	uint64_t	seq;		/* written last; 0: empty */
	uint32_t	is_event;
	uint32_t	pad;
	uint64_t	lost_count;
	char		reason[24];
	struct event	ev;
};

struct persist {
	int			 fd;
	size_t			 size;
	struct persist_header	*hdr;
	struct persist_slot	*slots;
	bool			 restored;
};

static size_t
persist_size(size_t nslots)
{
	return sizeof(struct persist_header) +
	    nslots * sizeof(struct persist_slot);
}

static bool
persist_valid(const struct persist_header *h, size_t nslots)
{
	return h->magic == PERSIST_MAGIC && h->version == PERSIST_VERSION &&
	    h->slot_size == sizeof(struct persist_slot) && h->nslots == nslots;
}

/*
 * fd: the memfd systemd passed back (named "history"), or -1. Returns NULL
 * when no memory can be had: the history then lives only in the heap.
 */
struct persist *
persist_open(int fd, size_t nslots)
{
	struct persist *p = xcalloc(1, sizeof(*p));
	void *map;

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
	if (persist_valid(p->hdr, nslots)) {
		p->restored = true;
	} else {
		memset(map, 0, p->size);
		p->hdr->magic = PERSIST_MAGIC;
		p->hdr->version = PERSIST_VERSION;
		p->hdr->slot_size = sizeof(struct persist_slot);
		p->hdr->nslots = nslots;
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

void
persist_record(struct persist *p, uint64_t seq, const struct event *ev,
    uint64_t lost_count, const char *reason)
{
	struct persist_slot *s = &p->slots[seq % p->hdr->nslots];

	s->seq = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	s->is_event = ev != NULL;
	if (ev != NULL)
		s->ev = *ev;
	s->lost_count = lost_count;
	snprintf(s->reason, sizeof(s->reason), "%s", reason != NULL ?
	    reason : "");
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	s->seq = seq;
	p->hdr->seq = seq;
}

/*
 * The records of an earlier run, oldest first: calls fn for each seq the
 * memfd still holds. Returns the newest seq, 0 when there is nothing.
 */
uint64_t
persist_restore(struct persist *p, void (*fn)(uint64_t, const struct event *,
    uint64_t, const char *, void *), void *arg)
{
	uint64_t seq, first, newest;
	const struct persist_slot *s;

	if (!p->restored || p->hdr->seq == 0)
		return 0;
	newest = p->hdr->seq;
	first = newest >= p->hdr->nslots ? newest - p->hdr->nslots + 1 : 1;
	for (seq = first; seq <= newest; seq++) {
		s = &p->slots[seq % p->hdr->nslots];
		if (s->seq != seq)
			fn(seq, NULL, 1, "restart", arg);	/* a hole */
		else
			fn(seq, s->is_event ? &s->ev : NULL, s->lost_count,
			    s->reason, arg);
	}
	return newest;
}
