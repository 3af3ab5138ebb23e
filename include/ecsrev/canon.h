/**
 * canon.h - RFC 8785 canonical JSON, and the normalizer that turns an ECS
 * ServiceRevision into one canonical document with two XXH3-128 hashes.
 *
 * The rules (which arrays are sets, which are keyed by which member, how
 * timestamps are stored, what the configuration hash leaves out) are listed
 * in docs/CANONICAL.md. The diff engine uses the same rules through
 * ecsrev_canon_array_rule(), so "same configuration hash" and "no change in
 * the diff" always agree.
 */
#ifndef ECSREV_CANON_H
#define ECSREV_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/error.h>
#include <ecsrev/hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/** createdAt value of a revision that has none (e.g. a desired-spec file). */
#define ECSREV_TIME_NONE INT64_MIN

/**
 * A normalized service revision. All strings are owned by the struct and
 * freed by ecsrev_revision_dispose(); NULL where the member is absent.
 */
struct ecsrev_revision {
    char *arn;             /**< serviceRevisionArn */
    char *service_arn;     /**< serviceArn, or derived from the revision ARN */
    char *cluster_arn;     /**< clusterArn, or derived from the revision ARN */
    char *task_definition; /**< taskDefinition */
    int64_t created_ms;    /**< createdAt in ms since the epoch, or ECSREV_TIME_NONE */
    uint8_t content_hash[ECSREV_HASH_LEN]; /**< XXH3-128 of canon */
    uint8_t config_hash[ECSREV_HASH_LEN];  /**< XXH3-128 of the configuration document */
    char *canon;      /**< canonical document (RFC 8785 bytes), NUL-terminated */
    size_t canon_len; /**< length of canon without the NUL */
};

/** Flags for ecsrev_revision_normalize(). */
enum ecsrev_normalize_flags {
    /** Require a well-formed serviceRevisionArn and a createdAt (import, fetch). */
    ECSREV_NORMALIZE_REQUIRE_IDENTITY = 1u << 0,
};

/**
 * RFC 8785 canonical form of any JSON text.
 * @param out buffer the canonical bytes are appended to (caller-owned)
 * @param json,len the input; must be valid UTF-8 JSON (strict parse)
 * @return 0, ECSREV_EPARSE (bad JSON, message says where) or ECSREV_EINVAL
 *         (a number that is not finite, too large for out)
 */
ECSREV_MUST_CHECK int ecsrev_canon_json(struct ecsrev_buf *out, const char *json, size_t len,
                                        struct ecsrev_error *err);

/**
 * Append the ECMAScript Number::toString form of @p d (as JSON.stringify
 * prints it: shortest round-trip digits, "1e+21", "1e-7", -0 -> "0").
 * @return 0, or ECSREV_EINVAL for NaN and infinities (not representable in JSON)
 */
ECSREV_MUST_CHECK int ecsrev_canon_number(struct ecsrev_buf *out, double d,
                                          struct ecsrev_error *err);

/**
 * Normalize one ServiceRevision given as JSON text (a single object).
 * Validates the types of every member the ECS model defines, converts
 * timestamps to the one stored form, orders sets and keyed arrays, keeps
 * unknown members unchanged, serializes per RFC 8785 and computes both hashes.
 * @param out filled on success; dispose with ecsrev_revision_dispose()
 * @param flags ecsrev_normalize_flags
 * @return 0, ECSREV_EPARSE (bad JSON) or ECSREV_EINVAL (wrong type, bad ARN,
 *         bad timestamp); the message names the member path, e.g.
 *         "containerImages: expected an array, got a string"
 */
ECSREV_MUST_CHECK int ecsrev_revision_normalize(struct ecsrev_revision *out, const char *json,
                                                size_t len, unsigned flags,
                                                struct ecsrev_error *err);

/** Free everything @p rev owns and zero it. Accepts NULL and zeroed structs. */
void ecsrev_revision_dispose(struct ecsrev_revision *rev);

/** Deep copy of @p src into @p out. */
void ecsrev_revision_copy(struct ecsrev_revision *out, const struct ecsrev_revision *src);

/**
 * The configuration document of a canonical revision: the canonical bytes
 * without the identity and volatile members (serviceRevisionArn, createdAt,
 * and status, statusReason, updatedAt inside ecsManagedResources).
 * config_hash is XXH3-128 of exactly these bytes.
 * @param out canonical bytes appended here
 * @return 0 or ECSREV_EPARSE if @p canon is not JSON
 */
ECSREV_MUST_CHECK int ecsrev_revision_config_doc(struct ecsrev_buf *out, const char *canon,
                                                 size_t len, struct ecsrev_error *err);

/** How the normalizer treats an array. */
enum ecsrev_array_kind {
    ECSREV_ARRAY_LIST = 0, /**< order is kept: unknown or meaningful order */
    ECSREV_ARRAY_SET,      /**< scalar members sorted, order means nothing */
    ECSREV_ARRAY_KEYED,    /**< objects ordered (and matched) by a key member */
};

/** The rule for one array. */
struct ecsrev_array_rule {
    enum ecsrev_array_kind kind;
    const char *key;     /**< KEYED: key member name ("containerName") */
    const char *alt_key; /**< KEYED: member used when key is absent, or NULL */
};

/**
 * The rule for the array at member path @p path (array indices left out),
 * e.g. "serviceConnectConfiguration.services.clientAliases" -> KEYED by "port",
 * "networkConfiguration.awsvpcConfiguration.subnets" -> SET.
 * Unknown paths give ECSREV_ARRAY_LIST.
 */
struct ecsrev_array_rule ecsrev_canon_array_rule(const char *path);

/**
 * Parse a timestamp as the API (epoch seconds, fractions and exponents
 * allowed, given as text) or the AWS CLI (ISO 8601 with offset or Z) prints it.
 * @param out milliseconds since the epoch (rounded to the nearest ms)
 * @return 0 or ECSREV_EINVAL naming the bad text
 */
ECSREV_MUST_CHECK int ecsrev_time_parse(int64_t *out, const char *text, struct ecsrev_error *err);

/**
 * Format @p ms as the stored form "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, always
 * milliseconds, 24 chars + NUL into @p out).
 */
void ecsrev_time_format(char out[32], int64_t ms);

#ifdef __cplusplus
}
#endif
#endif
