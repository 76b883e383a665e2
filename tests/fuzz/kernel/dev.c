// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kuif: write, read, poll and every ioctl, with random sizes, random
 * command numbers and good, unmapped, read-only and kernel pointers.
 *
 * Promises checked: a write of at most KUIF_MSG_MAX bytes from good memory
 * is taken whole and read back; a longer one is refused with EMSGSIZE and
 * a bad buffer with EFAULT, and neither changes the message; a command the
 * driver does not know (any other number with its magic, or a known
 * number with another size or direction) is ENOTTY; a known command with a
 * bad pointer is EFAULT; EMIT refuses a bad name, length or reserved
 * field with EINVAL and otherwise returns a new kseq.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <kuif.h>
#include "kfuzz.h"

static int fd = -1;
static uint8_t buf[KF_MAX_LEN];
static uint8_t msg[KUIF_MSG_MAX];
static size_t msg_len;
static int msg_known;
static uint64_t last_kseq;

static int dev_init(void)
{
	fd = open("/dev/kuif", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		kf_fail("/dev/kuif: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void check_message(const char *after)
{
	char got[KUIF_MSG_MAX + 16];
	ssize_t n;

	if (!msg_known)
		return;
	n = pread(fd, got, sizeof(got), 0);
	if (n != (ssize_t)msg_len || memcmp(got, msg, msg_len))
		kf_fail("/dev/kuif: after %s the message is %zd bytes, "
			"not the %zu expected", after, n, msg_len);
}

static void dev_write(void)
{
	size_t len = kf_len(KF_MAX_LEN);
	int bad = kf_chance(15);
	const void *src = bad ? kf_bad_ptr() : buf;
	ssize_t n;

	kf_fill(buf, len);
	n = write(fd, src, len);
	if (n < 0)
		kf_note_refused();
	if (len > KUIF_MSG_MAX) {
		/* A buffer outside user space is refused by the VFS first. */
		if (n >= 0 || (errno != EMSGSIZE && !(bad && errno == EFAULT)))
			kf_fail("write of %zu bytes: %zd (%s), want EMSGSIZE",
				len, n, strerror(errno));
	} else if (bad && src != kf_ro_page() && len > 0) {
		if (n >= 0 || errno != EFAULT)
			kf_fail("write of %zu from %p: %zd (%s), want EFAULT",
				len, src, n, strerror(errno));
	} else if (bad && src != kf_ro_page()) {
		/* Nothing to copy: the VFS may refuse the pointer, or the
		 * driver stores an empty message. */
		if (n == 0) {
			msg_len = 0;
			msg_known = 1;
		} else if (errno != EFAULT) {
			kf_fail("empty write from %p: %zd (%s)", src, n,
				strerror(errno));
		}
	} else if (n != (ssize_t)len) {
		kf_fail("write of %zu bytes: %zd (%s)", len, n,
			strerror(errno));
	} else if (len > 0) {
		memcpy(msg, src, len);
		msg_len = len;
		msg_known = 1;
	} else {
		msg_len = len;
		msg_known = 1;
	}
	check_message("a write");
}

static void dev_read(void)
{
	size_t len = kf_len(KF_MAX_LEN);
	void *dst = kf_chance(15) ? kf_bad_ptr() : buf;
	ssize_t n;

	n = pread(fd, dst, len, (off_t)(kf_chance(70) ? 0 : kf_len(512)));
	if (n < 0) {
		kf_note_refused();
		if (errno != EFAULT && errno != EINVAL)
			kf_fail("read: %s", strerror(errno));
	} else if ((size_t)n > len || n > KUIF_MSG_MAX) {
		kf_fail("read of %zu returned %zd", len, n);
	}
}

static void dev_poll(void)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };

	if (poll(&p, 1, (int)kf_below(3)) < 0 && errno != EINTR)
		kf_fail("poll: %s", strerror(errno));
}

/* A known command: good memory, bad memory, or garbage contents. */
static void dev_known_ioctl(void)
{
	static const unsigned long cmds[] = {
		KUIF_IOC_SET_MSG, KUIF_IOC_GET_MSG, KUIF_IOC_EMIT,
		KUIF_IOC_RING_INFO,
	};
	unsigned long cmd = cmds[kf_below(4)];
	struct kuif_emit e;
	int bad = kf_chance(20), r, valid_emit;
	void *arg;

	kf_fill((uint8_t *)&e, sizeof(e));
	if (kf_chance(60)) {		/* mostly well-formed requests */
		snprintf(e.event, sizeof(e.event), "kfuzz.%u",
			 (unsigned int)kf_below(100));
		e.len = (uint32_t)kf_below(sizeof(e.payload) + 1);
		e.reserved = 0;
	} else if (kf_chance(50)) {
		e.len = (uint32_t)kf_number();
	}
	valid_emit = e.reserved == 0 && e.len <= sizeof(e.payload) &&
		     memchr(e.event, '\0', sizeof(e.event)) != NULL;
	arg = bad ? kf_bad_ptr() : &e;
	if (bad && arg == kf_ro_page() && cmd == KUIF_IOC_SET_MSG)
		arg = NULL;	/* 'r' * 200 would be a valid message */
	if (cmd == KUIF_IOC_SET_MSG && !bad) {
		memcpy(msg, &e, KUIF_MSG_MAX);
		msg_len = strnlen((char *)msg, KUIF_MSG_MAX);
	}
	r = ioctl(fd, cmd, arg);
	if (r < 0)
		kf_note_refused();
	if (bad && arg != kf_ro_page()) {
		if (r == 0 || errno != EFAULT)
			kf_fail("ioctl %#lx with %p: %d (%s), want EFAULT", cmd,
				arg, r, strerror(errno));
		return;
	}
	if (bad)	/* read-only memory: readable, so only writes fail */
		return;
	switch (cmd) {
	case KUIF_IOC_EMIT:
		if (valid_emit && r == 0) {
			if (e.kseq <= last_kseq)
				kf_fail("EMIT kseq %llu after %llu",
					(unsigned long long)e.kseq,
					(unsigned long long)last_kseq);
			last_kseq = e.kseq;
		} else if (valid_emit) {
			if (errno != EINVAL)	/* an invalid name */
				kf_fail("EMIT of a good request: %s",
					strerror(errno));
		} else if (r == 0 || errno != EINVAL) {
			kf_fail("EMIT len %u reserved %u: %d (%s), want EINVAL",
				e.len, e.reserved, r, strerror(errno));
		}
		break;
	case KUIF_IOC_SET_MSG:
		if (r != 0)
			kf_fail("SET_MSG: %s", strerror(errno));
		else
			msg_known = 1;
		check_message("SET_MSG");
		break;
	default:
		if (r != 0)
			kf_fail("ioctl %#lx: %s", cmd, strerror(errno));
	}
}

/*
 * Random command numbers: with kuif's magic any that is not one of the
 * four must be ENOTTY. Other magics go to the VFS first, which handles a
 * few generic ones itself; those in 'X' (freeze and thaw of the file
 * system) are left out.
 */
static void dev_random_ioctl(void)
{
	unsigned long cmd = (unsigned long)(uint32_t)kf_rand();
	void *arg = kf_chance(50) ? (void *)buf : kf_bad_ptr();
	int r;

	if (kf_chance(70))
		cmd = (cmd & ~0xff00UL) | (KUIF_IOC_MAGIC << 8);
	if (kf_chance(30))	/* a known number, another size or direction */
		cmd = (cmd & ~0xffUL) | (1 + kf_below(4));
	if (((cmd >> 8) & 0xff) == 'X')
		return;
	if (cmd == KUIF_IOC_SET_MSG || cmd == KUIF_IOC_GET_MSG ||
	    cmd == KUIF_IOC_EMIT || cmd == KUIF_IOC_RING_INFO)
		return;
	r = ioctl(fd, cmd, arg);
	if (r < 0)
		kf_note_refused();
	if (((cmd >> 8) & 0xff) == KUIF_IOC_MAGIC && (r == 0 || errno != ENOTTY))
		kf_fail("ioctl %#lx: %d (%s), want ENOTTY", cmd, r,
			strerror(errno));
}

static void dev_op(void)
{
	switch (kf_below(10)) {
	case 0:
	case 1:
		dev_write();
		break;
	case 2:
		dev_read();
		break;
	case 3:
		dev_poll();
		break;
	case 4:
	case 5:
	case 6:
		dev_known_ioctl();
		break;
	default:
		dev_random_ioctl();
	}
}

static void dev_fini(void)
{
	close(fd);
	fd = -1;
}

struct target kf_target_dev = {
	.name = "dev",
	.init = dev_init,
	.op = dev_op,
	.fini = dev_fini,
	.weight = 20,
};
