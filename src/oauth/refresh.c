/* oauth/refresh: pure helpers for the single-flight refresh protocol
 * described in refresh.h. */
#include <string.h>

#include "core/util.h"
#include "oauth/refresh.h"
#include "oauth/token.h"
#include "core/banned.h"

const char *
oauth_lease_action_name(enum oauth_lease_action a)
{
    static const char *const n[] = {"use_current", "take", "wait", "give_up", "stop", "backoff"};
    return (unsigned)a < ARRAY_LEN(n) ? n[a] : "unknown";
}

enum oauth_lease_action
oauth_lease_decide(const struct oauth_lease_row *row, const struct oauth_lease_ask *ask)
{
    const struct oauth_health_state *h = row->health;
    bool other;

    if (h != NULL && (h->status == OAUTH_NEEDS_REAUTH || h->status == OAUTH_REVOKED))
        return OAUTH_LEASE_STOP;
    if (ask->seen_version >= 0 && row->version > ask->seen_version)
        return OAUTH_LEASE_USE_CURRENT;
    if (!ask->forced &&
        !oauth_needs_refresh(ask->now_ms, row->obtained_at_ms, row->expires_at_ms, ask->margin_s))
        return OAUTH_LEASE_USE_CURRENT;
    if (!row->has_refresh_token)
        return OAUTH_LEASE_STOP;
    if (h != NULL && !oauth_health_may_refresh(h, ask->now_ms))
        return OAUTH_LEASE_BACKOFF;
    other = row->lease_owner != NULL && row->lease_owner[0] != '\0' &&
            (ask->me == NULL || strcmp(row->lease_owner, ask->me) != 0);
    if (other && row->lease_until_ms > ask->now_ms) {
        if (ask->wait_started_ms > 0 &&
            ask->now_ms - ask->wait_started_ms >= OAUTH_LEASE_WAIT_MAX_MS)
            return OAUTH_LEASE_GIVE_UP;
        return OAUTH_LEASE_WAIT;
    }
    return OAUTH_LEASE_TAKE;
}

int64_t
oauth_lease_poll_ms(unsigned attempt)
{
    int64_t ms = 50;

    for (unsigned i = 0; i < attempt && ms < 1000; i++)
        ms *= 2;
    return ms > 1000 ? 1000 : ms;
}

enum err
oauth_lease_owner_new(char out[OAUTH_LEASE_OWNER_MAX])
{
    char id[ID_MAX];
    enum err e = id_new("lease", id);

    out[0] = '\0';
    if (e == ERR_OK)
        memcpy(out, id, strlen(id) + 1);
    return e;
}
