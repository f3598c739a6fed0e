/*
 * account_match.c - lead-to-account matching: the company-name normaliser,
 * the public-suffix rules, the immutable index and the matcher. The rules are
 * in account_match.h.
 *
 * The index is built in two passes over the accounts. The first normalises
 * and interns every domain and name (open-addressing tables keyed by the
 * string, ids handed out in order of first sight) and counts the accounts
 * behind each; the second lays the posting lists out back to back (an offset
 * array plus one array of account positions), filled in account order, so
 * every list is sorted and its earliest account comes first. The segments
 * of distinct names (the similarity search, see match_similar()) get the
 * same treatment. Strings live in one arena and the tables are flat arrays:
 * building 100,000 accounts is a few dozen hashes per account, and matching
 * allocates nothing and writes only to its result.
 */
#include "core/account_match.h"
#include "util/hash.h"
#include "util/text.h"
#include "core/normalize.h"
#include "util/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_ID       UINT32_MAX
#define EPSILON     1e-9
#define TOKENS_MAX  (ACCOUNT_NAME_MAX / 2 + 1)
#define ARENA_LIMIT ((size_t)1 << 40)

/* ------------------------------------------------------------------------ */
/* Hashing and interning                                                     */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    return mix64(hash_fnv1a(s, len));
}

/*
 * A set of strings, each given a dense id in order of insertion. The strings
 * are not copied: the caller passes pointers that outlive the table. `refs`
 * counts, per id, what the caller wants counted (accounts behind a domain).
 */
struct strtab {
    uint32_t *slots; /* id + 1; 0 is empty */
    uint32_t mask;
    uint32_t count;
    uint32_t cap;
    const char **text;
    uint32_t *len;
    uint32_t *hash; /* low half of each string's hash, to skip most compares */
    uint32_t *refs;
};

static void strtab_init(struct strtab *t, size_t expect)
{
    size_t size = 16;
    while (size < expect * 2)
        size *= 2;
    memset(t, 0, sizeof(*t));
    t->slots = xcalloc(size, sizeof(*t->slots));
    t->mask = (uint32_t)(size - 1);
}

static void strtab_release(struct strtab *t)
{
    free(t->slots);
    free(t->text);
    free(t->len);
    free(t->hash);
    free(t->refs);
    memset(t, 0, sizeof(*t));
}

static size_t strtab_bytes(const struct strtab *t)
{
    return ((size_t)t->mask + 1) * sizeof(uint32_t) +
           (size_t)t->cap * (sizeof(char *) + 3 * sizeof(uint32_t));
}

static uint32_t strtab_find(const struct strtab *t, const char *s, size_t len, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint32_t slot = t->slots[i];
        if (!slot)
            return NO_ID;
        uint32_t id = slot - 1;
        if (t->hash[id] == (uint32_t)(h >> 32) && t->len[id] == len &&
            memcmp(t->text[id], s, len) == 0)
            return id;
    }
}

static void strtab_grow(struct strtab *t)
{
    size_t size = ((size_t)t->mask + 1) * 2;
    uint32_t *slots = xcalloc(size, sizeof(*slots));
    for (uint32_t id = 0; id < t->count; id++) {
        uint64_t h = hash_bytes(t->text[id], t->len[id]);
        size_t i = (size_t)h & (size - 1);
        while (slots[i])
            i = (i + 1) & (size - 1);
        slots[i] = id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = (uint32_t)(size - 1);
}

/* The id of s[0..len), inserting it (pointer kept) when new; *added says. */
static uint32_t strtab_intern(struct strtab *t, const char *s, size_t len, bool *added)
{
    uint64_t h = hash_bytes(s, len);
    uint32_t id = strtab_find(t, s, len, h);
    *added = id == NO_ID;
    if (id != NO_ID)
        return id;
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->text = xrealloc(t->text, t->cap * sizeof(*t->text));
        t->len = xrealloc(t->len, t->cap * sizeof(*t->len));
        t->hash = xrealloc(t->hash, t->cap * sizeof(*t->hash));
        t->refs = xrealloc(t->refs, t->cap * sizeof(*t->refs));
    }
    id = t->count++;
    t->text[id] = s;
    t->len[id] = (uint32_t)len;
    t->hash[id] = (uint32_t)(h >> 32);
    t->refs[id] = 0;
    uint32_t i = (uint32_t)h & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = id + 1;
    if ((size_t)t->count * 2 > (size_t)t->mask + 1)
        strtab_grow(t);
    return id;
}

/*
 * Segments of names, for the similarity search (see match_similar()). A
 * segment is known by a 64-bit hash of its code points, the length of the
 * names it was cut from and its place among their segments; the content is
 * not kept. Two segments whose hashes collide share a posting list, which
 * costs a few needless verifications and never a wrong answer: every name
 * found is verified in full. The table is sized once, the number of
 * segments being known before the first is added.
 */
struct segtab {
    uint64_t *keys; /* 0 is empty */
    uint32_t *ids;
    uint32_t mask;
    uint32_t count;
    uint32_t *refs; /* names per entry */
};

static uint64_t segment_key(const uint32_t *cp, size_t len, size_t length, size_t index)
{
    uint64_t h = HASH_FNV1A_INIT ^ ((uint64_t)length << 8 | index);
    for (size_t i = 0; i < len; i++)
        h = hash_fnv1a_step(h, cp[i]);
    h = mix64(h);
    return h ? h : 1;
}

static uint32_t segtab_find(const struct segtab *t, uint64_t key)
{
    for (uint32_t i = (uint32_t)key & t->mask;; i = (i + 1) & t->mask) {
        if (t->keys[i] == key)
            return t->ids[i];
        if (!t->keys[i])
            return NO_ID;
    }
}

static uint32_t segtab_intern(struct segtab *t, uint64_t key)
{
    uint32_t i = (uint32_t)key & t->mask;
    for (; t->keys[i]; i = (i + 1) & t->mask)
        if (t->keys[i] == key)
            return t->ids[i];
    t->keys[i] = key;
    t->ids[i] = t->count;
    t->refs[t->count] = 0;
    return t->count++;
}

/* Segment i of a name of `length` code points cut into `parts`; the first
 * ones are one shorter when the length does not divide evenly. */
static void segment_of(size_t length, size_t parts, size_t i, size_t *start, size_t *len)
{
    size_t base = length / parts, shorter = parts - length % parts;
    if (i < shorter) {
        *start = i * base;
        *len = base;
    } else {
        *start = shorter * base + (i - shorter) * (base + 1);
        *len = base + 1;
    }
}

/* ------------------------------------------------------------------------ */
/* Company names                                                             */

/* U+00C0..U+017F folded to ASCII; "" is a separator (the signs × and ÷). */
static const char latin_fold[192][3] = {
    "a", "a", "a",  "a",  "a", "a", "ae", "c",  /* U+00C0 */
    "e", "e", "e",  "e",  "i", "i", "i",  "i",  /* U+00C8 */
    "d", "n", "o",  "o",  "o", "o", "o",  "",   /* U+00D0 */
    "o", "u", "u",  "u",  "u", "y", "th", "ss", /* U+00D8 */
    "a", "a", "a",  "a",  "a", "a", "ae", "c",  /* U+00E0 */
    "e", "e", "e",  "e",  "i", "i", "i",  "i",  /* U+00E8 */
    "d", "n", "o",  "o",  "o", "o", "o",  "",   /* U+00F0 */
    "o", "u", "u",  "u",  "u", "y", "th", "y",  /* U+00F8 */
    "a", "a", "a",  "a",  "a", "a", "c",  "c",  /* U+0100 */
    "c", "c", "c",  "c",  "c", "c", "d",  "d",  /* U+0108 */
    "d", "d", "e",  "e",  "e", "e", "e",  "e",  /* U+0110 */
    "e", "e", "e",  "e",  "g", "g", "g",  "g",  /* U+0118 */
    "g", "g", "g",  "g",  "h", "h", "h",  "h",  /* U+0120 */
    "i", "i", "i",  "i",  "i", "i", "i",  "i",  /* U+0128 */
    "i", "i", "ij", "ij", "j", "j", "k",  "k",  /* U+0130 */
    "k", "l", "l",  "l",  "l", "l", "l",  "l",  /* U+0138 */
    "l", "l", "l",  "n",  "n", "n", "n",  "n",  /* U+0140 */
    "n", "n", "n",  "n",  "o", "o", "o",  "o",  /* U+0148 */
    "o", "o", "oe", "oe", "r", "r", "r",  "r",  /* U+0150 */
    "r", "r", "s",  "s",  "s", "s", "s",  "s",  /* U+0158 */
    "s", "s", "t",  "t",  "t", "t", "t",  "t",  /* U+0160 */
    "u", "u", "u",  "u",  "u", "u", "u",  "u",  /* U+0168 */
    "u", "u", "u",  "u",  "w", "w", "y",  "y",  /* U+0170 */
    "y", "z", "z",  "z",  "z", "z", "z",  "s",  /* U+0178 */
};

