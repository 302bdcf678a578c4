/* services/registry: the table, key resolution in every combination, the
 * PUT {"key"} body, the status entry, base URLs and their flag. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/limits.h"
#include "core/util.h"
#include "services/registry.h"
#include "svc_test.h"

static void
table(void **state)
{
    static const struct {
        const char *id;
        int overridable;
        const char *base;
    } want[] = {
        {"openai", 1, "https://api.openai.com"},
        {"anthropic", 1, "https://api.anthropic.com"},
        {"gemini", 1, "https://generativelanguage.googleapis.com"},
        {"brave", 1, "https://api.search.brave.com"},
        {"telegram", 0, "https://api.telegram.org"},
    };
    (void)state;
    services_reset_base_urls();
    assert_int_equal(service_count(), ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const struct service *s = service_find(want[i].id);
        assert_non_null(s);
        assert_ptr_equal(s, service_at(i));
        assert_int_equal(s->overridable, want[i].overridable);
        assert_string_equal(s->default_base, want[i].base);
        assert_string_equal(service_base_url(want[i].id), want[i].base);
        assert_non_null(s->name);
    }
    assert_null(service_at(ARRAY_LEN(want)));
    assert_null(service_find("gmail")); /* an endpoint, not a credential service */
    assert_null(service_find("OpenAI"));
    assert_null(service_find(""));
    assert_null(service_find(NULL));
    assert_string_equal(service_base_url("gmail"), "https://gmail.googleapis.com");
    assert_string_equal(service_base_url("google_oauth"), "https://oauth2.googleapis.com");
    assert_null(service_base_url("nope"));
}

/* Every combination of (service kind, workspace key, platform key). */
static void
resolution_table(void **state)
{
    static const struct {
        const char *id;
        int ws, plat;
        enum err e;
        enum service_source src;
    } cases[] = {
        {"openai", 0, 0, ERR_UNPROCESSABLE, SERVICE_SOURCE_NONE},
        {"openai", 0, 1, ERR_OK, SERVICE_SOURCE_PLATFORM},
        {"openai", 1, 0, ERR_OK, SERVICE_SOURCE_WORKSPACE},
        {"openai", 1, 1, ERR_OK, SERVICE_SOURCE_WORKSPACE},
        {"brave", 0, 0, ERR_UNPROCESSABLE, SERVICE_SOURCE_NONE},
        {"brave", 1, 1, ERR_OK, SERVICE_SOURCE_WORKSPACE},
        {"anthropic", 0, 1, ERR_OK, SERVICE_SOURCE_PLATFORM},
        {"gemini", 1, 0, ERR_OK, SERVICE_SOURCE_WORKSPACE},
        /* not overridable: a workspace key (a stale row) is never used */
        {"telegram", 0, 0, ERR_UNPROCESSABLE, SERVICE_SOURCE_NONE},
        {"telegram", 0, 1, ERR_OK, SERVICE_SOURCE_PLATFORM},
        {"telegram", 1, 0, ERR_UNPROCESSABLE, SERVICE_SOURCE_NONE},
        {"telegram", 1, 1, ERR_OK, SERVICE_SOURCE_PLATFORM},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct errinfo ei = {0};
        enum service_source src = SERVICE_SOURCE_WORKSPACE;
        enum err e =
            service_resolve(service_find(cases[i].id), cases[i].ws, cases[i].plat, &src, &ei);
        if (e != cases[i].e || src != cases[i].src)
            fail_msg("case %zu (%s ws=%d plat=%d): e=%d src=%s", i, cases[i].id, cases[i].ws,
                     cases[i].plat, e, service_source_name(src));
        if (e != ERR_OK) {
            char want[128];
            snprintf(want, sizeof(want),
                     "%s is not configured: set a platform key or a workspace key", cases[i].id);
            assert_string_equal(ei.msg, want);
            assert_string_equal(ei.code, "service_not_configured");
            assert_string_equal(ei.field, "service");
        }
    }
    {
        struct errinfo ei = {0};
        enum service_source src;
        assert_int_equal(service_resolve(NULL, true, true, &src, &ei), ERR_NOT_FOUND);
        assert_int_equal(src, SERVICE_SOURCE_NONE);
    }
}

