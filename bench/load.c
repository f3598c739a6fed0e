/*
 * load.c - the load generator of the intake benchmark.
 *
 *   load --url http://127.0.0.1:PORT/v1/leads --key KEY --connections N
 *        --duration SECONDS [--rate R] [--warmup SECONDS] [--server-pid PID]
 *        [--label TEXT]
 *
 * N threads each keep one HTTP/1.1 keep-alive connection and POST a unique,
 * realistic lead per request. Without --rate the loop is closed: a connection
 * sends its next request as soon as the reply is in, so the figure is the
 * peak the server sustains. With --rate the offered load is R requests/s in
 * all, each connection following its own evenly spaced schedule, and latency
 * is measured from the time a request was *due*, not from when it could be
 * sent: a stalled server then shows up as latency instead of silently
 * lowering the load (coordinated omission).
 *
 * The HTTP client is deliberately tiny and written here: plain TCP, one
 * request in flight per connection, Content-Length or chunked responses.
 * Latencies go into a per-thread log-linear histogram (about 1.6% resolution)
 * so that memory does not grow with the number of requests.
 *
 * Prints one line of figures on stdout; diagnostics go to stderr. Exits 1
 * when the server cannot be reached or no request succeeded.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS   1024
#define MAX_DURATION_S    600.0
#define MAX_RATE          10000000.0
#define MAX_LABEL         64
#define MAX_KEY           512
#define IO_TIMEOUT_S      15 /* a request that takes longer counts as an error */
#define REQUEST_MAX       4096
#define BODY_MAX          2048
#define READ_BUF          16384
#define HEADER_MAX        16384
#define LINE_MAX_BYTES    1024
#define RESPONSE_BODY_MAX (64L * 1024 * 1024)

/* Outcomes that are not an HTTP status; they share the status counters. */
enum outcome {
    OUTCOME_CONNECT = 0,  /* could not connect */
    OUTCOME_IO = 1,       /* reset or closed in the middle of an exchange */
    OUTCOME_TIMEOUT = 2,  /* no progress for IO_TIMEOUT_S */
    OUTCOME_PROTOCOL = 3, /* a response we could not parse */
    OUTCOME_SLOTS = 600   /* 100..599 are HTTP statuses */
};

static const char *const outcome_names[] = {"connect", "io", "timeout", "protocol"};

/*
 * Log-linear histogram of microseconds: values below 128 have a bucket each,
 * above that every power of two is cut into 64 buckets.
 */
#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_LINEAR   (2u * HIST_SUB)
#define HIST_MAX_EXP  31
#define HIST_BUCKETS  (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
};

struct options {
    char host[256]; /* as written in the URL, without brackets */
    char port[8];
    char host_header[272];
    char path[1024];
    const char *key;
    unsigned connections;
    double duration_s;
    double warmup_s;
    double rate; /* 0: closed loop */
    long server_pid;
    const char *label;
};

struct worker {
    pthread_t thread;
    unsigned index;
    int fd;
    bool reused; /* fd has carried a request before */
    uint64_t seq;
    uint64_t rng;
    struct histogram hist;
    uint64_t ok;
    uint64_t failed;
    uint64_t outcomes[OUTCOME_SLOTS];
    char first_error[160];
    size_t rpos, rlen;
    char rbuf[READ_BUF];
    char body[BODY_MAX];
    char request[REQUEST_MAX];
};

static struct options opt;
static struct sockaddr_storage server_addr;
static socklen_t server_addr_len;
static char run_tag[24];
static int64_t start_ns, measure_ns, end_ns;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = {.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
    if (v >= (UINT64_C(1) << (HIST_MAX_EXP + 1)))
        v = (UINT64_C(1) << (HIST_MAX_EXP + 1)) - 1;
    if (v < HIST_LINEAR)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS + 1 */
    unsigned sub = (unsigned)(v >> (e - HIST_SUB_BITS)) - HIST_SUB;
    return HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB + sub;
}

