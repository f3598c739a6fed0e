/*
 * config_routing.c - what routing reads from the file: the reps' time zones,
 * weekly hours, holidays and territories (parsed where teams and reps are,
 * in config.c, through the helpers here), then `pools`, `routing` and
 * `accounts`.
 *
 * cfg->routing is built last, once every team and rep is loaded and their
 * ids checked, so that pools and rules may name reps and teams listed
 * anywhere in the file. routing.reps[i] is cfg->reps[i] with what the rep
 * leaves out taken from its team (time zone, hours, holidays), else the
 * defaults: UTC, around the clock, no holidays.
 *
 * Ownership: arrays and strings live in the snapshot's arena. Time zone
 * tables are heap objects, one per distinct name however many reps and pools
 * use it (struct config_zones). Rule conditions are compiled over
 * scoring->lead_syms exactly like the qualification rules, while the file
 * loads, before anything plans evaluation over that table
 * (score_scratch_new), so the slots routing adds are filled like the others.
 * config__routing_release() frees conditions and tables; it runs before the
 * symbol table is freed.
 */
#include "config/config_internal.h"
#include "core/normalize.h"
#include "core/routing.h"
#include "core/rule.h"
#include "core/skill.h"
#include "core/strategy.h"
#include "core/workhours.h"
#include "util/tzdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTING_MAX_POOLS       1000
#define ROUTING_MAX_POOL_TEAMS  1000 /* teams listed in one pool */
#define ROUTING_MAX_RULES       1000
#define ROUTING_MAX_TAGS        256 /* a rule's languages or skills */
#define ROUTING_MAX_NAME        100 /* a rule's name */
#define ROUTING_MAX_HOLIDAYS    1000
#define ROUTING_MAX_TERRITORIES 300
#define ROUTING_PATH_MAX        96
#define ROUTING_OFFER_DEFAULT   3 /* a broadcast pool's offer_to */
#define ROUTING_OFFER_MAX       20
#define ROUTING_HOURS_EXAMPLE   "\"09:00-17:30\" or \"09:00-12:30, 13:30-18:00\""

/* ---- small helpers ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* s[0..len) equals the lower-case word w, ignoring ASCII case. */
static bool word_is(const char *s, size_t len, const char *w)
{
    if (len != strlen(w))
        return false;
    for (size_t i = 0; i < len; i++)
        if (upper(s[i]) != upper(w[i]))
            return false;
    return true;
}

/* "NAME:LINE:COL: message" at byte `offset` of scalar n's value (n itself
 * when that cannot be placed). */
static bt_err fail_inside(struct loader *ld, const struct ynode *n, size_t offset, const char *fmt,
                          ...) BT_PRINTF(4, 5);

static bt_err fail_inside(struct loader *ld, const struct ynode *n, size_t offset, const char *fmt,
                          ...)
{
    char msg[BT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line, column;
    config__scalar_position(ld, n, offset, &line, &column);
    return config__fail_pos(ld, line, column, "%s", msg);
}

/* ---- time zones ---- */

/* The snapshot's table for zone `name`, built on first use. */
static bt_err zone_table(struct loader *ld, const char *name, const struct tz_table **out,
                         struct bt_error *e)
{
    struct config_zones *z = ld->zones;
    for (size_t i = 0; i < z->count; i++) {
        if (strcmp(z->tables[i]->name, name) == 0) {
            *out = z->tables[i];
            return BT_OK;
        }
    }
    struct tz_table *t;
    bt_err rc = tz_table_new(name, &t, e);
    if (rc)
        return rc;
    if (z->count == z->cap) {
        z->cap = z->cap ? 2 * z->cap : 8;
        z->tables = xrealloc(z->tables, z->cap * sizeof(*z->tables));
    }
    z->tables[z->count++] = t;
    *out = t;
    return BT_OK;
}

static bt_err utc_table(struct loader *ld, const struct tz_table **out)
{
    struct bt_error e = BT_ERROR_INIT;
    if (zone_table(ld, "UTC", out, &e))
        return config__fail_pos(ld, 1, 1, "time zone UTC: %s", e.message);
    return BT_OK;
}

bt_err config__get_zone(struct loader *ld, const struct ynode *n, const char *path,
                        const char **name, const struct tz_table **tz)
{
    if (config__absent(n))
        return BT_OK;
    const char *s = NULL;
    bt_err rc = config__get_string(ld, n, path, CONFIG_MAX_STRING, &s);
    if (rc)
        return rc;
    if (zone_table(ld, s, tz, NULL)) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        return config__fail_at(
            ld, n, "%s: unknown time zone '%s' (expected an IANA name such as Europe/Berlin)", path,
            config__excerpt(s, strlen(s), buf));
    }
    *name = s;
    return BT_OK;
}

/* ---- weekly hours ---- */

static const char *const day_abbrev[WEEKDAY_COUNT] = {"mon", "tue", "wed", "thu",
                                                      "fri", "sat", "sun"};
static const char *const day_full[WEEKDAY_COUNT] = {"monday", "tuesday",  "wednesday", "thursday",
                                                    "friday", "saturday", "sunday"};
static const char *const day_title[WEEKDAY_COUNT] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                     "Friday", "Saturday", "Sunday"};

