/* op: one path + method to a proposal operation: name, description,
 * inputs (params.c), output schema, security. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "openapi/internal.h"

#include "core/banned.h"

static bool
is_2xx(const char *code)
{
    return code[0] == '2' && strlen(code) == 3 &&
           ((isdigit((unsigned char)code[1]) && isdigit((unsigned char)code[2])) ||
            !strcmp(code + 1, "XX") || !strcmp(code + 1, "xx"));
}

/* The schema of the first 2xx response with a JSON body (new reference), or
 * NULL. */
static json_t *
output_schema(struct oa *oa, struct xstate *x, json_t *op)
{
    const char *code;
    json_t *r;

    json_object_foreach (json_object_get(op, "responses"), code, r) {
        json_t *raw = NULL, *content;
        const char *m;
        if (!is_2xx(code) || (r = oa_resolve(oa, r, x->loc)) == NULL)
            continue;
        if (oa->v2) {
            raw = json_object_get(r, "schema");
        } else {
            content = json_object_get(r, "content");
            m = oa_json_media(content);
            raw = m ? json_object_get(json_object_get(content, m), "schema") : NULL;
        }
        if (raw != NULL)
            return oa_schema(oa, x, raw);
    }
    return NULL;
}

/* summary, then description, cut at OPENAPI_MAX_DESCRIPTION on a UTF-8
 * boundary. */
static json_t *
description(const json_t *op)
{
    const char *sum = oa_str(op, "summary"), *desc = oa_str(op, "description");
    struct buf b;
    size_t n;
    json_t *v;
    enum err e = ERR_OK;

    buf_init(&b, (size_t)64 * 1024 * 1024);
    if (sum && *sum)
        e = buf_puts(&b, sum);
    if (e == ERR_OK && desc && *desc && !(sum && !strcmp(sum, desc)))
        e = buf_printf(&b, "%s%s", b.len ? "\n\n" : "", desc);
    (void)e; /* past the cap the buffer keeps what fitted; it is cut below anyway */
    n = b.len;
    if (n > OPENAPI_MAX_DESCRIPTION) {
        n = OPENAPI_MAX_DESCRIPTION;
        while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
            n--;
    }
    v = json_stringn(b.data ? b.data : "", n);
    buf_release(&b);
    return v;
}

static enum err
fill(struct oa *oa, struct xstate *x, const char *path, const char *method, json_t *item,
     json_t *op, json_t *o, struct errinfo *ei)
{
    const char *op_id = oa_str(op, "operationId");
    char upper[16];
    char *name;
    json_t *out;
    enum err e;

    size_t i;

    for (i = 0; i < sizeof(upper) - 1 && method[i] != '\0'; i++)
        upper[i] = (char)toupper((unsigned char)method[i]);
    upper[i] = '\0';
    e = oa_op_inputs(oa, x, path, item, op, o, ei);
    if (e != ERR_OK || json_object_get(o, "path") == NULL)
        return e; /* no path: skipped with a warning */
    name = oa_op_name(oa, op_id, method, path, x->loc);
    json_object_set_new(o, "name", json_string(name));
    free(name);
    oa_set_str(o, "method", upper);
    json_object_set_new(o, "description", description(op));
    if (op_id != NULL)
        json_object_set_new(o, "operation_id", json_string(op_id));
    out = output_schema(oa, x, op);
    if (out != NULL)
        json_object_set_new(o, "output_schema", out);
    json_object_set_new(o, "security", oa_op_security(oa, op));
    return ERR_OK;
}

enum err
oa_operation(struct oa *oa, const char *path, const char *method, json_t *item, json_t *op,
             json_t **out, struct errinfo *ei)
{
    struct xstate *x = malloc(sizeof(*x));
    char *loc = oa_loc("paths", path, method);
    json_t *o = json_object();
    enum err e = ERR_NOMEM;

    *out = NULL;
    if (x == NULL || loc == NULL || o == NULL)
        goto done;
    oa_xstate_init(oa, x, loc);
    e = fill(oa, x, path, method, item, op, o, ei);
    oa_xstate_done(oa, x);
    if (e == ERR_OK && json_object_get(o, "path") != NULL) {
        *out = o;
        o = NULL;
    }
done:
    json_decref(o);
    free(loc);
    free(x);
    return e;
}
