/*
 * builtins: the built-in tools and their provider requests
 * (services/builtins.h).
 */
#include "services/builtins.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "services/internal.h"
#include "services/telegram.h"
#include "core/banned.h"

/* ---- input members copied into a JSON body ---- */

enum mtype {
    M_STR,        /* string */
    M_NUM,        /* number in [min, max] */
    M_INT,        /* integer in [min, max] */
    M_ARR,        /* array of at most max items (min: at least) */
    M_OBJ,        /* object */
    M_BOOL,       /* boolean */
    M_STR_OR_ARR, /* string or array */
    M_STR_OR_OBJ, /* string or object */
};

struct member {
    const char *key;
    enum mtype type;
    bool required;
    double min, max; /* numbers; item counts for arrays; bytes for strings (max) */
};

static enum err
bad(struct errinfo *ei, const char *key, const char *msg)
{
    enum err e = err_set(ei, ERR_INVALID, "invalid_input", key, "input.%s %s", key, msg);
    err_field_prefix(ei, "input");
    return e;
}

static enum err
check_member(const struct member *m, const json_t *v, struct errinfo *ei)
{
    char msg[96];

    switch (m->type) {
    case M_STR:
        if (!json_is_string(v))
            return bad(ei, m->key, "must be a string");
        if (m->max > 0 && (double)json_string_length(v) > m->max) {
            snprintf(msg, sizeof(msg), "must be at most %.0f bytes", m->max);
            return bad(ei, m->key, msg);
        }
        return ERR_OK;
    case M_NUM:
    case M_INT:
        if (!json_is_number(v) || (m->type == M_INT && json_is_real(v) &&
                                   json_real_value(v) != floor(json_real_value(v))))
            return bad(ei, m->key, m->type == M_INT ? "must be an integer" : "must be a number");
        if (json_number_value(v) < m->min || json_number_value(v) > m->max) {
            snprintf(msg, sizeof(msg), "must be between %g and %g", m->min, m->max);
            return bad(ei, m->key, msg);
        }
        return ERR_OK;
    case M_ARR:
        if (!json_is_array(v))
            return bad(ei, m->key, "must be an array");
        if ((double)json_array_size(v) < m->min || (double)json_array_size(v) > m->max) {
            snprintf(msg, sizeof(msg), "must have %.0f to %.0f items", m->min, m->max);
            return bad(ei, m->key, msg);
        }
        return ERR_OK;
    case M_OBJ:
        return json_is_object(v) ? ERR_OK : bad(ei, m->key, "must be an object");
    case M_BOOL:
        return json_is_boolean(v) ? ERR_OK : bad(ei, m->key, "must be a boolean");
    case M_STR_OR_ARR:
        return json_is_string(v) || json_is_array(v)
                   ? ERR_OK
                   : bad(ei, m->key, "must be a string or an array");
    case M_STR_OR_OBJ:
        return json_is_string(v) || json_is_object(v)
                   ? ERR_OK
                   : bad(ei, m->key, "must be a string or an object");
    }
    return bad(ei, m->key, "is not supported");
}

/* Checks input against members (unknown keys refused unless in extra) and
 * copies those present, in table order, into body. */
static enum err
copy_members(const json_t *input, const struct member *ms, size_t n, const char *const *extra,
             json_t *body, struct errinfo *ei)
{
    const char *key;
    const json_t *v;
    enum err e = svc_input_object(input, ei);

    if (e != ERR_OK)
        return e;
    json_object_foreach ((json_t *)input, key, v) {
        bool known = false;
        (void)v;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(ms[i].key, key) == 0;
        for (size_t i = 0; extra != NULL && extra[i] != NULL && !known; i++)
            known = strcmp(extra[i], key) == 0;
        if (!known)
            return svc_input_unknown(key, ei);
    }
    for (size_t i = 0; i < n; i++) {
        v = input ? json_object_get(input, ms[i].key) : NULL;
        if (v == NULL || json_is_null(v)) {
            if (ms[i].required)
                return bad(ei, ms[i].key, "is required");
            continue;
        }
        e = check_member(&ms[i], v, ei);
        if (e != ERR_OK)
            return e;
        if (json_object_set(body, ms[i].key, (json_t *)v) != 0)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    }
    return ERR_OK;
}

