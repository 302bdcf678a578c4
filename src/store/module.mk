DEPS_store := core
