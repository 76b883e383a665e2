// SPDX-License-Identifier: GPL-2.0
/*
 * The client protocol: JSON lines. request_parse() turns one line into a
 * struct request or an error message; proto_*() build the records kuifd
 * sends that are not events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kuifd.h"

#define PERR(...) do { snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

static const struct {
	const char	*name;
	enum request_op	 op;
} request_ops[] = {
	{ "subscribe", REQ_SUBSCRIBE },
	{ "unsubscribe", REQ_UNSUBSCRIBE },
	{ "stats", REQ_STATS },
	{ "ping", REQ_PING },
	{ "emit", REQ_EMIT },
	{ "upcall", REQ_UPCALL },
	{ "actions", REQ_ACTIONS },
};

/* Only these keys are allowed for each op: typos are errors, not no-ops. */
static const char *const request_keys[][6] = {
	[REQ_SUBSCRIBE] = { "filter", "since", NULL },
	[REQ_UNSUBSCRIBE] = { NULL },
	[REQ_STATS] = { NULL },
	[REQ_PING] = { "id", NULL },
	[REQ_EMIT] = { "event", "payload", NULL },
	[REQ_UPCALL] = { "kseq", "time_ns", "event", "payload", "payload_hex",
	    NULL },
	[REQ_ACTIONS] = { NULL },
};

static int
request_check_keys(json_t *obj, enum request_op op, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		if (strcmp(key, "op") == 0)
			continue;
		for (i = 0; request_keys[op][i] != NULL; i++) {
			if (strcmp(key, request_keys[op][i]) == 0)
				break;
		}
		if (request_keys[op][i] == NULL) {
			snprintf(err, errlen, "unknown key \"%s\"", key);
			return -1;
		}
	}
	return 0;
}

static int
parse_patterns(json_t *arr, const char *what, char **out, size_t *n,
    char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		PERR("filter.%s must be an array of strings", what);
	if (json_array_size(arr) > FILTER_MAX_PATTERNS)
		PERR("filter.%s has more than %d patterns", what,
		    FILTER_MAX_PATTERNS);
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || *s == '\0')
			PERR("filter.%s[%zu] must be a non-empty string", what,
			    i);
		if (json_string_length(v) > FILTER_MAX_PATTERN_LEN ||
		    strlen(s) != json_string_length(v))
			PERR("filter.%s[%zu] is longer than %d bytes or holds "
			    "NUL", what, i, FILTER_MAX_PATTERN_LEN);
		out[(*n)++] = xstrdup(s);
	}
	return 0;
fail:
	return -1;
}

static int
parse_filter(json_t *f, struct filter *filter, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (f == NULL)
		return 0;
	if (!json_is_object(f))
		PERR("filter must be an object");
	json_object_foreach(f, key, v) {
		if (strcmp(key, "source") != 0 && strcmp(key, "event") != 0)
			PERR("unknown filter key \"%s\"", key);
	}
	if (parse_patterns(json_object_get(f, "source"), "source",
	    filter->sources, &filter->nsources, err, errlen) == -1)
		return -1;
	return parse_patterns(json_object_get(f, "event"), "event",
	    filter->events, &filter->nevents, err, errlen);
fail:
	return -1;
}

static int
parse_subscribe(json_t *obj, struct request *req, char *err, size_t errlen)
{
	json_t *since = json_object_get(obj, "since");

	if (since != NULL) {
		if (!json_is_integer(since) || json_integer_value(since) < 0)
			PERR("since must be a non-negative integer");
		req->has_since = true;
		req->since = (uint64_t)json_integer_value(since);
	}
	return parse_filter(json_object_get(obj, "filter"), &req->filter, err,
	    errlen);
fail:
	return -1;
}

