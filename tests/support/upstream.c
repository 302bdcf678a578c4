/* A scriptable loopback HTTP upstream and a canary listener (see upstream.h). */
#include "support/upstream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

struct upstream {
    struct MHD_Daemon *d;
    int port;
    atomic_uint hits;
    atomic_uint conns;
    atomic_bool stopping;
    pthread_mutex_t mu;
    char *gz; /* cached gzip bomb */
    size_t gzlen;
    int gzmb;
};

struct reqstate {
    char *body;
    size_t len;
};

struct stream {
    struct upstream *u;
    uint64_t left;
    int ms;
};

static void
nap(struct upstream *u, int ms)
{
    while (ms > 0 && !atomic_load(&u->stopping)) {
        int step = ms < 20 ? ms : 20;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static long
arg_long(struct MHD_Connection *c, const char *key, long def)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    char *end;
    long n;

    if (v == NULL)
        return def;
    n = strtol(v, &end, 10);
    return *end == '\0' ? n : def;
}

static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned status, const char *text, size_t len,
          struct MHD_Response **keep)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "text/plain");
    if (keep != NULL) {
        *keep = r; /* caller adds headers and queues */
        return MHD_YES;
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

struct echo {
    char *p;
    size_t len, cap;
};

static void
echo_put(struct echo *e, const char *a, const char *b, const char *c, const char *d)
{
    const char *parts[4] = {a, b, c, d};

    for (int i = 0; i < 4; i++) {
        size_t n = parts[i] ? strlen(parts[i]) : 0;
        if (e->len + n + 1 > e->cap) {
            e->cap = (e->len + n + 1) * 2;
            e->p = realloc(e->p, e->cap);
            if (e->p == NULL)
                abort();
        }
        memcpy(e->p + e->len, parts[i] ? parts[i] : "", n);
        e->len += n;
        e->p[e->len] = '\0';
    }
}

static enum MHD_Result
echo_hdr(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    echo_put(cls, "hdr: ", k, ": ", v ? v : "");
    echo_put(cls, "\n", NULL, NULL, NULL);
    return MHD_YES;
}

static enum MHD_Result
echo_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    echo_put(cls, "arg: ", k, "=", v ? v : "");
    echo_put(cls, "\n", NULL, NULL, NULL);
    return MHD_YES;
}

static enum MHD_Result
h_echo(struct MHD_Connection *c, const char *method, const char *url, struct reqstate *rs)
{
    struct echo e = {0};
    enum MHD_Result ret;

    echo_put(&e, method, " ", url, "\n");
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, echo_arg, &e);
    MHD_get_connection_values(c, MHD_HEADER_KIND, echo_hdr, &e);
    echo_put(&e, "\n", NULL, NULL, NULL);
    if (rs->len > 0)
        echo_put(&e, rs->body, NULL, NULL, NULL); /* NUL-terminated by on_request */
    ret = send_text(c, 200, e.p, e.len, NULL);
    free(e.p);
    return ret;
}

static ssize_t
rd_big(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n = max < s->left ? max : (size_t)s->left;

    (void)pos;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    memset(buf, 'x', n);
    s->left -= n;
    return (ssize_t)n;
}

