/*
 * discovery: an authorization server's metadata (RFC 8414; OpenID Connect
 * Discovery) from its issuer, so that an admin can register a provider by
 * issuer alone. OAUTH-032: the document is fetched through the SSRF guard
 * with no redirects, at most OAUTH_MAX_DISCOVERY_BYTES and MAX_JSON_DEPTH
 * deep, and its "issuer" must equal the configured issuer exactly (RFC 8414
 * §3.3), else nothing of it is used.
 */
#ifndef CONNHUB_OAUTH_DISCOVERY_H
#define CONNHUB_OAUTH_DISCOVERY_H

#include <jansson.h>

#include "core/err.h"
#include "outbound/outbound.h"

#define OAUTH_MAX_DISCOVERY_BYTES ((size_t)256 * 1024)

/* The two places a document may be, in the order tried (new strings,
 * free()): <issuer>/.well-known/openid-configuration, and RFC 8414's
 * <origin>/.well-known/oauth-authorization-server<issuer path>. */
enum err oauth_discovery_urls(const char *issuer, char **oidc, char **rfc8414,
                              struct errinfo *ei) WARN_UNUSED;

/* From a document: {"authorize_url", "token_url", "revocation_url"?,
 * "userinfo_url"?} (new reference), or a refusal naming what is wrong. */
enum err oauth_discovery_parse(const char *issuer, const char *body, size_t len, json_t **endpoints,
                               struct errinfo *ei) WARN_UNUSED;

/* done() runs once, later, on ob's loop: endpoints (a new reference the
 * callback owns) or e/ei. A synchronous error means done() never runs. */
typedef void (*oauth_discover_cb)(enum err e, json_t *endpoints, const struct errinfo *ei,
                                  void *arg);
enum err oauth_discover(struct outbound *ob, const char *issuer, oauth_discover_cb done, void *arg,
                        struct errinfo *ei) WARN_UNUSED;

#endif
