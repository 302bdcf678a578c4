/*
 * store_sqlite: the embedded backend. One sqlite3 connection per struct store
 * (per thread), WAL mode with synchronous=FULL so an acknowledged write
 * survives a power cut, foreign keys on, secure_delete on (deleted secrets
 * are overwritten in the file), and every statement prepared once and kept.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "store/memo.h"
#include "store/store_int.h"
#include "core/banned.h"

#define BUSY_TIMEOUT_MS 10000
#define OPEN_BUSY_RETRY_MS 20 /* between tries of the open steps (open_steps) */
/* The WAL index (walformat.html §2.1): its header is 48 bytes, and SQLite
 * maps the index in regions of 32 KiB (every xShmMap call names that size). */
#define WAL_HDR_WORDS 12
#define WAL_INDEX_REGION 32768
/* The header's first word, the wal-index format version (3.7.0's, unchanged
 * since): any other value turns quick scopes off rather than guess. */
#define WAL_INDEX_VERSION 3007000u

/* Migrations: appended, never edited. Each runs once, in order, in one
 * transaction with its row in schema_migrations. */
static const char *const migrations[] = {
    /* 1: identities, connections, secrets */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  platform_admin INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE workspaces ("
    "  id INTEGER PRIMARY KEY,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE memberships ("
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),"
    "  PRIMARY KEY (workspace_id, user_id));"
    "CREATE TABLE api_tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  label TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE connections ("
    "  id TEXT PRIMARY KEY,"
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  owner_id INTEGER NOT NULL REFERENCES users(id),"
    "  name TEXT NOT NULL,"
    "  slug TEXT NOT NULL,"
    "  service_type TEXT NOT NULL,"
    "  auth_type TEXT NOT NULL,"
    "  base_url TEXT,"
    "  fulfillment TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  UNIQUE (workspace_id, slug));"
    "CREATE TABLE secrets ("
    "  id INTEGER PRIMARY KEY,"
    "  workspace_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  owner_id TEXT NOT NULL,"
    "  field TEXT NOT NULL,"
    "  key_id INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (workspace_id, kind, owner_id, field));"
    "CREATE INDEX secrets_by_key ON secrets (key_id);",
    /* 2: operations in their own rows (a call loads one, not thousands), and
     * the source document of imported connections. Existing rows move over. */
    "CREATE TABLE connection_operations ("
    "  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  workspace_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  def TEXT NOT NULL,"
    "  PRIMARY KEY (connection_id, name));"
    "INSERT INTO connection_operations (connection_id, workspace_id, name, position, def)"
    "  SELECT c.id, c.workspace_id, json_extract(j.value, '$.name'), j.key, j.value"
    "  FROM connections c, json_each(c.config, '$.operations') j;"
    "UPDATE connections SET config = json_remove(config, '$.operations');"
    "CREATE TABLE connection_specs ("
    "  connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,"
    "  workspace_id INTEGER NOT NULL,"
    "  spec TEXT NOT NULL);",
    /* 3: OAuth providers (admin registry), pending authorizations (single use),
     * token metadata with a version and a refresh lease. The tokens themselves
     * are sealed in secrets (fields oauth.access_token, oauth.refresh_token). */
    "CREATE TABLE oauth_providers ("
    "  id TEXT PRIMARY KEY,"
    "  definition TEXT NOT NULL,"
    "  client_id TEXT,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE oauth_states ("
    "  state_hash TEXT PRIMARY KEY,"
    "  provider_id TEXT NOT NULL,"
    "  workspace_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  connection_id TEXT NOT NULL,"
    "  tiers TEXT NOT NULL,"
    "  redirect_uri TEXT NOT NULL,"
    "  verifier BLOB NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE TABLE oauth_tokens ("
    "  connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,"
    "  workspace_id INTEGER NOT NULL,"
    "  provider_id TEXT NOT NULL,"
    "  scopes TEXT,"
    "  tiers TEXT,"
    "  obtained_at INTEGER NOT NULL DEFAULT 0,"
    "  expires_at INTEGER NOT NULL DEFAULT 0,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  lease_owner TEXT,"
    "  lease_until INTEGER NOT NULL DEFAULT 0,"
    "  health TEXT NOT NULL DEFAULT 'healthy',"
    "  last_error TEXT,"
    "  last_success_at INTEGER NOT NULL DEFAULT 0,"
    "  refreshes INTEGER NOT NULL DEFAULT 0);",
    /* 4: OAuth health counters (oauth/health.h) and the outcome of each
     * revocation at the provider (RFC 7009), kept after the connection is gone. */
    "ALTER TABLE oauth_tokens ADD COLUMN last_error_code TEXT;"
    "ALTER TABLE oauth_tokens ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE oauth_tokens ADD COLUMN total_failures INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE oauth_tokens ADD COLUMN last_failure_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE oauth_tokens ADD COLUMN next_retry_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE oauth_tokens ADD COLUMN forced_refreshes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE oauth_tokens ADD COLUMN health_changed_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE oauth_revocations ("
    "  id INTEGER PRIMARY KEY,"
    "  workspace_id INTEGER NOT NULL,"
    "  connection_id TEXT NOT NULL,"
    "  provider_id TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX oauth_revocations_conn ON oauth_revocations (workspace_id, connection_id);",
    /* 5: personal accounts and participant credentials
     * (metadata; the values are sealed in secrets, kind account/participant,
     * owner "<holder>:<connection id>", deleted with the row, also when the
     * connection goes), and workflow runs (never their per-run credentials). */
    "CREATE TABLE accounts ("
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('account', 'participant')),"
    "  holder TEXT NOT NULL,"
    "  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  method TEXT NOT NULL,"
    "  provider_id TEXT,"
    "  tiers TEXT,"
    "  scopes TEXT,"
    "  role TEXT,"
    "  expires_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (workspace_id, kind, holder, connection_id));"
    "CREATE TRIGGER accounts_secrets_gone AFTER DELETE ON accounts BEGIN"
    "  DELETE FROM secrets WHERE workspace_id = old.workspace_id AND kind = old.kind"
    "  AND owner_id = old.holder || ':' || old.connection_id; END;"
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY,"
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX runs_by_workspace ON runs (workspace_id, created_at);"
    "CREATE TABLE participant_invites ("
    "  token_hash TEXT PRIMARY KEY,"
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  participant_id TEXT NOT NULL,"
    "  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  created_by INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);",
    /* 6: web sign-in: password hashes (scrypt, encoded text with salt and cost), browser sessions
     * keyed by the SHA-256 of their cookie (the cookie itself is never stored), failed sign-ins per
     * user name for the lockout. */
    "CREATE TABLE user_passwords ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  id_hash BLOB PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_by_user ON sessions (user_id);"
    "CREATE TABLE login_failures ("
    "  name TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  window_start INTEGER NOT NULL);",
    /* 7: a row that names a connection names one of its own workspace (TEN-013): what
     * PostgreSQL's composite foreign keys (workspace_id, connection_id) do, as triggers, since
     * SQLite cannot add a constraint to a table. */
    "CREATE TRIGGER accounts_conn_ws_ins BEFORE INSERT ON accounts WHEN NOT EXISTS ("
    "  SELECT 1 FROM connections WHERE id = new.connection_id AND workspace_id = new.workspace_id)"
    "  BEGIN SELECT RAISE(ABORT, 'connection of another workspace'); END;"
    "CREATE TRIGGER accounts_conn_ws_upd BEFORE UPDATE OF workspace_id, connection_id ON accounts"
    "  WHEN NOT EXISTS (SELECT 1 FROM connections WHERE id = new.connection_id AND"
    "  workspace_id = new.workspace_id)"
    "  BEGIN SELECT RAISE(ABORT, 'connection of another workspace'); END;"
    "CREATE TRIGGER invites_conn_ws_ins BEFORE INSERT ON participant_invites WHEN NOT EXISTS ("
    "  SELECT 1 FROM connections WHERE id = new.connection_id AND workspace_id = new.workspace_id)"
    "  BEGIN SELECT RAISE(ABORT, 'connection of another workspace'); END;"
    "CREATE TRIGGER invites_conn_ws_upd BEFORE UPDATE OF workspace_id, connection_id ON"
    "  participant_invites WHEN NOT EXISTS (SELECT 1 FROM connections WHERE"
    "  id = new.connection_id AND workspace_id = new.workspace_id)"
    "  BEGIN SELECT RAISE(ABORT, 'connection of another workspace'); END;",
    /* 8: idempotent creates (DUR-008) */
    "CREATE TABLE idempotency_keys ("
    "  workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  key_hash BLOB NOT NULL,"
    "  request_hash BLOB NOT NULL,"
    "  connection_id TEXT NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (workspace_id, user_id, key_hash));"
    "CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);",
};

