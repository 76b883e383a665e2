// SPDX-License-Identifier: GPL-2.0
/*
 * configfs generators: mkdir/rmdir storms with valid and invalid names up
 * to the cap, random writes to every attribute of running and stopped
 * generators, and attribute files held open across the rmdir of their
 * directory.
 *
 * Promises checked: mkdir of a valid new name succeeds below the cap of
 * 64, fails with ENOSPC at it and EEXIST for a name in use; an invalid
 * name is EINVAL; rmdir of one succeeds; a refused attribute write leaves
 * the attribute unchanged and every attribute stays in its range; count
 * never goes down; a file opened before the rmdir fails afterwards rather
 * than reaching a freed generator. All generators are removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kfuzz.h"

#define GENS		"/sys/kernel/config/kuif/generators"
#define GEN_MAX		64
#define NAME_MAX_LEN	21
#define POOL		80	/* names in play: more than the cap */

struct gen {
	char name[48];
	int exists;
	unsigned long long count;
};

static struct gen pool[POOL];
static int existing;
static int held_fd = -1;	/* an attribute file kept across rmdir */
static int held_dead;		/* its directory is gone */
static unsigned long mkdirs, rmdirs, storms;
static uint8_t buf[KF_MAX_LEN];

static const char *const attrs[] = {
	"interval_ms", "event", "payload", "enable", "count",
};

static int name_valid(const char *n)
{
	size_t len = strlen(n);

	return len >= 1 && len <= NAME_MAX_LEN && strcmp(n, ".") &&
	       strcmp(n, "..") &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

static void random_name(char *n, size_t size)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
	static const char odd[] = "ABZ \t\n!@#$%^&*()+=~`'\"\\:;,<>?|{}[]\x7f\x80\xff";
	size_t len = kf_chance(85) ? 1 + kf_below(NAME_MAX_LEN) :
				     1 + kf_below(size - 1);

	for (size_t i = 0; i < len; i++)
		n[i] = kf_chance(97) ? ok[kf_below(sizeof(ok) - 1)] :
				       odd[kf_below(sizeof(odd) - 1)];
	n[len] = '\0';
}

static int configfs_init(void)
{
	struct dirent *d;
	DIR *dir = opendir(GENS);

	if (dir == NULL) {
		kf_fail(GENS ": %s", strerror(errno));
		return -1;
	}
	/* Generators made by others count against the cap too. */
	while ((d = readdir(dir)) != NULL)
		existing += d->d_name[0] != '.';
	closedir(dir);
	for (int i = 0; i < POOL; i++) {
		snprintf(pool[i].name, sizeof(pool[i].name), "kf%d-%llx", i,
			 (unsigned long long)kf_below(1 << 20));
	}
	return 0;
}

static void do_mkdir(struct gen *g)
{
	char path[128];
	int r, want;

	snprintf(path, sizeof(path), GENS "/%s", g->name);
	want = g->exists ? EEXIST : existing >= GEN_MAX ? ENOSPC : 0;
	r = mkdir(path, 0755);
	mkdirs++;
	if (r == 0) {
		if (want)
			kf_fail("mkdir %s succeeded with %d existing (want %s)",
				g->name, existing, strerror(want));
		g->exists = 1;
		g->count = 0;
		existing++;
	} else {
		kf_note_refused();
		if (errno != want)
			kf_fail("mkdir %s with %d existing: %s (want %s)",
				g->name, existing, strerror(errno),
				want ? strerror(want) : "success");
	}
}

static void do_rmdir(struct gen *g)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), GENS "/%s", g->name);
	r = rmdir(path);
	rmdirs++;
	if (r == 0) {
		if (!g->exists)
			kf_fail("rmdir of %s that did not exist", g->name);
		g->exists = 0;
		existing--;
	} else {
		kf_note_refused();
		if (g->exists || errno != ENOENT)
			kf_fail("rmdir %s: %s", g->name, strerror(errno));
	}
}

static void odd_mkdir(void)
{
	char name[64], path[128];

	random_name(name, sizeof(name));
	if (name_valid(name))
		return;		/* only the invalid ones here */
	snprintf(path, sizeof(path), GENS "/%s", name);
	if (mkdir(path, 0755) == 0) {
		kf_fail("mkdir of the invalid name '%s' succeeded", name);
		rmdir(path);
		return;
	}
	kf_note_refused();
	if (errno != EINVAL && errno != EEXIST)
		kf_fail("mkdir '%s': %s (want EINVAL)", name, strerror(errno));
}

