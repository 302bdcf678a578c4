/* A scripted loopback MCP server for the client tests (see mcp_server.h). */
#include "support/mcp_server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/banned.h"

#define MS_SESSIONS 256
#define MS_BODY_MAX (1u << 20)

struct qmsg {
    char *text;
    struct qmsg *next;
};

struct sess {
    char id[40];
    bool used, dead, legacy;
    int reqs;
    struct qmsg *qhead, *qtail; /* legacy: messages for the GET stream */
};

struct mcp_server {
    struct MHD_Daemon *d;
    int port;
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ms_opts o;
    struct ms_counts n;
    struct sess s[MS_SESSIONS];
    unsigned next_sess;
    char *pending; /* the dropped call's response, for the resuming GET */
    int event_id;  /* the last SSE event id handed out */
    int dropped;   /* streams dropped for the pending call */
};

struct reqbody {
    char *data;
    size_t len;
    bool too_big;
};

static void
nap(struct mcp_server *m, int ms)
{
    while (ms > 0 && !atomic_load(&m->stopping)) {
        struct timespec ts = {0, 20L * 1000000L};
        nanosleep(&ts, NULL);
        ms -= 20;
    }
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *ct, const char *body, const char *sid)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (ct)
        MHD_add_response_header(r, "Content-Type", ct);
    /* CORS servers list the name here too: the client must not take this one */
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "mcp-session-id,mcp-protocol-version");
    if (sid)
        MHD_add_response_header(r, "mcp-session-id", sid);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate",
                                "Bearer error=\"invalid_token\", error_description=\"bad token\"");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Caller holds mu. */
static struct sess *
sess_new(struct mcp_server *m, bool legacy)
{
    struct sess *s = &m->s[m->next_sess++ % MS_SESSIONS];

    memset(s, 0, sizeof(*s));
    s->used = true;
    s->legacy = legacy;
    snprintf(s->id, sizeof(s->id), "sess-%u-%ld", m->next_sess, (long)time(NULL));
    return s;
}

static struct sess *
sess_find(struct mcp_server *m, const char *id)
{
    for (int i = 0; id && i < MS_SESSIONS; i++)
        if (m->s[i].used && strcmp(m->s[i].id, id) == 0)
            return &m->s[i];
    return NULL;
}

static json_t *
tool_def(const char *name)
{
    return json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}}}}", "name", name, "description", "a test tool",
                     "inputSchema", "type", "object", "properties", "message", "type", "string");
}

static json_t *
list_result(struct mcp_server *m, json_t *params)
{
    json_t *tools = json_array(), *r;
    const char *cur = json_string_value(json_object_get(params, "cursor"));
    int total = m->o.tools + 3, off = cur && cur[0] == 'c' ? (int)strtol(cur + 1, NULL, 10) : 0;
    int page = m->o.page > 0 ? m->o.page : total, end = off + page < total ? off + page : total;
    char name[32], next[32];

    for (int i = off; i < end; i++) {
        if (i == 0)
            json_array_append_new(tools, tool_def("echo"));
        else if (i == 1)
            json_array_append_new(tools, tool_def("add"));
        else if (i == 2)
            json_array_append_new(tools, tool_def("fail"));
        else {
            snprintf(name, sizeof(name), "tool-%05d", i - 3);
            json_array_append_new(tools, tool_def(name));
        }
    }
    r = json_pack("{s:o}", "tools", tools);
    if (m->o.repeat_cursor)
        json_object_set_new(r, "nextCursor", json_string("again"));
    else if (end < total) {
        snprintf(next, sizeof(next), "c%d", end);
        json_object_set_new(r, "nextCursor", json_string(next));
    }
    return r;
}

static json_t *
text_result(const char *text, bool is_error)
{
    return json_pack("{s:[{s:s,s:s}], s:b}", "content", "type", "text", "text", text, "isError",
                     is_error);
}

