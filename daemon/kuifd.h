/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kuifd: kernel events in from every channel, one JSON stream out.
 *
 * Data flows one way: source -> bus -> server -> clients. Sources know
 * nothing about clients; the server knows nothing about sources.
 */
#ifndef KUIFD_H
#define KUIFD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kuif.h>

#define KUIFD_VERSION		KUIF_VERSION_STRING
#define KUIFD_PROTO_VERSION	1
#define KUIFD_SOCKET_PATH	"/run/kuifd/kuifd.sock"
#define KUIFD_CONF_PATH		"/etc/kuifd/kuifd.conf"
#define KUIFD_MAX_LINE		(64 * 1024)
#define KUIFD_GROUP		"kuif"

struct event_base;

/* log.c */
void	log_init(int verbose, const char *ident);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_lifecycle(const char *what, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
struct event;
void	log_event(const struct event *);

/* log.c: a count logged at most once in so many seconds. */
struct log_count;
typedef void (*log_count_say_fn)(uint64_t total, uint64_t since, void *);
struct log_count *log_count_new(struct event_base *, unsigned int every,
	    log_count_say_fn, void *);
void	log_count_free(struct log_count *);
void	log_count_reset(struct log_count *, uint64_t);
void	log_count_set(struct log_count *, uint64_t);
void	log_count_flush(struct log_count *);

/* xmalloc.c */
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);

/* event.c: one kernel event as kuifd sees it. */
#define EVENT_SOURCE_MAX	16

struct event {
	uint64_t	seq;		/* kuifd's sequence, set by the bus */
	uint64_t	kseq;		/* the kernel's sequence */
	uint64_t	time_ns;	/* CLOCK_REALTIME at emission */
	char		source[EVENT_SOURCE_MAX];
	char		name[KUIF_EVENT_NAME_MAX];
	size_t		len;
	uint8_t		payload[KUIF_PAYLOAD_MAX];
};

/* The longest line of an event, '\n' included. */
#define EVENT_JSON_MAX	(512 + 6 * KUIF_EVENT_NAME_MAX + 6 * KUIF_PAYLOAD_MAX)
#define EVENT_TIME_SECOND_LEN	19	/* 2026-11-28T22:04:19 */
#define EVENT_TIME_LEN		30	/* ... and .123456789Z */

struct json_t;
char	*json_line(struct json_t *, size_t *);
size_t	 event_json_write(const struct event *, char *);
char	*event_to_json(const struct event *, size_t *);
size_t	 event_put_time(char *, uint64_t);
bool	 event_name_valid(const char *, size_t);
size_t	 event_name_check(const char *, size_t);
bool	 utf8_valid(const uint8_t *, size_t);
int	 event_format_time(uint64_t, char *, size_t);

/* filter.c: which events a subscriber wants. */
#define FILTER_MAX_PATTERNS	32
#define FILTER_MAX_PATTERN_LEN	64

struct filter {
	char	*sources[FILTER_MAX_PATTERNS];
	size_t	 nsources;
	char	*events[FILTER_MAX_PATTERNS];
	size_t	 nevents;
};

bool	filter_match(const struct filter *, const char *, const char *);
void	filter_clear(struct filter *);
void	filter_move(struct filter *, struct filter *);
bool	filter_empty(const struct filter *);
bool	filter_equal(const struct filter *, const struct filter *);
void	filter_copy(struct filter *, const struct filter *);

/* batch.c: the records of one pass, shared by the subscribers. */
#define BATCH_RECORDS		256
#define BATCH_BYTES		(64 * 1024)

struct batch;
struct batch_filter;
struct evbuffer;
struct bus_record;
struct batch_run {
	uint16_t	 from;		/* records [from, to) of the batch */
	uint16_t	 to;
};

struct batch	*batch_create(void);
void		 batch_free(struct batch *);
void		 batch_set_limit(struct batch *, size_t);
size_t		 batch_count(const struct batch *);
uint64_t	 batch_first(const struct batch *);
bool		 batch_full(const struct batch *, size_t);
void		 batch_add(struct batch *, const struct bus_record *);
void		 batch_reset(struct batch *);
size_t		 batch_bytes(const struct batch *, size_t, size_t);
int		 batch_add_to(struct batch *, struct evbuffer *, size_t,
		    size_t);
struct batch_filter *batch_filter_get(struct batch *, const struct filter *);
void		 batch_filter_put(struct batch *, struct batch_filter *);
size_t		 batch_runs(struct batch *, struct batch_filter *,
		    const struct batch_run **);


/* proto.c: requests in, records out. */
enum request_op {
	REQ_SUBSCRIBE,
	REQ_UNSUBSCRIBE,
	REQ_STATS,
	REQ_PING,
	REQ_EMIT,
	REQ_UPCALL,
	REQ_ACTIONS,
};

