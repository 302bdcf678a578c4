DEPS_engine := core
