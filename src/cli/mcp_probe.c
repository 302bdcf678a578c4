/* connhub mcp-probe URL: runs connhub's own MCP client (src/mcp) against a
 * server from the command line: initialize + tools/list to the end, then the
 * tool calls asked for. One JSON line per step on stdout. The MCP
 * conformance suite drives it in client mode (the server URL comes last on
 * the command line). Credentials come from the environment only, so they
 * never show in `ps` or shell history. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "mcp/client.h"
#include "outbound/outbound.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

#define PROBE_MAX_CALLS 64        /* --call options, and tools called by --call-each */
#define PROBE_MAX_REPEAT 1000000u /* --repeat */

static const char help[] =
    "usage: connhub mcp-probe URL [options]\n"
    "  Runs connhub's MCP client against the server at URL: initialize (version\n"
    "  negotiation), notifications/initialized, tools/list following nextCursor, then\n"
    "  the calls asked for (one session for all calls). Prints one JSON line per step.\n"
    "  --transport T          auto (default), streamable_http or sse\n"
    "  --call TOOL            call TOOL (the server's name) after listing; repeatable\n"
    "  --args JSON            arguments (an object) for the --call before it; default {}\n"
    "  --call-each            call every listed tool, with arguments made from the\n"
    "                         required properties of its input schema (defaults, first\n"
    "                         enum value, 1, \"connhub\", true, {}, [])\n"
    "  --repeat N             make the first --call N times in a row (one session, one\n"
    "                         event loop) and print one line with the timings (and the\n"
    "                         probe's own CPU time per call) instead\n"
    "  --warmup W             with --repeat: W calls first that are not timed\n"
    "  --timeout MS           time limit of each step (default 60000)\n"
    "  --allow-private CIDR,...  let the probe reach these private ranges (loopback test\n"
    "                         servers); every other private address stays refused\n"
    "  Credentials, from the environment only (never on the command line):\n"
    "    MCP_PROBE_BEARER     sent as `Authorization: Bearer <value>`\n"
    "    MCP_PROBE_HEADER     `Name: value`, sent as is (e.g. X-API-Key: ...)\n"
    "  Exit status: 0 every step answered (a tool's isError is an answer), 1 a step\n"
    "  failed, 2 usage.\n";

struct probe {
    struct loop *lp;
    struct outbound *ob;
    struct mcp_session_cache *cache;
    struct mcp_target t;
    bool done;
    enum err e;
    json_t *res;
    struct errinfo ei;
    int64_t t0;
    const struct ssrf_policy *pol;
    struct loop_timer settle;
};

static void
on_settled(struct loop *lp, void *arg)
{
    (void)arg;
    loop_stop(lp);
}

/* A timed-out call sent notifications/cancelled (and maybe DELETE) without
 * waiting: give those a moment before the loop goes. */
#define PROBE_SETTLE_MS 300

static void
on_done(enum err e, json_t *res, const struct errinfo *ei, void *arg)
{
    struct probe *p = arg;

    p->done = true;
    p->e = e;
    p->res = res;
    if (ei != NULL)
        p->ei = *ei;
    loop_timer_start(p->lp, &p->settle, e == ERR_TIMEOUT ? PROBE_SETTLE_MS : 0, on_settled, NULL);
}

static void
emit(json_t *o)
{
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(o);
}

static json_t *
error_json(const struct probe *p)
{
    json_t *o = json_pack("{s:s, s:s}", "code", p->ei.code, "message", p->ei.msg);

    if (p->ei.field[0])
        json_object_set_new(o, "field", json_string(p->ei.field));
    return o;
}

/* A loop's stop is sticky: every step gets a fresh loop and outbound (the
 * session lives in the cache, which depends on neither). */
