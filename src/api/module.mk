DEPS_api := core crypto store auth outbound engine conn openapi mcp services creds http
