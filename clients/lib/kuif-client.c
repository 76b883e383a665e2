// SPDX-License-Identifier: LGPL-2.1-or-later
/* libkuif: see kuif-client.h. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kuif-client.h"

#define KUIF_LINE_MAX	(1024 * 1024)
#define KUIF_QUEUE_MAX	4096	/* records held while waiting for a reply */

struct kuif_client {
	char		*path;
	int		 fd;
	char		*buf;
	size_t		 len;
	json_t		*hello;
	json_t		*queue;		/* records read during a request */
	json_t		*subscription;	/* the last subscribe request */
	bool		 reconnect;
	uint64_t	 last_seq;
	char		 error[256];
};

const char *
kuif_socket_path(const char *path)
{
	const char *env;

	if (path != NULL && *path != '\0')
		return path;
	env = getenv("KUIF_SOCKET");
	return env != NULL && *env != '\0' ? env : KUIF_DEFAULT_SOCKET;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int
fail(struct kuif_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

/* One line into a JSON object: 1, 0 on timeout, -1 on error. */
static int
read_line(struct kuif_client *c, json_t **out, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	json_error_t jerr;
	size_t linelen;
	char *nl;
	ssize_t n;
	int timeout;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			linelen = (size_t)(nl - c->buf);
			*out = json_loadb(c->buf, linelen, 0, &jerr);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			if (*out == NULL || !json_is_object(*out)) {
				json_decref(*out);
				return fail(c, EPROTO, "bad line from kuifd: %s",
				    jerr.text);
			}
			return 1;
		}
		if (c->len == KUIF_LINE_MAX)
			return fail(c, EPROTO, "line from kuifd too long");
		timeout = -1;
		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return 0;
			timeout = (int)left;
		}
		n = poll(&pfd, 1, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return fail(c, errno, "poll: %s", strerror(errno));
		if (n == 0)
			return 0;
		n = read(c->fd, c->buf + c->len, KUIF_LINE_MAX - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return fail(c, ECONNRESET, "kuifd closed the connection");
		if (n == -1)
			return fail(c, errno, "read: %s", strerror(errno));
		c->len += (size_t)n;
	}
}

static int
send_json(struct kuif_client *c, const json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	size_t len, off = 0;
	ssize_t n;

	if (s == NULL)
		return fail(c, ENOMEM, "cannot encode the request");
	len = strlen(s);
	s[len++] = '\n';
	while (off < len) {
		n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(s);
			return fail(c, errno, "send: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	free(s);
	return 0;
}

static void
note_seq(struct kuif_client *c, const json_t *rec)
{
	json_t *seq = json_object_get(rec, "seq");
	const char *type = json_string_value(json_object_get(rec, "type"));

	if (type != NULL && (strcmp(type, "event") == 0 ||
	    strcmp(type, "lost") == 0) && json_is_integer(seq) &&
	    (uint64_t)json_integer_value(seq) > c->last_seq)
		c->last_seq = (uint64_t)json_integer_value(seq);
}

static int
open_socket(struct kuif_client *c)
{
	struct sockaddr_un sun;
	json_t *hello;
	int rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path))
		return fail(c, ENAMETOOLONG, "socket path too long");
	strcpy(sun.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return fail(c, errno, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = errno;
		close(c->fd);
		c->fd = -1;
		return fail(c, rc, "connect %s: %s", c->path, strerror(rc));
	}
	c->len = 0;
	rc = read_line(c, &hello, now_ms() + 10000);
	if (rc != 1 || strcmp(json_string_value(json_object_get(hello,
	    "type")) ?: "", "hello") != 0) {
		if (rc == 1)
			json_decref(hello);
		close(c->fd);
		c->fd = -1;
		return rc == 0 ? fail(c, ETIMEDOUT, "no greeting from kuifd") :
		    fail(c, EPROTO, "kuifd did not greet");
	}
	json_decref(c->hello);
	c->hello = hello;
	return 0;
}

struct kuif_client *
kuif_connect(const char *path)
{
	struct kuif_client *c = calloc(1, sizeof(*c));
	int err;

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->path = strdup(kuif_socket_path(path));
	c->buf = malloc(KUIF_LINE_MAX);
	c->queue = json_array();
	if (c->path == NULL || c->buf == NULL || c->queue == NULL) {
		kuif_close(c);
		errno = ENOMEM;
		return NULL;
	}
	if (open_socket(c) == -1) {
		err = errno;
		kuif_close(c);
		errno = err;
		return NULL;
	}
	return c;
}

void
kuif_close(struct kuif_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	json_decref(c->hello);
	json_decref(c->queue);
	json_decref(c->subscription);
	free(c->buf);
	free(c->path);
	free(c);
}

const json_t *
kuif_hello(const struct kuif_client *c)
{
	return c->hello;
}

void
kuif_set_reconnect(struct kuif_client *c, bool on)
{
	c->reconnect = on;
}

uint64_t
kuif_last_seq(const struct kuif_client *c)
{
	return c->last_seq;
}

int
kuif_fd(const struct kuif_client *c)
{
	return c->fd;
}

const char *
kuif_error(const struct kuif_client *c)
{
	return c->error;
}

int
kuif_request(struct kuif_client *c, json_t *req, const char *reply_type,
    json_t **reply, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	const char *type;
	json_t *rec;
	int rc;

	if (reply != NULL)
		*reply = NULL;
	rc = send_json(c, req);
	json_decref(req);
	if (rc == -1)
		return -1;
	for (;;) {
		rc = read_line(c, &rec, deadline);
		if (rc == 0)
			return fail(c, ETIMEDOUT, "no %s reply from kuifd",
			    reply_type);
		if (rc == -1)
			return -1;
		type = json_string_value(json_object_get(rec, "type"));
		if (type != NULL && strcmp(type, reply_type) == 0) {
			if (reply != NULL)
				*reply = rec;
			else
				json_decref(rec);
			return 0;
		}
		if (type != NULL && strcmp(type, "error") == 0) {
			fail(c, EREMOTEIO, "%s: %s",
			    json_string_value(json_object_get(rec, "code")),
			    json_string_value(json_object_get(rec, "message")));
			if (reply != NULL)
				*reply = rec;
			else
				json_decref(rec);
			return -1;
		}
		/* An event that came first: keep it for kuif_next. */
		if (json_array_size(c->queue) < KUIF_QUEUE_MAX)
			json_array_append_new(c->queue, rec);
		else
			json_decref(rec);
	}
}

static json_t *
patterns(const char *const *list)
{
	json_t *a = json_array();

	while (list != NULL && *list != NULL)
		json_array_append_new(a, json_string(*list++));
	return a;
}

static int
resubscribe(struct kuif_client *c, int64_t since)
{
	json_t *req = json_deep_copy(c->subscription);

	if (req == NULL)
		return fail(c, ENOMEM, "out of memory");
	if (since >= 0)
		json_object_set_new(req, "since", json_integer(since));
	else
		json_object_del(req, "since");
	return kuif_request(c, req, "subscribed", NULL, 10000);
}

int
kuif_subscribe(struct kuif_client *c, const char *const *events,
    const char *const *sources, int64_t since)
{
	json_t *filter = json_object();

	json_object_set_new(filter, "event", patterns(events));
	json_object_set_new(filter, "source", patterns(sources));
	json_decref(c->subscription);
	c->subscription = json_pack("{s:s, s:o}", "op", "subscribe",
	    "filter", filter);
	if (c->subscription == NULL)
		return fail(c, ENOMEM, "out of memory");
	return resubscribe(c, since);
}

/*
 * Reconnects and resumes after the last seq seen. A server whose seq is
 * behind ours lost its history: say so with a loss record of unknown size.
 */
static int
reconnect(struct kuif_client *c, json_t **rec)
{
	uint64_t server_seq;
	int tries;

	close(c->fd);
	c->fd = -1;
	for (tries = 0; tries < 50; tries++) {
		if (open_socket(c) == 0)
			break;
		usleep(200 * 1000);
	}
	if (c->fd == -1)
		return -1;
	server_seq = (uint64_t)json_integer_value(json_object_get(c->hello,
	    "seq"));
	if (c->subscription == NULL)
		return 0;
	if (server_seq >= c->last_seq)
		return resubscribe(c, (int64_t)c->last_seq) == -1 ? -1 : 0;
	if (resubscribe(c, -1) == -1)
		return -1;
	c->last_seq = server_seq;
	*rec = json_pack("{s:s, s:i, s:s}", "type", "lost", "count", 0,
	    "reason", "server_restarted");
	return 1;
}

int
kuif_next(struct kuif_client *c, json_t **rec, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc;

	if (json_array_size(c->queue) > 0) {
		*rec = json_incref(json_array_get(c->queue, 0));
		json_array_remove(c->queue, 0);
		note_seq(c, *rec);
		return 1;
	}
	for (;;) {
		if (c->fd == -1)
			return fail(c, ECONNRESET, "not connected");
		rc = read_line(c, rec, deadline);
		if (rc == 1)
			note_seq(c, *rec);
		if (rc != -1 || errno != ECONNRESET || !c->reconnect)
			return rc;
		rc = reconnect(c, rec);
		if (rc != 0)
			return rc;
		if (json_array_size(c->queue) > 0)
			return kuif_next(c, rec, timeout_ms);
	}
}
