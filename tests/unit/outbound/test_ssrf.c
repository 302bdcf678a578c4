/* ssrf_check_addr / ssrf_classify / ssrf_policy_parse: every address of the
 * security catalogue A.1-A.5 (and the connect targets of A.3, A.8), by ID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "outbound/ssrf.h"

struct addr_case {
    const char *id;
    const char *addr;
    bool allow;
};

static const struct addr_case addr_cases[] = {
    /* A.1 loopback and this host (connect targets of every spelling) */
    {"SSRF-001", "127.0.0.1", false},
    {"SSRF-002", "127.255.255.254", false},
    {"SSRF-014", "0.0.0.0", false},
    {"SSRF-016", "0.1.2.3", false},
    {"SSRF-023", "255.255.255.255", false},
    {"SSRF-087", "87.0.0.1", true}, /* SSRF-012's octal target is public: REJECT is at validation */
    /* A.3 cloud metadata */
    {"SSRF-040", "169.254.169.254", false},
    {"SSRF-041", "fd00:ec2::254", false},
    {"SSRF-042", "169.254.170.2", false},
    {"SSRF-043", "169.254.170.23", false},
    {"SSRF-043", "fd00:ec2::23", false},
    {"SSRF-044", "169.254.169.253", false},
    {"SSRF-044", "169.254.169.123", false},
    {"SSRF-045", "100.100.100.200", false},
    {"SSRF-046", "192.0.0.192", false},
    {"SSRF-049", "::ffff:169.254.169.254", false},
    {"SSRF-049", "::ffff:a9fe:a9fe", false},
    {"SSRF-050", "64:ff9b::a9fe:a9fe", false},
    {"SSRF-051", "64:ff9b:1::a9fe:a9fe", false},
    {"SSRF-052", "2002:a9fe:a9fe::", false},
    {"SSRF-053", "::169.254.169.254", false},
    /* A.4 private, shared and special IPv4 (boundaries) */
    {"SSRF-060", "10.0.0.1", false},
    {"SSRF-060", "10.255.255.255", false},
    {"SSRF-061", "172.16.0.1", false},
    {"SSRF-061", "172.31.255.255", false},
    {"SSRF-062", "172.15.255.255", true},
    {"SSRF-062", "172.32.0.1", true},
    {"SSRF-063", "192.168.0.1", false},
    {"SSRF-063", "192.168.255.255", false},
    {"SSRF-064", "100.64.0.1", false},
    {"SSRF-064", "100.127.255.254", false},
    {"SSRF-065", "100.63.255.254", true},
    {"SSRF-065", "100.128.0.1", true},
    {"SSRF-066", "169.254.0.1", false},
    {"SSRF-067", "192.0.0.1", false},
    {"SSRF-068", "192.0.2.1", false},
    {"SSRF-068", "198.51.100.1", false},
    {"SSRF-068", "203.0.113.1", false},
    {"SSRF-069", "198.18.0.1", false},
    {"SSRF-069", "198.19.255.254", false},
    {"SSRF-069", "198.20.0.1", true},
    {"SSRF-070", "192.88.99.1", false},
    {"SSRF-071", "224.0.0.1", false},
    {"SSRF-071", "239.255.255.250", false},
    {"SSRF-072", "240.0.0.1", false},
    {"SSRF-072", "255.255.255.255", false},
    {"SSRF-073", "8.8.8.8", true},
    {"SSRF-073", "1.1.1.1", true},
    /* A.5 IPv6 */
    {"SSRF-080", "::1", false},
    {"SSRF-080", "0:0:0:0:0:0:0:1", false},
    {"SSRF-081", "::", false},
    {"SSRF-082", "::ffff:127.0.0.1", false},
    {"SSRF-082", "::ffff:7f00:1", false},
    {"SSRF-083", "::ffff:0.0.0.0", false},
    {"SSRF-084", "::ffff:10.0.0.1", false},
    {"SSRF-084", "::ffff:192.168.1.1", false},
    {"SSRF-084", "::ffff:8.8.8.8", true}, /* unwrapped: same verdict as 8.8.8.8 */
    {"SSRF-085", "::127.0.0.1", false},
    {"SSRF-085", "::7f00:1", false},
    {"SSRF-085", "::8.8.8.8", false},
    {"SSRF-086", "::ffff:0:127.0.0.1", false},
    {"SSRF-086", "::ffff:0:808:808", false},
    {"SSRF-087", "64:ff9b::7f00:1", false},
    {"SSRF-087", "64:ff9b::a00:1", false},
    {"SSRF-088", "64:ff9b::808:808", false},
    {"SSRF-089", "2002:7f00:1::", false},
    {"SSRF-089", "2002:a00:1::1", false},
    {"SSRF-090", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
    {"SSRF-091", "fc00::1", false},
    {"SSRF-091", "fd12:3456:789a::1", false},
    {"SSRF-092", "fe80::1", false},
    {"SSRF-094", "fec0::1", false},
    {"SSRF-095", "ff02::1", false},
    {"SSRF-095", "ff05::2", false},
    {"SSRF-096", "100::1", false},
    {"SSRF-096", "2001:db8::1", false},
    {"SSRF-096", "2001:10::1", false},
    {"SSRF-096", "2001:20::1", false},
    {"SSRF-096", "2001:2::1", false},
    {"SSRF-096", "3fff::1", false},
    {"SSRF-096", "4000::1", false}, /* outside 2000::/3 */
    {"SSRF-097", "2606:4700:4700::1111", true},
    {"SSRF-097", "2001:4860:4860::8888", true},
};

