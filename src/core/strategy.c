/*
 * strategy.c - the four pool strategies (see strategy.h for what they promise).
 *
 * One decision is: check the input, match the members to the state's entries
 * by id, build the new entries in config order (carrying over what the same
 * strategy wrote, starting afresh otherwise), let the strategy choose, and
 * write the notes. Everything is integer arithmetic on purpose: a pool that
 * runs for months must split 3:2:1 exactly, and two runs of the same input
 * must agree to the last bit; doubles appear only in the notes, for people.
 *
 * Ids are matched through a small open-addressing table of the members' ids
 * (which also finds repeated ids); in the common case the state's entries are
 * in the members' order already and each is checked against its neighbour
 * without hashing. Scratch memory comes from the caller's arena.
 */
#include "core/strategy.h"

#include <math.h>
#include <string.h>

static const char *const strategy_names[] = {
    [STRATEGY_UNSET] = "unset",           [STRATEGY_ROUND_ROBIN] = "round_robin",
    [STRATEGY_WEIGHTED] = "weighted",     [STRATEGY_LOAD_BALANCED] = "load_balanced",
    [STRATEGY_FAIR_SHARE] = "fair_share", [STRATEGY_BEST_MATCH] = "best_match",
};

static const char *const verdict_names[] = {
    [STRATEGY_CHOSEN] = "chosen",
    [STRATEGY_INELIGIBLE] = "ineligible",
    [STRATEGY_LATER_IN_TURN] = "later_in_turn",
    [STRATEGY_HIGHER_POINTER] = "higher_pointer",
    [STRATEGY_HIGHER_LOAD] = "higher_load",
    [STRATEGY_SMALLER_DEFICIT] = "smaller_deficit",
    [STRATEGY_TIE_MORE_RECENT] = "tie_more_recent",
    [STRATEGY_TIE_LATER] = "tie_later",
    [STRATEGY_LOWER_EXPECTED] = "lower_expected",
    [STRATEGY_AT_BOUND] = "at_bound",
};

static const char *const best_reason_names[] = {
    [BEST_NONE] = "",
    [BEST_HIGHEST] = "highest_expected",
    [BEST_NEXT_BEST] = "next_best",
    [BEST_BEHIND_SHARE] = "behind_share",
    [BEST_ALL_AT_BOUND] = "all_at_bound",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *strategy_name(enum strategy_kind kind)
{
    if ((unsigned)kind < COUNT(strategy_names))
        return strategy_names[kind];
    return "unknown";
}

bool strategy_parse(const char *name, enum strategy_kind *out)
{
    if (!name)
        return false;
    for (size_t k = STRATEGY_ROUND_ROBIN; k < COUNT(strategy_names); k++) {
        if (strcmp(name, strategy_names[k]) == 0) {
            *out = (enum strategy_kind)k;
            return true;
        }
    }
    return false;
}

const char *absence_policy_name(enum absence_policy policy)
{
    switch (policy) {
    case ABSENCE_CATCH_UP:
        return "catch_up";
    case ABSENCE_NO_CATCH_UP:
        return "no_catch_up";
    }
    return "unknown";
}

bool absence_policy_parse(const char *name, enum absence_policy *out)
{
    if (!name)
        return false;
    if (strcmp(name, "catch_up") == 0)
        *out = ABSENCE_CATCH_UP;
    else if (strcmp(name, "no_catch_up") == 0)
        *out = ABSENCE_NO_CATCH_UP;
    else
        return false;
    return true;
}

const char *strategy_verdict_name(enum strategy_verdict verdict)
{
    if ((unsigned)verdict < COUNT(verdict_names))
        return verdict_names[verdict];
    return "unknown";
}

const char *best_match_reason_name(enum best_match_reason r)
{
    if ((unsigned)r < COUNT(best_reason_names))
        return best_reason_names[r];
    return "unknown";
}

/* --- ids ------------------------------------------------------------------ */

/* Length of a valid id (1..STRATEGY_REP_ID_MAX), or 0. */
static size_t id_length(const char *id)
{
    if (!id)
        return 0;
    size_t len = strnlen(id, STRATEGY_REP_ID_MAX + 1);
    return len <= STRATEGY_REP_ID_MAX ? len : 0;
}

/* Eight bytes at a time, the tail read as fixed-size (overlapping) words:
 * ids are short, and this runs for every member of every decision. The hash
 * only finds ids within one call; nothing depends on its value. */
static uint32_t id_hash(const char *s, size_t len)
{
    uint64_t h = (uint64_t)len * UINT64_C(0x9E3779B97F4A7C15), w = 0;
    if (len >= 8) {
        const char *end = s + len - 8;
        for (; s < end; s += 8) {
            memcpy(&w, s, 8);
            h = (h ^ w) * UINT64_C(0xBF58476D1CE4E5B9);
            h ^= h >> 31;
        }
        memcpy(&w, end, 8);
    } else if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        w = (uint64_t)lo << 32 | hi;
    } else if (len > 0) {
        w = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[len / 2] << 8 |
            (unsigned char)s[len - 1];
    }
    h = (h ^ w) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t)(h ^ (h >> 32));
}

