/*
 * services/builtins: tools connhub offers without any connection, using the
 * service keys of the registry (services/registry.h). The engine resolves
 * these names before slug.operation names:
 *
 *   web_search            brave      GET  /res/v1/web/search?q=&count=...
 *   news_search           brave      GET  /res/v1/news/search?q=&count=...
 *                                    X-Subscription-Token: <key>
 *   telegram.send_message telegram   POST /bot<key>/sendMessage (the platform bot)
 *   openai.chat           openai     POST /v1/chat/completions, Authorization: Bearer <key>
 *   anthropic.messages    anthropic  POST /v1/messages, x-api-key: <key>,
 *                                    anthropic-version: 2023-06-01
 *   gemini.generate       gemini     POST /v1beta/models/{model}:generateContent
 *   gemini.embed          gemini     POST /v1beta/models/{model}:embedContent
 *                                    x-goog-api-key: <key> (never ?key=, so the
 *                                    key stays out of every URL)
 *
 * Every key header is credential-marked. Bodies are JSON built from the
 * tool input's known members only (unknown members are refused); a stream
 * flag is not offered (the engine does not stream built-ins).
 *
 * Integration (engine): t = builtin_find(name); validate input with
 * schema_validate(svc_tool_schema(t), ...); resolve the key of t->service
 * (service_resolve + vault_open); t->build(input, &key,
 * service_base_url(t->service), &rq, &ei); send rq; pass the key to
 * result_render's redaction list.
 */
#ifndef CONNHUB_SERVICES_BUILTINS_H
#define CONNHUB_SERVICES_BUILTINS_H

#include <stddef.h>

#include <jansson.h>

#include "services/tool.h"

#define BUILTIN_MAX_QUERY 400           /* Brave: q at most 400 characters */
#define BUILTIN_MAX_MODEL 128           /* model names (in Gemini's URL path) */
#define BUILTIN_MAX_MESSAGES 2048       /* messages / contents entries */
#define BUILTIN_DEFAULT_MAX_TOKENS 1024 /* anthropic.messages when not given */

size_t builtin_count(void);
const struct svc_tool *builtin_at(size_t i);
/* NULL when name is not a built-in (then it may be slug.operation). */
const struct svc_tool *builtin_find(const char *name);

/* GET /api/tools entries for the built-ins (new reference, an array):
 * {"name","description","input_schema","source":"builtin","service",
 *  "function":{"name","description","parameters"}} where function.name has
 * '.' replaced by "__" (LLM function names allow [A-Za-z0-9_-] only), as
 * engine/tools.c does for connection tools. NULL when out of memory. */
json_t *builtins_list_json(void);

/* The builders, also reachable through the table. */
enum err builtin_build_web_search(const json_t *input, const struct secret *key,
                                  const char *base_url, struct out_request *rq,
                                  struct errinfo *ei) WARN_UNUSED;
enum err builtin_build_news_search(const json_t *input, const struct secret *key,
                                   const char *base_url, struct out_request *rq,
                                   struct errinfo *ei) WARN_UNUSED;
enum err builtin_build_openai_chat(const json_t *input, const struct secret *key,
                                   const char *base_url, struct out_request *rq,
                                   struct errinfo *ei) WARN_UNUSED;
enum err builtin_build_anthropic_messages(const json_t *input, const struct secret *key,
                                          const char *base_url, struct out_request *rq,
                                          struct errinfo *ei) WARN_UNUSED;
enum err builtin_build_gemini_generate(const json_t *input, const struct secret *key,
                                       const char *base_url, struct out_request *rq,
                                       struct errinfo *ei) WARN_UNUSED;
enum err builtin_build_gemini_embed(const json_t *input, const struct secret *key,
                                    const char *base_url, struct out_request *rq,
                                    struct errinfo *ei) WARN_UNUSED;

#endif
