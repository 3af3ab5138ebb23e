/*
 * buf.c - growable byte buffers with a hard cap, and allocation that aborts
 * on out-of-memory (so callers never handle NULL from an allocator).
 *
 * Invariant: after any successful append, ptr[len] == '\0' and len <= max.
 */
#include <ecsrev/buf.h>

#include <openssl/crypto.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static void oom(void)
{
    static const char msg[] = "ecsrev: out of memory\n";
    (void)fwrite(msg, 1, sizeof(msg) - 1, stderr);
    abort();
}

void *ecsrev_xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        oom();
    }
    return p;
}

void *ecsrev_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
    if (p == NULL) {
        oom();
    }
    return p;
}

void *ecsrev_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);
    if (q == NULL) {
        oom();
    }
    return q;
}

char *ecsrev_xstrndup(const char *s, size_t n)
{
    char *p = ecsrev_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ecsrev_xstrdup(const char *s)
{
    return ecsrev_xstrndup(s, strlen(s));
}

void ecsrev_buf_init(struct ecsrev_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void ecsrev_buf_dispose(struct ecsrev_buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void ecsrev_buf_dispose_secret(struct ecsrev_buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->ptr != NULL) {
        OPENSSL_cleanse(b->ptr, b->cap);
    }
    ecsrev_buf_dispose(b);
}

void ecsrev_buf_clear(struct ecsrev_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) {
        b->ptr[0] = '\0';
    }
}

static int reserve(struct ecsrev_buf *b, size_t extra, struct ecsrev_error *err)
{
    size_t max = b->max == 0 ? ECSREV_BUF_MAX_DEFAULT : b->max;
    size_t need;
    if (__builtin_add_overflow(b->len, extra, &need) || need > max) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "data exceeds the limit of %zu bytes", max);
    }
    if (need + 1 <= b->cap) {
        return 0;
    }
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need + 1) {
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    }
    b->ptr = ecsrev_xrealloc(b->ptr, cap);
    b->cap = cap;
    return 0;
}

int ecsrev_buf_append(struct ecsrev_buf *b, const void *data, size_t len, struct ecsrev_error *err)
{
    int rc = reserve(b, len, err);
    if (rc < 0) {
        return rc;
    }
    if (len > 0) {
        memcpy(b->ptr + b->len, data, len);
    }
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

void ecsrev_buf_add(struct ecsrev_buf *b, const void *data, size_t len)
{
    if (ecsrev_buf_append(b, data, len, NULL) < 0) {
        static const char msg[] = "ecsrev: internal buffer over its limit\n";
        (void)fwrite(msg, 1, sizeof(msg) - 1, stderr);
        abort();
    }
}

int ecsrev_buf_puts(struct ecsrev_buf *b, const char *s, struct ecsrev_error *err)
{
    return ecsrev_buf_append(b, s, strlen(s), err);
}

int ecsrev_buf_putc(struct ecsrev_buf *b, char c, struct ecsrev_error *err)
{
    size_t max = b->max == 0 ? ECSREV_BUF_MAX_DEFAULT : b->max;
    if (b->len + 2 <= b->cap && b->len < max) { /* room for c and the NUL */
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return ecsrev_buf_append(b, &c, 1, err);
}

int ecsrev_buf_printf(struct ecsrev_buf *b, struct ecsrev_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "cannot format text");
    }
    int rc = reserve(b, (size_t)n, err);
    if (rc < 0) {
        return rc;
    }
    va_start(ap, fmt);
    (void)vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *ecsrev_buf_detach(struct ecsrev_buf *b)
{
    char *p = b->ptr;
    if (p == NULL) {
        p = ecsrev_xstrdup("");
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int ecsrev_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void ecsrev_hex_encode(char *out, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0xf];
    }
    out[2 * len] = '\0';
}
