// SPDX-License-Identifier: GPL-2.0
/*
 * bench-sample: where a process spends its time, where perf cannot see.
 * Under QEMU's TCG perf's sampling records almost nothing in the guest,
 * so this samples the instruction pointer with ptrace instead: HZ times
 * a second, if the process is running (state R in /proc/PID/stat), it
 * is stopped with PTRACE_INTERRUPT, its registers read and it is let go.
 * A process asleep is counted as asleep, not stopped. Only the thread
 * PID is sampled.
 *
 *   bench-sample PID HZ SECONDS
 *
 * Stops early, and reports, on SIGINT or SIGTERM, or when PID exits.
 * Prints "asleep N", "running N", then one line per sampled address,
 * "COUNT ADDRESS OFFSET PATH": the file offset in the mapped PATH
 * ("-" for anonymous memory, the kernel's name for [vdso], [heap] and
 * the like), for bench/sample_report.py to name. Then
 * one line per sampled address and the word at the stack pointer,
 * "from COUNT OFFSET PATH OFFSET PATH": in a function that has not
 * pushed anything (memcpy, memmove: most of libc's leaf functions), that
 * word is the return address, so the report can say who called it.
 */
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SAMPLE_MAX	(1 << 20)
#define MAP_MAX		512

struct mapping {
	uint64_t	start, end, offset;
	char		path[256];
};

struct sample {
	uint64_t	ip;
	uint64_t	top;	/* the word at the stack pointer */
};

static struct sample samples[SAMPLE_MAX];
static size_t	nsamples;
static struct mapping maps[MAP_MAX];
static size_t	nmaps;
static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* 'R' (running or runnable), another state letter, or 0 if unreadable. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2];
}

/*
 * Waits for the stop PTRACE_INTERRUPT asked for, passing on any signal
 * that arrives first. Returns 0 when stopped, -1 when the process is gone.
 */
static int
wait_interrupt_stop(pid_t pid)
{
	int st;

	for (;;) {
		if (waitpid(pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -1;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal for the process: deliver it, wait again. */
		if (ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(st)) == -1)
			return -1;
	}
}

static int
sample_once(pid_t pid)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1 ||
	    wait_interrupt_stop(pid) == -1)
		return -1;
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 &&
	    nsamples < SAMPLE_MAX) {
		samples[nsamples].ip = regs.rip;
		errno = 0;
		samples[nsamples].top = (uint64_t)ptrace(PTRACE_PEEKDATA, pid,
		    (void *)regs.rsp, 0);
		if (errno != 0)
			samples[nsamples].top = 0;
		nsamples++;
	}
	return ptrace(PTRACE_CONT, pid, 0, 0) == -1 ? -1 : 0;
}

static void
read_maps(pid_t pid)
{
	char path[64], line[512];
	struct mapping *m;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	nmaps = 0;
	while (nmaps < MAP_MAX && fgets(line, sizeof(line), f) != NULL) {
		m = &maps[nmaps];
		m->path[0] = '\0';
		n = sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64
		    " %*s %*s %255s", &m->start, &m->end, &m->offset, m->path);
		if (n >= 3)
			nmaps++;
	}
	fclose(f);
}

static const struct mapping *
find_map(uint64_t addr)
{
	size_t i;

	for (i = 0; i < nmaps; i++)
		if (addr >= maps[i].start && addr < maps[i].end)
			return &maps[i];
	return NULL;
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->top < y->top ? -1 : x->top > y->top;
}

/* "OFFSET PATH" of addr: its file offset and file, or "0 -". */
static void
print_where(uint64_t addr)
{
	const struct mapping *m = find_map(addr);

	printf(" %#" PRIx64 " %s",
	    m != NULL ? addr - m->start + m->offset : 0,
	    m != NULL && (m->path[0] == '/' || m->path[0] == '[') ?
	    m->path : "-");
}

static void
report(unsigned long asleep)
{
	size_t i, j;

	printf("asleep %lu\nrunning %zu\n", asleep, nsamples);
	qsort(samples, nsamples, sizeof(samples[0]), cmp_sample);
	for (i = 0; i < nsamples; i = j) {
		for (j = i; j < nsamples && samples[j].ip == samples[i].ip; j++)
			;
		printf("%zu %#" PRIx64, j - i, samples[i].ip);
		print_where(samples[i].ip);
		putchar('\n');
	}
	for (i = 0; i < nsamples; i = j) {
		for (j = i; j < nsamples && samples[j].ip == samples[i].ip &&
		    samples[j].top == samples[i].top; j++)
			;
		printf("from %zu", j - i);
		print_where(samples[i].ip);
		print_where(samples[i].top);
		putchar('\n');
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	unsigned long asleep = 0;
	struct timespec at;
	long hz, seconds;
	int64_t end, next;
	pid_t pid;
	char state;

	if (argc != 4 || (pid = (pid_t)atol(argv[1])) <= 0 ||
	    (hz = atol(argv[2])) < 1 || hz > 10000 ||
	    (seconds = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: bench-sample PID HZ SECONDS "
		    "(HZ 1..10000)\n");
		return 2;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == -1) {
		fprintf(stderr, "bench-sample: ptrace %d: %s\n", (int)pid,
		    strerror(errno));
		return 1;
	}
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	read_maps(pid);
	next = bench_mono();
	end = next + seconds * 1000000000LL;
	while (next < end && !stop) {
		state = proc_state(pid);
		if (state == 0 || state == 'Z' || state == 'X')
			break;		/* gone */
		if (state != 'R')
			asleep++;
		else if (sample_once(pid) == -1)
			break;
		next += 1000000000LL / hz;
		at.tv_sec = next / 1000000000LL;
		at.tv_nsec = next % 1000000000LL;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at,
		    NULL) == EINTR && !stop)
			;
	}
	/* Let it go: a seized process is detached once stopped. Its
	 * mappings read again first: one just started had not yet mapped
	 * its libraries when sampling began. */
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 &&
	    wait_interrupt_stop(pid) == 0) {
		read_maps(pid);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	report(asleep);
	return 0;
}
