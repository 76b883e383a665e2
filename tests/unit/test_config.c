// SPDX-License-Identifier: GPL-2.0
/* config.c: kuifd.conf, including the shipped file and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <ini.h>

#include "kuifd.h"

static char path[] = "/tmp/kuifd-test-conf-XXXXXX";

static int
load(const char *text, struct config *conf)
{
	int fd = mkstemp(path);
	int rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = config_load(path, conf);
	unlink(path);
	strcpy(path, "/tmp/kuifd-test-conf-XXXXXX");
	return rc;
}

/* Every field of struct config: a new one must be added here. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	size_t i;

	assert_string_equal(a->socket_path, b->socket_path);
	assert_int_equal(a->max_clients, b->max_clients);
	assert_int_equal(a->client_buffer, b->client_buffer);
	assert_int_equal(a->client_timeout, b->client_timeout);
	assert_int_equal(a->history, b->history);
	assert_int_equal(a->reorder_ms, b->reorder_ms);
	assert_int_equal(a->journal.nsources, b->journal.nsources);
	assert_int_equal(a->journal.nevents, b->journal.nevents);
	for (i = 0; i < a->journal.nevents; i++)
		assert_string_equal(a->journal.events[i], b->journal.events[i]);
	assert_int_equal(a->ring, b->ring);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->inotify, b->inotify);
	assert_int_equal(a->verbose, b->verbose);
	assert_string_equal(a->actions_dir, b->actions_dir);
	assert_int_equal(a->actions_max_running, b->actions_max_running);
}

static const char *const config_keys[][2] = {
	{ "server", "socket" }, { "server", "max_clients" },
	{ "server", "client_buffer" }, { "server", "client_timeout" },
	{ "events", "history" }, { "events", "reorder_ms" },
	{ "sources", "ring" }, { "sources", "signal" },
	{ "sources", "inotify" }, { "journal", "events" },
	{ "log", "verbose" }, { "actions", "directory" },
	{ "actions", "max_running" },
};
#define NCONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int
count_keys(void *arg, const char *section, const char *key,
    const char *value)
{
	unsigned int *seen = arg;
	size_t i;

	(void)value;
	for (i = 0; i < NCONFIG_KEYS; i++) {
		if (strcmp(section, config_keys[i][0]) == 0 &&
		    strcmp(key, config_keys[i][1]) == 0)
			seen[i]++;
	}
	return 1;
}

/* The shipped file shows every key once, each with its default. */
static void
test_config_shipped_file_is_the_defaults(void **state)
{
	struct config conf, def;
	unsigned int seen[NCONFIG_KEYS] = { 0 };
	size_t i;

	(void)state;
	config_defaults(&conf);
	config_defaults(&def);
	assert_int_equal(config_load("conf/kuifd.conf", &conf), 0);
	assert_config_equal(&conf, &def);
	assert_int_equal(ini_parse("conf/kuifd.conf", count_keys, seen), 0);
	for (i = 0; i < NCONFIG_KEYS; i++) {
		if (seen[i] != 1)
			fail_msg("[%s] %s appears %u times in conf/kuifd.conf",
			    config_keys[i][0], config_keys[i][1], seen[i]);
	}
	config_free(&conf);
	config_free(&def);
}

/* Each key is read: a file setting all of them to other values. */
static void
test_config_every_key_is_read(void **state)
{
	struct config conf, def;

	(void)state;
	config_defaults(&conf);
	assert_int_equal(load("[server]\nsocket = /tmp/y.sock\n"
	    "max_clients = 7\nclient_buffer = 4096\nclient_timeout = 9\n"
	    "[events]\nhistory = 16\nreorder_ms = 0\n"
	    "[sources]\nring = no\nsignal = no\ninotify = no\n"
	    "[journal]\nevents = a.* b\n[log]\nverbose = yes\n"
	    "[actions]\ndirectory = /tmp/acts\nmax_running = 3\n", &conf), 0);
	memset(&def, 0, sizeof(def));
	def.socket_path = (char *)"/tmp/y.sock";
	def.max_clients = 7;
	def.client_buffer = 4096;
	def.client_timeout = 9;
	def.history = 16;
	def.reorder_ms = 0;
	def.journal.events[0] = (char *)"a.*";
	def.journal.events[1] = (char *)"b";
	def.journal.nevents = 2;
	def.verbose = 1;
	def.actions_dir = (char *)"/tmp/acts";
	def.actions_max_running = 3;
	assert_config_equal(&conf, &def);
	config_free(&conf);
}

static void
test_config_values_are_read(void **state)
{
	struct config conf;

	(void)state;
	config_defaults(&conf);
	assert_int_equal(load("[server]\nsocket = /tmp/x.sock\n"
	    "max_clients = 3\nclient_buffer=8192\n[log]\nverbose=yes\n",
	    &conf), 0);
	assert_string_equal(conf.socket_path, "/tmp/x.sock");
	assert_int_equal(conf.max_clients, 3);
	assert_int_equal(conf.client_buffer, 8192);
	assert_int_equal(conf.verbose, 1);
	config_free(&conf);
}

static void
test_config_bad_input_keeps_old(void **state)
{
	static const char *bad[] = {
		"[server]\nmax_clients = 0\n",
		"[server]\nmax_clients = 10x\n",
		"[server]\nmax_clients = -1\n",
		"[server]\nmax_clients = 99999999999999999999999\n",
		"[server]\nclient_buffer = 100\n",
		"[server]\nsocket = relative/path\n",
		"[server]\nsockets = /x\n",
		"[logging]\nverbose = yes\n",
		"[log]\nverbose = maybe\n",
		"[server\n",
		"max_clients = 3\n",
		"[actions]\nmax_running = 0\n",
		"[actions]\nmax_running = 257\n",
		"[actions]\ndirectory = actions.d\n",
	};
	struct config conf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&conf);
		conf.max_clients = 77;
		if (load(bad[i], &conf) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(conf.max_clients, 77);
		config_free(&conf);
	}
}

static void
test_config_missing_file_is_an_error(void **state)
{
	struct config conf;

	(void)state;
	config_defaults(&conf);
	assert_int_equal(config_load("/nonexistent/kuifd.conf", &conf), -1);
	config_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_shipped_file_is_the_defaults),
		cmocka_unit_test(test_config_every_key_is_read),
		cmocka_unit_test(test_config_values_are_read),
		cmocka_unit_test(test_config_bad_input_keeps_old),
		cmocka_unit_test(test_config_missing_file_is_an_error),
	};

	log_init(0, "test_config");
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
