DEPS_core :=
