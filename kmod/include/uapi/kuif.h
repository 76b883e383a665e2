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

/* Generic netlink family. */
#define KUIF_GENL_NAME		"kuif"
#define KUIF_GENL_VERSION	1
#define KUIF_GENL_MCGRP_EVENTS	"events"

enum kuif_genl_cmd {
	KUIF_CMD_UNSPEC,
	KUIF_CMD_ECHO,		/* MSG -> reply with the same MSG */
	KUIF_CMD_EMIT,		/* EVENT [PAYLOAD] -> reply KSEQ; admin */
	KUIF_CMD_EVENT,		/* kernel -> multicast group "events" */
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
	__KUIF_A_MAX,
};
#define KUIF_A_MAX (__KUIF_A_MAX - 1)

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

#endif /* _UAPI_LINUX_KUIF_H */
