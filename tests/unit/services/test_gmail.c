/* services/gmail (a): RFC 5322 messages (golden strings with a fixed Date,
 * Message-ID and boundary), RFC 2047 folding, header-injection refusals,
 * addr-spec checks, base64url, the Gmail API requests, tiers and scopes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/util.h"
#include "services/gmail.h"
#include "services/internal.h"
#include "services/tool.h"
#include "svc_test.h"

#define JAN1_2026 1767225600 /* Thu, 01 Jan 2026 00:00:00 +0000 */
#define B "http://127.0.0.2:9"
#define AT "ya29.access-TOKEN_x"

static int
fix(void **state)
{
    (void)state;
    gmail_test_fixed(JAN1_2026, "fixed.1@example.com", "BOUNDARY42");
    return 0;
}

static int
unfix(void **state)
{
    (void)state;
    gmail_test_fixed(0, NULL, NULL);
    return 0;
}

static const char *const to2[] = {"bob@example.org", "Carol Q. <carol@example.net>"};
static const char *const cc1[] = {"dave@example.com"};
static const char *const bcc1[] = {"eve@example.com"};

static const char golden_plain[] = "From: Alice <alice@example.com>\r\n"
                                   "To: bob@example.org,\r\n"
                                   " \"Carol Q.\" <carol@example.net>\r\n"
                                   "Cc: dave@example.com\r\n"
                                   "Bcc: eve@example.com\r\n"
                                   "Subject: Hello\r\n"
                                   "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                                   "Message-ID: <fixed.1@example.com>\r\n"
                                   "MIME-Version: 1.0\r\n"
                                   "Content-Type: text/plain; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: base64\r\n"
                                   "\r\n"
                                   "SGkgQm9i\r\n";

static void
message_plain(void **state)
{
    struct gmail_message m = {0};
    struct buf out;
    struct errinfo ei = {0};
    (void)state;

    m.from = "Alice <alice@example.com>";
    m.to = to2;
    m.nto = 2;
    m.cc = cc1;
    m.ncc = 1;
    m.bcc = bcc1;
    m.nbcc = 1;
    m.subject = "Hello";
    m.text = "Hi Bob";
    buf_init(&out, 1 << 20);
    if (gmail_message_build(&m, &out, &ei) != ERR_OK)
        fail_msg("%s", ei.msg);
    assert_string_equal(out.data, golden_plain);
    buf_release(&out);
}

static void
message_multipart_utf8(void **state)
{
    static const char want[] = "From: =?UTF-8?B?Wm/DqyDDnG5hbA==?= <zoe@example.com>\r\n"
                               "To: bob@example.org\r\n"
                               "Reply-To: \"Help, Desk\" <help@example.com>\r\n"
                               "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
                               "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                               "Message-ID: <fixed.1@example.com>\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: multipart/alternative; boundary=\"BOUNDARY42\"\r\n"
                               "\r\n"
                               "--BOUNDARY42\r\n"
                               "Content-Type: text/plain; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: base64\r\n"
                               "\r\n"
                               "SGk=\r\n"
                               "--BOUNDARY42\r\n"
                               "Content-Type: text/html; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: base64\r\n"
                               "\r\n"
                               "PHA+SGk8L3A+\r\n"
                               "--BOUNDARY42--\r\n";
    static const char *const to[] = {"bob@example.org"};
    struct gmail_message m = {0};
    struct buf out;
    struct errinfo ei = {0};
    (void)state;

    m.from = "Zo\xc3\xab \xc3\x9cnal <zoe@example.com>";
    m.to = to;
    m.nto = 1;
    m.reply_to = "\"Help, Desk\" <help@example.com>";
    m.subject = "Gr\xc3\xbc\xc3\x9f"
                "e aus K\xc3\xb6ln";
    m.text = "Hi";
    m.html = "<p>Hi</p>";
    buf_init(&out, 1 << 20);
    if (gmail_message_build(&m, &out, &ei) != ERR_OK)
        fail_msg("%s", ei.msg);
    assert_string_equal(out.data, want);
    buf_release(&out);
}