static const char *const sql[S__COUNT] = {
    [S_USER_ADD] = "INSERT INTO users (name, platform_admin, created_at) VALUES (?1, ?2, ?3)",
    [S_USER_GET] = "SELECT id, name, platform_admin FROM users WHERE name = ?1",
    [S_USER_COUNT] = "SELECT count(*) FROM users",
    [S_WS_ADD] = "INSERT INTO workspaces (slug, created_at) VALUES (?1, ?2)",
    [S_WS_GET] = "SELECT id FROM workspaces WHERE slug = ?1",
    [S_MEMBER_SET] = "INSERT INTO memberships (workspace_id, user_id, role) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
    [S_MEMBER_ROLE] = "SELECT role FROM memberships WHERE workspace_id = ?1 AND user_id = ?2",
    [S_TOKEN_ADD] = "INSERT INTO api_tokens (hash, user_id, workspace_id, label, created_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_TOKEN_LOOKUP] = "SELECT t.id, u.id, u.name, u.platform_admin, w.id, w.slug, m.role "
                       "FROM api_tokens t JOIN users u ON u.id = t.user_id "
                       "JOIN workspaces w ON w.id = t.workspace_id "
                       "JOIN memberships m ON m.workspace_id = t.workspace_id "
                       "AND m.user_id = t.user_id WHERE t.hash = ?1",
    [S_CONN_INSERT] = "INSERT INTO connections (id, workspace_id, owner_id, name, slug, "
                      "service_type, auth_type, base_url, fulfillment, config, created_at, "
                      "updated_at, version) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?11,1)",
    [S_CONN_GET_ID] =
        "SELECT " CONN_COLS_ONE " FROM connections c JOIN users u ON u.id = c.owner_id "
        "WHERE c.workspace_id = ?1 AND c.id = ?2",
    [S_CONN_GET_SLUG] = "SELECT " CONN_COLS_ONE " FROM connections c JOIN users u "
                        "ON u.id = c.owner_id WHERE c.workspace_id = ?1 AND c.slug = ?2",
    [S_CONN_LIST] = "SELECT " CONN_COLS " FROM connections c JOIN users u ON u.id = c.owner_id "
                    "WHERE c.workspace_id = ?1 AND (?2 IS NULL OR c.service_type = ?2) "
                    "AND (?3 IS NULL OR instr(lower(c.name), lower(?3)) > 0 "
                    "OR instr(c.slug, lower(?3)) > 0) AND (?4 IS NULL OR c.id > ?4) "
                    "ORDER BY c.id LIMIT ?5",
    [S_CONN_UPDATE] = "UPDATE connections SET name = ?3, slug = ?4, service_type = ?5, "
                      "auth_type = ?6, base_url = ?7, fulfillment = ?8, config = ?9, "
                      "updated_at = ?10, version = version + 1 "
                      "WHERE workspace_id = ?1 AND id = ?2 AND version = ?11",
    [S_CONN_DELETE] = "DELETE FROM connections WHERE workspace_id = ?1 AND id = ?2",
    [S_SECRET_PUT] = "INSERT INTO secrets (workspace_id, kind, owner_id, field, key_id, sealed, "
                     "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (workspace_id, "
                     "kind, owner_id, field) DO UPDATE SET key_id = excluded.key_id, "
                     "sealed = excluded.sealed, updated_at = excluded.updated_at",
    [S_SECRETS_GET] = "SELECT field, sealed FROM secrets WHERE workspace_id = ?1 AND kind = ?2 "
                      "AND owner_id = ?3 ORDER BY field",
    [S_SECRET_DEL_FIELD] = "DELETE FROM secrets WHERE workspace_id = ?1 AND kind = ?2 "
                           "AND owner_id = ?3 AND field = ?4",
    [S_SECRETS_DEL_OWNER] = "DELETE FROM secrets WHERE workspace_id = ?1 AND kind = ?2 "
                            "AND owner_id = ?3",
    [S_SECRETS_SCAN] = "SELECT id, workspace_id, kind, owner_id, field, sealed FROM secrets "
                       "WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_SECRET_CAS] = "UPDATE secrets SET sealed = ?3, key_id = ?4, updated_at = ?5 "
                     "WHERE id = ?1 AND sealed = ?2",
    [S_SECRET_KEYS] = "SELECT key_id, count(*) FROM secrets GROUP BY key_id ORDER BY key_id",
    [S_OP_INSERT] = "INSERT INTO connection_operations (connection_id, workspace_id, name, "
                    "position, def) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_OPS_DELETE] = "DELETE FROM connection_operations WHERE workspace_id = ?1 "
                     "AND connection_id = ?2",
    [S_OP_GET] = "SELECT def FROM connection_operations WHERE workspace_id = ?1 "
                 "AND connection_id = ?2 AND name = ?3",
    [S_OPS_LIST] = "SELECT name, def FROM connection_operations WHERE workspace_id = ?1 "
                   "AND connection_id = ?2 ORDER BY position",
    [S_SPEC_PUT] = "INSERT INTO connection_specs (connection_id, workspace_id, spec) "
                   "VALUES (?1, ?2, ?3) ON CONFLICT (connection_id) DO UPDATE SET "
                   "spec = excluded.spec",
    [S_SPEC_GET] = "SELECT spec FROM connection_specs WHERE workspace_id = ?1 "
                   "AND connection_id = ?2",
    [S_OP_PUT] = "INSERT INTO oauth_providers (id, definition, client_id, updated_at) VALUES "
                 "(?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET definition = excluded.definition,"
                 " client_id = coalesce(excluded.client_id, client_id), updated_at = "
                 "excluded.updated_at",
    [S_OP_GET_PROV] = "SELECT definition, client_id FROM oauth_providers WHERE id = ?1",
    [S_OP_LIST_PROV] = "SELECT id, definition FROM oauth_providers ORDER BY id",
    [S_OP_DEL_PROV] = "DELETE FROM oauth_providers WHERE id = ?1",
    [S_OST_PUT] = "INSERT INTO oauth_states (state_hash, provider_id, workspace_id, user_id, "
                  "connection_id, tiers, redirect_uri, verifier, expires_at) VALUES "
                  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_OST_TAKE] = "DELETE FROM oauth_states WHERE state_hash = ?1 RETURNING provider_id, "
                   "workspace_id, user_id, connection_id, tiers, redirect_uri, verifier, "
                   "expires_at",
    [S_OMETA_GET] = "SELECT provider_id, scopes, tiers, health, last_error, lease_owner, "
                    "obtained_at, expires_at, version, lease_until, refreshes, last_success_at, "
                    "last_error_code, consecutive_failures, total_failures, last_failure_at, "
                    "next_retry_at, forced_refreshes, health_changed_at "
                    "FROM oauth_tokens WHERE workspace_id = ?1 AND connection_id = ?2",
    [S_OMETA_UPSERT] = "INSERT INTO oauth_tokens (connection_id, workspace_id, provider_id, "
                       "scopes, tiers, obtained_at, expires_at, version, lease_owner, lease_until, "
                       "health, last_error, last_success_at, refreshes) VALUES (?1, ?2, ?3, ?4, "
                       "?5, ?6, ?7, 1, NULL, 0, 'healthy', NULL, ?6, ?8) ON CONFLICT "
                       "(connection_id) DO UPDATE SET provider_id = excluded.provider_id, "
                       "scopes = excluded.scopes, tiers = excluded.tiers, obtained_at = "
                       "excluded.obtained_at, expires_at = excluded.expires_at, version = "
                       "version + 1, lease_owner = NULL, lease_until = 0, health = 'healthy', "
                       "last_error = NULL, last_success_at = excluded.obtained_at, refreshes = "
                       "refreshes + excluded.refreshes, last_error_code = NULL, "
                       "consecutive_failures = 0, next_retry_at = 0, forced_refreshes = "
                       "forced_refreshes + ?10, health_changed_at = CASE WHEN health = 'healthy' "
                       "THEN health_changed_at ELSE excluded.obtained_at END "
                       "WHERE workspace_id = ?2 AND (?9 < 0 OR version = ?9)",
    [S_OLEASE] = "UPDATE oauth_tokens SET lease_owner = ?3, lease_until = ?5 WHERE "
                 "workspace_id = ?1 AND connection_id = ?2 AND version = ?6 AND "
                 "(lease_until < ?4 OR lease_owner = ?3)",
    [S_OHEALTH] = "UPDATE oauth_tokens SET health = ?3, last_error = ?4, lease_owner = NULL, "
                  "lease_until = 0 WHERE workspace_id = ?1 AND connection_id = ?2",
    [S_OHEALTH_SET] = "UPDATE oauth_tokens SET health = ?3, last_error_code = ?4, last_error = ?5, "
                      "consecutive_failures = ?6, total_failures = ?7, last_success_at = ?8, "
                      "last_failure_at = ?9, next_retry_at = ?10, health_changed_at = CASE WHEN "
                      "health = ?3 THEN health_changed_at ELSE ?11 END, lease_owner = CASE WHEN "
                      "?12 THEN NULL ELSE lease_owner END, lease_until = CASE WHEN ?12 THEN 0 "
                      "ELSE lease_until END WHERE workspace_id = ?1 AND connection_id = ?2",
    [S_OREVOKE_ADD] = "INSERT INTO oauth_revocations (workspace_id, connection_id, provider_id, "
                      "outcome, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* platform-wide on purpose (TEN-012 exception): may a provider be deleted? */
    [S_OPROV_USERS] = "SELECT count(*) FROM connections WHERE auth_type = 'oauth2' AND "
                      "json_extract(config, '$.auth.provider') = ?1",
    [S_ACCT_PUT] = "INSERT INTO accounts (workspace_id, kind, holder, connection_id, method, "
                   "provider_id, tiers, scopes, role, expires_at, created_at, updated_at) VALUES "
                   "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) ON CONFLICT (workspace_id, "
                   "kind, holder, connection_id) DO UPDATE SET method = excluded.method, "
                   "provider_id = excluded.provider_id, tiers = excluded.tiers, scopes = "
                   "excluded.scopes, role = excluded.role, expires_at = excluded.expires_at, "
                   "updated_at = excluded.updated_at",
    [S_ACCT_GET] = "SELECT a.kind, a.holder, a.connection_id, a.method, a.provider_id, a.tiers, "
                   "a.scopes, a.role, a.expires_at, a.created_at, a.updated_at, c.slug, c.name "
                   "FROM accounts a JOIN connections c ON c.id = a.connection_id AND "
                   "c.workspace_id = a.workspace_id WHERE a.workspace_id = ?1 AND a.kind = ?2 "
                   "AND a.holder = ?3 AND a.connection_id = ?4",
    [S_ACCT_LIST] = "SELECT a.kind, a.holder, a.connection_id, a.method, a.provider_id, a.tiers, "
                    "a.scopes, a.role, a.expires_at, a.created_at, a.updated_at, c.slug, c.name "
                    "FROM accounts a JOIN connections c ON c.id = a.connection_id AND "
                    "c.workspace_id = a.workspace_id WHERE a.workspace_id = ?1 AND a.kind = ?2 "
                    "AND a.holder = ?3 ORDER BY c.slug LIMIT 1000",
    [S_ACCT_LIST_CONN] = "SELECT a.kind, a.holder, a.connection_id, a.method, a.provider_id, "
                         "a.tiers, a.scopes, a.role, a.expires_at, a.created_at, a.updated_at, "
                         "c.slug, c.name FROM accounts a JOIN connections c ON c.id = "
                         "a.connection_id AND c.workspace_id = a.workspace_id WHERE "
                         "a.workspace_id = ?1 AND a.kind = ?2 AND a.connection_id = ?3 ORDER BY "
                         "a.holder LIMIT ?4",
    [S_ACCT_DEL] = "DELETE FROM accounts WHERE workspace_id = ?1 AND kind = ?2 AND holder = ?3 "
                   "AND connection_id = ?4",
    [S_RUN_INSERT] = "INSERT INTO runs (id, workspace_id, user_id, status, spec, state, error, "
                     "created_at, updated_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                     "?8, ?8, ?9)",
    [S_RUN_UPDATE] = "UPDATE runs SET status = ?3, state = ?4, error = ?5, updated_at = ?6, "
                     "finished_at = ?7 WHERE workspace_id = ?1 AND id = ?2",
    [S_RUN_GET] = "SELECT id, workspace_id, user_id, status, spec, state, error, created_at, "
                  "updated_at, finished_at FROM runs WHERE workspace_id = ?1 AND id = ?2",
    [S_INVITE_PUT] = "INSERT INTO participant_invites (token_hash, workspace_id, participant_id, "
                     "connection_id, created_by, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_INVITE_GET] = "SELECT workspace_id, participant_id, connection_id, created_by, expires_at "
                     "FROM participant_invites WHERE token_hash = ?1",
    [S_INVITE_TAKE] = "DELETE FROM participant_invites WHERE token_hash = ?1 RETURNING "
                      "workspace_id, participant_id, connection_id, created_by, expires_at",
    [S_PW_SET] = "INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, "
                 "updated_at = excluded.updated_at",
    [S_PW_GET] = "SELECT u.id, p.hash FROM users u LEFT JOIN user_passwords p "
                 "ON p.user_id = u.id WHERE u.name = ?1",
    [S_SESS_DEL_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [S_MEMBER_FIRST] = "SELECT workspace_id FROM memberships WHERE user_id = ?1 "
                       "ORDER BY workspace_id LIMIT 1",
    [S_SESS_ADD] = "INSERT INTO sessions (id_hash, user_id, workspace_id, created_at, "
                   "last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    [S_SESS_GET] = "SELECT u.id, u.name, u.platform_admin, w.id, w.slug, m.role, s.created_at, "
                   "s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id "
                   "JOIN workspaces w ON w.id = s.workspace_id "
                   "JOIN memberships m ON m.workspace_id = s.workspace_id "
                   "AND m.user_id = s.user_id WHERE s.id_hash = ?1",
    [S_SESS_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
    [S_SESS_DEL] = "DELETE FROM sessions WHERE id_hash = ?1",
    [S_LOGIN_FAILS] = "SELECT failures FROM login_failures WHERE name = ?1 "
                      "AND window_start >= ?2",
    [S_LOGIN_FAIL_ADD] = "INSERT INTO login_failures (name, failures, window_start) "
                         "VALUES (?1, 1, ?2) ON CONFLICT (name) DO UPDATE SET "
                         "failures = CASE WHEN window_start < ?3 THEN 1 ELSE failures + 1 END, "
                         "window_start = CASE WHEN window_start < ?3 THEN ?2 "
                         "ELSE window_start END RETURNING failures",
    [S_LOGIN_FAIL_PRUNE] = "DELETE FROM login_failures WHERE window_start < ?1",
    [S_LOGIN_FAIL_CLEAR] = "DELETE FROM login_failures WHERE name = ?1",
    /* platform-wide on purpose (TEN-012 exception): expired keys of every workspace go */
    [S_IDEM_PRUNE] = "DELETE FROM idempotency_keys WHERE created_at < ?1",
    [S_IDEM_CLAIM] = "INSERT INTO idempotency_keys (workspace_id, user_id, key_hash, "
                     "request_hash, connection_id, done, created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                     "0, ?6) ON CONFLICT DO NOTHING",
    [S_IDEM_GET] = "SELECT request_hash, connection_id, done FROM idempotency_keys WHERE "
                   "workspace_id = ?1 AND user_id = ?2 AND key_hash = ?3",
    [S_IDEM_DONE] = "UPDATE idempotency_keys SET done = 1 WHERE workspace_id = ?1 AND "
                    "user_id = ?2 AND key_hash = ?3",
};

