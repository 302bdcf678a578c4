/* POST /api/openapi/preview: what connhub would make of a spec, saved nowhere.
 * {"spec": "<JSON or YAML>"} or {"url": "https://..."} (fetched through the
 * outbound client: SSRF guard, size and time limits), optional "base_url". */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conn/conn_oauth.h"
#include "openapi/openapi.h"
#include "outbound/ssrf.h"
#include "core/banned.h"

static enum err
preview(struct req *rq, const char *text, size_t len, json_t **out, struct errinfo *ei)
{
    struct openapi_opts opts = {0};
    json_t *auth, *def = NULL;
    const char *type;
    enum err e;

    opts.base_url_override = json_string_value(json_object_get(rq->json, "base_url"));
    opts.max_spec_bytes = rq->app->limits.max_spec_body;
    e = openapi_import(text, len, &opts, out, ei);
    auth = e == ERR_OK ? json_object_get(*out, "auth") : NULL;
    type = json_string_value(json_object_get(auth, "type"));
    /* an oauth2 scheme: the provider a connection made from it would register */
    if (type && strcmp(type, "oauth2") == 0 &&
        conn_oauth_provider_from_spec(auth, &def, &(struct errinfo){0}) == ERR_OK)
        json_object_set_new(*out, "oauth_provider", def);
    return e;
}

static void
on_fetched(struct out_response *res, void *arg)
{
    struct req *rq = arg;
    json_t *out = NULL;
    enum err e;

    if (res->fail != OUT_OK) {
        req_finish(rq, err_set(&rq->rs->ei,
                               res->fail == OUT_FAIL_BLOCKED ? ERR_FORBIDDEN : ERR_UPSTREAM,
                               res->fail == OUT_FAIL_BLOCKED ? "blocked_by_policy" : "fetch_failed",
                               "url", "could not fetch the spec: %s", res->error));
        return;
    }
    if (res->status < 200 || res->status >= 300) {
        req_finish(rq, err_set(&rq->rs->ei, ERR_UPSTREAM, "fetch_failed", "url",
                               "fetching the spec answered HTTP %ld", res->status));
        return;
    }
    e = preview(rq, res->body.data ? res->body.data : "", res->body.len, &out, &rq->rs->ei);
    if (e == ERR_OK)
        resp_json(rq->rs, 200, out);
    req_finish(rq, e);
}

enum err
h_openapi_preview(struct req *rq, struct resp *rs)
{
    json_t *spec, *out = NULL;
    const char *url;
    struct out_request orq = {0};
    struct url_info ui;
    enum err e = req_json_object(rq, &rs->ei);

    if (e != ERR_OK)
        return e;
    spec = json_object_get(rq->json, "spec");
    url = json_string_value(json_object_get(rq->json, "url"));
    if (json_is_string(spec)) {
        e = preview(rq, json_string_value(spec), json_string_length(spec), &out, &rs->ei);
        if (e == ERR_OK)
            resp_json(rs, 200, out);
        return e;
    }
    if (url == NULL)
        return err_set(&rs->ei, ERR_INVALID, "missing_field", "spec",
                       "send {\"spec\": \"<JSON or YAML text>\"} or {\"url\": \"https://...\"}");
    e = url_validate(url, "url", &ui, &rs->ei);
    if (e == ERR_OK)
        e = out_request_init(&orq, "GET", url, &rs->ei);
    if (e == ERR_OK)
        e = out_request_add_header(
            &orq, "Accept", "application/json, application/yaml, text/yaml, */*", false, &rs->ei);
    if (e != ERR_OK) {
        out_request_release(&orq);
        return e;
    }
    orq.limits = rq->app->out_limits;
    orq.limits.max_response = rq->app->limits.max_spec_body;
    e = outbound_send(rq->ob, &orq, on_fetched, rq, NULL);
    if (e == ERR_OK)
        req_suspend(rq);
    return e;
}
