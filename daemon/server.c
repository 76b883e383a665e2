// SPDX-License-Identifier: GPL-2.0
/*
 * The client socket: accept, read request lines, answer, and queue the
 * bus's records to subscribers. Each record is serialized once by the bus;
 * the records of one batch (a pass of the event loop) are gathered in one
 * buffer, and each subscriber gets the part it is due in one copy. A
 * client's output is bounded by client_buffer: a subscriber that falls
 * behind catches up from the history or is told how many records it lost,
 * and a client whose replies go unread has its requests left unread.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <systemd/sd-daemon.h>
#include <sys/queue.h>

#include "kuifd.h"

#define SERVER_PEER_GROUPS_MAX	64
/*
 * Flow control: a live subscriber whose output reaches half its
 * client_buffer holds the kernel's sources until it drains to a quarter,
 * so that the ring, not this subscriber's loss count, absorbs a burst.
 * A hold ends after SERVER_HOLD_MS: the subscribers that hold it then
 * are stalled or slower than the kernel, not merely than a burst, and
 * lose what does not fit their output, as without flow control, until
 * they have drained. 5 s: under emulation on a loaded host, a subscriber
 * stopped for the length of a burst took longer than 1 s to read its
 * socket and output down to a quarter. Meanwhile, a ring that fills
 * drops in the kernel, and that loss is reported to every subscriber: a
 * producer faster than kuifd's subscribers for longer than the ring can
 * take loses events with flow control or without.
 */
#define SERVER_HOLD_MS		5000

/*
 * Records reach live subscribers a batch at a time (batch.c), at the end
 * of the loop's pass: a record into each client's output cost about 520
 * instructions a subscriber (libevent's evbuffer_add, the filter, the
 * bound checks); a batch costs about that once a subscriber, whatever its
 * length. It is delivered early when full (BATCH_RECORDS records or
 * BATCH_BYTES bytes), so that the flow control above still stops a
 * source that drains thousands of records in one callback, and to a
 * client before any reply to it, so that a reply follows every record
 * published before it.
 */
struct client {
	TAILQ_ENTRY(client)	 entry;
	struct server		*server;
	struct bufferevent	*bev;
	unsigned int		 id;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	bool			 privileged;
	bool			 subscribed;
	bool			 closing;	/* flush output, then linger */
	bool			 lingering;	/* shut down for writing */
	bool			 half_closed;	/* the peer shut down writing */
	bool			 freeing;	/* free is scheduled */
	bool			 throttled;	/* output full: requests wait */
	bool			 write_armed;	/* EV_WRITE on: waits for room */
	bool			 dirty;		/* on the flush list */
	bool			 holding;	/* holds the sources */
	bool			 hold_exempt;	/* held too long: may not */
	TAILQ_ENTRY(client)	 flush_entry;
	struct filter		 filter;
	struct batch_filter	*shared;	/* the filter, matched a batch
						 * at a time; NULL: all */
	/*
	 * The next seq this subscriber is due. A live subscriber gets each
	 * record as it is published; one that asked for old records, or
	 * whose output filled up, replays from the history as its output
	 * drains, and is live again once it has caught up.
	 */
	uint64_t		 cursor;
	bool			 replaying;
	const char		*lag_reason;	/* if it falls out of history */
	uint64_t		 sent;
	uint64_t		 dropped;
};
TAILQ_HEAD(client_list, client);

static bool	server_peer_in_group(int, gid_t, gid_t);

struct server {
	struct event_base	*base;
	struct bus		*bus;
	struct evconnlistener	*listener;
	struct event		*ev_accept_retry;
	struct event		*ev_sweep;	/* finds half-closed peers gone */
	struct event		*ev_flush;	/* writes at the end of a batch */
	struct client_list	 flush;		/* clients with output to write */
	bool			 flushing;	/* in server_flush */
	bool			 delivering;	/* in server_batch_deliver */
	struct batch		*batch;
	struct event		*ev_hold;	/* bounds a hold */
	size_t			 nholding;	/* clients holding the sources */
	struct timespec		 hold_since;
	char			*path;		/* NULL when socket-activated */
	dev_t			 path_dev;	/* the socket we bound there */
	ino_t			 path_ino;
	int			 lock_fd;	/* flock()ed path.lock, or -1 */
	gid_t			 emit_gid;	/* [server] emit_group, or -1 */
	struct client_list	 clients;
	size_t			 nclients;
	unsigned int		 next_id;
	unsigned int		 max_clients;
	size_t			 client_buffer;
	struct timeval		 client_timeout;
	gid_t			 kuif_gid;	/* (gid_t)-1 if no such group */
	server_upcall_fn	 upcall;
	server_stats_fn		 stats;
	void			*hook_arg;
	server_actions_fn	 actions;
	void			*actions_arg;
};