static int parse_day(const char *s, size_t len)
{
    for (int d = 0; d < WEEKDAY_COUNT; d++)
        if (word_is(s, len, day_abbrev[d]) || word_is(s, len, day_full[d]))
            return d;
    return -1;
}

/*
 * The days a key of `hours` names, as a set (bit 0 is Monday); 0 when it is
 * not a key. A range runs forward from its first day to its last and may
 * wrap past Sunday (fri-mon is Friday to Monday).
 */
static unsigned parse_day_key(const char *s, size_t len)
{
    if (word_is(s, len, "daily"))
        return 0x7Fu;
    if (word_is(s, len, "weekdays"))
        return 0x1Fu;
    if (word_is(s, len, "weekends"))
        return 0x60u;
    const char *dash = memchr(s, '-', len);
    if (!dash) {
        int d = parse_day(s, len);
        return d < 0 ? 0 : 1u << d;
    }
    size_t first_len = (size_t)(dash - s);
    int a = parse_day(s, first_len), b = parse_day(dash + 1, len - first_len - 1);
    if (a < 0 || b < 0 || a == b)
        return 0;
    unsigned set = 0;
    for (int d = a;; d = (d + 1) % WEEKDAY_COUNT) {
        set |= 1u << d;
        if (d == b)
            break;
    }
    return set;
}

/* "H:MM" or "HH:MM" at s[*i]: minutes of the day, 24:00 being 1440. */
static bool parse_time(const char *s, size_t len, size_t *i, unsigned *out)
{
    size_t p = *i, digits = 0;
    unsigned h = 0;
    while (p < len && is_digit(s[p]) && digits < 2) {
        h = h * 10 + (unsigned)(s[p] - '0');
        p++;
        digits++;
    }
    if (digits == 0 || p + 3 > len || s[p] != ':' || !is_digit(s[p + 1]) || !is_digit(s[p + 2]))
        return false;
    unsigned m = (unsigned)(s[p + 1] - '0') * 10 + (unsigned)(s[p + 2] - '0');
    p += 3;
    if ((p < len && is_digit(s[p])) || m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *out = h * 60 + m;
    *i = p;
    return true;
}

static void skip_blanks(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

/*
 * One value of `hours` ("09:00-12:30, 13:30-18:00", or off) added to each day
 * of `days`. Errors point at the interval at fault.
 */
static bt_err add_hours_value(struct loader *ld, const struct ynode *v, const char *field,
                              unsigned days, struct weekly_hours *hours)
{
    if (config__absent(v))
        return BT_OK; /* as off */
    if (v->kind != YNODE_SCALAR)
        return config__fail_at(ld, v, "%s: expected hours such as %s, or off, not %s", field,
                               ROUTING_HOURS_EXAMPLE, config__kind_name(v));
    const char *s = v->text;
    size_t len = v->len, i = 0;
    if (word_is(s, len, "off"))
        return BT_OK;
    for (;;) {
        skip_blanks(s, len, &i);
        size_t at = i;
        unsigned start = 0, end = 0;
        bool ok = parse_time(s, len, &i, &start);
        if (ok) {
            skip_blanks(s, len, &i);
            ok = i < len && s[i] == '-';
        }
        if (ok) {
            i++;
            skip_blanks(s, len, &i);
            ok = parse_time(s, len, &i, &end);
        }
        if (ok) {
            skip_blanks(s, len, &i);
            ok = i == len || s[i] == ',';
        }
        if (!ok)
            return fail_inside(ld, v, at,
                               "%s: expected hours such as %s (HH:MM-HH:MM, 24:00 as an end), "
                               "or off",
                               field, ROUTING_HOURS_EXAMPLE);
        if (start == WORKHOURS_MINUTES_PER_DAY)
            return fail_inside(ld, v, at, "%s: 24:00 can only end an interval", field);
        for (unsigned d = 0; d < WEEKDAY_COUNT; d++) {
            struct bt_error e = BT_ERROR_INIT;
            if ((days & (1u << d)) && workhours_add_interval(hours, d, start, end, &e))
                return fail_inside(ld, v, at, "%s: %s", field, e.message);
        }
        if (i == len)
            return BT_OK;
        i++; /* the comma */
    }
}

bt_err config__get_hours(struct loader *ld, const struct ynode *n, const char *path,
                         struct config_schedule *s)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_MAP)
        return config__fail_at(ld, n,
                               "%s: expected a mapping of days to hours such as "
                               "{mon-fri: \"09:00-17:30\"}, not %s",
                               path, config__kind_name(n));
    if (n->count == 0)
        return config__fail_at(ld, n,
                               "%s: no days given; write the days worked (mon-fri: "
                               "\"09:00-17:30\"), or leave hours out to work around the clock",
                               path);
    struct weekly_hours hours = WEEKLY_HOURS_INIT;
    const struct ynode *day_at[WEEKDAY_COUNT] = {NULL};
    for (const struct ynode *k = n->first; k && k->next; k = k->next->next) {
        char key[CONFIG_EXCERPT_MAX + 4], field[ROUTING_PATH_MAX + CONFIG_EXCERPT_MAX];
        config__excerpt(k->text, k->len, key);
        snprintf(field, sizeof(field), "%s.%s", path, key);
        unsigned days = parse_day_key(k->text, k->len);
        if (!days)
            return config__fail_at(ld, k,
                                   "%s: '%s' is not a day; expected mon, tue, wed, thu, fri, sat, "
                                   "sun, a range such as mon-fri, daily, weekdays or weekends",
                                   path, key);
        for (unsigned d = 0; d < WEEKDAY_COUNT; d++) {
            if (!(days & (1u << d)) || !day_at[d])
                continue;
            char first[CONFIG_EXCERPT_MAX + 4];
            return config__fail_at(
                ld, k, "%s: %s is given twice (first by '%s' at line %d)", path, day_title[d],
                config__excerpt(day_at[d]->text, day_at[d]->len, first), day_at[d]->line);
        }
        for (unsigned d = 0; d < WEEKDAY_COUNT; d++)
            if (days & (1u << d))
                day_at[d] = k;
        bt_err rc = add_hours_value(ld, k->next, field, days, &hours);
        if (rc)
            return rc;
    }
    s->hours = hours;
    s->has_hours = true;
    return BT_OK;
}

