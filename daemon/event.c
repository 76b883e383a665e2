// SPDX-License-Identifier: GPL-2.0
/* An event and its JSON line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/*
 * The length of the valid name that ends with a NUL within size bytes,
 * or 0: the end and the rule found in one pass, for the ring's records.
 */
size_t
event_name_check(const char *name, size_t size)
{
	size_t i;
	char c;

	if (size > KUIF_EVENT_NAME_MAX)
		size = KUIF_EVENT_NAME_MAX;
	if (size == 0 || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (i = 1; i < size; i++) {
		c = name[i];
		if (c == '\0')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 0;	/* no NUL: longer than a name can be */
}

/* "00" to "99": two digits per division. */
static const char event_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Writes v in decimal at p; returns the number of digits. Straight into
 * p, from its last digit: no copy through a buffer of its own. */
static size_t
event_put_u64(char *p, uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
		10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
		100000000000ULL, 1000000000000ULL, 10000000000000ULL,
		100000000000000ULL, 1000000000000000ULL,
		10000000000000000ULL, 100000000000000000ULL,
		1000000000000000000ULL, 10000000000000000000ULL,
	};
	/* Digits from the bit length (1233 / 4096 ~ log10 2), then exact. */
	size_t n = (size_t)(64 - __builtin_clzll(v | 1)) * 1233 >> 12, o;

	if (n < 20 && v >= pow10[n])
		n++;
	if (n == 0)
		n = 1;
	o = n;
	while (v >= 100) {
		o -= 2;
		p[o] = event_digits[v % 100 * 2];
		p[o + 1] = event_digits[v % 100 * 2 + 1];
		v /= 100;
	}
	if (v >= 10) {
		p[0] = event_digits[v * 2];
		p[1] = event_digits[v * 2 + 1];
	} else
		p[0] = (char)('0' + v);
	return n;
}

/*
 * The last number written in one place of the line, as text: seq goes up
 * by one a record, and so do the kseqs of a burst, so the next one is
 * mostly this one with its last digit incremented, not ten divisions.
 * kuifd runs one thread.
 */
struct event_decimal {
	uint64_t	v;
	size_t		n;		/* digits in s; 0: nothing yet */
	char		s[20];
};

static struct event_decimal event_seq_text, event_kseq_text;

/* Writes v in decimal at p, as event_put_u64(); p has room for 20 bytes
 * (all of them may be written, those past the digits with junk). */
static size_t
event_put_next(struct event_decimal *d, char *p, uint64_t v)
{
	size_t i;

	if (d->n == 0 || v == 0 || v - 1 != d->v) {
		d->n = event_put_u64(d->s, v);
	} else {
		for (i = d->n; i > 0 && d->s[i - 1] == '9'; i--)
			d->s[i - 1] = '0';
		if (i > 0)
			d->s[i - 1]++;
		else {
			/* 99..9 + 1: one digit more, at most 20 (v fits). */
			d->s[d->n++] = '0';
			d->s[0] = '1';
		}
	}
	d->v = v;
	memcpy(p, d->s, sizeof(d->s));
	return d->n;
}

/*
 * The second, "2026-11-28T22:04:19", of the last time formatted: events
 * come in bursts within one second, and gmtime_r is the costly part of a
 * line. kuifd runs one thread.
 */
static struct {
	bool	valid;
	time_t	sec;
	char	text[EVENT_TIME_SECOND_LEN + 1];
} event_time_cache;

/*
 * RFC 3339 in UTC with nanoseconds, 2026-11-28T22:04:19.123456789Z,
 * without the NUL, into buf (room for EVENT_TIME_LEN bytes). Returns
 * EVENT_TIME_LEN, or 0 for a time the calendar cannot show in that form.
 */
size_t
event_put_time(char *buf, uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	uint32_t frac = (uint32_t)(ns % 1000000000ULL);
	struct tm tm;
	int i;

	if (!event_time_cache.valid || event_time_cache.sec != sec) {
		if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
		    strftime(event_time_cache.text,
		    sizeof(event_time_cache.text), "%Y-%m-%dT%H:%M:%S",
		    &tm) != EVENT_TIME_SECOND_LEN) {
			event_time_cache.valid = false;
			return 0;
		}
		event_time_cache.sec = sec;
		event_time_cache.valid = true;
	}
	memcpy(buf, event_time_cache.text, EVENT_TIME_SECOND_LEN);
	buf[EVENT_TIME_SECOND_LEN] = '.';
	/* Nine digits: the first, then four pairs. */
	buf[EVENT_TIME_SECOND_LEN + 1] = (char)('0' + frac / 100000000);
	frac %= 100000000;
	for (i = 8; i >= 2; i -= 2) {
		memcpy(buf + EVENT_TIME_SECOND_LEN + i, event_digits +
		    frac % 100 * 2, 2);
		frac /= 100;
	}
	buf[EVENT_TIME_LEN - 1] = 'Z';
	return EVENT_TIME_LEN;
}