static void server_client_close(struct client *);
static void server_client_dirty(struct client *);
static void server_sweep_arm(struct server *);
static void server_client_unhold(struct client *, bool);
static void server_client_drained(struct client *);
static void server_client_hold(struct client *);
static void server_client_deliver(struct client *);
static void server_batch_deliver(struct server *);

/* Takes f's patterns (NULL: none), and the batch's shared copy of them. */
static void
server_client_filter(struct client *c, struct filter *f)
{
	struct batch *b = c->server->batch;

	batch_filter_put(b, c->shared);
	c->shared = NULL;
	if (f == NULL) {
		filter_clear(&c->filter);
		return;
	}
	filter_move(&c->filter, f);
	c->shared = batch_filter_get(b, &c->filter);
}

static void
server_client_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct server *srv = c->server;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&srv->clients, c, entry);
	if (c->dirty)
		TAILQ_REMOVE(&srv->flush, c, flush_entry);
	srv->nclients--;
	log_info("client %u (uid %u pid %d) disconnected: %llu sent, "
	    "%llu dropped", c->id, (unsigned)c->uid, (int)c->pid,
	    (unsigned long long)c->sent, (unsigned long long)c->dropped);
	bufferevent_free(c->bev);
	server_client_filter(c, NULL);
	free(c);
}

/* Frees from the loop, never inside one of the client's own callbacks. */
static void
server_client_free_later(struct client *c)
{
	if (c->freeing)
		return;
	server_client_unhold(c, true);
	c->freeing = true;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (event_base_once(c->server->base, -1, EV_TIMEOUT,
	    server_client_free_cb, c, NULL) == -1)
		fatalx("cannot schedule client free");
}

/* Takes ownership of line, a NUL-terminated record. */
static void
server_client_send(struct client *c, char *line)
{
	if (line == NULL) {
		log_warnx("client %u: cannot encode a reply", c->id);
		return;
	}
	if (!c->freeing) {
		server_client_deliver(c);
		bufferevent_write(c->bev, line, strlen(line));
		server_client_dirty(c);
	}
	free(line);
}

static void
server_client_error(struct client *c, const char *code, const char *msg)
{

	server_client_send(c, proto_error(code, msg, NULL));
}

static size_t
server_client_queued(struct client *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/*
 * Queues a record from the history (a replay), by copying its bytes:
 * libevent gives every referenced piece a chain of its own of at least
 * 1 KiB, four times a typical line, so a client's queue of references to
 * single lines took five times client_buffer. Copies pack lines into
 * shared chains. (Live records go a batch at a time: batch.c.)
 */
static void
server_client_queue(struct client *c, const struct bus_record *r)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (r->is_event && !filter_match(&c->filter, r->source, r->name))
		return;
	if (evbuffer_add(out, r->blob->data, r->blob->len) == -1) {
		c->dropped++;
		return;
	}
	c->sent++;
	server_client_dirty(c);
}

/* The flush runs after every callback of the loop's current pass. */
static void
server_flush_activate(struct server *srv)
{
	if (!srv->flushing && !event_pending(srv->ev_flush,
	    EV_READ | EV_WRITE | EV_TIMEOUT, NULL))
		event_active(srv->ev_flush, EV_WRITE, 0);
}

/*
 * Output is written once per batch, not once per record: a client with
 * something new to write joins the flush list, and the flush event,
 * made active by the first of them, runs after every callback of the
 * loop's current pass (the sources whose descriptors were ready with
 * it). The flush writes directly; only a client whose socket is full
 * has EV_WRITE enabled (EPOLLOUT and the client_timeout) until it
 * drains, so a subscriber that keeps up costs one writev per batch and
 * no epoll_ctl.
 */
static void
server_client_dirty(struct client *c)
{
	struct server *srv = c->server;

	if (c->dirty || c->write_armed || c->freeing)
		return;
	c->dirty = true;
	TAILQ_INSERT_TAIL(&srv->flush, c, flush_entry);
	server_flush_activate(srv);
}

/*
 * Once its socket was full, a client's output is written by libevent as
 * room comes, at most 16 KiB a write by default: a backlog then cost
 * kuifd and the subscriber a wakeup each per 64 lines, and held the
 * kernel's channels longer. As much as the socket takes, instead.
 */
static void
server_client_write_max(struct client *c)
{
	if (bufferevent_set_max_single_write(c->bev,
	    c->server->client_buffer) == -1)
		log_warnx("client %u: cannot raise the write size", c->id);
}

