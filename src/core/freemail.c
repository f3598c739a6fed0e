/*
 * freemail.c - the sets of consumer mail domains and of disposable
 * (throwaway) mail domains.
 *
 * A lead from a consumer address says nothing about the company behind it,
 * so scoring and account matching need to know. The set is built once per
 * configuration snapshot from the built-in list plus the config's additions
 * minus its removals, then only read: a sorted array of lower-case domains
 * searched by bsearch(), which is small, cache-friendly and needs no hashing.
 */
#include "core/normalize.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct freemail_set {
    char **domains; /* sorted by strcmp, unique, lower case, owned */
    size_t count;
};

/* Consumer providers by region; exact domains only (no subdomain matching). */
static const char *const builtin_domains[] = {
    /* Google, Yahoo, Microsoft, Apple, AOL */
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.co.in",
    "yahoo.co.jp",
    "yahoo.co.id",
    "yahoo.co.nz",
    "yahoo.co.za",
    "yahoo.co.th",
    "yahoo.com.au",
    "yahoo.com.br",
    "yahoo.com.ar",
    "yahoo.com.mx",
    "yahoo.com.sg",
    "yahoo.com.hk",
    "yahoo.com.tw",
    "yahoo.com.ph",
    "yahoo.com.vn",
    "yahoo.ca",
    "yahoo.fr",
    "yahoo.de",
    "yahoo.it",
    "yahoo.es",
    "yahoo.ie",
    "yahoo.in",
    "yahoo.gr",
    "yahoo.se",
    "yahoo.dk",
    "yahoo.no",
    "ymail.com",
    "rocketmail.com",
    "outlook.com",
    "outlook.fr",
    "outlook.de",
    "outlook.es",
    "outlook.it",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "hotmail.it",
    "hotmail.es",
    "hotmail.nl",
    "hotmail.be",
    "hotmail.ca",
    "hotmail.com.br",
    "hotmail.com.ar",
    "live.com",
    "live.co.uk",
    "live.fr",
    "live.de",
    "live.it",
    "live.nl",
    "live.ca",
    "live.com.au",
    "live.com.mx",
    "msn.com",
    "windowslive.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "aol.co.uk",
    "aol.de",
    "aol.fr",
    "aim.com",
    /* generic and privacy-focused providers */
    "mail.com",
    "email.com",
    "usa.com",
    "post.com",
    "inbox.com",
    "hey.com",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "tutanota.com",
    "tutanota.de",
    "tuta.io",
    "tutamail.com",
    "zoho.com",
    "zohomail.com",
    "fastmail.com",
    "fastmail.fm",
    "hushmail.com",
    "mailbox.org",
    "posteo.de",
    "lycos.com",
    "excite.com",
    "netscape.net",
    /* Germany, Austria, Switzerland */
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "gmx.at",
    "gmx.ch",
    "gmx.fr",
    "gmx.co.uk",
    "web.de",
    "t-online.de",
    "freenet.de",
    "arcor.de",
    "bluewin.ch",
    /* Russia, Ukraine, Belarus, Kazakhstan */
    "mail.ru",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "yandex.ru",
    "yandex.com",
    "yandex.ua",
    "yandex.by",
    "yandex.kz",
    "ya.ru",
    "rambler.ru",
    "ukr.net",
    "i.ua",
    /* China, Korea, Japan, India */
    "qq.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "foxmail.com",
    "aliyun.com",
    "139.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "nate.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "i.softbank.jp",
    "rediffmail.com",
    /* France, Italy, Belgium, Netherlands, Portugal */
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "neuf.fr",
    "bbox.fr",
    "libero.it",
    "virgilio.it",
    "alice.it",
    "tin.it",
    "tiscali.it",
    "email.it",
    "fastwebnet.it",
    "telenet.be",
    "skynet.be",
    "ziggo.nl",
    "planet.nl",
    "home.nl",
    "kpnmail.nl",
    "sapo.pt",
    /* United Kingdom and Ireland */
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "talktalk.net",
    "blueyonder.co.uk",
    "ntlworld.com",
    "tiscali.co.uk",
    "eircom.net",
    /* North America */
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "optonline.net",
    "juno.com",
    "netzero.net",
    "roadrunner.com",
    "centurylink.net",
    "windstream.net",
    "shaw.ca",
    "rogers.com",
    "sympatico.ca",
    "videotron.ca",
    "telus.net",
    /* Australia and New Zealand */
    "bigpond.com",
    "bigpond.net.au",
    "optusnet.com.au",
    "iinet.net.au",
    "xtra.co.nz",
    /* Central and Eastern Europe, Nordics, Greece */
    "seznam.cz",
    "email.cz",
    "centrum.cz",
    "atlas.cz",
    "wp.pl",
    "onet.pl",
    "o2.pl",
    "interia.pl",
    "op.pl",
    "tlen.pl",
    "zoznam.sk",
    "azet.sk",
    "centrum.sk",
    "abv.bg",
    "citromail.hu",
    "freemail.hu",
    "inbox.lv",
    "online.no",
    "otenet.gr",
    /* Brazil */
    "bol.com.br",
    "uol.com.br",
    "terra.com.br",
    "ig.com.br",
};

