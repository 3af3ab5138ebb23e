/*
 * fuzz_canon.c - fuzz target for RFC 8785 canonical JSON.
 *
 * Properties: ecsrev_canon_json never crashes; whatever it accepts comes out
 * as a fixed point (canon(canon(x)) == canon(x)); a failure sets one error
 * line with the returned code. The first 8 bytes, read as a double, also go
 * through ecsrev_canon_number, whose text must parse back to the same value
 * and be a fixed point of canon_json. The input as text also goes through
 * ecsrev_time_parse: a parsed time, formatted and parsed again, is unchanged.
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>

static void check_json(const uint8_t *data, size_t size)
{
    struct ecsrev_buf a = ECSREV_BUF_INIT;
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;

    int rc = ecsrev_canon_json(&a, (const char *)data, size, &err);
    if (rc < 0) {
        FUZZ_CHECK(rc == err.code);
        FUZZ_CHECK_MSG(&err);
        goto done;
    }
    FUZZ_CHECK(a.ptr != NULL && a.len > 0);
    rc = ecsrev_canon_json(&b, a.ptr, a.len, &err);
    if (rc < 0) {
        (void)fprintf(stderr, "canonical output rejected: %s\n", err.msg);
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
done:
    ecsrev_buf_dispose(&a);
    ecsrev_buf_dispose(&b);
}

static void check_number(const uint8_t *data, size_t size)
{
    struct ecsrev_buf a = ECSREV_BUF_INIT;
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    double d;

    if (size < sizeof d) {
        return;
    }
    memcpy(&d, data, sizeof d);
    int rc = ecsrev_canon_number(&a, d, &err);
    if (!isfinite(d)) {
        FUZZ_CHECK(rc < 0);
        goto done;
    }
    FUZZ_CHECK(rc == 0);
    double back = strtod(a.ptr, NULL);
    FUZZ_CHECK(back == d); /* -0 prints "0", and 0 == -0 */
    FUZZ_CHECK(ecsrev_canon_json(&b, a.ptr, a.len, &err) == 0);
    FUZZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
done:
    ecsrev_buf_dispose(&a);
    ecsrev_buf_dispose(&b);
}

static void check_time(const uint8_t *data, size_t size)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char text[128];
    int64_t ms = 0;
    int64_t again = 0;
    char out[32];

    if (size >= sizeof text) {
        return;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (ecsrev_time_parse(&ms, text, &err) < 0) {
        FUZZ_CHECK_MSG(&err);
        return;
    }
    ecsrev_time_format(out, ms);
    int rc = ecsrev_time_parse(&again, out, &err);
    if (rc < 0 || again != ms) {
        (void)fprintf(stderr, "time '%s' -> %lld -> '%s' -> %lld (%s)\n", text, (long long)ms, out,
                      (long long)again, rc < 0 ? err.msg : "ok");
    }
    FUZZ_CHECK(rc == 0 && again == ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_json(data, size);
    check_number(data, size);
    check_time(data, size);
    return 0;
}