/* Waits for room in the client's socket, with the write timeout. */
static void
server_client_arm_write(struct client *c)
{
	if (c->write_armed || c->freeing)
		return;
	c->write_armed = true;
	bufferevent_enable(c->bev, EV_WRITE);
}

static void	server_client_write(struct bufferevent *, void *);

static void
server_client_flush(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int fd = bufferevent_getfd(c->bev);

	int rc = 0;

	if (c->freeing || c->write_armed)
		return;
	if (evbuffer_get_length(out) > 0) {
		/* A socket bufferevent keeps its output's front frozen but
		 * while it writes; so does this. */
		evbuffer_unfreeze(out, 1);
		rc = evbuffer_write(out, fd);
		evbuffer_freeze(out, 1);
	}
	if (rc == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		/* Gone: what bufferevent does with a write error. */
		server_client_free_later(c);
		return;
	}
	server_client_drained(c);
	if (evbuffer_get_length(out) > 0 || c->closing || c->replaying ||
	    c->throttled) {
		/* Short write, or a drain that must call us back: refill
		 * from history, resume requests, linger. */
		server_client_arm_write(c);
		if (evbuffer_get_length(out) == 0)
			server_client_write(c->bev, c);
	}
}

static void
server_flush(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct client *c;

	(void)fd;
	(void)what;
	srv->flushing = true;
	do {
		server_batch_deliver(srv);
		while ((c = TAILQ_FIRST(&srv->flush)) != NULL) {
			TAILQ_REMOVE(&srv->flush, c, flush_entry);
			c->dirty = false;
			server_client_flush(c);
		}
	} while (batch_count(srv->batch) > 0);
	srv->flushing = false;
}

/*
 * Sends from the history while the output has room. Records that fell out
 * of the history meanwhile are lost to this client: it is told how many.
 */
static void
server_client_replay(struct client *c)
{
	struct bus *bus = c->server->bus;
	const struct bus_record *r;
	uint64_t oldest;
	size_t room = c->server->client_buffer / 2;

	while (c->replaying && !c->closing) {
		if (c->cursor > bus_seq(bus)) {
			c->replaying = false;
			break;
		}
		oldest = bus_history_oldest(bus);
		if (c->cursor < oldest) {
			c->dropped += oldest - c->cursor;
			server_client_send(c, proto_lost(0, oldest - c->cursor,
			    c->lag_reason, NULL));
			c->cursor = oldest;
			continue;
		}
		r = bus_history_get(bus, c->cursor);
		if (server_client_queued(c) + r->blob->len > room)
			break;
		server_client_queue(c, r);
		c->cursor++;
	}
}

static uint64_t
server_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (uint64_t)((now.tv_nsec - t0->tv_nsec) / 1000000);
}

static void
server_hold_check_arm(struct server *srv)
{
	struct timeval tv = { SERVER_HOLD_MS / 1000,
	    SERVER_HOLD_MS % 1000 * 1000 };

	if (evtimer_add(srv->ev_hold, &tv) == -1)
		fatalx("cannot arm the hold timer");
}

/* The client's output is half full: the kernel's buffers take the rest. */
static void
server_client_hold(struct client *c)
{
	struct server *srv = c->server;

	if (c->holding || c->hold_exempt)
		return;
	if (srv->nholding == 0) {
		if (!bus_hold(srv->bus, true)) {
			/* No ring to absorb it: as without flow control. */
			c->hold_exempt = true;
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &srv->hold_since);
		server_hold_check_arm(srv);
	}
	c->holding = true;
	srv->nholding++;
}

/* exempt: it held too long, and may not again until it has drained. */
static void
server_client_unhold(struct client *c, bool exempt)
{
	struct server *srv = c->server;

	if (exempt)
		c->hold_exempt = true;
	if (!c->holding)
		return;
	c->holding = false;
	if (--srv->nholding == 0) {
		evtimer_del(srv->ev_hold);
		bus_hold(srv->bus, false);
	}
}

/* The output drained to a quarter: no longer holding, and may again. */
static void
server_client_drained(struct client *c)
{
	if (server_client_queued(c) > c->server->client_buffer / 4)
		return;
	server_client_unhold(c, false);
	if (!c->replaying)
		c->hold_exempt = false;
}

static void
server_hold_check(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct client *c;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(c, &srv->clients, entry) {
		if (!c->holding)
			continue;
		log_info("client %u (uid %u pid %d) held the kernel's "
		    "channels %llu ms: it is too slow for the burst, and "
		    "loses what does not fit its output", c->id,
		    (unsigned)c->uid, (int)c->pid,
		    (unsigned long long)server_ms_since(&srv->hold_since));
		server_client_unhold(c, true);
	}
}

