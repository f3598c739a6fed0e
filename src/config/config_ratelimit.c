/*
 * config_ratelimit.c - `intake.rate_limit`: how many intake requests (POST
 * /v1/leads, POST /v1/activities) a key and a client address may send.
 *
 *   intake:
 *     rate_limit:
 *       per_key: 100/s burst 1000     # each API key
 *       per_address: 10/s burst 100   # each client address (IPv6: each /64)
 *       roles: [ingest]               # the keys limited; add admin to limit those too
 *       trusted_proxies: [127.0.0.1]  # believe X-Forwarded-For from these peers
 *
 * A rate is one scalar, COUNT/PERIOD with an optional "burst N", because
 * that is how people say it ("20 a second, 100 at once"); `off` turns one
 * limit (or, for the whole mapping, every limit) off. The defaults are in
 * config.c's set_defaults().
 */
#include "config/config_internal.h"
#include "util/netaddr.h"
#include "util/ratelimit.h"

#include <stdio.h>
#include <string.h>

#define RATE_LIMIT_MAX_PROXIES 1000

static bool digits(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 9)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* The period after the slash: a unit alone (s, m, h, d: one of it) or a
 * duration (10s, 5m). */
static bool period_ms(const char *s, size_t len, uint64_t *out)
{
    static const struct {
        char unit;
        uint64_t ms;
    } units[] = {{'s', CONFIG_SECOND_MS},
                 {'m', CONFIG_MINUTE_MS},
                 {'h', CONFIG_HOUR_MS},
                 {'d', CONFIG_DAY_MS}};
    if (len == 1)
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (s[0] == units[i].unit) {
                *out = units[i].ms;
                return true;
            }
    return len > 0 && s[0] >= '0' && s[0] <= '9' && config__parse_duration_ms(s, len, out);
}

/* A rate ("20/s", "600/m burst 50", "5/10s") or off (count 0). */
bt_err config__get_rate(struct loader *ld, const struct ynode *n, const char *path,
                        struct ratelimit_rate *out)
{
    if (config__absent(n))
        return BT_OK;
    if (config__scalar_is(n, "off")) {
        *out = (struct ratelimit_rate){0};
        return BT_OK;
    }
    const char *expected = "expected a rate such as 20/s, 600/m or 20/s burst 100, or off";
    if (n->kind != YNODE_SCALAR || n->len > 64)
        return config__fail_at(ld, n, "%s: %s", path, expected);
    const char *s = n->text, *end = n->text + n->len;
    const char *slash = memchr(s, '/', n->len);
    const char *space = memchr(s, ' ', n->len);
    const char *period_end = space ? space : end;
    uint64_t count = 0, ms = 0, burst = 0;
    if (!slash || slash > period_end || !digits(s, (size_t)(slash - s), &count) ||
        !period_ms(slash + 1, (size_t)(period_end - slash - 1), &ms))
        return config__fail_at(ld, n, "%s: %s", path, expected);
    if (space) {
        /* " burst N", with any number of spaces between the words */
        const char *p = space;
        while (p < end && *p == ' ')
            p++;
        if ((size_t)(end - p) < 5 || memcmp(p, "burst", 5) != 0 || p + 5 == end || p[5] != ' ')
            return config__fail_at(ld, n, "%s: %s", path, expected);
        p += 5;
        while (p < end && *p == ' ')
            p++;
        if (!digits(p, (size_t)(end - p), &burst))
            return config__fail_at(ld, n, "%s: %s", path, expected);
    }
    if (count < 1 || count > RATELIMIT_COUNT_MAX)
        return config__fail_at(ld, n, "%s: the count must be from 1 to %d", path,
                               RATELIMIT_COUNT_MAX);
    if (ms < RATELIMIT_PERIOD_MIN || ms > RATELIMIT_PERIOD_MAX)
        return config__fail_at(ld, n, "%s: the period must be from 1s to 1d", path);
    if (space && (burst < 1 || burst > RATELIMIT_COUNT_MAX))
        return config__fail_at(ld, n, "%s: burst must be from 1 to %d", path, RATELIMIT_COUNT_MAX);
    *out = (struct ratelimit_rate){
        .count = (uint32_t)count,
        .period_ms = (uint32_t)ms,
        .burst = (uint32_t)(space ? burst : count),
    };
    return BT_OK;
}

static bt_err get_roles(struct loader *ld, const struct ynode *n, struct config_rate_limit *rl)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n, "intake.rate_limit.roles: expected a list of roles, not %s",
                               config__kind_name(n));
    rl->ingest = rl->admin = false;
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        if (config__scalar_is(e, "ingest"))
            rl->ingest = true;
        else if (config__scalar_is(e, "admin"))
            rl->admin = true;
        else
            return config__fail_at(ld, e,
                                   "intake.rate_limit.roles[%zu]: expected ingest or admin (rep "
                                   "keys may not send intake requests)",
                                   i);
    }
    return BT_OK;
}

static bt_err get_proxies(struct loader *ld, const struct ynode *n, struct config_rate_limit *rl)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "intake.rate_limit.trusted_proxies: expected a list of addresses, "
                               "not %s",
                               config__kind_name(n));
    if (n->count > RATE_LIMIT_MAX_PROXIES)
        return config__fail_at(ld, n,
                               "intake.rate_limit.trusted_proxies: too many entries (at most %d)",
                               RATE_LIMIT_MAX_PROXIES);
    struct net_prefix *p = arena_alloc(ld->arena, (n->count ? n->count : 1) * sizeof(*p));
    if (!p)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (e->kind != YNODE_SCALAR || config__absent(e))
            return config__fail_at(ld, e,
                                   "intake.rate_limit.trusted_proxies[%zu]: expected an address, "
                                   "not %s",
                                   i, config__absent(e) ? "null" : config__kind_name(e));
        if (!netaddr_parse_prefix(e->text, e->len, &p[i]))
            return config__fail_at(
                ld, e,
                "intake.rate_limit.trusted_proxies[%zu]: '%s' is not an IP address or a "
                "prefix such as 10.0.0.0/8 or fd00::/8 (with no bits set past its length)",
                i, config__excerpt(e->text, e->len, buf));
    }
    rl->trusted_proxies = p;
    rl->n_trusted_proxies = n->count;
    return BT_OK;
}

bt_err config__load_rate_limit(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"per_key", "per_address", "roles", "trusted_proxies"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config_rate_limit *rl = &ld->cfg->rate_limit;
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if (config__scalar_is(n, "off")) {
        rl->per_key = rl->per_address = (struct ratelimit_rate){0};
        return BT_OK;
    }
    if ((rc =
             config__expect_map(ld, n, "intake.rate_limit",
                                "with per_key, per_address, roles and trusted_proxies (or off)")) ||
        (rc = config__map_fields(ld, n, "in intake.rate_limit", keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_rate(ld, v[0], "intake.rate_limit.per_key", &rl->per_key)) ||
        (rc = config__get_rate(ld, v[1], "intake.rate_limit.per_address", &rl->per_address)) ||
        (rc = get_roles(ld, v[2], rl)) || (rc = get_proxies(ld, v[3], rl)))
        return rc;
    return BT_OK;
}