/* The members' ids, hashed: slots hold member index + 1, 0 when empty. */
struct id_table {
    uint16_t *slots;
    uint32_t *hash; /* per member */
    size_t mask;
};

/* The member whose id is `id`, or -1. */
static int table_find(const struct id_table *t, const struct pool_member *m, const char *id,
                      uint32_t h)
{
    for (size_t s = h & t->mask;; s = (s + 1) & t->mask) {
        int k = (int)t->slots[s] - 1;
        if (k < 0)
            return -1;
        if (t->hash[k] == h && strcmp(m[k].rep_id, id) == 0)
            return k;
    }
}

/* --- one decision ----------------------------------------------------------- */

struct decide {
    const struct strategy_input *in;
    const struct pool_member *m;
    size_t n;
    const struct pool_state *st;
    bool keep;       /* the state's strategy fields carry over */
    bool new_window; /* fair_share: credits and counts start at 0 */
    struct id_table table;
    bool table_built;   /* every member is in table (see match) */
    int32_t *entry_of;  /* per member: its entry in st, or -1 */
    int32_t *member_of; /* per entry of st: its member, or -1 */
    struct pool_state_entry *after;
    struct strategy_note *notes;
};

/* Checks the members; hashes their ids into d->table.hash unless the caller
 * vouches that they are distinct (then the table is built only if an entry
 * of the state is not where it was: see match()). */
static bt_err check_members(struct decide *d, struct bt_error *err)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct pool_member *p = &d->m[i];
        size_t len = id_length(p->rep_id);
        if (!len)
            return bt_fail(err, BT_EINVAL, "rep_id",
                           "pool member %zu: rep id must be 1 to %d bytes", i + 1,
                           STRATEGY_REP_ID_MAX);
        if (!d->in->members_distinct)
            d->table.hash[i] = id_hash(p->rep_id, len);
        if (!(p->weight >= STRATEGY_WEIGHT_MIN && p->weight <= STRATEGY_WEIGHT_MAX))
            return bt_fail(err, BT_EINVAL, "weight",
                           "pool member %s: weight %g is outside %g to %g", p->rep_id, p->weight,
                           STRATEGY_WEIGHT_MIN, STRATEGY_WEIGHT_MAX);
        if (p->capacity < STRATEGY_UNLIMITED || p->capacity > STRATEGY_COUNT_MAX)
            return bt_fail(err, BT_EINVAL, "capacity",
                           "pool member %s: capacity %lld is outside 0 to %d (or -1, unlimited)",
                           p->rep_id, (long long)p->capacity, STRATEGY_COUNT_MAX);
        if (p->open < 0 || p->open > STRATEGY_COUNT_MAX || p->recent < 0 ||
            p->recent > STRATEGY_COUNT_MAX)
            return bt_fail(err, BT_EINVAL, "open",
                           "pool member %s: open (%lld) and recent (%lld) must be 0 to %d",
                           p->rep_id, (long long)p->open, (long long)p->recent, STRATEGY_COUNT_MAX);
        if (d->in->strategy == STRATEGY_BEST_MATCH && !(isfinite(p->expected) && p->expected >= 0))
            return bt_fail(err, BT_EINVAL, "expected",
                           "pool member %s: expected conversion must be a number >= 0", p->rep_id);
    }
    return BT_OK;
}

