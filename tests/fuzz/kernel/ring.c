// SPDX-License-Identifier: GPL-2.0
/*
 * The mmap ring of /dev/kuif: maps of every size, offset, protection and
 * sharing; mprotect, mremap and madvise on them; consumer positions beyond
 * the producer, behind the window, misaligned and huge.
 *
 * Must run as the ring's only reader (kuifd with ring = no), so that the
 * header can be checked exactly. Promises checked: a map with a non-zero
 * offset or beyond the ring is EINVAL, a private writable one EACCES, and
 * a private read-only one cannot become writable; a corrupt consumer is
 * counted in bad_consumer and moved to the producer at the next event; a
 * valid one is left alone; every record between consumer and producer is
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
#include <unistd.h>
#include <kuif.h>
#include "kfuzz.h"

#define KEPT_MAX 8

static int fd = -1;
static struct kuif_ring_info info;
static volatile struct kuif_ring_header *hdr;	/* shared, read-write */
static uint8_t *data;
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
	p = mmap(NULL, info.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		kf_fail("mmap of the ring: %s", strerror(errno));
		return -1;
	}
	hdr = p;
	data = (uint8_t *)p + info.data_offset;
	if (hdr->magic != KUIF_RING_MAGIC || hdr->data_size != info.data_size) {
		kf_fail("ring header: magic %#x size %u", hdr->magic,
			hdr->data_size);
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
	uint64_t p, bad0, c, kseq, p2;
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
	default: c = hdr->consumer; break;			/* unchanged */
	}
	valid = consumer_valid(c, p);
	__atomic_store_n(&hdr->consumer, c, __ATOMIC_RELEASE);

	kseq = emit_one();
	p2 = __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE);
	c = __atomic_load_n(&hdr->consumer, __ATOMIC_ACQUIRE);
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
		__atomic_store_n(&hdr->consumer, p2, __ATOMIC_RELEASE);
}

/* Maps of every shape: refused or not as promised. */
static void ring_map(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
	};
	size_t len = kf_chance(50) ? info.mmap_size :
		     (1 + kf_below(info.mmap_size / KF_PAGE + 2)) * KF_PAGE;
	off_t off = kf_chance(80) ? 0 : (off_t)(kf_below(4) * KF_PAGE);
	int prot = prots[kf_below(4)];
	int shared = kf_chance(60);
	int want = 0, i;
	void *p;

	if (off != 0 || len > info.mmap_size)
		want = EINVAL;
	else if (!shared && (prot & PROT_WRITE))
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
	if (!shared && mprotect(p, len, PROT_READ | PROT_WRITE) == 0)
		kf_fail("a private read-only map of the ring became writable");
	if (kf_chance(30) && mremap(p, len, len + KF_PAGE, 0) != MAP_FAILED)
		kf_fail("the ring map grew with mremap");
	if ((prot & PROT_READ) && kf_chance(50) &&
	    ((volatile struct kuif_ring_header *)p)->magic != KUIF_RING_MAGIC)
		kf_fail("a second map sees another header");
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
	uint64_t c = hdr->consumer, p;
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
	__atomic_store_n(&hdr->consumer,
			 __atomic_load_n(&hdr->producer, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	printf("ring: %llu records, %llu dropped, %llu corrupt consumers reset\n",
	       (unsigned long long)hdr->records,
	       (unsigned long long)hdr->dropped,
	       (unsigned long long)hdr->bad_consumer);
	munmap((void *)hdr, info.mmap_size);
	close(fd);
}

struct target kf_target_ring = {
	.name = "ring",
	.init = ring_init,
	.op = ring_op,
	.fini = ring_fini,
	.weight = 12,
};
