#include "mcp/protocol.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#include "core/banned.h"

/* ---- versions ---- */

static const char *const versions[] = {
    [MCP_VERSION_NONE] = "",
    [MCP_VERSION_2024_11_05] = "2024-11-05",
    [MCP_VERSION_2025_03_26] = "2025-03-26",
    [MCP_VERSION_2025_06_18] = "2025-06-18",
    [MCP_VERSION_2025_11_25] = "2025-11-25",
};

const char *
mcp_version_str(enum mcp_version v)
{
    if ((size_t)v >= ARRAY_LEN(versions))
        return "";
    return versions[v];
}

enum err
mcp_version_negotiate(const char *answered, enum mcp_version *out, struct errinfo *ei)
{
    *out = MCP_VERSION_NONE;
    for (size_t i = 1; answered != NULL && i < ARRAY_LEN(versions); i++) {
        if (strcmp(answered, versions[i]) == 0) {
            *out = (enum mcp_version)i;
            return ERR_OK;
        }
    }
    return err_set(ei, ERR_UPSTREAM, "mcp_unsupported_version", "protocolVersion",
                   "MCP server answered protocol version \"%.32s\"; connhub supports "
                   "2025-11-25, 2025-06-18, 2025-03-26 and 2024-11-05",
                   answered != NULL ? answered : "(none)");
}

bool
mcp_version_needs_header(enum mcp_version v)
{
    return v >= MCP_VERSION_2025_06_18;
}

bool
mcp_version_allows_batch(enum mcp_version v)
{
    return v == MCP_VERSION_2025_03_26;
}

bool
mcp_version_priming_events(enum mcp_version v)
{
    return v >= MCP_VERSION_2025_11_25;
}

/* ---- helpers ---- */

/* Optional string member: NULL if absent or null; ERR_UPSTREAM if another type. */
static enum err
opt_str(json_t *o, const char *key, char **out, const char *field, struct errinfo *ei)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return ERR_OK;
    if (!json_is_string(v))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", field, "MCP: %s is not a string",
                       field);
    *out = xstrdup(json_string_value(v));
    return ERR_OK;
}

static bool
has_object(json_t *o, const char *key)
{
    return json_is_object(json_object_get(o, key));
}

/* ---- initialize ---- */

enum err
mcp_parse_initialize(json_t *result, struct mcp_server_info *out, struct errinfo *ei)
{
    json_t *caps, *info, *ver, *tools;
    enum err e;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(result))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "result",
                       "MCP: the initialize result is not an object");
    ver = json_object_get(result, "protocolVersion");
    e = mcp_version_negotiate(json_is_string(ver) ? json_string_value(ver) : NULL, &out->version,
                              ei);
    if (e != ERR_OK)
        goto out;
    caps = json_object_get(result, "capabilities");
    if (caps != NULL && !json_is_object(caps)) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "capabilities",
                    "MCP: capabilities is not an object");
        goto out;
    }
    out->capabilities = caps != NULL ? json_incref(caps) : json_object();
    tools = json_object_get(out->capabilities, "tools");
    out->tools = json_is_object(tools);
    out->tools_list_changed = json_is_true(json_object_get(tools, "listChanged"));
    out->logging = has_object(out->capabilities, "logging");
    out->prompts = has_object(out->capabilities, "prompts");
    out->resources = has_object(out->capabilities, "resources");
    out->tasks = has_object(out->capabilities, "tasks");
    info = json_object_get(result, "serverInfo");
    if (info != NULL && !json_is_object(info)) {
        e = err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "serverInfo",
                    "MCP: serverInfo is not an object");
        goto out;
    }
    if ((e = opt_str(info, "name", &out->name, "serverInfo.name", ei)) != ERR_OK ||
        (e = opt_str(info, "title", &out->title, "serverInfo.title", ei)) != ERR_OK ||
        (e = opt_str(info, "version", &out->version_str, "serverInfo.version", ei)) != ERR_OK ||
        (e = opt_str(result, "instructions", &out->instructions, "instructions", ei)) != ERR_OK)
        goto out;
out:
    if (e != ERR_OK)
        mcp_server_info_release(out);
    return e;
}

