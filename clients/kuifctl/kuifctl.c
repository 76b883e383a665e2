// SPDX-License-Identifier: GPL-2.0
/*
 * kuifctl: talk to kuifd. monitor, ping, stats, emit.
 *
 * Exit codes: 0 success, 1 error reported by kuifd or bad reply,
 * 2 usage, 3 kuifd unreachable, 4 timeout before --count records.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <kuif.h>

#define DEFAULT_SOCKET	"/run/kuifd/kuifd.sock"
#define LINE_MAX_BYTES	(1024 * 1024)
#define PATTERNS_MAX	32

enum { EXIT_REPLY = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_TIMEOUT = 4 };

struct conn {
	int	 fd;
	char	*buf;
	size_t	 len;
};

static const char *socket_path;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: kuifctl [--socket PATH] COMMAND [ARGS]\n"
	    "  monitor [--event GLOB]... [--source NAME]... [--since SEQ]\n"
	    "          [--json] [--count N] [--timeout SECONDS]\n"
	    "  ping\n"
	    "  stats\n"
	    "  emit EVENT [PAYLOAD]\n"
	    "The socket is $KUIF_SOCKET, or " DEFAULT_SOCKET ".\n");
	exit(EXIT_USAGE);
}

static void
conn_open(struct conn *c)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "kuifctl: socket path too long\n");
		exit(EXIT_USAGE);
	}
	strcpy(sun.sun_path, socket_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "kuifctl: cannot connect to kuifd at %s: %s\n"
		    "Is kuifd running (systemctl status kuifd), and are you "
		    "root or in group kuif?\n", socket_path, strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	c->buf = malloc(LINE_MAX_BYTES + 1);
	if (c->buf == NULL) {
		perror("kuifctl");
		exit(1);
	}
}

/*
 * Reads one line into a JSON object. deadline_ms < 0 waits forever.
 * Returns 1 with *out set, 0 on timeout, -1 on EOF or error.
 */
static int
conn_read(struct conn *c, json_t **out, long long deadline_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct timespec ts;
	json_error_t err;
	char *nl;
	ssize_t n;
	size_t linelen;
	long long now;
	int timeout;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			linelen = (size_t)(nl - c->buf);
			*out = json_loadb(c->buf, linelen, 0, &err);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			if (*out == NULL) {
				fprintf(stderr, "kuifctl: bad line from kuifd:"
				    " %s\n", err.text);
				return -1;
			}
			return 1;
		}
		if (c->len == LINE_MAX_BYTES) {
			fprintf(stderr, "kuifctl: line from kuifd too long\n");
			return -1;
		}
		timeout = -1;
		if (deadline_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
			if (now >= deadline_ms)
				return 0;
			timeout = (int)(deadline_ms - now);
		}
		n = poll(&pfd, 1, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return 0;
		n = read(c->fd, c->buf + c->len, LINE_MAX_BYTES - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				fprintf(stderr, "kuifctl: kuifd closed the "
				    "connection\n");
			else
				perror("kuifctl: read");
			return -1;
		}
		c->len += (size_t)n;
	}
}

static void
conn_send(struct conn *c, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	size_t len, off = 0;
	ssize_t n;

	json_decref(req);
	if (s == NULL) {
		fprintf(stderr, "kuifctl: cannot encode request\n");
		exit(1);
	}
	len = strlen(s);
	s[len++] = '\n';	/* replaces the NUL; s is not used as a string */
	while (off < len) {
		n = write(c->fd, s + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			perror("kuifctl: write");
			exit(EXIT_UNREACHABLE);
		}
		off += (size_t)n;
	}
	free(s);
}

static long long
deadline_after(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 +
	    (long long)(seconds * 1000);
}

/* Reads until a record of the given type; errors from kuifd end the run. */
static json_t *
conn_expect(struct conn *c, const char *type, long long deadline)
{
	const char *t;
	json_t *rec;
	int rc;

	for (;;) {
		rc = conn_read(c, &rec, deadline);
		if (rc == 0) {
			fprintf(stderr, "kuifctl: no reply from kuifd\n");
			exit(EXIT_TIMEOUT);
		}
		if (rc < 0)
			exit(EXIT_UNREACHABLE);
		t = json_string_value(json_object_get(rec, "type"));
		if (t != NULL && strcmp(t, type) == 0)
			return rec;
		if (t != NULL && strcmp(t, "error") == 0) {
			fprintf(stderr, "kuifctl: kuifd: %s: %s\n",
			    json_string_value(json_object_get(rec, "code")),
			    json_string_value(json_object_get(rec,
			    "message")));
			exit(EXIT_REPLY);
		}
		json_decref(rec);
	}
}

