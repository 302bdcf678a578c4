/* libFuzzer target for engine/template. Input: the first line is a path
 * template, the rest a JSON object of inputs. Rendering must never crash, and
 * a successful render must keep the template's structure: the same number of
 * '/', '?', '&', '=' as the template's literal text, no '#', only printable
 * ASCII. A value byte that escapes its encoding calls abort(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "engine/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count(const char *s, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    char *tmpl = malloc(tlen + 1);
    json_t *input = NULL, *used = json_object(), *names = json_array();
    struct errinfo ei;
    struct buf out;
    enum err ce, re;

    if (tmpl == NULL || used == NULL || names == NULL)
        abort();
    memcpy(tmpl, data, tlen);
    tmpl[tlen] = '\0';
    if (nl != NULL)
        input = json_loadb((const char *)nl + 1, size - tlen - 1, JSON_ALLOW_NUL, NULL);
    buf_init(&out, 64 * 1024);
    ce = tmpl_check(tmpl, "path", names, &ei);
    re = tmpl_render(tmpl, input, &out, used, &ei);
    if (ce != ERR_OK && re == ERR_OK)
        abort(); /* render accepted a template the check refuses */
    if (re == ERR_OK) {
        static const char structural[] = "/?&=#";
        size_t tl = strlen(tmpl);
        for (const char *c = structural; *c; c++)
            if (count(out.data, out.len, *c) != count(tmpl, tl, *c))
                abort();
        for (size_t i = 0; i < out.len; i++)
            if ((unsigned char)out.data[i] <= 0x20 || (unsigned char)out.data[i] >= 0x7f)
                abort();
        /* no "." or ".." path segment made by a value (the query may hold them) */
        char *q = strchr(out.data, '?');
        if (q != NULL)
            *q = '\0';
        if ((strstr(out.data, "/../") || strstr(out.data, "/./") || ends_with(out.data, "/..") ||
             ends_with(out.data, "/.")) &&
            !strstr(tmpl, "/.")) /* the template's own literal dots are the operator's */
            abort();
    } else if (out.len != 0) {
        abort(); /* a failed render must leave out as it was */
    }
    buf_release(&out);
    json_decref(input);
    json_decref(used);
    json_decref(names);
    free(tmpl);
    return 0;
}
