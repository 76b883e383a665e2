// SPDX-License-Identifier: GPL-2.0
/*
 * Source for tests: what the kernel's channels carry, handed over on a
 * datagram socket and decoded by the same functions as the real sources,
 * so that the host tests exercise decoding and cross-channel
 * deduplication without the module. Off unless kuifd is started with
 * --test-feed PATH; the socket is mode 0600, so only kuifd's own user
 * can write to it, and kuifd warns at start that it is on.
 *
 * Each datagram is one kind byte and its body:
 *   'n'  one generic netlink message, as on the events group
 *        (src_netlink_decode)
 *   'r'  ring records back to back, as in the ring's data area
 *        (src_ring_decode)
 *   's'  the 4-byte int a real-time signal carries: the low 32 bits of
 *        a kseq, host byte order (bus_publish_partial32)
 * The reply, to the sender's address, is "ok N" (N events handed to the
 * bus) or "error WHY".
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kuifd.h"

#define TESTFEED_MAX	65536	/* bytes of one datagram's body */

struct src_testfeed {
	struct bus	*bus;
	int		 fd;
	char		*path;
	struct event	*ev_read;
};

static int
testfeed_netlink(struct src_testfeed *tf, uint8_t *body, size_t len,
    char *why, size_t whylen)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)body;
	struct event ev;
	int rc;

	/* What the kernel guarantees of what it delivers. */
	if (len < NLMSG_HDRLEN || nlh->nlmsg_len != len ||
	    !nlmsg_ok(nlh, (int)len) || !genlmsg_valid_hdr(nlh, 0)) {
		snprintf(why, whylen, "not one generic netlink message");
		return -1;
	}
	rc = src_netlink_decode(nlh, &ev);
	if (rc == -1) {
		snprintf(why, whylen, "malformed netlink event");
		return -1;
	}
	if (rc == 1)
		return 0;
	bus_publish(tf->bus, &ev);
	return 1;
}

static int
testfeed_ring(struct src_testfeed *tf, const uint8_t *data, size_t len,
    char *why, size_t whylen)
{
	struct event ev;
	uint64_t pos = 0;
	bool is_event;
	size_t n;
	int published = 0;

	/* data is TESTFEED_MAX bytes, a power of two, the record at 0. */
	while (pos < len) {
		n = src_ring_decode(data, TESTFEED_MAX, pos, len - pos, &ev,
		    &is_event);
		if (n == 0) {
			snprintf(why, whylen, "malformed ring record at %llu "
			    "(%d published before it)",
			    (unsigned long long)pos, published);
			return -1;
		}
		pos += n;
		if (is_event) {
			bus_publish(tf->bus, &ev);
			published++;
		}
	}
	return published;
}

static int
testfeed_signal(struct src_testfeed *tf, const uint8_t *body, size_t len,
    char *why, size_t whylen)
{
	struct event ev;
	uint32_t low;

	if (len != sizeof(low)) {
		snprintf(why, whylen, "a signal carries 4 bytes, not %zu",
		    len);
		return -1;
	}
	memcpy(&low, body, sizeof(low));
	memset(&ev, 0, sizeof(ev));
	strcpy(ev.source, "signal");
	strcpy(ev.name, "kernel.signal");
	bus_publish_partial32(tf->bus, &ev, low);
	return 1;
}

static void
testfeed_read(evutil_socket_t fd, short what, void *arg)
{
	/* Aligned for the netlink and ring headers read in place. */
	static _Alignas(8) uint8_t body[TESTFEED_MAX];
	struct src_testfeed *tf = arg;
	struct sockaddr_un from;
	socklen_t fromlen = sizeof(from);
	uint8_t buf[1 + TESTFEED_MAX];
	char reply[256], why[200] = "";
	ssize_t n;
	size_t len;
	int rc;

	(void)what;
	n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
	    (struct sockaddr *)&from, &fromlen);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("test feed: recvfrom");
		return;
	}
	if (n < 1 || (size_t)n > sizeof(buf)) {
		snprintf(why, sizeof(why), "a datagram holds a kind byte and "
		    "at most %d bytes", TESTFEED_MAX);
		rc = -1;
	} else {
		/* Not cleared first: every decoder reads within len. A 64 KiB
		 * clear per datagram took 5% of kuifd's CPU samples (perf) at
		 * a steady rate in bench/host_steady.py. */
		len = (size_t)n - 1;
		memcpy(body, buf + 1, len);
		switch (buf[0]) {
		case 'n':
			rc = testfeed_netlink(tf, body, len, why, sizeof(why));
			break;
		case 'r':
			rc = testfeed_ring(tf, body, len, why, sizeof(why));
			break;
		case 's':
			rc = testfeed_signal(tf, body, len, why, sizeof(why));
			break;
		default:
			snprintf(why, sizeof(why), "unknown kind 0x%02x",
			    buf[0]);
			rc = -1;
		}
	}
	if (rc < 0)
		snprintf(reply, sizeof(reply), "error %s", why);
	else
		snprintf(reply, sizeof(reply), "ok %d", rc);
	if (fromlen > sizeof(sa_family_t) &&
	    sendto(fd, reply, strlen(reply), MSG_DONTWAIT,
	    (struct sockaddr *)&from, fromlen) == -1)
		log_warn("test feed: reply");
}

/*
 * The bus's flow control, as the ring's: held, datagrams wait in the
 * socket (and the sender waits for its reply).
 */
static bool
testfeed_flow(enum bus_flow_op op, void *arg)
{
	struct src_testfeed *tf = arg;

	if (op == BUS_FLOW_HOLD)
		event_del(tf->ev_read);
	else if (op == BUS_FLOW_RELEASE && event_add(tf->ev_read, NULL) == -1)
		fatalx("test feed: cannot add read event");
	return op == BUS_FLOW_ATTACHED;
}

struct src_testfeed *
src_testfeed_create(struct event_base *base, struct bus *bus,
    const char *path)
{
	struct src_testfeed *tf;
	struct sockaddr_un sun;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("test feed: path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	tf = xcalloc(1, sizeof(*tf));
	tf->bus = bus;
	tf->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (tf->fd == -1) {
		log_warn("test feed: socket");
		free(tf);
		return NULL;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("test feed: unlink %s", path);
	old = umask(0177);
	if (bind(tf->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("test feed: bind %s", path);
		umask(old);
		close(tf->fd);
		free(tf);
		return NULL;
	}
	umask(old);
	tf->path = xstrdup(path);
	tf->ev_read = event_new(base, tf->fd, EV_READ | EV_PERSIST,
	    testfeed_read, tf);
	if (tf->ev_read == NULL || event_add(tf->ev_read, NULL) == -1)
		fatalx("test feed: cannot add read event");
	bus_flow_add(bus, testfeed_flow, tf, true);
	log_warnx("test feed on %s: events written there are published as "
	    "the kernel's; for tests only", path);
	return tf;
}

void
src_testfeed_free(struct src_testfeed *tf)
{
	if (tf == NULL)
		return;
	event_free(tf->ev_read);
	close(tf->fd);
	unlink(tf->path);
	free(tf->path);
	free(tf);
}
