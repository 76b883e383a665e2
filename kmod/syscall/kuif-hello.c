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
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

int
main(int argc, char **argv)
{
	const char *msg = argc > 1 ? argv[1] : "hello world!";
	char reply[64];
	long n;

	n = syscall(KUIF_HELLO_NR, msg, strlen(msg), reply, sizeof(reply));
	if (n < 0) {
		fprintf(stderr, "kuif_hello: %s%s\n", strerror(errno),
		    errno == ENOSYS ? " (is the kernel patched?)" : "");
		return 1;
	}
	printf("%s\n", reply);
	return 0;
}