static void
print_human(json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	json_t *data, *pl;

	if (type != NULL && strcmp(type, "event") == 0) {
		data = json_object_get(rec, "data");
		pl = json_object_get(data, "payload");
		if (pl == NULL)
			pl = json_object_get(data, "payload_hex");
		printf("%-30s %8lld %-8s %-20s %s\n",
		    json_string_value(json_object_get(rec, "time")),
		    json_integer_value(json_object_get(rec, "kseq")),
		    json_string_value(json_object_get(rec, "source")),
		    json_string_value(json_object_get(rec, "event")),
		    pl != NULL ? json_string_value(pl) : "");
	} else if (type != NULL && strcmp(type, "lost") == 0) {
		printf("*** LOST %lld events (%s) ***\n",
		    json_integer_value(json_object_get(rec, "count")),
		    json_string_value(json_object_get(rec, "reason")));
	}
}

static int
cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "event", required_argument, NULL, 'e' },
		{ "source", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *events = json_array(), *sources = json_array();
	json_t *filter = json_object(), *req, *rec;
	long long since = -1, count = -1, seen = 0, deadline;
	double timeout = 0;
	int ch, json = 0, rc;
	const char *type;
	struct conn c;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			json_array_append_new(events, json_string(optarg));
			break;
		case 's':
			json_array_append_new(sources, json_string(optarg));
			break;
		case 'S':
			since = strtoll(optarg, &end, 10);
			if (*end != '\0' || since < 0)
				usage();
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			count = strtoll(optarg, &end, 10);
			if (*end != '\0' || count <= 0)
				usage();
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end != '\0' || timeout <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (json_array_size(events) > 0)
		json_object_set(filter, "event", events);
	if (json_array_size(sources) > 0)
		json_object_set(filter, "source", sources);
	json_decref(events);
	json_decref(sources);
	req = json_pack("{s:s, s:o}", "op", "subscribe", "filter", filter);
	if (since >= 0)
		json_object_set_new(req, "since", json_integer(since));

	deadline = deadline_after(timeout);
	conn_open(&c);
	json_decref(conn_expect(&c, "hello", deadline));
	conn_send(&c, req);
	json_decref(conn_expect(&c, "subscribed", deadline));
	if (json)
		fprintf(stderr, "kuifctl: subscribed\n");

	while (count < 0 || seen < count) {
		rc = conn_read(&c, &rec, deadline);
		if (rc == 0)
			return count < 0 ? 0 : EXIT_TIMEOUT;
		if (rc < 0)
			return EXIT_UNREACHABLE;
		type = json_string_value(json_object_get(rec, "type"));
		if (type != NULL && (strcmp(type, "event") == 0 ||
		    strcmp(type, "lost") == 0)) {
			if (json) {
				char *s = json_dumps(rec, JSON_COMPACT);

				printf("%s\n", s);
				free(s);
			} else
				print_human(rec);
			fflush(stdout);
			seen++;
		}
		json_decref(rec);
	}
	return 0;
}

static int
cmd_simple(json_t *req, const char *reply_type)
{
	struct conn c;
	json_t *rec;
	char *s;

	conn_open(&c);
	json_decref(conn_expect(&c, "hello", deadline_after(10)));
	conn_send(&c, req);
	rec = conn_expect(&c, reply_type, deadline_after(10));
	s = json_dumps(rec, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(rec);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int ch;

	socket_path = getenv("KUIF_SOCKET");
	if (socket_path == NULL || *socket_path == '\0')
		socket_path = DEFAULT_SOCKET;
	/* "+" stops at the command, whose options are its own. */
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			socket_path = optarg;
			break;
		case 'V':
			printf("kuifctl %s\n", KUIF_VERSION_STRING);
			return 0;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "monitor") == 0)
		return cmd_monitor(argc, argv);
	if (strcmp(cmd, "ping") == 0 && argc == 1)
		return cmd_simple(json_pack("{s:s, s:i}", "op", "ping", "id",
		    (int)getpid()), "pong");
	if (strcmp(cmd, "stats") == 0 && argc == 1)
		return cmd_simple(json_pack("{s:s}", "op", "stats"), "stats");
	if (strcmp(cmd, "emit") == 0 && (argc == 2 || argc == 3))
		return cmd_simple(json_pack("{s:s, s:s, s:s}", "op", "emit",
		    "event", argv[1], "payload", argc == 3 ? argv[2] : ""),
		    "emitted");
	usage();
}
