/*
 * ssrf: which addresses connhub may connect to, and which URLs it accepts.
 *
 * Two layers (security-catalogue.md, part 2):
 *  - url_validate(): at save time and for every redirect hop, REJECT anything
 *    that is not a plain http(s) URL with a canonical host: no userinfo, no
 *    non-canonical IPv4 (octal, hex, dword, short forms, zero padding), no
 *    percent-encoded or IDNA-mapped host, no zone id, canonical port 1..65535,
 *    no whitespace or control characters. Parsed with curl_url() so that the
 *    validator and the connector agree.
 *  - ssrf_check_addr(): at connect time, on the exact sockaddr libcurl is about
 *    to connect to, DENY everything not globally reachable: loopback, private
 *    (RFC 1918, ULA), link-local, CGNAT, 0.0.0.0/8, multicast, broadcast,
 *    reserved, documentation, benchmarking, IPv4-mapped/compatible/NAT64/6to4/
 *    Teredo forms, cloud metadata addresses — unless the operator allowed the
 *    exact range with `serve --allow-private CIDR[,CIDR]` (tests only; logged
 *    loudly at start and on each use).
 */
#ifndef CONNHUB_OUTBOUND_SSRF_H
#define CONNHUB_OUTBOUND_SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

#define SSRF_MAX_ALLOW 16

struct ssrf_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

/* Added (SSRF-036): this server's own listening endpoints. A connection to
 * one of them is denied whatever the allow list says (self-connection, as
 * Smokescreen): an agent could otherwise call connhub's own API through it. */
#define SSRF_MAX_SELF 128

struct ssrf_self {
    struct ssrf_cidr net;
    int port; /* 1..65535 */
};

struct ssrf_policy {
    struct ssrf_cidr allow[SSRF_MAX_ALLOW];
    size_t nallow;
    struct ssrf_self self[SSRF_MAX_SELF];
    size_t nself;
};

/* Parses "127.0.0.2/32,::1/128" into pol (replacing its allow list; the
 * self endpoints are kept). ERR_INVALID names the bad entry. */
enum err ssrf_policy_parse(struct ssrf_policy *pol, const char *list,
                           struct errinfo *ei) WARN_UNUSED;

/* Added (SSRF-036): adds the endpoint this server listens on (host: a numeric
 * IP as given to --listen; port: the bound port, 1..65535). A specific
 * address stands for itself. A wildcard (0.0.0.0, or :: which also takes
 * IPv4) stands for every address that reaches it: each address of this
 * host's interfaces (getifaddrs) plus 127.0.0.0/8, 0.0.0.0 (and ::1, ::).
 * ERR_INVALID for a bad host or port, ERR_TOO_LARGE past SSRF_MAX_SELF
 * entries (field "listen" in both). */
enum err ssrf_policy_add_self(struct ssrf_policy *pol, const char *host, int port,
                              struct errinfo *ei) WARN_UNUSED;

/* true when connhub may connect to sa. On false, why (if not NULL) gets a
 * short reason such as "loopback" or "private (RFC 1918)". The port of sa
 * matters only for the self endpoints (port 0 matches none). */
bool ssrf_check_addr(const struct ssrf_policy *pol, const struct sockaddr *sa, char *why,
                     size_t whylen);

/* Added: the same check, telling apart an address that is public from one
 * that is denied by default but on the operator's allow list (the client logs
 * each use of the latter). why gets the default-deny reason in both non-public
 * cases. */
enum ssrf_verdict {
    SSRF_DENY = 0,
    SSRF_ALLOW,        /* globally reachable */
    SSRF_ALLOW_LISTED, /* denied by default, allowed by pol */
};
enum ssrf_verdict ssrf_classify(const struct ssrf_policy *pol, const struct sockaddr *sa, char *why,
                                size_t whylen);
/* Added (SSRF-124): is sa's address in pol's allow list (--allow-private)?
 * The operator's override for sending a credential over plain http. */
bool ssrf_in_allow_list(const struct ssrf_policy *pol, const struct sockaddr *sa);

/* Added: longest URL url_validate() accepts (path and query included). */
#define URL_MAX_LEN 8192

struct url_info {
    char scheme[8]; /* "http" or "https", lower-case */
    char host[256]; /* lower-case; IPv6 without brackets */
    int port;       /* explicit or default */
    bool host_is_ip;
};

/* Validates an absolute URL as described above. On error ei->field is
 * `field` (e.g. "base_url") and the message says what is wrong. */
enum err url_validate(const char *url, const char *field, struct url_info *out,
                      struct errinfo *ei) WARN_UNUSED;

/* true when a and b have the same scheme, host and port. */
bool url_same_origin(const struct url_info *a, const struct url_info *b);

#endif
