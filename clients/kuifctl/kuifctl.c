// SPDX-License-Identifier: GPL-2.0
/*
 * kuifctl: the command-line client of kuifd, built on libkuif.
 *
 * Options may come before or after the command; "--" ends them (for a
 * payload that starts with "-"). Help goes to standard output with exit 0;
 * usage errors name what is wrong, on standard error, with exit 2.
 *
 * Exit codes: 0 success; 1 kuifd refused the request or answered badly;
 * 2 usage; 3 kuifd unreachable; 4 timeout before --count records.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <kuif.h>

#include "kuif-client.h"

enum {
	EXIT_REPLY = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_TIMEOUT = 4,
};

enum output {
	OUT_SHORT,
	OUT_JSON,
	OUT_JSON_SEQ,
	OUT_CAT,
};

#define PATTERNS_MAX 32

/* The options, each allowed for the commands in its mask. */
enum {
	CMD_MONITOR	= 1 << 0,
	CMD_STATS	= 1 << 1,
	CMD_STATUS	= 1 << 2,
	CMD_PING	= 1 << 3,
	CMD_EMIT	= 1 << 4,
	CMD_HELP	= 1 << 5,
	CMD_ACTIONS	= 1 << 6,
	CMD_ALL		= 0xff,
};

struct command {
	const char	*name;
	unsigned	 mask;
	int		 min_args, max_args;	/* after the command */
	const char	*synopsis;
	const char	*help;
};

static const struct command commands[] = {
	{ "monitor", CMD_MONITOR, 0, 0,
	  "monitor [--event GLOB]... [--source NAME]... [--since SEQ]\n"
	  "                [--count N] [--timeout SECONDS] [--no-reconnect]\n"
	  "                [--reconnect-limit SECONDS] [-o MODE]",
	  "Print events as they happen. --event and --source take globs and\n"
	  "may be repeated; --since first replays what kuifd published after\n"
	  "that seq; --count exits after N records, --timeout after SECONDS\n"
	  "(reconnection included). When kuifd goes away, monitor reconnects\n"
	  "and resumes, trying for --reconnect-limit seconds (default 10;\n"
	  "\"inf\" for ever) unless --no-reconnect.\n"
	  "Output modes (-o, --output): short (default), json, json-seq\n"
	  "(RFC 7464), cat (payload only); --json is -o json.\n" },
	{ "stats", CMD_STATS, 0, 0, "stats [-o short|json]",
	  "kuifd's counters. The connection asking is counted in \"clients\";\n"
	  "its own counters are left out.\n" },
	{ "status", CMD_STATUS, 0, 0, "status",
	  "Module, daemon and sources at a glance.\n" },
	{ "ping", CMD_PING, 0, 0, "ping [-o short|json]",
	  "Check that kuifd answers, and print the round-trip time.\n" },
	{ "emit", CMD_EMIT, 1, 2, "emit [--] EVENT [PAYLOAD]",
	  "Have the kernel emit an event through kuifd; prints kuifd's reply,\n"
	  "{\"type\":\"emitted\",\"kseq\":N}.\n" },
	{ "actions", CMD_ACTIONS, 0, 0, "actions [-o short|json]",
	  "The action rules kuifd loaded from /etc/kuifd/actions.d, each\n"
	  "with its match, unit and counters, and the files it skipped\n"
	  "(file:line: why).\n" },
	{ "help", CMD_HELP, 0, 1, "help [COMMAND]",
	  "Print help, for one command or all.\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, 'j' },
	{ "event", required_argument, NULL, 'e' },
	{ "source", required_argument, NULL, 's' },
	{ "since", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "no-reconnect", no_argument, NULL, 'R' },
	{ "reconnect-limit", required_argument, NULL, 'L' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	int		 ch;
	unsigned	 mask;
} opt_commands[] = {
	{ 'S', CMD_ALL }, { 'h', CMD_ALL }, { 'V', CMD_ALL },
	{ 'o', CMD_MONITOR | CMD_STATS | CMD_PING | CMD_ACTIONS },
	{ 'j', CMD_MONITOR | CMD_STATS | CMD_PING | CMD_ACTIONS },
	{ 'e', CMD_MONITOR }, { 's', CMD_MONITOR }, { 'f', CMD_MONITOR },
	{ 'n', CMD_MONITOR }, { 't', CMD_MONITOR }, { 'R', CMD_MONITOR },
	{ 'L', CMD_MONITOR },
};

static struct {
	const char	*socket;
	enum output	 output;
	bool		 output_set;
	const char	*events[PATTERNS_MAX + 1];
	const char	*sources[PATTERNS_MAX + 1];
	int		 nevents, nsources;
	long long	 since, count;
	double		 timeout;
	bool		 reconnect;
	double		 reconnect_limit;	/* s; < 0 for ever */
} o = { .since = -1, .count = -1, .reconnect = true,
	.reconnect_limit = KUIF_RECONNECT_LIMIT_MS / 1000.0 };

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: kuifctl [OPTIONS] COMMAND [ARGS]\n\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fprintf(f, "\nOptions (before or after the command):\n"
	    "  -S, --socket PATH   kuifd's socket: default $KUIF_SOCKET or "
	    KUIF_DEFAULT_SOCKET "\n"
	    "  -o, --output MODE   short, json, json-seq or cat\n"
	    "  -h, --help          this help; `kuifctl COMMAND --help` for one\n"
	    "  -V, --version       the version\n\n"
	    "Exit: 0 ok, 1 refused, 2 usage, 3 kuifd unreachable, 4 timeout.\n");
}

static void __attribute__((noreturn))
help(const struct command *cmd)
{
	if (cmd == NULL)
		print_usage(stdout);
	else
		printf("usage: kuifctl [--socket PATH] %s\n\n%s",
		    cmd->synopsis, cmd->help);
	exit(0);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kuifctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd != NULL && cmd->mask != CMD_HELP)
		fprintf(stderr, "\nusage: kuifctl %s\nTry 'kuifctl %s --help'.\n",
		    cmd->synopsis, cmd->name);
	else
		fprintf(stderr, "\nusage: kuifctl [OPTIONS] COMMAND [ARGS]\n"
		    "Try 'kuifctl --help'.\n");
	exit(EXIT_USAGE);
}

