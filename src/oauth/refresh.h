/*
 * oauth/refresh: the single-flight refresh protocol, and the pure helpers
 * the store-backed implementation needs. This module holds no state and
 * talks to no database: the lead implements the steps below in
 * src/store/ + src/engine/ with these helpers.
 *
 * ---- What the store keeps (recommended columns) ----
 *
 * oauth_providers   (admin registry; workspace_id 0 = platform-wide)
 *   workspace_id, id (slug, PK with workspace_id), definition_json (the
 *   oauth_provider_to_json() text), client_id, client_secret_ct (sealed:
 *   vault_aad{ws, "oauth_provider", id, "client_secret"}), version,
 *   updated_at. Rotating the secret = UPDATE client_secret_ct, version+1.
 *
 * oauth_flows       (one row per started connect; deleted when consumed)
 *   state_hash (hex, PK: oauth_state_hash), workspace_id, user_id,
 *   session_id, connection_id (NULL = create on success), provider_id,
 *   token_url and issuer (snapshots, OAUTH-011), redirect_uri,
 *   verifier_ct (sealed, field "code_verifier"), tiers (csv asked for),
 *   created_at, expires_at (created_at + OAUTH_FLOW_TTL_S).
 *   Consume: DELETE ... WHERE state_hash=$1 AND expires_at > now RETURNING *
 *   (SQLite: same, 3.35+) and then compare user/session/workspace: a row
 *   that does not match is consumed anyway (an attacker's replay dies).
 *
 * oauth_tokens      (one row per connection)
 *   workspace_id, connection_id (PK, FK to connections), provider_id,
 *   access_ct, refresh_ct (sealed, fields "access_token"/"refresh_token";
 *   refresh_ct NULL when the provider issues none), obtained_at,
 *   expires_at (0/NULL = unknown), granted_scope, granted_tiers (csv from
 *   oauth_scopes_to_tiers), version (int, +1 on every token write),
 *   lease_owner (text NULL), lease_until (ms NULL), last_refreshed_at,
 *   and the health columns: status (oauth_health_name), consecutive_failures,
 *   total_failures, last_success_at, last_failure_at, next_retry_at,
 *   last_error_code, last_error.
 *
 * ---- The protocol (one connection, any number of threads/processes) ----
 *
 *  0. Read the row (access, obtained_at, expires_at, version v, lease,
 *     status). Let forced = "the upstream just answered 401 with the token
 *     of version v_used" (then seen_version = v_used).
 *  1. a = oauth_lease_decide(row, ask):
 *     USE_CURRENT -> open access_ct and call upstream.
 *     STOP        -> fail the call: needs_reauth / revoked (+ reconnect URL).
 *     BACKOFF     -> the token is still usable? use it; else fail with
 *                    ERR_UNAVAILABLE "refresh backing off" (health.h).
 *     WAIT        -> sleep oauth_lease_poll_ms(attempt) (async: a loop timer),
 *                    re-read the row, go to 1 (wait_started_ms unchanged).
 *     GIVE_UP     -> fail with ERR_TIMEOUT; nothing written.
 *     TAKE        -> 2.
 *  2. Take the lease with one CAS, committed on its own:
 *       UPDATE oauth_tokens SET lease_owner=$me, lease_until=$now+OAUTH_LEASE_TTL_MS
 *        WHERE workspace_id=$ws AND connection_id=$c AND version=$v
 *          AND (lease_owner IS NULL OR lease_until <= $now OR lease_owner=$me)
 *     0 rows -> someone else moved first: re-read, go to 1.
 *     The lease outlives the whole token request (OAUTH_LEASE_TTL_MS >
 *     OAUTH_TOKEN_TIMEOUT_MS + slack), and a holder killed with -9 simply
 *     lets it run out (<= 30 s, OAUTH-023). No DB lock is held across the
 *     network call, so this works the same on SQLite and PostgreSQL.
 *  3. Open refresh_ct, oauth_token_request_refresh(), outbound_send() (on
 *     the worker's loop), oauth_token_parse(res, old_refresh, now).
 *  4. OK: in ONE durable transaction (PG: the session runs synchronous_commit=on;
 *     SQLite: synchronous=FULL, BEGIN IMMEDIATE):
 *       UPDATE oauth_tokens SET access_ct=$a, refresh_ct=COALESCE($r, refresh_ct),
 *         obtained_at=$now, expires_at=$exp, granted_scope=COALESCE($scope, granted_scope),
 *         granted_tiers=..., version=version+1, lease_owner=NULL, lease_until=NULL,
 *         last_refreshed_at=$now, status='healthy', consecutive_failures=0, ...
 *        WHERE workspace_id=$ws AND connection_id=$c AND version=$v
 *     Only after COMMIT returns is the new access token used (OAUTH-024).
 *     0 rows (our lease ran out and another worker committed first): drop
 *     our tokens, re-read, use theirs. Always write the new refresh token
 *     when one came back (rotation: the old one is dead, OAUTH-018); keep
 *     the old one otherwise (oauth_tokens carries a copy, OAUTH-017).
 *  5. INVALID_GRANT: re-read the row ONCE. If version > v, another worker
 *     refreshed (we lost a race the lease should have prevented, e.g. a
 *     paused process): use its token. Else, in one transaction, status
 *     needs_reauth + last_error (oauth_health_apply(OAUTH_EV_INVALID_GRANT))
 *     WHERE version=$v, release the lease, keep refresh_ct as it is
 *     (OAUTH-026). No retry.
 *  6. TRANSIENT / MALFORMED / CONFIG / REJECTED: release the lease
 *     (SET lease_owner=NULL WHERE lease_owner=$me), write the health
 *     columns (oauth_health_apply: degraded + next_retry_at); tokens
 *     untouched (OAUTH-027/028). The current call fails unless the old
 *     access token is still within its lifetime (then use it).
 *  7. Forced refresh on 401: at most one per call. Run 0..6 with forced and
 *     seen_version = the version whose token got the 401; if the row
 *     already has a newer version, that is used without a token request.
 *     Retry the upstream call once with the new token; a second 401 is the
 *     upstream's answer (health: degraded, code "upstream_401").
 *
 * In one process, the lead should also collapse concurrent callers on the
 * same connection in memory (one in-flight refresh per connection per
 * worker, others queued on it) so that 50 callers cost one row CAS, not 50.
 */
