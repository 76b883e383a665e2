// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkuif in a libevent loop: one persistent read event on kuif_fd(),
 * registered once (it survives kuifd restarts). Prints COUNT records.
 *
 *	libkuif-libevent [SOCKET [COUNT [EVENT-GLOB]]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <kuif-client.h>

struct state {
	struct kuif_client	*c;
	struct event_base	*base;
	long			 count, seen;
	int			 status;
};

static void
on_kuif(evutil_socket_t fd, short what, void *arg)
{
	struct state *st = arg;
	const char *type;
	json_t *rec;
	int rc;

	(void)fd;
	(void)what;
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
		if (++st->seen == st->count) {
			st->status = 0;
			event_base_loopbreak(st->base);
			return;
		}
	}
	if (rc == -1) {
		fprintf(stderr, "kuif_next: %s\n", kuif_error(st->c));
		event_base_loopbreak(st->base);
	}
}

int
main(int argc, char **argv)
{
	const char *events[] = { argc > 3 ? argv[3] : "*", NULL };
	struct state st = { .count = argc > 2 ? strtol(argv[2], NULL, 10) : -1,
	    .status = 1 };
	struct event *ev;

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
	st.base = event_base_new();
	ev = event_new(st.base, kuif_fd(st.c), EV_READ | EV_PERSIST, on_kuif,
	    &st);
	event_add(ev, NULL);
	event_base_dispatch(st.base);
	event_free(ev);
	event_base_free(st.base);
	kuif_close(st.c);
	return st.status;
}
