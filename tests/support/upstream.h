/*
 * upstream: a scriptable loopback HTTP server for tests (libmicrohttpd, one
 * thread per connection), and a canary listener that only counts connections.
 *
 * upstream_start("127.0.0.2") binds that address on a kernel-chosen port.
 * Behaviour is chosen by the request path (arguments in the query):
 *   /echo                   200 text/plain: "METHOD /path\n", "arg: k=v\n" per query
 *                           argument, "hdr: name: value\n" per header, "\n", body
 *   /status?code=N          status N, body "status N"
 *   /redirect?to=URL&code=N Location: URL with status N (default 302)
 *   /chain?n=N              302 to /chain?n=N-1 (relative); n=0 answers 200 "end"
 *   /big?n=BYTES            200 with BYTES bytes of 'x', chunked (no Content-Length)
 *   /endless                200, chunked, never ends
 *   /slow?ms=N              sends nothing for N ms, then 200 "late"
 *   /stall                  200 headers and 5 bytes, then silence until stopped
 *   /trickle?ms=N&n=K       K bytes, one every N ms
 *   /gzip-bomb?mb=M         Content-Encoding: gzip of M MiB of zeros (made with gzip(1))
 *   /headers?n=N&len=L      N extra headers "x-h<i>" with L-byte values
 * Anything else answers 404.
 */
#ifndef CONNHUB_TESTS_UPSTREAM_H
#define CONNHUB_TESTS_UPSTREAM_H

struct upstream;

/* NULL when the address cannot be bound. */
struct upstream *upstream_start(const char *addr);
int upstream_port(const struct upstream *u);
unsigned upstream_hits(const struct upstream *u);        /* requests received */
unsigned upstream_connections(const struct upstream *u); /* TCP connections accepted */
void upstream_stop(struct upstream *u);                  /* NULL is fine */

/* A listening socket on addr:0 that never answers; canary_hits() accepts and
 * counts every connection that reached it so far. */
struct canary;
struct canary *canary_start(const char *addr);
/* The same on addr:port (0: kernel-chosen), e.g. the port of an upstream on
 * another loopback address, so that one name:port can resolve to either. */
struct canary *canary_start_at(const char *addr, int port);
int canary_port(const struct canary *c);
unsigned canary_hits(struct canary *c);
void canary_stop(struct canary *c);

#endif