/*
 * Appends records [from, to) of the batch to a live subscriber's output.
 * What would take it past client_buffer is left for the history: it is
 * too slow for live delivery, and catches up from the first record that
 * did not fit. false then.
 */
static bool
server_client_add_run(struct client *c, size_t from, size_t to,
    size_t *queued)
{
	struct server *srv = c->server;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t fit = to, len = batch_bytes(srv->batch, from, to);

	if (*queued + len > srv->client_buffer) {
		for (fit = from; fit < to; fit++) {
			len = batch_bytes(srv->batch, fit, fit + 1);
			if (*queued + len > srv->client_buffer)
				break;
			*queued += len;
		}
		len = batch_bytes(srv->batch, from, fit);
	} else
		*queued += len;
	if (fit > from) {
		if (batch_add_to(srv->batch, out, from, fit) == -1)
			c->dropped += fit - from;
		else
			c->sent += fit - from;
		server_client_dirty(c);
	}
	if (fit == to)
		return true;
	server_client_unhold(c, true);
	c->replaying = true;
	c->lag_reason = "slow_consumer";
	c->cursor = batch_first(srv->batch) + fit;
	server_client_dirty(c);
	return false;
}

/*
 * Gives a live subscriber the records of the batch due to it: from its
 * cursor on, the runs its filter takes.
 */
static void
server_client_deliver(struct client *c)
{
	struct server *srv = c->server;
	const struct batch_run *runs;
	size_t n = batch_count(srv->batch), nruns, i, from, start, queued;
	uint64_t first = batch_first(srv->batch);

	if (n == 0 || !c->subscribed || c->closing || c->replaying ||
	    c->cursor >= first + n)
		return;
	/* A live subscriber had every record before the batch; should one
	 * not, it catches up from the history rather than skip them. */
	if (c->cursor < first) {
		log_warnx("client %u: cursor %llu before the batch's %llu",
		    c->id, (unsigned long long)c->cursor,
		    (unsigned long long)first);
		c->replaying = true;
		c->lag_reason = "history";
		server_client_dirty(c);
		return;
	}
	start = (size_t)(c->cursor - first);
	queued = server_client_queued(c);
	nruns = batch_runs(srv->batch, c->shared, &runs);
	for (i = 0; i < nruns; i++) {
		if (runs[i].to <= start)
			continue;
		from = runs[i].from > start ? runs[i].from : start;
		if (!server_client_add_run(c, from, runs[i].to, &queued))
			return;
	}
	c->cursor = first + n;
	if (queued >= srv->client_buffer / 2)
		server_client_hold(c);
}

static void
server_batch_deliver(struct server *srv)
{
	struct client *c;

	if (batch_count(srv->batch) == 0)
		return;
	/* Holding or releasing the sources only arms their events: nothing
	 * is published, so the batch cannot change under this walk. */
	srv->delivering = true;
	TAILQ_FOREACH(c, &srv->clients, entry)
		server_client_deliver(c);
	srv->delivering = false;
	batch_reset(srv->batch);
}

/* The bus's sink: a record was just published. It joins the batch. */
static void
server_broadcast(const struct bus_record *r, void *arg)
{
	struct server *srv = arg;

	if (srv->delivering)
		fatalx("record %llu published while a batch was delivered",
		    (unsigned long long)r->seq);
	if (batch_full(srv->batch, r->blob->len))
		server_batch_deliver(srv);
	if (batch_count(srv->batch) == 0)
		server_flush_activate(srv);
	batch_add(srv->batch, r);
}

static void
server_client_subscribe(struct client *c, struct request *req)
{
	struct bus *bus = c->server->bus;
	bool reset = req->has_since && req->since > bus_seq(bus);

	server_client_filter(c, &req->filter);
	/*
	 * The reply first, sent while the client is not yet subscribed:
	 * records published earlier in this pass are not this
	 * subscription's (server_client_send delivers the batch).
	 */
	c->subscribed = false;
	server_client_send(c, proto_subscribed(bus_seq(bus), NULL));
	if (reset) {
		/*
		 * A seq we never published: kuifd restarted without its
		 * history and numbers from 1 again. How much the client
		 * missed is unknown (count 0); every record published since
		 * the reset is new to it, so it gets the whole history.
		 */
		server_client_send(c, proto_lost(0, 0, "history_reset", NULL));
		c->cursor = 1;
	} else if (req->has_since && req->since < bus_seq(bus))
		c->cursor = req->since + 1;
	else
		c->cursor = bus_seq(bus) + 1;
	c->replaying = c->cursor <= bus_seq(bus);
	c->lag_reason = "history";
	c->subscribed = true;
	if (c->replaying)
		server_client_replay(c);
}