/* Each item of input[key] (an array) must be an object with a string "role". */
static enum err
check_roles(const json_t *arr, const char *key, struct errinfo *ei)
{
    size_t i;
    const json_t *m;

    json_array_foreach (arr, i, m) {
        if (!json_is_object(m) || !json_is_string(json_object_get(m, "role"))) {
            char k[64];
            snprintf(k, sizeof(k), "%s[%zu]", key, i);
            return bad(ei, k, "must be an object with a string role");
        }
    }
    return ERR_OK;
}

static enum err
model_name(const json_t *input, bool path_safe, const char **out, struct errinfo *ei)
{
    const char *m;
    enum err e = svc_input_str(input, "model", true, BUILTIN_MAX_MODEL + 7, true, &m, ei);

    if (e != ERR_OK)
        return e;
    if (path_safe) {
        if (strncmp(m, "models/", 7) == 0)
            m += 7;
        if (m[0] == '\0' || m[0] == '.' || strlen(m) > BUILTIN_MAX_MODEL)
            return bad(ei, "model", "must be a model name such as gemini-2.0-flash");
        for (const char *p = m; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                return bad(ei, "model", "must contain only letters, digits, '-', '_' and '.'");
    }
    *out = m;
    return ERR_OK;
}

/* ---- Brave Search ---- */

static enum err
brave(const json_t *input, const struct secret *key, const char *base_url, const char *path,
      int64_t max_count, struct out_request *rq, struct errinfo *ei)
{
    static const char *const allowed[] = {"query",       "count",      "offset",    "country",
                                          "search_lang", "safesearch", "freshness", NULL};
    const char *q = NULL, *country = NULL, *lang = NULL, *safe = NULL, *fresh = NULL;
    int64_t count = 0, offset = 0;
    bool has_count = false, has_offset = false;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "query", true, (size_t)BUILTIN_MAX_QUERY * 4, true, &q, ei);
    if (e == ERR_OK && !str_is_utf8(q, strlen(q)))
        e = bad(ei, "query", "must be UTF-8");
    if (e == ERR_OK)
        e = svc_input_int(input, "count", 1, max_count, &has_count, &count, ei);
    if (e == ERR_OK)
        e = svc_input_int(input, "offset", 0, 9, &has_offset, &offset, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "country", false, 2, true, &country, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "search_lang", false, 16, true, &lang, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "safesearch", false, 16, true, &safe, ei);
    if (e == ERR_OK && safe != NULL && strcmp(safe, "off") != 0 && strcmp(safe, "moderate") != 0 &&
        strcmp(safe, "strict") != 0)
        e = bad(ei, "safesearch", "must be one of off, moderate, strict");
    if (e == ERR_OK)
        e = svc_input_str(input, "freshness", false, 32, true, &fresh, ei);
    if (e == ERR_OK)
        e = svc_check_header_key(key, "brave key", ei);
    if (e != ERR_OK)
        return e;

    e = svc_request_init(rq, "GET", base_url, path, ei);
    if (e != ERR_OK)
        return e;
    e = out_request_add_query(rq, "q", q, false, ei);
    if (e == ERR_OK && has_count) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)count);
        e = out_request_add_query(rq, "count", n, false, ei);
    }
    if (e == ERR_OK && has_offset) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)offset);
        e = out_request_add_query(rq, "offset", n, false, ei);
    }
    if (e == ERR_OK && country != NULL)
        e = out_request_add_query(rq, "country", country, false, ei);
    if (e == ERR_OK && lang != NULL)
        e = out_request_add_query(rq, "search_lang", lang, false, ei);
    if (e == ERR_OK && safe != NULL)
        e = out_request_add_query(rq, "safesearch", safe, false, ei);
    if (e == ERR_OK && fresh != NULL)
        e = out_request_add_query(rq, "freshness", fresh, false, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "X-Subscription-Token", key->p, true, ei);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

enum err
builtin_build_web_search(const json_t *input, const struct secret *key, const char *base_url,
                         struct out_request *rq, struct errinfo *ei)
{
    return brave(input, key, base_url, "/res/v1/web/search", 20, rq, ei);
}

enum err
builtin_build_news_search(const json_t *input, const struct secret *key, const char *base_url,
                          struct out_request *rq, struct errinfo *ei)
{
    return brave(input, key, base_url, "/res/v1/news/search", 50, rq, ei);
}

