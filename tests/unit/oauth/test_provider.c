/* oauth/provider: built-ins, admin definitions (validation, limits at N and
 * N+1), tiers <-> scopes, client credential resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "oauth/provider.h"

static const char base_def[] =
    "{\"id\":\"acme\",\"name\":\"Acme\",\"authorize_url\":\"https://as.acme.test/authorize\","
    "\"token_url\":\"https://as.acme.test/token\",\"tiers\":{\"read\":{\"scopes\":[\"r\"]}}}";

static enum err
parse_str(const char *s, struct oauth_provider *p, struct errinfo *ei)
{
    return oauth_provider_parse(s, strlen(s), p, ei);
}

static void
builtins_parse(void **state)
{
    struct oauth_provider p;
    struct errinfo ei = {0};
    const char *const *ids = oauth_provider_builtin_ids();

    (void)state;
    for (size_t i = 0; ids[i]; i++) {
        assert_int_equal(oauth_provider_builtin(ids[i], &p, &ei), ERR_OK);
        assert_true(p.builtin);
        assert_true(p.pkce);
        assert_string_equal(p.id, ids[i]);
        oauth_provider_release(&p);
    }
    assert_int_equal(oauth_provider_builtin("nope", &p, &ei), ERR_NOT_FOUND);
    assert_int_equal(oauth_provider_builtin("gmail", &p, &ei), ERR_OK);
    assert_non_null(oauth_provider_tier(&p, "send"));
    assert_non_null(oauth_provider_tier(&p, "read"));
    assert_non_null(oauth_provider_tier(&p, "full"));
    assert_string_equal(p.issuer, "https://accounts.google.com");
    assert_string_equal(p.revocation_url, "https://oauth2.googleapis.com/revoke");
    assert_int_equal(p.nextras, 2);
    assert_string_equal(p.extras[0].name, "access_type");
    assert_string_equal(p.extras[0].value, "offline");
    assert_string_equal(p.extras[1].name, "prompt");
    assert_string_equal(oauth_provider_tier(&p, "send")->scopes.v[0],
                        "https://www.googleapis.com/auth/gmail.send");
    oauth_provider_release(&p);
    assert_int_equal(oauth_provider_builtin("github", &p, &ei), ERR_OK);
    assert_null(p.revocation_url);
    assert_int_equal(p.client_auth, OAUTH_AUTH_BODY);
    oauth_provider_release(&p);
}

/* Every field error names its field; OAUTH-015 (reserved extras). */
static void
definition_errors(void **state)
{
    static const struct {
        const char *json;
        enum err e;
        const char *field; /* NULL: do not check */
    } cases[] = {
        {"[]", ERR_INVALID, NULL},
        {"{\"id\":\"acme\"", ERR_INVALID, NULL},
        {"{\"id\":\"Acme!\",\"name\":\"A\"}", ERR_INVALID, "id"},
        {"{\"id\":\"acme\",\"name\":\"\"}", ERR_INVALID, "name"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"x\":1}", ERR_INVALID, NULL},
        {"{\"id\":\"acme\",\"id\":\"b\",\"name\":\"A\"}", ERR_INVALID, NULL},
        {"{\"id\":\"acme\",\"name\":\"A\",\"token_url\":\"https://t.test/\"}", ERR_INVALID,
         "authorize_url"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"http://as.test/a\","
         "\"token_url\":\"https://t.test/\"}",
         ERR_INVALID, "authorize_url"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a#f\","
         "\"token_url\":\"https://t.test/\"}",
         ERR_INVALID, "authorize_url"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://u:p@as.test/a\","
         "\"token_url\":\"https://t.test/\"}",
         ERR_INVALID, "authorize_url"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"ftp://t.test/\"}",
         ERR_INVALID, "token_url"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\"}",
         ERR_INVALID, "tiers"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[]}}}",
         ERR_INVALID, "tiers.r.scopes"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a,b\"]}}}",
         ERR_INVALID, "tiers.r.scopes"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a b\"]}}}",
         ERR_INVALID, "tiers.r.scopes"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"R\":{\"scopes\":[\"a\"]}}}",
         ERR_INVALID, "tiers"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"],"
         "\"includes\":[\"zz\"]}}}",
         ERR_INVALID, "tiers"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"],\"x\":1}}}",
         ERR_INVALID, "tiers.r"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"client_auth\":\"jwt\"}",
         ERR_INVALID, "client_auth"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"require_iss\":true}",
         ERR_INVALID, "require_iss"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"scope_separator\":\";\"}",
         ERR_INVALID, "scope_separator"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"extra_authorize_params\":{\"state\":\"x\"}}",
         ERR_INVALID, "extra_authorize_params"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"extra_authorize_params\":{\"Redirect_URI\":\"x\"}}",
         ERR_INVALID, "extra_authorize_params"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"extra_authorize_params\":{\"code_challenge_method\":\"plain\"}}",
         ERR_INVALID, "extra_authorize_params"},
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
         "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
         "\"extra_authorize_params\":{\"p\":\"a\\nb\"}}",
         ERR_INVALID, "extra_authorize_params"},
        /* loopback http is fine (test peers) */
        {"{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"http://127.0.0.1:18081/auth\","
         "\"token_url\":\"http://127.0.0.1:18081/token\",\"issuer\":\"http://127.0.0.1:18081\","
         "\"require_iss\":true,\"tiers\":{\"r\":{\"scopes\":[\"repo\"]}}}",
         ERR_OK, NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_provider p;
        struct errinfo ei = {0};
        enum err e = parse_str(cases[i].json, &p, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: got %d (%s: %s)", i, e, ei.field, ei.msg);
        if (cases[i].field != NULL && strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: field \"%s\", want \"%s\" (%s)", i, ei.field, cases[i].field,
                     ei.msg);
        oauth_provider_release(&p);
    }
}

