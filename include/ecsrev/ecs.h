/**
 * ecs.h - Amazon ECS API client (AWS JSON 1.1 over SigV4) and the fetch
 * pipeline that collects service revisions.
 *
 * The client signs each request with SigV4, runs up to `concurrency`
 * requests at once over an ecsrev_transport, and retries like the AWS SDKs'
 * "standard" mode: up to max_attempts attempts, a delay of
 * random(0, min(cap, base * 2^(attempt-1))) between them (full jitter), on
 * throttling error codes, HTTP 429/500/502/503/504, timeouts, connection
 * failures and 2xx answers whose body is not a JSON object (a cut
 * connection); never on other 4xx errors (bad signature, access denied,
 * invalid parameter, ...). A retry quota (500 tokens, 5 per retry, 10 per
 * retried timeout, refunded on success) stops retry storms.
 *
 * The library reads no clock and no environment: the time, the sleep and
 * the credentials come from callbacks in ecsrev_ecs_options.
 *
 * Errors of API calls are one line: "DescribeServiceRevisions:
 * AccessDeniedException: <message>" (ECSREV_EHTTP, ECSREV_EAUTH for
 * authentication errors; cause = HTTP status), or "ListServiceDeployments:
 * <url>: <transport error> (after 3 attempts)" (ECSREV_ENET).
 */
#ifndef ECSREV_ECS_H
#define ECSREV_ECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>
#include <ecsrev/http.h>
#include <ecsrev/sigv4.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most ARNs one DescribeServiceDeployments / DescribeServiceRevisions call takes. */
#define ECSREV_ECS_BATCH_MAX 20

/** The X-Amz-Target prefix of the ECS API. */
#define ECSREV_ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."

struct ecsrev_ecs;

/** Milliseconds since the epoch, now. */
typedef int64_t (*ecsrev_ecs_now_fn)(void *payload);

/** Sleep for @p ms milliseconds. */
typedef void (*ecsrev_ecs_sleep_fn)(int64_t ms, void *payload);

/**
 * Provide credentials: fill @p out (owned by the client, which disposes it).
 * Called before the first request, and again before a request whenever the
 * current credentials expire within a minute (expires_ms).
 * @return 0, or a negative code with @p err set (message without secrets)
 */
typedef int (*ecsrev_ecs_creds_fn)(struct ecsrev_credentials *out, struct ecsrev_error *err,
                                   void *payload);

/** One finished attempt of one request, for `-v`. Strings borrowed for the call. */
struct ecsrev_ecs_log {
    const char *operation;  /**< "DescribeServiceRevisions" */
    unsigned attempt;       /**< 1, 2, ... */
    long status;            /**< HTTP status, 0 when no response arrived */
    const char *error;      /**< error code or transport message; NULL on success */
    int64_t duration_ms;    /**< from send to completion */
    bool will_retry;        /**< a retry follows */
    int64_t retry_delay_ms; /**< its delay */
};

/** Called after every attempt. */
typedef void (*ecsrev_ecs_log_fn)(const struct ecsrev_ecs_log *ev, void *payload);

/** Client options. */
struct ecsrev_ecs_options {
    const char *endpoint;    /**< "https://ecs.us-east-1.amazonaws.com" (http(s), optional path) */
    const char *region;      /**< signing region */
    unsigned max_attempts;   /**< attempts per request, >= 1 (default 3) */
    unsigned concurrency;    /**< requests in flight, >= 1 (default 8) */
    int64_t backoff_base_ms; /**< retry delay base (default 1000) */
    int64_t backoff_cap_ms;  /**< retry delay cap (default 20000) */
    ecsrev_ecs_creds_fn creds; /**< required */
    ecsrev_ecs_now_fn now;     /**< required */
    ecsrev_ecs_sleep_fn sleep; /**< required */
    ecsrev_ecs_log_fn log;     /**< optional */
    void *payload;             /**< passed to the four callbacks */
};

/** Defaults: 3 attempts, 8 in flight, 1 s base, 20 s cap; the rest must be set. */
#define ECSREV_ECS_OPTIONS_INIT                                                                    \
    {                                                                                              \
        NULL, NULL, 3, 8, 1000, 20000, NULL, NULL, NULL, NULL, NULL                                \
    }

/**
 * Create a client.
 * @param out owned; free with ecsrev_ecs_free()
 * @param transport borrowed; must outlive the client
 * @param opts borrowed for this call (strings copied)
 * @return 0 or ECSREV_EINVAL (bad endpoint URL, missing callback, zero attempts)
 */
ECSREV_MUST_CHECK int ecsrev_ecs_new(struct ecsrev_ecs **out, struct ecsrev_transport *transport,
                                     const struct ecsrev_ecs_options *opts,
                                     struct ecsrev_error *err);

/** Free @p c (wiping its credentials). Accepts NULL. */
void ecsrev_ecs_free(struct ecsrev_ecs *c);

/**
 * Call one operation, with retries.
 * @param out the response body (a JSON object) is appended here
 * @param operation "ListServices", ...
 * @param body request JSON (borrowed)
 * @return 0, ECSREV_EHTTP / ECSREV_EAUTH (API error), ECSREV_ENET (transport
 *         error after retries), ECSREV_EPARSE (malformed answer after retries)
 */