enum { FOLD_SEPARATOR = -1, FOLD_JOINER = -2 };

#define MARK_SPACE  0x20u
#define MARK_JOINER 0x01u

/* Folds one code point: returns how many it became in out[0..2) (0: it
 * vanishes), or FOLD_SEPARATOR, or FOLD_JOINER for "." and "/". */
static int fold(uint32_t cp, uint32_t out[2])
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') {
            out[0] = cp + 32;
            return 1;
        }
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            out[0] = cp;
            return 1;
        }
        if (cp == '\'' || cp == '`')
            return 0;
        if (cp == '.' || cp == '/')
            return FOLD_JOINER;
        return FOLD_SEPARATOR;
    }
    if (cp >= 0xC0 && cp < 0x180) {
        const char *s = latin_fold[cp - 0xC0];
        if (!s[0])
            return FOLD_SEPARATOR;
        out[0] = (unsigned char)s[0];
        if (!s[1])
            return 1;
        out[1] = (unsigned char)s[1];
        return 2;
    }
    /* Soft hyphen, accents, apostrophe-like marks, zero-width characters. */
    if (cp == 0xAD || cp == 0xB4 || (cp >= 0x2B0 && cp < 0x370) || cp == 0x2018 || cp == 0x2019 ||
        cp == 0x201B || cp == 0x2032 || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 ||
        (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF)
        return 0;
    if (cp < 0xC0)
        return FOLD_SEPARATOR; /* C1 controls, no-break space, Latin-1 signs */
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        return fold(cp - 0xFEE0, out); /* fullwidth ASCII */
    if ((cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) || (cp >= 0x410 && cp <= 0x42F)) {
        out[0] = cp + 0x20; /* Greek and Cyrillic capitals */
        return 1;
    }
    if (cp >= 0x400 && cp <= 0x40F) {
        out[0] = cp + 0x50;
        return 1;
    }
    /* General punctuation to miscellaneous symbols, CJK punctuation, small
     * and fullwidth forms, specials, emoji. */
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
        (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE10 && cp <= 0xFE6F) ||
        (cp >= 0xFF00 && cp <= 0xFF65) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF))
        return FOLD_SEPARATOR;
    out[0] = cp;
    return 1;
}

/* Decodes one well-formed UTF-8 sequence at s[0..len): its length, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Legal forms, normalised, with their number of words; the longest first
 * so that "pty ltd" goes before "ltd" could leave "pty" behind. */
static const struct legal_suffix {
    const char *text;
    unsigned char words;
} legal_suffixes[] = {
    {"sa de cv", 3},    {"pty ltd", 2},      {"pty limited", 2},
    {"pte ltd", 2},     {"pvt ltd", 2},      {"private limited", 2},
    {"sp zoo", 2},      {"sp z oo", 3},      {"sdn bhd", 2},
    {"inc", 1},         {"incorporated", 1}, {"corp", 1},
    {"corporation", 1}, {"co", 1},           {"company", 1},
    {"llc", 1},         {"llp", 1},          {"lp", 1},
    {"ltd", 1},         {"limited", 1},      {"plc", 1},
    {"gmbh", 1},        {"mbh", 1},          {"ag", 1},
    {"kg", 1},          {"kgaa", 1},         {"se", 1},
    {"sa", 1},          {"sas", 1},          {"sarl", 1},
    {"sl", 1},          {"spa", 1},          {"srl", 1},
    {"sro", 1},         {"bv", 1},           {"nv", 1},
    {"oy", 1},          {"oyj", 1},          {"ab", 1},
    {"as", 1},          {"asa", 1},          {"aps", 1},
    {"kk", 1},          {"kft", 1},          {"ltda", 1},
    {"bhd", 1},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A name as words: code points in `cp`, word i is cp[start[i] .. +len[i]). */
struct words {
    uint32_t cp[ACCOUNT_NAME_MAX];
    uint16_t start[TOKENS_MAX], len[TOKENS_MAX];
    size_t n_cp, n;
};

static bool word_is(const struct words *w, size_t i, const char *s, size_t n)
{
    if (w->len[i] != n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (w->cp[w->start[i] + k] != (unsigned char)s[k])
            return false;
    return true;
}

/* True when words [from, w->n) spell `suffix` (words separated by one space). */
static bool words_end_with(const struct words *w, size_t from, const char *suffix)
{
    const char *p = suffix;
    for (size_t i = from; i < w->n; i++) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!word_is(w, i, p, n))
            return false;
        if (i + 1 < w->n) {
            if (!end)
                return false;
            p = end + 1;
        } else if (end) {
            return false;
        }
    }
    return true;
}

static void words_drop(struct words *w, size_t i)
{
    memmove(&w->start[i], &w->start[i + 1], (w->n - i - 1) * sizeof(w->start[0]));
    memmove(&w->len[i], &w->len[i + 1], (w->n - i - 1) * sizeof(w->len[0]));
    w->n--;
}

/*
 * The key of name[0..len) (len <= ACCOUNT_NAME_MAX) as code points in
 * key[0..*n): the steps of account_name_normalize().
 */
static void name_key(const char *name, size_t len, uint32_t *key, size_t *n)
{
    /* 1. Fold into code points and marks; never more than one per byte. */
    uint32_t raw[ACCOUNT_NAME_MAX];
    size_t n_raw = 0;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < len;) {
        uint32_t cp, out[2];
        size_t step = utf8_decode(s + i, len - i, &cp);
        int r = step ? fold(cp, out) : FOLD_SEPARATOR;
        i += step ? step : 1;
        if (r == FOLD_SEPARATOR)
            raw[n_raw++] = MARK_SPACE;
        else if (r == FOLD_JOINER)
            raw[n_raw++] = MARK_JOINER;
        else
            for (int k = 0; k < r; k++)
                raw[n_raw++] = out[k];
    }

    /* 2. Pieces between marks; a single joiner between two one-character
     * pieces glues them into one word ("s.p.a" -> "spa"). */
    struct words w;
    w.n_cp = 0;
    w.n = 0;
    size_t prev_len = 0, gap = 0;
    bool gap_is_joiner = false;
    for (size_t i = 0; i < n_raw;) {
        if (raw[i] == MARK_SPACE || raw[i] == MARK_JOINER) {
            gap_is_joiner = gap == 0 && raw[i] == MARK_JOINER;
            gap++;
            i++;
            continue;
        }
        size_t start = i;
        while (i < n_raw && raw[i] != MARK_SPACE && raw[i] != MARK_JOINER)
            i++;
        size_t piece = i - start;
        bool glue = w.n > 0 && gap == 1 && gap_is_joiner && prev_len == 1 && piece == 1;
        if (!glue) {
            w.start[w.n] = (uint16_t)w.n_cp;
            w.len[w.n] = 0;
            w.n++;
        }
        memcpy(&w.cp[w.n_cp], &raw[start], piece * sizeof(raw[0]));
        w.n_cp += piece;
        w.len[w.n - 1] = (uint16_t)(w.len[w.n - 1] + piece);
        prev_len = piece;
        gap = 0;
    }

    /* 3. "and" goes; then a leading "the"; then legal forms from the end. */
    for (size_t i = 0; i < w.n;) {
        if (word_is(&w, i, "and", 3))
            words_drop(&w, i);
        else
            i++;
    }
    if (w.n > 1 && word_is(&w, 0, "the", 3))
        words_drop(&w, 0);
    for (bool again = true; again;) {
        again = false;
        for (size_t k = 0; k < COUNT(legal_suffixes); k++) {
            const struct legal_suffix *x = &legal_suffixes[k];
            size_t m = x->words;
            if (w.n > m && w.cp[w.start[w.n - m]] == (unsigned char)x->text[0] &&
                words_end_with(&w, w.n - m, x->text)) {
                w.n -= m;
                again = true;
                break;
            }
        }
    }

    /* 4. Words joined by single spaces. */
    size_t out = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (i)
            key[out++] = ' ';
        memcpy(&key[out], &w.cp[w.start[i]], w.len[i] * sizeof(key[0]));
        out += w.len[i];
    }
    *n = out;
}

