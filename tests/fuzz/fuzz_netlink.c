// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: a generic netlink message as it would arrive on the events
 * group, through the same header check and decoder as src_netlink.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kuifd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(8) uint8_t buf[65536];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct event ev;

	if (size < sizeof(*nlh) || size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	/* What the kernel guarantees: the length covers what was read. */
	if (nlh->nlmsg_len > size || !nlmsg_ok(nlh, (int)size) ||
	    !genlmsg_valid_hdr(nlh, 0))
		return 0;
	if (src_netlink_decode(nlh, &ev) == 0 &&
	    (ev.len > KUIF_PAYLOAD_MAX || ev.kseq == 0 ||
	    !event_name_valid(ev.name, strlen(ev.name))))
		abort();
	return 0;
}