/* A workspace sets its key, then removes it: back to the platform key, then
 * to "not configured" once the platform key goes too. */
static void
resolution_workspace_removed(void **state)
{
    const struct service *s = service_find("openai");
    struct errinfo ei = {0};
    enum service_source src;
    (void)state;

    assert_int_equal(service_resolve(s, true, true, &src, &ei), ERR_OK);
    assert_int_equal(src, SERVICE_SOURCE_WORKSPACE);
    assert_int_equal(service_resolve(s, false, true, &src, &ei), ERR_OK);
    assert_int_equal(src, SERVICE_SOURCE_PLATFORM);
    assert_int_equal(service_resolve(s, false, false, &src, &ei), ERR_UNPROCESSABLE);
    assert_int_equal(src, SERVICE_SOURCE_NONE);
    assert_string_equal(service_source_name(SERVICE_SOURCE_WORKSPACE), "workspace");
    assert_string_equal(service_source_name(SERVICE_SOURCE_PLATFORM), "platform");
    assert_string_equal(service_source_name(SERVICE_SOURCE_NONE), "none");
}

static void
workspace_key_allowed(void **state)
{
    struct errinfo ei = {0};
    (void)state;
    for (size_t i = 0; i < service_count(); i++) {
        const struct service *s = service_at(i);
        enum err e = service_check_workspace_key_allowed(s, &ei);
        assert_int_equal(e, s->overridable ? ERR_OK : ERR_FORBIDDEN);
    }
    assert_int_equal(service_check_workspace_key_allowed(service_find("telegram"), &ei),
                     ERR_FORBIDDEN);
    assert_string_equal(ei.code, "service_not_overridable");
    assert_int_equal(service_check_workspace_key_allowed(NULL, &ei), ERR_NOT_FOUND);
}

