/*
 * gmail: Gmail API request builders and the tool table (services/gmail.h,
 * part (a)); the message itself is built in mime.c.
 */
#include "services/gmail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "services/internal.h"
#include "core/banned.h"

static enum err
bad(struct errinfo *ei, const char *key, const char *msg)
{
    enum err e = err_set(ei, ERR_INVALID, "invalid_input", key, "input.%s %s", key, msg);
    err_field_prefix(ei, "input");
    return e;
}

/* Authorization: Bearer <token>, credential-marked. */
static enum err
add_bearer(struct out_request *rq, const struct secret *token, struct errinfo *ei)
{
    struct buf v;
    enum err e = svc_check_header_key(token, "access_token", ei);

    if (e != ERR_OK)
        return e;
    buf_init(&v, MAX_SECRET_LEN + 16);
    if (buf_puts(&v, "Bearer ") != ERR_OK || buf_puts(&v, token->p) != ERR_OK)
        e = err_set(ei, ERR_TOO_LARGE, "credential_invalid", "access_token", "token too long");
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Authorization", v.data, true, ei);
    buf_wipe_release(&v);
    if (e == ERR_OK)
        e = out_request_add_header(rq, "Accept", "application/json", false, ei);
    return e;
}

/* input[key]: a string or an array of strings, as a borrowed list (*list
 * is malloc'd; free it). */
static enum err
address_list(const json_t *input, const char *key, const char ***list, size_t *n,
             struct errinfo *ei)
{
    const json_t *v = json_object_get(input, key), *it;
    size_t i;

    *list = NULL;
    *n = 0;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (json_is_string(v)) {
        *list = xcalloc(1, sizeof(**list));
        (*list)[0] = json_string_value(v);
        *n = 1;
        return ERR_OK;
    }
    if (!json_is_array(v))
        return bad(ei, key, "must be a string or an array of strings");
    if (json_array_size(v) > GMAIL_MAX_RECIPIENTS)
        return err_set(ei, ERR_TOO_LARGE, "too_large", key, "at most %d recipients",
                       GMAIL_MAX_RECIPIENTS);
    if (json_array_size(v) == 0)
        return ERR_OK;
    *list = xcalloc(json_array_size(v), sizeof(**list));
    json_array_foreach (v, i, it) {
        if (!json_is_string(it)) {
            char k[48];
            free(*list);
            *list = NULL;
            snprintf(k, sizeof(k), "%s[%zu]", key, i);
            return bad(ei, k, "must be a string");
        }
        (*list)[i] = json_string_value(it);
    }
    *n = json_array_size(v);
    return ERR_OK;
}

enum err
gmail_build_send_message(const json_t *input, const struct secret *access_token,
                         const char *base_url, const char *from, struct out_request *rq,
                         struct errinfo *ei)
{
    static const char *const allowed[] = {"to",   "cc",   "bcc",      "subject",   "text",
                                          "html", "from", "reply_to", "thread_id", NULL};
    struct gmail_message m = {0};
    const char **to = NULL, **cc = NULL, **bcc = NULL;
    const char *in_from = NULL, *thread = NULL;
    struct buf raw;
    json_t *body = NULL;
    enum err e;

