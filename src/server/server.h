/*
 * server.h - the HTTP API (libmicrohttpd, JSON via jansson).
 *
 * The server maps requests to engine commands (writes) and store reads, with
 * authentication by API key, role checks, body limits and JSON error replies
 * ({"error":{"code","message","field"}}). It owns no state of its own besides
 * its connections: configuration comes from the holder (a reference per
 * request, so a reload never changes a request half-way), data from the
 * store, changes go through the engine.
 *
 * Threads: libmicrohttpd runs one thread per connection; a handler may block
 * on the engine (group commit) without holding up other connections. The
 * number of connections is bounded by server.max_connections.
 *
 * Shutdown is in three steps so that no accepted request is cut off:
 * server_quiesce() stops accepting connections and makes new requests on
 * kept-alive connections answer 503; server_drain() waits for requests in
 * flight; server_stop() closes everything.
 */
#ifndef BT_SERVER_H
#define BT_SERVER_H

#include "util/err.h"
#include "util/timeutil.h"

#include <stdbool.h>

struct config_holder;
struct store;
struct engine;
struct server;

struct timers;
struct deadlines;

struct server_context {
    struct config_holder *config;
    struct store *store;
    struct engine *engine;
    struct clock *clock;
    struct timers *timers;       /* POST /v1/admin/clock runs what falls due */
    struct deadlines *deadlines; /* which source is which */
    struct deliver *deliver;     /* the outbox's worker: a moved clock wakes it */
};

/* What the server allows a connection (settings read at start). */
struct server_limits {
    unsigned max_connections;   /* requests beyond it answer 503 (probes excepted) */
    unsigned idle_timeout_ms;   /* a connection that sends nothing this long is closed */
    unsigned header_timeout_ms; /* a request's headers must be in by then */
    unsigned body_timeout_ms;   /* its body, from its headers */
    unsigned max_per_address;   /* open connections from one client address; 0: no limit */
    bool limit_loopback;        /* loopback clients are limited per address too */
};

/*
 * Binds `listen` ("HOST:PORT", "[::1]:PORT"; port 0 picks a free one) and
 * listens, writing the bound address as "http://HOST:PORT" into url. baton
 * serve binds first, before it opens or creates anything, so that a port in
 * use fails before a database or a key file exists. The socket is the
 * caller's until server_start takes it; close() it if that never happens.
 */
bt_err server_listen(const char *listen, int *fd, char *url, size_t url_size,
                     struct bt_error *err) BT_MUST_USE;

/* Serves on the listening socket `fd` from server_listen, which it takes
 * over in every case (closed on failure). `listen` names it in messages. */
bt_err server_start(const struct server_context *ctx, int fd, const char *listen,
                    const struct server_limits *limits, struct server **out,
                    struct bt_error *err) BT_MUST_USE;
void server_quiesce(struct server *s);
/* Waits until no request is in flight or timeout_ms pass; true when idle. */
bool server_drain(struct server *s, unsigned timeout_ms);
/* Stops and frees the server. server_stop(NULL) does nothing. */
void server_stop(struct server *s);

/* The route table (`baton api routes`; the tests compare it with
 * docs/openapi.yaml): route i's method, path pattern ("/v1/leads/{id}") and
 * the roles that may call it, as text ("admin, rep"; "none" for the probes
 * and the description). False past the last route. */
bool server_route_at(size_t i, const char **method, const char **pattern, char *roles,
                     size_t roles_size);

#endif