/* The largest value that falls into bucket i. */
static uint64_t hist_bucket_high(unsigned i)
{
    if (i < HIST_LINEAR)
        return i;
    unsigned j = i - HIST_LINEAR;
    unsigned e = HIST_SUB_BITS + 1 + j / HIST_SUB;
    uint64_t low = (uint64_t)(HIST_SUB + j % HIST_SUB) << (e - HIST_SUB_BITS);
    return low + (UINT64_C(1) << (e - HIST_SUB_BITS)) - 1;
}

static void hist_record(struct histogram *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(struct histogram *into, const struct histogram *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max)
        into->max = from->max;
}

/* The q-quantile (0 < q <= 1), reported as its bucket's upper edge. */
static uint64_t hist_quantile(const struct histogram *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t high = hist_bucket_high(i);
            return high < h->max ? high : h->max;
        }
    }
    return h->max;
}

/* ---- the leads ---- */

static const char *const first_names[] = {
    "Anna",  "Lukas", "Sophie", "Jonas", "Marie",  "Felix",  "Laura", "Paul",
    "Emma",  "David", "Chloe",  "Oscar", "Isabel", "Mateo",  "Julia", "Liam",
    "Sofia", "Noah",  "Elena",  "Hugo",  "Clara",  "Henrik", "Maja",  "Tomasz",
};
static const char *const last_names[] = {
    "Schneider", "Martin",  "Smith",    "de Vries", "Garcia", "Rossi",   "Lindqvist", "Nowak",
    "Fischer",   "Bernard", "Johnson",  "Jansen",   "Lopez",  "Bianchi", "Berg",      "Kowalski",
    "Weber",     "Dubois",  "Williams", "Bakker",   "Moreno", "Ricci",   "Nilsson",   "Mayer",
};
static const char *const company_stems[] = {
    "Nordwind",  "Bluepeak", "Ironleaf", "Solvant",   "Brightway", "Quantix",
    "Helioform", "Cobaltis", "Verdana",  "Tidewater", "Orbitel",   "Granitek",
};
struct place {
    const char *country;
    const char *legal_suffix;
    const char *tld;
};
static const struct place places[] = {
    {"Germany", "GmbH", "de"},
    {"Austria", "GmbH", "at"},
    {"Switzerland", "AG", "ch"},
    {"France", "SAS", "fr"},
    {"United Kingdom", "Ltd", "co.uk"},
    {"Netherlands", "B.V.", "nl"},
    {"Spain", "S.L.", "es"},
    {"Italy", "S.r.l.", "it"},
    {"Sweden", "AB", "se"},
    {"Poland", "sp. z o.o.", "pl"},
    {"United States", "Inc.", "com"},
    {"Canada", "Inc.", "ca"},
};
static const char *const titles[] = {
    "VP Sales",   "Head of Marketing",      "CTO", "Sales Manager", "Procurement Lead", "CEO",
    "IT Manager", "Director of Operations",
};
static const char *const employee_counts[] = {
    "1-10", "11-50", "51-200", "201-500", "1,200", "5000+", "about 300", "2k",
};
static const char *const sources[] = {
    "webinar", "website", "trade show", "referral", "content download", "paid search",
};
static const char *const industries[] = {
    "Software", "Manufacturing", "Logistics", "Healthcare", "Retail", "Financial Services",
};
static const char *const campaigns[] = {"q4", "spring-launch", "partner-week", "retargeting"};

#define PICK(array, r) ((array)[(r) % (sizeof(array) / sizeof((array)[0]))])

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: plenty for picking names, and cheap. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Lower-case letters of `s` only ("de Vries" -> "devries"), for e-mail addresses. */
static void email_word(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < size; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            out[n++] = (char)(c - 'A' + 'a');
        else if (c >= 'a' && c <= 'z')
            out[n++] = c;
    }
    out[n] = '\0';
}

