DEPS_mcp := core outbound