/* ---- holidays ---- */

/* YYYY-MM-DD naming a real calendar date. */
static bool parse_date(const char *s, size_t len, struct holiday_date *out)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (i != 4 && i != 7 && !is_digit(s[i]))
            return false;
    int year = 0;
    for (size_t i = 0; i < 4; i++)
        year = year * 10 + (s[i] - '0');
    out->year = year;
    out->month = (uint8_t)((s[5] - '0') * 10 + (s[6] - '0'));
    out->day = (uint8_t)((s[8] - '0') * 10 + (s[9] - '0'));
    struct holidays one = {out, 1};
    return workhours_holidays_check(&one, NULL) == BT_OK;
}

static int date_cmp(const void *a, const void *b)
{
    const struct holiday_date *x = a, *y = b;
    if (x->year != y->year)
        return x->year < y->year ? -1 : 1;
    if (x->month != y->month)
        return x->month < y->month ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

bt_err config__get_holidays(struct loader *ld, const struct ynode *n, const char *path,
                            struct config_schedule *s)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "%s: expected a list of dates such as [\"2026-12-24\", "
                               "\"2026-12-25\"], not %s",
                               path, config__kind_name(n));
    if (n->count > ROUTING_MAX_HOLIDAYS)
        return config__fail_at(ld, n, "%s: too many dates (at most %d)", path,
                               ROUTING_MAX_HOLIDAYS);
    struct holiday_date *dates = arena_alloc(ld->arena, (n->count + 1) * sizeof(*dates));
    if (!dates)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (config__absent(e) || e->kind != YNODE_SCALAR)
            return config__fail_at(ld, e, "%s[%zu]: expected a date such as 2026-12-24, not %s",
                                   path, i, config__absent(e) ? "null" : config__kind_name(e));
        if (!parse_date(e->text, e->len, &dates[i]))
            return config__fail_at(ld, e,
                                   "%s[%zu]: '%s' is not a date; expected YYYY-MM-DD such as "
                                   "2026-12-24",
                                   path, i, config__excerpt(e->text, e->len, buf));
    }
    size_t count = 0;
    if (n->count > 0) {
        qsort(dates, n->count, sizeof(*dates), date_cmp);
        count = 1;
        for (size_t k = 1; k < n->count; k++)
            if (date_cmp(&dates[k], &dates[count - 1]) != 0)
                dates[count++] = dates[k];
    }
    struct holidays h = {dates, count};
    struct bt_error e = BT_ERROR_INIT;
    if (workhours_holidays_check(&h, &e))
        return config__fail_at(ld, n, "%s: %s", path, e.message);
    s->holidays = h;
    s->has_holidays = true;
    return BT_OK;
}

/* ---- territories ---- */

static const char *const regions[] = {"NA", "LATAM", "APAC", "EMEA"};

/* The region s[0..len) names, ignoring case, or NULL. */
static const char *region_of(const char *s, size_t len)
{
    for (size_t r = 0; r < sizeof(regions) / sizeof(regions[0]); r++)
        if (word_is(s, len, regions[r]))
            return regions[r];
    return NULL;
}

