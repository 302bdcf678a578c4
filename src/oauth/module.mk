# oauth: OAuth2 provider registry, authorization-code flow with PKCE, token
# requests/responses, refresh protocol helpers, connection health. No SQL, no HTTP handlers.
DEPS_oauth := core crypto outbound
