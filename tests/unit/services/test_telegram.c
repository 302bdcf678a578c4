/* services/telegram: connection tools' exact requests, token shape, no
 * token in any error, no redirects, URL redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "services/telegram.h"
#include "svc_test.h"

#define TOK "987654321:AAF-secret_TOKEN-xyz"
#define B "http://127.0.0.2:9"

static const struct want_header json_headers[] = {
    {"Content-Type", "application/json", 0},
    {"Accept", "application/json", 0},
};

static void
golden_requests(void **state)
{
    static const struct {
        const char *tool, *input, *url, *body;
    } cases[] = {
        {"send_message", "{\"chat_id\":42,\"text\":\"hi\"}", B "/bot" TOK "/sendMessage",
         "{\"chat_id\":42,\"text\":\"hi\"}"},
        {"send_message",
         "{\"reply_to_message_id\":7,\"parse_mode\":\"HTML\",\"text\":\"<b>x</b>\","
         "\"chat_id\":\"@my_channel\",\"disable_notification\":true}",
         B "/bot" TOK "/sendMessage",
         "{\"chat_id\":\"@my_channel\",\"text\":\"<b>x</b>\",\"parse_mode\":\"HTML\","
         "\"disable_notification\":true,\"reply_to_message_id\":7}"},
        {"send_message", "{\"chat_id\":\"-1001234567890\",\"text\":\"\\u00e9\"}",
         B "/bot" TOK "/sendMessage", "{\"chat_id\":\"-1001234567890\",\"text\":\"\xc3\xa9\"}"},
        {"send_photo", "{\"chat_id\":1,\"photo\":\"https://img.example.com/a.png\"}",
         B "/bot" TOK "/sendPhoto", "{\"chat_id\":1,\"photo\":\"https://img.example.com/a.png\"}"},
        {"send_photo",
         "{\"chat_id\":1,\"photo\":\"AgACAgIAAxkBAAIB-x_y\",\"caption\":\"c\","
         "\"parse_mode\":\"MarkdownV2\"}",
         B "/bot" TOK "/sendPhoto",
         "{\"chat_id\":1,\"photo\":\"AgACAgIAAxkBAAIB-x_y\",\"caption\":\"c\","
         "\"parse_mode\":\"MarkdownV2\"}"},
        {"get_updates", "{}", B "/bot" TOK "/getUpdates", "{}"},
        {"get_updates", "{\"offset\":-1,\"limit\":100,\"timeout\":25}", B "/bot" TOK "/getUpdates",
         "{\"offset\":-1,\"limit\":100,\"timeout\":25}"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct svc_tool *t = telegram_tool_find(cases[i].tool);
        json_t *in = svc_json(cases[i].input);
        struct secret tok;
        struct out_request rq;
        struct errinfo ei = {0};
        char what[32];

        assert_non_null(t);
        svc_secret(&tok, TOK);
        snprintf(what, sizeof(what), "case %zu", i);
        if (t->build(in, &tok, B, &rq, &ei) != ERR_OK)
            fail_msg("%s: %s", what, ei.msg);
        svc_check_request(&rq, "POST", cases[i].url, json_headers, 2, cases[i].body, what);
        assert_int_equal(rq.limits.max_redirects, 0);
        out_request_release(&rq);
        secret_release(&tok);
        json_decref(in);
    }
    /* the connection test's request */
    {
        struct secret tok;
        struct out_request rq;
        struct errinfo ei = {0};
        svc_secret(&tok, TOK);
        assert_int_equal(telegram_build_get_me(&tok, B, &rq, &ei), ERR_OK);
        svc_check_request(&rq, "POST", B "/bot" TOK "/getMe", json_headers, 2, "{}", "getMe");
        assert_int_equal(rq.limits.max_redirects, 0);
        out_request_release(&rq);
        secret_release(&tok);
        assert_int_equal(telegram_build_get_me(&tok, B, &rq, &ei), ERR_UNPROCESSABLE);
        assert_null(rq.url);
    }
    /* NULL input is {} for get_updates */
    {
        struct secret tok;
        struct out_request rq;
        struct errinfo ei;
        svc_secret(&tok, TOK);
        assert_int_equal(telegram_build_get_updates(NULL, &tok, B, &rq, &ei), ERR_OK);
        out_request_release(&rq);
        secret_release(&tok);
    }
}

