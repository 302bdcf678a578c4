DEPS_creds := core crypto store services outbound
