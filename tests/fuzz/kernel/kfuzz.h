/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kfuzz: seeded random and boundary input to every entry point of kuif.ko.
 *
 * Each entry point is a struct target: its op() does one random operation
 * and checks what the module promises about it (a refused write leaves the
 * file unchanged, a well-formed netlink request is answered, a datagram is
 * echoed whole...). A broken promise is reported with kf_fail() and makes
 * the run fail; a crash, warning or hang of the kernel is caught by the
 * harness around it.
 */
#ifndef KFUZZ_H
#define KFUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KF_PAGE		4096
#define KF_MAX_LEN	(KF_PAGE + 1)	/* longest file write tried */

/* The random stream: xoshiro256**, seeded by splitmix64. */
void kf_seed(uint64_t seed);
uint64_t kf_rand(void);
uint64_t kf_below(uint64_t n);		/* uniform in [0, n) */
int kf_chance(unsigned int percent);

/* A length 0..max, half of the time one of the boundaries near limits. */
size_t kf_len(size_t max);
/* Random bytes, text, numbers, boundaries; returns the length used. */
size_t kf_fill(uint8_t *buf, size_t max);
/* An interesting 32/64-bit integer (0, 1, -1, limits, powers of 2 +-1). */
uint64_t kf_number(void);

/*
 * Pointers the kernel must survive: NULL, unmapped, read-only, a page
 * whose end runs into an unmapped one, kernel and non-canonical
 * addresses. kf_bad_ptr() picks one.
 */
void kf_memory_init(void);
void *kf_bad_ptr(void);
void *kf_ro_page(void);			/* readable, not writable */
void *kf_straddle(size_t len);		/* len bytes ending at a hole */

/*
 * Process ids the fuzzer may register for signal 44: its own and its
 * children's, and numbers no process has. Never a random pid: a real
 * process would get a real signal, whose default action is to terminate.
 */
void kf_pids_init(void);
pid_t kf_safe_pid(void);
void kf_pids_churn(void);		/* a child exits, another starts */
void kf_pids_exit(void);

struct target {
	const char *name;
	int (*init)(void);		/* 0, or -1 to skip the target */
	void (*op)(void);
	void (*fini)(void);		/* undoes what the target changed */
	unsigned int weight;
	unsigned long ops;		/* operations done */
	unsigned long refused;		/* operations the kernel refused */
};

/* The operation in progress, for reports; set by the main loop. */
extern unsigned long kf_op_index;
extern struct target *kf_current;

void kf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kf_note_refused(void);

/* Helpers for files. */
int kf_read_file(const char *path, char *buf, size_t size);
int kf_write_file(const char *path, const void *buf, size_t len);

/* From the genl target, for the readers target. */
int kf_genl_init(void);
int kf_genl_events_socket(void);
int kf_genl_bench(uint32_t count, uint32_t size, uint32_t channels);

extern struct target kf_target_files;
extern struct target kf_target_dev;
extern struct target kf_target_ring;
extern struct target kf_target_genl;
extern struct target kf_target_udp;
extern struct target kf_target_configfs;
extern struct target kf_target_readers;

#endif
