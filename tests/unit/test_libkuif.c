// SPDX-License-Identifier: GPL-2.0
/*
 * libkuif in the caller's event loop, against a scripted kuifd played by
 * this test on a real Unix socket: a readable fd is read by kuif_next(..,0);
 * records read together, or replayed during kuif_subscribe, wake poll();
 * reconnection never blocks past the timeout and the caller's fd keeps
 * working across it. Built with ASan/UBSan (Makefile).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kuif-client.h"

static char sock_path[108];
static int listener = -1;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
listen_at_path(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	unlink(sock_path);
	strcpy(sun.sun_path, sock_path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(listener >= 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(listener, 8), 0);
}

static void
stop_listening(void)
{
	close(listener);
	listener = -1;
	unlink(sock_path);
}

static void
put(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_int_equal(write(fd, buf, (size_t)n), n);
}

/* One request line from the client, as JSON. */
static json_t *
get(int fd)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len == 0 || buf[len - 1] != '\n') {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
	}
	return json_loadb(buf, len, 0, NULL);
}

/* The server side of one connection: accept and greet. */
struct greeter {
	pthread_t	 thread;
	int		 fd;
	int		 seq;
	bool		 greeted;
	bool		 started, joined;
	/* then, if subscribe: answer it, followed by `replay` in one write */
	bool		 subscribe;
	const char	*replay;
	long long	 since;		/* what the subscribe asked, -1 none */
};

static void *
greet(void *arg)
{
	struct greeter *g = arg;
	json_t *req;

	if (!g->greeted) {
		g->fd = accept(listener, NULL, NULL);
		if (g->fd < 0)
			return NULL;
		put(g->fd, "{\"type\":\"hello\",\"version\":1,"
		    "\"server\":\"fake\",\"seq\":%d}\n", g->seq);
		g->greeted = true;
	}
	if (g->subscribe) {
		req = get(g->fd);
		g->since = json_is_integer(json_object_get(req, "since")) ?
		    (long long)json_integer_value(json_object_get(req, "since"))
		    : -1;
		json_decref(req);
		put(g->fd, "{\"type\":\"subscribed\"}\n%s", g->replay ?: "");
	}
	return NULL;
}

static void
greet_start(struct greeter *g)
{
	assert_int_equal(pthread_create(&g->thread, NULL, greet, g), 0);
	g->started = true;
	g->joined = false;
}

static void
greet_join(struct greeter *g)
{
	pthread_join(g->thread, NULL);
	g->joined = true;
	assert_true(g->fd >= 0);
}

/*
 * The greeters live outside the tests' stack frames, so that a failed test
 * (cmocka longjmps out of it) cannot leave a thread writing into a dead
 * frame; teardown wakes and joins whatever is left.
 */
static struct greeter greeters[4];
static int ngreeters;

/* kuifd closes this connection. */
static void
hang_up(struct greeter *g)
{
	shutdown(g->fd, SHUT_RDWR);
}

static struct greeter *
greeter(int seq)
{
	struct greeter *g = &greeters[ngreeters++];

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->seq = seq;
	return g;
}

static struct kuif_client *
connect_fake(struct greeter *g)
{
	struct kuif_client *c;

	greet_start(g);
	c = kuif_connect(sock_path);
	assert_non_null(c);
	greet_join(g);
	return c;
}

static struct kuif_client *
connect_subscribed(struct greeter *g)
{
	struct kuif_client *c;

	g->subscribe = false;
	c = connect_fake(g);
	g->subscribe = true;
	greet_start(g);		/* only the subscribe part is used */
	return c;
}

static int
setup(void **state)
{
	static int n;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/test_libkuif.%d.%d.sock",
	    (int)getpid(), n++);
	listen_at_path();
	ngreeters = 0;
	return 0;
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	if (listener != -1)
		shutdown(listener, SHUT_RDWR);	/* wakes a thread in accept */
	for (i = 0; i < ngreeters; i++) {
		if (greeters[i].fd >= 0)
			shutdown(greeters[i].fd, SHUT_RDWR);
		if (greeters[i].started && !greeters[i].joined)
			pthread_join(greeters[i].thread, NULL);
		if (greeters[i].fd >= 0)
			close(greeters[i].fd);
	}
	if (listener != -1)
		stop_listening();
	return 0;
}

static bool
readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

#define EVENT(n) "{\"type\":\"event\",\"seq\":" #n ",\"source\":\"upcall\"," \
	"\"event\":\"t.e\",\"data\":{\"payload\":\"p\"}}\n"

