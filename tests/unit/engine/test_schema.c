/* Unit tests for engine/schema: every keyword passing and failing, the JSON
 * path of the error, $ref cycles and depth limits, schema_check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/schema.h"

struct vcase {
    const char *schema;
    const char *value;
    const char *field;    /* NULL = valid */
    const char *msg_part; /* a part of the message */
};

static const struct vcase vcases[] = {
    /* boolean schemas */
    {"true", "1", NULL, NULL},
    {"false", "1", "input", "is not allowed"},
    {"{}", "{\"a\": [1, null]}", NULL, NULL},
    /* type */
    {"{\"type\":\"string\"}", "\"x\"", NULL, NULL},
    {"{\"type\":\"string\"}", "1", "input", "must be a string"},
    {"{\"type\":\"integer\"}", "3", NULL, NULL},
    {"{\"type\":\"integer\"}", "3.0", NULL, NULL},
    {"{\"type\":\"integer\"}", "3.5", "input", "must be an integer"},
    {"{\"type\":\"integer\"}", "\"3\"", "input", "must be an integer"},
    {"{\"type\":\"number\"}", "3.5", NULL, NULL},
    {"{\"type\":\"number\"}", "true", "input", "must be a number"},
    {"{\"type\":\"boolean\"}", "false", NULL, NULL},
    {"{\"type\":\"boolean\"}", "0", "input", "must be a boolean"},
    {"{\"type\":\"null\"}", "null", NULL, NULL},
    {"{\"type\":\"null\"}", "0", "input", "must be null"},
    {"{\"type\":\"object\"}", "{}", NULL, NULL},
    {"{\"type\":\"object\"}", "[]", "input", "must be an object"},
    {"{\"type\":\"array\"}", "[]", NULL, NULL},
    {"{\"type\":\"array\"}", "{}", "input", "must be an array"},
    {"{\"type\":[\"string\",\"null\"]}", "null", NULL, NULL},
    {"{\"type\":[\"string\",\"null\"]}", "1", "input", "must be a string or null"},
    /* nullable (OpenAPI 3.0) */
    {"{\"type\":\"string\",\"nullable\":true}", "null", NULL, NULL},
    {"{\"type\":\"string\",\"nullable\":false}", "null", "input", "must be a string"},
    {"{\"type\":\"string\"}", "null", "input", "must be a string"},
    /* properties, required, additionalProperties */
    {"{\"type\":\"object\",\"properties\":{\"owner\":{\"type\":\"string\"}},\"required\":["
     "\"owner\"]}",
     "{\"owner\":\"o\"}", NULL, NULL},
    {"{\"type\":\"object\",\"properties\":{\"owner\":{\"type\":\"string\"}},\"required\":["
     "\"owner\"]}",
     "{}", "input.owner", "is required"},
    {"{\"properties\":{\"owner\":{\"type\":\"string\"}}}", "{\"owner\":5}", "input.owner",
     "must be a string"},
    {"{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1}", NULL, NULL},
    {"{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1,\"zz\":2}", "input.zz",
     "not an allowed property"},
    {"{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":1,\"b\":2}", NULL, NULL},
    {"{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":1,\"b\":\"x\"}", "input.b",
     "must be an integer"},
    {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
     "{\"x-a\":\"s\"}", NULL, NULL},
    {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
     "{\"x-a\":1}", "input.x-a", "must be a string"},
    {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
     "{\"y\":\"s\"}", "input.y", "not an allowed property"},
    /* min/maxProperties */
    {"{\"minProperties\":1,\"maxProperties\":2}", "{\"a\":1}", NULL, NULL},
    {"{\"minProperties\":1}", "{}", "input", "at least 1 properties"},
    {"{\"maxProperties\":2}", "{\"a\":1,\"b\":2,\"c\":3}", "input", "at most 2 properties"},
    /* items, prefixItems, min/maxItems, uniqueItems */
    {"{\"items\":{\"type\":\"string\"}}", "[\"a\",\"b\"]", NULL, NULL},
    {"{\"properties\":{\"labels\":{\"items\":{\"type\":\"string\"}}}}",
     "{\"labels\":[\"a\",\"b\",3]}", "input.labels[2]", "must be a string"},
    {"{\"prefixItems\":[{\"type\":\"integer\"},{\"type\":\"string\"}],\"items\":false}",
     "[1,\"a\"]", NULL, NULL},
    {"{\"prefixItems\":[{\"type\":\"integer\"},{\"type\":\"string\"}],\"items\":false}",
     "[1,\"a\",2]", "input[2]", "is not allowed"},
    {"{\"prefixItems\":[{\"type\":\"integer\"}]}", "[\"x\"]", "input[0]", "must be an integer"},
    {"{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":false}", "[1,2]", "input[1]",
     "is not allowed"},
    {"{\"minItems\":2,\"maxItems\":3}", "[1,2]", NULL, NULL},
    {"{\"minItems\":2}", "[1]", "input", "at least 2 items"},
    {"{\"maxItems\":3}", "[1,2,3,4]", "input", "at most 3 items"},
    {"{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1},{\"a\":2}]", NULL, NULL},
    {"{\"uniqueItems\":true}", "[1,2,1.0]", "input", "duplicate"},
    {"{\"uniqueItems\":true}", "[{\"a\":1,\"b\":[2]},{\"b\":[2.0],\"a\":1}]", "input", "duplicate"},
    {"{\"uniqueItems\":false}", "[1,1]", NULL, NULL},
    /* enum, const */
    {"{\"enum\":[\"open\",\"closed\"]}", "\"open\"", NULL, NULL},
    {"{\"enum\":[\"open\",\"closed\"]}", "\"all\"", "input", "must be one of: open, closed"},
    {"{\"enum\":[1,null,{\"a\":1}]}", "1.0", NULL, NULL},
    {"{\"enum\":[1,null,{\"a\":1}]}", "{\"a\":1}", NULL, NULL},
    {"{\"enum\":[1,null,{\"a\":1}]}", "2", "input", "must be one of: 1, null, {\"a\":1}"},
    {"{\"const\":\"x\"}", "\"x\"", NULL, NULL},
    {"{\"const\":\"x\"}", "\"y\"", "input", "constant"},
    {"{\"const\":[1,2]}", "[1,2]", NULL, NULL},
    /* numbers */
    {"{\"minimum\":1,\"maximum\":10}", "1", NULL, NULL},
    {"{\"minimum\":1,\"maximum\":10}", "10", NULL, NULL},
    {"{\"minimum\":1}", "0", "input", "must be >= 1"},
    {"{\"maximum\":10}", "10.5", "input", "must be <= 10"},
    {"{\"exclusiveMinimum\":0}", "0.001", NULL, NULL},
    {"{\"exclusiveMinimum\":0}", "0", "input", "must be > 0"},
    {"{\"exclusiveMaximum\":5}", "5", "input", "must be < 5"},
    {"{\"minimum\":0,\"exclusiveMinimum\":true}", "0", "input", "must be > 0"},
    {"{\"minimum\":0,\"exclusiveMinimum\":false}", "0", NULL, NULL},
    {"{\"maximum\":5,\"exclusiveMaximum\":true}", "5", "input", "must be < 5"},
    {"{\"minimum\":0.1}", "0.05", "input", "must be >= 0.1"},
    {"{\"multipleOf\":5}", "15", NULL, NULL},
    {"{\"multipleOf\":5}", "16", "input", "multiple of 5"},
    {"{\"multipleOf\":0.01}", "19.99", NULL, NULL},
    {"{\"multipleOf\":0.01}", "19.995", "input", "multiple of 0.01"},
    {"{\"type\":\"integer\",\"maximum\":9223372036854775807}", "9223372036854775807", NULL, NULL},
    /* strings */
    {"{\"minLength\":2,\"maxLength\":3}", "\"ab\"", NULL, NULL},
    {"{\"minLength\":2}", "\"a\"", "input", "at least 2 characters"},
    {"{\"maxLength\":3}", "\"abcd\"", "input", "at most 3 characters"},
    {"{\"maxLength\":3}", "\"\\u00e9\\u00e9\\u00e9\"", NULL, NULL},     /* 3 code points, 6 bytes */
    {"{\"minLength\":2}", "\"\\ud83d\\ude00\"", "input", "at least 2"}, /* one code point */
    {"{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", NULL, NULL},
    {"{\"pattern\":\"^[a-z]+$\"}", "\"abC\"", "input", "must match the pattern ^[a-z]+$"},
    {"{\"pattern\":\"^\\\\d{3}-\\\\d{4}$\"}", "\"555-1234\"", NULL, NULL},
    {"{\"pattern\":\"^\\\\d{3}-\\\\d{4}$\"}", "\"555-12x4\"", "input", "pattern"},
    {"{\"pattern\":\"^\\\\w+@\\\\w+\\\\.com$\"}", "\"a_1@b.com\"", NULL, NULL},
    {"{\"pattern\":\"^\\\\w+@\\\\w+\\\\.com$\"}", "\"a_1@bxcom\"", "input", "pattern"},
    {"{\"pattern\":\"^[\\\\w.-]+$\"}", "\"a.b-c\"", NULL, NULL},
    {"{\"pattern\":\"^[\\\\w.-]+$\"}", "\"a b\"", "input", "pattern"},
    {"{\"pattern\":\"^(?:ab)+?$\"}", "\"abab\"", NULL, NULL},
    {"{\"pattern\":\"^[^\\\\]]*$\"}", "\"ab\"", NULL, NULL},
    {"{\"pattern\":\"^[^\\\\]]*$\"}", "\"a]b\"", "input", "pattern"},
    {"{\"pattern\":\"^[-^]$\"}", "\"^\"", NULL, NULL},
    {"{\"pattern\":\"^\\\\^$\"}", "\"^\"", NULL, NULL},
    {"{\"pattern\":\"a\\\\/b\"}", "\"a/b\"", NULL, NULL},
    /* unsupported or invalid patterns never fail a value */
    {"{\"pattern\":\"^(?=x)y$\"}", "\"zzz\"", NULL, NULL},
    {"{\"pattern\":\"(a)\\\\1\"}", "\"zzz\"", NULL, NULL},
    {"{\"pattern\":\"[\"}", "\"zzz\"", NULL, NULL},
    {"{\"pattern\":\"\\\\p{L}\"}", "\"123\"", NULL, NULL},
    {"{\"pattern\":\"((a{0,500}){0,500}){0,500}\"}", "\"b\"", NULL, NULL},
    {"{\"pattern\":\"^.{1,3}$\"}", "\"\\u00e9\\u00e9\"", NULL, NULL}, /* width-dependent: skipped */
    {"{\"pattern\":\"^.{1,3}$\"}", "\"abcd\"", "input", "pattern"},
    /* allOf / anyOf / oneOf / not */
    {"{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "2", NULL, NULL},
    {"{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "4", "input", "must be <= 3"},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "1", NULL, NULL},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "true", "input",
     "must be a string, or must be an integer"},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"properties\":{\"a\":{\"type\":\"integer\"}}}]}",
     "{\"a\":\"x\"}", "input.a", "must be an integer"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "1", NULL, NULL},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "1", "input", "exactly one"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "null", "input", "must be"},
    {"{\"not\":{\"type\":\"string\"}}", "1", NULL, NULL},
    {"{\"not\":{\"type\":\"string\"}}", "\"s\"", "input", "must not match"},
    /* $ref */
    {"{\"$defs\":{\"id\":{\"type\":\"integer\"}},\"properties\":{\"x\":{\"$ref\":\"#/$defs/id\"}}}",
     "{\"x\":1}", NULL, NULL},
    {"{\"$defs\":{\"id\":{\"type\":\"integer\"}},\"properties\":{\"x\":{\"$ref\":\"#/$defs/id\"}}}",
     "{\"x\":\"a\"}", "input.x", "must be an integer"},
    {"{\"definitions\":{\"a/b\":{\"type\":\"string\"},\"c~d\":{\"type\":\"integer\"}},"
     "\"items\":[{\"$ref\":\"#/definitions/a~1b\"},{\"$ref\":\"#/definitions/c~0d\"}]}",
     "[\"s\", 1]", NULL, NULL},
    {"{\"definitions\":{\"a b\":{\"type\":\"string\"}},\"$ref\":\"#/definitions/a%20b\"}", "1",
     "input", "must be a string"},
    /* recursive tree: legitimate recursion bounded by the value */
    {"{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":"
     "\"array\","
     "\"items\":{\"$ref\":\"#\"}}}}",
     "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":\"x\"}]}]}", "input.kids[0].kids[0].v",
     "must be an integer"},
    /* cycles without progress: bounded */
    {"{\"$ref\":\"#\"}", "1", "input", "too deep"},
    {"{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/"
     "$defs/a\"}",
     "1", "input", "too deep"},
    {"{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}", "1", "input", NULL},
    {"{\"$ref\":\"#/nope\"}", "1", "input", "does not resolve"},
};

