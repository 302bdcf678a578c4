DEPS_admin := core crypto store
