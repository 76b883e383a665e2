// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkuif: see kuif-client.h and docs/libkuif.md.
 *
 * The descriptor the caller watches is an epoll instance holding three:
 * the socket (while connected), an eventfd that is readable while records
 * wait inside the library, and a timerfd that fires when a reconnection
 * step is due. So the caller's fd never changes and is readable exactly
 * when kuif_next has something to do.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kuif-client.h"

#define KUIF_LINE_MAX		(1024 * 1024)
#define KUIF_QUEUE_MAX		4096	/* records held while waiting for a reply */
#define KUIF_GREETING_MS	10000
#define KUIF_BACKOFF_MIN_MS	100
#define KUIF_BACKOFF_MAX_MS	1000

enum kuif_state {
	KUIF_DOWN,		/* no socket; reconnecting or failed */
	KUIF_GREETING,		/* connected, waiting for "hello" */
	KUIF_SUBSCRIBING,	/* resubscribed, waiting for "subscribed" */
	KUIF_UP,
};

struct kuif_client {
	char		*path;
	int		 sock;
	int		 epfd;		/* what kuif_fd() returns */
	int		 evfd;		/* readable while records are pending */
	int		 tfd;		/* the next reconnection step */
	bool		 ev_set;
	enum kuif_state	 state;
	char		*buf;
	size_t		 off, len;	/* unread bytes are buf[off..len) */
	json_t		*hello;
	json_t		*queue;		/* records read during a request */
	uint64_t	 dropped;	/* records the full queue could not take */
	json_t		*subscription;	/* the last subscribe request */
	bool		 reconnect;
	bool		 gave_up;
	int		 reconnect_limit_ms;
	long long	 down_since;
	long long	 next_try;
	long long	 greeting_deadline;
	int		 backoff_ms;
	uint64_t	 last_seq;
	uint64_t	 resume_seq;	/* last_seq when the connection was lost */
	uint64_t	 sub_from;	/* the seq the subscription started after */
	bool		 restarted;	/* the new server's history is behind */
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

/* The timer at an absolute CLOCK_MONOTONIC time in ms; 0 disarms it. */
static void
arm_timer(struct kuif_client *c, long long at_ms)
{
	struct itimerspec its = { 0 };

	if (at_ms > 0) {
		its.it_value.tv_sec = at_ms / 1000;
		its.it_value.tv_nsec = (at_ms % 1000) * 1000000;
	}
	timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
drain_timer(struct kuif_client *c)
{
	uint64_t n;

	while (read(c->tfd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
}

/* Complete lines in the buffer. */
static size_t
buffered_lines(const struct kuif_client *c)
{
	const char *p = c->buf + c->off, *end = c->buf + c->len, *nl;
	size_t n = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p = nl + 1;
	}
	return n;
}

size_t
kuif_pending(const struct kuif_client *c)
{
	return json_array_size(c->queue) + (c->dropped > 0) +
	    (c->state == KUIF_UP ? buffered_lines(c) : 0);
}

/* The eventfd says whether records wait inside the library. */
static void
sync_pending(struct kuif_client *c)
{
	bool pending = json_array_size(c->queue) > 0 || c->dropped > 0 ||
	    (c->state == KUIF_UP && c->off < c->len &&
	    memchr(c->buf + c->off, '\n', c->len - c->off) != NULL);
	uint64_t n = 1;

	if (pending && !c->ev_set) {
		if (write(c->evfd, &n, sizeof(n)) == sizeof(n))
			c->ev_set = true;
	} else if (!pending && c->ev_set) {
		if (read(c->evfd, &n, sizeof(n)) == sizeof(n) || errno == EAGAIN)
			c->ev_set = false;
	}
}

/* One complete line from the buffer: 1, 0 if none, -1 (EPROTO). */
static int
take_line(struct kuif_client *c, json_t **out)
{
	char *start = c->buf + c->off, *nl;
	json_error_t jerr;
	size_t linelen;

	nl = memchr(start, '\n', c->len - c->off);
	if (nl == NULL)
		return 0;
	linelen = (size_t)(nl - start);
	*out = json_loadb(start, linelen, 0, &jerr);
	c->off += linelen + 1;
	if (c->off == c->len)
		c->off = c->len = 0;
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(c, EPROTO, "bad line from kuifd: %s", jerr.text);
	}
	return 1;
}

/*
 * One line into a JSON object, reading the socket first and only then
 * waiting until deadline (absolute ms; -1 forever; 0 not at all).
 * Returns 1, 0 on timeout (errno EAGAIN), -1 on error (ECONNRESET when
 * kuifd closed the connection).
 */
static int
read_line(struct kuif_client *c, json_t **out, long long deadline)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	long long left;
	ssize_t n;
	int rc;

	for (;;) {
		rc = take_line(c, out);
		if (rc != 0)
			return rc;
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == KUIF_LINE_MAX) {
			c->len = 0;	/* the rest of it fails to parse once */
			return fail(c, EPROTO, "line from kuifd too long");
		}
		n = read(c->sock, c->buf + c->len, KUIF_LINE_MAX - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return fail(c, ECONNRESET, "kuifd closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fail(c, errno, "read: %s", strerror(errno));
		left = -1;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (deadline == 0 || left <= 0) {
				errno = EAGAIN;
				return 0;
			}
		}
		rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc == -1 && errno != EINTR)
			return fail(c, errno, "poll: %s", strerror(errno));
	}
}