void
mcp_server_info_release(struct mcp_server_info *si)
{
    free(si->name);
    free(si->title);
    free(si->version_str);
    free(si->instructions);
    json_decref(si->capabilities);
    memset(si, 0, sizeof(*si));
}

/* ---- name mapping ---- */

static uint64_t
fnv1a(const char *s, size_t n, unsigned salt)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    for (unsigned k = salt; k > 0; k >>= 8) { /* salt bytes, none for 0 */
        h ^= (k & 0xff) | 0x100;
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool
is_alnum_lc(unsigned char c, char *lc)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        *lc = (char)c;
        return true;
    }
    if (c >= 'A' && c <= 'Z') {
        *lc = (char)(c - 'A' + 'a');
        return true;
    }
    return false;
}

bool
mcp_op_name(const char *name, size_t len, unsigned salt, char *out)
{
    static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
    size_t n = 0;
    bool gap = false, hashed = false;
    uint64_t h;

    for (size_t i = 0; i < len; i++) {
        char c;
        size_t need;
        if (!is_alnum_lc((unsigned char)name[i], &c)) {
            gap = true;
            continue;
        }
        need = (gap && n > 0) ? 2 : 1;
        if (n + need > MCP_OP_NAME_MAX) {
            hashed = true; /* truncated */
            break;
        }
        if (gap && n > 0)
            out[n++] = '_';
        out[n++] = c;
        gap = false;
    }
    if (n == 0)
        hashed = true;
    if (!hashed && salt == 0) {
        out[n] = '\0';
        return false;
    }
    /* prefix (at most 64 - 9) + "_" + 8 hash chars */
    if (n > MCP_OP_NAME_MAX - MCP_OP_HASH_LEN - 1)
        n = MCP_OP_NAME_MAX - MCP_OP_HASH_LEN - 1;
    while (n > 0 && out[n - 1] == '_')
        n--;
    if (n == 0) {
        memcpy(out, "tool", 4);
        n = 4;
    }
    out[n++] = '_';
    h = fnv1a(name, len, salt > 0 ? salt - 1 : 0);
    for (int i = 0; i < MCP_OP_HASH_LEN; i++) {
        out[n++] = b32[h & 31];
        h >>= 5;
    }
    out[n] = '\0';
    return true;
}

static int
cmp_tool_op(const void *a, const void *b)
{
    const struct mcp_tool *x = *(const struct mcp_tool *const *)a;
    const struct mcp_tool *y = *(const struct mcp_tool *const *)b;
    int c = strcmp(x->op, y->op);

    return c != 0 ? c : strcmp(x->name, y->name);
}

/* One round: re-salts every tool that shares its op with another, except a
 * tool literally named like the op. Returns true if there was a clash.
 * w is sorted by (op, name), so the outcome depends on the set of names only. */
static bool
resolve_round(struct mcp_tool **w, size_t n, unsigned *salt, const struct mcp_tool *base)
{
    bool clash = false;

    qsort(w, n, sizeof(struct mcp_tool *), cmp_tool_op);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(w[j]->op, w[i]->op) == 0)
            j++;
        for (size_t k = i; j - i > 1 && k < j; k++) {
            struct mcp_tool *t = w[k];
            size_t idx = (size_t)(t - base);
            clash = true;
            if (strcmp(t->name, t->op) == 0)
                continue;
            salt[idx]++;
            mcp_op_name(t->name, strlen(t->name), salt[idx], t->op);
        }
        i = j;
    }
    return clash;
}

enum err
mcp_tool_list_map_names(struct mcp_tool_list *tl, struct errinfo *ei)
{
    struct mcp_tool **w;
    unsigned *salt;
    enum err e = ERR_OK;
    bool clash = true;

    if (tl->n == 0)
        return ERR_OK;
    w = calloc(tl->n, sizeof(struct mcp_tool *));
    salt = calloc(tl->n, sizeof(*salt));
    if (w == NULL || salt == NULL) {
        e = err_set(ei, ERR_NOMEM, NULL, NULL, "MCP: out of memory mapping tool names");
        goto out;
    }
    for (size_t i = 0; i < tl->n; i++) {
        w[i] = &tl->tools[i];
        mcp_op_name(w[i]->name, strlen(w[i]->name), 0, w[i]->op);
    }
    for (unsigned round = 0; clash && round < 64; round++)
        clash = resolve_round(w, tl->n, salt, tl->tools);
    if (clash)
        e = err_set(ei, ERR_INTERNAL, "mcp_name_clash", "tools",
                    "MCP: cannot give every tool a distinct operation name");
out:
    free(w);
    free(salt);
    return e;
}