static enum err
begin(struct probe *p)
{
    p->done = false;
    p->t0 = mono_ms();
    memset(&p->settle, 0, sizeof(p->settle));
    if (loop_new(&p->lp) != ERR_OK)
        return ERR_INTERNAL;
    if (outbound_new(p->lp, p->pol, &p->ob) != ERR_OK) {
        loop_free(p->lp);
        p->lp = NULL;
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* Runs the loop until the operation started by the caller reports, then
 * frees the loop (outbound_free cancels anything left). */
static void
wait_done(struct probe *p)
{
    if (!p->done && (loop_run(p->lp) != ERR_OK || !p->done))
        p->e = err_set(&p->ei, ERR_INTERNAL, "internal", NULL, "the event loop failed");
    loop_timer_stop(p->lp, &p->settle);
    outbound_free(p->ob);
    loop_free(p->lp);
    p->ob = NULL;
    p->lp = NULL;
}

/* An argument for one property: its default, first enum value, or a plain
 * value of its type. */
static json_t *
sample(const json_t *schema)
{
    const char *type = json_string_value(json_object_get(schema, "type"));

    if (json_object_get(schema, "default"))
        return json_deep_copy(json_object_get(schema, "default"));
    if (json_array_size(json_object_get(schema, "enum")) > 0)
        return json_deep_copy(json_array_get(json_object_get(schema, "enum"), 0));
    if (type == NULL)
        return json_string("connhub");
    if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0)
        return json_integer(1);
    if (strcmp(type, "boolean") == 0)
        return json_true();
    if (strcmp(type, "object") == 0)
        return json_object();
    if (strcmp(type, "array") == 0)
        return json_array();
    if (strcmp(type, "null") == 0)
        return json_null();
    return json_string("connhub");
}

static json_t *
sample_args(const json_t *input_schema)
{
    const json_t *props = json_object_get(input_schema, "properties");
    json_t *args = json_object(), *name;
    size_t i;

    json_array_foreach (json_object_get(input_schema, "required"), i, name) {
        const char *k = json_string_value(name);
        if (k != NULL)
            json_object_set_new(args, k, sample(json_object_get(props, k)));
    }
    return args;
}

static int
discover(struct probe *p, json_t **tools)
{
    struct errinfo ei = {0};
    json_t *o, *names;
    json_t *t;
    size_t i;

    if (begin(p) != ERR_OK)
        return 1;
    if (mcp_discover(p->ob, &p->t, on_done, p, &ei) != ERR_OK) {
        cli_fail("mcp-probe", &ei);
        p->done = true;
        wait_done(p);
        return 1;
    }
    wait_done(p);
    if (p->e != ERR_OK) {
        emit(json_pack("{s:s, s:b, s:o, s:I}", "step", "discover", "ok", 0, "error", error_json(p),
                       "ms", (json_int_t)(mono_ms() - p->t0)));
        return 1;
    }
    names = json_array();
    json_array_foreach (json_object_get(p->res, "tools"), i, t) {
        json_array_append(names, json_object_get(t, "name"));
    }
    o = json_pack(
        "{s:s, s:b, s:O?, s:O?, s:O?, s:I, s:o, s:O?, s:I}", "step", "discover", "ok", 1,
        "transport", json_object_get(p->res, "transport"), "protocol_version",
        json_object_get(p->res, "protocol_version"), "server", json_object_get(p->res, "server"),
        "tools", (json_int_t)json_array_size(json_object_get(p->res, "tools")), "tool_names", names,
        "warnings", json_object_get(p->res, "warnings"), "ms", (json_int_t)(mono_ms() - p->t0));
    emit(o);
    *tools = json_incref(json_object_get(p->res, "tools"));
    /* the calls use the transport discovery settled on */
    (void)mcp_transport_parse(json_string_value(json_object_get(p->res, "transport")),
                              &p->t.transport);
    json_decref(p->res);
    p->res = NULL;
    return 0;
}

static int
call(struct probe *p, const char *tool, const json_t *args)
{
    struct errinfo ei = {0};
    json_t *o;

    if (begin(p) != ERR_OK)
        return 1;
    if (mcp_call_tool(p->ob, p->cache, "probe", &p->t, tool, args, on_done, p, &ei) != ERR_OK) {
        p->done = true;
        wait_done(p);
        emit(json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "step", "call", "tool", tool, "ok", 0,
                       "error", "code", ei.code, "message", ei.msg));
        return 1;
    }
    wait_done(p);
    if (p->e != ERR_OK) {
        emit(json_pack("{s:s, s:s, s:b, s:o, s:I}", "step", "call", "tool", tool, "ok", 0, "error",
                       error_json(p), "ms", (json_int_t)(mono_ms() - p->t0)));
        return 1;
    }
    o = json_pack("{s:s, s:s, s:b, s:I}", "step", "call", "tool", tool, "ok", 1, "ms",
                  (json_int_t)(mono_ms() - p->t0));
    json_object_update(o, p->res);
    emit(o);
    json_decref(p->res);
    p->res = NULL;
    return 0;
}

