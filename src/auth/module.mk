DEPS_auth := core crypto outbound