const struct mcp_tool *
mcp_tool_list_find_op(const struct mcp_tool_list *tl, const char *op)
{
    for (size_t i = 0; i < tl->n; i++)
        if (strcmp(tl->tools[i].op, op) == 0)
            return &tl->tools[i];
    return NULL;
}

const struct mcp_tool *
mcp_tool_list_find(const struct mcp_tool_list *tl, const char *name)
{
    for (size_t i = 0; i < tl->n; i++)
        if (strcmp(tl->tools[i].name, name) == 0)
            return &tl->tools[i];
    return NULL;
}

json_t *
mcp_tool_list_mapping(const struct mcp_tool_list *tl)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < tl->n; i++) {
        const struct mcp_tool *t = &tl->tools[i];
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(a, o) != 0 ||
            json_object_set_new(o, "name", json_string(t->name)) != 0 ||
            json_object_set_new(o, "operation", json_string(t->op)) != 0 ||
            json_object_set_new(o, "changed", json_boolean(strcmp(t->name, t->op) != 0)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* ---- tools/list ---- */

void
mcp_tool_list_init(struct mcp_tool_list *tl, const struct mcp_tool_limits *lim)
{
    memset(tl, 0, sizeof(*tl));
    if (lim != NULL)
        tl->lim = *lim;
    if (tl->lim.max_tools == 0)
        tl->lim.max_tools = MCP_MAX_TOOLS;
    if (tl->lim.max_pages == 0)
        tl->lim.max_pages = MCP_MAX_TOOL_PAGES;
    if (tl->lim.max_schema == 0)
        tl->lim.max_schema = MCP_MAX_TOOL_SCHEMA;
}

static void
tool_release(struct mcp_tool *t)
{
    free(t->name);
    free(t->title);
    free(t->description);
    json_decref(t->input_schema);
    json_decref(t->output_schema);
    json_decref(t->annotations);
}

void
mcp_tool_list_release(struct mcp_tool_list *tl)
{
    for (size_t i = 0; i < tl->n; i++)
        tool_release(&tl->tools[i]);
    free(tl->tools);
    for (size_t i = 0; i < tl->ncursors; i++)
        free(tl->cursors[i]);
    free(tl->cursors);
    memset(tl, 0, sizeof(*tl));
}

static bool
drop(struct mcp_tool_list *tl, const char *why)
{
    tl->dropped++;
    tl->drop_reason = why;
    return false;
}

/* Fills t from o; false (and counted) if the tool is unusable. */
static bool
tool_from_json(struct mcp_tool_list *tl, json_t *o, struct mcp_tool *t)
{
    json_t *name, *in, *outs, *ann, *exec, *title, *desc;
    size_t sz;

    memset(t, 0, sizeof(*t));
    if (!json_is_object(o))
        return drop(tl, "a tool is not an object");
    name = json_object_get(o, "name");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > MCP_MAX_TOOL_NAME)
        return drop(tl, "tool name missing, empty or too long");
    if (mcp_tool_list_find(tl, json_string_value(name)) != NULL)
        return drop(tl, "duplicate tool name");
    in = json_object_get(o, "inputSchema");
    outs = json_object_get(o, "outputSchema");
    if (!json_is_object(in))
        return drop(tl, "inputSchema is not an object");
    if (outs != NULL && !json_is_null(outs) && !json_is_object(outs))
        return drop(tl, "outputSchema is not an object");
    sz = json_dumpb(in, NULL, 0, JSON_COMPACT);
    if (json_is_object(outs))
        sz += json_dumpb(outs, NULL, 0, JSON_COMPACT);
    if (sz > tl->lim.max_schema)
        return drop(tl, "tool schemas over the size limit");
    title = json_object_get(o, "title");
    desc = json_object_get(o, "description");
    ann = json_object_get(o, "annotations");
    exec = json_object_get(o, "execution");
    t->name = xstrdup(json_string_value(name));
    t->title = json_is_string(title) ? xstrdup(json_string_value(title)) : NULL;
    t->description = json_is_string(desc) ? xstrdup(json_string_value(desc)) : NULL;
    t->input_schema = json_incref(in);
    t->output_schema = json_is_object(outs) ? json_incref(outs) : NULL;
    t->annotations = json_is_object(ann) ? json_incref(ann) : NULL;
    t->task_required =
        json_is_object(exec) && json_is_string(json_object_get(exec, "taskSupport")) &&
        strcmp(json_string_value(json_object_get(exec, "taskSupport")), "required") == 0;
    return true;
}

static bool
cursor_seen(const struct mcp_tool_list *tl, const char *c)
{
    for (size_t i = 0; i < tl->ncursors; i++)
        if (strcmp(tl->cursors[i], c) == 0)
            return true;
    return false;
}

enum err
mcp_tool_list_add_page(struct mcp_tool_list *tl, json_t *result, const char **next_cursor,
                       struct errinfo *ei)
{
    json_t *tools, *nc;
    size_t n;

    *next_cursor = NULL;
    if (tl->complete)
        return err_set(ei, ERR_INVALID, "mcp_list_complete", "tools",
                       "MCP: tools/list already complete");
    if (!json_is_object(result))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "result",
                       "MCP: the tools/list result is not an object");
    tools = json_object_get(result, "tools");
    if (!json_is_array(tools))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "tools",
                       "MCP: tools/list result has no tools array");
    nc = json_object_get(result, "nextCursor");
    if (nc != NULL && !json_is_null(nc) && !json_is_string(nc))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "nextCursor",
                       "MCP: nextCursor is not a string");
    if (json_is_string(nc) && json_string_length(nc) > MCP_MAX_CURSOR)
        return err_set(ei, ERR_TOO_LARGE, "mcp_too_large", "nextCursor",
                       "MCP: nextCursor longer than %d bytes", MCP_MAX_CURSOR);
    if (tl->pages + 1 > tl->lim.max_pages)
        return err_set(ei, ERR_TOO_LARGE, "mcp_too_many_pages", "nextCursor",
                       "MCP: tools/list over %zu pages", tl->lim.max_pages);
    n = json_array_size(tools);
    if (n > tl->lim.max_tools || tl->n > tl->lim.max_tools - n)
        return err_set(ei, ERR_TOO_LARGE, "mcp_too_many_tools", "tools", "MCP: more than %zu tools",
                       tl->lim.max_tools);
    if (tl->n + n > tl->alloc) {
        size_t na = tl->alloc ? tl->alloc : 16;
        struct mcp_tool *p;
        while (na < tl->n + n)
            na *= 2;
        p = realloc(tl->tools, na * sizeof(*p));
        if (p == NULL)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "MCP: out of memory listing tools");
        tl->tools = p;
        tl->alloc = na;
    }
    tl->pages++;
    for (size_t i = 0; i < n; i++)
        if (tool_from_json(tl, json_array_get(tools, i), &tl->tools[tl->n]))
            tl->n++;
    if (tl->dropped > 0)
        log_kv(LOG_WARN, "mcp.tools.dropped", "I:dropped", (long long)tl->dropped, "s:reason",
               tl->drop_reason, (const char *)NULL);
    if (json_is_string(nc)) {
        char **pc;
        if (cursor_seen(tl, json_string_value(nc)))
            return err_set(ei, ERR_UPSTREAM, "mcp_cursor_repeat", "nextCursor",
                           "MCP: tools/list returned a cursor it had already returned "
                           "(after %zu pages, %zu tools); stopped",
                           tl->pages, tl->n);
        pc = realloc(tl->cursors, (tl->ncursors + 1) * sizeof(*pc));
        if (pc == NULL)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "MCP: out of memory listing tools");
        tl->cursors = pc;
        tl->cursors[tl->ncursors] = xstrdup(json_string_value(nc));
        *next_cursor = tl->cursors[tl->ncursors++];
        return ERR_OK;
    }
    tl->complete = true;
    return mcp_tool_list_map_names(tl, ei);
}

