/*
 * test_netaddr.c - addresses and prefixes from text and sockets, mapped
 * IPv4, what a rate limit counts (an IPv6 client by its /64), and the client
 * behind trusted proxies: spoofed X-Forwarded-For entries, ports, garbage,
 * several headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static struct net_addr addr(const char *s)
{
    struct net_addr a;
    if (!netaddr_parse(s, strlen(s), &a))
        fail_msg("not an address: %s", s);
    return a;
}

static struct net_prefix prefix(const char *s)
{
    struct net_prefix p;
    if (!netaddr_parse_prefix(s, strlen(s), &p))
        fail_msg("not a prefix: %s", s);
    return p;
}

static const char *text(const struct net_addr *a)
{
    static char buf[NETADDR_TEXT_MAX];
    netaddr_format(a, buf);
    return buf;
}

static void test_parse_and_format(void **state)
{
    (void)state;
    struct net_addr a = addr("192.0.2.1");
    assert_int_equal(a.family, 4);
    assert_string_equal(text(&a), "192.0.2.1");
    a = addr("2001:DB8::1");
    assert_int_equal(a.family, 6);
    assert_string_equal(text(&a), "2001:db8::1");
    a = addr("::ffff:198.51.100.7"); /* mapped: the IPv4 address */
    assert_int_equal(a.family, 4);
    assert_string_equal(text(&a), "198.51.100.7");
    const char *bad[] = {"",          "1.2.3",     "1.2.3.4.5",
                         "256.1.1.1", "01.2.3.4x", "example.com",
                         "[::1]",     "::1%eth0",  "1.2.3.4 ",
                         " 1.2.3.4",  "::g",       "1111:2222:3333:4444:5555:6666:7777:8888:9999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct net_addr x;
        if (netaddr_parse(bad[i], strlen(bad[i]), &x))
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(x.family, 0);
    }
    /* only the given bytes count */
    assert_true(netaddr_parse("10.0.0.1junk", 8, &a));
    assert_string_equal(text(&a), "10.0.0.1");
    struct net_addr none = {0};
    assert_string_equal(text(&none), "-");
}

static void test_from_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, "203.0.113.9", &a4.sin_addr);
    struct net_addr a;
    assert_true(netaddr_from_sockaddr((struct sockaddr *)&a4, &a));
    assert_string_equal(text(&a), "203.0.113.9");
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:203.0.113.9", &a6.sin6_addr);
    assert_true(netaddr_from_sockaddr((struct sockaddr *)&a6, &a));
    assert_int_equal(a.family, 4);
    assert_string_equal(text(&a), "203.0.113.9");
    inet_pton(AF_INET6, "2001:db8:1:2::5", &a6.sin6_addr);
    assert_true(netaddr_from_sockaddr((struct sockaddr *)&a6, &a));
    assert_string_equal(text(&a), "2001:db8:1:2::5");
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_false(netaddr_from_sockaddr((struct sockaddr *)&un, &a));
    assert_false(netaddr_from_sockaddr(NULL, &a));
}

static void test_prefixes(void **state)
{
    (void)state;
    struct net_prefix p = prefix("10.0.0.0/8");
    assert_int_equal(p.bits, 8);
    struct net_addr in = addr("10.200.3.4"), out = addr("11.0.0.1"), v6 = addr("::a00:1");
    assert_true(netaddr_in_prefix(&in, &p));
    assert_false(netaddr_in_prefix(&out, &p));
    assert_false(netaddr_in_prefix(&v6, &p)); /* another family */
    p = prefix("192.168.1.128/25");
    struct net_addr a = addr("192.168.1.200"), b = addr("192.168.1.127");
    assert_true(netaddr_in_prefix(&a, &p));
    assert_false(netaddr_in_prefix(&b, &p));
    p = prefix("127.0.0.1"); /* one address */
    assert_int_equal(p.bits, 32);
    a = addr("127.0.0.1");
    b = addr("127.0.0.2");
    assert_true(netaddr_in_prefix(&a, &p));
    assert_false(netaddr_in_prefix(&b, &p));
    p = prefix("2001:db8::/32");
    a = addr("2001:db8:ffff::1");
    b = addr("2001:db9::1");
    assert_true(netaddr_in_prefix(&a, &p));
    assert_false(netaddr_in_prefix(&b, &p));
    p = prefix("0.0.0.0/0");
    assert_true(netaddr_in_prefix(&out, &p));
    p = prefix("::/0");
    assert_true(netaddr_in_prefix(&v6, &p));
    assert_false(netaddr_in_prefix(&out, &p));
    const char *bad[] = {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1",   "10.0.0.0/8/8",
                         "::/129",     "::1/64",      "/8",        "10.0.0.0/0008", "x/8"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct net_prefix x;
        if (netaddr_parse_prefix(bad[i], strlen(bad[i]), &x))
            fail_msg("accepted '%s'", bad[i]);
    }
}

