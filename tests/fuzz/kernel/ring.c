// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap ring of /dev/kuif: maps of every size, offset, protection and
 * sharing; mprotect, mremap and madvise on them; consumer positions beyond
 * the producer, behind the window, misaligned and huge.
 *
 * Must run as the ring's only reader (kuifd with ring = no), so that the
 * header can be checked exactly. Promises checked: a map beyond the ring
 * is EINVAL; a writable map of anything but the consumer page alone, or a
 * private writable one, is EACCES; a read-only map of the producer page or
 * the data can never become writable (mprotect: EACCES) and a write to it
 * faults, while a shared map of the consumer page alone can; a corrupt
 * consumer is counted in bad_consumer and moved to the producer at the
 * next event; a valid one is left alone; last_kseq names the last event
 * offered to the ring; consumer_max never goes back, never passes the
 * producer, and reaches every consumer accepted; every record between consumer and producer is
 * well-formed, and an event emitted into a drained ring is found in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <kuif.h>
#include "kfuzz.h"

#define KEPT_MAX 8

static int fd = -1;
static struct kuif_ring_info info;
static volatile struct kuif_ring_consumer *cp;	/* shared, read-write */
static const volatile struct kuif_ring_producer *hdr;	/* read-only */
static const uint8_t *data;
static size_t ro_size;
static uint64_t cmax_seen;
static void *kept[KEPT_MAX];
static size_t kept_len[KEPT_MAX];

static int ring_init(void)
{
	void *p;

	fd = open("/dev/kuif", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, KUIF_IOC_RING_INFO, &info) != 0) {
		kf_fail("/dev/kuif ring info: %s", strerror(errno));
		return -1;
	}
	if (info.consumer_offset != 0 || info.consumer_size != KF_PAGE ||
	    info.producer_offset != KF_PAGE || info.producer_size != KF_PAGE ||
	    info.data_offset != 2 * KF_PAGE ||
	    info.mmap_size != info.data_offset + (uint64_t)info.data_size) {
		kf_fail("ring geometry: consumer %u+%u producer %u+%u "
			"data %u+%u map %llu", info.consumer_offset,
			info.consumer_size, info.producer_offset,
			info.producer_size, info.data_offset, info.data_size,
			(unsigned long long)info.mmap_size);
		return -1;
	}
	p = mmap(NULL, info.consumer_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, info.consumer_offset);
	if (p == MAP_FAILED) {
		kf_fail("mmap of the consumer page: %s", strerror(errno));
		return -1;
	}
	cp = p;
	ro_size = info.mmap_size - info.producer_offset;
	p = mmap(NULL, ro_size, PROT_READ, MAP_SHARED, fd, info.producer_offset);
	if (p == MAP_FAILED) {
		kf_fail("mmap of the producer page and data: %s",
			strerror(errno));
		return -1;
	}
	hdr = p;
	data = (const uint8_t *)p + (info.data_offset - info.producer_offset);
	if (hdr->magic != KUIF_RING_MAGIC || hdr->data_size != info.data_size ||
	    hdr->version != KUIF_RING_VERSION) {
		kf_fail("ring header: magic %#x version %u size %u", hdr->magic,
			hdr->version, hdr->data_size);
		return -1;
	}
	return 0;
}

static uint64_t emit_one(void)
{
	struct kuif_emit e;

	memset(&e, 0, sizeof(e));
	strcpy(e.event, "kfuzz.ring");
	e.len = (uint32_t)kf_below(sizeof(e.payload) + 1);
	memset(e.payload, 'p', e.len);
	if (ioctl(fd, KUIF_IOC_EMIT, &e) != 0) {
		kf_fail("EMIT: %s", strerror(errno));
		return 0;
	}
	return e.kseq;
}

/* Checks the records in [from, to); returns 1 if kseq is among them. */
static int walk(uint64_t from, uint64_t to, uint64_t kseq)
{
	uint64_t pos = from, prev = 0;
	int found = 0;

	while (pos < to) {
		const struct kuif_ring_record *r =
			(const void *)(data + pos % info.data_size);
		uint32_t room = info.data_size - pos % info.data_size;

		if (r->len < 8 || r->len % 8 || r->len > room ||
		    r->len > to - pos) {
			kf_fail("ring record at %llu: len %u",
				(unsigned long long)pos, r->len);
			return found;
		}
		if (r->type == KUIF_RING_EVENT) {
			if (r->len < sizeof(*r) + r->payload_len ||
			    r->payload_len > KUIF_PAYLOAD_MAX ||
			    !memchr(r->event, '\0', sizeof(r->event)) ||
			    r->kseq <= prev) {
				kf_fail("ring record at %llu: kseq %llu after "
					"%llu, payload %u",
					(unsigned long long)pos,
					(unsigned long long)r->kseq,
					(unsigned long long)prev,
					r->payload_len);
				return found;
			}
			prev = r->kseq;
			found |= r->kseq == kseq;
		} else if (r->type != KUIF_RING_PAD) {
			kf_fail("ring record at %llu: type %u",
				(unsigned long long)pos, r->type);
			return found;
		}
		pos += r->len;
	}
	return found;
}