static const char *attr_ok(const char *attr, const char *s, int n)
{
	size_t len = strcspn(s, "\n");
	long v;

	if (n < 0)
		return "unreadable";
	if (!strcmp(attr, "interval_ms")) {
		v = strtol(s, NULL, 10);
		return v >= 10 && v <= 60000 ? NULL : "interval out of range";
	}
	if (!strcmp(attr, "enable"))
		return !strcmp(s, "0\n") || !strcmp(s, "1\n") ? NULL :
			"enable neither 0 nor 1";
	if (!strcmp(attr, "event"))
		return len >= 1 && len <= 31 && s[0] >= 'a' && s[0] <= 'z' &&
		       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") ==
		       len ? NULL : "not an event name";
	if (!strcmp(attr, "payload"))
		return n <= 257 ? NULL : "payload too long";
	return NULL;
}

static void attr_write(struct gen *g)
{
	const char *attr = attrs[kf_below(5)];
	char path[160], before[600], after[600];
	int nb, na, fd;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), GENS "/%s/%s", g->name, attr);
	if (!strcmp(attr, "enable") && kf_chance(60)) {
		len = 1;
		buf[0] = kf_chance(70) ? '1' : '0';	/* mostly running */
	} else if (!strcmp(attr, "interval_ms") && kf_chance(50)) {
		len = (size_t)snprintf((char *)buf, 16, "%u",
				       10 + (unsigned int)kf_below(2000));
	} else {
		len = kf_fill(buf, KF_MAX_LEN);
	}
	nb = kf_read_file(path, before, sizeof(before));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		kf_note_refused();
		if (strcmp(attr, "count"))
			kf_fail("%s: open: %s", path, strerror(errno));
		return;
	}
	n = write(fd, kf_chance(5) ? kf_bad_ptr() : buf, len);
	close(fd);
	if (n < 0)
		kf_note_refused();
	if (!strcmp(attr, "count")) {
		if (n >= 0 && len > 0)
			kf_fail("%s took a write", path);
		return;
	}
	na = kf_read_file(path, after, sizeof(after));
	if (attr_ok(attr, after, na))
		kf_fail("%s: %s: '%.40s'", path, attr_ok(attr, after, na),
			after);
	else if (n < 0 && (na != nb || memcmp(before, after, (size_t)na)))
		kf_fail("%s: refused write (%s) changed '%.30s' to '%.30s'",
			path, strerror(errno), before, after);
}

static void count_read(struct gen *g)
{
	char path[160], s[64];
	unsigned long long c;

	snprintf(path, sizeof(path), GENS "/%s/count", g->name);
	if (kf_read_file(path, s, sizeof(s)) < 0) {
		kf_fail("%s: %s", path, strerror(errno));
		return;
	}
	c = strtoull(s, NULL, 10);
	if (c < g->count)
		kf_fail("%s went down from %llu to %llu", path, g->count, c);
	g->count = c;
}

/* Open an attribute, remove the directory, then use the open file. */
static void held_across_rmdir(struct gen *g)
{
	char path[160];

	if (held_fd >= 0) {
		ssize_t n = write(held_fd, "1", 1);

		if (held_dead && n >= 0)
			kf_fail("a write to a removed generator succeeded");
		n = read(held_fd, buf, 64);
		(void)n;
		close(held_fd);
		held_fd = -1;
		return;
	}
	snprintf(path, sizeof(path), GENS "/%s/%s", g->name,
		 attrs[kf_below(4)]);
	held_fd = open(path, O_RDWR | O_CLOEXEC);
	held_dead = 0;
	if (held_fd >= 0 && kf_chance(70)) {
		do_rmdir(g);
		held_dead = !g->exists;
	}
}

/* The same name made and removed many times in a row. */
static void storm(struct gen *g)
{
	int cycles = 1 + (int)kf_below(30);

	storms++;
	for (int i = 0; i < cycles; i++) {
		if (g->exists)
			do_rmdir(g);
		do_mkdir(g);
		if (g->exists && kf_chance(50))
			attr_write(g);
	}
}

static void configfs_op(void)
{
	struct gen *g = &pool[kf_below(POOL)];

	switch (kf_below(12)) {
	case 0: case 1: case 2:
		do_mkdir(g);
		break;
	case 3: case 4:
		do_rmdir(g);
		break;
	case 5:
		odd_mkdir();
		break;
	case 6:
		storm(g);
		break;
	case 7:
		if (g->exists)
			held_across_rmdir(g);
		break;
	case 8:
		if (g->exists)
			count_read(g);
		break;
	default:
		if (g->exists)
			attr_write(g);
	}
}

static void configfs_fini(void)
{
	if (held_fd >= 0)
		close(held_fd);
	for (int i = 0; i < POOL; i++) {
		if (pool[i].exists)
			do_rmdir(&pool[i]);
	}
	for (int i = 0; i < POOL; i++) {
		if (pool[i].exists)
			kf_fail("generator %s could not be removed",
				pool[i].name);
	}
	printf("configfs: %lu mkdir, %lu rmdir, %lu storms\n", mkdirs, rmdirs,
	       storms);
}

struct target kf_target_configfs = {
	.name = "configfs",
	.init = configfs_init,
	.op = configfs_op,
	.fini = configfs_fini,
	.weight = 15,
};
