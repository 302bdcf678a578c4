#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "core/banned.h"

/* Matches one pattern; fills captures in rq (may be NULL). */
static bool
match(const char *pat, const char *path, struct req *rq)
{
    size_t np = 0;

    while (*pat && *path) {
        if (*pat == '{') {
            const char *pe = strchr(pat, '}');
            size_t seg = strcspn(path, "/");
            if (pe == NULL || seg == 0 || seg >= sizeof(rq->param_val[0]))
                return false;
            if (rq && np < REQ_MAX_PARAMS) {
                snprintf(rq->param_name[np], sizeof(rq->param_name[np]), "%.*s",
                         (int)(pe - pat - 1), pat + 1);
                snprintf(rq->param_val[np], sizeof(rq->param_val[np]), "%.*s", (int)seg, path);
                np++;
            }
            pat = pe + 1;
            path += seg;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    if (*pat != '\0' || *path != '\0')
        return false;
    if (rq)
        rq->nparams = np;
    return true;
}

enum err
router_match(const struct route *routes, size_t n, const char *method, const char *path,
             struct req *rq, const struct route **out)
{
    bool path_known = false;

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!match(routes[i].pattern, path, NULL))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            match(routes[i].pattern, path, rq);
            *out = &routes[i];
            return ERR_OK;
        }
    }
    return path_known ? ERR_METHOD : ERR_NOT_FOUND;
}

const char *
req_param(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (strcmp(rq->param_name[i], name) == 0)
            return rq->param_val[i];
    return NULL;
}
