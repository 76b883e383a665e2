/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout of the persisted history (persist.c), for the daemon and for
 * the tests that forge it. Version 2: every slot and the header carry a
 * checksum; nothing read back is used before it has been copied out of
 * the shared memory and checked.
 */
#ifndef KUIFD_PERSIST_H
#define KUIFD_PERSIST_H

#include <stdint.h>

#include "kuifd.h"

#define PERSIST_MAGIC		0x6b75696668697374ULL	/* "kuifhist" */
#define PERSIST_VERSION		3
#define PERSIST_REASON_MAX	24
#define PERSIST_SEQ_MAX		((uint64_t)INT64_MAX)

enum persist_kind {
	PERSIST_EVENT = 1,
	PERSIST_LOSS = 2,
};

/* Written once, when the memfd is new. */
struct persist_header {
	uint64_t	magic;
	uint32_t	version;
	uint32_t	slot_size;
	uint64_t	nslots;
	uint64_t	check;		/* persist_checksum of the above */
};

/* One record; record seq lives in slot seq % nslots. */
struct persist_slot {
	uint64_t	check;		/* persist_slot_check(); written last */
	uint64_t	seq;
	uint64_t	kseq_done;	/* every kseq up to it accounted for */
	uint32_t	kind;		/* enum persist_kind */
	uint32_t	len;		/* event: payload bytes */
	uint64_t	kseq;		/* event */
	uint64_t	time_ns;	/* event */
	uint64_t	lost_count;	/* loss */
	char		reason[PERSIST_REASON_MAX];	/* loss */
	char		source[EVENT_SOURCE_MAX];	/* event */
	char		name[KUIF_EVENT_NAME_MAX];	/* event */
	uint8_t		payload[KUIF_PAYLOAD_MAX];	/* event: len used */
};

uint64_t	persist_checksum(uint64_t, const void *, size_t);
uint64_t	persist_header_check(const struct persist_header *);
uint64_t	persist_slot_check(const struct persist_slot *);

#endif /* KUIFD_PERSIST_H */
