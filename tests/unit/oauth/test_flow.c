/* oauth/flow: PKCE and state properties (OAUTH-001/002/003), the authorize
 * URL (OAUTH-001/015), callback checks (OAUTH-010/012/013), tier checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/flow.h"

static bool
all_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* RFC 7636 Appendix B test vector; verifier length bounds 43..128. */
static void
oauth_002_pkce_challenge(void **state)
{
    char ch[OAUTH_CHALLENGE_LEN + 1];
    char v[130];

    (void)state;
    assert_int_equal(
        oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43, ch), ERR_OK);
    assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    memset(v, 'a', sizeof(v));
    assert_int_equal(oauth_pkce_challenge(v, 42, ch), ERR_INVALID);
    assert_int_equal(oauth_pkce_challenge(v, 43, ch), ERR_OK);
    assert_int_equal(oauth_pkce_challenge(v, 128, ch), ERR_OK);
    assert_int_equal(oauth_pkce_challenge(v, 129, ch), ERR_INVALID);
    v[10] = '+';
    assert_int_equal(oauth_pkce_challenge(v, 64, ch), ERR_INVALID);
    assert_int_equal(oauth_pkce_challenge(NULL, 64, ch), ERR_INVALID);
}

/* Verifier: 43..128 unreserved chars, >= 256 bits, distinct every time. */
static void
oauth_002_pkce_new(void **state)
{
    struct oauth_pkce a, b;
    struct errinfo ei = {0};
    char ch[OAUTH_CHALLENGE_LEN + 1];

    (void)state;
    assert_true(OAUTH_VERIFIER_BYTES * 8 >= 256);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(oauth_pkce_new(&a, &ei), ERR_OK);
        assert_int_equal(oauth_pkce_new(&b, &ei), ERR_OK);
        assert_int_equal(a.verifier.len, OAUTH_VERIFIER_LEN);
        assert_true(a.verifier.len >= 43 && a.verifier.len <= 128);
        assert_true(all_b64url(a.verifier.p, a.verifier.len));
        assert_int_equal(strlen(a.challenge), OAUTH_CHALLENGE_LEN);
        assert_string_not_equal(a.verifier.p, b.verifier.p);
        assert_string_not_equal(a.challenge, b.challenge);
        assert_int_equal(oauth_pkce_challenge(a.verifier.p, a.verifier.len, ch), ERR_OK);
        assert_string_equal(ch, a.challenge);
        oauth_pkce_release(&a);
        oauth_pkce_release(&b);
    }
    oauth_pkce_release(&a); /* twice: fine */
}

