#include "engine/runstate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "core/banned.h"

#define MAX_INDEX 100000000u

/* ---- paths ---- */

static bool
key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* One segment of a path at *pp: "key" (first), ".key" or "[n]". 1 with a
 * segment, 0 at the end, -1 on a syntax error. */
static int
next_seg(const char **pp, bool first, char *key, size_t cap, bool *is_index, size_t *idx)
{
    const char *p = *pp;
    size_t n = 0;

    if (*p == '\0')
        return 0;
    if (*p == '[' && !first) {
        size_t v = 0;
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (v > MAX_INDEX)
                return -1;
            v = v * 10 + (size_t)(*p++ - '0');
        }
        if (*p != ']')
            return -1;
        *is_index = true;
        *idx = v;
        *pp = p + 1;
        return 1;
    }
    if (!first && *p++ != '.')
        return -1;
    while (key_char(*p)) {
        if (n + 1 >= cap)
            return -1;
        key[n++] = *p++;
    }
    if (n == 0)
        return -1;
    key[n] = '\0';
    *is_index = false;
    *pp = p;
    return 1;
}

static const json_t *
step_into(const json_t *v, const char *key, bool is_index, size_t idx)
{
    if (json_is_array(v)) {
        if (!is_index) {
            char *end = NULL;
            unsigned long long k = strtoull(key, &end, 10);
            if (end == key || *end != '\0' || !isdigit((unsigned char)key[0]))
                return NULL;
            idx = (size_t)k;
        }
        return json_array_get(v, idx);
    }
    if (json_is_object(v) && !is_index)
        return json_object_get(v, key);
    return NULL;
}

static enum err
bad_path(const char *path, struct errinfo *ei)
{
    return err_set(ei, ERR_INVALID, "invalid_template", NULL,
                   "{{%s}} is not a template path: use input.<key> or steps.<id>.output "
                   "followed by .<key> or [<n>]",
                   path);
}

enum err
rs_lookup(const json_t *state, const char *path, const json_t **out, struct errinfo *ei)
{
    char key[MAX_TEMPLATE_PATH_LEN + 1];
    const json_t *v = state;
    const char *p = path;
    bool first = true, is_index = false;
    size_t idx = 0, depth = 0;
    int r;

    *out = NULL;
    if (strlen(path) > MAX_TEMPLATE_PATH_LEN)
        return err_set(ei, ERR_INVALID, "invalid_template", NULL,
                       "a template path is at most %d characters", MAX_TEMPLATE_PATH_LEN);
    while ((r = next_seg(&p, first, key, sizeof(key), &is_index, &idx)) == 1) {
        if (first && strcmp(key, "input") != 0 && strcmp(key, "steps") != 0)
            return bad_path(path, ei);
        if (depth == 2 && strncmp(path, "steps", 5) == 0 &&
            (is_index || strcmp(key, "output") != 0))
            return bad_path(path, ei);
        first = false;
        depth++;
        if (v != NULL)
            v = step_into(v, key, is_index, idx);
    }
    if (r < 0 || first || (strncmp(path, "steps", 5) == 0 && depth < 3))
        return bad_path(path, ei);
    if (v == NULL)
        return err_set(ei, ERR_NOT_FOUND, "template_unresolved", NULL,
                       "{{%s}} points nowhere in the run state", path);
    *out = v;
    return ERR_OK;
}

/* ---- templates in strings ---- */

/* The next template in s from *pos: [*start, *end) is "{{...}}" and path
 * (trimmed) is copied out. 1 found, 0 none, -1 unclosed or too long. */
static int
next_template(const char *s, size_t *pos, size_t *start, size_t *end, char *path, size_t cap)
{
    const char *open = strstr(s + *pos, "{{");
    const char *close, *a, *b;

    if (open == NULL)
        return 0;
    close = strstr(open + 2, "}}");
    if (close == NULL)
        return -1;
    a = open + 2;
    b = close;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    if ((size_t)(b - a) >= cap)
        return -1;
    memcpy(path, a, (size_t)(b - a));
    path[b - a] = '\0';
    *start = (size_t)(open - s);
    *end = (size_t)(close + 2 - s);
    *pos = *end;
    return 1;
}

static enum err
unclosed(const char *field, struct errinfo *ei)
{
    return err_set(ei, ERR_INVALID, "invalid_template", field,
                   "has a {{ without }} or a template path over %d characters",
                   MAX_TEMPLATE_PATH_LEN);
}

static enum err
render_string(const json_t *str, const json_t *state, const char *field, json_t **out,
              struct errinfo *ei)
{
    const char *s = json_string_value(str);
    char path[MAX_TEMPLATE_PATH_LEN + 2];
    size_t pos = 0, start = 0, end = 0, last = 0;
    struct buf b;
    const json_t *v;
    int r = next_template(s, &pos, &start, &end, path, sizeof(path));
    enum err e = ERR_OK;