/* Clients being closed do not count against the limit. */
static size_t
server_active_clients(const struct server *srv)
{
	const struct client *c;
	size_t n = 0;

	TAILQ_FOREACH(c, &srv->clients, entry) {
		if (!c->closing)
			n++;
	}
	return n;
}

static void
server_client_stats(struct client *c)
{
	struct server *srv = c->server;
	const struct bus_stats *bs = bus_stats(srv->bus);
	json_t *sources;

	sources = srv->stats != NULL ? srv->stats(srv->hook_arg) : NULL;
	server_client_send(c, json_line(json_pack(
	    "{s:s, s:I, s:I, s:i, s:{s:I, s:I, s:I, s:I}, s:o,"
	    " s:{s:i, s:I, s:I, s:I, s:b}}",
	    "type", "stats",
	    "seq", (json_int_t)bus_seq(srv->bus),
	    "history_oldest", (json_int_t)bus_history_oldest(srv->bus),
	    "clients", (int)server_active_clients(srv),
	    "bus",
	    "received", (json_int_t)bs->received,
	    "published", (json_int_t)bs->published,
	    "duplicates", (json_int_t)bs->duplicates,
	    "lost", (json_int_t)bs->lost,
	    "sources", sources != NULL ? sources : json_object(),
	    "client",
	    "id", (int)c->id,
	    "sent", (json_int_t)c->sent,
	    "dropped", (json_int_t)c->dropped,
	    "queued", (json_int_t)server_client_queued(c),
	    "replaying", c->replaying), NULL));
}

/* Only root may hand over events, as only the kernel's helper should. */
static void
server_client_upcall(struct client *c, const struct request *req)
{
	if (c->uid != 0) {
		server_client_error(c, "permission_denied",
		    "upcall is for the helper the kernel runs, as root");
		return;
	}
	if (c->server->upcall == NULL ||
	    c->server->upcall(req, c->server->hook_arg) == -1) {
		server_client_error(c, "unavailable", "upcalls are not taken");
		return;
	}
	server_client_send(c, json_line(json_pack("{s:s, s:I}", "type",
	    "accepted", "kseq", (json_int_t)req->kseq), NULL));
}

static void
server_client_emit(struct client *c, const struct request *req)
{
	char msg[256], why[160];
	uint64_t kseq;

	/* Subscribing is group kuif's right; emitting is root's, or that
	 * of [server] emit_group's members. */
	if (c->uid != 0 && !server_peer_in_group(bufferevent_getfd(c->bev),
	    c->gid, c->server->emit_gid)) {
		server_client_error(c, "permission_denied",
		    "emit needs root, or membership of the group named by "
		    "[server] emit_group in kuifd.conf");
		return;
	}
	if (bus_emit(c->server->bus, req->event, req->payload,
	    req->payload_len, &kseq, why, sizeof(why)) == -1) {
		snprintf(msg, sizeof(msg), "the event was not emitted: %s",
		    why);
		server_client_error(c, "emit_failed", msg);
		return;
	}
	server_client_send(c, proto_emitted(kseq, NULL));
}

static void
server_client_request(struct client *c, const char *line, size_t n)
{
	struct request req;
	char err[256];

	/* What was published before the request comes before its effect. */
	server_client_deliver(c);
	if (request_parse(line, n, &req, err, sizeof(err)) == -1) {
		server_client_error(c, "bad_request", err);
		request_free(&req);
		return;
	}
	switch (req.op) {
	case REQ_SUBSCRIBE:
		server_client_subscribe(c, &req);
		break;
	case REQ_UNSUBSCRIBE:
		c->subscribed = false;
		c->replaying = false;
		server_client_filter(c, NULL);
		break;
	case REQ_STATS:
		server_client_stats(c);
		break;
	case REQ_PING:
		server_client_send(c, proto_pong(req.id, NULL));
		break;
	case REQ_EMIT:
		server_client_emit(c, &req);
		break;
	case REQ_UPCALL:
		server_client_upcall(c, &req);
		break;
	case REQ_ACTIONS:
		server_client_send(c, json_line(c->server->actions != NULL ?
		    c->server->actions(c->server->actions_arg) :
		    actions_json(NULL), NULL));
		break;
	}
	request_free(&req);
}

/*
 * Replies count against the client's output bound too: while its output
 * holds client_buffer bytes or more, its requests are left unread (in our
 * input buffer, then in the socket) until the output drains below the
 * write low watermark, as tmux does. A client that pipelines requests and
 * never reads costs at most client_buffer plus one reply and one line.
 */
