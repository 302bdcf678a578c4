#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin/admin.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "core/banned.h"

static bool
valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || (c == '@' && i > 0)))
            return false;
    }
    return true;
}

enum err
admin_user_add(struct store *st, const char *name, bool pa, int64_t *id, struct errinfo *ei)
{
    if (!valid_name(name, MAX_USER_NAME_LEN))
        return err_set(ei, ERR_INVALID, "invalid_name", "name",
                       "a user name is 1-%d letters, digits, '_', '-', '.' or '@'",
                       MAX_USER_NAME_LEN);
    return store_user_add(st, name, pa, id, ei);
}

enum err
admin_workspace_add(struct store *st, const char *slug, int64_t *id, struct errinfo *ei)
{
    if (!str_is_slug(slug, MAX_WORKSPACE_SLUG_LEN))
        return err_set(ei, ERR_INVALID, "invalid_slug", "slug",
                       "a workspace slug is 1-%d lower-case letters, digits or _",
                       MAX_WORKSPACE_SLUG_LEN);
    return store_workspace_add(st, slug, id, ei);
}

enum err
admin_member_add(struct store *st, const char *ws_slug, const char *user, const char *role,
                 struct errinfo *ei)
{
    struct user_row u;
    int64_t ws;
    enum role r;
    enum err e;

    if (!role_parse(role, &r))
        return err_set(ei, ERR_INVALID, "invalid_role", "role", "must be admin or member");
    e = store_workspace_get(st, ws_slug, &ws, ei);
    if (e == ERR_OK)
        e = store_user_get(st, user, &u, ei);
    if (e == ERR_OK)
        e = store_member_set(st, ws, u.id, r, ei);
    return e;
}

enum err
admin_token_create(struct store *st, const char *user, const char *ws_slug, const char *label,
                   char out[TOKEN_MAX], struct errinfo *ei)
{
    unsigned char raw[32], hash[SHA256_DIGEST_LENGTH];
    char b64[48];
    struct user_row u;
    int64_t ws;
    enum role role;
    size_t n;
    enum err e;

    e = store_user_get(st, user, &u, ei);
    if (e == ERR_OK)
        e = store_workspace_get(st, ws_slug, &ws, ei);
    if (e == ERR_OK)
        e = store_member_role(st, ws, u.id, &role, ei);
    if (e == ERR_NOT_FOUND && strcmp(ei->code, "not_a_member") == 0)
        return err_set(ei, ERR_INVALID, "not_a_member", "user",
                       "%s is not a member of %s: run connhub member add %s %s --role member", user,
                       ws_slug, ws_slug, user);
    if (e != ERR_OK)
        return e;
    if (rand_bytes(raw, sizeof(raw)) != ERR_OK)
        return err_set(ei, ERR_CRYPTO, "rng_failed", NULL, "random number generator failed");
    n = b64_encode(raw, sizeof(raw), b64);
    while (n > 0 && b64[n - 1] == '=')
        b64[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        b64[i] = (char)(b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i]);
    snprintf(out, TOKEN_MAX, TOKEN_PREFIX "%s", b64);
    SHA256((const unsigned char *)out, strlen(out), hash);
    e = store_token_add(st, hash, u.id, ws, label, NULL, ei);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(b64, sizeof(b64));
    if (e != ERR_OK)
        OPENSSL_cleanse(out, TOKEN_MAX);
    else
        log_kv(LOG_INFO, "token.created", "s:user", user, "s:workspace", ws_slug, LOG_END);
    return e;
}

enum err
admin_dev_bootstrap(struct store *st, char out[TOKEN_MAX], bool *created, struct errinfo *ei)
{
    int64_t n = 0, uid = 0, wsid = 0;
    enum err e;

    *created = false;
    e = store_user_count(st, &n, ei);
    if (e != ERR_OK || n > 0)
        return e;
    e = admin_user_add(st, "admin", true, &uid, ei);
    if (e == ERR_OK)
        e = admin_workspace_add(st, "default", &wsid, ei);
    if (e == ERR_OK)
        e = store_member_set(st, wsid, uid, ROLE_ADMIN, ei);
    if (e == ERR_OK)
        e = admin_token_create(st, "admin", "default", "dev bootstrap", out, ei);
    *created = e == ERR_OK;
    return e;
}
