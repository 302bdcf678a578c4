# openapi: OpenAPI / Swagger (JSON or YAML) to a proposed connection. Uses libyaml, jansson.
DEPS_openapi := core