static bool
server_client_throttled(struct client *c)
{
	return server_client_queued(c) >= c->server->client_buffer;
}

static void
server_client_throttle(struct client *c)
{
	if (c->throttled)
		return;
	c->throttled = true;
	bufferevent_disable(c->bev, EV_READ);
	log_debug("client %u: output full, requests paused", c->id);
}

/* Handles the complete request lines buffered, as long as there is room. */
static void
server_client_input(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char *line;
	size_t n;

	if (c->closing) {
		/* Unread input would turn our close into a reset, and the
		 * client would never see why it was closed. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while (!c->closing) {
		if (server_client_throttled(c)) {
			server_client_throttle(c);
			return;
		}
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL)
			break;
		if (n > KUIFD_MAX_LINE) {
			free(line);
			break;
		}
		if (n > 0)
			server_client_request(c, line, n);
		free(line);
	}
	if (!c->closing && evbuffer_get_length(in) > KUIFD_MAX_LINE) {
		server_client_error(c, "line_too_long",
		    "request lines are limited to 65536 bytes");
		server_client_close(c);
	}
}

static void
server_client_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	server_client_input(arg);
}

/* The output drained: take the requests that waited, then read again. */
static void
server_client_unthrottle(struct client *c)
{
	if (!c->throttled || server_client_throttled(c))
		return;
	c->throttled = false;
	log_debug("client %u: output drained, requests resumed", c->id);
	server_client_input(c);
	if (!c->throttled && !c->closing && !c->half_closed)
		bufferevent_enable(c->bev, EV_READ);
}

/*
 * Everything queued is written: shut down our side and wait, briefly, for
 * the client to close its side, discarding what it still sends.
 */
static void
server_client_linger(struct client *c)
{
	struct timeval tv = { 2, 0 };

	if (c->lingering || c->freeing)
		return;
	c->lingering = true;
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) == -1) {
		server_client_free_later(c);
		return;
	}
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ);
}

/* The output drained below its low watermark. */
static void
server_client_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			server_client_linger(c);
		return;
	}
	server_client_drained(c);
	server_client_replay(c);
	server_client_unthrottle(c);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    !c->replaying && !c->throttled && c->write_armed) {
		/* Drained: back to writing at the end of each batch. */
		c->write_armed = false;
		bufferevent_disable(bev, EV_WRITE);
	}
}

static bool
server_client_hung_up(struct client *c)
{
	struct pollfd pfd = { bufferevent_getfd(c->bev), POLLOUT, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

static void
server_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT && what & BEV_EVENT_WRITING) {
		log_warnx("client %u (uid %u pid %d) disconnected: read nothing "
		    "for %ld s", c->id, (unsigned)c->uid, (int)c->pid,
		    (long)c->server->client_timeout.tv_sec);
		server_client_free_later(c);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		server_client_free_later(c);
	} else if (what & BEV_EVENT_EOF) {
		/* Half-closed (shutdown for writing), a subscriber may still
		 * want its events; gone entirely, it hangs up both ways. */
		if (c->subscribed && !c->closing && !server_client_hung_up(c)) {
			bufferevent_disable(c->bev, EV_READ);
			c->half_closed = true;
			server_sweep_arm(c->server);
		} else
			server_client_free_later(c);
	}
}

/* No more requests or records; linger once what is queued is written. */
static void
server_client_close(struct client *c)
{
	c->closing = true;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		server_client_linger(c);
	else
		server_client_arm_write(c);
}

/* Whether the peer on fd has gid as its group or a supplementary one. */
static bool
server_peer_in_group(int fd, gid_t peer_gid, gid_t gid)
{
	gid_t groups[SERVER_PEER_GROUPS_MAX];
	socklen_t len = sizeof(groups);
	size_t i;

	if (gid == (gid_t)-1)
		return false;
	if (peer_gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++) {
		if (groups[i] == gid)
			return true;
	}
	return false;
}