#ifndef CONNHUB_OAUTH_REFRESH_H
#define CONNHUB_OAUTH_REFRESH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "oauth/health.h"

#define OAUTH_LEASE_TTL_MS 25000      /* > OAUTH_TOKEN_TIMEOUT_MS (20 s) + 5 s; <= 30 s */
#define OAUTH_LEASE_WAIT_MAX_MS 40000 /* a waiter gives up after this long */
#define OAUTH_LEASE_OWNER_MAX 64

/* What the row says now. */
struct oauth_lease_row {
    int64_t version;
    const char *lease_owner; /* NULL or "" = none */
    int64_t lease_until_ms;
    int64_t obtained_at_ms;
    int64_t expires_at_ms; /* 0 = unknown */
    bool has_refresh_token;
    const struct oauth_health_state *health; /* may be NULL = healthy */
};

/* What the caller wants. */
struct oauth_lease_ask {
    const char *me; /* oauth_lease_owner_new() */
    int64_t now_ms;
    int64_t seen_version;    /* version whose token the caller holds; -1 = none yet */
    bool forced;             /* the upstream answered 401 to seen_version's token */
    int64_t margin_s;        /* OAUTH_REFRESH_MARGIN_S */
    int64_t wait_started_ms; /* 0 = not waiting yet */
};

enum oauth_lease_action {
    OAUTH_LEASE_USE_CURRENT = 0, /* the row's access token is good to use */
    OAUTH_LEASE_TAKE,            /* CAS the lease and refresh */
    OAUTH_LEASE_WAIT,            /* another holder's lease is live: poll */
    OAUTH_LEASE_GIVE_UP,         /* waited OAUTH_LEASE_WAIT_MAX_MS */
    OAUTH_LEASE_STOP,            /* needs_reauth / revoked / no refresh token */
    OAUTH_LEASE_BACKOFF,         /* health says not before next_retry_ms */
};
const char *oauth_lease_action_name(enum oauth_lease_action a);

/* The decision of step 1, in this order: STOP (needs_reauth, revoked);
 * USE_CURRENT when the row's version is newer than seen_version (someone
 * refreshed since) or when not forced and oauth_needs_refresh() is false;
 * STOP when there is no refresh token; BACKOFF (health); WAIT / GIVE_UP
 * when another owner's lease is live; else TAKE (free, expired, or ours). */
enum oauth_lease_action oauth_lease_decide(const struct oauth_lease_row *row,
                                           const struct oauth_lease_ask *ask);

/* Poll interval for the n-th wait (0-based): 50, 100, 200, 400, 800, 1000... ms. */
int64_t oauth_lease_poll_ms(unsigned attempt);

/* A fresh owner id "lease_<26 base32>", unique per refresh attempt. */
enum err oauth_lease_owner_new(char out[OAUTH_LEASE_OWNER_MAX]) WARN_UNUSED;

#endif