/* UTF-8 of key[0..n) into out (NUL-terminated); returns the byte length. */
static size_t key_text(const uint32_t *key, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c[4];
        size_t step = utf8_encode(key[i], c);
        if (len + step > ACCOUNT_NAME_MAX)
            BT_BUG("a name key outgrew its name");
        memcpy(out + len, c, step);
        len += step;
    }
    out[len] = '\0';
    return len;
}

bt_err account_name_normalize(const char *name, size_t len, char out[ACCOUNT_NAME_MAX + 1],
                              size_t *out_len, struct bt_error *err)
{
    *out_len = 0;
    out[0] = '\0';
    if (len > ACCOUNT_NAME_MAX)
        return bt_fail(err, BT_ETOOBIG, "name", "a company name is longer than %d bytes",
                       ACCOUNT_NAME_MAX);
    if (!name)
        return BT_OK;
    uint32_t key[ACCOUNT_NAME_MAX];
    size_t n;
    name_key(name, len, key, &n);
    *out_len = key_text(key, n, out);
    return BT_OK;
}

/*
 * Levenshtein distance of a and b when it is at most k, else k + 1. Only the
 * band of width 2k + 1 around the diagonal is computed, and a row whose
 * smallest cell exceeds k ends the search. Lengths are at most
 * ACCOUNT_NAME_MAX.
 */
static uint32_t levenshtein_within(const uint32_t *a, size_t la, const uint32_t *b, size_t lb,
                                   uint32_t k)
{
    uint32_t big = k + 1;
    if ((la > lb ? la - lb : lb - la) > k)
        return big;
    uint32_t rows[2][ACCOUNT_NAME_MAX + 1];
    uint32_t *prev = rows[0], *cur = rows[1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j <= k ? (uint32_t)j : big;
    for (size_t i = 1; i <= la; i++) {
        size_t lo = i > k ? i - k : 1;
        size_t hi = i + k < lb ? i + k : lb;
        cur[0] = i <= k ? (uint32_t)i : big;
        if (lo > 1)
            cur[lo - 1] = big;
        uint32_t row_min = lo == 1 ? cur[0] : big;
        for (size_t j = lo; j <= hi; j++) {
            uint32_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v < big ? v : big;
            if (cur[j] < row_min)
                row_min = cur[j];
        }
        if (hi < lb)
            cur[hi + 1] = big;
        if (row_min > k)
            return big;
        uint32_t *t = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] <= k ? prev[lb] : big;
}

/* Code points of a UTF-8 key (malformed bytes become U+FFFD); false when
 * there are more than ACCOUNT_NAME_MAX. */
static bool key_decode(const char *s, uint32_t *cp, size_t *n)
{
    size_t len = strlen(s);
    *n = 0;
    for (size_t i = 0; i < len;) {
        if (*n == ACCOUNT_NAME_MAX)
            return false;
        size_t step = utf8_decode((const unsigned char *)s + i, len - i, &cp[*n]);
        if (!step) {
            cp[*n] = 0xFFFD;
            step = 1;
        }
        (*n)++;
        i += step;
    }
    return true;
}

static double similarity(size_t distance, size_t la, size_t lb)
{
    size_t longer = la > lb ? la : lb;
    return longer ? 1.0 - (double)distance / (double)longer : 1.0;
}

/*
 * A name's bag of characters: counts in 16 buckets of 4 bits (saturating),
 * one 64-bit word. What either bag has beyond the other (the larger side) is
 * a lower bound of the edit distance - an edit changes each side by at most
 * one - and costs a few operations on a word that sits next to the name in
 * the posting list, so it screens candidates before the Levenshtein.
 */
static uint64_t bag_of(const uint32_t *cp, size_t n)
{
    uint64_t bag = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned lane = (unsigned)(cp[i] * 0x9E3779B1u >> 28) * 4;
        if (cp[i] >= 'a' && cp[i] <= 'z')
            lane = (cp[i] - 'a') % 16 * 4;
        if (((bag >> lane) & 15) != 15)
            bag += (uint64_t)1 << lane;
    }
    return bag;
}

/* The same, lane by lane in parallel: the even and then the odd lanes as
 * bytes, a saturating subtraction each way, and the bytes summed. */
static unsigned bag_distance(uint64_t a, uint64_t b)
{
    const uint64_t low = 0x0F0F0F0F0F0F0F0FULL, high = 0x8080808080808080ULL;
    uint64_t more = 0, less = 0;
    for (unsigned half = 0; half < 8; half += 4) {
        uint64_t x = (a >> half) & low, y = (b >> half) & low;
        uint64_t d = (x | high) - y; /* 128 + x - y in each byte */
        uint64_t ge = (d & high) >> 7;
        more += (d ^ high) & ((ge << 8) - ge); /* x - y where x >= y, else 0 */
        d = (y | high) - x;
        ge = (d & high) >> 7;
        less += (d ^ high) & ((ge << 8) - ge);
    }
    unsigned m = (unsigned)((more * 0x0101010101010101ULL) >> 56);
    unsigned l = (unsigned)((less * 0x0101010101010101ULL) >> 56);
    return m > l ? m : l;
}

double account_name_similarity(const char *a, const char *b)
{
    uint32_t x[ACCOUNT_NAME_MAX], y[ACCOUNT_NAME_MAX];
    size_t lx, ly;
    if (!a || !b || !key_decode(a, x, &lx) || !key_decode(b, y, &ly))
        return 0;
    uint32_t k = (uint32_t)(lx > ly ? lx : ly);
    return similarity(levenshtein_within(x, lx, y, ly, k), lx, ly);
}

/* ------------------------------------------------------------------------ */
/* Public suffixes                                                           */

/* Platforms that give customers subdomains, and country second levels the
 * generic rule misses. Sorted for bsearch. */
static const char *const listed_suffixes[] = {
    "appspot.com",
    "asn.au",
    "azurestaticapps.net",
    "azurewebsites.net",
    "bitbucket.io",
    "blogspot.com",
    "cloudapp.net",
    "cloudfront.net",
    "csiro.au",
    "elasticbeanstalk.com",
    "firebaseapp.com",
    "fly.dev",
    "github.io",
    "gitlab.io",
    "glitch.me",
    "gv.at",
    "herokuapp.com",
    "id.au",
    "me.uk",
    "myshopify.com",
    "netlify.app",
    "nhs.uk",
    "notion.site",
    "onrender.com",
    "pages.dev",
    "police.uk",
    "readthedocs.io",
    "s3.amazonaws.com",
    "vercel.app",
    "web.app",
    "webflow.io",
    "wixsite.com",
    "wordpress.com",
    "workers.dev",
};

