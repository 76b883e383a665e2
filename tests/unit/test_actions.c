// SPDX-License-Identifier: GPL-2.0
/*
 * actions.c: rule files (good, broken, with file:line), matching, the
 * environment file, the rate limit, the caps and a reload, with a clock
 * and a starter of the test's own instead of systemd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "kuifd.h"

static char dir[] = "/tmp/kuifd-test-actions-XXXXXX";
static uint64_t now_ms = 1000;
static unsigned int nstarted;
static char last_unit[256];
static int start_rc;

static uint64_t
test_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

static int
test_start(const char *unit, const struct event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (start_rc == 0) {
		nstarted++;
		snprintf(last_unit, sizeof(last_unit), "%s", unit);
	}
	return start_rc;
}

static void
put_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
rm_file(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kuifd-test-actions-XXXXXX");
	assert_non_null(mkdtemp(dir));
	now_ms = 1000;
	nstarted = 0;
	start_rc = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct actions *
load_actions(unsigned int max_running, int want_bad)
{
	struct actions *a = actions_create(NULL, dir, "/nonexistent",
	    max_running);

	actions_set_clock(a, test_clock, NULL);
	actions_set_starter(a, test_start, NULL);
	assert_int_equal(actions_load(a), want_bad);
	return a;
}

static struct event
mkevent(uint64_t seq, const char *source, const char *name,
    const char *payload, size_t len)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = seq;
	ev.kseq = seq + 100;
	ev.time_ns = 1764460800000000000ULL;
	snprintf(ev.source, sizeof(ev.source), "%s", source);
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	memcpy(ev.payload, payload, len);
	ev.len = len;
	return ev;
}

/* The rule named name in the actions record, and one of its counters. */
static json_t *
rule_json(json_t *rec, const char *name)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(rec, "rules"), i, r) {
		if (strcmp(json_string_value(json_object_get(r, "name")),
		    name) == 0)
			return r;
	}
	fail_msg("no rule [%s]", name);
	return NULL;
}

static long long
counter(const struct actions *a, const char *name, const char *key)
{
	json_t *rec = actions_json(a), *r = rule_json(rec, name);
	long long v;

	if (strcmp(key, "running") == 0)
		v = json_integer_value(json_object_get(r, key));
	else
		v = json_integer_value(json_object_get(json_object_get(r,
		    "counters"), key));
	json_decref(rec);
	return v;
}

static void
test_actions_good_file_is_read(void **state)
{
	struct actions *a;
	json_t *rec, *r;

	(void)state;
	put_file("10-net.conf", "# network\n"
	    "[netdev-up]\n"
	    "event = netdev.up netdev.change\n"
	    "source = netlink, ring\n"
	    "payload = eth*\n"
	    "unit = kuif-action-netlog@.service\n"
	    "rate_limit = 5/10s\n"
	    "burst = 7\n"
	    "max_running = 3\n"
	    "\n"
	    "[gen]\n"
	    "event = configfs.*\n"
	    "unit = kuif-action-gen@.service\n");
	put_file("README", "not a rule file\n");
	put_file("50-examples.conf", "# [x]\n# event = y\n");
	a = load_actions(16, 0);
	assert_int_equal(actions_count(a), 2);
	rec = actions_json(a);
	assert_string_equal(json_string_value(json_object_get(rec, "type")),
	    "actions");
	assert_int_equal(json_array_size(json_object_get(rec, "errors")), 0);
	r = rule_json(rec, "netdev-up");
	assert_string_equal(json_string_value(json_object_get(r, "file")),
	    "10-net.conf");
	assert_int_equal(json_integer_value(json_object_get(r, "line")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "event")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "source")), 2);
	assert_string_equal(json_string_value(json_object_get(r, "payload")),
	    "eth*");
	assert_string_equal(json_string_value(json_object_get(r, "unit")),
	    "kuif-action-netlog@.service");
	assert_string_equal(json_string_value(json_object_get(r,
	    "rate_limit")), "5/10s");
	assert_int_equal(json_integer_value(json_object_get(r, "burst")), 7);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "max_running")), 3);
	r = rule_json(rec, "gen");
	assert_int_equal(json_integer_value(json_object_get(r, "line")), 11);
	/* Defaults: 10/10s, the burst as large as the count, 4 running. */
	assert_string_equal(json_string_value(json_object_get(r,
	    "rate_limit")), "10/10s");
	assert_int_equal(json_integer_value(json_object_get(r, "burst")), 10);
	assert_int_equal(json_integer_value(json_object_get(r,
	    "max_running")), 4);
	assert_true(json_is_null(json_object_get(r, "payload")) ||
	    json_object_get(r, "payload") == NULL);
	json_decref(rec);
	actions_free(a);
}

