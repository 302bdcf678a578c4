DEPS_cli := core crypto store auth outbound engine conn http api admin