/* Body lines: 57 bytes per 76-char base64 line. */
static void
message_body_lines(void **state)
{
    static const char *const to[] = {"b@example.org"};
    char text[58 + 1];
    struct gmail_message m = {0};
    struct buf out;
    struct errinfo ei;
    const char *body;
    (void)state;

    memset(text, 'x', 58);
    text[58] = '\0';
    m.from = "a@example.com";
    m.to = to;
    m.nto = 1;
    m.text = text;
    buf_init(&out, 1 << 20);
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_OK);
    body = strstr(out.data, "\r\n\r\n") + 4;
    assert_string_equal(
        body, "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\r\n"
              "eA==\r\n");
    assert_null(strstr(out.data, "Subject:")); /* no subject: no header */
    buf_release(&out);
}

/* Decodes a Subject header made of encoded-words; checks every line's length. */
static void
decode_ew_header(const char *h, struct buf *out)
{
    const char *p = h + strlen("Subject: ");
    size_t line_start_col = strlen("Subject: ");
    const char *line = h;

    for (const char *q = h; *q; q++) {
        if (q[0] == '\r' && q[1] == '\n') {
            if ((size_t)(q - line) > 76)
                fail_msg("line of %zu chars: %.*s", (size_t)(q - line), (int)(q - line), line);
            line = q + 2;
        }
    }
    (void)line_start_col;
    while (*p) {
        const char *end;
        unsigned char dec[64];
        long n;
        while (*p == ' ' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        if (strncmp(p, "=?UTF-8?B?", 10) != 0)
            fail_msg("not an encoded-word: %s", p);
        p += 10;
        end = strstr(p, "?=");
        assert_non_null(end);
        assert_true(end - p + 12 <= 75);
        n = b64_decode(p, (size_t)(end - p), dec);
        assert_true(n >= 0);
        assert_true(str_is_utf8((const char *)dec, (size_t)n)); /* whole characters */
        assert_int_equal(buf_append(out, dec, (size_t)n), ERR_OK);
        p = end + 2;
    }
}

static void
rfc2047_folding(void **state)
{
    static const char *const subjects[] = {
        "\xc3\xa9",
        "Gr\xc3\xbc\xc3\x9f"
        "e",
        /* 3-byte and 4-byte characters across word boundaries */
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6\xe5\x90\x8d\xe3\x81\xa7\xe3"
        "\x81\x99\xe3\x80\x82\xe3\x81\x93\xe3\x82\x8c\xe3\x81\xaf\xe9\x95\xb7\xe3\x81\x84\xe4\xbb"
        "\xb6\xe5\x90\x8d\xe3\x81\xae\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe3\x81\xa7\xe3\x81\x99"
        "\xe3\x80\x82",
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82\xf0\x9f\x98\x83\xf0\x9f\x98\x84\xf0\x9f"
        "\x98\x85\xf0\x9f\x98\x86\xf0\x9f\x98\x87\xf0\x9f\x98\x88\xf0\x9f\x98\x89\xf0\x9f\x98\x8a"
        "\xf0\x9f\x98\x8b\xf0\x9f\x98\x8c\xf0\x9f\x98\x8d\xf0\x9f\x98\x8e\xf0\x9f\x98\x8f",
        "ASCII with =?UTF-8?Q?looks_encoded?= inside", /* "=?" forces encoding */
        "A fairly long subject line with one \xc3\xa9 in it that needs several encoded words "
        "to fit, because each of them is at most seventy-five characters long",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(subjects); i++) {
        struct buf h, dec;
        struct errinfo ei;
        buf_init(&h, 1 << 16);
        buf_init(&dec, 1 << 16);
        assert_int_equal(gmail_header_unstructured(&h, "Subject", subjects[i], &ei), ERR_OK);
        assert_true(h.len > 2 && strcmp(h.data + h.len - 2, "\r\n") == 0);
        h.data[h.len - 2] = '\0';
        decode_ew_header(h.data, &dec);
        if (strcmp(dec.data ? dec.data : "", subjects[i]) != 0)
            fail_msg("case %zu: decoded %s", i, dec.data);
        buf_release(&h);
        buf_release(&dec);
    }
    /* exact first fold: 39 bytes fit on "Subject: " line, 45 on the next */
    {
        struct buf h;
        struct errinfo ei;
        char s[100];
        memset(s, 'a', 84);
        s[0] = '\xc3'; /* make it non-ASCII: "é" + 82 'a' = 84 bytes */
        s[1] = '\xa9';
        s[84] = '\0';
        buf_init(&h, 4096);
        assert_int_equal(gmail_header_unstructured(&h, "Subject", s, &ei), ERR_OK);
        assert_string_equal(
            h.data,
            "Subject: =?UTF-8?B?w6lhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n"
            " =?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=\r\n");
        buf_release(&h);
    }
}

static void
ascii_folding(void **state)
{
    static const char s[] = "This is a plain ASCII subject that is long enough to need folding "
                            "at a space before the seventy-eighth column, twice even, because it "
                            "goes on and on";
    struct buf h, unf;
    struct errinfo ei;
    const char *line;
    (void)state;

    buf_init(&h, 4096);
    buf_init(&unf, 4096);
    assert_int_equal(gmail_header_unstructured(&h, "Subject", s, &ei), ERR_OK);
    line = h.data;
    for (const char *q = h.data; *q; q++) {
        if (q[0] == '\r' && q[1] == '\n') {
            assert_true(q - line <= 78);
            if (line != h.data)
                assert_int_equal(line[0], ' '); /* continuation starts with WSP */
            line = q + 2;
            q++;
        } else {
            assert_int_equal(buf_putc(&unf, *q), ERR_OK);
        }
    }
    assert_true(strstr(h.data, "\r\n ") != NULL);
    assert_string_equal(unf.data + strlen("Subject: "), s);
    buf_release(&h);
    buf_release(&unf);
    /* short: unchanged */
    buf_init(&h, 4096);
    assert_int_equal(gmail_header_unstructured(&h, "Subject", "Hello world", &ei), ERR_OK);
    assert_string_equal(h.data, "Subject: Hello world\r\n");
    buf_release(&h);
}

static void
header_injection(void **state)
{
    static const struct {
        const char *from, *to, *reply_to, *subject, *field, *code;
    } cases[] = {
        {"a@example.com", "b@example.org", NULL, "Hi\r\nBcc: evil@example.net", "subject",
         "header_injection"},
        {"a@example.com", "b@example.org", NULL, "Hi\nX: y", "subject", "header_injection"},
        {"a@example.com", "b@example.org", NULL, "Hi\rX: y", "subject", "header_injection"},
        {"a@example.com", "b@example.org", NULL, "Hi\x01", "subject", "header_injection"},
        {"a@example.com", "b@example.org\r\nBcc: evil@example.net", NULL, "s", "to[0]",
         "header_injection"},
        {"a@example.com", "Bob\n <b@example.org>", NULL, "s", "to[0]", "header_injection"},
        {"a@example.com\r\n", "b@example.org", NULL, "s", "from", "header_injection"},
        {"a@example.com", "b@example.org", "r@example.com\nX: 1", "s", "reply_to",
         "header_injection"},
        {"a@example.com", "b@example.org, evil@example.net", NULL, "s", "to[0]", "invalid_address"},
        {"a@example.com", "not an address", NULL, "s", "to[0]", "invalid_address"},
        {"a@example.com", "Bob <b@example.org> <c@example.org>", NULL, "s", "to[0]",
         "invalid_address"},
        {"a@example.com", "\"Bob <b@example.org>", NULL, "s", "to[0]", "invalid_address"},
        {"a@example.com", "B\"o\"b <b@example.org>", NULL, "s", "to[0]", "invalid_address"},
        {"nobody", "b@example.org", NULL, "s", "from", "invalid_address"},
        {"a@example.com", "b@example.org", NULL, "bad \xff utf8", "subject", "invalid_field"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *to[] = {cases[i].to};
        struct gmail_message m = {0};
        struct buf out;
        struct errinfo ei = {0};
        enum err e;

        m.from = cases[i].from;
        m.to = to;
        m.nto = 1;
        m.reply_to = cases[i].reply_to;
        m.subject = cases[i].subject;
        m.text = "t";
        buf_init(&out, 1 << 20);
        e = gmail_message_build(&m, &out, &ei);
        if (e != ERR_INVALID || strcmp(ei.field, cases[i].field) != 0 ||
            strcmp(ei.code, cases[i].code) != 0)
            fail_msg("case %zu: e=%d field=%s code=%s", i, e, ei.field, ei.code);
        assert_null(strstr(ei.msg, "evil"));
        buf_release(&out);
    }
}

static void
message_limits(void **state)
{
    const char *many[GMAIL_MAX_RECIPIENTS + 1];
    struct gmail_message m = {0};
    struct buf out;
    struct errinfo ei;
    char *big;
    (void)state;

    for (size_t i = 0; i <= GMAIL_MAX_RECIPIENTS; i++)
        many[i] = "r@example.org";
    m.from = "a@example.com";
    m.to = many;
    m.text = "t";
    m.nto = GMAIL_MAX_RECIPIENTS;
    buf_init(&out, 1 << 20);
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_OK);
    buf_reset(&out);
    m.nto = GMAIL_MAX_RECIPIENTS - 1;
    m.nbcc = 2;
    m.bcc = many;
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_TOO_LARGE);
    m.nto = 0;
    m.nbcc = 0;
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_INVALID); /* no recipient */
    m.nto = 1;
    /* subject GMAIL_MAX_SUBJECT ok, +1 refused */
    big = malloc(GMAIL_MAX_BODY + 2);
    memset(big, 's', GMAIL_MAX_SUBJECT + 1);
    big[GMAIL_MAX_SUBJECT] = '\0';
    m.subject = big;
    buf_reset(&out);
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_OK);
    big[GMAIL_MAX_SUBJECT] = 's';
    big[GMAIL_MAX_SUBJECT + 1] = '\0';
    buf_reset(&out);
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_TOO_LARGE);
    assert_string_equal(ei.field, "subject");
    m.subject = NULL;
    buf_release(&out);
    /* body GMAIL_MAX_BODY ok, +1 refused */
    buf_init(&out, GMAIL_MAX_MESSAGE);
    memset(big, 'b', GMAIL_MAX_BODY + 1);
    big[GMAIL_MAX_BODY] = '\0';
    m.text = big;
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_OK);
    big[GMAIL_MAX_BODY] = 'b';
    big[GMAIL_MAX_BODY + 1] = '\0';
    buf_reset(&out);
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_TOO_LARGE);
    buf_release(&out);
    /* out's own cap */
    buf_init(&out, 64);
    m.text = "t";
    assert_int_equal(gmail_message_build(&m, &out, &ei), ERR_TOO_LARGE);
    buf_release(&out);
    free(big);
}

