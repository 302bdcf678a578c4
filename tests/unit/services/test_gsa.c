/* services/gmail (b): Google service-account keys, RS256 JWTs verified with
 * the public key, the jwt-bearer token request, token answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/util.h"
#include "services/gmail.h"
#include "services/internal.h"
#include "svc_test.h"

#define EMAIL "svc@proj.iam.gserviceaccount.com"
#define IAT 1767225600
#define SCOPE "https://www.googleapis.com/auth/gmail.send"

static EVP_PKEY *rsa2048;
static char *pem2048;

static char *
to_pem(EVP_PKEY *pk, const char *pass)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    if (pass == NULL)
        assert_int_equal(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, pk, EVP_aes_256_cbc(), pass,
                                                       (int)strlen(pass), NULL, NULL),
                         1);
    n = BIO_get_mem_data(b, &p);
    out = malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static int
setup(void **state)
{
    (void)state;
    rsa2048 = EVP_RSA_gen(2048);
    if (rsa2048 == NULL)
        return -1;
    pem2048 = to_pem(rsa2048, NULL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa2048);
    OPENSSL_cleanse(pem2048, strlen(pem2048));
    free(pem2048);
    return 0;
}

/* A key file as a secret; kid/token_uri NULL = absent. */
static void
key_file(struct secret *s, const char *type, const char *email, const char *pem, const char *kid,
         const char *token_uri)
{
    json_t *j = json_object();
    char *t;

    if (type)
        json_object_set_new(j, "type", json_string(type));
    json_object_set_new(j, "project_id", json_string("proj"));
    if (kid)
        json_object_set_new(j, "private_key_id", json_string(kid));
    if (pem)
        json_object_set_new(j, "private_key", json_string(pem));
    if (email)
        json_object_set_new(j, "client_email", json_string(email));
    json_object_set_new(j, "client_id", json_string("1234567890"));
    if (token_uri)
        json_object_set_new(j, "token_uri", json_string(token_uri));
    t = json_dumps(j, JSON_COMPACT);
    svc_secret(s, t);
    OPENSSL_cleanse(t, strlen(t));
    free(t);
    json_decref(j);
}

static void
parse_ok(void **state)
{
    struct secret f;
    struct gsa_key k = {0};
    struct errinfo ei = {0};
    (void)state;

    key_file(&f, "service_account", EMAIL, pem2048, "kid123",
             "https://oauth2.googleapis.com/token");
    if (gsa_key_parse(&f, &k, &ei) != ERR_OK)
        fail_msg("%s", ei.msg);
    assert_string_equal(k.client_email, EMAIL);
    assert_string_equal(k.private_key_id, "kid123");
    assert_string_equal(k.token_uri, "https://oauth2.googleapis.com/token");
    assert_non_null(k.pkey);
    gsa_key_release(&k);
    gsa_key_release(&k); /* twice: nothing */
    secret_release(&f);

    key_file(&f, "service_account", EMAIL, pem2048, NULL, NULL);
    assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_OK);
    assert_null(k.private_key_id);
    assert_string_equal(k.token_uri, GSA_DEFAULT_TOKEN_URI);
    gsa_key_release(&k);
    secret_release(&f);
}

