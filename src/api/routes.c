#include "api/api.h"
#include "core/util.h"
#include "core/banned.h"

const struct route api_routes[] = {
    {"GET", "/healthz", h_healthz, ROLE_NONE, ROUTE_PUBLIC},
    {"GET", "/metrics", h_metrics, ROLE_NONE, ROUTE_PUBLIC},
    {"GET", "/api/me", h_me, ROLE_MEMBER, 0},
    {"POST", "/api/connections", h_conn_create, ROLE_MEMBER, ROUTE_BIG_BODY},
    {"GET", "/api/connections", h_conn_list, ROLE_MEMBER, 0},
    {"GET", "/api/connections/{id}", h_conn_get, ROLE_MEMBER, 0},
    {"PATCH", "/api/connections/{id}", h_conn_update, ROLE_MEMBER, ROUTE_BIG_BODY},
    {"DELETE", "/api/connections/{id}", h_conn_delete, ROLE_MEMBER, 0},
    {"POST", "/api/connections/{id}/test", h_conn_test, ROLE_MEMBER, 0},
    {"POST", "/api/connections/{id}/refresh-tools", h_conn_refresh_tools, ROLE_MEMBER, 0},
    {"POST", "/api/mcp/discover", h_mcp_discover, ROLE_MEMBER, 0},
    {"POST", "/api/actions/call", h_action_call, ROLE_MEMBER, 0},
    {"GET", "/api/tools", h_tools, ROLE_MEMBER, 0},
    {"GET", "/api/admin/service-credentials", h_svc_admin_list, ROLE_MEMBER, 0},
    {"PUT", "/api/admin/service-credentials/{service}", h_svc_admin_put, ROLE_MEMBER, 0},
    {"DELETE", "/api/admin/service-credentials/{service}", h_svc_admin_delete, ROLE_MEMBER, 0},
    {"GET", "/api/workspace/service-credentials", h_svc_list, ROLE_ADMIN, 0},
    {"PUT", "/api/workspace/service-credentials/{service}", h_svc_ws_put, ROLE_ADMIN, 0},
    {"DELETE", "/api/workspace/service-credentials/{service}", h_svc_ws_delete, ROLE_ADMIN, 0},
    {"GET", "/api/admin/oauth-providers", h_oauth_providers, ROLE_MEMBER, 0},
    {"PUT", "/api/admin/oauth-providers/{provider}", h_oauth_provider_put, ROLE_MEMBER, 0},
    {"DELETE", "/api/admin/oauth-providers/{provider}", h_oauth_provider_delete, ROLE_MEMBER, 0},
    {"GET", "/api/auth/connect/{provider}/start", h_oauth_start, ROLE_MEMBER, 0},
    {"GET", "/api/auth/connect/{provider}/callback", h_oauth_callback, ROLE_NONE, ROUTE_PUBLIC},
    {"POST", "/api/openapi/preview", h_openapi_preview, ROLE_MEMBER, ROUTE_BIG_BODY},
    {"POST", "/api/session", h_session_create, ROLE_NONE, ROUTE_PUBLIC},
    {"GET", "/api/session", h_session_get, ROLE_MEMBER, 0},
    {"DELETE", "/api/session", h_session_delete, ROLE_MEMBER, 0},
    {"GET", "/", h_web_index, ROLE_NONE, ROUTE_PUBLIC},
    {"GET", "/ui/{file}", h_web_file, ROLE_NONE, ROUTE_PUBLIC},
};

const size_t api_nroutes = ARRAY_LEN(api_routes);