bt_err config__get_territories(struct loader *ld, const struct ynode *n, const char *path,
                               const char ***out, size_t *n_out)
{
    if (config__absent(n))
        return BT_OK;
    if (n->kind != YNODE_SEQ)
        return config__fail_at(ld, n,
                               "%s: expected a list of countries and regions such as "
                               "[DE, AT, EMEA], not %s",
                               path, config__kind_name(n));
    if (n->count > ROUTING_MAX_TERRITORIES)
        return config__fail_at(ld, n, "%s: too many entries (at most %d)", path,
                               ROUTING_MAX_TERRITORIES);
    const char **items = arena_alloc(ld->arena, (n->count + 1) * sizeof(*items));
    if (!items)
        return config__fail_too_large(ld, n);
    size_t i = 0, count = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++) {
        char buf[CONFIG_EXCERPT_MAX + 4];
        if (config__absent(e) || e->kind != YNODE_SCALAR)
            return config__fail_at(ld, e, "%s[%zu]: expected a country or a region, not %s", path,
                                   i, config__absent(e) ? "null" : config__kind_name(e));
        const char *t = region_of(e->text, e->len);
        if (!t && !memchr(e->text, '\0', e->len)) {
            t = normalize_country(e->text);
            /* Namibia's code is the North America region's name: refused
             * rather than silently read as the region. */
            if (t && strcmp(t, "NA") == 0)
                return config__fail_at(ld, e,
                                       "%s[%zu]: '%s' is Namibia, whose code NA names the North "
                                       "America region here; Namibia cannot be a territory of "
                                       "its own (EMEA covers it)",
                                       path, i, config__excerpt(e->text, e->len, buf));
        }
        if (!t)
            return config__fail_at(ld, e,
                                   "%s[%zu]: '%s' is neither a country (DE, DEU, Germany) nor a "
                                   "region (NA, LATAM, APAC, EMEA)",
                                   path, i, config__excerpt(e->text, e->len, buf));
        bool seen = false;
        for (size_t k = 0; k < count && !seen; k++)
            seen = strcmp(items[k], t) == 0;
        if (!seen)
            items[count++] = t;
    }
    *out = items;
    *n_out = count;
    return BT_OK;
}

/* ---- routing.reps ---- */

/* Each rep with its team's time zone, hours and holidays where it gives none. */
static bt_err build_reps(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    struct routing_rep *reps = arena_alloc(ld->arena, (cfg->n_reps + 1) * sizeof(*reps));
    if (!reps)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    const struct tz_table *utc = NULL;
    for (size_t i = 0; i < cfg->n_reps; i++) {
        struct config_rep *r = &cfg->reps[i];
        const struct config_schedule *own = &ld->rep_schedule[i];
        size_t ti = ld->rep_team[i];
        const struct config_schedule *team = ti != SIZE_MAX ? &ld->team_schedule[ti] : NULL;
        struct routing_rep *rr = &reps[i];
        rr->id = r->id;
        rr->team = r->team;
        rr->active = r->active;
        if (own->tz) {
            rr->tz = own->tz;
        } else if (team && team->tz) {
            rr->tz = team->tz;
            r->timezone = cfg->teams[ti].timezone;
        } else {
            bt_err rc = utc ? BT_OK : utc_table(ld, &utc);
            if (rc)
                return rc;
            rr->tz = utc;
            r->timezone = "UTC";
        }
        const struct config_schedule *hours = own->has_hours            ? own
                                              : team && team->has_hours ? team
                                                                        : NULL;
        rr->has_hours = hours != NULL;
        rr->hours = hours ? hours->hours : (struct weekly_hours)WEEKLY_HOURS_INIT;
        const struct config_schedule *days = own->has_holidays            ? own
                                             : team && team->has_holidays ? team
                                                                          : NULL;
        if (days)
            rr->holidays = days->holidays;
        rr->languages = r->languages;
        rr->n_languages = r->n_languages;
        rr->skills = r->skills;
        rr->n_skills = r->n_skills;
        rr->territories = r->territories;
        rr->n_territories = r->n_territories;
        rr->weight = r->weight;
        rr->capacity = r->capacity;
        rr->daily_cap = r->daily_cap;
        rr->weekly_cap = r->weekly_cap;
        r->routing = rr;
    }
    cfg->routing.reps = reps;
    cfg->routing.n_reps = cfg->n_reps;
    uint32_t *order = arena_alloc(ld->arena, (cfg->n_reps ? cfg->n_reps : 1) * sizeof(*order));
    if (!order)
        return config__fail_pos(ld, 1, 1, "the configuration is too large");
    routing_sort_reps(reps, cfg->n_reps, order);
    cfg->routing.reps_by_id = order;
    return BT_OK;
}

/* ---- pools ---- */

/* What loading pools needs across pools. */
struct pool_loader {
    struct loader *ld;
    struct routing_pool *pools;
    const struct ynode **id_at;
    size_t *stamp; /* per rep: the pool (index + 1) that last took it as a member */
};

static bt_err pool_members(struct pool_loader *pl, const struct ynode *list, const char *path,
                           size_t stamp)
{
    struct loader *ld = pl->ld;
    const struct config *cfg = ld->cfg;
    char field[ROUTING_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    snprintf(field, sizeof(field), "%s.members", path);
    bt_err rc = config__check_list(ld, list, field, STRATEGY_MEMBERS_MAX, "members (rep ids)");
    if (rc)
        return rc;
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++) {
        if (config__absent(e) || e->kind != YNODE_SCALAR)
            return config__fail_at(ld, e, "%s[%zu]: expected a rep id, not %s", field, i,
                                   config__absent(e) ? "null" : config__kind_name(e));
        const struct config_rep *r =
            memchr(e->text, '\0', e->len) ? NULL : config_find_rep(cfg, e->text);
        if (!r)
            return config__fail_at(ld, e, "%s[%zu]: no rep has the id '%s'", field, i,
                                   config__excerpt(e->text, e->len, buf));
        size_t index = (size_t)(r - cfg->reps);
        if (pl->stamp[index] == stamp)
            return config__fail_at(ld, e, "%s[%zu]: '%s' is listed twice", field, i,
                                   config__excerpt(e->text, e->len, buf));
        pl->stamp[index] = stamp;
    }
    return BT_OK;
}