static void
test_validate_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
        const struct vcase *c = &vcases[i];
        json_error_t jerr;
        json_t *s = json_loads(c->schema, JSON_DECODE_ANY, &jerr);
        json_t *v = json_loads(c->value, JSON_DECODE_ANY, &jerr);
        struct errinfo ei = {{0}};
        enum err e;
        if (s == NULL || v == NULL)
            fail_msg("case %zu: bad JSON in the test: %s", i, jerr.text);
        e = schema_validate(s, v, "input", &ei);
        if (c->field == NULL && e != ERR_OK)
            fail_msg("case %zu (%s vs %s): unexpected %s: %s", i, c->schema, c->value, ei.field,
                     ei.msg);
        if (c->field != NULL) {
            if (e != ERR_INVALID)
                fail_msg("case %zu (%s vs %s) should fail", i, c->schema, c->value);
            if (strcmp(ei.field, c->field) != 0)
                fail_msg("case %zu: field '%s', want '%s' (%s)", i, ei.field, c->field, ei.msg);
            assert_string_equal(ei.code, "invalid_input");
            if (c->msg_part && strstr(ei.msg, c->msg_part) == NULL)
                fail_msg("case %zu: '%s' lacks '%s'", i, ei.msg, c->msg_part);
        }
        json_decref(s);
        json_decref(v);
    }
}

