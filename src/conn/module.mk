DEPS_conn := core crypto store auth outbound engine openapi mcp services oauth
