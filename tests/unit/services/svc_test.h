/* Helpers shared by the tests of src/services/ (included after cmocka.h). */
#ifndef CONNHUB_TEST_SVC_H
#define CONNHUB_TEST_SVC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/secret.h"
#include "outbound/outbound.h"

struct want_header {
    const char *name, *value;
    int credential;
};

/* The exact request: method, URL, headers in order, body (NULL = empty). */
static inline void
svc_check_request(const struct out_request *rq, const char *method, const char *url,
                  const struct want_header *h, size_t nh, const char *body, const char *what)
{
    if (strcmp(rq->method, method) != 0)
        fail_msg("%s: method %s, want %s", what, rq->method, method);
    if (rq->url == NULL || strcmp(rq->url, url) != 0)
        fail_msg("%s: url\n  got  %s\n  want %s", what, rq->url ? rq->url : "(null)", url);
    if (rq->nheaders != nh) {
        for (size_t i = 0; i < rq->nheaders; i++)
            print_message("  header %s: %s\n", rq->headers[i].name, rq->headers[i].value);
        fail_msg("%s: %zu headers, want %zu", what, rq->nheaders, nh);
    }
    for (size_t i = 0; i < nh; i++) {
        if (strcmp(rq->headers[i].name, h[i].name) != 0 ||
            strcmp(rq->headers[i].value, h[i].value) != 0 ||
            (int)rq->headers[i].credential != h[i].credential)
            fail_msg("%s: header %zu: got %s: %s (%d), want %s: %s (%d)", what, i,
                     rq->headers[i].name, rq->headers[i].value, rq->headers[i].credential,
                     h[i].name, h[i].value, h[i].credential);
    }
    if (body == NULL) {
        if (rq->body.len != 0)
            fail_msg("%s: unexpected body %s", what, rq->body.data);
    } else if (rq->body.data == NULL || strcmp(rq->body.data, body) != 0) {
        fail_msg("%s: body\n  got  %s\n  want %s", what, rq->body.data ? rq->body.data : "(null)",
                 body);
    }
}

static inline json_t *
svc_json(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    return v;
}

static inline void
svc_secret(struct secret *s, const char *v)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(secret_set(s, v, strlen(v)), ERR_OK);
}

/* true when needle occurs anywhere in the errinfo */
static inline int
svc_ei_has(const struct errinfo *ei, const char *needle)
{
    return strstr(ei->msg, needle) != NULL || strstr(ei->field, needle) != NULL ||
           strstr(ei->code, needle) != NULL;
}

#endif