static void
addr_spec(void **state)
{
    static const struct {
        const char *a;
        bool ok;
    } cases[] = {
        {"a@example.com", true},
        {"first.last+tag@sub.example.co.uk", true},
        {"x!#$%&'*+/=?^_`{|}~-@example.com", true},
        {"a@b-c.example", true},
        {"a@example", false}, /* one label */
        {"@example.com", false},
        {"a@", false},
        {"a", false},
        {".a@example.com", false},
        {"a.@example.com", false},
        {"a..b@example.com", false},
        {"a b@example.com", false},
        {"\"a\"@example.com", false},
        {"a@[127.0.0.1]", false},
        {"a@-example.com", false},
        {"a@example-.com", false},
        {"a@example..com", false},
        {"a@example.com.", false},
        {"a@exa_mple.com", false},
        {"a@@example.com", false},
        {"a(b)@example.com", false},
        {"a,b@example.com", false},
        {"\xc3\xa9@example.com", false},
        {"a@\xc3\xa9xample.com", false},
        {"", false},
        {NULL, false},
    };
    char local[70], addr[300];
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (gmail_addr_spec_ok(cases[i].a) != cases[i].ok)
            fail_msg("case %zu: %s", i, cases[i].a ? cases[i].a : "(null)");
    /* local part 64 ok, 65 refused */
    memset(local, 'l', 65);
    local[64] = '\0';
    snprintf(addr, sizeof(addr), "%s@example.com", local);
    assert_true(gmail_addr_spec_ok(addr));
    local[64] = 'l';
    local[65] = '\0';
    snprintf(addr, sizeof(addr), "%s@example.com", local);
    assert_false(gmail_addr_spec_ok(addr));
    /* whole address GMAIL_MAX_ADDRESS ok, +1 refused (labels of 63) */
    {
        char a[GMAIL_MAX_ADDRESS + 2];
        size_t n = 0;
        memcpy(a, "u@", 2);
        n = 2;
        while (n < GMAIL_MAX_ADDRESS) {
            size_t lab = GMAIL_MAX_ADDRESS - n > 63 ? 63 : GMAIL_MAX_ADDRESS - n;
            if (n > 2) {
                a[n++] = '.';
                lab = GMAIL_MAX_ADDRESS - n > 63 ? 63 : GMAIL_MAX_ADDRESS - n;
            }
            memset(a + n, 'd', lab);
            n += lab;
        }
        a[n] = '\0';
        assert_int_equal(strlen(a), GMAIL_MAX_ADDRESS);
        assert_true(gmail_addr_spec_ok(a));
        a[n] = 'd';
        a[n + 1] = '\0';
        assert_false(gmail_addr_spec_ok(a));
    }
}

