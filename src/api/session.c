/* /api/session: signing in and out of the web UI (session/session.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "session/session.h"
#include "core/banned.h"

static const char *
str_field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
session_view(const struct req *rq, const char *cookie)
{
    char csrf[SESSION_CSRF_LEN + 1];
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "user", rq->who.user_name, "workspace",
        rq->who.workspace_slug, "role", role_name(rq->who.role), "platform_admin",
        rq->who.platform_admin, "auth", cookie ? "session" : "token", "idle_timeout_s",
        (json_int_t)rq->app->session.idle_s, "max_age_s", (json_int_t)rq->app->session.max_age_s);

    json_object_set_new(j, "app_url",
                        rq->app->app_url ? json_string(rq->app->app_url) : json_null());
    if (cookie) {
        session_csrf_token(cookie, csrf);
        json_object_set_new(j, "csrf_token", json_string(csrf));
        OPENSSL_cleanse(csrf, sizeof(csrf));
    } else {
        json_object_set_new(j, "csrf_token", json_null());
    }
    return j;
}

/* POST /api/session {username, password, workspace?} (public). */
enum err
h_session_create(struct req *rq, struct resp *rs)
{
    char cookie[SESSION_COOKIE_LEN + 1];
    const char *origin = req_header(rq, "Origin");
    const char *user, *pw, *ws;
    enum err e;

    /* Login CSRF: a browser always sends Origin on a POST; another site's is refused. */
    if (origin && !session_origin_ok(origin, rq->app->app_url, req_header(rq, "Host")))
        return err_set(&rs->ei, ERR_FORBIDDEN, "origin_mismatch", "Origin",
                       "sign in from this server's own pages");
    e = req_json_object(rq, &rs->ei);
    if (e != ERR_OK)
        return e;
    user = str_field(rq->json, "username");
    pw = str_field(rq->json, "password");
    ws = str_field(rq->json, "workspace");
    if (user == NULL || pw == NULL)
        return err_set(&rs->ei, ERR_INVALID, "missing_field", user ? "password" : "username",
                       "send username and password as strings");
    if (json_object_get(rq->json, "workspace") &&
        !json_is_null(json_object_get(rq->json, "workspace")) && ws == NULL)
        return err_set(&rs->ei, ERR_INVALID, "invalid_field", "workspace", "must be a string");
    e = session_login(rq->st, &rq->app->session, user, pw, ws, cookie, &rq->who, &rs->ei);
    /* The password is no longer needed: drop it from the parsed body. */
    json_object_del(rq->json, "password");
    if (e != ERR_OK)
        return e;
    session_set_cookie(rs->set_cookie, sizeof(rs->set_cookie), cookie, rq->app->secure_cookies,
                       rq->app->session.max_age_s);
    e = resp_json(rs, 201, session_view(rq, cookie));
    OPENSSL_cleanse(cookie, sizeof(cookie));
    return e;
}

/* GET /api/session: who is signed in, and the CSRF token for state-changing requests. */
enum err
h_session_get(struct req *rq, struct resp *rs)
{
    return resp_json(rs, 200, session_view(rq, rq->via_session ? rq->session_cookie : NULL));
}

/* DELETE /api/session: signs out (the cookie's session is deleted and the cookie cleared). */
enum err
h_session_delete(struct req *rq, struct resp *rs)
{
    enum err e;

    if (!rq->via_session)
        return err_set(&rs->ei, ERR_INVALID, "not_a_session", "Authorization",
                       "this request was made with an API token, not a session");
    e = session_logout(rq->st, rq->session_cookie, &rs->ei);
    if (e != ERR_OK)
        return e;
    session_set_cookie(rs->set_cookie, sizeof(rs->set_cookie), NULL, rq->app->secure_cookies, 0);
    return resp_json(rs, 200, json_pack("{s:b}", "signed_out", 1));
}