static long long
parse_count(const char *opt, const char *arg, long long min)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min)
		usage_error(NULL, "%s: '%s' is not %s", opt, arg,
		    min > 0 ? "a positive integer" : "an integer >= 0");
	return v;
}

static double
parse_seconds(const char *opt, const char *arg, bool inf_ok)
{
	double v;
	char *end;

	if (inf_ok && (strcmp(arg, "inf") == 0 || strcmp(arg, "infinity") == 0))
		return -1;
	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) ||
	    !isfinite(v) || v > 86400.0 * 365)
		usage_error(NULL, "%s: '%s' is not a positive number of seconds",
		    opt, arg);
	return v;
}

static enum output
parse_output(const char *arg)
{
	static const char *const names[] = { "short", "json", "json-seq",
	    "cat" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i]) == 0)
			return (enum output)i;
	usage_error(NULL, "--output: unknown mode '%s' (short, json, json-seq, "
	    "cat)", arg);
}

static struct kuif_client *
connect_or_die(void)
{
	struct kuif_client *c = kuif_connect(o.socket);

	if (c == NULL) {
		fprintf(stderr, "kuifctl: cannot reach kuifd at %s: %s\n"
		    "Check `systemctl status kuifd`, and that you are root or "
		    "in group kuif.\n", kuif_socket_path(o.socket),
		    strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	return c;
}

static void
request_or_die(struct kuif_client *c, json_t *req, const char *type,
    json_t **reply)
{
	if (kuif_request(c, req, type, reply, 10000) == -1) {
		fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
		exit(errno == EREMOTEIO ? EXIT_REPLY : EXIT_UNREACHABLE);
	}
}

static void
print_json(const json_t *rec, enum output mode)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	if (s == NULL)
		return;
	if (mode == OUT_JSON_SEQ)
		printf("\x1e%s\n", s);
	else
		printf("%s\n", s);
	free(s);
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/*
 * s for a terminal: C0 and C1 control characters, DEL and backslash as
 * escapes (\n, \t, \e, \xNN, \u0085, \\), so nothing in a payload can move
 * the cursor or change the terminal. A single trailing newline is dropped.
 */
static void
put_escaped(const char *s)
{
	size_t len = strlen(s), i;
	unsigned char ch;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\\')
			fputs("\\\\", stdout);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch == 0x1b)
			fputs("\\e", stdout);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\x%02x", ch);
		else if (ch == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			/* U+0080..U+009F, the C1 controls (CSI is U+009B). */
			printf("\\u%04x", (unsigned char)s[i + 1]);
			i++;
		} else
			putchar(ch);
	}
}

