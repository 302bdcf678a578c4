/* url_validate / url_same_origin: catalogue A.1, A.2, A.6, A.7 REJECT cases
 * and the canonical forms that must pass, by ID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "outbound/ssrf.h"

static const struct {
    const char *id;
    const char *url;
} rejects[] = {
    /* A.1 non-canonical IPv4 */
    {"SSRF-003", "http://127.1/"},
    {"SSRF-004", "http://127.0.1/"},
    {"SSRF-005", "http://2130706433/"},
    {"SSRF-006", "http://017700000001/"},
    {"SSRF-007", "http://0x7f000001/"},
    {"SSRF-008", "http://0x7f.0.0.1/"},
    {"SSRF-008", "http://0x7f.1/"},
    {"SSRF-009", "http://0177.0.0.1/"},
    {"SSRF-010", "http://0177.0x0.0.1/"},
    {"SSRF-011", "http://127.000.000.001/"},
    {"SSRF-012", "http://0127.0.0.1/"},
    {"SSRF-013", "http://0/"},
    {"SSRF-015", "http://0x0/"},
    {"SSRF-015", "http://00000/"},
    {"SSRF-017", "http://%31%32%37%2e%30%2e%30%2e%31/"},
    {"SSRF-018", "http://127%2e0%2e0%2e1/"},
    {"SSRF-019",
     "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x90.\xef\xbc\x90.\xef\xbc\x91/"},
    {"SSRF-020", "http://127\xe3\x80\x82"
                 "0\xe3\x80\x82"
                 "0\xe3\x80\x82"
                 "1/"},
    {"SSRF-021", "http://127.0.0.1./"},
    {"SSRF-022", "http://127.0.0.1 evil.test/"},
    {"SSRF-023", "http://4294967295/"},
    {"SSRF-023", "http://256.0.0.1/"},
    {"SSRF-023", "http://1.2.3.4.5/"},
    /* A.2 names of this host */
    {"SSRF-030", "http://localhost/"},
    {"SSRF-030", "http://LOCALHOST/"},
    {"SSRF-031", "http://localhost./"},
    {"SSRF-032", "http://api.localhost/"},
    /* A.3 */
    {"SSRF-048", "http://0xa9fea9fe/"},
    {"SSRF-048", "http://2852039166/"},
    {"SSRF-048", "http://025177524776/"},
    {"SSRF-048", "http://169.254.43518/"},
    /* A.5 zone ids */
    {"SSRF-092", "http://[fe80::1%25eth0]/"},
    {"SSRF-093", "http://[::ffff:127.0.0.1%25lo]/"},
    {"SSRF-093", "http://[::1%lo]/"},
    /* A.6 parser differentials, userinfo, ports */
    {"SSRF-100", "http://evil.test@127.0.0.1/"},
    {"SSRF-101", "http://user:pass@api.example.test/"},
    {"SSRF-101", "http://@api.example.test/"},
    {"SSRF-102", "http://127.0.0.1:80@evil.test/"},
    {"SSRF-105", "http://127.0.0.1\\@evil.test/"},
    {"SSRF-105", "http://api.example.test\\foo"},
    {"SSRF-106", "http://127.0.0.1%2F@evil.test/"},
    {"SSRF-108", "http:/127.0.0.1/"},
    {"SSRF-109", "http:127.0.0.1/"},
    {"SSRF-109", "//127.0.0.1/"},
    {"SSRF-109", "127.0.0.1"},
    {"SSRF-109", "http:///127.0.0.1/"},
    {"SSRF-110", " http://api.example.test/"},
    {"SSRF-110", "http://api.example.test/\t"},
    {"SSRF-110", "http://api.example.test/a\nb"},
    {"SSRF-110", "http://api.example.test/a\rb"},
    {"SSRF-110", "http://api.exa mple.test/"},
    {"SSRF-110", "http://api.example.test/\x7f"},
    {"SSRF-111", "http://api.example.test:018080/"},
    {"SSRF-112", "http://api.example.test:0/"},
    {"SSRF-112", "http://api.example.test:65536/"},
    {"SSRF-112", "http://api.example.test:+80/"},
    {"SSRF-112", "http://api.example.test:-1/"},
    {"SSRF-112", "http://api.example.test:80:81/"},
    {"SSRF-112", "http://api.example.test:99999999999/"},
    {"SSRF-112", "http://api.example.test:/"},
    {"SSRF-112", "http://api.example.test:8o/"},
    {"SSRF-113", "http://[::1]:80@evil.test/"},
    {"SSRF-113", "http://[::1]x/"},
    {"SSRF-114", "http://a..b/"},
    {"SSRF-114", "http://.a.b/"},
    {"SSRF-114", "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test/"},
    {"SSRF-114", "http://-a.test/"},
    {"SSRF-114", "http://a_b.test/"},
    {"SSRF-114", "http:///"},
    {"SSRF-114", "http://:80/"},
    {"SSRF-114", "http://[]/"},
    {"SSRF-114", "http://[::1/"},
    {"SSRF-114", "http://[1.2.3.4]/"},
    {"SSRF-114", "http://[::g]/"},
    /* A.7 schemes */
    {"SSRF-120", "file:///etc/passwd"},
    {"SSRF-120", "file://localhost/proc/self/environ"},
    {"SSRF-121", "gopher://127.0.0.1:6379/_SET%20x%201"},
    {"SSRF-122", "dict://127.0.0.1:11211/stats"},
    {"SSRF-123", "ftp://example.test/"},
    {"SSRF-123", "ftps://example.test/"},
    {"SSRF-123", "ldap://example.test/"},
    {"SSRF-123", "smb://example.test/"},
    {"SSRF-123", "telnet://example.test/"},
    {"SSRF-123", "tftp://example.test/"},
    {"SSRF-123", "scp://example.test/"},
    {"SSRF-123", "sftp://example.test/"},
    {"SSRF-123", "ws://example.test/"},
    {"SSRF-123", "wss://example.test/"},
    {"SSRF-123", "mqtt://example.test/"},
    {"SSRF-123", "data:text/plain,hi"},
    {"SSRF-123", "javascript:alert(1)"},
    {"SSRF-123", "httpx://example.test/"},
    {"SSRF-123", ""},
};