int
event_format_time(uint64_t ns, char *buf, size_t size)
{
	if (size < EVENT_TIME_LEN + 1 || event_put_time(buf, ns) == 0)
		return -1;
	buf[EVENT_TIME_LEN] = '\0';
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

/*
 * Bytes that need more than a copy in a JSON string: control characters,
 * '"', '\\' and everything past ASCII (which must be valid UTF-8). Plain
 * text, the common case, is checked and copied in one pass.
 */
static const uint8_t event_special[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

#define EVENT_BYTES(c)	(0x0101010101010101ULL * (c))
/* Whether a byte of w is zero; of w, below n (n <= 0x80); exact. */
#define EVENT_HASZERO(w)	(((w) - EVENT_BYTES(1)) & ~(w) & EVENT_BYTES(0x80))
#define EVENT_HASLESS(w, n)	(((w) - EVENT_BYTES(n)) & ~(w) & EVENT_BYTES(0x80))

/* True when s holds no byte that json_escape() would change, and no NUL
 * or byte past ASCII: eight bytes at a time, then the rest. */
static bool
event_plain(const uint8_t *s, size_t n)
{
	size_t i = 0;
	uint64_t w;

#ifdef __SSE2__
	/* Sixteen at a time: below 0x20 as signed bytes is a control
	 * character or a byte past ASCII. */
	const __m128i sp = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'),
	    bs = _mm_set1_epi8('\\');
	__m128i v;

	for (; i + sizeof(v) <= n; i += sizeof(v)) {
		v = _mm_loadu_si128((const __m128i *)(s + i));
		if (_mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, sp),
		    _mm_or_si128(_mm_cmpeq_epi8(v, q),
		    _mm_cmpeq_epi8(v, bs)))) != 0)
			return false;
	}
#endif
	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, s + i, sizeof(w));
		if ((w & EVENT_BYTES(0x80)) || EVENT_HASLESS(w, 0x20) ||
		    EVENT_HASZERO(w ^ EVENT_BYTES('"')) ||
		    EVENT_HASZERO(w ^ EVENT_BYTES('\\')))
			return false;
	}
	for (; i < n; i++)
		if (event_special[s[i]])
			return false;
	return true;
}

/*
 * A source or a name (NUL-terminated within size) as a JSON string's
 * contents; returns the bytes written. They are a few plain bytes: one
 * pass finds the end and copies, and only a byte that needs more sends
 * the whole to json_escape().
 */
static size_t
event_put_str(char *buf, const char *s, size_t size)
{
	size_t n;
	uint8_t c;

	for (n = 0; n < size; n++) {
		c = (uint8_t)s[n];
		if (event_special[c]) {
			if (c == '\0')
				return n;
			n += strnlen(s + n, size - n);
			return json_escape(buf, (const uint8_t *)s, n);
		}
		buf[n] = (char)c;
	}
	return n;
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

/*
 * Writes ev's line, '\n' included, into buf, which has room for
 * EVENT_JSON_MAX bytes. Returns its length, 0 when it cannot be encoded.
 */
size_t
event_json_write(const struct event *ev, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i, n;

	APPEND("{\"type\":\"event\",\"seq\":");
	o += event_put_next(&event_seq_text, buf + o, ev->seq);
	if (ev->kseq != 0) {	/* 0: a file observation, no kseq */
		APPEND(",\"kseq\":");
		o += event_put_next(&event_kseq_text, buf + o, ev->kseq);
	}
	/* A file observation's time is when kuifd read it. */
	APPEND(",\"time\":\"");
	n = event_put_time(buf + o, ev->time_ns);
	if (n == 0)
		return 0;
	o += n;
	APPEND("\"");
	APPEND(",\"source\":\"");
	o += event_put_str(buf + o, ev->source, sizeof(ev->source));
	APPEND("\",\"event\":\"");
	o += event_put_str(buf + o, ev->name, sizeof(ev->name));
	if (ev->kseq == 0 && strcmp(ev->source, "inotify") == 0)
		return o + event_file_data(buf + o, ev);
	/*
	 * Text when it is valid UTF-8 without NUL (which many JSON parsers,
	 * jansson among them, refuse by default), hex otherwise: nothing is
	 * lost either way.
	 */
	if (event_plain(ev->payload, ev->len)) {
		APPEND("\",\"data\":{\"payload\":\"");
		memcpy(buf + o, ev->payload, ev->len);
		o += ev->len;
	} else if (utf8_valid(ev->payload, ev->len) &&
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
	return o;
}

/* The line as a string of its own (allocated to its length), for what is
 * not the hot path: tests, the history restored at start. */
char *
event_to_json(const struct event *ev, size_t *lenp)
{
	char *buf, *shrunk;
	size_t o;

	buf = malloc(EVENT_JSON_MAX + 1);
	if (buf == NULL)
		return NULL;
	o = event_json_write(ev, buf);
	if (o == 0) {
		free(buf);
		return NULL;
	}
	buf[o] = '\0';
	if (lenp != NULL)
		*lenp = o;
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