static void
b64url(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"", 0, ""},
        {"f", 1, "Zg"},
        {"fo", 2, "Zm8"},
        {"foo", 3, "Zm9v"},
        {"foob", 4, "Zm9vYg"},
        {"fooba", 5, "Zm9vYmE"},
        {"foobar", 6, "Zm9vYmFy"},
        {"\xfb\xff", 2, "-_8"},
        {"\xff\xfe\xfd", 3, "__79"},
        {"\x00\x00", 2, "AAA"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct buf b;
        unsigned char dec[16];
        long n;
        buf_init(&b, 64);
        assert_int_equal(svc_b64url_append(&b, (const unsigned char *)cases[i].in, cases[i].n),
                         ERR_OK);
        assert_string_equal(b.data ? b.data : "", cases[i].out);
        n = svc_b64url_decode(cases[i].out, strlen(cases[i].out), dec);
        assert_int_equal(n, (long)cases[i].n);
        assert_memory_equal(dec, cases[i].in, cases[i].n);
        buf_release(&b);
    }
    {
        unsigned char dec[16];
        assert_int_equal(svc_b64url_decode("Zm9v+g", 6, dec), -1); /* std alphabet */
        assert_int_equal(svc_b64url_decode("Zm9vY", 5, dec), -1);  /* 4n+1 */
        assert_int_equal(svc_b64url_decode("Zg==", 4, dec), 1);    /* padding tolerated */
    }
}

