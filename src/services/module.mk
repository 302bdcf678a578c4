DEPS_services := core crypto outbound
