/* services/builtins: every builder's exact request (method, URL, headers,
 * body), refusals, the tool listing and the schemas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "services/builtins.h"
#include "services/registry.h"
#include "svc_test.h"

#define KEY "k3y-VALUE_123"
#define TG "123456:AAH-tok_EN"
#define B "http://127.0.0.2:9"

struct golden {
    const char *tool, *input, *key;
    const char *method, *url;
    struct want_header h[5];
    size_t nh;
    const char *body;
};

static const struct golden goldens[] = {
    {"web_search",
     "{\"query\":\"connhub c\"}",
     KEY,
     "GET",
     B "/res/v1/web/search?q=connhub%20c",
     {{"Accept", "application/json", 0}, {"X-Subscription-Token", KEY, 1}},
     2,
     NULL},
    {"web_search",
     "{\"query\":\"caf\\u00e9 & tea?\",\"count\":20,\"offset\":9,\"country\":\"DE\","
     "\"search_lang\":\"de\",\"safesearch\":\"strict\",\"freshness\":\"pw\"}",
     KEY,
     "GET",
     B "/res/v1/web/search?q=caf%C3%A9%20%26%20tea%3F&count=20&offset=9&country=DE&search_lang=de"
       "&safesearch=strict&freshness=pw",
     {{"Accept", "application/json", 0}, {"X-Subscription-Token", KEY, 1}},
     2,
     NULL},
    {"news_search",
     "{\"query\":\"x\",\"count\":50}",
     KEY,
     "GET",
     B "/res/v1/news/search?q=x&count=50",
     {{"Accept", "application/json", 0}, {"X-Subscription-Token", KEY, 1}},
     2,
     NULL},
    {"openai.chat",
     "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"gpt-4o\"}",
     KEY,
     "POST",
     B "/v1/chat/completions",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"Authorization", "Bearer " KEY, 1}},
     3,
     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
    {"openai.chat",
     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"}],"
     "\"temperature\":0.5,\"max_tokens\":10,\"stop\":[\"x\"],\"tools\":[],\"tool_choice\":\"auto\","
     "\"response_format\":{\"type\":\"json_object\"},\"seed\":7,\"user\":\"u1\"}",
     KEY,
     "POST",
     B "/v1/chat/completions",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"Authorization", "Bearer " KEY, 1}},
     3,
     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"}],"
     "\"temperature\":0.5,\"max_tokens\":10,\"stop\":[\"x\"],\"seed\":7,"
     "\"response_format\":{\"type\":\"json_object\"},\"tools\":[],\"tool_choice\":\"auto\","
     "\"user\":\"u1\"}"},
    {"anthropic.messages",
     "{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
     KEY,
     "POST",
     B "/v1/messages",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-api-key", KEY, 1},
      {"anthropic-version", "2023-06-01", 0}},
     4,
     "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,"
     "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
    {"anthropic.messages",
     "{\"system\":\"be brief\",\"max_tokens\":5,\"model\":\"m\","
     "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":1}",
     KEY,
     "POST",
     B "/v1/messages",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-api-key", KEY, 1},
      {"anthropic-version", "2023-06-01", 0}},
     4,
     "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
     "\"system\":\"be brief\",\"temperature\":1}"},
    {"gemini.generate",
     "{\"model\":\"gemini-2.0-flash\",\"prompt\":\"Hello\"}",
     KEY,
     "POST",
     B "/v1beta/models/gemini-2.0-flash:generateContent",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-goog-api-key", KEY, 1}},
     3,
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello\"}]}]}"},
    {"gemini.generate",
     "{\"model\":\"models/gemini-1.5-pro\",\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
     "\"a\"}]}],\"systemInstruction\":\"sys\",\"generationConfig\":{\"temperature\":0}}",
     KEY,
     "POST",
     B "/v1beta/models/gemini-1.5-pro:generateContent",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-goog-api-key", KEY, 1}},
     3,
     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"a\"}]}],"
     "\"systemInstruction\":{\"parts\":[{\"text\":\"sys\"}]},"
     "\"generationConfig\":{\"temperature\":0}}"},
    {"gemini.embed",
     "{\"model\":\"text-embedding-004\",\"text\":\"hi\"}",
     KEY,
     "POST",
     B "/v1beta/models/text-embedding-004:embedContent",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-goog-api-key", KEY, 1}},
     3,
     "{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}"},
    {"gemini.embed",
     "{\"model\":\"text-embedding-004\",\"text\":\"hi\",\"taskType\":\"RETRIEVAL_QUERY\","
     "\"title\":\"t\",\"outputDimensionality\":256}",
     KEY,
     "POST",
     B "/v1beta/models/text-embedding-004:embedContent",
     {{"Content-Type", "application/json", 0},
      {"Accept", "application/json", 0},
      {"x-goog-api-key", KEY, 1}},
     3,
     "{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"taskType\":\"RETRIEVAL_QUERY\","
     "\"title\":\"t\",\"outputDimensionality\":256}"},
    {"telegram.send_message",
     "{\"chat_id\":-100123,\"text\":\"hi\"}",
     TG,
     "POST",
     B "/bot" TG "/sendMessage",
     {{"Content-Type", "application/json", 0}, {"Accept", "application/json", 0}},
     2,
     "{\"chat_id\":-100123,\"text\":\"hi\"}"},
};

static void
golden_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
        const struct golden *g = &goldens[i];
        const struct svc_tool *t = builtin_find(g->tool);
        json_t *in = svc_json(g->input);
        struct secret key;
        struct out_request rq;
        struct errinfo ei = {0};
        char what[64];

        assert_non_null(t);
        svc_secret(&key, g->key);
        snprintf(what, sizeof(what), "golden %zu (%s)", i, g->tool);
        if (t->build(in, &key, B, &rq, &ei) != ERR_OK)
            fail_msg("%s: %s (%s)", what, ei.msg, ei.field);
        svc_check_request(&rq, g->method, g->url, g->h, g->nh, g->body, what);
        /* no key in the URL, except Telegram's path */
        if (strcmp(t->service, "telegram") != 0)
            assert_null(strstr(rq.url, g->key));
        out_request_release(&rq);
        secret_release(&key);
        json_decref(in);
    }
}