static void
status_json(void **state)
{
    static const struct {
        const char *id;
        int ws, plat;
        const char *want;
    } cases[] = {
        {"openai", 0, 0,
         "{\"service\":\"openai\",\"name\":\"OpenAI\",\"overridable\":true,\"platform_key_set\":"
         "false,\"workspace_key_set\":false,\"effective\":\"none\"}"},
        {"openai", 1, 1,
         "{\"service\":\"openai\",\"name\":\"OpenAI\",\"overridable\":true,\"platform_key_set\":"
         "true,\"workspace_key_set\":true,\"effective\":\"workspace\"}"},
        {"brave", 0, 1,
         "{\"service\":\"brave\",\"name\":\"Brave Search\",\"overridable\":true,"
         "\"platform_key_set\":true,\"workspace_key_set\":false,\"effective\":\"platform\"}"},
        {"telegram", 1, 0,
         "{\"service\":\"telegram\",\"name\":\"Telegram\",\"overridable\":false,"
         "\"platform_key_set\":false,\"workspace_key_set\":false,\"effective\":\"none\"}"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        json_t *j = service_status_json(service_find(cases[i].id), cases[i].ws, cases[i].plat);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(s, cases[i].want);
        free(s);
        json_decref(j);
    }
}

static void
key_parse_table(void **state)
{
    static const struct {
        const char *svc, *body;
        enum err e;
        int present;
        const char *want;
    } cases[] = {
        {"openai", "{\"key\":\"sk-abc123\"}", ERR_OK, 1, "sk-abc123"},
        {"openai", "{\"key\":\"  sk-abc123\\n\"}", ERR_OK, 1, "sk-abc123"},
        {"openai", "{\"key\":\"\"}", ERR_OK, 0, NULL}, /* blank keeps */
        {"openai", "{\"key\":\"   \"}", ERR_OK, 0, NULL},
        {"openai", "{\"key\":null}", ERR_OK, 0, NULL},
        {"openai", "{}", ERR_OK, 0, NULL},
        {"openai", "{\"key\":\"sk abc\"}", ERR_INVALID, 0, NULL},
        {"openai", "{\"key\":\"sk\\r\\nX-Evil: 1\"}", ERR_INVALID, 0, NULL},
        {"openai", "{\"key\":\"sk\\u00e9\"}", ERR_INVALID, 0, NULL},
        {"openai", "{\"key\":5}", ERR_INVALID, 0, NULL},
        {"openai", "{\"key\":\"a\",\"other\":1}", ERR_INVALID, 0, NULL},
        {"openai", "[]", ERR_INVALID, 0, NULL},
        {"telegram", "{\"key\":\"123456:AAH-abc_DEF\"}", ERR_OK, 1, "123456:AAH-abc_DEF"},
        {"telegram", "{\"key\":\"123456:AAH/../x\"}", ERR_INVALID, 0, NULL},
        {"telegram", "{\"key\":\"123456:AA?x=1\"}", ERR_INVALID, 0, NULL},
        {"telegram", "{\"key\":\"abc:def\"}", ERR_INVALID, 0, NULL},
        {"telegram", "{\"key\":\"123456:\"}", ERR_INVALID, 0, NULL},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        json_t *b = svc_json(cases[i].body);
        struct secret k = {0};
        struct errinfo ei = {0};
        bool present = true;
        enum err e = service_key_parse(service_find(cases[i].svc), b, &k, &present, &ei);
        if (e != cases[i].e || (int)present != cases[i].present)
            fail_msg("case %zu: e=%d present=%d", i, e, present);
        if (cases[i].want != NULL)
            assert_string_equal(k.p, cases[i].want);
        else
            assert_null(k.p);
        if (e != ERR_OK) {
            assert_null(strstr(ei.msg, "sk"));
            assert_null(strstr(ei.msg, "AA"));
            assert_null(strstr(ei.msg, "Evil"));
        }
        secret_release(&k);
        json_decref(b);
    }
}

/* MAX_SECRET_LEN accepted, +1 refused. */
static void
key_parse_limit(void **state)
{
    char *v = malloc(MAX_SECRET_LEN + 2);
    json_t *b;
    struct secret k = {0};
    struct errinfo ei = {0};
    bool present;
    (void)state;

    memset(v, 'k', MAX_SECRET_LEN + 1);
    v[MAX_SECRET_LEN] = '\0';
    b = json_pack("{s:s}", "key", v);
    assert_int_equal(service_key_parse(service_find("brave"), b, &k, &present, &ei), ERR_OK);
    assert_true(present);
    assert_int_equal(k.len, MAX_SECRET_LEN);
    secret_release(&k);
    json_decref(b);
    v[MAX_SECRET_LEN] = 'k';
    v[MAX_SECRET_LEN + 1] = '\0';
    b = json_pack("{s:s}", "key", v);
    assert_int_equal(service_key_parse(service_find("brave"), b, &k, &present, &ei), ERR_TOO_LARGE);
    assert_false(present);
    assert_null(k.p);
    json_decref(b);
    free(v);
}

static void
key_aad(void **state)
{
    struct vault_aad a;
    (void)state;
    service_key_aad(service_find("gemini"), 0, &a);
    assert_int_equal(a.workspace_id, 0);
    assert_string_equal(a.kind, "service_credential");
    assert_string_equal(a.row_id, "gemini");
    assert_string_equal(a.field, "key");
    service_key_aad(service_find("gemini"), 42, &a);
    assert_int_equal(a.workspace_id, 42);
}

static void
base_urls(void **state)
{
    static const struct {
        const char *id, *url;
        enum err e;
        const char *want;
    } cases[] = {
        {"openai", "http://127.0.0.2:8081", ERR_OK, "http://127.0.0.2:8081"},
        {"openai", "http://127.0.0.2:8081/", ERR_OK, "http://127.0.0.2:8081"},
        {"anthropic", "https://proxy.example.com/anthropic/", ERR_OK,
         "https://proxy.example.com/anthropic"},
        {"gmail", "http://127.0.0.2:9000", ERR_OK, "http://127.0.0.2:9000"},
        {"telegram", "http://[::1]:8443", ERR_OK, "http://[::1]:8443"},
        {"openai", "ftp://x.example", ERR_INVALID, NULL},
        {"openai", "http://user:pw@x.example", ERR_INVALID, NULL},
        {"openai", "http://0x7f.1/", ERR_INVALID, NULL},
        {"openai", "http://x.example/?a=1", ERR_INVALID, NULL},
        {"openai", "http://x.example/#f", ERR_INVALID, NULL},
        {"openai", "", ERR_INVALID, NULL},
        {"openai", NULL, ERR_INVALID, NULL},
        {"nope", "http://x.example", ERR_NOT_FOUND, NULL},
        {NULL, "http://x.example", ERR_NOT_FOUND, NULL},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct errinfo ei = {0};
        services_reset_base_urls();
        if (services_set_base_url(cases[i].id, cases[i].url, &ei) != cases[i].e)
            fail_msg("case %zu: %s", i, ei.msg);
        if (cases[i].want != NULL)
            assert_string_equal(service_base_url(cases[i].id), cases[i].want);
        else if (cases[i].id != NULL && service_find(cases[i].id) != NULL)
            assert_string_equal(service_base_url(cases[i].id),
                                service_find(cases[i].id)->default_base);
        if (cases[i].e == ERR_INVALID)
            assert_string_equal(ei.field, "service_base_url");
    }
    services_reset_base_urls();
}

static void
base_url_limit(void **state)
{
    char url[MAX_BASE_URL_LEN + 2];
    struct errinfo ei = {0};
    size_t pre = strlen("http://x.example/");
    (void)state;

    memcpy(url, "http://x.example/", pre);
    memset(url + pre, 'a', sizeof(url) - pre);
    url[MAX_BASE_URL_LEN] = '\0';
    assert_int_equal(services_set_base_url("brave", url, &ei), ERR_OK);
    assert_int_equal(strlen(service_base_url("brave")), MAX_BASE_URL_LEN);
    url[MAX_BASE_URL_LEN] = 'a';
    url[MAX_BASE_URL_LEN + 1] = '\0';
    assert_int_equal(services_set_base_url("brave", url, &ei), ERR_INVALID);
    services_reset_base_urls();
}

static void
base_url_flag(void **state)
{
    static const struct {
        const char *arg;
        enum err e;
    } cases[] = {
        {"openai=http://127.0.0.2:8081", ERR_OK},
        {"brave=http://127.0.0.2:8082/", ERR_OK},
        {"google_oauth=http://127.0.0.2:8083", ERR_OK},
        {"openai", ERR_INVALID},
        {"=http://x.example", ERR_INVALID},
        {"openai=", ERR_INVALID},
        {"nope=http://x.example", ERR_NOT_FOUND},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=http://x.example", ERR_INVALID},
        {NULL, ERR_INVALID},
    };
    (void)state;
    services_reset_base_urls();
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct errinfo ei = {0};
        if (services_base_url_flag(cases[i].arg, &ei) != cases[i].e)
            fail_msg("case %zu: %s", i, ei.msg);
    }
    assert_string_equal(service_base_url("openai"), "http://127.0.0.2:8081");
    assert_string_equal(service_base_url("brave"), "http://127.0.0.2:8082");
    assert_string_equal(service_base_url("google_oauth"), "http://127.0.0.2:8083");
    services_reset_base_urls();
    assert_string_equal(service_base_url("openai"), "https://api.openai.com");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(resolution_table),
        cmocka_unit_test(resolution_workspace_removed),
        cmocka_unit_test(workspace_key_allowed),
        cmocka_unit_test(status_json),
        cmocka_unit_test(key_parse_table),
        cmocka_unit_test(key_parse_limit),
        cmocka_unit_test(key_aad),
        cmocka_unit_test(base_urls),
        cmocka_unit_test(base_url_limit),
        cmocka_unit_test(base_url_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