static void
parse_refusals(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *small = EVP_RSA_gen(1024);
    char *ec_pem = to_pem(ec, NULL), *small_pem = to_pem(small, NULL);
    char *enc_pem = to_pem(rsa2048, "passphrase");
    const struct {
        const char *type, *email, *pem, *uri, *field;
    } cases[] = {
        {"user", EMAIL, pem2048, NULL, "service_account.type"},
        {NULL, EMAIL, pem2048, NULL, "service_account.type"},
        {"service_account", NULL, pem2048, NULL, "service_account.client_email"},
        {"service_account", "not-an-email", pem2048, NULL, "service_account.client_email"},
        {"service_account", EMAIL, NULL, NULL, "service_account.private_key"},
        {"service_account", EMAIL, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
         NULL, "service_account.private_key"},
        {"service_account", EMAIL, ec_pem, NULL, "service_account.private_key"},
        {"service_account", EMAIL, small_pem, NULL, "service_account.private_key"},
        {"service_account", EMAIL, enc_pem, NULL, "service_account.private_key"},
        {"service_account", EMAIL, pem2048, "ftp://x.example/token", "service_account.token_uri"},
        {"service_account", EMAIL, pem2048, "https://u:p@x.example/token",
         "service_account.token_uri"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct secret f;
        struct gsa_key k = {0};
        struct errinfo ei = {0};
        enum err e;
        key_file(&f, cases[i].type, cases[i].email, cases[i].pem, "kid", cases[i].uri);
        e = gsa_key_parse(&f, &k, &ei);
        if (e != ERR_UNPROCESSABLE || strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: e=%d field=%s msg=%s", i, e, ei.field, ei.msg);
        assert_string_equal(ei.code, "invalid_service_account");
        assert_null(k.pkey);
        assert_null(k.client_email);
        assert_false(svc_ei_has(&ei, "PRIVATE"));
        assert_false(svc_ei_has(&ei, "MII"));
        secret_release(&f);
    }
    /* not JSON, JSON but not an object, duplicate members, empty, too large */
    {
        static const char *const bad[] = {"{", "[1]", "\"x\"",
                                          "{\"type\":\"service_account\",\"type\":\"x\"}"};
        struct gsa_key k;
        struct errinfo ei;
        struct secret f = {0};
        char *big;
        for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
            svc_secret(&f, bad[i]);
            assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_UNPROCESSABLE);
            secret_release(&f);
        }
        assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_UNPROCESSABLE);
        assert_string_equal(ei.code, "credential_missing");
        big = malloc(GSA_MAX_KEY_JSON + 2);
        memset(big, ' ', GSA_MAX_KEY_JSON + 1);
        big[GSA_MAX_KEY_JSON + 1] = '\0';
        big[0] = '{';
        big[GSA_MAX_KEY_JSON] = '}';
        svc_secret(&f, big);
        assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_UNPROCESSABLE);
        assert_string_equal(ei.field, "service_account.json");
        secret_release(&f);
        big[GSA_MAX_KEY_JSON - 1] = '}'; /* exactly GSA_MAX_KEY_JSON: parsed (and refused later) */
        big[GSA_MAX_KEY_JSON] = '\0';
        svc_secret(&f, big);
        assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_UNPROCESSABLE);
        assert_string_equal(ei.field, "service_account.type");
        secret_release(&f);
        free(big);
    }
    EVP_PKEY_free(ec);
    EVP_PKEY_free(small);
    free(ec_pem);
    free(small_pem);
    free(enc_pem);
}

/* The public half only, through DER, so verification cannot use the private key. */
static EVP_PKEY *
public_only(EVP_PKEY *pk)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int n = i2d_PUBKEY(pk, &der);
    EVP_PKEY *pub;

    assert_true(n > 0);
    p = der;
    pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    assert_non_null(pub);
    return pub;
}

static bool
verify_jwt(const char *jwt, EVP_PKEY *pub)
{
    const char *dot2 = strrchr(jwt, '.');
    unsigned char sig[1024];
    long n = svc_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok;

    assert_true(n > 0);
    ok =
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
        EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)jwt, (size_t)(dot2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static void
part(const char *jwt, int which, char *out, size_t outlen)
{
    const char *p = jwt;
    size_t n;
    unsigned char dec[2048];
    long k;

    for (int i = 0; i < which; i++)
        p = strchr(p, '.') + 1;
    n = strcspn(p, ".");
    k = svc_b64url_decode(p, n, dec);
    assert_true(k >= 0 && (size_t)k < outlen);
    memcpy(out, dec, (size_t)k);
    out[k] = '\0';
}

static void
jwt_sign_verify(void **state)
{
    struct secret f, jwt;
    struct gsa_key k = {0};
    struct errinfo ei = {0};
    EVP_PKEY *pub = public_only(rsa2048);
    char hdr[512], claims[1024];
    (void)state;

    key_file(&f, "service_account", EMAIL, pem2048, "kid123", NULL);
    assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_OK);
    if (gsa_jwt_sign(&k, "user@example.com", SCOPE, IAT, &jwt, &ei) != ERR_OK)
        fail_msg("%s", ei.msg);
    assert_null(strchr(jwt.p, '='));
    assert_null(strchr(jwt.p, '+'));
    assert_null(strchr(jwt.p, '/'));
    part(jwt.p, 0, hdr, sizeof(hdr));
    part(jwt.p, 1, claims, sizeof(claims));
    assert_string_equal(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid123\"}");
    assert_string_equal(claims, "{\"iss\":\"" EMAIL "\",\"sub\":\"user@example.com\","
                                "\"scope\":\"" SCOPE "\","
                                "\"aud\":\"https://oauth2.googleapis.com/token\","
                                "\"iat\":1767225600,\"exp\":1767229200}");
    assert_true(verify_jwt(jwt.p, pub));
    /* any change breaks the signature */
    {
        char *t = xstrdup(jwt.p);
        char *c = strchr(t, '.') + 3;
        *c = *c == 'A' ? 'B' : 'A';
        assert_false(verify_jwt(t, pub));
        free(t);
    }
    /* a different key does not verify it */
    {
        EVP_PKEY *other = EVP_RSA_gen(2048), *opub = public_only(other);
        assert_false(verify_jwt(jwt.p, opub));
        EVP_PKEY_free(opub);
        EVP_PKEY_free(other);
    }
    secret_release(&jwt);
    gsa_key_release(&k);
    secret_release(&f);

    /* no kid in the file, no subject */
    key_file(&f, "service_account", EMAIL, pem2048, NULL, NULL);
    assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_OK);
    assert_int_equal(gsa_jwt_sign(&k, NULL, "https://mail.google.com/", IAT, &jwt, &ei), ERR_OK);
    part(jwt.p, 0, hdr, sizeof(hdr));
    part(jwt.p, 1, claims, sizeof(claims));
    assert_string_equal(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    assert_string_equal(claims, "{\"iss\":\"" EMAIL "\",\"scope\":\"https://mail.google.com/\","
                                "\"aud\":\"https://oauth2.googleapis.com/token\","
                                "\"iat\":1767225600,\"exp\":1767229200}");
    assert_true(verify_jwt(jwt.p, pub));
    secret_release(&jwt);
    /* refusals */
    assert_int_equal(gsa_jwt_sign(&k, "not an email", SCOPE, IAT, &jwt, &ei), ERR_INVALID);
    assert_int_equal(gsa_jwt_sign(&k, "u\r\n@example.com", SCOPE, IAT, &jwt, &ei), ERR_INVALID);
    assert_int_equal(gsa_jwt_sign(&k, NULL, "", IAT, &jwt, &ei), ERR_INVALID);
    assert_int_equal(gsa_jwt_sign(&k, NULL, NULL, IAT, &jwt, &ei), ERR_INVALID);
    assert_null(jwt.p);
    {
        struct gsa_key none = {0};
        assert_int_equal(gsa_jwt_sign(&none, NULL, SCOPE, IAT, &jwt, &ei), ERR_INTERNAL);
    }
    gsa_key_release(&k);
    secret_release(&f);
    EVP_PKEY_free(pub);
}

