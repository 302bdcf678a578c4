DEPS_api := core crypto store auth outbound engine conn openapi mcp services creds oauth http session web
