// SPDX-License-Identifier: GPL-2.0
/* proto.c: request parsing and the records kuifd writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kuifd.h"

static int
parse(const char *line, struct request *req, char *err)
{
	return request_parse(line, strlen(line), req, err, 256);
}

/* A line that must be refused, with a message containing `why`. */
static void
refused(const char *line, const char *why)
{
	struct request req;
	char err[256] = "";

	if (parse(line, &req, err) != -1)
		fail_msg("accepted: %s", line);
	if (strstr(err, why) == NULL)
		fail_msg("for %s: want an error with \"%s\", got \"%s\"", line,
		    why, err);
	request_free(&req);
}

static void
test_request_subscribe_with_filter_and_since(void **state)
{
	struct request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"subscribe\",\"filter\":{\"source\":"
	    "[\"netlink\"],\"event\":[\"netdev.*\",\"chardev.write\"]},"
	    "\"since\":12}", &req, err), 0);
	assert_int_equal(req.op, REQ_SUBSCRIBE);
	assert_true(req.has_since);
	assert_int_equal(req.since, 12);
	assert_int_equal(req.filter.nsources, 1);
	assert_string_equal(req.filter.sources[0], "netlink");
	assert_int_equal(req.filter.nevents, 2);
	assert_string_equal(req.filter.events[1], "chardev.write");
	request_free(&req);
}

static void
test_request_subscribe_bare(void **state)
{
	struct request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"subscribe\"}", &req, err), 0);
	assert_false(req.has_since);
	assert_int_equal(req.filter.nsources + req.filter.nevents, 0);
	request_free(&req);
}

static void
test_request_ping_keeps_any_id(void **state)
{
	struct request req;
	char err[256];
	char *pong;

	(void)state;
	assert_int_equal(parse("{\"op\":\"ping\",\"id\":{\"a\":[1,2]}}", &req,
	    err), 0);
	assert_int_equal(req.op, REQ_PING);
	pong = proto_pong(req.id, NULL);
	assert_string_equal(pong, "{\"type\":\"pong\",\"id\":{\"a\":[1,2]}}\n");
	free(pong);
	request_free(&req);

	assert_int_equal(parse("{\"op\":\"ping\"}", &req, err), 0);
	pong = proto_pong(req.id, NULL);
	assert_string_equal(pong, "{\"type\":\"pong\"}\n");
	free(pong);
	request_free(&req);
}

static void
test_request_emit(void **state)
{
	struct request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"emit\",\"event\":\"user.x-1\","
	    "\"payload\":\"hi\"}", &req, err), 0);
	assert_int_equal(req.op, REQ_EMIT);
	assert_string_equal(req.event, "user.x-1");
	assert_int_equal(req.payload_len, 2);
	assert_memory_equal(req.payload, "hi", 2);
	request_free(&req);
}

static void
test_request_other_ops(void **state)
{
	struct request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"stats\"}", &req, err), 0);
	assert_int_equal(req.op, REQ_STATS);
	request_free(&req);
	assert_int_equal(parse("{\"op\":\"unsubscribe\"}", &req, err), 0);
	assert_int_equal(req.op, REQ_UNSUBSCRIBE);
	request_free(&req);
}

