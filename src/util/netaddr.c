/*
 * netaddr.c - addresses, prefixes and X-Forwarded-For (see netaddr.h).
 * Text goes through inet_pton/inet_ntop, which do not depend on the locale
 * and accept only numeric forms (never a name that would need a lookup).
 */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void from_v6(const uint8_t b[16], struct net_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!memcmp(b, v4_mapped, sizeof(v4_mapped))) {
        out->family = 4;
        memcpy(out->bytes, b + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, b, 16);
    }
}

bool netaddr_from_sockaddr(const struct sockaddr *sa, struct net_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        out->family = 4;
        memcpy(out->bytes, &a4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        from_v6((const uint8_t *)&a6->sin6_addr, out);
        return true;
    }
    return false;
}

bool netaddr_parse(const char *s, size_t len, struct net_addr *out)
{
    char text[NETADDR_TEXT_MAX];
    memset(out, 0, sizeof(*out));
    if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len))
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    uint8_t b[16];
    if (inet_pton(AF_INET, text, b) == 1) {
        out->family = 4;
        memcpy(out->bytes, b, 4);
        return true;
    }
    if (inet_pton(AF_INET6, text, b) == 1) {
        from_v6(b, out);
        return true;
    }
    return false;
}

bool netaddr_parse_prefix(const char *s, size_t len, struct net_prefix *out)
{
    memset(out, 0, sizeof(*out));
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (!netaddr_parse(s, alen, &out->addr))
        return false;
    unsigned max = out->addr.family == 4 ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dlen = len - alen - 1;
        if (dlen == 0 || dlen > 3)
            return false;
        bits = 0;
        for (size_t i = 0; i < dlen; i++) {
            if (d[i] < '0' || d[i] > '9')
                return false;
            bits = bits * 10 + (unsigned)(d[i] - '0');
        }
        if (bits > max)
            return false;
    }
    for (unsigned i = bits; i < max; i++)
        if (out->addr.bytes[i / 8] & (0x80 >> (i % 8)))
            return false;
    out->bits = (uint8_t)bits;
    return true;
}

bool netaddr_in_prefix(const struct net_addr *a, const struct net_prefix *p)
{
    if (a->family != p->addr.family || !a->family)
        return false;
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(a->bytes, p->addr.bytes, full))
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == p->addr.bytes[full];
}

void netaddr_format(const struct net_addr *a, char *buf)
{
    if (a->family == 4)
        inet_ntop(AF_INET, a->bytes, buf, NETADDR_TEXT_MAX);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->bytes, buf, NETADDR_TEXT_MAX);
    else
        strcpy(buf, "-");
}

size_t netaddr_limit_key(const struct net_addr *a, uint8_t out[NETADDR_LIMIT_KEY])
{
    size_t n = a->family == 4 ? 4 : 8;
    out[0] = a->family;
    memcpy(out + 1, a->bytes, n);
    return 1 + n;
}

static bool trusted_hop(const struct net_addr *a, const struct net_prefix *trusted, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (netaddr_in_prefix(a, &trusted[i]))
            return true;
    return false;
}

/* One X-Forwarded-For element, trimmed: an address, "[v6]", "[v6]:port"
 * or "v4:port". */
static bool parse_hop(const char *s, size_t len, struct net_addr *out)
{
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return false;
        size_t after = len - (size_t)(close - s) - 1;
        if (after > 0 && close[1] != ':')
            return false;
        if (!netaddr_parse(s + 1, (size_t)(close - s) - 1, out) || out->family != 6)
            return false;
        return true;
    }
    const char *colon = memchr(s, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1)) {
        /* one colon: IPv4 with a port */
        return netaddr_parse(s, (size_t)(colon - s), out) && out->family == 4;
    }
    return netaddr_parse(s, len, out);
}

void netaddr_forwarded_client(const struct net_addr *peer, const char *forwarded,
                              const struct net_prefix *trusted, size_t n_trusted,
                              struct net_addr *out)
{
    *out = *peer;
    if (!forwarded || !trusted_hop(peer, trusted, n_trusted))
        return;
    size_t end = strlen(forwarded);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && forwarded[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (forwarded[a] == ' ' || forwarded[a] == '\t'))
            a++;
        while (b > a && (forwarded[b - 1] == ' ' || forwarded[b - 1] == '\t'))
            b--;
        struct net_addr hop;
        if (!parse_hop(forwarded + a, b - a, &hop))
            return;
        *out = hop;
        if (!trusted_hop(&hop, trusted, n_trusted))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

bool netaddr_is_loopback(const struct net_addr *a)
{
    static const uint8_t one[16] = {[15] = 1};
    if (a->family == 4)
        return a->bytes[0] == 127;
    return a->family == 6 && !memcmp(a->bytes, one, 16);
}
