/* session: scrypt password hashes (round trip, salt per hash, length limits at N and N+1, the
 * encoded cost accepted only within its range), the CSRF token (derived from the cookie,
 * constant-time check), the cookie found in a Cookie header, the Set-Cookie value, and the
 * Origin check with and without APP_URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/limits.h"
#include "session/session.h"

static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* An encoded hash of pw at cost 2^ln, made here with OpenSSL directly (not with the module). */
static void
encode_at(const char *pw, unsigned ln, char *out, size_t n)
{
    unsigned char salt[PASSWORD_SALT_LEN], dk[PASSWORD_HASH_LEN];
    char sh[2 * PASSWORD_SALT_LEN + 1], dh[2 * PASSWORD_HASH_LEN + 1];

    memset(salt, 0x5a, sizeof(salt));
    assert_int_equal(EVP_PBE_scrypt(pw, strlen(pw), salt, sizeof(salt), (uint64_t)1 << ln, 8, 1,
                                    (uint64_t)1 << 30, dk, sizeof(dk)),
                     1);
    for (size_t i = 0; i < sizeof(salt); i++)
        snprintf(sh + 2 * i, 3, "%02x", salt[i]);
    for (size_t i = 0; i < sizeof(dk); i++)
        snprintf(dh + 2 * i, 3, "%02x", dk[i]);
    snprintf(out, n, "$scrypt$ln=%u,r=8,p=1$%s$%s", ln, sh, dh);
}

static void
test_hash_round_trip(void **state)
{
    (void)state;
    char a[PASSWORD_ENCODED_MAX], b[PASSWORD_ENCODED_MAX];
    struct errinfo ei = {0};
    bool ok = false;

    assert_int_equal(password_hash("correct horse battery", a, &ei), ERR_OK);
    assert_int_equal(password_hash("correct horse battery", b, &ei), ERR_OK);
    assert_non_null(strstr(a, "$scrypt$ln=15,r=8,p=1$"));
    assert_null(strstr(a, "correct"));
    assert_string_not_equal(a, b); /* a new salt each time */
    assert_int_equal(password_verify("correct horse battery", a, &ok, &ei), ERR_OK);
    assert_true(ok);
    assert_int_equal(password_verify("correct horse batterx", a, &ok, &ei), ERR_OK);
    assert_false(ok);
    assert_int_equal(password_verify("", a, &ok, &ei), ERR_OK);
    assert_false(ok);
}

