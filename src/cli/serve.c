/* connhub serve: start-up in order (flags, log, vault, store, key check, dev
 * bootstrap), then the HTTP server until SIGTERM/SIGINT. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "admin/admin.h"
#include "api/api.h"
#include "cli/cli.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "http/http.h"
#include "oauth/token.h"
#include "services/registry.h"
#include "store/store.h"
#include "core/banned.h"

static const char serve_help[] =
    "usage: connhub serve [options]\n"
    "  Runs the connhub API server.\n"
    "\n"
    "  --listen ADDR:PORT        where to listen (default 127.0.0.1:8080)\n"
    "  --db URL                  sqlite:PATH (default " DEFAULT_DB_URL "), or PostgreSQL:\n"
    "                            postgres://USER@HOST:PORT/DB, postgresql://..., or a libpq\n"
    "                            keyword string \"host=... dbname=...\" (also $CONNHUB_DB;\n"
    "                            the password is best in $PGPASSWORD or ~/.pgpass, not argv)\n"
    "  --dev                     development mode: without INTEGRATION_ENCRYPTION_KEY, use (or\n"
    "                            create) a key file next to the database; on an empty database\n"
    "                            create user admin, workspace default and print a token once\n"
    "  --app-url URL             public URL of this server (also $APP_URL)\n"
    "  --threads N               worker threads (default: one per CPU)\n"
    "  --allow-private CIDR,...  let outbound calls reach these private ranges, credentials\n"
    "                            over plain http included (TESTS ONLY; logged as a warning\n"
    "                            at start and on every use)\n"
    "  --log-level LEVEL         debug, info, warn, error (default info; also $CONNHUB_LOG_LEVEL)\n"
    "  --service-base-url ID=URL  where a service's API is (openai, anthropic, gemini, brave,\n"
    "                            telegram, gmail, google_oauth); repeatable; for tests and "
    "proxies\n"
    "  --oauth-token-timeout MS  total timeout of OAuth token requests, 1000-20000 (default\n"
    "                            20000; the refresh lease always outlives it)\n"
    "\n"
    "  Limits (each refusal is a clear 4xx):\n"
    "  --max-body BYTES          JSON request bodies (default 262144)\n"
    "  --max-spec-body BYTES     OpenAPI import bodies (default 33554432)\n"
    "  --max-header-bytes BYTES  request line + headers per connection (default 16384)\n"
    "  --max-connections N       open client connections (default 10000)\n"
    "  --max-connections-per-ip N  (default 0: no per-IP cap)\n"
    "  --max-calls N             executions in flight, all workspaces (default 10000; past it: "
    "429)\n"
    "  --max-calls-per-workspace N  executions in flight per workspace (default 5000), so one\n"
    "                            workspace cannot take every slot\n"
    "  --idle-timeout SECONDS    idle or slow client connections are closed (default 30)\n"
    "  --drain-timeout SECONDS   on SIGTERM, in-flight requests get this long (default 30)\n"
    "  --out-connect-timeout MS  upstream connect timeout (default 10000)\n"
    "  --out-timeout MS          upstream total timeout (default 30000)\n"
    "  --out-idle-timeout MS     upstream no-bytes timeout (default 15000)\n"
    "  --out-max-response BYTES  upstream response size, decoded (default 10485760)\n"
    "  --out-max-redirects N     0-5 (default 5)\n"
    "  --out-ca-file PATH        PEM file of CA certificates that upstream TLS also trusts,\n"
    "                            besides the system's (e.g. a private CA); checked at start\n"
    "  --session-idle-timeout SECONDS  web sign-in: a session unused this long ends (default "
    "1800)\n"
    "  --session-max-age SECONDS  web sign-in: a session ends this long after it began (default "
    "43200)\n"
    "  --login-max-failures N    failed sign-ins per user name before it is locked (default 5)\n"
    "  --login-lockout SECONDS   ... counted over this window, which is also the lock (default "
    "900)\n"
    "\n"
    "  Environment: INTEGRATION_ENCRYPTION_KEY (32 bytes, base64 or hex; required unless --dev),\n"
    "  INTEGRATION_ENCRYPTION_KEY_PREVIOUS (older keys, comma-separated),\n"
    "  INTEGRATION_ENCRYPTION_KEY_RETIRED (key ids, 8 hex digits, comma-separated: values sealed\n"
    "  under them are refused; retire a key after rekey), APP_URL, CONNHUB_DB,\n"
    "  and libpq's PGPASSWORD, PGPASSFILE, PGSSLMODE... for PostgreSQL.\n";

enum {
    O_LISTEN = 256,
    O_DB,
    O_DEV,
    O_APP_URL,
    O_THREADS,
    O_ALLOW,
    O_LOG,
    O_MAX_BODY,
    O_MAX_SPEC,
    O_MAX_HDR,
    O_MAX_CONN,
    O_MAX_IP,
    O_MAX_CALLS,
    O_MAX_CALLS_WS,
    O_IDLE,
    O_DRAIN,
    O_OCONN,
    O_OTOTAL,
    O_OIDLE,
    O_OMAX,
    O_OREDIR,
    O_OCA,
    O_SVC_BASE,
    O_SESS_IDLE,
    O_SESS_AGE,
    O_LOGIN_FAILS,
    O_LOGIN_LOCK,
    O_OAUTH_TIMEOUT,
    O_HELP
};

struct serve_opts {
    const char *listen, *db, *app_url, *allow, *log_level, *ca_file;
    bool dev;
    unsigned threads;
};

static bool
num_opt(const char *name, const char *v, uint64_t max, uint64_t *out)
{
    if (!parse_u64(v, max, out)) {
        fprintf(stderr, "connhub serve: %s must be a whole number from 0 to %llu (got '%s')\n",
                name, (unsigned long long)max, v);
        return false;
    }
    return true;
}

/* num_opt for settings where 0 means nothing sensible (a session that ends at once). */
static bool
pos_opt(const char *name, const char *v, uint64_t max, uint64_t *out)
{
    if (!parse_u64(v, max, out) || *out == 0) {
        fprintf(stderr, "connhub serve: %s must be a whole number from 1 to %llu (got '%s')\n",
                name, (unsigned long long)max, v);
        return false;
    }
    return true;
}