/*
 * Writes the next lead's JSON into w->body; the e-mail carries the run, the
 * thread and a sequence number so that no two requests ever share one.
 * Returns its length, or -1 if it did not fit (a bug in the tables above).
 */
static int lead_json(struct worker *w)
{
    uint64_t r = rng_next(&w->rng);
    const char *first = PICK(first_names, r);
    const char *last = PICK(last_names, r >> 8);
    unsigned company = (unsigned)((r >> 16) % 5000);
    const char *stem = PICK(company_stems, company);
    const struct place *place = &PICK(places, r >> 32);
    char first_lc[32], last_lc[32], stem_lc[32];
    email_word(first_lc, sizeof first_lc, first);
    email_word(last_lc, sizeof last_lc, last);
    email_word(stem_lc, sizeof stem_lc, stem);

    char phone[48] = "";
    if ((r >> 40) % 2 == 0)
        snprintf(phone, sizeof phone, ",\"phone\":\"+%u %u %07u\"", 30 + (unsigned)(r >> 44) % 20,
                 10 + (unsigned)(r >> 48) % 90, (unsigned)(r % 10000000));

    int n = snprintf(w->body, sizeof w->body,
                     "{\"email\":\"%s.%s.%s.%u.%llu@%s%u.%s\","
                     "\"first_name\":\"%s\",\"last_name\":\"%s\","
                     "\"company\":\"%s %u %s\",\"title\":\"%s\",\"country\":\"%s\","
                     "\"employees\":\"%s\",\"industry\":\"%s\",\"source\":\"%s\","
                     "\"website\":\"https://www.%s%u.%s\"%s,"
                     "\"fields\":{\"utm_campaign\":\"%s\",\"utm_medium\":\"email\"}}",
                     first_lc, last_lc, run_tag, w->index, (unsigned long long)w->seq, stem_lc,
                     company, place->tld, first, last, stem, company, place->legal_suffix,
                     PICK(titles, r >> 20), place->country, PICK(employee_counts, r >> 24),
                     PICK(industries, r >> 28), PICK(sources, r >> 36), stem_lc, company,
                     place->tld, phone, PICK(campaigns, r >> 52));
    w->seq++;
    if (n < 0 || (size_t)n >= sizeof w->body)
        return -1;
    return n;
}

/* ---- the HTTP client ---- */

static void note_error(struct worker *w, const char *what, int err)
{
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof w->first_error, "%s: %s", what,
                 err != 0 ? strerror(err) : "closed by the server");
}

static void conn_close(struct worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->reused = false;
    w->rpos = w->rlen = 0;
}

/* A connected socket with timeouts set, or -1 with errno set. */
static int connect_server(void)
{
    int fd = socket(server_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() too */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&server_addr, server_addr_len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Result of one step of reading or writing. */
enum io_result { IO_OK, IO_EOF, IO_ERROR, IO_TIMEOUT, IO_BAD };

static enum io_result io_from_errno(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK ? IO_TIMEOUT : IO_ERROR;
}

static enum io_result send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return io_from_errno();
        }
        p += k;
        n -= (size_t)k;
    }
    return IO_OK;
}

/* Reads more bytes into the buffer, moving unread bytes to its start first. */
static enum io_result fill(struct worker *w)
{
    if (w->rpos > 0) {
        memmove(w->rbuf, w->rbuf + w->rpos, w->rlen - w->rpos);
        w->rlen -= w->rpos;
        w->rpos = 0;
    }
    if (w->rlen == sizeof w->rbuf)
        return IO_BAD;
    for (;;) {
        ssize_t k = recv(w->fd, w->rbuf + w->rlen, sizeof w->rbuf - w->rlen, 0);
        if (k > 0) {
            w->rlen += (size_t)k;
            return IO_OK;
        }
        if (k == 0)
            return IO_EOF;
        if (errno != EINTR)
            return io_from_errno();
    }
}

