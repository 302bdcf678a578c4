/*
 * conn_mcp: MCP server connections (discovery on create, refresh-tools,
 * discovery without saving) and the target a tools/call uses. Asynchronous:
 * done() runs later on the calling worker's thread, exactly once, with a new
 * reference (or NULL on error) that the callback must not keep without
 * json_incref. On a synchronous error (returned) done() never runs.
 */
#ifndef CONNHUB_CONN_MCP_H
#define CONNHUB_CONN_MCP_H

#include <jansson.h>

#include "auth/auth.h"
#include "conn/conn.h"
#include "mcp/client.h"

typedef void (*conn_async_cb)(enum err e, json_t *out, const struct errinfo *ei, void *arg);

enum err conn_mcp_create(struct store *st, const struct vault *v, struct outbound *ob,
                         const struct principal *p, const json_t *body,
                         const struct conn_idem *idem, conn_async_cb done, void *arg,
                         struct errinfo *ei) WARN_UNUSED;
enum err conn_mcp_refresh(struct store *st, const struct vault *v, struct outbound *ob,
                          const struct principal *p, const char *id, conn_async_cb done, void *arg,
                          struct errinfo *ei) WARN_UNUSED;
/* POST /api/mcp/discover: {"url", "transport"?, "auth"?, "timeout_ms"?}. */
enum err conn_mcp_discover(struct outbound *ob, const json_t *body, conn_async_cb done, void *arg,
                           struct errinfo *ei) WARN_UNUSED;

/* notifications/tools/list_changed came from the connection's server: marks
 * its stored tool list stale ("tools_stale" in the connection view) until
 * the next refresh-tools. Idempotent; retried on a concurrent update. */
enum err conn_mcp_mark_stale(struct store *st, int64_t ws, const char *id,
                             struct errinfo *ei) WARN_UNUSED;

/* Fills t for url with the credential headers of auth_pub/vals built into
 * hdrs (the caller releases hdrs once the MCP call has started). */
enum err conn_mcp_target(const char *url, const char *transport, json_int_t timeout_ms,
                         const json_t *auth_pub, const struct auth_values *vals,
                         struct out_request *hdrs, struct mcp_target *t,
                         struct errinfo *ei) WARN_UNUSED;

#endif
