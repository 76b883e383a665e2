// SPDX-License-Identifier: GPL-2.0
/*
 * kuif-upcall: the program kuif.ko runs with call_usermodehelper() for
 * events that match its upcall_events parameter.
 *
 *   argv: kuif-upcall EVENT KSEQ
 *   envp: KUIF_SEQ KUIF_EVENT KUIF_TIME_NS KUIF_PAYLOAD_HEX
 *
 * It runs as root with a minimal environment and no standard streams. It
 * trusts nothing it is given: every field is checked, the payload stays
 * hex, and no shell is ever run. The event goes to kuifd as an "upcall"
 * request within about a second; when kuifd cannot be reached it goes to
 * the journal instead. Exit: 0 delivered or logged, 1 bad input.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <kuif.h>
#include <systemd/sd-journal.h>

#define SOCKET_PATH	"/run/kuifd/kuifd.sock"
#define DEADLINE_MS	1000

struct upcall {
	char		event[KUIF_EVENT_NAME_MAX];
	uint64_t	kseq;
	uint64_t	time_ns;
	char		hex[2 * KUIF_PAYLOAD_MAX + 1];
};

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 20)
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
valid_name(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n >= KUIF_EVENT_NAME_MAX ||
	    s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

static int
valid_hex(const char *s)
{
	size_t n = s == NULL ? 0 : strlen(s);

	if (s == NULL || n % 2 != 0 || n > 2 * KUIF_PAYLOAD_MAX)
		return 0;
	return strspn(s, "0123456789abcdef") == n;
}

/* argv and the environment must agree, and each must be well formed. */
static int
parse(int argc, char **argv, struct upcall *u)
{
	const char *env_event = getenv("KUIF_EVENT");
	const char *hex = getenv("KUIF_PAYLOAD_HEX");
	uint64_t env_seq;

	if (argc != 3 || !valid_name(argv[1]) || !valid_name(env_event) ||
	    strcmp(argv[1], env_event) != 0)
		return -1;
	if (parse_u64(argv[2], &u->kseq) == -1 || u->kseq == 0 ||
	    parse_u64(getenv("KUIF_SEQ"), &env_seq) == -1 ||
	    env_seq != u->kseq ||
	    parse_u64(getenv("KUIF_TIME_NS"), &u->time_ns) == -1)
		return -1;
	if (hex == NULL)
		hex = "";
	if (!valid_hex(hex))
		return -1;
	strcpy(u->event, argv[1]);
	strcpy(u->hex, hex);
	return 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - now_ms();

	if (left <= 0)
		return -1;
	return poll(&pfd, 1, (int)left) == 1 ? 0 : -1;
}

/* Reads one line; returns 0 when it is there. */
static int
read_line(int fd, char *buf, size_t size, long long deadline)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			return -1;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf, '\n', len) != NULL)
			return 0;
	}
	return -1;
}

static int
forward(const struct upcall *u, long long deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096], *req;
	json_t *obj;
	size_t len;
	int fd, rc = -1;

	strcpy(sun.sun_path, SOCKET_PATH);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) == -1))
		goto out;
	if (read_line(fd, buf, sizeof(buf), deadline) == -1 ||
	    strstr(buf, "\"type\":\"hello\"") == NULL)
		goto out;
	obj = json_pack("{s:s, s:I, s:I, s:s, s:s}", "op", "upcall",
	    "kseq", (json_int_t)u->kseq, "time_ns", (json_int_t)u->time_ns,
	    "event", u->event, "payload_hex", u->hex);
	req = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (req == NULL)
		goto out;
	len = strlen(req);
	req[len++] = '\n';
	if (wait_fd(fd, POLLOUT, deadline) == 0 &&
	    send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len &&
	    read_line(fd, buf, sizeof(buf), deadline) == 0 &&
	    strstr(buf, "\"type\":\"accepted\"") != NULL)
		rc = 0;
	free(req);
out:
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	long long deadline = now_ms() + DEADLINE_MS;
	struct upcall u;
	int fd;

	/* The kernel gives no standard streams: keep 0-2 from being reused
	 * by our own sockets. */
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);

	/* Only the kernel runs this, as root: anyone else is forging. */
	if (getuid() != 0 || geteuid() != 0)
		return 1;
	memset(&u, 0, sizeof(u));
	if (parse(argc, argv, &u) == -1) {
		sd_journal_send("MESSAGE=kuif-upcall: refused malformed "
		    "arguments or environment", "PRIORITY=%d", LOG_WARNING,
		    "SYSLOG_IDENTIFIER=kuif-upcall", NULL);
		return 1;
	}
	if (forward(&u, deadline) == 0)
		return 0;
	sd_journal_send("MESSAGE=kuif-upcall: kuifd unreachable; event %s "
	    "kseq %llu", u.event, (unsigned long long)u.kseq,
	    "PRIORITY=%d", LOG_NOTICE,
	    "SYSLOG_IDENTIFIER=kuif-upcall",
	    "KUIF_EVENT=%s", u.event,
	    "KUIF_SEQ=%llu", (unsigned long long)u.kseq,
	    "KUIF_SOURCE=upcall",
	    "KUIF_PAYLOAD_HEX=%s", u.hex, NULL);
	return 0;
}
