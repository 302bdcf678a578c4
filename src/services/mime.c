/*
 * mime: RFC 5322 / MIME message building for gmail.send_message
 * (services/gmail.h, part (a)). RFC 2047 encoded-words for non-ASCII
 * headers, base64 bodies, multipart/alternative for HTML.
 */
#include "services/gmail.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "services/internal.h"
#include "core/banned.h"

#define LINE_SOFT 78   /* RFC 5322 2.1.1: SHOULD */
#define LINE_EW 76     /* RFC 2047 2: lines holding encoded-words */
#define EW_OVERHEAD 12 /* "=?UTF-8?B?" + "?=" */

#ifdef CONNHUB_TEST
static int64_t fixed_date;
static char fixed_msgid[64];
static char fixed_boundary[64];

void
gmail_test_fixed(int64_t date_s, const char *message_id, const char *boundary)
{
    fixed_date = date_s;
    snprintf(fixed_msgid, sizeof(fixed_msgid), "%s", message_id ? message_id : "");
    snprintf(fixed_boundary, sizeof(fixed_boundary), "%s", boundary ? boundary : "");
}
#endif

static enum err
field_err(struct errinfo *ei, enum err e, const char *code, const char *field, const char *msg)
{
    return err_set(ei, e, code, field, "%s %s", field, msg);
}