static void
oauth_001_state(void **state)
{
    char s1[OAUTH_STATE_LEN + 1], s2[OAUTH_STATE_LEN + 1];
    char h1[OAUTH_STATE_HASH_LEN + 1], h2[OAUTH_STATE_HASH_LEN + 1];
    struct errinfo ei = {0};

    (void)state;
    assert_true(OAUTH_STATE_BYTES * 8 >= 128);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(oauth_state_new(s1, &ei), ERR_OK);
        assert_int_equal(oauth_state_new(s2, &ei), ERR_OK);
        assert_int_equal(strlen(s1), OAUTH_STATE_LEN);
        assert_true(oauth_state_wellformed(s1));
        assert_string_not_equal(s1, s2);
        oauth_state_hash(s1, h1);
        oauth_state_hash(s2, h2);
        assert_int_equal(strlen(h1), 64);
        assert_string_not_equal(h1, h2);
        assert_null(strstr(h1, s1));
    }
    oauth_state_hash("abc", h1);
    assert_string_equal(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* OAUTH-003: malformed state is refused before any lookup. */
static void
oauth_003_state_wellformed(void **state)
{
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true},
        {"abcdefghijklmnopqrstuvwxyz-_0123456789ABCDE", true},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%", false},
        {"", false},
        {NULL, false},
        {"' OR 1=1 --", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (oauth_state_wellformed(cases[i].s) != cases[i].ok)
            fail_msg("case %zu", i);
}

static void
provider(const char *name, struct oauth_provider *p)
{
    struct errinfo ei = {0};
    assert_int_equal(oauth_provider_builtin(name, p, &ei), ERR_OK);
}

/* OAUTH-001/015: every required parameter, encoded, extras after ours. */
static void
oauth_001_authorize_url(void **state)
{
    struct oauth_provider p;
    struct oauth_list scopes = {0};
    struct errinfo ei = {0};
    struct oauth_pkce pk;
    char st[OAUTH_STATE_LEN + 1];
    char *url = NULL, want[512];
    struct oauth_authz a;

    (void)state;
    provider("gmail", &p);
    assert_int_equal(oauth_tiers_to_scopes(&p, "send", &scopes, NULL, &ei), ERR_OK);
    assert_int_equal(oauth_pkce_new(&pk, &ei), ERR_OK);
    assert_int_equal(oauth_state_new(st, &ei), ERR_OK);
    a = (struct oauth_authz){"id 1&x=y", "https://hub.test/api/auth/connect/gmail/callback",
                             &scopes, st, pk.challenge};
    assert_int_equal(oauth_authorize_url(&p, &a, &url, &ei), ERR_OK);
    assert_non_null(strstr(url, "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&"));
    assert_non_null(strstr(url, "&client_id=id%201%26x%3Dy&"));
    assert_non_null(strstr(
        url, "&redirect_uri=https%3A%2F%2Fhub.test%2Fapi%2Fauth%2Fconnect%2Fgmail%2Fcallback&"));
    assert_non_null(
        strstr(url, "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fgmail.send%20openid%20email&"));
    snprintf(want, sizeof(want), "&state=%s&code_challenge=%s&code_challenge_method=S256", st,
             pk.challenge);
    assert_non_null(strstr(url, want));
    assert_non_null(strstr(url, "S256&access_type=offline&prompt=consent"));
    assert_null(strstr(url, pk.verifier.p));
    assert_null(strstr(url, "plain"));
    free(url);

    /* missing inputs */
    a.code_challenge = NULL;
    assert_int_equal(oauth_authorize_url(&p, &a, &url, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "code_challenge");
    a.code_challenge = pk.challenge;
    a.state = "short";
    assert_int_equal(oauth_authorize_url(&p, &a, &url, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "state");
    a.state = st;
    a.client_id = "";
    assert_int_equal(oauth_authorize_url(&p, &a, &url, &ei), ERR_INVALID);
    assert_null(url);
    oauth_list_release(&scopes);
    oauth_pkce_release(&pk);
    oauth_provider_release(&p);
}

/* An authorize_url with its own query; comma separator; PKCE off. */
static void
authorize_url_variants(void **state)
{
    static const char def[] =
        "{\"id\":\"acme\",\"name\":\"Acme\",\"authorize_url\":\"https://as.test/auth?tenant=t1\","
        "\"token_url\":\"https://as.test/token\",\"pkce\":false,\"scope_separator\":\",\","
        "\"tiers\":{\"r\":{\"scopes\":[\"a\",\"b\"]}}}";
    struct oauth_provider p;
    struct oauth_list scopes = {0};
    struct errinfo ei = {0};
    char st[OAUTH_STATE_LEN + 1];
    char *url = NULL;
    struct oauth_authz a;

    (void)state;
    assert_int_equal(oauth_provider_parse(def, strlen(def), &p, &ei), ERR_OK);
    assert_int_equal(oauth_tiers_to_scopes(&p, "r", &scopes, NULL, &ei), ERR_OK);
    assert_int_equal(oauth_state_new(st, &ei), ERR_OK);
    a = (struct oauth_authz){"cid", "https://hub.test/cb", &scopes, st, NULL};
    assert_int_equal(oauth_authorize_url(&p, &a, &url, &ei), ERR_OK);
    assert_non_null(strstr(url, "https://as.test/auth?tenant=t1&response_type=code&client_id=cid"));
    assert_non_null(strstr(url, "&scope=a%2Cb&"));
    assert_null(strstr(url, "code_challenge"));
    free(url);
    oauth_list_release(&scopes);
    oauth_provider_release(&p);
}

static const char peer_def[] =
    "{\"id\":\"peer\",\"name\":\"Peer\",\"authorize_url\":\"http://127.0.0.1:18081/auth\","
    "\"token_url\":\"http://127.0.0.1:18081/token\",\"issuer\":\"http://127.0.0.1:18081\","
    "\"require_iss\":%s,\"tiers\":{\"repo\":{\"scopes\":[\"repo\"]}}}";

static void
peer_provider(bool require_iss, struct oauth_provider *p)
{
    char def[512];
    struct errinfo ei = {0};

    snprintf(def, sizeof(def), peer_def, require_iss ? "true" : "false");
    assert_int_equal(oauth_provider_parse(def, strlen(def), p, &ei), ERR_OK);
}

/* OAUTH-010/012/013: iss checks come first; provider errors sanitized. */
static void
oauth_010_callback_checks(void **state)
{
    static const struct {
        int prov; /* 0 peer, 1 peer+require_iss, 2 github (no issuer) */
        struct oauth_callback_in in;
        enum err e;
        const char *code;
    } cases[] = {
        {0, {"c0de", "s", NULL, NULL, NULL}, ERR_OK, NULL},
        {0, {"c0de", "s", "http://127.0.0.1:18081", NULL, NULL}, ERR_OK, NULL},
        {1, {"c0de", "s", "http://127.0.0.1:18081", NULL, NULL}, ERR_OK, NULL},
        /* OAUTH-010: iss of another AS */
        {0, {"c0de", "s", "http://127.0.0.1:18082", NULL, NULL}, ERR_INVALID, "issuer_mismatch"},
        {0, {"c0de", "s", "http://127.0.0.1:18081/", NULL, NULL}, ERR_INVALID, "issuer_mismatch"},
        {0, {"c0de", "s", "HTTP://127.0.0.1:18081", NULL, NULL}, ERR_INVALID, "issuer_mismatch"},
        {2, {"c0de", "s", "https://evil.test", NULL, NULL}, ERR_INVALID, "issuer_mismatch"},
        /* mix-up beats an error answer */
        {0, {NULL, "s", "https://evil.test", "access_denied", NULL}, ERR_INVALID,
         "issuer_mismatch"},
        /* OAUTH-012 */
        {1, {"c0de", "s", NULL, NULL, NULL}, ERR_INVALID, "issuer_mismatch"},
        /* OAUTH-013 */
        {0, {NULL, "s", NULL, "access_denied", "<script>alert(1)</script>"}, ERR_UNPROCESSABLE,
         "provider_denied"},
        {0, {"c0de", "s", NULL, "server_error", NULL}, ERR_UNPROCESSABLE, "provider_error"},
        {0, {NULL, "s", NULL, "<b>x</b>", "a\r\nb"}, ERR_UNPROCESSABLE, "provider_error"},
        /* code */
        {0, {NULL, "s", NULL, NULL, NULL}, ERR_INVALID, "invalid_callback"},
        {0, {"", "s", NULL, NULL, NULL}, ERR_INVALID, "invalid_callback"},
        {0, {"a b", "s", NULL, NULL, NULL}, ERR_INVALID, "invalid_callback"},
        {0, {"a\nb", "s", NULL, NULL, NULL}, ERR_INVALID, "invalid_callback"},
    };
    struct oauth_provider ps[3];

    (void)state;
    peer_provider(false, &ps[0]);
    peer_provider(true, &ps[1]);
    provider("github", &ps[2]);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_callback cb;
        struct errinfo ei = {0};
        enum err e = oauth_callback_check(&ps[cases[i].prov], &cases[i].in, &cb, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: %d (%s)", i, e, ei.msg);
        if (e == ERR_OK) {
            assert_string_equal(cb.code.p, cases[i].in.code);
        } else {
            assert_null(cb.code.p);
            assert_string_equal(ei.code, cases[i].code);
            /* nothing a page could render as HTML */
            assert_null(strpbrk(ei.msg, "<>\r\n"));
            assert_null(strpbrk(cb.error_description, "<>\r\n\"'&"));
            assert_null(strpbrk(cb.error, "<>"));
        }
        oauth_callback_release(&cb);
    }
    for (size_t i = 0; i < 3; i++)
        oauth_provider_release(&ps[i]);
}

/* Authorization code length at N and N+1. */
static void
callback_code_limit(void **state)
{
    struct oauth_provider p;
    struct oauth_callback cb;
    struct errinfo ei = {0};
    char *code = malloc(OAUTH_MAX_CODE_LEN + 2);
    struct oauth_callback_in in = {code, "s", NULL, NULL, NULL};

    (void)state;
    peer_provider(false, &p);
    memset(code, 'c', OAUTH_MAX_CODE_LEN + 1);
    code[OAUTH_MAX_CODE_LEN] = '\0';
    assert_int_equal(oauth_callback_check(&p, &in, &cb, &ei), ERR_OK);
    oauth_callback_release(&cb);
    code[OAUTH_MAX_CODE_LEN] = 'c';
    code[OAUTH_MAX_CODE_LEN + 1] = '\0';
    assert_int_equal(oauth_callback_check(&p, &in, &cb, &ei), ERR_INVALID);
    free(code);
    oauth_provider_release(&p);
}

static void
sanitize(void **state)
{
    char out[16];
    char big[OAUTH_MAX_ERROR_DESC + 50];

    (void)state;
    oauth_sanitize_text("a<b>&\"'`\x01\xc3\xa9z", out, sizeof(out));
    assert_string_equal(out, "a b        z");
    oauth_sanitize_text(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    oauth_sanitize_text("0123456789abcdefXYZ", out, sizeof(out));
    assert_string_equal(out, "0123456789abcde");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    {
        struct oauth_provider p;
        struct oauth_callback cb;
        struct errinfo ei = {0};
        struct oauth_callback_in in = {NULL, "s", NULL, "access_denied", big};
        peer_provider(false, &p);
        assert_int_equal(oauth_callback_check(&p, &in, &cb, &ei), ERR_UNPROCESSABLE);
        assert_int_equal(strlen(cb.error_description), OAUTH_MAX_ERROR_DESC);
        oauth_callback_release(&cb);
        oauth_provider_release(&p);
    }
}

static void
redirect_uri(void **state)
{
    char *u = NULL;

    (void)state;
    assert_int_equal(oauth_redirect_uri("https://hub.test/", "gmail", &u), ERR_OK);
    assert_string_equal(u, "https://hub.test/api/auth/connect/gmail/callback");
    free(u);
    assert_int_equal(oauth_redirect_uri("http://127.0.0.1:8080", "github", &u), ERR_OK);
    assert_string_equal(u, "http://127.0.0.1:8080/api/auth/connect/github/callback");
    free(u);
    assert_int_equal(oauth_redirect_uri("", "gmail", &u), ERR_INVALID);
    assert_null(u);
}

static void
require_tier(void **state)
{
    struct oauth_provider p;
    struct oauth_list granted = {0};
    struct errinfo ei = {0};
    char *url = NULL;

    (void)state;
    provider("gmail", &p);
    assert_int_equal(oauth_list_add(&granted, "send", 8), ERR_OK);
    assert_int_equal(
        oauth_require_tier(&p, &granted, "send", "https://hub.test", "conn_1", &url, &ei), ERR_OK);
    assert_null(url);
    assert_int_equal(
        oauth_require_tier(&p, &granted, "read", "https://hub.test/", "conn_1", &url, &ei),
        ERR_FORBIDDEN);
    assert_string_equal(ei.code, "needs_tier");
    assert_non_null(strstr(ei.msg, "needs tier read of Gmail"));
    assert_string_equal(
        url, "https://hub.test/api/auth/connect/gmail/start?tiers=send%2Cread&connection=conn_1");
    assert_non_null(strstr(ei.msg, url));
    free(url);
    assert_int_equal(oauth_require_tier(&p, &granted, "nope", "https://hub.test", NULL, NULL, &ei),
                     ERR_INTERNAL);
    oauth_list_release(&granted);
    oauth_provider_release(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oauth_002_pkce_challenge),
        cmocka_unit_test(oauth_002_pkce_new),
        cmocka_unit_test(oauth_001_state),
        cmocka_unit_test(oauth_003_state_wellformed),
        cmocka_unit_test(oauth_001_authorize_url),
        cmocka_unit_test(authorize_url_variants),
        cmocka_unit_test(oauth_010_callback_checks),
        cmocka_unit_test(callback_code_limit),
        cmocka_unit_test(sanitize),
        cmocka_unit_test(redirect_uri),
        cmocka_unit_test(require_tier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
