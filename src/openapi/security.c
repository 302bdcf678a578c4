/* security: securitySchemes / securityDefinitions to auth_options, and the
 * proposal's auth. apiKey names must be usable on the wire (PARSE-018): an
 * empty name, a control byte or ':' (or, for headers and cookies, any byte
 * outside the RFC 9110 token set) makes the scheme "unsupported". */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openapi/internal.h"

#include "core/banned.h"

static bool
is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
name_ok(const char *name, const char *in)
{
    bool token = strcmp(in, "query") != 0;

    if (name == NULL || name[0] == '\0' || strlen(name) > 256)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == ':' || (token && !is_tchar(*p)))
            return false;
    }
    return true;
}

static const char *
api_key(struct oa *oa, const json_t *s, json_t *ent, const char *loc)
{
    const char *in = oa_str(s, "in"), *name = oa_str(s, "name");

    if (in == NULL ||
        (strcmp(in, "header") != 0 && strcmp(in, "query") != 0 && strcmp(in, "cookie") != 0)) {
        oa_warn(oa, "unsupported_auth", loc, "apiKey scheme with unknown \"in\"");
        return "unsupported";
    }
    if (!name_ok(name, in)) {
        oa_warn(oa, "unsupported_auth", loc,
                "apiKey name is empty or not a valid %s name (control bytes, ':')", in);
        return "unsupported";
    }
    oa_set_str(ent, "name", name);
    return !strcmp(in, "header")  ? "api_key_header"
           : !strcmp(in, "query") ? "api_key_query"
                                  : "api_key_cookie";
}

/* Copies one flow's URLs and scopes; the first flow by preference also
 * fills the entry's top-level authorization_url, token_url and scopes. */
static void
oauth_flow(json_t *ent, json_t *flows, const char *name, const json_t *f)
{
    json_t *o = json_object(), *scopes = json_object_get(f, "scopes");
    const char *au = oa_str(f, "authorizationUrl"), *tu = oa_str(f, "tokenUrl");
    const char *ru = oa_str(f, "refreshUrl");

    if (au)
        oa_set_str(o, "authorization_url", au);
    if (tu)
        oa_set_str(o, "token_url", tu);
    if (ru)
        oa_set_str(o, "refresh_url", ru);
    json_object_set_new(o, "scopes",
                        json_is_object(scopes) ? json_deep_copy(scopes) : json_object());
    if (json_object_size(flows) == 0) {
        json_object_set_new(ent, "flow", json_string(name));
        if (au)
            oa_set_str(ent, "authorization_url", au);
        if (tu)
            oa_set_str(ent, "token_url", tu);
        json_object_set(ent, "scopes", json_object_get(o, "scopes"));
    }
    json_object_set_new(flows, name, o);
}

static const char *
oauth2(struct oa *oa, const json_t *s, json_t *ent)
{
    static const char *const pref[] = {"authorizationCode", "clientCredentials", "password",
                                       "implicit"};
    static const char *const v2name[][2] = {{"accessCode", "authorizationCode"},
                                            {"application", "clientCredentials"},
                                            {"password", "password"},
                                            {"implicit", "implicit"}};
    json_t *flows = json_object();
    const json_t *v3 = json_object_get(s, "flows");

    for (size_t i = 0; i < 4; i++) {
        if (oa->v2) {
            const char *fl = oa_str(s, "flow");
            for (size_t k = 0; k < 4; k++)
                if (fl && !strcmp(fl, v2name[k][0]) && !strcmp(pref[i], v2name[k][1]))
                    oauth_flow(ent, flows, pref[i], s);
        } else if (json_is_object(json_object_get(v3, pref[i]))) {
            oauth_flow(ent, flows, pref[i], json_object_get(v3, pref[i]));
        }
    }
    json_object_set_new(ent, "flows", flows);
    return "oauth2";
}

static const char *
http_scheme(struct oa *oa, const json_t *s, const char *loc)
{
    const char *sch = oa_str(s, "scheme");

    if (sch && !strcasecmp(sch, "bearer"))
        return "bearer";
    if (sch && !strcasecmp(sch, "basic"))
        return "basic";
    oa_warn(oa, "unsupported_auth", loc, "http scheme \"%s\" is not supported",
            sch ? sch : "(none)");
    return "unsupported";
}

