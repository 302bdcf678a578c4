/*
 * schema: the validator walks schema and value together, building the JSON
 * path of the value in a fixed buffer; the checker walks the schema alone,
 * building the path inside the schema. anyOf/oneOf/not validate branches with
 * a scratch errinfo and report the most useful branch error.
 */
#include "engine/schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

#include "core/banned.h"

#define PATH_MAX_LEN 512

struct path {
    char s[PATH_MAX_LEN];
    size_t len;
};

/* Appends ".key" (or "key" when the path is empty); returns the old length. */
static size_t
path_key(struct path *p, const char *key)
{
    size_t old = p->len, i;
    int n;

    n = snprintf(p->s + p->len, sizeof(p->s) - p->len, "%s%s", p->len ? "." : "", key);
    if (n < 0 || (size_t)n >= sizeof(p->s) - p->len)
        p->len = sizeof(p->s) - 1;
    else
        p->len += (size_t)n;
    for (i = old; i < p->len; i++)
        if ((unsigned char)p->s[i] < 0x20 || p->s[i] == 0x7f)
            p->s[i] = '?';
    return old;
}

static size_t
path_index(struct path *p, size_t idx)
{
    size_t old = p->len;
    int n = snprintf(p->s + p->len, sizeof(p->s) - p->len, "[%zu]", idx);

    if (n < 0 || (size_t)n >= sizeof(p->s) - p->len)
        p->len = sizeof(p->s) - 1;
    else
        p->len += (size_t)n;
    return old;
}

static void
path_restore(struct path *p, size_t len)
{
    p->len = len;
    p->s[len] = '\0';
}

/* ---- JSON values: a total order in which numbers compare by value ---- */

static int
jrank(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 0;
    case JSON_FALSE:
    case JSON_TRUE:
        return 1;
    case JSON_INTEGER:
    case JSON_REAL:
        return 2;
    case JSON_STRING:
        return 3;
    case JSON_ARRAY:
        return 4;
    case JSON_OBJECT:
    default:
        return 5;
    }
}

static int
num_cmp(const json_t *a, const json_t *b)
{
    double x, y;

    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t i = json_integer_value(a), j = json_integer_value(b);
        return (i > j) - (i < j);
    }
    x = json_number_value(a);
    y = json_number_value(b);
    return (x > y) - (x < y);
}

static int
str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c != 0)
        return c < 0 ? -1 : 1;
    return (an > bn) - (an < bn);
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int jcmp(const json_t *a, const json_t *b);

static int
obj_cmp(const json_t *a, const json_t *b)
{
    size_t n = json_object_size(a), i = 0;
    const char **keys;
    const char *k;
    const json_t *v;
    int c = 0;

    if (n != json_object_size(b))
        return n < json_object_size(b) ? -1 : 1;
    keys = calloc(n ? n : 1, sizeof(*keys));
    if (keys == NULL)
        return a < b ? -1 : 1; /* out of memory: unequal */
    json_object_foreach ((json_t *)a, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), key_cmp);
    for (i = 0; i < n && c == 0; i++) {
        const json_t *bv = json_object_get(b, keys[i]);
        c = bv == NULL ? 1 : jcmp(json_object_get(a, keys[i]), bv);
    }
    free(keys);
    return c;
}

static int
jcmp(const json_t *a, const json_t *b)
{
    int ra = jrank(a), rb = jrank(b);
    size_t i;

    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1:
        return json_is_true(a) - json_is_true(b);
    case 2:
        return num_cmp(a, b);
    case 3:
        return str_cmp(json_string_value(a), json_string_length(a), json_string_value(b),
                       json_string_length(b));
    case 4:
        for (i = 0; i < json_array_size(a) && i < json_array_size(b); i++) {
            int c = jcmp(json_array_get(a, i), json_array_get(b, i));
            if (c != 0)
                return c;
        }
        return (json_array_size(a) > json_array_size(b)) -
               (json_array_size(a) < json_array_size(b));
    case 5:
        return obj_cmp(a, b);
    default:
        return 0;
    }
}

static int
jcmp_ptr(const void *a, const void *b)
{
    return jcmp(*(const json_t *const *)a, *(const json_t *const *)b);
}

/* A number as short text: 3, 2.5, 0.1. */
static void
num_text(const json_t *v, char *out, size_t n)
{
    double d;

    if (json_is_integer(v)) {
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }
    d = json_number_value(v);
    snprintf(out, n, "%.15g", d);
    if (strtod(out, NULL) != d)
        snprintf(out, n, "%.17g", d);
}

/* ---- $ref ---- */

/* Resolves "#" or "#/a/b~1c/0" inside root; NULL if it does not resolve. */
static const json_t *
ref_resolve(const json_t *root, const char *ref)
{
    const json_t *cur = root;
    const char *p;
    char tok[256];

    if (ref == NULL || ref[0] != '#')
        return NULL;
    p = ref + 1;
    if (*p == '\0')
        return root;
    if (*p != '/')
        return NULL; /* anchors ("#foo") are not supported */
    while (*p == '/' && cur != NULL) {
        size_t n = 0;
        p++;
        while (*p != '\0' && *p != '/') {
            char c = *p++;
            if (c == '~' && (*p == '0' || *p == '1')) {
                c = *p == '0' ? '~' : '/';
                p++;
            } else if (c == '%' && hex_digit(p[0]) >= 0 && hex_digit(p[1]) >= 0) {
                c = (char)(hex_digit(p[0]) * 16 + hex_digit(p[1]));
                p += 2;
            }
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            uint64_t idx;
            if (!parse_u64(tok, SIZE_MAX, &idx))
                return NULL;
            cur = json_array_get(cur, (size_t)idx);
        } else {
            return NULL;
        }
    }
    return cur;
}

