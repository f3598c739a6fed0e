/*
 * config_holder.c - the daemon's current snapshot, and its reloads.
 *
 * Readers take a reference to the current snapshot under a mutex held for
 * a pointer copy; a reload builds the next snapshot outside the lock and
 * swaps it in, and the last reference to the old one frees it.
 *
 * A reload explains itself: what the new snapshot adds, removes and changes
 * (config_diff.h), or the error that kept the old one, is kept as the last
 * reload, for GET /readyz and `baton reload`. The holder keeps the snapshot
 * the process started with as well: the settings that are read only at
 * start (server.listen, store.*) are compared with it, since those are the
 * ones in effect, whatever reloads came in between. That costs one more
 * snapshot in memory after the first reload.
 */
#include "config/config.h"
#include "config/config_diff.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CONFIG_RELOAD_SUMMARY_MAX == CONFIG_DIFF_LINE_MAX,
               "config_reload.summary holds one config_diff_line");

struct config_holder {
    pthread_mutex_t lock;
    struct config *current;
    struct config *started;
    json_t *last_reload; /* NULL before the first; never changed once set, only replaced */
    long long reloads;
};

struct config_holder *config_holder_new(struct config *initial)
{
    struct config_holder *h = xcalloc(1, sizeof(*h));
    if (pthread_mutex_init(&h->lock, NULL) != 0)
        bt_die("cannot create a mutex");
    h->current = initial;
    h->started = config_ref(initial);
    return h;
}

void config_holder_free(struct config_holder *h)
{
    if (!h)
        return;
    config_unref(h->current);
    config_unref(h->started);
    json_decref(h->last_reload);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct config *config_holder_get(struct config_holder *h)
{
    pthread_mutex_lock(&h->lock);
    struct config *cfg = config_ref(h->current);
    pthread_mutex_unlock(&h->lock);
    return cfg;
}

void config_holder_swap(struct config_holder *h, struct config *next)
{
    pthread_mutex_lock(&h->lock);
    struct config *old = h->current;
    h->current = next;
    pthread_mutex_unlock(&h->lock);
    /* Outside the lock: freeing a large snapshot must not stall readers. */
    config_unref(old);
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/*
 * Numbers the outcome and keeps it as the last reload, and swaps `next` in
 * (NULL: a failed reload) under the same lock, so that a reader never sees
 * the new outcome with the old snapshot; takes the references to `summary`
 * and `next`.
 */
static void record(struct config_holder *h, int64_t now, const struct config_reload *r,
                   json_t *summary, struct config *next)
{
    char at[RFC3339_MAX];
    time_format_rfc3339(now, at);
    struct config *old_cfg = NULL;
    pthread_mutex_lock(&h->lock);
    json_t *status = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "seq", (json_int_t)++h->reloads, "at", at, "result",
        r->applied ? "applied" : "failed", "version", r->version, "previous_version",
        r->previous_version, "summary", summary ? summary : json_null(), "error",
        text_or_null(r->applied ? NULL : r->error));
    if (!status)
        bt_die("out of memory");
    json_t *old = h->last_reload;
    h->last_reload = status;
    if (next) {
        old_cfg = h->current;
        h->current = next;
    }
    pthread_mutex_unlock(&h->lock);
    json_decref(old);
    config_unref(old_cfg); /* outside the lock, as in config_holder_swap */
}

void config_holder_reload(struct config_holder *h, int64_t now, struct config_reload *out)
{
    memset(out, 0, sizeof(*out));
    struct config *cur = config_holder_get(h), *next = NULL;
    struct bt_error err = BT_ERROR_INIT;
    snprintf(out->previous_version, sizeof(out->previous_version), "%s", cur->version);
    json_t *summary = NULL;
    if (config_load(cur->path, &next, &err)) {
        snprintf(out->version, sizeof(out->version), "%s", cur->version);
        snprintf(out->error, sizeof(out->error), "%s", err.message);
    } else {
        struct config_diff d; /* h->started never changes: no lock */
        config_diff_compute(cur, next, h->started, &d);
        config_diff_line(&d, out->summary);
        summary = config_diff_json(&d);
        out->applied = true;
        out->warn = config_diff_removes(&d) || d.n_restart > 0;
        snprintf(out->version, sizeof(out->version), "%s", next->version);
        config_diff_release(&d); /* it borrows names from cur and next */
    }
    record(h, now, out, summary, out->applied ? next : NULL);
    config_unref(cur);
}

json_t *config_holder_last_reload(struct config_holder *h, struct config **current)
{
    /* A copy, so that callers on other threads share no reference count. */
    pthread_mutex_lock(&h->lock);
    json_t *copy = h->last_reload ? json_deep_copy(h->last_reload) : NULL;
    if (current)
        *current = config_ref(h->current);
    pthread_mutex_unlock(&h->lock);
    return copy;
}