/* SCHEMA_MAX_DEPTH: a schema nested N and N+1 levels deep. */
static json_t *
nested(int levels)
{
    json_t *s = json_pack("{s:s}", "type", "integer");
    for (int i = 0; i < levels; i++)
        s = json_pack("{s:{s:o}}", "properties", "a", s);
    return s;
}

static json_t *
nested_value(int levels)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < levels; i++)
        v = json_pack("{s:o}", "a", v);
    return v;
}

static void
test_depth_limit(void **state)
{
    struct errinfo ei = {{0}};
    json_t *s = nested(SCHEMA_MAX_DEPTH), *v = nested_value(SCHEMA_MAX_DEPTH);

    (void)state;
    assert_int_equal(schema_validate(s, v, "input", &ei), ERR_OK);
    assert_int_equal(schema_check(s, "schema", &ei), ERR_OK);
    json_decref(s);
    json_decref(v);
    s = nested(SCHEMA_MAX_DEPTH + 1);
    v = nested_value(SCHEMA_MAX_DEPTH + 1);
    assert_int_equal(schema_validate(s, v, "input", &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "too deep"));
    assert_int_equal(schema_check(s, "schema", &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "nested too deeply"));
    json_decref(s);
    json_decref(v);
}

/* anyOf within anyOf: exponential without the step budget. */
static void
test_step_budget(void **state)
{
    json_t *s = json_pack("{s:s}", "type", "string");
    json_t *v = json_integer(1);
    struct errinfo ei = {{0}};

    (void)state;
    for (int i = 0; i < 40; i++) {
        json_t *next = json_pack("{s:[O,o]}", "anyOf", s, s);
        s = next;
    }
    assert_int_equal(schema_validate(s, v, "input", &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "too complex"));
    json_decref(s);
    json_decref(v);
}

