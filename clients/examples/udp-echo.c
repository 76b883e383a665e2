// SPDX-License-Identifier: GPL-2.0
/*
 * udp-echo: the UDP client of the tutorial, in its modern form. Sends
 * "hello world" to kuif's kernel UDP socket on 127.0.0.1:5555, waits for
 * the echo, checks that it is the same datagram and prints it.
 *
 *   udp-echo [-p PORT] [-m MESSAGE | -s SIZE] [-c COUNT] [-t TIMEOUT_MS]
 *
 * -s SIZE sends SIZE bytes (0..65507) of a repeating pattern instead of a
 * message and prints "SIZE bytes echoed". -c sends COUNT datagrams, one
 * after the other, each waiting for its echo.
 *
 * Exit status: 0 every echo came back identical, 1 timeout, refused or
 * mismatch, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_MAX 65507	/* 65535 - IPv4 header - UDP header */

static void usage(void)
{
	fprintf(stderr, "usage: udp-echo [-p PORT] [-m MESSAGE | -s SIZE] "
		"[-c COUNT] [-t TIMEOUT_MS]\n");
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Sends one datagram and checks its echo; returns 0 or 1. */
static int round_trip(int fd, const char *msg, size_t len, char *buf,
		      int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (send(fd, msg, len, 0) != (ssize_t)len) {
		perror("udp-echo: send");
		return 1;
	}
	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0) {
		perror("udp-echo: poll");
		return 1;
	}
	if (rc == 0) {
		fprintf(stderr, "udp-echo: no echo within %d ms\n", timeout_ms);
		return 1;
	}
	/* One byte more than the largest datagram: a longer echo shows. */
	n = recv(fd, buf, UDP_MAX + 1, MSG_TRUNC);
	if (n < 0) {
		perror("udp-echo: recv");
		return 1;
	}
	if ((size_t)n != len || memcmp(buf, msg, len) != 0) {
		fprintf(stderr, "udp-echo: sent %zu bytes, echo differs "
			"(%zd bytes)\n", len, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *message = "hello world";
	long port = 5555, count = 1, size = -1, timeout_ms = 2000, i;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char *msg, *buf;
	size_t len;
	int fd, ch;

	while ((ch = getopt(argc, argv, "p:m:s:c:t:")) != -1) {
		switch (ch) {
		case 'p':
			port = number(optarg, 1, 65535);
			break;
		case 'm':
			message = optarg;
			break;
		case 's':
			size = number(optarg, 0, UDP_MAX);
			break;
		case 'c':
			count = number(optarg, 1, 1000000);
			break;
		case 't':
			timeout_ms = number(optarg, 1, 600000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	len = size >= 0 ? (size_t)size : strlen(message);
	if (len > UDP_MAX) {
		fprintf(stderr, "udp-echo: message longer than %d bytes\n",
			UDP_MAX);
		return 2;
	}
	msg = malloc(len + 1);
	buf = malloc(UDP_MAX + 1);
	if (!msg || !buf) {
		perror("udp-echo: malloc");
		return 1;
	}
	if (size >= 0) {
		for (i = 0; i < size; i++)
			msg[i] = 'a' + i % 26;
	} else {
		memcpy(msg, message, len);
	}
	msg[len] = '\0';

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udp-echo: socket");
		return 1;
	}
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Connected: only the server's datagrams arrive, and ICMP shows. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp-echo: connect");
		return 1;
	}

	for (i = 0; i < count; i++) {
		if (round_trip(fd, msg, len, buf, (int)timeout_ms))
			return 1;
		if (size >= 0)
			printf("%zu bytes echoed\n", len);
		else
			printf("%s\n", msg);
	}
	close(fd);
	free(msg);
	free(buf);
	return 0;
}
