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

/** libFuzzer entry point: run one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Abort with file, line and the failed condition when @p cond is false. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/** An error message must be one non-empty line. */
#define FUZZ_CHECK_MSG(err)                                                                        \
    do {                                                                                           \
        if ((err)->msg[0] == '\0' || strchr((err)->msg, '\n') != NULL) {                           \
            fprintf(stderr, "bad error message: [%s]\n", (err)->msg);                              \
        }                                                                                          \
        FUZZ_CHECK((err)->msg[0] != '\0');                                                         \
        FUZZ_CHECK(strchr((err)->msg, '\n') == NULL);                                              \
    } while (0)

#endif
