// SPDX-License-Identifier: GPL-2.0
/*
 * Source: file changes under kuif's directories in sysfs, debugfs and
 * configfs. inotify reports what user space does there (an attribute
 * written, a generator created or removed).
 *
 * These are observations of files, not kernel events: they have no kseq,
 * carry the time they were read, and are published as "file.modified",
 * "file.created" and "file.deleted", the path and the value read back in
 * the payload (path, NUL, value), which event.c writes as separate JSON
 * fields.
 *
 * /sys/kernel/kuif/event_count is left out: the module sysfs_notify()s it
 * after every event (for readers that poll it), so it would add a record,
 * and a pread and an encoding, to every kernel event, and say nothing the
 * event itself does not.
 *
 * A write through a shell (`echo 5 > value`) opens the file with O_TRUNC,
 * which is reported as a modification before the new value is there. So
 * the last value of each file is remembered, and a modification is
 * published only when the value read back differs from it.
 */
#include <sys/inotify.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kuifd.h"

#define INOTIFY_MAX_WATCHES	80
#define INOTIFY_MAX_FILES	256
#define INOTIFY_VALUE_MAX	KUIF_PAYLOAD_MAX

static const char *const inotify_dirs[] = {
	"/sys/kernel/kuif",
	"/sys/kernel/debug/kuif",
	"/sys/kernel/config/kuif/generators",
};

/* Files whose changes are not news: a counter every event moves. */
static const char *const inotify_ignored[] = {
	"/sys/kernel/kuif/event_count",
};

struct inotify_watch {
	int	 wd;
	char	*path;
};

struct inotify_file {
	char	*path;
	char	 value[INOTIFY_VALUE_MAX];
};

struct src_inotify {
	struct bus		*bus;
	int			 fd;
	struct event		*ev_inotify;
	struct inotify_watch	 watches[INOTIFY_MAX_WATCHES];
	size_t			 nwatches;
	struct inotify_file	 files[INOTIFY_MAX_FILES];
	size_t			 nfiles;
	uint64_t		 received;
	uint64_t		 overflows;
};

static bool
src_inotify_ignored(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(inotify_ignored) / sizeof(inotify_ignored[0]);
	    i++)
		if (strcmp(path, inotify_ignored[i]) == 0)
			return true;
	return false;
}

static int
read_value(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return 0;
}

/* Remembers path's value; true when it differs from what was known. */
static bool
src_inotify_changed(struct src_inotify *src, const char *path,
    const char *value)
{
	struct inotify_file *f = NULL;
	size_t i;

	for (i = 0; i < src->nfiles; i++) {
		if (strcmp(src->files[i].path, path) == 0) {
			f = &src->files[i];
			break;
		}
	}
	if (f == NULL) {
		if (src->nfiles == INOTIFY_MAX_FILES)
			return true;	/* cannot tell: say it changed */
		f = &src->files[src->nfiles++];
		f->path = xstrdup(path);
		snprintf(f->value, sizeof(f->value), "%s", value);
		return true;
	}
	if (strcmp(f->value, value) == 0)
		return false;
	snprintf(f->value, sizeof(f->value), "%s", value);
	return true;
}

static void
src_inotify_forget_files(struct src_inotify *src)
{
	while (src->nfiles > 0)
		free(src->files[--src->nfiles].path);
}

static int
read_path(const char *path, char *value, size_t size)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = read_value(fd, value, size);
	close(fd);
	return rc;
}

/* What the files of a watched directory hold now. */
static void
src_inotify_learn(struct src_inotify *src, const char *dir)
{
	char path[PATH_MAX], value[INOTIFY_VALUE_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG || snprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    src_inotify_ignored(path))
			continue;
		if (read_path(path, value, sizeof(value)) == 0)
			src_inotify_changed(src, path, value);
	}
	closedir(d);
}

static void
src_inotify_publish(struct src_inotify *src, const char *name,
    const char *path, const char *value)
{
	struct event ev;
	struct timespec ts;
	size_t plen = strlen(path), vlen;

	memset(&ev, 0, sizeof(ev));
	strcpy(ev.source, "inotify");
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
	    (uint64_t)ts.tv_nsec;
	/* path, NUL, value: the value is cut short, never the path. */
	if (plen >= sizeof(ev.payload))
		plen = sizeof(ev.payload) - 1;
	memcpy(ev.payload, path, plen);
	ev.len = plen;
	if (value != NULL && plen + 1 < sizeof(ev.payload)) {
		vlen = strlen(value);
		if (vlen > sizeof(ev.payload) - plen - 1)
			vlen = sizeof(ev.payload) - plen - 1;
		ev.payload[plen] = '\0';
		memcpy(ev.payload + plen + 1, value, vlen);
		ev.len = plen + 1 + vlen;
	}
	src->received++;
	bus_publish_file(src->bus, &ev);
}

