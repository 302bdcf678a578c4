/*
 * services/tool: the shape of a tool whose upstream request connhub builds in
 * code (built-ins, and the tools of telegram connections), rather than from
 * an operation's method/path template.
 *
 * A builder turns a validated tool input into the exact provider request.
 * The engine has already run JSON Schema validation (engine/schema.h) with
 * input_schema; a builder checks again whatever would otherwise produce a bad
 * or dangerous request (lengths, enums, characters that end up in a URL),
 * with ERR_INVALID, code "invalid_input", field "input.<name>".
 *
 * Credentials: key is borrowed, never copied anywhere but into rq (as a
 * credential-marked header, or the URL path for Telegram, whose URL
 * out_request_release() wipes), never into ei.
 *
 * Ownership: on ERR_OK the caller owns rq (hand it to outbound_send(), or
 * out_request_release() it). On an error rq has been released already and is
 * {0} (releasing it again does nothing).
 */
#ifndef CONNHUB_SERVICES_TOOL_H
#define CONNHUB_SERVICES_TOOL_H

#include <jansson.h>

#include "core/err.h"
#include "crypto/secret.h"
#include "outbound/outbound.h"

typedef enum err (*svc_build_fn)(const json_t *input, const struct secret *key,
                                 const char *base_url, struct out_request *rq, struct errinfo *ei);

struct svc_tool {
    const char *name;        /* "web_search", "openai.chat"; "send_message" for a connection tool */
    const char *description; /* for the LLM */
    const char *input_schema; /* JSON Schema text (draft 2020 subset of engine/schema.h) */
    const char *service;      /* registry id whose key and base URL it uses */
    const char *tier;         /* required tier ("read", "send"), NULL when none */
    svc_build_fn build;
};

/* input_schema parsed (new reference), or NULL when out of memory. */
json_t *svc_tool_schema(const struct svc_tool *t);

/* Tiers of a connection's grant (gmail): "full" covers every tier; "read"
 * and "send" cover only themselves. needed NULL: always true. */
bool svc_tier_allows(const char *granted, const char *needed);

#endif
