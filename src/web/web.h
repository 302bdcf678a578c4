/*
 * web: the browser UI's files (web/ in the source tree), built into the binary by the Makefile
 * (tools/embed-web.c turns them into C arrays), so `connhub serve` needs nothing beside it.
 */
#ifndef CONNHUB_WEB_H
#define CONNHUB_WEB_H

#include <stddef.h>

struct web_file {
    const char *name; /* "app.js": a file of web/, no folders */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<hash of the content>\"" */
};

/* The file named name, or NULL. */
const struct web_file *web_find(const char *name);
/* The Content-Type for a file name (by extension; unknown: application/octet-stream). */
const char *web_content_type(const char *name);
/* How many files are built in, and their total size. */
size_t web_count(size_t *total_bytes);

#endif
