// SPDX-License-Identifier: GPL-2.0
/* event.c: the JSON line of an event. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>

#include "kuifd.h"

static struct event
sample(const char *payload, size_t len)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 7;
	ev.kseq = 42;
	ev.time_ns = 1795904134123456789ULL;	/* 2026-11-28T22:15:34.123456789Z */
	strcpy(ev.source, "netlink");
	strcpy(ev.name, "chardev.write");
	memcpy(ev.payload, payload, len);
	ev.len = len;
	return ev;
}

static void
test_event_json_has_every_field(void **state)
{
	struct event ev = sample("hello", 5);
	char *line;
	size_t len;

	(void)state;
	line = event_to_json(&ev, &len);
	assert_non_null(line);
	assert_string_equal(line,
	    "{\"type\":\"event\",\"seq\":7,\"kseq\":42,"
	    "\"time\":\"2026-11-28T22:15:34.123456789Z\",\"source\":\"netlink\","
	    "\"event\":\"chardev.write\",\"data\":{\"payload\":\"hello\"}}\n");
	assert_int_equal(len, strlen(line));
	free(line);
}

static void
test_event_json_escapes_text(void **state)
{
	struct event ev = sample("a\"b\\c\n", 6);
	json_t *obj;
	char *line;

	(void)state;
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	/* One line: the newline in the payload is escaped. */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	obj = json_loads(line, 0, NULL);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(obj, "data"), "payload")), "a\"b\\c\n");
	json_decref(obj);
	free(line);
}

static void
test_event_json_binary_payload_is_hex(void **state)
{
	struct event ev = sample("\xff\x00\x01", 3);
	char *line;

	(void)state;
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"data\":{\"payload_hex\":\"ff0001\"}"));
	free(line);
}

static void
test_event_json_nul_or_bad_utf8_is_hex(void **state)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
		const char	*want;
	} cases[] = {
		{ "a\0b", 3, "\"payload_hex\":\"610062\"" },
		{ "\xc0\xaf", 2, "\"payload_hex\":\"c0af\"" },	/* overlong */
		{ "\xed\xa0\x80", 3, "\"payload_hex\":\"eda080\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\"payload_hex\":\"f4908080\"" },
		{ "\xe2\x82", 2, "\"payload_hex\":\"e282\"" },	/* cut short */
		{ "\xe2\x82\xac\x01", 4, "\"payload\":\"\xe2\x82\xac\\u0001\"" },
	};
	struct event ev;
	size_t i;
	char *line;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev = sample(cases[i].bytes, cases[i].len);
		line = event_to_json(&ev, NULL);
		assert_non_null(line);
		if (strstr(line, cases[i].want) == NULL)
			fail_msg("case %zu: want %s in %s", i, cases[i].want,
			    line);
		free(line);
	}
}

static void
test_event_json_empty_payload(void **state)
{
	struct event ev = sample("", 0);
	char *line;

	(void)state;
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"data\":{\"payload\":\"\"}"));
	free(line);
}

#define EVENT_JSON_HEAD "{\"type\":\"event\",\"seq\":7,\"kseq\":42," \
	"\"time\":\"2026-11-28T22:15:34.123456789Z\",\"source\":\"netlink\"," \
	"\"event\":\"chardev.write\",\"data\":{"

/* A full payload, binary and as text escaped 6 to 1: the exact bytes. */
static void
test_event_json_max_payload(void **state)
{
	char big[KUIF_PAYLOAD_MAX];
	char want[sizeof(EVENT_JSON_HEAD) + 6 * KUIF_PAYLOAD_MAX + 32];
	struct event ev;
	char *line;
	size_t i, n, len;

	(void)state;
	memset(big, 0xfe, sizeof(big));
	ev = sample(big, sizeof(big));
	line = event_to_json(&ev, &len);
	assert_non_null(line);
	n = (size_t)snprintf(want, sizeof(want), "%s\"payload_hex\":\"",
	    EVENT_JSON_HEAD);
	for (i = 0; i < KUIF_PAYLOAD_MAX; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "fe");
	snprintf(want + n, sizeof(want) - n, "\"}}\n");
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
	free(line);

	/* Valid UTF-8 of control characters: each one becomes \u00XX. */
	memset(big, 0x1f, sizeof(big));
	ev = sample(big, sizeof(big));
	line = event_to_json(&ev, &len);
	assert_non_null(line);
	n = (size_t)snprintf(want, sizeof(want), "%s\"payload\":\"",
	    EVENT_JSON_HEAD);
	for (i = 0; i < KUIF_PAYLOAD_MAX; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "\\u001f");
	snprintf(want + n, sizeof(want) - n, "\"}}\n");
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
	free(line);
}

