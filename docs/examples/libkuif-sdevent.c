// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkuif in an sd-event loop (libsystemd): one I/O source on kuif_fd(),
 * added once (it survives kuifd restarts). Prints COUNT records.
 *
 *	libkuif-sdevent [SOCKET [COUNT [EVENT-GLOB]]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>
#include <kuif-client.h>

struct state {
	struct kuif_client	*c;
	long			 count, seen;
};

static int
on_kuif(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct state *st = arg;
	const char *type;
	json_t *rec;
	int rc;

	(void)fd;
	(void)revents;
	while ((rc = kuif_next(st->c, &rec, 0)) == 1) {
		type = json_string_value(json_object_get(rec, "type"));
		if (type != NULL && strcmp(type, "lost") == 0)
			printf("lost %lld %s\n", (long long)json_integer_value(
			    json_object_get(rec, "count")), json_string_value(
			    json_object_get(rec, "reason")));
		else
			printf("%lld %s %s\n", (long long)json_integer_value(
			    json_object_get(rec, "seq")), json_string_value(
			    json_object_get(rec, "event")), json_string_value(
			    json_object_get(json_object_get(rec, "data"),
			    "payload")));
		fflush(stdout);
		json_decref(rec);
		if (++st->seen == st->count)
			return sd_event_exit(sd_event_source_get_event(s), 0);
	}
	if (rc == -1) {
		fprintf(stderr, "kuif_next: %s\n", kuif_error(st->c));
		return sd_event_exit(sd_event_source_get_event(s), 1);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *events[] = { argc > 3 ? argv[3] : "*", NULL };
	struct state st = { .count = argc > 2 ? strtol(argv[2], NULL, 10) : -1 };
	sd_event_source *src = NULL;
	sd_event *loop = NULL;
	int rc;

	st.c = kuif_connect(argc > 1 ? argv[1] : NULL);
	if (st.c == NULL) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		return 1;
	}
	kuif_set_reconnect(st.c, true);
	kuif_set_reconnect_limit(st.c, -1);
	if (kuif_subscribe(st.c, events, NULL, -1) == -1) {
		fprintf(stderr, "subscribe: %s\n", kuif_error(st.c));
		return 1;
	}
	fprintf(stderr, "subscribed\n");
	if (sd_event_default(&loop) < 0 || sd_event_add_io(loop, &src,
	    kuif_fd(st.c), EPOLLIN, on_kuif, &st) < 0) {
		fprintf(stderr, "sd-event setup failed\n");
		return 1;
	}
	rc = sd_event_loop(loop);
	sd_event_source_unref(src);
	sd_event_unref(loop);
	kuif_close(st.c);
	return rc == 0 ? 0 : 1;
}