static bt_err check_state(const struct pool_state *st, struct bt_error *err)
{
    if ((unsigned)st->strategy > STRATEGY_BEST_MATCH)
        return bt_fail(err, BT_EINVAL, "state", "pool state: unknown strategy %d",
                       (int)st->strategy);
    if (st->n_entries > STRATEGY_MEMBERS_MAX)
        return bt_fail(err, BT_ETOOBIG, "state", "pool state: %zu entries, at most %d",
                       st->n_entries, STRATEGY_MEMBERS_MAX);
    if (st->strategy == STRATEGY_UNSET && (st->n_entries || st->last_rep_id))
        return bt_fail(err, BT_EINVAL, "state", "pool state: entries without a strategy");
    if (st->n_entries && !st->entries)
        return bt_fail(err, BT_EINVAL, "state", "pool state: %zu entries missing", st->n_entries);
    if (st->last_rep_id && !id_length(st->last_rep_id))
        return bt_fail(err, BT_EINVAL, "state", "pool state: bad last rep id");
    if (st->decisions > (uint64_t)STRATEGY_POINTER_MAX)
        return bt_fail(err, BT_EINVAL, "state", "pool state: decision count out of range");
    for (size_t j = 0; j < st->n_entries; j++) {
        const struct pool_state_entry *e = &st->entries[j];
        /* ids are checked by match() */
        if (e->pointer < 0 || e->pointer > STRATEGY_POINTER_MAX ||
            e->credit < -STRATEGY_POINTER_MAX || e->credit > STRATEGY_POINTER_MAX ||
            e->assigned > (uint64_t)STRATEGY_POINTER_MAX)
            return bt_fail(err, BT_EINVAL, "state", "pool state: entry %zu is out of range", j + 1);
    }
    return BT_OK;
}

/*
 * Builds the id table (finding repeated member ids) and matches the entries.
 * An entry whose id equals its neighbour's in the members needs no other
 * check (the member's id was checked); any other entry's id is checked here.
 */
/* Puts every member into the id table; BT_EINVAL for a repeated id. */
static bt_err build_table(struct decide *d, bool hashed, struct bt_error *err)
{
    struct id_table *t = &d->table;
    for (size_t i = 0; i < d->n; i++) {
        const char *id = d->m[i].rep_id;
        if (!hashed)
            t->hash[i] = id_hash(id, id_length(id));
        uint32_t h = t->hash[i];
        size_t s = h & t->mask;
        for (; t->slots[s]; s = (s + 1) & t->mask) {
            int k = t->slots[s] - 1;
            if (t->hash[k] == h && strcmp(d->m[k].rep_id, id) == 0)
                return bt_fail(err, BT_EINVAL, "rep_id", "pool member %s is listed twice", id);
        }
        t->slots[s] = (uint16_t)(i + 1);
    }
    return BT_OK;
}

static bt_err match(struct decide *d, struct bt_error *err)
{
    struct id_table *t = &d->table;
    bool built = !d->in->members_distinct;
    if (built) {
        bt_err e = build_table(d, true, err);
        if (e)
            return e;
    }
    d->table_built = built;
    for (size_t i = 0; i < d->n; i++)
        d->entry_of[i] = -1;
    const struct pool_state *st = d->st;
    for (size_t j = 0; j < st->n_entries; j++) {
        const char *id = st->entries[j].rep_id;
        int k;
        if (j < d->n && id && (id == d->m[j].rep_id || strcmp(id, d->m[j].rep_id) == 0)) {
            k = (int)j; /* the usual case: same order as last time */
        } else {
            size_t len = id_length(id);
            if (!len)
                return bt_fail(err, BT_EINVAL, "state", "pool state: entry %zu has a bad rep id",
                               j + 1);
            if (!built) {
                bt_err e = build_table(d, false, err);
                if (e)
                    return e;
                built = true;
            }
            d->table_built = true;
            k = table_find(t, d->m, id, id_hash(id, len));
        }
        d->member_of[j] = k;
        if (k < 0)
            continue;
        if (d->entry_of[k] >= 0)
            return bt_fail(err, BT_EINVAL, "state", "pool state: rep %s has two entries", id);
        d->entry_of[k] = (int32_t)j;
    }
    return BT_OK;
}

/* --- round_robin ------------------------------------------------------------ */