/* ---- tools/call ---- */

static enum err
check_content_item(json_t *it, size_t i, struct errinfo *ei)
{
    static const struct {
        const char *type, *f1, *f2;
    } req[] = {
        {"text", "text", NULL},
        {"image", "data", "mimeType"},
        {"audio", "data", "mimeType"},
        {"resource_link", "uri", "name"},
    };
    json_t *type = json_object_get(it, "type");
    const char *ty;

    if (!json_is_object(it) || !json_is_string(type))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "content",
                       "MCP: content[%zu] is not an object with a string type", i);
    ty = json_string_value(type);
    for (size_t k = 0; k < ARRAY_LEN(req); k++) {
        if (strcmp(ty, req[k].type) != 0)
            continue;
        if (!json_is_string(json_object_get(it, req[k].f1)) ||
            (req[k].f2 && !json_is_string(json_object_get(it, req[k].f2))))
            return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "content",
                           "MCP: content[%zu] of type %s lacks %s%s%s", i, ty, req[k].f1,
                           req[k].f2 ? " or " : "", req[k].f2 ? req[k].f2 : "");
        return ERR_OK;
    }
    if (strcmp(ty, "resource") == 0) {
        json_t *r = json_object_get(it, "resource");
        if (!json_is_object(r) || !json_is_string(json_object_get(r, "uri")))
            return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "content",
                           "MCP: content[%zu] of type resource lacks resource.uri", i);
    }
    return ERR_OK; /* unknown types pass through */
}

