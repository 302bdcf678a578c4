/*
 * services/telegram: requests to the Telegram Bot API, for `telegram`
 * connections (their own bot token, sealed as the connection's "auth.token")
 * and for the built-in telegram.send_message (the platform bot).
 *
 * The Bot API puts the token in the URL path:
 *     POST {base}/bot<token>/sendMessage      (JSON body)
 * so the URL itself is a credential. Every builder here:
 *  - checks the token's shape first (digits ':' [A-Za-z0-9_-]), so it can
 *    never add a path segment, a query or a fragment to the URL;
 *  - sets rq->limits.max_redirects = 0: outbound strips credential headers
 *    and query keys on a cross-origin redirect, but not path segments, and
 *    the Bot API does not redirect;
 *  - never writes the token or the URL into ei.
 * Anything that logs or reports a Telegram URL must pass it through
 * telegram_redact_url() (see the note in the module report for where
 * outbound and the engine would).
 */
#ifndef CONNHUB_SERVICES_TELEGRAM_H
#define CONNHUB_SERVICES_TELEGRAM_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "crypto/secret.h"
#include "outbound/outbound.h"
#include "services/tool.h"

#define TELEGRAM_MAX_TOKEN 256    /* a real token is about 46 bytes */
#define TELEGRAM_MAX_TEXT 4096    /* sendMessage text, in characters */
#define TELEGRAM_MAX_CAPTION 1024 /* sendPhoto caption, in characters */
#define TELEGRAM_MAX_POLL_S 25    /* getUpdates timeout: below OUT_TOTAL_TIMEOUT_MS */

/* ERR_UNPROCESSABLE, code "credential_missing" / "credential_invalid",
 * field "token", when token is not "<1..20 digits>:<[A-Za-z0-9_-]+>" of at
 * most TELEGRAM_MAX_TOKEN bytes. */
enum err telegram_token_check(const struct secret *token, struct errinfo *ei) WARN_UNUSED;

/* The builders (see services/tool.h for the contract):
 *   send_message {chat_id, text, parse_mode?, disable_notification?, reply_to_message_id?}
 *   send_photo   {chat_id, photo (http(s) URL or file_id), caption?, parse_mode?,
 *                 disable_notification?}
 *   get_updates  {offset?, limit? (1..100), timeout? (0..TELEGRAM_MAX_POLL_S)}
 * chat_id: an integer, or a string "@channel" or "-100123". */
enum err telegram_build_send_message(const json_t *input, const struct secret *token,
                                     const char *base_url, struct out_request *rq,
                                     struct errinfo *ei) WARN_UNUSED;
enum err telegram_build_send_photo(const json_t *input, const struct secret *token,
                                   const char *base_url, struct out_request *rq,
                                   struct errinfo *ei) WARN_UNUSED;
enum err telegram_build_get_updates(const json_t *input, const struct secret *token,
                                    const char *base_url, struct out_request *rq,
                                    struct errinfo *ei) WARN_UNUSED;

/* POST {base}/bot<token>/getMe with an empty JSON object: the cheap request
 * for a telegram connection's test (not a tool). */
enum err telegram_build_get_me(const struct secret *token, const char *base_url,
                               struct out_request *rq, struct errinfo *ei) WARN_UNUSED;

/* The tools of a telegram connection ("send_message", "send_photo",
 * "get_updates"; listed to agents as "<slug>.send_message"). service is
 * "telegram" (for the default base URL); the key is the connection's token. */
size_t telegram_tool_count(void);
const struct svc_tool *telegram_tool_at(size_t i);
const struct svc_tool *telegram_tool_find(const char *name);

/* Copies url into out with every path segment that starts with "bot"
 * replaced by "bot[REDACTED]":
 *   https://api.telegram.org/bot123:AA-x/sendMessage?x=1
 *   -> https://api.telegram.org/bot[REDACTED]/sendMessage?x=1
 * (also /file/bot<token>/...). Scheme, authority, query and fragment are
 * kept as they are (compose with log_redact_url() to drop query and
 * userinfo). Always NUL-terminates when outlen > 0; a truncated result never
 * holds part of a token. */
void telegram_redact_url(const char *url, char *out, size_t outlen);

#endif