/* Finds "\r\n" (or "\r\n\r\n" with `blank`) in the unread bytes, reading as needed. */
static enum io_result read_until(struct worker *w, bool blank, size_t limit, size_t *len)
{
    const char *sep = blank ? "\r\n\r\n" : "\r\n";
    size_t sep_len = blank ? 4 : 2;
    for (;;) {
        const char *found = memmem(w->rbuf + w->rpos, w->rlen - w->rpos, sep, sep_len);
        if (found != NULL) {
            *len = (size_t)(found - (w->rbuf + w->rpos)) + sep_len;
            return IO_OK;
        }
        if (w->rlen - w->rpos > limit)
            return IO_BAD;
        enum io_result r = fill(w);
        if (r != IO_OK)
            return r;
    }
}

/* Reads and drops n bytes of body. */
static enum io_result discard(struct worker *w, uint64_t n)
{
    while (n > 0) {
        if (w->rpos == w->rlen) {
            enum io_result r = fill(w);
            if (r != IO_OK)
                return r;
        }
        size_t have = w->rlen - w->rpos;
        size_t take = have < n ? have : (size_t)n;
        w->rpos += take;
        n -= take;
    }
    return IO_OK;
}

/* Reads until the server closes; for responses that have no length. */
static enum io_result discard_to_eof(struct worker *w)
{
    uint64_t total = 0;
    for (;;) {
        w->rpos = w->rlen = 0;
        enum io_result r = fill(w);
        if (r == IO_EOF)
            return IO_OK;
        if (r != IO_OK)
            return r;
        total += w->rlen;
        if (total > RESPONSE_BODY_MAX)
            return IO_BAD;
    }
}

static enum io_result discard_chunked(struct worker *w)
{
    uint64_t total = 0;
    for (;;) {
        size_t len;
        enum io_result r = read_until(w, false, LINE_MAX_BYTES, &len);
        if (r != IO_OK)
            return r;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(w->rbuf + w->rpos, &end, 16);
        if (errno != 0 || end == w->rbuf + w->rpos)
            return IO_BAD;
        w->rpos += len;
        if (size == 0)
            break;
        total += size;
        if (total > RESPONSE_BODY_MAX)
            return IO_BAD;
        if ((r = discard(w, size + 2)) != IO_OK) /* data and its CRLF */
            return r;
    }
    /* Trailers, up to the empty line. */
    for (;;) {
        size_t len;
        enum io_result r = read_until(w, false, LINE_MAX_BYTES, &len);
        if (r != IO_OK)
            return r;
        w->rpos += len;
        if (len == 2)
            return IO_OK;
    }
}

/* Case-insensitive: does the header block contain "name: value" (value as a token)? */
static bool header_has(const char *headers, size_t len, const char *name, const char *token,
                       const char **value_out)
{
    size_t name_len = strlen(name);
    const char *p = headers, *end = headers + len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > name_len && strncasecmp(p, name, name_len) == 0 &&
            p[name_len] == ':') {
            const char *v = p + name_len + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            if (value_out != NULL) {
                *value_out = v;
                return true;
            }
            size_t tlen = strlen(token);
            for (const char *q = v; q + tlen <= eol; q++)
                if (strncasecmp(q, token, tlen) == 0)
                    return true;
        }
        p = eol + 2;
    }
    return false;
}

/*
 * Reads one response: its status into *status, its body dropped. Sets
 * *must_close when the connection cannot carry another request. 1xx interim
 * responses are skipped.
 */