    if (r == 0) {
        *out = json_incref((json_t *)str);
        return ERR_OK;
    }
    if (r < 0)
        return unclosed(field, ei);
    if (start == 0 && end == json_string_length(str)) { /* the whole string: keep the type */
        e = rs_lookup(state, path, &v, ei);
        if (e == ERR_OK)
            *out = json_deep_copy(v);
        else
            snprintf(ei->field, sizeof(ei->field), "%s", field);
        return e == ERR_NOT_FOUND ? ERR_INVALID : e;
    }
    buf_init(&b, MAX_RUN_STATE_BYTES);
    for (; r == 1 && e == ERR_OK; r = next_template(s, &pos, &start, &end, path, sizeof(path))) {
        e = buf_append(&b, s + last, start - last);
        if (e == ERR_OK)
            e = rs_lookup(state, path, &v, ei);
        if (e == ERR_OK && json_is_string(v)) {
            e = buf_append(&b, json_string_value(v), json_string_length(v));
        } else if (e == ERR_OK) {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            e = t ? buf_puts(&b, t) : ERR_NOMEM;
            free(t);
        }
        last = end;
    }
    if (e == ERR_OK && r < 0)
        e = unclosed(field, ei);
    if (e == ERR_OK)
        e = buf_puts(&b, s + last);
    if (e == ERR_OK)
        *out = json_stringn(b.data ? b.data : "", b.len);
    else if (ei->field[0] == '\0' || e == ERR_NOT_FOUND)
        snprintf(ei->field, sizeof(ei->field), "%s", field);
    if (e == ERR_TOO_LARGE)
        e = err_set(ei, ERR_TOO_LARGE, "too_large", field, "the rendered value is over %zu bytes",
                    MAX_RUN_STATE_BYTES);
    buf_release(&b);
    return e == ERR_NOT_FOUND ? ERR_INVALID : e;
}

static void
field_key(char *dst, size_t cap, const char *base, const char *key)
{
    snprintf(dst, cap, "%s.%s", base, key);
}

static void
field_index(char *dst, size_t cap, const char *base, size_t i)
{
    snprintf(dst, cap, "%s[%zu]", base, i);
}

enum err
rs_render(const json_t *in, const json_t *state, const char *field, json_t **out,
          struct errinfo *ei)
{
    char f[ERRINFO_FIELD];
    const char *k;
    json_t *v, *r = NULL, *c;
    size_t i;
    enum err e = ERR_OK;

    *out = NULL;
    if (json_is_string(in))
        return render_string(in, state, field, out, ei);
    if (json_is_object(in)) {
        r = json_object();
        json_object_foreach ((json_t *)in, k, v) {
            field_key(f, sizeof(f), field, k);
            e = rs_render(v, state, f, &c, ei);
            if (e != ERR_OK)
                break;
            json_object_set_new(r, k, c);
        }
    } else if (json_is_array(in)) {
        r = json_array();
        json_array_foreach (in, i, v) {
            field_index(f, sizeof(f), field, i);
            e = rs_render(v, state, f, &c, ei);
            if (e != ERR_OK)
                break;
            json_array_append_new(r, c);
        }
    } else {
        r = json_incref((json_t *)in);
    }
    if (e != ERR_OK) {
        json_decref(r);
        return e;
    }
    *out = r;
    return ERR_OK;
}