/* With the fd readable, kuif_next(.., 0) reads; it used to say "timeout". */
static void
test_readable_fd_then_next_zero_reads(void **state)
{
	struct greeter *g = greeter(0);
	struct kuif_client *c = connect_fake(g);
	json_t *rec;

	(void)state;
	put(g->fd, EVENT(1));
	assert_true(readable(kuif_fd(c), 2000));
	assert_int_equal(kuif_next(c, &rec, 0), 1);
	assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 1);
	json_decref(rec);
	/* Nothing more: 0 at once, errno EAGAIN, and the fd goes quiet. */
	assert_int_equal(kuif_next(c, &rec, 0), 0);
	assert_int_equal(errno, EAGAIN);
	assert_false(readable(kuif_fd(c), 100));
	kuif_close(c);
}

/*
 * Six records in one read: a caller taking one record per wake-up of
 * poll() gets all six (the library's fd stays readable while it holds
 * records); it used to get one, the other five never woke poll.
 */
static void
test_records_read_together_each_wake_poll(void **state)
{
	struct greeter *g = greeter(0);
	struct kuif_client *c = connect_fake(g);
	int got = 0, i;
	json_t *rec;

	(void)state;
	put(g->fd, EVENT(1) EVENT(2) EVENT(3) EVENT(4) EVENT(5) EVENT(6));
	for (i = 0; i < 50 && readable(kuif_fd(c), 300); i++) {
		if (kuif_next(c, &rec, 100) == 1) {
			got++;
			assert_int_equal(json_integer_value(json_object_get(rec,
			    "seq")), got);
			json_decref(rec);
		}
	}
	assert_int_equal(got, 6);
	kuif_close(c);
}

/* Records replayed during kuif_subscribe wake poll and are counted. */
static void
test_replay_during_subscribe_wakes_poll(void **state)
{
	struct greeter *g = greeter(3);
	struct kuif_client *c = connect_subscribed(g);
	int got = 0, i;
	json_t *rec;

	(void)state;
	g->replay = EVENT(1) EVENT(2) EVENT(3);
	assert_int_equal(kuif_subscribe(c, NULL, NULL, 0), 0);
	greet_join(g);
	assert_int_equal(g->since, 0);
	for (i = 0; i < 50 && readable(kuif_fd(c), 300); i++) {
		if (kuif_pending(c) == 0)
			continue;
		assert_int_equal(kuif_next(c, &rec, 0), 1);
		got++;
		json_decref(rec);
	}
	assert_int_equal(got, 3);
	assert_int_equal(kuif_pending(c), 0);
	kuif_close(c);
}

/*
 * kuifd goes away with reconnection on: kuif_next(.., 5) returns within
 * its timeout every time (it used to block 200 ms per attempt), and the fd
 * the caller registered with epoll once wakes it for the records of the
 * new connection, which resumes after the last seq seen.
 */
static void
test_reconnect_never_blocks_and_fd_stays(void **state)
{
	struct greeter *g = greeter(0), *g2 = greeter(9);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct kuif_client *c;
	long long t, worst = 0, until;
	int fd, ep, rc, got = 0, calls = 0;
	json_t *rec;

	(void)state;
	c = connect_subscribed(g);
	g->replay = EVENT(7);
	kuif_set_reconnect(c, true);
	assert_int_equal(kuif_subscribe(c, NULL, NULL, -1), 0);
	greet_join(g);
	assert_int_equal(kuif_next(c, &rec, 1000), 1);
	json_decref(rec);
	fd = kuif_fd(c);
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);

	/* kuifd stops: the socket closes and the path disappears. */
	hang_up(g);
	stop_listening();
	until = now_ms() + 600;
	while (now_ms() < until) {
		t = now_ms();
		rc = kuif_next(c, &rec, 5);
		t = now_ms() - t;
		calls++;
		worst = t > worst ? t : worst;
		assert_int_equal(rc, 0);
		assert_false(kuif_connected(c));
	}
	print_message("# kuif_next(5 ms) while kuifd was away: %d calls in "
	    "600 ms, worst %lld ms\n", calls, worst);
	/*
	 * The old library slept 200 ms per attempt, 10 s in all. Here each
	 * call is a socket() and a connect(); the bound leaves room for a
	 * loaded machine.
	 */
	assert_true(worst < 500);
	assert_true(calls >= 10);

	/* kuifd is back; the caller only waits on its epoll. */
	listen_at_path();
	g2->subscribe = true;
	g2->replay = EVENT(10);
	greet_start(g2);
	until = now_ms() + 5000;
	while (got == 0 && now_ms() < until) {
		if (epoll_wait(ep, &out, 1, 200) != 1)
			continue;
		while ((rc = kuif_next(c, &rec, 0)) == 1) {
			got++;
			assert_int_equal(json_integer_value(json_object_get(rec,
			    "seq")), 10);
			json_decref(rec);
		}
		assert_int_equal(rc, 0);
	}
	greet_join(g2);
	assert_int_equal(got, 1);
	assert_int_equal(g2->since, 7);		/* resumed after seq 7 */
	assert_int_equal(kuif_fd(c), fd);
	assert_true(kuif_connected(c));
	close(ep);
	kuif_close(c);
}