struct request {
	enum request_op	 op;
	char		*id;		/* ping: the id, re-encoded as JSON */
	struct filter	 filter;	/* subscribe */
	bool		 has_since;
	uint64_t	 since;
	char		 event[KUIF_EVENT_NAME_MAX];	/* emit, upcall */
	size_t		 payload_len;
	uint8_t		 payload[KUIF_PAYLOAD_MAX];
	uint64_t	 kseq;		/* upcall */
	uint64_t	 time_ns;	/* upcall */
};

int	 request_parse(const char *, size_t, struct request *, char *,
	    size_t);
void	 request_free(struct request *);
char	*proto_hello(uint64_t, size_t *);
char	*proto_error(const char *, const char *, size_t *);
char	*proto_pong(const char *, size_t *);
char	*proto_lost(uint64_t, uint64_t, const char *, size_t *);
char	*proto_subscribed(uint64_t, size_t *);
char	*proto_emitted(uint64_t, size_t *);

/* history.c: the newest published records, by seq. */
/* One serialized record, owned by the history; the server copies its bytes
 * into the output of every client it goes to. */
struct blob {
	size_t		 len;
	char		*data;		/* the history's, NUL-terminated */
};

/* A published record as kept in the history. */
struct bus_record {
	uint64_t	 seq;
	struct blob	*blob;		/* never NULL once kept */
	bool		 is_event;	/* false: a loss record */
	char		 source[EVENT_SOURCE_MAX];
	char		 name[KUIF_EVENT_NAME_MAX];
};

struct history;
struct history	*history_create(size_t);
void		 history_free(struct history *);
const struct bus_record *history_keep(struct history *, uint64_t,
		    const char *, size_t, const struct event *);
const struct bus_record *history_get(const struct history *, uint64_t,
		    uint64_t);
uint64_t	 history_oldest(const struct history *, uint64_t);

/* reorder.c: deduplication by kseq, the reorder window, gaps. */
#define REORDER_WINDOW		1024	/* kseqs held while waiting for a gap */
#define REORDER_KSEQ_MAX	((uint64_t)INT64_MAX) /* larger: malformed */

struct bus_stats {
	uint64_t	received;
	uint64_t	published;
	uint64_t	duplicates;
	uint64_t	lost;
};

/* What comes out of the window, in kseq order. */
typedef void (*reorder_event_fn)(struct event *, void *);
typedef void (*reorder_lost_fn)(uint64_t, const char *, void *);
typedef uint64_t (*reorder_clock_fn)(void *);	/* now, in ms */

struct reorder;
struct reorder	*reorder_create(unsigned int, reorder_event_fn,
		    reorder_lost_fn, reorder_clock_fn, void *,
		    struct bus_stats *);
void		 reorder_free(struct reorder *);
void		 reorder_add(struct reorder *, struct event *, bool);
void		 reorder_add_partial32(struct reorder *, struct event *,
		    uint32_t, uint64_t);
void		 reorder_drain(struct reorder *, uint64_t);
void		 reorder_expect(struct reorder *, uint64_t, uint64_t);
void		 reorder_reset(struct reorder *, uint64_t);
void		 reorder_resume(struct reorder *, uint64_t, uint64_t);
uint64_t	 reorder_accounted(const struct reorder *);
bool		 reorder_seen(const struct reorder *, uint64_t);
bool		 reorder_deadline(const struct reorder *, uint64_t *);
uint64_t	 reorder_widen32(uint64_t, uint32_t);

/* bus.c: sources in, numbered records out (to the history, the persisted
 * history, the journal and the sink). */
typedef void (*bus_sink_fn)(const struct bus_record *, void *);
typedef int (*bus_emit_fn)(const char *, const void *, size_t, uint64_t *,
	    char *, size_t, void *);
/* Monotonic milliseconds; tests inject their own. */
typedef uint64_t (*bus_clock_fn)(void *);
struct timeval;

