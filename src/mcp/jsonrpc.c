#include "mcp/jsonrpc.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

void
jsonrpc_limits_default(struct jsonrpc_limits *l)
{
    l->max_message = JSONRPC_MAX_MESSAGE;
    l->max_batch = JSONRPC_MAX_BATCH;
    l->max_depth = JSONRPC_MAX_DEPTH;
    l->max_pending = JSONRPC_MAX_PENDING;
}

void
jsonrpc_client_init(struct jsonrpc_client *c, const struct jsonrpc_limits *lim)
{
    memset(c, 0, sizeof(*c));
    if (lim != NULL)
        c->lim = *lim;
    else
        jsonrpc_limits_default(&c->lim);
    c->next_id = 1;
}

void
jsonrpc_client_release(struct jsonrpc_client *c)
{
    free(c->pending);
    c->pending = NULL;
    c->npending = c->apending = 0;
    json_decref(c->meta);
    c->meta = NULL;
}

void
jsonrpc_client_set_meta(struct jsonrpc_client *c, json_t *meta_take)
{
    json_decref(c->meta);
    c->meta = meta_take;
}

const struct jsonrpc_pending *
jsonrpc_pending_find(const struct jsonrpc_client *c, int64_t id)
{
    for (size_t i = 0; i < c->npending; i++)
        if (c->pending[i].id == id)
            return &c->pending[i];
    return NULL;
}

static void
done_add(struct jsonrpc_client *c, int64_t id)
{
    c->done[c->ndone % JSONRPC_DONE_RING] = id;
    c->ndone++;
}

static bool
done_has(const struct jsonrpc_client *c, int64_t id)
{
    size_t n = c->ndone < JSONRPC_DONE_RING ? c->ndone : JSONRPC_DONE_RING;

    for (size_t i = 0; i < n; i++)
        if (c->done[i] == id)
            return true;
    return false;
}

/* Removes pending[i], copying its method to method_out (may be NULL). */
static void
pending_remove(struct jsonrpc_client *c, size_t i, char *method_out)
{
    if (method_out != NULL)
        memcpy(method_out, c->pending[i].method, JSONRPC_MAX_METHOD);
    done_add(c, c->pending[i].id);
    c->pending[i] = c->pending[c->npending - 1];
    c->npending--;
}

bool
jsonrpc_forget(struct jsonrpc_client *c, int64_t id)
{
    for (size_t i = 0; i < c->npending; i++) {
        if (c->pending[i].id == id) {
            pending_remove(c, i, NULL);
            return true;
        }
    }
    return false;
}

/* ---- serialising ---- */

struct dump_ctx {
    struct buf *out;
    enum err e;
};

static int
dump_cb(const char *s, size_t n, void *arg)
{
    struct dump_ctx *d = arg;

    d->e = buf_append(d->out, s, n);
    return d->e == ERR_OK ? 0 : -1;
}

/* Appends msg compactly to out, all or nothing. Always releases msg. */
static enum err
emit(json_t *msg, struct buf *out, struct errinfo *ei)
{
    struct dump_ctx d = {out, ERR_OK};
    size_t start = out->len;
    enum err e = ERR_OK;

    if (msg == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "JSON-RPC: out of memory building a message");
    if (json_dump_callback(msg, dump_cb, &d, JSON_COMPACT) != 0) {
        e = d.e != ERR_OK ? d.e : ERR_INTERNAL;
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
        if (e == ERR_TOO_LARGE)
            err_set(ei, e, "mcp_too_large", "message", "JSON-RPC: message over %zu bytes",
                    out->max);
        else
            err_set(ei, e, NULL, "message", "JSON-RPC: cannot serialise the message");
    }
    json_decref(msg);
    return e;
}

static json_t *
envelope(void)
{
    json_t *m = json_object();

    if (m != NULL && json_object_set_new(m, "jsonrpc", json_string("2.0")) != 0) {
        json_decref(m);
        m = NULL;
    }
    return m;
}

static enum err
check_method(const char *method, struct errinfo *ei)
{
    size_t n = method != NULL ? strlen(method) : 0;

    if (n == 0 || n >= JSONRPC_MAX_METHOD)
        return err_set(ei, ERR_INVALID, "invalid_field", "method",
                       "JSON-RPC: method must be 1..%d bytes", JSONRPC_MAX_METHOD - 1);
    return ERR_OK;
}