static enum io_result read_response(struct worker *w, int *status, bool *must_close)
{
    for (;;) {
        size_t len;
        enum io_result r = read_until(w, true, HEADER_MAX, &len);
        if (r != IO_OK)
            return r;
        const char *h = w->rbuf + w->rpos;
        /* Terminated by the blank line just found, so the parse cannot run off. */
        if (len < 14 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
            return IO_BAD;
        int code = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
        if (code < 100 || code > 599)
            return IO_BAD;
        bool http10 = h[7] == '0';

        const char *cl = NULL;
        bool has_length = header_has(h, len, "Content-Length", NULL, &cl);
        bool chunked = header_has(h, len, "Transfer-Encoding", "chunked", NULL);
        bool close_after = header_has(h, len, "Connection", "close", NULL) ||
                           (http10 && !header_has(h, len, "Connection", "keep-alive", NULL));
        uint64_t length = 0;
        if (has_length) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno != 0 || end == cl || v > (unsigned long long)RESPONSE_BODY_MAX)
                return IO_BAD;
            length = v;
        }
        w->rpos += len;

        if (code < 200) /* interim: the real response follows */
            continue;
        if (code == 204 || code == 304)
            r = IO_OK;
        else if (chunked)
            r = discard_chunked(w);
        else if (has_length)
            r = discard(w, length);
        else {
            r = discard_to_eof(w);
            close_after = true;
        }
        if (r != IO_OK)
            return r == IO_EOF ? IO_ERROR : r;
        *status = code;
        *must_close = close_after;
        return IO_OK;
    }
}

/*
 * One request and its response. Returns the HTTP status, or an enum outcome
 * below 100. A request on a reused connection that meets a closed socket
 * before any byte of the reply is retried once on a fresh connection: the
 * server may drop idle keep-alive connections at any time.
 */
static int exchange(struct worker *w, size_t request_len)
{
    for (int attempt = 0;; attempt++) {
        if (w->fd < 0) {
            w->fd = connect_server();
            if (w->fd < 0) {
                note_error(w, "connect", errno);
                return OUTCOME_CONNECT;
            }
        }
        if (w->rpos == w->rlen)
            w->rpos = w->rlen = 0; /* so that rlen below counts this reply's bytes only */
        bool was_reused = w->reused;
        w->reused = true;

        enum io_result r = send_all(w->fd, w->request, request_len);
        int status = 0;
        bool must_close = false;
        if (r == IO_OK)
            r = read_response(w, &status, &must_close);
        if (r == IO_OK) {
            if (must_close)
                conn_close(w);
            return status;
        }
        int err = r == IO_EOF ? 0 : errno;
        bool nothing_read = w->rlen == 0;
        conn_close(w);
        if ((r == IO_EOF || r == IO_ERROR) && was_reused && nothing_read && attempt == 0)
            continue;
        switch (r) {
        case IO_TIMEOUT:
            note_error(w, "no reply", ETIMEDOUT);
            return OUTCOME_TIMEOUT;
        case IO_BAD:
            note_error(w, "protocol", EPROTO);
            return OUTCOME_PROTOCOL;
        default:
            note_error(w, "read/write", err);
            return OUTCOME_IO;
        }
    }
}

static size_t build_request(struct worker *w)
{
    int body_len = lead_json(w);
    if (body_len < 0) {
        fprintf(stderr, "load: lead larger than %d bytes\n", BODY_MAX);
        abort();
    }
    int n = snprintf(w->request, sizeof w->request,
                     "POST %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: baton-bench-load\r\n"
                     "Content-Type: application/json\r\n"
                     "%s%s%s"
                     "Content-Length: %d\r\n"
                     "\r\n"
                     "%s",
                     opt.path, opt.host_header, opt.key ? "Authorization: Bearer " : "",
                     opt.key ? opt.key : "", opt.key ? "\r\n" : "", body_len, w->body);
    if (n < 0 || (size_t)n >= sizeof w->request) {
        fprintf(stderr, "load: request larger than %d bytes\n", REQUEST_MAX);
        abort();
    }
    return (size_t)n;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    double interval = 0, offset = 0;
    if (opt.rate > 0) {
        /* Connection i sends at start + i/R + k*N/R: R per second in all, evenly spread. */
        interval = opt.connections * 1e9 / opt.rate;
        offset = w->index * 1e9 / opt.rate;
    }
    sleep_until(start_ns);
    for (uint64_t k = 0;; k++) {
        int64_t due;
        if (opt.rate > 0) {
            due = start_ns + (int64_t)(offset + (double)k * interval);
            if (due >= end_ns)
                break;
            sleep_until(due);
        } else {
            due = now_ns();
            if (due >= end_ns)
                break;
        }
        size_t len = build_request(w);
        int status = exchange(w, len);
        int64_t done = now_ns();
        if (status == OUTCOME_CONNECT)
            usleep(10000); /* don't spin on a server that is gone */
        if (due < measure_ns)
            continue;
        w->outcomes[status]++;
        if (status >= 200 && status < 300) {
            w->ok++;
            hist_record(&w->hist, (uint64_t)(done - due) / 1000);
        } else {
            w->failed++;
        }
    }
    conn_close(w);
    return NULL;
}