struct sqlite_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
    sqlite3_stmt *rd_begin, *rd_end; /* the read scope's BEGIN / COMMIT */
    bool in_read;                    /* a read scope's transaction is open */
    /* memo.h: kept hot reads, valid while data_version (other connections'
     * commits) and total_changes (this one's writes) stay as they were */
    struct memo *memo;
    sqlite3_stmt *rd_dv; /* PRAGMA data_version */
    int64_t memo_dv, memo_tc;
    bool memo_ok; /* this read scope may use the memo */
    /* Quick scopes (see "read scope" below): SQLite's own mapping of the WAL
     * index, whose header every commit rewrites, and that header as it was
     * just before the snapshot the memo's rows agree with. */
    const volatile uint32_t *wal_hdr;
    uint32_t memo_hdr[WAL_HDR_WORDS];
    bool memo_hdr_ok;
    bool quick; /* this read scope has no transaction (yet): memo hits only */
};

#define SQ(s) ((struct sqlite_store *)(s))

/* ---- read scope ----
 * In WAL mode each autocommit statement is its own read transaction: two
 * fcntl() calls on the -shm file plus the snapshot set-up, ~55 % of a
 * primary-key lookup (perf-notes §6). A read scope runs its reads in one
 * deferred transaction. Anything that writes ends it first (stmt() checks
 * sqlite3_stmt_readonly, exec_sql() covers BEGIN IMMEDIATE), so a write
 * never upgrades the read snapshot and the reads after it see fresh data.
 *
 * A quick scope has no transaction at all: when the memo holds rows, this
 * connection wrote nothing since, and the WAL index header is exactly as it
 * was just before the snapshot those rows were read in, nothing was
 * committed since (every commit and every WAL restart rewrites the header;
 * its layout is SQLite's documented wal-index format, walformat.html §2.1,
 * read through SQLite's own mapping of it, xShmMap), so the memo answers as
 * the database would. That saves the BEGIN, data_version and COMMIT steps
 * and the two fcntl() calls of the read lock for a request whose reads are
 * all memo hits (an action call, from its second on). Its first read that
 * misses the memo opens the transaction then (stmt()), so reads before it
 * reflect the database as of the scope's start and reads after it a
 * snapshot at least as new; a header read while a commit is half-written
 * differs from every whole one, so it only costs a full check. */

static bool
step_done(sqlite3_stmt *q)
{
    int rc = q ? sqlite3_step(q) : SQLITE_ERROR;

    if (q)
        sqlite3_reset(q);
    return rc == SQLITE_DONE;
}

static void
sq_read_end(struct store *st)
{
    struct sqlite_store *s = SQ(st);

    s->memo_ok = false;
    if (!s->in_read)
        return;
    s->in_read = false;
    if (s->quick) {
        s->quick = false;
        return;
    }
    if (sqlite3_get_autocommit(s->db))
        return;
    if (s->rd_end == NULL)
        sqlite3_prepare_v3(s->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &s->rd_end, NULL);
    if (!step_done(s->rd_end))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* reads only: nothing to lose */
}

/* At the start of a read scope: empties the memo unless nothing was
 * committed since its rows were read, by another connection (data_version;
 * reading it also takes the scope's snapshot) or by this one (total_changes
 * counts every row this connection changed, committed or rolled back). */
static void
memo_check(struct sqlite_store *s)
{
    int64_t dv = -1, tc = sqlite3_total_changes64(s->db);

    if (s->rd_dv == NULL)
        sqlite3_prepare_v3(s->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, &s->rd_dv,
                           NULL);
    if (s->rd_dv != NULL && sqlite3_step(s->rd_dv) == SQLITE_ROW)
        dv = sqlite3_column_int64(s->rd_dv, 0);
    if (s->rd_dv != NULL)
        sqlite3_reset(s->rd_dv);
    if (dv < 0 || dv != s->memo_dv || tc != s->memo_tc) {
        memo_clear(s->memo);
        s->memo_dv = dv;
        s->memo_tc = tc;
    }
    s->memo_ok = dv >= 0;
}

static atomic_uint_fast64_t g_quick_scopes;

uint64_t
store_sqlite_quick_scopes(void)
{
    return atomic_load(&g_quick_scopes);
}

/* The WAL index header: SQLite's first copy, which a commit writes last. */
static void
wal_hdr_read(const struct sqlite_store *s, uint32_t out[WAL_HDR_WORDS])
{
    for (int i = 0; i < WAL_HDR_WORDS; i++)
        out[i] = __atomic_load_n(&s->wal_hdr[i], __ATOMIC_ACQUIRE);
}

/* SQLite's mapping of the first WAL index region (as SQLite itself maps it:
 * no file of ours is opened on the -shm, whose closing would drop SQLite's
 * POSIX locks on it). Stays mapped until the connection closes. Without it
 * (another VFS, an in-memory index) every scope is a full one. */
static void
wal_hdr_map(struct sqlite_store *s)
{
    sqlite3_file *f = NULL;
    void volatile *p = NULL;

    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
        f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
        f->pMethods->xShmMap == NULL)
        return;
    if (f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION, 0, &p) != SQLITE_OK || p == NULL)
        return;
    if (((const volatile uint32_t *)p)[0] != WAL_INDEX_VERSION) {
        log_kv(LOG_INFO, "store.quick_scopes_off", "s:why",
               "this SQLite's WAL index format is not the one connhub knows", "I:wal_index_version",
               (long long)((const volatile uint32_t *)p)[0], LOG_END);
        return;
    }
    s->wal_hdr = (const volatile uint32_t *)p;
}

/* May this scope go without a transaction? */
static bool
quick_ok(struct sqlite_store *s)
{
    uint32_t now[WAL_HDR_WORDS];

    if (s->memo == NULL || s->wal_hdr == NULL || !s->memo_hdr_ok || memo_bytes(s->memo) == 0 ||
        sqlite3_total_changes64(s->db) != s->memo_tc)
        return false;
    wal_hdr_read(s, now);
    return memcmp(now, s->memo_hdr, sizeof(now)) == 0;
}