/* A server behind our seq lost its history: said as a loss of unknown size. */
static void
test_reconnect_to_restarted_server_reports_loss(void **state)
{
	struct greeter *g = greeter(0), *g2 = greeter(1);
	struct kuif_client *c;
	json_t *rec;

	(void)state;
	c = connect_subscribed(g);
	g->replay = EVENT(5);
	kuif_set_reconnect(c, true);
	assert_int_equal(kuif_subscribe(c, NULL, NULL, -1), 0);
	greet_join(g);
	assert_int_equal(kuif_next(c, &rec, 1000), 1);
	json_decref(rec);
	g2->subscribe = true;
	g2->replay = EVENT(2);
	greet_start(g2);
	hang_up(g);
	assert_int_equal(kuif_next(c, &rec, 5000), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "reason")),
	    "server_restarted");
	json_decref(rec);
	assert_int_equal(kuif_next(c, &rec, 5000), 1);
	assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 2);
	json_decref(rec);
	greet_join(g2);
	assert_int_equal(g2->since, -1);
	kuif_close(c);
}

/* Timeouts are honoured: neither much shorter nor longer. */
static void
test_timeouts_are_honoured(void **state)
{
	struct greeter *g = greeter(0);
	struct kuif_client *c = connect_fake(g);
	long long t;
	json_t *rec;

	(void)state;
	t = now_ms();
	assert_int_equal(kuif_next(c, &rec, 150), 0);
	t = now_ms() - t;
	assert_true(t >= 149 && t < 1000);
	t = now_ms();
	assert_int_equal(kuif_request(c, json_pack("{s:s}", "op", "ping"),
	    "pong", NULL, 150), -1);
	assert_int_equal(errno, ETIMEDOUT);
	t = now_ms() - t;
	assert_true(t >= 149 && t < 1000);
	kuif_close(c);
}

/* Without reconnection a lost connection is an error, every time. */
static void
test_no_reconnect_fails_with_econnreset(void **state)
{
	struct greeter *g = greeter(0);
	struct kuif_client *c = connect_fake(g);
	json_t *rec;

	(void)state;
	hang_up(g);
	assert_int_equal(kuif_next(c, &rec, 1000), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(kuif_next(c, &rec, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	kuif_close(c);
}

/*
 * The connection is found lost by kuif_request: the caller, who calls
 * kuif_next only when the fd is readable, is woken for the reconnection.
 */
static void
test_loss_seen_by_request_wakes_the_fd(void **state)
{
	struct greeter *g = greeter(0), *g2 = greeter(4);
	struct kuif_client *c = connect_fake(g);
	json_t *rec;
	int i, rc = 0;

	(void)state;
	kuif_set_reconnect(c, true);
	hang_up(g);
	assert_int_equal(kuif_request(c, json_pack("{s:s}", "op", "ping"),
	    "pong", NULL, 1000), -1);
	assert_false(kuif_connected(c));
	greet_start(g2);
	for (i = 0; i < 50 && !kuif_connected(c); i++) {
		if (!readable(kuif_fd(c), 100))
			continue;
		rc = kuif_next(c, &rec, 0);
		assert_int_equal(rc, 0);
	}
	assert_true(kuif_connected(c));
	greet_join(g2);
	kuif_close(c);
}

/* Reconnection gives up after its limit, with ECONNRESET. */
static void
test_reconnect_limit(void **state)
{
	struct greeter *g = greeter(0);
	struct kuif_client *c = connect_fake(g);
	long long t = now_ms();
	json_t *rec;

	(void)state;
	kuif_set_reconnect(c, true);
	kuif_set_reconnect_limit(c, 300);
	hang_up(g);
	stop_listening();
	assert_int_equal(kuif_next(c, &rec, 5000), -1);
	assert_int_equal(errno, ECONNRESET);
	t = now_ms() - t;
	assert_true(t >= 290 && t < 3000);
	assert_non_null(strstr(kuif_error(c), "gave up"));
	kuif_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readable_fd_then_next_zero_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_read_together_each_wake_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_during_subscribe_wakes_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_never_blocks_and_fd_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_to_restarted_server_reports_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_are_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reconnect_fails_with_econnreset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_seen_by_request_wakes_the_fd,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
