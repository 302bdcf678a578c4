/*
 * outbound: every HTTP request connhub sends to the outside world goes through
 * here (action calls, connection tests, OpenAPI fetches, MCP, OAuth token
 * endpoints). It sends exactly what it is given; it knows nothing about
 * connections or credentials beyond which headers and query keys are marked
 * `credential` (dropped on a cross-origin redirect).
 *
 * Guarantees, each with its own named limit (core/limits.h, struct out_limits):
 *  - SSRF guard on the resolved address at connect time (libcurl's
 *    open-socket hook) for every connection, every redirect hop included; a
 *    refusal is reported as OUT_FAIL_BLOCKED, not as a connect error;
 *  - only http and https; no proxy from the environment; no netrc;
 *  - redirects followed by hand (at most limits.max_redirects), each hop's URL
 *    validated again; on an origin change every credential header, cookie and
 *    query key is dropped, and a 307/308 body is not replayed cross-origin;
 *  - connect, total and idle (no bytes) timeouts; response size counted on the
 *    decoded bytes in the write callback (stops gzip bombs); header bytes capped.
 *
 * Concurrency: one struct outbound per event loop (one CURLM, one connection
 * pool). outbound_send() never blocks; done() runs later on the loop's thread,
 * exactly once, never from inside outbound_send().
 */
#ifndef CONNHUB_OUTBOUND_H
#define CONNHUB_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "outbound/ssrf.h"

struct out_limits {
    uint32_t connect_timeout_ms; /* OUT_CONNECT_TIMEOUT_MS */
    uint32_t total_timeout_ms;   /* OUT_TOTAL_TIMEOUT_MS */
    uint32_t idle_timeout_ms;    /* OUT_IDLE_TIMEOUT_MS: no bytes received for this long */
    size_t max_response;         /* OUT_MAX_RESPONSE: decoded body bytes */
    int max_redirects;           /* OUT_MAX_REDIRECTS; 0 = do not follow (3xx returned) */
};

void out_limits_default(struct out_limits *l);

struct out_header {
    char *name;
    char *value;     /* wiped on release when credential */
    bool credential; /* dropped on a cross-origin redirect */
};

struct out_response;

/* Streaming (added for MCP/SSE): receives decoded body bytes of the final
 * response as they arrive, instead of res.body. res is the response so far
 * (status and headers of the final hop are set; body stays empty); data is
 * NOT NUL-terminated. Return ERR_OK to go on; anything else stops the
 * transfer: done() then runs with OUT_FAIL_CANCELLED and the error
 * "stopped by the receiver". Runs inside a libcurl callback: it must not call
 * outbound_send(), outbound_cancel() or outbound_free() (defer that work to a
 * loop timer). */
typedef enum err (*out_chunk_cb)(void *arg, const struct out_response *res, const char *data,
                                 size_t len);

struct out_request {
    char method[8]; /* "GET", "POST", ... */
    char *url;      /* absolute; already templated and percent-encoded */
    struct out_header *headers;
    size_t nheaders, aheaders;
    char **cred_query; /* query keys that carry a credential */
    size_t ncred_query;
    struct buf body; /* may be empty */
    bool cred_body;  /* the body carries a credential (a token request's form) */
    struct out_limits limits;
    /* Streaming (optional): when on_chunk is set, the body of the final
     * response (not of a redirect that is followed) goes to on_chunk(chunk_arg,
     * ...) as it arrives and is not buffered. Every streamed byte still counts
     * against limits.max_response (the total of an endless stream is bounded
     * by it and by total_timeout_ms); idle_timeout_ms still applies. */
    out_chunk_cb on_chunk;
    void *chunk_arg;
#ifdef CONNHUB_TEST
    /* Added (tests only): libcurl CURLOPT_RESOLVE entries "host:port:addr",
     * NULL-terminated, borrowed (must outlive the transfer). Lets tests prove
     * that a DNS name resolving to a denied address is refused. */
    const char *test_resolve[4];
#endif
};

/* Added: cap of a request body (buf_init in out_request_init). */
#define OUT_MAX_REQUEST_BODY ((size_t)10 * 1024 * 1024)

/* Initialises rq (method, url copied) with default limits. */
enum err out_request_init(struct out_request *rq, const char *method, const char *url,
                          struct errinfo *ei) WARN_UNUSED;
/* Adds a header. Refuses (ERR_INVALID, field names the header) a name that is
 * not an RFC 9110 token or a value with CR, LF or NUL. */
