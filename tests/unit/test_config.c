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

static void
test_config_shipped_file_is_the_defaults(void **state)
{
	struct config conf, def;

	(void)state;
	config_defaults(&conf);
	config_defaults(&def);
	assert_int_equal(config_load("conf/kuifd.conf", &conf), 0);
	assert_string_equal(conf.socket_path, def.socket_path);
	assert_int_equal(conf.max_clients, def.max_clients);
	assert_int_equal(conf.client_buffer, def.client_buffer);
	assert_int_equal(conf.verbose, def.verbose);
	config_free(&conf);
	config_free(&def);
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
		cmocka_unit_test(test_config_values_are_read),
		cmocka_unit_test(test_config_bad_input_keeps_old),
		cmocka_unit_test(test_config_missing_file_is_an_error),
	};

	log_init(0, "test_config");
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
