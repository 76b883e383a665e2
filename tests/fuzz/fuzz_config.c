// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: kuifd.conf text through libinih and kuifd's key handling. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct config conf;
	char *text;

	if (!quiet) {
		log_init(0, "fuzz_config");
		quiet = 1;
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&conf);
	if (config_load_string("fuzz", text, &conf) == 0 &&
	    (conf.max_clients == 0 || conf.client_buffer < 4096 ||
	    conf.socket_path == NULL || conf.socket_path[0] != '/'))
		abort();
	config_free(&conf);
	free(text);
	return 0;
}
