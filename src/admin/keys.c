#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin/admin.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/banned.h"

enum err
admin_key_check(struct store *st, const struct vault *v, struct errinfo *ei)
{
    struct key_count *kc = NULL;
    size_t n = 0;
    int64_t missing = 0;
    char missing_ids[128] = "";
    size_t mlen = 0;
    enum err e = store_secret_key_counts(st, &kc, &n, ei);

    if (e != ERR_OK)
        return e;
    for (size_t i = 0; i < n; i++) {
        char id[16];
        bool have = vault_has_key(v, kc[i].key_id);
        snprintf(id, sizeof(id), "%08x", kc[i].key_id);
        log_kv(have ? LOG_INFO : LOG_ERROR, "vault.key_usage", "s:key_id", id, "I:secrets",
               (long long)kc[i].count, "b:configured", have, "b:primary",
               kc[i].key_id == vault_primary_id(v), "b:retired", vault_key_retired(v, kc[i].key_id),
               LOG_END);
        if (!have) {
            missing += kc[i].count;
            if (mlen < sizeof(missing_ids) - 12)
                mlen += (size_t)snprintf(missing_ids + mlen, sizeof(missing_ids) - mlen, "%s%s",
                                         mlen ? ", " : "", id);
        }
    }
    free(kc);
    if (missing > 0)
        return err_set(ei, ERR_CRYPTO, "key_mismatch", "INTEGRATION_ENCRYPTION_KEY",
                       "%lld stored secrets are sealed with key id(s) %s, which are not "
                       "configured: set the key that sealed them as INTEGRATION_ENCRYPTION_KEY or "
                       "INTEGRATION_ENCRYPTION_KEY_PREVIOUS (nothing was changed)",
                       (long long)missing, missing_ids);
    return ERR_OK;
}

static enum err
reseal_one(struct store *st, const struct vault *v, const struct secret_row *r,
           struct rekey_stats *stats, struct errinfo *ei)
{
    struct vault_aad aad = {r->workspace_id, r->kind, r->owner_id, r->field};
    struct secret s = {0};
    unsigned char *ct = NULL;
    size_t n = 0;
    uint32_t kid = 0;
    bool swapped = false;
    enum err e;

    if (vault_sealed_key_id(r->data, r->len, &kid) && kid == vault_primary_id(v)) {
        stats->already_current++;
        return ERR_OK;
    }
    e = vault_open(v, &aad, r->data, r->len, &s, ei);
    if (e == ERR_OK)
        e = vault_seal(v, &aad, s.p, s.len, &ct, &n, ei);
    secret_release(&s);
    if (e == ERR_OK)
        e = store_secret_cas(st, r->id, r->data, r->len, vault_primary_id(v), ct, n, &swapped, ei);
    free(ct);
    if (e != ERR_OK) {
        stats->failed++;
        log_kv(LOG_ERROR, "rekey.failed", "I:row", (long long)r->id, "s:kind", r->kind, "s:field",
               r->field, "s:detail", ei->msg, LOG_END);
        return ERR_OK; /* keep going: report at the end */
    }
    if (swapped)
        stats->resealed++;
    else
        stats->skipped_changed++; /* a concurrent update wrote a newer value */
    return ERR_OK;
}

enum err
admin_rekey(struct store *st, const struct vault *v, FILE *progress, struct rekey_stats *stats,
            struct errinfo *ei)
{
    int64_t after = 0;
    enum err e = ERR_OK;

    memset(stats, 0, sizeof(*stats));
    for (;;) {
        struct secret_row *rows = NULL;
        size_t n = 0;
        e = store_secrets_scan(st, after, REKEY_BATCH, &rows, &n, ei);
        if (e != ERR_OK || n == 0) {
            secret_rows_free(rows, n);
            break;
        }
        for (size_t i = 0; i < n && e == ERR_OK; i++) {
            stats->scanned++;
            e = reseal_one(st, v, &rows[i], stats, ei);
        }
        after = rows[n - 1].id;
        secret_rows_free(rows, n);
        if (progress)
            fprintf(progress,
                    "rekey: %lld scanned, %lld re-sealed, %lld already current, %lld failed\n",
                    (long long)stats->scanned, (long long)stats->resealed,
                    (long long)stats->already_current, (long long)stats->failed);
        if (e != ERR_OK)
            break;
    }
    if (e == ERR_OK && stats->failed > 0)
        e = err_set(ei, ERR_CRYPTO, "rekey_incomplete", NULL,
                    "%lld secrets could not be re-sealed (see the log); the rest were",
                    (long long)stats->failed);
    return e;
}