/* The whole line, or -1: a request is small and the socket buffer big. */
static int
send_json(struct kuif_client *c, const json_t *req, long long deadline)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLOUT };
	char *s = json_dumps(req, JSON_COMPACT);
	size_t len, off = 0;
	long long left;
	ssize_t n;

	if (s == NULL)
		return fail(c, ENOMEM, "cannot encode the request");
	len = strlen(s);
	s[len++] = '\n';
	while (off < len) {
		n = send(c->sock, s + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (errno != EAGAIN || deadline == 0 || (deadline > 0 &&
		    left <= 0)) {
			fail(c, errno == EAGAIN ? ETIMEDOUT : errno, "send: %s",
			    strerror(errno));
			free(s);
			return -1;
		}
		if (poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left) == -1 &&
		    errno != EINTR) {
			fail(c, errno, "poll: %s", strerror(errno));
			free(s);
			return -1;
		}
	}
	free(s);
	return 0;
}

static const char *
type_of(const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));

	return type != NULL ? type : "";
}

static void
note_seq(struct kuif_client *c, const json_t *rec)
{
	json_t *seq = json_object_get(rec, "seq");
	const char *type = type_of(rec);

	if ((strcmp(type, "event") == 0 || strcmp(type, "lost") == 0) &&
	    json_is_integer(seq) &&
	    (uint64_t)json_integer_value(seq) > c->last_seq)
		c->last_seq = (uint64_t)json_integer_value(seq);
}

static void
close_socket(struct kuif_client *c)
{
	if (c->sock == -1)
		return;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close(c->sock);
	c->sock = -1;
	c->off = c->len = 0;
}

/*
 * A new socket, connected. Connecting to a Unix socket whose backlog is
 * full fails with EAGAIN (O_NONBLOCK) instead of waiting; until deadline
 * (absolute ms, 0 for one attempt) it is tried again every 10 ms.
 */
static int
open_socket(struct kuif_client *c, long long deadline)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_un sun;
	int rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path))
		return fail(c, ENAMETOOLONG, "socket path too long");
	strcpy(sun.sun_path, c->path);
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->sock == -1)
		return fail(c, errno, "socket: %s", strerror(errno));
	while (connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = errno;
		if (rc == EINTR || (rc == EAGAIN && deadline > 0 &&
		    now_ms() < deadline)) {
			if (rc == EAGAIN)
				usleep(10 * 1000);
			continue;
		}
		close(c->sock);
		c->sock = -1;
		if (rc == EAGAIN)
			return fail(c, rc, "connect %s: kuifd is not accepting "
			    "connections (backlog full)", c->path);
		return fail(c, rc, "connect %s: %s", c->path, strerror(rc));
	}
	ev.data.fd = c->sock;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->sock, &ev) == -1) {
		rc = errno;
		close(c->sock);
		c->sock = -1;
		return fail(c, rc, "epoll_ctl: %s", strerror(rc));
	}
	c->off = c->len = 0;
	c->state = KUIF_GREETING;
	return 0;
}

/* The greeting, checked and kept. 0, or -1 (EPROTO). */
static int
take_hello(struct kuif_client *c, json_t *hello)
{
	if (strcmp(type_of(hello), "hello") != 0) {
		json_decref(hello);
		return fail(c, EPROTO, "kuifd did not greet");
	}
	json_decref(c->hello);
	c->hello = hello;
	return 0;
}

/*
 * The connection is gone. With reconnection on, the next attempt is now;
 * else (or when the limit is reached) kuif_next fails from now on.
 */