static void
test_null_schema_and_field(void **state)
{
    json_t *v = json_integer(1), *s = json_pack("{s:s}", "type", "string");
    struct errinfo ei = {{0}};

    (void)state;
    assert_int_equal(schema_validate(NULL, v, "input", &ei), ERR_OK);
    assert_int_equal(schema_validate(s, v, NULL, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "");
    assert_int_equal(schema_validate(s, v, "input", NULL), ERR_INVALID);
    json_decref(s);
    json_decref(v);
}

struct ccase {
    const char *schema;
    const char *field; /* NULL = valid */
    const char *msg_part;
};

static const struct ccase ccases[] = {
    {"true", NULL, NULL},
    {"{}", NULL, NULL},
    {"{\"type\":\"object\",\"properties\":{\"owner\":{\"type\":\"string\",\"pattern\":\"^[a-z]\"},"
     "\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"exclusiveMaximum\":true,\"maximum\":5}"
     "},"
     "\"required\":[\"owner\"],\"additionalProperties\":false,\"x-vendor\":1,\"format\":\"uuid\"}",
     NULL, NULL},
    {"{\"$defs\":{\"a\":{\"type\":\"string\"}},\"anyOf\":[{\"$ref\":\"#/$defs/a\"},true]}", NULL,
     NULL},
    {"1", "s", "must be a schema"},
    {"[]", "s", "must be a schema"},
    {"{\"type\":\"str\"}", "s.type", "must be one of"},
    {"{\"type\":[\"string\",\"nope\"]}", "s.type[1]", "must be one of"},
    {"{\"type\":[\"string\",\"string\"]}", "s.type[1]", "twice"},
    {"{\"type\":[]}", "s.type", "non-empty"},
    {"{\"type\":5}", "s.type", "type name"},
    {"{\"properties\":{\"x\":{\"type\":\"strin\"}}}", "s.properties.x.type", "must be one of"},
    {"{\"properties\":[]}", "s.properties", "must be an object"},
    {"{\"properties\":{\"x\":5}}", "s.properties.x", "must be a schema"},
    {"{\"items\":{\"items\":{\"type\":1}}}", "s.items.items.type", NULL},
    {"{\"items\":[{},{\"type\":\"x\"}]}", "s.items[1].type", NULL},
    {"{\"anyOf\":[]}", "s.anyOf", "non-empty"},
    {"{\"oneOf\":[{},{\"minLength\":-1}]}", "s.oneOf[1].minLength", "non-negative"},
    {"{\"allOf\":{}}", "s.allOf", "non-empty list"},
    {"{\"not\":3}", "s.not", "must be a schema"},
    {"{\"additionalProperties\":\"no\"}", "s.additionalProperties", "must be a schema"},
    {"{\"required\":\"a\"}", "s.required", "list"},
    {"{\"required\":[\"a\",1]}", "s.required[1]", "string"},
    {"{\"enum\":\"a\"}", "s.enum", "list"},
    {"{\"minimum\":\"1\"}", "s.minimum", "number"},
    {"{\"exclusiveMinimum\":\"1\"}", "s.exclusiveMinimum", "number or a boolean"},
    {"{\"multipleOf\":0}", "s.multipleOf", "greater than 0"},
    {"{\"maxItems\":1.5}", "s.maxItems", "non-negative integer"},
    {"{\"uniqueItems\":1}", "s.uniqueItems", "boolean"},
    {"{\"nullable\":\"yes\"}", "s.nullable", "boolean"},
    {"{\"pattern\":1}", "s.pattern", "string"},
    {"{\"pattern\":\"(?=unsupported)[\"}", NULL, NULL},
    {"{\"$ref\":\"http://evil.test/s.json\"}", "s.$ref", "only local"},
    {"{\"$ref\":\"#/$defs/missing\"}", "s.$ref", "does not resolve"},
    {"{\"$defs\":{\"a\":{\"type\":\"bad\"}}}", "s.$defs.a.type", NULL},
};

static void
test_check_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
        const struct ccase *c = &ccases[i];
        json_error_t jerr;
        json_t *s = json_loads(c->schema, JSON_DECODE_ANY, &jerr);
        struct errinfo ei = {{0}};
        enum err e;
        if (s == NULL)
            fail_msg("case %zu: bad JSON in the test", i);
        e = schema_check(s, "s", &ei);
        if (c->field == NULL && e != ERR_OK)
            fail_msg("case %zu: unexpected %s: %s", i, ei.field, ei.msg);
        if (c->field != NULL) {
            if (e != ERR_INVALID)
                fail_msg("case %zu (%s) should fail", i, c->schema);
            if (strcmp(ei.field, c->field) != 0)
                fail_msg("case %zu: field '%s', want '%s'", i, ei.field, c->field);
            assert_string_equal(ei.code, "invalid_schema");
            if (c->msg_part && strstr(ei.msg, c->msg_part) == NULL)
                fail_msg("case %zu: '%s' lacks '%s'", i, ei.msg, c->msg_part);
        }
        json_decref(s);
    }
}

