/**
 * verify.h - integrity check of a store and its tamper-evident history.
 *
 * ecsrev_verify_store() re-reads every stored revision, recomputes the
 * XXH3-128 of its body and compares it with the recorded content hash,
 * checks that every revision was recorded by an event of the SHA-256 chain
 * (with the same content hash) and that every revision an event names is
 * stored, walks the chain (sequence numbers, previous-head links,
 * head = SHA-256(prev || event body)) and compares the last head with the
 * head the store records. With an expected head (kept outside the store) it
 * also proves that the history up to that head is unchanged: the head must
 * be one of the chain's heads.
 *
 * XXH3 detects accidental damage only; the SHA-256 chain, checked against a
 * head kept elsewhere, is what detects deliberate changes (docs/rules.md).
 */
#ifndef ECSREV_VERIFY_H
#define ECSREV_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/crypto.h>
#include <ecsrev/error.h>
#include <ecsrev/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One problem found. Strings owned by the report. */
struct ecsrev_verify_problem {
    const char *kind; /**< static: "body-missing", "content-hash", "not-in-chain",
                           "chain-hash", "revision-missing", "event-seq", "event-prev",
                           "event-head", "event-body", "head", "expect" */
    char *arn;        /**< revision ARN concerned, or NULL */
    uint64_t seq;     /**< event sequence number concerned, or 0 */
    char *message;    /**< one line naming the ARN or event */
};

/** Result of a verification. Initialize with ECSREV_VERIFY_REPORT_INIT. */
struct ecsrev_verify_report {
    uint64_t revisions;              /**< revision records checked */
    uint64_t events;                 /**< chain events checked */
    uint8_t head[ECSREV_SHA256_LEN]; /**< head recorded by the store */
    uint64_t seq;                    /**< sequence number of the recorded head */
    bool expect_given;               /**< an expected head was checked */
    bool expect_found;               /**< it is one of the chain's heads */
    uint64_t expect_seq;             /**< event whose head it is */
    struct ecsrev_verify_problem *problems;
    size_t n_problems;
};
#define ECSREV_VERIFY_REPORT_INIT                                                                  \
    {                                                                                              \
        0, 0, {0}, 0, false, false, 0, NULL, 0                                                     \
    }

/**
 * Check the whole store (read-only).
 * @param out filled; dispose with ecsrev_verify_report_dispose() (also on error)
 * @param expect a head that must be in the chain (32 bytes), or NULL
 * @return 0 when the check ran (damage is reported in @p out, not as an
 *         error), or ECSREV_ESTORE when the store could not be read
 */
ECSREV_MUST_CHECK int ecsrev_verify_store(struct ecsrev_verify_report *out, struct ecsrev_store *s,
                                          const uint8_t *expect, struct ecsrev_error *err);

/** Free what @p r owns and reset it. Accepts NULL. */
void ecsrev_verify_report_dispose(struct ecsrev_verify_report *r);

/**
 * Parse a head given as 64 hex digits (either case).
 * @return 0 or ECSREV_EINVAL ("'x' is not a chain head (64 hex digits)")
 */
ECSREV_MUST_CHECK int ecsrev_verify_head_parse(uint8_t out[ECSREV_SHA256_LEN], const char *hex,
                                               struct ecsrev_error *err);

/**
 * Render @p r as text (one line per problem, then a summary with the head)
 * or as JSON (schema "ecsrev.verify/1").
 * @return 0 or ECSREV_EINVAL when @p out would exceed its cap
 */
ECSREV_MUST_CHECK int ecsrev_verify_render(struct ecsrev_buf *out,
                                           const struct ecsrev_verify_report *r, bool json,
                                           struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