/* Second levels that are public under any two-letter country code. Sorted. */
static const char *const generic_second_levels[] = {
    "ac",  "co",  "com", "edu", "go",  "gob", "gouv", "gov", "govt",
    "ltd", "mil", "ne",  "net", "nom", "or",  "org",  "plc", "sch",
};

static bool in_sorted(const char *const *list, size_t n, const char *s, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(list[mid], s, len);
        if (c == 0)
            c = list[mid][len] ? 1 : 0;
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/*
 * Where the registrable domain and its public suffix start in d[0..len):
 * *reg is the start of the label before the suffix, *suffix the start of the
 * suffix. False when d is itself a public suffix, or when a label that
 * matters is empty.
 */
static bool split_domain(const char *d, size_t len, size_t *reg, size_t *suffix)
{
    /* starts[i]: where the (i+1)-th label from the right starts */
    size_t starts[4];
    size_t labels = 0;
    for (size_t i = len; i > 0 && labels < 4; i--)
        if (d[i - 1] == '.')
            starts[labels++] = i;
    if (labels < 4)
        starts[labels++] = 0;
    if (labels < 2 || starts[0] == len)
        return false; /* one label, or a trailing dot */
    size_t top = 0;   /* the suffix is labels [0, top] from the right */
    if (labels >= 3 &&
        in_sorted(listed_suffixes, COUNT(listed_suffixes), d + starts[2], len - starts[2]))
        top = 2;
    else if (in_sorted(listed_suffixes, COUNT(listed_suffixes), d + starts[1], len - starts[1]) ||
             (len - starts[0] == 2 && in_sorted(generic_second_levels, COUNT(generic_second_levels),
                                                d + starts[1], starts[0] - 1 - starts[1])))
        top = 1;
    if (top + 1 >= labels)
        return false;
    *suffix = starts[top];
    *reg = starts[top + 1];
    return *suffix - 1 > *reg;
}

const char *account_registrable_domain(const char *domain)
{
    size_t reg, suffix;
    if (!domain || !split_domain(domain, strlen(domain), &reg, &suffix))
        return NULL;
    return domain + reg;
}

/* ------------------------------------------------------------------------ */
/* The index                                                                 */

struct indexed_account {
    const char *id;
    const char *owner;
    char country[3]; /* "" when unknown */
    uint32_t name;   /* name id, or NO_ID */
    uint32_t n_domains;
    uint32_t *domains; /* domain ids, unique */
};

struct account_index {
    double threshold;
    size_t n_accounts;
    struct indexed_account *accounts;
    struct arena arena; /* every string and small array */

    struct strtab domains;
    uint32_t *domain_offset; /* accounts of domain d: domain_accounts[off[d] .. off[d+1]) */
    uint32_t *domain_accounts;
    uint8_t *family_start; /* the label left of the public suffix */
    uint8_t *family_len;   /* 0: none */

    struct strtab names;      /* normalised names, UTF-8 */
    const uint32_t **name_cp; /* the same as code points */
    uint16_t *name_cp_len;
    uint64_t *name_bag;
    uint32_t *name_offset;
    uint32_t *name_accounts;

    struct segtab segments;
    size_t segments_cap;
    uint32_t *segment_offset; /* names with segment e: segment_names[off[e] .. off[e+1]) */
    uint32_t *segment_names;
    uint64_t *segment_bags; /* the bag of each of segment_names */
    /* Names too short to cut into enough segments, by length: scanned. */
    uint32_t *scan_names;
    uint32_t scan_offset[ACCOUNT_NAME_MAX + 2];
    uint32_t cut_names[ACCOUNT_NAME_MAX + 1]; /* names cut into segments, by length */
};

size_t account_index_count(const struct account_index *ix)
{
    return ix ? ix->n_accounts : 0;
}

double account_index_threshold(const struct account_index *ix)
{
    return ix ? ix->threshold : ACCOUNT_NAME_THRESHOLD_DEFAULT;
}

size_t account_index_memory(const struct account_index *ix)
{
    if (!ix)
        return 0;
    size_t nd = ix->domains.count, nn = ix->names.count, ns = ix->segments.count;
    size_t bytes = sizeof(*ix) + ix->arena.used + ix->n_accounts * sizeof(*ix->accounts);
    bytes += strtab_bytes(&ix->domains) + strtab_bytes(&ix->names);
    bytes += (nd + 1) * sizeof(uint32_t) + ix->domain_offset[nd] * sizeof(uint32_t) + nd * 2;
    bytes += nn * (sizeof(uint32_t *) + sizeof(uint16_t) + sizeof(uint64_t)) +
             (nn + 1) * sizeof(uint32_t) + ix->name_offset[nn] * sizeof(uint32_t) +
             nn * sizeof(uint32_t);
    bytes += ((size_t)ix->segments.mask + 1) * (sizeof(uint64_t) + sizeof(uint32_t)) +
             ix->segments_cap * sizeof(uint32_t) + (ns + 1) * sizeof(uint32_t) +
             ix->segment_offset[ns] * (sizeof(uint32_t) + sizeof(uint64_t)) +
             ix->scan_offset[ACCOUNT_NAME_MAX + 1] * sizeof(uint32_t);
    return bytes;
}

void account_index_free(struct account_index *ix)
{
    if (!ix)
        return;
    free(ix->accounts);
    arena_release(&ix->arena);
    strtab_release(&ix->domains);
    free(ix->domain_offset);
    free(ix->domain_accounts);
    free(ix->family_start);
    free(ix->family_len);
    strtab_release(&ix->names);
    free(ix->name_cp);
    free(ix->name_cp_len);
    free(ix->name_bag);
    free(ix->name_offset);
    free(ix->name_accounts);
    free(ix->segments.keys);
    free(ix->segments.ids);
    free(ix->segments.refs);
    free(ix->segment_bags);
    free(ix->segment_offset);
    free(ix->segment_names);
    free(ix->scan_names);
    free(ix);
}

static bt_err too_big(struct bt_error *err)
{
    return bt_fail(err, BT_ETOOBIG, "accounts", "the account index exceeds its memory limit");
}

/* Normalises one domain or website of account `id` and interns it. */
static bt_err add_domain(struct account_index *ix, const char *id, const char *field,
                         const char *raw, uint32_t *ids, uint32_t *n_ids, struct bt_error *err)
{
    struct bt_error inner = BT_ERROR_INIT;
    const char *domain;
    if (!raw || !raw[0])
        return bt_fail(err, BT_EINVAL, field, "account %s: an empty %s", id, field);
    if (normalize_website_domain(&ix->arena, raw, &domain, &inner) != BT_OK)
        return bt_fail(err, BT_EINVAL, field, "account %s: %s \"%.100s\": %s", id, field, raw,
                       strncmp(inner.message, "not a valid website: ", 21) == 0 ? inner.message + 21
                                                                                : inner.message);
    bool added;
    uint32_t d = strtab_intern(&ix->domains, domain, strlen(domain), &added);
    for (uint32_t i = 0; i < *n_ids; i++)
        if (ids[i] == d)
            return BT_OK;
    ids[(*n_ids)++] = d;
    ix->domains.refs[d]++;
    return BT_OK;
}

static bool too_long(const char *s, size_t max)
{
    return s && strnlen(s, max + 1) > max;
}

/* Pass one for accounts[i]: checks, copies, interns. */
static bt_err add_account(struct account_index *ix, struct strtab *ids, const struct account *a,
                          size_t position, struct bt_error *err)
{
    struct indexed_account *out = &ix->accounts[position];
    if (!a->id || !a->id[0])
        return bt_fail(err, BT_EINVAL, "id", "account #%zu has no id", position + 1);
    if (too_long(a->id, ACCOUNT_ID_MAX))
        return bt_fail(err, BT_ETOOBIG, "id", "account #%zu: the id is longer than %d bytes",
                       position + 1, ACCOUNT_ID_MAX);
    const char *id = a->id;
    if (too_long(a->owner, ACCOUNT_OWNER_MAX))
        return bt_fail(err, BT_ETOOBIG, "owner", "account %s: the owner is longer than %d bytes",
                       id, ACCOUNT_OWNER_MAX);
    if (too_long(a->name, ACCOUNT_NAME_MAX))
        return bt_fail(err, BT_ETOOBIG, "name", "account %s: the name is longer than %d bytes", id,
                       ACCOUNT_NAME_MAX);
    if (a->n_domains > ACCOUNT_DOMAINS_MAX)
        return bt_fail(err, BT_ETOOBIG, "domains", "account %s has more than %d domains", id,
                       ACCOUNT_DOMAINS_MAX);
    if (a->n_domains && !a->domains)
        return bt_fail(err, BT_EINVAL, "domains", "account %s: no domain list", id);

    out->id = arena_strdup(&ix->arena, id);
    if (!out->id)
        return too_big(err);
    bool added;
    strtab_intern(ids, out->id, strlen(out->id), &added);
    if (!added)
        return bt_fail(err, BT_EINVAL, "id", "account %s appears twice", id);
    if (a->owner && a->owner[0] && !(out->owner = arena_strdup(&ix->arena, a->owner)))
        return too_big(err);

    if (a->country && a->country[0]) {
        const char *code = normalize_country(a->country);
        if (!code)
            return bt_fail(err, BT_EINVAL, "country", "account %s: unknown country \"%.64s\"", id,
                           a->country);
        memcpy(out->country, code, 3);
    }

    uint32_t domain_ids[ACCOUNT_DOMAINS_MAX + 1];
    uint32_t n_ids = 0;
    for (size_t k = 0; k < a->n_domains; k++) {
        bt_err rc = add_domain(ix, id, "domains", a->domains[k], domain_ids, &n_ids, err);
        if (rc)
            return rc;
    }
    if (a->website && a->website[0]) {
        bt_err rc = add_domain(ix, id, "website", a->website, domain_ids, &n_ids, err);
        if (rc)
            return rc;
    }
    out->n_domains = n_ids;
    if (n_ids) {
        out->domains = arena_alloc(&ix->arena, n_ids * sizeof(uint32_t));
        if (!out->domains)
            return too_big(err);
        memcpy(out->domains, domain_ids, n_ids * sizeof(uint32_t));
    }

    out->name = NO_ID;
    if (a->name) {
        uint32_t key[ACCOUNT_NAME_MAX];
        size_t n;
        name_key(a->name, strlen(a->name), key, &n);
        if (n) {
            char text[ACCOUNT_NAME_MAX + 1];
            size_t len = key_text(key, n, text);
            uint64_t h = hash_bytes(text, len);
            uint32_t name = strtab_find(&ix->names, text, len, h);
            if (name == NO_ID) {
                char *copy = arena_strndup(&ix->arena, text, len);
                uint32_t *cp = arena_alloc(&ix->arena, n * sizeof(uint32_t));
                if (!copy || !cp)
                    return too_big(err);
                memcpy(cp, key, n * sizeof(uint32_t));
                name = strtab_intern(&ix->names, copy, len, &added);
                if (!added || name >= ix->n_accounts)
                    BT_BUG("name interning");
                ix->name_cp[name] = cp;
                ix->name_cp_len[name] = (uint16_t)n;
                ix->name_bag[name] = bag_of(key, n);
            }
            ix->names.refs[name]++;
            out->name = name;
        }
    }
    return BT_OK;
}

/* Turns counts into offsets: off[0..n] from refs[0..n). */
static uint32_t *offsets_of(const uint32_t *refs, size_t n)
{
    uint32_t *off = xmalloc((n + 1) * sizeof(*off));
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        off[i] = sum;
        sum += refs[i];
    }
    off[n] = sum;
    return off;
}