/* This process's CPU time (user + system, every thread), in µs. */
static int64_t
cpu_us(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

/* --repeat: the first --call, n times in a row on one loop, each started
 * from a timer when the one before is done. */
struct rep {
    struct probe *p;
    const char *tool;
    const json_t *args;
    size_t n, i, ok, warm; /* calls: warm first (not timed), then n */
    int64_t *us, t, t0;
    struct loop_timer next;
    struct errinfo ei; /* the first failure */
};

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void rep_start(struct loop *lp, void *arg);

static void
rep_done(enum err e, json_t *res, const struct errinfo *ei, void *arg)
{
    struct rep *r = arg;

    if (r->warm > 0) {
        r->warm--;
        if (r->warm == 0)
            r->t0 = now_us();
    } else {
        r->us[r->i++] = now_us() - r->t;
    }
    if (e == ERR_OK && !json_is_true(json_object_get(res, "isError")))
        r->ok++;
    else if (r->ei.code[0] == '\0')
        r->ei = e == ERR_OK ? (struct errinfo){.code = "tool_error", .msg = "isError"} : *ei;
    json_decref(res);
    if (r->i < r->n && (e == ERR_OK || r->ok > 0))
        loop_timer_start(r->p->lp, &r->next, 0, rep_start, r);
    else
        loop_stop(r->p->lp);
}

static void
rep_start(struct loop *lp, void *arg)
{
    struct rep *r = arg;
    struct errinfo ei = {0};

    r->t = now_us();
    if (mcp_call_tool(r->p->ob, r->p->cache, "probe", &r->p->t, r->tool, r->args, rep_done, r,
                      &ei) != ERR_OK) {
        r->ei = ei;
        loop_stop(lp);
    }
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int
repeat(struct probe *p, const char *tool, const json_t *args, size_t n, size_t warm)
{
    struct rep r = {.p = p, .tool = tool, .args = args, .n = n, .warm = warm};
    int64_t t0, total = 0, cpu;
    size_t p50, p99;

    r.us = xcalloc(n, sizeof(*r.us));
    if (begin(p) != ERR_OK) {
        free(r.us);
        return 1;
    }
    r.t0 = now_us();
    cpu = cpu_us();
    loop_timer_start(p->lp, &r.next, 0, rep_start, &r);
    (void)loop_run(p->lp);
    t0 = now_us() - r.t0;
    cpu = cpu_us() - cpu;
    loop_timer_stop(p->lp, &r.next);
    outbound_free(p->ob);
    loop_free(p->lp);
    p->ob = NULL;
    p->lp = NULL;
    for (size_t i = 0; i < r.i; i++)
        total += r.us[i];
    qsort(r.us, r.i, sizeof(*r.us), cmp_i64);
    p50 = r.i / 2;
    p99 = r.i * 99 / 100;
    emit(json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:s?}", "step", "repeat",
                   "tool", tool, "calls", (json_int_t)r.i, "ok", (json_int_t)r.ok, "total_ms",
                   (double)t0 / 1000.0, "mean_ms", r.i ? (double)total / 1000.0 / (double)r.i : 0.0,
                   "cpu_ms_per_call", r.ok ? (double)cpu / 1000.0 / (double)r.ok : 0.0, "p50_ms",
                   r.i ? (double)r.us[p50] / 1000.0 : 0.0, "p99_ms",
                   r.i ? (double)r.us[p99] / 1000.0 : 0.0, "max_ms",
                   r.i ? (double)r.us[r.i - 1] / 1000.0 : 0.0, "error",
                   r.ei.code[0] ? r.ei.msg : NULL));
    free(r.us);
    return r.ok == n + warm ? 0 : 1;
}

struct opts {
    const char *url;
    const char *calls[PROBE_MAX_CALLS];
    json_t *args[PROBE_MAX_CALLS];
    size_t ncalls;
    uint64_t repeat, warmup;
    bool each;
    const char *allow;
    uint32_t timeout_ms;
    enum mcp_transport transport;
};

static int
parse(int argc, char **argv, struct opts *o)
{
    uint64_t ms;

    for (int i = 1; i < argc && argv[i] != NULL; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(help, stdout);
            return 0;
        } else if ((strcmp(a, "--repeat") == 0 && v && parse_u64(v, PROBE_MAX_REPEAT, &o->repeat) &&
                    o->repeat > 0) ||
                   (strcmp(a, "--warmup") == 0 && v &&
                    parse_u64(v, PROBE_MAX_REPEAT, &o->warmup)) ||
                   (strcmp(a, "--transport") == 0 && v && mcp_transport_parse(v, &o->transport))) {
            i++; /* the value was taken */
        } else if (strcmp(a, "--call-each") == 0) {
            o->each = true;
        } else if (strcmp(a, "--call") == 0 && v && o->ncalls < PROBE_MAX_CALLS) {
            o->calls[o->ncalls++] = v;
            i++;
        } else if (strcmp(a, "--args") == 0 && v && o->ncalls > 0 &&
                   o->args[o->ncalls - 1] == NULL) {
            o->args[o->ncalls - 1] = json_loads(v, 0, NULL);
            if (!json_is_object(o->args[o->ncalls - 1])) {
                fprintf(stderr, "connhub mcp-probe: --args must be a JSON object\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--timeout") == 0 && v && parse_u64(v, MCP_MAX_TIMEOUT_MS, &ms) &&
                   ms > 0) {
            o->timeout_ms = (uint32_t)ms;
            i++;
        } else if (strcmp(a, "--allow-private") == 0 && v) {
            o->allow = v;
            i++;
        } else if (a[0] != '-' && o->url == NULL) {
            o->url = a;
        } else {
            fprintf(stderr, "connhub mcp-probe: bad option or value: %s\n\n%s", a, help);
            return 2;
        }
    }
    if (o->url == NULL) {
        fputs(help, stderr);
        return 2;
    }
    return -1;
}