static int consumer_valid(uint64_t c, uint64_t p)
{
	return c <= p && p - c <= info.data_size && c % 8 == 0;
}

/*
 * The files target may have switched the ring channel off; nothing would
 * reach the ring then. Switch it on again.
 */
static void ring_channel_on(void)
{
	char s[32];
	unsigned long mask;

	if (kf_read_file("/sys/kernel/kuif/channels", s, sizeof(s)) <= 0) {
		kf_fail("channels unreadable");
		return;
	}
	mask = strtoul(s, NULL, 0);
	if (mask & KUIF_CH_RING)
		return;
	snprintf(s, sizeof(s), "%#lx", mask | KUIF_CH_RING);
	if (kf_write_file("/sys/kernel/kuif/channels", s, strlen(s)) != 0)
		kf_fail("cannot switch the ring channel on: %s",
			strerror(errno));
}

/* Write a consumer position, emit, and see what the kernel made of it. */
static void ring_consumer(void)
{
	uint64_t p, bad0, c, kseq, p2, last, cmax, c_set;
	int valid, how = (int)kf_below(7);

	ring_channel_on();
	p = __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE);
	bad0 = hdr->bad_consumer;
	switch (how) {
	case 0: c = p; break;					/* drained */
	case 1: c = p + 8 * (1 + kf_below(64)); break;		/* ahead */
	case 2: c = p > info.data_size ? p - info.data_size - 8 : p + 8;
		break;						/* too old */
	case 3: c = p - (p ? 1 + kf_below(7) : 0); break;	/* unaligned */
	case 4: c = kf_number(); break;
	case 5: c = p - kf_below(p < info.data_size ? p + 1 :
				 info.data_size + 1) / 8 * 8; break;
	default: c = cp->consumer; break;			/* unchanged */
	}
	valid = consumer_valid(c, p);
	c_set = c;
	__atomic_store_n(&cp->consumer, c, __ATOMIC_RELEASE);

	kseq = emit_one();
	last = __atomic_load_n(&hdr->last_kseq, __ATOMIC_ACQUIRE);
	p2 = __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE);
	c = __atomic_load_n(&cp->consumer, __ATOMIC_ACQUIRE);
	if (kseq && last < kseq)
		kf_fail("last_kseq %llu after event %llu was offered",
			(unsigned long long)last, (unsigned long long)kseq);
	cmax = __atomic_load_n(&hdr->consumer_max, __ATOMIC_ACQUIRE);
	if (cmax < cmax_seen || cmax > p2 ||
	    (kseq && cmax < (valid ? c_set : p)))
		kf_fail("consumer_max %llu: was %llu, producer %llu, consumer "
			"%s %llu", (unsigned long long)cmax,
			(unsigned long long)cmax_seen, (unsigned long long)p2,
			valid ? "accepted" : "reset from",
			(unsigned long long)c_set);
	cmax_seen = cmax;
	if (valid && hdr->bad_consumer != bad0)
		kf_fail("a valid consumer was counted as bad");
	if (!valid) {
		kf_note_refused();
		if (hdr->bad_consumer == bad0 || !consumer_valid(c, p2))
			kf_fail("corrupt consumer not reset: consumer %llu "
				"producer %llu bad %llu",
				(unsigned long long)c, (unsigned long long)p2,
				(unsigned long long)hdr->bad_consumer);
	}
	if (!consumer_valid(c, p2))
		return;
	/*
	 * From a record boundary (a drained or reset ring) every record is
	 * well-formed and the event is among them. A position chosen inside
	 * the window may fall mid-record: the kernel cannot know, the reader
	 * must; it is only checked for not being counted as bad.
	 */
	if ((how == 0 || !valid) && !walk(c, p2, kseq))
		kf_fail("event %llu not in the ring after %s",
			(unsigned long long)kseq,
			valid ? "draining it" : "the consumer reset");
	if (how != 0 || kf_chance(70))
		__atomic_store_n(&cp->consumer, p2, __ATOMIC_RELEASE);
}

/* A write through p must kill a child with SIGSEGV. */
static void write_faults(volatile uint8_t *p, const char *what)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*p = (uint8_t)(*p + 1);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return;
	if (!WIFSIGNALED(status) ||
	    (WTERMSIG(status) != SIGSEGV && WTERMSIG(status) != SIGBUS))
		kf_fail("a write to %s did not fault (status %#x)", what,
			status);
}