/* The JSON-RPC answer to req (NULL for notifications and replies). */
static json_t *
answer(struct mcp_server *m, json_t *req)
{
    const char *method = json_string_value(json_object_get(req, "method"));
    json_t *id = json_object_get(req, "id"), *params = json_object_get(req, "params"), *res;
    json_t *args = json_object_get(params, "arguments");
    const char *tool = json_string_value(json_object_get(params, "name"));
    char text[256];

    if (method == NULL) {
        m->n.replies++;
        return NULL;
    }
    if (id == NULL) {
        if (strcmp(method, "notifications/initialized") == 0)
            m->n.initialized++;
        else if (strcmp(method, "notifications/cancelled") == 0)
            m->n.cancelled++;
        return NULL;
    }
    if (strcmp(method, "initialize") == 0) {
        m->n.initialize++;
        res = json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", "2025-11-25",
                        "capabilities", "tools", "listChanged", 1, "serverInfo", "name", "mcp-test",
                        "version", "1.0", "instructions", "a scripted test server");
    } else if (strcmp(method, "tools/list") == 0) {
        m->n.tools_list++;
        res = list_result(m, params);
    } else if (strcmp(method, "tools/call") == 0) {
        json_t *tok = json_object_get(json_object_get(params, "_meta"), "progressToken");
        m->n.tools_call++;
        m->n.progress_token = json_is_integer(tok) ? (int)json_integer_value(tok) : -1;
        if (tool && strcmp(tool, "echo") == 0) {
            snprintf(text, sizeof(text), "Echo: %.200s",
                     json_string_value(json_object_get(args, "message"))
                         ? json_string_value(json_object_get(args, "message"))
                         : "");
            res = text_result(text, false);
        } else if (tool && strcmp(tool, "add") == 0) {
            double s = json_number_value(json_object_get(args, "a")) +
                       json_number_value(json_object_get(args, "b"));
            snprintf(text, sizeof(text), "%g", s);
            res = text_result(text, false);
            json_object_set_new(res, "structuredContent", json_pack("{s:f}", "sum", s));
        } else if (tool && strcmp(tool, "fail") == 0) {
            res = text_result("it failed", true);
        } else {
            return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
                             "code", -32602, "message", "Unknown tool");
        }
    } else {
        return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
                         -32601, "message", "Method not found");
    }
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", res);
}

/* ---- streaming bodies ---- */

struct endless {
    struct mcp_server *m;
    char pend[512];
    size_t off, len;
};

static ssize_t
rd_endless(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct endless *e = cls;
    static const char ev[] = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":"
                             "\"notifications/message\",\"params\":{\"level\":\"info\","
                             "\"data\":\"tick\"}}\n\n";
    size_t n = 0;

    (void)pos;
    (void)e;
    if (atomic_load(&e->m->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    while (n + sizeof(ev) - 1 <= max) {
        memcpy(buf + n, ev, sizeof(ev) - 1);
        n += sizeof(ev) - 1;
    }
    return n ? (ssize_t)n : 0;
}

/* A stream that sends its text and then stops: cut (the connection closes
 * mid-chunk) or ended cleanly. */
struct dropping {
    char *text;
    size_t off, len;
    bool clean;
};

static ssize_t
rd_dropping(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct dropping *d = cls;
    size_t n = d->len - d->off < max ? d->len - d->off : max;

    (void)pos;
    if (n == 0)
        return d->clean ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    memcpy(buf, d->text + d->off, n);
    d->off += n;
    return (ssize_t)n;
}

static void
free_dropping(void *cls)
{
    struct dropping *d = cls;

    free(d->text);
    free(d);
}

/* Caller holds mu. The next part of a dropped call: a priming event and a
 * progress event, then the stream stops; or, once `drops` streams were
 * dropped, the response. */
static enum MHD_Result
queue_drop_part(struct mcp_server *m, struct MHD_Connection *c)
{
    struct dropping *d = calloc(1, sizeof(*d));
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t n = (m->pending ? strlen(m->pending) : 0) + 512;

    d->text = malloc(n);
    if (m->dropped >= m->o.drops && m->pending != NULL) {
        snprintf(d->text, n, "id: ev-%d\ndata: %s\n\n", ++m->event_id, m->pending);
        free(m->pending);
        m->pending = NULL;
        d->clean = true;
    } else {
        int a = ++m->event_id, b = ++m->event_id;
        snprintf(
            d->text, n,
            "id: ev-%d\nretry: 20\ndata: \n\n"
            "id: ev-%d\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":"
            "\"notifications/progress\",\"params\":{\"progressToken\":%d,\"progress\":%d}}\n\n",
            a, b, m->n.progress_token, m->dropped + 1);
        m->dropped++;
        d->clean = m->o.drop_clean;
    }
    d->len = strlen(d->text);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, rd_dropping, d, free_dropping);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET /mcp: the resumption of a dropped call's stream (Last-Event-ID), else 405. */
static enum MHD_Result
resume_get(struct mcp_server *m, struct MHD_Connection *c)
{
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    enum MHD_Result ret;

    pthread_mutex_lock(&m->mu);
    if (last == NULL || m->pending == NULL) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 405, "text/plain", "method not allowed", NULL);
    }
    m->n.resumes++;
    snprintf(m->n.last_event_id, sizeof(m->n.last_event_id), "%s", last);
    ret = queue_drop_part(m, c);
    pthread_mutex_unlock(&m->mu);
    return ret;
}