static void
src_inotify_add(struct src_inotify *src, const char *path, uint32_t mask)
{
	int wd;

	if (src->nwatches == INOTIFY_MAX_WATCHES)
		return;
	wd = inotify_add_watch(src->fd, path, mask);
	if (wd == -1 && errno == EACCES)
		/* debugfs is root's alone; kuifd normally runs unprivileged.
		 * What is written there still comes as a kernel event. */
		log_info("inotify: %s not watched: permission denied", path);
	if (wd == -1) {
		log_debug("inotify: %s: %s", path, strerror(errno));
		return;
	}
	src_inotify_learn(src, path);
	src->watches[src->nwatches].wd = wd;
	src->watches[src->nwatches].path = xstrdup(path);
	src->nwatches++;
}

static struct inotify_watch *
src_inotify_find(struct src_inotify *src, int wd)
{
	size_t i;

	for (i = 0; i < src->nwatches; i++) {
		if (src->watches[i].wd == wd)
			return &src->watches[i];
	}
	return NULL;
}

static void
src_inotify_forget(struct src_inotify *src, struct inotify_watch *w)
{
	free(w->path);
	*w = src->watches[--src->nwatches];
}

static void
src_inotify_on(struct src_inotify *src, const struct inotify_event *ie)
{
	struct inotify_watch *w = src_inotify_find(src, ie->wd);
	char path[PATH_MAX], value[INOTIFY_VALUE_MAX];

	if (ie->mask & IN_Q_OVERFLOW) {
		src->overflows++;
		log_warnx("inotify: queue overflow, file changes lost");
		bus_publish_loss(src->bus, 0, "inotify_overflow");
		return;
	}
	if (w == NULL)
		return;
	if (ie->mask & IN_IGNORED) {
		src_inotify_forget(src, w);
		return;
	}
	if (ie->len == 0 || snprintf(path, sizeof(path), "%s/%s", w->path,
	    ie->name) >= (int)sizeof(path))
		return;
	if (ie->mask & IN_CREATE) {
		src_inotify_publish(src, "file.created", path, NULL);
		if (ie->mask & IN_ISDIR)
			src_inotify_add(src, path, IN_MODIFY);
	} else if (ie->mask & IN_DELETE) {
		src_inotify_publish(src, "file.deleted", path, NULL);
	} else if (ie->mask & IN_MODIFY) {
		if (src_inotify_ignored(path))
			return;
		if (read_path(path, value, sizeof(value)) == -1)
			value[0] = '\0';
		if (src_inotify_changed(src, path, value))
			src_inotify_publish(src, "file.modified", path, value);
	}
}

static void
src_inotify_read(evutil_socket_t fd, short what, void *arg)
{
	struct src_inotify *src = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t n;
	char *p;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
		ie = (const struct inotify_event *)p;
		src_inotify_on(src, ie);
	}
}

/* (Re)adds the watches: at start and when the module comes back. */
void
src_inotify_attach(struct src_inotify *src)
{
	size_t i;

	while (src->nwatches > 0) {
		inotify_rm_watch(src->fd, src->watches[0].wd);
		src_inotify_forget(src, &src->watches[0]);
	}
	src_inotify_forget_files(src);
	for (i = 0; i < sizeof(inotify_dirs) / sizeof(inotify_dirs[0]); i++)
		src_inotify_add(src, inotify_dirs[i],
		    IN_MODIFY | IN_CREATE | IN_DELETE);
	log_lifecycle("source_up", "source inotify attached: %zu directories "
	    "watched", src->nwatches);
}

size_t
src_inotify_watches(const struct src_inotify *src)
{
	return src->nwatches;
}

uint64_t
src_inotify_received(const struct src_inotify *src)
{
	return src->received;
}

struct src_inotify *
src_inotify_create(struct event_base *base, struct bus *bus)
{
	struct src_inotify *src = xcalloc(1, sizeof(*src));

	src->bus = bus;
	src->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (src->fd == -1)
		fatal("inotify");
	src->ev_inotify = event_new(base, src->fd, EV_READ | EV_PERSIST,
	    src_inotify_read, src);
	if (src->ev_inotify == NULL ||
	    event_add(src->ev_inotify, NULL) == -1)
		fatalx("inotify: cannot add events");
	return src;
}

void
src_inotify_free(struct src_inotify *src)
{
	if (src == NULL)
		return;
	while (src->nwatches > 0)
		src_inotify_forget(src, &src->watches[0]);
	src_inotify_forget_files(src);
	event_free(src->ev_inotify);
	close(src->fd);
	free(src);
}
