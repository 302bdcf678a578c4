DEPS_mcp := core
