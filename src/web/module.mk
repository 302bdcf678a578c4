DEPS_web := core