/* The default base URLs come from the registry. */
static void
default_base(void **state)
{
    json_t *in = svc_json("{\"query\":\"q\"}");
    struct secret key;
    struct out_request rq;
    struct errinfo ei;
    const struct svc_tool *t = builtin_find("web_search");
    (void)state;

    services_reset_base_urls();
    svc_secret(&key, KEY);
    assert_int_equal(t->build(in, &key, service_base_url(t->service), &rq, &ei), ERR_OK);
    assert_string_equal(rq.url, "https://api.search.brave.com/res/v1/web/search?q=q");
    out_request_release(&rq);
    secret_release(&key);
    json_decref(in);
}

static void
refusals(void **state)
{
    static const struct {
        const char *tool, *input, *key;
        enum err e;
        const char *field;
    } cases[] = {
        {"web_search", "{}", KEY, ERR_INVALID, "input.query"},
        {"web_search", "{\"query\":\"\"}", KEY, ERR_INVALID, "input.query"},
        {"web_search", "{\"query\":\"a\\nb\"}", KEY, ERR_INVALID, "input.query"},
        {"web_search", "{\"query\":\"a\",\"count\":21}", KEY, ERR_INVALID, "input.count"},
        {"web_search", "{\"query\":\"a\",\"count\":0}", KEY, ERR_INVALID, "input.count"},
        {"web_search", "{\"query\":\"a\",\"count\":1.5}", KEY, ERR_INVALID, "input.count"},
        {"web_search", "{\"query\":\"a\",\"offset\":10}", KEY, ERR_INVALID, "input.offset"},
        {"web_search", "{\"query\":\"a\",\"safesearch\":\"none\"}", KEY, ERR_INVALID,
         "input.safesearch"},
        {"web_search", "{\"query\":\"a\",\"country\":\"DEU\"}", KEY, ERR_INVALID, "input.country"},
        {"web_search", "{\"query\":\"a\",\"extra\":1}", KEY, ERR_INVALID, "input.extra"},
        {"web_search", "[1]", KEY, ERR_INVALID, "input"},
        {"web_search", "{\"query\":\"a\"}", "", ERR_UNPROCESSABLE, "brave key"},
        {"web_search", "{\"query\":\"a\"}", "k\r\nX: y", ERR_UNPROCESSABLE, "brave key"},
        {"news_search", "{\"query\":\"a\",\"count\":51}", KEY, ERR_INVALID, "input.count"},
        {"openai.chat", "{\"messages\":[{\"role\":\"user\"}]}", KEY, ERR_INVALID, "input.model"},
        {"openai.chat", "{\"model\":\"m\"}", KEY, ERR_INVALID, "input.messages"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[]}", KEY, ERR_INVALID, "input.messages"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[1]}", KEY, ERR_INVALID,
         "input.messages[0]"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"stream\":true}", KEY,
         ERR_INVALID, "input.stream"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"temperature\":3}", KEY,
         ERR_INVALID, "input.temperature"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"n\":\"2\"}", KEY,
         ERR_INVALID, "input.n"},
        {"openai.chat", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}]}", "", ERR_UNPROCESSABLE,
         "openai key"},
        {"anthropic.messages", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"max_tokens\":0}",
         KEY, ERR_INVALID, "input.max_tokens"},
        {"anthropic.messages", "{\"model\":\"m\",\"messages\":[{\"role\":\"u\"}],\"system\":5}",
         KEY, ERR_INVALID, "input.system"},
        {"gemini.generate", "{\"model\":\"../x\",\"prompt\":\"a\"}", KEY, ERR_INVALID,
         "input.model"},
        {"gemini.generate", "{\"model\":\"a/b\",\"prompt\":\"a\"}", KEY, ERR_INVALID,
         "input.model"},
        {"gemini.generate", "{\"model\":\"a:b\",\"prompt\":\"a\"}", KEY, ERR_INVALID,
         "input.model"},
        {"gemini.generate", "{\"model\":\"a?key=1\",\"prompt\":\"a\"}", KEY, ERR_INVALID,
         "input.model"},
        {"gemini.generate", "{\"model\":\"models/\",\"prompt\":\"a\"}", KEY, ERR_INVALID,
         "input.model"},
        {"gemini.generate", "{\"model\":\"m\"}", KEY, ERR_INVALID, "input.contents"},
        {"gemini.generate", "{\"model\":\"m\",\"prompt\":\"a\",\"contents\":[{}]}", KEY,
         ERR_INVALID, "input.contents"},
        {"gemini.embed", "{\"model\":\"m\"}", KEY, ERR_INVALID, "input.text"},
        {"gemini.embed", "{\"model\":\"m\",\"text\":\"a\",\"taskType\":\"X\"}", KEY, ERR_INVALID,
         "input.taskType"},
        {"gemini.embed", "{\"model\":\"m\",\"text\":\"a\",\"outputDimensionality\":0}", KEY,
         ERR_INVALID, "input.outputDimensionality"},
        {"telegram.send_message", "{\"chat_id\":1,\"text\":\"a\"}", "not-a-token",
         ERR_UNPROCESSABLE, "token"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct svc_tool *t = builtin_find(cases[i].tool);
        json_t *in = svc_json(cases[i].input);
        struct secret key = {0};
        struct out_request rq;
        struct errinfo ei = {0};
        enum err e;

        if (cases[i].key[0] != '\0')
            svc_secret(&key, cases[i].key);
        e = t->build(in, &key, B, &rq, &ei);
        if (e != cases[i].e || strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu (%s): e=%d field=%s msg=%s", i, cases[i].tool, e, ei.field, ei.msg);
        assert_null(rq.url); /* released */
        assert_int_equal(rq.nheaders, 0);
        if (key.p != NULL)
            assert_null(strstr(ei.msg, key.p));
        out_request_release(&rq);
        secret_release(&key);
        json_decref(in);
    }
}

