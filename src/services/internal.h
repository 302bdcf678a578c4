/*
 * services/internal: helpers shared by the request builders of src/services/
 * (not for other modules).
 *
 * Input helpers read one member of a tool's input object and fail with
 * ERR_INVALID, code "invalid_input", field "input.<key>" (the shape
 * engine/schema.h uses), never echoing the value. Request helpers join a base
 * URL and a path, and put a JSON body on an out_request.
 */
#ifndef CONNHUB_SERVICES_INTERNAL_H
#define CONNHUB_SERVICES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/secret.h"
#include "outbound/outbound.h"

/* base64url without padding (RFC 4648 section 5), appended to out. */
enum err svc_b64url_append(struct buf *out, const unsigned char *p, size_t n) WARN_UNUSED;
/* Decodes unpadded (or padded) base64url into out (needs 3*(n/4)+3 bytes).
 * Returns the decoded length, or -1 on a byte outside the alphabet. */
long svc_b64url_decode(const char *s, size_t n, unsigned char *out);

/* input must be an object (NULL counts as {}). */
enum err svc_input_object(const json_t *input, struct errinfo *ei) WARN_UNUSED;

/* A string member: *out borrowed from input, NULL when absent and optional.
 * Refuses a non-string, an empty string when required, more than max bytes
 * and (when no_ctl) any control byte. */
enum err svc_input_str(const json_t *input, const char *key, bool required, size_t max, bool no_ctl,
                       const char **out, struct errinfo *ei) WARN_UNUSED;

/* An integer member in [min, max]; *present false (and *out untouched) when
 * absent. */
enum err svc_input_int(const json_t *input, const char *key, int64_t min, int64_t max,
                       bool *present, int64_t *out, struct errinfo *ei) WARN_UNUSED;

/* A boolean member; *present false when absent. */
enum err svc_input_bool(const json_t *input, const char *key, bool *present, bool *out,
                        struct errinfo *ei) WARN_UNUSED;

/* ERR_INVALID "input.<key> is not a known property" (key shortened and
 * replaced by "?" when not printable). */
enum err svc_input_unknown(const char *key, struct errinfo *ei) WARN_UNUSED;

/* Refuses members of input not named in allowed (NULL-terminated). */
enum err svc_input_only(const json_t *input, const char *const *allowed,
                        struct errinfo *ei) WARN_UNUSED;

/* out_request_init(rq, method, base + path). base has no trailing '/', path
 * starts with '/'. On error rq is released. */
enum err svc_request_init(struct out_request *rq, const char *method, const char *base,
                          const char *path, struct errinfo *ei) WARN_UNUSED;

/* Serialises body (borrowed) into rq->body and adds
 * Content-Type: application/json. */
enum err svc_json_body(struct out_request *rq, const json_t *body, struct errinfo *ei) WARN_UNUSED;

/* A key usable as a header value: 1..MAX_SECRET_LEN bytes, printable ASCII,
 * no leading/trailing space. The message names `what`, never the value. */
enum err svc_check_header_key(const struct secret *key, const char *what,
                              struct errinfo *ei) WARN_UNUSED;

/* Overwrites a jansson string's bytes in place (for credentials that passed
 * through a parse). v may be NULL or a non-string. */
void svc_json_string_wipe(json_t *v);

#endif