/* Opens the scope's transaction and checks the memo against it. */
static void
scope_open(struct sqlite_store *s)
{
    uint32_t hdr[WAL_HDR_WORDS];

    s->quick = false;
    if (s->wal_hdr != NULL) /* before the snapshot: the memo's rows are at least this new */
        wal_hdr_read(s, hdr);
    if (s->rd_begin == NULL)
        sqlite3_prepare_v3(s->db, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT, &s->rd_begin,
                           NULL);
    s->in_read = step_done(s->rd_begin);
    s->memo_hdr_ok = false;
    if (s->in_read && s->memo) {
        memo_check(s);
        if (s->memo_ok && s->wal_hdr != NULL) {
            memcpy(s->memo_hdr, hdr, sizeof(hdr));
            s->memo_hdr_ok = true;
        }
    }
}

static void
sq_read_begin(struct store *st)
{
    struct sqlite_store *s = SQ(st);

    if (s->in_read || !sqlite3_get_autocommit(s->db))
        return;
    if (quick_ok(s)) {
        s->in_read = s->quick = s->memo_ok = true;
        atomic_fetch_add(&g_quick_scopes, 1);
        return;
    }
    scope_open(s);
}

static enum err
db_err(struct sqlite_store *s, int rc, struct errinfo *ei)
{
    int ext = sqlite3_extended_errcode(s->db);

    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return err_set(ei, ERR_CONFLICT, "conflict", NULL, "already exists");
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return store_err_busy(ei);
    log_kv(LOG_ERROR, "store.sqlite_error", "i:code", ext, "s:detail", sqlite3_errmsg(s->db),
           LOG_END);
    if (rc == SQLITE_FULL)
        return err_set(ei, ERR_STORE, "store_full", NULL, "the database disk is full");
    return err_set(ei, ERR_STORE, "store_error", NULL, "database error");
}

static sqlite3_stmt *
stmt(struct sqlite_store *s, enum stmt_id id)
{
    if (s->st[id] == NULL && sqlite3_prepare_v3(s->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                                &s->st[id], NULL) != SQLITE_OK) {
        log_kv(LOG_ERROR, "store.prepare_failed", "i:stmt", (int)id, "s:detail",
               sqlite3_errmsg(s->db), LOG_END);
        return NULL;
    }
    if (s->in_read && !sqlite3_stmt_readonly(s->st[id]))
        sq_read_end(&s->base);
    else if (s->quick) /* the scope's first read the memo cannot answer */
        scope_open(s);
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    return s->st[id];
}

static void
bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

static char *
col_text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static unsigned char *
col_blob(sqlite3_stmt *q, int i, size_t *len)
{
    const void *b = sqlite3_column_blob(q, i);
    int n = sqlite3_column_bytes(q, i);
    unsigned char *p = malloc(n > 0 ? (size_t)n : 1);

    if (p == NULL)
        abort();
    if (n > 0)
        memcpy(p, b, (size_t)n);
    *len = (size_t)(n > 0 ? n : 0);
    return p;
}

static const char *
cols_text(const struct cols *c, int i)
{
    return (const char *)sqlite3_column_text(c->src, i);
}

static int64_t
cols_i64(const struct cols *c, int i)
{
    return sqlite3_column_int64(c->src, i);
}

static unsigned char *
cols_blob(const struct cols *c, int i, size_t *len)
{
    return col_blob(c->src, i, len);
}

/* The current row of q, for the rows_* decoders. */
#define ROW(q)                                                                                     \
    {                                                                                              \
        (q), 0, cols_text, cols_i64, cols_blob                                                     \
    }

/* Runs a statement that returns no rows. */
static enum err
exec_stmt(struct sqlite_store *s, sqlite3_stmt *q, struct errinfo *ei)
{
    int rc = sqlite3_step(q);
    enum err e = rc == SQLITE_DONE ? ERR_OK : db_err(s, rc, ei);

    sqlite3_reset(q);
    return e;
}

static enum err
exec_sql(struct sqlite_store *s, const char *text, struct errinfo *ei)
{
    char *msg = NULL;
    int rc;

    sq_read_end(&s->base);
    rc = sqlite3_exec(s->db, text, NULL, NULL, &msg);

    sqlite3_free(msg);
    return rc == SQLITE_OK ? ERR_OK : db_err(s, rc, ei);
}

static enum err
tx_begin(struct sqlite_store *s, struct errinfo *ei)
{
    return exec_sql(s, "BEGIN IMMEDIATE", ei);
}

static enum err
tx_end(struct sqlite_store *s, enum err e, struct errinfo *ei)
{
    if (e == ERR_OK)
        return exec_sql(s, "COMMIT", ei);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

/* ---- open, pragmas, migrations ---- */

static enum err
migrate(struct sqlite_store *s, struct errinfo *ei)
{
    sqlite3_stmt *q = NULL;
    int64_t have = 0;
    size_t want = sizeof(migrations) / sizeof(migrations[0]);
    enum err e;

    e = exec_sql(s,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "applied_at INTEGER NOT NULL)",
                 ei);
    if (e != ERR_OK)
        return e;
    e = tx_begin(s, ei);
    if (e != ERR_OK)
        return e;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    }
    have = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (have > (int64_t)want) {
        return tx_end(s, store_err_schema_too_new(ei, have, want), ei);
    }
    for (size_t v = (size_t)have + 1; v <= want && e == ERR_OK; v++) {
        char rec[128];
        e = exec_sql(s, migrations[v - 1], ei);
        snprintf(rec, sizeof(rec), "INSERT INTO schema_migrations VALUES (%zu, %lld)", v,
                 (long long)now_ms());
        if (e == ERR_OK)
            e = exec_sql(s, rec, ei);
        if (e == ERR_OK)
            log_kv(LOG_INFO, "store.migrated", "I:version", (long long)v, LOG_END);
    }
    return tx_end(s, e, ei);
}

static const struct store_ops sqlite_ops;

static enum err
check_pragmas(struct sqlite_store *s, struct errinfo *ei)
{
    sqlite3_stmt *q = NULL;
    bool wal = false;

    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
    sqlite3_finalize(q);
    if (!wal)
        return err_set(ei, ERR_STORE, "wal_unavailable", "--db",
                       "could not put the database in WAL mode (is it on a network file system?)");
    return ERR_OK;
}

/* The pragmas and the migrations, tried again while the database is busy. The busy
 * timeout does not cover every wait: when waiting could deadlock, SQLite answers
 * SQLITE_BUSY at once without calling the busy handler. Servers opening a new database
 * together meet that: turning it into WAL needs an exclusive lock while another one holds
 * a write lock it cannot commit past this one's read lock. Every step can run again (the
 * pragmas are idempotent, a migration runs in one transaction that either committed or
 * rolled back), so the whole sequence is retried every OPEN_BUSY_RETRY_MS for at most
 * BUSY_TIMEOUT_MS. */
#ifdef CONNHUB_TEST
static int64_t g_open_busy_ms = BUSY_TIMEOUT_MS;

void
store_sqlite_set_open_busy_ms(int64_t ms)
{
    g_open_busy_ms = ms > 0 ? ms : BUSY_TIMEOUT_MS;
}
#define OPEN_BUSY_MS g_open_busy_ms
#else
#define OPEN_BUSY_MS BUSY_TIMEOUT_MS
#endif

static enum err
open_steps(struct sqlite_store *s, struct errinfo *ei)
{
    int64_t until = mono_ms() + OPEN_BUSY_MS;

    for (;;) {
        struct errinfo mine = {0};
        enum err e = exec_sql(s,
                              "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                              " PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
                              " PRAGMA trusted_schema = OFF;",
                              &mine);
        if (e == ERR_OK)
            e = check_pragmas(s, &mine);
        if (e == ERR_OK)
            e = migrate(s, &mine);
        if (e == ERR_OK || strcmp(mine.code, "store_busy") != 0 || mono_ms() >= until) {
            if (e != ERR_OK && ei != NULL)
                *ei = mine;
            return e;
        }
        usleep(OPEN_BUSY_RETRY_MS * 1000);
    }
}

