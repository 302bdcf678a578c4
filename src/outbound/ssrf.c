/*
 * ssrf: the connect-time address classifier and the allow-list parser.
 * URL validation lives in url.c.
 *
 * Every table entry below is a range that is not globally reachable (IANA
 * IPv4/IPv6 special-purpose registries), plus CGNAT, plus every IPv6 prefix
 * that embeds an IPv4 address (denied outright, like Smokescreen).
 * IPv4-mapped addresses (::ffff:a.b.c.d) are unwrapped and classified as
 * IPv4, since a v6 socket reaches the v4 host. Anything else outside
 * 2000::/3 (global unicast) is denied as well.
 */
#include "outbound/ssrf.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/banned.h"

struct range {
    unsigned char addr[16];
    int prefix;
    const char *why;
};

/* IPv4 ranges: address bytes in the first 4 bytes. */
static const struct range deny4[] = {
    {{0, 0, 0, 0}, 8, "this network (0.0.0.0/8)"},
    {{10, 0, 0, 0}, 8, "private (RFC 1918)"},
    {{100, 64, 0, 0}, 10, "shared address space (CGNAT, RFC 6598)"},
    {{127, 0, 0, 0}, 8, "loopback"},
    {{169, 254, 0, 0}, 16, "link-local (cloud metadata)"},
    {{172, 16, 0, 0}, 12, "private (RFC 1918)"},
    {{192, 0, 0, 0}, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {{192, 0, 2, 0}, 24, "documentation (TEST-NET-1)"},
    {{192, 88, 99, 0}, 24, "6to4 relay anycast (deprecated)"},
    {{192, 168, 0, 0}, 16, "private (RFC 1918)"},
    {{198, 18, 0, 0}, 15, "benchmarking (RFC 2544)"},
    {{198, 51, 100, 0}, 24, "documentation (TEST-NET-2)"},
    {{203, 0, 113, 0}, 24, "documentation (TEST-NET-3)"},
    {{224, 0, 0, 0}, 4, "multicast"},
    {{255, 255, 255, 255}, 32, "broadcast"},
    {{240, 0, 0, 0}, 4, "reserved (240.0.0.0/4)"},
};

/* IPv6 ranges, most specific first so the reason is the precise one. */
static const struct range deny6[] = {
    {{0}, 128, "unspecified (::)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback (::1)"},
    {{0}, 96, "IPv4-compatible (::/96)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96, "IPv4-translated (::ffff:0:0:0/96)"},
    {{0, 0x64, 0xff, 0x9b}, 96, "NAT64 (64:ff9b::/96)"},
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "NAT64 local-use (64:ff9b:1::/48)"},
    {{1, 0, 0, 0, 0, 0, 0, 0}, 64, "discard-only (100::/64)"},
    {{0x20, 0x01, 0, 0}, 32, "Teredo (2001::/32)"},
    {{0x20, 0x01, 0, 0x02, 0, 0}, 48, "benchmarking (2001:2::/48)"},
    {{0x20, 0x01, 0, 0x10}, 28, "ORCHID (2001:10::/28)"},
    {{0x20, 0x01, 0, 0x20}, 28, "ORCHIDv2 (2001:20::/28)"},
    {{0x20, 0x01, 0, 0}, 23, "IETF protocol assignments (2001::/23)"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
    {{0x3f, 0xff, 0}, 20, "documentation (3fff::/20)"},
    {{0x20, 0x02}, 16, "6to4 (2002::/16)"},
    {{0x5f, 0x00}, 16, "segment routing (5f00::/16)"},
    {{0xfc}, 7, "unique local (fc00::/7)"},
    {{0xfe, 0x80}, 10, "link-local (fe80::/10)"},
    {{0xfe, 0xc0}, 10, "site-local (fec0::/10, deprecated)"},
    {{0xff}, 8, "multicast"},
};

static bool
prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
    int full = prefix / 8, rest = prefix % 8;

    if (memcmp(a, net, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static const char *
classify(const struct range *t, size_t n, const unsigned char *a)
{
    for (size_t i = 0; i < n; i++)
        if (prefix_match(a, t[i].addr, t[i].prefix))
            return t[i].why;
    return NULL;
}

static bool
allow_listed(const struct ssrf_policy *pol, int family, const unsigned char *a)
{
    if (pol == NULL)
        return false;
    for (size_t i = 0; i < pol->nallow; i++)
        if (pol->allow[i].family == family &&
            prefix_match(a, pol->allow[i].addr, pol->allow[i].prefix))
            return true;
    return false;
}

static bool
is_self(const struct ssrf_policy *pol, int family, const unsigned char *a, int port)
{
    if (pol == NULL || port == 0)
        return false;
    for (size_t i = 0; i < pol->nself; i++)
        if (pol->self[i].port == port && pol->self[i].net.family == family &&
            prefix_match(a, pol->self[i].net.addr, pol->self[i].net.prefix))
            return true;
    return false;
}

static void
set_why(char *why, size_t whylen, const char *s)
{
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", s);
}

/* sa's address bytes (an IPv4-mapped IPv6 address unwrapped), family and
 * port; false for another family. */
static bool
sa_bytes(const struct sockaddr *sa, unsigned char a[16], int *family, int *port)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        *port = ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
        *family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        *port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
        *family = AF_INET6;
        if (memcmp(a, mapped, sizeof(mapped)) == 0) { /* unwrap ::ffff:a.b.c.d */
            memmove(a, a + 12, 4);
            *family = AF_INET;
        }
    } else {
        return false;
    }
    return true;
}

bool
ssrf_in_allow_list(const struct ssrf_policy *pol, const struct sockaddr *sa)
{
    unsigned char a[16];
    int family, port;

    return sa_bytes(sa, a, &family, &port) && allow_listed(pol, family, a);
}

enum ssrf_verdict
ssrf_classify(const struct ssrf_policy *pol, const struct sockaddr *sa, char *why, size_t whylen)
{
    unsigned char a[16];
    int family, port;
    const char *deny;

    set_why(why, whylen, "");
    if (!sa_bytes(sa, a, &family, &port))
        goto unsupported;
    if (is_self(pol, family, a, port)) {
        set_why(why, whylen, "this server's own listen address");
        return SSRF_DENY;
    }
    if (family == AF_INET)
        deny = classify(deny4, ARRAY_LEN(deny4), a);
    else {
        deny = classify(deny6, ARRAY_LEN(deny6), a);
        if (deny == NULL && (a[0] & 0xe0) != 0x20)
            deny = "not global unicast (outside 2000::/3)";
    }
    if (deny == NULL)
        return SSRF_ALLOW;
    if (allow_listed(pol, family, a)) {
        set_why(why, whylen, deny);
        return SSRF_ALLOW_LISTED;
    }
    set_why(why, whylen, deny);
    return SSRF_DENY;
unsupported:
    set_why(why, whylen, "unsupported address family");
    return SSRF_DENY;
}

bool
ssrf_check_addr(const struct ssrf_policy *pol, const struct sockaddr *sa, char *why, size_t whylen)
{
    return ssrf_classify(pol, sa, why, whylen) != SSRF_DENY;
}

/* Parses one "addr[/prefix]" entry. Host bits below the prefix must be 0, so
 * the entry means exactly what it says. */
static bool
parse_cidr(const char *s, size_t n, struct ssrf_cidr *out)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    char *slash;
    uint64_t prefix;
    int max;

    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    slash = strchr(tmp, '/');
    if (slash != NULL)
        *slash = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, tmp, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, tmp, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    max = out->family == AF_INET ? 32 : 128;
    prefix = (uint64_t)max;
    if (slash != NULL) {
        const char *p = slash + 1;
        if (*p == '\0' || (p[0] == '0' && p[1] != '\0') || !parse_u64(p, (uint64_t)max, &prefix))
            return false;
    }
    out->prefix = (int)prefix;
    /* host bits must be zero: compare the address with itself masked */
    {
        struct ssrf_cidr masked = *out;
        int full = out->prefix / 8, rest = out->prefix % 8;
        if (rest) {
            masked.addr[full] &= (unsigned char)(0xff << (8 - rest));
            full++;
        }
        memset(masked.addr + full, 0, (size_t)(max / 8 - full));
        if (memcmp(masked.addr, out->addr, 16) != 0)
            return false;
    }
    return true;
}

enum err
ssrf_policy_parse(struct ssrf_policy *pol, const char *list, struct errinfo *ei)
{
    struct ssrf_policy np = {0};
    const char *p = list != NULL ? list : "";

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (np.nallow == SSRF_MAX_ALLOW)
            return err_set(ei, ERR_INVALID, "invalid_field", "allow_private", "at most %d ranges",
                           SSRF_MAX_ALLOW);
        if (!parse_cidr(p, n, &np.allow[np.nallow]))
            return err_set(ei, ERR_INVALID, "invalid_field", "allow_private",
                           "entry %zu is not an IPv4/IPv6 CIDR with zero host bits", np.nallow + 1);
        np.nallow++;
        p += n;
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return err_set(ei, ERR_INVALID, "invalid_field", "allow_private", "trailing comma");
        }
    }
    memcpy(pol->allow, np.allow, sizeof(pol->allow));
    pol->nallow = np.nallow;
    return ERR_OK;
}