/* The most edits a pair whose longer side has `len` code points may have. */
static uint32_t edits_allowed(double threshold, size_t len)
{
    return (uint32_t)((1.0 - threshold) * (double)len + EPSILON);
}

/* The longest name that can reach the threshold with one of `len`. */
static size_t longest_partner(double threshold, size_t len)
{
    double high = (double)len / threshold + EPSILON;
    return high >= ACCOUNT_NAME_MAX ? ACCOUNT_NAME_MAX : (size_t)high;
}

/* Into how many segments names of `len` are cut, less one: the most edits
 * between such a name and any partner. 0: such names are never similar. */
static size_t segment_edits(double threshold, size_t len)
{
    return edits_allowed(threshold, longest_partner(threshold, len));
}

/* Segments beyond the K + 1 the pigeonhole needs: the search may then skip
 * this many of them, the most common (see match_similar()). */
#define SEGMENT_SPARE 1

static size_t segment_parts(double threshold, size_t len)
{
    return segment_edits(threshold, len) + 1 + SEGMENT_SPARE;
}

/* Cut names of `len` into segments (else scan them, or skip them at K = 0). */
static bool partitioned(double threshold, size_t len)
{
    return segment_edits(threshold, len) > 0 && segment_parts(threshold, len) <= len;
}

/* The segment index and the scan lists of the similarity search. */
static void build_segments(struct account_index *ix)
{
    size_t nn = ix->names.count, total = 0;
    double t = ix->threshold;
    const uint32_t *const *name_cp = ix->name_cp;
    for (size_t n = 0; n < nn; n++)
        if (partitioned(t, ix->name_cp_len[n]))
            total += segment_parts(t, ix->name_cp_len[n]);

    struct segtab *st = &ix->segments;
    size_t size = 16;
    while (size < total * 2)
        size *= 2;
    st->keys = xcalloc(size, sizeof(*st->keys));
    st->ids = xmalloc(size * sizeof(*st->ids));
    st->mask = (uint32_t)(size - 1);
    ix->segments_cap = total ? total : 1;
    st->refs = xmalloc(ix->segments_cap * sizeof(*st->refs));
    uint32_t *entry_of = xmalloc(ix->segments_cap * sizeof(*entry_of)); /* per cut, in order */
    size_t cuts = 0;
    for (size_t n = 0; n < nn; n++) {
        size_t len = ix->name_cp_len[n];
        if (!partitioned(t, len))
            continue;
        size_t parts = segment_parts(t, len);
        ix->cut_names[len]++;
        for (size_t i = 0; i < parts; i++) {
            size_t start, seg_len;
            segment_of(len, parts, i, &start, &seg_len);
            uint32_t e = segtab_intern(st, segment_key(name_cp[n] + start, seg_len, len, i));
            st->refs[e]++;
            entry_of[cuts++] = e;
        }
    }
    ix->segment_offset = offsets_of(st->refs, st->count);
    size_t postings = ix->segment_offset[st->count] + 1;
    ix->segment_names = xmalloc(postings * sizeof(*ix->segment_names));
    ix->segment_bags = xmalloc(postings * sizeof(*ix->segment_bags));
    for (size_t e = 0; e < st->count; e++)
        st->refs[e] = ix->segment_offset[e]; /* fill cursors; names in order, so lists sorted */
    cuts = 0;
    for (size_t n = 0; n < nn; n++) {
        size_t len = ix->name_cp_len[n];
        if (!partitioned(t, len))
            continue;
        for (size_t i = 0, parts = segment_parts(t, len); i < parts; i++) {
            uint32_t at = st->refs[entry_of[cuts++]]++;
            ix->segment_names[at] = (uint32_t)n;
            ix->segment_bags[at] = ix->name_bag[n];
        }
    }
    free(entry_of);
    for (size_t e = 0; e < st->count; e++)
        st->refs[e] = ix->segment_offset[e + 1] - ix->segment_offset[e];

    /* Names that can be similar but not cut: by length, scanned. */
    uint32_t per_length[ACCOUNT_NAME_MAX + 2] = {0};
    for (size_t n = 0; n < nn; n++) {
        size_t len = ix->name_cp_len[n];
        if (segment_edits(t, len) > 0 && !partitioned(t, len))
            per_length[len]++;
    }
    uint32_t sum = 0;
    for (size_t len = 0; len <= ACCOUNT_NAME_MAX + 1; len++) {
        ix->scan_offset[len] = sum;
        sum += per_length[len];
        per_length[len] = ix->scan_offset[len];
    }
    ix->scan_names = xmalloc((sum + 1) * sizeof(uint32_t));
    for (size_t n = 0; n < nn; n++) {
        size_t len = ix->name_cp_len[n];
        if (segment_edits(t, len) > 0 && !partitioned(t, len))
            ix->scan_names[per_length[len]++] = (uint32_t)n;
    }
}