static void
test_time_format_epoch_and_nanoseconds(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(event_format_time(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	assert_int_equal(event_format_time(1000000001ULL, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "1970-01-01T00:00:01.000000001Z");
	/* Too small a buffer is an error, not a truncated time. */
	assert_int_equal(event_format_time(0, buf, 20), -1);
}

/* A file observation: no kseq, the time it was read, path and value as
 * fields of their own (src_inotify.c: path, NUL, value). */
static void
test_event_json_file_has_time_path_and_value(void **state)
{
	static const char p[] = "/sys/kernel/kuif/value\0" "77";
	struct event ev = sample(p, sizeof(p) - 1);
	char *line;

	(void)state;
	ev.kseq = 0;
	strcpy(ev.source, "inotify");
	strcpy(ev.name, "file.modified");
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_string_equal(line,
	    "{\"type\":\"event\",\"seq\":7,"
	    "\"time\":\"2026-11-28T22:15:34.123456789Z\",\"source\":\"inotify\","
	    "\"event\":\"file.modified\",\"data\":{\"path\":"
	    "\"/sys/kernel/kuif/value\",\"value\":\"77\"}}\n");
	free(line);
	/* created or deleted: a path alone; a value that is not text: hex. */
	ev.len = strlen("/sys/kernel/kuif/value");
	line = event_to_json(&ev, NULL);
	assert_non_null(strstr(line, "\"data\":{\"path\":"
	    "\"/sys/kernel/kuif/value\"}}\n"));
	free(line);
	memcpy(ev.payload + ev.len, "\0\xff\x01", 3);
	ev.len += 3;
	line = event_to_json(&ev, NULL);
	assert_non_null(strstr(line, "\"value_hex\":\"ff01\"}}\n"));
	free(line);
}

/*
 * The second is cached between events: times that go back and forth
 * between seconds, days and years, and runs within one second, each
 * read as gmtime_r and strftime say.
 */
static void
test_time_cache_follows_every_second(void **state)
{
	uint64_t ns = 1795904134123456789ULL, x = 88172645463325252ULL;
	char buf[64], want[64];
	struct tm tm;
	time_t sec;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (x % 4) {
		case 0:
			ns += x % 1000;			/* same second, mostly */
			break;
		case 1:
			ns += x % 3000000000ULL;	/* the next seconds */
			break;
		case 2:
			ns -= x % 100000000000ULL;	/* back a little */
			break;
		default:
			ns = x % 4000000000000000000ULL;	/* anywhere */
		}
		assert_int_equal(event_format_time(ns, buf, sizeof(buf)), 0);
		sec = (time_t)(ns / 1000000000ULL);
		assert_non_null(gmtime_r(&sec, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + 19, sizeof(want) - 19, ".%09lluZ",
		    (unsigned long long)(ns % 1000000000ULL));
		assert_string_equal(buf, want);
	}
}

/*
 * Every byte value at every place of a payload longer than a word (the
 * plain-text check looks at eight bytes at a time): text that jansson
 * reads back as the same bytes, or hex for what is not UTF-8 or is NUL.
 */
static void
test_event_json_every_byte_everywhere(void **state)
{
	const char *plain = "abcdefghijklmnopq";	/* 17 bytes */
	json_t *obj, *data;
	json_error_t err;
	struct event ev;
	const char *text;
	char *line;
	int c, at;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (at = 0; at < 17; at++) {
			ev = sample(plain, 17);
			ev.payload[at] = (uint8_t)c;
			line = event_to_json(&ev, NULL);
			assert_non_null(line);
			obj = json_loads(line, 0, &err);
			assert_non_null(obj);
			data = json_object_get(obj, "data");
			if (c == 0 || c >= 0x80) {
				assert_non_null(json_object_get(data,
				    "payload_hex"));
			} else {
				text = json_string_value(json_object_get(data,
				    "payload"));
				assert_non_null(text);
				assert_int_equal(strlen(text), 17);
				assert_memory_equal(text, ev.payload, 17);
			}
			json_decref(obj);
			free(line);
		}
	}
}

/* seq and kseq at every number of digits, and at each power of ten. */
static void
test_event_json_numbers_every_length(void **state)
{
	char want[32], got[64];
	struct event ev;
	uint64_t p = 1, v;
	char *line;
	int e, d;

	(void)state;
	for (e = 0; e < 20; e++, p *= 10) {
		for (d = -1; d <= 1; d++) {
			v = p + (uint64_t)(int64_t)d;
			if (v == 0)
				v = 1;	/* kseq 0 leaves the field out */
			ev = sample("x", 1);
			ev.seq = v;
			ev.kseq = UINT64_MAX - v;
			line = event_to_json(&ev, NULL);
			assert_non_null(line);
			snprintf(want, sizeof(want), "%llu",
			    (unsigned long long)v);
			snprintf(got, sizeof(got), "\"seq\":%s,", want);
			assert_non_null(strstr(line, got));
			snprintf(got, sizeof(got), "\"kseq\":%llu,",
			    (unsigned long long)(UINT64_MAX - v));
			assert_non_null(strstr(line, got));
			free(line);
		}
	}
}

/* Numbers one after the other, as seq is written: every carry, every
 * new digit, and jumps back and forth between them. */
static void
test_event_json_numbers_in_sequence(void **state)
{
	static const uint64_t starts[] = {
		0, 1, 95, 990, 99990, 9999999990ULL, 18446744073709551600ULL,
	};
	char want[64];
	struct event ev;
	uint64_t v;
	char *line;
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		for (j = 0; j < 15 + (i == 0) * 2000; j++) {
			v = starts[i] + (uint64_t)j;
			ev = sample("x", 1);
			ev.seq = v;
			ev.kseq = v + 1 != 0 ? v + 1 : 1;
			if (j % 7 == 3)		/* a jump, and back */
				ev.seq = v / 3;
			line = event_to_json(&ev, NULL);
			assert_non_null(line);
			snprintf(want, sizeof(want), "\"seq\":%llu,\"kseq\":%llu,",
			    (unsigned long long)ev.seq,
			    (unsigned long long)ev.kseq);
			if (strstr(line, want) == NULL)
				fail_msg("%s: want %s", line, want);
			free(line);
		}
	}
	/* After the largest, 0 is not its successor. */
	ev = sample("x", 1);
	ev.seq = UINT64_MAX;
	free(event_to_json(&ev, NULL));
	ev.seq = 0;
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"seq\":0,"));
	free(line);
}

