/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kuif: the ABI shared by kuif.ko, kuifd and the clients.
 *
 * Everything a user-space program needs to talk to the module directly:
 * the generic netlink family, the /dev/kuif ioctls and the limits that
 * the kernel enforces.
 */
#ifndef _UAPI_LINUX_KUIF_H
#define _UAPI_LINUX_KUIF_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KUIF_VERSION_STRING	"0.1.0"

#define KUIF_DEVICE_PATH	"/dev/kuif"

/* Limits enforced by the module. */
#define KUIF_MSG_MAX		200	/* /dev/kuif message, bytes */
#define KUIF_EVENT_NAME_MAX	32	/* event name incl. NUL */
#define KUIF_PAYLOAD_MAX	256	/* event payload, bytes */
#define KUIF_BENCH_MAX		1000000	/* events per BENCH request */

/* Generic netlink family. */
#define KUIF_GENL_NAME		"kuif"
#define KUIF_GENL_VERSION	1
#define KUIF_GENL_MCGRP_EVENTS	"events"

enum kuif_genl_cmd {
	KUIF_CMD_UNSPEC,
	KUIF_CMD_ECHO,		/* MSG -> reply with the same MSG */
	KUIF_CMD_EMIT,		/* EVENT [PAYLOAD] -> reply KSEQ; admin */
	KUIF_CMD_EVENT,		/* kernel -> multicast group "events" */
	KUIF_CMD_REGISTER_SIGNAL, /* PID (0: unregister) -> signals; admin */
	KUIF_CMD_GET_STATS,	/* -> reply STATS */
	KUIF_CMD_BENCH,		/* COUNT SIZE CHANNELS -> reply KSEQ; admin */
	__KUIF_CMD_MAX,
};

#define KUIF_CMD_MAX (__KUIF_CMD_MAX - 1)

enum kuif_genl_attr {
	KUIF_A_UNSPEC,
	KUIF_A_MSG,		/* NUL-terminated string, < KUIF_MSG_MAX */
	KUIF_A_KSEQ,		/* u64: global event sequence number */
	KUIF_A_TIME,		/* u64: CLOCK_REALTIME in ns at emission */
	KUIF_A_EVENT,		/* NUL-terminated string, < KUIF_EVENT_NAME_MAX */
	KUIF_A_PAYLOAD,		/* binary, <= KUIF_PAYLOAD_MAX */
	KUIF_A_PAD,
	KUIF_A_PID,		/* u32 */
	KUIF_A_STATS,		/* nested: KUIF_STAT_* */
	KUIF_A_COUNT,		/* u32: BENCH, number of events */
	KUIF_A_SIZE,		/* u32: BENCH, payload bytes per event */
	KUIF_A_CHANNELS,	/* u32: mask of KUIF_CH_* */
	__KUIF_A_MAX,
};

#define KUIF_A_MAX (__KUIF_A_MAX - 1)

/* Inside KUIF_A_STATS, all u64. */
enum kuif_genl_stat {
	KUIF_STAT_UNSPEC,
	KUIF_STAT_EVENTS,		/* events emitted (= last kseq) */
	KUIF_STAT_NETLINK_SENT,
	KUIF_STAT_NETLINK_DROPPED,
	KUIF_STAT_RING_SENT,
	KUIF_STAT_RING_DROPPED,
	KUIF_STAT_SIGNAL_SENT,
	KUIF_STAT_SIGNAL_DROPPED,
	KUIF_STAT_UPCALL_SENT,
	KUIF_STAT_UPCALL_DROPPED,
	KUIF_STAT_PAD,
	__KUIF_STAT_MAX,
};

#define KUIF_STAT_MAX (__KUIF_STAT_MAX - 1)

/*
 * Channels: the ways an event leaves the kernel. /sys/kernel/kuif/channels
 * holds the mask of enabled ones.
 */
#define KUIF_CH_NETLINK		(1U << 0)
#define KUIF_CH_RING		(1U << 1)
#define KUIF_CH_SIGNAL		(1U << 2)
#define KUIF_CH_UPCALL		(1U << 3)
#define KUIF_CH_ALL		0xfU

/*
 * The real-time signal sent to the registered process, si_int = (u32)kseq:
 * 44, which is SIGRTMIN + 10 as glibc counts (glibc's SIGRTMIN is 34, the
 * kernel's 32).
 */
#define KUIF_SIGNAL_NR		44