enum err
store_sqlite_open(const char *path, struct store **out, struct errinfo *ei)
{
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    int rc;
    enum err e;

    s->base.ops = &sqlite_ops;
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                             SQLITE_OPEN_EXRESCODE,
                         NULL);
    if (rc != SQLITE_OK) {
        e = err_set(ei, ERR_STORE, "db_open_failed", "--db", "cannot open database %s: %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    e = open_steps(s, ei);
    if (e != ERR_OK)
        goto fail;
    chmod(path, 0600); /* the file holds only sealed secrets, but metadata is private too */
    s->memo = memo_new();
    wal_hdr_map(s); /* after the migrations' reads: the WAL index exists */
    *out = &s->base;
    return ERR_OK;
fail:
    if (s->db)
        sqlite3_close_v2(s->db);
    free(s);
    return e;
}

#ifdef CONNHUB_TEST
enum err
store_sqlite_pragma_int(struct store *st, const char *pragma, int *out)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = NULL;
    char text[80];
    enum err e = ERR_STORE;

    if (st == NULL || st->ops != &sqlite_ops || pragma == NULL || pragma[0] == '\0' ||
        strlen(pragma) > 48 || strspn(pragma, "abcdefghijklmnopqrstuvwxyz_") != strlen(pragma))
        return ERR_INVALID;
    snprintf(text, sizeof(text), "PRAGMA %s", pragma);
    if (sqlite3_prepare_v2(s->db, text, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        *out = sqlite3_column_int(q, 0);
        e = ERR_OK;
    }
    sqlite3_finalize(q);
    return e;
}
#endif

static void
sq_close(struct store *st)
{
    struct sqlite_store *s = SQ(st);

    sq_read_end(st);
    sqlite3_finalize(s->rd_begin);
    sqlite3_finalize(s->rd_end);
    sqlite3_finalize(s->rd_dv);
    memo_free(s->memo);
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

/* ---- memoized reads (memo.h) ---- */

static void
bind_arg(sqlite3_stmt *q, int i, const struct memo_arg *a)
{
    if (a->is_int)
        sqlite3_bind_int64(q, i, a->i);
    else if (a->p == NULL)
        sqlite3_bind_null(q, i);
    else if (a->blob)
        sqlite3_bind_blob(q, i, a->p, (int)a->n, SQLITE_STATIC);
    else
        sqlite3_bind_text(q, i, a->p, (int)a->n, SQLITE_STATIC);
}

/* Text parameter s (NULL: SQL NULL). */
static struct memo_arg
arg_text(const char *s)
{
    struct memo_arg a = {false, false, 0, s, s ? strlen(s) : 0};
    return a;
}

static struct memo_arg
arg_int(int64_t i)
{
    struct memo_arg a = {true, false, i, NULL, 0};
    return a;
}

/* The rows of statement id with args: kept ones when this read scope may use
 * the memo, else read now (and kept when the scope allows). Borrowed until
 * the next store call; free *tmp (memo_rows_free) when it is set. */
static enum err
rows_of(struct sqlite_store *s, enum stmt_id id, const struct memo_arg *args, int nargs,
        const struct memo_rows **out, struct memo_rows **tmp, struct errinfo *ei)
{
    struct memo_key k = {id, args, nargs};
    bool use = s->memo_ok && s->in_read;
    struct memo_rows *r;
    sqlite3_stmt *q;
    int rc, nc;

    *out = NULL;
    *tmp = NULL;
    if (use && (*out = memo_get(s->memo, &k)) != NULL)
        return ERR_OK;
    q = stmt(s, id);
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    for (int a = 0; a < nargs; a++)
        bind_arg(q, a + 1, &args[a]);
    nc = sqlite3_column_count(q);
    r = memo_rows_new(nc);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memo_rows_add(r);
        for (int c = 0; c < nc; c++) {
            int t = sqlite3_column_type(q, c);
            int64_t iv = sqlite3_column_int64(q, c);
            const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(q, c)
                                             : (const void *)sqlite3_column_text(q, c);
            memo_rows_set(r, c, t == SQLITE_NULL, iv, p, (size_t)sqlite3_column_bytes(q, c));
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        memo_rows_free(r);
        return db_err(s, rc, ei);
    }
    /* stmt() may have opened a quick scope's transaction (and cleared the
     * memo), or ended the scope (it does for writes only: not here) */
    if (use && s->memo_ok && s->in_read && memo_put(s->memo, &k, r) != NULL) {
        *out = r;
        return ERR_OK;
    }
    *out = *tmp = r;
    return ERR_OK;
}

/* ---- identities ---- */

static enum err
sq_user_add(struct store *st, const char *name, bool pa, int64_t *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_USER_ADD);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    sqlite3_bind_int(q, 2, pa ? 1 : 0);
    sqlite3_bind_int64(q, 3, now_ms());
    e = exec_stmt(s, q, ei);
    if (e == ERR_CONFLICT)
        return store_err_user_exists(ei, name);
    if (e == ERR_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return e;
}

static enum err
sq_user_get(struct store *st, const char *name, struct user_row *out, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_USER_GET);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_user(&c, out);
        sqlite3_reset(q);
        return ERR_OK;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return store_err_user_not_found(ei, name);
    return db_err(s, rc, ei);
}

static enum err
sq_user_count(struct store *st, int64_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_USER_COUNT);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return db_err(s, rc, ei);
    }
    *n = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return ERR_OK;
}

static enum err
sq_workspace_add(struct store *st, const char *slug, int64_t *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_WS_ADD);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, slug);
    sqlite3_bind_int64(q, 2, now_ms());
    e = exec_stmt(s, q, ei);
    if (e == ERR_CONFLICT)
        return store_err_workspace_exists(ei, slug);
    if (e == ERR_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return e;
}

static enum err
sq_workspace_get(struct store *st, const char *slug, int64_t *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_WS_GET);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, slug);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_workspace_not_found(ei, slug);
    return db_err(s, rc, ei);
}

static enum err
sq_member_set(struct store *st, int64_t ws, int64_t user, enum role role, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_MEMBER_SET);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    sqlite3_bind_int64(q, 2, user);
    bind_text(q, 3, role_name(role));
    return exec_stmt(s, q, ei);
}

static enum err
sq_member_role(struct store *st, int64_t ws, int64_t user, enum role *out, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_MEMBER_ROLE);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    sqlite3_bind_int64(q, 2, user);
    rc = sqlite3_step(q);
    *out = ROLE_NONE;
    if (rc == SQLITE_ROW && !role_parse((const char *)sqlite3_column_text(q, 0), out))
        *out = ROLE_NONE;
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_not_member(ei);
    return db_err(s, rc, ei);
}

static enum err
sq_token_add(struct store *st, const unsigned char *hash, int64_t user, int64_t ws,
             const char *label, int64_t *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_TOKEN_ADD);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, user);
    sqlite3_bind_int64(q, 3, ws);
    bind_text(q, 4, label);
    sqlite3_bind_int64(q, 5, now_ms());
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return e;
}

static enum err
sq_token_lookup(struct store *st, const unsigned char *hash, struct principal *p,
                struct errinfo *ei)
{
    struct memo_arg a = {false, true, 0, hash, 32};
    const struct memo_rows *r;
    struct memo_rows *tmp;
    enum err e = rows_of(SQ(st), S_TOKEN_LOOKUP, &a, 1, &r, &tmp, ei);

    if (e == ERR_OK && memo_rows_count(r) == 0) {
        e = store_err_invalid_token(ei);
    } else if (e == ERR_OK) {
        struct cols c = memo_rows_cols(r, 0);
        rows_principal(&c, p);
    }
    memo_rows_free(tmp);
    return e;
}

/* ---- connections ---- */

static void
read_conn(sqlite3_stmt *q, struct conn_row *r)
{
    struct cols c = ROW(q);
    rows_conn(&c, r);
}

/* Writes ops (replacing any) and the spec for connection r. */
static enum err
put_ops(struct sqlite_store *s, const struct conn_row *r, const struct op_row *ops, size_t n,
        bool replace, const char *spec, struct errinfo *ei)
{
    sqlite3_stmt *q;
    enum err e = ERR_OK;

    if (replace) {
        q = stmt(s, S_OPS_DELETE);
        if (q == NULL)
            return db_err(s, SQLITE_ERROR, ei);
        sqlite3_bind_int64(q, 1, r->workspace_id);
        bind_text(q, 2, r->id);
        e = exec_stmt(s, q, ei);
    }
    for (size_t i = 0; replace && e == ERR_OK && i < n; i++) {
        q = stmt(s, S_OP_INSERT);
        if (q == NULL)
            return db_err(s, SQLITE_ERROR, ei);
        bind_text(q, 1, r->id);
        sqlite3_bind_int64(q, 2, r->workspace_id);
        bind_text(q, 3, ops[i].name);
        sqlite3_bind_int64(q, 4, (int64_t)i);
        bind_text(q, 5, ops[i].def);
        e = exec_stmt(s, q, ei);
        if (e == ERR_CONFLICT)
            e = store_err_duplicate_op(ei, ops[i].name);
    }
    if (e == ERR_OK && spec) {
        q = stmt(s, S_SPEC_PUT);
        if (q == NULL)
            return db_err(s, SQLITE_ERROR, ei);
        bind_text(q, 1, r->id);
        sqlite3_bind_int64(q, 2, r->workspace_id);
        bind_text(q, 3, spec);
        e = exec_stmt(s, q, ei);
    }
    return e;
}

