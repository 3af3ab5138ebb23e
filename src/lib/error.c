/*
 * error.c - filling and naming struct ecsrev_error.
 *
 * Messages are truncated to fit msg[]; they never contain secrets because
 * callers never format secrets into them (see docs/SECURITY.md).
 */
#include <ecsrev/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vset(struct ecsrev_error *err, int code, int cause, const char *fmt, va_list ap)
    ECSREV_PRINTF(4, 0);

static int vset(struct ecsrev_error *err, int code, int cause, const char *fmt, va_list ap)
{
    if (err == NULL) {
        return code;
    }
    err->code = code;
    err->cause = cause;
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return code;
}

int ecsrev_error_set(struct ecsrev_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(err, code, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int ecsrev_error_set_cause(struct ecsrev_error *err, int code, int cause, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(err, code, cause, fmt, ap);
    va_end(ap);
    return rc;
}

void ecsrev_error_prefix(struct ecsrev_error *err, const char *fmt, ...)
{
    if (err == NULL) {
        return;
    }
    char prefix[256];
    char old[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    int n = snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    if (n < 0) {
        memcpy(err->msg, old, sizeof(old));
    }
}

void ecsrev_error_clear(struct ecsrev_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

const char *ecsrev_error_name(int code)
{
    switch (code) {
    case ECSREV_OK:
        return "OK";
    case ECSREV_EINVAL:
        return "EINVAL";
    case ECSREV_ENOTFOUND:
        return "ENOTFOUND";
    case ECSREV_EPARSE:
        return "EPARSE";
    case ECSREV_ENET:
        return "ENET";
    case ECSREV_EHTTP:
        return "EHTTP";
    case ECSREV_EAUTH:
        return "EAUTH";
    case ECSREV_ESTORE:
        return "ESTORE";
    case ECSREV_EIO:
        return "EIO";
    case ECSREV_ECONFLICT:
        return "ECONFLICT";
    default:
        return "EUNKNOWN";
    }
}