static bt_err pool_teams(struct pool_loader *pl, const struct ynode *list, const char *path,
                         size_t stamp)
{
    struct loader *ld = pl->ld;
    const struct config *cfg = ld->cfg;
    char field[ROUTING_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    snprintf(field, sizeof(field), "%s.teams", path);
    bt_err rc = config__check_list(ld, list, field, ROUTING_MAX_POOL_TEAMS, "teams (team ids)");
    if (rc)
        return rc;
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++) {
        if (config__absent(e) || e->kind != YNODE_SCALAR)
            return config__fail_at(ld, e, "%s[%zu]: expected a team id, not %s", field, i,
                                   config__absent(e) ? "null" : config__kind_name(e));
        size_t team = 0;
        while (team < cfg->n_teams && !config__scalar_is(e, cfg->teams[team].id))
            team++;
        if (team == cfg->n_teams)
            return config__fail_at(ld, e, "%s[%zu]: no team has the id '%s'", field, i,
                                   config__excerpt(e->text, e->len, buf));
        for (const struct ynode *p = list->first; p != e; p = p->next)
            if (config__scalar_is(p, cfg->teams[team].id))
                return config__fail_at(ld, e, "%s[%zu]: '%s' is listed twice", field, i,
                                       cfg->teams[team].id);
        for (size_t r = 0; r < cfg->n_reps; r++)
            if (ld->rep_team[r] == team)
                pl->stamp[r] = stamp;
    }
    return BT_OK;
}