static enum err
put_secrets(struct sqlite_store *s, int64_t ws, const char *kind, const char *owner,
            const struct sealed_set *set, struct errinfo *ei)
{
    enum err e = ERR_OK;

    for (size_t i = 0; set && i < set->n && e == ERR_OK; i++) {
        sqlite3_stmt *q = stmt(s, S_SECRET_PUT);
        const unsigned char *d = set->v[i].data;
        uint32_t kid = sealed_key_id(d, set->v[i].len);
        if (q == NULL)
            return db_err(s, SQLITE_ERROR, ei);
        sqlite3_bind_int64(q, 1, ws);
        bind_text(q, 2, kind);
        bind_text(q, 3, owner);
        bind_text(q, 4, set->v[i].field);
        sqlite3_bind_int64(q, 5, (int64_t)kid);
        sqlite3_bind_blob(q, 6, d, (int)set->v[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, now_ms());
        e = exec_stmt(s, q, ei);
    }
    return e;
}

static enum err
sq_conn_insert(struct store *st, const struct conn_row *r, const struct op_row *ops, size_t nops,
               const char *spec, const struct sealed_set *secrets, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    enum err e;

    e = tx_begin(s, ei);
    if (e != ERR_OK)
        return e;
    q = stmt(s, S_CONN_INSERT);
    if (q == NULL)
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    bind_text(q, 1, r->id);
    sqlite3_bind_int64(q, 2, r->workspace_id);
    sqlite3_bind_int64(q, 3, r->owner_id);
    bind_text(q, 4, r->name);
    bind_text(q, 5, r->slug);
    bind_text(q, 6, r->service_type);
    bind_text(q, 7, r->auth_type);
    bind_text(q, 8, r->base_url);
    bind_text(q, 9, r->fulfillment);
    bind_text(q, 10, r->config);
    sqlite3_bind_int64(q, 11, r->created_at);
    e = exec_stmt(s, q, ei);
    if (e == ERR_CONFLICT)
        e = store_err_slug_taken(ei, r->slug);
    if (e == ERR_OK)
        e = put_ops(s, r, ops, nops, true, spec, ei);
    if (e == ERR_OK)
        e = put_secrets(s, r->workspace_id, "connection", r->id, secrets, ei);
    return tx_end(s, e, ei);
}

static enum err
sq_conn_get(struct store *st, int64_t ws, const char *id, const char *slug, struct conn_row *out,
            struct errinfo *ei)
{
    struct memo_arg a[2] = {arg_int(ws), arg_text(id ? id : slug)};
    const struct memo_rows *r;
    struct memo_rows *tmp;
    enum err e;

    memset(out, 0, sizeof(*out));
    e = rows_of(SQ(st), id ? S_CONN_GET_ID : S_CONN_GET_SLUG, a, 2, &r, &tmp, ei);
    if (e == ERR_OK && memo_rows_count(r) == 0) {
        e = store_err_conn_not_found(ei, id ? "id" : "slug");
    } else if (e == ERR_OK) {
        struct cols c = memo_rows_cols(r, 0);
        rows_conn(&c, out);
    }
    memo_rows_free(tmp);
    return e;
}

static enum err
sq_conn_list(struct store *st, int64_t ws, const struct conn_filter *f, struct conn_row **rows,
             size_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_CONN_LIST);
    struct conn_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, f ? f->service_type : NULL);
    bind_text(q, 3, f ? f->search : NULL);
    bind_text(q, 4, f ? f->after_id : NULL);
    sqlite3_bind_int64(q, 5, f && f->limit ? (int64_t)f->limit : (int64_t)MAX_LIST_PAGE);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof(*v));
            if (v == NULL)
                abort();
        }
        memset(&v[cnt], 0, sizeof(v[cnt]));
        read_conn(q, &v[cnt++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        conn_rows_free(v, cnt);
        return db_err(s, rc, ei);
    }
    *rows = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
sq_conn_update(struct store *st, const struct conn_row *r, const struct op_row *ops, size_t nops,
               bool replace_ops, const char *spec, const struct sealed_set *put,
               const char *const *keep, size_t nkeep, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    char **fields = NULL;
    size_t nf = 0;
    enum err e;

    e = tx_begin(s, ei);
    if (e != ERR_OK)
        return e;
    q = stmt(s, S_CONN_UPDATE);
    if (q == NULL)
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    sqlite3_bind_int64(q, 1, r->workspace_id);
    bind_text(q, 2, r->id);
    bind_text(q, 3, r->name);
    bind_text(q, 4, r->slug);
    bind_text(q, 5, r->service_type);
    bind_text(q, 6, r->auth_type);
    bind_text(q, 7, r->base_url);
    bind_text(q, 8, r->fulfillment);
    bind_text(q, 9, r->config);
    sqlite3_bind_int64(q, 10, now_ms());
    sqlite3_bind_int64(q, 11, r->version);
    e = exec_stmt(s, q, ei);
    if (e == ERR_CONFLICT)
        e = store_err_slug_taken(ei, r->slug);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = store_err_concurrent_update(ei);
    if (e == ERR_OK)
        e = put_ops(s, r, ops, nops, replace_ops, spec, ei);
    if (e == ERR_OK)
        e = store_fields_of(st, r->workspace_id, "connection", r->id, &fields, &nf, ei);
    for (size_t i = 0; e == ERR_OK && i < nf; i++) {
        if (secret_kept(fields[i], keep, nkeep, put))
            continue;
        q = stmt(s, S_SECRET_DEL_FIELD);
        if (q == NULL) {
            e = db_err(s, SQLITE_ERROR, ei);
            break;
        }
        sqlite3_bind_int64(q, 1, r->workspace_id);
        bind_text(q, 2, "connection");
        bind_text(q, 3, r->id);
        bind_text(q, 4, fields[i]);
        e = exec_stmt(s, q, ei);
    }
    string_list_free(fields, nf);
    if (e == ERR_OK)
        e = put_secrets(s, r->workspace_id, "connection", r->id, put, ei);
    return tx_end(s, e, ei);
}

static enum err
sq_conn_delete(struct store *st, int64_t ws, const char *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    enum err e;

    e = tx_begin(s, ei);
    if (e != ERR_OK)
        return e;
    q = stmt(s, S_CONN_DELETE);
    if (q == NULL)
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, id);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = store_err_conn_not_found(ei, "id");
    if (e == ERR_OK) {
        q = stmt(s, S_SECRETS_DEL_OWNER);
        if (q == NULL)
            return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
        sqlite3_bind_int64(q, 1, ws);
        bind_text(q, 2, "connection");
        bind_text(q, 3, id);
        e = exec_stmt(s, q, ei);
    }
    return tx_end(s, e, ei);
}

/* ---- secrets ---- */

static enum err
sq_secrets_get(struct store *st, int64_t ws, const char *kind, const char *owner,
               struct sealed_set *out, struct errinfo *ei)
{
    struct memo_arg a[3] = {arg_int(ws), arg_text(kind), arg_text(owner)};
    const struct memo_rows *r;
    struct memo_rows *tmp;
    enum err e = rows_of(SQ(st), S_SECRETS_GET, a, 3, &r, &tmp, ei);

    out->v = NULL;
    out->n = 0;
    for (size_t i = 0; e == ERR_OK && i < memo_rows_count(r); i++) {
        struct cols c = memo_rows_cols(r, i);
        size_t len;
        unsigned char *d = c.blob(&c, 1, &len);
        e = sealed_set_add(out, c.text(&c, 0), d, len);
    }
    memo_rows_free(tmp);
    if (e != ERR_OK)
        sealed_set_release(out);
    return e;
}

static enum err
sq_secrets_scan(struct store *st, int64_t after, size_t limit, struct secret_row **rows, size_t *n,
                struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SECRETS_SCAN);
    struct secret_row *v;
    size_t cnt = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    v = xcalloc(limit ? limit : 1, sizeof(*v));
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int64(q, 2, (int64_t)limit);
    while (cnt < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_secret(&c, &v[cnt++]);
    }
    sqlite3_reset(q);
    if (cnt < limit && rc != SQLITE_DONE) {
        secret_rows_free(v, cnt);
        return db_err(s, rc, ei);
    }
    *rows = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
sq_secret_cas(struct store *st, int64_t id, const unsigned char *old, size_t oldlen, uint32_t kid,
              const unsigned char *neu, size_t newlen, bool *swapped, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SECRET_CAS);
    enum err e;

    *swapped = false;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_blob(q, 2, old, (int)oldlen, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, neu, (int)newlen, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (int64_t)kid);
    sqlite3_bind_int64(q, 5, now_ms());
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK)
        *swapped = sqlite3_changes(s->db) == 1;
    return e;
}

static enum err
sq_secret_key_counts(struct store *st, struct key_count **out, size_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SECRET_KEYS);
    struct key_count *v = NULL;
    size_t cnt = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        v = realloc(v, (cnt + 1) * sizeof(*v));
        if (v == NULL)
            abort();
        v[cnt].key_id = (uint32_t)sqlite3_column_int64(q, 0);
        v[cnt].count = sqlite3_column_int64(q, 1);
        cnt++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        free(v);
        return db_err(s, rc, ei);
    }
    *out = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
text_query(struct sqlite_store *s, enum stmt_id id, int64_t ws, const char *a, const char *b,
           char **out, const char *what, struct errinfo *ei)
{
    sqlite3_stmt *q = stmt(s, id);
    int rc;

    *out = NULL;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, a);
    if (b)
        bind_text(q, 3, b);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = col_text(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_not_found(ei, what);
    return db_err(s, rc, ei);
}

static enum err
sq_op_get(struct store *st, int64_t ws, const char *conn_id, const char *name, char **def,
          struct errinfo *ei)
{
    struct memo_arg a[3] = {arg_int(ws), arg_text(conn_id), arg_text(name)};
    const struct memo_rows *r;
    struct memo_rows *tmp;
    enum err e = rows_of(SQ(st), S_OP_GET, a, 3, &r, &tmp, ei);

    *def = NULL;
    if (e == ERR_OK && memo_rows_count(r) == 0) {
        e = store_err_not_found(ei, "operation");
    } else if (e == ERR_OK) {
        struct cols c = memo_rows_cols(r, 0);
        *def = cols_strdup(&c, 0);
    }
    memo_rows_free(tmp);
    return e;
}

static enum err
sq_spec_get(struct store *st, int64_t ws, const char *conn_id, char **spec, struct errinfo *ei)
{
    return text_query(SQ(st), S_SPEC_GET, ws, conn_id, NULL, spec, "spec", ei);
}

static enum err
sq_ops_list(struct store *st, int64_t ws, const char *conn_id, struct op_row **out, size_t *n,
            struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OPS_LIST);
    struct op_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn_id);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof(*v));
            if (v == NULL)
                abort();
        }
        v[cnt].name = col_text(q, 0);
        v[cnt].def = col_text(q, 1);
        cnt++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        op_rows_free(v, cnt);
        return db_err(s, rc, ei);
    }
    *out = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
sq_secret_put(struct store *st, int64_t ws, const char *kind, const char *owner, const char *field,
              const unsigned char *data, size_t len, struct errinfo *ei)
{
    struct sealed_set set = {0};
    struct sealed one = {(char *)field, (unsigned char *)data, len};

    set.v = &one;
    set.n = 1;
    return put_secrets(SQ(st), ws, kind, owner, &set, ei);
}

static enum err
sq_secret_delete(struct store *st, int64_t ws, const char *kind, const char *owner,
                 const char *field, bool *deleted, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SECRET_DEL_FIELD);
    enum err e;

    *deleted = false;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, kind);
    bind_text(q, 3, owner);
    bind_text(q, 4, field);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK)
        *deleted = sqlite3_changes(s->db) > 0;
    return e;
}

/* ---- OAuth ---- */

static enum err
sq_oprov_put(struct store *st, const char *id, const char *def, const char *client_id,
             struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OP_PUT);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, id);
    bind_text(q, 2, def);
    bind_text(q, 3, client_id);
    sqlite3_bind_int64(q, 4, now_ms());
    return exec_stmt(s, q, ei);
}

static enum err
sq_oprov_get(struct store *st, const char *id, char **def, char **client_id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OP_GET_PROV);
    int rc;

    *def = NULL;
    if (client_id)
        *client_id = NULL;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *def = col_text(q, 0);
        if (client_id)
            *client_id = col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_provider_not_found(ei, id);
    return db_err(s, rc, ei);
}

static enum err
sq_oprov_list(struct store *st, struct op_row **out, size_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OP_LIST_PROV);
    struct op_row *v = NULL;
    size_t cnt = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        v = realloc(v, (cnt + 1) * sizeof(*v));
        if (v == NULL)
            abort();
        v[cnt].name = col_text(q, 0);
        v[cnt].def = col_text(q, 1);
        cnt++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        op_rows_free(v, cnt);
        return db_err(s, rc, ei);
    }
    *out = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
sq_oprov_delete(struct store *st, const char *id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OP_DEL_PROV);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, id);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        e = store_err_provider_not_found(ei, id);
    return e;
}