static void
to_sockaddr(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(s, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, s, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, s, &s4->sin_addr), 1);
    }
}

static void
ssrf_a1_a5_classification(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        const struct addr_case *c = &addr_cases[i];
        struct sockaddr_storage ss;
        char why[96];
        bool got;

        to_sockaddr(c->addr, &ss);
        got = ssrf_check_addr(NULL, (struct sockaddr *)&ss, why, sizeof(why));
        if (got != c->allow)
            fail_msg("%s %s: expected %s, got %s (%s)", c->id, c->addr, c->allow ? "ALLOW" : "DENY",
                     got ? "ALLOW" : "DENY", why);
        if (!got && why[0] == '\0')
            fail_msg("%s %s: no reason given", c->id, c->addr);
    }
}

static void
ssrf_reason_names_the_range(void **state)
{
    (void)state;
    static const struct {
        const char *addr, *why;
    } cases[] = {
        {"127.0.0.1", "loopback"},          {"::ffff:127.0.0.1", "loopback"},
        {"10.1.2.3", "private (RFC 1918)"}, {"100.64.0.1", "CGNAT"},
        {"2002:7f00:1::", "6to4"},          {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"},
        {"64:ff9b::7f00:1", "NAT64"},       {"fe80::1", "link-local"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        char why[96];
        to_sockaddr(cases[i].addr, &ss);
        assert_false(ssrf_check_addr(NULL, (struct sockaddr *)&ss, why, sizeof(why)));
        if (strstr(why, cases[i].why) == NULL)
            fail_msg("%s: reason '%s' lacks '%s'", cases[i].addr, why, cases[i].why);
    }
}

static void
ssrf_unsupported_family_denied(void **state)
{
    struct sockaddr sa = {.sa_family = AF_UNIX};
    char why[64];
    (void)state;
    assert_false(ssrf_check_addr(NULL, &sa, why, sizeof(why)));
    assert_false(ssrf_check_addr(NULL, NULL, NULL, 0));
}

/* Allow-list entries override the default deny for exactly their range. */
static void
ssrf_allow_list_exact_cidr(void **state)
{
    static const struct {
        const char *addr;
        enum ssrf_verdict v;
    } cases[] = {
        {"127.0.0.2", SSRF_ALLOW_LISTED},
        {"::ffff:127.0.0.2", SSRF_ALLOW_LISTED}, /* the same IPv4 host */
        {"127.0.0.1", SSRF_DENY},
        {"127.0.0.3", SSRF_DENY},
        {"10.9.0.1", SSRF_ALLOW_LISTED},
        {"10.9.255.255", SSRF_ALLOW_LISTED},
        {"10.10.0.1", SSRF_DENY},
        {"::1", SSRF_ALLOW_LISTED},
        {"::2", SSRF_DENY},
        {"8.8.8.8", SSRF_ALLOW},
    };
    struct ssrf_policy pol = {0};
    struct errinfo ei = {0};
    (void)state;

    assert_int_equal(ssrf_policy_parse(&pol, "127.0.0.2/32,10.9.0.0/16,::1/128", &ei), ERR_OK);
    assert_int_equal(pol.nallow, 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        char why[96];
        to_sockaddr(cases[i].addr, &ss);
        if (ssrf_classify(&pol, (struct sockaddr *)&ss, why, sizeof(why)) != cases[i].v)
            fail_msg("%s: unexpected verdict", cases[i].addr);
    }
}

static void
ssrf_policy_parse_cases(void **state)
{
    static const struct {
        const char *list;
        enum err e;
        size_t n;
    } cases[] = {
        {"", ERR_OK, 0},
        {"127.0.0.2", ERR_OK, 1},
        {"127.0.0.2/32", ERR_OK, 1},
        {"10.0.0.0/8,fd00::/8", ERR_OK, 2},
        {"0.0.0.0/0", ERR_OK, 1},
        {"10.0.0.1/8", ERR_INVALID, 0}, /* host bits set: not what it says */
        {"10.0.0.0/33", ERR_INVALID, 0},
        {"10.0.0.0/", ERR_INVALID, 0},
        {"10.0.0.0/08", ERR_INVALID, 0},
        {"10.0.0.0/-1", ERR_INVALID, 0},
        {"::1/129", ERR_INVALID, 0},
        {"127.1", ERR_INVALID, 0},
        {"0x7f000001", ERR_INVALID, 0},
        {"127.0.0.1 ", ERR_INVALID, 0},
        {"127.0.0.1,", ERR_INVALID, 0},
        {",127.0.0.1", ERR_INVALID, 0},
        {"localhost", ERR_INVALID, 0},
        {"fe80::1%lo", ERR_INVALID, 0},
        {"1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
         "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16",
         ERR_OK, 16}, /* SSRF_MAX_ALLOW */
        {"1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
         "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17",
         ERR_INVALID, 0}, /* SSRF_MAX_ALLOW + 1 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ssrf_policy pol = {0};
        struct errinfo ei = {0};
        enum err e = ssrf_policy_parse(&pol, cases[i].list, &ei);
        if (e != cases[i].e)
            fail_msg("'%s': got %d want %d", cases[i].list, e, cases[i].e);
        if (e == ERR_OK)
            assert_int_equal(pol.nallow, cases[i].n);
        else
            assert_string_equal(ei.field, "allow_private");
    }
}

static enum ssrf_verdict
verdict_at(const struct ssrf_policy *pol, const char *addr, int port, char *why, size_t whylen)
{
    struct sockaddr_storage ss;

    to_sockaddr(addr, &ss);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    return ssrf_classify(pol, (struct sockaddr *)&ss, why, whylen);
}

/* SSRF-036: this server's own listen endpoint is denied even where the
 * operator's allow list covers it; the same address on another port, and
 * another address on the same port, are not affected. */
static void
ssrf_036_self_connection_denied(void **state)
{
    static const struct {
        const char *addr;
        int port;
        enum ssrf_verdict v;
    } specific[] = {
        {"127.0.0.2", 8080, SSRF_DENY},
        {"::ffff:127.0.0.2", 8080, SSRF_DENY}, /* the same IPv4 host */
        {"127.0.0.2", 8081, SSRF_ALLOW_LISTED},
        {"127.0.0.3", 8080, SSRF_ALLOW_LISTED},
        {"127.0.0.2", 0, SSRF_ALLOW_LISTED},
        {"8.8.8.8", 8080, SSRF_ALLOW},
    };
    struct ssrf_policy pol = {0};
    struct errinfo ei = {0};
    char why[96];
    (void)state;

    assert_int_equal(ssrf_policy_add_self(&pol, "127.0.0.2", 8080, &ei), ERR_OK);
    /* the allow list is parsed after: the self entry stays */
    assert_int_equal(ssrf_policy_parse(&pol, "127.0.0.0/8,0.0.0.0/0,::/0", &ei), ERR_OK);
    assert_int_equal(pol.nself, 1);
    for (size_t i = 0; i < sizeof(specific) / sizeof(specific[0]); i++) {
        enum ssrf_verdict v =
            verdict_at(&pol, specific[i].addr, specific[i].port, why, sizeof(why));
        if (v != specific[i].v)
            fail_msg("%s port %d: verdict %d (%s)", specific[i].addr, specific[i].port, v, why);
    }
    assert_int_equal(verdict_at(&pol, "127.0.0.2", 8080, why, sizeof(why)), SSRF_DENY);
    assert_non_null(strstr(why, "own listen address"));

    assert_int_equal(ssrf_policy_add_self(&pol, "127.0.0.2", 0, &ei), ERR_INVALID);
    assert_int_equal(ssrf_policy_add_self(&pol, "127.0.0.2", 65536, &ei), ERR_INVALID);
    assert_int_equal(ssrf_policy_add_self(&pol, "localhost", 80, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "listen");

    /* SSRF_MAX_SELF endpoints at N, refused at N + 1 */
    {
        struct ssrf_policy full = {0};
        char ip[32];
        for (int i = 0; i < SSRF_MAX_SELF; i++) {
            snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200 + 1);
            assert_int_equal(ssrf_policy_add_self(&full, ip, 443, &ei), ERR_OK);
        }
        assert_int_equal(full.nself, SSRF_MAX_SELF);
        assert_int_equal(ssrf_policy_add_self(&full, "10.1.0.1", 443, &ei), ERR_TOO_LARGE);
        assert_string_equal(ei.field, "listen");
        assert_int_equal(full.nself, SSRF_MAX_SELF);
    }
}

/* SSRF-036 with a wildcard listener: all of 127/8, 0.0.0.0 and every address
 * of this host's interfaces on that port (and, for "::", the IPv6 ones). */
static void
ssrf_036_self_wildcard_listen(void **state)
{
    struct ssrf_policy p4 = {0}, p6 = {0};
    struct errinfo ei = {0};
    struct ifaddrs *ifs = NULL;
    char why[96], ip[INET6_ADDRSTRLEN];
    size_t checked = 0;
    (void)state;

    assert_int_equal(ssrf_policy_add_self(&p4, "0.0.0.0", 9443, &ei), ERR_OK);
    assert_int_equal(ssrf_policy_add_self(&p6, "::", 9443, &ei), ERR_OK);
    assert_int_equal(ssrf_policy_parse(&p4, "0.0.0.0/0,::/0", &ei), ERR_OK);
    assert_int_equal(ssrf_policy_parse(&p6, "0.0.0.0/0,::/0", &ei), ERR_OK);
    assert_int_equal(verdict_at(&p4, "127.0.0.1", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p4, "127.9.9.9", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p4, "0.0.0.0", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p4, "127.0.0.1", 9444, why, sizeof(why)), SSRF_ALLOW_LISTED);
    assert_int_equal(verdict_at(&p4, "::1", 9443, why, sizeof(why)), SSRF_ALLOW_LISTED);
    assert_int_equal(verdict_at(&p6, "::1", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p6, "::", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p6, "127.0.0.1", 9443, why, sizeof(why)), SSRF_DENY);
    assert_int_equal(verdict_at(&p6, "::1", 9444, why, sizeof(why)), SSRF_ALLOW_LISTED);
    /* every interface address (this machine has at least loopback) */
    assert_int_equal(getifaddrs(&ifs), 0);
    for (const struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
            continue;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                      sizeof(ip));
        else
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                      sizeof(ip));
        if (verdict_at(&p6, ip, 9443, why, sizeof(why)) != SSRF_DENY ||
            (sa->sa_family == AF_INET && verdict_at(&p4, ip, 9443, why, sizeof(why)) != SSRF_DENY))
            fail_msg("interface address %s on the listen port is not denied", ip);
        checked++;
    }
    freeifaddrs(ifs);
    assert_true(checked > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssrf_a1_a5_classification),
        cmocka_unit_test(ssrf_reason_names_the_range),
        cmocka_unit_test(ssrf_unsupported_family_denied),
        cmocka_unit_test(ssrf_allow_list_exact_cidr),
        cmocka_unit_test(ssrf_policy_parse_cases),
        cmocka_unit_test(ssrf_036_self_connection_denied),
        cmocka_unit_test(ssrf_036_self_wildcard_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
