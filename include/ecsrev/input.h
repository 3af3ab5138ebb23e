/**
 * input.h - reading revisions from what users have: the output of
 * `aws ecs describe-service-revisions` ({"serviceRevisions": [...],
 * "failures": [...]}), the raw API response, a single ServiceRevision object,
 * an array of revisions, or JSON Lines of any of these (ecsrev export).
 *
 * A document is parsed and every revision in it normalized before anything
 * is returned, so a caller can store a file all or nothing.
 */
#ifndef ECSREV_INPUT_H
#define ECSREV_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <ecsrev/canon.h>
#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An entry of a "failures" list (as DescribeServiceRevisions reports them). */
struct ecsrev_input_failure {
    char *arn;    /**< may be NULL */
    char *reason; /**< e.g. "MISSING"; may be NULL */
    char *detail; /**< may be NULL */
};

/** Everything read from one input. */
struct ecsrev_input {
    struct ecsrev_revision *revs; /**< owned array of n normalized revisions */
    size_t n;
    struct ecsrev_input_failure *failures; /**< owned array */
    size_t n_failures;
};

#define ECSREV_INPUT_INIT                                                                          \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

/**
 * Parse @p data and normalize every revision in it with @p flags
 * (ecsrev_normalize_flags).
 * @param out filled on success; dispose with ecsrev_input_dispose()
 * @return 0, or ECSREV_EPARSE / ECSREV_EINVAL with a message naming where:
 *         "serviceRevisions[2].containerImages: expected an array, got a string",
 *         "line 7: invalid JSON at line 1, column 12"; on error out is empty
 */
ECSREV_MUST_CHECK int ecsrev_input_parse(struct ecsrev_input *out, const char *data, size_t len,
                                         unsigned flags, struct ecsrev_error *err);

/**
 * Whether @p data is exactly one syntactically valid JSON value (used to tell
 * JSON Lines from a pretty-printed document by the first line).
 */
bool ecsrev_input_is_json_value(const char *data, size_t len);

/** Free everything in @p in. Accepts NULL. */
void ecsrev_input_dispose(struct ecsrev_input *in);

#ifdef __cplusplus
}
#endif
#endif
