/* The web UI: / and /ui/{file}, served from the files built into the binary (web/web.h). */
#include <string.h>

#include "api/api.h"
#include "web/web.h"
#include "core/banned.h"

/* Scripts and styles from this server only (no inline script or style), API calls to it, no
 * framing, forms posting nowhere else. */
#define WEB_CSP                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "                   \
    "frame-ancestors 'none'"

static enum err
serve_file(struct req *rq, struct resp *rs, const char *name)
{
    const struct web_file *f = web_find(name);
    const char *inm = req_header(rq, "If-None-Match");

    if (f == NULL)
        return err_set(&rs->ei, ERR_NOT_FOUND, "no_such_file", NULL, "no such file");
    rs->content_type = web_content_type(name);
    /* Names are not versioned: revalidate each time, answered 304 while unchanged. */
    resp_header(rs, "Cache-Control", "no-cache");
    resp_header(rs, "ETag", f->etag);
    resp_header(rs, "Content-Security-Policy", WEB_CSP);
    resp_header(rs, "Cross-Origin-Opener-Policy", "same-origin");
    if (inm && strcmp(inm, f->etag) == 0) {
        rs->status = 304;
        return ERR_OK;
    }
    rs->status = 200;
    rs->static_body = f->data;
    rs->static_len = f->len;
    return ERR_OK;
}

enum err
h_web_index(struct req *rq, struct resp *rs)
{
    return serve_file(rq, rs, "index.html");
}

enum err
h_web_file(struct req *rq, struct resp *rs)
{
    return serve_file(rq, rs, req_param(rq, "file"));
}
