/*
 * conn_guard.h - keeps slow and greedy clients from holding the server's
 * connections (internal to src/server/).
 *
 * libmicrohttpd runs a thread per connection and only closes a connection
 * that sends nothing for the idle timeout; a client that trickles a header
 * line every few seconds, or a body byte, would keep its slot for ever, and
 * a few hundred such clients lock everyone out. The guard adds:
 *
 *   - a whole-request deadline: a request's headers must have arrived within
 *     header_timeout of the connection's start (of the previous reply on a
 *     kept-alive connection, with the idle timeout if that is longer), its
 *     body within body_timeout of its headers.
 *     A watchdog thread looks four times a second and shuts the socket of a
 *     connection past its deadline down (the connection's thread then sees
 *     the end of the stream and closes it);
 *   - a limit per client address: a connection beyond max_per_address open
 *     ones from the same address is answered at once with a 503 (JSON error,
 *     Retry-After) and closed, so one address cannot take every slot;
 *   - a count of open connections, for the server's own limit: libmicrohttpd
 *     accepts max_connections + CONN_GUARD_RESERVE, and the server answers
 *     503 with Retry-After beyond max_connections to every request but the
 *     probes (/healthz, /readyz), which thus keep working.
 *
 * Each connection is followed from libmicrohttpd's connection notifications
 * (conn_guard_notify, registered with MHD_OPTION_NOTIFY_CONNECTION); the
 * guard keeps its own duplicate of the socket, so that a shutdown never hits
 * a descriptor that was closed and reused meanwhile.
 */
#ifndef BT_CONN_GUARD_H
#define BT_CONN_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#define CONN_GUARD_RESERVE 16 /* connections accepted past the limit, for probes and 503s */

struct conn_guard_options {
    unsigned header_timeout_ms; /* 0: no deadline */
    unsigned body_timeout_ms;   /* 0: no deadline */
    unsigned idle_timeout_ms;   /* a kept-alive connection's next headers: at least this */
    unsigned max_per_address;   /* 0: no limit */
    bool limit_loopback;        /* false: 127.0.0.0/8 and ::1 are not limited per address */
};

struct conn_guard;

struct conn_guard *conn_guard_new(const struct conn_guard_options *o);
/* Stops the watchdog; after every connection is gone (MHD_stop_daemon). */
void conn_guard_free(struct conn_guard *g);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* A request's headers are in: its body (if any) is due within body_timeout. */
void conn_guard_headers_in(struct conn_guard *g, struct MHD_Connection *conn);
/* Its body is in: no deadline while it is handled and answered. */
void conn_guard_body_in(struct conn_guard *g, struct MHD_Connection *conn);
/* Answered: the next request on the connection is due within header_timeout. */
void conn_guard_answered(struct conn_guard *g, struct MHD_Connection *conn);

/* Whether this connection is over its address's limit: the server answers
 * its request 503 (and the connection is closed soon after). */
bool conn_guard_refused_here(struct conn_guard *g, struct MHD_Connection *conn);

/* The MHD_OPTION_UNESCAPE_CALLBACK (cls: the guard): percent-decodes as
 * libmicrohttpd does, and remembers when a decoded byte is NUL ("%00"), which
 * would cut the path or a query value short. */
size_t conn_guard_unescape(void *cls, struct MHD_Connection *conn, char *s);
/* Whether the current request's path or query had a NUL (and forgets it). */
bool conn_guard_took_nul(struct conn_guard *g, struct MHD_Connection *conn);

/* Connections open now. */
unsigned conn_guard_open(struct conn_guard *g);

/* Connections shut down so far for a missed deadline, and refused for their
 * address (for the log and the tests). */
uint64_t conn_guard_timed_out(struct conn_guard *g);
uint64_t conn_guard_refused(struct conn_guard *g);

#endif