static bt_err load_pool(struct pool_loader *pl, const struct ynode *e, size_t index)
{
    static const char *const keys[] = {"id",        "name",      "strategy",     "window",
                                       "absence",   "timezone",  "out_of_hours", "match_territory",
                                       "members",   "teams",     "offer",        "offer_to",
                                       "tolerance", "objective", "segments"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct loader *ld = pl->ld;
    const struct config *cfg = ld->cfg;
    struct routing_pool *p = &pl->pools[index];
    char path[32], where[40], f[ROUTING_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "pools[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with id, strategy, members, ...")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_id(ld, e, v[0], path, &p->id)))
        return rc;
    pl->id_at[index] = v[0];
    for (size_t k = 0; k < index; k++)
        if (strcmp(pl->pools[k].id, p->id) == 0)
            return config__fail_at(ld, v[0], "duplicate pool id '%s' (first defined at line %d)",
                                   config__excerpt(p->id, strlen(p->id), buf), pl->id_at[k]->line);
    if ((rc = config__get_string(ld, v[1], FIELD("name"), CONFIG_MAX_STRING, &p->name)))
        return rc;
    if (!p->name)
        p->name = p->id;

    if ((rc = config__require(ld, e, v[2], path, "strategy")))
        return rc;
    if (v[2]->kind != YNODE_SCALAR || !strategy_parse(v[2]->text, &p->strategy) ||
        p->strategy == STRATEGY_UNSET || strlen(v[2]->text) != v[2]->len)
        return config__fail_at(ld, v[2],
                               "%s: expected round_robin, weighted, load_balanced, fair_share or "
                               "best_match",
                               FIELD("strategy"));
    bool best = p->strategy == STRATEGY_BEST_MATCH;
    bool fair = p->strategy == STRATEGY_FAIR_SHARE || best;
    p->window = POOL_WINDOW_WEEK;
    p->absence = ABSENCE_NO_CATCH_UP;
    if (!config__absent(v[3])) {
        if (!fair)
            return config__fail_at(
                ld, v[3],
                "%s: only fair_share and best_match pools have a window (this is "
                "%s)",
                FIELD("window"), strategy_name(p->strategy));
        if (v[3]->kind != YNODE_SCALAR || strlen(v[3]->text) != v[3]->len ||
            !pool_window_parse(v[3]->text, &p->window))
            return config__fail_at(ld, v[3], "%s: expected day, week or month", FIELD("window"));
    }
    if (!config__absent(v[4])) {
        if (!fair)
            return config__fail_at(
                ld, v[4],
                "%s: only fair_share and best_match pools have an absence policy "
                "(this is %s)",
                FIELD("absence"), strategy_name(p->strategy));
        if (v[4]->kind != YNODE_SCALAR || strlen(v[4]->text) != v[4]->len ||
            !absence_policy_parse(v[4]->text, &p->absence))
            return config__fail_at(ld, v[4], "%s: expected catch_up or no_catch_up",
                                   FIELD("absence"));
    }
    static const char *const default_segments[] = {"industry", "employees_band", "country"};
    p->tolerance = 0.2;
    p->objective = POOL_OBJECTIVE_CONVERSION;
    p->segments = default_segments;
    p->n_segments = 3;
    for (int k = 12; k <= 14; k++)
        if (!best && !config__absent(v[k]))
            return config__fail_at(ld, v[k], "%s: only best_match pools have %s (this is %s)",
                                   FIELD(keys[k]), keys[k], strategy_name(p->strategy));
    if (!config__absent(v[12])) {
        double t = 0;
        if (v[12]->kind != YNODE_SCALAR ||
            !config__parse_number(v[12]->text, v[12]->len, false, &t) || t > 10)
            return config__fail_at(ld, v[12], "%s: expected a number from 0 to 10 (0.2 is 20 %%)",
                                   FIELD("tolerance"));
        p->tolerance = t;
    }
    if (!config__absent(v[13])) {
        if (config__scalar_is(v[13], "conversion"))
            p->objective = POOL_OBJECTIVE_CONVERSION;
        else if (config__scalar_is(v[13], "value"))
            p->objective = POOL_OBJECTIVE_VALUE;
        else
            return config__fail_at(ld, v[13], "%s: expected conversion or value",
                                   FIELD("objective"));
    }
    if (!config__absent(v[14])) {
        const char **segs = NULL;
        size_t n_segs = 0;
        if ((rc = config__get_string_list(ld, v[14], FIELD("segments"), ROUTING_SEGMENTS_MAX,
                                          LIST_TEXT, &segs, &n_segs)))
            return rc;
        for (size_t k = 0; k < n_segs; k++)
            if (!skill_segment_path_valid(segs[k]))
                return config__fail_at(ld, v[14],
                                       "%s: '%s' is not a lead attribute (industry, "
                                       "employees_band, country, ...) or fields.NAME",
                                       FIELD("segments"),
                                       config__excerpt(segs[k], strlen(segs[k]), buf));
        if (n_segs == 0)
            return config__fail_at(ld, v[14], "%s: give at least one segment field",
                                   FIELD("segments"));
        p->segments = segs;
        p->n_segments = n_segs;
    }
    const char *zone = NULL;
    if ((rc = config__get_zone(ld, v[5], FIELD("timezone"), &zone, &p->tz)) ||
        (!p->tz && (rc = utc_table(ld, &p->tz))) ||
        (rc = config__get_bool(ld, v[6], FIELD("out_of_hours"), &p->out_of_hours)) ||
        (rc = config__get_bool(ld, v[7], FIELD("match_territory"), &p->match_territory)))
        return rc;

    p->offer = POOL_OFFER_DIRECT;
    p->offer_to = 1;
    if (!config__absent(v[10]) &&
        (v[10]->kind != YNODE_SCALAR || strlen(v[10]->text) != v[10]->len ||
         !pool_offer_parse(v[10]->text, &p->offer)))
        return config__fail_at(ld, v[10], "%s: expected direct or broadcast", FIELD("offer"));
    if (p->offer == POOL_OFFER_BROADCAST) {
        p->offer_to = ROUTING_OFFER_DEFAULT;
        if ((rc = config__get_uint(ld, v[11], FIELD("offer_to"), 2, ROUTING_OFFER_MAX,
                                   &p->offer_to)))
            return rc;
    } else if (!config__absent(v[11])) {
        return config__fail_at(ld, v[11],
                               "%s: only broadcast pools offer a lead to several reps at once; "
                               "add `offer: broadcast` or remove it",
                               FIELD("offer_to"));
    }

    bool has_members = !config__absent(v[8]), has_teams = !config__absent(v[9]);
    if (!has_members && !has_teams)
        return config__fail_at(
            ld, e, "%s: no members; give members (rep ids), teams (team ids) or both", path);
    size_t stamp = index + 1;
    if ((has_members && (rc = pool_members(pl, v[8], path, stamp))) ||
        (has_teams && (rc = pool_teams(pl, v[9], path, stamp))))
        return rc;
    size_t count = 0;
    for (size_t r = 0; r < cfg->n_reps; r++)
        count += pl->stamp[r] == stamp;
    const struct ynode *list = has_teams ? v[9] : v[8];
    if (count == 0)
        return config__fail_at(ld, list, "%s: no members: %s", path,
                               has_teams ? "the teams listed have no reps" : "the list is empty");
    if (count > STRATEGY_MEMBERS_MAX)
        return config__fail_at(ld, list, "%s: too many members (%zu; at most %d)", path, count,
                               STRATEGY_MEMBERS_MAX);
#undef FIELD
    size_t *members = arena_alloc(ld->arena, count * sizeof(*members));
    if (!members)
        return config__fail_too_large(ld, e);
    count = 0;
    for (size_t r = 0; r < cfg->n_reps; r++)
        if (pl->stamp[r] == stamp)
            members[count++] = r;
    p->members = members;
    p->n_members = count;
    return BT_OK;
}

static bt_err load_pools(struct loader *ld, const struct ynode *n)
{
    struct config *cfg = ld->cfg;
    if (config__absent(n))
        return BT_OK;
    bt_err rc = config__check_list(ld, n, "pools", ROUTING_MAX_POOLS, "pools");
    if (rc)
        return rc;
    struct pool_loader pl = {
        .ld = ld,
        .pools = arena_alloc(ld->arena, (n->count + 1) * sizeof(*pl.pools)),
        .id_at = arena_alloc(&ld->scratch, (n->count + 1) * sizeof(*pl.id_at)),
        .stamp = arena_alloc(&ld->scratch, (cfg->n_reps + 1) * sizeof(*pl.stamp)),
    };
    if (!pl.pools || !pl.id_at || !pl.stamp)
        return config__fail_too_large(ld, n);
    size_t i = 0;
    for (const struct ynode *e = n->first; e; e = e->next, i++)
        if ((rc = load_pool(&pl, e, i)))
            return rc;
    cfg->routing.pools = pl.pools;
    cfg->routing.n_pools = n->count;
    return BT_OK;
}

