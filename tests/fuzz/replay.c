/*
 * replay.c - a standalone driver for the fuzz targets when libFuzzer is not
 * used (ECSREV_FUZZ=OFF): runs LLVMFuzzerTestOneInput once over every
 * regular file named on the command line or found (not recursively) in a
 * folder named there, in sorted order so runs are reproducible.
 *
 * A target reports a broken property with abort(); a crash ends the run with
 * the signal, so ctest shows which file was last announced on stderr.
 * Exit 0 when every input ran, 2 for a usage or I/O problem, and also 2 when
 * no input at all was found (an empty corpus would test nothing).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the whole of @p path; *out is malloc'ed (NULL for an empty file). */
static int read_all(uint8_t **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0;
    size_t cap = 0;
    int rc = -1;

    if (f == NULL) {
        return -1;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                goto done;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        goto done;
    }
    rc = 0;
done:
    if (fclose(f) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        free(buf);
        buf = NULL;
        n = 0;
    }
    *out = buf;
    *len = n;
    return rc;
}

static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;

    if (read_all(&data, &len, path) != 0) {
        (void)fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    (void)fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* Give the target an exact-size heap copy so ASan sees reads past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        free(data);
        return -1;
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    free(data);
    (void)LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Run every regular file of folder @p dir; returns the count or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    size_t cap = 0;
    long count = -1;
    struct dirent *e;

    if (d == NULL) {
        (void)fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    /* Single-threaded driver: readdir's static buffer is fine here. */
    while ((e = readdir(d)) != NULL) { /* NOLINT(concurrency-mt-unsafe) */
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (nn == NULL) {
                goto done;
            }
            names = nn;
        }
        size_t plen = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(plen);
        if (names[n] == NULL) {
            goto done;
        }
        (void)snprintf(names[n], plen, "%s/%s", dir, e->d_name);
        n++;
    }
    if (n > 1) {
        qsort(names, n, sizeof *names, cmp_names);
    }
    count = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (run_file(names[i]) != 0) {
            count = -1;
            goto done;
        }
        count++;
    }
done:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    (void)closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;

    if (argc < 2) {
        (void)fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long got;
        if (stat(argv[i], &st) != 0) {
            (void)fprintf(stderr, "replay: cannot stat %s\n", argv[i]);
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            got = run_dir(argv[i]);
        } else {
            got = run_file(argv[i]) == 0 ? 1 : -1;
        }
        if (got < 0) {
            return 2;
        }
        total += got;
    }
    if (total == 0) {
        (void)fprintf(stderr, "replay: no input found\n");
        return 2;
    }
    (void)fprintf(stderr, "replay: %ld inputs ok\n", total);
    return 0;
}