/* The limit flags: 0 when applied, 2 on a bad value, -1 when c is not one. */
static int
limit_opt(int c, const char *arg, struct app *app)
{
    uint64_t n;

    switch (c) {
    case O_MAX_BODY:
        if (!num_opt("--max-body", arg, 1u << 30, &n))
            return 2;
        app->limits.max_body = n;
        break;
    case O_MAX_SPEC:
        if (!num_opt("--max-spec-body", arg, 1u << 30, &n))
            return 2;
        app->limits.max_spec_body = n;
        break;
    case O_MAX_HDR:
        if (!num_opt("--max-header-bytes", arg, 1u << 20, &n) || n < 1024)
            return 2;
        app->limits.max_header_bytes = n;
        break;
    case O_MAX_CONN:
        if (!pos_opt("--max-connections", arg, 1000000, &n))
            return 2;
        app->limits.max_connections = (unsigned)n;
        break;
    case O_MAX_IP:
        if (!num_opt("--max-connections-per-ip", arg, 1000000, &n))
            return 2;
        app->limits.max_per_ip = (unsigned)n;
        break;
    case O_MAX_CALLS:
        if (!pos_opt("--max-calls", arg, 1000000, &n))
            return 2;
        app->limits.max_calls = (unsigned)n;
        break;
    case O_MAX_CALLS_WS:
        if (!pos_opt("--max-calls-per-workspace", arg, 1000000, &n))
            return 2;
        app->limits.max_calls_ws = (unsigned)n;
        break;
    case O_IDLE:
        if (!num_opt("--idle-timeout", arg, 86400, &n))
            return 2;
        app->limits.idle_timeout_s = (unsigned)n;
        break;
    case O_DRAIN:
        if (!num_opt("--drain-timeout", arg, 3600, &n))
            return 2;
        app->limits.drain_timeout_s = (unsigned)n;
        break;
    case O_OCONN:
        if (!num_opt("--out-connect-timeout", arg, 600000, &n) || n == 0)
            return 2;
        app->out_limits.connect_timeout_ms = (uint32_t)n;
        break;
    case O_OTOTAL:
        if (!num_opt("--out-timeout", arg, 3600000, &n) || n == 0)
            return 2;
        app->out_limits.total_timeout_ms = (uint32_t)n;
        break;
    case O_OIDLE:
        if (!num_opt("--out-idle-timeout", arg, 3600000, &n) || n == 0)
            return 2;
        app->out_limits.idle_timeout_ms = (uint32_t)n;
        break;
    case O_OMAX:
        if (!num_opt("--out-max-response", arg, 1u << 30, &n))
            return 2;
        app->out_limits.max_response = n;
        break;
    case O_SESS_IDLE:
        if (!pos_opt("--session-idle-timeout", arg, 30ull * 86400, &n))
            return 2;
        app->session.idle_s = (unsigned)n;
        break;
    case O_SESS_AGE:
        if (!pos_opt("--session-max-age", arg, 90ull * 86400, &n))
            return 2;
        app->session.max_age_s = (unsigned)n;
        break;
    case O_LOGIN_FAILS:
        if (!pos_opt("--login-max-failures", arg, 1000, &n))
            return 2;
        app->session.max_failures = (unsigned)n;
        break;
    case O_LOGIN_LOCK:
        if (!pos_opt("--login-lockout", arg, 86400, &n))
            return 2;
        app->session.lockout_s = (unsigned)n;
        break;
    case O_OREDIR:
        if (!num_opt("--out-max-redirects", arg, OUT_MAX_REDIRECTS, &n))
            return 2;
        app->out_limits.max_redirects = (int)n;
        break;
    default:
        return -1;
    }
    return 0;
}

