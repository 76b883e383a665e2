// SPDX-License-Identifier: GPL-2.0
/*
 * kuif-hello: calls kuif_hello(2), the system call that
 * kuif_hello-6.1.patch and kuif_hello-6.12.patch add to a kernel.
 *
 *   cc -DKUIF_HELLO_NR=463 -o kuif-hello kuif-hello.c
 *   ./kuif-hello "hello from user space"
 *
 * The number differs between the two kernels (451 on 6.1, 463 on 6.12):
 * pass it with -DKUIF_HELLO_NR=N, or build against the patched kernel's
 * headers, which define __NR_kuif_hello.
 *
 * The options exist for the VM test (tests/vm/tests.d/95-syscall.sh):
 *   -n COUNT    call it COUNT times (to see the log line rate-limited)
 *   -l LEN      pass LEN as the message's length; the message is padded
 *               with 'x' to LEN bytes, so the kernel may read all of them
 *   -r LEN      pass LEN as the reply buffer's size (at most 64)
 *   -F msg|reply  pass an unmapped address instead of that buffer
 * On success it prints the reply. It checks that the call returned the
 * reply's length with its NUL and wrote nothing past it. On an error it
 * prints "kuif_hello: " and strerror(errno), and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Never guess: on another kernel the number is another system call. */
#ifndef KUIF_HELLO_NR
#ifdef __NR_kuif_hello
#define KUIF_HELLO_NR __NR_kuif_hello
#else
#error "build against the patched kernel's headers or with -DKUIF_HELLO_NR=N"
#endif
#endif

#define REPLY_MAX	64
#define CANARY		0x5a

static long
number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, "kuif-hello: bad number '%s' (0 to %ld)\n", s, max);
		exit(2);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: kuif-hello [-n COUNT] [-l LEN] [-r LEN] "
	    "[-F msg|reply] [MESSAGE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *arg = "hello world!";
	char reply[REPLY_MAX], *msg, *hole, *msgp, *replyp;
	size_t len, reply_len = sizeof(reply);
	long count = 1, i, n = 0, pagesz;
	int c, badmsg = 0, badreply = 0, setlen = 0;

	len = 0;
	while ((c = getopt(argc, argv, "n:l:r:F:")) != -1) {
		switch (c) {
		case 'n':
			count = number(optarg, 1000000);
			break;
		case 'l':
			len = (size_t)number(optarg, 1 << 20);
			setlen = 1;
			break;
		case 'r':
			reply_len = (size_t)number(optarg, REPLY_MAX);
			break;
		case 'F':
			if (strcmp(optarg, "msg") == 0)
				badmsg = 1;
			else if (strcmp(optarg, "reply") == 0)
				badreply = 1;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind < argc - 1)
		usage();
	if (optind == argc - 1)
		arg = argv[optind];
	if (!setlen)
		len = strlen(arg);

	/* The message, padded with 'x' to len bytes, all of them readable. */
	msg = malloc(len + 1);
	if (msg == NULL) {
		perror("kuif-hello: malloc");
		return 2;
	}
	memset(msg, 'x', len);
	memcpy(msg, arg, strlen(arg) < len ? strlen(arg) : len);
	msg[len] = '\0';

	/* An address nothing is mapped at, for the EFAULT cases. */
	pagesz = sysconf(_SC_PAGESIZE);
	hole = mmap(NULL, pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED) {
		perror("kuif-hello: mmap");
		return 2;
	}
	msgp = badmsg ? hole : msg;
	replyp = badreply ? hole : reply;

	for (i = 0; i < count; i++) {
		memset(reply, CANARY, sizeof(reply));
		n = syscall(KUIF_HELLO_NR, msgp, len, replyp, reply_len);
		if (n < 0) {
			fprintf(stderr, "kuif_hello: %s%s\n", strerror(errno),
			    errno == ENOSYS ? " (is the kernel patched?)" : "");
			return 1;
		}
	}
	/* The reply and its NUL, nothing past them. */
	if (n < 1 || (size_t)n > reply_len || reply[n - 1] != '\0' ||
	    strlen(reply) != (size_t)n - 1) {
		fprintf(stderr, "kuif-hello: returned %ld for a %zu-byte reply\n",
		    n, strnlen(reply, sizeof(reply)));
		return 3;
	}
	for (i = n; i < REPLY_MAX; i++) {
		if ((unsigned char)reply[i] != CANARY) {
			fprintf(stderr, "kuif-hello: byte %ld past the reply "
			    "was written\n", i);
			return 3;
		}
	}
	printf("%s\n", reply);
	free(msg);
	return 0;
}
