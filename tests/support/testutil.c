/*
 * testutil.c - see testutil.h.
 */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ecsrev/buf.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    (void)snprintf(tmpl, sizeof(tmpl), "%s/ecsrev-test-XXXXXX",
                   base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return ecsrev_xstrdup(tmpl);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ecsrev_buf_add(&b, chunk, n);
    }
    (void)fclose(f);
    *len = b.len;
    return ecsrev_buf_detach(&b);
}

char *tu_read_data(const char *rel, size_t *len)
{
    const char *base = getenv("ECSREV_TEST_DATA");
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/%s", base != NULL ? base : ECSREV_TEST_DATA, rel);
    char *data = tu_read_file(path, len);
    if (data == NULL) {
        (void)fprintf(stderr, "cannot read fixture %s\n", path);
        abort();
    }
    return data;
}