enum err
rs_state_size(const json_t *state, size_t max, struct errinfo *ei)
{
    char *text = json_dumps(state, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;

    free(text);
    if (text == NULL)
        return ERR_NOMEM;
    if (len > max)
        return err_set(ei, ERR_TOO_LARGE, "state_too_large", NULL,
                       "the run's state (input and every node's output) would be %zu bytes, over "
                       "the %zu-byte limit",
                       len, max);
    return ERR_OK;
}

/* ---- checking a workflow ---- */

struct plan {
    const json_t *nodes;
    const json_t *input_state; /* {"input": run input} */
    size_t *pos;               /* node index -> position in the order */
};

static ssize_t
node_index(const json_t *nodes, const char *id)
{
    size_t i;
    json_t *n;

    json_array_foreach (nodes, i, n) {
        const char *nid = json_string_value(json_object_get(n, "id"));
        if (nid && id && strcmp(nid, id) == 0)
            return (ssize_t)i;
    }
    return -1;
}

/* A template of node `self` found at field: syntax, and where it points. */
static enum err
check_ref(struct plan *pl, size_t self, const char *path, const char *field, struct errinfo *ei)
{
    const json_t *v;
    enum err e;

    if (strncmp(path, "steps", 5) != 0) {
        e = rs_lookup(pl->input_state, path, &v, ei);
        if (e == ERR_NOT_FOUND)
            e = err_set(ei, ERR_INVALID, "template_unresolved", NULL,
                        "{{%s}} points nowhere: the run's input has no such value", path);
    } else {
        char id[MAX_TEMPLATE_PATH_LEN + 1];
        const char *p = path + 5;
        bool is_index = false;
        size_t idx = 0;
        ssize_t at;
        /* syntax first (against an empty state: anything well-formed is NOT_FOUND) */
        json_t *empty = json_object();
        e = rs_lookup(empty, path, &v, ei);
        json_decref(empty);
        if (e == ERR_NOT_FOUND && next_seg(&p, false, id, sizeof(id), &is_index, &idx) == 1) {
            at = is_index ? -1 : node_index(pl->nodes, id);
            if (at < 0)
                e = err_set(ei, ERR_INVALID, "template_unresolved", NULL,
                            "{{%s}} points nowhere: no node has id %s", path, id);
            else if (pl->pos[at] >= pl->pos[self])
                e = err_set(ei, ERR_INVALID, "template_unresolved", NULL,
                            "{{%s}} points at node %s, which does not run before this one "
                            "(add it to depends_on)",
                            path, id);
            else
                e = ERR_OK;
        }
    }
    if (e != ERR_OK)
        snprintf(ei->field, sizeof(ei->field), "%s", field);
    return e;
}

static enum err
check_strings(struct plan *pl, size_t self, const json_t *v, const char *field, struct errinfo *ei)
{
    char f[ERRINFO_FIELD];
    const char *k;
    json_t *c;
    size_t i;
    enum err e = ERR_OK;

    if (json_is_string(v)) {
        char path[MAX_TEMPLATE_PATH_LEN + 2];
        size_t pos = 0, start, end;
        int r;
        while ((r = next_template(json_string_value(v), &pos, &start, &end, path, sizeof(path))) ==
               1) {
            e = check_ref(pl, self, path, field, ei);
            if (e != ERR_OK)
                return e;
        }
        return r < 0 ? unclosed(field, ei) : ERR_OK;
    }
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, k, c) {
            field_key(f, sizeof(f), field, k);
            e = check_strings(pl, self, c, f, ei);
            if (e != ERR_OK)
                return e;
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, c) {
            field_index(f, sizeof(f), field, i);
            e = check_strings(pl, self, c, f, ei);
            if (e != ERR_OK)
                return e;
        }
    }
    return ERR_OK;
}

static bool
id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > MAX_NODE_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!key_char(s[i]))
            return false;
    return true;
}

static enum err
check_node(const json_t *nodes, size_t i, wf_tool_fn tool, void *arg, struct errinfo *ei)
{
    static const char *const keys[] = {"id", "type", "tool_name", "input", "depends_on", NULL};
    const json_t *n = json_array_get(nodes, i);
    const char *k, *id, *type, *name;
    json_t *v, *deps, *input;
    char f[64];
    enum err e = ERR_OK;

    snprintf(f, sizeof(f), "workflow.nodes[%zu]", i);
    if (!json_is_object(n))
        return err_set(ei, ERR_INVALID, "invalid_workflow", f, "must be an object");
    json_object_foreach ((json_t *)n, k, v) {
        bool known = false;
        (void)v;
        for (size_t j = 0; keys[j]; j++)
            known = known || strcmp(keys[j], k) == 0;
        if (!known)
            return err_set(ei, ERR_INVALID, "unknown_field", f, "%s is not a node field", k);
    }
    id = json_string_value(json_object_get(n, "id"));
    type = json_string_value(json_object_get(n, "type"));
    name = json_string_value(json_object_get(n, "tool_name"));
    input = json_object_get(n, "input");
    deps = json_object_get(n, "depends_on");
    if (!id_ok(id))
        e = err_set(ei, ERR_INVALID, "invalid_workflow", "id", "must be 1-%d of A-Z a-z 0-9 _ -",
                    MAX_NODE_ID_LEN);
    else if (node_index(nodes, id) != (ssize_t)i)
        e = err_set(ei, ERR_INVALID, "duplicate_id", "id", "another node has id %s", id);
    else if (type == NULL || strcmp(type, "tool") != 0)
        e = err_set(ei, ERR_INVALID, "invalid_workflow", "type", "must be \"tool\"");
    else if (name == NULL)
        e = err_set(ei, ERR_INVALID, "missing_field", "tool_name",
                    "is required (a built-in tool or slug.operation)");
    else if (input && !json_is_object(input))
        e = err_set(ei, ERR_INVALID, "invalid_type", "input", "must be a JSON object");
    else if (deps && (!json_is_array(deps) || json_array_size(deps) > MAX_NODE_DEPENDS))
        e = err_set(ei, ERR_INVALID, "invalid_type", "depends_on",
                    "must be an array of at most %d node ids", MAX_NODE_DEPENDS);
    if (e == ERR_OK && input) {
        char *t = json_dumps(input, JSON_COMPACT);
        size_t len = t ? strlen(t) : 0;
        free(t);
        if (len > MAX_NODE_INPUT_BYTES)
            e = err_set(ei, ERR_TOO_LARGE, "too_large", "input",
                        "a node's input is at most %zu bytes of JSON (this one has %zu)",
                        MAX_NODE_INPUT_BYTES, len);
    }
    if (e == ERR_OK && deps) {
        size_t j;
        json_array_foreach (deps, j, v) {
            char df[48];
            snprintf(df, sizeof(df), "depends_on[%zu]", j);
            if (!json_is_string(v) || node_index(nodes, json_string_value(v)) < 0) {
                e = err_set(ei, ERR_INVALID, "unknown_dependency", df, "names no node");
                break;
            }
            if (strcmp(json_string_value(v), id) == 0) {
                e = err_set(ei, ERR_INVALID, "cycle", df, "node %s depends on itself", id);
                break;
            }
        }
    }
    if (e == ERR_OK) {
        e = tool(arg, name, ei);
        if (e != ERR_OK && ei->field[0] == '\0')
            snprintf(ei->field, sizeof(ei->field), "tool_name");
        if (e == ERR_NOT_FOUND) /* a workflow naming no tool is a bad request */
            e = ERR_INVALID;
    }
    if (e != ERR_OK)
        err_field_prefix(ei, f);
    return e;
}