enum err
mcp_parse_call_result(json_t *result, struct mcp_call_result *out, struct errinfo *ei)
{
    json_t *content, *sc, *ie, *task, *meta;
    enum err e = ERR_OK;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(result))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "result",
                       "MCP: the tools/call result is not an object");
    content = json_object_get(result, "content");
    if (content != NULL && !json_is_array(content))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "content",
                       "MCP: content is not an array");
    for (size_t i = 0; content != NULL && i < json_array_size(content); i++) {
        e = check_content_item(json_array_get(content, i), i, ei);
        if (e != ERR_OK)
            return e;
    }
    ie = json_object_get(result, "isError");
    if (ie != NULL && !json_is_boolean(ie))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "isError",
                       "MCP: isError is not a boolean");
    task = json_object_get(result, "task");
    if (task != NULL && !json_is_object(task))
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_message", "task", "MCP: task is not an object");
    sc = json_object_get(result, "structuredContent");
    meta = json_object_get(result, "_meta");
    out->content = content != NULL ? json_incref(content) : json_array();
    out->structured = sc != NULL && !json_is_null(sc) ? json_incref(sc) : NULL;
    out->task = task != NULL ? json_incref(task) : NULL;
    out->meta = json_is_object(meta) ? json_incref(meta) : NULL;
    out->is_error = json_is_true(ie);
    if (out->content == NULL) {
        mcp_call_result_release(out);
        return err_set(ei, ERR_NOMEM, NULL, NULL, "MCP: out of memory");
    }
    return ERR_OK;
}

void
mcp_call_result_release(struct mcp_call_result *r)
{
    json_decref(r->content);
    json_decref(r->structured);
    json_decref(r->task);
    json_decref(r->meta);
    memset(r, 0, sizeof(*r));
}

/* ---- session ---- */

void
mcp_session_init(struct mcp_session *s, const struct jsonrpc_limits *lim)
{
    memset(s, 0, sizeof(*s));
    jsonrpc_client_init(&s->rpc, lim);
}

void
mcp_session_release(struct mcp_session *s)
{
    jsonrpc_client_release(&s->rpc);
    mcp_server_info_release(&s->server);
    memset(s, 0, sizeof(*s));
}