/* ---- routing.rules ---- */

static bt_err parse_target(struct loader *ld, const struct ynode *v, const char *field,
                           struct routing_rule *r)
{
    const struct config *cfg = ld->cfg;
    const struct routing_config *rc = &cfg->routing;
    char buf[CONFIG_EXCERPT_MAX + 4];
    if (v->kind != YNODE_SCALAR || memchr(v->text, '\0', v->len))
        return config__fail_at(
            ld, v, "%s: expected pool:ID, rep:ID, account_owner, lead_owner or hold", field);
    const char *s = v->text;
    if (strcmp(s, "hold") == 0) {
        r->target = ROUTE_TO_HOLD;
    } else if (strcmp(s, "account_owner") == 0) {
        r->target = ROUTE_TO_ACCOUNT_OWNER;
    } else if (strcmp(s, "lead_owner") == 0) {
        r->target = ROUTE_TO_LEAD_OWNER;
    } else if (strncmp(s, "pool:", 5) == 0) {
        const char *id = s + 5;
        size_t p = 0;
        while (p < rc->n_pools && strcmp(rc->pools[p].id, id) != 0)
            p++;
        if (p == rc->n_pools)
            return config__fail_at(ld, v, "%s: no pool has the id '%s'; define it under pools",
                                   field, config__excerpt(id, strlen(id), buf));
        r->target = ROUTE_TO_POOL;
        r->index = p;
    } else if (strncmp(s, "rep:", 4) == 0) {
        const char *id = s + 4;
        const struct config_rep *rep = config_find_rep(cfg, id);
        if (!rep)
            return config__fail_at(ld, v, "%s: no rep has the id '%s'", field,
                                   config__excerpt(id, strlen(id), buf));
        r->target = ROUTE_TO_REP;
        r->index = (size_t)(rep - cfg->reps);
    } else {
        return config__fail_at(ld, v,
                               "%s: '%s' is not a target; expected pool:ID, rep:ID, "
                               "account_owner, lead_owner or hold",
                               field, config__excerpt(v->text, v->len, buf));
    }
    return BT_OK;
}

/* A rule that always decides: nothing after it is ever tried. */
static bool rule_is_final(const struct routing_rule *r)
{
    return !r->when && (r->target == ROUTE_TO_HOLD || r->fallback == ROUTE_FALLBACK_HOLD);
}

struct rule_loader {
    struct loader *ld;
    struct routing_rule *rules;
    const struct ynode **name_at; /* the name, or the rule when it has none */
};