/* The credential headers from the environment (never argv). */
static enum err
env_headers(struct out_request *hdrs, const char *url, struct errinfo *ei)
{
    const char *bearer = getenv("MCP_PROBE_BEARER"), *hv = getenv("MCP_PROBE_HEADER");
    enum err e = out_request_init(hdrs, "POST", url, ei);
    char *name, *colon, *val;

    if (e == ERR_OK && bearer && bearer[0]) {
        size_t n = strlen(bearer) + 8;
        char *v = xcalloc(1, n);
        snprintf(v, n, "Bearer %s", bearer);
        e = out_request_add_header(hdrs, "Authorization", v, true, ei);
        explicit_bzero(v, n);
        free(v);
    }
    if (e == ERR_OK && hv && hv[0]) {
        name = xstrdup(hv);
        colon = strchr(name, ':');
        if (colon == NULL) {
            e = err_set(ei, ERR_INVALID, "invalid_value", "MCP_PROBE_HEADER",
                        "must be `Name: value`");
        } else {
            *colon = '\0';
            for (val = colon + 1; *val == ' '; val++)
                ;
            e = out_request_add_header(hdrs, name, val, true, ei);
        }
        explicit_bzero(name, strlen(hv));
        free(name);
    }
    return e;
}

/* connhub refuses the name "localhost" in URLs (its SSRF rules work on
 * addresses). A probe allowed to reach private ranges (a loopback test server,
 * such as the conformance suite's, which hands out http://localhost:PORT)
 * gets 127.0.0.1 instead. On change *out is malloc'ed. */
static bool
localhost_to_ip(const char *url, char **out)
{
    CURLU *h = curl_url();
    char *host = NULL, *u = NULL;
    bool changed = false;

    *out = NULL;
    if (h != NULL && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        strcasecmp(host, "localhost") == 0 &&
        curl_url_set(h, CURLUPART_HOST, "127.0.0.1", 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_URL, &u, 0) == CURLUE_OK) {
        *out = xstrdup(u);
        changed = true;
    }
    curl_free(host);
    curl_free(u);
    curl_url_cleanup(h);
    return changed;
}

int
cmd_mcp_probe(int argc, char **argv)
{
    char *local = NULL;
    struct opts o = {.transport = MCP_AUTO};
    struct probe p = {0};
    struct ssrf_policy pol = {0};
    struct out_request hdrs = {0};
    struct errinfo ei = {0};
    json_t *tools = NULL, *t;
    int rc = parse(argc, argv, &o);
    size_t i;

    if (rc >= 0)
        goto out_args;
    rc = 2;
    if (o.allow && ssrf_policy_parse(&pol, o.allow, &ei) != ERR_OK) {
        cli_fail("--allow-private", &ei);
        goto out_args;
    }
    if (o.allow && localhost_to_ip(o.url, &local)) {
        fprintf(stderr, "connhub mcp-probe: localhost taken as 127.0.0.1\n");
        o.url = local;
    }
    if (env_headers(&hdrs, o.url, &ei) != ERR_OK) {
        cli_fail("mcp-probe", &ei);
        goto out_args;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    p.pol = &pol;
    p.cache = mcp_session_cache_new();
    p.t.url = o.url;
    p.t.transport = o.transport;
    p.t.headers = hdrs.headers;
    p.t.nheaders = hdrs.nheaders;
    p.t.timeout_ms = o.timeout_ms;
    rc = discover(&p, &tools);
    if (rc == 0 && o.repeat > 0 && o.ncalls > 0)
        rc = repeat(&p, o.calls[0], o.args[0], (size_t)o.repeat, (size_t)o.warmup);
    for (i = 0; rc == 0 && o.repeat == 0 && i < o.ncalls; i++)
        rc = call(&p, o.calls[i], o.args[i]);
    if (o.each && o.repeat == 0)
        json_array_foreach (tools, i, t) {
            json_t *args;
            if (rc != 0 || i >= PROBE_MAX_CALLS)
                break;
            args = sample_args(json_object_get(t, "input_schema"));
            rc = call(&p, json_string_value(json_object_get(t, "name")), args);
            json_decref(args);
        }
    json_decref(tools);
    mcp_session_cache_free(p.cache);
    curl_global_cleanup();
out_args:
    free(local);
    out_request_release(&hdrs);
    for (i = 0; i < o.ncalls; i++)
        json_decref(o.args[i]);
    return rc;
}
