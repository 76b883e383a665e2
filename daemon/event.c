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

/*
 * Events are the hot path: they are written by hand rather than through a
 * jansson tree, which cost half of kuifd's instructions per event. The
 * escaping follows jansson's defaults, so both produce the same bytes.
 */

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
bool
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp;

	while (i < n) {
		uint8_t c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += len;
	}
	return true;
}

/* Escapes n bytes of valid UTF-8 into out, which has room for 6 * n. */
static size_t
json_escape(char *out, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		switch (c) {
		case '"':
		case '\\':
			out[o++] = '\\';
			out[o++] = (char)c;
			break;
		case '\b':
			out[o++] = '\\';
			out[o++] = 'b';
			break;
		case '\f':
			out[o++] = '\\';
			out[o++] = 'f';
			break;
		case '\n':
			out[o++] = '\\';
			out[o++] = 'n';
			break;
		case '\r':
			out[o++] = '\\';
			out[o++] = 'r';
			break;
		case '\t':
			out[o++] = '\\';
			out[o++] = 't';
			break;
		default:
			if (c < 0x20) {
				memcpy(out + o, "\\u00", 4);
				out[o + 4] = hex[c >> 4];
				out[o + 5] = hex[c & 0xf];
				o += 6;
			} else
				out[o++] = (char)c;
		}
	}
	return o;
}

#define APPEND(lit) do {					\
	memcpy(buf + o, lit, sizeof(lit) - 1);			\
	o += sizeof(lit) - 1;					\
} while (0)

/*
 * A file observation (src_inotify.c): the payload is the path, then a NUL
 * and the value read back when there is one. Written as
 * "data":{"path":"...","value":"..."}, the value as value_hex when it is
 * not text. Returns the bytes written, up to the closing "}}\n".
 */
static size_t
event_file_data(char *buf, const struct event *ev)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *nul = memchr(ev->payload, '\0', ev->len);
	size_t o = 0, plen = nul != NULL ? (size_t)(nul - ev->payload) :
	    ev->len, vlen, i;
	const uint8_t *v;

	APPEND("\",\"data\":{\"path\":\"");
	if (utf8_valid(ev->payload, plen))
		o += json_escape(buf + o, ev->payload, plen);
	if (nul != NULL) {
		v = nul + 1;
		vlen = ev->len - plen - 1;
		if (utf8_valid(v, vlen) && memchr(v, '\0', vlen) == NULL) {
			APPEND("\",\"value\":\"");
			o += json_escape(buf + o, v, vlen);
		} else {
			APPEND("\",\"value_hex\":\"");
			for (i = 0; i < vlen; i++) {
				buf[o++] = hex[v[i] >> 4];
				buf[o++] = hex[v[i] & 0xf];
			}
		}
	}
	APPEND("\"}}\n");
	return o;
}

#define EVENT_JSON_MAX	(512 + 6 * KUIF_EVENT_NAME_MAX + 6 * KUIF_PAYLOAD_MAX)

char *
event_to_json(const struct event *ev, size_t *lenp)
{
	static const char hex[] = "0123456789abcdef";
	char tbuf[64], *buf, *shrunk;
	size_t o, i;
	int n;

	buf = malloc(EVENT_JSON_MAX);
	if (buf == NULL)
		return NULL;
	if (event_format_time(ev->time_ns, tbuf, sizeof(tbuf)) == -1)
		n = -1;
	else if (ev->kseq == 0)	/* a file observation: time of receipt */
		n = snprintf(buf, EVENT_JSON_MAX,
		    "{\"type\":\"event\",\"seq\":%llu,\"time\":\"%s\","
		    "\"source\":\"", (unsigned long long)ev->seq, tbuf);
	else
		n = snprintf(buf, EVENT_JSON_MAX,
		    "{\"type\":\"event\",\"seq\":%llu,\"kseq\":%llu,"
		    "\"time\":\"%s\",\"source\":\"",
		    (unsigned long long)ev->seq, (unsigned long long)ev->kseq,
		    tbuf);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	o = (size_t)n;
	o += json_escape(buf + o, (const uint8_t *)ev->source,
	    strnlen(ev->source, sizeof(ev->source)));
	APPEND("\",\"event\":\"");
	o += json_escape(buf + o, (const uint8_t *)ev->name,
	    strnlen(ev->name, sizeof(ev->name)));
	if (ev->kseq == 0 && strcmp(ev->source, "inotify") == 0) {
		o += event_file_data(buf + o, ev);
		goto done;
	}
	/*
	 * Text when it is valid UTF-8 without NUL (which many JSON parsers,
	 * jansson among them, refuse by default), hex otherwise: nothing is
	 * lost either way.
	 */
	if (utf8_valid(ev->payload, ev->len) &&
	    memchr(ev->payload, '\0', ev->len) == NULL) {
		APPEND("\",\"data\":{\"payload\":\"");
		o += json_escape(buf + o, ev->payload, ev->len);
	} else {
		APPEND("\",\"data\":{\"payload_hex\":\"");
		for (i = 0; i < ev->len; i++) {
			buf[o++] = hex[ev->payload[i] >> 4];
			buf[o++] = hex[ev->payload[i] & 0xf];
		}
	}
	APPEND("\"}}\n");
done:
	buf[o] = '\0';
	if (lenp != NULL)
		*lenp = o;
	/*
	 * The line is kept in the history and in every slow subscriber's
	 * queue: give back the worst-case room it did not use (a typical
	 * line is a tenth of EVENT_JSON_MAX), or those hold ten times the
	 * memory their bytes need.
	 */
	shrunk = realloc(buf, o + 1);
	return shrunk != NULL ? shrunk : buf;
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