enum err
mcp_session_start(struct mcp_session *s, const struct mcp_client_info *ci, struct buf *out,
                  struct errinfo *ei)
{
    enum err e;

    if (s->state != MCP_SESSION_NEW)
        return err_set(ei, ERR_CONFLICT, "mcp_bad_state", "session",
                       "MCP: initialize already sent on this session");
    e = jsonrpc_build_initialize(&s->rpc, ci, out, &s->init_id, ei);
    if (e == ERR_OK)
        s->state = MCP_SESSION_INITIALIZING;
    return e;
}

enum err
mcp_session_set_id(struct mcp_session *s, const char *v, size_t n, struct errinfo *ei)
{
    if (n == 0 || n > MCP_MAX_SESSION_ID)
        return err_set(ei, ERR_UPSTREAM, "mcp_bad_session_id", "Mcp-Session-Id",
                       "MCP: Mcp-Session-Id must be 1..%d bytes", MCP_MAX_SESSION_ID);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
            return err_set(ei, ERR_UPSTREAM, "mcp_bad_session_id", "Mcp-Session-Id",
                           "MCP: Mcp-Session-Id has a byte outside visible ASCII");
    memcpy(s->session_id, v, n);
    s->session_id[n] = '\0';
    return ERR_OK;
}

enum err
mcp_session_on_initialize(struct mcp_session *s, const struct jsonrpc_msg *m, struct buf *out,
                          struct errinfo *ei)
{
    enum err e;

    if (s->state != MCP_SESSION_INITIALIZING || m->kind != JSONRPC_RESPONSE || m->id != s->init_id)
        return err_set(ei, ERR_INVALID, "mcp_bad_state", "session",
                       "MCP: not the response to our initialize request");
    if (m->is_error)
        return err_set(ei, ERR_UPSTREAM, "mcp_initialize_failed", "initialize",
                       "MCP: initialize failed: %lld %.200s", (long long)m->err_code,
                       m->err_message);
    mcp_server_info_release(&s->server);
    e = mcp_parse_initialize(m->result, &s->server, ei);
    if (e == ERR_OK)
        e = jsonrpc_build_initialized(out, ei);
    if (e != ERR_OK) {
        s->state = MCP_SESSION_NEW;
        return e;
    }
    s->version = s->server.version;
    s->state = MCP_SESSION_READY;
    s->reinits = 0;
    return ERR_OK;
}

enum err
mcp_session_expired(struct mcp_session *s, struct errinfo *ei)
{
    s->session_id[0] = '\0';
    s->state = MCP_SESSION_NEW;
    while (s->rpc.npending > 0)
        jsonrpc_forget(&s->rpc, s->rpc.pending[0].id);
    if (++s->reinits > MCP_MAX_REINIT)
        return err_set(ei, ERR_UPSTREAM, "mcp_session_lost", "Mcp-Session-Id",
                       "MCP: the server dropped the session %u times in a row", s->reinits);
    return ERR_OK;
}

const char *
mcp_session_version_header(const struct mcp_session *s)
{
    if (s->state != MCP_SESSION_READY || !mcp_version_needs_header(s->version))
        return NULL;
    return mcp_version_str(s->version);
}

const char *
mcp_session_id_header(const struct mcp_session *s)
{
    return s->session_id[0] != '\0' ? s->session_id : NULL;
}

json_t *
mcp_stateless_meta(const struct mcp_client_info *ci)
{
    json_t *m = json_object(), *info = json_object();

    if (m == NULL || info == NULL ||
        json_object_set_new(m, "io.modelcontextprotocol/protocolVersion",
                            json_string(MCP_PROTOCOL_STATELESS)) != 0 ||
        json_object_set_new(m, "io.modelcontextprotocol/clientCapabilities",
                            ci->capabilities ? json_incref(ci->capabilities) : json_object()) ||
        json_object_set_new(info, "name", json_string(ci->name)) != 0 ||
        json_object_set_new(info, "version", json_string(ci->version)) != 0 ||
        json_object_set(m, "io.modelcontextprotocol/clientInfo", info) != 0) {
        json_decref(m);
        m = NULL;
    }
    json_decref(info);
    return m;
}
