/* libFuzzer target for url_validate() (catalogue SSRF-117, PARSE-031): it
 * must never crash, and whenever it accepts a URL, curl_url() must read the
 * same scheme, host and port, without userinfo; any disagreement aborts. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "outbound/ssrf.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_agrees(const char *url, const struct url_info *info)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    unsigned char a[16], b[16];

    if (h == NULL)
        abort();
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_USER, &user, 0) != CURLUE_NO_USER)
        abort();
    if (strcasecmp(scheme, info->scheme) != 0 || strtol(port, NULL, 10) != info->port)
        abort();
    if (host[0] == '[') {
        size_t n = strlen(host);
        host[n - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, a) != 1 || inet_pton(AF_INET6, info->host, b) != 1 ||
            memcmp(a, b, 16) != 0)
            abort();
    } else if (strcasecmp(host, info->host) != 0) {
        abort();
    }
    /* the accepted host is never a name for this host */
    if (strcmp(info->host, "localhost") == 0)
        abort();
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct url_info info;
    struct errinfo ei;
    char *url = malloc(size + 1);

    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0'; /* an embedded NUL just ends the string */
    if (url_validate(url, "url", &info, &ei) == ERR_OK)
        check_agrees(url, &info);
    free(url);
    return 0;
}
