/* Personal accounts (/api/me/accounts) and participant credentials
 * (/api/participants/{id}/credentials). Credential values in a request body
 * are wiped once handled; answers list which fields are set, never values. */
#include "api/api.h"
#include "conn/accounts.h"
#include "core/banned.h"

static void
wipe_body(struct req *rq)
{
    json_wipe_strings(json_object_get(rq->json, "credentials"));
}

enum err
h_me_accounts(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = acct_list(rq->st, &rq->who, &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_me_account_put(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = acct_put_key(rq->st, rq->app->vault, &rq->who, req_param(rq, "connection"), rq->json,
                         &out, &rs->ei);
    if (rq->json)
        wipe_body(rq);
    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_me_account_delete(struct req *rq, struct resp *rs)
{
    enum err e =
        acct_delete(rq->st, rq->app->vault, rq->ob, &rq->who, req_param(rq, "connection"), &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200,
                  json_pack("{s:b, s:s}", "deleted", 1, "connection", req_param(rq, "connection")));
    return e;
}

enum err
h_part_cred_put(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = part_put(rq->st, rq->app->vault, &rq->who, req_param(rq, "id"), rq->json, &out,
                     &rs->ei);
    if (rq->json)
        wipe_body(rq);
    if (e == ERR_OK)
        resp_json(rs, 201, out);
    return e;
}

enum err
h_part_cred_list(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = part_list(rq->st, &rq->who, req_param(rq, "id"), &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_part_cred_delete(struct req *rq, struct resp *rs)
{
    enum err e =
        part_delete(rq->st, &rq->who, req_param(rq, "id"), req_param(rq, "connection"), &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200,
                  json_pack("{s:b, s:s}", "deleted", 1, "connection", req_param(rq, "connection")));
    return e;
}

enum err
h_part_invite(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = part_invite(rq->st, rq->app->app_url, &rq->who, req_param(rq, "id"), rq->json, &out,
                        &rs->ei);
    if (e == ERR_OK)
        resp_json(rs, 201, out);
    return e;
}

/* Public: the link's token is the authority (single use, expiring). */
enum err
h_onboarding_info(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = part_invite_info(rq->st, req_query(rq, "token"), &out, &rs->ei);

    if (e == ERR_OK)
        resp_json(rs, 200, out);
    return e;
}

enum err
h_onboarding_redeem(struct req *rq, struct resp *rs)
{
    json_t *out = NULL;
    enum err e = req_json_object(rq, &rs->ei);

    if (e == ERR_OK)
        e = part_invite_redeem(rq->st, rq->app->vault, req_query(rq, "token"), rq->json, &out,
                               &rs->ei);
    if (rq->json)
        wipe_body(rq);
    if (e == ERR_OK)
        resp_json(rs, 201, out);
    return e;
}