/* BUILTIN_MAX_QUERY*4 bytes accepted (Brave counts characters), +1 refused. */
static void
query_limit(void **state)
{
    char q[BUILTIN_MAX_QUERY * 4 + 2];
    json_t *in;
    struct secret key;
    struct out_request rq;
    struct errinfo ei;
    (void)state;

    svc_secret(&key, KEY);
    memset(q, 'a', sizeof(q));
    q[BUILTIN_MAX_QUERY * 4] = '\0';
    in = json_pack("{s:s}", "query", q);
    assert_int_equal(builtin_build_web_search(in, &key, B, &rq, &ei), ERR_OK);
    out_request_release(&rq);
    json_decref(in);
    q[BUILTIN_MAX_QUERY * 4] = 'a';
    q[BUILTIN_MAX_QUERY * 4 + 1] = '\0';
    in = json_pack("{s:s}", "query", q);
    assert_int_equal(builtin_build_web_search(in, &key, B, &rq, &ei), ERR_INVALID);
    json_decref(in);
    secret_release(&key);
}

static void
model_limit(void **state)
{
    char m[BUILTIN_MAX_MODEL + 2];
    json_t *in;
    struct secret key;
    struct out_request rq;
    struct errinfo ei;
    (void)state;

    svc_secret(&key, KEY);
    memset(m, 'g', sizeof(m));
    m[BUILTIN_MAX_MODEL] = '\0';
    in = json_pack("{s:s, s:s}", "model", m, "text", "x");
    assert_int_equal(builtin_build_gemini_embed(in, &key, B, &rq, &ei), ERR_OK);
    out_request_release(&rq);
    json_decref(in);
    m[BUILTIN_MAX_MODEL] = 'g';
    m[BUILTIN_MAX_MODEL + 1] = '\0';
    in = json_pack("{s:s, s:s}", "model", m, "text", "x");
    assert_int_equal(builtin_build_gemini_embed(in, &key, B, &rq, &ei), ERR_INVALID);
    json_decref(in);
    secret_release(&key);
}