static void test_limit_key(void **state)
{
    (void)state;
    uint8_t k1[NETADDR_LIMIT_KEY], k2[NETADDR_LIMIT_KEY];
    struct net_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
    size_t n1 = netaddr_limit_key(&a, k1), n2 = netaddr_limit_key(&b, k2);
    assert_int_equal(n1, 5);
    assert_false(n1 == n2 && !memcmp(k1, k2, n1));
    /* one IPv6 network is one client, another network another */
    a = addr("2001:db8:1:2:aaaa::1");
    b = addr("2001:db8:1:2:ffff:1:2:3");
    n1 = netaddr_limit_key(&a, k1);
    n2 = netaddr_limit_key(&b, k2);
    assert_int_equal(n1, 9);
    assert_true(n1 == n2 && !memcmp(k1, k2, n1));
    b = addr("2001:db8:1:3::1");
    n2 = netaddr_limit_key(&b, k2);
    assert_false(!memcmp(k1, k2, n1));
    /* 0.0.0.1 and ::1 differ by family */
    a = addr("0.0.0.1");
    b = addr("::1");
    n1 = netaddr_limit_key(&a, k1);
    n2 = netaddr_limit_key(&b, k2);
    assert_false(n1 == n2 && !memcmp(k1, k2, n1));
}

static const char *client(const char *peer, const char *xff, const struct net_prefix *trusted,
                          size_t n)
{
    struct net_addr p = addr(peer), out;
    netaddr_forwarded_client(&p, xff, trusted, n, &out);
    return text(&out);
}

static void test_forwarded_client(void **state)
{
    (void)state;
    struct net_prefix trusted[] = {prefix("127.0.0.1"), prefix("10.0.0.0/8"), prefix("fd00::/8")};
    size_t n = 3;
    /* the peer is not a trusted proxy: the header is the client's word, ignored */
    assert_string_equal(client("198.51.100.1", "1.2.3.4", trusted, n), "198.51.100.1");
    /* no header, or no proxies configured */
    assert_string_equal(client("127.0.0.1", NULL, trusted, n), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "1.2.3.4", trusted, 0), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "", trusted, n), "127.0.0.1");
    /* through one proxy */
    assert_string_equal(client("127.0.0.1", "203.0.113.5", trusted, n), "203.0.113.5");
    /* a client that sends its own header gains nothing: the rightmost
     * untrusted entry is what our proxy saw */
    assert_string_equal(client("127.0.0.1", "6.6.6.6, 203.0.113.5", trusted, n), "203.0.113.5");
    assert_string_equal(client("127.0.0.1", "10.1.1.1, 203.0.113.5", trusted, n), "203.0.113.5");
    /* through a chain of trusted proxies */
    assert_string_equal(
        client("127.0.0.1", "6.6.6.6,203.0.113.5 ,\t10.0.0.7, 10.0.0.8", trusted, n),
        "203.0.113.5");
    /* every hop trusted: the leftmost */
    assert_string_equal(client("127.0.0.1", "10.0.0.9, 10.0.0.7", trusted, n), "10.0.0.9");
    /* ports and brackets */
    assert_string_equal(client("127.0.0.1", "203.0.113.5:4711", trusted, n), "203.0.113.5");
    assert_string_equal(client("127.0.0.1", "[2001:db8::7]:4711", trusted, n), "2001:db8::7");
    assert_string_equal(client("127.0.0.1", "[2001:db8::7]", trusted, n), "2001:db8::7");
    assert_string_equal(client("127.0.0.1", "2001:db8::7", trusted, n), "2001:db8::7");
    assert_string_equal(client("fd00::1", "2001:db8::7, fd12::3", trusted, n), "2001:db8::7");
    /* garbage stops the walk at the last trusted hop */
    const char *garbage[] = {"unknown",      "example.com", ",",         " ",
                             "203.0.113.5,", "[::1",        "[1.2.3.4]", "[::1]x",
                             "1.2.3.4:5:6x", "_hidden"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        assert_string_equal(client("127.0.0.1", garbage[i], trusted, n), "127.0.0.1");
    assert_string_equal(client("127.0.0.1", "203.0.113.5, unknown, 10.0.0.2", trusted, n),
                        "10.0.0.2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format), cmocka_unit_test(test_from_sockaddr),
        cmocka_unit_test(test_prefixes),         cmocka_unit_test(test_limit_key),
        cmocka_unit_test(test_forwarded_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