struct legacy {
    struct mcp_server *m;
    struct sess *s;
    char *pend;
    size_t off, len;
};

static ssize_t
rd_legacy(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct legacy *l = cls;
    struct mcp_server *m = l->m;
    size_t n;

    (void)pos;
    if (l->pend == NULL) {
        struct timespec ts;
        pthread_mutex_lock(&m->mu);
        if (l->s->qhead == NULL && !atomic_load(&m->stopping) && !l->s->dead) {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50L * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        if (l->s->qhead != NULL) {
            struct qmsg *q = l->s->qhead;
            l->s->qhead = q->next;
            if (l->s->qhead == NULL)
                l->s->qtail = NULL;
            l->pend = q->text;
            l->len = strlen(q->text);
            l->off = 0;
            free(q);
        }
        pthread_mutex_unlock(&m->mu);
        if (atomic_load(&m->stopping))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (l->pend == NULL)
            return 0;
    }
    n = l->len - l->off < max ? l->len - l->off : max;
    memcpy(buf, l->pend + l->off, n);
    l->off += n;
    if (l->off == l->len) {
        free(l->pend);
        l->pend = NULL;
    }
    return (ssize_t)n;
}

static void
free_legacy(void *cls)
{
    struct legacy *l = cls;

    pthread_mutex_lock(&l->m->mu);
    l->s->dead = true;
    pthread_mutex_unlock(&l->m->mu);
    free(l->pend);
    free(l);
}

/* Caller holds mu. */
static void
enqueue(struct mcp_server *m, struct sess *s, const char *type, const char *data)
{
    struct qmsg *q = calloc(1, sizeof(*q));
    size_t n = strlen(data) + strlen(type) + 32;

    q->text = malloc(n);
    snprintf(q->text, n, "event: %s\ndata: %s\n\n", type, data);
    if (s->qtail)
        s->qtail->next = q;
    else
        s->qhead = q;
    s->qtail = q;
    pthread_cond_broadcast(&m->cv);
}

/* ---- handlers ---- */

static bool
authorized(struct mcp_server *m, struct MHD_Connection *c)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char want[256];

    if (m->o.token == NULL)
        return true;
    snprintf(want, sizeof(want), "Bearer %s", m->o.token);
    if (a != NULL && strcmp(a, want) == 0)
        return true;
    m->n.unauthorized++;
    return false;
}

/* The text of a tools/call answer in the adversarial modes, or NULL. */
static char *
call_special(struct mcp_server *m, json_t *req, bool *never)
{
    json_t *id = json_object_get(req, "id");
    char *s = NULL;

    *never = false;
    switch (m->o.call) {
    case MS_CALL_GARBAGE:
        return strdup("{not json");
    case MS_CALL_WRONG_ID: {
        json_t *r = json_pack("{s:s, s:I, s:{s:[]}}", "jsonrpc", "2.0", "id",
                              (json_int_t)(json_integer_value(id) + 1000), "result", "content");
        s = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        return s;
    }
    case MS_CALL_OVERSIZED: {
        size_t big = 11u << 20;
        json_t *r;
        char *t = malloc(big + 1);
        memset(t, 'x', big);
        t[big] = '\0';
        r = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result",
                      text_result(t, false));
        free(t);
        s = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        return s;
    }
    case MS_CALL_NEVER:
    case MS_CALL_ENDLESS:
        *never = true;
        return NULL;
    case MS_CALL_OK:
    default:
        return NULL;
    }
}

static enum MHD_Result
queue_endless(struct mcp_server *m, struct MHD_Connection *c)
{
    struct endless *e = calloc(1, sizeof(*e));
    struct MHD_Response *r;
    enum MHD_Result ret;

    e->m = m;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, rd_endless, e, free);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