/* ---- pattern: ECMA-262 to POSIX ERE, best effort ---- */

struct cls {
    unsigned char bits[16]; /* ASCII 0..127 */
};

static void
cls_set(struct cls *c, unsigned ch)
{
    c->bits[ch >> 3] |= (unsigned char)(1u << (ch & 7));
}

static bool
cls_has(const struct cls *c, unsigned ch)
{
    return (c->bits[ch >> 3] >> (ch & 7)) & 1u;
}

static void
cls_range(struct cls *c, unsigned a, unsigned b, bool negate)
{
    for (unsigned ch = 1; ch < 128; ch++)
        if ((ch >= a && ch <= b) != negate)
            cls_set(c, ch);
}

static void
cls_shorthand(struct cls *c, char k)
{
    bool neg = k == 'D' || k == 'W' || k == 'S';
    struct cls t = {{0}};
    unsigned ch;

    switch (k) {
    case 'd':
    case 'D':
        cls_range(&t, '0', '9', false);
        break;
    case 'w':
    case 'W':
        cls_range(&t, '0', '9', false);
        cls_range(&t, 'A', 'Z', false);
        cls_range(&t, 'a', 'z', false);
        cls_set(&t, '_');
        break;
    default: /* s, S */
        cls_range(&t, '\t', '\r', false);
        cls_set(&t, ' ');
        break;
    }
    for (ch = 1; ch < 128; ch++)
        if (cls_has(&t, ch) != neg)
            cls_set(c, ch);
}

/* Emits c as a POSIX bracket expression: ']' first, then ranges, then '[',
 * '^' and '-' (so none of them is read as syntax). */
static enum err
cls_emit(const struct cls *c, bool neg, struct buf *out)
{
    char in[400];
    size_t n = 0;
    unsigned ch = 1;
    bool caret = cls_has(c, '^'), dash = cls_has(c, '-');

    if (cls_has(c, ']'))
        in[n++] = ']';
    while (ch < 128) {
        unsigned end = ch;
        if (!cls_has(c, ch) || strchr("[]^-", (int)ch) != NULL) {
            ch++;
            continue;
        }
        while (end + 1 < 128 && cls_has(c, end + 1) && strchr("[]^-", (int)(end + 1)) == NULL)
            end++;
        in[n++] = (char)ch;
        if (end > ch + 1)
            in[n++] = '-';
        if (end > ch)
            in[n++] = (char)end;
        ch = end + 1;
    }
    if (cls_has(c, '['))
        in[n++] = '[';
    if (!neg && n == 0 && caret)
        return buf_puts(out, dash ? "[-^]" : "\\^");
    if (caret)
        in[n++] = '^';
    if (dash)
        in[n++] = '-';
    if (n == 0)
        return ERR_INVALID; /* an empty class: not translated */
    in[n] = '\0';
    return buf_printf(out, "[%s%s]", neg ? "^" : "", in);
}

/* Reads an escape in p at i (p[i-1] was '\\'). Sets *lit to the literal byte,
 * or *shorthand to d/D/w/W/s/S. Returns the index after it, 0 if unsupported. */
static size_t
re_escape(const char *p, size_t n, size_t i, bool in_class, int *lit, char *shorthand)
{
    char c;

    *lit = -1;
    *shorthand = 0;
    if (i >= n)
        return 0;
    c = p[i];
    if (strchr("dDwWsS", c) != NULL) {
        *shorthand = c;
        return i + 1;
    }
    switch (c) {
    case 'n':
        *lit = '\n';
        return i + 1;
    case 't':
        *lit = '\t';
        return i + 1;
    case 'r':
        *lit = '\r';
        return i + 1;
    case 'f':
        *lit = '\f';
        return i + 1;
    case 'v':
        *lit = '\v';
        return i + 1;
    case 'b':
        if (!in_class)
            return 0;
        *lit = '\b';
        return i + 1;
    case 'x':
        if (i + 2 < n && hex_digit(p[i + 1]) >= 0 && hex_digit(p[i + 2]) >= 0) {
            *lit = hex_digit(p[i + 1]) * 16 + hex_digit(p[i + 2]);
            return *lit > 0 && *lit < 128 ? i + 3 : 0;
        }
        return 0;
    case 'u':
        if (i + 4 < n && hex_digit(p[i + 1]) >= 0 && hex_digit(p[i + 2]) >= 0 &&
            hex_digit(p[i + 3]) >= 0 && hex_digit(p[i + 4]) >= 0) {
            *lit =
                ((hex_digit(p[i + 1]) * 16 + hex_digit(p[i + 2])) * 16 + hex_digit(p[i + 3])) * 16 +
                hex_digit(p[i + 4]);
            return *lit > 0 && *lit < 128 ? i + 5 : 0;
        }
        return 0;
    default:
        if ((unsigned char)c < 0x80 &&
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) &&
            (unsigned char)c >= 0x20) {
            *lit = (unsigned char)c;
            return i + 1;
        }
        return 0;
    }
}