static enum err
sq_ostate_put(struct store *st, const struct oauth_state_row *r, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OST_PUT);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, r->state_hash);
    bind_text(q, 2, r->provider_id);
    sqlite3_bind_int64(q, 3, r->workspace_id);
    sqlite3_bind_int64(q, 4, r->user_id);
    bind_text(q, 5, r->connection_id);
    bind_text(q, 6, r->tiers);
    bind_text(q, 7, r->redirect_uri);
    sqlite3_bind_blob(q, 8, r->verifier, (int)r->verifier_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, r->expires_at);
    return exec_stmt(s, q, ei);
}

static enum err
sq_ostate_take(struct store *st, const char *hash, struct oauth_state_row *r, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OST_TAKE);
    int rc;

    memset(r, 0, sizeof(*r));
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, hash);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_oauth_state(&c, hash, r);
        rc = sqlite3_step(q); /* finish the statement so the delete commits */
    }
    sqlite3_reset(q);
    if (r->provider_id)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_unknown_state(ei);
    return db_err(s, rc, ei);
}

static enum err
sq_ometa_get(struct store *st, int64_t ws, const char *conn, struct oauth_meta *m,
             struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OMETA_GET);
    int rc;

    memset(m, 0, sizeof(*m));
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_oauth_meta(&c, m);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_not_connected(ei);
    return db_err(s, rc, ei);
}

static enum err
sq_ocommit(struct store *st, int64_t ws, const char *conn, const struct oauth_meta *m,
           const struct sealed_set *tokens, int64_t expect, bool *committed, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    enum err e;

    *committed = false;
    e = tx_begin(s, ei);
    if (e != ERR_OK)
        return e;
    q = stmt(s, S_OMETA_UPSERT);
    if (q == NULL)
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    bind_text(q, 1, conn);
    sqlite3_bind_int64(q, 2, ws);
    bind_text(q, 3, m->provider_id);
    bind_text(q, 4, m->scopes);
    bind_text(q, 5, m->tiers);
    sqlite3_bind_int64(q, 6, m->obtained_at);
    sqlite3_bind_int64(q, 7, m->expires_at);
    sqlite3_bind_int64(q, 8, m->refreshes);
    sqlite3_bind_int64(q, 9, expect);
    sqlite3_bind_int64(q, 10, m->forced_refreshes);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0) /* someone else committed first */
        return tx_end(s, ERR_CONFLICT, ei);
    if (e == ERR_OK)
        e = put_secrets(s, ws, "connection", conn, tokens, ei);
    e = tx_end(s, e, ei);
    *committed = e == ERR_OK;
    return e;
}

static enum err
sq_olease(struct store *st, int64_t ws, const char *conn, const char *owner, int64_t version,
          int64_t now, int64_t until, bool *got, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OLEASE);
    enum err e;

    *got = false;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn);
    bind_text(q, 3, owner);
    sqlite3_bind_int64(q, 4, now);
    sqlite3_bind_int64(q, 5, until);
    sqlite3_bind_int64(q, 6, version);
    e = exec_stmt(s, q, ei);
    *got = e == ERR_OK && sqlite3_changes(s->db) == 1;
    return e;
}

static enum err
sq_ohealth(struct store *st, int64_t ws, const char *conn, const char *health, const char *err,
           struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OHEALTH);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn);
    bind_text(q, 3, health);
    bind_text(q, 4, err);
    return exec_stmt(s, q, ei);
}

static enum err
sq_ohealth_set(struct store *st, int64_t ws, const char *conn, const struct oauth_meta *m,
               bool release_lease, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OHEALTH_SET);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn);
    bind_text(q, 3, m->health);
    bind_text(q, 4, m->last_error_code);
    bind_text(q, 5, m->last_error);
    sqlite3_bind_int64(q, 6, m->consecutive_failures);
    sqlite3_bind_int64(q, 7, m->total_failures);
    sqlite3_bind_int64(q, 8, m->last_success_at);
    sqlite3_bind_int64(q, 9, m->last_failure_at);
    sqlite3_bind_int64(q, 10, m->next_retry_at);
    sqlite3_bind_int64(q, 11, m->health_changed_at);
    sqlite3_bind_int(q, 12, release_lease);
    return exec_stmt(s, q, ei);
}

static enum err
sq_orevoke_add(struct store *st, int64_t ws, const char *conn, const char *provider,
               const char *outcome, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OREVOKE_ADD);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, conn);
    bind_text(q, 3, provider);
    bind_text(q, 4, outcome);
    sqlite3_bind_int64(q, 5, now_ms());
    return exec_stmt(s, q, ei);
}

static enum err
sq_oprov_users(struct store *st, const char *id, int64_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_OPROV_USERS);
    int rc;

    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? ERR_OK : db_err(s, rc, ei);
}

/* ---- personal accounts, participant credentials, runs ---- */

static enum err
sq_account_put(struct store *st, const struct account_row *r, const struct sealed_set *secrets,
               struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    char owner[MAX_PARTICIPANT_ID_LEN + ID_MAX + 2];
    int64_t now = now_ms();
    enum err e = tx_begin(s, ei);

    if (e != ERR_OK)
        return e;
    snprintf(owner, sizeof(owner), "%s:%s", r->holder, r->connection_id);
    q = stmt(s, S_SECRETS_DEL_OWNER);
    if (q == NULL)
        return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
    sqlite3_bind_int64(q, 1, r->workspace_id);
    bind_text(q, 2, r->kind);
    bind_text(q, 3, owner);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK) {
        q = stmt(s, S_ACCT_PUT);
        if (q == NULL)
            return tx_end(s, db_err(s, SQLITE_ERROR, ei), ei);
        sqlite3_bind_int64(q, 1, r->workspace_id);
        bind_text(q, 2, r->kind);
        bind_text(q, 3, r->holder);
        bind_text(q, 4, r->connection_id);
        bind_text(q, 5, r->method);
        bind_text(q, 6, r->provider_id);
        bind_text(q, 7, r->tiers);
        bind_text(q, 8, r->scopes);
        bind_text(q, 9, r->role);
        sqlite3_bind_int64(q, 10, r->expires_at);
        sqlite3_bind_int64(q, 11, now);
        e = exec_stmt(s, q, ei);
    }
    if (e == ERR_OK)
        e = put_secrets(s, r->workspace_id, r->kind, owner, secrets, ei);
    return tx_end(s, e, ei);
}

static enum err
sq_account_get(struct store *st, int64_t ws, const char *kind, const char *holder,
               const char *conn_id, struct account_row *out, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_ACCT_GET);
    int rc;

    memset(out, 0, sizeof(*out));
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, kind);
    bind_text(q, 3, holder);
    bind_text(q, 4, conn_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_account(&c, ws, out);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_account_not_found(ei);
    return db_err(s, rc, ei);
}

/* by holder (S_ACCT_LIST) or by connection (S_ACCT_LIST_CONN, limit max) */
static enum err
account_rows(struct store *st, enum stmt_id id, int64_t ws, const char *kind, const char *key,
             size_t max, struct account_row **rows, size_t *n, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, id);
    struct account_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, kind);
    bind_text(q, 3, key);
    if (id == S_ACCT_LIST_CONN)
        sqlite3_bind_int64(q, 4, (sqlite3_int64)max);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            v = realloc(v, cap * sizeof(*v));
            if (v == NULL)
                abort();
        }
        memset(&v[cnt], 0, sizeof(v[cnt]));
        struct cols c = ROW(q);
        rows_account(&c, ws, &v[cnt++]);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        account_rows_free(v, cnt);
        return db_err(s, rc, ei);
    }
    *rows = v;
    *n = cnt;
    return ERR_OK;
}

static enum err
sq_account_list(struct store *st, int64_t ws, const char *kind, const char *holder,
                struct account_row **rows, size_t *n, struct errinfo *ei)
{
    return account_rows(st, S_ACCT_LIST, ws, kind, holder, 0, rows, n, ei);
}

static enum err
sq_account_list_conn(struct store *st, int64_t ws, const char *kind, const char *conn_id,
                     size_t max, struct account_row **rows, size_t *n, struct errinfo *ei)
{
    return account_rows(st, S_ACCT_LIST_CONN, ws, kind, conn_id, max, rows, n, ei);
}

static enum err
sq_account_delete(struct store *st, int64_t ws, const char *kind, const char *holder,
                  const char *conn_id, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_ACCT_DEL);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, kind);
    bind_text(q, 3, holder);
    bind_text(q, 4, conn_id);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return store_err_account_not_found(ei);
    return e;
}

static enum err
sq_run_insert(struct store *st, const struct run_row *r, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_RUN_INSERT);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, r->id);
    sqlite3_bind_int64(q, 2, r->workspace_id);
    sqlite3_bind_int64(q, 3, r->user_id);
    bind_text(q, 4, r->status);
    bind_text(q, 5, r->spec);
    bind_text(q, 6, r->state);
    bind_text(q, 7, r->error);
    sqlite3_bind_int64(q, 8, r->created_at);
    sqlite3_bind_int64(q, 9, r->finished_at);
    return exec_stmt(s, q, ei);
}

static enum err
sq_run_update(struct store *st, const struct run_row *r, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_RUN_UPDATE);
    enum err e;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, r->workspace_id);
    bind_text(q, 2, r->id);
    bind_text(q, 3, r->status);
    bind_text(q, 4, r->state);
    bind_text(q, 5, r->error);
    sqlite3_bind_int64(q, 6, now_ms());
    sqlite3_bind_int64(q, 7, r->finished_at);
    e = exec_stmt(s, q, ei);
    if (e == ERR_OK && sqlite3_changes(s->db) == 0)
        return store_err_run_not_found(ei);
    return e;
}

static enum err
sq_run_get(struct store *st, int64_t ws, const char *id, struct run_row *out, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_RUN_GET);
    int rc;

    memset(out, 0, sizeof(*out));
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    bind_text(q, 2, id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_run(&c, out);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_run_not_found(ei);
    return db_err(s, rc, ei);
}