static bool
is_atext(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

bool
gmail_addr_spec_ok(const char *addr)
{
    const char *at, *p;
    size_t n, local;
    bool dot_ok = false;
    int labels = 0;

    if (addr == NULL)
        return false;
    n = strlen(addr);
    at = strrchr(addr, '@');
    if (n == 0 || n > GMAIL_MAX_ADDRESS || at == NULL)
        return false;
    local = (size_t)(at - addr);
    if (local == 0 || local > 64)
        return false;
    /* local part: dot-atom */
    for (p = addr; p < at; p++) {
        if (*p == '.') {
            if (!dot_ok)
                return false; /* leading or double dot */
            dot_ok = false;
        } else if (is_atext((unsigned char)*p)) {
            dot_ok = true;
        } else {
            return false;
        }
    }
    if (!dot_ok)
        return false; /* trailing dot */
    /* domain: LDH labels, at least two */
    p = at + 1;
    if (*p == '\0' || strlen(p) > 253)
        return false;
    while (*p) {
        size_t len = strcspn(p, ".");
        if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
            return false;
        for (size_t i = 0; i < len; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-')
                return false;
        labels++;
        p += len;
        if (*p == '.') {
            p++;
            if (*p == '\0')
                return false;
        }
    }
    return labels >= 2;
}

/* Bytes of s (valid UTF-8) that fit in max bytes without splitting a character. */
static size_t
utf8_prefix(const char *s, size_t n, size_t max)
{
    size_t k;

    if (n <= max)
        return n;
    k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    return k;
}

/* One encoded-word of n bytes. */
static enum err
put_encoded_word(struct buf *out, const char *s, size_t n)
{
    char b64[4 * ((LINE_EW + 2) / 3) + 8];
    enum err e;

    if (n > 57)
        return ERR_INTERNAL;
    b64_encode((const unsigned char *)s, n, b64);
    e = buf_puts(out, "=?UTF-8?B?");
    if (e == ERR_OK)
        e = buf_puts(out, b64);
    if (e == ERR_OK)
        e = buf_puts(out, "?=");
    return e;
}

/* Encoded-words for s, the first one fitting in first_avail columns, the
 * next ones each on a continuation line (CRLF SP) of at most LINE_EW. When
 * fold is false they are separated by one space on the same line. */
static enum err
put_encoded_words(struct buf *out, const char *s, size_t first_avail, bool fold)
{
    size_t n = strlen(s), avail = first_avail;
    enum err e = ERR_OK;
    bool first = true;

    while (e == ERR_OK && (n > 0 || first)) {
        size_t bytes = avail > EW_OVERHEAD + 4 ? (avail - EW_OVERHEAD) / 4 * 3 : 3;
        size_t k = utf8_prefix(s, n, bytes);
        if (k == 0 && n > 0) /* a 4-byte character needs 8 base64 chars */
            k = utf8_prefix(s, n, 4);
        if (!first)
            e = buf_puts(out, fold ? "\r\n " : " ");
        if (e == ERR_OK)
            e = put_encoded_word(out, s, k);
        s += k;
        n -= k;
        first = false;
        avail = LINE_EW - 1; /* after the leading space */
    }
    return e;
}

static bool
needs_encoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            return true;
    return strstr(s, "=?") != NULL;
}

/* Plain ASCII unstructured text, folded at spaces so lines stay within
 * LINE_SOFT when the words allow it. col: the column after "Name: ". */
static enum err
put_folded_ascii(struct buf *out, const char *s, size_t col)
{
    enum err e = ERR_OK;
    bool first = true;

    while (e == ERR_OK && *s) {
        size_t sp = 0, w;
        while (s[sp] == ' ')
            sp++;
        w = strcspn(s + sp, " ");
        if (!first && sp > 0 && col + sp + w > LINE_SOFT) {
            /* fold: CRLF, then the space(s) start the continuation line */
            e = buf_puts(out, "\r\n");
            col = 0;
        }
        if (e == ERR_OK)
            e = buf_append(out, s, sp + w);
        col += sp + w;
        s += sp + w;
        first = false;
    }
    return e;
}

static void
lower_field(const char *name, char *out, size_t outlen)
{
    size_t i = 0;

    for (; name[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)(name[i] == '-' ? '_' : name[i]));
    out[i] = '\0';
}

enum err
gmail_header_unstructured(struct buf *out, const char *name, const char *value, struct errinfo *ei)
{
    char field[32];
    size_t col = strlen(name) + 2;
    enum err e;

    lower_field(name, field, sizeof(field));
    if (str_has_ctl(value))
        return field_err(ei, ERR_INVALID, "header_injection", field,
                         "must not contain CR, LF or control characters");
    if (!str_is_utf8(value, strlen(value)))
        return field_err(ei, ERR_INVALID, "invalid_field", field, "must be UTF-8");
    e = buf_puts(out, name);
    if (e == ERR_OK)
        e = buf_puts(out, ": ");
    if (e == ERR_OK)
        e = needs_encoding(value) ? put_encoded_words(out, value, LINE_EW - col, true)
                                  : put_folded_ascii(out, value, col);
    if (e == ERR_OK)
        e = buf_puts(out, "\r\n");
    if (e != ERR_OK)
        return field_err(ei, e, NULL, field, "does not fit in the message");
    return ERR_OK;
}

/* ---- addresses ---- */

struct mailbox {
    char name[GMAIL_MAX_DISPLAY_NAME + 1]; /* UTF-8, unquoted */
    char addr[GMAIL_MAX_ADDRESS + 1];
};

static const char *
trim(const char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t'))
        s++, (*n)--;
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* "a@b.c" or "Name <a@b.c>" or "\"Name, Jr.\" <a@b.c>". */
static enum err
parse_mailbox(const char *s, const char *field, struct mailbox *mb, struct errinfo *ei)
{
    size_t n = strlen(s), an, dn;
    const char *lt, *a, *d;

    memset(mb, 0, sizeof(*mb));
    if (str_has_ctl(s))
        return field_err(ei, ERR_INVALID, "header_injection", field,
                         "must not contain CR, LF or control characters");
    if (!str_is_utf8(s, n))
        return field_err(ei, ERR_INVALID, "invalid_address", field, "must be UTF-8");
    s = trim(s, &n);
    if (n > 0 && s[n - 1] == '>' && (lt = memchr(s, '<', n)) != NULL) {
        a = lt + 1;
        an = (size_t)(s + n - 1 - a);
        dn = (size_t)(lt - s);
        d = trim(s, &dn);
        if (dn >= 2 && d[0] == '"' && d[dn - 1] == '"') {
            size_t j = 0;
            for (size_t i = 1; i + 1 < dn; i++) {
                if (d[i] == '\\' && i + 2 < dn)
                    i++;
                else if (d[i] == '"')
                    return field_err(ei, ERR_INVALID, "invalid_address", field,
                                     "has an unbalanced quote in its display name");
                if (j >= GMAIL_MAX_DISPLAY_NAME)
                    return field_err(ei, ERR_TOO_LARGE, "invalid_address", field,
                                     "has a display name that is too long");
                mb->name[j++] = d[i];
            }
            mb->name[j] = '\0';
        } else {
            if (dn > GMAIL_MAX_DISPLAY_NAME)
                return field_err(ei, ERR_TOO_LARGE, "invalid_address", field,
                                 "has a display name that is too long");
            if (memchr(d, '"', dn) != NULL || memchr(d, '<', dn) != NULL ||
                memchr(d, '>', dn) != NULL)
                return field_err(ei, ERR_INVALID, "invalid_address", field,
                                 "has quotes or angle brackets in its display name");
            memcpy(mb->name, d, dn);
            mb->name[dn] = '\0';
        }
    } else {
        a = s;
        an = n;
    }
    if (an == 0 || an > GMAIL_MAX_ADDRESS)
        return field_err(ei, ERR_INVALID, "invalid_address", field, "is not an email address");
    memcpy(mb->addr, a, an);
    mb->addr[an] = '\0';
    if (!gmail_addr_spec_ok(mb->addr))
        return field_err(ei, ERR_INVALID, "invalid_address", field, "is not an email address");
    return ERR_OK;
}

/* The display name as a phrase: atoms as they are, other ASCII as a
 * quoted-string, non-ASCII as encoded-words. */
static enum err
put_phrase(struct buf *out, const char *name)
{
    bool atoms = true;
    enum err e = ERR_OK;

    if (needs_encoding(name))
        return put_encoded_words(out, name, LINE_EW, false);
    for (const unsigned char *p = (const unsigned char *)name; *p && atoms; p++)
        atoms = is_atext(*p) || *p == ' ';
    if (atoms)
        return buf_puts(out, name);
    e = buf_putc(out, '"');
    for (const char *p = name; *p && e == ERR_OK; p++) {
        if (*p == '"' || *p == '\\')
            e = buf_putc(out, '\\');
        if (e == ERR_OK)
            e = buf_putc(out, *p);
    }
    if (e == ERR_OK)
        e = buf_putc(out, '"');
    return e;
}

static enum err
put_mailbox(struct buf *out, const struct mailbox *mb)
{
    enum err e = ERR_OK;

    if (mb->name[0] == '\0')
        return buf_puts(out, mb->addr);
    e = put_phrase(out, mb->name);
    if (e == ERR_OK)
        e = buf_printf(out, " <%s>", mb->addr);
    return e;
}

/* "Name: a, b" with each further mailbox on a continuation line. */
static enum err
put_address_list(struct buf *out, const char *name, const char *field, const char *const *list,
                 size_t n, struct mailbox *first, struct errinfo *ei)
{
    struct mailbox mb;
    enum err e;

    if (n == 0)
        return ERR_OK;
    e = buf_printf(out, "%s: ", name);
    for (size_t i = 0; i < n && e == ERR_OK; i++) {
        char f[48];
        if (list[i] == NULL)
            return field_err(ei, ERR_INVALID, "invalid_address", field, "has a null entry");
        snprintf(f, sizeof(f), first != NULL ? "%s" : "%s[%zu]", field, i);
        e = parse_mailbox(list[i], f, &mb, ei);
        if (e != ERR_OK)
            return e;
        if (i == 0 && first != NULL)
            *first = mb;
        if (i > 0)
            e = buf_puts(out, ",\r\n ");
        if (e == ERR_OK)
            e = put_mailbox(out, &mb);
    }
    if (e == ERR_OK)
        e = buf_puts(out, "\r\n");
    if (e != ERR_OK)
        return field_err(ei, e, NULL, field, "does not fit in the message");
    return ERR_OK;
}

/* ---- body ---- */

static enum err
put_base64_lines(struct buf *out, const char *s, size_t n)
{
    char line[80];
    enum err e = ERR_OK;

    for (size_t i = 0; i < n && e == ERR_OK; i += 57) {
        size_t k = n - i < 57 ? n - i : 57;
        b64_encode((const unsigned char *)s + i, k, line);
        e = buf_puts(out, line);
        if (e == ERR_OK)
            e = buf_puts(out, "\r\n");
    }
    return e;
}

static enum err
put_part(struct buf *out, const char *type, const char *body)
{
    enum err e = buf_printf(out,
                            "Content-Type: %s; charset=UTF-8\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\n",
                            type);
    if (e == ERR_OK)
        e = put_base64_lines(out, body, strlen(body));
    return e;
}

static void
rfc5322_date(int64_t t, char *out, size_t outlen)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static enum err
random_hex(char *out, size_t bytes)
{
    unsigned char r[32];

    if (bytes > sizeof(r) || rand_bytes(r, bytes) != ERR_OK)
        return ERR_INTERNAL;
    hex_encode(r, bytes, out);
    return ERR_OK;
}

static enum err
check_text(const char *s, const char *field, size_t *total, struct errinfo *ei)
{
    size_t n = strlen(s);

    if (!str_is_utf8(s, n))
        return field_err(ei, ERR_INVALID, "invalid_field", field, "must be UTF-8");
    *total += n;
    if (*total > GMAIL_MAX_BODY)
        return err_set(ei, ERR_TOO_LARGE, "too_large", field,
                       "the message body is larger than %u bytes", (unsigned)GMAIL_MAX_BODY);
    return ERR_OK;
}

static enum err
put_headers(const struct gmail_message *m, struct buf *out, struct mailbox *from,
            struct errinfo *ei)
{
    enum err e;

    e = put_address_list(out, "From", "from", &m->from, 1, from, ei);
    if (e == ERR_OK)
        e = put_address_list(out, "To", "to", m->to, m->nto, NULL, ei);
    if (e == ERR_OK)
        e = put_address_list(out, "Cc", "cc", m->cc, m->ncc, NULL, ei);
    if (e == ERR_OK)
        e = put_address_list(out, "Bcc", "bcc", m->bcc, m->nbcc, NULL, ei);
    if (e == ERR_OK && m->reply_to != NULL) {
        struct mailbox rt;
        e = put_address_list(out, "Reply-To", "reply_to", &m->reply_to, 1, &rt, ei);
    }
    if (e == ERR_OK && m->subject != NULL && m->subject[0] != '\0') {
        if (strlen(m->subject) > GMAIL_MAX_SUBJECT)
            return err_set(ei, ERR_TOO_LARGE, "too_large", "subject",
                           "subject is longer than %d bytes", GMAIL_MAX_SUBJECT);
        e = gmail_header_unstructured(out, "Subject", m->subject, ei);
    }
    return e;
}

enum err
gmail_message_build(const struct gmail_message *m, struct buf *out, struct errinfo *ei)
{
    struct mailbox from;
    char date[160], msgid[80], boundary[80];
    size_t total = 0;
    int64_t t = now_ms() / 1000;
    enum err e;

    if (m->from == NULL)
        return field_err(ei, ERR_INVALID, "invalid_address", "from", "is required");
    if (m->nto + m->ncc + m->nbcc == 0)
        return field_err(ei, ERR_INVALID, "invalid_address", "to", "needs at least one recipient");
    if (m->nto + m->ncc + m->nbcc > GMAIL_MAX_RECIPIENTS)
        return err_set(ei, ERR_TOO_LARGE, "too_large", "to",
                       "at most %d recipients (to, cc and bcc together)", GMAIL_MAX_RECIPIENTS);
    if (m->text == NULL)
        return field_err(ei, ERR_INVALID, "invalid_field", "text", "is required");
    e = check_text(m->text, "text", &total, ei);
    if (e == ERR_OK && m->html != NULL)
        e = check_text(m->html, "html", &total, ei);
    if (e != ERR_OK)
        return e;
    if (random_hex(msgid, 16) != ERR_OK || random_hex(boundary, 16) != ERR_OK)
        return err_set(ei, ERR_INTERNAL, NULL, NULL, "no randomness");
#ifdef CONNHUB_TEST
    if (fixed_date != 0)
        t = fixed_date;
    if (fixed_msgid[0] != '\0')
        snprintf(msgid, sizeof(msgid), "%s", fixed_msgid);
    if (fixed_boundary[0] != '\0')
        snprintf(boundary, sizeof(boundary), "%s", fixed_boundary);
#endif
    rfc5322_date(t, date, sizeof(date));

    e = put_headers(m, out, &from, ei);
    if (e != ERR_OK)
        return e;
    e = buf_printf(out, "Date: %s\r\n", date);
    if (e == ERR_OK) {
#ifdef CONNHUB_TEST
        if (fixed_msgid[0] != '\0')
            e = buf_printf(out, "Message-ID: <%s>\r\n", msgid);
        else
#endif
            e = buf_printf(out, "Message-ID: <%s@%s>\r\n", msgid, strchr(from.addr, '@') + 1);
    }
    if (e == ERR_OK)
        e = buf_puts(out, "MIME-Version: 1.0\r\n");
    if (e == ERR_OK && m->html == NULL) {
        e = put_part(out, "text/plain", m->text);
    } else if (e == ERR_OK) {
        char b[96];
        snprintf(b, sizeof(b), "=_connhub_%s", boundary);
#ifdef CONNHUB_TEST
        if (fixed_boundary[0] != '\0')
            snprintf(b, sizeof(b), "%s", boundary);
#endif
        e = buf_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n",
                       b, b);
        if (e == ERR_OK)
            e = put_part(out, "text/plain", m->text);
        if (e == ERR_OK)
            e = buf_printf(out, "--%s\r\n", b);
        if (e == ERR_OK)
            e = put_part(out, "text/html", m->html);
        if (e == ERR_OK)
            e = buf_printf(out, "--%s--\r\n", b);
    }
    if (e != ERR_OK)
        return err_set(ei, e, "too_large", "text", "the message is too large");
    return ERR_OK;
}

enum err
gmail_message_raw(const struct gmail_message *m, struct buf *out, struct errinfo *ei)
{
    struct buf msg;
    enum err e;

    buf_init(&msg, GMAIL_MAX_MESSAGE);
    e = gmail_message_build(m, &msg, ei);
    if (e == ERR_OK && svc_b64url_append(out, (const unsigned char *)msg.data, msg.len) != ERR_OK)
        e = err_set(ei, ERR_TOO_LARGE, "too_large", "text", "the encoded message is too large");
    buf_release(&msg);
    return e;
}
