/*
 * outbound internals shared by client.c (loop glue, lifecycle), hop.c (one
 * HTTP exchange on an easy handle) and redirect.c (following a 3xx by hand).
 * Not for use outside src/outbound/.
 */
#ifndef CONNHUB_OUTBOUND_INTERNAL_H
#define CONNHUB_OUTBOUND_INTERNAL_H

#include <curl/curl.h>

#include "outbound/outbound.h"
#include "core/util.h"

/* Idle easy handles kept for reuse. A handle made anew costs curl_easy_init and
 * curl_easy_cleanup: two sigaction calls and a dozen allocations per call. The pool keeps
 * every handle a finished transfer leaves, so it holds as many as were in flight at once
 * (bounded by the calls a worker admits); every trim period (OB_EASY_TRIM_MS) the handles
 * that stayed idle through the whole period are freed down to OB_EASY_KEEP, so a burst's
 * handles (about 10 KB each) go within two periods. With a fixed cap of 512 instead, 5,000
 * calls in flight paid init + cleanup on nine calls in ten (0.76 sigaction per call). */
#define OB_EASY_KEEP 512
#define OB_EASY_TRIM_MS 10000
#define OB_MAXCONNECTS                                                                             \
    20000 /* CURLMOPT_MAXCONNECTS: keep-alive pool (above the calls a worker holds at once, else   \
             libcurl closes and scans on every completion) */
/* Multi handles per client. libcurl 7.88 walks its whole connection pool in
 * curl_multi_remove_handle() after every transfer that left a keep-alive
 * connection (close_connect_only), so one pool of 5,000 connections costs
 * 5,000 steps per call. Transfers go to the shard with the fewest in flight,
 * so each pool holds about 1/OB_SHARDS of the connections; shards are created
 * on first use (one call at a time only ever uses the first). */
#define OB_SHARDS 32

struct outbound;

/* redirect.c: Authorization, Proxy-Authorization and Cookie carry a
 * credential whatever the caller flagged. */
bool out_is_auth_header(const char *name);

/* One libcurl multi handle (its own connection pool) and its timer. */
struct ob_shard {
    struct outbound *ob;
    CURLM *multi;            /* NULL until first used */
    struct loop_timer timer; /* libcurl's timeout */
    size_t active;           /* transfers in this multi */
};

/* One transfer: the request, its current hop, and the response being built. */
struct out_handle {
    struct outbound *ob;
    struct out_request rq; /* moved in from the caller */
    out_done_cb done;
    void *arg;
    struct ob_shard *sh;        /* the multi handle its hops run in */
    CURL *easy;                 /* set while a hop is configured */
    struct curl_slist *hdrs;    /* wiped on release: may hold credentials */
    struct curl_slist *resolve; /* tests only */
    char *url;                  /* current hop's URL (wiped on release) */
    struct url_info cur;        /* current hop's origin */
    struct out_response res;
    size_t ahdrs;           /* allocated res.headers */
    size_t hdr_bytes;       /* header bytes of this hop */
    int64_t start;          /* mono_ms() */
    int64_t last_rx;        /* mono_ms() of the last byte received or sent */
    curl_off_t last_ul;     /* upload progress seen by on_progress */
    struct loop_timer idle; /* fires after limits.idle_timeout_ms without bytes */
    bool in_multi, queued, blocked, body_too_large, hdr_too_large, crossed;
    bool stopped;                   /* on_chunk asked to stop */
    size_t streamed;                /* bytes handed to on_chunk (counted against max_response) */
    char why[192];                  /* the SSRF refusal, without any URL */
    struct out_handle *prev, *next; /* ob->active */
    struct out_handle *qnext;       /* ob->queue: finished, done() pending */
};

struct outbound {
    struct loop *lp;
    struct ob_shard shard[OB_SHARDS];
    CURLSH *share; /* TLS sessions, for every easy handle of this client */
    struct ssrf_policy pol;
    struct loop_timer defer; /* runs queued completions on the next turn */
    struct out_handle *active;
    struct out_handle *qhead, *qtail;
    CURL **pool;             /* idle easy handles: a stack */
    size_t npool, apool;     /* in it, room */
    size_t pool_low;         /* fewest in it since the trim timer was armed */
    int64_t trim_ms;         /* OB_EASY_TRIM_MS (tests shorten it) */
    struct loop_timer trim;  /* armed while the pool holds more than OB_EASY_KEEP */
    struct blk_pool handles; /* finished out_handles */
    struct blk_pool calls;   /* for the engine's per-call state (outbound_call_pool) */
};

/* client.c */
CURL *ob_easy_get(struct outbound *ob);
/* outbound_set_ca_file's path, or NULL. */
const char *ob_ca_file(void);
/* Keeps an idle handle (hop_detach unset its transfer) for the next transfer, or frees it. */
void ob_easy_put(struct outbound *ob, CURL *easy);
/* The shard for a new transfer (fewest in flight; created on first use), or
 * NULL when libcurl cannot make a multi handle. */
struct ob_shard *ob_shard_pick(struct outbound *ob);
/* Records the failure (first one wins) with a printf message. */
void xfer_fail(struct out_handle *x, enum out_fail f, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Calls done() now and frees x. Only from the loop (never from send/cancel). */
void xfer_complete(struct out_handle *x);

/* hop.c */
/* Sets the options every transfer of a new easy handle shares (the SSRF
 * hooks, protocols, no proxy or netrc, callbacks); false when curl refuses one. */
bool hop_easy_setup(struct outbound *ob, CURL *e);
/* Configures x->easy for x->url and adds it to the multi. */
enum out_fail hop_start(struct out_handle *x);
/* Takes the handle out of the multi and unsets what pointed into x: it keeps
 * hop_easy_setup's options for the next hop or transfer. */
void hop_detach(struct out_handle *x, bool keep_easy);
/* A hop finished with rc: completes x, or starts the next hop. */
void hop_finished(struct out_handle *x, CURLcode rc);
/* "http://host:port" of the current hop: safe for logs and errors. */
void hop_origin(const struct out_handle *x, char *out, size_t outlen);

/* redirect.c */
/* Follows Location from a 3xx: OUT_OK when the next hop started, else the
 * failure (already recorded in x->res). */
enum out_fail redirect_follow(struct out_handle *x, long status, const char *location);
/* Copy of url without the query pairs whose (decoded) key is one of keys. */
char *url_strip_query_keys(const char *url, char *const *keys, size_t nkeys);

#endif