/* Each broken text is refused with the line and the reason. */
static void
test_actions_broken_rules_name_line_and_reason(void **state)
{
	static const struct {
		const char	*text;
		unsigned int	 line;
		const char	*why;
	} bad[] = {
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\nfoo = 1\n", 4,
		  "unknown key \"foo\"" },
		{ "[a]\nevent = x\n", 1, "has no \"unit\"" },
		{ "\n\n[a]\nunit = kuif-action-a@.service\n", 3,
		  "has no \"event\"" },
		{ "[a]\nevent = x\nunit = sshd.service\n", 3,
		  "must be a template named kuif-action-" },
		{ "[a]\nevent = x\nunit = kuif-action-A@.service\n", 3,
		  "must be a template" },
		{ "[a]\nevent = x\nunit = kuif-action-a@1.service\n", 3,
		  "must be a template" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n"
		  "rate_limit = 5\n", 4, "rate_limit must be" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n"
		  "rate_limit = 0/10s\n", 4, "rate_limit must be" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n"
		  "max_running = 0\n", 4, "max_running must be" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n"
		  "burst = many\n", 4, "burst must be" },
		{ "event = x\n", 1, "outside of a [rule] section" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n[a]\n"
		  "event = y\n", 4, "defined twice" },
		{ "[a b]\nevent = x\n", 1, "rule name" },
		{ "[a]\nevent =\nunit = kuif-action-a@.service\n", 2,
		  "event: given twice, empty" },
		{ "[a]\nevent = x\nunit = kuif-action-a@.service\n[b\n", 4,
		  "syntax error" },
	};
	char err[256];
	unsigned int line;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		line = 0;
		err[0] = '\0';
		if (actions_check_string("t.conf", bad[i].text, &n, &line, err,
		    sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].text);
		if (line != bad[i].line || strstr(err, bad[i].why) == NULL)
			fail_msg("%s: got line %u \"%s\", want line %u \"%s\"",
			    bad[i].text, line, err, bad[i].line, bad[i].why);
		assert_int_equal(n, 0);
	}
	/* A file of comments alone (the shipped examples) has no rules and
	 * no error. */
	assert_int_equal(actions_check_string("t.conf", "# [a]\n# event = x\n",
	    &n, &line, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	/* And a good one passes. */
	assert_int_equal(actions_check_string("t.conf", "[a]\nevent = x\n"
	    "unit = kuif-action-a@.service\n[b]\nevent = y\n"
	    "unit = kuif-action-b@.service\n", &n, &line, err, sizeof(err)),
	    0);
	assert_int_equal(n, 2);
}

/* A broken file is skipped and reported; the other files load. */
static void
test_actions_broken_file_is_skipped_others_load(void **state)
{
	struct actions *a;
	json_t *rec, *e;

	(void)state;
	put_file("10-good.conf", "[good]\nevent = demo.*\n"
	    "unit = kuif-action-good@.service\n");
	put_file("20-bad.conf", "[bad]\nevent = demo.*\n"
	    "unit = kuif-action-bad@.service\nmax_running = lots\n");
	a = load_actions(16, 1);
	assert_int_equal(actions_count(a), 1);
	rec = actions_json(a);
	rule_json(rec, "good");
	assert_int_equal(json_array_size(json_object_get(rec, "errors")), 1);
	e = json_array_get(json_object_get(rec, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "file")),
	    "20-bad.conf");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 4);
	assert_non_null(strstr(json_string_value(json_object_get(e,
	    "message")), "max_running"));
	json_decref(rec);
	actions_free(a);
}