ECSREV_MUST_CHECK int ecsrev_ecs_call(struct ecsrev_buf *out, struct ecsrev_ecs *c,
                                      const char *operation, const char *body, size_t len,
                                      struct ecsrev_error *err);

/**
 * List every service ARN of @p cluster (all pages of ListServices).
 * @param out owned array of owned strings; free each and the array
 */
ECSREV_MUST_CHECK int ecsrev_ecs_list_services(char ***out, size_t *n, struct ecsrev_ecs *c,
                                               const char *cluster, struct ecsrev_error *err);

/**
 * Whether @p code (an error code with prefix and suffix stripped) is one of
 * the SDKs' throttling codes.
 */
bool ecsrev_ecs_is_throttling(const char *code);

/**
 * Extract an AWS JSON error: the code from header X-Amzn-Errortype, else the
 * body's "__type", else its "code" (a namespace up to '#' and anything from
 * ':' on removed), the message from "message" or "Message".
 * @param code,message owned strings (free()), NULL when absent
 */
void ecsrev_ecs_parse_error(char **code, char **message, const char *errortype_header,
                            const char *body, size_t len);

/* ---- the fetch pipeline ---- */

/** What to fetch. Strings borrowed. */
struct ecsrev_fetch_spec {
    const char *cluster;         /**< name or ARN; NULL: from a service ARN, else default */
    const char *const *services; /**< names or ARNs */
    size_t n_services;
    bool all_services;                /**< add every service of the cluster (ListServices) */
    const char *const *revision_arns; /**< explicit service revision ARNs */
    size_t n_revision_arns;
    int64_t since_ms; /**< deployments created at or after; ECSREV_TIME_NONE: all */
};
#define ECSREV_FETCH_SPEC_INIT                                                                     \
    {                                                                                              \
        NULL, NULL, 0, false, NULL, 0, ECSREV_TIME_NONE                                            \
    }

/** One ARN that could not be fetched. Borrowed for the callback. */
struct ecsrev_fetch_failure {
    const char *arn;
    const char *reason; /**< "MISSING", "INVALID" (failed validation), "NOT_RETURNED", ... */
    const char *detail; /**< may be NULL */
};

/** Counters, passed to the progress callback and returned at the end. */
struct ecsrev_fetch_progress {
    size_t services;       /**< services whose deployments were listed */
    size_t deployments;    /**< deployments listed */
    size_t revisions;      /**< distinct revision ARNs referenced (and given) */
    size_t already_stored; /**< of these, skipped because the store has them */
    size_t to_fetch;       /**< of these, requested with DescribeServiceRevisions */
    size_t fetched;        /**< valid revisions delivered to the batch callback */
    size_t failed;         /**< failures delivered (deployments and revisions) */
};

/**
 * Whether the store already has revision @p arn.
 * @return 0 with *out set, or a negative code with @p err set (fetch stops)
 */
typedef int (*ecsrev_fetch_have_fn)(bool *out, const char *arn, struct ecsrev_error *err,
                                    void *payload);

/**
 * One batch of results, in batch order (never depends on timing). @p revs
 * (normalized with ECSREV_NORMALIZE_REQUIRE_IDENTITY, in ARN order) and
 * @p failures are borrowed for the call; @p n may be 0 (failures only).
 * @return 0, or a negative code with @p err set (fetch stops)
 */
typedef int (*ecsrev_fetch_batch_fn)(const struct ecsrev_revision *revs, size_t n,
                                     const struct ecsrev_fetch_failure *failures, size_t n_failures,
                                     struct ecsrev_error *err, void *payload);

/** Called whenever a counter changes. */
typedef void (*ecsrev_fetch_progress_fn)(const struct ecsrev_fetch_progress *p, void *payload);

/** The fetch callbacks. */
struct ecsrev_fetch_callbacks {
    ecsrev_fetch_have_fn have;         /**< optional: NULL fetches everything */
    ecsrev_fetch_batch_fn batch;       /**< required */
    ecsrev_fetch_progress_fn progress; /**< optional */
    void *payload;
};

/**
 * Fetch service revisions: ListServices (all_services) → ListServiceDeployments
 * of each service (all pages; since → createdAt.after) → DescribeServiceDeployments
 * (<= 20 ARNs a call) → the source, target and rollback revision ARNs plus the
 * explicit ones, deduplicated and sorted → those @p cb->have does not know →
 * DescribeServiceRevisions (<= 20 a call, `concurrency` in flight) → @p cb->batch
 * per call, in order. Failures of DescribeServiceDeployments are delivered first
 * (with n = 0). A revision failing validation, or requested and neither returned
 * nor in `failures`, is a failure ("INVALID", "NOT_RETURNED").
 * On error, batches delivered before it stay delivered; later ones are dropped.
 * @param out final counters (also filled on error)
 * @return 0, a request error (see ecsrev_ecs_call), ECSREV_EINVAL (a bad explicit
 *         ARN, a malformed response member) or the callbacks' error
 */
ECSREV_MUST_CHECK int ecsrev_ecs_fetch(struct ecsrev_fetch_progress *out, struct ecsrev_ecs *c,
                                       const struct ecsrev_fetch_spec *spec,
                                       const struct ecsrev_fetch_callbacks *cb,
                                       struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
