/*
 * api: the HTTP resources, one file per resource, thin handlers only: parse,
 * call one service function, render. No SQL, curl or crypto here.
 */
#ifndef CONNHUB_API_H
#define CONNHUB_API_H

#include "http/http.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* The call engine's environment for this request's worker (actions.c; the
 * calls and runs handlers share it). */
struct call_env;
void api_call_env(struct req *rq, struct call_env *env);

/* health.c */
enum err h_healthz(struct req *rq, struct resp *rs);
enum err h_metrics(struct req *rq, struct resp *rs);
enum err h_me(struct req *rq, struct resp *rs);
/* connections.c */
enum err h_conn_create(struct req *rq, struct resp *rs);
enum err h_conn_list(struct req *rq, struct resp *rs);
enum err h_conn_get(struct req *rq, struct resp *rs);
enum err h_conn_update(struct req *rq, struct resp *rs);
enum err h_conn_delete(struct req *rq, struct resp *rs);
enum err h_conn_refresh_tools(struct req *rq, struct resp *rs);
enum err h_mcp_discover(struct req *rq, struct resp *rs);

/* actions.c */
enum err h_action_call(struct req *rq, struct resp *rs);
enum err h_conn_test(struct req *rq, struct resp *rs);
enum err h_tools(struct req *rq, struct resp *rs);

/* services.c */
enum err h_svc_list(struct req *rq, struct resp *rs);
enum err h_svc_admin_list(struct req *rq, struct resp *rs);
enum err h_svc_admin_put(struct req *rq, struct resp *rs);
enum err h_svc_admin_delete(struct req *rq, struct resp *rs);
enum err h_svc_ws_put(struct req *rq, struct resp *rs);
enum err h_svc_ws_delete(struct req *rq, struct resp *rs);
/* oauth.c */
enum err h_oauth_providers(struct req *rq, struct resp *rs);
enum err h_oauth_provider_put(struct req *rq, struct resp *rs);
enum err h_oauth_provider_delete(struct req *rq, struct resp *rs);
enum err h_oauth_start(struct req *rq, struct resp *rs);
enum err h_oauth_callback(struct req *rq, struct resp *rs);
/* accounts.c */
enum err h_me_accounts(struct req *rq, struct resp *rs);
enum err h_me_account_put(struct req *rq, struct resp *rs);
enum err h_me_account_delete(struct req *rq, struct resp *rs);
enum err h_part_cred_put(struct req *rq, struct resp *rs);
enum err h_part_cred_list(struct req *rq, struct resp *rs);
enum err h_part_cred_delete(struct req *rq, struct resp *rs);
enum err h_part_invite(struct req *rq, struct resp *rs);
enum err h_onboarding_info(struct req *rq, struct resp *rs);
enum err h_onboarding_redeem(struct req *rq, struct resp *rs);
/* runs.c */
enum err h_run_create(struct req *rq, struct resp *rs);
enum err h_run_get(struct req *rq, struct resp *rs);
/* agents.c */
enum err h_agent_resolve(struct req *rq, struct resp *rs);
enum err h_agent_call(struct req *rq, struct resp *rs);
/* openapi.c */
enum err h_openapi_preview(struct req *rq, struct resp *rs);
/* session.c */
enum err h_session_create(struct req *rq, struct resp *rs);
enum err h_session_get(struct req *rq, struct resp *rs);
enum err h_session_delete(struct req *rq, struct resp *rs);
/* web.c */
enum err h_web_index(struct req *rq, struct resp *rs);
enum err h_web_file(struct req *rq, struct resp *rs);

#endif
