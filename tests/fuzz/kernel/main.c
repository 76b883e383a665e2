// SPDX-License-Identifier: GPL-2.0
/*
 * kfuzz [-s SEED] [-n OPS] [-t TARGET[,TARGET...]] [-v]
 *
 * Runs OPS operations (default 20000) drawn at random over the targets
 * and prints the seed first, so any run can be repeated exactly with -s.
 * Exit status: 0 when every promise held, 1 when one broke, 2 on usage
 * or setup errors, 3 when one operation hung for KF_HANG_SECONDS.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "kfuzz.h"

#define KF_HANG_SECONDS	30
#define KF_MAX_FAILS	20	/* reported in full; the rest counted */

static struct target *targets[] = {
	&kf_target_files,
	&kf_target_dev,
	&kf_target_ring,
	&kf_target_genl,
	&kf_target_udp,
	&kf_target_configfs,
	&kf_target_readers,
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

unsigned long kf_op_index;
struct target *kf_current;
static unsigned long failures;
static uint64_t run_seed;
static int verbose;

/* ---- random ---- */

static uint64_t rng[4];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void kf_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t kf_rand(void)
{
	uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;

	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl(rng[3], 45);
	return r;
}

uint64_t kf_below(uint64_t n)
{
	return n ? kf_rand() % n : 0;
}

int kf_chance(unsigned int percent)
{
	return kf_below(100) < percent;
}

size_t kf_len(size_t max)
{
	static const size_t edges[] = {
		0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127,
		128, 199, 200, 201, 255, 256, 257, 511, 512, 1023, 1024,
		4095, 4096, 4097,
	};
	size_t n;

	if (kf_chance(50)) {
		n = edges[kf_below(sizeof(edges) / sizeof(edges[0]))];
		if (n <= max)
			return n;
	}
	/* Short ones more often: most files take a line. */
	return kf_chance(70) ? kf_below(max < 64 ? max + 1 : 65)
			     : kf_below(max + 1);
}

uint64_t kf_number(void)
{
	static const uint64_t fixed[] = {
		0, 1, 2, 9, 10, 11, 15, 16, 19, 20, 21, 60000, 60001, 127,
		128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, 0xffffffffffffffffULL,
	};
	uint64_t v;

	switch (kf_below(4)) {
	case 0:
		return fixed[kf_below(sizeof(fixed) / sizeof(fixed[0]))];
	case 1:			/* a power of two, +-1 */
		v = 1ULL << kf_below(64);
		return v + kf_below(3) - 1;
	case 2:
		return kf_below(100);
	default:
		return kf_rand();
	}
}

static size_t fill_number(char *buf, size_t max)
{
	static const char *const forms[] = {
		"%lld", "%llu", "%lld\n", "0x%llx", "%llo", " %lld", "%lld ",
		"+%llu", "-%llu", "%lld\n\n", "%llde3", "%lld.5",
	};
	char tmp[64];
	int n;

	n = snprintf(tmp, sizeof(tmp), forms[kf_below(sizeof(forms) /
		     sizeof(forms[0]))], (long long)kf_number());
	if (n < 0)
		return 0;
	if ((size_t)n > max)
		n = (int)max;
	memcpy(buf, tmp, (size_t)n);
	return (size_t)n;
}

size_t kf_fill(uint8_t *buf, size_t max)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t len, i;

	switch (kf_below(6)) {
	case 0:
	case 1:
		return fill_number((char *)buf, max);
	case 2:			/* a name-like word, maybe with a newline */
		len = kf_len(max < 40 ? max : 40);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)alnum[kf_below(sizeof(alnum) - 1)];
		if (len > 0 && len < max && kf_chance(50))
			buf[len - 1] = '\n';
		return len;
	case 3:			/* printable, any length */
		len = kf_len(max);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)(' ' + kf_below(95));
		return len;
	case 4:			/* one byte repeated: 'a', NUL, newline, 0xff */
		len = kf_len(max);
		memset(buf, "a\0\n\xff"[kf_below(4)], len);
		return len;
	default:		/* binary */
		len = kf_len(max);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)kf_rand();
		return len;
	}
}

/* ---- memory the kernel must not trust ---- */

static uint8_t *ro_page;
static uint8_t *hole_edge;	/* a readable page followed by a hole */
static void *unmapped;		/* PROT_NONE: no later mmap can land there */

void kf_memory_init(void)
{
	uint8_t *p;

	p = mmap(NULL, 3 * KF_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("kfuzz: mmap");
		exit(2);
	}
	memset(p, 'r', 3 * KF_PAGE);
	mprotect(p, KF_PAGE, PROT_READ);
	ro_page = p;
	hole_edge = p + KF_PAGE;
	mprotect(p + 2 * KF_PAGE, KF_PAGE, PROT_NONE);
	unmapped = p + 2 * KF_PAGE;
}

void *kf_ro_page(void)
{
	return ro_page;
}

void *kf_straddle(size_t len)
{
	if (len > KF_PAGE)
		len = KF_PAGE;
	return hole_edge + KF_PAGE - len / 2;
}