static bool
server_peer_privileged(struct server *srv, int fd, const struct ucred *cr)
{
	return cr->uid == 0 || server_peer_in_group(fd, cr->gid,
	    srv->kuif_gid);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct client *c;

	(void)l;
	(void)sa;
	(void)salen;
	c = xcalloc(1, sizeof(*c));
	c->server = srv;
	c->id = ++srv->next_id;
	c->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("cannot create a buffer for a client");
		close(fd);
		free(c);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0) {
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->pid = cr.pid;
		c->privileged = server_peer_privileged(srv, fd, &cr);
	} else {
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
	}
	TAILQ_INSERT_TAIL(&srv->clients, c, entry);
	srv->nclients++;
	bufferevent_setcb(c->bev, server_client_read, server_client_write,
	    server_client_event, c);
	/* Bound what a client can make us buffer from it; refill its
	 * output from the history when a quarter is left. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, KUIFD_MAX_LINE + 1);
	bufferevent_setwatermark(c->bev, EV_WRITE, srv->client_buffer / 4, 0);
	server_client_write_max(c);
	bufferevent_set_timeouts(c->bev, NULL, &srv->client_timeout);
	/* Written at the end of each batch: EV_WRITE (on by default) only
	 * while the socket is full. */
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);

	server_client_send(c, proto_hello(bus_seq(srv->bus), NULL));
	if (server_active_clients(srv) > srv->max_clients) {
		log_warnx("client %u (uid %u) refused: %u clients connected",
		    c->id, (unsigned)c->uid, srv->max_clients);
		server_client_error(c, "too_many_clients",
		    "the server's client limit is reached");
		server_client_close(c);
		return;
	}
	log_info("client %u connected: uid %u gid %u pid %d%s", c->id,
	    (unsigned)c->uid, (unsigned)c->gid, (int)c->pid,
	    c->privileged ? " (privileged)" : "");
}

/*
 * A half-closed subscriber that goes away entirely is noticed at the next
 * write; when nothing is written for a while, this sweep notices it. It
 * runs every 2 s while there is a half-closed subscriber, and not at all
 * otherwise.
 */
static void
server_sweep_arm(struct server *srv)
{
	struct timeval sweep = { 2, 0 };

	if (!evtimer_pending(srv->ev_sweep, NULL) &&
	    evtimer_add(srv->ev_sweep, &sweep) == -1)
		fatalx("cannot arm the sweep timer");
}

static void
server_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct client *c;
	bool again = false;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(c, &srv->clients, entry) {
		if (!c->half_closed || c->freeing)
			continue;
		if (server_client_hung_up(c))
			server_client_free_later(c);
		else
			again = true;
	}
	if (again)
		server_sweep_arm(srv);
}

static void
server_accept_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(srv->listener);
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { 1, 0 };

	log_warn("accept");
	if (errno == EMFILE || errno == ENFILE) {
		evconnlistener_disable(l);
		evtimer_add(srv->ev_accept_retry, &tv);
	}
}

/*
 * Another kuifd may serve path: its lock file (path.lock, held as long as
 * it runs) says so, and so does a socket that accepts a connection (one
 * systemd holds for socket activation has no lock). Then this one must
 * not unlink and rebind the path, which would leave the other unreachable.
 */
static int
server_claim_path(struct server *srv, const char *path)
{
	struct sockaddr_un sun;
	char lock[sizeof(sun.sun_path) + 8];
	int fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock)) {
		log_warnx("socket path too long: %s", path);
		return -1;
	}
	srv->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (srv->lock_fd == -1) {
		log_warn("%s", lock);
		return -1;
	}
	if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("%s: another kuifd serves this socket (it "
			    "holds %s); not taking it over", path, lock);
		else
			log_warn("flock %s", lock);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		log_warnx("%s: a server already answers there; not taking it "
		    "over", path);
		return -1;
	}
	close(fd);
	return 0;	/* absent, or left behind by a server gone (refused) */
}

