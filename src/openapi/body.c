/* body: the request body as the input key "body". JSON media types map
 * directly; form and other bodies are mapped as well as they can be, with
 * warning "unsupported_body" (connhub sends JSON bodies only for now). */
#include <string.h>
#include <strings.h>

#include "openapi/internal.h"

#include "core/banned.h"

static bool
is_json_media(const char *m)
{
    size_t n = strcspn(m, ";");

    if (n == 16 && !strncasecmp(m, "application/json", 16))
        return true;
    if (n >= 5 && !strncasecmp(m + n - 5, "+json", 5))
        return true;
    return n >= 5 && !strncasecmp(m + n - 5, "/json", 5);
}

const char *
oa_json_media(const json_t *content)
{
    const char *k, *best = NULL;
    json_t *v;

    json_object_foreach ((json_t *)content, k, v) {
        if (!strncasecmp(k, "application/json", 16))
            return k;
        if (best == NULL && is_json_media(k))
            best = k;
    }
    return best;
}

static void
add_body(struct oa_inputs *in, json_t *schema, const char *ctype, bool required)
{
    json_t *ent = json_pack("{s:s, s:s}", "name", "body", "in", "body");

    if (required)
        json_object_set_new(ent, "required", json_true());
    oa_set_str(ent, "content_type", ctype);
    json_array_append_new(in->params, ent);
    json_object_set_new(in->props, "body", schema ? schema : json_object());
    if (required)
        json_array_append_new(in->req, json_string("body"));
}

void
oa_body_v3(struct oa *oa, struct xstate *x, json_t *op, struct oa_inputs *in)
{
    json_t *rb = json_object_get(op, "requestBody"), *content, *media, *raw;
    const char *ctype;
    bool required;

    if (rb == NULL || (rb = oa_resolve(oa, rb, x->loc)) == NULL)
        return;
    content = json_object_get(rb, "content");
    required = json_is_true(json_object_get(rb, "required"));
    ctype = oa_json_media(content);
    if (ctype == NULL) {
        void *it = json_object_iter(content);
        if (it == NULL) {
            oa_warn(oa, "unsupported_body", x->loc, "requestBody has no content; ignored");
            return;
        }
        ctype = json_object_iter_key(it);
        oa_warn(oa, "unsupported_body", x->loc,
                "request body is %s, not JSON; mapped as \"body\" for review", ctype);
    }
    media = json_object_get(content, ctype);
    raw = json_object_get(media, "schema");
    add_body(in, raw ? oa_schema(oa, x, raw) : json_object(), ctype, required);
}

static const char *
consumes(struct oa *oa, json_t *op, bool json)
{
    json_t *c = json_object_get(op, "consumes");
    size_t i;
    json_t *v;

    if (c == NULL)
        c = oa_top(oa, "consumes");
    json_array_foreach (c, i, v) {
        const char *m = json_string_value(v);
        if (m && json && !strcmp(m, "*/*"))
            return "application/json";
        if (m && (json ? is_json_media(m) : !strncasecmp(m, "multipart/form-data", 19)))
            return m;
    }
    return NULL;
}

void
oa_body_v2(struct oa *oa, struct xstate *x, json_t *op, json_t *body_param, json_t *form,
           bool has_file, struct oa_inputs *in)
{
    const char *ctype;

    if (body_param != NULL) {
        json_t *raw = json_object_get(body_param, "schema");
        ctype = consumes(oa, op, true);
        if (ctype == NULL) {
            ctype = "application/json";
            if (json_object_get(op, "consumes") || oa_top(oa, "consumes"))
                oa_warn(oa, "unsupported_body", x->loc,
                        "the operation consumes no JSON type; body mapped as JSON");
        }
        add_body(in, raw ? oa_schema(oa, x, raw) : json_object(), ctype,
                 json_is_true(json_object_get(body_param, "required")));
        if (form != NULL)
            oa_warn(oa, "unsupported_body", x->loc, "both body and formData; formData ignored");
        return;
    }
    if (form == NULL)
        return;
    ctype = (has_file || consumes(oa, op, false)) ? "multipart/form-data"
                                                  : "application/x-www-form-urlencoded";
    if (json_array_size(json_object_get(form, "required")) == 0)
        json_object_del(form, "required");
    oa_warn(oa, "unsupported_body", x->loc, "formData parameters mapped as a %s \"body\" object",
            ctype);
    add_body(in, json_incref(form), ctype, json_object_get(form, "required") != NULL);
}
