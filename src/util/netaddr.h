/*
 * netaddr.h - client addresses: IPv4 and IPv6 addresses and prefixes, what
 * a rate limit counts an address by, and the client behind trusted proxies
 * (X-Forwarded-For).
 *
 * An IPv4 address mapped into IPv6 (::ffff:192.0.2.1, as a dual-stack
 * socket reports it) is the IPv4 address. Pure: no I/O, no allocation.
 */
#ifndef BT_NETADDR_H
#define BT_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct net_addr {
    uint8_t family;    /* 4 or 6; 0: none */
    uint8_t bytes[16]; /* network order; IPv4 in the first 4 */
};

struct net_prefix {
    struct net_addr addr; /* the bits past `bits` are zero */
    uint8_t bits;         /* 0 .. 32 or 0 .. 128 */
};

#define NETADDR_TEXT_MAX  46 /* INET6_ADDRSTRLEN */
#define NETADDR_LIMIT_KEY 9  /* bytes of netaddr_limit_key's key */

/* From an AF_INET or AF_INET6 socket address; false for anything else. */
bool netaddr_from_sockaddr(const struct sockaddr *sa, struct net_addr *out);

/* "192.0.2.1" or "2001:db8::1" (s[0..len), no brackets, no port). */
bool netaddr_parse(const char *s, size_t len, struct net_addr *out);

/* "10.0.0.0/8", "2001:db8::/32", or one address (all its bits). False when
 * malformed, the length is too long for the family, or bits past the
 * length are set ("10.0.0.1/8": the writer meant something else). */
bool netaddr_parse_prefix(const char *s, size_t len, struct net_prefix *out);

bool netaddr_in_prefix(const struct net_addr *a, const struct net_prefix *p);
/* 127.0.0.0/8 or ::1 (an IPv4-mapped address counts as IPv4). */
bool netaddr_is_loopback(const struct net_addr *a);

/* "192.0.2.1", "2001:db8::1" into buf (NETADDR_TEXT_MAX bytes). */
void netaddr_format(const struct net_addr *a, char *buf);

/*
 * The bytes a rate limit counts a client by: an IPv4 address whole, an
 * IPv6 address by its first 64 bits (one network, which is what a single
 * client is usually given: counting its 2^64 addresses one by one would
 * let it pick a fresh one per request). Returns the key's length.
 */
size_t netaddr_limit_key(const struct net_addr *a, uint8_t out[NETADDR_LIMIT_KEY]);

/*
 * The client of a request that arrived from `peer`. When the peer is one
 * of the `trusted` proxies, X-Forwarded-For (`forwarded`, every such header
 * joined by commas, or NULL) is read from the right: each proxy appends the
 * address it received from, so the first address from the right that is
 * not a trusted proxy is the client (any address left of it was written by
 * the client itself and proves nothing). An element that is not an address
 * ("unknown", a name) ends the walk at the last trusted hop. Elements may
 * carry a port ("192.0.2.1:4711", "[2001:db8::1]:4711").
 */
void netaddr_forwarded_client(const struct net_addr *peer, const char *forwarded,
                              const struct net_prefix *trusted, size_t n_trusted,
                              struct net_addr *out);

#endif