/* Maps of every shape: refused or not as promised. */
static void ring_map(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
	};
	size_t pages = info.mmap_size / KF_PAGE, pgoff, npages;
	int prot = prots[kf_below(4)];
	int shared = kf_chance(60);
	int want = 0, i, writable;
	size_t len;
	off_t off;
	void *p;

	pgoff = kf_chance(50) ? 0 : kf_chance(50) ? 1 : kf_below(pages + 2);
	switch (kf_below(4)) {
	case 0: npages = pages > pgoff ? pages - pgoff : 1; break;
	case 1: npages = 1; break;
	case 2: npages = 2; break;
	default: npages = 1 + kf_below(pages + 2); break;
	}
	off = (off_t)(pgoff * KF_PAGE);
	len = npages * KF_PAGE;
	/* Only the consumer page, alone and shared, may be written. */
	writable = shared && pgoff == 0 && npages == 1;
	if (pgoff >= pages || npages > pages - pgoff)
		want = EINVAL;
	else if ((prot & PROT_WRITE) && !writable)
		want = EACCES;
	p = mmap(NULL, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd, off);
	if (p == MAP_FAILED) {
		kf_note_refused();
		if (errno != want)
			kf_fail("mmap len %zu off %ld prot %d %s: %s, want %s",
				len, (long)off, prot,
				shared ? "shared" : "private", strerror(errno),
				want ? strerror(want) : "success");
		return;
	}
	if (want) {
		kf_fail("mmap len %zu off %ld prot %d %s succeeded, want %s",
			len, (long)off, prot, shared ? "shared" : "private",
			strerror(want));
		munmap(p, len);
		return;
	}
	if (!writable && mprotect(p, len, PROT_READ | PROT_WRITE) == 0)
		kf_fail("a %s map of %zu pages at page %zu became writable",
			shared ? "shared" : "private", npages, pgoff);
	else if (!writable && errno != EACCES)
		kf_fail("mprotect of a read-only ring map: %s, want EACCES",
			strerror(errno));
	if (writable && !(prot & PROT_WRITE) &&
	    mprotect(p, len, PROT_READ | PROT_WRITE) != 0)
		kf_fail("a read-only map of the consumer page cannot become "
			"writable: %s", strerror(errno));
	if (!writable && (prot & PROT_READ) && kf_chance(5))
		write_faults((uint8_t *)p + (npages - 1) * KF_PAGE + 8,
			     "a read-only ring map");
	if (kf_chance(30) && mremap(p, len, len + KF_PAGE, 0) != MAP_FAILED)
		kf_fail("the ring map grew with mremap");
	/* The producer page, wherever this map holds it. */
	if ((prot & PROT_READ) && kf_chance(50) && pgoff <= 1 &&
	    pgoff + npages > 1 &&
	    ((const volatile struct kuif_ring_producer *)
	     ((uint8_t *)p + (1 - pgoff) * KF_PAGE))->magic != KUIF_RING_MAGIC)
		kf_fail("a second map sees another producer page");
	if (kf_chance(20)) {
		/* Gone from this map; never touched again. */
		madvise(p, len, kf_chance(50) ? MADV_DONTNEED : MADV_REMOVE);
	}
	/* Some maps outlive a few operations. */
	i = (int)kf_below(KEPT_MAX);
	if (kept[i])
		munmap(kept[i], kept_len[i]);
	kept[i] = p;
	kept_len[i] = len;
}

static void ring_poll(void)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t c = cp->consumer, p;
	int r;

	p = __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE);
	r = poll(&pfd, 1, 0);
	if (r < 0 && errno != EINTR)
		kf_fail("poll: %s", strerror(errno));
	else if (r >= 0 && consumer_valid(c, p) && c != p && !(pfd.revents & POLLIN))
		kf_fail("ring holds %llu unread bytes but poll says no",
			(unsigned long long)(p - c));
}

static void ring_op(void)
{
	switch (kf_below(6)) {
	case 0:
	case 1:
	case 2:
		ring_consumer();
		break;
	case 3:
	case 4:
		ring_map();
		break;
	default:
		ring_poll();
	}
}

static void ring_fini(void)
{
	for (int i = 0; i < KEPT_MAX; i++) {
		if (kept[i])
			munmap(kept[i], kept_len[i]);
		kept[i] = NULL;
	}
	__atomic_store_n(&cp->consumer,
			 __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	printf("ring: %llu records, %llu dropped, %llu corrupt consumers reset\n",
	       (unsigned long long)hdr->records,
	       (unsigned long long)hdr->dropped,
	       (unsigned long long)hdr->bad_consumer);
	munmap((void *)hdr, ro_size);
	munmap((void *)cp, info.consumer_size);
	close(fd);
}

struct target kf_target_ring = {
	.name = "ring",
	.init = ring_init,
	.op = ring_op,
	.fini = ring_fini,
	.weight = 12,
};
