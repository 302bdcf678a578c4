DEPS_outbound := core