/* Where the rotation resumes: the member after the last one assigned. */
static size_t round_robin_start(const struct decide *d)
{
    const struct pool_state *st = d->st;
    const char *last = st->last_rep_id;
    if (!d->keep || !last)
        return 0;
    int k = -1;
    if (d->table_built) {
        k = table_find(&d->table, d->m, last, id_hash(last, strlen(last)));
    } else {
        for (size_t i = 0; i < d->n && k < 0; i++)
            if (d->m[i].rep_id == last || strcmp(d->m[i].rep_id, last) == 0)
                k = (int)i;
    }
    if (k >= 0)
        return ((size_t)k + 1) % d->n;
    /* It left the pool: continue after the nearest member before it in the
     * previous order who is still here. */
    size_t j = 0;
    while (j < st->n_entries && strcmp(st->entries[j].rep_id, last) != 0)
        j++;
    if (j == st->n_entries)
        return 0;
    for (size_t step = 1; step < st->n_entries; step++) {
        size_t p = (j + st->n_entries - step) % st->n_entries;
        if (d->member_of[p] >= 0)
            return ((size_t)d->member_of[p] + 1) % d->n;
    }
    return 0;
}

static int round_robin(struct decide *d)
{
    size_t start = round_robin_start(d);
    int chosen = -1;
    for (size_t step = 0; step < d->n; step++) {
        size_t i = (start + step) % d->n;
        d->notes[i].value = (double)step;
        if (d->m[i].eligible) {
            if (chosen < 0)
                chosen = (int)i;
            else
                d->notes[i].verdict = STRATEGY_LATER_IN_TURN;
        }
    }
    return chosen;
}

/* --- weighted --------------------------------------------------------------- */

static int64_t weighted_step(double weight)
{
    return llround((double)STRATEGY_POINTER_SCALE / weight);
}

static int weighted(struct decide *d)
{
    /* Newcomers start level with the front: the lowest pointer among the
     * eligible members that have one, else among all that have one. */
    int64_t front = INT64_MAX, any = INT64_MAX;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->keep || d->entry_of[i] < 0)
            continue;
        int64_t p = d->after[i].pointer;
        if (p < any)
            any = p;
        if (d->m[i].eligible && p < front)
            front = p;
    }
    if (front == INT64_MAX)
        front = any == INT64_MAX ? 0 : any;
    int chosen = -1;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->keep || d->entry_of[i] < 0)
            d->after[i].pointer = front;
        d->notes[i].value = (double)d->after[i].pointer / (double)STRATEGY_POINTER_SCALE;
        if (d->m[i].eligible && (chosen < 0 || d->after[i].pointer < d->after[chosen].pointer))
            chosen = (int)i;
    }
    if (chosen < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->m[i].eligible || (int)i == chosen)
            continue;
        d->notes[i].verdict = d->after[i].pointer == d->after[chosen].pointer
                                  ? STRATEGY_TIE_LATER
                                  : STRATEGY_HIGHER_POINTER;
    }
    d->after[chosen].pointer += weighted_step(d->m[chosen].weight);
    return chosen;
}

/* Keeps pointers in [0, STRATEGY_POINTER_MAX]; true when they were moved. */
static bool weighted_rebase(struct pool_state_entry *a, size_t n)
{
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].pointer < lo)
            lo = a[i].pointer;
        if (a[i].pointer > hi)
            hi = a[i].pointer;
    }
    if (hi <= STRATEGY_POINTER_MAX)
        return false;
    if (hi - lo > STRATEGY_POINTER_MAX)
        lo = hi - STRATEGY_POINTER_MAX;
    for (size_t i = 0; i < n; i++)
        a[i].pointer = a[i].pointer < lo ? 0 : a[i].pointer - lo;
    return true;
}

/* --- load_balanced ---------------------------------------------------------- */

/* Compares open/capacity exactly; capacity 0 is infinitely loaded. */
static int load_compare(int64_t open_a, int64_t cap_a, int64_t open_b, int64_t cap_b)
{
    if (cap_a == 0 || cap_b == 0)
        return (cap_a == 0) - (cap_b == 0);
    int64_t x = open_a * cap_b, y = open_b * cap_a; /* each <= 10^18 */
    return (x > y) - (x < y);
}

static int load_balanced(struct decide *d)
{
    int64_t roomiest = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->m[i].capacity > roomiest)
            roomiest = d->m[i].capacity;
    if (roomiest == 0)
        roomiest = 1; /* nobody is limited (or all are full): compare open counts */