static void
connection_lost(struct kuif_client *c)
{
	char why[sizeof(c->error)];

	snprintf(why, sizeof(why), "%s", c->error);
	if (c->state == KUIF_UP)
		c->resume_seq = c->last_seq > c->sub_from ? c->last_seq :
		    c->sub_from;
	if (c->state == KUIF_UP || c->state == KUIF_DOWN) {
		c->down_since = now_ms();
		c->backoff_ms = KUIF_BACKOFF_MIN_MS;
	}
	close_socket(c);
	c->state = KUIF_DOWN;
	c->next_try = now_ms();
	/* A first attempt is due now: the caller's fd says so. */
	arm_timer(c, c->reconnect ? c->next_try : 0);
	if (!c->reconnect)
		fail(c, ECONNRESET, "%s", why);
}

/* The next attempt after a failed one, or giving up. */
static void
retry_later(struct kuif_client *c)
{
	long long now = now_ms();
	char why[sizeof(c->error)];

	close_socket(c);
	c->state = KUIF_DOWN;
	if (c->reconnect_limit_ms >= 0 &&
	    now - c->down_since >= c->reconnect_limit_ms) {
		snprintf(why, sizeof(why), "%s", c->error);
		fail(c, ECONNRESET, "gave up reconnecting after %d ms: %s",
		    c->reconnect_limit_ms, why);
		c->gave_up = true;
		arm_timer(c, 0);
		return;
	}
	c->next_try = now + c->backoff_ms;
	if (c->reconnect_limit_ms >= 0 &&
	    c->next_try > c->down_since + c->reconnect_limit_ms)
		c->next_try = c->down_since + c->reconnect_limit_ms;
	c->backoff_ms = c->backoff_ms * 2 > KUIF_BACKOFF_MAX_MS ?
	    KUIF_BACKOFF_MAX_MS : c->backoff_ms * 2;
	arm_timer(c, c->next_try);
}

static json_t *
subscribe_request(struct kuif_client *c, int64_t since)
{
	json_t *req = json_deep_copy(c->subscription);

	if (req == NULL)
		return NULL;
	if (since >= 0)
		json_object_set_new(req, "since", json_integer(since));
	else
		json_object_del(req, "since");
	return req;
}

/*
 * After the greeting of a new connection: resume the subscription after
 * the last seq seen. A server whose seq is behind ours lost its history;
 * that is said with a loss record of unknown size once subscribed.
 */
static int
resume(struct kuif_client *c)
{
	uint64_t server_seq = (uint64_t)json_integer_value(
	    json_object_get(c->hello, "seq"));
	json_t *req;
	int rc;

	if (c->subscription == NULL) {
		c->state = KUIF_UP;
		arm_timer(c, 0);
		return 0;
	}
	c->restarted = server_seq < c->resume_seq;
	req = subscribe_request(c, c->restarted ? -1 : (int64_t)c->resume_seq);
	if (req == NULL)
		return fail(c, ENOMEM, "out of memory");
	rc = send_json(c, req, 0);
	json_decref(req);
	if (rc == -1)
		return -1;
	c->state = KUIF_SUBSCRIBING;
	return 0;
}

static void
queue_record(struct kuif_client *c, json_t *rec)
{
	note_seq(c, rec);
	if (c->dropped == 0 && json_array_size(c->queue) < KUIF_QUEUE_MAX)
		json_array_append_new(c->queue, rec);
	else {
		if (strcmp(type_of(rec), "event") == 0)
			c->dropped++;
		else if (strcmp(type_of(rec), "lost") == 0)
			c->dropped += (uint64_t)json_integer_value(
			    json_object_get(rec, "count"));
		json_decref(rec);
	}
}

/*
 * A loss record the library makes itself, with the time it noticed the
 * loss, RFC 3339 in UTC with nanoseconds, as kuifd writes it.
 */
static json_t *
lost_record(json_int_t count, const char *reason)
{
	struct timespec ts;
	struct tm tm;
	char t[64];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return NULL;
	snprintf(t + n, sizeof(t) - n, ".%09ldZ", (long)ts.tv_nsec);
	return json_pack("{s:s, s:s, s:I, s:s}", "type", "lost", "time", t,
	    "count", count, "reason", reason);
}

