DEPS_crypto := core
