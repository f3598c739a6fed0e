/*
 * conn_guard.c - deadlines and per-address limits for connections (see
 * conn_guard.h).
 *
 * Every open connection has a record: its own duplicate of the socket, the
 * instant its current phase must end (0: none), and its client address.
 * Records hang in a list (the watchdog's walk) and in a bucket by address
 * (the per-address count walks one bucket, so an address that opens many
 * connections costs only its own bucket). One mutex guards both; the
 * watchdog holds it while it shuts sockets down, and the CLOSED notification
 * takes it before the record goes, so no record is used after it is freed.
 */
#include "server/conn_guard.h"
#include "util/err.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS           1024
#define WATCH_INTERVAL_MS 250
#define REFUSED_GRACE_MS  2000 /* a refused connection's headers, for its 503 */

struct tracked {
    int fd;      /* our duplicate of the socket, or -1 */
    int64_t due; /* monotonic ms when the current phase must end; 0: none */
    bool shut;   /* shut down for a missed deadline */
    bool refused;
    bool nul; /* the current request's path or query decoded to a NUL */
    uint8_t addr[NETADDR_LIMIT_KEY];
    uint8_t addr_len; /* 0: unknown or exempt */
    unsigned bucket;
    struct tracked *prev, *next; /* all connections */
    struct tracked *bucket_prev, *bucket_next;
};

struct conn_guard {
    struct conn_guard_options opts;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watchdog;
    bool stopping;
    struct tracked *head;
    struct tracked *buckets[BUCKETS];
    unsigned open;
    uint64_t timed_out, refused;
};

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

/* The client's address as the rate limits count it (an IPv4 address
 * whole, IPv4-mapped IPv6 as IPv4, IPv6 by its /64: a client picking a fresh
 * address of its network per connection is still one client), or none. */
static void address_of(struct conn_guard *g, struct MHD_Connection *conn, struct tracked *t)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    struct net_addr a;
    t->addr_len = 0;
    if (!sa || (!g->opts.limit_loopback && is_loopback(sa)) || !netaddr_from_sockaddr(sa, &a))
        return;
    t->addr_len = (uint8_t)netaddr_limit_key(&a, t->addr);
}

static unsigned same_address(const struct conn_guard *g, const struct tracked *t)
{
    unsigned n = 0;
    for (const struct tracked *x = g->buckets[t->bucket]; x; x = x->bucket_next)
        if (x->addr_len == t->addr_len && !memcmp(x->addr, t->addr, t->addr_len))
            n++;
    return n;
}

static int64_t deadline(unsigned timeout_ms)
{
    return timeout_ms ? time_monotonic_ms() + timeout_ms : 0;
}

static void *watch(void *arg)
{
    struct conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        int64_t now = time_monotonic_ms();
        for (struct tracked *t = g->head; t; t = t->next) {
            if (t->shut || !t->due || now < t->due || t->fd < 0)
                continue;
            /* The connection's thread reads the end of the stream and
             * closes the connection; our duplicate goes at CLOSED. */
            shutdown(t->fd, SHUT_RDWR);
            t->shut = true;
            if (!t->refused)
                g->timed_out++;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct conn_guard *conn_guard_new(const struct conn_guard_options *o)
{
    struct conn_guard *g = xcalloc(1, sizeof(*g));
    g->opts = *o;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&g->watchdog, NULL, watch, g) != 0)
        bt_die("cannot start the connection watchdog");
    return g;
}

void conn_guard_free(struct conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->watchdog, NULL);
    while (g->head) { /* none are left after MHD_stop_daemon; be safe */
        struct tracked *t = g->head;
        g->head = t->next;
        if (t->fd >= 0)
            close(t->fd);
        free(t);
    }
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    free(g);
}

