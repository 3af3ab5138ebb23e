/*
 * testutil.h - helpers shared by the cmocka unit tests: temporary folders,
 * reading fixture files from tests/data.
 */
#ifndef ECSREV_TESTUTIL_H
#define ECSREV_TESTUTIL_H

#include <stddef.h>

/** mkdtemp under $TMPDIR (or /tmp); owned string. Aborts on failure. */
char *tu_tempdir(void);

/** rm -rf @p path (a folder made by tu_tempdir). */
void tu_rmtree(const char *path);

/** Read tests/data/@p rel fully; owned, NUL-terminated; *len set. Aborts if missing. */
char *tu_read_data(const char *rel, size_t *len);

/** Read any file; NULL if it cannot be read. */
char *tu_read_file(const char *path, size_t *len);

#endif