struct bus;
struct bus	*bus_create(struct event_base *, size_t, unsigned int);
void		 bus_free(struct bus *);
void		 bus_set_sink(struct bus *, bus_sink_fn, void *);
void		 bus_set_emitter(struct bus *, bus_emit_fn, void *);
void		 bus_set_journal(struct bus *, const struct filter *);
void		 bus_set_clock(struct bus *, bus_clock_fn, void *);
/* Called with each event published (the actions); fn NULL: none. */
typedef void (*bus_observer_fn)(const struct event *, void *);
void		 bus_set_observer(struct bus *, bus_observer_fn, void *);
void		 bus_publish(struct bus *, struct event *);
bool		 bus_duplicate(struct bus *, uint64_t);
void		 bus_publish_partial32(struct bus *, struct event *, uint32_t);
void		 bus_publish_file(struct bus *, struct event *);
void		 bus_publish_loss(struct bus *, uint64_t, const char *);
void		 bus_reset_kseq(struct bus *);
void		 bus_kernel_attach(struct bus *, const uint64_t *);
void		 bus_kernel_absent(struct bus *);
void		 bus_expect(struct bus *, uint64_t);
void		 bus_timeout(struct bus *);
/*
 * Flow control: while a subscriber's output is full, the server holds
 * the kernel's sources and the kernel's buffers (the ring above all)
 * absorb the burst. A primary source (the ring) is released first and
 * says when it has caught up; the others (netlink, signals), whose
 * copies would race ahead of the ring's, only then.
 */
enum bus_flow_op {
	BUS_FLOW_HOLD,		/* stop reading */
	BUS_FLOW_RELEASE,	/* read again; true: bus_caught_up() follows */
	BUS_FLOW_ATTACHED,	/* true: there, its kernel buffer can absorb */
};
typedef bool (*bus_flow_fn)(enum bus_flow_op, void *);
void		 bus_flow_add(struct bus *, bus_flow_fn, void *, bool);
bool		 bus_hold(struct bus *, bool);
bool		 bus_holding(const struct bus *);
bool		 bus_flow_attached(struct bus *);
void		 bus_caught_up(struct bus *);
bool		 bus_next_timeout(const struct bus *, struct timeval *);
uint64_t	 bus_seq(const struct bus *);
uint64_t	 bus_history_oldest(const struct bus *);
const struct bus_record *bus_history_get(const struct bus *, uint64_t);
const struct bus_stats *bus_stats(const struct bus *);
int		 bus_emit(struct bus *, const char *, const void *, size_t,
		    uint64_t *, char *, size_t);

/* persist.c: the history in a memfd kept by systemd across restarts. */
struct persist;
/* A record read back: ev NULL for a loss (count, reason). */
typedef void (*persist_restore_fn)(uint64_t, const struct event *, uint64_t,
	    const char *, void *);
struct persist	*persist_open(int, size_t);
void		 persist_close(struct persist *);
void		 persist_record(struct persist *, uint64_t, uint64_t,
		    const struct event *, uint64_t, const char *);
void		 persist_kseq(struct persist *, uint64_t, uint64_t);
uint64_t	 persist_restore(struct persist *, persist_restore_fn, void *,
		    uint64_t *);
void		 bus_set_persist(struct bus *, struct persist *);
void		 bus_restore(struct bus *);

/* config.c */
struct config {
	char		*socket_path;
	unsigned int	 max_clients;
	size_t		 client_buffer;
	unsigned int	 client_timeout;	/* s without reading */
	size_t		 history;		/* records kept */
	unsigned int	 reorder_ms;
	struct filter	 journal;		/* events logged */
	int		 ring;			/* use the mmap ring */
	int		 signal;		/* use real-time signals */
	int		 inotify;		/* watch kuif's files */
	int		 verbose;
	char		*actions_dir;		/* [actions] directory */
	unsigned int	 actions_max_running;	/* [actions] max_running */
	char		*emit_group;		/* NULL: emit is root's alone */
	gid_t		 emit_gid;		/* its gid, or (gid_t)-1 */
};

int	 config_load(const char *, struct config *);
int	 config_load_string(const char *, const char *, struct config *);
void	 config_defaults(struct config *);
void	 config_free(struct config *);

/* actions.c: rules that start a systemd unit for matching events. */
#define ACTIONS_DIR			"/etc/kuifd/actions.d"
#define ACTIONS_RUN_DIR			"/run/kuifd/actions"
#define ACTIONS_MAX_RULES		256	/* in all files */
#define ACTIONS_MAX_FILES		256
#define ACTIONS_MAX_RUNNING		256	/* a rule's, and all rules' */
#define ACTIONS_DEFAULT_MAX_RUNNING	4
#define ACTIONS_DEFAULT_RATE_COUNT	10	/* 10 starts ... */
#define ACTIONS_DEFAULT_RATE_SECONDS	10	/* ... in 10 s */
#define ACTIONS_ENV_MAX			(1024 + 6 * KUIF_PAYLOAD_MAX)

struct actions;
typedef uint64_t (*actions_clock_fn)(void *);
/* Tests: starts unit for ev instead of systemd; 0 or -1. */
typedef int (*actions_start_fn)(const char *, const struct event *, void *);

struct actions	*actions_create(struct event_base *, const char *,
		    const char *, unsigned int);
