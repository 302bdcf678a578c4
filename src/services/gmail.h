/*
 * services/gmail: the pure parts of `gmail` connections.
 *
 * (a) Messages and API requests (gmail.c, mime.c)
 *  - gmail_message_build(): an RFC 5322 message with CRLF line ends: From,
 *    To, Cc, Bcc (Gmail delivers to Bcc and strips the header), Reply-To,
 *    Subject (RFC 2047 B-encoded UTF-8 when not plain ASCII, each line of
 *    encoded-words at most 76 characters), Date (RFC 5322, UTC), Message-ID,
 *    MIME-Version, and a text/plain; charset=UTF-8 body in base64 (76-char
 *    lines), or multipart/alternative with a text/html part and a random
 *    boundary. CR, LF or any control byte in an address or the subject is
 *    refused (header injection), and so is an address that is not a plain
 *    addr-spec (dot-atom local part @ a dotted DNS name).
 *  - gmail_message_raw(): the same, base64url without padding, for the
 *    Gmail API's "raw" field.
 *  - request builders with Authorization: Bearer <access token>
 *    (credential-marked):
 *      gmail.send_message  POST {base}/gmail/v1/users/me/messages/send  {"raw"[,"threadId"]}
 *      gmail.list_messages GET  {base}/gmail/v1/users/me/messages?q=&maxResults=&pageToken=
 *      gmail.get_message   GET  {base}/gmail/v1/users/me/messages/{id}?format=
 *    Tier each needs: send_message "send", list/get "read"; a connection
 *    granted "full" may use all (svc_tier_allows).
 *
 * (b) Service accounts (gsa.c): a Google service-account JSON key is parsed
 *  into struct gsa_key (the private key only as an EVP_PKEY, never in a
 *  plain string that outlives the parse), an RS256 JWT is signed with it
 *  (EVP_DigestSign) for a subject user (domain-wide delegation), and the
 *  token request (jwt-bearer grant) is built; its answer is parsed into an
 *  access token (struct secret) and a lifetime.
 *
 * Errors name fields ("input.to[2]", "service_account.private_key"), never
 * values. ERR_INVALID for bad input, ERR_UNPROCESSABLE for a bad stored key,
 * ERR_UPSTREAM for a token endpoint that refused or answered nonsense.
 */
#ifndef CONNHUB_SERVICES_GMAIL_H
#define CONNHUB_SERVICES_GMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/secret.h"
#include "outbound/outbound.h"

#define GMAIL_MAX_RECIPIENTS 100                    /* To + Cc + Bcc */
#define GMAIL_MAX_ADDRESS 254                       /* one addr-spec (RFC 5321 path limit) */
#define GMAIL_MAX_DISPLAY_NAME 256                  /* bytes of UTF-8 */
#define GMAIL_MAX_SUBJECT 900                       /* bytes of UTF-8 */
#define GMAIL_MAX_BODY ((size_t)4 * 1024 * 1024)    /* text + html, bytes */
#define GMAIL_MAX_MESSAGE ((size_t)8 * 1024 * 1024) /* the RFC 5322 message */
#define GMAIL_MAX_LIST 500                          /* maxResults */

/* ---- (a) messages ---- */

struct gmail_message {
    const char *from; /* "a@b.example" or "Display Name <a@b.example>"; required */
    const char *const *to;
    size_t nto;
    const char *const *cc;
    size_t ncc;
    const char *const *bcc;
    size_t nbcc;
    const char *reply_to; /* optional */
    const char *subject;  /* UTF-8; NULL or "" = no Subject header */
    const char *text;     /* UTF-8 plain text body; required (may be "") */
    const char *html;     /* optional: adds a text/html alternative */
};

/* Appends the RFC 5322 message to out (whose cap the caller chose). Needs
 * at least one recipient. ERR_INVALID, field "from", "to[i]", "cc[i]",
 * "bcc[i]", "reply_to", "subject", "text" or "html" (code
 * "header_injection" for CR/LF/control bytes, "invalid_address",
 * "invalid_field"); ERR_TOO_LARGE over a GMAIL_MAX_* limit or out's cap. */
enum err gmail_message_build(const struct gmail_message *m, struct buf *out,
                             struct errinfo *ei) WARN_UNUSED;

/* The message as base64url without padding, appended to out. */
enum err gmail_message_raw(const struct gmail_message *m, struct buf *out,
                           struct errinfo *ei) WARN_UNUSED;

/* A plain addr-spec: dot-atom local part (at most 64 bytes) '@' a DNS name
 * of at least two labels ([A-Za-z0-9-], not starting or ending with '-'),
 * GMAIL_MAX_ADDRESS bytes at most. No quoted local parts, IP literals or
 * non-ASCII (refused, not mangled). */
bool gmail_addr_spec_ok(const char *addr);

/* Appends "Name: value\r\n" for an unstructured header: value as is when it
 * is printable ASCII without "=?" (folded at spaces before 78 columns), else
 * as RFC 2047 encoded-words =?UTF-8?B?...?= of whole characters, each line
 * at most 76 characters, continuation lines starting with one space.
 * ERR_INVALID (code "header_injection") for control bytes, (code
 * "invalid_field") for invalid UTF-8; field is name lower-cased. */
enum err gmail_header_unstructured(struct buf *out, const char *name, const char *value,
                                   struct errinfo *ei) WARN_UNUSED;

#ifdef CONNHUB_TEST
/* Test hook: fixes Date (seconds since the epoch; 0 = now), the Message-ID
 * (without <>; NULL = random) and the multipart boundary (NULL = random). */
