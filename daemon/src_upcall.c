// SPDX-License-Identifier: GPL-2.0
/*
 * Source: upcalls. The kernel runs kuif-upcall for some events; the helper
 * connects to the client socket as root and hands the event over with an
 * "upcall" request, which the server passes here.
 */
#include <string.h>

#include "kuifd.h"

int
src_upcall_deliver(struct bus *bus, const struct request *req)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kseq = req->kseq;
	ev.time_ns = req->time_ns;
	strcpy(ev.source, "upcall");
	memcpy(ev.name, req->event, sizeof(ev.name));
	ev.len = req->payload_len;
	memcpy(ev.payload, req->payload, req->payload_len);
	bus_publish(bus, &ev);
	return 0;
}
