/* libFuzzer target: openapi_import on arbitrary bytes (JSON or YAML). Every
 * input must return an enum err without crashing, leaking or hanging; on
 * ERR_OK the proposal must be an object with an operations array. JSON is
 * imported twice, through the span index and parsed whole (oa_whole_json):
 * the proposals, or the errors, must be the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openapi/internal.h"
#include "openapi/openapi.h"

/* The import as text: the compact proposal, or the error message. */
static char *
outcome(const uint8_t *data, size_t size, const struct openapi_opts *o, bool whole)
{
    struct errinfo ei = {0};
    json_t *p = NULL;
    char *s;

    oa_whole_json = whole;
    if (openapi_import((const char *)data, size, o, &p, &ei) == ERR_OK) {
        s = json_dumps(p, JSON_COMPACT);
    } else {
        s = strdup(ei.msg);
    }
    oa_whole_json = false;
    json_decref(p);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct openapi_opts o = {0};
    struct errinfo ei = {0};
    json_t *p = NULL;

    if (size > (1u << 20))
        return 0;
    /* the first byte picks whether a base URL is given (keeps both paths reachable) */
    if (size > 0 && (data[0] & 1) == 0)
        o.base_url_override = "https://fuzz.example";
    if (openapi_import((const char *)data, size, &o, &p, &ei) == ERR_OK) {
        if (!json_is_array(json_object_get(p, "operations")))
            abort();
        json_decref(p);
    } else if (p != NULL) {
        abort();
    }
    if (memchr(data, '{', size) != NULL) {
        char *a = outcome(data, size, &o, false), *b = outcome(data, size, &o, true);
        if (a == NULL || b == NULL || strcmp(a, b) != 0)
            abort();
        free(a);
        free(b);
    }
    return 0;
}
