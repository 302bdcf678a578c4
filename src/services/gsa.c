/*
 * gsa: Google service accounts (services/gmail.h, part (b)): key file
 * parsing, RS256 JWT signing with OpenSSL, the jwt-bearer token request
 * and the parsing of its answer.
 */
#include "services/gmail.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/util.h"
#include "outbound/ssrf.h"
#include "services/internal.h"
#include "core/banned.h"

#define GSA_MIN_RSA_BITS 2048

static enum err
bad_key(struct errinfo *ei, const char *member, const char *msg)
{
    (void)err_set(ei, ERR_UNPROCESSABLE, "invalid_service_account", member,
                  "service account key: %s %s", member, msg);
    err_field_prefix(ei, "service_account");
    return ERR_UNPROCESSABLE;
}

void
gsa_key_release(struct gsa_key *k)
{
    if (k == NULL)
        return;
    free(k->client_email);
    free(k->private_key_id);
    free(k->token_uri);
    EVP_PKEY_free(k->pkey); /* OpenSSL clears RSA key material when freeing it */
    memset(k, 0, sizeof(*k));
}

/* Never ask for a passphrase: an encrypted PEM is refused, not prompted for. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static enum err
load_pem(const char *pem, size_t n, EVP_PKEY **out, struct errinfo *ei)
{
    BIO *bio;
    EVP_PKEY *pk = NULL;

    *out = NULL;
    if (n > (size_t)INT32_MAX)
        return bad_key(ei, "private_key", "is too long");
    bio = BIO_new_mem_buf(pem, (int)n); /* read-only view, no copy */
    if (bio == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (pk == NULL)
        return bad_key(ei, "private_key", "is not an unencrypted PEM private key");
    if (!EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_bits(pk) < GSA_MIN_RSA_BITS) {
        EVP_PKEY_free(pk);
        return bad_key(ei, "private_key", "must be an RSA key of at least 2048 bits");
    }
    *out = pk;
    return ERR_OK;
}

static enum err
key_string(const json_t *root, const char *member, bool required, size_t max, const char **out,
           struct errinfo *ei)
{
    const json_t *v = json_object_get(root, member);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? bad_key(ei, member, "is missing") : ERR_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return bad_key(ei, member, "must be a non-empty string");
    *out = json_string_value(v);
    return ERR_OK;
}

enum err
gsa_key_parse(const struct secret *json, struct gsa_key *out, struct errinfo *ei)
{
    json_t *root = NULL, *pkv;
    json_error_t jerr;
    const char *type = NULL, *email = NULL, *kid = NULL, *uri = NULL, *pem = NULL;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (json == NULL || json->p == NULL || json->len == 0)
        return err_set(ei, ERR_UNPROCESSABLE, "credential_missing", "service_account",
                       "the service account key is not set");
    if (json->len > GSA_MAX_KEY_JSON)
        return bad_key(ei, "json", "is larger than 16 KiB");
    root = json_loadb(json->p, json->len, JSON_REJECT_DUPLICATES, &jerr);
    OPENSSL_cleanse(&jerr, sizeof(jerr)); /* jerr.text may quote the input */
    if (!json_is_object(root)) {
        json_decref(root);
        return bad_key(ei, "json", "is not a JSON object");
    }
    pkv = json_object_get(root, "private_key");
    e = key_string(root, "type", true, 64, &type, ei);
    if (e == ERR_OK && strcmp(type, "service_account") != 0)
        e = bad_key(ei, "type", "must be \"service_account\"");
    if (e == ERR_OK)
        e = key_string(root, "client_email", true, GMAIL_MAX_ADDRESS, &email, ei);
    if (e == ERR_OK && !gmail_addr_spec_ok(email))
        e = bad_key(ei, "client_email", "is not an email address");
    if (e == ERR_OK)
        e = key_string(root, "private_key_id", false, 128, &kid, ei);
    if (e == ERR_OK && kid != NULL && (str_has_ctl(kid) || !str_is_utf8(kid, strlen(kid))))
        e = bad_key(ei, "private_key_id", "must be printable");
    if (e == ERR_OK)
        e = key_string(root, "token_uri", false, MAX_BASE_URL_LEN, &uri, ei);
    if (e == ERR_OK && uri == NULL)
        uri = GSA_DEFAULT_TOKEN_URI;
    if (e == ERR_OK && (url_validate(uri, "service_account.token_uri", NULL, ei) != ERR_OK ||
                        strchr(uri, '#') != NULL))
        e = bad_key(ei, "token_uri", "is not an acceptable http(s) URL");
    if (e == ERR_OK)
        e = key_string(root, "private_key", true, GSA_MAX_KEY_JSON, &pem, ei);
    if (e == ERR_OK)
        e = load_pem(pem, strlen(pem), &out->pkey, ei);
    if (e == ERR_OK) {
        out->client_email = xstrdup(email);
        out->private_key_id = xstrdup(kid);
        out->token_uri = xstrdup(uri);
    }
    svc_json_string_wipe(pkv); /* jansson's copy of the PEM */
    json_decref(root);
    if (e != ERR_OK)
        gsa_key_release(out);
    return e;
}