/* Translates a bracket expression starting at p[i] == '['; returns the index
 * after ']' or 0 if unsupported. */
static size_t
re_class(const char *p, size_t n, size_t i, struct buf *out, bool *wide)
{
    struct cls c = {{0}};
    bool neg = false;
    int prev = -1; /* the last single char, for ranges */

    i++;
    if (i < n && p[i] == '^') {
        neg = true;
        *wide = true;
        i++;
    }
    if (i < n && p[i] == ']')
        return 0; /* "[]" / "[^]" */
    while (i < n && p[i] != ']') {
        int lit = -1;
        char sh = 0;
        if ((unsigned char)p[i] >= 0x80 || (unsigned char)p[i] < 0x20)
            return 0;
        if (p[i] == '\\') {
            i = re_escape(p, n, i + 1, true, &lit, &sh);
            if (i == 0)
                return 0;
        } else if (p[i] == '-' && prev >= 0 && i + 1 < n && p[i + 1] != ']') {
            int hi;
            i++;
            if (p[i] == '\\') {
                i = re_escape(p, n, i + 1, true, &hi, &sh);
                if (i == 0 || sh != 0)
                    return 0;
            } else if ((unsigned char)p[i] >= 0x80 || (unsigned char)p[i] < 0x20) {
                return 0;
            } else {
                hi = (unsigned char)p[i++];
            }
            if (hi < prev)
                return 0;
            cls_range(&c, (unsigned)prev, (unsigned)hi, false);
            prev = -1;
            continue;
        } else if (p[i] == '[' && i + 1 < n && strchr(":.=", p[i + 1]) != NULL) {
            return 0; /* POSIX classes are not ECMA */
        } else {
            lit = (unsigned char)p[i++];
        }
        if (sh != 0) {
            cls_shorthand(&c, sh);
            if (sh == 'D' || sh == 'W' || sh == 'S')
                *wide = true;
            prev = -1;
        } else {
            cls_set(&c, (unsigned)lit);
            prev = lit;
        }
    }
    if (i >= n)
        return 0;
    if (cls_emit(&c, neg, out) != ERR_OK)
        return 0;
    return i + 1;
}

/* Reads "{n}", "{n,}" or "{n,m}" at p[i]; returns the index after it (0 if it
 * is not a quantifier) and the largest count in *bound. */
static size_t
re_count(const char *p, size_t n, size_t i, unsigned long *bound)
{
    unsigned long a = 0, b = 0;
    size_t j = i + 1;
    bool digits = false;

    while (j < n && p[j] >= '0' && p[j] <= '9' && a < 100000) {
        a = a * 10 + (unsigned long)(p[j++] - '0');
        digits = true;
    }
    if (!digits)
        return 0;
    b = a;
    if (j < n && p[j] == ',') {
        j++;
        if (j < n && p[j] >= '0' && p[j] <= '9')
            b = 0;
        while (j < n && p[j] >= '0' && p[j] <= '9' && b < 100000)
            b = b * 10 + (unsigned long)(p[j++] - '0');
    }
    if (j >= n || p[j] != '}')
        return 0;
    *bound = a > b ? a : b;
    return j + 1;
}

static bool
re_translate(const char *p, size_t n, struct buf *out, bool *wide)
{
    size_t i = 0;
    unsigned long cost = 1;
    enum err e = ERR_OK;

    *wide = false;
    while (i < n && e == ERR_OK) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            int lit;
            char sh;
            struct cls k = {{0}};
            i = re_escape(p, n, i + 1, false, &lit, &sh);
            if (i == 0)
                return false;
            if (sh != 0) {
                cls_shorthand(&k, sh);
                if (sh == 'D' || sh == 'W' || sh == 'S')
                    *wide = true;
                e = cls_emit(&k, false, out);
            } else if (lit < 0x20 || lit == 0x7f || strchr(".[]()*+?{}|^$\\", lit) == NULL) {
                e = buf_putc(out, (char)lit);
            } else {
                char esc[3] = {'\\', (char)lit, '\0'};
                e = buf_puts(out, esc);
            }
        } else if (c == '[') {
            i = re_class(p, n, i, out, wide);
            if (i == 0)
                return false;
        } else if (c == '(') {
            if (i + 1 < n && p[i + 1] == '?') {
                if (i + 2 < n && p[i + 2] == ':')
                    i += 3;
                else
                    return false; /* lookaround, named group */
            } else {
                i++;
            }
            e = buf_putc(out, '(');
        } else if (c == '*' || c == '+' || c == '?') {
            e = buf_putc(out, (char)c);
            i++;
            if (i < n && p[i] == '?')
                i++; /* lazy: same match/no-match answer */
        } else if (c == '{') {
            unsigned long bound = 0;
            size_t j = re_count(p, n, i, &bound);
            if (j == 0) {
                e = buf_puts(out, "\\{");
                i++;
                continue;
            }
            if (bound > 1000)
                return false;
            cost *= bound + 1;
            if (cost > 1000)
                return false;
            e = buf_append(out, p + i, j - i);
            i = j;
            if (i < n && p[i] == '?')
                i++;
        } else if (c == '}') {
            e = buf_puts(out, "\\}");
            i++;
        } else if (c >= 0x80) {
            size_t j = i + 1;
            while (j < n && ((unsigned char)p[j] & 0xc0) == 0x80)
                j++;
            e = buf_putc(out, '(');
            if (e == ERR_OK)
                e = buf_append(out, p + i, j - i);
            if (e == ERR_OK)
                e = buf_putc(out, ')');
            i = j;
        } else {
            if (c == '.')
                *wide = true;
            e = buf_putc(out, (char)c);
            i++;
        }
    }
    return e == ERR_OK;
}