static ssize_t
rd_endless(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n = max < 16384 ? max : 16384;

    (void)pos;
    if (atomic_load(&s->u->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    memset(buf, 'y', n);
    return (ssize_t)n;
}

static ssize_t
rd_stall(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;

    if (pos < 5 && max > 0) {
        size_t n = 5 - (size_t)pos < max ? 5 - (size_t)pos : max;
        memcpy(buf, "hello" + pos, n);
        return (ssize_t)n;
    }
    nap(s->u, 600000); /* until the upstream stops */
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static ssize_t
rd_trickle(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;

    (void)pos;
    if (s->left == 0 || max == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    nap(s->u, s->ms);
    if (atomic_load(&s->u->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    buf[0] = 't';
    s->left--;
    return 1;
}

static enum MHD_Result
h_stream(struct MHD_Connection *c, struct upstream *u, MHD_ContentReaderCallback rd, uint64_t left,
         int ms)
{
    struct stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *r;

    if (s == NULL)
        return MHD_NO;
    s->u = u;
    s->left = left;
    s->ms = ms;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, rd, s, free);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    return queue(c, 200, r);
}

static bool
make_gzip(struct upstream *u, int mb)
{
    char cmd[128];
    FILE *f;
    size_t cap = 1 << 16;

    if (u->gz != NULL && u->gzmb == mb)
        return true;
    free(u->gz);
    u->gz = malloc(cap);
    u->gzlen = 0;
    u->gzmb = mb;
    snprintf(cmd, sizeof(cmd), "head -c %dM /dev/zero | gzip -c", mb);
    f = popen(cmd, "r");
    if (f == NULL || u->gz == NULL)
        return false;
    for (;;) {
        size_t n;
        if (u->gzlen == cap) {
            cap *= 2;
            u->gz = realloc(u->gz, cap);
            if (u->gz == NULL)
                abort();
        }
        n = fread(u->gz + u->gzlen, 1, cap - u->gzlen, f);
        if (n == 0)
            break;
        u->gzlen += n;
    }
    return pclose(f) == 0 && u->gzlen > 0;
}

static enum MHD_Result
h_gzip(struct MHD_Connection *c, struct upstream *u)
{
    struct MHD_Response *r = NULL;
    bool ok;

    pthread_mutex_lock(&u->mu);
    ok = make_gzip(u, (int)arg_long(c, "mb", 10));
    if (ok)
        r = MHD_create_response_from_buffer(u->gzlen, u->gz, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&u->mu);
    if (!ok)
        return send_text(c, 500, "gzip failed", 11, NULL);
    MHD_add_response_header(r, "Content-Encoding", "gzip");
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    return queue(c, 200, r);
}

static enum MHD_Result
h_headers(struct MHD_Connection *c)
{
    long n = arg_long(c, "n", 1), len = arg_long(c, "len", 10);
    struct MHD_Response *r = NULL;
    char name[32], *val = malloc((size_t)len + 1);

    if (val == NULL)
        return MHD_NO;
    memset(val, 'v', (size_t)len);
    val[len] = '\0';
    send_text(c, 200, "headers", 7, &r);
    for (long i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "x-h%ld", i);
        MHD_add_response_header(r, name, val);
    }
    free(val);
    return queue(c, 200, r);
}

static enum MHD_Result
h_redirect(struct MHD_Connection *c, const char *to, unsigned code)
{
    struct MHD_Response *r = NULL;

    send_text(c, code, "moved", 5, &r);
    MHD_add_response_header(r, "Location", to ? to : "/");
    return queue(c, code, r);
}

static enum MHD_Result
route(struct upstream *u, struct MHD_Connection *c, const char *method, const char *url,
      struct reqstate *rs)
{
    char tmp[64];

    if (strcmp(url, "/echo") == 0)
        return h_echo(c, method, url, rs);
    if (strcmp(url, "/status") == 0) {
        long code = arg_long(c, "code", 200);
        int n = snprintf(tmp, sizeof(tmp), "status %ld", code);
        return send_text(c, (unsigned)code, tmp, (size_t)n, NULL);
    }
    if (strcmp(url, "/redirect") == 0)
        return h_redirect(c, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to"),
                          (unsigned)arg_long(c, "code", 302));
    if (strcmp(url, "/chain") == 0) {
        long n = arg_long(c, "n", 0);
        if (n <= 0)
            return send_text(c, 200, "end", 3, NULL);
        snprintf(tmp, sizeof(tmp), "/chain?n=%ld", n - 1);
        return h_redirect(c, tmp, 302);
    }
    if (strcmp(url, "/big") == 0)
        return h_stream(c, u, rd_big, (uint64_t)arg_long(c, "n", 0), 0);
    if (strcmp(url, "/endless") == 0)
        return h_stream(c, u, rd_endless, 0, 0);
    if (strcmp(url, "/stall") == 0)
        return h_stream(c, u, rd_stall, 0, 0);
    if (strcmp(url, "/trickle") == 0)
        return h_stream(c, u, rd_trickle, (uint64_t)arg_long(c, "n", 10),
                        (int)arg_long(c, "ms", 100));
    if (strcmp(url, "/slow") == 0) {
        nap(u, (int)arg_long(c, "ms", 1000));
        return send_text(c, 200, "late", 4, NULL);
    }
    if (strcmp(url, "/gzip-bomb") == 0)
        return h_gzip(c, u);
    if (strcmp(url, "/headers") == 0)
        return h_headers(c);
    return send_text(c, 404, "not found", 9, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct upstream *u = cls;
    struct reqstate *rs = *con_cls;

    (void)version;
    if (rs == NULL) {
        rs = calloc(1, sizeof(*rs));
        if (rs == NULL)
            return MHD_NO;
        *con_cls = rs;
        atomic_fetch_add(&u->hits, 1);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        char *nb = realloc(rs->body, rs->len + *upload_size + 1);
        if (nb == NULL)
            return MHD_NO;
        memcpy(nb + rs->len, upload, *upload_size);
        rs->body = nb;
        rs->len += *upload_size;
        rs->body[rs->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    return route(u, c, method, url, rs);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct reqstate *rs = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (rs != NULL) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **sock_ctx,
              enum MHD_ConnectionNotificationCode toe)
{
    struct upstream *u = cls;

    (void)c;
    (void)sock_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&u->conns, 1);
}

struct upstream *
upstream_start(const char *addr)
{
    struct upstream *u = calloc(1, sizeof(*u));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;

    if (u == NULL || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        free(u);
        return NULL;
    }
    pthread_mutex_init(&u->mu, NULL);
    u->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                            NULL, NULL, on_request, u, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, u,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, u,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(4u << 20), MHD_OPTION_END);
    if (u->d == NULL) {
        pthread_mutex_destroy(&u->mu);
        free(u);
        return NULL;
    }
    info = MHD_get_daemon_info(u->d, MHD_DAEMON_INFO_BIND_PORT);
    u->port = info ? info->port : 0;
    return u;
}

int
upstream_port(const struct upstream *u)
{
    return u->port;
}

unsigned
upstream_hits(const struct upstream *u)
{
    return atomic_load(&u->hits);
}

unsigned
upstream_connections(const struct upstream *u)
{
    return atomic_load(&u->conns);
}

void
upstream_stop(struct upstream *u)
{
    if (u == NULL)
        return;
    atomic_store(&u->stopping, true);
    MHD_stop_daemon(u->d);
    pthread_mutex_destroy(&u->mu);
    free(u->gz);
    free(u);
}

struct canary {
    int fd;
    int port;
    unsigned hits;
};

struct canary *
canary_start(const char *addr)
{
    return canary_start_at(addr, 0);
}

struct canary *
canary_start_at(const char *addr, int port)
{
    struct canary *c = calloc(1, sizeof(*c));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(sa);

    if (c == NULL || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        goto fail;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(c->fd, 64) != 0 || getsockname(c->fd, (struct sockaddr *)&sa, &len) != 0) {
        if (c->fd >= 0)
            close(c->fd);
        goto fail;
    }
    c->port = ntohs(sa.sin_port);
    return c;
fail:
    free(c);
    return NULL;
}

int
canary_port(const struct canary *c)
{
    return c->port;
}

unsigned
canary_hits(struct canary *c)
{
    int fd;

    while ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        c->hits++;
        close(fd);
    }
    return c->hits;
}

void
canary_stop(struct canary *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c);
}