static const struct {
    const char *id;
    const char *url;
    const char *scheme, *host;
    int port;
    bool is_ip;
} accepts[] = {
    {"SSRF-001", "http://127.0.0.1/", "http", "127.0.0.1", 80, true},
    {"SSRF-014", "http://0.0.0.0/", "http", "0.0.0.0", 80, true},
    {"SSRF-040", "http://169.254.169.254/latest/meta-data/", "http", "169.254.169.254", 80, true},
    {"SSRF-080", "http://[::1]/", "http", "::1", 80, true},
    {"SSRF-080", "http://[0:0:0:0:0:0:0:1]/", "http", "::1", 80, true},
    {"SSRF-080", "http://[0000::1]/", "http", "::1", 80, true},
    {"SSRF-082", "http://[::ffff:127.0.0.1]/", "http", "::ffff:127.0.0.1", 80, true},
    {"SSRF-103", "http://127.0.0.1#@evil.test/", "http", "127.0.0.1", 80, true},
    {"SSRF-104", "http://evil.test#@127.0.0.1/", "http", "evil.test", 80, false},
    {"SSRF-107", "http://127.0.0.1?@evil.test/", "http", "127.0.0.1", 80, true},
    {"SSRF-115", "http://1.2.3.4:22/", "http", "1.2.3.4", 22, true},
    {"SSRF-116", "HTTP://API.EXAMPLE.TEST/", "http", "api.example.test", 80, false},
    {"SSRF-116", "HtTpS://Api.Example.Test:8443/x?y=1#z", "https", "api.example.test", 8443, false},
    {"SSRF-073", "https://8.8.8.8", "https", "8.8.8.8", 443, true},
    {"SSRF-073", "http://1.example.test:65535", "http", "1.example.test", 65535, false},
    {"SSRF-112", "http://a.test:1/", "http", "a.test", 1, false},
    {"SSRF-114", "http://0x7f.example.test/", "http", "0x7f.example.test", 80, false},
    {"SSRF-114", "http://xn--bcher-kva.example/", "http", "xn--bcher-kva.example", 80, false},
    {"SSRF-114", "http://localhost.example/", "http", "localhost.example", 80, false},
};

