/*
 * schema: a JSON Schema validator for tool inputs, covering the subset that
 * LLM tool schemas and OpenAPI (3.0 and 3.1) use.
 *
 * Keywords: type (a name or a list; "integer" is a number with no fraction),
 * properties, patternProperties, required, additionalProperties (boolean or
 * schema), items (schema; a list is read as prefixItems), prefixItems, enum,
 * const, minimum/maximum, exclusiveMinimum/exclusiveMaximum (draft 2020
 * numbers and draft 4 booleans), multipleOf, minLength/maxLength (code
 * points), pattern, minItems/maxItems, uniqueItems, minProperties/
 * maxProperties, allOf/anyOf/oneOf/not, nullable (OpenAPI 3.0: null is then
 * accepted outright), $ref to "#..." inside the root schema (siblings of $ref
 * apply too, as in draft 2020). Unknown keywords (format, title, ...) are
 * ignored. Numbers compare by value: 1 equals 1.0 in enum/const/uniqueItems.
 *
 * pattern is an ECMA-262 regex; it is translated to a POSIX ERE (\d \w \s,
 * lazy quantifiers, (?: ...) and escapes are mapped) and run with regexec() as
 * a best effort. A pattern that cannot be translated or compiled, or whose
 * counted repeats could blow up, is skipped: it never fails a value.
 *
 * Bounds: recursion SCHEMA_MAX_DEPTH (schema nesting and $ref chains), and
 * SCHEMA_MAX_STEPS subschema visits per validation (anyOf inside anyOf...).
 * Errors: ERR_INVALID with code "invalid_input" (validate) or
 * "invalid_schema" (check), field = JSON path ("input.labels[2]"), messages
 * naming no value (enum lists the schema's own values). ERR_NOMEM.
 * All json_t parameters are borrowed.
 */
#ifndef CONNHUB_ENGINE_SCHEMA_H
#define CONNHUB_ENGINE_SCHEMA_H

#include <jansson.h>

#include "core/err.h"

#define SCHEMA_MAX_DEPTH 64
#define SCHEMA_MAX_STEPS 200000 /* subschema visits per schema_validate() */
#define SCHEMA_MAX_NODES 20000  /* subschemas per schema, checked by schema_check() */
#define SCHEMA_MAX_PATTERN 1024 /* longer patterns are skipped */

/* Validates value against schema (whose root is schema itself for $ref). On
 * failure ERR_INVALID, ei->field the path of the offending value starting at
 * root_field ("input.owner", "input.labels[2]"). */
enum err schema_validate(const json_t *schema, const json_t *value, const char *root_field,
                         struct errinfo *ei) WARN_UNUSED;

/* Checks a schema at save time: an object or a boolean, known "type" names,
 * keyword values of the right kind, local $refs that resolve, depth and size
 * bounded. ei->field = field + the path inside the schema
 * ("operations[3].input_schema.properties.x.type"). */
enum err schema_check(const json_t *schema, const char *field, struct errinfo *ei) WARN_UNUSED;

#endif
