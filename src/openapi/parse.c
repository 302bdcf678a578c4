/* parse: spec text to a jansson value. UTF-8 is checked first; JSON nesting
 * is measured by a flat scan before jansson (which recurses) sees it. A JSON
 * object is indexed instead (index.c) when it can be, and read span by span
 * (doc.c). */
#include <stdbool.h>
#include <string.h>

#include "core/util.h"
#include "openapi/internal.h"
#include "openapi/yaml.h"

#include "core/banned.h"

static void
line_col(const char *s, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;

    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Fails when [ and { (outside strings) nest deeper than max. */
static enum err
json_depth_check(const char *s, size_t n, int max, struct errinfo *ei)
{
    size_t at, line, col;

    if (!json_text_too_deep(s, n, max, &at))
        return ERR_OK;
    line_col(s, at, &line, &col);
    return err_set(ei, ERR_TOO_LARGE, "limit_exceeded", "max_depth",
                   "JSON: nesting deeper than %d at line %zu column %zu", max, line, col);
}

static enum err
parse_json(const char *s, size_t n, const struct openapi_opts *o, json_t **out, struct errinfo *ei)
{
    json_error_t je;
    enum err e = json_depth_check(s, n, o->max_depth, ei);

    if (e != ERR_OK)
        return e;
    *out = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL)
        return err_set(ei, ERR_INVALID, "invalid_spec", "spec", "JSON: %s at line %d column %d",
                       je.text, je.line, je.column);
    return ERR_OK;
}

/* Skips a UTF-8 BOM, checks the bytes; *first is the first byte that is not
 * white space. */
static enum err
check_text(const char **text, size_t *len, size_t *first, struct errinfo *ei)
{
    size_t i = 0;

    if (*len >= 3 && memcmp(*text, "\xef\xbb\xbf", 3) == 0) {
        *text += 3;
        *len -= 3;
    }
    if (!str_is_utf8(*text, *len))
        return err_set(ei, ERR_INVALID, "invalid_spec", "spec", "the spec is not valid UTF-8");
    if (memchr(*text, '\0', *len) != NULL)
        return err_set(ei, ERR_INVALID, "invalid_spec", "spec", "the spec contains a NUL byte");
    while (i < *len &&
           ((*text)[i] == ' ' || (*text)[i] == '\t' || (*text)[i] == '\r' || (*text)[i] == '\n'))
        i++;
    if (i == *len)
        return err_set(ei, ERR_INVALID, "invalid_spec", "spec", "the spec is empty");
    *first = i;
    return ERR_OK;
}

enum err
oa_parse(const char *text, size_t len, const struct openapi_opts *o, json_t **out,
         struct errinfo *ei)
{
    struct yaml_limits yl = {o->max_depth, o->max_aliases, OPENAPI_MAX_ALIAS_NODES};
    size_t i = 0;
    enum err e;

    *out = NULL;
    e = check_text(&text, &len, &i, ei);
    if (e != ERR_OK)
        return e;
    if (text[i] == '{' || text[i] == '[')
        return parse_json(text, len, o, out, ei);
    return yaml_to_json(text, len, &yl, out, ei);
}

/* Tests set it to parse every JSON text whole, as before the index, and
 * compare the two imports. */
TESTABLE bool oa_whole_json;

enum err
oa_open(struct oa *oa, const char *text, size_t len, struct errinfo *ei)
{
    size_t i = 0;
    enum err e = check_text(&text, &len, &i, ei);

    if (e != ERR_OK)
        return e;
    if (text[i] == '{' && !oa_whole_json) {
        oa->idx = oa_index_build(text, len, oa->o.max_depth);
        if (oa->idx != NULL)
            return ERR_OK;
    }
    return oa_parse(text, len, &oa->o, &oa->doc, ei);
}
