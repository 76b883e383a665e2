// SPDX-License-Identifier: GPL-2.0
/*
 * signal-receiver: the tutorial's signal example, modern. Registers its
 * pid with kuif (debugfs signalconfpid by default, or sysfs signal_pid),
 * then prints each real-time signal the module sends:
 *   signal 44 si_code SI_QUEUE value N
 *
 *   signal-receiver [--sysfs] [--count N] [--timeout S] [--no-register]
 *
 * Exits 1 if fewer than --count signals came before the timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kuif.h>

static int
register_pid(const char *path)
{
	char buf[32];
	int fd, len, ok;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		perror(path);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	ok = write(fd, buf, (size_t)len) == len;
	if (!ok)
		perror(path);
	close(fd);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *path = "/sys/kernel/debug/kuif/signalconfpid";
	long count = 1, seen = 0, timeout = 10;
	int i, do_register = 1;
	struct timespec ts;
	siginfo_t si;
	sigset_t set;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sysfs") == 0)
			path = "/sys/kernel/kuif/signal_pid";
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atol(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = atol(argv[++i]);
		else if (strcmp(argv[i], "--no-register") == 0)
			do_register = 0;
		else {
			fprintf(stderr, "usage: signal-receiver [--sysfs] "
			    "[--count N] [--timeout S] [--no-register]\n");
			return 2;
		}
	}
	/* Blocked before registering: no signal can be lost in between. */
	sigemptyset(&set);
	sigaddset(&set, KUIF_SIGNAL_NR);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		perror("sigprocmask");
		return 2;
	}
	if (do_register && register_pid(path) == -1)
		return 2;
	fprintf(stderr, "signal-receiver: pid %d registered\n", (int)getpid());

	while (seen < count) {
		ts.tv_sec = timeout;
		ts.tv_nsec = 0;
		if (sigtimedwait(&set, &si, &ts) == -1) {
			if (errno == EINTR)
				continue;
			break;	/* EAGAIN: timed out */
		}
		printf("signal %d si_code %s value %d\n", si.si_signo,
		    si.si_code == SI_QUEUE ? "SI_QUEUE" : "other",
		    si.si_value.sival_int);
		fflush(stdout);
		seen++;
	}
	return seen < count ? 1 : 0;
}