/* A record the library holds: 1, or 0 if none. */
static int
take_queued(struct kuif_client *c, json_t **rec)
{
	if (json_array_size(c->queue) > 0) {
		*rec = json_incref(json_array_get(c->queue, 0));
		json_array_remove(c->queue, 0);
	} else if (c->dropped > 0) {
		*rec = lost_record((json_int_t)c->dropped,
		    "client_queue_full");
		c->dropped = 0;
		if (*rec == NULL)
			return 0;
	} else
		return 0;
	return 1;
}

/*
 * What kuif_next does without waiting: a held record, a line from the
 * socket, or a step of reconnection. 1 with *rec, 0 if nothing now, -1.
 */
static int
step(struct kuif_client *c, json_t **rec)
{
	long long now;
	json_t *line;
	int rc;

	drain_timer(c);
	if (take_queued(c, rec))
		return 1;
	for (;;) {
		now = now_ms();
		if (c->state == KUIF_DOWN) {
			if (!c->reconnect || c->gave_up) {
				errno = ECONNRESET;
				return -1;
			}
			if (now < c->next_try) {
				arm_timer(c, c->next_try);
				return 0;
			}
			if (open_socket(c, 0) == -1) {
				retry_later(c);
				if (c->gave_up) {
					errno = ECONNRESET;
					return -1;
				}
				return 0;
			}
			c->greeting_deadline = now + KUIF_GREETING_MS;
			arm_timer(c, c->greeting_deadline);
		}
		rc = read_line(c, &line, 0);
		if (rc == 0) {
			if (c->state != KUIF_UP && now >= c->greeting_deadline) {
				fail(c, ETIMEDOUT, "no greeting from kuifd");
				retry_later(c);
			}
			return 0;
		}
		if (rc == -1) {
			if (errno == EPROTO && c->state == KUIF_UP)
				return -1;
			if (c->state == KUIF_UP) {
				connection_lost(c);
				if (!c->reconnect)
					return -1;
			} else
				retry_later(c);
			continue;
		}
		switch (c->state) {
		case KUIF_GREETING:
			if (take_hello(c, line) == -1 || resume(c) == -1)
				retry_later(c);
			break;
		case KUIF_SUBSCRIBING:
			if (strcmp(type_of(line), "subscribed") == 0) {
				json_decref(line);
				c->state = KUIF_UP;
				arm_timer(c, 0);
				if (c->restarted) {
					c->restarted = false;
					c->last_seq = (uint64_t)
					    json_integer_value(json_object_get(
					    c->hello, "seq"));
					*rec = lost_record(0,
					    "server_restarted");
					if (*rec != NULL)
						return 1;
				}
			} else if (strcmp(type_of(line), "error") == 0) {
				fail(c, EREMOTEIO, "resubscribing: %s: %s",
				    json_string_value(json_object_get(line,
				    "code")), json_string_value(
				    json_object_get(line, "message")));
				json_decref(line);
				c->state = KUIF_UP;
				arm_timer(c, 0);
				return -1;
			} else
				json_decref(line);
			break;
		default:
			note_seq(c, line);
			*rec = line;
			return 1;
		}
	}
}

int
kuif_next(struct kuif_client *c, json_t **rec, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = c->epfd, .events = POLLIN };
	long long left;
	int rc;

	*rec = NULL;
	for (;;) {
		rc = step(c, rec);
		sync_pending(c);
		if (rc != 0)
			return rc;
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (timeout_ms == 0 || (deadline >= 0 && left <= 0)) {
			errno = EAGAIN;
			return 0;
		}
		rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc == -1 && errno != EINTR)
			return fail(c, errno, "poll: %s", strerror(errno));
	}
}

struct kuif_client *
kuif_connect(const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct kuif_client *c = calloc(1, sizeof(*c));
	long long deadline;
	json_t *hello;
	int err, rc;

	if (c == NULL)
		return NULL;
	c->sock = c->evfd = c->tfd = -1;
	c->reconnect_limit_ms = KUIF_RECONNECT_LIMIT_MS;
	c->path = strdup(kuif_socket_path(path));
	c->buf = malloc(KUIF_LINE_MAX);
	c->queue = json_array();
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->path == NULL || c->buf == NULL || c->queue == NULL) {
		err = ENOMEM;
		goto bad;
	}
	c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->epfd == -1 || c->evfd == -1 || c->tfd == -1) {
		err = errno;
		goto bad;
	}
	ev.data.fd = c->evfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) == -1) {
		err = errno;
		goto bad;
	}
	ev.data.fd = c->tfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd, &ev) == -1) {
		err = errno;
		goto bad;
	}
	deadline = now_ms() + KUIF_GREETING_MS;
	if (open_socket(c, deadline) == -1) {
		err = errno;
		goto bad;
	}
	rc = read_line(c, &hello, deadline);
	if (rc != 1) {
		err = rc == 0 ? ETIMEDOUT : errno == ECONNRESET ? EPROTO : errno;
		goto bad;
	}
	if (take_hello(c, hello) == -1) {
		err = errno;
		goto bad;
	}
	c->state = KUIF_UP;
	return c;