static enum err
append_b64url_json(struct buf *out, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    enum err e;

    if (s == NULL)
        return ERR_NOMEM;
    e = svc_b64url_append(out, (const unsigned char *)s, strlen(s));
    free(s);
    return e;
}

enum err
gsa_jwt_sign(const struct gsa_key *k, const char *subject, const char *scope, int64_t iat,
             struct secret *out, struct errinfo *ei)
{
    struct buf jwt;
    json_t *hdr = NULL, *claims = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    enum err e = ERR_OK;

    memset(out, 0, sizeof(*out));
    if (k == NULL || k->pkey == NULL || k->client_email == NULL || k->token_uri == NULL)
        return err_set(ei, ERR_INTERNAL, NULL, "service_account", "no service account key");
    if (scope == NULL || scope[0] == '\0' || str_has_ctl(scope))
        return err_set(ei, ERR_INVALID, "invalid_field", "scope", "scope is missing");
    if (subject != NULL && !gmail_addr_spec_ok(subject))
        return err_set(ei, ERR_INVALID, "invalid_address", "subject",
                       "the delegated user is not an email address");
    buf_init(&jwt, (size_t)64 * 1024);
    hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    if (hdr != NULL && k->private_key_id != NULL)
        json_object_set_new(hdr, "kid", json_string(k->private_key_id));
    claims = json_pack("{s:s}", "iss", k->client_email);
    if (claims != NULL) {
        if (subject != NULL)
            json_object_set_new(claims, "sub", json_string(subject));
        json_object_set_new(claims, "scope", json_string(scope));
        json_object_set_new(claims, "aud", json_string(k->token_uri));
        json_object_set_new(claims, "iat", json_integer(iat));
        json_object_set_new(claims, "exp", json_integer(iat + GSA_TOKEN_LIFETIME_S));
    }
    if (hdr == NULL || claims == NULL)
        e = ERR_NOMEM;
    if (e == ERR_OK)
        e = append_b64url_json(&jwt, hdr);
    if (e == ERR_OK)
        e = buf_putc(&jwt, '.');
    if (e == ERR_OK)
        e = append_b64url_json(&jwt, claims);
    if (e != ERR_OK) {
        e = err_set(ei, e, NULL, NULL, "cannot build the JWT");
        goto out;
    }
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)jwt.data, jwt.len) != 1 ||
        (sig = OPENSSL_malloc(siglen)) == NULL ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt.data, jwt.len) != 1) {
        ERR_clear_error();
        e = err_set(ei, ERR_CRYPTO, "signing_failed", "service_account",
                    "cannot sign the JWT with the service account key");
        goto out;
    }
    e = buf_putc(&jwt, '.');
    if (e == ERR_OK)
        e = svc_b64url_append(&jwt, sig, siglen);
    if (e == ERR_OK)
        e = secret_set(out, jwt.data, jwt.len);
    if (e != ERR_OK)
        e = err_set(ei, e, NULL, NULL, "cannot build the JWT");
out:
    OPENSSL_free(sig);
    EVP_MD_CTX_free(md);
    json_decref(hdr);
    json_decref(claims);
    buf_wipe_release(&jwt);
    return e;
}

