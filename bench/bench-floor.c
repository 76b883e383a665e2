// SPDX-License-Identifier: GPL-2.0
/*
 * bench-floor: what one wakeup per event costs any reader, kuifd's work
 * left out. It does per datagram what kuifd does on its test feed, and
 * nothing else: epoll_wait, recvfrom, the "ok 1" reply, and a 256-byte
 * write to a subscriber (a child process that reads and discards).
 * bench/host_steady.py drives it exactly as it drives kuifd.
 *
 *   bench-floor SOCKET-PATH
 *
 * Runs until killed; the subscriber ends with it (its socket closes).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
subscriber(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n == -1 &&
	    errno == EINTR))
		;
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, from;
	struct epoll_event ev = { .events = EPOLLIN }, got;
	char buf[65536], line[256];
	socklen_t fromlen;
	int fd, ep, sv[2];
	ssize_t n;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: bench-floor SOCKET-PATH\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (fd == -1 || ep == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("bench-floor");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	switch (fork()) {
	case -1:
		perror("bench-floor: fork");
		return 1;
	case 0:
		close(sv[0]);
		subscriber(sv[1]);
	}
	close(sv[1]);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (;;) {
		if (epoll_wait(ep, &got, 1, -1) < 1)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);
		if (n <= 0)
			continue;
		if (sendto(fd, "ok 1", 4, 0, (struct sockaddr *)&from,
		    fromlen) == -1 ||
		    write(sv[0], line, sizeof(line)) != (ssize_t)sizeof(line)) {
			perror("bench-floor");
			return 1;
		}
	}
}
