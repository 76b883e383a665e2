// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: a subscribe request's filter, then matching it against names
 * taken from the rest of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char source[EVENT_SOURCE_MAX], name[KUIF_EVENT_NAME_MAX];
	struct request req;
	char err[256];
	size_t n, rest;

	if (nl == NULL)
		return 0;
	if (request_parse((const char *)data, (size_t)(nl - data), &req, err,
	    sizeof(err)) == 0 && req.op == REQ_SUBSCRIBE) {
		rest = size - (size_t)(nl - data) - 1;
		n = rest < sizeof(name) - 1 ? rest : sizeof(name) - 1;
		memcpy(name, nl + 1, n);
		name[n] = '\0';
		n = rest < sizeof(source) - 1 ? rest : sizeof(source) - 1;
		memcpy(source, nl + 1, n);
		source[n] = '\0';
		(void)filter_match(&req.filter, source, name);
	}
	request_free(&req);
	return 0;
}