bad:
	kuif_close(c);
	errno = err;
	return NULL;
}

void
kuif_close(struct kuif_client *c)
{
	if (c == NULL)
		return;
	if (c->sock != -1)
		close(c->sock);
	if (c->epfd != -1)
		close(c->epfd);
	if (c->evfd != -1)
		close(c->evfd);
	if (c->tfd != -1)
		close(c->tfd);
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
	if (on && c->state == KUIF_DOWN && !c->gave_up) {
		/* Lost while reconnection was off: start trying now. */
		c->down_since = c->next_try = now_ms();
		c->backoff_ms = KUIF_BACKOFF_MIN_MS;
		arm_timer(c, c->next_try);
	}
}

void
kuif_set_reconnect_limit(struct kuif_client *c, int limit_ms)
{
	c->reconnect_limit_ms = limit_ms;
}

bool
kuif_connected(const struct kuif_client *c)
{
	return c->state == KUIF_UP;
}

uint64_t
kuif_last_seq(const struct kuif_client *c)
{
	return c->last_seq;
}

int
kuif_fd(const struct kuif_client *c)
{
	return c->epfd;
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
	if (c->state != KUIF_UP) {
		json_decref(req);
		return fail(c, ENOTCONN, "not connected to kuifd%s",
		    c->reconnect && !c->gave_up ? " (reconnecting)" : "");
	}
	rc = send_json(c, req, deadline);
	json_decref(req);
	for (; rc == 0;) {
		rc = read_line(c, &rec, deadline);
		if (rc == 0) {
			rc = fail(c, ETIMEDOUT, "no %s reply from kuifd",
			    reply_type);
			break;
		}
		if (rc == -1)
			break;
		rc = 0;
		type = type_of(rec);
		if (strcmp(type, reply_type) == 0) {
			if (reply != NULL)
				*reply = rec;
			else
				json_decref(rec);
			break;
		}
		if (strcmp(type, "error") == 0) {
			fail(c, EREMOTEIO, "%s: %s",
			    json_string_value(json_object_get(rec, "code")),
			    json_string_value(json_object_get(rec, "message")));
			if (reply != NULL)
				*reply = rec;
			else
				json_decref(rec);
			rc = -1;
			break;
		}
		/* An event that came first: keep it for kuif_next. */
		queue_record(c, rec);
	}
	if (rc == -1 && errno != EREMOTEIO && errno != ETIMEDOUT &&
	    errno != EPROTO) {
		int err = errno;

		connection_lost(c);
		errno = err;
	}
	sync_pending(c);
	return rc;
}

static json_t *
patterns(const char *const *list)
{
	json_t *a = json_array();

	while (list != NULL && *list != NULL)
		json_array_append_new(a, json_string(*list++));
	return a;
}

int
kuif_subscribe(struct kuif_client *c, const char *const *events,
    const char *const *sources, int64_t since)
{
	json_t *filter = json_object(), *req;

	json_object_set_new(filter, "event", patterns(events));
	json_object_set_new(filter, "source", patterns(sources));
	json_decref(c->subscription);
	c->subscription = json_pack("{s:s, s:o}", "op", "subscribe",
	    "filter", filter);
	if (c->subscription == NULL)
		return fail(c, ENOMEM, "out of memory");
	c->sub_from = since >= 0 ? (uint64_t)since : (uint64_t)
	    json_integer_value(json_object_get(c->hello, "seq"));
	if (c->state != KUIF_UP && c->reconnect && !c->gave_up) {
		/* Sent when the reconnection gets there. */
		if (since >= 0)
			c->resume_seq = (uint64_t)since;
		return c->state == KUIF_SUBSCRIBING ?
		    fail(c, EAGAIN, "resubscribing, try again") : 0;
	}
	req = subscribe_request(c, since);
	if (req == NULL)
		return fail(c, ENOMEM, "out of memory");
	return kuif_request(c, req, "subscribed", NULL, KUIF_GREETING_MS);
}