void gmail_test_fixed(int64_t date_s, const char *message_id, const char *boundary);
#endif

/* ---- (a) API requests ---- */

/* from: the sender to use when input has no "from" (the service account's
 * subject user, or the OAuth user's address); may be NULL.
 *   send_message {to (string or array), cc?, bcc?, subject?, text, html?, from?,
 *                 reply_to?, thread_id?}
 *   list_messages {query?, max_results? (1..GMAIL_MAX_LIST), page_token?,
 *                  label_ids? (array), include_spam_trash?}
 *   get_message  {id, format? (full|metadata|minimal|raw)}
 * On error rq is released; see services/tool.h for the rest of the contract. */
typedef enum err (*gmail_build_fn)(const json_t *input, const struct secret *access_token,
                                   const char *base_url, const char *from, struct out_request *rq,
                                   struct errinfo *ei);

enum err gmail_build_send_message(const json_t *input, const struct secret *access_token,
                                  const char *base_url, const char *from, struct out_request *rq,
                                  struct errinfo *ei) WARN_UNUSED;
enum err gmail_build_list_messages(const json_t *input, const struct secret *access_token,
                                   const char *base_url, const char *from, struct out_request *rq,
                                   struct errinfo *ei) WARN_UNUSED;
enum err gmail_build_get_message(const json_t *input, const struct secret *access_token,
                                 const char *base_url, const char *from, struct out_request *rq,
                                 struct errinfo *ei) WARN_UNUSED;

struct gmail_tool {
    const char *name; /* "send_message": listed as "<slug>.send_message" */
    const char *description;
    const char *input_schema; /* JSON text */
    const char *tier;         /* "send" or "read" */
    gmail_build_fn build;
};
size_t gmail_tool_count(void);
const struct gmail_tool *gmail_tool_at(size_t i);
const struct gmail_tool *gmail_tool_find(const char *name);

/* The OAuth scope a service-account token needs for a tier: "send" ->
 * gmail.send, "read" -> gmail.readonly, "full" -> https://mail.google.com/.
 * NULL for an unknown tier. */
const char *gmail_scope_for_tier(const char *tier);

/* ---- (b) service accounts ---- */

#define GSA_MAX_KEY_JSON ((size_t)16 * 1024) /* a Google key file is about 2.3 kB */
#define GSA_TOKEN_LIFETIME_S 3600            /* exp = iat + this */
#define GSA_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GSA_MAX_EXPIRES_IN 86400    /* a longer expires_in is clamped */
#define GSA_DEFAULT_EXPIRES_IN 3600 /* when the answer has none */

struct gsa_key {
    char *client_email;   /* the JWT's iss */
    char *private_key_id; /* the JWT header's kid; NULL when the file has none */
    char *token_uri;      /* the JWT's aud and where the token request goes */
    EVP_PKEY *pkey;       /* RSA, at least 2048 bits */
};

/* Parses a service-account key file (the sealed connection credential,
 * opened into a struct secret by the caller). Requires type
 * "service_account", client_email (an address), private_key (PEM RSA,
 * unencrypted); private_key_id optional; token_uri defaults to
 * GSA_DEFAULT_TOKEN_URI and must pass url_validate(). The PEM text is
 * wiped from jansson's copy before it is freed. On ERR_OK the caller
 * calls gsa_key_release(). Errors: ERR_UNPROCESSABLE, code
 * "invalid_service_account", field "service_account.<member>". */
enum err gsa_key_parse(const struct secret *json, struct gsa_key *out,
                       struct errinfo *ei) WARN_UNUSED;
void gsa_key_release(struct gsa_key *k); /* {0} is fine */

/* Signs base64url(header).base64url(claims) with RS256:
 *   header {"alg":"RS256","typ":"JWT","kid":private_key_id}
 *   claims {"iss":client_email,"sub":subject,"scope":scope,"aud":token_uri,
 *           "iat":iat,"exp":iat+GSA_TOKEN_LIFETIME_S}
 * (sub omitted when subject is NULL; kid when the key has none). The JWT
 * goes into *out (caller releases). */
enum err gsa_jwt_sign(const struct gsa_key *k, const char *subject, const char *scope, int64_t iat,
                      struct secret *out, struct errinfo *ei) WARN_UNUSED;

/* POST token_url (NULL = k->token_uri; tests point it at a local upstream,
 * the JWT's aud stays k->token_uri) with Content-Type
 * application/x-www-form-urlencoded, body
 *   grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<jwt>
 * The assertion lives only in rq->body, which out_request_release() wipes and
 * outbound never replays across origins; redirects are off
 * (limits.max_redirects = 0). now_s: seconds since the epoch. */
enum err gsa_token_request(const struct gsa_key *k, const char *subject, const char *scope,
                           int64_t now_s, const char *token_url, struct out_request *rq,
                           struct errinfo *ei) WARN_UNUSED;

/* Parses a token endpoint answer. 2xx: a JSON object with a non-empty
 * access_token (printable ASCII, no spaces), token_type "Bearer" when
 * present (any case), expires_in a positive integer or numeric string
 * (absent: GSA_DEFAULT_EXPIRES_IN; above GSA_MAX_EXPIRES_IN: clamped).
 * Otherwise ERR_UPSTREAM, code "token_exchange_failed", the message naming
 * the status and the answer's "error" code when it is a plain word (never
 * error_description, never the body). jansson's copy of the token is wiped. */
enum err gsa_token_parse(long status, const char *body, size_t len, struct secret *access_token,
                         int64_t *expires_in, struct errinfo *ei) WARN_UNUSED;

#endif
