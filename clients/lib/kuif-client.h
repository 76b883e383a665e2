/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkuif: a small client library for kuifd, made to live in the caller's
 * own event loop (poll, epoll, libevent, sd-event, GLib) or to be used on
 * its own with blocking calls. docs/libkuif.md has the whole story and
 * examples for poll(), libevent and sd-event.
 *
 * On its own:
 *
 *	struct kuif_client *c = kuif_connect(NULL);
 *	const char *events[] = { "netdev.*", NULL };
 *	json_t *rec;
 *
 *	kuif_subscribe(c, events, NULL, -1);
 *	while (kuif_next(c, &rec, -1) == 1) {
 *		... json_object_get(rec, "event") ...
 *		json_decref(rec);
 *	}
 *	kuif_close(c);
 *
 * In an event loop: watch kuif_fd() for readability; when it is readable
 * (or whenever you like), call kuif_next(c, &rec, 0) until it returns 0
 * (errno EAGAIN: nothing more now) or -1. kuif_next with timeout 0 never
 * blocks. kuif_fd() is readable whenever kuif_next has work to do: a
 * record the library already holds (read together with others, or replayed
 * during kuif_subscribe), data on the socket, or a reconnection step that
 * is due. It is the same descriptor for the life of the client, across
 * reconnections, so it is registered once. It works level-triggered; a
 * caller registering it edge-triggered must call kuif_next until it returns
 * 0 on every wake-up.
 *
 * Records are jansson objects (see docs/protocol.md). With reconnection on
 * (kuif_set_reconnect), a lost connection is re-established in the
 * background of kuif_next, one non-blocking step per call, and the
 * subscription resumed from the last seq seen, so nothing the server's
 * history still holds is missed. Functions return -1 with errno set on
 * failure; EPROTO means kuifd sent something that is not a protocol line,
 * and kuif_error() then tells more.
 *
 * Blocking calls: kuif_connect and kuif_subscribe wait up to 10 s for
 * kuifd, kuif_request up to its timeout; kuif_next up to its timeout and
 * never longer. Nothing else blocks.
 *
 * Threads: a client is not thread-safe; use it from one thread at a time
 * (or under the caller's lock). Different clients share nothing and may
 * be used from different threads at once. The library has no global
 * state and installs no signal handlers (writes use MSG_NOSIGNAL).
 *
 * ABI: libkuif.so.0. Only the functions below are exported, versioned
 * LIBKUIF_0 (clients/lib/libkuif.map); kuif_pending, kuif_connected and
 * kuif_set_reconnect_limit were added compatibly.
 */
#ifndef KUIF_CLIENT_H
#define KUIF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KUIF_DEFAULT_SOCKET "/run/kuifd/kuifd.sock"

/* How long reconnection is tried before kuif_next gives up, by default. */
#define KUIF_RECONNECT_LIMIT_MS	10000

struct kuif_client;

/* The socket: path if not NULL, else $KUIF_SOCKET, else the default. */
const char		*kuif_socket_path(const char *path);

/* Connects and reads the greeting (waits up to 10 s). NULL with errno. */
struct kuif_client	*kuif_connect(const char *path);
void			 kuif_close(struct kuif_client *);

/* The greeting ({"type":"hello",...}) of the current connection. */
const json_t		*kuif_hello(const struct kuif_client *);

/*
 * Subscribes. events and sources are NULL-terminated arrays of globs, or
 * NULL for all; since < 0 means "from now on". Waits (up to 10 s) for the
 * "subscribed" reply; records replayed meanwhile are kept for kuif_next and
 * make kuif_fd() readable. Returns 0 or -1. While a reconnection is under
 * way the subscription is remembered and sent when it completes.
 */
int	kuif_subscribe(struct kuif_client *, const char *const *events,
	    const char *const *sources, int64_t since);

/*
 * The next record (event, lost, or any other the server sends) into *rec,
 * which the caller must json_decref. Waits at most timeout_ms (< 0:
 * forever; 0: never blocks). Returns 1; 0 when there is none within the
 * timeout (errno EAGAIN); -1 on error (errno; ECONNRESET when kuifd went
 * away and reconnection is off or gave up).
 */
int	kuif_next(struct kuif_client *, json_t **rec, int timeout_ms);

/*
 * Sends a request (consumes req) and waits for a record of reply_type or
 * an error record. Records of other types that arrive meanwhile (events)
 * are kept for kuif_next. Returns 0 with *reply set, -1 with errno
 * (EREMOTEIO for an error record, which is then in *reply if reply is not
 * NULL; ETIMEDOUT; ENOTCONN while a reconnection is under way).
 */
int	kuif_request(struct kuif_client *, json_t *req, const char *reply_type,
	    json_t **reply, int timeout_ms);

/* Reconnect and resume when the connection is lost (default off). */
void	kuif_set_reconnect(struct kuif_client *, bool);

/*
 * How long to keep trying to reconnect, in ms, before kuif_next fails with
 * ECONNRESET; < 0 tries forever. Default KUIF_RECONNECT_LIMIT_MS. Attempts
 * are 100 ms apart at first, then up to 1 s.
 */
void	kuif_set_reconnect_limit(struct kuif_client *, int limit_ms);

/* True while connected to kuifd and past the greeting. */
bool	kuif_connected(const struct kuif_client *);

/* The highest seq of any record received, 0 if none. */
uint64_t kuif_last_seq(const struct kuif_client *);

/*
 * The descriptor to watch for readability (see above): the same for the
 * life of the client; never read it or close it.
 */
int	kuif_fd(const struct kuif_client *);

/* Records kuif_next will return without reading the socket. */
size_t	kuif_pending(const struct kuif_client *);

/* A description of the last failure. */
const char *kuif_error(const struct kuif_client *);

#ifdef __cplusplus
}
#endif

#endif /* KUIF_CLIENT_H */
