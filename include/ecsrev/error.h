/**
 * error.h - the one error type of ecsrev.
 *
 * Every fallible library function returns 0 or a negative ECSREV_E* code and,
 * when given a non-NULL `struct ecsrev_error *err`, fills it with the same
 * code, an optional third-party cause (errno, CURLcode, LMDB rc, HTTP status)
 * and a one-line, lower-case message naming the bad value. The callee sets the
 * message where the problem is detected; callers propagate, never overwrite.
 */
#ifndef ECSREV_ERROR_H
#define ECSREV_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ECSREV_MUST_CHECK __attribute__((warn_unused_result))
#define ECSREV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ECSREV_MUST_CHECK
#define ECSREV_PRINTF(a, b)
#endif

/** Error codes, chosen by what callers (and exit statuses) do with them. */
enum ecsrev_error_code {
    ECSREV_OK = 0,
    ECSREV_EINVAL = -1,    /**< invalid argument or input value */
    ECSREV_ENOTFOUND = -2, /**< the named thing does not exist */
    ECSREV_EPARSE = -3,    /**< malformed document (JSON, INI, dates, ...) */
    ECSREV_ENET = -4,      /**< transport failure: connect, TLS, timeout, reset */
    ECSREV_EHTTP = -5,     /**< the service answered with an error */
    ECSREV_EAUTH = -6,     /**< credentials missing, broken or rejected */
    ECSREV_ESTORE = -7,    /**< the LMDB store failed or is incompatible */
    ECSREV_EIO = -8,       /**< file-system or process I/O failed */
    ECSREV_ECONFLICT = -9, /**< data conflicts with what is already stored */
};

/** The error record; owned by the caller, usually on the stack. */
struct ecsrev_error {
    int code;      /**< one of enum ecsrev_error_code */
    int cause;     /**< errno, CURLcode, LMDB rc or HTTP status; 0 if none */
    char msg[512]; /**< one line, lower-case, no final period */
};

/** Initializer for a cleared error. */
#define ECSREV_ERROR_INIT                                                                          \
    {                                                                                              \
        0, 0,                                                                                      \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/**
 * Fill @p err (may be NULL) with @p code and a printf-formatted message.
 * @return @p code, so that `return ecsrev_error_set(err, ECSREV_EINVAL, ...)`.
 */
int ecsrev_error_set(struct ecsrev_error *err, int code, const char *fmt, ...) ECSREV_PRINTF(3, 4);

/** Like ecsrev_error_set() but also records a third-party @p cause. */
int ecsrev_error_set_cause(struct ecsrev_error *err, int code, int cause, const char *fmt, ...)
    ECSREV_PRINTF(4, 5);

/**
 * Prefix the message already in @p err with "<prefix>: " (used to add the
 * file name or operation at a boundary). Keeps code and cause.
 */
void ecsrev_error_prefix(struct ecsrev_error *err, const char *fmt, ...) ECSREV_PRINTF(2, 3);

/** Clear @p err (may be NULL). */
void ecsrev_error_clear(struct ecsrev_error *err);

/** Short stable name of a code ("EPARSE"), for logs and tests. Borrowed static string. */
const char *ecsrev_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
