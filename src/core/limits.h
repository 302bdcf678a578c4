/*
 * limits: every bound connhub enforces, named in one place. Those marked
 * "(flag)" are defaults that an operator can change at start-up; the rest are
 * fixed. Each is tested at N and N+1.
 */
#ifndef CONNHUB_CORE_LIMITS_H
#define CONNHUB_CORE_LIMITS_H

#include <stddef.h>

/* ---- HTTP server (the API) ---- */
#define MAX_REQUEST_BODY ((size_t)256 * 1024)        /* (flag --max-body) JSON bodies */
#define MAX_SPEC_BODY ((size_t)32 * 1024 * 1024)     /* (flag --max-spec-body) OpenAPI import */
#define MAX_REQUEST_HEADER_BYTES ((size_t)16 * 1024) /* (flag) headers + request line, per conn */
#define MAX_CONNECTIONS 10000u                       /* (flag --max-connections) */
#define MAX_CONNECTIONS_PER_IP 0u                    /* (flag) 0 = no per-IP cap */
#define CONNECTION_IDLE_TIMEOUT_S 30u                /* (flag) idle keep-alive, slow headers/body */
#define SHUTDOWN_DRAIN_TIMEOUT_S 30u                 /* (flag) in-flight requests get this long */
#define MAX_JSON_DEPTH 64                            /* nesting of any API JSON body */
#define MAX_URL_PATH 2048                            /* request path length */
#define MAX_CALLS_IN_FLIGHT 10000u    /* (flag --max-calls) executions, whole process */
#define MAX_CALLS_PER_WORKSPACE 5000u /* (flag --max-calls-per-workspace) */

/* ---- connections ---- */
#define MAX_NAME_LEN 200
#define MAX_DESCRIPTION_LEN 4000 /* connection and operation descriptions */
#define MAX_SLUG_LEN 64
#define MAX_OPERATION_NAME_LEN 64
#define MAX_OPERATIONS 20000
#define MAX_BASE_URL_LEN 2048
#define MAX_OP_PATH_LEN 2048
#define MAX_SECRET_LEN ((size_t)64 * 1024) /* one credential value */
#define MAX_CUSTOM_FIELDS 32
#define MAX_INJECT_RULES 32
#define MAX_HEADER_NAME_LEN 256
#define MAX_LIST_PAGE 500 /* connections per list page */
/* Idempotency-Key of a create (DUR-008): its length, and how long it names its request. */
#define MAX_IDEMPOTENCY_KEY_LEN 255
#define IDEMPOTENCY_KEY_TTL_MS ((int64_t)24 * 3600 * 1000)

/* ---- identities ---- */
#define MAX_USER_NAME_LEN 64
#define MAX_WORKSPACE_SLUG_LEN 64
#define MAX_USER_NAME_LEN_Z (MAX_USER_NAME_LEN + 1)

/* ---- vault ---- */
#define VAULT_KEY_LEN 32
#define VAULT_MAX_PREVIOUS_KEYS 8
#define REKEY_BATCH 500

/* ---- outbound (calls) ---- */
#define OUT_CONNECT_TIMEOUT_MS 10000u               /* (flag) */
#define OUT_TOTAL_TIMEOUT_MS 30000u                 /* (flag) */
#define OUT_IDLE_TIMEOUT_MS 15000u                  /* (flag) no bytes for this long */
#define OUT_MAX_RESPONSE ((size_t)10 * 1024 * 1024) /* (flag) decoded bytes */
#define OUT_MAX_REDIRECTS 5                         /* (flag, at most 5) */
#define OUT_MAX_HEADER_BYTES ((size_t)64 * 1024)    /* all response headers */

/* ---- fulfillment, personal accounts, participants, runs, agents ---- */
#define MAX_PARTICIPANT_ROLE_LEN 64              /* participant_role of a participant connection */
#define MAX_PARTICIPANT_ID_LEN 128               /* a participant id (given by the platform) */
#define MAX_RUN_PARTICIPANTS 32                  /* participants named by one run */
#define MAX_RUN_NODES 64                         /* tool nodes in one workflow */
#define MAX_NODE_ID_LEN 64                       /* a node id */
#define MAX_NODE_DEPENDS 16                      /* depends_on entries of one node */
#define MAX_RUN_INPUT_BYTES ((size_t)64 * 1024)  /* a run's input, as compact JSON */
#define MAX_NODE_INPUT_BYTES ((size_t)16 * 1024) /* one node's input, as compact JSON */
#define MAX_RUN_STATE_BYTES ((size_t)8 * 1024 * 1024) /* input + every node's output, stored */
#define MAX_TEMPLATE_PATH_LEN 256                     /* {{path.to.value}} inside the braces */
#define MAX_RUN_CREDENTIALS 16                        /* per-run credentials (caller connections) */
#define PARTICIPANT_INVITE_TTL_S (7 * 24 * 3600)      /* an onboarding link works this long, once */
#define MAX_AGENT_TOOLS 128                           /* names in one /api/agents/resolve */
#define MAX_ACCOUNTS_REVOKED 1000 /* personal OAuth accounts revoked when their connection goes */
/* ---- web sign-in (session/) ---- */
#define PASSWORD_MIN_LEN 10          /* characters of a new password */
#define PASSWORD_MAX_LEN 1024        /* longer ones are refused (and not hashed) */
#define PASSWORD_SCRYPT_LOG2_N 15    /* scrypt cost: N = 2^15 */
#define PASSWORD_SCRYPT_R 8          /* block size: 32 MiB of memory per hash */
#define PASSWORD_SCRYPT_P 1          /* parallelism */
#define PASSWORD_SALT_LEN 16         /* bytes, random per user and per change */
#define PASSWORD_HASH_LEN 32         /* bytes of derived key */
#define SESSION_IDLE_TIMEOUT_S 1800u /* (flag --session-idle-timeout) unused this long: over */
#define SESSION_MAX_AGE_S 43200u     /* (flag --session-max-age) 12 h after sign-in: over */
#define LOGIN_MAX_FAILURES 5u        /* (flag --login-max-failures) per user name ... */
#define LOGIN_LOCKOUT_S 900u         /* (flag --login-lockout) ... in this window: locked */

#endif