static void
test_request_malformed_is_refused(void **state)
{
	char big[600];

	(void)state;
	refused("", "invalid JSON");
	refused("{\"op\":", "invalid JSON");
	refused("[1,2,3]", "must be a JSON object");
	refused("\"subscribe\"", "invalid JSON");
	refused("{}", "missing \"op\"");
	refused("{\"op\":7}", "missing \"op\"");
	refused("{\"op\":\"fly\"}", "unknown op");
	refused("{\"op\":\"ping\",\"op\":\"stats\"}", "invalid JSON");
	refused("{\"op\":\"stats\",\"verbose\":true}", "unknown key");
	refused("{\"op\":\"subscribe\",\"since\":-1}", "since");
	refused("{\"op\":\"subscribe\",\"since\":\"5\"}", "since");
	refused("{\"op\":\"subscribe\",\"filter\":[]}", "filter must be");
	refused("{\"op\":\"subscribe\",\"filter\":{\"event\":\"x\"}}",
	    "array of strings");
	refused("{\"op\":\"subscribe\",\"filter\":{\"event\":[3]}}",
	    "non-empty string");
	refused("{\"op\":\"subscribe\",\"filter\":{\"event\":[\"\"]}}",
	    "non-empty string");
	refused("{\"op\":\"subscribe\",\"filter\":{\"kind\":[\"x\"]}}",
	    "unknown filter key");
	refused("{\"op\":\"subscribe\",\"filter\":{\"event\":[\"a\\u0000b\"]}}",
	    "NUL");
	refused("{\"op\":\"emit\"}", "needs \"event\"");
	refused("{\"op\":\"emit\",\"event\":\"\"}", "1 to 31 bytes");
	refused("{\"op\":\"emit\",\"event\":\"Upper\"}", "lowercase");
	refused("{\"op\":\"emit\",\"event\":\"a b\"}", "[a-z0-9._-]");
	refused("{\"op\":\"emit\",\"event\":"
	    "\"abcdefghijabcdefghijabcdefghijab\"}", "1 to 31 bytes");
	refused("{\"op\":\"emit\",\"event\":\"a\",\"payload\":5}",
	    "payload must be a string");
	snprintf(big, sizeof(big), "{\"op\":\"emit\",\"event\":\"a\","
	    "\"payload\":\"%0300d\"}", 0);
	refused(big, "longer than 256");
}

static void
test_request_too_many_patterns(void **state)
{
	char line[1024] = "{\"op\":\"subscribe\",\"filter\":{\"event\":[";
	int i;

	(void)state;
	for (i = 0; i <= FILTER_MAX_PATTERNS; i++)
		strcat(line, i ? ",\"x\"" : "\"x\"");
	strcat(line, "]}}");
	refused(line, "more than 32 patterns");
}

/* s without its "time":"...", which must be there, RFC 3339 with ns. */
static void
assert_untimed(char *s, const char *want)
{
	char *t = strstr(s, "\"time\":\""), *e;

	assert_non_null(t);
	e = strchr(t + 8, '"');
	assert_non_null(e);
	assert_int_equal(e - (t + 8), 30);
	assert_int_equal(e[-1], 'Z');
	assert_int_equal(t[12], '-');
	memmove(t, e + 2, strlen(e + 2) + 1);
	assert_string_equal(s, want);
}

static void
test_records(void **state)
{
	char *s;

	(void)state;
	s = proto_hello(5, NULL);
	assert_string_equal(s, "{\"type\":\"hello\",\"version\":1,"
	    "\"server\":\"kuifd " KUIFD_VERSION "\",\"seq\":5}\n");
	free(s);
	s = proto_error("bad_request", "quote \" here", NULL);
	assert_string_equal(s, "{\"type\":\"error\",\"code\":\"bad_request\","
	    "\"message\":\"quote \\\" here\"}\n");
	free(s);
	s = proto_lost(0, 3, "slow_consumer", NULL);
	assert_untimed(s, "{\"type\":\"lost\",\"count\":3,"
	    "\"reason\":\"slow_consumer\"}\n");
	free(s);
	s = proto_lost(9, 2, "missed", NULL);
	assert_untimed(s, "{\"type\":\"lost\",\"seq\":9,\"count\":2,"
	    "\"reason\":\"missed\"}\n");
	free(s);
}