    memset(rq, 0, sizeof(*rq));
    buf_init(&raw, OUT_MAX_REQUEST_BODY - 64);
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = address_list(input, "to", &to, &m.nto, ei);
    if (e == ERR_OK)
        e = address_list(input, "cc", &cc, &m.ncc, ei);
    if (e == ERR_OK)
        e = address_list(input, "bcc", &bcc, &m.nbcc, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "from", false, 600, false, &in_from, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "reply_to", false, 600, false, &m.reply_to, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "subject", false, (size_t)GMAIL_MAX_SUBJECT * 2, false, &m.subject,
                          ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "text", false, GMAIL_MAX_BODY, false, &m.text, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "html", false, GMAIL_MAX_BODY, false, &m.html, ei);
    if (e == ERR_OK && m.text == NULL && m.html == NULL)
        e = bad(ei, "text", "or input.html is required");
    if (e == ERR_OK && m.text == NULL)
        m.text = ""; /* an HTML-only message still gets a (blank) text part */
    if (e == ERR_OK)
        e = svc_input_str(input, "thread_id", false, 64, true, &thread, ei);
    if (e == ERR_OK && thread != NULL) {
        for (const char *p = thread; *p && e == ERR_OK; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                e = bad(ei, "thread_id", "must be a Gmail thread id");
    }
    m.to = to;
    m.cc = cc;
    m.bcc = bcc;
    m.from = in_from != NULL ? in_from : from;
    if (e == ERR_OK && m.from == NULL)
        e = bad(ei, "from", "is required (the connection has no default sender)");
    if (e == ERR_OK && m.nto == 0)
        e = bad(ei, "to", "is required");
    if (e == ERR_OK) {
        e = gmail_message_raw(&m, &raw, ei);
        if (e != ERR_OK && ei != NULL && strncmp(ei->field, "input", 5) != 0)
            err_field_prefix(ei, "input");
    }
    if (e == ERR_OK) {
        body = json_object();
        json_object_set_new(body, "raw", json_stringn(raw.data, raw.len));
        if (thread != NULL)
            json_object_set_new(body, "threadId", json_string(thread));
        e = svc_request_init(rq, "POST", base_url, "/gmail/v1/users/me/messages/send", ei);
    }
    if (e == ERR_OK)
        e = svc_json_body(rq, body, ei);
    if (e == ERR_OK)
        e = add_bearer(rq, access_token, ei);
    if (e != ERR_OK)
        out_request_release(rq);
    json_decref(body);
    buf_release(&raw);
    free(to);
    free(cc);
    free(bcc);
    return e;
}

enum err
gmail_build_list_messages(const json_t *input, const struct secret *access_token,
                          const char *base_url, const char *from, struct out_request *rq,
                          struct errinfo *ei)
{
    static const char *const allowed[] = {"query",     "max_results",        "page_token",
                                          "label_ids", "include_spam_trash", NULL};
    const char *q = NULL, *page = NULL;
    const json_t *labels;
    int64_t max = 0;
    bool has_max = false, has_spam = false, spam = false;
    enum err e;

    (void)from;
    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "query", false, 2048, true, &q, ei);
    if (e == ERR_OK)
        e = svc_input_int(input, "max_results", 1, GMAIL_MAX_LIST, &has_max, &max, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "page_token", false, 512, true, &page, ei);
    if (e == ERR_OK)
        e = svc_input_bool(input, "include_spam_trash", &has_spam, &spam, ei);
    labels = input ? json_object_get(input, "label_ids") : NULL;
    if (e == ERR_OK && labels != NULL && !json_is_null(labels)) {
        size_t i;
        const json_t *l;
        if (!json_is_array(labels) || json_array_size(labels) > 32)
            e = bad(ei, "label_ids", "must be an array of at most 32 strings");
        json_array_foreach (labels, i, l) {
            if (e == ERR_OK && (!json_is_string(l) || json_string_length(l) == 0 ||
                                json_string_length(l) > 256 || str_has_ctl(json_string_value(l))))
                e = bad(ei, "label_ids", "must be an array of label id strings");
        }
    }
    if (e != ERR_OK)
        return e;
    e = svc_request_init(rq, "GET", base_url, "/gmail/v1/users/me/messages", ei);
    if (e == ERR_OK && q != NULL)
        e = out_request_add_query(rq, "q", q, false, ei);
    if (e == ERR_OK && has_max) {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)max);
        e = out_request_add_query(rq, "maxResults", n, false, ei);
    }
    if (e == ERR_OK && page != NULL)
        e = out_request_add_query(rq, "pageToken", page, false, ei);
    if (e == ERR_OK && labels != NULL && json_is_array(labels)) {
        size_t i;
        const json_t *l;
        json_array_foreach (labels, i, l) {
            if (e == ERR_OK)
                e = out_request_add_query(rq, "labelIds", json_string_value(l), false, ei);
        }
    }
    if (e == ERR_OK && has_spam)
        e = out_request_add_query(rq, "includeSpamTrash", spam ? "true" : "false", false, ei);
    if (e == ERR_OK)
        e = add_bearer(rq, access_token, ei);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