/* The payload: text escaped, or "hex:..." for a binary one; a file
 * event's path and value as path=value. */
static void
put_payload(const json_t *data)
{
	json_t *hex = json_object_get(data, "payload_hex");

	if (json_is_string(json_object_get(data, "path"))) {
		put_escaped(str(data, "path"));
		if (json_is_string(json_object_get(data, "value"))) {
			putchar('=');
			put_escaped(str(data, "value"));
		} else if (json_is_string(json_object_get(data,
		    "value_hex"))) {
			fputs("=hex:", stdout);
			put_escaped(str(data, "value_hex"));
		}
	} else if (json_object_get(data, "payload") == NULL &&
	    json_is_string(hex)) {
		fputs("hex:", stdout);
		put_escaped(json_string_value(hex));
	} else
		put_escaped(str(data, "payload"));
}

static void
print_lost(const json_t *rec, FILE *f)
{
	json_t *count = json_object_get(rec, "count");

	if (json_is_integer(count) && json_integer_value(count) > 0)
		fprintf(f, "*** LOST %lld record(s): ",
		    (long long)json_integer_value(count));
	else
		fprintf(f, "*** LOST an unknown number of records: ");
	if (f == stdout)
		put_escaped(str(rec, "reason"));
	else
		fprintf(f, "%s", str(rec, "reason"));
	fprintf(f, " ***\n");
}

/* time  seq  kseq  source  event  payload, aligned like udevadm monitor. */
static void
print_short(const json_t *rec)
{
	const char *type = str(rec, "type");
	json_t *kseq = json_object_get(rec, "kseq");
	char k[24] = "-";

	if (strcmp(type, "event") == 0) {
		if (json_is_integer(kseq))
			snprintf(k, sizeof(k), "%lld",
			    (long long)json_integer_value(kseq));
		printf("%-30s %7lld %7s ", *str(rec, "time") ? str(rec, "time") :
		    "-", (long long)json_integer_value(json_object_get(rec,
		    "seq")), k);
		put_escaped(str(rec, "source"));
		printf("%*s ", (int)(strlen(str(rec, "source")) < 7 ?
		    7 - strlen(str(rec, "source")) : 0), "");
		put_escaped(str(rec, "event"));
		printf("%*s ", (int)(strlen(str(rec, "event")) < 20 ?
		    20 - strlen(str(rec, "event")) : 0), "");
		put_payload(json_object_get(rec, "data"));
		putchar('\n');
	} else if (strcmp(type, "lost") == 0)
		print_lost(rec, stdout);
}

/* The payload as it was: text, or the bytes of a hex payload. */
static void
print_cat(const json_t *rec)
{
	const json_t *data = json_object_get(rec, "data");
	const char *p = str(data, "payload"), *hex;
	unsigned int byte;
	size_t len;

	if (strcmp(str(rec, "type"), "lost") == 0) {
		fflush(stdout);
		print_lost(rec, stderr);
		return;
	}
	if (json_is_string(json_object_get(data, "path"))) {
		put_payload(data);	/* a file event: path=value, escaped */
		putchar('\n');
		return;
	}
	if (json_object_get(data, "payload") == NULL &&
	    json_is_string(json_object_get(data, "payload_hex"))) {
		for (hex = str(data, "payload_hex"); hex[0] && hex[1] &&
		    sscanf(hex, "%2x", &byte) == 1; hex += 2)
			putchar((int)byte);
		putchar('\n');
		return;
	}
	len = strlen(p);
	fwrite(p, 1, len, stdout);
	if (len == 0 || p[len - 1] != '\n')
		putchar('\n');
}