static void
test_actions_match_event_source_payload(void **state)
{
	struct actions *a;
	struct event ev;

	(void)state;
	put_file("a.conf", "[r]\nevent = netdev.*\nsource = netlink\n"
	    "payload = eth?\nunit = kuif-action-r@.service\n"
	    "[hex]\nevent = bin\npayload = 00ff*\n"
	    "unit = kuif-action-hex@.service\n");
	a = load_actions(16, 0);
	ev = mkevent(1, "netlink", "netdev.up", "eth0", 4);
	actions_event(&ev, a);
	assert_int_equal(counter(a, "r", "matched"), 1);
	assert_string_equal(last_unit, "kuif-action-r@1.service");
	ev = mkevent(2, "ring", "netdev.up", "eth0", 4);	/* source */
	actions_event(&ev, a);
	ev = mkevent(3, "netlink", "module.load", "eth0", 4);	/* event */
	actions_event(&ev, a);
	ev = mkevent(4, "netlink", "netdev.up", "eth10", 5);	/* payload */
	actions_event(&ev, a);
	assert_int_equal(counter(a, "r", "matched"), 1);
	/* A binary payload is matched in hex. */
	ev = mkevent(5, "netlink", "bin", "\x00\xff\x01", 3);
	actions_event(&ev, a);
	assert_int_equal(counter(a, "hex", "matched"), 1);
	assert_string_equal(last_unit, "kuif-action-hex@5.service");
	actions_free(a);
}

static void
test_actions_env_file_quotes_and_hex(void **state)
{
	char buf[ACTIONS_ENV_MAX];
	struct event ev;

	(void)state;
	ev = mkevent(7, "netlink", "demo.x", "a \"b\" $c `d` \\e", 15);
	assert_true(actions_env_format(&ev, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "KUIF_SEQ=7\n"));
	assert_non_null(strstr(buf, "KUIF_KSEQ=107\n"));
	assert_non_null(strstr(buf, "KUIF_EVENT=\"demo.x\"\n"));
	assert_non_null(strstr(buf, "KUIF_SOURCE=\"netlink\"\n"));
	assert_non_null(strstr(buf, "KUIF_TIME=2025-11-30T00:00:00."
	    "000000000Z\n"));
	assert_non_null(strstr(buf,
	    "KUIF_PAYLOAD=\"a \\\"b\\\" \\$c \\`d\\` \\\\e\"\n"));
	assert_non_null(strstr(buf, "KUIF_PAYLOAD_ENCODING=text\n"));
	/* Control characters and invalid UTF-8: hex. */
	ev = mkevent(8, "ring", "demo.bin", "a\nb\xff", 4);
	ev.kseq = 0;
	assert_true(actions_env_format(&ev, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "KUIF_KSEQ=\n"));
	assert_non_null(strstr(buf, "KUIF_PAYLOAD=\"610a62ff\"\n"));
	assert_non_null(strstr(buf, "KUIF_PAYLOAD_ENCODING=hex\n"));
	/* The largest payload fits. */
	memset(ev.payload, 0x01, KUIF_PAYLOAD_MAX);
	ev.len = KUIF_PAYLOAD_MAX;
	assert_true(actions_env_format(&ev, buf, sizeof(buf)) > 0);
	memset(ev.payload, '$', KUIF_PAYLOAD_MAX);
	assert_true(actions_env_format(&ev, buf, sizeof(buf)) > 0);
}

/* rate_limit 2/10s, burst 3: a burst of 10 starts 3; 5 s later one
 * more token. */
static void
test_actions_rate_limit_holds(void **state)
{
	struct actions *a;
	struct event ev;
	uint64_t i;

	(void)state;
	put_file("a.conf", "[r]\nevent = demo\nrate_limit = 2/10s\nburst = 3\n"
	    "max_running = 100\nunit = kuif-action-r@.service\n");
	a = load_actions(256, 0);
	for (i = 1; i <= 10; i++) {
		ev = mkevent(i, "netlink", "demo", "", 0);
		actions_event(&ev, a);
	}
	assert_int_equal(nstarted, 3);
	assert_int_equal(counter(a, "r", "matched"), 10);
	assert_int_equal(counter(a, "r", "started"), 3);
	assert_int_equal(counter(a, "r", "rate_limited"), 7);
	now_ms += 5000;
	for (i = 11; i <= 13; i++) {
		ev = mkevent(i, "netlink", "demo", "", 0);
		actions_event(&ev, a);
	}
	assert_int_equal(nstarted, 4);
	assert_int_equal(counter(a, "r", "rate_limited"), 9);
	actions_free(a);
}

