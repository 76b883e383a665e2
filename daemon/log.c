// SPDX-License-Identifier: GPL-2.0
/*
 * Logging: to the journal with structured fields when started by systemd,
 * to stderr otherwise. errno is preserved across every call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <time.h>

#include <event2/event.h>
#include <systemd/sd-journal.h>

#include "kuifd.h"

static int log_verbose;
static int log_to_journal;
static const char *log_ident = "kuifd";

void
log_init(int verbose, const char *ident)
{
	log_verbose = verbose;
	log_ident = ident;
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

static void
log_vemit(int prio, const char *emsg, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;

	if (prio == LOG_DEBUG && !log_verbose) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_journal) {
		if (emsg != NULL)
			sd_journal_send("MESSAGE=%s: %s", msg, emsg,
			    "PRIORITY=%d", prio, "ERRNO=%d", saved,
			    "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
			    "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
	} else if (emsg != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_ident, msg, emsg);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
	errno = saved;
}

#define LOG_FN(name, prio, witherr)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	const char *e = (witherr) ? strerror(errno) : NULL;	\
								\
	va_start(ap, fmt);					\
	log_vemit(prio, e, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Message IDs of the lifecycle messages: see systemd/kuifd.catalog. */
static const struct {
	const char	*what;
	const char	*id;
} log_message_ids[] = {
	{ "start", "9795eb1b88dd43b881084cfa92adc4f2" },
	{ "ready", "a7b4b5e089184dccaa70a6ad768a736b" },
	{ "stop", "c86baa05504d456686dd67dae20ae84e" },
	{ "stopped", "5ed3ebfe793b421d9ad41f07ee5c97c9" },
	{ "source_up", "5ceee388bd984a7a8a07a6a35c04c33d" },
	{ "source_down", "8ced294170244a3cafdf168057b48d2b" },
	{ "source_waiting", "fcf39a03eee548d89b8358fd1475b551" },
	{ "reload", "11480b750830489795b346d971b88eff" },
	{ "restored", "8f49c3ac24f64c0f99c907b4b2e4b64e" },
};

static const char *
log_message_id(const char *what)
{
	size_t i;

	for (i = 0; i < sizeof(log_message_ids) / sizeof(log_message_ids[0]);
	    i++) {
		if (strcmp(log_message_ids[i].what, what) == 0)
			return log_message_ids[i].id;
	}
	return NULL;
}

/*
 * Lifecycle messages (start, source up/down, stop) carry KUIF_LIFECYCLE and
 * a MESSAGE_ID, so that `journalctl -u kuifd KUIF_LIFECYCLE=start` finds
 * them and `journalctl -x` explains them.
 */
void
log_lifecycle(const char *what, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_to_journal && log_message_id(what) != NULL)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_NOTICE,
		    "MESSAGE_ID=%s", log_message_id(what),
		    "KUIF_LIFECYCLE=%s", what, "SYSLOG_IDENTIFIER=%s",
		    log_ident, NULL);
	else if (log_to_journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_NOTICE,
		    "KUIF_LIFECYCLE=%s", what, "SYSLOG_IDENTIFIER=%s",
		    log_ident, NULL);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
	errno = saved;
}

/*
 * One event as a structured journal entry, so that
 * `journalctl -u kuifd KUIF_EVENT=netdev.up` finds it.
 */
void
log_event(const struct event *ev)
{
	char payload[KUIF_PAYLOAD_MAX + 1];
	size_t i;
	int saved = errno;

	for (i = 0; i < ev->len; i++) {
		unsigned char ch = ev->payload[i];

		payload[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	payload[ev->len] = '\0';
	if (log_to_journal)
		sd_journal_send("MESSAGE=event %s seq %llu kseq %llu from %s: %s",
		    ev->name, (unsigned long long)ev->seq,
		    (unsigned long long)ev->kseq, ev->source, payload,
		    "PRIORITY=%d", LOG_INFO,
		    "KUIF_EVENT=%s", ev->name,
		    "KUIF_SEQ=%llu", (unsigned long long)ev->seq,
		    "KUIF_KSEQ=%llu", (unsigned long long)ev->kseq,
		    "KUIF_SOURCE=%s", ev->source,
		    "KUIF_PAYLOAD=%s", payload,
		    "SYSLOG_IDENTIFIER=%s", log_ident, NULL);
	else if (log_verbose)
		fprintf(stderr, "%s: event %s seq %llu kseq %llu from %s: %s\n",
		    log_ident, ev->name, (unsigned long long)ev->seq,
		    (unsigned long long)ev->kseq, ev->source, payload);
	errno = saved;
}

/*
 * A count that grows in bursts (drops, overruns, resets), logged at most
 * once in `every` seconds: the first growth at once, then what came
 * since, when the seconds are over. What is held back is said by a timer,
 * armed only while something is, or by log_count_flush(), so the journal's
 * last count is the true one even when the burst stops right after a
 * message.
 */
struct log_count {
	struct event		*timer;
	unsigned int		 every;
	log_count_say_fn	 say;
	void			*arg;
	uint64_t		 base;	/* the count when counting began */
	uint64_t		 seen;
	uint64_t		 said;
	struct timespec		 said_at;	/* 0: never said */
};

static void
log_count_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_count_flush(arg);
}

struct log_count *
log_count_new(struct event_base *base, unsigned int every,
    log_count_say_fn say, void *arg)
{
	struct log_count *lc = xcalloc(1, sizeof(*lc));

	lc->timer = evtimer_new(base, log_count_timer, lc);
	if (lc->timer == NULL)
		fatalx("cannot create a log message timer");
	lc->every = every;
	lc->say = say;
	lc->arg = arg;
	return lc;
}

void
log_count_free(struct log_count *lc)
{
	if (lc == NULL)
		return;
	event_free(lc->timer);
	free(lc);
}

/* Counting begins again at `count` (a counter found at attach). */
void
log_count_reset(struct log_count *lc, uint64_t count)
{
	evtimer_del(lc->timer);
	lc->base = lc->seen = lc->said = count;
	lc->said_at.tv_sec = 0;
	lc->said_at.tv_nsec = 0;
}

/* Says what was not said yet, now. */
void
log_count_flush(struct log_count *lc)
{
	evtimer_del(lc->timer);
	if (lc->seen == lc->said)
		return;
	clock_gettime(CLOCK_MONOTONIC, &lc->said_at);
	lc->say(lc->seen - lc->base, lc->seen - lc->said, lc->arg);
	lc->said = lc->seen;
}

/* The count is now `count`: said now, or when the seconds are over. */
void
log_count_set(struct log_count *lc, uint64_t count)
{
	struct timespec now;
	struct timeval tv = { 0, 0 };
	time_t since;

	lc->seen = count;
	if (lc->seen == lc->said || evtimer_pending(lc->timer, NULL))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	since = now.tv_sec - lc->said_at.tv_sec;
	if (lc->said_at.tv_sec != 0 && since < (time_t)lc->every) {
		tv.tv_sec = (time_t)lc->every - since;
		if (evtimer_add(lc->timer, &tv) == -1)
			log_warnx("cannot arm a log message timer");
		return;
	}
	log_count_flush(lc);
}