/* Kahn's algorithm, always taking the first ready node in the given order. */
static enum err
order_nodes(const json_t *nodes, size_t *order, size_t *pos, struct errinfo *ei)
{
    size_t n = json_array_size(nodes), done = 0;
    bool *placed = xcalloc(n, sizeof(*placed));

    while (done < n) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++) {
            json_t *deps = json_object_get(json_array_get(nodes, i), "depends_on");
            json_t *d;
            size_t j;
            bool ready = !placed[i];
            json_array_foreach (deps, j, d) {
                ready = ready && placed[node_index(nodes, json_string_value(d))];
            }
            if (ready)
                pick = i;
        }
        if (pick == n) {
            size_t stuck = 0;
            enum err e;
            while (stuck < n && placed[stuck])
                stuck++;
            e = err_set(ei, ERR_INVALID, "cycle", NULL, "node %s is in a depends_on cycle",
                        json_string_value(json_object_get(json_array_get(nodes, stuck), "id")));
            snprintf(ei->field, sizeof(ei->field), "workflow.nodes[%zu].depends_on", stuck);
            free(placed);
            return e;
        }
        placed[pick] = true;
        pos[pick] = done;
        order[done++] = pick;
    }
    free(placed);
    return ERR_OK;
}

enum err
wf_plan(const json_t *nodes, const json_t *run_input, wf_tool_fn tool, void *arg, size_t **order,
        size_t *n, struct errinfo *ei)
{
    struct plan pl = {0};
    size_t cnt = json_array_size(nodes), *ord = NULL;
    enum err e = ERR_OK;

    *order = NULL;
    *n = 0;
    if (!json_is_array(nodes) || cnt == 0)
        return err_set(ei, ERR_INVALID, "invalid_workflow", "workflow.nodes",
                       "must be an array of at least one node");
    if (cnt > MAX_RUN_NODES)
        return err_set(ei, ERR_TOO_LARGE, "too_many", "workflow.nodes",
                       "a workflow has at most %d nodes", MAX_RUN_NODES);
    for (size_t i = 0; e == ERR_OK && i < cnt; i++)
        e = check_node(nodes, i, tool, arg, ei);
    if (e != ERR_OK)
        return e;
    ord = xcalloc(cnt, sizeof(*ord));
    pl.pos = xcalloc(cnt, sizeof(*pl.pos));
    pl.nodes = nodes;
    e = order_nodes(nodes, ord, pl.pos, ei);
    if (e == ERR_OK) {
        json_t *st = json_pack("{s:O}", "input", run_input ? run_input : json_null());
        pl.input_state = st;
        for (size_t i = 0; e == ERR_OK && i < cnt; i++) {
            char f[64];
            json_t *in = json_object_get(json_array_get(nodes, i), "input");
            snprintf(f, sizeof(f), "workflow.nodes[%zu].input", i);
            if (in)
                e = check_strings(&pl, i, in, f, ei);
        }
        json_decref(st);
    }
    free(pl.pos);
    if (e != ERR_OK) {
        free(ord);
        return e;
    }
    *order = ord;
    *n = cnt;
    return ERR_OK;
}
