/*
 * log: structured JSON lines on stderr, one event per line:
 *   {"ts":"2026-11-22T10:00:00.123Z","level":"info","event":"http.request","status":200}
 *
 * Fields are typed by a one-letter prefix on the key, and the list ends with
 * NULL:  log_kv(LOG_INFO, "server.listening", "s:addr", addr, "i:workers", n, NULL);
 *   s: const char *   i: int   I: long long   f: double   b: int as true/false
 * Never pass a credential, a token or a URL with its query: the logger cannot
 * tell them apart. Use log_redact_url() for URLs. A line is written with one
 * write(2), so lines from threads never interleave.
 *
 * A server's worker thread batches its lines (log_batch): they collect in a
 * per-thread buffer of LOG_BATCH_BYTES and go out with one write(2) when the
 * next would not fit, at a warning or an error, or at log_flush(), which the
 * worker's loop calls after each turn (before it waits again): a line is
 * never held while the thread sleeps, and a busy worker writes its access
 * log once per turn instead of once per request. The batch is at most
 * PIPE_BUF, so batches from threads never interleave on a pipe either.
 */
#ifndef CONNHUB_CORE_LOG_H
#define CONNHUB_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
bool log_enabled(enum log_level lvl);
bool log_parse_level(const char *s, enum log_level *out);
void log_set_fd(int fd); /* default 2 (stderr); tests redirect */

/* One batch's bytes: PIPE_BUF on Linux (a write of at most this many bytes
 * to a pipe is atomic), and LOG_LINE_MAX, the longest line. */
#define LOG_BATCH_BYTES 4096

/* Batches the calling thread's lines (on) or writes each at once (off, the
 * default); either way what is batched is written first. */
void log_batch(bool on);
/* Writes the calling thread's batched lines, if any. */
void log_flush(void);

void log_kv(enum log_level lvl, const char *event, ...) __attribute__((sentinel));
/* The end of a log_kv field list: a typed null pointer (a bare NULL may be an
 * int 0 in varargs). */
#define LOG_END ((const char *)NULL)

/* Copies url into out without userinfo, query or fragment:
 * "https://u:p@h/x?key=1#f" -> "https://h/x". Always NUL-terminates. */
void log_redact_url(const char *url, char *out, size_t outlen);

#endif
