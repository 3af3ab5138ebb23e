/*
 * fuzz_input.c - fuzz target for import: ecsrev_input_parse and the
 * revision normalizer behind it.
 *
 * Properties, with and without ECSREV_NORMALIZE_REQUIRE_IDENTITY: parsing
 * never crashes; a rejection leaves the result empty and sets one error
 * line; every accepted revision, normalized again from its own canonical
 * bytes (and imported again through ecsrev_input_parse), gives the same
 * bytes, the same identity members and the same two hashes; and its
 * configuration hash is the hash of ecsrev_revision_config_doc().
 */
#include "fuzz.h"

#include <string.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>
#include <ecsrev/hash.h>
#include <ecsrev/input.h>

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static void check_same(const struct ecsrev_revision *a, const struct ecsrev_revision *b)
{
    FUZZ_CHECK(a->canon_len == b->canon_len && memcmp(a->canon, b->canon, a->canon_len) == 0);
    FUZZ_CHECK(memcmp(a->content_hash, b->content_hash, ECSREV_HASH_LEN) == 0);
    FUZZ_CHECK(memcmp(a->config_hash, b->config_hash, ECSREV_HASH_LEN) == 0);
    FUZZ_CHECK(str_eq(a->arn, b->arn));
    FUZZ_CHECK(str_eq(a->service_arn, b->service_arn));
    FUZZ_CHECK(str_eq(a->cluster_arn, b->cluster_arn));
    FUZZ_CHECK(str_eq(a->task_definition, b->task_definition));
    FUZZ_CHECK(a->created_ms == b->created_ms);
}

static void check_revision(const struct ecsrev_revision *rev, unsigned flags)
{
    struct ecsrev_revision again = {0};
    struct ecsrev_input in = ECSREV_INPUT_INIT;
    struct ecsrev_buf cfg = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    uint8_t h[ECSREV_HASH_LEN];

    FUZZ_CHECK(rev->canon != NULL && rev->canon[rev->canon_len] == '\0');
    FUZZ_CHECK(strlen(rev->canon) == rev->canon_len);
    if ((flags & ECSREV_NORMALIZE_REQUIRE_IDENTITY) != 0) {
        FUZZ_CHECK(rev->arn != NULL && rev->service_arn != NULL);
        FUZZ_CHECK(rev->created_ms != ECSREV_TIME_NONE);
    }
    ecsrev_hash128(h, rev->canon, rev->canon_len);
    FUZZ_CHECK(memcmp(h, rev->content_hash, ECSREV_HASH_LEN) == 0);

    int rc = ecsrev_revision_normalize(&again, rev->canon, rev->canon_len, flags, &err);
    if (rc < 0) {
        (void)fprintf(stderr, "re-normalize failed: %s\ncanon: %s\n", err.msg, rev->canon);
    }
    FUZZ_CHECK(rc == 0);
    check_same(rev, &again);

    rc = ecsrev_input_parse(&in, rev->canon, rev->canon_len, flags, &err);
    if (rc < 0) {
        (void)fprintf(stderr, "re-import failed: %s\ncanon: %s\n", err.msg, rev->canon);
    }
    FUZZ_CHECK(rc == 0 && in.n == 1);
    check_same(rev, &in.revs[0]);

    FUZZ_CHECK(ecsrev_revision_config_doc(&cfg, rev->canon, rev->canon_len, &err) == 0);
    ecsrev_hash128(h, cfg.ptr, cfg.len);
    FUZZ_CHECK(memcmp(h, rev->config_hash, ECSREV_HASH_LEN) == 0);

    ecsrev_buf_dispose(&cfg);
    ecsrev_input_dispose(&in);
    ecsrev_revision_dispose(&again);
}

static void run(const uint8_t *data, size_t size, unsigned flags)
{
    struct ecsrev_input in = ECSREV_INPUT_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;

    int rc = ecsrev_input_parse(&in, (const char *)data, size, flags, &err);
    if (rc < 0) {
        FUZZ_CHECK(rc == err.code);
        FUZZ_CHECK_MSG(&err);
        FUZZ_CHECK(in.n == 0 && in.revs == NULL);
        FUZZ_CHECK(in.n_failures == 0);
    } else {
        for (size_t i = 0; i < in.n; i++) {
            check_revision(&in.revs[i], flags);
        }
    }
    ecsrev_input_dispose(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, 0);
    run(data, size, ECSREV_NORMALIZE_REQUIRE_IDENTITY);
    return 0;
}
