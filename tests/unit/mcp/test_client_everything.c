/* The MCP client against a real peer: @modelcontextprotocol/server-everything
 * from tests/e2e/node_modules (npm ci by tools/install-deps), started here in
 * its `streamableHttp` and `sse` modes. It has no host option and listens on
 * every interface, so it is started with a preload (written to a temp dir)
 * that makes its listen() bind 127.0.0.2 only; the SSRF policy allows exactly
 * 127.0.0.2/32. The test FAILS if the peer is missing or cannot start. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "mcp/client.h"

#define PEER_JS "tests/e2e/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
#define PEER_ADDR "127.0.0.2"

static const char preload[] =
    "const net = require('net');\n"
    "const orig = net.Server.prototype.listen;\n"
    "net.Server.prototype.listen = function (...a) {\n"
    "  if (typeof a[0] === 'number' || (typeof a[0] === 'string' && /^\\d+$/.test(a[0]))) {\n"
    "    const cb = a.find((x) => typeof x === 'function');\n"
    "    return orig.call(this, { port: Number(a[0]), host: '" PEER_ADDR "' }, cb);\n"
    "  }\n"
    "  return orig.apply(this, a);\n"
    "};\n";

static struct loop *lp;
static struct outbound *ob;
static struct ssrf_policy pol;
static char tmpdir[] = "/tmp/connhub-mcp-peer-XXXXXX";
static char preload_path[128];
static pid_t live_peer; /* killed in teardown if a failed assertion skipped peer_stop */

struct result {
    bool called;
    enum err e;
    json_t *r;
    struct errinfo ei;
};

struct peer {
    pid_t pid;
    int port;
};

static int
free_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

    sa.sin_family = AF_INET;
    inet_pton(AF_INET, PEER_ADDR, &sa.sin_addr);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool
can_connect(int port)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, PEER_ADDR, &sa.sin_addr);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Starts `node -r preload PEER_JS mode` with a minimal environment. */
static void
peer_start(struct peer *p, const char *mode)
{
    char port_env[32], home_env[160], path_env[4096];
    const char *path = getenv("PATH");
    struct stat st;

    assert_int_equal(stat(PEER_JS, &st), 0); /* tools/install-deps runs npm ci in tests/e2e */
    p->port = free_port();
    assert_true(p->port > 0);
    snprintf(port_env, sizeof(port_env), "PORT=%d", p->port);
    snprintf(home_env, sizeof(home_env), "HOME=%s", tmpdir);
    snprintf(path_env, sizeof(path_env), "PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        char *const argv[] = {(char *)"node",  (char *)"-r", preload_path,
                              (char *)PEER_JS, (char *)mode, NULL};
        char *const envp[] = {port_env, home_env, path_env, NULL};
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvpe("node", argv, envp);
        _exit(127);
    }
    live_peer = p->pid;
    for (int i = 0; i < 300 && !can_connect(p->port); i++) {
        struct timespec ts = {0, 50L * 1000000L};
        int status;
        assert_int_equal(waitpid(p->pid, &status, WNOHANG), 0); /* the peer died */
        nanosleep(&ts, NULL);
    }
    assert_true(can_connect(p->port));
}

static void
peer_stop(struct peer *p)
{
    int status;

    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, &status, 0);
    }
    p->pid = 0;
    live_peer = 0;
}

