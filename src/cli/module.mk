DEPS_cli := core crypto store auth outbound engine conn openapi mcp services creds http api admin
