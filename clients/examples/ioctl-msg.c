// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl-msg: the /dev/kuif ioctls.
 *
 *   ioctl-msg                      SET_MSG "hello world", GET_MSG, print it
 *   ioctl-msg set TEXT | get
 *   ioctl-msg emit EVENT [PAYLOAD] [REPEAT]   print the last kseq
 *   ioctl-msg bad-cmd | bad-pointer           print the errno name
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kuif.h>

static const char *
errname(int e)
{
	switch (e) {
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EMSGSIZE: return "EMSGSIZE";
	default: return strerror(e);
	}
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "hello";
	struct kuif_emit em;
	struct kuif_msg m;
	long i, n;
	void *ro;
	int fd;

	fd = open(KUIF_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		perror("ioctl-msg: " KUIF_DEVICE_PATH);
		return 2;
	}
	memset(&m, 0, sizeof(m));
	if (strcmp(cmd, "hello") == 0 || strcmp(cmd, "set") == 0) {
		snprintf(m.data, sizeof(m.data), "%s",
		    argc > 2 ? argv[2] : "hello world");
		if (ioctl(fd, KUIF_IOC_SET_MSG, &m) == -1) {
			printf("%s\n", errname(errno));
			return 1;
		}
		if (strcmp(cmd, "set") == 0)
			return 0;
		cmd = "get";
	}
	if (strcmp(cmd, "get") == 0) {
		memset(&m, 0, sizeof(m));
		if (ioctl(fd, KUIF_IOC_GET_MSG, &m) == -1) {
			printf("%s\n", errname(errno));
			return 1;
		}
		printf("%.*s\n", (int)sizeof(m.data), m.data);
		return 0;
	}
	if (strcmp(cmd, "emit") == 0 && argc >= 3) {
		n = argc > 4 ? atol(argv[4]) : 1;
		for (i = 0; i < n; i++) {
			memset(&em, 0, sizeof(em));
			snprintf(em.event, sizeof(em.event), "%s", argv[2]);
			if (argc > 3) {
				em.len = (uint32_t)strlen(argv[3]);
				if (em.len > sizeof(em.payload))
					em.len = sizeof(em.payload) + 1;
				else
					memcpy(em.payload, argv[3], em.len);
			}
			if (ioctl(fd, KUIF_IOC_EMIT, &em) == -1) {
				printf("%s\n", errname(errno));
				return 1;
			}
		}
		printf("%llu\n", (unsigned long long)em.kseq);
		return 0;
	}
	if (strcmp(cmd, "bad-cmd") == 0) {
		if (ioctl(fd, _IOR(KUIF_IOC_MAGIC, 0x7f, int), &n) == 0)
			return 1;
		printf("%s\n", errname(errno));
		return 0;
	}
	if (strcmp(cmd, "bad-pointer") == 0) {
		/* Unmapped for SET, read-only for GET: both must be EFAULT. */
		if (ioctl(fd, KUIF_IOC_SET_MSG, (void *)16) == 0)
			return 1;
		printf("%s ", errname(errno));
		ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (ro == MAP_FAILED || ioctl(fd, KUIF_IOC_GET_MSG, ro) == 0)
			return 1;
		printf("%s\n", errname(errno));
		return 0;
	}
	fprintf(stderr, "usage: ioctl-msg [set TEXT|get|emit EVENT [PAYLOAD "
	    "[REPEAT]]|bad-cmd|bad-pointer]\n");
	return 2;
}