/* Merges c->meta into params._meta; returns params (maybe newly made) or NULL. */
static json_t *
add_meta(const struct jsonrpc_client *c, json_t *params)
{
    json_t *m;

    if (c->meta == NULL)
        return params;
    if (params == NULL)
        params = json_object();
    if (!json_is_object(params))
        return params; /* MCP params are objects; leave others alone */
    m = json_object_get(params, "_meta");
    if (!json_is_object(m)) {
        m = json_object();
        if (json_object_set_new(params, "_meta", m) != 0)
            return params;
    }
    json_object_update(m, c->meta);
    return params;
}

enum err
jsonrpc_build_request(struct jsonrpc_client *c, const char *method, json_t *params_take,
                      struct buf *out, int64_t *id_out, struct errinfo *ei)
{
    json_t *msg = NULL;
    int64_t id = c->next_id;
    enum err e;

    e = check_method(method, ei);
    if (e != ERR_OK)
        goto out;
    if (c->npending >= c->lim.max_pending) {
        e = err_set(ei, ERR_TOO_LARGE, "mcp_too_many_pending", "pending",
                    "JSON-RPC: %zu requests already in flight", c->npending);
        goto out;
    }
    if (id > JSONRPC_MAX_ID) {
        e = err_set(ei, ERR_UNAVAILABLE, "mcp_ids_exhausted", "id",
                    "JSON-RPC: request ids exhausted; start a new session");
        goto out;
    }
    if (c->npending == c->apending) {
        size_t n = c->apending ? c->apending * 2 : 8;
        struct jsonrpc_pending *p = realloc(c->pending, n * sizeof(*p));
        if (p == NULL) {
            e = err_set(ei, ERR_NOMEM, NULL, NULL, "JSON-RPC: out of memory");
            goto out;
        }
        c->pending = p;
        c->apending = n;
    }
    params_take = add_meta(c, params_take);
    msg = envelope();
    if (msg == NULL || json_object_set_new(msg, "id", json_integer(id)) != 0 ||
        json_object_set_new(msg, "method", json_string(method)) != 0 ||
        (params_take != NULL && json_object_set(msg, "params", params_take) != 0)) {
        e = err_set(ei, ERR_NOMEM, NULL, NULL, "JSON-RPC: out of memory building %s", method);
        goto out;
    }
    e = emit(msg, out, ei);
    msg = NULL;
    if (e != ERR_OK)
        goto out;
    c->pending[c->npending].id = id;
    memcpy(c->pending[c->npending].method, method, strlen(method) + 1);
    c->npending++;
    c->next_id++;
    if (id_out != NULL)
        *id_out = id;
out:
    json_decref(msg);
    json_decref(params_take);
    return e;
}

enum err
jsonrpc_build_notification(const char *method, json_t *params_take, struct buf *out,
                           struct errinfo *ei)
{
    json_t *msg = NULL;
    enum err e;

    e = check_method(method, ei);
    if (e != ERR_OK)
        goto out;
    msg = envelope();
    if (msg == NULL || json_object_set_new(msg, "method", json_string(method)) != 0 ||
        (params_take != NULL && json_object_set(msg, "params", params_take) != 0)) {
        e = err_set(ei, ERR_NOMEM, NULL, NULL, "JSON-RPC: out of memory building %s", method);
        goto out;
    }
    e = emit(msg, out, ei);
    msg = NULL;
out:
    json_decref(msg);
    json_decref(params_take);
    return e;
}

static json_t *
copy_id(const json_t *id)
{
    if (id == NULL || json_is_null(id))
        return json_null();
    return json_deep_copy(id);
}

enum err
jsonrpc_build_result(const json_t *id, json_t *result_take, struct buf *out, struct errinfo *ei)
{
    json_t *msg = envelope();

    if (result_take == NULL)
        result_take = json_object();
    if (msg == NULL || result_take == NULL || json_object_set_new(msg, "id", copy_id(id)) != 0 ||
        json_object_set(msg, "result", result_take) != 0) {
        json_decref(msg);
        msg = NULL;
    }
    json_decref(result_take);
    return emit(msg, out, ei);
}

enum err
jsonrpc_build_error(const json_t *id, int code, const char *message, struct buf *out,
                    struct errinfo *ei)
{
    json_t *msg = envelope(), *err = json_object();

    if (msg == NULL || err == NULL || json_object_set_new(err, "code", json_integer(code)) != 0 ||
        json_object_set_new(err, "message", json_string(message ? message : "")) != 0 ||
        json_object_set_new(msg, "id", copy_id(id)) != 0 ||
        json_object_set(msg, "error", err) != 0) {
        json_decref(msg);
        msg = NULL;
    }
    json_decref(err);
    return emit(msg, out, ei);
}