static bool
is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* 1 match, 0 no match, -1 skipped (cannot be checked faithfully). */
static int
pattern_match(const char *pat, const char *s, size_t n)
{
    struct buf ere;
    regex_t re;
    regmatch_t m[1];
    bool wide;
    int rc = -1;

    if (strlen(pat) > SCHEMA_MAX_PATTERN)
        return -1;
    buf_init(&ere, (size_t)8 * SCHEMA_MAX_PATTERN);
    if (re_translate(pat, strlen(pat), &ere, &wide) && ere.data != NULL &&
        !(wide && !is_ascii(s, n)) && regcomp(&re, ere.data, REG_EXTENDED | REG_NOSUB) == 0) {
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)n;
        rc = regexec(&re, s, 1, m, REG_STARTEND) == 0 ? 1 : 0;
        regfree(&re);
    }
    buf_release(&ere);
    return rc;
}

/* ---- validation ---- */

struct vctx {
    const json_t *root;
    struct path path;
    unsigned long steps;
};

static enum err validate(struct vctx *c, const json_t *s, const json_t *v, int depth,
                         struct errinfo *ei);

static enum err fail(struct vctx *c, struct errinfo *ei, const char *fmt, ...) PRINTF_LIKE(3, 4);

static enum err
fail(struct vctx *c, struct errinfo *ei, const char *fmt, ...)
{
    char msg[ERRINFO_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
    va_end(ap);
    return err_set(ei, ERR_INVALID, "invalid_input", c->path.s, "%s", msg);
}

static bool
type_is(const char *t, const json_t *v)
{
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "integer") == 0) {
        double d;
        if (json_is_integer(v))
            return true;
        if (!json_is_real(v))
            return false;
        d = json_real_value(v);
        return isfinite(d) && floor(d) == d;
    }
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return false;
}

static const char *
type_article(const char *t)
{
    if (strcmp(t, "integer") == 0 || strcmp(t, "object") == 0 || strcmp(t, "array") == 0)
        return "an ";
    if (strcmp(t, "null") == 0)
        return "";
    return "a ";
}

static enum err
v_type(struct vctx *c, const json_t *type, const json_t *v, struct errinfo *ei)
{
    char msg[ERRINFO_MSG];
    size_t i, len = 0;

    if (json_is_string(type)) {
        const char *t = json_string_value(type);
        if (type_is(t, v))
            return ERR_OK;
        return fail(c, ei, "must be %s%s", type_article(t), t);
    }
    if (!json_is_array(type) || json_array_size(type) == 0)
        return ERR_OK;
    for (i = 0; i < json_array_size(type); i++) {
        const char *t = json_string_value(json_array_get(type, i));
        if (t != NULL && type_is(t, v))
            return ERR_OK;
    }
    msg[0] = '\0';
    for (i = 0; i < json_array_size(type) && len < sizeof(msg); i++) {
        const char *t = json_string_value(json_array_get(type, i));
        int n = snprintf(msg + len, sizeof(msg) - len, "%s%s%s", i ? " or " : "",
                         t ? type_article(t) : "", t ? t : "?");
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return fail(c, ei, "must be %s", msg);
}

static enum err
v_enum(struct vctx *c, const json_t *en, const json_t *v, struct errinfo *ei)
{
    char msg[ERRINFO_MSG - 16];
    size_t i, len = 0;

    if (!json_is_array(en))
        return ERR_OK;
    for (i = 0; i < json_array_size(en); i++)
        if (jcmp(json_array_get(en, i), v) == 0)
            return ERR_OK;
    msg[0] = '\0';
    for (i = 0; i < json_array_size(en) && len < sizeof(msg) - 1; i++) {
        const json_t *it = json_array_get(en, i);
        char *d = NULL;
        const char *t;
        int n;
        if (json_is_string(it)) {
            t = json_string_value(it);
        } else {
            d = json_dumps(it, JSON_ENCODE_ANY | JSON_COMPACT);
            t = d ? d : "?";
        }
        n = snprintf(msg + len, sizeof(msg) - len, "%s%s", i ? ", " : "", t);
        free(d);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= sizeof(msg) - 1)
        snprintf(msg + sizeof(msg) - 5, 5, "...");
    return fail(c, ei, "must be one of: %s", msg);
}

static enum err
v_number(struct vctx *c, const json_t *s, const json_t *v, struct errinfo *ei)
{
    const json_t *min = json_object_get(s, "minimum"), *max = json_object_get(s, "maximum");
    const json_t *xmin = json_object_get(s, "exclusiveMinimum");
    const json_t *xmax = json_object_get(s, "exclusiveMaximum");
    const json_t *mult = json_object_get(s, "multipleOf");
    char t[40];

    if (json_is_number(min)) {
        bool strict = json_is_true(xmin);
        int cmp = num_cmp(v, min);
        num_text(min, t, sizeof(t));
        if (cmp < 0 || (strict && cmp == 0))
            return fail(c, ei, "must be %s %s", strict ? ">" : ">=", t);
    }
    if (json_is_number(max)) {
        bool strict = json_is_true(xmax);
        int cmp = num_cmp(v, max);
        num_text(max, t, sizeof(t));
        if (cmp > 0 || (strict && cmp == 0))
            return fail(c, ei, "must be %s %s", strict ? "<" : "<=", t);
    }
    if (json_is_number(xmin) && num_cmp(v, xmin) <= 0) {
        num_text(xmin, t, sizeof(t));
        return fail(c, ei, "must be > %s", t);
    }
    if (json_is_number(xmax) && num_cmp(v, xmax) >= 0) {
        num_text(xmax, t, sizeof(t));
        return fail(c, ei, "must be < %s", t);
    }
    if (json_is_number(mult) && json_number_value(mult) > 0) {
        bool ok;
        if (json_is_integer(mult) && json_is_integer(v)) {
            ok = json_integer_value(v) % json_integer_value(mult) == 0;
        } else {
            double q = json_number_value(v) / json_number_value(mult);
            ok = isfinite(q) && fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q));
        }
        if (!ok) {
            num_text(mult, t, sizeof(t));
            return fail(c, ei, "must be a multiple of %s", t);
        }
    }
    return ERR_OK;
}

