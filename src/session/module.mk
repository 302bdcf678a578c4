DEPS_session := core store
