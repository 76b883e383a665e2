/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkuif: a small client library for kuifd.
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
 * Records are jansson objects (see docs/protocol.md). With reconnection on
 * (kuif_set_reconnect), a lost connection is re-established and the
 * subscription resumed from the last seq seen, so nothing the server's
 * history still holds is missed. Functions return -1 with errno set on
 * failure; EPROTO means kuifd sent something that is not a protocol line,
 * and kuif_error() then tells more.
 */
#ifndef KUIF_CLIENT_H
#define KUIF_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KUIF_DEFAULT_SOCKET "/run/kuifd/kuifd.sock"

struct kuif_client;

/* The socket: path if not NULL, else $KUIF_SOCKET, else the default. */
const char		*kuif_socket_path(const char *path);

/* Connects and reads the greeting. NULL with errno on failure. */
struct kuif_client	*kuif_connect(const char *path);
void			 kuif_close(struct kuif_client *);

/* The greeting ({"type":"hello",...}); owned by the client. */
const json_t		*kuif_hello(const struct kuif_client *);

/*
 * Subscribes. events and sources are NULL-terminated arrays of globs, or
 * NULL for all; since < 0 means "from now on". Waits for the
 * "subscribed" reply. Returns 0 or -1.
 */
int	kuif_subscribe(struct kuif_client *, const char *const *events,
	    const char *const *sources, int64_t since);

/*
 * The next record (event, lost, or any other the server sends) into *rec,
 * which the caller must json_decref. timeout_ms < 0 waits forever.
 * Returns 1, 0 on timeout, -1 on error (errno; ECONNRESET when kuifd went
 * away and reconnection is off or failed).
 */
int	kuif_next(struct kuif_client *, json_t **rec, int timeout_ms);

/*
 * Sends a request (consumes req) and waits for a record of reply_type or
 * an error record. Records of other types that arrive meanwhile (events)
 * are kept for kuif_next. Returns 0 with *reply set, -1 with errno
 * (EREMOTEIO for an error record, which is then in *reply if reply is not
 * NULL, or ETIMEDOUT).
 */
int	kuif_request(struct kuif_client *, json_t *req, const char *reply_type,
	    json_t **reply, int timeout_ms);

/* Reconnect and resume when the connection is lost (default off). */
void	kuif_set_reconnect(struct kuif_client *, bool);

/* The highest seq of any record received, 0 if none. */
uint64_t kuif_last_seq(const struct kuif_client *);

/* The descriptor, for poll(); readable means kuif_next will not block. */
int	kuif_fd(const struct kuif_client *);

/* A description of the last failure. */
const char *kuif_error(const struct kuif_client *);

#ifdef __cplusplus
}
#endif

#endif /* KUIF_CLIENT_H */
