// SPDX-License-Identifier: GPL-2.0
/*
 * The files: procfs, sysfs and the bus, debugfs, sysctl and the module's
 * writable parameters. Reads at random offsets and sizes into good and bad
 * buffers; writes of 0..PAGE_SIZE+1 bytes of numbers, text and binary,
 * unterminated or not, from good and bad buffers, sometimes twice on one
 * open file (a write at a non-zero position).
 *
 * Promises checked: a file whose content only a write changes reads the
 * same after a refused write; after any write its content is still in
 * the documented range; a write to a read-only file is refused. At the
 * end every changed file gets its first content back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kfuzz.h"

enum kind {
	K_RO,		/* read-only: writes refused */
	K_INT,		/* an integer in [lo, hi] */
	K_MASK,		/* "0x%x", at most hi */
	K_PID,		/* a pid number >= 0; written only with safe pids */
	K_PIDW,		/* write-only pid file */
	K_TEXT,		/* at most hi bytes before the newline */
	K_PATH,		/* absolute path, no space, < hi */
	K_GLOBS,	/* [a-z0-9._-*?[],] at most hi */
};

struct kfile {
	const char *path;
	enum kind kind;
	long long lo, hi;
	int stable;		/* only a successful write changes it */
	char saved[512];	/* content at start, for the restore */
	int saved_len;
	unsigned long reads, writes, refused;
};

#define F(p, k, l, h, s) { .path = p, .kind = k, .lo = l, .hi = h, .stable = s }
static struct kfile files[] = {
	F("/proc/kuif/status",
	  K_RO, 0, 0, 0),
	F("/proc/kuif/events",
	  K_RO, 0, 0, 0),
	F("/sys/kernel/kuif/value",
	  K_INT, INT32_MIN, INT32_MAX, 1),
	F("/sys/kernel/kuif/event_count",
	  K_RO, 0, 0, 0),
	F("/sys/kernel/kuif/signal_pid",
	  K_PID, 0, INT32_MAX, 0),
	F("/sys/kernel/kuif/channels",
	  K_MASK, 0, 0xf, 1),
	F("/sys/bus/kuif/description",
	  K_TEXT, 1, 63, 1),
	F("/proc/sys/kuif/value1",
	  K_INT, 10, 20, 1),
	F("/proc/sys/kuif/value2",
	  K_INT, 10, 20, 1),
	F("/sys/kernel/debug/kuif/level",
	  K_INT, 0, 255, 1),
	F("/sys/kernel/debug/kuif/trigger",
	  K_TEXT, 0, 256, 1),
	F("/sys/kernel/debug/kuif/stats",
	  K_RO, 0, 0, 0),
	F("/sys/kernel/debug/kuif/signalconfpid",
	  K_PIDW, 0, 0, 0),
	F("/sys/module/kuif/parameters/ring_pages",
	  K_RO, 0, 0, 1),
	F("/sys/module/kuif/parameters/udp_port",
	  K_RO, 0, 0, 1),
	F("/sys/module/kuif/parameters/upcall_helper",
	  K_PATH, 1, 255, 1),
	F("/sys/module/kuif/parameters/upcall_events",
	  K_GLOBS, 0, 255, 1),
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static uint8_t wbuf[KF_MAX_LEN + 64];
static char rbuf[2 * KF_PAGE];

int kf_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

int kf_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int parse_ll(const char *s, int base, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, base);
	return errno == 0 && end != s && (*end == '\n' || *end == '\0') ?
		0 : -1;
}

/* Is this content what the file promises? NULL if so, else why not. */
static const char *content_ok(const struct kfile *f, const char *s, int n)
{
	size_t len = strcspn(s, "\n");
	long long v;

	if (n < 0)
		return "unreadable";
	switch (f->kind) {
	case K_INT:
	case K_PID:
		if (parse_ll(s, 10, &v) || v < f->lo || v > f->hi)
			return "not an integer in range";
		return NULL;
	case K_MASK:
		if (strncmp(s, "0x", 2) || parse_ll(s, 16, &v) || v < 0 ||
		    v > f->hi)
			return "not a mask in range";
		return NULL;
	case K_TEXT:
		return len <= (size_t)f->hi ? NULL : "too long";
	case K_PATH:
		if (len == 0 || len > (size_t)f->hi || s[0] != '/' ||
		    memchr(s, ' ', len))
			return "not an absolute path without spaces";
		return NULL;
	case K_GLOBS:
		if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-*?[],") !=
		    len)
			return "a character outside the glob set";
		return NULL;
	default:
		return NULL;
	}
}