enum err
jsonrpc_build_initialize(struct jsonrpc_client *c, const struct mcp_client_info *ci,
                         struct buf *out, int64_t *id_out, struct errinfo *ei)
{
    json_t *p, *info;

    if (ci == NULL || ci->protocol_version == NULL || ci->name == NULL || ci->version == NULL ||
        ci->name[0] == '\0' || ci->version[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_field", "clientInfo",
                       "initialize: protocolVersion, clientInfo.name and .version are required");
    p = json_object();
    info = json_object();
    if (p == NULL || info == NULL ||
        json_object_set_new(p, "protocolVersion", json_string(ci->protocol_version)) != 0 ||
        json_object_set_new(p, "capabilities",
                            ci->capabilities ? json_incref(ci->capabilities) : json_object()) ||
        json_object_set_new(info, "name", json_string(ci->name)) != 0 ||
        json_object_set_new(info, "version", json_string(ci->version)) != 0 ||
        json_object_set(p, "clientInfo", info) != 0) {
        json_decref(p);
        json_decref(info);
        return err_set(ei, ERR_NOMEM, NULL, NULL, "initialize: out of memory");
    }
    json_decref(info);
    return jsonrpc_build_request(c, "initialize", p, out, id_out, ei);
}

enum err
jsonrpc_build_initialized(struct buf *out, struct errinfo *ei)
{
    return jsonrpc_build_notification("notifications/initialized", NULL, out, ei);
}

enum err
jsonrpc_build_tools_list(struct jsonrpc_client *c, const char *cursor, struct buf *out,
                         int64_t *id_out, struct errinfo *ei)
{
    json_t *p = NULL;

    if (cursor != NULL) {
        p = json_object();
        if (p == NULL || json_object_set_new(p, "cursor", json_string(cursor)) != 0) {
            json_decref(p);
            return err_set(ei, ERR_INVALID, "invalid_field", "cursor",
                           "tools/list: the cursor is not valid UTF-8");
        }
    }
    return jsonrpc_build_request(c, "tools/list", p, out, id_out, ei);
}

enum err
jsonrpc_build_tools_call(struct jsonrpc_client *c, const char *name, json_t *arguments,
                         json_t *progress_token, struct buf *out, int64_t *id_out,
                         struct errinfo *ei)
{
    json_t *p, *meta = NULL;

    if (name == NULL || name[0] == '\0')
        return err_set(ei, ERR_INVALID, "invalid_field", "name", "tools/call: name is empty");
    if (arguments != NULL && !json_is_object(arguments))
        return err_set(ei, ERR_INVALID, "invalid_field", "arguments",
                       "tools/call: arguments must be an object");
    if (progress_token != NULL && !json_is_string(progress_token) &&
        !json_is_integer(progress_token))
        return err_set(ei, ERR_INVALID, "invalid_field", "progressToken",
                       "tools/call: progressToken must be a string or an integer");
    p = json_object();
    if (p == NULL || json_object_set_new(p, "name", json_string(name)) != 0 ||
        json_object_set_new(p, "arguments", arguments ? json_incref(arguments) : json_object()) !=
            0)
        goto nomem;
    if (progress_token != NULL) {
        meta = json_object();
        if (json_object_set_new(p, "_meta", meta) != 0 ||
            json_object_set_new(meta, "progressToken", json_incref(progress_token)) != 0)
            goto nomem;
    }
    return jsonrpc_build_request(c, "tools/call", p, out, id_out, ei);
nomem:
    json_decref(p);
    return err_set(ei, ERR_INVALID, "invalid_field", "name",
                   "tools/call: name is not valid UTF-8 (or out of memory)");
}

enum err
jsonrpc_build_ping(struct jsonrpc_client *c, struct buf *out, int64_t *id_out, struct errinfo *ei)
{
    return jsonrpc_build_request(c, "ping", NULL, out, id_out, ei);
}

enum err
jsonrpc_build_cancelled(struct jsonrpc_client *c, int64_t id, const char *reason, struct buf *out,
                        struct errinfo *ei)
{
    const struct jsonrpc_pending *pd = jsonrpc_pending_find(c, id);
    json_t *p;
    enum err e;

