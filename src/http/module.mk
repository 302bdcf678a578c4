DEPS_http := core crypto store outbound mcp session