static void
refusals(void **state)
{
    static const struct {
        const char *tool, *input, *field;
    } cases[] = {
        {"send_message", "{\"text\":\"a\"}", "input.chat_id"},
        {"send_message", "{\"chat_id\":1}", "input.text"},
        {"send_message", "{\"chat_id\":1,\"text\":\"\"}", "input.text"},
        {"send_message", "{\"chat_id\":1.5,\"text\":\"a\"}", "input.chat_id"},
        {"send_message", "{\"chat_id\":\"abc\",\"text\":\"a\"}", "input.chat_id"},
        {"send_message", "{\"chat_id\":\"@a/b\",\"text\":\"a\"}", "input.chat_id"},
        {"send_message", "{\"chat_id\":true,\"text\":\"a\"}", "input.chat_id"},
        {"send_message", "{\"chat_id\":1,\"text\":\"a\",\"parse_mode\":\"md\"}",
         "input.parse_mode"},
        {"send_message", "{\"chat_id\":1,\"text\":\"a\",\"disable_notification\":1}",
         "input.disable_notification"},
        {"send_message", "{\"chat_id\":1,\"text\":\"a\",\"reply_to_message_id\":0}",
         "input.reply_to_message_id"},
        {"send_message", "{\"chat_id\":1,\"text\":\"a\",\"x\":1}", "input.x"},
        {"send_photo", "{\"chat_id\":1}", "input.photo"},
        {"send_photo", "{\"chat_id\":1,\"photo\":\"attach://file\"}", "input.photo"},
        {"send_photo", "{\"chat_id\":1,\"photo\":\"https://a.example/x y\"}", "input.photo"},
        {"send_photo", "{\"chat_id\":1,\"photo\":\"file id\"}", "input.photo"},
        {"get_updates", "{\"limit\":0}", "input.limit"},
        {"get_updates", "{\"limit\":101}", "input.limit"},
        {"get_updates", "{\"timeout\":26}", "input.timeout"},
        {"get_updates", "{\"offset\":\"1\"}", "input.offset"},
        {"get_updates", "[]", "input"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct svc_tool *t = telegram_tool_find(cases[i].tool);
        json_t *in = svc_json(cases[i].input);
        struct secret tok;
        struct out_request rq;
        struct errinfo ei = {0};
        enum err e;

        svc_secret(&tok, TOK);
        e = t->build(in, &tok, B, &rq, &ei);
        if (e != ERR_INVALID || strcmp(ei.field, cases[i].field) != 0)
            fail_msg("case %zu: e=%d field=%s", i, e, ei.field);
        assert_null(rq.url);
        assert_false(svc_ei_has(&ei, "AAF"));
        out_request_release(&rq);
        secret_release(&tok);
        json_decref(in);
    }
}

/* TELEGRAM_MAX_TEXT UTF-16 units accepted, +1 refused; an astral character counts 2. */
static void
text_limit(void **state)
{
    char *t = malloc(TELEGRAM_MAX_TEXT * 4 + 8);
    struct secret tok;
    struct out_request rq;
    struct errinfo ei;
    json_t *in;
    (void)state;

    svc_secret(&tok, TOK);
    memset(t, 'a', TELEGRAM_MAX_TEXT);
    t[TELEGRAM_MAX_TEXT] = '\0';
    in = json_pack("{s:i, s:s}", "chat_id", 1, "text", t);
    assert_int_equal(telegram_build_send_message(in, &tok, B, &rq, &ei), ERR_OK);
    out_request_release(&rq);
    json_decref(in);
    t[TELEGRAM_MAX_TEXT] = 'a';
    t[TELEGRAM_MAX_TEXT + 1] = '\0';
    in = json_pack("{s:i, s:s}", "chat_id", 1, "text", t);
    assert_int_equal(telegram_build_send_message(in, &tok, B, &rq, &ei), ERR_INVALID);
    assert_string_equal(ei.field, "input.text");
    json_decref(in);
    /* 4095 'a' + one emoji (2 units) = 4097 */
    memcpy(t + TELEGRAM_MAX_TEXT - 1, "\xf0\x9f\x98\x80", 5);
    in = json_pack("{s:i, s:s}", "chat_id", 1, "text", t);
    assert_int_equal(telegram_build_send_message(in, &tok, B, &rq, &ei), ERR_INVALID);
    json_decref(in);
    /* caption: TELEGRAM_MAX_CAPTION ok, +1 refused */
    memset(t, 'c', TELEGRAM_MAX_CAPTION + 1);
    t[TELEGRAM_MAX_CAPTION] = '\0';
    in = json_pack("{s:i, s:s, s:s}", "chat_id", 1, "photo", "fid", "caption", t);
    assert_int_equal(telegram_build_send_photo(in, &tok, B, &rq, &ei), ERR_OK);
    out_request_release(&rq);
    json_decref(in);
    t[TELEGRAM_MAX_CAPTION] = 'c';
    t[TELEGRAM_MAX_CAPTION + 1] = '\0';
    in = json_pack("{s:i, s:s, s:s}", "chat_id", 1, "photo", "fid", "caption", t);
    assert_int_equal(telegram_build_send_photo(in, &tok, B, &rq, &ei), ERR_INVALID);
    json_decref(in);
    secret_release(&tok);
    free(t);
}

/* A token that could change the URL never reaches it; errors never show it. */
static void
token_shape(void **state)
{
    static const struct {
        const char *tok;
        enum err e;
        const char *code;
    } cases[] = {
        {"1:a", ERR_OK, NULL},
        {TOK, ERR_OK, NULL},
        {"12345678901234567890:abc", ERR_OK, NULL},
        {"123456789012345678901:abc", ERR_UNPROCESSABLE, "credential_invalid"},
        {"", ERR_UNPROCESSABLE, "credential_missing"},
        {":abc", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123abc", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc/../../evil", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc?x=1", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc#f", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc%2F", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:ab c", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc\r\n", ERR_UNPROCESSABLE, "credential_invalid"},
        {"123:abc:def", ERR_UNPROCESSABLE, "credential_invalid"},
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct secret tok = {0};
        struct out_request rq;
        struct errinfo ei = {0};
        json_t *in = svc_json("{\"chat_id\":1,\"text\":\"a\"}");
        enum err e;

        if (cases[i].tok[0])
            svc_secret(&tok, cases[i].tok);
        assert_int_equal(telegram_token_check(&tok, &ei), cases[i].e);
        e = telegram_build_send_message(in, &tok, B, &rq, &ei);
        if (e != cases[i].e)
            fail_msg("case %zu: e=%d", i, e);
        if (e != ERR_OK) {
            assert_string_equal(ei.code, cases[i].code);
            assert_string_equal(ei.field, "token");
            if (tok.len > 3)
                assert_null(strstr(ei.msg, tok.p));
            assert_null(rq.url);
        }
        out_request_release(&rq);
        secret_release(&tok);
        json_decref(in);
    }
    /* TELEGRAM_MAX_TOKEN bytes accepted, +1 refused */
    {
        char t[TELEGRAM_MAX_TOKEN + 2];
        struct secret tok;
        struct errinfo ei;
        memset(t, 'x', sizeof(t));
        memcpy(t, "123:", 4);
        t[TELEGRAM_MAX_TOKEN] = '\0';
        svc_secret(&tok, t);
        assert_int_equal(telegram_token_check(&tok, &ei), ERR_OK);
        secret_release(&tok);
        t[TELEGRAM_MAX_TOKEN] = 'x';
        t[TELEGRAM_MAX_TOKEN + 1] = '\0';
        svc_secret(&tok, t);
        assert_int_equal(telegram_token_check(&tok, &ei), ERR_UNPROCESSABLE);
        secret_release(&tok);
        assert_int_equal(telegram_token_check(NULL, &ei), ERR_UNPROCESSABLE);
    }
}

static void
redaction(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"https://api.telegram.org/bot" TOK "/sendMessage",
         "https://api.telegram.org/bot[REDACTED]/sendMessage"},
        {"https://api.telegram.org/bot" TOK, "https://api.telegram.org/bot[REDACTED]"},
        {"https://api.telegram.org/bot" TOK "/getUpdates?offset=1#x",
         "https://api.telegram.org/bot[REDACTED]/getUpdates?offset=1#x"},
        {"https://api.telegram.org/file/bot" TOK "/photos/file_1.jpg",
         "https://api.telegram.org/file/bot[REDACTED]/photos/file_1.jpg"},
        {"http://127.0.0.2:9/prefix/bot" TOK "/sendPhoto",
         "http://127.0.0.2:9/prefix/bot[REDACTED]/sendPhoto"},
        {"https://bot.example.com/x", "https://bot.example.com/x"}, /* host untouched */
        {"https://api.telegram.org/", "https://api.telegram.org/"},
        {"https://api.telegram.org", "https://api.telegram.org"},
        {"https://api.telegram.org?bot=1", "https://api.telegram.org?bot=1"},
        {"https://a.example/bo/x", "https://a.example/bo/x"},
        {"https://a.example/bot/x", "https://a.example/bot[REDACTED]/x"},
        {"/bot" TOK "/sendMessage", "/bot[REDACTED]/sendMessage"},
        {"", ""},
    };
    char out[256];
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        telegram_redact_url(cases[i].in, out, sizeof(out));
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("case %zu: got %s want %s", i, out, cases[i].out);
    }
    telegram_redact_url(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    /* truncation never leaves part of the token */
    for (size_t n = 1; n < 80; n++) {
        char small[80];
        memset(small, 'Z', sizeof(small));
        telegram_redact_url("https://api.telegram.org/bot" TOK "/sendMessage", small, n);
        assert_true(strlen(small) < n);
        assert_null(strstr(small, "AAF"));
        assert_null(strstr(small, "987654321"));
    }
    telegram_redact_url("x", out, 0); /* no write */
}

static void
tool_table(void **state)
{
    static const char *const names[] = {"send_message", "send_photo", "get_updates"};
    (void)state;
    assert_int_equal(telegram_tool_count(), ARRAY_LEN(names));
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        const struct svc_tool *t = telegram_tool_at(i);
        json_t *s = svc_tool_schema(t);
        assert_string_equal(t->name, names[i]);
        assert_ptr_equal(telegram_tool_find(names[i]), t);
        assert_string_equal(t->service, "telegram");
        assert_non_null(s);
        assert_true(json_is_object(json_object_get(s, "properties")));
        json_decref(s);
    }
    assert_null(telegram_tool_at(ARRAY_LEN(names)));
    assert_null(telegram_tool_find("sendMessage"));
    assert_null(telegram_tool_find(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_requests), cmocka_unit_test(refusals),
        cmocka_unit_test(text_limit),      cmocka_unit_test(token_shape),
        cmocka_unit_test(redaction),       cmocka_unit_test(tool_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
