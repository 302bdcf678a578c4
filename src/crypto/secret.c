#include "crypto/secret.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "core/log.h"
#include "core/banned.h"

void
secret_heap_init(size_t size)
{
    struct rlimit rl = {0, 0};

    if (setrlimit(RLIMIT_CORE, &rl) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        log_kv(LOG_WARN, "secret.no_dump_failed", "s:detail",
               "could not disable core dumps; a crash could write secrets to disk", LOG_END);
    if (size > 0 && CRYPTO_secure_malloc_init(size, 32) == 0)
        log_kv(LOG_WARN, "secret.secure_heap_unavailable", "s:detail",
               "mlock refused; secrets use the ordinary heap (still wiped after use)", LOG_END);
}

enum err
secret_alloc(struct secret *s, size_t len)
{
    s->p = OPENSSL_secure_zalloc(len + 1);
    if (s->p == NULL) {
        s->len = 0;
        return ERR_NOMEM;
    }
    s->len = len;
    return ERR_OK;
}

enum err
secret_set(struct secret *s, const void *p, size_t len)
{
    enum err e = secret_alloc(s, len);

    if (e == ERR_OK && len > 0)
        memcpy(s->p, p, len);
    return e;
}

void
secret_release(struct secret *s)
{
    if (s == NULL || s->p == NULL)
        return;
    OPENSSL_secure_clear_free(s->p, s->len + 1);
    s->p = NULL;
    s->len = 0;
}
