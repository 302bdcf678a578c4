/* idem: idempotent creates (DUR-008), see conn_idem_begin in conn.h. The key
 * is kept as its SHA-256. The request is kept as the vault's keyed
 * fingerprint of its body as canonical JSON (keys sorted, compact), so a
 * retry that only reorders keys or whitespace is the same request, and the
 * credential inside the body leaves nothing in the database that a guess
 * could be checked against (a plain hash would). */
#include "conn/conn.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

static bool
key_ok(const char *key)
{
    size_t n = strlen(key);

    if (n == 0 || n > MAX_IDEMPOTENCY_KEY_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return false;
    return true;
}

/* ERR_OK when the connection c's claim names exists, ERR_NOT_FOUND when not. */
static enum err
made(struct store *st, const struct principal *p, const char *id, struct errinfo *ei)
{
    struct conn_row r = {0};
    enum err e = store_conn_get(st, p->workspace_id, id, &r, ei);

    conn_row_release(&r);
    return e;
}

bool
conn_idem_made(struct store *st, const struct principal *p, const struct conn_idem *c)
{
    struct errinfo ei = {0};

    return made(st, p, c->id, &ei) == ERR_OK;
}

enum err
conn_idem_begin(struct store *st, const struct vault *v, const struct principal *p, const char *key,
                const json_t *body, struct conn_idem *out, struct errinfo *ei)
{
    unsigned char req[32];
    struct idem_row prior = {0};
    bool claimed = false, same;
    int64_t now = now_ms();
    char *canon;
    size_t n;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (!key_ok(key))
        return err_set(ei, ERR_INVALID, "invalid_value", "Idempotency-Key",
                       "must be 1 to %d visible ASCII characters (a UUID will do)",
                       MAX_IDEMPOTENCY_KEY_LEN);
    canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (canon == NULL)
        return ERR_NOMEM;
    n = strlen(canon);
    SHA256((const unsigned char *)key, strlen(key), out->key);
    e = vault_fingerprint(v, canon, n, req);
    if (e == ERR_OK)
        e = id_new("conn", out->id);
    if (e == ERR_OK)
        e = store_idem_claim(st, p->workspace_id, p->user_id, out->key, req, out->id, now,
                             now - IDEMPOTENCY_KEY_TTL_MS, &claimed, &prior, ei);
    /* under the primary key that is req; only a claim made before a key rotation
     * needs the previous keys tried */
    same = e == ERR_OK && !claimed &&
           (CRYPTO_memcmp(prior.request_hash, req, sizeof(req)) == 0 ||
            vault_fingerprint_matches(v, canon, n, prior.request_hash));
    OPENSSL_cleanse(canon, n); /* the body may carry a credential */
    free(canon);
    if (e != ERR_OK || claimed)
        return e;
    if (!same)
        return err_set(ei, ERR_UNPROCESSABLE, "idempotency_key_reused", "Idempotency-Key",
                       "this key was used for a different request in the last %d hours: send "
                       "a new key for a new request",
                       (int)(IDEMPOTENCY_KEY_TTL_MS / 3600000));
    snprintf(out->id, sizeof(out->id), "%s", prior.connection_id);
    if (!prior.done)
        return ERR_OK; /* the first try did not get as far: this one makes it */
    e = made(st, p, out->id, ei);
    if (e == ERR_NOT_FOUND)
        return err_set(ei, ERR_CONFLICT, "idempotency_key_used", "Idempotency-Key",
                       "this key made connection %s, which has since been deleted: send a new "
                       "key to create another",
                       out->id);
    out->replay = e == ERR_OK;
    return e;
}