static enum err
sq_invite_put(struct store *st, const struct invite_row *r, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_INVITE_PUT);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, r->token_hash);
    sqlite3_bind_int64(q, 2, r->workspace_id);
    bind_text(q, 3, r->participant_id);
    bind_text(q, 4, r->connection_id);
    sqlite3_bind_int64(q, 5, r->created_by);
    sqlite3_bind_int64(q, 6, r->expires_at);
    return exec_stmt(s, q, ei);
}

/* take: read and delete in one statement (single use). */
static enum err
sq_invite_get(struct store *st, const char *hash, bool take, struct invite_row *r,
              struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, take ? S_INVITE_TAKE : S_INVITE_GET);
    bool found = false;
    int rc;

    memset(r, 0, sizeof(*r));
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, hash);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct cols c = ROW(q);
        rows_invite(&c, hash, r);
        found = true;
        rc = sqlite3_step(q); /* finish the statement so a delete commits */
    }
    sqlite3_reset(q);
    if (found)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return store_err_unknown_invite(ei);
    return db_err(s, rc, ei);
}

/* ---- web sign-in ---- */

static enum err
sq_password_set(struct store *st, int64_t user, const char *hash, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q;
    enum err e = tx_begin(s, ei);

    if (e == ERR_OK) {
        q = stmt(s, S_PW_SET);
        if (q == NULL)
            e = db_err(s, SQLITE_ERROR, ei);
        else {
            sqlite3_bind_int64(q, 1, user);
            bind_text(q, 2, hash);
            sqlite3_bind_int64(q, 3, now_ms());
            e = exec_stmt(s, q, ei);
        }
    }
    if (e == ERR_OK) {
        q = stmt(s, S_SESS_DEL_USER);
        if (q == NULL)
            e = db_err(s, SQLITE_ERROR, ei);
        else {
            sqlite3_bind_int64(q, 1, user);
            e = exec_stmt(s, q, ei);
        }
    }
    return tx_end(s, e, ei);
}

static enum err
sq_password_get(struct store *st, const char *name, int64_t *user, char **hash, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_PW_GET);
    int rc;

    *hash = NULL;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *user = sqlite3_column_int64(q, 0);
        *hash = col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return err_set(ei, ERR_NOT_FOUND, "user_not_found", "user", "no such user");
    return db_err(s, rc, ei);
}

static enum err
sq_member_first(struct store *st, int64_t user, int64_t *ws, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_MEMBER_FIRST);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, user);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *ws = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return err_set(ei, ERR_NOT_FOUND, "not_a_member", "workspace",
                       "the user is not a member of any workspace");
    return db_err(s, rc, ei);
}

static enum err
sq_session_add(struct store *st, const unsigned char *hash, int64_t user, int64_t ws, int64_t now,
               struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SESS_ADD);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, user);
    sqlite3_bind_int64(q, 3, ws);
    sqlite3_bind_int64(q, 4, now);
    return exec_stmt(s, q, ei);
}

static enum err
sq_session_get(struct store *st, const unsigned char *hash, struct principal *p,
               int64_t *created_at, int64_t *last_seen_at, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SESS_GET);
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        memset(p, 0, sizeof(*p));
        p->user_id = sqlite3_column_int64(q, 0);
        snprintf(p->user_name, sizeof(p->user_name), "%s", (const char *)sqlite3_column_text(q, 1));
        p->platform_admin = sqlite3_column_int(q, 2) != 0;
        p->workspace_id = sqlite3_column_int64(q, 3);
        snprintf(p->workspace_slug, sizeof(p->workspace_slug), "%s",
                 (const char *)sqlite3_column_text(q, 4));
        if (!role_parse((const char *)sqlite3_column_text(q, 5), &p->role))
            p->role = ROLE_NONE;
        *created_at = sqlite3_column_int64(q, 6);
        *last_seen_at = sqlite3_column_int64(q, 7);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return ERR_OK;
    if (rc == SQLITE_DONE)
        return err_set(ei, ERR_UNAUTHORIZED, "invalid_session", NULL,
                       "the session is not valid: sign in again");
    return db_err(s, rc, ei);
}

static enum err
sq_session_touch(struct store *st, const unsigned char *hash, int64_t now, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SESS_TOUCH);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now);
    return exec_stmt(s, q, ei);
}

static enum err
sq_session_delete(struct store *st, const unsigned char *hash, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_SESS_DEL);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    return exec_stmt(s, q, ei);
}

static enum err
sq_login_failures(struct store *st, const char *name, int64_t since, int64_t *failures,
                  struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_LOGIN_FAILS);
    int rc;

    *failures = 0;
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    sqlite3_bind_int64(q, 2, since);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *failures = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : db_err(s, rc, ei);
}

static enum err
sq_login_failure_add(struct store *st, const char *name, int64_t now, int64_t since,
                     int64_t *failures, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_LOGIN_FAIL_PRUNE);
    enum err e;
    int rc;

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, since); /* expired windows of other names */
    e = exec_stmt(s, q, ei);
    if (e != ERR_OK)
        return e;
    q = stmt(s, S_LOGIN_FAIL_ADD);
    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_int64(q, 3, since);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *failures = sqlite3_column_int64(q, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? ERR_OK : db_err(s, rc, ei);
}

static enum err
sq_login_failures_clear(struct store *st, const char *name, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_LOGIN_FAIL_CLEAR);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    bind_text(q, 1, name);
    return exec_stmt(s, q, ei);
}

/* ---- idempotent creates ---- */

static enum err
sq_idem_claim(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
              const unsigned char *request, const char *conn_id, int64_t now, int64_t not_before,
              bool *claimed, struct idem_row *out, struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    enum err e = tx_begin(s, ei);
    sqlite3_stmt *q = NULL;
    int rc;

    if (e == ERR_OK && (q = stmt(s, S_IDEM_PRUNE)) == NULL)
        e = db_err(s, SQLITE_ERROR, ei);
    if (e == ERR_OK) {
        sqlite3_bind_int64(q, 1, not_before);
        e = exec_stmt(s, q, ei);
    }
    if (e == ERR_OK && (q = stmt(s, S_IDEM_CLAIM)) == NULL)
        e = db_err(s, SQLITE_ERROR, ei);
    if (e == ERR_OK) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, user);
        sqlite3_bind_blob(q, 3, key, 32, SQLITE_STATIC);
        sqlite3_bind_blob(q, 4, request, 32, SQLITE_STATIC);
        bind_text(q, 5, conn_id);
        sqlite3_bind_int64(q, 6, now);
        e = exec_stmt(s, q, ei);
        *claimed = e == ERR_OK && sqlite3_changes(s->db) == 1;
    }
    if (e == ERR_OK && !*claimed && (q = stmt(s, S_IDEM_GET)) == NULL)
        e = db_err(s, SQLITE_ERROR, ei);
    if (e == ERR_OK && !*claimed) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, user);
        sqlite3_bind_blob(q, 3, key, 32, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
            memcpy(out->request_hash, sqlite3_column_blob(q, 0), 32);
            snprintf(out->connection_id, sizeof(out->connection_id), "%s",
                     (const char *)sqlite3_column_text(q, 1));
            out->done = sqlite3_column_int64(q, 2) != 0;
        } else {
            e = db_err(s, rc == SQLITE_ROW ? SQLITE_CORRUPT : rc, ei);
        }
        sqlite3_reset(q);
    }
    return tx_end(s, e, ei);
}

static enum err
sq_idem_done(struct store *st, int64_t ws, int64_t user, const unsigned char *key,
             struct errinfo *ei)
{
    struct sqlite_store *s = SQ(st);
    sqlite3_stmt *q = stmt(s, S_IDEM_DONE);

    if (q == NULL)
        return db_err(s, SQLITE_ERROR, ei);
    sqlite3_bind_int64(q, 1, ws);
    sqlite3_bind_int64(q, 2, user);
    sqlite3_bind_blob(q, 3, key, 32, SQLITE_STATIC);
    return exec_stmt(s, q, ei);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .user_add = sq_user_add,
    .user_get = sq_user_get,
    .user_count = sq_user_count,
    .workspace_add = sq_workspace_add,
    .workspace_get = sq_workspace_get,
    .member_set = sq_member_set,
    .member_role = sq_member_role,
    .token_add = sq_token_add,
    .token_lookup = sq_token_lookup,
    .conn_insert = sq_conn_insert,
    .conn_get = sq_conn_get,
    .conn_list = sq_conn_list,
    .conn_update = sq_conn_update,
    .conn_delete = sq_conn_delete,
    .secrets_get = sq_secrets_get,
    .secret_fields = store_fields_of,
    .secrets_scan = sq_secrets_scan,
    .secret_cas = sq_secret_cas,
    .secret_key_counts = sq_secret_key_counts,
    .op_get = sq_op_get,
    .ops_list = sq_ops_list,
    .spec_get = sq_spec_get,
    .secret_put = sq_secret_put,
    .secret_delete = sq_secret_delete,
    .oauth_provider_put = sq_oprov_put,
    .oauth_provider_get = sq_oprov_get,
    .oauth_provider_list = sq_oprov_list,
    .oauth_provider_delete = sq_oprov_delete,
    .oauth_state_put = sq_ostate_put,
    .oauth_state_take = sq_ostate_take,
    .oauth_meta_get = sq_ometa_get,
    .oauth_commit = sq_ocommit,
    .oauth_lease = sq_olease,
    .oauth_health = sq_ohealth,
    .idem_claim = sq_idem_claim,
    .idem_done = sq_idem_done,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .oauth_health_set = sq_ohealth_set,
    .oauth_revocation_add = sq_orevoke_add,
    .oauth_provider_users = sq_oprov_users,
    .account_put = sq_account_put,
    .account_get = sq_account_get,
    .account_list = sq_account_list,
    .account_list_conn = sq_account_list_conn,
    .account_delete = sq_account_delete,
    .run_insert = sq_run_insert,
    .run_update = sq_run_update,
    .run_get = sq_run_get,
    .invite_put = sq_invite_put,
    .invite_get = sq_invite_get,
    .password_set = sq_password_set,
    .password_get = sq_password_get,
    .member_first = sq_member_first,
    .session_add = sq_session_add,
    .session_get = sq_session_get,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .login_failures = sq_login_failures,
    .login_failure_add = sq_login_failure_add,
    .login_failures_clear = sq_login_failures_clear,
};