static bt_err load_rule(struct rule_loader *rl, const struct ynode *e, size_t index, bool last)
{
    static const char *const keys[] = {"name", "when", "to", "fallback", "languages", "skills"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct loader *ld = rl->ld;
    struct config *cfg = ld->cfg;
    struct routing_rule *r = &rl->rules[index];
    char path[40], where[48], f[ROUTING_PATH_MAX], buf[CONFIG_EXCERPT_MAX + 4];
    bt_err rc;
    snprintf(path, sizeof(path), "routing.rules[%zu]", index);
    snprintf(where, sizeof(where), "in %s", path);
#define FIELD(name) (snprintf(f, sizeof(f), "%s.%s", path, name), f)
    if ((rc = config__expect_map(ld, e, path, "with when, to and fallback")) ||
        (rc = config__map_fields(ld, e, where, keys, CONFIG_N_KEYS(keys), v)) ||
        (rc = config__get_string(ld, v[0], FIELD("name"), ROUTING_MAX_NAME, &r->name)))
        return rc;
    if (!r->name && !(r->name = arena_printf(ld->arena, "rule-%zu", index + 1)))
        return config__fail_too_large(ld, e);
    rl->name_at[index] = v[0] && !config__absent(v[0]) ? v[0] : e;
    for (size_t k = 0; k < index; k++)
        if (strcmp(rl->rules[k].name, r->name) == 0)
            return config__fail_at(ld, rl->name_at[index],
                                   "%s: duplicate rule name '%s' (first defined at line %d)",
                                   FIELD("name"), config__excerpt(r->name, strlen(r->name), buf),
                                   rl->name_at[k]->line);
    if (index > 0 && rule_is_final(&rl->rules[index - 1]))
        return config__fail_at(ld, e,
                               "%s: never reached: rules[%zu] before it has no `when` and always "
                               "decides (to hold, or a fallback of hold); give that rule a `when` "
                               "or move it to the end",
                               path, index - 1);

    if (!config__absent(v[1])) {
        struct rule *when = NULL;
        if ((rc = config__compile_when(ld, cfg->scoring->lead_syms, v[1], FIELD("when"), &when)))
            return rc;
        r->when = when;
    }
    /* Counted from here on, so that config__routing_release() frees r->when. */
    cfg->routing.n_rules = index + 1;
    if (last && r->when)
        return config__fail_at(ld, v[1],
                               "%s: the last routing rule must have no `when`: it is the default "
                               "that catches every lead",
                               FIELD("when"));

    if ((rc = config__require(ld, e, v[2], path, "to")) ||
        (rc = parse_target(ld, v[2], FIELD("to"), r)))
        return rc;
    bool hold = r->target == ROUTE_TO_HOLD;
    bool owner = r->target == ROUTE_TO_ACCOUNT_OWNER || r->target == ROUTE_TO_LEAD_OWNER;
    r->fallback = owner ? ROUTE_FALLBACK_NEXT_RULE : ROUTE_FALLBACK_HOLD;
    for (size_t k = 3; k <= 5; k++)
        if (hold && !config__absent(v[k]))
            return config__fail_at(ld, v[k],
                                   "%s: means nothing with `to: hold` (no rep is chosen); remove "
                                   "it",
                                   FIELD(keys[k]));
    if (!config__absent(v[3])) {
        if (config__scalar_is(v[3], "next_rule"))
            r->fallback = ROUTE_FALLBACK_NEXT_RULE;
        else if (config__scalar_is(v[3], "hold"))
            r->fallback = ROUTE_FALLBACK_HOLD;
        else
            return config__fail_at(ld, v[3], "%s: expected next_rule or hold", FIELD("fallback"));
    }
    const char **languages = NULL, **skills = NULL;
    if ((rc = config__get_tags(ld, v[4], FIELD("languages"), ROUTING_MAX_TAGS, &languages,
                               &r->n_languages)) ||
        (rc = config__get_tags(ld, v[5], FIELD("skills"), ROUTING_MAX_TAGS, &skills, &r->n_skills)))
        return rc;
#undef FIELD
    r->languages = languages;
    r->skills = skills;
    return BT_OK;
}

static bt_err load_rules(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"rules"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    struct config *cfg = ld->cfg;
    bt_err rc;
    if (config__absent(n))
        return BT_OK; /* routing is off */
    if ((rc = config__expect_map(ld, n, "routing", "with rules")) ||
        (rc = config__map_fields(ld, n, "in routing", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    const struct ynode *list = v[0];
    if (config__absent(list) || (list->kind == YNODE_SEQ && list->count == 0))
        return config__fail_at(ld, list ? list : n,
                               "routing.rules: at least one rule is required (leave the routing "
                               "section out to turn routing off)");
    if ((rc = config__check_list(ld, list, "routing.rules", ROUTING_MAX_RULES, "routing rules")))
        return rc;
    struct rule_loader rl = {
        .ld = ld,
        .rules = arena_alloc(ld->arena, list->count * sizeof(*rl.rules)),
        .name_at = arena_alloc(&ld->scratch, list->count * sizeof(*rl.name_at)),
    };
    if (!rl.rules || !rl.name_at)
        return config__fail_too_large(ld, list);
    cfg->routing.rules = rl.rules;
    size_t i = 0;
    for (const struct ynode *e = list->first; e; e = e->next, i++)
        if ((rc = load_rule(&rl, e, i, e->next == NULL)))
            return rc;
    return BT_OK;
}

/* ---- accounts ---- */

static bt_err load_accounts(struct loader *ld, const struct ynode *n)
{
    static const char *const keys[] = {"name_threshold"};
    const struct ynode *v[CONFIG_N_KEYS(keys)];
    bt_err rc;
    if (config__absent(n))
        return BT_OK;
    if ((rc = config__expect_map(ld, n, "accounts", "with name_threshold")) ||
        (rc = config__map_fields(ld, n, "in accounts", keys, CONFIG_N_KEYS(keys), v)))
        return rc;
    if (config__absent(v[0]))
        return BT_OK;
    double t = 0;
    if (v[0]->kind != YNODE_SCALAR || !config__parse_number(v[0]->text, v[0]->len, false, &t) ||
        t <= 0 || t > 1)
        return config__fail_at(ld, v[0],
                               "accounts.name_threshold: expected a number greater than 0 and at "
                               "most 1, such as 0.9");
    ld->cfg->account_name_threshold = t;
    return BT_OK;
}

/* ---- the whole ---- */

bt_err config__load_routing(struct loader *ld, const struct ynode *pools,
                            const struct ynode *routing, const struct ynode *accounts)
{
    bt_err rc;
    if ((rc = build_reps(ld)) || (rc = load_pools(ld, pools)) || (rc = load_rules(ld, routing)) ||
        (rc = load_accounts(ld, accounts)))
        return rc;
    return BT_OK;
}

void config__routing_release(struct config *cfg, struct config_zones *zones)
{
    struct routing_config *rc = &cfg->routing;
    for (size_t i = 0; i < rc->n_rules; i++)
        rule_free((struct rule *)rc->rules[i].when);
    rc->rules = NULL;
    rc->n_rules = 0;
    for (size_t i = 0; i < zones->count; i++)
        tz_table_free(zones->tables[i]);
    free(zones->tables);
    *zones = (struct config_zones){NULL, 0, 0};
}
