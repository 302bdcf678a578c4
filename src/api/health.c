#include <stdio.h>

#include "api/api.h"
#include "core/util.h"
#include "crypto/vault.h"
#include "core/banned.h"

#ifndef CONNHUB_VERSION
#define CONNHUB_VERSION "0.1.0"
#endif

enum err
h_healthz(struct req *rq, struct resp *rs)
{
    int64_t users = 0;
    struct errinfo ei = {0};
    bool db_ok = store_user_count(rq->st, &users, &ei) == ERR_OK;

    return resp_json(rs, db_ok ? 200 : 503,
                     json_pack("{s:s, s:s, s:s, s:I, s:b}", "status", db_ok ? "ok" : "degraded",
                               "version", CONNHUB_VERSION, "db", store_backend_name(rq->st),
                               "uptime_s", (json_int_t)((now_ms() - rq->app->started_at) / 1000),
                               "draining", req_draining(rq)));
}

enum err
h_metrics(struct req *rq, struct resp *rs)
{
    struct http_metrics *m = &rq->app->metrics;
    uint64_t hits, misses, quick;
    enum err e;

    store_memo_counts(&hits, &misses, &quick);
    e = buf_printf(&rs->raw,
                   "# TYPE connhub_http_requests_total counter\n"
                   "connhub_http_requests_total %llu\n"
                   "connhub_http_responses_total{class=\"2xx\"} %llu\n"
                   "connhub_http_responses_total{class=\"3xx\"} %llu\n"
                   "connhub_http_responses_total{class=\"4xx\"} %llu\n"
                   "connhub_http_responses_total{class=\"5xx\"} %llu\n"
                   "# TYPE connhub_http_in_flight gauge\n"
                   "connhub_http_in_flight %lld\n"
                   "connhub_http_body_too_large_total %llu\n"
                   "# TYPE connhub_calls_total counter\n"
                   "connhub_calls_total %llu\n"
                   "connhub_calls_failed_total %llu\n"
                   "# TYPE connhub_secret_opens_total counter\n"
                   "connhub_secret_opens_total %llu\n"
                   "# TYPE connhub_secret_retired_refusals_total counter\n"
                   "connhub_secret_retired_refusals_total %llu\n"
                   "# TYPE connhub_store_memo_hits_total counter\n"
                   "connhub_store_memo_hits_total %llu\n"
                   "# TYPE connhub_store_memo_misses_total counter\n"
                   "connhub_store_memo_misses_total %llu\n"
                   "# TYPE connhub_store_quick_read_scopes_total counter\n"
                   "connhub_store_quick_read_scopes_total %llu\n"
                   "# TYPE connhub_uptime_seconds gauge\n"
                   "connhub_uptime_seconds %lld\n",
                   (unsigned long long)m->requests, (unsigned long long)m->by_class[2],
                   (unsigned long long)m->by_class[3], (unsigned long long)m->by_class[4],
                   (unsigned long long)m->by_class[5], (long long)m->in_flight,
                   (unsigned long long)m->body_too_large, (unsigned long long)m->calls,
                   (unsigned long long)m->calls_failed, (unsigned long long)vault_open_count(),
                   (unsigned long long)vault_retired_refusal_count(), (unsigned long long)hits,
                   (unsigned long long)misses, (unsigned long long)quick,
                   (long long)((now_ms() - rq->app->started_at) / 1000));
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4";
    return e;
}

enum err
h_me(struct req *rq, struct resp *rs)
{
    return resp_json(rs, 200,
                     json_pack("{s:{s:s, s:b}, s:{s:s, s:s}}", "user", "name", rq->who.user_name,
                               "platform_admin", rq->who.platform_admin, "workspace", "slug",
                               rq->who.workspace_slug, "role", role_name(rq->who.role)));
}