static int
parse_serve(int argc, char **argv, struct serve_opts *o, struct app *app)
{
    static const struct option lo[] = {
        {"listen", 1, NULL, O_LISTEN},
        {"db", 1, NULL, O_DB},
        {"dev", 0, NULL, O_DEV},
        {"app-url", 1, NULL, O_APP_URL},
        {"threads", 1, NULL, O_THREADS},
        {"allow-private", 1, NULL, O_ALLOW},
        {"log-level", 1, NULL, O_LOG},
        {"max-body", 1, NULL, O_MAX_BODY},
        {"max-spec-body", 1, NULL, O_MAX_SPEC},
        {"max-header-bytes", 1, NULL, O_MAX_HDR},
        {"max-connections", 1, NULL, O_MAX_CONN},
        {"max-connections-per-ip", 1, NULL, O_MAX_IP},
        {"max-calls", 1, NULL, O_MAX_CALLS},
        {"max-calls-per-workspace", 1, NULL, O_MAX_CALLS_WS},
        {"idle-timeout", 1, NULL, O_IDLE},
        {"drain-timeout", 1, NULL, O_DRAIN},
        {"out-connect-timeout", 1, NULL, O_OCONN},
        {"out-timeout", 1, NULL, O_OTOTAL},
        {"out-idle-timeout", 1, NULL, O_OIDLE},
        {"out-max-response", 1, NULL, O_OMAX},
        {"out-max-redirects", 1, NULL, O_OREDIR},
        {"out-ca-file", 1, NULL, O_OCA},
        {"service-base-url", 1, NULL, O_SVC_BASE},
        {"session-idle-timeout", 1, NULL, O_SESS_IDLE},
        {"session-max-age", 1, NULL, O_SESS_AGE},
        {"login-max-failures", 1, NULL, O_LOGIN_FAILS},
        {"login-lockout", 1, NULL, O_LOGIN_LOCK},
        {"oauth-token-timeout", 1, NULL, O_OAUTH_TIMEOUT},
        {"help", 0, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    uint64_t n;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            o->listen = optarg;
            break;
        case O_DB:
            o->db = optarg;
            break;
        case O_DEV:
            o->dev = true;
            break;
        case O_APP_URL:
            o->app_url = optarg;
            break;
        case O_ALLOW:
            o->allow = optarg;
            break;
        case O_OCA:
            o->ca_file = optarg;
            break;
        case O_LOG:
            o->log_level = optarg;
            break;
        case O_THREADS:
            if (!num_opt("--threads", optarg, 256, &n))
                return 2;
            o->threads = (unsigned)n;
            break;
        case O_SVC_BASE: {
            struct errinfo sei = {0};
            if (services_base_url_flag(optarg, &sei) != ERR_OK) {
                fprintf(stderr, "connhub serve: --service-base-url: %s\n", sei.msg);
                return 2;
            }
            break;
        }
        case O_OAUTH_TIMEOUT: {
            struct errinfo tei = {0};
            if (!num_opt("--oauth-token-timeout", optarg, UINT32_MAX, &n))
                return 2;
            if (oauth_token_timeout_set((unsigned)n, &tei) != ERR_OK) {
                fprintf(stderr, "connhub serve: --oauth-token-timeout %s\n", tei.msg);
                return 2;
            }
            break;
        }
        case O_HELP:
            fputs(serve_help, stdout);
            return 1;
        default:
            rc = limit_opt(c, optarg, app);
            if (rc == 0)
                break;
            if (rc < 0)
                fputs(serve_help, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "connhub serve: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    return 0;
}

static int
open_vault(const struct serve_opts *o, struct vault **v)
{
    char dir[4096] = "", path[4200] = "";
    struct errinfo ei = {0};
    const char *key = getenv("INTEGRATION_ENCRYPTION_KEY");
    /* --dev's key file lives next to a SQLite file; with a key given, any database will do */
    bool key_file = o->dev && (key == NULL || key[0] == '\0');
    bool created = false;

    cli_prepare_db_dir(o->db);
    if (key_file && store_data_dir(o->db, dir, sizeof(dir), &ei) != ERR_OK) {
        cli_fail("serve", &ei);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/connhub.devkey", dir);
    if (vault_from_env(key_file ? path : NULL, v, &created, &ei) != ERR_OK) {
        log_kv(LOG_ERROR, "vault.refused", "s:field", ei.field, "s:detail", ei.msg, LOG_END);
        cli_fail("refusing to start", &ei);
        return 1;
    }
    if (o->dev && created)
        log_kv(LOG_WARN, "vault.dev_key_created", "s:path", path, "s:detail",
               "DEVELOPMENT KEY: secrets are sealed with a key stored next to the database. "
               "Never use --dev in production; set INTEGRATION_ENCRYPTION_KEY instead.",
               LOG_END);
    else if (o->dev && getenv("INTEGRATION_ENCRYPTION_KEY") == NULL)
        log_kv(LOG_WARN, "vault.dev_key", "s:path", path, "s:detail",
               "DEVELOPMENT KEY in use (serve --dev); not for production", LOG_END);
    log_kv(LOG_INFO, "vault.ready", "i:keys", (int)vault_key_count(*v), LOG_END);
    return 0;
}

static int
prepare_store(const struct serve_opts *o, const struct vault *v)
{
    struct store *st = NULL;
    struct errinfo ei = {0};
    char tok[TOKEN_MAX];
    bool created = false;
    int rc = 0;

    if (cli_open_store(o->db, &st) != 0)
        return 1;
    if (admin_key_check(st, v, &ei) != ERR_OK) {
        log_kv(LOG_ERROR, "vault.key_mismatch", "s:detail", ei.msg, LOG_END);
        cli_fail("refusing to start", &ei);
        rc = 1;
    } else if (o->dev && admin_dev_bootstrap(st, tok, &created, &ei) != ERR_OK) {
        cli_fail("dev bootstrap", &ei);
        rc = 1;
    } else if (created) {
        log_kv(LOG_WARN, "dev.bootstrap", "s:user", "admin", "s:workspace", "default", "s:detail",
               "created user admin and workspace default; the API token is printed on stdout "
               "once",
               LOG_END);
        printf("dev token (user admin, workspace default): %s\n", tok);
        fflush(stdout);
        OPENSSL_cleanse(tok, sizeof(tok));
    }
    store_close(st);
    return rc;
}

int
cmd_serve(int argc, char **argv)
{
    static struct app app;
    struct serve_opts o = {"127.0.0.1:8080", NULL, NULL, NULL, NULL, false, 0};
    struct server_config cfg = {0};
    struct vault *v = NULL;
    struct errinfo ei = {0};
    enum log_level lvl;
    char db_shown[1024];
    char alloc[ALLOC_NAME_MAX];
    int rc;

    o.db = getenv("CONNHUB_DB") ? getenv("CONNHUB_DB") : DEFAULT_DB_URL;
    http_limits_default(&app.limits);
    out_limits_default(&app.out_limits);
    session_limits_default(&app.session);
    rc = parse_serve(argc, argv, &o, &app);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (o.log_level == NULL)
        o.log_level = getenv("CONNHUB_LOG_LEVEL");
    if (o.log_level && !log_parse_level(o.log_level, &lvl)) {
        fprintf(stderr, "connhub serve: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    if (o.log_level)
        log_set_level(lvl);
    if (o.app_url == NULL)
        o.app_url = getenv("APP_URL");
    if (o.allow && ssrf_policy_parse(&app.ssrf, o.allow, &ei) != ERR_OK) {
        cli_fail("--allow-private", &ei);
        return 2;
    }
    if (o.ca_file && outbound_set_ca_file(o.ca_file, &ei) != ERR_OK) {
        cli_fail("serve", &ei);
        return 2;
    }
    secret_heap_init(1 << 20);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    store_url_redact(o.db, db_shown, sizeof(db_shown)); /* never the password */
    alloc_name(alloc);
    log_kv(LOG_INFO, "server.starting", "s:db", db_shown, "s:listen", o.listen, "b:dev", o.dev,
           "s:app_url", o.app_url ? o.app_url : "", "s:allocator", alloc, LOG_END);
    if (o.ca_file)
        log_kv(LOG_INFO, "outbound.ca_file", "s:path", o.ca_file, "s:detail",
               "upstream TLS also trusts these CA certificates", LOG_END);
    if (o.allow)
        log_kv(LOG_WARN, "ssrf.allow_private", "s:ranges", o.allow, "s:detail",
               "outbound calls may reach these private addresses: for tests only", LOG_END);
    if (open_vault(&o, &v) != 0)
        return 1;
    rc = prepare_store(&o, v);
    if (rc == 0) {
        app.vault = v;
        app.db_url = o.db;
        app.app_url = o.app_url;
        app.secure_cookies = o.app_url && strncasecmp(o.app_url, "https://", 8) == 0;
        app.dev = o.dev;
        app.started_at = now_ms();
        cfg.listen = o.listen;
        cfg.threads = o.threads;
        cfg.routes = api_routes;
        cfg.nroutes = api_nroutes;
        rc = server_run(&app, &cfg);
    }
    vault_free(v);
    curl_global_cleanup();
    return rc;
}
