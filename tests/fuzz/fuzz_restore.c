// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the history memfd as a crash, a bug or anything else could
 * have left it. The input becomes the memfd's contents (header, then
 * slots); when its first byte is odd, the checksums are made right first,
 * so that the checks behind them are reached. kuifd restores from it, and
 * must come out with a sane seq, a record with a valid JSON line for every
 * seq in its history, and a bus that goes on publishing.
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kuifd.h"
#include "persist.h"

#define NSLOTS	8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
seal(int fd)
{
	size_t size = sizeof(struct persist_header) +
	    NSLOTS * sizeof(struct persist_slot), i;
	struct persist_header *h;
	struct persist_slot *s;
	void *map;

	if (ftruncate(fd, (off_t)size) == -1)
		abort();
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		abort();
	h = map;
	h->magic = PERSIST_MAGIC;
	h->version = PERSIST_VERSION;
	h->slot_size = sizeof(struct persist_slot);
	h->nslots = NSLOTS;
	h->check = persist_header_check(h);
	s = (struct persist_slot *)(h + 1);
	for (i = 0; i < NSLOTS; i++) {
		s[i].len %= KUIF_PAYLOAD_MAX + 16;	/* some too long */
		s[i].check = persist_slot_check(&s[i]);
	}
	munmap(map, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bus_record *r;
	struct persist *p;
	struct event ev;
	struct bus *bus;
	json_error_t err;
	json_t *o;
	uint64_t seq, newest;
	int fd;

	fd = memfd_create("fuzz-history", MFD_CLOEXEC);
	if (fd == -1)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	if (size > 0 && (data[0] & 1))
		seal(fd);
	p = persist_open(fd, NSLOTS);
	if (p == NULL)
		abort();
	bus = bus_create(NULL, NSLOTS, 10);
	bus_set_persist(bus, p);
	bus_restore(bus);

	newest = bus_seq(bus);
	if (newest > (uint64_t)INT64_MAX)
		abort();
	for (seq = bus_history_oldest(bus); seq <= newest; seq++) {
		r = bus_history_get(bus, seq);
		if (r == NULL || r->blob == NULL || r->seq != seq ||
		    r->blob->len != strlen(r->blob->data))
			abort();
		o = json_loadb(r->blob->data, r->blob->len, 0, &err);
		if (o == NULL || json_integer_value(json_object_get(o, "seq"))
		    != (json_int_t)seq)
			abort();
		json_decref(o);
	}
	/* And it goes on: the next records follow the restored ones. */
	bus_kernel_attach(bus, &newest);
	memset(&ev, 0, sizeof(ev));
	strcpy(ev.source, "ring");
	strcpy(ev.name, "fuzz.next");
	ev.kseq = 1;
	bus_publish(bus, &ev);
	bus_publish_loss(bus, 1, "fuzz");
	if (bus_seq(bus) < newest + 1 || bus_history_get(bus,
	    bus_seq(bus)) == NULL)
		abort();
	bus_free(bus);
	persist_close(p);
	return 0;
}
