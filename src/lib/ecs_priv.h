/*
 * ecs_priv.h - the request scheduler shared by ecs.c (client, retries) and
 * ecs_fetch.c (the fetch pipeline). Private: exposes cJSON.
 *
 * An exec is a queue of jobs (one API call each). ecsrev_ecs__exec_run()
 * starts them in queue order, at most `concurrency` at once, retries them as
 * the client's retry policy says, and calls the done callback for each
 * success, in completion order. The callback may add jobs (next pages).
 * The first job that fails for good stops the run: requests still in flight
 * are dropped and the error is returned.
 */
#ifndef ECSREV_ECS_PRIV_H
#define ECSREV_ECS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/ecs.h>

#include <cjson/cJSON.h>

struct ecsrev_ecs__exec;

/** One API call. */
struct ecsrev_ecs__job {
    const char *op; /**< operation name (static string) */
    char *body;     /**< request JSON, owned (free()) */
    size_t body_len;
    size_t tag;         /**< caller's data: an index */
    int state;          /**< waiting, in flight, done */
    unsigned attempts;  /**< attempts started */
    int64_t ready_ms;   /**< earliest start of the next attempt */
    int64_t started_ms; /**< start of the current attempt */
    int retry_cost;     /**< retry-quota tokens spent on this job */
    bool creds_renewed; /**< credentials fetched again after an ExpiredToken answer */
};

/**
 * Called once per successful job with the parsed response object and its
 * raw bytes (both borrowed for the call).
 * @return 0, or a negative code with @p err set (stops the run)
 */
typedef int (*ecsrev_ecs__done_fn)(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                                   const cJSON *resp, const char *raw, size_t raw_len,
                                   struct ecsrev_error *err, void *payload);

struct ecsrev_ecs__exec {
    struct ecsrev_ecs *c;
    struct ecsrev_ecs__job **jobs;
    size_t n, cap;
    size_t first_open; /**< every job before this index is done */
    size_t in_flight;
    ecsrev_ecs__done_fn done;
    void *payload;
};

/** Initialize an empty queue on client @p c. */
void ecsrev_ecs__exec_init(struct ecsrev_ecs__exec *x, struct ecsrev_ecs *c,
                           ecsrev_ecs__done_fn done, void *payload);

/** Queue a call of @p op with @p body (owned, taken over). */
void ecsrev_ecs__exec_add(struct ecsrev_ecs__exec *x, const char *op, char *body, size_t tag);

/** Run until every queued job is done or one fails. */
ECSREV_MUST_CHECK int ecsrev_ecs__exec_run(struct ecsrev_ecs__exec *x, struct ecsrev_error *err);

/** Free the queue. */
void ecsrev_ecs__exec_dispose(struct ecsrev_ecs__exec *x);

/** Serialize @p o compactly into an owned string (free()) and delete @p o. */
char *ecsrev_ecs__print(cJSON *o);

/** Concurrency of client @p c. */
unsigned ecsrev_ecs__concurrency(const struct ecsrev_ecs *c);

#endif