/* ---- setup and report ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: load --url http://HOST:PORT/PATH --duration SECONDS [--key KEY]\n"
            "            [--connections N] [--rate R] [--warmup SECONDS]\n"
            "            [--server-pid PID] [--label TEXT]\n"
            "  --connections  keep-alive connections, one thread each (1..%d, default 32)\n"
            "  --duration     measured seconds (mandatory, up to %.0f)\n"
            "  --warmup       seconds run before measuring (default 0, up to %.0f)\n"
            "  --rate         offered requests/s in all; without it the loop is closed\n"
            "  --server-pid   report that process's peak RSS (VmHWM)\n"
            "  --label        a tag for the output line ([A-Za-z0-9_.:-], up to %d)\n",
            MAX_CONNECTIONS, MAX_DURATION_S, MAX_DURATION_S, MAX_LABEL);
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

/* Splits http://HOST[:PORT][/PATH] into opt.host, opt.port, opt.path. */
static bool parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *p = url + 7;
    const char *host_end;
    const char *after;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (host_end == NULL)
            return false;
        after = host_end + 1;
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
        after = host_end;
    }
    size_t host_len = (size_t)(host_end - p);
    if (host_len == 0 || host_len >= sizeof opt.host)
        return false;
    memcpy(opt.host, p, host_len);
    opt.host[host_len] = '\0';

    const char *port = "80";
    size_t port_len = 2;
    if (*after == ':') {
        port = after + 1;
        port_len = strcspn(port, "/");
        if (port_len == 0 || port_len >= sizeof opt.port || strspn(port, "0123456789") < port_len)
            return false;
    } else if (*after != '/' && *after != '\0') {
        return false;
    }
    memcpy(opt.port, port, port_len);
    opt.port[port_len] = '\0';

    /* The Host header repeats the URL's authority: host, brackets and port as written. */
    const char *slash = strchr(after, '/');
    const char *path = slash != NULL ? slash : "/";
    if (strlen(path) >= sizeof opt.path || strpbrk(path, " \r\n") != NULL)
        return false;
    strcpy(opt.path, path);
    size_t authority = slash != NULL ? (size_t)(slash - (url + 7)) : strlen(url + 7);
    if (authority >= sizeof opt.host_header)
        return false;
    memcpy(opt.host_header, url + 7, authority);
    opt.host_header[authority] = '\0';
    return true;
}

static bool valid_token(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr(extra, *s) != NULL))
            return false;
    return true;
}