/* The request the real helper (clients/upcall/kuif-upcall.c) sends. */
static void
test_request_upcall_hex_payload(void **state)
{
	char line[2 * KUIF_PAYLOAD_MAX + 256], hex[2 * KUIF_PAYLOAD_MAX + 3];
	struct request req;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(parse("{\"op\":\"upcall\",\"kseq\":5,"
	    "\"time_ns\":77,\"event\":\"module.load\","
	    "\"payload_hex\":\"00ff10a9\"}", &req, err), 0);
	assert_int_equal(req.op, REQ_UPCALL);
	assert_int_equal(req.kseq, 5);
	assert_int_equal(req.time_ns, 77);
	assert_string_equal(req.event, "module.load");
	assert_int_equal(req.payload_len, 4);
	assert_memory_equal(req.payload, "\x00\xff\x10\xa9", 4);
	request_free(&req);

	/* Empty: what the helper sends when KUIF_PAYLOAD_HEX is unset. */
	assert_int_equal(parse("{\"op\":\"upcall\",\"kseq\":1,"
	    "\"time_ns\":0,\"event\":\"a\",\"payload_hex\":\"\"}", &req,
	    err), 0);
	assert_int_equal(req.payload_len, 0);
	request_free(&req);

	/* A full payload, every byte value in turn. */
	for (i = 0; i < KUIF_PAYLOAD_MAX; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned)(i & 0xff));
	snprintf(line, sizeof(line), "{\"op\":\"upcall\",\"kseq\":2,"
	    "\"time_ns\":3,\"event\":\"b\",\"payload_hex\":\"%s\"}", hex);
	assert_int_equal(parse(line, &req, err), 0);
	assert_int_equal(req.payload_len, KUIF_PAYLOAD_MAX);
	for (i = 0; i < KUIF_PAYLOAD_MAX; i++)
		assert_int_equal(req.payload[i], i & 0xff);
	request_free(&req);

	/* One byte more is refused. */
	strcpy(hex + 2 * KUIF_PAYLOAD_MAX, "00");
	snprintf(line, sizeof(line), "{\"op\":\"upcall\",\"kseq\":2,"
	    "\"time_ns\":3,\"event\":\"b\",\"payload_hex\":\"%s\"}", hex);
	refused(line, "at most 256 bytes");
}

static void
test_request_upcall_bad_hex_is_refused(void **state)
{
	(void)state;
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"abc\"}", "even number");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"AB\"}", "only [0-9a-f]");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"0g\"}", "only [0-9a-f]");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\" 0\"}", "only [0-9a-f]");
	/* A NUL inside a string is refused by the JSON parser already. */
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"00\\u0000a\"}",
	    "not allowed");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":7}", "must be a string");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"00\",\"payload\":\"x\"}",
	    "not both");
	refused("{\"op\":\"upcall\",\"kseq\":0,\"time_ns\":0,"
	    "\"event\":\"a\",\"payload_hex\":\"00\"}", "kseq must be positive");
	refused("{\"op\":\"upcall\",\"kseq\":-1,\"time_ns\":0,"
	    "\"event\":\"a\"}", "kseq must be a non-negative integer");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"event\":\"a\"}",
	    "time_ns must be");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"event\":\"A\",\"payload_hex\":\"00\"}", "event name must");
	refused("{\"op\":\"upcall\",\"kseq\":1,\"time_ns\":0,"
	    "\"payload_hex\":\"00\"}", "upcall needs \"event\"");
}

static void
test_records_history_reset(void **state)
{
	char *s;

	(void)state;
	s = proto_lost(0, 0, "history_reset", NULL);
	assert_untimed(s, "{\"type\":\"lost\",\"count\":0,"
	    "\"reason\":\"history_reset\"}\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_subscribe_with_filter_and_since),
		cmocka_unit_test(test_request_subscribe_bare),
		cmocka_unit_test(test_request_ping_keeps_any_id),
		cmocka_unit_test(test_request_emit),
		cmocka_unit_test(test_request_other_ops),
		cmocka_unit_test(test_request_malformed_is_refused),
		cmocka_unit_test(test_request_too_many_patterns),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_request_upcall_hex_payload),
		cmocka_unit_test(test_request_upcall_bad_hex_is_refused),
		cmocka_unit_test(test_records_history_reset),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