enum err out_request_add_header(struct out_request *rq, const char *name, const char *value,
                                bool credential, struct errinfo *ei) WARN_UNUSED;
/* Appends key=value to the URL's query, both percent-encoded. */
enum err out_request_add_query(struct out_request *rq, const char *key, const char *value,
                               bool credential, struct errinfo *ei) WARN_UNUSED;
/* Frees everything; credential header values and the body are wiped. */
void out_request_release(struct out_request *rq);

/* Added: the checks out_request_add_header() applies. out_is_token: an RFC
 * 9110 token of 1..max bytes. out_is_header_value: no CR, LF, NUL or other
 * control byte except HTAB. */
bool out_is_token(const char *s, size_t max);
bool out_is_header_value(const char *s);
/* Added: frees one header's strings, wiping a credential value. */
void out_header_release(struct out_header *h);

enum out_fail {
    OUT_OK = 0,
    OUT_FAIL_URL,     /* the URL (or a redirect's Location) is not acceptable */
    OUT_FAIL_BLOCKED, /* SSRF guard refused the address */
    OUT_FAIL_RESOLVE, /* DNS */
    OUT_FAIL_CONNECT,
    OUT_FAIL_TLS,
    OUT_FAIL_TIMEOUT,   /* connect, total or idle: error says which */
    OUT_FAIL_TOO_LARGE, /* response body or headers over the limit */
    OUT_FAIL_REDIRECTS, /* more than max_redirects hops */
    OUT_FAIL_PROTOCOL,  /* malformed response */
    OUT_FAIL_CANCELLED,
    OUT_FAIL_INTERNAL,
};
const char *out_fail_name(enum out_fail f); /* "blocked", "timeout", ... */

struct out_response {
    enum out_fail fail; /* OUT_OK when an HTTP answer (any status) arrived */
    char error[256];    /* for humans; never contains credentials or URL queries */
    long status;
    struct out_header *headers; /* of the final hop; names lower-cased */
    size_t nheaders;
    struct buf body;    /* decoded */
    char *content_type; /* or NULL */
    int redirects;
    int64_t duration_ms;
};
void out_response_release(struct out_response *res);
const char *out_response_header(const struct out_response *res, const char *name_lc);

struct outbound;
struct blk_pool;
struct out_handle;
/* res is borrowed: the callback may move its contents out (`*mine = *res;
 * memset(res, 0, sizeof(*res));`); whatever is left is released after done()
 * returns. done() must not call outbound_free(). */
typedef void (*out_done_cb)(struct out_response *res, void *arg);

/* Added: upstream TLS also trusts the CA certificates in the PEM file at path
 * (CURLOPT_CAINFO; the system's stay trusted through curl's CA path). For
 * every outbound client made after it; call once at start, before any thread.
 * ERR_INVALID (field "out-ca-file") when the file cannot be read or holds no
 * certificate. */
enum err outbound_set_ca_file(const char *path, struct errinfo *ei) WARN_UNUSED;

enum err outbound_new(struct loop *lp, const struct ssrf_policy *pol,
                      struct outbound **out) WARN_UNUSED;
/* Added: the loop ob runs on (for callers that arm their own timers). */
struct loop *outbound_loop(const struct outbound *ob);
/* A block pool on this client's thread for a caller's per-call state (the
 * engine's call contexts); drained by outbound_free. NULL for NULL. */
struct blk_pool *outbound_call_pool(struct outbound *ob);
/* Cancels every transfer in flight (their done() runs with OUT_FAIL_CANCELLED). */
void outbound_free(struct outbound *ob);

/* Starts rq, taking ownership of it (released when done). handle (may be NULL)
 * lets the caller cancel; it is valid until done() runs.
 * Every problem with the request itself (bad URL, ...) is reported through
 * done() (OUT_FAIL_URL, ...), never synchronously. A return other than ERR_OK
 * (out of memory, curl could not be set up) means done() will NOT run; rq has
 * been released all the same. */
enum err outbound_send(struct outbound *ob, struct out_request *rq, out_done_cb done, void *arg,
                       struct out_handle **handle) WARN_UNUSED;
/* done() runs later, from the loop, with OUT_FAIL_CANCELLED (never from inside
 * outbound_cancel). h must not be used after done() ran. */
void outbound_cancel(struct out_handle *h);

/* Blocking form for the CLI and tests: runs a private loop until done. */
enum err outbound_fetch(const struct ssrf_policy *pol, struct out_request *rq,
                        struct out_response *res) WARN_UNUSED;

#endif