static int files_init(void)
{
	for (size_t i = 0; i < NFILES; i++) {
		struct kfile *f = &files[i];

		if (access(f->path, F_OK) != 0) {
			kf_fail("%s: missing", f->path);
			return -1;
		}
		if (f->kind == K_PIDW)
			continue;
		f->saved_len = kf_read_file(f->path, f->saved, sizeof(f->saved));
		if (f->saved_len < 0) {
			kf_fail("%s: unreadable: %s", f->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Reads at random positions and sizes, into good and bad memory. */
static void fuzz_read(struct kfile *f)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	size_t len = kf_len(sizeof(rbuf));
	off_t off = kf_chance(60) ? 0 : (off_t)kf_len(2 * KF_PAGE);
	void *dst = rbuf;
	ssize_t n;

	if (fd < 0) {
		kf_fail("%s: open for reading: %s", f->path, strerror(errno));
		return;
	}
	if (kf_chance(10))
		dst = kf_bad_ptr();
	else if (kf_chance(5))
		dst = kf_straddle(len);
	n = pread(fd, dst, len, off);
	if (n < 0) {
		f->refused++;
		kf_note_refused();
	} else if ((size_t)n > len) {
		kf_fail("%s: read %zd bytes for %zu", f->path, n, len);
	}
	/* Several reads in a row walk a seq_file through its records. */
	while (kf_chance(30) && read(fd, rbuf, kf_len(sizeof(rbuf))) > 0)
		;
	f->reads++;
	close(fd);
}

/*
 * Bytes to write to this file. A pid file only ever gets a number from the
 * safe set (anything else has its digits replaced), and a path parameter
 * only a path that cannot exist: both are made so here, not left to chance.
 */
static size_t fill_for(const struct kfile *f, uint8_t *buf)
{
	size_t len;
	int n;

	if ((f->kind == K_PID || f->kind == K_PIDW) && kf_chance(70)) {
		n = snprintf((char *)buf, 32, kf_chance(50) ? "%d\n" : "%d",
			     kf_safe_pid());
		return n > 0 ? (size_t)n : 0;
	}
	if (f->kind == K_PATH && kf_chance(50)) {
		n = snprintf((char *)buf, 300, "/nonexistent/kfuzz-%llx%s",
			     (unsigned long long)kf_rand(),
			     kf_chance(50) ? "\n" : "");
		return n > 0 ? (size_t)n : 0;
	}
	len = kf_fill(buf, KF_MAX_LEN);
	for (size_t i = 0; i < len; i++) {
		if ((f->kind == K_PID || f->kind == K_PIDW) &&
		    buf[i] >= '0' && buf[i] <= '9')
			buf[i] = 'x';
	}
	if (f->kind == K_PATH && len > 0 && buf[0] == '/')
		buf[0] = 'x';
	return len;
}

static void fuzz_write(struct kfile *f)
{
	char before[512], after[512];
	int nb = -1, na, fd, wrote_all, took_any;
	const char *why;
	const void *src = wbuf;
	size_t len;
	ssize_t n;

	len = fill_for(f, wbuf);
	if (f->stable)
		nb = kf_read_file(f->path, before, sizeof(before));
	if (kf_chance(8))
		src = kf_bad_ptr();	/* the read-only page holds 'r's */
	fd = open(f->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		f->refused++;
		kf_note_refused();
		if (f->kind != K_RO)
			kf_fail("%s: open for writing: %s", f->path,
				strerror(errno));
		return;
	}
	n = write(fd, src, len);
	wrote_all = n == (ssize_t)len;
	took_any = n >= 0;
	if (n >= 0 && kf_chance(10)) {
		/* A second write at the position the first left. */
		size_t len2 = fill_for(f, wbuf);

		n = write(fd, wbuf, len2);
		wrote_all = wrote_all && n == (ssize_t)len2;
		took_any = took_any || n >= 0;
	}
	close(fd);
	f->writes++;
	if (n < 0 || !wrote_all) {
		f->refused++;
		kf_note_refused();
	}
	if (f->kind == K_RO) {
		if (n >= 0 && len > 0)
			kf_fail("%s: a read-only file took a %zu-byte write",
				f->path, len);
		return;
	}
	if (f->kind == K_PIDW)
		return;
	na = kf_read_file(f->path, after, sizeof(after));
	why = content_ok(f, after, na);
	if (why) {
		kf_fail("%s: after writing %zu bytes: %s: '%.60s'", f->path,
			len, why, na >= 0 ? after : "");
		return;
	}
	if (f->stable && !took_any && nb >= 0 && (na != nb || memcmp(before, after,
	    (size_t)na))) {
		kf_fail("%s: refused write (%s) changed '%.40s' to '%.40s'",
			f->path, strerror(errno), before, after);
	}
}

static void files_op(void)
{
	struct kfile *f = &files[kf_below(NFILES)];

	if (f->kind == K_PIDW || kf_chance(55))
		fuzz_write(f);
	else
		fuzz_read(f);
}

static void files_fini(void)
{
	char now[512];
	int n;

	for (size_t i = 0; i < NFILES; i++) {
		struct kfile *f = &files[i];

		if (f->kind == K_RO || f->kind == K_PIDW || f->saved_len < 0)
			continue;
		if (f->kind == K_PID) {
			/* The receiver at the start (kuifd), if it lives. */
			if (kf_write_file(f->path, f->saved,
					  (size_t)f->saved_len) != 0)
				kf_write_file(f->path, "0", 1);
			continue;
		}
		if (f->saved_len > 0 || f->kind != K_TEXT)
			kf_write_file(f->path, f->saved, (size_t)f->saved_len);
		else
			kf_write_file(f->path, "\n", 1);
		n = kf_read_file(f->path, now, sizeof(now));
		if (f->stable && (n != f->saved_len ||
		    memcmp(now, f->saved, (size_t)n)))
			kf_fail("%s: not restored: '%.40s' instead of '%.40s'",
				f->path, n >= 0 ? now : "", f->saved);
	}
	printf("%-45s %8s %8s %8s\n", "file", "reads", "writes", "refused");
	for (size_t i = 0; i < NFILES; i++)
		printf("%-45s %8lu %8lu %8lu\n", files[i].path, files[i].reads,
		       files[i].writes, files[i].refused);
}

struct target kf_target_files = {
	.name = "files",
	.init = files_init,
	.op = files_op,
	.fini = files_fini,
	.weight = 40,
};