static int
server_listen_path(struct server *srv, const char *path)
{
	struct stat st;
	struct sockaddr_un sun;
	struct group *gr;
	char dir[sizeof(sun.sun_path)];
	char *slash;
	mode_t old;
	int fd;

	/*
	 * Bound under a temporary name and renamed into place once it
	 * listens with its final owner and mode: a client that sees the path
	 * can connect (no ECONNREFUSED in between) and never finds it open
	 * to others.
	 */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.%ld",
	    path, (long)getpid()) >= sizeof(sun.sun_path)) {
		log_warnx("socket path too long: %s", path);
		return -1;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			return -1;
		}
	}

	if (server_claim_path(srv, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	if (unlink(sun.sun_path) == -1 && errno != ENOENT)
		log_warn("unlink %s", sun.sun_path);
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", sun.sun_path);
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	/* Run as group kuif (the service does), the socket already has it:
	 * no chown, and no CAP_CHOWN. */
	gr = getgrnam(KUIFD_GROUP);
	if (gr != NULL && gr->gr_gid != getegid() &&
	    chown(sun.sun_path, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("chown %s", sun.sun_path);
	if (chmod(sun.sun_path, 0660) == -1)
		log_warn("chmod %s", sun.sun_path);
	if (listen(fd, 128) == -1 || rename(sun.sun_path, path) == -1) {
		log_warn("listen on %s", path);
		unlink(sun.sun_path);
		close(fd);
		return -1;
	}
	if (stat(path, &st) == 0) {
		srv->path_dev = st.st_dev;
		srv->path_ino = st.st_ino;
	}
	srv->path = xstrdup(path);
	return fd;
}

/* listen_fd: the socket systemd passed, or -1 to make our own. */
struct server *
server_create(struct event_base *base, struct bus *bus,
    const struct config *conf, int listen_fd)
{
	struct server *srv;
	struct group *gr;
	int fd;

	srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->bus = bus;
	srv->lock_fd = -1;
	TAILQ_INIT(&srv->clients);
	TAILQ_INIT(&srv->flush);
	gr = getgrnam(KUIFD_GROUP);
	srv->kuif_gid = gr != NULL ? gr->gr_gid : (gid_t)-1;
	server_reconfigure(srv, conf);

	if (listen_fd != -1) {
		fd = listen_fd;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_warnx("the socket from systemd is not a listening "
			    "stream socket");
			free(srv);
			return NULL;
		}
		evutil_make_socket_nonblocking(fd);
		log_info("listening on the socket passed by systemd");
	} else if ((fd = server_listen_path(srv, conf->socket_path)) == -1) {
		if (srv->lock_fd != -1)
			close(srv->lock_fd);
		free(srv);
		return NULL;
	} else
		log_info("listening on %s", conf->socket_path);

	srv->listener = evconnlistener_new(base, server_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (srv->listener == NULL)
		fatalx("cannot listen for clients");
	evconnlistener_set_error_cb(srv->listener, server_accept_error);
	srv->ev_accept_retry = evtimer_new(base, server_accept_retry, srv);
	srv->ev_sweep = evtimer_new(base, server_sweep, srv);
	srv->ev_flush = event_new(base, -1, 0, server_flush, srv);
	srv->ev_hold = evtimer_new(base, server_hold_check, srv);
	if (srv->ev_accept_retry == NULL || srv->ev_sweep == NULL ||
	    srv->ev_flush == NULL || srv->ev_hold == NULL)
		fatalx("cannot create the server's timers");
	srv->batch = batch_create();
	batch_set_limit(srv->batch, srv->client_buffer);
	bus_set_sink(bus, server_broadcast, srv);
	return srv;
}

/* The limits apply to the clients connected too. */
void
server_reconfigure(struct server *srv, const struct config *conf)
{
	struct client *c;

	srv->emit_gid = conf->emit_gid;
	srv->max_clients = conf->max_clients;
	srv->client_buffer = conf->client_buffer;
	if (srv->batch != NULL)
		batch_set_limit(srv->batch, srv->client_buffer);
	srv->client_timeout.tv_sec = (time_t)conf->client_timeout;
	srv->client_timeout.tv_usec = 0;
	TAILQ_FOREACH(c, &srv->clients, entry) {
		if (c->closing)
			continue;
		bufferevent_setwatermark(c->bev, EV_WRITE,
		    srv->client_buffer / 4, 0);
		server_client_write_max(c);
		bufferevent_set_timeouts(c->bev, NULL, &srv->client_timeout);
	}
}

void
server_set_hooks(struct server *srv, server_upcall_fn upcall,
    server_stats_fn stats, void *arg)
{
	srv->upcall = upcall;
	srv->stats = stats;
	srv->hook_arg = arg;
}

void
server_set_actions_hook(struct server *srv, server_actions_fn fn, void *arg)
{
	srv->actions = fn;
	srv->actions_arg = arg;
}

size_t
server_client_count(const struct server *srv)
{
	return srv->nclients;
}

void
server_free(struct server *srv)
{
	struct client *c;
	struct stat st;

	if (srv == NULL)
		return;
	bus_set_sink(srv->bus, NULL, NULL);
	while ((c = TAILQ_FIRST(&srv->clients)) != NULL) {
		TAILQ_REMOVE(&srv->clients, c, entry);
		bufferevent_free(c->bev);
		server_client_filter(c, NULL);
		free(c);
	}
	evconnlistener_free(srv->listener);
	event_free(srv->ev_accept_retry);
	event_free(srv->ev_sweep);
	event_free(srv->ev_flush);
	event_free(srv->ev_hold);
	batch_free(srv->batch);
	/* Only the socket this kuifd bound: another may have replaced it. */
	if (srv->path != NULL) {
		if (stat(srv->path, &st) == 0 && st.st_dev == srv->path_dev &&
		    st.st_ino == srv->path_ino)
			unlink(srv->path);
		else
			log_info("%s is not the socket kuifd bound; left as "
			    "it is", srv->path);
		free(srv->path);
	}
	if (srv->lock_fd != -1)
		close(srv->lock_fd);
	free(srv);
}
