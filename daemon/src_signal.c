// SPDX-License-Identifier: GPL-2.0
/*
 * Source: real-time signals. The module sends signal 44 with the low 32
 * bits of the event's kseq to the registered process. A signal says only
 * that an event with that kseq exists: the bus holds it for the reorder
 * window so that a complete copy from another channel can take its place,
 * and publishes the bare kseq if none comes, which is still better than a
 * silent gap. signalfd keeps the signal's value, which libevent's own
 * signal handling would lose.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kuifd.h"

struct src_signal {
	struct bus	*bus;
	struct src_netlink *nl;		/* registers us with the module */
	int		 fd;
	struct event	*ev_read;
	bool		 registered;
	uint64_t	 received;
};

/* Called before any thread exists, so the mask holds for the process. */
int
src_signal_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, KUIF_SIGNAL_NR);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
src_signal_read(evutil_socket_t fd, short what, void *arg)
{
	struct src_signal *src = arg;
	struct signalfd_siginfo si[32];
	struct event ev;
	ssize_t n;
	size_t i;

	(void)what;
	n = read(fd, si, sizeof(si));
	if (n <= 0) {
		if (n == -1 && errno != EAGAIN)
			log_warn("signal: read");
		return;
	}
	for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
		if (si[i].ssi_code != SI_QUEUE)
			continue;	/* not from kuif: no kseq */
		src->received++;
		memset(&ev, 0, sizeof(ev));
		ev.time_ns = 0;
		strcpy(ev.source, "signal");
		strcpy(ev.name, "kernel.signal");
		bus_publish_partial32(src->bus, &ev, (uint32_t)si[i].ssi_int);
	}
}

/*
 * Asks the module to signal us; called when it (re)appears. Through
 * generic netlink (CAP_NET_ADMIN), not the root-only sysfs signal_pid
 * file, so that kuifd needs no root to receive signals.
 */
void
src_signal_register(struct src_signal *src, struct src_netlink *nl)
{
	src->nl = nl;
	src->registered = src_netlink_register_signal(nl, getpid()) == 0;
	if (src->registered)
		log_lifecycle("source_up", "source signal attached: signal %d "
		    "to pid %d", KUIF_SIGNAL_NR, (int)getpid());
}

bool
src_signal_attached(const struct src_signal *src)
{
	return src->registered;
}

uint64_t
src_signal_received(const struct src_signal *src)
{
	return src->received;
}

void
src_signal_lost(struct src_signal *src)
{
	src->registered = false;
}

/* The bus's flow control: held, the kernel queues the signals. */
static bool
src_signal_flow(enum bus_flow_op op, void *arg)
{
	struct src_signal *src = arg;

	if (op == BUS_FLOW_HOLD)
		event_del(src->ev_read);
	else if (op == BUS_FLOW_RELEASE && event_add(src->ev_read, NULL) == -1)
		fatalx("signal: cannot add read event");
	return false;
}

struct src_signal *
src_signal_create(struct event_base *base, struct bus *bus)
{
	struct src_signal *src = xcalloc(1, sizeof(*src));
	sigset_t set;

	src->bus = bus;
	sigemptyset(&set);
	sigaddset(&set, KUIF_SIGNAL_NR);
	src->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (src->fd == -1)
		fatal("signalfd");
	src->ev_read = event_new(base, src->fd, EV_READ | EV_PERSIST,
	    src_signal_read, src);
	if (src->ev_read == NULL || event_add(src->ev_read, NULL) == -1)
		fatalx("signal: cannot add read event");
	bus_flow_add(bus, src_signal_flow, src, false);
	return src;
}

void
src_signal_free(struct src_signal *src)
{
	if (src == NULL)
		return;
	/* Unregister, so the module stops signalling a pid that may be
	 * reused; failing is fine when the module is gone. */
	if (src->registered && src_netlink_register_signal(src->nl, 0) != 0)
		log_debug("signal: unregister failed");
	event_free(src->ev_read);
	close(src->fd);
	free(src);
}
