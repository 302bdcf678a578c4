/* session: sign-in, the session cookie, CSRF tokens and the Origin check (see session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "session/session.h"
#include "core/banned.h"

#define CSRF_CONTEXT "connhub csrf v1"

void
session_limits_default(struct session_limits *l)
{
    l->idle_s = SESSION_IDLE_TIMEOUT_S;
    l->max_age_s = SESSION_MAX_AGE_S;
    l->max_failures = LOGIN_MAX_FAILURES;
    l->lockout_s = LOGIN_LOCKOUT_S;
}

static void
b64url(const unsigned char *p, size_t n, char *out)
{
    size_t len = b64_encode(p, n, out);

    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i]);
}

static bool
valid_cookie(const char *s)
{
    if (s == NULL || strlen(s) != SESSION_COOKIE_LEN)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           SESSION_COOKIE_LEN;
}

static void
cookie_hash(const char *cookie, unsigned char out[SHA256_DIGEST_LENGTH])
{
    SHA256((const unsigned char *)cookie, strlen(cookie), out);
}

enum err
session_password_set(struct store *st, const char *user, const char *pw, struct errinfo *ei)
{
    char enc[PASSWORD_ENCODED_MAX];
    struct user_row u;
    enum err e;

    e = store_user_get(st, user, &u, ei);
    if (e == ERR_OK)
        e = password_hash(pw, enc, ei);
    if (e == ERR_OK)
        e = store_password_set(st, u.id, enc, ei);
    if (e == ERR_OK)
        log_kv(LOG_INFO, "user.password_set", "s:user", user, LOG_END);
    OPENSSL_cleanse(enc, sizeof(enc));
    return e;
}

static enum err
invalid_credentials(struct errinfo *ei)
{
    return err_set(ei, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
                   "the user name, password or workspace is not right");
}

/* Checks pw against name's hash; *user is the user's id when it matches. For an unknown user
 * (or one without a password) the same work is done against a hash no password matches. */
static enum err
check_password(struct store *st, const char *name, const char *pw, int64_t *user, bool *ok,
               struct errinfo *ei)
{
    char dummy[PASSWORD_ENCODED_MAX];
    char *hash = NULL;
    enum err e;

    *ok = false;
    e = store_password_get(st, name, user, &hash, ei);
    if (e != ERR_OK && e != ERR_NOT_FOUND)
        return e;
    if (hash == NULL) {
        snprintf(dummy, sizeof(dummy), "$scrypt$ln=%d,r=%d,p=%d$%0*d$%0*d", PASSWORD_SCRYPT_LOG2_N,
                 PASSWORD_SCRYPT_R, PASSWORD_SCRYPT_P, 2 * PASSWORD_SALT_LEN, 0,
                 2 * PASSWORD_HASH_LEN, 0);
        e = password_verify(pw, dummy, ok, ei);
        *ok = false;
        return e;
    }
    e = password_verify(pw, hash, ok, ei);
    free(hash);
    return e;
}

static enum err
pick_workspace(struct store *st, int64_t user, const char *ws_slug, int64_t *ws, struct errinfo *ei)
{
    struct errinfo ignored = {0};
    enum role role;

    if (ws_slug == NULL || ws_slug[0] == '\0')
        return store_member_first(st, user, ws, &ignored) == ERR_OK ? ERR_OK
                                                                    : invalid_credentials(ei);
    if (store_workspace_get(st, ws_slug, ws, &ignored) != ERR_OK ||
        store_member_role(st, *ws, user, &role, &ignored) != ERR_OK)
        return invalid_credentials(ei);
    return ERR_OK;
}

enum err
session_login(struct store *st, const struct session_limits *l, const char *name, const char *pw,
              const char *ws_slug, char cookie[SESSION_COOKIE_LEN + 1], struct principal *who,
              struct errinfo *ei)
{
    unsigned char raw[32], hash[SHA256_DIGEST_LENGTH];
    int64_t now = now_ms(), since = now - (int64_t)l->lockout_s * 1000, failures = 0, user = 0;
    int64_t created, seen;
    bool ok = false;
    enum err e;

    cookie[0] = '\0';
    if (name == NULL || name[0] == '\0' || strlen(name) > MAX_USER_NAME_LEN || pw == NULL)
        return invalid_credentials(ei);
    e = store_login_failures(st, name, since, &failures, ei);
    if (e != ERR_OK)
        return e;
    if (failures >= (int64_t)l->max_failures) {
        log_kv(LOG_WARN, "session.locked", "s:user", name, "I:failures", (long long)failures,
               LOG_END);
        return err_set(ei, ERR_RATE_LIMITED, "too_many_attempts", NULL,
                       "too many failed sign-ins for this user name: try again later");
    }
    e = check_password(st, name, pw, &user, &ok, ei);
    if (e != ERR_OK)
        return e;
    if (!ok) {
        e = store_login_failure_add(st, name, now, since, &failures, ei);
        if (e != ERR_OK)
            return e;
        log_kv(LOG_WARN, "session.login_failed", "s:user", name, "I:failures", (long long)failures,
               LOG_END);
        return invalid_credentials(ei);
    }
    e = pick_workspace(st, user, ws_slug, &who->workspace_id, ei);
    if (e == ERR_OK)
        e = store_login_failures_clear(st, name, ei);
    if (e == ERR_OK && rand_bytes(raw, sizeof(raw)) != ERR_OK)
        e = err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    if (e == ERR_OK) {
        b64url(raw, sizeof(raw), cookie);
        cookie_hash(cookie, hash);
        e = store_session_add(st, hash, user, who->workspace_id, now, ei);
    }
    if (e == ERR_OK)
        e = store_session_get(st, hash, who, &created, &seen, ei);
    OPENSSL_cleanse(raw, sizeof(raw));
    if (e != ERR_OK) {
        OPENSSL_cleanse(cookie, SESSION_COOKIE_LEN + 1);
        return e;
    }
    log_kv(LOG_INFO, "session.login", "s:user", name, "s:workspace", who->workspace_slug, LOG_END);
    return ERR_OK;
}