static json_t *
map_scheme(struct oa *oa, const char *name, json_t *s, const char *loc)
{
    json_t *ent = json_pack("{s:s}", "scheme", name);
    const char *type = oa_str(s, "type"), *t;

    if (ent == NULL)
        return NULL;
    if (type == NULL)
        type = "(none)";
    if (!strcmp(type, "apiKey"))
        t = api_key(oa, s, ent, loc);
    else if (!strcmp(type, "http"))
        t = http_scheme(oa, s, loc);
    else if (!strcmp(type, "basic") && oa->v2)
        t = "basic";
    else if (!strcmp(type, "oauth2"))
        t = oauth2(oa, s, ent);
    else {
        t = "unsupported";
        oa_warn(oa, "unsupported_auth", loc, "security scheme type \"%s\" is not supported", type);
    }
    oa_set_str(ent, "type", t);
    return ent;
}

/* The first scheme name of a requirement list, "" for an empty one
 * (anonymous access allowed), NULL if there is none. */
static const char *
first_req(const json_t *sec)
{
    const json_t *r = json_array_get(sec, 0);
    const char *k;
    json_t *v;

    if (!json_is_array(sec))
        return NULL;
    json_object_foreach ((json_t *)r, k, v) {
        return k;
    }
    return "";
}

/* The first scheme of the first secured operation (new string, free()), or
 * NULL. Path items that cannot have one are not parsed. */
static char *
auth_from_ops(struct oa *oa)
{
    static const char *const methods[] = {"get",     "put",  "post",  "delete",
                                          "options", "head", "patch", "trace"};
    struct oa_cursor c = {0};
    const char *path, *name;
    char *found = NULL;

    while (found == NULL && oa_paths_next(oa, &c, &path)) {
        json_t *item = oa_paths_secured(oa, &c) ? oa_paths_item(oa, &c) : NULL;
        for (size_t i = 0; item != NULL && found == NULL && i < 8; i++) {
            name = first_req(json_object_get(json_object_get(item, methods[i]), "security"));
            if (name != NULL && name[0] != '\0') {
                oa_warn(oa, "auth_from_operation", "#/security",
                        "no global security; auth taken from the first secured operation");
                found = strdup(name);
            }
        }
        json_decref(item);
    }
    return found;
}

static enum err
pick_auth(struct oa *oa, json_t *proposal)
{
    json_t *g = oa_top(oa, "security"), *ent;
    char *own = g ? NULL : auth_from_ops(oa);
    const char *name = g ? first_req(g) : own;
    int rc;

    if (name == NULL || name[0] == '\0') {
        free(own);
        return json_object_set_new(proposal, "auth", json_pack("{s:s}", "type", "none")) == 0
                   ? ERR_OK
                   : ERR_NOMEM;
    }
    ent = json_object_get(oa->schemes, name);
    if (ent == NULL) {
        oa_warn(oa, "unknown_security_scheme", "#/security",
                "security requirement names an undefined scheme \"%s\"", name);
        ent = json_pack("{s:s}", "type", "none");
    } else {
        ent = json_deep_copy(ent);
    }
    free(own);
    rc = json_object_set_new(proposal, "auth", ent);
    return rc == 0 ? ERR_OK : ERR_NOMEM;
}

enum err
oa_security(struct oa *oa, json_t *proposal)
{
    json_t *defs =
        oa->v2 ? oa_top(oa, "securityDefinitions") : oa_pointer(oa, "#/components/securitySchemes");
    json_t *opts = json_array(), *s;
    const char *name;

    if (opts == NULL || json_object_set_new(proposal, "auth_options", opts) != 0)
        return ERR_NOMEM;
    json_object_foreach (defs, name, s) {
        char *loc = oa->v2 ? oa_loc("securityDefinitions", name, NULL)
                           : oa_loc("components", "securitySchemes", name);
        json_t *r = oa_resolve(oa, s, loc), *ent;
        ent = map_scheme(oa, name, r, loc);
        free(loc);
        if (ent == NULL)
            return ERR_NOMEM;
        json_object_set(oa->schemes, name, ent);
        json_array_append_new(opts, ent);
    }
    return pick_auth(oa, proposal);
}

json_t *
oa_op_security(struct oa *oa, const json_t *op)
{
    json_t *sec = json_object_get(op, "security"), *out = json_array(), *seen = json_object();
    json_t *r, *v;
    const char *k;
    size_t i;

    if (sec == NULL)
        sec = oa_top(oa, "security");
    json_array_foreach (sec, i, r) {
        json_object_foreach (r, k, v) {
            if (json_object_get(seen, k) == NULL) {
                json_object_set_new(seen, k, json_true());
                json_array_append_new(out, json_string(k));
            }
        }
    }
    json_decref(seen);
    return out;
}