static void started(struct conn_guard *g, struct MHD_Connection *conn, void **socket_context)
{
    struct tracked *t = xcalloc(1, sizeof(*t));
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    t->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (t->fd < 0 && ci) {
        /* Out of descriptors: a connection the guard cannot watch is not
         * let in (it could trickle for ever); the server's log says why. */
        log_warn("http: cannot watch a new connection (%s); closing it", strerror(errno));
        shutdown(ci->connect_fd, SHUT_RDWR);
    }
    t->due = deadline(g->opts.header_timeout_ms);
    address_of(g, conn, t);
    t->bucket = t->addr_len ? (unsigned)(hash_fnv1a(t->addr, t->addr_len) % BUCKETS) : 0;
    pthread_mutex_lock(&g->lock);
    t->next = g->head;
    if (g->head)
        g->head->prev = t;
    g->head = t;
    g->open++;
    if (t->addr_len) {
        t->bucket_next = g->buckets[t->bucket];
        if (t->bucket_next)
            t->bucket_next->bucket_prev = t;
        g->buckets[t->bucket] = t;
        if (g->opts.max_per_address && same_address(g, t) > g->opts.max_per_address) {
            /* Answered 503 when its headers come (conn_guard_refused_here),
             * and given little time for them. */
            t->refused = true;
            g->refused++;
            int64_t grace = time_monotonic_ms() + REFUSED_GRACE_MS;
            if (!t->due || grace < t->due)
                t->due = grace;
        }
    }
    pthread_mutex_unlock(&g->lock);
    *socket_context = t;
}

static void closed(struct conn_guard *g, struct tracked *t)
{
    pthread_mutex_lock(&g->lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        g->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->addr_len) {
        if (t->bucket_prev)
            t->bucket_prev->bucket_next = t->bucket_next;
        else
            g->buckets[t->bucket] = t->bucket_next;
        if (t->bucket_next)
            t->bucket_next->bucket_prev = t->bucket_prev;
    }
    g->open--;
    pthread_mutex_unlock(&g->lock);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    struct conn_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        started(g, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        closed(g, *socket_context);
        *socket_context = NULL;
    }
}

static struct tracked *tracked_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void set_due(struct conn_guard *g, struct MHD_Connection *conn, unsigned timeout_ms)
{
    struct tracked *t = tracked_of(conn);
    if (!t)
        return;
    pthread_mutex_lock(&g->lock);
    if (!t->refused)
        t->due = deadline(timeout_ms);
    pthread_mutex_unlock(&g->lock);
}

void conn_guard_headers_in(struct conn_guard *g, struct MHD_Connection *conn)
{
    set_due(g, conn, g->opts.body_timeout_ms);
}

void conn_guard_body_in(struct conn_guard *g, struct MHD_Connection *conn)
{
    set_due(g, conn, 0);
}

void conn_guard_answered(struct conn_guard *g, struct MHD_Connection *conn)
{
    unsigned wait = g->opts.header_timeout_ms;
    if (wait && g->opts.idle_timeout_ms > wait)
        wait = g->opts.idle_timeout_ms;
    set_due(g, conn, wait);
}

bool conn_guard_refused_here(struct conn_guard *g, struct MHD_Connection *conn)
{
    struct tracked *t = tracked_of(conn);
    if (!t)
        return false;
    pthread_mutex_lock(&g->lock);
    bool refused = t->refused;
    pthread_mutex_unlock(&g->lock);
    return refused;
}

size_t conn_guard_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    struct conn_guard *g = cls;
    size_t n = MHD_http_unescape(s);
    if (memchr(s, '\0', n)) {
        struct tracked *t = tracked_of(conn);
        if (t) {
            pthread_mutex_lock(&g->lock);
            t->nul = true;
            pthread_mutex_unlock(&g->lock);
        }
    }
    return n;
}

bool conn_guard_took_nul(struct conn_guard *g, struct MHD_Connection *conn)
{
    struct tracked *t = tracked_of(conn);
    if (!t)
        return false;
    pthread_mutex_lock(&g->lock);
    bool nul = t->nul;
    t->nul = false;
    pthread_mutex_unlock(&g->lock);
    return nul;
}

unsigned conn_guard_open(struct conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned n = g->open;
    pthread_mutex_unlock(&g->lock);
    return n;
}

uint64_t conn_guard_timed_out(struct conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    uint64_t n = g->timed_out;
    pthread_mutex_unlock(&g->lock);
    return n;
}

uint64_t conn_guard_refused(struct conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    uint64_t n = g->refused;
    pthread_mutex_unlock(&g->lock);
    return n;
}