/* Pass two: posting lists of domains and names, families, name segments. */
static void build_lists(struct account_index *ix)
{
    size_t nd = ix->domains.count, nn = ix->names.count;
    ix->domain_offset = offsets_of(ix->domains.refs, nd);
    ix->name_offset = offsets_of(ix->names.refs, nn);
    ix->domain_accounts = xmalloc((ix->domain_offset[nd] + 1) * sizeof(uint32_t));
    ix->name_accounts = xmalloc((ix->name_offset[nn] + 1) * sizeof(uint32_t));
    /* refs become fill cursors */
    for (size_t d = 0; d < nd; d++)
        ix->domains.refs[d] = ix->domain_offset[d];
    for (size_t n = 0; n < nn; n++)
        ix->names.refs[n] = ix->name_offset[n];
    for (size_t i = 0; i < ix->n_accounts; i++) {
        const struct indexed_account *a = &ix->accounts[i];
        for (uint32_t k = 0; k < a->n_domains; k++)
            ix->domain_accounts[ix->domains.refs[a->domains[k]]++] = (uint32_t)i;
        if (a->name != NO_ID)
            ix->name_accounts[ix->names.refs[a->name]++] = (uint32_t)i;
    }

    ix->family_start = xcalloc(nd + 1, 1);
    ix->family_len = xcalloc(nd + 1, 1);
    for (size_t d = 0; d < nd; d++) {
        size_t reg, suffix;
        if (split_domain(ix->domains.text[d], ix->domains.len[d], &reg, &suffix) && reg < 256 &&
            suffix - 1 - reg < 256) {
            ix->family_start[d] = (uint8_t)reg;
            ix->family_len[d] = (uint8_t)(suffix - 1 - reg);
        }
    }

    build_segments(ix);
}

bt_err account_index_new(const struct account *accounts, size_t n,
                         const struct account_index_options *options, struct account_index **out,
                         struct bt_error *err)
{
    *out = NULL;
    double threshold = options ? options->name_threshold : ACCOUNT_NAME_THRESHOLD_DEFAULT;
    if (!(threshold > 0 && threshold <= 1))
        return bt_fail(err, BT_EINVAL, "name_threshold",
                       "the name threshold must be above 0 and at most 1, not %g", threshold);
    if (n > ACCOUNT_INDEX_MAX)
        return bt_fail(err, BT_ETOOBIG, "accounts", "more than %d accounts", ACCOUNT_INDEX_MAX);
    if (n && !accounts)
        return bt_fail(err, BT_EINVAL, "accounts", "no account list");

