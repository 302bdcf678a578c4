/* names: operation names, snake_case, [a-z0-9_], at most 64 bytes, unique.
 * A taken name gets the first free suffix _2, _3 ... (deterministic: it
 * depends only on the order of operations); a per-base counter keeps this
 * linear when thousands of operations share one name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi/internal.h"

#include "core/banned.h"

static bool
is_up(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
is_lowdig(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

size_t
oa_snake(const char *s, char *out)
{
    size_t n = 0;

    for (size_t i = 0; s[i] != '\0' && n < OA_MAX_NAME; i++) {
        char c = s[i];
        if (is_up(c)) {
            bool split = i > 0 && (is_lowdig(s[i - 1]) ||
                                   (is_up(s[i - 1]) && s[i + 1] >= 'a' && s[i + 1] <= 'z'));
            if (split && n > 0 && out[n - 1] != '_')
                out[n++] = '_';
            if (n < OA_MAX_NAME)
                out[n++] = (char)(c - 'A' + 'a');
        } else if (is_lowdig(c)) {
            out[n++] = c;
        } else if (n > 0 && out[n - 1] != '_') {
            out[n++] = '_';
        }
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
    return n;
}

/* "get" + "/repos/{owner}/issues" -> "get_repos_owner_issues" */
static void
method_path_name(const char *method, const char *path, char *out)
{
    char tmp[4 * OA_MAX_NAME];

    snprintf(tmp, sizeof(tmp), "%s_%.*s", method, 3 * OA_MAX_NAME, path);
    if (oa_snake(tmp, out) == 0)
        snprintf(out, OA_MAX_NAME + 1, "operation");
}

static char *
take(struct oa *oa, const char *name)
{
    json_object_set_new(oa->names, name, json_true());
    return strdup(name);
}

char *
oa_op_name(struct oa *oa, const char *op_id, const char *method, const char *path, const char *loc)
{
    char base[OA_MAX_NAME + 1], cand[OA_MAX_NAME + 1], sfx[24];
    json_int_t k;

    if (op_id == NULL || oa_snake(op_id, base) == 0)
        method_path_name(method, path, base);
    if (json_object_get(oa->names, base) == NULL)
        return take(oa, base);
    k = json_integer_value(json_object_get(oa->name_next, base));
    if (k < 2)
        k = 2;
    for (;; k++) {
        size_t sl = (size_t)snprintf(sfx, sizeof(sfx), "_%lld", (long long)k);
        size_t bl = strlen(base);
        if (bl > OA_MAX_NAME - sl)
            bl = OA_MAX_NAME - sl;
        while (bl > 0 && base[bl - 1] == '_')
            bl--;
        snprintf(cand, sizeof(cand), "%.*s%s", (int)bl, base, sfx);
        if (json_object_get(oa->names, cand) == NULL)
            break;
    }
    json_object_set_new(oa->name_next, base, json_integer(k + 1));
    oa_warn(oa, "operation_renamed", loc, "operation name \"%s\" is taken; renamed to \"%s\"", base,
            cand);
    return take(oa, cand);
}