static void
message_raw(void **state)
{
    struct gmail_message m = {0};
    struct buf raw;
    struct errinfo ei;
    unsigned char *dec;
    long n;
    (void)state;

    m.from = "Alice <alice@example.com>";
    m.to = to2;
    m.nto = 2;
    m.cc = cc1;
    m.ncc = 1;
    m.bcc = bcc1;
    m.nbcc = 1;
    m.subject = "Hello";
    m.text = "Hi Bob";
    buf_init(&raw, 1 << 20);
    assert_int_equal(gmail_message_raw(&m, &raw, &ei), ERR_OK);
    assert_null(strchr(raw.data, '='));
    assert_null(strchr(raw.data, '+'));
    assert_null(strchr(raw.data, '/'));
    dec = malloc(raw.len);
    n = svc_b64url_decode(raw.data, raw.len, dec);
    assert_int_equal(n, (long)strlen(golden_plain));
    assert_memory_equal(dec, golden_plain, (size_t)n);
    free(dec);
    buf_release(&raw);
}

static void
api_send(void **state)
{
    static const struct want_header h[] = {
        {"Content-Type", "application/json", 0},
        {"Authorization", "Bearer " AT, 1},
        {"Accept", "application/json", 0},
    };
    json_t *in = svc_json("{\"to\":[\"bob@example.org\",\"Carol Q. <carol@example.net>\"],"
                          "\"cc\":\"dave@example.com\",\"bcc\":[\"eve@example.com\"],"
                          "\"subject\":\"Hello\",\"text\":\"Hi Bob\",\"thread_id\":\"18c0ffee\"}");
    struct secret at;
    struct out_request rq;
    struct errinfo ei = {0};
    struct buf want, raw;
    struct gmail_message m = {0};
    (void)state;

    svc_secret(&at, AT);
    if (gmail_build_send_message(in, &at, B, "Alice <alice@example.com>", &rq, &ei) != ERR_OK)
        fail_msg("%s", ei.msg);
    m.from = "Alice <alice@example.com>";
    m.to = to2;
    m.nto = 2;
    m.cc = cc1;
    m.ncc = 1;
    m.bcc = bcc1;
    m.nbcc = 1;
    m.subject = "Hello";
    m.text = "Hi Bob";
    buf_init(&raw, 1 << 20);
    buf_init(&want, 1 << 20);
    assert_int_equal(gmail_message_raw(&m, &raw, &ei), ERR_OK);
    assert_int_equal(buf_printf(&want, "{\"raw\":\"%s\",\"threadId\":\"18c0ffee\"}", raw.data),
                     ERR_OK);
    svc_check_request(&rq, "POST", B "/gmail/v1/users/me/messages/send", h, 3, want.data, "send");
    out_request_release(&rq);
    buf_release(&raw);
    buf_release(&want);
    json_decref(in);

    /* input.from wins over the default; html-only gets a blank text part */
    in = svc_json("{\"to\":\"b@example.org\",\"from\":\"me@example.com\",\"html\":\"<b>x</b>\"}");
    assert_int_equal(gmail_build_send_message(in, &at, B, "other@example.com", &rq, &ei), ERR_OK);
    json_decref(in);
    {
        const char *r = strstr(rq.body.data, "\"raw\":\"") + 7;
        size_t n = strcspn(r, "\"");
        unsigned char *dec = malloc(n);
        long k = svc_b64url_decode(r, n, dec);
        assert_true(k > 0);
        assert_non_null(memmem(dec, (size_t)k, "From: me@example.com\r\n", 22));
        assert_non_null(memmem(dec, (size_t)k, "multipart/alternative", 21));
        free(dec);
    }
    out_request_release(&rq);
    secret_release(&at);
}