static enum err
self_add(struct ssrf_policy *pol, int family, const void *addr, int prefix, int port,
         struct errinfo *ei)
{
    struct ssrf_self *e;

    if (pol->nself == SSRF_MAX_SELF)
        return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "listen",
                       "more than %d addresses reach the listen address", SSRF_MAX_SELF);
    e = &pol->self[pol->nself++];
    memset(e, 0, sizeof(*e));
    e->net.family = family;
    memcpy(e->net.addr, addr, family == AF_INET ? 4 : 16);
    e->net.prefix = prefix;
    e->port = port;
    return ERR_OK;
}

/* Every address of this host's interfaces of the given family. */
static enum err
self_add_interfaces(struct ssrf_policy *pol, int family, int port, struct errinfo *ei)
{
    struct ifaddrs *ifs = NULL;
    enum err e = ERR_OK;

    if (getifaddrs(&ifs) != 0)
        return err_set(ei, ERR_INTERNAL, "internal", "listen", "cannot list interface addresses");
    for (const struct ifaddrs *i = ifs; i != NULL && e == ERR_OK; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        if (sa == NULL || sa->sa_family != family)
            continue;
        if (family == AF_INET)
            e = self_add(pol, AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                         32, port, ei);
        else
            e = self_add(pol, AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                         128, port, ei);
    }
    freeifaddrs(ifs);
    return e;
}

