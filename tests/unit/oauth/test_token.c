/* oauth/token: token requests (OAUTH-009/019), answers (OAUTH-016/017/018,
 * invalid_grant, OAUTH-026/027/028 classification), expiry (OAUTH-029),
 * revocation (OAUTH-030), Bearer (OAUTH-020). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "oauth/token.h"
#include "support/upstream.h"

static const char peer_def[] =
    "{\"id\":\"peer\",\"name\":\"Peer\",\"authorize_url\":\"http://127.0.0.1:18081/auth\","
    "\"token_url\":\"http://127.0.0.1:18081/token\","
    "\"revocation_url\":\"http://127.0.0.1:18081/token/revocation\","
    "\"issuer\":\"http://127.0.0.1:18081\",\"client_auth\":\"%s\","
    "\"tiers\":{\"repo\":{\"scopes\":[\"repo\"]}}}";

static void
peer(const char *auth, struct oauth_provider *p)
{
    char def[512];
    struct errinfo ei = {0};

    snprintf(def, sizeof(def), peer_def, auth);
    assert_int_equal(oauth_provider_parse(def, strlen(def), p, &ei), ERR_OK);
}

static void
client(const char *id, const char *secret, struct oauth_client *c)
{
    memset(c, 0, sizeof(*c));
    c->client_id = strdup(id);
    assert_int_equal(secret_set(&c->secret, secret, strlen(secret)), ERR_OK);
}

static void
sec(struct secret *s, const char *v)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(secret_set(s, v, strlen(v)), ERR_OK);
}

static const struct out_header *
header(const struct out_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0)
            return &rq->headers[i];
    return NULL;
}

/* OAUTH-019: id and secret form-encoded, then base64; never in the URL. */
static void
oauth_019_basic_auth(void **state)
{
    struct oauth_provider p;
    struct oauth_client c;
    struct secret code, ver;
    struct out_request rq;
    struct errinfo ei = {0};
    const struct out_header *h;
    unsigned char dec[256];
    long n;

    (void)state;
    peer("basic", &p);
    client("my:id %+", "s3:cr%t +x", &c);
    sec(&code, "c0de/x");
    sec(&ver, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_int_equal(
        oauth_token_request_code(&p, &c, &code, "http://127.0.0.1:9999/callback", &ver, &rq, &ei),
        ERR_OK);
    assert_string_equal(rq.method, "POST");
    assert_string_equal(rq.url, "http://127.0.0.1:18081/token");
    h = header(&rq, "Authorization");
    assert_non_null(h);
    assert_true(h->credential);
    assert_int_equal(strncmp(h->value, "Basic ", 6), 0);
    n = b64_decode(h->value + 6, strlen(h->value + 6), dec);
    assert_true(n > 0);
    dec[n] = '\0';
    assert_string_equal((char *)dec, "my%3Aid%20%25%2B:s3%3Acr%25t%20%2Bx");
    assert_string_equal(header(&rq, "Content-Type")->value, "application/x-www-form-urlencoded");
    assert_string_equal(header(&rq, "Accept")->value, "application/json");
    assert_string_equal(rq.body.data,
                        "grant_type=authorization_code&code=c0de%2Fx&redirect_uri=http%3A%2F%2F127."
                        "0.0.1%3A9999%2Fcallback&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_"
                        "wW1gFWFOEjXk");
    assert_null(strstr(rq.url, "s3"));
    assert_null(strstr(rq.body.data, "client_secret"));
    assert_int_equal(rq.limits.max_redirects, 0);
    assert_int_equal(rq.limits.max_response, OAUTH_MAX_TOKEN_RESPONSE);
    assert_int_equal(rq.limits.total_timeout_ms, OAUTH_TOKEN_TIMEOUT_MS);
    out_request_release(&rq);
    /* OAUTH-009: PKCE provider without a verifier is refused */
    assert_int_equal(oauth_token_request_code(&p, &c, &code, "http://x/cb", NULL, &rq, &ei),
                     ERR_INVALID);
    secret_release(&code);
    secret_release(&ver);
    oauth_client_release(&c);
    oauth_provider_release(&p);
}

static void
oauth_019_body_auth(void **state)
{
    struct oauth_provider p;
    struct oauth_client c;
    struct secret rt;
    struct out_request rq;
    struct errinfo ei = {0};

    (void)state;
    peer("body", &p);
    client("conn-post", "s 3+", &c);
    sec(&rt, "rt.1");
    assert_int_equal(oauth_token_request_refresh(&p, &c, &rt, NULL, &rq, &ei), ERR_OK);
    assert_null(header(&rq, "Authorization"));
    assert_string_equal(rq.body.data, "grant_type=refresh_token&refresh_token=rt.1&client_id=conn-"
                                      "post&client_secret=s%203%2B");
    assert_null(strchr(rq.url, '?'));
    out_request_release(&rq);
    assert_int_equal(oauth_token_request_refresh(&p, &c, &rt, "repo read", &rq, &ei), ERR_OK);
    assert_non_null(strstr(rq.body.data, "&scope=repo%20read&"));
    out_request_release(&rq);
    /* public client: client_id only */
    secret_release(&c.secret);
    assert_int_equal(oauth_token_request_refresh(&p, &c, &rt, NULL, &rq, &ei), ERR_OK);
    assert_string_equal(rq.body.data, "grant_type=refresh_token&refresh_token=rt.1&client_id=conn-"
                                      "post");
    out_request_release(&rq);
    /* no refresh token */
    secret_release(&rt);
    assert_int_equal(oauth_token_request_refresh(&p, &c, &rt, NULL, &rq, &ei), ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "no_refresh_token");
    oauth_client_release(&c);
    oauth_provider_release(&p);
}

/* --oauth-token-timeout: OAUTH_MIN_TOKEN_TIMEOUT_MS..OAUTH_TOKEN_TIMEOUT_MS,
 * each end at N and N+1; every token request then carries it. */
static void
token_timeout_limits(void **state)
{
    struct oauth_provider p;
    struct oauth_client c;
    struct secret t;
    struct out_request rq;
    struct errinfo ei = {0};

    (void)state;
    assert_int_equal(oauth_token_timeout_set(OAUTH_MIN_TOKEN_TIMEOUT_MS - 1, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "oauth-token-timeout");
    assert_int_equal(oauth_token_timeout_set(OAUTH_TOKEN_TIMEOUT_MS + 1, &ei), ERR_INVALID);
    assert_int_equal(oauth_token_timeout_ms(), OAUTH_TOKEN_TIMEOUT_MS);
    assert_int_equal(oauth_token_timeout_set(OAUTH_TOKEN_TIMEOUT_MS, &ei), ERR_OK);
    assert_int_equal(oauth_token_timeout_set(OAUTH_MIN_TOKEN_TIMEOUT_MS, &ei), ERR_OK);
    assert_int_equal(oauth_token_timeout_ms(), OAUTH_MIN_TOKEN_TIMEOUT_MS);
    peer("basic", &p);
    client("conn-test", "s3cret", &c);
    sec(&t, "the-rt");
    assert_int_equal(oauth_token_request_refresh(&p, &c, &t, NULL, &rq, &ei), ERR_OK);
    assert_int_equal(rq.limits.total_timeout_ms, OAUTH_MIN_TOKEN_TIMEOUT_MS);
    assert_true(rq.limits.connect_timeout_ms <= OAUTH_MIN_TOKEN_TIMEOUT_MS);
    out_request_release(&rq);
    assert_int_equal(oauth_token_timeout_set(OAUTH_TOKEN_TIMEOUT_MS, &ei), ERR_OK);
    oauth_provider_release(&p);
    oauth_client_release(&c);
    secret_release(&t);
}

/* OAUTH-030: RFC 7009 request; a provider without endpoint says so. */
static void
oauth_030_revoke(void **state)
{
    struct oauth_provider p;
    struct oauth_client c;
    struct secret t;
    struct out_request rq;
    struct out_response res = {0};
    struct errinfo ei = {0};

    (void)state;
    peer("basic", &p);
    client("conn-test", "s3cret", &c);
    sec(&t, "the-rt");
    assert_int_equal(oauth_revoke_request(&p, &c, &t, "refresh_token", &rq, &ei), ERR_OK);
    assert_string_equal(rq.url, "http://127.0.0.1:18081/token/revocation");
    assert_string_equal(rq.body.data, "token=the-rt&token_type_hint=refresh_token");
    assert_non_null(header(&rq, "Authorization"));
    out_request_release(&rq);
    assert_int_equal(oauth_revoke_request(&p, &c, &t, "id_token", &rq, &ei), ERR_INVALID);
    oauth_provider_release(&p);
    assert_int_equal(oauth_provider_builtin("github", &p, &ei), ERR_OK);
    assert_int_equal(oauth_revoke_request(&p, &c, &t, NULL, &rq, &ei), ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "no_revocation_endpoint");
    res.status = 200;
    assert_true(oauth_revoke_ok(&res));
    res.status = 503;
    assert_false(oauth_revoke_ok(&res));
    res.status = 200;
    res.fail = OUT_FAIL_TIMEOUT;
    assert_false(oauth_revoke_ok(&res));
    secret_release(&t);
    oauth_client_release(&c);
    oauth_provider_release(&p);
}

/* OAUTH-020 */
static void
oauth_020_bearer(void **state)
{
    struct out_request rq;
    struct secret at = {0};
    struct errinfo ei = {0};

    (void)state;
    assert_int_equal(out_request_init(&rq, "GET", "https://api.test/x", &ei), ERR_OK);
    assert_int_equal(oauth_bearer_header(&rq, &at, &ei), ERR_UNPROCESSABLE);
    sec(&at, "AT.123");
    assert_int_equal(oauth_bearer_header(&rq, &at, &ei), ERR_OK);
    assert_string_equal(header(&rq, "Authorization")->value, "Bearer AT.123");
    assert_true(header(&rq, "Authorization")->credential);
    assert_null(strstr(rq.url, "AT.123"));
    out_request_release(&rq);
    secret_release(&at);
}

/* ---- answers ---- */

#define NOW 1800000000000LL
#define PAD10 "pppppppppp"
#define PAD200                                                                                     \
    PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10      \
        PAD10 PAD10 PAD10 PAD10 PAD10

struct tcase {
    long status;
    const char *body;
    enum oauth_token_result r;
    const char *at; /* expected access token */
    const char *rt; /* expected refresh token ("" = none) */
    bool rotated;
    int64_t expires_in;  /* expected, 0 = unknown */
    const char *scope;   /* expected granted scope, NULL = none in answer */
    const char *errcode; /* expected terr.error */
};

static const struct tcase tcases[] = {
    /* ok, with rotation */
    {200,
     "{\"access_token\":\"AT1\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
     "\"refresh_token\":\"RT2\",\"scope\":\"repo read:user\"}",
     OAUTH_TOKEN_OK, "AT1", "RT2", true, 3600, "repo read:user", ""},
    /* OAUTH-017: no refresh_token -> old kept, not rotated */
    {200, "{\"access_token\":\"AT1\",\"token_type\":\"bearer\",\"expires_in\":60}", OAUTH_TOKEN_OK,
     "AT1", "RT-OLD", false, 60, NULL, ""},
    /* same refresh token echoed (ROTATE=default) */
    {200, "{\"access_token\":\"AT1\",\"token_type\":\"BEARER\",\"refresh_token\":\"RT-OLD\"}",
     OAUTH_TOKEN_OK, "AT1", "RT-OLD", false, 0, NULL, ""},
    {200, "{\"access_token\":\"AT1\",\"refresh_token\":\"\"}", OAUTH_TOKEN_OK, "AT1", "RT-OLD",
     false, 0, NULL, ""},
    {200, "{\"access_token\":\"AT1\",\"refresh_token\":null,\"token_type\":null}", OAUTH_TOKEN_OK,
     "AT1", "RT-OLD", false, 0, NULL, ""},
    /* missing token_type accepted as bearer */
    {200, "{\"access_token\":\"AT1\"}", OAUTH_TOKEN_OK, "AT1", "RT-OLD", false, 0, NULL, ""},
    /* OAUTH-016 expires_in */
    {200, "{\"access_token\":\"A\",\"expires_in\":-5}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0,
     NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":0}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0,
     NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":\"abc\"}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     0, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":\"3599\"}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     3599, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":\"-1\"}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0,
     NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":1e30}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     OAUTH_MAX_EXPIRES_IN_S, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":99999999999999999}", OAUTH_TOKEN_OK, "A",
     "RT-OLD", false, OAUTH_MAX_EXPIRES_IN_S, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":3600.0}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     3600, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":0.5}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0,
     NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":true}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0,
     NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":31622400}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     31622400, NULL, ""},
    {200, "{\"access_token\":\"A\",\"expires_in\":31622401}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     OAUTH_MAX_EXPIRES_IN_S, NULL, ""},
    /* scope narrowing, GitHub commas normalized */
    {200, "{\"access_token\":\"A\",\"scope\":\"repo,gist\"}", OAUTH_TOKEN_OK, "A", "RT-OLD", false,
     0, "repo gist", ""},
    {200, "{\"access_token\":\"A\",\"scope\":\"\"}", OAUTH_TOKEN_OK, "A", "RT-OLD", false, 0, "",
     ""},
    {200, "{\"access_token\":\"A\",\"scope\":7}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    /* OAUTH-016: malformed */
    {200, "{\"token_type\":\"bearer\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "{\"access_token\":\"\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "{\"access_token\":42}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "{\"access_token\":\"a b\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "{\"access_token\":\"a\\r\\nX: y\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "{\"access_token\":\"A\",\"token_type\":\"mac\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL,
     false, 0, NULL, "unsupported_token_type"},
    {200, "{\"access_token\":\"A\",\"token_type\":\"DPoP\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL,
     false, 0, NULL, "unsupported_token_type"},
    {200, "{\"access_token\":\"A\",\"refresh_token\":\"r\\u0000x\"}", OAUTH_TOKEN_MALFORMED, NULL,
     NULL, false, 0, NULL, "invalid_token_response"},
    {200, "{\"access_token\":\"A\",\"access_token\":\"B\"}", OAUTH_TOKEN_MALFORMED, NULL, NULL,
     false, 0, NULL, "invalid_token_response"},
    {200, "access_token=A&token_type=bearer", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL,
     "invalid_token_response"},
    {200, "[\"A\"]", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL, "invalid_token_response"},
    {200, "", OAUTH_TOKEN_MALFORMED, NULL, NULL, false, 0, NULL, "invalid_token_response"},
    /* errors */
    {400, "{\"error\":\"invalid_grant\",\"error_description\":\"grant request is invalid\"}",
     OAUTH_TOKEN_INVALID_GRANT, NULL, NULL, false, 0, NULL, "invalid_grant"},
    {200, "{\"error\":\"bad_verification_code\"}", OAUTH_TOKEN_INVALID_GRANT, NULL, NULL, false, 0,
     NULL, "bad_verification_code"},
    {401, "{\"error\":\"invalid_client\"}", OAUTH_TOKEN_CONFIG, NULL, NULL, false, 0, NULL,
     "invalid_client"},
    {400, "{\"error\":\"unauthorized_client\"}", OAUTH_TOKEN_CONFIG, NULL, NULL, false, 0, NULL,
     "unauthorized_client"},
    {400, "{\"error\":\"invalid_scope\"}", OAUTH_TOKEN_REJECTED, NULL, NULL, false, 0, NULL,
     "invalid_scope"},
    {503, "{\"error\":\"temporarily_unavailable\"}", OAUTH_TOKEN_TRANSIENT, NULL, NULL, false, 0,
     NULL, "temporarily_unavailable"},
    {500, "{\"error\":\"weird\"}", OAUTH_TOKEN_TRANSIENT, NULL, NULL, false, 0, NULL, "weird"},
    {503, "", OAUTH_TOKEN_TRANSIENT, NULL, NULL, false, 0, NULL, "http_503"},
    {502, "<html>bad gateway</html>", OAUTH_TOKEN_TRANSIENT, NULL, NULL, false, 0, NULL,
     "http_502"},
    {429, "", OAUTH_TOKEN_TRANSIENT, NULL, NULL, false, 0, NULL, "http_429"},
    {401, "", OAUTH_TOKEN_CONFIG, NULL, NULL, false, 0, NULL, "http_401"},
    {404, "not found", OAUTH_TOKEN_CONFIG, NULL, NULL, false, 0, NULL, "http_404"},
    {302, "", OAUTH_TOKEN_CONFIG, NULL, NULL, false, 0, NULL, "http_302"},
    {400, "{}", OAUTH_TOKEN_REJECTED, NULL, NULL, false, 0, NULL, "http_400"},
    {400, "{\"error\":\"<script>\"}", OAUTH_TOKEN_REJECTED, NULL, NULL, false, 0, NULL,
     "invalid_error"},
};

static void
oauth_016_token_answers(void **state)
{
    struct secret old;

    (void)state;
    sec(&old, "RT-OLD");
    for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
        const struct tcase *c = &tcases[i];
        struct out_response res = {0};
        struct oauth_tokens t;
        struct oauth_token_error te;
        struct errinfo ei = {0};
        enum oauth_token_result r;

        res.status = c->status;
        buf_init(&res.body, OAUTH_MAX_TOKEN_RESPONSE * 2);
        assert_int_equal(buf_puts(&res.body, c->body), ERR_OK);
        r = oauth_token_parse(&res, &old, NOW, &t, &te, &ei);
        if (r != c->r)
            fail_msg("case %zu: %s, want %s (%s)", i, oauth_token_result_name(r),
                     oauth_token_result_name(c->r), ei.msg);
        if (r == OAUTH_TOKEN_OK) {
            assert_string_equal(t.access_token.p, c->at);
            assert_string_equal(t.refresh_token.p ? t.refresh_token.p : "", c->rt);
            if (t.refresh_rotated != c->rotated)
                fail_msg("case %zu: rotated", i);
            if (t.expires_in_s != c->expires_in)
                fail_msg("case %zu: expires_in %lld", i, (long long)t.expires_in_s);
            assert_int_equal(t.expires_at_ms, c->expires_in ? NOW + c->expires_in * 1000 : 0);
            assert_int_equal(t.obtained_at_ms, NOW);
            if (c->scope == NULL)
                assert_null(t.scope);
            else
                assert_string_equal(t.scope, c->scope);
        } else {
            assert_null(t.access_token.p);
            assert_null(t.refresh_token.p);
            assert_null(t.scope);
            if (strcmp(te.error, c->errcode) != 0)
                fail_msg("case %zu: error \"%s\" want \"%s\"", i, te.error, c->errcode);
            assert_int_equal(te.status, c->status);
            assert_null(strpbrk(te.description, "<>\"'&"));
            assert_null(strstr(ei.msg, "RT-OLD"));
        }
        /* the body is wiped in place */
        for (size_t k = 0; k < res.body.len; k++)
            assert_int_equal(res.body.data[k], 0);
        oauth_tokens_release(&t);
        out_response_release(&res);
    }
    secret_release(&old);
}

/* LEAK-010: an error answer repeating the refresh token it refused (in the
 * description, past the length kept, or as the code) keeps it out of terr
 * (stored as the connection's last error) and of the message. */
static void
leak_010_error_echoes_refresh_token(void **state)
{
    static const char rt[] = "RT_leak010_3f9a0c7e1b2d4e5f6a7b8c9d0e1f2a3b";
    static const struct {
        const char *pre, *post;
    } bodies[] = {
        {"{\"error\":\"invalid_grant\",\"error_description\":\"token ", " is not valid\"}"},
        {"{\"error\":\"invalid_request\",\"error_description\":\"", "\"}"},
        {"{\"error\":\"", "\"}"},
        /* the token starts where a kept description would be cut */
        {"{\"error\":\"invalid_request\",\"error_description\":\"" PAD200, "\"}"},
    };
    struct secret old;

    (void)state;
    sec(&old, rt);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct out_response res = {0};
        struct oauth_tokens t;
        struct oauth_token_error te;
        struct errinfo ei = {0};
        char body[512];

        res.status = 400;
        snprintf(body, sizeof(body), "%s%s%s", bodies[i].pre, rt, bodies[i].post);
        buf_init(&res.body, OAUTH_MAX_TOKEN_RESPONSE);
        assert_int_equal(buf_puts(&res.body, body), ERR_OK);
        assert_int_not_equal(oauth_token_parse(&res, &old, NOW, &t, &te, &ei), OAUTH_TOKEN_OK);
        /* no 12-character piece of the token anywhere */
        for (size_t k = 0; k + 12 <= sizeof(rt) - 1; k++) {
            char piece[13];
            memcpy(piece, rt + k, 12);
            piece[12] = '\0';
            if (strstr(te.error, piece) || strstr(te.description, piece) || strstr(ei.msg, piece))
                fail_msg("body %zu: \"%s\" leaks in \"%s\" / \"%s\" / \"%s\"", i, piece, te.error,
                         te.description, ei.msg);
        }
        oauth_tokens_release(&t);
        out_response_release(&res);
    }
    secret_release(&old);
}

/* Transport failures; OAUTH_MAX_TOKEN_RESPONSE / OAUTH_MAX_TOKEN_LEN at N, N+1. */
static void
oauth_016_limits(void **state)
{
    static const struct {
        enum out_fail f;
        enum oauth_token_result r;
    } fails[] = {
        {OUT_FAIL_TIMEOUT, OAUTH_TOKEN_TRANSIENT},   {OUT_FAIL_CONNECT, OAUTH_TOKEN_TRANSIENT},
        {OUT_FAIL_RESOLVE, OAUTH_TOKEN_TRANSIENT},   {OUT_FAIL_BLOCKED, OAUTH_TOKEN_CONFIG},
        {OUT_FAIL_TOO_LARGE, OAUTH_TOKEN_MALFORMED}, {OUT_FAIL_PROTOCOL, OAUTH_TOKEN_MALFORMED},
    };
    struct oauth_tokens t;
    struct oauth_token_error te;
    struct errinfo ei = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
        struct out_response res = {0};
        res.fail = fails[i].f;
        snprintf(res.error, sizeof(res.error), "failed");
        assert_int_equal(oauth_token_parse(&res, NULL, NOW, &t, &te, &ei), fails[i].r);
        assert_int_equal(te.status, 0);
    }
    for (size_t n = OAUTH_MAX_TOKEN_LEN; n <= OAUTH_MAX_TOKEN_LEN + 1; n++) {
        struct out_response res = {0};
        res.status = 200;
        buf_init(&res.body, 1 << 20);
        assert_int_equal(buf_puts(&res.body, "{\"access_token\":\""), ERR_OK);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(buf_putc(&res.body, 'a'), ERR_OK);
        assert_int_equal(buf_puts(&res.body, "\"}"), ERR_OK);
        assert_int_equal(oauth_token_parse(&res, NULL, NOW, &t, &te, &ei),
                         n == OAUTH_MAX_TOKEN_LEN ? OAUTH_TOKEN_OK : OAUTH_TOKEN_MALFORMED);
        assert_true(t.refresh_token.p == NULL); /* no old, none new */
        oauth_tokens_release(&t);
        out_response_release(&res);
    }
    for (size_t n = OAUTH_MAX_TOKEN_RESPONSE; n <= OAUTH_MAX_TOKEN_RESPONSE + 1; n++) {
        struct out_response res = {0};
        static const char js[] = "{\"access_token\":\"A\"}";
        res.status = 200;
        buf_init(&res.body, 1 << 20);
        assert_int_equal(buf_puts(&res.body, js), ERR_OK);
        while (res.body.len < n)
            assert_int_equal(buf_putc(&res.body, ' '), ERR_OK);
        assert_int_equal(oauth_token_parse(&res, NULL, NOW, &t, &te, &ei),
                         n == OAUTH_MAX_TOKEN_RESPONSE ? OAUTH_TOKEN_OK : OAUTH_TOKEN_MALFORMED);
        oauth_tokens_release(&t);
        out_response_release(&res);
    }
    /* OAUTH-016: 5 MiB body */
    {
        struct out_response res = {0};
        res.status = 200;
        buf_init(&res.body, 6u << 20);
        assert_int_equal(buf_puts(&res.body, "{\"access_token\":\"A\",\"x\":\""), ERR_OK);
        while (res.body.len < (5u << 20))
            assert_int_equal(buf_puts(&res.body, "xxxxxxxxxxxxxxxx"), ERR_OK);
        assert_int_equal(buf_puts(&res.body, "\"}"), ERR_OK);
        assert_int_equal(oauth_token_parse(&res, NULL, NOW, &t, &te, &ei), OAUTH_TOKEN_MALFORMED);
        assert_string_equal(te.error, "too_large");
        out_response_release(&res);
    }
}

/* OAUTH-029: margin, short tokens, unknown expiry, clock steps. */
static void
oauth_029_needs_refresh(void **state)
{
    static const struct {
        int64_t now, obtained, expires, margin;
        bool want;
    } cases[] = {
        /* 1 h token, 5 min margin */
        {NOW, NOW, NOW + 3600000, 300, false},
        {NOW + 3600000 - 300001, NOW, NOW + 3600000, 300, false},
        {NOW + 3600000 - 300000, NOW, NOW + 3600000, 300, true},
        {NOW + 3600000, NOW, NOW + 3600000, 300, true},
        {NOW + 7200000, NOW, NOW + 3600000, 300, true},
        /* 3 s token: margin becomes 1.5 s, not "always" */
        {NOW, NOW, NOW + 3000, 300, false},
        {NOW + 1499, NOW, NOW + 3000, 300, false},
        {NOW + 1500, NOW, NOW + 3000, 300, true},
        /* unknown expiry: never proactively */
        {NOW + 999999999, NOW, 0, 300, false},
        /* server clock jumped +10 min: refreshes early but behaves */
        {NOW + 600000, NOW, NOW + 3600000, 300, false},
        /* clock jumped back 10 min: token looks fresh (a 401 forces refresh) */
        {NOW - 600000, NOW, NOW + 3600000, 300, false},
        /* clock jumped back more than the lifetime: refresh */
        {NOW - 3600001, NOW, NOW + 3600000, 300, true},
        /* unknown obtained_at (legacy rows): plain margin */
        {NOW + 3600000 - 299999, 0, NOW + 3600000, 300, true},
        {NOW, 0, NOW + 3600000, 300, false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (oauth_needs_refresh(cases[i].now, cases[i].obtained, cases[i].expires,
                                cases[i].margin) != cases[i].want)
            fail_msg("case %zu", i);
}

/* SSRF-160: a loopback http provider URL is accepted at save (test peers)
 * but the token, refresh and revocation requests still go through the
 * connect-time guard: without an allow-list entry they are blocked and the
 * canary behind the URL sees no connection. */
static void
ssrf_160_token_requests_guarded_at_use(void **state)
{
    struct canary *cn = canary_start("127.0.0.1");
    struct oauth_provider p;
    struct oauth_client c;
    struct secret code, ver, t;
    struct ssrf_policy none = {0};
    struct errinfo ei = {0};
    char def[1024];

    (void)state;
    assert_non_null(cn);
    snprintf(def, sizeof(def),
             "{\"id\":\"peer\",\"name\":\"Peer\",\"authorize_url\":\"http://127.0.0.1:%d/auth\","
             "\"token_url\":\"http://127.0.0.1:%d/token\","
             "\"revocation_url\":\"http://127.0.0.1:%d/revoke\","
             "\"tiers\":{\"repo\":{\"scopes\":[\"repo\"]}}}",
             canary_port(cn), canary_port(cn), canary_port(cn));
    assert_int_equal(oauth_provider_parse(def, strlen(def), &p, &ei), ERR_OK);
    client("conn-test", "s3cret", &c);
    sec(&code, "c0de");
    sec(&ver, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    sec(&t, "the-rt");
    for (int i = 0; i < 3; i++) {
        struct out_request rq;
        struct out_response res;

        if (i == 0)
            assert_int_equal(
                oauth_token_request_code(&p, &c, &code, "http://127.0.0.1:9/cb", &ver, &rq, &ei),
                ERR_OK);
        else if (i == 1)
            assert_int_equal(oauth_token_request_refresh(&p, &c, &t, NULL, &rq, &ei), ERR_OK);
        else
            assert_int_equal(oauth_revoke_request(&p, &c, &t, "refresh_token", &rq, &ei), ERR_OK);
        assert_int_equal(outbound_fetch(&none, &rq, &res), ERR_OK);
        if (res.fail != OUT_FAIL_BLOCKED)
            fail_msg("request %d: %s (%s)", i, out_fail_name(res.fail), res.error);
        out_response_release(&res);
    }
    assert_int_equal(canary_hits(cn), 0);
    secret_release(&code);
    secret_release(&ver);
    secret_release(&t);
    oauth_client_release(&c);
    oauth_provider_release(&p);
    canary_stop(cn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oauth_019_basic_auth),
        cmocka_unit_test(oauth_019_body_auth),
        cmocka_unit_test(oauth_030_revoke),
        cmocka_unit_test(oauth_020_bearer),
        cmocka_unit_test(oauth_016_token_answers),
        cmocka_unit_test(oauth_016_limits),
        cmocka_unit_test(leak_010_error_echoes_refresh_token),
        cmocka_unit_test(oauth_029_needs_refresh),
        cmocka_unit_test(token_timeout_limits),
        cmocka_unit_test(ssrf_160_token_requests_guarded_at_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
