DEPS_cli := core crypto store auth outbound engine conn openapi http api admin