static void
api_send_refusals(void **state)
{
    static const struct {
        const char *input, *from, *field;
        enum err e;
    } cases[] = {
        {"{\"text\":\"t\"}", "a@example.com", "input.to", ERR_INVALID},
        {"{\"to\":[],\"text\":\"t\"}", "a@example.com", "input.to", ERR_INVALID},
        {"{\"to\":\"b@example.org\"}", "a@example.com", "input.text", ERR_INVALID},
        {"{\"to\":\"b@example.org\",\"text\":\"t\"}", NULL, "input.from", ERR_INVALID},
        {"{\"to\":5,\"text\":\"t\"}", "a@example.com", "input.to", ERR_INVALID},
        {"{\"to\":[\"b@example.org\",5],\"text\":\"t\"}", "a@example.com", "input.to[1]",
         ERR_INVALID},
        {"{\"to\":[\"b@example.org\",\"x\\r\\nBcc: e@example.net\"],\"text\":\"t\"}",
         "a@example.com", "input.to[1]", ERR_INVALID},
        {"{\"to\":\"b@example.org\",\"text\":\"t\",\"subject\":\"a\\r\\nb\"}", "a@example.com",
         "input.subject", ERR_INVALID},
        {"{\"to\":\"b@example.org\",\"text\":\"t\",\"thread_id\":\"../x\"}", "a@example.com",
         "input.thread_id", ERR_INVALID},
        {"{\"to\":\"b@example.org\",\"text\":\"t\",\"attachments\":[]}", "a@example.com",
         "input.attachments", ERR_INVALID},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        json_t *in = svc_json(cases[i].input);
        struct secret at;
        struct out_request rq;
        struct errinfo ei = {0};
        enum err e;
        svc_secret(&at, AT);
        e = gmail_build_send_message(in, &at, B, cases[i].from, &rq, &ei);
        if (e != cases[i].e || strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: e=%d field=%s msg=%s", i, e, ei.field, ei.msg);
        assert_null(rq.url);
        out_request_release(&rq);
        secret_release(&at);
        json_decref(in);
    }
    {
        /* no access token */
        json_t *in = svc_json("{\"to\":\"b@example.org\",\"text\":\"t\"}");
        struct secret none = {0};
        struct out_request rq;
        struct errinfo ei = {0};
        assert_int_equal(gmail_build_send_message(in, &none, B, "a@example.com", &rq, &ei),
                         ERR_UNPROCESSABLE);
        assert_string_equal(ei.code, "credential_missing");
        assert_null(rq.url);
        json_decref(in);
    }
}

static void
api_list_get(void **state)
{
    static const struct want_header h[] = {
        {"Authorization", "Bearer " AT, 1},
        {"Accept", "application/json", 0},
    };
    static const struct {
        int get;
        const char *input, *url;
        enum err e;
        const char *field;
    } cases[] = {
        {0, "{}", B "/gmail/v1/users/me/messages", ERR_OK, NULL},
        {0, "{\"query\":\"from:bob is:unread\",\"max_results\":10,\"page_token\":\"abc/=\"}",
         B
         "/gmail/v1/users/me/messages?q=from%3Abob%20is%3Aunread&maxResults=10&pageToken=abc%2F%3D",
         ERR_OK, NULL},
        {0, "{\"label_ids\":[\"INBOX\",\"UNREAD\"],\"include_spam_trash\":true}",
         B "/gmail/v1/users/me/messages?labelIds=INBOX&labelIds=UNREAD&includeSpamTrash=true",
         ERR_OK, NULL},
        {0, "{\"max_results\":500}", B "/gmail/v1/users/me/messages?maxResults=500", ERR_OK, NULL},
        {0, "{\"max_results\":501}", NULL, ERR_INVALID, "input.max_results"},
        {0, "{\"max_results\":0}", NULL, ERR_INVALID, "input.max_results"},
        {0, "{\"label_ids\":\"INBOX\"}", NULL, ERR_INVALID, "input.label_ids"},
        {0, "{\"label_ids\":[1]}", NULL, ERR_INVALID, "input.label_ids"},
        {0, "{\"q\":\"x\"}", NULL, ERR_INVALID, "input.q"},
        {1, "{\"id\":\"18c0ffee12\"}", B "/gmail/v1/users/me/messages/18c0ffee12", ERR_OK, NULL},
        {1, "{\"id\":\"18c0ffee12\",\"format\":\"raw\"}",
         B "/gmail/v1/users/me/messages/18c0ffee12?format=raw", ERR_OK, NULL},
        {1, "{\"id\":\"../../x\"}", NULL, ERR_INVALID, "input.id"},
        {1, "{\"id\":\"a?b\"}", NULL, ERR_INVALID, "input.id"},
        {1, "{}", NULL, ERR_INVALID, "input.id"},
        {1, "{\"id\":\"a\",\"format\":\"html\"}", NULL, ERR_INVALID, "input.format"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        json_t *in = svc_json(cases[i].input);
        struct secret at;
        struct out_request rq;
        struct errinfo ei = {0};
        enum err e;
        char what[32];
        svc_secret(&at, AT);
        e = cases[i].get ? gmail_build_get_message(in, &at, B, NULL, &rq, &ei)
                         : gmail_build_list_messages(in, &at, B, NULL, &rq, &ei);
        snprintf(what, sizeof(what), "case %zu", i);
        if (e != cases[i].e)
            fail_msg("%s: e=%d %s", what, e, ei.msg);
        if (e == ERR_OK)
            svc_check_request(&rq, "GET", cases[i].url, h, 2, NULL, what);
        else
            assert_string_equal(ei.field, cases[i].field);
        out_request_release(&rq);
        secret_release(&at);
        json_decref(in);
    }
}

static void
tools_tiers_scopes(void **state)
{
    static const struct {
        const char *granted, *needed;
        bool ok;
    } tiers[] = {
        {"full", "send", true}, {"full", "read", true},  {"send", "send", true},
        {"read", "read", true}, {"send", "read", false}, {"read", "send", false},
        {NULL, "read", false},  {"read", NULL, true},    {"admin", "read", false},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(tiers); i++)
        if (svc_tier_allows(tiers[i].granted, tiers[i].needed) != tiers[i].ok)
            fail_msg("tier case %zu", i);
    assert_int_equal(gmail_tool_count(), 3);
    assert_string_equal(gmail_tool_find("send_message")->tier, "send");
    assert_string_equal(gmail_tool_find("list_messages")->tier, "read");
    assert_string_equal(gmail_tool_find("get_message")->tier, "read");
    assert_null(gmail_tool_find("delete_message"));
    assert_null(gmail_tool_at(3));
    for (size_t i = 0; i < gmail_tool_count(); i++) {
        json_t *s = json_loads(gmail_tool_at(i)->input_schema, 0, NULL);
        assert_non_null(s);
        assert_non_null(gmail_scope_for_tier(gmail_tool_at(i)->tier));
        json_decref(s);
    }
    assert_string_equal(gmail_scope_for_tier("send"), "https://www.googleapis.com/auth/gmail.send");
    assert_string_equal(gmail_scope_for_tier("read"),
                        "https://www.googleapis.com/auth/gmail.readonly");
    assert_string_equal(gmail_scope_for_tier("full"), "https://mail.google.com/");
    assert_null(gmail_scope_for_tier("x"));
    assert_null(gmail_scope_for_tier(NULL));
}

/* Without the hook: a real date, a random Message-ID at the sender's domain
 * and a random boundary. */
static void
message_unfixed(void **state)
{
    static const char *const to[] = {"b@example.org"};
    struct gmail_message m = {0};
    struct buf a, b;
    struct errinfo ei;
    (void)state;

    gmail_test_fixed(0, NULL, NULL);
    m.from = "a@sender.example";
    m.to = to;
    m.nto = 1;
    m.text = "t";
    m.html = "<p>t</p>";
    buf_init(&a, 1 << 16);
    buf_init(&b, 1 << 16);
    assert_int_equal(gmail_message_build(&m, &a, &ei), ERR_OK);
    assert_int_equal(gmail_message_build(&m, &b, &ei), ERR_OK);
    assert_non_null(strstr(a.data, "@sender.example>\r\n"));
    assert_non_null(strstr(a.data, "boundary=\"=_connhub_"));
    assert_non_null(strstr(a.data, " +0000\r\n"));
    assert_string_not_equal(a.data, b.data);
    buf_release(&a);
    buf_release(&b);
    gmail_test_fixed(JAN1_2026, "fixed.1@example.com", "BOUNDARY42");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_plain),
        cmocka_unit_test(message_multipart_utf8),
        cmocka_unit_test(message_body_lines),
        cmocka_unit_test(rfc2047_folding),
        cmocka_unit_test(ascii_folding),
        cmocka_unit_test(header_injection),
        cmocka_unit_test(message_limits),
        cmocka_unit_test(addr_spec),
        cmocka_unit_test(b64url),
        cmocka_unit_test(message_raw),
        cmocka_unit_test(api_send),
        cmocka_unit_test(api_send_refusals),
        cmocka_unit_test(api_list_get),
        cmocka_unit_test(tools_tiers_scopes),
        cmocka_unit_test(message_unfixed),
    };
    return cmocka_run_group_tests(tests, fix, unfix);
}