static int
cmd_monitor(void)
{
	long long seen = 0, left_ms, deadline_ms = -1;
	struct kuif_client *c;
	struct timespec t;
	const char *type;
	json_t *rec;
	int rc;

	if (o.timeout > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		deadline_ms = t.tv_sec * 1000LL + t.tv_nsec / 1000000 +
		    (long long)(o.timeout * 1000);
	}
	c = connect_or_die();
	kuif_set_reconnect(c, o.reconnect);
	kuif_set_reconnect_limit(c, o.reconnect_limit < 0 ? -1 :
	    (int)(o.reconnect_limit * 1000));
	if (kuif_subscribe(c, o.nevents ? o.events : NULL,
	    o.nsources ? o.sources : NULL, o.since) == -1) {
		fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
		kuif_close(c);
		return errno == EREMOTEIO ? EXIT_REPLY : EXIT_UNREACHABLE;
	}
	/* For scripts: the subscription is in place from here on. */
	fprintf(stderr, "kuifctl: subscribed\n");

	while (o.count < 0 || seen < o.count) {
		left_ms = -1;
		if (deadline_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			left_ms = deadline_ms - (t.tv_sec * 1000LL +
			    t.tv_nsec / 1000000);
			if (left_ms <= 0)
				break;
		}
		rc = kuif_next(c, &rec, left_ms > INT32_MAX ? INT32_MAX :
		    (int)left_ms);
		if (rc == 0)
			continue;	/* the deadline is checked above */
		if (rc == -1) {
			fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
			kuif_close(c);
			return EXIT_UNREACHABLE;
		}
		type = str(rec, "type");
		if (strcmp(type, "event") == 0 || strcmp(type, "lost") == 0) {
			switch (o.output) {
			case OUT_SHORT:
				print_short(rec);
				break;
			case OUT_JSON:
			case OUT_JSON_SEQ:
				print_json(rec, o.output);
				break;
			case OUT_CAT:
				print_cat(rec);
				break;
			}
			fflush(stdout);
			seen++;
		}
		json_decref(rec);
	}
	kuif_close(c);
	return o.count > 0 && seen < o.count ? EXIT_TIMEOUT : 0;
}

static int
cmd_emit(char **args, int nargs)
{
	struct kuif_client *c = connect_or_die();
	json_t *reply;

	request_or_die(c, json_pack("{s:s, s:s, s:s}", "op", "emit", "event",
	    args[0], "payload", nargs == 2 ? args[1] : ""), "emitted", &reply);
	/* The reply as it came, {"type":"emitted","kseq":N}, for scripts. */
	print_json(reply, OUT_JSON);
	json_decref(reply);
	kuif_close(c);
	return 0;
}

static int
cmd_ping(void)
{
	struct kuif_client *c = connect_or_die();
	struct timespec t0, t1;
	json_t *reply;
	double rtt_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_or_die(c, json_pack("{s:s, s:i}", "op", "ping", "id",
	    (int)getpid()), "pong", &reply);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rtt_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (o.output == OUT_SHORT)
		printf("pong from %s at %s: time=%.3f ms\n",
		    str(kuif_hello(c), "server"), kuif_socket_path(o.socket),
		    rtt_ms);
	else {
		json_object_set_new(reply, "rtt_ms", json_real(rtt_ms));
		print_json(reply, o.output);
	}
	json_decref(reply);
	kuif_close(c);
	return 0;
}

