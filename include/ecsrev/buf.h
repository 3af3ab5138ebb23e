/**
 * buf.h - owned, growable, NUL-terminated byte buffers with a maximum size,
 * and borrowed slices.
 *
 * A buffer never grows past its `max` (0 means the default, ECSREV_BUF_MAX_DEFAULT),
 * so no response or file can make ecsrev allocate without bound. Allocation
 * failure aborts (see ecsrev_xmalloc), so only the size cap can fail.
 */
#ifndef ECSREV_BUF_H
#define ECSREV_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default cap on a buffer: 256 MiB. */
#define ECSREV_BUF_MAX_DEFAULT ((size_t)256 * 1024 * 1024)

/** A borrowed view of bytes. */
struct ecsrev_slice {
    const uint8_t *ptr;
    size_t len;
};

/** An owned byte buffer; `ptr[len]` is always 0 once anything was appended. */
struct ecsrev_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /**< hard cap on len; 0 = ECSREV_BUF_MAX_DEFAULT */
};

#define ECSREV_BUF_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/** malloc/calloc/realloc/strdup that abort() on out-of-memory. */
void *ecsrev_xmalloc(size_t n);
void *ecsrev_xcalloc(size_t n, size_t size);
void *ecsrev_xrealloc(void *p, size_t n);
char *ecsrev_xstrdup(const char *s);
char *ecsrev_xstrndup(const char *s, size_t n);

/** Initialize @p b empty with the cap @p max (0 = default). */
void ecsrev_buf_init(struct ecsrev_buf *b, size_t max);

/** Free the bytes of @p b and reset it (keeps max). Accepts NULL. */
void ecsrev_buf_dispose(struct ecsrev_buf *b);

/** Free the bytes after wiping them with OPENSSL_cleanse (for secrets). */
void ecsrev_buf_dispose_secret(struct ecsrev_buf *b);

/** Set length to 0, keeping the allocation. */
void ecsrev_buf_clear(struct ecsrev_buf *b);

/**
 * Append @p len bytes.
 * @return 0, or ECSREV_EINVAL if the result would exceed the buffer's max.
 */
ECSREV_MUST_CHECK int ecsrev_buf_append(struct ecsrev_buf *b, const void *data, size_t len,
                                        struct ecsrev_error *err);

/**
 * Append @p len bytes to a buffer whose size the caller controls (keys,
 * records, messages built from bounded parts). Exceeding the cap there is a
 * programming error: it aborts. Use ecsrev_buf_append for untrusted sizes.
 */
void ecsrev_buf_add(struct ecsrev_buf *b, const void *data, size_t len);

/** Append a NUL-terminated string. Same return as ecsrev_buf_append. */
ECSREV_MUST_CHECK int ecsrev_buf_puts(struct ecsrev_buf *b, const char *s,
                                      struct ecsrev_error *err);

/** Append one byte. */
ECSREV_MUST_CHECK int ecsrev_buf_putc(struct ecsrev_buf *b, char c, struct ecsrev_error *err);

/** Append printf-formatted text. */
ECSREV_MUST_CHECK int ecsrev_buf_printf(struct ecsrev_buf *b, struct ecsrev_error *err,
                                        const char *fmt, ...) ECSREV_PRINTF(3, 4);

/** Take ownership of the bytes (never NULL: an empty buffer yields ""); @p b is reset. */
char *ecsrev_buf_detach(struct ecsrev_buf *b);

/** Value of one hex digit (either case), or -1 if @p c is not one. */
int ecsrev_hex_digit(char c);

/** Hex-encode @p len bytes into @p out, which must hold 2*len+1 chars. */
void ecsrev_hex_encode(char *out, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
