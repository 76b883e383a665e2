// SPDX-License-Identifier: GPL-2.0
/* An event and its JSON line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kuifd.h"

/* The kernel's rule for names: [a-z][a-z0-9._-]*, 1 to 31 bytes. */
bool
event_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= KUIF_EVENT_NAME_MAX || name[0] < 'a' ||
	    name[0] > 'z')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* RFC 3339 in UTC with nanoseconds: 2026-11-28T22:04:19.123456789Z */
int
event_format_time(uint64_t ns, char *buf, size_t size)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	if (gmtime_r(&sec, &tm) == NULL)
		return -1;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return -1;
	if ((size_t)snprintf(buf + n, size - n, ".%09lluZ",
	    (unsigned long long)(ns % 1000000000ULL)) >= size - n)
		return -1;
	return 0;
}

static json_t *
event_data(const struct event *ev)
{
	static const char hex[] = "0123456789abcdef";
	char buf[2 * KUIF_PAYLOAD_MAX + 1];
	json_t *text;
	size_t i;

	/* Text when it is valid UTF-8, hex otherwise: nothing is lost. */
	text = json_stringn((const char *)ev->payload, ev->len);
	if (text != NULL)
		return json_pack("{s:o}", "payload", text);
	for (i = 0; i < ev->len; i++) {
		buf[2 * i] = hex[ev->payload[i] >> 4];
		buf[2 * i + 1] = hex[ev->payload[i] & 0xf];
	}
	buf[2 * ev->len] = '\0';
	return json_pack("{s:s}", "payload_hex", buf);
}

/* Serialize a JSON value as one line ending in '\n'; frees the value. */
char *
json_line(json_t *obj, size_t *lenp)
{
	size_t n;
	char *s;

	if (obj == NULL)
		return NULL;
	n = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	if (n == 0 || (s = malloc(n + 2)) == NULL) {
		json_decref(obj);
		return NULL;
	}
	json_dumpb(obj, s, n, JSON_COMPACT);
	json_decref(obj);
	s[n] = '\n';
	s[n + 1] = '\0';
	if (lenp != NULL)
		*lenp = n + 1;
	return s;
}

/* A file observation has no kseq and no kernel time. */
static char *
event_file_to_json(const struct event *ev)
{
	return json_line(json_pack("{s:s, s:I, s:s, s:s, s:o}",
	    "type", "event",
	    "seq", (json_int_t)ev->seq,
	    "source", ev->source,
	    "event", ev->name,
	    "data", event_data(ev)), NULL);
}

char *
event_to_json(const struct event *ev, size_t *lenp)
{
	char tbuf[64];

	if (ev->kseq == 0)
		return event_file_to_json(ev);
	if (event_format_time(ev->time_ns, tbuf, sizeof(tbuf)) == -1)
		return NULL;
	return json_line(json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:o}",
	    "type", "event",
	    "seq", (json_int_t)ev->seq,
	    "kseq", (json_int_t)ev->kseq,
	    "time", tbuf,
	    "source", ev->source,
	    "event", ev->name,
	    "data", event_data(ev)), lenp);
}