static void
print_flat(const char *prefix, const json_t *obj)
{
	const char *key;
	json_t *v;
	char name[128];

	json_object_foreach((json_t *)obj, key, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix,
		    *prefix ? "." : "", key);
		if (json_is_object(v))
			print_flat(name, v);
		else if (json_is_integer(v))
			printf("%-32s %lld\n", name,
			    (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("%-32s %s\n", name, json_is_true(v) ? "yes" : "no");
		else if (json_is_string(v) && strcmp(key, "type") != 0) {
			printf("%-32s ", name);
			put_escaped(json_string_value(v));
			putchar('\n');
		}
	}
}

static int
cmd_stats(void)
{
	struct kuif_client *c = connect_or_die();
	json_t *reply;

	request_or_die(c, json_pack("{s:s}", "op", "stats"), "stats", &reply);
	/* The asking connection's own counters are not kuifd's. */
	json_object_del(reply, "client");
	if (o.output == OUT_SHORT)
		print_flat("", reply);
	else
		print_json(reply, o.output);
	json_decref(reply);
	kuif_close(c);
	return 0;
}

static void
print_globs(const char *what, json_t *list)
{
	json_t *v;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	printf(" %s", what);
	json_array_foreach(list, i, v) {
		putchar(i == 0 ? '=' : ',');
		put_escaped(json_string_value(v));
	}
}

static int
cmd_actions(void)
{
	struct kuif_client *c = connect_or_die();
	json_t *reply, *r, *n;
	size_t i;

	request_or_die(c, json_pack("{s:s}", "op", "actions"), "actions",
	    &reply);
	if (o.output != OUT_SHORT) {
		print_json(reply, o.output);
		goto out;
	}
	printf("directory %s, system bus %s%s%s, running %lld of %lld\n",
	    str(reply, "directory"), str(reply, "bus"),
	    *str(reply, "bus_error") != '\0' ? ": " : "",
	    str(reply, "bus_error"),
	    (long long)json_integer_value(json_object_get(reply, "running")),
	    (long long)json_integer_value(json_object_get(reply,
	    "max_running")));
	json_array_foreach(json_object_get(reply, "rules"), i, r) {
		n = json_object_get(r, "counters");
		printf("%s:%lld [%s] unit=%s", str(r, "file"),
		    (long long)json_integer_value(json_object_get(r, "line")),
		    str(r, "name"), str(r, "unit"));
		print_globs("event", json_object_get(r, "event"));
		print_globs("source", json_object_get(r, "source"));
		if (json_is_string(json_object_get(r, "payload"))) {
			printf(" payload=");
			put_escaped(str(r, "payload"));
		}
		printf(" rate_limit=%s burst=%lld max_running=%lld\n",
		    str(r, "rate_limit"), (long long)json_integer_value(
		    json_object_get(r, "burst")), (long long)
		    json_integer_value(json_object_get(r, "max_running")));
		printf("    running %lld, matched %lld, started %lld, "
		    "succeeded %lld, failed %lld, start_failed %lld, "
		    "rate_limited %lld, capped %lld\n",
		    (long long)json_integer_value(json_object_get(r, "running")),
#define N(k) (long long)json_integer_value(json_object_get(n, k))
		    N("matched"), N("started"), N("succeeded"), N("failed"),
		    N("start_failed"), N("rate_limited"), N("capped"));
#undef N
	}
	json_array_foreach(json_object_get(reply, "errors"), i, r)
		printf("%s:%lld: %s (file skipped)\n", str(r, "file"),
		    (long long)json_integer_value(json_object_get(r, "line")),
		    str(r, "message"));
out:
	json_decref(reply);
	kuif_close(c);
	return 0;
}

static int
read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	if (f == NULL || fgets(buf, (int)size, f) == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int
cmd_status(void)
{
	char version[64];
	struct kuif_client *c;
	json_t *reply, *src;
	const char *key;
	int rc = 0;

	printf("kuifctl:  %s\n", KUIF_VERSION_STRING);
	if (read_small("/sys/module/kuif/version", version,
	    sizeof(version)) == 0)
		printf("module:   kuif %s loaded\n", version);
	else if (access("/sys/module/kuif", F_OK) == 0)
		printf("module:   kuif loaded\n");
	else {
		printf("module:   not loaded (modprobe kuif)\n");
		rc = EXIT_REPLY;
	}
	c = kuif_connect(o.socket);
	if (c == NULL) {
		printf("daemon:   unreachable at %s: %s\n",
		    kuif_socket_path(o.socket), strerror(errno));
		return EXIT_UNREACHABLE;
	}
	printf("daemon:   %s at %s, seq %lld\n", str(kuif_hello(c), "server"),
	    kuif_socket_path(o.socket), (long long)json_integer_value(
	    json_object_get(kuif_hello(c), "seq")));
	request_or_die(c, json_pack("{s:s}", "op", "stats"), "stats", &reply);
	json_object_foreach(json_object_get(reply, "sources"), key, src) {
		json_t *att = json_object_get(src, "attached");

		printf("source:   %-8s %-9s received %lld\n", key,
		    att == NULL ? "" : json_is_true(att) ? "attached" :
		    "detached", (long long)json_integer_value(
		    json_object_get(src, "received")));
	}
	json_decref(reply);
	kuif_close(c);
	return rc;
}

static const char *
opt_name(int ch)
{
	const struct option *lo;

	for (lo = long_opts; lo->name != NULL; lo++)
		if (lo->val == ch)
			return lo->name;
	return "?";
}

int
main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int ch, i, nargs;
	bool want_help = false;
	char **args;
	unsigned used[128] = { 0 };

	opterr = 0;
	/* Options anywhere (GNU permutation); ":" to tell a missing value. */
	while ((ch = getopt_long(argc, argv, ":hVS:o:", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			o.socket = optarg;
			break;
		case 'h':
			want_help = true;
			break;
		case 'V':
			printf("kuifctl %s\n", KUIF_VERSION_STRING);
			return 0;
		case 'o':
			o.output = parse_output(optarg);
			o.output_set = true;
			break;
		case 'j':
			o.output = OUT_JSON;
			o.output_set = true;
			break;
		case 'e':
			if (o.nevents == PATTERNS_MAX)
				usage_error(NULL, "--event: at most %d patterns",
				    PATTERNS_MAX);
			o.events[o.nevents++] = optarg;
			break;
		case 's':
			if (o.nsources == PATTERNS_MAX)
				usage_error(NULL, "--source: at most %d patterns",
				    PATTERNS_MAX);
			o.sources[o.nsources++] = optarg;
			break;
		case 'f':
			o.since = parse_count("--since", optarg, 0);
			break;
		case 'n':
			o.count = parse_count("--count", optarg, 1);
			break;
		case 't':
			o.timeout = parse_seconds("--timeout", optarg, false);
			break;
		case 'R':
			o.reconnect = false;
			break;
		case 'L':
			o.reconnect_limit = parse_seconds("--reconnect-limit",
			    optarg, true);
			break;
		case ':':
			usage_error(NULL, "option '%s' needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error(NULL, "unknown option '-%c'", optopt);
			usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
		used[ch & 127] = 1;
	}
	if (optind >= argc) {
		if (want_help)
			help(NULL);
		usage_error(NULL, "no command given");
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		usage_error(NULL, "unknown command '%s'", argv[optind]);
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (cmd->mask == CMD_HELP) {
		if (nargs == 1 && find_command(args[0]) == NULL)
			usage_error(cmd, "unknown command '%s'", args[0]);
		help(nargs == 1 ? find_command(args[0]) : NULL);
	}
	if (want_help)
		help(cmd);
	for (i = 0; i < (int)(sizeof(opt_commands) / sizeof(opt_commands[0]));
	    i++) {
		if (used[opt_commands[i].ch] &&
		    !(opt_commands[i].mask & cmd->mask))
			usage_error(cmd, "option '--%s' does not apply to '%s'",
			    opt_name(opt_commands[i].ch), cmd->name);
	}
	if (o.output == OUT_CAT && cmd->mask != CMD_MONITOR)
		usage_error(cmd, "--output cat is for monitor only");
	if (nargs < cmd->min_args)
		usage_error(cmd, "'%s' needs %s", cmd->name,
		    cmd->mask == CMD_EMIT ? "an EVENT name" : "an argument");
	if (nargs > cmd->max_args)
		usage_error(cmd, "unexpected argument '%s'",
		    args[cmd->max_args]);

	switch (cmd->mask) {
	case CMD_MONITOR:
		return cmd_monitor();
	case CMD_STATS:
		return cmd_stats();
	case CMD_STATUS:
		return cmd_status();
	case CMD_PING:
		return cmd_ping();
	case CMD_ACTIONS:
		return cmd_actions();
	default:
		return cmd_emit(args, nargs);
	}
}
