DEPS_engine := core crypto store auth outbound conn openapi mcp services creds oauth