static bool
count_ok(const json_t *s, const char *key, size_t n, bool is_min)
{
    const json_t *k = json_object_get(s, key);
    double lim;

    if (!json_is_number(k))
        return true;
    lim = json_number_value(k);
    return is_min ? (double)n >= lim : (double)n <= lim;
}

static long long
count_val(const json_t *s, const char *key)
{
    return (long long)json_number_value(json_object_get(s, key));
}

static enum err
v_string(struct vctx *c, const json_t *s, const json_t *v, struct errinfo *ei)
{
    const char *str = json_string_value(v);
    size_t n = json_string_length(v), cps = 0, i;
    const char *pat = json_string_value(json_object_get(s, "pattern"));

    for (i = 0; i < n; i++)
        if (((unsigned char)str[i] & 0xc0) != 0x80)
            cps++;
    if (!count_ok(s, "minLength", cps, true))
        return fail(c, ei, "must be at least %lld characters long", count_val(s, "minLength"));
    if (!count_ok(s, "maxLength", cps, false))
        return fail(c, ei, "must be at most %lld characters long", count_val(s, "maxLength"));
    if (pat != NULL && pattern_match(pat, str, n) == 0)
        return fail(c, ei, "must match the pattern %s", pat);
    return ERR_OK;
}

static enum err
v_array(struct vctx *c, const json_t *s, const json_t *v, int depth, struct errinfo *ei)
{
    const json_t *prefix = json_object_get(s, "prefixItems");
    const json_t *items = json_object_get(s, "items");
    size_t n = json_array_size(v), i, np = 0;
    enum err e = ERR_OK;

    if (!count_ok(s, "minItems", n, true))
        return fail(c, ei, "must have at least %lld items", count_val(s, "minItems"));
    if (!count_ok(s, "maxItems", n, false))
        return fail(c, ei, "must have at most %lld items", count_val(s, "maxItems"));
    if (json_is_array(items)) { /* draft 4-7 tuple form */
        prefix = items;
        items = json_object_get(s, "additionalItems");
    }
    if (json_is_array(prefix))
        np = json_array_size(prefix);
    for (i = 0; i < n && e == ERR_OK; i++) {
        const json_t *sub = i < np ? json_array_get(prefix, i) : items;
        size_t old;
        if (sub == NULL)
            continue;
        old = path_index(&c->path, i);
        e = validate(c, sub, json_array_get(v, i), depth + 1, ei);
        path_restore(&c->path, old);
    }
    if (e == ERR_OK && json_is_true(json_object_get(s, "uniqueItems")) && n > 1) {
        const json_t **sorted = calloc(n, sizeof(*sorted)); /* NOLINT(bugprone-sizeof-expression) */
        if (sorted == NULL)
            return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
        for (i = 0; i < n; i++)
            sorted[i] = json_array_get(v, i);
        qsort(sorted, n, sizeof(*sorted), jcmp_ptr); /* NOLINT(bugprone-sizeof-expression) */
        for (i = 1; i < n && e == ERR_OK; i++)
            if (jcmp(sorted[i - 1], sorted[i]) == 0)
                e = fail(c, ei, "must not contain duplicate items");
        free(sorted);
    }
    return e;
}

