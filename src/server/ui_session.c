/*
 * ui_session.c - the dashboard's session table (ui_session.h).
 *
 * A fixed array under one mutex: sign-ins are rare and a lookup is a scan
 * of at most UI_SESSIONS_MAX entries comparing hashes, cheap next to the
 * key lookup in the store that follows it. Tokens are kept only as their
 * SHA-256, so a copy of the process memory does not hold working cookies.
 */
#include "server/ui_session.h"

#include "util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ui_session {
    bool used;
    char token_hash[SHA256_HEX_LEN + 1];
    char principal[UI_SESSION_PRINCIPAL_MAX + 1]; /* a key's hash, or link:GEN:REP */
    char csrf[UI_SESSION_CSRF_LEN + 1];
    int64_t expires_ms;
};

struct ui_sessions {
    pthread_mutex_t lock;
    struct ui_session slot[UI_SESSIONS_MAX];
};

struct ui_sessions *ui_sessions_new(void)
{
    struct ui_sessions *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void ui_sessions_free(struct ui_sessions *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    explicit_bzero(s->slot, sizeof(s->slot));
    free(s);
}

static bool token_well_formed(const char *token)
{
    return token && strlen(token) == UI_SESSION_TOKEN_LEN &&
           strspn(token, "0123456789abcdef") == UI_SESSION_TOKEN_LEN;
}

void ui_sessions_create(struct ui_sessions *s, const char *principal, int64_t now_ms,
                        char token[UI_SESSION_TOKEN_LEN + 1], char csrf[UI_SESSION_CSRF_LEN + 1])
{
    size_t principal_len = strlen(principal);
    if (principal_len > UI_SESSION_PRINCIPAL_MAX)
        BT_BUG("a session's principal of %zu bytes", principal_len);
    crypto_random_token("", UI_SESSION_TOKEN_LEN / 2, token, UI_SESSION_TOKEN_LEN + 1);
    crypto_random_token("", UI_SESSION_CSRF_LEN / 2, csrf, UI_SESSION_CSRF_LEN + 1);
    pthread_mutex_lock(&s->lock);
    struct ui_session *pick = NULL;
    for (size_t i = 0; i < UI_SESSIONS_MAX; i++) {
        struct ui_session *e = &s->slot[i];
        if (!e->used || e->expires_ms <= now_ms) {
            pick = e;
            break;
        }
        if (!pick || e->expires_ms < pick->expires_ms)
            pick = e;
    }
    pick->used = true;
    crypto_sha256_hex(token, strlen(token), pick->token_hash);
    memset(pick->principal, 0, sizeof(pick->principal));
    memcpy(pick->principal, principal, principal_len);
    memcpy(pick->csrf, csrf, sizeof(pick->csrf));
    pick->expires_ms = now_ms + UI_SESSION_TTL_MS;
    pthread_mutex_unlock(&s->lock);
}

static struct ui_session *find_locked(struct ui_sessions *s, const char *token)
{
    char hash[SHA256_HEX_LEN + 1];
    crypto_sha256_hex(token, strlen(token), hash);
    for (size_t i = 0; i < UI_SESSIONS_MAX; i++)
        if (s->slot[i].used && crypto_equal(s->slot[i].token_hash, hash, SHA256_HEX_LEN))
            return &s->slot[i];
    return NULL;
}

bool ui_sessions_find(struct ui_sessions *s, const char *token, int64_t now_ms,
                      char principal[UI_SESSION_PRINCIPAL_MAX + 1],
                      char csrf[UI_SESSION_CSRF_LEN + 1])
{
    if (!token_well_formed(token))
        return false;
    pthread_mutex_lock(&s->lock);
    struct ui_session *e = find_locked(s, token);
    bool live = e && e->expires_ms > now_ms;
    if (live) {
        memcpy(principal, e->principal, UI_SESSION_PRINCIPAL_MAX + 1);
        memcpy(csrf, e->csrf, UI_SESSION_CSRF_LEN + 1);
    } else if (e) {
        memset(e, 0, sizeof(*e));
    }
    pthread_mutex_unlock(&s->lock);
    return live;
}

void ui_sessions_remove(struct ui_sessions *s, const char *token)
{
    if (!token_well_formed(token))
        return;
    pthread_mutex_lock(&s->lock);
    struct ui_session *e = find_locked(s, token);
    if (e)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&s->lock);
}

bool ui_sessions_csrf_ok(const char *csrf, const char *sent)
{
    return sent && strlen(sent) == UI_SESSION_CSRF_LEN &&
           crypto_equal(csrf, sent, UI_SESSION_CSRF_LEN);
}