static int
parse_u64(json_t *obj, const char *key, uint64_t *out, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		PERR("%s must be a non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
fail:
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
parse_payload_hex(json_t *v, struct request *req, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t i, n;

	if (s == NULL)
		PERR("payload_hex must be a string");
	n = json_string_length(v);
	if (n % 2 != 0 || n / 2 > sizeof(req->payload))
		PERR("payload_hex must hold an even number of digits, at most "
		    "%d bytes", KUIF_PAYLOAD_MAX);
	for (i = 0; i < n; i += 2) {
		if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0)
			PERR("payload_hex may hold only [0-9a-f]");
		req->payload[i / 2] = (uint8_t)(hexval(s[i]) << 4 |
		    hexval(s[i + 1]));
	}
	req->payload_len = n / 2;
	return 0;
fail:
	return -1;
}

static int
parse_emit(json_t *obj, struct request *req, char *err, size_t errlen)
{
	json_t *ev = json_object_get(obj, "event");
	json_t *pl = json_object_get(obj, "payload");
	const char *name = json_string_value(ev);
	size_t n;

	if (name == NULL)
		PERR("%s needs \"event\", a string", req->op == REQ_EMIT ?
		    "emit" : "upcall");
	n = json_string_length(ev);
	if (n == 0 || n >= sizeof(req->event))
		PERR("event name must be 1 to %d bytes",
		    KUIF_EVENT_NAME_MAX - 1);
	if (!event_name_valid(name, n))
		PERR("event name must start with a lowercase letter and hold "
		    "only [a-z0-9._-]");
	memcpy(req->event, name, n + 1);
	if (pl != NULL) {
		if (!json_is_string(pl))
			PERR("payload must be a string");
		if (json_string_length(pl) > sizeof(req->payload))
			PERR("payload is longer than %d bytes",
			    KUIF_PAYLOAD_MAX);
		req->payload_len = json_string_length(pl);
		memcpy(req->payload, json_string_value(pl), req->payload_len);
	}
	return 0;
fail:
	return -1;
}

static int
parse_upcall(json_t *obj, struct request *req, char *err, size_t errlen)
{
	json_t *hex = json_object_get(obj, "payload_hex");

	if (parse_u64(obj, "kseq", &req->kseq, err, errlen) == -1 ||
	    parse_u64(obj, "time_ns", &req->time_ns, err, errlen) == -1)
		return -1;
	if (req->kseq == 0)
		PERR("kseq must be positive");
	if (hex != NULL && json_object_get(obj, "payload") != NULL)
		PERR("give payload or payload_hex, not both");
	if (parse_emit(obj, req, err, errlen) == -1)
		return -1;
	if (hex != NULL)
		return parse_payload_hex(hex, req, err, errlen);
	return 0;
fail:
	return -1;
}

/*
 * Parses one request line (without its newline). Returns 0, or -1 with a
 * message in err; the request must be freed with request_free() either way.
 */
int
request_parse(const char *line, size_t len, struct request *req, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *obj, *id;
	const char *op;
	size_t i;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		snprintf(err, errlen, "invalid JSON at column %d: %s",
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(obj))
		PERR("a request must be a JSON object");
	op = json_string_value(json_object_get(obj, "op"));
	if (op == NULL)
		PERR("missing \"op\"");
	for (i = 0; i < sizeof(request_ops) / sizeof(request_ops[0]); i++) {
		if (strcmp(op, request_ops[i].name) == 0)
			break;
	}
	if (i == sizeof(request_ops) / sizeof(request_ops[0]))
		PERR("unknown op \"%.64s\"", op);
	req->op = request_ops[i].op;
	if (request_check_keys(obj, req->op, err, errlen) == -1)
		goto fail;

	switch (req->op) {
	case REQ_SUBSCRIBE:
		rc = parse_subscribe(obj, req, err, errlen);
		break;
	case REQ_EMIT:
		rc = parse_emit(obj, req, err, errlen);
		break;
	case REQ_UPCALL:
		rc = parse_upcall(obj, req, err, errlen);
		break;
	case REQ_PING:
		id = json_object_get(obj, "id");
		if (id != NULL &&
		    (req->id = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY))
		    == NULL)
			PERR("id cannot be encoded");
		rc = 0;
		break;
	default:
		rc = 0;
		break;
	}
fail:
	json_decref(obj);
	return rc;
}

void
request_free(struct request *req)
{
	filter_clear(&req->filter);
	free(req->id);
	req->id = NULL;
}

char *
proto_hello(uint64_t seq, size_t *lenp)
{
	return json_line(json_pack("{s:s, s:i, s:s, s:I}", "type", "hello",
	    "version", KUIFD_PROTO_VERSION, "server", "kuifd " KUIFD_VERSION,
	    "seq", (json_int_t)seq), lenp);
}

char *
proto_error(const char *code, const char *message, size_t *lenp)
{
	return json_line(json_pack("{s:s, s:s, s:s}", "type", "error",
	    "code", code, "message", message), lenp);
}

char *
proto_pong(const char *id, size_t *lenp)
{
	json_t *obj = json_pack("{s:s}", "type", "pong");
	json_t *v;

	if (obj != NULL && id != NULL) {
		v = json_loads(id, JSON_DECODE_ANY, NULL);
		if (v != NULL)
			json_object_set_new(obj, "id", v);
	}
	return json_line(obj, lenp);
}

/*
 * seq 0: a loss that concerns one client only, outside the history. time:
 * when kuifd noticed the loss (now: a record restored after a restart is
 * written again then).
 */
char *
proto_lost(uint64_t seq, uint64_t count, const char *reason, size_t *lenp)
{
	struct timespec ts;
	char t[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (event_format_time((uint64_t)ts.tv_sec * 1000000000ULL +
	    (uint64_t)ts.tv_nsec, t, sizeof(t)) == -1)
		return NULL;
	if (seq == 0)
		return json_line(json_pack("{s:s, s:s, s:I, s:s}", "type",
		    "lost", "time", t, "count", (json_int_t)count, "reason",
		    reason), lenp);
	return json_line(json_pack("{s:s, s:I, s:s, s:I, s:s}", "type", "lost",
	    "seq", (json_int_t)seq, "time", t, "count", (json_int_t)count,
	    "reason", reason), lenp);
}

char *
proto_subscribed(uint64_t seq, size_t *lenp)
{
	return json_line(json_pack("{s:s, s:I}", "type", "subscribed",
	    "seq", (json_int_t)seq), lenp);
}

char *
proto_emitted(uint64_t kseq, size_t *lenp)
{
	return json_line(json_pack("{s:s, s:I}", "type", "emitted",
	    "kseq", (json_int_t)kseq), lenp);
}