enum err
gsa_token_request(const struct gsa_key *k, const char *subject, const char *scope, int64_t now_s,
                  const char *token_url, struct out_request *rq, struct errinfo *ei)
{
    static const char grant[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    struct secret jwt = {0};
    const char *url;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    if (k == NULL || k->token_uri == NULL)
        return err_set(ei, ERR_INTERNAL, NULL, "service_account", "no service account key");
    url = token_url != NULL ? token_url : k->token_uri;
    e = url_validate(url, "token_uri", NULL, ei);
    if (e == ERR_OK)
        e = gsa_jwt_sign(k, subject, scope, now_s, &jwt, ei);
    if (e == ERR_OK)
        e = out_request_init(rq, "POST", url, ei);
    if (e == ERR_OK &&
        (buf_puts(&rq->body, grant) != ERR_OK || buf_append(&rq->body, jwt.p, jwt.len) != ERR_OK))
        e = err_set(ei, ERR_TOO_LARGE, NULL, "assertion", "the assertion is too large");
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Content-Type", "application/x-www-form-urlencoded", false,
                                   ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    rq->limits.max_redirects = 0;
    rq->cred_body = true; /* the signed assertion (SSRF-124) */
    secret_release(&jwt);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

/* A short plain word from an OAuth error answer, safe to show. */
static const char *
error_word(const json_t *root)
{
    const char *s = json_string_value(json_object_get(root, "error"));
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    if (n == 0 || n > 64)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return NULL;
    return s;
}

static enum err
upstream(struct errinfo *ei, long status, const char *what)
{
    return err_set(ei, ERR_UPSTREAM, "token_exchange_failed", "service_account",
                   "token endpoint answered %ld: %s", status, what);
}

enum err
gsa_token_parse(long status, const char *body, size_t len, struct secret *access_token,
                int64_t *expires_in, struct errinfo *ei)
{
    json_t *root = NULL, *at, *ex;
    json_error_t jerr;
    const char *tt;
    int64_t life = GSA_DEFAULT_EXPIRES_IN;
    enum err e = ERR_OK;

    memset(access_token, 0, sizeof(*access_token));
    *expires_in = 0;
    if (body != NULL && len > 0)
        root = json_loadb(body, len, 0, &jerr);
    OPENSSL_cleanse(&jerr, sizeof(jerr));
    at = json_object_get(root, "access_token");
    if (status < 200 || status > 299) {
        const char *w = error_word(root);
        char what[96];
        snprintf(what, sizeof(what), "%s", w ? w : "no usable error code");
        e = upstream(ei, status, what);
        goto out;
    }
    if (!json_is_object(root)) {
        e = upstream(ei, status, "not a JSON object");
        goto out;
    }
    if (!json_is_string(at) || json_string_length(at) == 0) {
        e = upstream(ei, status, "no access_token");
        goto out;
    }
    tt = json_string_value(json_object_get(root, "token_type"));
    if (json_object_get(root, "token_type") != NULL &&
        (tt == NULL || strcasecmp(tt, "bearer") != 0)) {
        e = upstream(ei, status, "token_type is not Bearer");
        goto out;
    }
    ex = json_object_get(root, "expires_in");
    if (json_is_integer(ex)) {
        life = json_integer_value(ex);
    } else if (json_is_string(ex)) {
        uint64_t v;
        if (!parse_u64(json_string_value(ex), INT64_MAX, &v)) {
            e = upstream(ei, status, "expires_in is not a number");
            goto out;
        }
        life = (int64_t)v;
    } else if (ex != NULL && !json_is_null(ex)) {
        e = upstream(ei, status, "expires_in is not an integer");
        goto out;
    }
    if (life <= 0) {
        e = upstream(ei, status, "expires_in is not positive");
        goto out;
    }
    if (life > GSA_MAX_EXPIRES_IN)
        life = GSA_MAX_EXPIRES_IN;
    e = secret_set(access_token, json_string_value(at), json_string_length(at));
    if (e == ERR_OK && svc_check_header_key(access_token, "access_token", NULL) != ERR_OK) {
        secret_release(access_token);
        e = upstream(ei, status, "access_token has characters a header cannot carry");
        goto out;
    }
    if (e != ERR_OK) {
        e = err_set(ei, e, NULL, NULL, "out of memory");
        goto out;
    }
    *expires_in = life;
out:
    svc_json_string_wipe(at);
    svc_json_string_wipe(json_object_get(root, "refresh_token"));
    svc_json_string_wipe(json_object_get(root, "id_token"));
    json_decref(root);
    return e;
}
