/*
 * template: connhub operation path templates, checked when an operation is
 * saved and rendered when it is called.
 *
 *   "/repos/{{owner}}/{{repo}}/issues?state={{state}}&per_page=30"
 *
 * A placeholder is {{name}}, name [A-Za-z_][A-Za-z0-9_]{0,63}. The part before
 * the one '?' is the path, the rest the query. Rendering encodes every value
 * byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~), so a value can
 * never change the host, add a path segment, a query key or a fragment
 * (SSRF-168). The template's literal text is the operator's and is kept as
 * written (it was checked by tmpl_check()).
 *
 * Errors are ERR_INVALID (code "invalid_field" for templates, "invalid_input"
 * for values, the field naming the culprit), ERR_TOO_LARGE when out's cap is
 * reached, ERR_NOMEM. Messages name fields, never values.
 */
#ifndef CONNHUB_ENGINE_TEMPLATE_H
#define CONNHUB_ENGINE_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define TMPL_MAX_NAME 64 /* placeholder name length */

/* Checks a path template at save time: starts with '/'; at most MAX_OP_PATH_LEN
 * bytes; printable ASCII only (no space, CR/LF or other control byte, no
 * byte >= 0x80, no '#'); at most one '?'; a literal '%' starts a %XX escape;
 * every '{' and '}' belongs to a well-formed {{name}}. On error ei->field is
 * `field` and the message says what and where (byte offset).
 * names (borrowed, may be NULL): for each distinct (name, part) an object
 * {"name": "owner", "in": "path"|"query"} is appended. */
enum err tmpl_check(const char *tmpl, const char *field, json_t *names,
                    struct errinfo *ei) WARN_UNUSED;

/* Appends tmpl rendered with the values of input (borrowed; a JSON object, or
 * NULL for none) to out. A path placeholder becomes part of one path segment:
 * the value "", "." or ".." is refused, and so is any segment that would read
 * "." or ".." once rendered. A query placeholder is encoded as a query value.
 * Strings are used as is (a NUL byte is refused), numbers and booleans as
 * their JSON text; null, objects and arrays are refused. A missing key is
 * ERR_INVALID, field "input.<name>", "missing required input".
 * used (borrowed, may be NULL): each key used is set to true in this object.
 * On failure out is left as it was on entry. */
enum err tmpl_render(const char *tmpl, const json_t *input, struct buf *out, json_t *used,
                     struct errinfo *ei) WARN_UNUSED;

/* Percent-encodes n bytes of s onto out with upper-case hex. Both modes keep
 * only the unreserved bytes; PCT_QUERY thus writes a space as %20 (never '+')
 * and encodes '&', '=', '+', '#'. The two modes exist so that the call sites
 * say what they build. */
enum pct_mode { PCT_SEGMENT, PCT_QUERY };
enum err pct_encode(struct buf *out, const char *s, size_t n, enum pct_mode mode) WARN_UNUSED;

#endif