static int parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"key", required_argument, NULL, 'k'},
        {"connections", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"rate", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'},
        {"server-pid", required_argument, NULL, 'p'},
        {"label", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL;
    double v;
    opt.connections = 32;
    opt.label = "load";
    opt.duration_s = -1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'k':
            /* The key goes into a header line, so it must not be able to break one. */
            if (!valid_token(optarg, MAX_KEY, "-._~+/=:_")) {
                fprintf(stderr, "load: --key must be 1..%d characters of [A-Za-z0-9-._~+/=:_]\n",
                        MAX_KEY);
                return 2;
            }
            opt.key = optarg;
            break;
        case 'c':
            if (!parse_double(optarg, 1, MAX_CONNECTIONS, &v) || v != floor(v)) {
                fprintf(stderr, "load: --connections must be 1..%d\n", MAX_CONNECTIONS);
                return 2;
            }
            opt.connections = (unsigned)v;
            break;
        case 'd':
            if (!parse_double(optarg, 0.1, MAX_DURATION_S, &opt.duration_s)) {
                fprintf(stderr, "load: --duration must be 0.1..%.0f seconds\n", MAX_DURATION_S);
                return 2;
            }
            break;
        case 'r':
            if (!parse_double(optarg, 0.001, MAX_RATE, &opt.rate)) {
                fprintf(stderr, "load: --rate must be a positive number up to %.0f\n", MAX_RATE);
                return 2;
            }
            break;
        case 'w':
            if (!parse_double(optarg, 0, MAX_DURATION_S, &opt.warmup_s)) {
                fprintf(stderr, "load: --warmup must be 0..%.0f seconds\n", MAX_DURATION_S);
                return 2;
            }
            break;
        case 'p':
            if (!parse_double(optarg, 1, 4194304, &v) || v != floor(v)) {
                fprintf(stderr, "load: --server-pid must be a process id\n");
                return 2;
            }
            opt.server_pid = (long)v;
            break;
        case 'l':
            if (!valid_token(optarg, MAX_LABEL, "_.:-")) {
                fprintf(stderr, "load: --label must be 1..%d characters of [A-Za-z0-9_.:-]\n",
                        MAX_LABEL);
                return 2;
            }
            opt.label = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || url == NULL || opt.duration_s < 0) {
        if (optind < argc)
            fprintf(stderr, "load: unexpected argument '%s'\n", argv[optind]);
        else
            fprintf(stderr, "load: --url and --duration are required\n");
        usage(stderr);
        return 2;
    }
    if (!parse_url(url)) {
        fprintf(stderr, "load: cannot parse --url '%s' (want http://HOST:PORT/PATH; no https)\n",
                url);
        return 2;
    }
    return 0;
}