static void
token_request(void **state)
{
    static const char grant[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    static const struct want_header h[] = {
        {"Content-Type", "application/x-www-form-urlencoded", 0},
        {"Accept", "application/json", 0},
    };
    struct secret f;
    struct gsa_key k = {0};
    struct out_request rq;
    struct errinfo ei = {0};
    EVP_PKEY *pub = public_only(rsa2048);
    char claims[1024];
    (void)state;

    key_file(&f, "service_account", EMAIL, pem2048, "kid123", NULL);
    assert_int_equal(gsa_key_parse(&f, &k, &ei), ERR_OK);
    assert_int_equal(gsa_token_request(&k, "user@example.com", SCOPE, IAT, NULL, &rq, &ei), ERR_OK);
    assert_string_equal(rq.method, "POST");
    assert_string_equal(rq.url, "https://oauth2.googleapis.com/token");
    assert_int_equal(rq.nheaders, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(rq.headers[i].name, h[i].name);
        assert_string_equal(rq.headers[i].value, h[i].value);
    }
    assert_int_equal(rq.limits.max_redirects, 0);
    assert_int_equal(strncmp(rq.body.data, grant, strlen(grant)), 0);
    assert_true(verify_jwt(rq.body.data + strlen(grant), pub));
    assert_null(strchr(rq.body.data + strlen(grant), '&'));
    out_request_release(&rq);

    /* a local upstream for tests: the request goes there, aud stays Google's */
    assert_int_equal(
        gsa_token_request(&k, "user@example.com", SCOPE, IAT, "http://127.0.0.2:9/token", &rq, &ei),
        ERR_OK);
    assert_string_equal(rq.url, "http://127.0.0.2:9/token");
    part(rq.body.data + strlen(grant), 1, claims, sizeof(claims));
    assert_non_null(strstr(claims, "\"aud\":\"https://oauth2.googleapis.com/token\""));
    out_request_release(&rq);

    assert_int_equal(gsa_token_request(&k, NULL, SCOPE, IAT, "ftp://x/token", &rq, &ei),
                     ERR_INVALID);
    assert_null(rq.url);
    assert_int_equal(gsa_token_request(&k, "bad", SCOPE, IAT, NULL, &rq, &ei), ERR_INVALID);
    assert_null(rq.url);
    gsa_key_release(&k);
    secret_release(&f);
    EVP_PKEY_free(pub);
}

static void
token_parse(void **state)
{
    static const struct {
        long status;
        const char *body;
        enum err e;
        const char *token;
        int64_t expires;
        const char *msg_has;
    } cases[] = {
        {200, "{\"access_token\":\"ya29.abc\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
         ERR_OK, "ya29.abc", 3599, NULL},
        {200, "{\"access_token\":\"ya29.abc\",\"token_type\":\"bearer\"}", ERR_OK, "ya29.abc",
         GSA_DEFAULT_EXPIRES_IN, NULL},
        {200, "{\"access_token\":\"t\",\"expires_in\":\"120\"}", ERR_OK, "t", 120, NULL},
        {200, "{\"access_token\":\"t\",\"expires_in\":86400}", ERR_OK, "t", 86400, NULL},
        {200, "{\"access_token\":\"t\",\"expires_in\":86401}", ERR_OK, "t", GSA_MAX_EXPIRES_IN,
         NULL},
        {200, "{\"access_token\":\"t\",\"expires_in\":null}", ERR_OK, "t", GSA_DEFAULT_EXPIRES_IN,
         NULL},
        {201, "{\"access_token\":\"t\"}", ERR_OK, "t", GSA_DEFAULT_EXPIRES_IN, NULL},
        {200, "{\"access_token\":\"t\",\"expires_in\":0}", ERR_UPSTREAM, NULL, 0, "positive"},
        {200, "{\"access_token\":\"t\",\"expires_in\":-5}", ERR_UPSTREAM, NULL, 0, "positive"},
        {200, "{\"access_token\":\"t\",\"expires_in\":\"soon\"}", ERR_UPSTREAM, NULL, 0, "number"},
        {200, "{\"access_token\":\"t\",\"expires_in\":1.5}", ERR_UPSTREAM, NULL, 0, "integer"},
        {200, "{\"access_token\":\"t\",\"token_type\":\"mac\"}", ERR_UPSTREAM, NULL, 0, "Bearer"},
        {200, "{\"access_token\":\"t\",\"token_type\":5}", ERR_UPSTREAM, NULL, 0, "Bearer"},
        {200, "{\"access_token\":\"\"}", ERR_UPSTREAM, NULL, 0, "no access_token"},
        {200, "{\"access_token\":7}", ERR_UPSTREAM, NULL, 0, "no access_token"},
        {200, "{\"token_type\":\"Bearer\"}", ERR_UPSTREAM, NULL, 0, "no access_token"},
        {200, "{\"access_token\":\"a b\"}", ERR_UPSTREAM, NULL, 0, "header"},
        {200, "{\"access_token\":\"a\\r\\nX: y\"}", ERR_UPSTREAM, NULL, 0, "header"},
        {200, "[\"access_token\"]", ERR_UPSTREAM, NULL, 0, "not a JSON object"},
        {200, "<html>ok</html>", ERR_UPSTREAM, NULL, 0, "not a JSON object"},
        {200, "", ERR_UPSTREAM, NULL, 0, "not a JSON object"},
        {400, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
         ERR_UPSTREAM, NULL, 0, "400: invalid_grant"},
        {401, "{\"error\":\"unauthorized_client\"}", ERR_UPSTREAM, NULL, 0, "unauthorized_client"},
        {400, "{\"error\":\"bad <script> ya29.secret\"}", ERR_UPSTREAM, NULL, 0,
         "no usable error code"},
        {500, "oops", ERR_UPSTREAM, NULL, 0, "500"},
        {302, "{\"access_token\":\"t\"}", ERR_UPSTREAM, NULL, 0, "302"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct secret tok;
        struct errinfo ei = {0};
        int64_t ex = -1;
        enum err e =
            gsa_token_parse(cases[i].status, cases[i].body, strlen(cases[i].body), &tok, &ex, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: e=%d msg=%s", i, e, ei.msg);
        if (e == ERR_OK) {
            assert_string_equal(tok.p, cases[i].token);
            assert_int_equal(ex, cases[i].expires);
        } else {
            assert_null(tok.p);
            assert_int_equal(ex, 0);
            assert_string_equal(ei.code, "token_exchange_failed");
            if (strstr(ei.msg, cases[i].msg_has) == NULL)
                fail_msg("case %zu: message %s lacks %s", i, ei.msg, cases[i].msg_has);
            assert_null(strstr(ei.msg, "secret"));
            assert_null(strstr(ei.msg, "Signature"));
        }
        secret_release(&tok);
    }
    {
        struct secret tok;
        struct errinfo ei;
        int64_t ex;
        assert_int_equal(gsa_token_parse(200, NULL, 0, &tok, &ex, &ei), ERR_UPSTREAM);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ok),        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(jwt_sign_verify), cmocka_unit_test(token_request),
        cmocka_unit_test(token_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