/* A source or a name with bytes that need escaping is escaped whole;
 * one that fills its array without a NUL ends at the array. */
static void
test_event_json_source_and_name_escaped(void **state)
{
	struct event ev = sample("p", 1);
	char *line;

	(void)state;
	strcpy(ev.source, "a\"b\\c");
	strcpy(ev.name, "x\ty");
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line,
	    "\"source\":\"a\\\"b\\\\c\",\"event\":\"x\\ty\","));
	free(line);
	memset(ev.source, 's', sizeof(ev.source));
	memset(ev.name, 'n', sizeof(ev.name));
	line = event_to_json(&ev, NULL);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"source\":\"ssssssssssssssss\","));
	assert_non_null(strstr(line,
	    "\"event\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\","));
	free(line);
}

/* event_name_check() agrees with event_name_valid() on the names the
 * ring can carry: NUL-terminated within KUIF_EVENT_NAME_MAX bytes. */
static void
test_event_name_check_is_the_kernels_rule(void **state)
{
	char name[KUIF_EVENT_NAME_MAX];
	size_t len, i;
	int c;

	(void)state;
	assert_int_equal(event_name_check("net.up", sizeof(name)), 6);
	memset(name, 0, sizeof(name));
	assert_int_equal(event_name_check(name, sizeof(name)), 0);
	memset(name, 'a', sizeof(name));	/* no NUL */
	assert_int_equal(event_name_check(name, sizeof(name)), 0);
	name[sizeof(name) - 1] = '\0';		/* 31 bytes: the longest */
	assert_int_equal(event_name_check(name, sizeof(name)),
	    sizeof(name) - 1);
	for (c = 1; c < 256; c++) {
		for (i = 0; i < 3; i++) {
			memset(name, 0, sizeof(name));
			memcpy(name, "abc", 3);
			name[i] = (char)c;
			len = event_name_check(name, sizeof(name));
			if (event_name_valid(name, 3))
				assert_int_equal(len, 3);
			else
				assert_int_equal(len, 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_json_has_every_field),
		cmocka_unit_test(test_event_json_escapes_text),
		cmocka_unit_test(test_event_json_binary_payload_is_hex),
		cmocka_unit_test(test_event_json_nul_or_bad_utf8_is_hex),
		cmocka_unit_test(test_event_json_empty_payload),
		cmocka_unit_test(test_event_json_max_payload),
		cmocka_unit_test(test_time_format_epoch_and_nanoseconds),
		cmocka_unit_test(test_event_json_file_has_time_path_and_value),
		cmocka_unit_test(test_time_cache_follows_every_second),
		cmocka_unit_test(test_event_json_every_byte_everywhere),
		cmocka_unit_test(test_event_json_numbers_every_length),
		cmocka_unit_test(test_event_json_numbers_in_sequence),
		cmocka_unit_test(test_event_json_source_and_name_escaped),
		cmocka_unit_test(test_event_name_check_is_the_kernels_rule),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
