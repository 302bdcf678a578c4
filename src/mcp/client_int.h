/*
 * client internals shared by client.c (operations, state machine, results,
 * session cache) and wire.c (the HTTP exchanges: Streamable HTTP POSTs, the
 * legacy SSE GET stream, message dispatch). Not for use outside src/mcp/.
 *
 * Re-entrancy rule: outbound's on_chunk runs inside libcurl, where no
 * transfer may be started or cancelled. Chunk handlers therefore only parse
 * and record (op->have_resp, op->failed, the outbox of replies, ...) and arm
 * op->kick; op_step() does all the sending, from a loop timer or from an
 * outbound done() callback (both outside libcurl).
 *
 * Lifetime: every struct post / struct stream is freed only by its own
 * done() callback; when the operation ends first it sets their `op` to NULL
 * and cancels them.
 */
#ifndef CONNHUB_MCP_CLIENT_INT_H
#define CONNHUB_MCP_CLIENT_INT_H

#include "core/loop.h"
#include "mcp/client.h"
#include "mcp/protocol.h"
#include "mcp/sse.h"

#define MCP_ERROR_BODY 2048 /* bytes of a non-2xx body kept for the error message */
#define MCP_FP_LEN 32       /* SHA-256 fingerprint of URL + headers */

/* A session with one server: cached between calls (Streamable HTTP). */
struct mcp_conn {
    enum mcp_transport transport; /* MCP_AUTO until the first answer decides */
    char *url;
    unsigned char fp[MCP_FP_LEN];
    int64_t last_used; /* mono_ms() */
    struct mcp_session s;
};

/* POST_RESUME: the GET with `Last-Event-ID` that resumes a request's SSE
 * stream which ended before the response (Streamable HTTP resumability). */
enum post_kind { POST_REQUEST, POST_NOTIFY, POST_DELETE, POST_RESUME };

struct mcp_op;

struct post {
    struct mcp_op *op; /* NULL once the operation is gone */
    struct out_handle *h;
    struct post *next;
    enum post_kind kind;
    int64_t id;       /* POST_REQUEST: the JSON-RPC id */
    bool had_session; /* carried Mcp-Session-Id */
    bool init;        /* the initialize request */
    bool legacy;      /* to the legacy endpoint: the answer comes on the GET */
    bool started, ok2xx, is_sse, sp_init;
    struct buf body; /* JSON answer (MCP_MAX_MESSAGE) or error body (MCP_ERROR_BODY) */
    struct sse_parser sp;
};

struct stream {
    struct mcp_op *op;
    struct out_handle *h;
    bool started, ok, sp_init;
    long status;
    struct sse_parser sp;
};

struct outmsg {
    char *body;
    struct outmsg *next;
};

enum op_kind { OP_DISCOVER, OP_CALL };
enum op_phase {
    PH_START,
    PH_CONNECT,
    PH_INIT,
    PH_INITIALIZED,
    PH_LIST,
    PH_CALL,
    PH_CLOSE,
    PH_DONE
};

struct mcp_op {
    enum op_kind kind;
    enum op_phase phase, after_init;
    struct outbound *ob;
    struct loop *lp;
    struct mcp_session_cache *cache;
    char *key;
    struct mcp_conn *conn;
    struct out_header *hdrs; /* copied from the target; wiped at the end */
    size_t nhdrs;
    uint32_t timeout_ms;
    int64_t deadline; /* mono_ms() */
    mcp_json_cb done;
    void *arg;
    struct loop_timer kick, timer;
    struct post *posts;
    struct stream *stream;
    char *endpoint; /* legacy: where messages are POSTed */
    struct outmsg *outbox, **outbox_tail;
    /* the response being waited for */
    int64_t want_id;
    bool have_resp;
    int64_t answered_id; /* the last request whose response arrived (kept even once
                          * consumed: the transfer may end after the step ran) */
    json_t *resp_root;   /* keeps resp's borrowed pointers alive */
    struct jsonrpc_msg resp;
    bool notify_done; /* the initialized / DELETE POST finished */
    /* resumption of the awaited request's SSE stream (Streamable HTTP) */
    char *resume_id;      /* last event id seen on it; NULL when none */
    int64_t resume_retry; /* the server's retry: in ms, -1 if never given */
    unsigned resumes;     /* GETs with Last-Event-ID sent for this request */
    struct loop_timer resume_timer;
    bool expired, fallback, fell_back, reinit_done;
    bool failed;
    enum err fe;
    struct errinfo fei;
    unsigned bad, server_reqs;
    struct errinfo bad_ei; /* why the last unusable message was refused */
    /* OP_CALL */
    char *tool;
    json_t *args;
    json_t *result;        /* the finished call's result, until done() takes it */
    json_t *progress_last; /* params of the last notifications/progress for our token */
    uint64_t progress_n;   /* notifications/progress received for our token */
    bool tools_changed;    /* notifications/tools/list_changed during the call */
    bool inited_here;      /* this operation initialized its session */
    /* OP_DISCOVER */
    struct mcp_tool_list tl;
    json_t *warnings;
};

/* client.c */
void op_kick(struct mcp_op *op);
void op_step(struct mcp_op *op);
void op_fail(struct mcp_op *op, enum err e, const char *code, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
int64_t op_remaining(const struct mcp_op *op);

/* wire.c */
enum err post_start(struct mcp_op *op, enum post_kind kind, struct buf *body, int64_t id,
                    bool init);
/* Fire and forget (replies, notifications/cancelled, DELETE of a dropped
 * session): no callback reaches the operation. */
void post_fire(struct mcp_op *op, const char *method, const char *body, uint32_t timeout_ms,
               bool then_delete);
enum err stream_start(struct mcp_op *op);
void wire_detach(struct mcp_op *op);  /* cancels every post and the stream */
void resume_start(struct mcp_op *op); /* the GET with Last-Event-ID (resume_timer) */
void op_fail_transport(struct mcp_op *op, const struct out_response *res);
/* Exposed for tests: resolves the legacy endpoint against the SSE URL and
 * checks the origin. On ERR_OK *out is malloc'ed. */
enum err mcp_resolve_endpoint(const char *base, const char *ref, char **out,
                              struct errinfo *ei) WARN_UNUSED;

#endif