static enum err
v_object(struct vctx *c, const json_t *s, const json_t *v, int depth, struct errinfo *ei)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *pp = json_object_get(s, "patternProperties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    const json_t *req = json_object_get(s, "required");
    size_t n = json_object_size(v), i;
    const char *key;
    const json_t *val;
    enum err e = ERR_OK;

    for (i = 0; i < json_array_size(req); i++) {
        const char *r = json_string_value(json_array_get(req, i));
        if (r != NULL && json_object_get(v, r) == NULL) {
            size_t old = path_key(&c->path, r);
            e = fail(c, ei, "is required");
            path_restore(&c->path, old);
            return e;
        }
    }
    if (!count_ok(s, "minProperties", n, true))
        return fail(c, ei, "must have at least %lld properties", count_val(s, "minProperties"));
    if (!count_ok(s, "maxProperties", n, false))
        return fail(c, ei, "must have at most %lld properties", count_val(s, "maxProperties"));
    json_object_foreach ((json_t *)v, key, val) {
        const json_t *sub = json_is_object(props) ? json_object_get(props, key) : NULL;
        size_t old = path_key(&c->path, key);
        bool known = sub != NULL;
        if (sub != NULL)
            e = validate(c, sub, val, depth + 1, ei);
        if (e == ERR_OK && json_is_object(pp)) {
            const char *pat;
            const json_t *psub;
            json_object_foreach ((json_t *)pp, pat, psub) {
                if (e != ERR_OK || pattern_match(pat, key, strlen(key)) != 1)
                    continue;
                known = true;
                e = validate(c, psub, val, depth + 1, ei);
            }
        }
        if (e == ERR_OK && !known && addl != NULL) {
            if (json_is_false(addl))
                e = fail(c, ei, "is not an allowed property");
            else if (!json_is_boolean(addl))
                e = validate(c, addl, val, depth + 1, ei);
        }
        path_restore(&c->path, old);
        if (e != ERR_OK)
            return e;
    }
    return e;
}

/* anyOf / oneOf: how many branches match (counting stops at `stop`); when none
 * does, ei holds the most useful branch error. */
static enum err
v_branches(struct vctx *c, const json_t *arr, const json_t *v, int depth, size_t stop,
           size_t *matched, struct errinfo *ei)
{
    struct errinfo best = {{0}}, one;
    size_t i, best_len = 0;

    *matched = 0;
    for (i = 0; i < json_array_size(arr) && *matched < stop; i++) {
        enum err e;
        memset(&one, 0, sizeof(one));
        e = validate(c, json_array_get(arr, i), v, depth + 1, &one);
        if (e == ERR_OK) {
            (*matched)++;
            continue;
        }
        if (e != ERR_INVALID || strcmp(one.code, "invalid_input") != 0 ||
            strstr(one.msg, "too deep") != NULL || strstr(one.msg, "too complex") != NULL) {
            if (ei)
                *ei = one;
            return e; /* limits and out of memory are not "no match" */
        }
        if (i == 0 || strlen(one.field) > best_len) {
            best = one;
            best_len = strlen(one.field);
        } else if (strlen(one.field) == best_len && strcmp(one.field, c->path.s) == 0 &&
                   strcmp(best.field, one.field) == 0) {
            size_t l = strlen(best.msg);
            snprintf(best.msg + l, sizeof(best.msg) - l, ", or %.*s", (int)(sizeof(best.msg) - l),
                     one.msg);
        }
    }
    if (*matched == 0 && ei != NULL)
        *ei = best;
    return ERR_OK;
}

static enum err
v_combinators(struct vctx *c, const json_t *s, const json_t *v, int depth, struct errinfo *ei)
{
    const json_t *all = json_object_get(s, "allOf"), *any = json_object_get(s, "anyOf");
    const json_t *one = json_object_get(s, "oneOf"), *not = json_object_get(s, "not");
    size_t i, matched;
    enum err e = ERR_OK;

    for (i = 0; i < json_array_size(all) && e == ERR_OK; i++)
        e = validate(c, json_array_get(all, i), v, depth + 1, ei);
    if (e == ERR_OK && json_array_size(any) > 0) {
        e = v_branches(c, any, v, depth, 1, &matched, ei);
        if (e == ERR_OK && matched == 0)
            return ERR_INVALID; /* ei was filled by v_branches */
    }
    if (e == ERR_OK && json_array_size(one) > 0) {
        e = v_branches(c, one, v, depth, 2, &matched, ei);
        if (e == ERR_OK && matched == 0)
            return ERR_INVALID;
        if (e == ERR_OK && matched > 1)
            return fail(c, ei, "must match exactly one of the oneOf schemas, but matches more");
    }
    if (e == ERR_OK && not != NULL) {
        struct errinfo scratch = {{0}};
        e = validate(c, not, v, depth + 1, &scratch);
        if (e == ERR_OK)
            return fail(c, ei, "must not match the schema in \"not\"");
        if (e != ERR_INVALID || strcmp(scratch.code, "invalid_input") != 0 ||
            strstr(scratch.msg, "too deep") != NULL || strstr(scratch.msg, "too complex") != NULL) {
            if (ei)
                *ei = scratch;
            return e;
        }
        e = ERR_OK;
    }
    return e;
}

