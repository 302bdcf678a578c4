DEPS_cli := core crypto store auth outbound engine conn openapi mcp http api admin
