/* OAuth2: the admin provider registry, the connect start (a redirect to the
 * provider) and the callback (<APP_URL>/api/auth/connect/<provider>/callback),
 * which lands on a page that says what happened and stores nothing on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conn/conn_oauth.h"
#include "core/banned.h"

static enum err
platform_admin(const struct req *rq, struct resp *rs)
{
    if (rq->who.platform_admin)
        return ERR_OK;
    return err_set(&rs->ei, ERR_FORBIDDEN, "platform_admin_only", NULL,
                   "OAuth providers are managed by platform admins");
}

enum err
h_oauth_providers(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = platform_admin(rq, rs);

    if (e == ERR_OK)
        e = conn_oauth_provider_list(rq->st, &out, &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

static void
on_provider_put(enum err e, json_t *out, const struct errinfo *ei, void *arg)
{
    struct req *rq = arg;

    if (e == ERR_OK)
        resp_json(rq->rs, 200, json_incref(out));
    else
        rq->rs->ei = *ei;
    req_finish(rq, e);
}

enum err
h_oauth_provider_put(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = platform_admin(rq, rs);

    if (e == ERR_OK)
        e = req_json_object(rq, &rs->ei);
    if (e == ERR_OK && json_is_true(json_object_get(rq->json, "discover"))) {
        e = conn_oauth_provider_discover(rq->st, rq->app->vault, rq->ob, req_param(rq, "provider"),
                                         rq->json, on_provider_put, rq, &rs->ei);
        if (e == ERR_OK)
            req_suspend(rq);
        return e;
    }
    if (e == ERR_OK)
        e = conn_oauth_provider_put(rq->st, rq->app->vault, req_param(rq, "provider"), rq->json,
                                    &out, &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_oauth_provider_delete(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = platform_admin(rq, rs);

    if (e == ERR_OK)
        e = conn_oauth_provider_delete(rq->st, req_param(rq, "provider"), &out, &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_oauth_start(struct req *rq, struct resp *rs)
{
    const char *conn = req_query(rq, "connection");
    const char *tiers = req_query(rq, "tiers");
    char *location = NULL;
    enum err e;

    if (conn == NULL)
        return err_set(&rs->ei, ERR_INVALID, "missing_field", "connection",
                       "name the oauth2 connection to connect: ?connection=<id>");
    if (req_query(rq, "personal") && strcmp(req_query(rq, "personal"), "1") == 0)
        e = conn_oauth_personal_start(rq->st, rq->app->vault, rq->app->app_url, &rq->who,
                                      req_param(rq, "provider"), tiers ? tiers : "", conn,
                                      &location, &rs->ei);
    else
        e = conn_oauth_start(rq->st, rq->app->vault, rq->app->app_url, &rq->who,
                             req_param(rq, "provider"), tiers ? tiers : "", conn, &location,
                             &rs->ei);
    if (e != ERR_OK)
        return e;
    rs->status = 302;
    snprintf(rs->location, sizeof(rs->location), "%s", location);
    rs->content_type = "text/plain";
    e = buf_puts(&rs->raw, "redirecting to the provider\n");
    if (strlen(location) >= sizeof(rs->location))
        e = err_set(&rs->ei, ERR_INTERNAL, "url_too_long", NULL, "authorize URL too long");
    free(location);
    return e;
}

/* A small page for people: the outcome, escaped, no token anywhere. */
static void
page(struct resp *rs, int status, const char *title, const char *detail)
{
    buf_reset(&rs->raw);
    rs->status = status;
    rs->content_type = "text/html; charset=utf-8";
    if (buf_printf(&rs->raw,
                   "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head>"
                   "<body><h1>%s</h1><p>",
                   title, title) != ERR_OK)
        return;
    for (const char *p = detail; *p; p++) {
        const char *esc = *p == '<'   ? "&lt;"
                          : *p == '>' ? "&gt;"
                          : *p == '&' ? "&amp;"
                          : *p == '"' ? "&quot;"
                                      : NULL;
        if ((esc ? buf_puts(&rs->raw, esc) : buf_putc(&rs->raw, *p)) != ERR_OK)
            return;
    }
    if (buf_puts(&rs->raw, "</p><p>You can close this window.</p></body></html>\n") != ERR_OK)
        return;
}

static void
on_callback(enum err e, json_t *out, const struct errinfo *ei, void *arg)
{
    struct req *rq = arg;
    char detail[512];

    if (e == ERR_OK) {
        snprintf(detail, sizeof(detail), "Connection %s is connected to %s (tiers: %s).",
                 json_string_value(json_object_get(out, "connection_id")),
                 json_string_value(json_object_get(out, "provider")),
                 json_string_value(json_object_get(out, "tiers"))
                     ? json_string_value(json_object_get(out, "tiers"))
                     : "none");
        page(rq->rs, 200, "Connected", detail);
    } else {
        page(rq->rs, err_http_status(e), "Connection failed", ei->msg);
    }
    req_finish(rq, ERR_OK);
}

enum err
h_oauth_callback(struct req *rq, struct resp *rs)
{
    struct oauth_callback_in in = {req_query(rq, "code"), req_query(rq, "state"),
                                   req_query(rq, "iss"), req_query(rq, "error"),
                                   req_query(rq, "error_description")};
    enum err e = conn_oauth_callback(rq->st, rq->app->vault, rq->ob, req_param(rq, "provider"), &in,
                                     rq->who.user_id, on_callback, rq, &rs->ei);

    if (e == ERR_OK) {
        req_suspend(rq);
        return ERR_OK;
    }
    page(rs, err_http_status(e), "Connection failed", rs->ei.msg);
    return ERR_OK;
}