    if (pd == NULL)
        return err_set(ei, ERR_INVALID, "mcp_not_pending", "requestId",
                       "notifications/cancelled: request %lld is not in flight", (long long)id);
    if (strcmp(pd->method, "initialize") == 0)
        return err_set(ei, ERR_INVALID, "mcp_cannot_cancel", "requestId",
                       "notifications/cancelled: initialize must not be cancelled");
    p = json_object();
    if (p == NULL || json_object_set_new(p, "requestId", json_integer(id)) != 0 ||
        (reason != NULL && json_object_set_new(p, "reason", json_string(reason)) != 0)) {
        json_decref(p);
        return err_set(ei, ERR_INVALID, "invalid_field", "reason",
                       "notifications/cancelled: reason is not valid UTF-8");
    }
    e = jsonrpc_build_notification("notifications/cancelled", p, out, ei);
    if (e == ERR_OK)
        jsonrpc_forget(c, id);
    return e;
}

/* ---- parsing ---- */

const char *
jsonrpc_kind_name(enum jsonrpc_kind k)
{
    switch (k) {
    case JSONRPC_RESPONSE:
        return "response";
    case JSONRPC_ERROR_UNBOUND:
        return "error_unbound";
    case JSONRPC_NOTIFICATION:
        return "notification";
    case JSONRPC_REQUEST:
        return "request";
    case JSONRPC_IGNORED:
        return "ignored";
    case JSONRPC_INVALID:
        break;
    }
    return "invalid";
}

enum err
jsonrpc_prescan(const char *data, size_t len, const struct jsonrpc_limits *lim, struct errinfo *ei)
{
    bool in_str = false, esc = false, top_array = false;
    size_t commas = 0, start = 0;
    int depth = 0;

    if (len > lim->max_message)
        return err_set(ei, ERR_TOO_LARGE, "mcp_too_large", "message",
                       "JSON-RPC: message of %zu bytes is over the limit of %zu", len,
                       lim->max_message);
    while (start < len && (data[start] == ' ' || data[start] == '\t' || data[start] == '\n' ||
                           data[start] == '\r'))
        start++;
    top_array = start < len && data[start] == '[';
    for (size_t i = start; i < len; i++) {
        char ch = data[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            if (++depth > lim->max_depth)
                return err_set(ei, ERR_TOO_LARGE, "mcp_too_deep", "message",
                               "JSON-RPC: nesting deeper than %d", lim->max_depth);
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            if (top_array && depth == 1 && ++commas + 1 > lim->max_batch)
                return err_set(ei, ERR_TOO_LARGE, "mcp_batch_too_long", "message",
                               "JSON-RPC: batch longer than %zu messages", lim->max_batch);
            break;
        default:
            break;
        }
    }
    return ERR_OK; /* an exact element count is checked after parsing */
}

static void
invalid(struct jsonrpc_client *c, struct jsonrpc_msg *m, const char *why)
{
    m->kind = JSONRPC_INVALID;
    m->why = why;
    c->stats.invalid++;
}

static void
classify_response(struct jsonrpc_client *c, json_t *o, struct jsonrpc_msg *m)
{
    json_t *id = json_object_get(o, "id"), *res = json_object_get(o, "result"),
           *er = json_object_get(o, "error");

    if ((res == NULL) == (er == NULL)) {
        invalid(c, m, "a response needs exactly one of result and error");
        return;
    }
    if (er != NULL) {
        json_t *code = json_object_get(er, "code"), *msg = json_object_get(er, "message");
        if (!json_is_object(er) || !json_is_integer(code) || (msg && !json_is_string(msg))) {
            invalid(c, m, "error must be an object with an integer code");
            return;
        }
        m->is_error = true;
        m->err_code = json_integer_value(code);
        m->err_message = msg ? json_string_value(msg) : "";
        m->err_data = json_object_get(er, "data");
    } else {
        m->result = res;
    }
    if (id == NULL) {
        invalid(c, m, "a response needs an id");
        return;
    }
    if (json_is_null(id)) {
        if (!m->is_error) {
            invalid(c, m, "a result with a null id");
            return;
        }
        m->kind = JSONRPC_ERROR_UNBOUND;
        c->stats.unbound_errors++;
        return;
    }
    if (json_is_string(id)) {
        /* We only send integer ids: "1" is not 1. */
        m->kind = JSONRPC_IGNORED;
        m->why = "response to an id we never sent";
        c->stats.unknown_ids++;
        return;
    }
    if (!json_is_integer(id)) {
        invalid(c, m, "id is neither an integer nor a string");
        return;
    }
    m->id = json_integer_value(id);
    for (size_t i = 0; i < c->npending; i++) {
        if (c->pending[i].id == m->id) {
            pending_remove(c, i, m->method_sent);
            m->kind = JSONRPC_RESPONSE;
            c->stats.responses++;
            return;
        }
    }
    m->kind = JSONRPC_IGNORED;
    if (done_has(c, m->id)) {
        m->why = "duplicate or late response";
        c->stats.duplicates++;
    } else {
        m->why = "response to an id we never sent";
        c->stats.unknown_ids++;
    }
}

static void
classify(struct jsonrpc_client *c, json_t *o, struct jsonrpc_msg *m)
{
    json_t *ver, *method, *id, *params;

    memset(m, 0, sizeof(*m));
    if (!json_is_object(o)) {
        invalid(c, m, "not an object");
        return;
    }
    ver = json_object_get(o, "jsonrpc");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
        invalid(c, m, "jsonrpc is not \"2.0\"");
        return;
    }
    method = json_object_get(o, "method");
    if (method == NULL) {
        classify_response(c, o, m);
        return;
    }
    if (!json_is_string(method) || json_string_length(method) == 0) {
        invalid(c, m, "method is not a non-empty string");
        return;
    }
    params = json_object_get(o, "params");
    if (params != NULL && !json_is_object(params)) {
        invalid(c, m, "params is not an object");
        return;
    }
    if (json_object_get(o, "result") != NULL || json_object_get(o, "error") != NULL) {
        invalid(c, m, "a message with both method and result/error");
        return;
    }
    m->method = json_string_value(method);
    m->params = params;
    id = json_object_get(o, "id");
    if (id == NULL) {
        m->kind = JSONRPC_NOTIFICATION;
        c->stats.notifications++;
        return;
    }
    if (!json_is_integer(id) && !json_is_string(id)) {
        m->method = NULL;
        m->params = NULL;
        invalid(c, m, "request id is neither an integer nor a string");
        return;
    }
    m->req_id = id;
    m->kind = JSONRPC_REQUEST;
    c->stats.requests++;
}