static void
test_check_size_limit(void **state)
{
    json_t *props = json_object(), *s;
    struct errinfo ei = {{0}};
    char k[32];

    (void)state;
    for (int i = 0; i < SCHEMA_MAX_NODES - 1; i++) { /* root + N-1 = N */
        snprintf(k, sizeof(k), "p%d", i);
        json_object_set_new(props, k, json_object());
    }
    s = json_pack("{s:O}", "properties", props);
    assert_int_equal(schema_check(s, "s", &ei), ERR_OK);
    json_object_set_new(props, "one_more", json_object()); /* N+1 */
    json_decref(s);
    s = json_pack("{s:O}", "properties", props);
    assert_int_equal(schema_check(s, "s", &ei), ERR_INVALID);
    assert_non_null(strstr(ei.msg, "too many subschemas"));
    json_decref(s);
    json_decref(props);
}

/* Long property names and paths are truncated, never overflow. */
static void
test_long_paths(void **state)
{
    char key[600];
    json_t *s, *v;
    struct errinfo ei = {{0}};

    (void)state;
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    s = json_pack("{s:{s:{s:s}}}", "properties", key, "type", "string");
    v = json_pack("{s:i}", key, 1);
    assert_int_equal(schema_validate(s, v, "input", &ei), ERR_INVALID);
    assert_int_equal(strncmp(ei.field, "input.kkk", 9), 0);
    assert_true(strlen(ei.field) == sizeof(ei.field) - 1);
    json_decref(s);
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_table), cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_step_budget),    cmocka_unit_test(test_null_schema_and_field),
        cmocka_unit_test(test_check_table),    cmocka_unit_test(test_check_size_limit),
        cmocka_unit_test(test_long_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
