// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: one request line through the protocol parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	char err[256];
	char *pong;

	if (request_parse((const char *)data, size, &req, err,
	    sizeof(err)) == 0 && req.op == REQ_PING) {
		pong = proto_pong(req.id, NULL);
		if (pong == NULL)
			abort();	/* a parsed id must re-encode */
		free(pong);
	}
	request_free(&req);
	return 0;
}
