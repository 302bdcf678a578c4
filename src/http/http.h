/*
 * http: connhub's API server on libmicrohttpd.
 *
 * Shape (perf-notes §7): N worker threads, each running one event loop
 * (core/loop) that drives its own MHD daemon in external-epoll mode on a
 * SO_REUSEPORT listening socket, its own store connection and its own
 * outbound client. A request is handled start to finish on one thread; a
 * handler that waits for an upstream suspends the MHD connection and resumes
 * it from the outbound completion (req_finish), with no thread hand-off.
 *
 * Handlers are thin: parse, call one service function, render. They are
 * listed in a route table (see api/) that the caller passes to server_run().
 *
 * Limits (named in core/limits.h and settable by flags): request body size
 * (per route), header bytes, connections, idle timeout, shutdown drain time.
 */
#ifndef CONNHUB_HTTP_H
#define CONNHUB_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/vault.h"
#include "outbound/outbound.h"
#include "outbound/ssrf.h"
#include "session/session.h"
#include "store/store.h"

struct http_limits {
    size_t max_body;          /* MAX_REQUEST_BODY */
    size_t max_spec_body;     /* MAX_SPEC_BODY (routes marked ROUTE_BIG_BODY) */
    size_t max_header_bytes;  /* MAX_REQUEST_HEADER_BYTES */
    unsigned max_connections; /* MAX_CONNECTIONS (all workers together) */
    unsigned max_per_ip;      /* MAX_CONNECTIONS_PER_IP; 0 = none */
    unsigned idle_timeout_s;  /* CONNECTION_IDLE_TIMEOUT_S */
    unsigned drain_timeout_s; /* SHUTDOWN_DRAIN_TIMEOUT_S */
    unsigned max_calls;       /* MAX_CALLS_IN_FLIGHT (executions, see gate.h) */
    unsigned max_calls_ws;    /* MAX_CALLS_PER_WORKSPACE */
};
void http_limits_default(struct http_limits *l);

/* Process-wide counters, shown by GET /metrics. */
struct http_metrics {
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t by_class[6]; /* 1xx..5xx; [0] unused */
    atomic_int_fast64_t in_flight;
    atomic_uint_fast64_t body_too_large;
    atomic_uint_fast64_t calls;
    atomic_uint_fast64_t calls_failed;
};

/* Shared, read-only once the server runs (but for the metrics). */
struct app {
    const struct vault *vault;
    const char *db_url;
    const char *app_url;
    bool secure_cookies; /* app_url is https: the session cookie is Secure */
    bool dev;
    struct ssrf_policy ssrf;
    struct out_limits out_limits;
    struct http_limits limits;
    struct session_limits session; /* web sign-in: expiry and lockout */
    int64_t started_at;
    struct http_metrics metrics;
    struct gate *calls; /* execution concurrency limits (gate.h); set by server_run */
};

struct worker; /* opaque: one per thread */
struct gate;
struct mcp_session_cache;

enum route_flags {
    ROUTE_PUBLIC = 1,       /* no token needed */
    ROUTE_BIG_BODY = 2,     /* body limit is max_spec_body */
    ROUTE_WHO_OPTIONAL = 4, /* with ROUTE_PUBLIC: a token or session cookie, when sent and valid,
                             * fills rq->who (else it stays zero: anonymous) */
};

struct req;
struct resp;
typedef enum err (*handler_fn)(struct req *rq, struct resp *rs);

struct route {
    const char *method;
    const char *pattern; /* "/api/connections/{id}"; {name} matches one segment */
    handler_fn fn;
    enum role min_role; /* ROLE_MEMBER or ROLE_ADMIN (workspace role) */
    int flags;
};

#define REQ_MAX_PARAMS 4
#define RESP_MAX_HEADERS 6

struct req {
    struct worker *w;
    struct app *app;
    struct store *st;              /* this thread's store connection */
    struct outbound *ob;           /* this thread's outbound client */
    struct mcp_session_cache *mcp; /* this thread's MCP sessions */
    const char *method;
    char path[MAX_URL_PATH + 1];
    struct buf body;
    json_t *json;         /* the parsed body (handlers borrow it), or NULL */
    struct principal who; /* valid when the route is not public */
    bool via_session;     /* who came from the session cookie (not a bearer token) */
    char session_cookie[SESSION_COOKIE_LEN + 1]; /* its value then (wiped at the end) */
    const struct route *route;
    enum err route_err; /* ERR_OK, ERR_NOT_FOUND or ERR_METHOD */
    char param_name[REQ_MAX_PARAMS][32];
    char param_val[REQ_MAX_PARAMS][256];
    size_t nparams;
    /* internal state */
    void *mhd; /* struct MHD_Connection * */
    int64_t start_us;
    int state;
    bool too_large;
    size_t discarded;
    struct resp *rs;
};

struct resp {
    int status;
    json_t *json;   /* owned; dumped as the body */
    struct buf raw; /* or a raw body (e.g. spliced JSON, metrics text) */
    const char *content_type;
    struct errinfo ei;
    bool async;           /* the handler suspended; it will call req_finish() */
    char location[512];   /* for redirects */
    char set_cookie[192]; /* a Set-Cookie value, or "" */
    /* A body that outlives the response (embedded web files), instead of json/raw. */
    const void *static_body;
    size_t static_len;
    /* Headers the handler adds; names and values must outlive the response (static strings).
     * A Cache-Control or Content-Security-Policy here replaces the default one. */
    const char *extra_headers[RESP_MAX_HEADERS][2];
    size_t nextra;
};

/* Handler helpers */
const char *req_param(const struct req *rq, const char *name); /* {name} capture */
/* Query argument (decoded by MHD), or NULL. */
const char *req_query(const struct req *rq, const char *name);
const char *req_header(const struct req *rq, const char *name);
/* The body as a JSON object (400/415 with a clear message otherwise). */
enum err req_json_object(struct req *rq, struct errinfo *ei) WARN_UNUSED;
/* Sets the response to status + json (takes the reference). Returns ERR_OK. */
enum err resp_json(struct resp *rs, int status, json_t *json);
/* Adds a response header (static strings; see struct resp). Past RESP_MAX_HEADERS: ignored. */
void resp_header(struct resp *rs, const char *name, const char *value);
/* Marks the request as suspended: the handler's transfer will call req_finish. */
void req_suspend(struct req *rq);
/* Finishes a suspended request with e (ERR_OK means rs is filled). Runs on
 * the request's worker thread (e.g. from an outbound done callback). */
void req_finish(struct req *rq, enum err e);
bool req_draining(const struct req *rq);

struct server_config {
    const char *listen; /* "127.0.0.1:8080" */
    unsigned threads;   /* 0 = number of CPUs */
    const struct route *routes;
    size_t nroutes;
};

/* Binds, runs until SIGTERM/SIGINT, drains in-flight requests, returns 0
 * (or 1 on a start-up failure, already logged). */
int server_run(struct app *app, const struct server_config *cfg);

/* Matches method+path against routes; captures {params}. ERR_NOT_FOUND or
 * ERR_METHOD (path known, method not). */
enum err router_match(const struct route *routes, size_t n, const char *method, const char *path,
                      struct req *rq, const struct route **out);

/* Encodes an error response body {"error":{"code","message","field"}}. */
json_t *http_error_body(enum err e, const struct errinfo *ei);

#endif
