DEPS_cli := core crypto store auth outbound engine conn openapi mcp services creds oauth http api admin session web
