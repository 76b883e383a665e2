// SPDX-License-Identifier: GPL-2.0
/*
 * kuifctl: the command-line client of kuifd, built on libkuif.
 *
 * Exit codes: 0 success; 1 kuifd refused the request or answered badly;
 * 2 usage; 3 kuifd unreachable; 4 timeout before --count records.
 */
#include <errno.h>
#include <getopt.h>
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

#define PATTERNS_MAX 32

static const char *socket_path;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: kuifctl [--socket PATH] COMMAND [ARGS]\n"
	    "\n"
	    "  monitor [--event GLOB]... [--source NAME]... [--since SEQ]\n"
	    "          [--json] [--count N] [--timeout SECONDS] [--no-reconnect]\n"
	    "                        print events as they happen\n"
	    "  stats [--json]        kuifd's counters\n"
	    "  status                module, daemon and sources at a glance\n"
	    "  ping                  check that kuifd answers\n"
	    "  emit EVENT [PAYLOAD]  have the kernel emit an event\n"
	    "\n"
	    "The socket is --socket, $KUIF_SOCKET, or " KUIF_DEFAULT_SOCKET ".\n"
	    "Exit: 0 ok, 1 refused, 2 usage, 3 kuifd unreachable, 4 timeout.\n");
	exit(status);
}