#define CAPACITY(p) ((p)->capacity == STRATEGY_UNLIMITED ? roomiest : (p)->capacity)
    int chosen = -1;
    for (size_t i = 0; i < d->n; i++) {
        const struct pool_member *p = &d->m[i];
        int64_t cap = CAPACITY(p);
        d->notes[i].value = cap ? (double)p->open / (double)cap : INFINITY;
        if (!p->eligible)
            continue;
        if (chosen < 0) {
            chosen = (int)i;
            continue;
        }
        const struct pool_member *c = &d->m[chosen];
        int by_load = load_compare(p->open, cap, c->open, CAPACITY(c));
        if (by_load < 0 || (by_load == 0 && p->recent < c->recent))
            chosen = (int)i;
    }
    if (chosen < 0)
        return -1;
    const struct pool_member *c = &d->m[chosen];
    for (size_t i = 0; i < d->n; i++) {
        const struct pool_member *p = &d->m[i];
        if (!p->eligible || (int)i == chosen)
            continue;
        if (load_compare(p->open, CAPACITY(p), c->open, CAPACITY(c)) != 0)
            d->notes[i].verdict = STRATEGY_HIGHER_LOAD;
        else if (p->recent != c->recent)
            d->notes[i].verdict = STRATEGY_TIE_MORE_RECENT;
        else
            d->notes[i].verdict = STRATEGY_TIE_LATER;
    }
    return chosen;
#undef CAPACITY
}

/* --- fair_share ------------------------------------------------------------- */

static int fair_share(struct decide *d)
{
    bool catch_up = d->in->absence == ABSENCE_CATCH_UP;
    int64_t owed_total = 0, all_total = 0;
    for (size_t i = 0; i < d->n; i++) {
        int64_t w = llround(d->m[i].weight * STRATEGY_WEIGHT_UNIT);
        all_total += w;
        if ((catch_up && !d->m[i].not_entitled) || d->m[i].eligible) {
            d->after[i].credit += w;
            owed_total += w;
        }
    }
    int chosen = -1;
    for (size_t i = 0; i < d->n; i++) {
        d->notes[i].value =
            (double)d->after[i].credit / (double)(owed_total ? owed_total : all_total);
        if (d->m[i].eligible && (chosen < 0 || d->after[i].credit > d->after[chosen].credit))
            chosen = (int)i;
    }
    if (chosen < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->m[i].eligible || (int)i == chosen)
            continue;
        d->notes[i].verdict = d->after[i].credit == d->after[chosen].credit
                                  ? STRATEGY_TIE_LATER
                                  : STRATEGY_SMALLER_DEFICIT;
    }
    d->after[chosen].credit -= owed_total;
    for (size_t i = 0; i < d->n; i++) {
        if (d->after[i].credit > STRATEGY_POINTER_MAX)
            d->after[i].credit = STRATEGY_POINTER_MAX;
        else if (d->after[i].credit < -STRATEGY_POINTER_MAX)
            d->after[i].credit = -STRATEGY_POINTER_MAX;
    }
    return chosen;
}

/* --- best_match ------------------------------------------------------------ */

/* best_match keeps in each entry's credit the leads the member was entitled
 * to in the window, in millionths of a lead. */
#define BEST_ENTITLED_UNIT 1000000.0