enum err
gmail_build_get_message(const json_t *input, const struct secret *access_token,
                        const char *base_url, const char *from, struct out_request *rq,
                        struct errinfo *ei)
{
    static const char *const allowed[] = {"id", "format", NULL};
    const char *id = NULL, *format = NULL;
    char path[128];
    enum err e;

    (void)from;
    memset(rq, 0, sizeof(*rq));
    e = svc_input_object(input, ei);
    if (e == ERR_OK)
        e = svc_input_only(input, allowed, ei);
    if (e == ERR_OK)
        e = svc_input_str(input, "id", true, 64, true, &id, ei);
    for (const char *p = id; e == ERR_OK && p && *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            e = bad(ei, "id", "must be a Gmail message id (letters and digits)");
    if (e == ERR_OK)
        e = svc_input_str(input, "format", false, 16, true, &format, ei);
    if (e == ERR_OK && format != NULL && strcmp(format, "full") != 0 &&
        strcmp(format, "metadata") != 0 && strcmp(format, "minimal") != 0 &&
        strcmp(format, "raw") != 0)
        e = bad(ei, "format", "must be one of full, metadata, minimal, raw");
    if (e != ERR_OK)
        return e;
    snprintf(path, sizeof(path), "/gmail/v1/users/me/messages/%s", id);
    e = svc_request_init(rq, "GET", base_url, path, ei);
    if (e == ERR_OK && format != NULL)
        e = out_request_add_query(rq, "format", format, false, ei);
    if (e == ERR_OK)
        e = add_bearer(rq, access_token, ei);
    if (e != ERR_OK)
        out_request_release(rq);
    return e;
}

#define ADDRS "{\"type\":[\"string\",\"array\"],\"items\":{\"type\":\"string\"}}"

static const struct gmail_tool tools[] = {
    {"send_message",
     "Send an email from this Gmail account. Addresses are \"a@b.example\" or "
     "\"Name <a@b.example>\".",
     "{\"type\":\"object\",\"properties\":{\"to\":" ADDRS ",\"cc\":" ADDRS ",\"bcc\":" ADDRS
     ",\"subject\":{\"type\":\"string\"},\"text\":{\"type\":\"string\"},"
     "\"html\":{\"type\":\"string\"},\"from\":{\"type\":\"string\"},"
     "\"reply_to\":{\"type\":\"string\"},\"thread_id\":{\"type\":\"string\"}},"
     "\"required\":[\"to\"],\"additionalProperties\":false}",
     "send", gmail_build_send_message},
    {"list_messages", "List messages of this Gmail account (Gmail search syntax in query).",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},"
     "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500},"
     "\"page_token\":{\"type\":\"string\"},"
     "\"label_ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":32},"
     "\"include_spam_trash\":{\"type\":\"boolean\"}},\"additionalProperties\":false}",
     "read", gmail_build_list_messages},
    {"get_message", "Get one message of this Gmail account by id.",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"minLength\":1},"
     "\"format\":{\"type\":\"string\",\"enum\":[\"full\",\"metadata\",\"minimal\",\"raw\"]}},"
     "\"required\":[\"id\"],\"additionalProperties\":false}",
     "read", gmail_build_get_message},
};

size_t
gmail_tool_count(void)
{
    return ARRAY_LEN(tools);
}

const struct gmail_tool *
gmail_tool_at(size_t i)
{
    return i < ARRAY_LEN(tools) ? &tools[i] : NULL;
}

const struct gmail_tool *
gmail_tool_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_LEN(tools); i++)
        if (strcmp(tools[i].name, name) == 0)
            return &tools[i];
    return NULL;
}

const char *
gmail_scope_for_tier(const char *tier)
{
    if (tier == NULL)
        return NULL;
    if (strcmp(tier, "send") == 0)
        return "https://www.googleapis.com/auth/gmail.send";
    if (strcmp(tier, "read") == 0)
        return "https://www.googleapis.com/auth/gmail.readonly";
    if (strcmp(tier, "full") == 0)
        return "https://mail.google.com/";
    return NULL;
}