static struct kuif_client *
connect_or_die(void)
{
	struct kuif_client *c = kuif_connect(socket_path);

	if (c == NULL) {
		fprintf(stderr, "kuifctl: cannot reach kuifd at %s: %s\n"
		    "Check `systemctl status kuifd`, and that you are root or "
		    "in group kuif.\n", kuif_socket_path(socket_path),
		    strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	return c;
}

static int
request_or_die(struct kuif_client *c, json_t *req, const char *type,
    json_t **reply)
{
	if (kuif_request(c, req, type, reply, 10000) == -1) {
		fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
		exit(errno == EREMOTEIO ? EXIT_REPLY : EXIT_UNREACHABLE);
	}
	return 0;
}

static void
print_json(const json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* time  seq  kseq  source  event  payload, aligned like udevadm monitor. */
static void
print_human(const json_t *rec)
{
	const char *type = str(rec, "type");
	const json_t *data = json_object_get(rec, "data");
	const char *payload = str(data, "payload");
	json_t *kseq = json_object_get(rec, "kseq");
	char k[24] = "-";

	if (strcmp(type, "event") == 0) {
		if (json_is_integer(kseq))
			snprintf(k, sizeof(k), "%lld",
			    (long long)json_integer_value(kseq));
		if (*payload == '\0' && json_object_get(data, "payload_hex"))
			payload = str(data, "payload_hex");
		printf("%-30s %7lld %7s %-7s %-20s %s\n",
		    *str(rec, "time") ? str(rec, "time") : "-",
		    (long long)json_integer_value(json_object_get(rec, "seq")),
		    k, str(rec, "source"), str(rec, "event"), payload);
	} else if (strcmp(type, "lost") == 0) {
		printf("*** LOST %lld record(s): %s ***\n",
		    (long long)json_integer_value(json_object_get(rec,
		    "count")), str(rec, "reason"));
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
		{ "no-reconnect", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *events[PATTERNS_MAX + 1] = { NULL };
	const char *sources[PATTERNS_MAX + 1] = { NULL };
	long long since = -1, count = -1, seen = 0, left_ms;
	int ch, json = 0, reconnect = 1, rc, nevents = 0, nsources = 0;
	double timeout = 0;
	struct kuif_client *c;
	struct timespec t0, t;
	const char *type;
	json_t *rec;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			if (nevents == PATTERNS_MAX)
				usage(EXIT_USAGE);
			events[nevents++] = optarg;
			break;
		case 's':
			if (nsources == PATTERNS_MAX)
				usage(EXIT_USAGE);
			sources[nsources++] = optarg;
			break;
		case 'S':
			errno = 0;
			since = strtoll(optarg, &end, 10);
			if (errno || *end != '\0' || since < 0)
				usage(EXIT_USAGE);
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			errno = 0;
			count = strtoll(optarg, &end, 10);
			if (errno || *end != '\0' || count <= 0)
				usage(EXIT_USAGE);
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end != '\0' || !(timeout > 0))
				usage(EXIT_USAGE);
			break;
		case 'n':
			reconnect = 0;
			break;
		case 'h':
			usage(0);
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(EXIT_USAGE);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = connect_or_die();
	kuif_set_reconnect(c, reconnect);
	if (kuif_subscribe(c, nevents ? events : NULL,
	    nsources ? sources : NULL, since) == -1) {
		fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
		return errno == EREMOTEIO ? EXIT_REPLY : EXIT_UNREACHABLE;
	}
	/* For scripts: the subscription is in place from here on. */
	fprintf(stderr, "kuifctl: subscribed\n");

	while (count < 0 || seen < count) {
		left_ms = -1;
		if (timeout > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			left_ms = (long long)(timeout * 1000) -
			    ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left_ms <= 0)
				break;
		}
		rc = kuif_next(c, &rec, (int)left_ms);
		if (rc == 0)
			break;
		if (rc == -1) {
			fprintf(stderr, "kuifctl: %s\n", kuif_error(c));
			kuif_close(c);
			return EXIT_UNREACHABLE;
		}
		type = str(rec, "type");
		if (strcmp(type, "event") == 0 || strcmp(type, "lost") == 0) {
			if (json)
				print_json(rec);
			else
				print_human(rec);
			fflush(stdout);
			seen++;
		}
		json_decref(rec);
	}
	kuif_close(c);
	return count > 0 && seen < count ? EXIT_TIMEOUT : 0;
}

static int
cmd_simple(json_t *req, const char *type)
{
	struct kuif_client *c = connect_or_die();
	json_t *reply;

	request_or_die(c, req, type, &reply);
	print_json(reply);
	json_decref(reply);
	kuif_close(c);
	return 0;
}

static void
print_flat(const char *prefix, const json_t *o)
{
	const char *key;
	json_t *v;
	char name[128];

	json_object_foreach((json_t *)o, key, v) {
		snprintf(name, sizeof(name), "%s%s%s", prefix,
		    *prefix ? "." : "", key);
		if (json_is_object(v))
			print_flat(name, v);
		else if (json_is_integer(v))
			printf("%-32s %lld\n", name,
			    (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			printf("%-32s %s\n", name, json_is_true(v) ? "yes" : "no");
		else if (json_is_string(v) && strcmp(key, "type") != 0)
			printf("%-32s %s\n", name, json_string_value(v));
	}
}

static int
cmd_stats(int argc, char **argv)
{
	struct kuif_client *c;
	json_t *reply;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
		usage(EXIT_USAGE);
	c = connect_or_die();
	request_or_die(c, json_pack("{s:s}", "op", "stats"), "stats", &reply);
	if (argc == 2)
		print_json(reply);
	else
		print_flat("", reply);
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
	c = kuif_connect(socket_path);
	if (c == NULL) {
		printf("daemon:   unreachable at %s: %s\n",
		    kuif_socket_path(socket_path), strerror(errno));
		return EXIT_UNREACHABLE;
	}
	printf("daemon:   %s at %s, seq %lld\n", str(kuif_hello(c), "server"),
	    kuif_socket_path(socket_path), (long long)json_integer_value(
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

	/* "+": stop at the command, whose options are its own. */
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			socket_path = optarg;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("kuifctl %s\n", KUIF_VERSION_STRING);
			return 0;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind >= argc)
		usage(EXIT_USAGE);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "monitor") == 0)
		return cmd_monitor(argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(argc, argv);
	if (strcmp(cmd, "status") == 0 && argc == 1)
		return cmd_status();
	if (strcmp(cmd, "ping") == 0 && argc == 1)
		return cmd_simple(json_pack("{s:s, s:i}", "op", "ping", "id",
		    (int)getpid()), "pong");
	if (strcmp(cmd, "emit") == 0 && (argc == 2 || argc == 3))
		return cmd_simple(json_pack("{s:s, s:s, s:s}", "op", "emit",
		    "event", argv[1], "payload", argc == 3 ? argv[2] : ""),
		    "emitted");
	usage(EXIT_USAGE);
}