streamable(struct mcp_server *m, struct MHD_Connection *c, const char *method, struct reqbody *b)
{
    const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
    const char *acc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    json_t *req, *ans;
    struct sess *s = NULL;
    char *text, *special, *out;
    const char *rpcm;
    bool never = false, is_init, is_call;
    int ptok;
    enum MHD_Result ret;
    size_t n;

    pthread_mutex_lock(&m->mu);
    if (!authorized(m, c)) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 401, "application/json", "{\"error\":\"unauthorized\"}", NULL);
    }
    if (strcmp(method, "DELETE") == 0) {
        s = sess_find(m, sid);
        m->n.deletes++;
        if (s)
            s->dead = true;
        pthread_mutex_unlock(&m->mu);
        return reply(c, s ? 200 : 404, "text/plain", "", NULL);
    }
    if (acc == NULL || strstr(acc, "application/json") == NULL ||
        strstr(acc, "text/event-stream") == NULL) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 406, "application/json", "{\"error\":\"not acceptable\"}", NULL);
    }
    req = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
    rpcm = json_string_value(json_object_get(req, "method"));
    is_init = rpcm && strcmp(rpcm, "initialize") == 0;
    if (req == NULL) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 400, "application/json",
                     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"Parse error\"},"
                     "\"id\":null}",
                     NULL);
    }
    if (is_init) {
        s = sess_new(m, false);
    } else {
        s = sess_find(m, sid);
        if (s && m->o.expire_after > 0 && ++s->reqs > m->o.expire_after)
            s->dead = true;
        if (s == NULL || s->dead) {
            json_decref(req);
            pthread_mutex_unlock(&m->mu);
            if (m->o.expire_400 || sid == NULL)
                return reply(c, 400, "application/json",
                             "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"Bad "
                             "Request: No valid session ID provided\"},\"id\":null}",
                             NULL);
            return reply(c, 404, "application/json",
                         "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,\"message\":\"Session "
                         "not found\"},\"id\":null}",
                         NULL);
        }
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version") == NULL)
            m->n.missing_version++;
    }
    special = NULL;
    if (rpcm && strcmp(rpcm, "tools/call") == 0) {
        special = call_special(m, req, &never);
        if (special || never)
            m->n.tools_call++;
    }
    ans = special || never ? NULL : answer(m, req);
    is_call = rpcm && strcmp(rpcm, "tools/call") == 0;
    ptok = is_call ? m->n.progress_token : 1;
    pthread_mutex_unlock(&m->mu);
    json_decref(req); /* rpcm dangles from here */
    if (never && m->o.call == MS_CALL_ENDLESS)
        return queue_endless(m, c);
    if (never) {
        nap(m, 30000);
        return reply(c, 500, "text/plain", "late", NULL);
    }
    if (special == NULL && ans == NULL)
        return reply(c, 202, NULL, "", NULL);
    text = special ? special : json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
    if (m->o.drops > 0 && is_call) {
        pthread_mutex_lock(&m->mu);
        free(m->pending);
        m->pending = text;
        m->dropped = 0;
        ret = queue_drop_part(m, c);
        pthread_mutex_unlock(&m->mu);
        return ret;
    }
    if (!m->o.sse_answers) {
        ret = reply(c, 200, "application/json", text, is_init ? s->id : NULL);
        free(text);
        return ret;
    }
    n = strlen(text) + 512;
    out = malloc(n);
    snprintf(out, n,
             "id: prime-1\ndata: \n\n"
             ": keep-alive comment\r\n\r\n"
             "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
             "\"params\":{\"progressToken\":%d,\"progress\":1,\"total\":2}}\n\n"
             "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"ping\"}\n\n"
             "%s"
             "event: message\r\nid: ev-2\r\ndata: %s\r\n\r\n",
             ptok,
             is_call && m->o.list_changed ? "data: {\"jsonrpc\":\"2.0\",\"method\":"
                                            "\"notifications/tools/list_changed\"}\n\n"
                                          : "",
             text);
    ret = reply(c, 200, "text/event-stream; charset=utf-8", out, is_init ? s->id : NULL);
    free(out);
    free(text);
    return ret;
}

static enum MHD_Result
legacy_get(struct mcp_server *m, struct MHD_Connection *c)
{
    struct legacy *l;
    struct MHD_Response *r;
    enum MHD_Result ret;
    char ep[256];

    pthread_mutex_lock(&m->mu);
    if (!authorized(m, c)) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 401, "text/plain", "unauthorized", NULL);
    }
    l = calloc(1, sizeof(*l));
    l->m = m;
    l->s = sess_new(m, true);
    m->n.legacy_streams++;
    if (m->o.other_origin)
        snprintf(ep, sizeof(ep), "http://127.0.0.3:%d/message?sessionId=%s", m->port, l->s->id);
    else
        snprintf(ep, sizeof(ep), "/message?sessionId=%s", l->s->id);
    enqueue(m, l->s, "endpoint", ep);
    pthread_mutex_unlock(&m->mu);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, rd_legacy, l, free_legacy);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