static void
listing(void **state)
{
    static const char *const names[] = {
        "web_search",         "news_search",     "telegram.send_message", "openai.chat",
        "anthropic.messages", "gemini.generate", "gemini.embed"};
    json_t *list = builtins_list_json(), *it;
    size_t i;
    (void)state;

    assert_non_null(list);
    assert_int_equal(json_array_size(list), ARRAY_LEN(names));
    assert_int_equal(builtin_count(), ARRAY_LEN(names));
    json_array_foreach (list, i, it) {
        const char *fn =
            json_string_value(json_object_get(json_object_get(it, "function"), "name"));
        assert_string_equal(json_string_value(json_object_get(it, "name")), names[i]);
        assert_string_equal(json_string_value(json_object_get(it, "source")), "builtin");
        assert_non_null(service_find(json_string_value(json_object_get(it, "service"))));
        assert_true(json_is_object(json_object_get(it, "input_schema")));
        assert_non_null(json_string_value(json_object_get(it, "description")));
        assert_non_null(fn);
        for (const char *p = fn; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                        (*p >= '0' && *p <= '9') || *p == '_' || *p == '-');
    }
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(list, 3), "function"), "name")),
                        "openai__chat");
    json_decref(list);
    assert_null(builtin_find("nope"));
    assert_null(builtin_find(NULL));
    assert_null(builtin_at(builtin_count()));
}

/* Every schema is an object schema whose required names are properties. */
static void
schemas(void **state)
{
    (void)state;
    for (size_t i = 0; i < builtin_count(); i++) {
        json_t *s = svc_tool_schema(builtin_at(i)), *props, *r;
        size_t j;
        if (s == NULL)
            fail_msg("schema of %s does not parse", builtin_at(i)->name);
        assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
        props = json_object_get(s, "properties");
        assert_true(json_is_object(props));
        assert_true(json_is_false(json_object_get(s, "additionalProperties")));
        json_array_foreach (json_object_get(s, "required"), j, r)
            assert_non_null(json_object_get(props, json_string_value(r)));
        json_decref(s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_requests), cmocka_unit_test(default_base),
        cmocka_unit_test(refusals),        cmocka_unit_test(query_limit),
        cmocka_unit_test(model_limit),     cmocka_unit_test(listing),
        cmocka_unit_test(schemas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
