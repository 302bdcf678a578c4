/* libFuzzer target: openapi_import on arbitrary bytes (JSON or YAML). Every
 * input must return an enum err without crashing, leaking or hanging; on
 * ERR_OK the proposal must be an object with an operations array. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "openapi/openapi.h"

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
    return 0;
}