#define BUILTIN_COUNT (sizeof(builtin_domains) / sizeof(builtin_domains[0]))

/* Throwaway inbox services: an address there is made for one sign-up and
 * read by nobody later. The widely used ones; the config adds the rest. */
static const char *const builtin_disposable[] = {
    "10minutemail.com",   "10minutemail.net",  "20minutemail.com",  "33mail.com",
    "anonaddy.me",        "burnermail.io",     "discard.email",     "dispostable.com",
    "dropmail.me",        "emailondeck.com",   "fakeinbox.com",     "getairmail.com",
    "getnada.com",        "guerrillamail.biz", "guerrillamail.com", "guerrillamail.de",
    "guerrillamail.info", "guerrillamail.net", "guerrillamail.org", "guerrillamailblock.com",
    "harakirimail.com",   "inboxbear.com",     "jetable.org",       "mailcatch.com",
    "maildrop.cc",        "mailinator.com",    "mailinator.net",    "mailnesia.com",
    "mailsac.com",        "mintemail.com",     "mohmal.com",        "moakt.com",
    "mytemp.email",       "nada.email",        "sharklasers.com",   "spam4.me",
    "spambox.us",         "spamgourmet.com",   "temp-mail.io",      "temp-mail.org",
    "tempail.com",        "tempmail.com",      "tempmail.net",      "tempmailo.com",
    "tempr.email",        "throwawaymail.com", "trashmail.com",     "trashmail.de",
    "trashmail.net",      "yopmail.com",       "yopmail.fr",        "yopmail.net",
};

#define BUILTIN_DISPOSABLE_COUNT (sizeof(builtin_disposable) / sizeof(builtin_disposable[0]))

static int compare_domains(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *lower_copy(const char *s)
{
    char *copy = xstrdup(s);
    for (char *p = copy; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return copy;
}

static bool listed(const char *domain, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] && strcasecmp(list[i], domain) == 0)
            return true;
    }
    return false;
}

static struct freemail_set *set_new(const char *const *builtin, size_t n_builtin,
                                    const char *const *add, size_t n_add, const char *const *remove,
                                    size_t n_remove)
{
    if (!add)
        n_add = 0;
    if (!remove)
        n_remove = 0;
    struct freemail_set *set = xcalloc(1, sizeof(*set));
    set->domains = xcalloc(n_builtin + n_add + 1, sizeof(*set->domains));
    size_t n = 0;
    for (size_t i = 0; i < n_builtin; i++)
        set->domains[n++] = lower_copy(builtin[i]);
    for (size_t i = 0; i < n_add; i++) {
        if (add[i] && add[i][0])
            set->domains[n++] = lower_copy(add[i]);
    }
    qsort(set->domains, n, sizeof(*set->domains), compare_domains);

    /* Drop duplicates and removals in one pass; removal wins over addition. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        char *d = set->domains[i];
        bool duplicate = kept > 0 && strcmp(set->domains[kept - 1], d) == 0;
        if (duplicate || listed(d, remove, n_remove))
            free(d);
        else
            set->domains[kept++] = d;
    }
    set->count = kept;
    return set;
}

struct freemail_set *freemail_set_new(const char *const *add, size_t n_add,
                                      const char *const *remove, size_t n_remove)
{
    return set_new(builtin_domains, BUILTIN_COUNT, add, n_add, remove, n_remove);
}

struct freemail_set *disposable_set_new(const char *const *add, size_t n_add,
                                        const char *const *remove, size_t n_remove)
{
    return set_new(builtin_disposable, BUILTIN_DISPOSABLE_COUNT, add, n_add, remove, n_remove);
}

void freemail_set_free(struct freemail_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        free(set->domains[i]);
    free(set->domains);
    free(set);
}

static int compare_key(const void *key, const void *elem)
{
    return strcasecmp(key, *(char *const *)elem);
}

bool freemail_contains(const struct freemail_set *set, const char *domain)
{
    if (!set || !domain || set->count == 0)
        return false;
    return bsearch(domain, set->domains, set->count, sizeof(*set->domains), compare_key) != NULL;
}

size_t freemail_count(const struct freemail_set *set)
{
    return set ? set->count : 0;
}