/*
 * The mmap ring of /dev/kuif, version 2. As in the BPF ring buffer, a
 * reader can write only its consumer position: what the kernel writes is
 * mapped read-only. The ring is three areas of the device, at the offsets
 * KUIF_IOC_RING_INFO gives (pages of PAGE_SIZE bytes):
 *
 *   consumer_offset (0)       the consumer page: struct kuif_ring_consumer,
 *                             the only part that may be mapped writable
 *   producer_offset (page 1)  the producer page: struct
 *                             kuif_ring_producer, read-only
 *   data_offset (page 2)      data_size bytes of records, read-only
 *
 * A reader opens /dev/kuif O_RDWR and makes two maps:
 *
 *   cons = mmap(NULL, consumer_size, PROT_READ | PROT_WRITE, MAP_SHARED,
 *               fd, consumer_offset);
 *   prod = mmap(NULL, mmap_size - producer_offset, PROT_READ, MAP_SHARED,
 *               fd, producer_offset);
 *
 * and finds the records at prod + (data_offset - producer_offset). Any
 * page range of the ring may be mapped read-only (an observer may map all
 * of it at offset 0); a range beyond the ring is refused with EINVAL. A
 * writable map of anything but the consumer page alone, or a private
 * writable map, is refused with EACCES, and a read-only map of those
 * pages can never be made writable (mprotect fails with EACCES).
 *
 * producer and consumer are byte counters that only grow; a record starts
 * at data_offset + (pos % data_size), is 8-byte aligned and never wraps:
 * when a record does not fit before the end, a KUIF_RING_PAD record fills
 * the tail. The kernel writes producer (release) after the record, and
 * last_kseq (release) after producer; the reader writes consumer (release)
 * after it is done with the records. A reader that loads last_kseq
 * (acquire) and then producer (acquire) finds below that producer every
 * record the ring holds up to last_kseq: a kseq up to that one that is
 * not there was dropped (or never offered to the ring).
 *
 * The kernel never overwrites unread data: it counts a drop instead. It
 * never trusts the consumer page either: a consumer position that is not
 * 8-byte aligned and between producer - data_size and producer is
 * corrupt: the kernel counts it in bad_consumer and moves it to producer,
 * discarding what was unread. Every process that can map the consumer
 * page shares it, so one of them can make the others lose records: the
 * kernel writes over anything below the consumer position it accepted.
 * consumer_max, the highest it ever accepted, is written before the
 * kernel writes any record that this position allowed. A careful reader
 * keeps its own position, writes it to the consumer page and never reads
 * it back; copies each record header once and checks only the copy; and
 * after copying a record (acquire), finds consumer_max not past the
 * record's start, or else discards the copy, which may be torn, as lost.
 */
#define KUIF_RING_MAGIC		0x4b554946U	/* "KUIF" */
#define KUIF_RING_VERSION	2

/* The consumer page (read-write). */
struct kuif_ring_consumer {
	__u64 consumer;			/* written by the reader */
};

/* The producer page (read-only): written by the kernel alone. */
struct kuif_ring_producer {
	__u32 magic;			/* KUIF_RING_MAGIC */
	__u32 version;			/* KUIF_RING_VERSION */
	__u32 data_offset;		/* as in struct kuif_ring_info */
	__u32 data_size;		/* bytes of record space, power of 2 */
	__u64 producer;			/* end of the last record written */
	__u64 dropped;			/* records not written: ring full */
	__u64 records;			/* records written */
	__u64 bad_consumer;		/* corrupt consumer positions seen */
	__u64 last_kseq;		/* last event offered (kept or dropped) */
	__u64 consumer_max;		/* highest consumer accepted */
};

#define KUIF_RING_EVENT		1
#define KUIF_RING_PAD		2

struct kuif_ring_record {
	__u32 len;			/* whole record, multiple of 8 */
	__u16 type;			/* KUIF_RING_EVENT or KUIF_RING_PAD */
	__u16 payload_len;
	__u64 kseq;
	__u64 time_ns;
	char event[KUIF_EVENT_NAME_MAX];	/* NUL-terminated */
	__u8 payload[];			/* payload_len bytes */
};

/* Offsets are of the device, in bytes, multiples of the page size. */
struct kuif_ring_info {
	__u64 mmap_size;		/* the whole ring: all three areas */
	__u32 data_offset;		/* the records */
	__u32 data_size;
	__u32 consumer_offset;		/* the consumer page: 0 */
	__u32 consumer_size;		/* one page */
	__u32 producer_offset;		/* the producer page */
	__u32 producer_size;		/* one page */
};

/* /dev/kuif ioctls. Magic 0xB9 is unassigned in ioctl-number.rst. */
#define KUIF_IOC_MAGIC		0xB9

struct kuif_msg {
	char data[KUIF_MSG_MAX];	/* NUL-terminated if shorter */
};

struct kuif_emit {
	char event[KUIF_EVENT_NAME_MAX];	/* NUL-terminated name */
	__u32 len;				/* payload bytes used */
	__u32 reserved;				/* must be 0 */
	__u64 kseq;				/* out: sequence assigned */
	__u8 payload[KUIF_PAYLOAD_MAX];
};

#define KUIF_IOC_SET_MSG	_IOW(KUIF_IOC_MAGIC, 0x01, struct kuif_msg)
#define KUIF_IOC_GET_MSG	_IOR(KUIF_IOC_MAGIC, 0x02, struct kuif_msg)
#define KUIF_IOC_EMIT		_IOWR(KUIF_IOC_MAGIC, 0x03, struct kuif_emit)
#define KUIF_IOC_RING_INFO	_IOR(KUIF_IOC_MAGIC, 0x04, struct kuif_ring_info)

#endif /* _UAPI_LINUX_KUIF_H */