static char *
def_with_tiers(size_t ntiers, size_t nscopes)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, "{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":"
                                  "\"https://as.test/a\",\"token_url\":\"https://t.test/\","
                                  "\"tiers\":{"),
                     ERR_OK);
    for (size_t t = 0; t < ntiers; t++) {
        assert_int_equal(buf_printf(&b, "%s\"t%zu\":{\"scopes\":[", t ? "," : "", t), ERR_OK);
        for (size_t s = 0; s < nscopes; s++)
            assert_int_equal(buf_printf(&b, "%s\"s%zu\"", s ? "," : "", s), ERR_OK);
        assert_int_equal(buf_puts(&b, "]}"), ERR_OK);
    }
    assert_int_equal(buf_puts(&b, "}}"), ERR_OK);
    return buf_take(&b, NULL);
}

/* OAUTH_MAX_TIERS, OAUTH_MAX_SCOPES, OAUTH_MAX_PROVIDER_JSON at N and N+1. */
static void
definition_limits(void **state)
{
    struct oauth_provider p;
    struct errinfo ei = {0};
    char *s;
    char *big;

    (void)state;
    s = def_with_tiers(OAUTH_MAX_TIERS, 1);
    assert_int_equal(parse_str(s, &p, &ei), ERR_OK);
    assert_int_equal(p.ntiers, OAUTH_MAX_TIERS);
    oauth_provider_release(&p);
    free(s);
    s = def_with_tiers(OAUTH_MAX_TIERS + 1, 1);
    assert_int_equal(parse_str(s, &p, &ei), ERR_TOO_LARGE);
    free(s);
    s = def_with_tiers(1, OAUTH_MAX_SCOPES);
    assert_int_equal(parse_str(s, &p, &ei), ERR_OK);
    oauth_provider_release(&p);
    free(s);
    s = def_with_tiers(1, OAUTH_MAX_SCOPES + 1);
    assert_int_equal(parse_str(s, &p, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.field, "tiers.t0.scopes");
    free(s);
    /* size: pad with whitespace to exactly N and N+1 bytes */
    big = malloc(OAUTH_MAX_PROVIDER_JSON + 2);
    memset(big, ' ', OAUTH_MAX_PROVIDER_JSON + 1);
    memcpy(big, base_def, strlen(base_def));
    assert_int_equal(oauth_provider_parse(big, OAUTH_MAX_PROVIDER_JSON, &p, &ei), ERR_OK);
    oauth_provider_release(&p);
    assert_int_equal(oauth_provider_parse(big, OAUTH_MAX_PROVIDER_JSON + 1, &p, &ei),
                     ERR_TOO_LARGE);
    free(big);
    /* one scope of OAUTH_MAX_SCOPE_LEN ok, +1 refused */
    for (size_t n = OAUTH_MAX_SCOPE_LEN; n <= OAUTH_MAX_SCOPE_LEN + 1; n++) {
        char scope[OAUTH_MAX_SCOPE_LEN + 2], def[1024];
        memset(scope, 'a', n);
        scope[n] = '\0';
        snprintf(def, sizeof(def),
                 "{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
                 "\"token_url\":\"https://t.test/\",\"tiers\":{\"r\":{\"scopes\":[\"%s\"]}}}",
                 scope);
        assert_int_equal(parse_str(def, &p, &ei), n == OAUTH_MAX_SCOPE_LEN ? ERR_OK : ERR_INVALID);
        oauth_provider_release(&p);
    }
}

static void
json_roundtrip(void **state)
{
    struct oauth_provider a, b;
    struct errinfo ei = {0};
    json_t *j1, *j2;

    (void)state;
    assert_int_equal(oauth_provider_builtin("gmail", &a, &ei), ERR_OK);
    j1 = oauth_provider_to_json(&a);
    assert_int_equal(oauth_provider_from_json(j1, &b, &ei), ERR_OK);
    j2 = oauth_provider_to_json(&b);
    assert_true(json_equal(j1, j2));
    json_decref(j1);
    json_decref(j2);
    oauth_provider_release(&a);
    oauth_provider_release(&b);
}

static void
tiers_to_scopes(void **state)
{
    static const struct {
        const char *tiers;
        enum err e;
        const char *scopes; /* space-joined, or a substring of the message on error */
        const char *tiers_out;
    } cases[] = {
        {"send", ERR_OK, "https://www.googleapis.com/auth/gmail.send openid email", "send"},
        {"send,read", ERR_OK,
         "https://www.googleapis.com/auth/gmail.send "
         "https://www.googleapis.com/auth/gmail.readonly openid email",
         "send read"},
        {"read,send,read", ERR_OK,
         "https://www.googleapis.com/auth/gmail.send "
         "https://www.googleapis.com/auth/gmail.readonly openid email",
         "read send"},
        {"full", ERR_OK, "https://mail.google.com/ openid email", "full"},
        {"send,bogus", ERR_INVALID, "\"bogus\"", NULL},
        {"Send", ERR_INVALID, "\"Send\"", NULL},
        {"send,", ERR_INVALID, "valid tiers: send, read, full", NULL},
        {",send", ERR_INVALID, "valid tiers", NULL},
        {"", ERR_INVALID, "at least one tier", NULL},
        {NULL, ERR_INVALID, "at least one tier", NULL},
        {"send read", ERR_INVALID, "\"send read\"", NULL},
    };
    struct oauth_provider p;
    struct errinfo ei = {0};

    (void)state;
    assert_int_equal(oauth_provider_builtin("gmail", &p, &ei), ERR_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_list sc = {0}, tl = {0};
        char *joined = NULL, *tj = NULL;
        enum err e;
        memset(&ei, 0, sizeof(ei));
        e = oauth_tiers_to_scopes(&p, cases[i].tiers, &sc, &tl, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: %d %s", i, e, ei.msg);
        if (e == ERR_OK) {
            assert_int_equal(oauth_list_join(&sc, ' ', &joined), ERR_OK);
            assert_int_equal(oauth_list_join(&tl, ' ', &tj), ERR_OK);
            assert_string_equal(joined, cases[i].scopes);
            assert_string_equal(tj, cases[i].tiers_out);
        } else {
            assert_string_equal(ei.field, "tiers");
            if (strstr(ei.msg, cases[i].scopes) == NULL)
                fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, ei.msg, cases[i].scopes);
        }
        free(joined);
        free(tj);
        oauth_list_release(&sc);
        oauth_list_release(&tl);
    }
    oauth_provider_release(&p);
}

/* The token response's scope narrows what was granted. */
static void
scopes_to_tiers(void **state)
{
    static const struct {
        const char *provider, *granted;
        enum err e;
        const char *tiers;
    } cases[] = {
        {"gmail",
         "openid https://www.googleapis.com/auth/gmail.send "
         "https://www.googleapis.com/auth/userinfo.email",
         ERR_OK, "send"},
        {"gmail",
         "https://www.googleapis.com/auth/gmail.readonly "
         "https://www.googleapis.com/auth/gmail.send",
         ERR_OK, "send read"},
        {"gmail", "https://mail.google.com/", ERR_OK, "send read full"},
        {"gmail", "", ERR_OK, ""},
        {"gmail", NULL, ERR_OK, ""},
        {"gmail", "  https://www.googleapis.com/auth/gmail.send  ", ERR_OK, "send"},
        {"github", "repo,gist", ERR_OK, "repo"},
        {"github", "read:org,read:user", ERR_OK, ""},
        {"github", "read:org,read:user,user:email", ERR_OK, "read"},
        {"github", "repo,workflow,gist,read:user,user:email,read:org", ERR_OK, "read repo full"},
        {"github", "repo \"x", ERR_INVALID, NULL},
        {"github", "repo\tgist", ERR_INVALID, NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct oauth_provider p;
        struct oauth_list tl = {0};
        struct errinfo ei = {0};
        char *tj = NULL;
        enum err e;
        assert_int_equal(oauth_provider_builtin(cases[i].provider, &p, &ei), ERR_OK);
        e = oauth_scopes_to_tiers(&p, cases[i].granted, &tl, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: %d", i, e);
        if (e == ERR_OK) {
            assert_int_equal(oauth_list_join(&tl, ' ', &tj), ERR_OK);
            if (strcmp(tj, cases[i].tiers) != 0)
                fail_msg("case %zu: \"%s\" want \"%s\"", i, tj, cases[i].tiers);
        }
        free(tj);
        oauth_list_release(&tl);
        oauth_provider_release(&p);
    }
}

/* OAUTH_MAX_SCOPES / OAUTH_MAX_SCOPE_STRING in a granted scope string. */
static void
scope_split_limits(void **state)
{
    struct oauth_list l;
    struct errinfo ei = {0};
    struct buf b;
    char *s;

    (void)state;
    for (size_t n = OAUTH_MAX_SCOPES; n <= OAUTH_MAX_SCOPES + 1; n++) {
        buf_init(&b, 1 << 16);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(buf_printf(&b, "s%zu ", i), ERR_OK);
        s = buf_take(&b, NULL);
        assert_int_equal(oauth_scopes_split(s, &l, &ei),
                         n == OAUTH_MAX_SCOPES ? ERR_OK : ERR_TOO_LARGE);
        oauth_list_release(&l);
        free(s);
    }
    s = malloc(OAUTH_MAX_SCOPE_STRING + 2);
    memset(s, ' ', OAUTH_MAX_SCOPE_STRING + 1);
    s[0] = 'a';
    s[OAUTH_MAX_SCOPE_STRING] = '\0';
    assert_int_equal(oauth_scopes_split(s, &l, &ei), ERR_OK);
    assert_int_equal(l.n, 1);
    oauth_list_release(&l);
    s[OAUTH_MAX_SCOPE_STRING] = ' ';
    s[OAUTH_MAX_SCOPE_STRING + 1] = '\0';
    assert_int_equal(oauth_scopes_split(s, &l, &ei), ERR_INVALID);
    free(s);
}

/* ---- client credentials ---- */

struct fake_registry {
    enum err e;
    const char *id, *secret;
    int calls;
};

static enum err
lookup(void *arg, const char *provider_id, char **client_id, struct secret *secret,
       struct errinfo *ei)
{
    struct fake_registry *r = arg;

    (void)provider_id;
    r->calls++;
    if (r->e != ERR_OK)
        return err_set(ei, r->e, NULL, NULL, "registry says %d", r->e);
    *client_id = strdup(r->id);
    return secret_set(secret, r->secret, strlen(r->secret));
}

static void
env_name(void **state)
{
    char out[64];

    (void)state;
    oauth_env_name("gmail", "CLIENT_ID", out, sizeof(out));
    assert_string_equal(out, "CONNECT_GMAIL_CLIENT_ID");
    oauth_env_name("my.prov-2", "CLIENT_SECRET", out, sizeof(out));
    assert_string_equal(out, "CONNECT_MY_PROV_2_CLIENT_SECRET");
    oauth_env_name("a_b", "X", out, 8);
    assert_int_equal(strlen(out), 7);
}

static void
client_creds(void **state)
{
    struct fake_registry reg = {ERR_OK, "reg-id", "reg-secret", 0};
    struct oauth_client c;
    struct errinfo ei = {0};

    (void)state;
    unsetenv("CONNECT_ACME_CLIENT_ID");
    unsetenv("CONNECT_ACME_CLIENT_SECRET");
    /* neither */
    assert_int_equal(oauth_client_creds("acme", NULL, NULL, &c, &ei), ERR_UNPROCESSABLE);
    assert_string_equal(ei.code, "provider_not_configured");
    assert_non_null(strstr(ei.msg, "provider acme is not configured"));
    assert_non_null(strstr(ei.msg, "registry"));
    assert_non_null(strstr(ei.msg, "CONNECT_ACME_CLIENT_ID"));
    assert_non_null(strstr(ei.msg, "CONNECT_ACME_CLIENT_SECRET"));
    /* registry says not found, env empty -> same */
    reg.e = ERR_NOT_FOUND;
    assert_int_equal(oauth_client_creds("acme", lookup, &reg, &c, &ei), ERR_UNPROCESSABLE);
    /* only the id in env */
    setenv("CONNECT_ACME_CLIENT_ID", "env-id", 1);
    assert_int_equal(oauth_client_creds("acme", lookup, &reg, &c, &ei), ERR_UNPROCESSABLE);
    assert_non_null(strstr(ei.msg, "only the client id"));
    /* env */
    setenv("CONNECT_ACME_CLIENT_SECRET", "env-secret", 1);
    assert_int_equal(oauth_client_creds("acme", lookup, &reg, &c, &ei), ERR_OK);
    assert_int_equal(c.source, OAUTH_CREDS_ENV);
    assert_string_equal(c.client_id, "env-id");
    assert_string_equal(c.secret.p, "env-secret");
    oauth_client_release(&c);
    /* registry wins over env */
    reg.e = ERR_OK;
    assert_int_equal(oauth_client_creds("acme", lookup, &reg, &c, &ei), ERR_OK);
    assert_int_equal(c.source, OAUTH_CREDS_REGISTRY);
    assert_string_equal(c.client_id, "reg-id");
    assert_string_equal(c.secret.p, "reg-secret");
    oauth_client_release(&c);
    /* a registry failure is passed on, never replaced by env */
    reg.e = ERR_STORE;
    assert_int_equal(oauth_client_creds("acme", lookup, &reg, &c, &ei), ERR_STORE);
    assert_null(c.client_id);
    assert_null(c.secret.p);
    /* the message never carries the secret */
    assert_null(strstr(ei.msg, "env-secret"));
    assert_int_equal(oauth_client_creds("Bad Id", lookup, &reg, &c, &ei), ERR_INVALID);
    unsetenv("CONNECT_ACME_CLIENT_ID");
    unsetenv("CONNECT_ACME_CLIENT_SECRET");
    oauth_client_release(&c); /* on {0}: nothing */
}

/* SSRF-160: a provider URL naming an internal host is refused at save:
 * plain http anywhere but 127.0.0.1/::1 (test peers), and every non-canonical
 * spelling (url_validate). A canonical https URL to an internal address is
 * accepted here and denied at use (test_token.c). */
static void
ssrf_160_internal_urls_refused_at_save(void **state)
{
    static const char *const fields[] = {"authorize_url", "token_url", "revocation_url",
                                         "userinfo_url", "issuer"};
    static const char *const urls[] = {
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/token",
        "http://metadata.google.internal/computeMetadata/v1/",
        "https://0xa9fea9fe/latest/meta-data/",
        "https://2852039166/",
        "https://169.254.169.254./",
        "https://0251.0376.0251.0376/",
        "https://user@169.254.169.254/",
        "https://%31%36%39.254.169.254/",
        "file:///etc/passwd",
    };

    (void)state;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        for (size_t u = 0; u < sizeof(urls) / sizeof(urls[0]); u++) {
            struct oauth_provider p;
            struct errinfo ei = {0};
            char def[1024];
            enum err e;

            snprintf(def, sizeof(def),
                     "{\"id\":\"acme\",\"name\":\"A\",\"authorize_url\":\"https://as.test/a\","
                     "\"token_url\":\"https://as.test/t\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}},"
                     "\"%s\":\"%s\"}",
                     fields[f], urls[u]);
            if (strcmp(fields[f], "authorize_url") == 0 || strcmp(fields[f], "token_url") == 0)
                /* replace the required field instead of adding it twice */
                snprintf(def, sizeof(def),
                         "{\"id\":\"acme\",\"name\":\"A\",\"%s\":\"%s\",\"%s\":\"https://as.test/"
                         "x\",\"tiers\":{\"r\":{\"scopes\":[\"a\"]}}}",
                         fields[f], urls[u],
                         strcmp(fields[f], "token_url") == 0 ? "authorize_url" : "token_url");
            e = parse_str(def, &p, &ei);
            if (e != ERR_INVALID || strcmp(ei.field, fields[f]) != 0)
                fail_msg("%s = %s: got %d (%s: %s)", fields[f], urls[u], e, ei.field, ei.msg);
            oauth_provider_release(&p);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_parse),
        cmocka_unit_test(definition_errors),
        cmocka_unit_test(definition_limits),
        cmocka_unit_test(json_roundtrip),
        cmocka_unit_test(tiers_to_scopes),
        cmocka_unit_test(scopes_to_tiers),
        cmocka_unit_test(scope_split_limits),
        cmocka_unit_test(env_name),
        cmocka_unit_test(client_creds),
        cmocka_unit_test(ssrf_160_internal_urls_refused_at_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