    struct account_index *ix = xcalloc(1, sizeof(*ix));
    ix->threshold = threshold;
    ix->n_accounts = n;
    ix->arena.limit = ARENA_LIMIT;
    ix->accounts = xcalloc(n ? n : 1, sizeof(*ix->accounts));
    strtab_init(&ix->domains, n);
    strtab_init(&ix->names, n);
    ix->name_cp = xmalloc((n ? n : 1) * sizeof(*ix->name_cp)); /* a name per account at most */
    ix->name_cp_len = xmalloc((n ? n : 1) * sizeof(*ix->name_cp_len));
    ix->name_bag = xmalloc((n ? n : 1) * sizeof(*ix->name_bag));
    struct strtab ids;
    strtab_init(&ids, n);
    bt_err rc = BT_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = add_account(ix, &ids, &accounts[i], i, err);
    strtab_release(&ids);
    if (rc) {
        account_index_free(ix);
        return rc;
    }
    build_lists(ix);
    *out = ix;
    return BT_OK;
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                  */

/* What the lead offers besides the key being matched. */
struct lead_signals {
    char country[3];
    const char *family[2]; /* labels left of the public suffix */
    size_t family_len[2];
    size_t n_families;
};

struct picker {
    const struct account_index *ix;
    const struct lead_signals *lead;
    struct account_candidate best;   /* the best valid candidate */
    struct account_candidate top[2]; /* the two best accounts, valid or not */
};

static int strength(const struct account_candidate *c)
{
    switch (c->kind) {
    case ACCOUNT_MATCH_DOMAIN:
        return c->via == ACCOUNT_VIA_EMAIL_DOMAIN ? 6 : 5;
    case ACCOUNT_MATCH_PARENT_DOMAIN:
        return c->via == ACCOUNT_VIA_EMAIL_DOMAIN ? 4 : 3;
    case ACCOUNT_MATCH_NAME_EXACT:
        return 2;
    case ACCOUNT_MATCH_NAME_SIMILAR:
        return 1;
    case ACCOUNT_MATCH_NONE:
        break;
    }
    return 0;
}

static int signal_count(unsigned s)
{
    return (s & ACCOUNT_SIGNAL_COUNTRY ? 1 : 0) + (s & ACCOUNT_SIGNAL_DOMAIN_FAMILY ? 1 : 0);
}

/* Compares all but the position: > 0 when a ranks above b. */
static int compare_merit(const struct account_candidate *a, const struct account_candidate *b)
{
    int d = strength(a) - strength(b);
    if (d)
        return d;
    if (a->score != b->score)
        return a->score > b->score ? 1 : -1;
    return signal_count(a->signals) - signal_count(b->signals);
}

static bool outranks(const struct account_candidate *a, const struct account_candidate *b)
{
    if (!b->account_id)
        return a->account_id != NULL;
    if (!a->account_id)
        return false;
    int c = compare_merit(a, b);
    return c ? c > 0 : a->position < b->position;
}

static bool valid(const struct account_candidate *c)
{
    return c->kind != ACCOUNT_MATCH_NAME_SIMILAR || c->signals != 0;
}

static unsigned signals_of(const struct account_index *ix, const struct indexed_account *a,
                           const struct lead_signals *lead)
{
    unsigned s = 0;
    if (lead->country[0] && a->country[0] && lead->country[0] == a->country[0] &&
        lead->country[1] == a->country[1])
        s |= ACCOUNT_SIGNAL_COUNTRY;
    for (uint32_t k = 0; k < a->n_domains && !(s & ACCOUNT_SIGNAL_DOMAIN_FAMILY); k++) {
        uint32_t d = a->domains[k];
        size_t len = ix->family_len[d];
        for (size_t f = 0; f < lead->n_families && len; f++)
            if (lead->family_len[f] == len &&
                memcmp(lead->family[f], ix->domains.text[d] + ix->family_start[d], len) == 0)
                s |= ACCOUNT_SIGNAL_DOMAIN_FAMILY;
    }
    return s;
}

static void consider(struct picker *p, uint32_t position, enum account_match_kind kind,
                     enum account_match_via via, const char *lead_key, const char *account_key,
                     double score)
{
    const struct indexed_account *a = &p->ix->accounts[position];
    struct account_candidate c = {
        .account_id = a->id,
        .owner = a->owner,
        .position = position,
        .kind = kind,
        .via = via,
        .lead_key = lead_key,
        .account_key = account_key,
        .score = score,
        .signals = signals_of(p->ix, a, p->lead),
    };
    if (valid(&c) && outranks(&c, &p->best))
        p->best = c;
    /* top[] keeps each account's best candidate, two accounts at most */
    if (p->top[0].account_id && p->top[0].position == position) {
        if (outranks(&c, &p->top[0]))
            p->top[0] = c;
    } else if (p->top[1].account_id && p->top[1].position == position) {
        if (outranks(&c, &p->top[1]))
            p->top[1] = c;
    } else if (outranks(&c, &p->top[1])) {
        p->top[1] = c;
    }
    if (outranks(&p->top[1], &p->top[0])) {
        struct account_candidate t = p->top[0];
        p->top[0] = p->top[1];
        p->top[1] = t;
    }
}

static void consider_list(struct picker *p, const uint32_t *list, uint32_t from, uint32_t to,
                          enum account_match_kind kind, enum account_match_via via,
                          const char *lead_key, const char *account_key, double score)
{
    for (uint32_t i = from; i < to; i++)
        consider(p, list[i], kind, via, lead_key, account_key, score);
}

static void match_domain(struct picker *p, const char *domain, enum account_match_via via)
{
    const struct account_index *ix = p->ix;
    size_t len = strlen(domain);
    uint32_t d = strtab_find(&ix->domains, domain, len, hash_bytes(domain, len));
    if (d != NO_ID) {
        consider_list(p, ix->domain_accounts, ix->domain_offset[d], ix->domain_offset[d + 1],
                      ACCOUNT_MATCH_DOMAIN, via, domain, ix->domains.text[d], 1.0);
        return;
    }
    /* The nearest parent up to the registrable domain. */
    size_t reg, suffix;
    if (!split_domain(domain, len, &reg, &suffix))
        return;
    for (size_t i = 0; i < reg; i++) {
        if (domain[i] != '.')
            continue;
        const char *parent = domain + i + 1;
        size_t plen = len - i - 1;
        d = strtab_find(&ix->domains, parent, plen, hash_bytes(parent, plen));
        if (d != NO_ID) {
            consider_list(p, ix->domain_accounts, ix->domain_offset[d], ix->domain_offset[d + 1],
                          ACCOUNT_MATCH_PARENT_DOMAIN, via, domain, ix->domains.text[d], 1.0);
            return;
        }
    }
}

/* The lead's company, as the name search needs it. */
struct name_query {
    const uint32_t *cp;
    size_t len;
    uint64_t bag;
    uint32_t exact; /* the name equal to it, or NO_ID */
};

/* The Levenshtein of name `y` within k edits; its accounts if it passes. */
static void verify_name(struct picker *p, const struct name_query *q, uint32_t y, uint32_t k)
{
    const struct account_index *ix = p->ix;
    size_t ly = ix->name_cp_len[y];
    uint32_t d = levenshtein_within(q->cp, q->len, ix->name_cp[y], ly, k);
    if (d > k)
        return;
    consider_list(p, ix->name_accounts, ix->name_offset[y], ix->name_offset[y + 1],
                  ACCOUNT_MATCH_NAME_SIMILAR, ACCOUNT_VIA_COMPANY, NULL, ix->names.text[y],
                  similarity(d, q->len, ly));
}

/* Name `y` of the scan lists: screened by its bag, then verified. */
static void try_name(struct picker *p, const struct name_query *q, uint32_t y)
{
    const struct account_index *ix = p->ix;
    size_t ly = ix->name_cp_len[y];
    uint32_t k = edits_allowed(ix->threshold, q->len > ly ? q->len : ly);
    if (k > 0 && y != q->exact && bag_distance(q->bag, ix->name_bag[y]) <= k)
        verify_name(p, q, y, k);
}

/* The names of segment entry e, all of one length, at most k edits away. */
static void try_segment(struct picker *p, const struct name_query *q, uint32_t e, uint32_t k)
{
    const struct account_index *ix = p->ix;
    /* A name found through two segments is verified twice: cheaper than
     * remembering, and considering a candidate again changes nothing. */
    for (uint32_t j = ix->segment_offset[e]; j < ix->segment_offset[e + 1]; j++)
        if (ix->segment_names[j] != q->exact && bag_distance(q->bag, ix->segment_bags[j]) <= k)
            verify_name(p, q, ix->segment_names[j], k);
}

/* floor(v / 2) and ceil(v / 2) for negative v too. */
static long half_down(long v)
{
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

static long half_up(long v)
{
    return -half_down(-v);
}

/* The entry of segment i (of `parts`) of names of `len`, looked for in the
 * lead's key at the segment's own start plus `shift`; NO_ID. */
static uint32_t probe(const struct account_index *ix, const struct name_query *q, size_t len,
                      size_t parts, size_t i, long shift)
{
    size_t start, seg_len;
    segment_of(len, parts, i, &start, &seg_len);
    long at = (long)start + shift;
    if (at < 0 || (size_t)at + seg_len > q->len)
        return NO_ID;
    return segtab_find(&ix->segments, segment_key(q->cp + at, seg_len, len, i));
}

#define SEGMENT_PROBES_MAX 512

/*
 * Similar names, found by partition (the pigeonhole idea of Pass-Join, Li
 * et al., VLDB 2011). Names of length L that can be similar to anything are
 * cut into K + 2 segments, K being the most edits any partner of theirs may
 * have. d <= K edits leave at least two segments untouched, and an untouched
 * segment occurs in the lead's key shifted by some s with |s| + |D - s| <= d
 * (D the difference in length: edits left of it, then right of it). So for
 * each length in the window: probe every segment at every such shift, drop
 * the segment whose probes found the most names (one untouched segment is
 * still among the rest), and screen and verify the names the others found.
 * Names too short to cut are compared one by one.
 */
static void match_similar(struct picker *p, const struct name_query *q)
{
    const struct account_index *ix = p->ix;
    size_t lx = q->len;
    double t = ix->threshold;
    /* Lengths that can reach t: lx * t <= length <= lx / t. */
    double low = (double)lx * t - EPSILON;
    size_t longest = longest_partner(t, lx);
    size_t shortest = low <= 1 ? 1 : (size_t)low;
    if ((double)shortest < low)
        shortest++;

    for (size_t len = shortest; len <= longest; len++) {
        for (uint32_t i = ix->scan_offset[len]; i < ix->scan_offset[len + 1]; i++)
            try_name(p, q, ix->scan_names[i]);
        if (!ix->cut_names[len])
            continue; /* (and so also when names of this length are not cut) */
        size_t parts = segment_parts(t, len);
        uint32_t k = edits_allowed(t, lx > len ? lx : len);
        long delta = (long)lx - (long)len;
        long shift_lo = half_up(delta - (long)k), shift_hi = half_down(delta + (long)k);
        if (k == 0 || shift_lo > shift_hi)
            continue;

        uint32_t found[SEGMENT_PROBES_MAX];
        uint16_t found_part[SEGMENT_PROBES_MAX];
        uint32_t names[ACCOUNT_NAME_MAX]; /* per segment, then UINT32_MAX: skipped */
        size_t n_found = 0;
        bool kept_all = true;
        for (size_t i = 0; i < parts; i++) {
            names[i] = 0;
            for (long s = shift_lo; s <= shift_hi; s++) {
                uint32_t e = probe(ix, q, len, parts, i, s);
                if (e == NO_ID)
                    continue;
                names[i] += ix->segments.refs[e];
                if (n_found < SEGMENT_PROBES_MAX) {
                    found[n_found] = e;
                    found_part[n_found++] = (uint16_t)i;
                } else {
                    kept_all = false;
                }
            }
        }
        for (size_t spare = 0; spare < SEGMENT_SPARE; spare++) {
            size_t busiest = parts;
            for (size_t i = 0; i < parts; i++)
                if (names[i] != UINT32_MAX && (busiest == parts || names[i] > names[busiest]))
                    busiest = i;
            names[busiest] = UINT32_MAX;
        }
        if (kept_all) {
            for (size_t f = 0; f < n_found; f++)
                if (names[found_part[f]] != UINT32_MAX)
                    try_segment(p, q, found[f], k);
            continue;
        }
        for (size_t i = 0; i < parts; i++)
            for (long s = shift_lo; s <= shift_hi && names[i] != UINT32_MAX; s++) {
                uint32_t e = probe(ix, q, len, parts, i, s);
                if (e != NO_ID)
                    try_segment(p, q, e, k);
            }
    }
}

static void match_name(struct picker *p, const uint32_t *x, size_t lx, const char *key,
                       size_t key_len)
{
    const struct account_index *ix = p->ix;
    uint32_t exact = strtab_find(&ix->names, key, key_len, hash_bytes(key, key_len));
    if (exact != NO_ID)
        consider_list(p, ix->name_accounts, ix->name_offset[exact], ix->name_offset[exact + 1],
                      ACCOUNT_MATCH_NAME_EXACT, ACCOUNT_VIA_COMPANY, NULL, ix->names.text[exact],
                      1.0);
    struct name_query q = {.cp = x, .len = lx, .exact = exact};
    q.bag = bag_of(x, lx);
    match_similar(p, &q);
}

static void add_family(struct lead_signals *s, const char *domain)
{
    size_t reg, suffix;
    if (domain && split_domain(domain, strlen(domain), &reg, &suffix)) {
        s->family[s->n_families] = domain + reg;
        s->family_len[s->n_families] = suffix - 1 - reg;
        s->n_families++;
    }
}

static void finish(struct picker *p, struct account_match *out)
{
    out->match = p->best;
    struct account_candidate runner =
        p->best.account_id && p->top[0].position == p->best.position ? p->top[1] : p->top[0];
    if (runner.account_id) {
        if (!valid(&runner))
            runner.rejected = ACCOUNT_REJECT_NO_SIGNAL;
        else if (p->best.account_id && compare_merit(&runner, &p->best) == 0)
            runner.rejected = ACCOUNT_REJECT_TIE;
        else
            runner.rejected = ACCOUNT_REJECT_OUTRANKED;
    }
    out->runner_up = runner;
    out->ambiguous = runner.rejected == ACCOUNT_REJECT_TIE;
}

void account_match(const struct account_index *ix, const struct account_query *q,
                   struct account_match *out)
{
    memset(out, 0, sizeof(*out));
    out->threshold = account_index_threshold(ix);
    if (!q)
        return;
    uint32_t x[ACCOUNT_NAME_MAX];
    size_t lx = 0, key_len = 0;
    if (q->company) {
        size_t len = strnlen(q->company, ACCOUNT_NAME_MAX + 1);
        if (len <= ACCOUNT_NAME_MAX) {
            name_key(q->company, len, x, &lx);
            key_len = key_text(x, lx, out->company_key);
        }
    }
    if (!ix || ix->n_accounts == 0)
        return;

    struct lead_signals lead = {{0}, {NULL, NULL}, {0, 0}, 0};
    if (q->country && q->country[0] && q->country[1] && !q->country[2]) {
        for (int i = 0; i < 2; i++) {
            char c = q->country[i];
            lead.country[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
        }
    }
    const char *email =
        q->email_domain && q->email_domain[0] && !q->email_free ? q->email_domain : NULL;
    const char *website = q->website_domain && q->website_domain[0] ? q->website_domain : NULL;
    add_family(&lead, email);
    add_family(&lead, website);

    struct picker p = {.ix = ix, .lead = &lead};
    if (email)
        match_domain(&p, email, ACCOUNT_VIA_EMAIL_DOMAIN);
    if (website)
        match_domain(&p, website, ACCOUNT_VIA_WEBSITE_DOMAIN);
    /* every domain candidate is valid: none found means none considered */
    if (!p.best.account_id && lx)
        match_name(&p, x, lx, out->company_key, key_len);
    finish(&p, out);
}

struct account_query account_query_of_lead(const struct lead *lead)
{
    struct account_query q = {
        .email_domain = lead->attr[LEAD_EMAIL_DOMAIN],
        .email_free = lead->email_free,
        .website_domain = lead->attr[LEAD_WEBSITE_DOMAIN],
        .company = lead->attr[LEAD_COMPANY],
        .country = lead->attr[LEAD_COUNTRY],
    };
    return q;
}

void account_match_lead(const struct account_index *ix, const struct lead *lead,
                        struct account_match *out)
{
    struct account_query q = account_query_of_lead(lead);
    account_match(ix, &q, out);
}

/* ------------------------------------------------------------------------ */
/* Names and explanations                                                    */

const char *account_match_kind_name(enum account_match_kind kind)
{
    switch (kind) {
    case ACCOUNT_MATCH_NONE:
        return "none";
    case ACCOUNT_MATCH_DOMAIN:
        return "domain";
    case ACCOUNT_MATCH_PARENT_DOMAIN:
        return "parent_domain";
    case ACCOUNT_MATCH_NAME_EXACT:
        return "name_exact";
    case ACCOUNT_MATCH_NAME_SIMILAR:
        return "name_similar";
    }
    return "none";
}

const char *account_match_via_name(enum account_match_via via)
{
    switch (via) {
    case ACCOUNT_VIA_NONE:
        return "none";
    case ACCOUNT_VIA_EMAIL_DOMAIN:
        return "email_domain";
    case ACCOUNT_VIA_WEBSITE_DOMAIN:
        return "website_domain";
    case ACCOUNT_VIA_COMPANY:
        return "company";
    }
    return "none";
}

const char *account_reject_name(enum account_reject reason)
{
    switch (reason) {
    case ACCOUNT_REJECT_NONE:
        return "none";
    case ACCOUNT_REJECT_OUTRANKED:
        return "outranked";
    case ACCOUNT_REJECT_TIE:
        return "tie";
    case ACCOUNT_REJECT_NO_SIGNAL:
        return "no_signal";
    }
    return "none";
}

const char *account_signals_name(unsigned signals)
{
    static const char *const names[] = {"none", "country", "domain_family",
                                        "country+domain_family"};
    return names[signals & 3];
}

/* One candidate as "id by kind: ...". */
static int describe_candidate(const struct account_match *m, const struct account_candidate *c,
                              char *buf, size_t size)
{
    switch (c->kind) {
    case ACCOUNT_MATCH_DOMAIN:
        return snprintf(buf, size, "%s by domain: %s (%s)", c->account_id, c->lead_key,
                        account_match_via_name(c->via));
    case ACCOUNT_MATCH_PARENT_DOMAIN:
        return snprintf(buf, size, "%s by parent_domain: %s (%s) is under %s", c->account_id,
                        c->lead_key, account_match_via_name(c->via), c->account_key);
    case ACCOUNT_MATCH_NAME_EXACT:
        return snprintf(buf, size, "%s by name_exact: \"%s\", signals %s", c->account_id,
                        c->account_key, account_signals_name(c->signals));
    case ACCOUNT_MATCH_NAME_SIMILAR:
        return snprintf(buf, size,
                        "%s by name_similar: \"%s\" ~ \"%s\" %.3f (threshold %.2f), "
                        "signals %s",
                        c->account_id, m->company_key, c->account_key, c->score, m->threshold,
                        account_signals_name(c->signals));
    case ACCOUNT_MATCH_NONE:
        break;
    }
    return snprintf(buf, size, "%s", c->account_id ? c->account_id : "none");
}

int account_match_describe(const struct account_match *m, char *buf, size_t size)
{
    char first[ACCOUNT_NAME_MAX * 2 + 512], second[ACCOUNT_NAME_MAX * 2 + 512];
    if (m->match.account_id)
        describe_candidate(m, &m->match, first, sizeof(first));
    if (m->runner_up.account_id)
        describe_candidate(m, &m->runner_up, second, sizeof(second));
    if (m->match.account_id && m->runner_up.account_id)
        return snprintf(buf, size, "account %s; runner-up %s: %s", first, second,
                        account_reject_name(m->runner_up.rejected));
    if (m->match.account_id)
        return snprintf(buf, size, "account %s", first);
    if (m->runner_up.account_id)
        return snprintf(buf, size, "no account; closest %s: %s", second,
                        account_reject_name(m->runner_up.rejected));
    return snprintf(buf, size, "no account");
}
