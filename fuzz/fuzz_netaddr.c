/*
 * fuzz_netaddr.c - libFuzzer target: client addresses as clients send them,
 * the X-Forwarded-For walk behind trusted proxies, and prefix parsing from
 * the config; a parsed address must format and parse back to itself.
 */
#include "util/netaddr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct net_addr a, back;
    if (netaddr_parse(s, size, &a)) {
        char text[NETADDR_TEXT_MAX];
        netaddr_format(&a, text);
        size_t n = a.family == 4 ? 4 : 16;
        if (!netaddr_parse(text, strlen(text), &back) || back.family != a.family ||
            memcmp(a.bytes, back.bytes, n) != 0)
            abort(); /* what we print we must read back the same */
        uint8_t key[NETADDR_LIMIT_KEY];
        (void)netaddr_limit_key(&a, key);
    }
    struct net_prefix p;
    (void)netaddr_parse_prefix(s, size, &p);
    /* the header as a C string, from a trusted loopback proxy */
    char *header = malloc(size + 1);
    memcpy(header, data, size);
    header[size] = '\0';
    struct net_addr peer, client;
    struct net_prefix trusted[2];
    if (!netaddr_parse("127.0.0.1", 9, &peer) ||
        !netaddr_parse_prefix("127.0.0.0/8", 11, &trusted[0]) ||
        !netaddr_parse_prefix("fd00::/8", 8, &trusted[1]))
        abort();
    netaddr_forwarded_client(&peer, header, trusted, 2, &client);
    free(header);
    return 0;
}