void		 actions_free(struct actions *);
void		 actions_set_clock(struct actions *, actions_clock_fn, void *);
void		 actions_set_starter(struct actions *, actions_start_fn,
		    void *);
void		 actions_set_max_running(struct actions *, unsigned int);
int		 actions_load(struct actions *);
size_t		 actions_count(const struct actions *);
void		 actions_connect(struct actions *);
void		 actions_event(const struct event *, void *);
bool		 actions_job_done(struct actions *, const char *,
		    const char *);
struct json_t	*actions_json(const struct actions *);
int		 actions_check_string(const char *, const char *, size_t *,
		    unsigned int *, char *, size_t);
size_t		 actions_env_format(const struct event *, char *, size_t);

/* server.c */
struct server;
struct json_t;
/* An upcall request from the helper the kernel ran; returns 0 or -1. */
typedef int (*server_upcall_fn)(const struct request *, void *);
/* Per-source counters for the stats reply. */
typedef struct json_t *(*server_stats_fn)(void *);
/* The actions record (kuifctl actions). */
typedef struct json_t *(*server_actions_fn)(void *);

struct server	*server_create(struct event_base *, struct bus *,
		    const struct config *, int);
void		 server_free(struct server *);
void		 server_reconfigure(struct server *, const struct config *);
void		 server_set_hooks(struct server *, server_upcall_fn,
		    server_stats_fn, void *);
void		 server_set_actions_hook(struct server *, server_actions_fn,
		    void *);
size_t		 server_client_count(const struct server *);

/* Sources report when they attach to or lose the kernel. */
typedef void (*src_state_fn)(const char *, bool, void *);

/* src_ring.c */
struct src_ring;
struct src_ring	*src_ring_create(struct event_base *, struct bus *,
		    const char *);
void		 src_ring_free(struct src_ring *);
int		 src_ring_attach(struct src_ring *);
void		 src_ring_detach(struct src_ring *);
bool		 src_ring_attached(const struct src_ring *);
void		 src_ring_counters(const struct src_ring *, uint64_t *,
		    uint64_t *, uint64_t *);
size_t		 src_ring_decode(const uint8_t *, uint32_t, uint64_t, uint64_t,
		    struct event *, bool *);

/* src_signal.c */
struct src_signal;
int		 src_signal_block(void);
struct src_signal *src_signal_create(struct event_base *, struct bus *);
void		 src_signal_free(struct src_signal *);
struct src_netlink;
void		 src_signal_register(struct src_signal *, struct src_netlink *);
void		 src_signal_lost(struct src_signal *);
bool		 src_signal_attached(const struct src_signal *);
uint64_t	 src_signal_received(const struct src_signal *);

/* src_inotify.c */
struct src_inotify;
struct src_inotify *src_inotify_create(struct event_base *, struct bus *);
void		 src_inotify_free(struct src_inotify *);
void		 src_inotify_attach(struct src_inotify *);
size_t		 src_inotify_watches(const struct src_inotify *);
uint64_t	 src_inotify_received(const struct src_inotify *);

/* src_upcall.c: events handed over by the helper the kernel runs. */
int		 src_upcall_deliver(struct bus *, const struct request *);

/* src_netlink.c */
struct src_netlink;
struct src_netlink *src_netlink_create(struct event_base *, struct bus *,
		    src_state_fn, void *);
void		 src_netlink_start(struct src_netlink *);
void		 src_netlink_free(struct src_netlink *);
int		 src_netlink_register_signal(struct src_netlink *, pid_t);
bool		 src_netlink_attached(const struct src_netlink *);
void		 src_netlink_counters(const struct src_netlink *, uint64_t *,
		    uint64_t *);
struct nlmsghdr;
int		 src_netlink_decode(struct nlmsghdr *, struct event *);
int		 src_netlink_emit(const char *, const void *, size_t,
		    uint64_t *, char *, size_t, void *);
/* One request to the kernel and its answer, with a deadline. */
struct nl_sock;
struct nl_msg;
struct nl_reply {
	uint64_t	value;		/* what the reply carried */
	bool		got;		/* a reply came */
	bool		acked;		/* the ack came */
	uint32_t	seq;		/* of the request */
};
#define SRC_NETLINK_TIMEOUT	(-1000)	/* no answer in time */
int		 src_netlink_request(struct nl_sock *, struct nl_msg *,
		    int (*)(struct nl_msg *, void *), struct nl_reply *, int);

/* src_testfeed.c: for tests only, with --test-feed PATH. */
struct src_testfeed;
struct src_testfeed *src_testfeed_create(struct event_base *, struct bus *,
		    const char *);
void		 src_testfeed_free(struct src_testfeed *);

#endif /* KUIFD_H */