/* A wildcard IPv4 listener: loopback, 0.0.0.0 and every interface address. */
static enum err
self_add_any4(struct ssrf_policy *pol, int port, struct errinfo *ei)
{
    static const unsigned char lo[4] = {127, 0, 0, 0}, any[4] = {0};
    enum err e = self_add(pol, AF_INET, lo, 8, port, ei);

    if (e == ERR_OK)
        e = self_add(pol, AF_INET, any, 32, port, ei);
    if (e == ERR_OK)
        e = self_add_interfaces(pol, AF_INET, port, ei);
    return e;
}

enum err
ssrf_policy_add_self(struct ssrf_policy *pol, const char *host, int port, struct errinfo *ei)
{
    unsigned char a[16];
    static const unsigned char any6[16] = {0}, lo6[16] = {[15] = 1};
    enum err e;

    if (port < 1 || port > 65535)
        return err_set(ei, ERR_INVALID, "invalid_field", "listen", "port must be 1..65535");
    if (inet_pton(AF_INET, host, a) == 1)
        return memcmp(a, any6, 4) == 0 ? self_add_any4(pol, port, ei)
                                       : self_add(pol, AF_INET, a, 32, port, ei);
    if (inet_pton(AF_INET6, host, a) != 1)
        return err_set(ei, ERR_INVALID, "invalid_field", "listen", "not a numeric IP address");
    if (memcmp(a, any6, 16) != 0)
        return self_add(pol, AF_INET6, a, 128, port, ei);
    /* "::" also takes IPv4 connections (IPV6_V6ONLY is off by default) */
    e = self_add(pol, AF_INET6, any6, 128, port, ei);
    if (e == ERR_OK)
        e = self_add(pol, AF_INET6, lo6, 128, port, ei);
    if (e == ERR_OK)
        e = self_add_interfaces(pol, AF_INET6, port, ei);
    if (e == ERR_OK)
        e = self_add_any4(pol, port, ei);
    return e;
}