legacy_post(struct mcp_server *m, struct MHD_Connection *c, struct reqbody *b)
{
    const char *sid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sessionId");
    struct sess *s;
    json_t *req, *ans = NULL;
    char *text = NULL;
    bool never = false;

    pthread_mutex_lock(&m->mu);
    if (!authorized(m, c)) {
        pthread_mutex_unlock(&m->mu);
        return reply(c, 401, "text/plain", "unauthorized", NULL);
    }
    s = sess_find(m, sid);
    req = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
    if (s == NULL || s->dead || !s->legacy || req == NULL) {
        pthread_mutex_unlock(&m->mu);
        json_decref(req);
        return reply(c, s ? 400 : 404, "text/plain", "no such session", NULL);
    }
    if (json_string_value(json_object_get(req, "method")) &&
        strcmp(json_string_value(json_object_get(req, "method")), "tools/call") == 0)
        text = call_special(m, req, &never);
    if (text != NULL || never)
        m->n.tools_call++;
    else
        ans = answer(m, req);
    if (ans != NULL)
        text = json_dumps(ans, JSON_COMPACT);
    if (text != NULL)
        enqueue(m, s, "message", text);
    pthread_mutex_unlock(&m->mu);
    free(text);
    json_decref(ans);
    json_decref(req);
    return reply(c, 202, "text/plain", "Accepted", NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct mcp_server *m = cls;
    struct reqbody *b = *con_cls;

    (void)version;
    if (b == NULL) {
        *con_cls = calloc(1, sizeof(struct reqbody));
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (b->len + *upload_size > MS_BODY_MAX) {
            b->too_big = true;
        } else {
            b->data = realloc(b->data, b->len + *upload_size + 1);
            memcpy(b->data + b->len, upload, *upload_size);
            b->len += *upload_size;
            b->data[b->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (b->too_big)
        return reply(c, 413, "text/plain", "too big", NULL);
    if (strcmp(url, "/mcp") == 0 && (strcmp(method, "POST") == 0 || strcmp(method, "DELETE") == 0))
        return streamable(m, c, method, b);
    if (strcmp(url, "/mcp") == 0 && strcmp(method, "GET") == 0)
        return resume_get(m, c);
    if (strcmp(url, "/mcp") == 0)
        return reply(c, 405, "text/plain", "method not allowed", NULL);
    if (strcmp(url, "/sse") == 0 && strcmp(method, "GET") == 0)
        return legacy_get(m, c);
    if (strcmp(url, "/sse") == 0)
        return reply(c, 405, "text/plain", "method not allowed", NULL);
    if (strcmp(url, "/message") == 0 && strcmp(method, "POST") == 0)
        return legacy_post(m, c, b);
    return reply(c, 404, "text/plain", "not found", NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    struct reqbody *b = *con_cls;

    (void)cls;
    (void)c;
    (void)t;
    if (b != NULL) {
        free(b->data);
        free(b);
    }
    *con_cls = NULL;
}

struct mcp_server *
mcp_server_start(const char *addr)
{
    struct mcp_server *m = calloc(1, sizeof(*m));
    struct sockaddr_in sa = {0};
    const union MHD_DaemonInfo *info;

    sa.sin_family = AF_INET;
    if (m == NULL || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    m->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(4u << 20), MHD_OPTION_END);
    if (m->d == NULL) {
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
        free(m);
        return NULL;
    }
    info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    return m;
}

int
mcp_server_port(const struct mcp_server *m)
{
    return m->port;
}

void
mcp_server_set(struct mcp_server *m, const struct ms_opts *o)
{
    pthread_mutex_lock(&m->mu);
    m->o = *o;
    memset(&m->n, 0, sizeof(m->n));
    free(m->pending);
    m->pending = NULL;
    m->dropped = 0;
    m->event_id = 0;
    pthread_mutex_unlock(&m->mu);
}

void
mcp_server_counts(struct mcp_server *m, struct ms_counts *out)
{
    pthread_mutex_lock(&m->mu);
    *out = m->n;
    pthread_mutex_unlock(&m->mu);
}

void
mcp_server_stop(struct mcp_server *m)
{
    if (m == NULL)
        return;
    atomic_store(&m->stopping, true);
    pthread_mutex_lock(&m->mu);
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    MHD_stop_daemon(m->d);
    for (int i = 0; i < MS_SESSIONS; i++)
        while (m->s[i].qhead) {
            struct qmsg *q = m->s[i].qhead;
            m->s[i].qhead = q->next;
            free(q->text);
            free(q);
        }
    free(m->pending);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