void *kf_bad_ptr(void)
{
	switch (kf_below(6)) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return (void *)(uintptr_t)0xffffffff81000000ULL; /* kernel */
	case 3:
		return (void *)(uintptr_t)0x8000000000000000ULL; /* hole */
	case 4:
		return (void *)(uintptr_t)(kf_rand() | 1);
	default:
		return ro_page;		/* bad only for the kernel's writes */
	}
}

/* ---- process ids ---- */

#define KF_CHILDREN 4
static pid_t children[KF_CHILDREN];
static pid_t pid_max = 4194304;

static void on_rt_signal(int sig)
{
	(void)sig;
}

static pid_t spawn_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid > 0 ? pid : 0;
}

void kf_pids_init(void)
{
	struct sigaction sa;
	char buf[32];

	/*
	 * Children inherit the handler, so signal 44 never terminates one.
	 * poll() is not restarted: callers retry on EINTR.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_rt_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(44, &sa, NULL);
	if (kf_read_file("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0)
		pid_max = (pid_t)strtol(buf, NULL, 10);
	for (int i = 0; i < KF_CHILDREN; i++)
		children[i] = spawn_child();
}

pid_t kf_safe_pid(void)
{
	switch (kf_below(5)) {
	case 0:
		return getpid();
	case 1:
	case 2:
		return children[kf_below(KF_CHILDREN)];
	case 3:
		return pid_max + (pid_t)kf_below(1000);	/* nobody */
	default: {
		static const pid_t odd[] = { 0, -1, -2, INT32_MIN, INT32_MAX };

		return odd[kf_below(sizeof(odd) / sizeof(odd[0]))];
	}
	}
}

/*
 * A child dies (possibly while registered, so signals go to a process
 * that is exiting) and is reaped before its number is forgotten, so that
 * number is never written again: it may belong to another process soon.
 */
void kf_pids_churn(void)
{
	int i = (int)kf_below(KF_CHILDREN);

	if (children[i] > 0) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	children[i] = spawn_child();
}

void kf_pids_exit(void)
{
	for (int i = 0; i < KF_CHILDREN; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	}
}

/* ---- reports ---- */

void kf_fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	if (failures > KF_MAX_FAILS)
		return;
	fprintf(stdout, "FAIL op %lu [%s] seed %llu: ", kf_op_index,
		kf_current ? kf_current->name : "-",
		(unsigned long long)run_seed);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void kf_note_refused(void)
{
	if (kf_current)
		kf_current->refused++;
}

static void on_alarm(int sig)
{
	char msg[160];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg),
		     "HANG op %lu [%s]: no progress for %d s (seed %llu)\n",
		     kf_op_index, kf_current ? kf_current->name : "-",
		     KF_HANG_SECONDS, (unsigned long long)run_seed);
	if (n > 0)
		(void)!write(STDOUT_FILENO, msg, (size_t)n);
	_exit(3);
}

static int selected(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (list == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: kfuzz [-s SEED] [-n OPS] [-t TARGET,...] [-v]\n"
		"targets: files dev ring genl udp configfs readers\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct target *active[NTARGETS];
	unsigned long nops = 20000, total_weight = 0, w;
	const char *only = NULL;
	size_t nactive = 0, i;
	char *end;
	int c;

	run_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt(argc, argv, "s:n:t:v")) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			run_seed = strtoull(optarg, &end, 0);
			if (errno || *end)
				usage();
			break;
		case 'n':
			errno = 0;
			nops = strtoul(optarg, &end, 0);
			if (errno || *end)
				usage();
			break;
		case 't':
			only = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("kfuzz seed %llu, %lu operations\n",
	       (unsigned long long)run_seed, nops);
	kf_seed(run_seed);
	kf_memory_init();
	kf_pids_init();
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < NTARGETS; i++) {
		struct target *t = targets[i];

		if (!selected(only, t->name))
			continue;
		kf_current = t;
		if (t->init && t->init() != 0) {
			kf_fail("cannot set up target %s", t->name);
			continue;
		}
		active[nactive++] = t;
		total_weight += t->weight;
	}
	if (nactive == 0) {
		fprintf(stderr, "kfuzz: no target to run\n");
		return 2;
	}

	for (kf_op_index = 0; kf_op_index < nops; kf_op_index++) {
		w = kf_below(total_weight);
		for (i = 0; w >= active[i]->weight; i++)
			w -= active[i]->weight;
		kf_current = active[i];
		alarm(KF_HANG_SECONDS);
		kf_current->op();
		kf_current->ops++;
		if (kf_op_index % 500 == 499)
			kf_pids_churn();
		if (verbose && kf_op_index % 1000 == 999)
			printf("... %lu operations\n", kf_op_index + 1);
	}
	alarm(0);

	for (i = 0; i < nactive; i++) {
		kf_current = active[i];
		alarm(KF_HANG_SECONDS * 4);
		if (active[i]->fini)
			active[i]->fini();
	}
	alarm(0);
	kf_current = NULL;
	kf_pids_exit();

	printf("%-10s %10s %10s\n", "target", "ops", "refused");
	for (i = 0; i < nactive; i++)
		printf("%-10s %10lu %10lu\n", active[i]->name, active[i]->ops,
		       active[i]->refused);
	printf("kfuzz: %lu operations, %lu broken promises (seed %llu)\n",
	       nops, failures, (unsigned long long)run_seed);
	return failures ? 1 : 0;
}