static void
ssrf_a_url_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        struct url_info info;
        struct errinfo ei = {0};
        if (url_validate(rejects[i].url, "base_url", &info, &ei) != ERR_INVALID)
            fail_msg("%s: accepted '%s'", rejects[i].id, rejects[i].url);
        assert_string_equal(ei.field, "base_url");
        assert_true(ei.msg[0] != '\0');
    }
}

static void
ssrf_a_url_accepts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
        struct url_info info;
        struct errinfo ei = {0};
        if (url_validate(accepts[i].url, NULL, &info, &ei) != ERR_OK)
            fail_msg("%s: rejected '%s': %s", accepts[i].id, accepts[i].url, ei.msg);
        assert_string_equal(info.scheme, accepts[i].scheme);
        assert_string_equal(info.host, accepts[i].host);
        assert_int_equal(info.port, accepts[i].port);
        assert_int_equal(info.host_is_ip, accepts[i].is_ip);
    }
}

/* SSRF-114: 253 bytes accepted, 254 rejected; label 63 / 64; URL length N / N+1. */
static void
ssrf_114_host_limits(void **state)
{
    char host[300], url[URL_MAX_LEN + 64];
    struct errinfo ei;
    (void)state;

    /* 4 labels of 63 + 3 dots = 255; trim to 253 and 254 */
    memset(host, 'a', sizeof(host));
    host[63] = host[127] = host[191] = '.';
    host[253] = '\0';
    snprintf(url, sizeof(url), "http://%s/", host);
    assert_int_equal(url_validate(url, "u", NULL, &ei), ERR_OK);
    host[253] = 'a';
    host[254] = '\0';
    snprintf(url, sizeof(url), "http://%s/", host);
    assert_int_equal(url_validate(url, "u", NULL, &ei), ERR_INVALID);

    memset(url, 'a', sizeof(url));
    memcpy(url, "http://a.test/", 14);
    url[URL_MAX_LEN] = '\0';
    assert_int_equal(url_validate(url, "u", NULL, &ei), ERR_OK);
    url[URL_MAX_LEN] = 'a';
    url[URL_MAX_LEN + 1] = '\0';
    assert_int_equal(url_validate(url, "u", NULL, &ei), ERR_INVALID);
    assert_int_equal(url_validate(NULL, "u", NULL, &ei), ERR_INVALID);
}

static void
ssrf_url_error_never_echoes_input(void **state)
{
    struct errinfo ei = {0};
    (void)state;
    assert_int_equal(url_validate("http://user:CANARYSECRET@a.test/", "u", NULL, &ei), ERR_INVALID);
    assert_null(strstr(ei.msg, "CANARYSECRET"));
}

static void
ssrf_same_origin(void **state)
{
    static const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"http://a.test/x", "http://A.TEST:80/y?z", true},
        {"https://a.test/", "https://a.test:443/", true},
        {"http://a.test/", "https://a.test/", false},
        {"http://a.test/", "http://a.test:8080/", false},
        {"http://a.test/", "http://b.test/", false},
        {"http://[::1]/", "http://[0:0::1]/", true},
        {"http://127.0.0.2:1000/", "http://127.0.0.3:1000/", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct url_info a, b;
        struct errinfo ei;
        assert_int_equal(url_validate(cases[i].a, "a", &a, &ei), ERR_OK);
        assert_int_equal(url_validate(cases[i].b, "b", &b, &ei), ERR_OK);
        if (url_same_origin(&a, &b) != cases[i].same)
            fail_msg("%s vs %s", cases[i].a, cases[i].b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssrf_a_url_rejects),   cmocka_unit_test(ssrf_a_url_accepts),
        cmocka_unit_test(ssrf_114_host_limits), cmocka_unit_test(ssrf_url_error_never_echoes_input),
        cmocka_unit_test(ssrf_same_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