enum err
session_authenticate(struct store *st, const struct session_limits *l, const char *cookie,
                     struct principal *who, struct errinfo *ei)
{
    unsigned char hash[SHA256_DIGEST_LENGTH];
    int64_t created = 0, seen = 0, now = now_ms();
    int64_t idle_ms = (int64_t)l->idle_s * 1000, max_ms = (int64_t)l->max_age_s * 1000;
    struct errinfo ignored = {0};
    enum err e;

    if (!valid_cookie(cookie))
        return err_set(ei, ERR_UNAUTHORIZED, "invalid_session", NULL,
                       "the session is not valid: sign in again");
    cookie_hash(cookie, hash);
    e = store_session_get(st, hash, who, &created, &seen, ei);
    if (e != ERR_OK)
        return e;
    if (now - seen > idle_ms || now - created > max_ms) {
        if (store_session_delete(st, hash, &ignored) != ERR_OK)
            log_kv(LOG_WARN, "session.delete_failed", "s:code", ignored.code, LOG_END);
        memset(who, 0, sizeof(*who));
        return err_set(ei, ERR_UNAUTHORIZED, "session_expired", NULL,
                       "the session has expired: sign in again");
    }
    /* At most one write per tenth of the idle limit. */
    if (now - seen >= idle_ms / 10 && store_session_touch(st, hash, now, &ignored) != ERR_OK)
        log_kv(LOG_WARN, "session.touch_failed", "s:code", ignored.code, LOG_END);
    return ERR_OK;
}

enum err
session_logout(struct store *st, const char *cookie, struct errinfo *ei)
{
    unsigned char hash[SHA256_DIGEST_LENGTH];

    if (!valid_cookie(cookie))
        return err_set(ei, ERR_UNAUTHORIZED, "invalid_session", NULL, "no session to end");
    cookie_hash(cookie, hash);
    return store_session_delete(st, hash, ei);
}

void
session_csrf_token(const char *cookie, char out[SESSION_CSRF_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), cookie, (int)strlen(cookie), (const unsigned char *)CSRF_CONTEXT,
             strlen(CSRF_CONTEXT), mac, &len) == NULL ||
        len != 32) {
        out[0] = '\0';
        return;
    }
    b64url(mac, 32, out);
    OPENSSL_cleanse(mac, sizeof(mac));
}

bool
session_csrf_ok(const char *cookie, const char *given)
{
    char want[SESSION_CSRF_LEN + 1];
    bool ok;

    if (given == NULL || strlen(given) != SESSION_CSRF_LEN || !valid_cookie(cookie))
        return false;
    session_csrf_token(cookie, want);
    ok = want[0] != '\0' && CRYPTO_memcmp(want, given, SESSION_CSRF_LEN) == 0;
    OPENSSL_cleanse(want, sizeof(want));
    return ok;
}

bool
session_cookie_get(const char *h, char out[SESSION_COOKIE_LEN + 1])
{
    static const char name[] = SESSION_COOKIE_NAME "=";
    const char *p = h;

    out[0] = '\0';
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, sizeof(name) - 1) == 0) {
            const char *v = p + sizeof(name) - 1;
            size_t n = strcspn(v, "; ");
            if (n != SESSION_COOKIE_LEN)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return valid_cookie(out);
        }
        p = strchr(p, ';');
    }
    return false;
}

void
session_set_cookie(char *out, size_t n, const char *value, bool secure, unsigned max_age_s)
{
    snprintf(out, n, SESSION_COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
             value ? value : "", value ? max_age_s : 0, secure ? "; Secure" : "");
}

/* Length of "scheme://authority" at the start of url, or 0. */
static size_t
origin_len(const char *url)
{
    const char *p = strstr(url, "://");

    if (p == NULL || p == url)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

bool
session_origin_ok(const char *origin, const char *app_url, const char *host)
{
    char want[512];

    if (origin == NULL || origin[0] == '\0')
        return false;
    if (app_url && app_url[0]) {
        size_t n = origin_len(app_url);
        return n > 0 && strlen(origin) == n && strncasecmp(origin, app_url, n) == 0;
    }
    if (host == NULL || host[0] == '\0')
        return false;
    snprintf(want, sizeof(want), "http://%s", host);
    if (strcasecmp(origin, want) == 0)
        return true;
    snprintf(want, sizeof(want), "https://%s", host);
    return strcasecmp(origin, want) == 0;
}

bool
session_method_is_safe(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}