/* Resolves the server and checks that it accepts a connection. */
static bool reach_server(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "load: cannot resolve %s: %s\n", opt.host, gai_strerror(rc));
        return false;
    }
    memcpy(&server_addr, res->ai_addr, res->ai_addrlen);
    server_addr_len = res->ai_addrlen;
    freeaddrinfo(res);

    int fd = connect_server();
    if (fd < 0) {
        fprintf(stderr, "load: cannot reach the server at %s:%s: %s\n", opt.host, opt.port,
                strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

/* The process's VmHWM in KiB, or -1. */
static long peak_rss_kib(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void format_ms(char *out, size_t size, uint64_t us)
{
    double ms = (double)us / 1000.0;
    snprintf(out, size, ms < 1.0 ? "%.3fms" : "%.2fms", ms);
}

/* Room for one descriptor per connection plus a few; the default soft limit is often 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
        rl.rlim_cur < MAX_CONNECTIONS + 64) {
        rl.rlim_cur = rl.rlim_max < MAX_CONNECTIONS + 64 ? rl.rlim_max : MAX_CONNECTIONS + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    int rc = parse_options(argc, argv);
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    if (!reach_server())
        return 1;

    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    snprintf(run_tag, sizeof run_tag, "r%lx",
             (unsigned long)(((uint64_t)wall.tv_sec << 20) ^ (uint64_t)wall.tv_nsec / 1000 ^
                             (uint64_t)getpid()));

    struct worker *workers = calloc(opt.connections, sizeof *workers);
    if (workers == NULL) {
        fprintf(stderr, "load: out of memory\n");
        return 1;
    }
    /* A short lead so that every thread exists before the first request is due. */
    start_ns = now_ns() + 50000000;
    measure_ns = start_ns + (int64_t)(opt.warmup_s * 1e9);
    end_ns = measure_ns + (int64_t)(opt.duration_s * 1e9);
    for (unsigned i = 0; i < opt.connections; i++) {
        struct worker *w = &workers[i];
        w->index = i;
        w->fd = -1;
        w->rng = (UINT64_C(0x9E3779B97F4A7C15) * (i + 1)) ^ (uint64_t)wall.tv_nsec;
        if (w->rng == 0)
            w->rng = 1;
        if ((rc = pthread_create(&w->thread, NULL, worker_run, w)) != 0) {
            fprintf(stderr, "load: cannot start thread %u: %s\n", i, strerror(rc));
            exit(1);
        }
    }

    struct histogram *all = calloc(1, sizeof *all);
    uint64_t outcomes[OUTCOME_SLOTS] = {0};
    uint64_t ok = 0, failed = 0;
    const char *first_error = NULL;
    if (all == NULL) {
        fprintf(stderr, "load: out of memory\n");
        return 1;
    }
    for (unsigned i = 0; i < opt.connections; i++) {
        struct worker *w = &workers[i];
        pthread_join(w->thread, NULL);
        hist_merge(all, &w->hist);
        ok += w->ok;
        failed += w->failed;
        for (unsigned s = 0; s < OUTCOME_SLOTS; s++)
            outcomes[s] += w->outcomes[s];
        if (first_error == NULL && w->first_error[0] != '\0')
            first_error = w->first_error;
    }
    /* Requests due before end_ns may finish after it: count the time they took. */
    int64_t finished = now_ns();
    double elapsed = (double)((finished > end_ns ? finished : end_ns) - measure_ns) / 1e9;

    char rate[32], p50[24], p90[24], p99[24], max[24], rss[32];
    if (opt.rate > 0)
        snprintf(rate, sizeof rate, "%g", opt.rate);
    else
        snprintf(rate, sizeof rate, "max");
    format_ms(p50, sizeof p50, hist_quantile(all, 0.50));
    format_ms(p90, sizeof p90, hist_quantile(all, 0.90));
    format_ms(p99, sizeof p99, hist_quantile(all, 0.99));
    format_ms(max, sizeof max, all->max);
    snprintf(rss, sizeof rss, "-");
    if (opt.server_pid > 0) {
        long kib = peak_rss_kib(opt.server_pid);
        if (kib >= 0)
            snprintf(rss, sizeof rss, "%.1fMiB", (double)kib / 1024.0);
        else
            fprintf(stderr, "load: cannot read /proc/%ld/status (server gone?)\n", opt.server_pid);
    }
    printf("label=%s conns=%u rate=%s requests=%llu errors=%llu throughput=%.1f/s p50=%s p90=%s "
           "p99=%s max=%s server_peak_rss=%s\n",
           opt.label, opt.connections, rate, (unsigned long long)(ok + failed),
           (unsigned long long)failed, (double)ok / elapsed, p50, p90, p99, max, rss);
    fflush(stdout);

    if (failed > 0) {
        fprintf(stderr, "load: %s: errors by status:", opt.label);
        for (unsigned s = 0; s < OUTCOME_SLOTS; s++) {
            if (outcomes[s] == 0 || (s >= 200 && s < 300))
                continue;
            if (s < sizeof outcome_names / sizeof outcome_names[0])
                fprintf(stderr, " %s=%llu", outcome_names[s], (unsigned long long)outcomes[s]);
            else
                fprintf(stderr, " %u=%llu", s, (unsigned long long)outcomes[s]);
        }
        fprintf(stderr, "\n");
        if (first_error != NULL)
            fprintf(stderr, "load: %s: first transport error: %s\n", opt.label, first_error);
    }
    if (opt.rate > 0 && (double)(ok + failed) / elapsed < 0.95 * opt.rate)
        fprintf(stderr, "load: %s: achieved %.1f/s of the %g/s offered; the server fell behind\n",
                opt.label, (double)(ok + failed) / elapsed, opt.rate);

    free(all);
    free(workers);
    return ok > 0 ? 0 : 1;
}