static void
on_stop(struct loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static void
on_done(enum err e, json_t *r, const struct errinfo *ei, void *arg)
{
    struct result *res = arg;

    res->called = true;
    res->e = e;
    res->r = r;
    if (ei)
        res->ei = *ei;
    loop_stop(lp);
}

static void
begin(struct result *res)
{
    memset(res, 0, sizeof(*res));
    assert_int_equal(loop_new(&lp), ERR_OK);
    assert_int_equal(outbound_new(lp, &pol, &ob), ERR_OK);
}

static void
run(struct result *res)
{
    struct loop_timer guard = {0};

    loop_timer_start(lp, &guard, 30000, on_stop, NULL);
    assert_int_equal(loop_run(lp), ERR_OK);
    loop_timer_stop(lp, &guard);
    outbound_free(ob);
    loop_free(lp);
    if (!res->called || res->e != ERR_OK)
        print_error("MCP: %s: %s\n", res->ei.code, res->ei.msg);
    assert_true(res->called);
}

static const json_t *
find_tool(const json_t *tools, const char *name)
{
    size_t i;
    json_t *t;

    json_array_foreach (tools, i, t)
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    return NULL;
}

static void
check_discover(int port, enum mcp_transport tr, const char *path, const char *want)
{
    char u[128];
    struct mcp_target t = {u, tr, NULL, 0, 0};
    struct result res;
    struct errinfo ei;
    const json_t *tools, *sum;

    snprintf(u, sizeof(u), "http://" PEER_ADDR ":%d%s", port, path);
    begin(&res);
    assert_int_equal(mcp_discover(ob, &t, on_done, &res, &ei), ERR_OK);
    run(&res);
    assert_int_equal(res.e, ERR_OK);
    assert_string_equal(json_string_value(json_object_get(res.r, "transport")), want);
    tools = json_object_get(res.r, "tools");
    assert_true(json_array_size(tools) >= 10);
    assert_non_null(find_tool(tools, "echo"));
    assert_non_null(find_tool(tools, "get-tiny-image"));
    sum = find_tool(tools, "get-sum");
    assert_non_null(sum);
    assert_string_equal(json_string_value(json_object_get(sum, "tool_name")), "get_sum");
    assert_true(json_is_object(json_object_get(sum, "input_schema")));
    assert_non_null(json_object_get(find_tool(tools, "get-structured-content"), "output_schema"));
    json_decref(res.r);
}

static void
check_call(int port, enum mcp_transport tr, const char *path, struct mcp_session_cache *cache,
           const char *tool, const char *args, const char *want_text)
{
    char u[128];
    struct mcp_target t = {u, tr, NULL, 0, 0};
    struct result res;
    struct errinfo ei;
    json_t *a = json_loads(args, 0, NULL), *c;

    snprintf(u, sizeof(u), "http://" PEER_ADDR ":%d%s", port, path);
    begin(&res);
    assert_int_equal(mcp_call_tool(ob, cache, "ws/everything", &t, tool, a, on_done, &res, &ei),
                     ERR_OK);
    json_decref(a);
    run(&res);
    assert_int_equal(res.e, ERR_OK);
    assert_false(json_is_true(json_object_get(res.r, "isError")));
    c = json_array_get(json_object_get(res.r, "content"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(c, "text")), want_text));
    json_decref(res.r);
}

static void
test_streamable_http(void **state)
{
    struct peer p = {0};
    struct mcp_session_cache *cache = mcp_session_cache_new();

    (void)state;
    peer_start(&p, "streamableHttp");
    check_discover(p.port, MCP_STREAMABLE_HTTP, "/mcp", "streamable_http");
    check_discover(p.port, MCP_AUTO, "/mcp", "streamable_http");
    check_call(p.port, MCP_STREAMABLE_HTTP, "/mcp", cache, "echo",
               "{\"message\":\"hello from connhub\"}", "Echo: hello from connhub");
    assert_int_equal(mcp_session_cache_size(cache), 1);
    check_call(p.port, MCP_STREAMABLE_HTTP, "/mcp", cache, "get-sum", "{\"a\":2,\"b\":40}", "42");
    check_call(p.port, MCP_STREAMABLE_HTTP, "/mcp", NULL, "get-tiny-image", "{}", "");
    mcp_session_cache_free(cache);
    peer_stop(&p);
}

static void
test_legacy_sse(void **state)
{
    struct peer p = {0};

    (void)state;
    peer_start(&p, "sse");
    check_discover(p.port, MCP_SSE, "/sse", "sse");
    check_discover(p.port, MCP_AUTO, "/sse", "sse");
    check_call(p.port, MCP_SSE, "/sse", NULL, "echo", "{\"message\":\"over sse\"}",
               "Echo: over sse");
    check_call(p.port, MCP_AUTO, "/sse", NULL, "get-sum", "{\"a\":1.5,\"b\":2.25}", "3.75");
    peer_stop(&p);
}

static int
setup(void **state)
{
    struct errinfo ei;
    FILE *f;

    (void)state;
    log_set_level(LOG_ERROR);
    signal(SIGPIPE, SIG_IGN);
    if (ssrf_policy_parse(&pol, PEER_ADDR "/32", &ei) != ERR_OK || mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(preload_path, sizeof(preload_path), "%s/loopback-only.cjs", tmpdir);
    f = fopen(preload_path, "w");
    if (f == NULL)
        return -1;
    fputs(preload, f);
    fclose(f);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    if (live_peer > 0) {
        int status;
        kill(live_peer, SIGTERM);
        waitpid(live_peer, &status, 0);
    }
    unlink(preload_path);
    rmdir(tmpdir);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streamable_http),
        cmocka_unit_test(test_legacy_sse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
