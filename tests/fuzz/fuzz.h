/*
 * fuzz.h - shared bits of the fuzz targets: the libFuzzer entry point's
 * prototype and FUZZ_CHECK, which reports a broken property and aborts (so
 * libFuzzer and the replay driver both see a crash and keep the input).
 */
#ifndef ECSREV_FUZZ_H
#define ECSREV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** libFuzzer entry point: run one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Report a broken property and abort (libFuzzer keeps the input). */
static inline _Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
    (void)fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
    abort();
}

/** Abort with file, line and the failed condition when @p cond is false. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

/** Abort unless @p msg (an error message) is one non-empty line. */
static inline void fuzz_check_msg(const char *file, int line, const char *msg)
{
    if (msg[0] == '\0' || strchr(msg, '\n') != NULL) {
        (void)fprintf(stderr, "bad error message: [%s]\n", msg);
        fuzz_fail(file, line, "error message is one non-empty line");
    }
}

/** An error message must be one non-empty line. */
#define FUZZ_CHECK_MSG(err) fuzz_check_msg(__FILE__, __LINE__, (err)->msg)

#endif