enum err
jsonrpc_parse(struct jsonrpc_client *c, const char *data, size_t len, struct jsonrpc_batch *out,
              struct errinfo *ei)
{
    json_error_t jerr;
    json_t *root = NULL;
    size_t n;
    enum err e;

    memset(out, 0, sizeof(*out));
    e = jsonrpc_prescan(data, len, &c->lim, ei);
    if (e != ERR_OK)
        goto fail;
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_json", "message",
                    "JSON-RPC: invalid JSON at byte %d: %s", jerr.position, jerr.text);
        goto fail;
    }
    if (json_is_array(root)) {
        n = json_array_size(root);
        if (n == 0) {
            e = err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "message", "JSON-RPC: empty batch");
            goto fail;
        }
        if (n > c->lim.max_batch) { /* the pre-scan already refuses this */
            e = err_set(ei, ERR_TOO_LARGE, "mcp_batch_too_long", "message",
                        "JSON-RPC: batch longer than %zu messages", c->lim.max_batch);
            goto fail;
        }
        out->is_array = true;
    } else if (json_is_object(root)) {
        n = 1;
    } else {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "message",
                    "JSON-RPC: a message must be an object or an array");
        goto fail;
    }
    out->msgs = calloc(n, sizeof(*out->msgs));
    if (out->msgs == NULL) {
        e = err_set(ei, ERR_NOMEM, NULL, NULL, "JSON-RPC: out of memory");
        goto fail;
    }
    out->root = root;
    out->n = n;
    for (size_t i = 0; i < n; i++)
        classify(c, out->is_array ? json_array_get(root, i) : root, &out->msgs[i]);
    return ERR_OK;
fail:
    c->stats.rejected++;
    json_decref(root);
    memset(out, 0, sizeof(*out));
    return e;
}

void
jsonrpc_batch_release(struct jsonrpc_batch *b)
{
    free(b->msgs);
    json_decref(b->root);
    memset(b, 0, sizeof(*b));
}

enum err
jsonrpc_answer_default(const struct jsonrpc_msg *m, struct buf *out, struct errinfo *ei)
{
    if (m->kind != JSONRPC_REQUEST)
        return err_set(ei, ERR_INVALID, "invalid_field", "kind",
                       "JSON-RPC: only server requests are answered");
    if (strcmp(m->method, "ping") == 0)
        return jsonrpc_build_result(m->req_id, NULL, out, ei);
    return jsonrpc_build_error(m->req_id, JSONRPC_METHOD_NOT_FOUND, "Method not found", out, ei);
}