static int best_match(struct decide *d, struct strategy_decision *out)
{
    bool catch_up = d->in->absence == ABSENCE_CATCH_UP;
    double tol = d->in->tolerance;
    int64_t owed_total = 0;
    for (size_t i = 0; i < d->n; i++)
        if ((catch_up && !d->m[i].not_entitled) || d->m[i].eligible)
            owed_total += llround(d->m[i].weight * STRATEGY_WEIGHT_UNIT);
    /* fair counts, counting this lead, and the bounds */
    int best = -1, behind = -1, deficit = -1;
    double behind_gap = 0, deficit_gap = 0;
    for (size_t i = 0; i < d->n; i++) {
        const struct pool_member *p = &d->m[i];
        struct strategy_note *note = &d->notes[i];
        bool entitled = (catch_up && !p->not_entitled) || p->eligible;
        int64_t w = llround(p->weight * STRATEGY_WEIGHT_UNIT);
        double share = entitled && owed_total ? (double)w / (double)owed_total : 0;
        /* the member's fair count: its share of every lead of the window it
         * was entitled to, this one included */
        double fair = (double)d->after[i].credit / BEST_ENTITLED_UNIT + share;
        if (entitled) {
            d->after[i].credit += llround(share * BEST_ENTITLED_UNIT);
            if (d->after[i].credit > STRATEGY_POINTER_MAX)
                d->after[i].credit = STRATEGY_POINTER_MAX;
        }
        uint64_t a = d->after[i].assigned;
        note->value = p->expected;
        note->share = share;
        note->assigned = a;
        note->bound = (int64_t)floor((1 + tol) * fair + 1e-9);
        if (note->bound < 1)
            note->bound = 1;
        note->low = p->low;
        note->high = p->high;
        note->n = p->n;
        if (!p->eligible)
            continue;
        double gap = fair - (double)a;
        if (deficit < 0 || gap > deficit_gap + 1e-12) {
            deficit = (int)i;
            deficit_gap = gap;
        }
        if ((double)(a + 1) < (1 - tol) * fair && (behind < 0 || gap > behind_gap + 1e-12)) {
            behind = (int)i;
            behind_gap = gap;
        }
        if (best < 0 || p->expected > d->m[best].expected)
            best = (int)i;
    }
    if (deficit < 0)
        return -1;
    int chosen = -1;
    if (behind >= 0) {
        chosen = behind;
        out->best_reason = BEST_BEHIND_SHARE;
    } else {
        for (size_t i = 0; i < d->n; i++) {
            const struct pool_member *p = &d->m[i];
            if (!p->eligible || (int64_t)(d->after[i].assigned + 1) > d->notes[i].bound)
                continue;
            if (chosen < 0 || p->expected > d->m[chosen].expected)
                chosen = (int)i;
        }
        if (chosen < 0) {
            chosen = deficit;
            out->best_reason = BEST_ALL_AT_BOUND;
        } else if (d->m[chosen].expected < d->m[best].expected) {
            out->best_reason = BEST_NEXT_BEST;
            out->passed_over = best;
        } else {
            out->best_reason = BEST_HIGHEST;
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        if (!d->m[i].eligible || (int)i == chosen)
            continue;
        if ((int64_t)(d->after[i].assigned + 1) > d->notes[i].bound)
            d->notes[i].verdict = STRATEGY_AT_BOUND;
        else if (d->m[i].expected == d->m[chosen].expected)
            d->notes[i].verdict = STRATEGY_TIE_LATER;
        else
            d->notes[i].verdict = d->m[i].expected < d->m[chosen].expected
                                      ? STRATEGY_LOWER_EXPECTED
                                      : STRATEGY_SMALLER_DEFICIT;
    }
    return chosen;
}

/* --- the decision ----------------------------------------------------------- */

static bt_err out_of_memory(struct bt_error *err)
{
    return bt_fail(err, BT_ETOOBIG, NULL, "pool decision: the arena is full");
}

bt_err strategy_decide(const struct strategy_input *in, struct arena *arena,
                       struct strategy_decision *out, struct bt_error *err)
{
    static const struct pool_state fresh = POOL_STATE_INIT;
    if (!in || !arena || !out || (in->n_members && !in->members))
        BT_BUG("strategy_decide: NULL argument");
    memset(out, 0, sizeof(*out));
    out->chosen = -1;
    out->passed_over = -1;

    if (in->strategy < STRATEGY_ROUND_ROBIN || in->strategy > STRATEGY_BEST_MATCH)
        return bt_fail(err, BT_EINVAL, "strategy", "unknown pool strategy %d", (int)in->strategy);
    bool windowed = in->strategy == STRATEGY_FAIR_SHARE || in->strategy == STRATEGY_BEST_MATCH;
    if (in->strategy == STRATEGY_BEST_MATCH && !(in->tolerance >= 0 && in->tolerance <= 10))
        return bt_fail(err, BT_EINVAL, "tolerance", "best_match tolerance %g is outside 0 to 10",
                       in->tolerance);
    if (windowed && in->absence != ABSENCE_CATCH_UP && in->absence != ABSENCE_NO_CATCH_UP)
        return bt_fail(err, BT_EINVAL, "absence", "unknown absence policy %d", (int)in->absence);
    if (in->n_members > STRATEGY_MEMBERS_MAX)
        return bt_fail(err, BT_ETOOBIG, "members", "a pool has %zu members, at most %d",
                       in->n_members, STRATEGY_MEMBERS_MAX);
    const struct pool_state *st = in->state ? in->state : &fresh;
    bt_err rc = check_state(st, err);
    if (rc)
        return rc;

    unsigned flags = 0;
    struct decide d = {.in = in, .m = in->members, .n = in->n_members, .st = st};
    d.keep = st->strategy == in->strategy;
    if (st->strategy != STRATEGY_UNSET && !d.keep)
        flags |= STRATEGY_RESTARTED;
    if (windowed) {
        if (in->window_start > in->now)
            return bt_fail(err, BT_EINVAL, "window_start", "the window starts after now");
        if (d.keep && in->window_start < st->window_start)
            return bt_fail(err, BT_EINVAL, "window_start",
                           "the pool state belongs to a later window (%lld > %lld)",
                           (long long)st->window_start, (long long)in->window_start);
        if (d.keep && in->window_start > st->window_start) {
            d.new_window = true;
            flags |= STRATEGY_WINDOW_ROLLED;
        }
    }
    out->before = *st;
    out->after = *st;
    if (d.n == 0)
        return BT_OK;

    size_t slots = 16;
    while (slots < 2 * d.n)
        slots *= 2;
    size_t n_ent = st->n_entries;
    d.notes = arena_alloc(arena, d.n * sizeof(*d.notes));
    d.after = arena_alloc(arena, d.n * sizeof(*d.after));
    d.entry_of = arena_alloc(arena, d.n * sizeof(*d.entry_of));
    d.member_of = arena_alloc(arena, (n_ent ? n_ent : 1) * sizeof(*d.member_of));
    d.table.hash = arena_alloc(arena, d.n * sizeof(*d.table.hash));
    d.table.slots = arena_alloc(arena, slots * sizeof(*d.table.slots));
    if (!d.notes || !d.after || !d.entry_of || !d.member_of || !d.table.hash || !d.table.slots)
        return out_of_memory(err);
    d.table.mask = slots - 1;
    if ((rc = check_members(&d, err)) || (rc = match(&d, err)))
        return rc;

    for (size_t i = 0; i < d.n; i++) {
        struct pool_state_entry *a = &d.after[i];
        int e = d.entry_of[i];
        a->rep_id = d.m[i].rep_id;
        if (e >= 0 && d.keep) {
            a->pointer = st->entries[e].pointer;
            if (!d.new_window) {
                a->credit = st->entries[e].credit;
                a->assigned = st->entries[e].assigned;
            }
        }
        struct strategy_note *note = &d.notes[i];
        note->rep_id = d.m[i].rep_id;
        note->joined = e < 0;
        if (!d.m[i].eligible) {
            note->verdict = STRATEGY_INELIGIBLE;
            note->ineligible_reason = d.m[i].ineligible_reason;
        }
    }

    int chosen = -1;
    switch (in->strategy) {
    case STRATEGY_ROUND_ROBIN:
        chosen = round_robin(&d);
        break;
    case STRATEGY_WEIGHTED:
        chosen = weighted(&d);
        break;
    case STRATEGY_LOAD_BALANCED:
        chosen = load_balanced(&d);
        break;
    case STRATEGY_FAIR_SHARE:
        chosen = fair_share(&d);
        break;
    case STRATEGY_BEST_MATCH:
        chosen = best_match(&d, out);
        break;
    case STRATEGY_UNSET:
        BT_BUG("strategy_decide: unset strategy");
    }
    out->notes = d.notes;
    out->n_notes = d.n;
    if (chosen < 0) { /* the state changes only with an assignment (see strategy.h) */
        out->best_reason = BEST_NONE;
        out->passed_over = -1;
        return BT_OK;
    }

    d.notes[chosen].verdict = STRATEGY_CHOSEN;
    d.after[chosen].assigned++;
    if (in->strategy == STRATEGY_WEIGHTED && weighted_rebase(d.after, d.n))
        flags |= STRATEGY_REBASED;

    size_t n_removed = 0;
    for (size_t j = 0; j < n_ent; j++)
        n_removed += d.member_of[j] < 0;
    if (n_removed) {
        out->removed = arena_alloc(arena, n_removed * sizeof(*out->removed));
        if (!out->removed)
            return out_of_memory(err);
        for (size_t j = 0; j < n_ent; j++)
            if (d.member_of[j] < 0)
                out->removed[out->n_removed++] = st->entries[j].rep_id;
    }

    out->chosen = chosen;
    out->rep_id = d.m[chosen].rep_id;
    out->flags = flags;
    out->after = (struct pool_state){
        .strategy = in->strategy,
        .last_rep_id = in->strategy == STRATEGY_ROUND_ROBIN ? d.m[chosen].rep_id : NULL,
        .window_start = windowed ? in->window_start : 0,
        .updated_at = in->now,
        .decisions = (d.keep ? st->decisions : 0) + 1,
        .entries = d.after,
        .n_entries = d.n,
    };
    return BT_OK;
}