/* max_running 2: the third is capped until one ends; [actions]
 * max_running caps all rules together. */
static void
test_actions_caps_hold(void **state)
{
	struct actions *a;
	struct event ev;
	uint64_t i;

	(void)state;
	put_file("a.conf", "[r]\nevent = demo\nmax_running = 2\n"
	    "rate_limit = 1000/1s\nunit = kuif-action-r@.service\n"
	    "[s]\nevent = demo\nmax_running = 10\nrate_limit = 1000/1s\n"
	    "unit = kuif-action-s@.service\n");
	a = load_actions(5, 0);
	for (i = 1; i <= 4; i++) {
		ev = mkevent(i, "netlink", "demo", "", 0);
		actions_event(&ev, a);
	}
	/* r: 1, 2 run, 3, 4 capped; s: 1, 2, 3 run, 4 over the total. */
	assert_int_equal(counter(a, "r", "running"), 2);
	assert_int_equal(counter(a, "r", "capped"), 2);
	assert_int_equal(counter(a, "s", "running"), 3);
	assert_int_equal(counter(a, "s", "capped"), 1);
	assert_true(actions_job_done(a, "kuif-action-r@1.service", "done"));
	assert_true(actions_job_done(a, "kuif-action-s@2.service", "failed"));
	assert_false(actions_job_done(a, "kuif-action-r@1.service", "done"));
	assert_false(actions_job_done(a, "other@1.service", "done"));
	assert_int_equal(counter(a, "r", "succeeded"), 1);
	assert_int_equal(counter(a, "s", "failed"), 1);
	ev = mkevent(5, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	assert_int_equal(counter(a, "r", "running"), 2);
	assert_int_equal(counter(a, "s", "running"), 3);
	assert_int_equal(counter(a, "r", "started"), 3);
	assert_int_equal(counter(a, "s", "started"), 4);
	actions_free(a);
}

/* A start that fails is counted and frees its slot. */
static void
test_actions_start_failure_is_counted(void **state)
{
	struct actions *a;
	struct event ev;

	(void)state;
	put_file("a.conf", "[r]\nevent = demo\nmax_running = 1\n"
	    "unit = kuif-action-r@.service\n");
	a = load_actions(16, 0);
	start_rc = -1;
	ev = mkevent(1, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	start_rc = 0;
	ev = mkevent(2, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	assert_int_equal(counter(a, "r", "start_failed"), 1);
	assert_int_equal(counter(a, "r", "started"), 1);
	assert_int_equal(counter(a, "r", "running"), 1);
	actions_free(a);
}

/* Two rules with one template and one event: one instance starts. */
static void
test_actions_one_instance_per_event_and_template(void **state)
{
	struct actions *a;
	struct event ev;

	(void)state;
	put_file("a.conf", "[r]\nevent = demo\nunit = kuif-action-r@.service\n"
	    "[s]\nevent = demo\nunit = kuif-action-r@.service\n");
	a = load_actions(16, 0);
	ev = mkevent(1, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	assert_int_equal(nstarted, 1);
	assert_int_equal(counter(a, "r", "started"), 1);
	assert_int_equal(counter(a, "s", "start_failed"), 1);
	assert_int_equal(counter(a, "s", "running"), 0);
	assert_true(actions_job_done(a, "kuif-action-r@1.service", "done"));
	assert_int_equal(counter(a, "r", "running"), 0);
	actions_free(a);
}

/* A reload keeps the counters and running actions of a rule of the same
 * file and name, drops removed rules, adds new ones. */
static void
test_actions_reload_keeps_state(void **state)
{
	struct actions *a;
	struct event ev;

	(void)state;
	put_file("a.conf", "[r]\nevent = demo\nmax_running = 1\n"
	    "unit = kuif-action-r@.service\n");
	a = load_actions(16, 0);
	ev = mkevent(1, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	put_file("a.conf", "[r]\nevent = demo\nmax_running = 1\n"
	    "unit = kuif-action-r@.service\n[new]\nevent = demo\n"
	    "unit = kuif-action-new@.service\n");
	put_file("b.conf", "[r]\nevent = nothing\n"
	    "unit = kuif-action-r@.service\n");
	assert_int_equal(actions_load(a), 0);
	assert_int_equal(actions_count(a), 3);
	assert_int_equal(counter(a, "new", "matched"), 0);
	ev = mkevent(2, "netlink", "demo", "", 0);
	actions_event(&ev, a);
	assert_int_equal(counter(a, "new", "started"), 1);
	rm_file("b.conf");
	assert_int_equal(actions_load(a), 0);
	/* r's action 1 still runs: 2 was capped. */
	assert_int_equal(counter(a, "r", "capped"), 1);
	assert_int_equal(counter(a, "r", "running"), 1);
	assert_true(actions_job_done(a, "kuif-action-r@1.service", "done"));
	assert_int_equal(counter(a, "r", "running"), 0);
	assert_int_equal(counter(a, "r", "succeeded"), 1);
	/* A rule removed while its action runs: the action still ends. */
	rm_file("a.conf");
	assert_int_equal(actions_load(a), 0);
	assert_int_equal(actions_count(a), 0);
	assert_true(actions_job_done(a, "kuif-action-new@2.service", "done"));
	actions_free(a);
}

/* The shipped examples: no rules and no error as shipped; two good
 * rules, naming the shipped templates, once uncommented. */
static void
test_actions_shipped_examples(void **state)
{
	char text[8192], on[8192], err[256], *p, *o;
	unsigned int line = 0;
	size_t n, len;
	FILE *f;

	(void)state;
	f = fopen("conf/actions.d/50-examples.conf", "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	if (actions_check_string("50-examples.conf", text, &n, &line, err,
	    sizeof(err)) != 0 || n != 0)
		fail_msg("as shipped: %zu rules, line %u: %s", n, line, err);
	/* "#[x]" and "#key = value" lose their "#"; "# prose" stays. */
	for (p = text, o = on; *p != '\0'; p++) {
		if (*p == '#' && (p == text || p[-1] == '\n') && p[1] != ' ' &&
		    p[1] != '\n')
			continue;
		*o++ = *p;
	}
	*o = '\0';
	if (actions_check_string("50-examples.conf", on, &n, &line, err,
	    sizeof(err)) != 0 || n != 2)
		fail_msg("uncommented: %zu rules, line %u: %s", n, line, err);
	assert_non_null(strstr(on, "unit = kuif-action-netlog@.service"));
	assert_non_null(strstr(on, "unit = kuif-action-generator@.service"));
	assert_int_equal(access("systemd/kuif-action-netlog@.service", R_OK), 0);
	assert_int_equal(access("systemd/kuif-action-generator@.service",
	    R_OK), 0);
}

static void
test_actions_missing_directory_is_no_rules(void **state)
{
	struct actions *a = actions_create(NULL, "/nonexistent/actions.d",
	    "/nonexistent", 16);

	(void)state;
	assert_int_equal(actions_load(a), 0);
	assert_int_equal(actions_count(a), 0);
	actions_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_actions_good_file_is_read,
		    setup, teardown),
		cmocka_unit_test(test_actions_broken_rules_name_line_and_reason),
		cmocka_unit_test_setup_teardown(
		    test_actions_broken_file_is_skipped_others_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_actions_match_event_source_payload, setup, teardown),
		cmocka_unit_test(test_actions_env_file_quotes_and_hex),
		cmocka_unit_test_setup_teardown(test_actions_rate_limit_holds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions_caps_hold, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_actions_start_failure_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_actions_one_instance_per_event_and_template, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_actions_reload_keeps_state,
		    setup, teardown),
		cmocka_unit_test(test_actions_shipped_examples),
		cmocka_unit_test(test_actions_missing_directory_is_no_rules),
	};

	log_init(0, "test_actions");
	return cmocka_run_group_tests_name("actions", tests, NULL, NULL);
}
