// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkuif in a plain poll() loop, next to the caller's own descriptors
 * (here standard input: typing "q" quits). Prints COUNT records, then
 * exits (end of input does not). Survives kuifd restarts: kuif_fd() stays the same descriptor.
 *
 *	libkuif-poll [SOCKET [COUNT [EVENT-GLOB]]]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kuif-client.h>

static void
print_record(const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));

	if (type != NULL && strcmp(type, "lost") == 0)
		printf("lost %lld %s\n", (long long)json_integer_value(
		    json_object_get(rec, "count")), json_string_value(
		    json_object_get(rec, "reason")));
	else
		printf("%lld %s %s\n", (long long)json_integer_value(
		    json_object_get(rec, "seq")), json_string_value(
		    json_object_get(rec, "event")), json_string_value(
		    json_object_get(json_object_get(rec, "data"), "payload")));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *events[] = { argc > 3 ? argv[3] : "*", NULL };
	long count = argc > 2 ? strtol(argv[2], NULL, 10) : -1, seen = 0;
	struct kuif_client *c;
	struct pollfd pfd[2];
	json_t *rec;
	int rc = 0;

	c = kuif_connect(argc > 1 ? argv[1] : NULL);
	if (c == NULL) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		return 1;
	}
	kuif_set_reconnect(c, true);
	kuif_set_reconnect_limit(c, -1);
	if (kuif_subscribe(c, events, NULL, -1) == -1) {
		fprintf(stderr, "subscribe: %s\n", kuif_error(c));
		return 1;
	}
	fprintf(stderr, "subscribed\n");
	pfd[0] = (struct pollfd){ .fd = kuif_fd(c), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	while (count < 0 || seen < count) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents != 0) {
			char line[16];

			if (fgets(line, sizeof(line), stdin) == NULL)
				pfd[1].fd = -1;	/* end of input: stop watching */
			else if (line[0] == 'q')
				break;
		}
		/* Everything the library has, until it would block. */
		while ((count < 0 || seen < count) &&
		    (rc = kuif_next(c, &rec, 0)) == 1) {
			print_record(rec);
			json_decref(rec);
			seen++;
		}
		if (rc == -1) {
			fprintf(stderr, "kuif_next: %s\n", kuif_error(c));
			break;
		}
	}
	kuif_close(c);
	return count >= 0 && seen < count;
}
