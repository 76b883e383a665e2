// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the hand-written event encoder against jansson. Any payload
 * must come back byte for byte from the JSON line, as text when it is
 * valid UTF-8 without NUL and as hex otherwise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
unhex(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t back[KUIF_PAYLOAD_MAX];
	struct event ev;
	json_t *obj, *d, *v;
	const char *hex;
	size_t n, i;
	char *line;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 1;
	ev.kseq = size + 1;
	ev.time_ns = (uint64_t)size * 1000000007ULL;
	strcpy(ev.source, "netlink");
	strcpy(ev.name, "fuzz.event");
	ev.len = size < KUIF_PAYLOAD_MAX ? size : KUIF_PAYLOAD_MAX;
	memcpy(ev.payload, data, ev.len);

	line = event_to_json(&ev, &n);
	if (line == NULL || n == 0 || line[n - 1] != '\n' ||
	    memchr(line, '\n', n - 1) != NULL)
		abort();
	obj = json_loadb(line, n, 0, NULL);
	if (obj == NULL)
		abort();
	d = json_object_get(obj, "data");
	if ((v = json_object_get(d, "payload")) != NULL) {
		if (!utf8_valid(ev.payload, ev.len) ||
		    memchr(ev.payload, '\0', ev.len) != NULL ||
		    json_string_length(v) != ev.len ||
		    memcmp(json_string_value(v), ev.payload, ev.len) != 0)
			abort();
	} else {
		hex = json_string_value(json_object_get(d, "payload_hex"));
		if (hex == NULL || strlen(hex) != 2 * ev.len)
			abort();
		for (i = 0; i < ev.len; i++)
			back[i] = (uint8_t)(unhex(hex[2 * i]) << 4 |
			    unhex(hex[2 * i + 1]));
		if (memcmp(back, ev.payload, ev.len) != 0)
			abort();
	}
	json_decref(obj);
	free(line);
	return 0;
}