static enum err
validate(struct vctx *c, const json_t *s, const json_t *v, int depth, struct errinfo *ei)
{
    const json_t *k;
    enum err e;

    if (depth > SCHEMA_MAX_DEPTH)
        return fail(c, ei, "schema nesting is too deep (limit %d)", SCHEMA_MAX_DEPTH);
    if (++c->steps > SCHEMA_MAX_STEPS)
        return fail(c, ei, "schema is too complex to check (limit %d steps)", SCHEMA_MAX_STEPS);
    if (json_is_true(s) || !json_is_object(s))
        return json_is_false(s) ? fail(c, ei, "is not allowed") : ERR_OK;
    if (json_is_null(v) && json_is_true(json_object_get(s, "nullable")))
        return ERR_OK;
    k = json_object_get(s, "$ref");
    if (json_is_string(k)) {
        const json_t *target = ref_resolve(c->root, json_string_value(k));
        if (target == NULL)
            return fail(c, ei, "schema reference %.100s does not resolve", json_string_value(k));
        e = validate(c, target, v, depth + 1, ei);
        if (e != ERR_OK)
            return e;
    }
    k = json_object_get(s, "type");
    if (k != NULL && (e = v_type(c, k, v, ei)) != ERR_OK)
        return e;
    k = json_object_get(s, "const");
    if (k != NULL && jcmp(k, v) != 0)
        return fail(c, ei, "must be equal to the constant in the schema");
    k = json_object_get(s, "enum");
    if (k != NULL && (e = v_enum(c, k, v, ei)) != ERR_OK)
        return e;
    if (json_is_number(v))
        e = v_number(c, s, v, ei);
    else if (json_is_string(v))
        e = v_string(c, s, v, ei);
    else if (json_is_array(v))
        e = v_array(c, s, v, depth, ei);
    else if (json_is_object(v))
        e = v_object(c, s, v, depth, ei);
    else
        e = ERR_OK;
    if (e == ERR_OK)
        e = v_combinators(c, s, v, depth, ei);
    return e;
}

enum err
schema_validate(const json_t *schema, const json_t *value, const char *root_field,
                struct errinfo *ei)
{
    struct vctx *c;
    enum err e;

    if (schema == NULL)
        return ERR_OK;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    c->root = schema;
    path_key(&c->path, root_field ? root_field : "");
    e = validate(c, schema, value, 0, ei);
    free(c);
    return e;
}

/* ---- schema_check ---- */

struct cctx {
    const json_t *root;
    struct path path;
    unsigned long nodes;
};

static enum err check(struct cctx *c, const json_t *s, int depth, struct errinfo *ei);

static enum err
cfail(struct cctx *c, struct errinfo *ei, const char *key, const char *msg)
{
    size_t old = key ? path_key(&c->path, key) : c->path.len;
    enum err e = err_set(ei, ERR_INVALID, "invalid_schema", c->path.s, "%s", msg);

    path_restore(&c->path, old);
    return e;
}

static bool
known_type(const char *t)
{
    static const char *const names[] = {"string", "number", "integer", "boolean",
                                        "object", "array",  "null"};
    for (size_t i = 0; t != NULL && i < ARRAY_LEN(names); i++)
        if (strcmp(t, names[i]) == 0)
            return true;
    return false;
}

static enum err
check_type(struct cctx *c, const json_t *t, struct errinfo *ei)
{
    size_t i, j;
    enum err e = ERR_OK;

    if (json_is_string(t))
        return known_type(json_string_value(t))
                   ? ERR_OK
                   : cfail(c, ei, "type",
                           "must be one of string, number, integer, boolean, object, array, "
                           "null");
    if (!json_is_array(t) || json_array_size(t) == 0)
        return cfail(c, ei, "type", "must be a type name or a non-empty list of them");
    for (i = 0; i < json_array_size(t) && e == ERR_OK; i++) {
        const char *n = json_string_value(json_array_get(t, i));
        size_t old = path_key(&c->path, "type");
        path_index(&c->path, i);
        if (!known_type(n))
            e = cfail(c, ei, NULL,
                      "must be one of string, number, integer, boolean, object, array, null");
        for (j = 0; j < i && e == ERR_OK; j++)
            if (strcmp(n, json_string_value(json_array_get(t, j))) == 0)
                e = cfail(c, ei, NULL, "is listed twice");
        path_restore(&c->path, old);
    }
    return e;
}

static enum err
check_sub(struct cctx *c, const char *key, const json_t *sub, int depth, struct errinfo *ei)
{
    size_t old = path_key(&c->path, key);
    enum err e = check(c, sub, depth + 1, ei);

    path_restore(&c->path, old);
    return e;
}

/* An object whose every member is a schema (properties, $defs...). */
static enum err
check_map(struct cctx *c, const char *key, const json_t *m, int depth, struct errinfo *ei)
{
    const char *k;
    const json_t *sub;
    enum err e = ERR_OK;
    size_t old;

    if (!json_is_object(m))
        return cfail(c, ei, key, "must be an object");
    old = path_key(&c->path, key);
    json_object_foreach ((json_t *)m, k, sub) {
        e = check_sub(c, k, sub, depth, ei);
        if (e != ERR_OK)
            break;
    }
    path_restore(&c->path, old);
    return e;
}

/* A list of schemas (allOf, prefixItems...). */
static enum err
check_list(struct cctx *c, const char *key, const json_t *a, int depth, struct errinfo *ei)
{
    size_t i, old;
    enum err e = ERR_OK;

    if (!json_is_array(a) || json_array_size(a) == 0)
        return cfail(c, ei, key, "must be a non-empty list of schemas");
    old = path_key(&c->path, key);
    for (i = 0; i < json_array_size(a) && e == ERR_OK; i++) {
        size_t o2 = path_index(&c->path, i);
        e = check(c, json_array_get(a, i), depth + 1, ei);
        path_restore(&c->path, o2);
    }
    path_restore(&c->path, old);
    return e;
}

