/*
 * session: signing in to the web UI with a user name and a password.
 *
 * Passwords are hashed with scrypt (OpenSSL EVP_PBE_scrypt), a random salt per user and per
 * change, and the cost stored with the hash: "$scrypt$ln=15,r=8,p=1$<salt hex>$<hash hex>", so
 * the cost can be raised later without breaking old hashes.
 *
 * A sign-in makes a session: 32 random bytes, base64url, sent to the browser as an HttpOnly,
 * SameSite=Strict cookie (Secure when APP_URL is https). Only the cookie's SHA-256 is stored.
 * A session ends when unused for idle_s, max_age_s after sign-in, on sign-out, when its user's
 * password changes, and when the user leaves the workspace (the role is read on every request).
 *
 * CSRF: every state-changing request made with the cookie must carry X-CSRF-Token, an HMAC of the
 * cookie (so nothing more is stored), compared in constant time, and an Origin matching APP_URL
 * (or the Host the request came to when no APP_URL is set). SameSite=Strict already keeps the
 * cookie off cross-site requests; the token and the Origin check hold when it does not (older
 * browsers, a sibling subdomain).
 *
 * Brute force: LOGIN_MAX_FAILURES failed sign-ins for one user name within LOGIN_LOCKOUT_S of
 * the first lock that name until the window ends (429), whether or not the user exists; a wrong
 * password and an unknown user give the same answer after the same work (a hash is computed
 * either way).
 *
 * API bearer tokens are unaffected: a request with Authorization never looks at cookies.
 */
#ifndef CONNHUB_SESSION_H
#define CONNHUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

#define SESSION_COOKIE_NAME "connhub_session"
#define SESSION_COOKIE_LEN 43 /* base64url of 32 random bytes, no padding */
#define SESSION_CSRF_LEN 43   /* base64url of an HMAC-SHA-256 */
#define SESSION_CSRF_HEADER "X-CSRF-Token"
#define PASSWORD_ENCODED_MAX 160

struct session_limits {
    unsigned idle_s;       /* SESSION_IDLE_TIMEOUT_S */
    unsigned max_age_s;    /* SESSION_MAX_AGE_S */
    unsigned max_failures; /* LOGIN_MAX_FAILURES */
    unsigned lockout_s;    /* LOGIN_LOCKOUT_S */
};
void session_limits_default(struct session_limits *l);

/* Hashes pw (PASSWORD_MIN_LEN..PASSWORD_MAX_LEN characters, else ERR_INVALID naming
 * "password") into out (PASSWORD_ENCODED_MAX bytes). */
enum err password_hash(const char *pw, char out[PASSWORD_ENCODED_MAX],
                       struct errinfo *ei) WARN_UNUSED;
/* *ok says whether pw matches encoded (constant-time compare). ERR_INVALID when encoded is not a
 * hash this module wrote (or its cost is out of the accepted range). */
enum err password_verify(const char *pw, const char *encoded, bool *ok,
                         struct errinfo *ei) WARN_UNUSED;
/* Sets user's password (and ends every session the user has). */
enum err session_password_set(struct store *st, const char *user, const char *pw,
                              struct errinfo *ei) WARN_UNUSED;

/* Signs user in to workspace ws_slug (NULL: the first workspace they belong to). On ERR_OK,
 * cookie holds the new session's cookie value and *who the principal. A wrong password, an
 * unknown user, a user without a password and a workspace the user is not in all give
 * ERR_UNAUTHORIZED "invalid_credentials"; a locked name gives ERR_RATE_LIMITED. */
enum err session_login(struct store *st, const struct session_limits *l, const char *user,
                       const char *pw, const char *ws_slug, char cookie[SESSION_COOKIE_LEN + 1],
                       struct principal *who, struct errinfo *ei) WARN_UNUSED;
/* The principal of a cookie value; ERR_UNAUTHORIZED ("invalid_session", "session_expired")
 * otherwise. An expired session is deleted. */
enum err session_authenticate(struct store *st, const struct session_limits *l, const char *cookie,
                              struct principal *who, struct errinfo *ei) WARN_UNUSED;
enum err session_logout(struct store *st, const char *cookie, struct errinfo *ei) WARN_UNUSED;

/* The CSRF token of a session (HMAC-SHA-256 keyed by the cookie value). */
void session_csrf_token(const char *cookie, char out[SESSION_CSRF_LEN + 1]);
/* Whether given (may be NULL) is cookie's CSRF token; constant time. */
bool session_csrf_ok(const char *cookie, const char *given);

/* Finds the session cookie in a Cookie header; false when absent or malformed. */
bool session_cookie_get(const char *cookie_header, char out[SESSION_COOKIE_LEN + 1]);
/* The Set-Cookie value giving value (NULL: clearing the cookie). */
void session_set_cookie(char *out, size_t n, const char *value, bool secure, unsigned max_age_s);
/* Whether an Origin header names this server: app_url's scheme://host[:port] when set, else
 * http(s)://host where host is the request's Host header. NULL origin: false. */
bool session_origin_ok(const char *origin, const char *app_url, const char *host);
/* GET, HEAD and OPTIONS change nothing. */
bool session_method_is_safe(const char *method);

#endif