static void
test_hash_length_limits(void **state)
{
    (void)state;
    char out[PASSWORD_ENCODED_MAX];
    struct errinfo ei = {0};
    char *s;

    s = repeat('p', PASSWORD_MIN_LEN - 1);
    assert_int_equal(password_hash(s, out, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "password");
    free(s);
    s = repeat('p', PASSWORD_MIN_LEN);
    assert_int_equal(password_hash(s, out, &ei), ERR_OK);
    free(s);
    s = repeat('p', PASSWORD_MAX_LEN);
    assert_int_equal(password_hash(s, out, &ei), ERR_OK);
    free(s);
    s = repeat('p', PASSWORD_MAX_LEN + 1);
    memset(&ei, 0, sizeof(ei));
    assert_int_equal(password_hash(s, out, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "password");
    free(s);
}

static void
test_verify_cost_range(void **state)
{
    (void)state;
    char enc[PASSWORD_ENCODED_MAX];
    struct errinfo ei = {0};
    bool ok = false;

    encode_at("a password 10", 10, enc, sizeof(enc)); /* the lowest accepted cost */
    assert_int_equal(password_verify("a password 10", enc, &ok, &ei), ERR_OK);
    assert_true(ok);
    encode_at("a password 09", 9, enc, sizeof(enc)); /* one below: refused, not verified */
    ok = true;
    assert_int_equal(password_verify("a password 09", enc, &ok, &ei), ERR_INVALID);
    assert_false(ok);
    /* 2^21 (one above the highest accepted, 2^20) is refused before any work */
    snprintf(enc, sizeof(enc), "$scrypt$ln=21,r=8,p=1$%032d$%064d", 0, 0);
    assert_int_equal(password_verify("x", enc, &ok, &ei), ERR_INVALID);
    for (const char *const *bad = (const char *const[]){"", "$2b$10$abc", "$scrypt$ln=15,r=8$aa$bb",
                                                        "$scrypt$ln=15,r=0,p=1$00$00", NULL};
         *bad; bad++)
        assert_int_equal(password_verify("x", *bad, &ok, &ei), ERR_INVALID);
}

static const char COOKIE[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; /* 43 characters */
static const char COOKIE2[] = "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static void
test_csrf_token(void **state)
{
    (void)state;
    char t1[SESSION_CSRF_LEN + 1], t2[SESSION_CSRF_LEN + 1], t3[SESSION_CSRF_LEN + 1];

    session_csrf_token(COOKIE, t1);
    session_csrf_token(COOKIE, t2);
    session_csrf_token(COOKIE2, t3);
    assert_int_equal(strlen(t1), SESSION_CSRF_LEN);
    assert_string_equal(t1, t2);
    assert_string_not_equal(t1, t3);
    assert_true(session_csrf_ok(COOKIE, t1));
    assert_false(session_csrf_ok(COOKIE, t3));
    assert_false(session_csrf_ok(COOKIE, NULL));
    assert_false(session_csrf_ok(COOKIE, ""));
    t1[SESSION_CSRF_LEN - 1] = '\0'; /* one short */
    assert_false(session_csrf_ok(COOKIE, t1));
}

static void
test_cookie_header(void **state)
{
    (void)state;
    char out[SESSION_COOKIE_LEN + 1];
    char h[256];

    snprintf(h, sizeof(h), "connhub_session=%s", COOKIE);
    assert_true(session_cookie_get(h, out));
    assert_string_equal(out, COOKIE);
    snprintf(h, sizeof(h), "theme=dark; connhub_session=%s; lang=en", COOKIE2);
    assert_true(session_cookie_get(h, out));
    assert_string_equal(out, COOKIE2);
    snprintf(h, sizeof(h), "xconnhub_session=%s", COOKIE);
    assert_false(session_cookie_get(h, out));
    snprintf(h, sizeof(h), "connhub_session=%.42s", COOKIE); /* N-1 characters */
    assert_false(session_cookie_get(h, out));
    snprintf(h, sizeof(h), "connhub_session=%sA", COOKIE); /* N+1 */
    assert_false(session_cookie_get(h, out));
    snprintf(h, sizeof(h), "connhub_session=%.42s*", COOKIE); /* not base64url */
    assert_false(session_cookie_get(h, out));
    assert_false(session_cookie_get("", out));
    assert_false(session_cookie_get("connhub_session=", out));
}

static void
test_set_cookie(void **state)
{
    (void)state;
    char out[256];

    session_set_cookie(out, sizeof(out), COOKIE, false, 60);
    assert_string_equal(out, "connhub_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; Path=/; "
                             "HttpOnly; SameSite=Strict; Max-Age=60");
    session_set_cookie(out, sizeof(out), NULL, true, 60);
    assert_string_equal(out,
                        "connhub_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure");
}

static void
test_origin(void **state)
{
    (void)state;
    assert_true(session_origin_ok("https://hub.example.com", "https://hub.example.com/", NULL));
    assert_true(session_origin_ok("https://HUB.example.com", "https://hub.example.com/x?y", "h"));
    assert_false(session_origin_ok("http://hub.example.com", "https://hub.example.com", NULL));
    assert_false(
        session_origin_ok("https://hub.example.com:8443", "https://hub.example.com", NULL));
    assert_false(
        session_origin_ok("https://hub.example.com.evil", "https://hub.example.com", NULL));
    assert_false(session_origin_ok("https://hub.example", "https://hub.example.com", NULL));
    /* APP_URL set: the Host header does not widen it */
    assert_false(
        session_origin_ok("http://127.0.0.1:8080", "https://hub.example.com", "127.0.0.1:8080"));
    /* no APP_URL: the Host the request came to */
    assert_true(session_origin_ok("http://127.0.0.1:8080", NULL, "127.0.0.1:8080"));
    assert_true(session_origin_ok("https://127.0.0.1:8080", NULL, "127.0.0.1:8080"));
    assert_false(session_origin_ok("http://127.0.0.1:8081", NULL, "127.0.0.1:8080"));
    assert_false(session_origin_ok("null", NULL, "127.0.0.1:8080"));
    assert_false(session_origin_ok(NULL, NULL, "127.0.0.1:8080"));
    assert_false(session_origin_ok("", "https://hub.example.com", NULL));
    assert_false(session_origin_ok("http://x", NULL, NULL));
}

static void
test_safe_methods(void **state)
{
    (void)state;
    assert_true(session_method_is_safe("GET"));
    assert_true(session_method_is_safe("HEAD"));
    assert_true(session_method_is_safe("OPTIONS"));
    for (const char *const *m =
             (const char *const[]){"POST", "PUT", "PATCH", "DELETE", "get", NULL};
         *m; m++)
        assert_false(session_method_is_safe(*m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_round_trip),
        cmocka_unit_test(test_hash_length_limits),
        cmocka_unit_test(test_verify_cost_range),
        cmocka_unit_test(test_csrf_token),
        cmocka_unit_test(test_cookie_header),
        cmocka_unit_test(test_set_cookie),
        cmocka_unit_test(test_origin),
        cmocka_unit_test(test_safe_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