static enum err
check_scalars(struct cctx *c, const json_t *s, struct errinfo *ei)
{
    static const char *const counts[] = {"minLength", "maxLength",     "minItems",
                                         "maxItems",  "minProperties", "maxProperties"};
    static const char *const nums[] = {"minimum", "maximum"};
    static const char *const bools[] = {"uniqueItems", "nullable"};
    const json_t *k;
    size_t i;

    for (i = 0; i < ARRAY_LEN(counts); i++) {
        k = json_object_get(s, counts[i]);
        if (k != NULL && (!json_is_integer(k) || json_integer_value(k) < 0))
            return cfail(c, ei, counts[i], "must be a non-negative integer");
    }
    for (i = 0; i < ARRAY_LEN(nums); i++) {
        k = json_object_get(s, nums[i]);
        if (k != NULL && !json_is_number(k))
            return cfail(c, ei, nums[i], "must be a number");
    }
    for (i = 0; i < ARRAY_LEN(bools); i++) {
        k = json_object_get(s, bools[i]);
        if (k != NULL && !json_is_boolean(k))
            return cfail(c, ei, bools[i], "must be a boolean");
    }
    k = json_object_get(s, "exclusiveMinimum");
    if (k != NULL && !json_is_number(k) && !json_is_boolean(k))
        return cfail(c, ei, "exclusiveMinimum", "must be a number or a boolean");
    k = json_object_get(s, "exclusiveMaximum");
    if (k != NULL && !json_is_number(k) && !json_is_boolean(k))
        return cfail(c, ei, "exclusiveMaximum", "must be a number or a boolean");
    k = json_object_get(s, "multipleOf");
    if (k != NULL && (!json_is_number(k) || json_number_value(k) <= 0))
        return cfail(c, ei, "multipleOf", "must be a number greater than 0");
    k = json_object_get(s, "pattern");
    if (k != NULL && !json_is_string(k))
        return cfail(c, ei, "pattern", "must be a string");
    k = json_object_get(s, "enum");
    if (k != NULL && !json_is_array(k))
        return cfail(c, ei, "enum", "must be a list");
    k = json_object_get(s, "required");
    if (k != NULL && !json_is_array(k))
        return cfail(c, ei, "required", "must be a list of property names");
    for (i = 0; i < json_array_size(k); i++) {
        if (!json_is_string(json_array_get(k, i))) {
            size_t old = path_key(&c->path, "required");
            enum err e;
            path_index(&c->path, i);
            e = cfail(c, ei, NULL, "must be a string");
            path_restore(&c->path, old);
            return e;
        }
    }
    k = json_object_get(s, "$ref");
    if (k != NULL) {
        if (!json_is_string(k) || json_string_value(k)[0] != '#')
            return cfail(c, ei, "$ref", "only local references (\"#/...\") are supported");
        if (ref_resolve(c->root, json_string_value(k)) == NULL)
            return cfail(c, ei, "$ref", "does not resolve inside this schema");
    }
    return ERR_OK;
}

static enum err
check(struct cctx *c, const json_t *s, int depth, struct errinfo *ei)
{
    static const char *const maps[] = {"properties", "patternProperties", "$defs", "definitions",
                                       "dependentSchemas"};
    static const char *const lists[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
    static const char *const subs[] = {"additionalProperties",
                                       "additionalItems",
                                       "not",
                                       "contains",
                                       "propertyNames",
                                       "if",
                                       "then",
                                       "else"};
    const json_t *k;
    size_t i;
    enum err e;

    if (json_is_boolean(s))
        return ERR_OK;
    if (!json_is_object(s))
        return cfail(c, ei, NULL, "must be a schema (an object or a boolean)");
    if (depth > SCHEMA_MAX_DEPTH)
        return cfail(c, ei, NULL, "is nested too deeply");
    if (++c->nodes > SCHEMA_MAX_NODES)
        return cfail(c, ei, NULL, "has too many subschemas");
    k = json_object_get(s, "type");
    if (k != NULL && (e = check_type(c, k, ei)) != ERR_OK)
        return e;
    if ((e = check_scalars(c, s, ei)) != ERR_OK)
        return e;
    for (i = 0; i < ARRAY_LEN(maps); i++)
        if ((k = json_object_get(s, maps[i])) != NULL &&
            (e = check_map(c, maps[i], k, depth, ei)) != ERR_OK)
            return e;
    for (i = 0; i < ARRAY_LEN(lists); i++)
        if ((k = json_object_get(s, lists[i])) != NULL &&
            (e = check_list(c, lists[i], k, depth, ei)) != ERR_OK)
            return e;
    for (i = 0; i < ARRAY_LEN(subs); i++)
        if ((k = json_object_get(s, subs[i])) != NULL &&
            (e = check_sub(c, subs[i], k, depth, ei)) != ERR_OK)
            return e;
    k = json_object_get(s, "items");
    if (json_is_array(k))
        return check_list(c, "items", k, depth, ei);
    if (k != NULL)
        return check_sub(c, "items", k, depth, ei);
    return ERR_OK;
}

enum err
schema_check(const json_t *schema, const char *field, struct errinfo *ei)
{
    struct cctx *c;
    enum err e;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(ei, ERR_NOMEM, NULL, NULL, "out of memory");
    c->root = schema;
    path_key(&c->path, field ? field : "");
    e = check(c, schema, 0, ei);
    free(c);
    return e;
}