/* ---- LLM providers ---- */

/* POST base+path with body (taken) and the key header. */
static enum err
post_json(const char *base_url, const char *path, json_t *body, const char *key_header,
          const char *key_prefix, const struct secret *key, struct out_request *rq,
          struct errinfo *ei)
{
    struct buf v;
    enum err e;

    buf_init(&v, MAX_SECRET_LEN + 16);
    e = svc_request_init(rq, "POST", base_url, path, ei);
    if (e == ERR_OK)
        e = svc_json_body(rq, body, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    if (e == ERR_OK && (buf_puts(&v, key_prefix) != ERR_OK || buf_puts(&v, key->p) != ERR_OK))
        e = err_set(ei, ERR_TOO_LARGE, "credential_invalid", key_header, "key is too long");
    if (e == ERR_OK)
        e = out_request_add_header(rq, key_header, v.data, true, ei);
    buf_wipe_release(&v);
    json_decref(body);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

enum err
builtin_build_openai_chat(const json_t *input, const struct secret *key, const char *base_url,
                          struct out_request *rq, struct errinfo *ei)
{
    static const struct member ms[] = {
        {"model", M_STR, true, 0, BUILTIN_MAX_MODEL},
        {"messages", M_ARR, true, 1, BUILTIN_MAX_MESSAGES},
        {"temperature", M_NUM, false, 0, 2},
        {"top_p", M_NUM, false, 0, 1},
        {"max_tokens", M_INT, false, 1, 1e7},
        {"max_completion_tokens", M_INT, false, 1, 1e7},
        {"n", M_INT, false, 1, 16},
        {"stop", M_STR_OR_ARR, false, 0, 0},
        {"presence_penalty", M_NUM, false, -2, 2},
        {"frequency_penalty", M_NUM, false, -2, 2},
        {"seed", M_INT, false, -9.2e18, 9.2e18},
        {"response_format", M_OBJ, false, 0, 0},
        {"tools", M_ARR, false, 0, 128},
        {"tool_choice", M_STR_OR_OBJ, false, 0, 0},
        {"reasoning_effort", M_STR, false, 0, 16},
        {"user", M_STR, false, 0, 256},
    };
    json_t *body = json_object();
    const char *model;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = copy_members(input, ms, ARRAY_LEN(ms), NULL, body, ei);
    if (e == ERR_OK)
        e = model_name(input, false, &model, ei);
    if (e == ERR_OK)
        e = check_roles(json_object_get(body, "messages"), "messages", ei);
    if (e == ERR_OK)
        e = svc_check_header_key(key, "openai key", ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    return post_json(base_url, "/v1/chat/completions", body, "Authorization", "Bearer ", key, rq,
                     ei);
}

enum err
builtin_build_anthropic_messages(const json_t *input, const struct secret *key,
                                 const char *base_url, struct out_request *rq, struct errinfo *ei)
{
    static const struct member ms[] = {
        {"model", M_STR, true, 0, BUILTIN_MAX_MODEL},
        {"max_tokens", M_INT, false, 1, 1e7},
        {"messages", M_ARR, true, 1, BUILTIN_MAX_MESSAGES},
        {"system", M_STR_OR_ARR, false, 0, 0},
        {"temperature", M_NUM, false, 0, 1},
        {"top_p", M_NUM, false, 0, 1},
        {"top_k", M_INT, false, 1, 1e6},
        {"stop_sequences", M_ARR, false, 0, 16},
        {"tools", M_ARR, false, 0, 128},
        {"tool_choice", M_OBJ, false, 0, 0},
        {"metadata", M_OBJ, false, 0, 0},
    };
    json_t *body = json_object();
    const char *model;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = copy_members(input, ms, ARRAY_LEN(ms), NULL, body, ei);
    if (e == ERR_OK)
        e = model_name(input, false, &model, ei);
    if (e == ERR_OK)
        e = check_roles(json_object_get(body, "messages"), "messages", ei);
    if (e == ERR_OK && json_object_get(body, "max_tokens") == NULL) {
        /* required by the API; keep table order: model, max_tokens, messages */
        json_t *nb = json_object();
        const char *k;
        json_t *v;
        json_object_foreach (body, k, v) {
            json_object_set(nb, k, v);
            if (strcmp(k, "model") == 0)
                json_object_set_new(nb, "max_tokens", json_integer(BUILTIN_DEFAULT_MAX_TOKENS));
        }
        json_decref(body);
        body = nb;
    }
    if (e == ERR_OK)
        e = svc_check_header_key(key, "anthropic key", ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    memset(rq, 0, sizeof(*rq));
    e = post_json(base_url, "/v1/messages", body, "x-api-key", "", key, rq, ei);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "anthropic-version", "2023-06-01", false, ei);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

/* {"parts":[{"text": s}]} (new reference), with "role" when role != NULL. */
static json_t *
text_content(const char *role, const char *s)
{
    json_t *c = json_object();

    if (role != NULL)
        json_object_set_new(c, "role", json_string(role));
    json_object_set_new(c, "parts", json_pack("[{s:s}]", "text", s));
    return c;
}

static enum err
gemini_path(const char *model, const char *verb, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "/v1beta/models/%s:%s", model, verb);
    return n > 0 && (size_t)n < outlen ? ERR_OK : ERR_TOO_LARGE;
}

enum err
builtin_build_gemini_generate(const json_t *input, const struct secret *key, const char *base_url,
                              struct out_request *rq, struct errinfo *ei)
{
    static const struct member ms[] = {
        {"contents", M_ARR, false, 1, BUILTIN_MAX_MESSAGES},
        {"systemInstruction", M_STR_OR_OBJ, false, 0, 0},
        {"generationConfig", M_OBJ, false, 0, 0},
        {"safetySettings", M_ARR, false, 0, 64},
        {"tools", M_ARR, false, 0, 128},
        {"toolConfig", M_OBJ, false, 0, 0},
    };
    static const char *const extra[] = {"model", "prompt", NULL};
    json_t *body = json_object(), *si;
    const char *model = NULL, *prompt = NULL;
    char path[BUILTIN_MAX_MODEL + 64];
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = copy_members(input, ms, ARRAY_LEN(ms), extra, body, ei);
    if (e == ERR_OK)
        e = model_name(input, true, &model, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "prompt", false, OUT_MAX_REQUEST_BODY / 2, false, &prompt, ei);
    if (e == ERR_OK && (prompt != NULL) == (json_object_get(body, "contents") != NULL))
        e = bad(ei, "contents", "or input.prompt is required (exactly one of them)");
    if (e == ERR_OK && prompt != NULL) {
        /* contents first, as the API documents it */
        json_t *nb = json_object();
        const char *k;
        json_t *v;
        json_object_set_new(nb, "contents", json_pack("[o]", text_content("user", prompt)));
        json_object_foreach (body, k, v) {
            json_object_set(nb, k, v);
        }
        json_decref(body);
        body = nb;
    }
    si = json_object_get(body, "systemInstruction");
    if (e == ERR_OK && json_is_string(si))
        json_object_set_new(body, "systemInstruction", text_content(NULL, json_string_value(si)));
    if (e == ERR_OK && gemini_path(model, "generateContent", path, sizeof(path)) != ERR_OK)
        e = bad(ei, "model", "is too long");
    if (e == ERR_OK)
        e = svc_check_header_key(key, "gemini key", ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    return post_json(base_url, path, body, "x-goog-api-key", "", key, rq, ei);
}

enum err
builtin_build_gemini_embed(const json_t *input, const struct secret *key, const char *base_url,
                           struct out_request *rq, struct errinfo *ei)
{
    static const char *const allowed[] = {
        "model", "text", "taskType", "title", "outputDimensionality", NULL};
    static const char *const tasks[] = {
        "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
        "CLUSTERING",      "QUESTION_ANSWERING", "FACT_VERIFICATION",   "CODE_RETRIEVAL_QUERY"};
    json_t *body = json_object();
    const char *model = NULL, *text = NULL, *task = NULL, *title = NULL;
    int64_t dim = 0;
    bool has_dim = false;
    char path[BUILTIN_MAX_MODEL + 64];
    enum err e;

    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = model_name(input, true, &model, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "text", true, OUT_MAX_REQUEST_BODY / 2, false, &text, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "taskType", false, 32, true, &task, ei);
    if (e == ERR_OK && task != NULL) {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_LEN(tasks) && !ok; i++)
            ok = strcmp(tasks[i], task) == 0;
        if (!ok)
            e = bad(ei, "taskType", "is not a Gemini task type");
    }
    if (e == ERR_OK)
        e = svc_input_str(input, "title", false, 1024, false, &title, ei);
    if (e == ERR_OK)
        e = svc_input_int(input, "outputDimensionality", 1, 65536, &has_dim, &dim, ei);
    if (e == ERR_OK && gemini_path(model, "embedContent", path, sizeof(path)) != ERR_OK)
        e = bad(ei, "model", "is too long");
    if (e == ERR_OK)
        e = svc_check_header_key(key, "gemini key", ei);
    if (e != ERR_OK) {
        json_decref(body);
        return e;
    }
    json_object_set_new(body, "content", text_content(NULL, text));
    if (task != NULL)
        json_object_set_new(body, "taskType", json_string(task));
    if (title != NULL)
        json_object_set_new(body, "title", json_string(title));
    if (has_dim)
        json_object_set_new(body, "outputDimensionality", json_integer(dim));
    return post_json(base_url, path, body, "x-goog-api-key", "", key, rq, ei);
}

/* ---- the table ---- */

#define S_STR(n) "\"" n "\":{\"type\":\"string\"}"
#define BRAVE_PROPS(maxc)                                                                          \
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":400,\"description\":"            \
    "\"Search terms\"},\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" maxc "},"       \
    "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"                               \
    "\"country\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":2},"                           \
    "\"search_lang\":{\"type\":\"string\",\"maxLength\":16},"                                      \
    "\"safesearch\":{\"type\":\"string\",\"enum\":[\"off\",\"moderate\",\"strict\"]},"             \
    "\"freshness\":{\"type\":\"string\",\"maxLength\":32,\"description\":"                         \
    "\"pd, pw, pm, py or YYYY-MM-DDtoYYYY-MM-DD\"}"

static const struct svc_tool builtins[] = {
    {"web_search", "Search the web (Brave Search). Returns titles, URLs and snippets.",
     "{\"type\":\"object\",\"properties\":{" BRAVE_PROPS(
         "20") "},\"required\":[\"query\"],\"additionalProperties\":false}",
     "brave", NULL, builtin_build_web_search},
    {"news_search", "Search recent news articles (Brave Search).",
     "{\"type\":\"object\",\"properties\":{" BRAVE_PROPS(
         "50") "},\"required\":[\"query\"],\"additionalProperties\":false}",
     "brave", NULL, builtin_build_news_search},
    {"telegram.send_message",
     "Send a Telegram message with the platform bot to a chat that has started it.",
     "{\"type\":\"object\",\"properties\":{\"chat_id\":{\"type\":[\"integer\",\"string\"]},"
     "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096},"
     "\"parse_mode\":{\"type\":\"string\",\"enum\":[\"MarkdownV2\",\"HTML\",\"Markdown\"]},"
     "\"disable_notification\":{\"type\":\"boolean\"},"
     "\"reply_to_message_id\":{\"type\":\"integer\",\"minimum\":1}},"
     "\"required\":[\"chat_id\",\"text\"],\"additionalProperties\":false}",
     "telegram", NULL, telegram_build_send_message},
    {"openai.chat", "Chat completion with an OpenAI model (POST /v1/chat/completions).",
     "{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\",\"minLength\":1},"
     "\"messages\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"object\","
     "\"properties\":{\"role\":{\"type\":\"string\"}},\"required\":[\"role\"]}},"
     "\"temperature\":{\"type\":\"number\",\"minimum\":0,\"maximum\":2},"
     "\"top_p\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
     "\"max_tokens\":{\"type\":\"integer\",\"minimum\":1},"
     "\"max_completion_tokens\":{\"type\":\"integer\",\"minimum\":1},"
     "\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":16},"
     "\"stop\":{\"type\":[\"string\",\"array\"]},"
     "\"presence_penalty\":{\"type\":\"number\",\"minimum\":-2,\"maximum\":2},"
     "\"frequency_penalty\":{\"type\":\"number\",\"minimum\":-2,\"maximum\":2},"
     "\"seed\":{\"type\":\"integer\"},\"response_format\":{\"type\":\"object\"},"
     "\"tools\":{\"type\":\"array\"},\"tool_choice\":{\"type\":[\"string\",\"object\"]},"
     "" S_STR("reasoning_effort") "," S_STR(
         "user") "},"
                 "\"required\":[\"model\",\"messages\"],\"additionalProperties\":false}",
     "openai", NULL, builtin_build_openai_chat},
    {"anthropic.messages", "Send messages to an Anthropic Claude model (POST /v1/messages).",
     "{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\",\"minLength\":1},"
     "\"max_tokens\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"default 1024\"},"
     "\"messages\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"object\","
     "\"properties\":{\"role\":{\"type\":\"string\"}},\"required\":[\"role\"]}},"
     "\"system\":{\"type\":[\"string\",\"array\"]},"
     "\"temperature\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
     "\"top_p\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
     "\"top_k\":{\"type\":\"integer\",\"minimum\":1},"
     "\"stop_sequences\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
     "\"tools\":{\"type\":\"array\"},\"tool_choice\":{\"type\":\"object\"},"
     "\"metadata\":{\"type\":\"object\"}},"
     "\"required\":[\"model\",\"messages\"],\"additionalProperties\":false}",
     "anthropic", NULL, builtin_build_anthropic_messages},
    {"gemini.generate",
     "Generate content with a Google Gemini model (models/{model}:generateContent). Give "
     "either prompt (text) or contents.",
     "{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\",\"minLength\":1,"
     "\"pattern\":\"^(models/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$\"},"
     "\"prompt\":{\"type\":\"string\"},"
     "\"contents\":{\"type\":\"array\",\"minItems\":1},"
     "\"systemInstruction\":{\"type\":[\"string\",\"object\"]},"
     "\"generationConfig\":{\"type\":\"object\"},\"safetySettings\":{\"type\":\"array\"},"
     "\"tools\":{\"type\":\"array\"},\"toolConfig\":{\"type\":\"object\"}},"
     "\"required\":[\"model\"],\"additionalProperties\":false}",
     "gemini", NULL, builtin_build_gemini_generate},
    {"gemini.embed", "Embed a text with a Google Gemini embedding model (:embedContent).",
     "{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\",\"minLength\":1,"
     "\"pattern\":\"^(models/)?[A-Za-z0-9_-][A-Za-z0-9._-]*$\"},"
     "\"text\":{\"type\":\"string\",\"minLength\":1},"
     "\"taskType\":{\"type\":\"string\",\"enum\":[\"RETRIEVAL_QUERY\",\"RETRIEVAL_DOCUMENT\","
     "\"SEMANTIC_SIMILARITY\",\"CLASSIFICATION\",\"CLUSTERING\",\"QUESTION_ANSWERING\","
     "\"FACT_VERIFICATION\",\"CODE_RETRIEVAL_QUERY\"]},"
     "\"title\":{\"type\":\"string\"},"
     "\"outputDimensionality\":{\"type\":\"integer\",\"minimum\":1}},"
     "\"required\":[\"model\",\"text\"],\"additionalProperties\":false}",
     "gemini", NULL, builtin_build_gemini_embed},
};

size_t
builtin_count(void)
{
    return ARRAY_LEN(builtins);
}

const struct svc_tool *
builtin_at(size_t i)
{
    return i < ARRAY_LEN(builtins) ? &builtins[i] : NULL;
}

const struct svc_tool *
builtin_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_LEN(builtins); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

json_t *
builtins_list_json(void)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < ARRAY_LEN(builtins); i++) {
        const struct svc_tool *t = &builtins[i];
        json_t *schema = svc_tool_schema(t), *item;
        char fname[64];
        size_t n = 0;

        for (const char *p = t->name; *p && n + 3 < sizeof(fname); p++) {
            if (*p == '.') {
                fname[n++] = '_';
                fname[n++] = '_';
            } else {
                fname[n++] = *p;
            }
        }
        fname[n] = '\0';
        item = schema ? json_pack("{s:s, s:s, s:O, s:s, s:s, s:{s:s, s:s, s:O}}", "name", t->name,
                                  "description", t->description, "input_schema", schema, "source",
                                  "builtin", "service", t->service, "function", "name", fname,
                                  "description", t->description, "parameters", schema)
                      : NULL;
        json_decref(schema);
        if (item == NULL || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
