/**
 * store.h - the embedded history store (LMDB).
 *
 * Revisions are keyed by revision ARN; bodies (canonical documents) are kept
 * once per content hash; a per-service index orders each service's revisions
 * by createdAt; an append-only event log chained with SHA-256 records every
 * change (see docs/STORE.md for the on-disk layout).
 *
 * One writer at a time (LMDB's lock); readers never block the writer. Each
 * ecsrev_store_put() is one write transaction: all or nothing. The map grows
 * by itself when full.
 *
 * Strings and bodies handed to callbacks are borrowed for the duration of the
 * callback only.
 *
 * Threads: a handle may be used from any thread, by one thread at a time
 * (the caller orders them, e.g. with a mutex); every call begins and ends its
 * own transactions, except that a snapshot pinned by ecsrev_store_read_begin()
 * belongs to the thread that pinned it until ecsrev_store_read_end().
 */
#ifndef ECSREV_STORE_H
#define ECSREV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/canon.h>
#include <ecsrev/crypto.h>
#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** On-disk schema this build reads and writes. */
#define ECSREV_STORE_SCHEMA 1

struct ecsrev_store;

/** Flags for ecsrev_store_open(). */
enum ecsrev_store_flags {
    ECSREV_STORE_READONLY = 1u << 0, /**< open for reading; fails if the store does not exist */
};

/**
 * Open (creating if needed, unless READONLY) the store in directory @p dir.
 * The directory is created with mode 0700 and its files with 0600.
 * @param out owned; close with ecsrev_store_close()
 * @return 0, ECSREV_ENOTFOUND (READONLY and no store), ECSREV_ESTORE (LMDB
 *         failure, or a store written by another schema: the message names both)
 *         or ECSREV_EIO (cannot create the directory)
 */
ECSREV_MUST_CHECK int ecsrev_store_open(struct ecsrev_store **out, const char *dir, unsigned flags,
                                        struct ecsrev_error *err);

/** Close @p s. Accepts NULL. */
void ecsrev_store_close(struct ecsrev_store *s);

/** The store's directory. Borrowed, valid until close. */
const char *ecsrev_store_path(const struct ecsrev_store *s);

/**
 * Pin one read snapshot: until ecsrev_store_read_end(), every read call on
 * @p s (get, history, services, events, head, raw, stats...) sees the store as
 * it was at this moment, whatever other processes commit meanwhile. Use it
 * when several reads must agree (verify). Writes are not affected.
 * @return 0, ECSREV_EINVAL (already pinned) or ECSREV_ESTORE
 */
ECSREV_MUST_CHECK int ecsrev_store_read_begin(struct ecsrev_store *s, struct ecsrev_error *err);

/** Release the snapshot pinned by ecsrev_store_read_begin(). Accepts NULL / nothing pinned. */
void ecsrev_store_read_end(struct ecsrev_store *s);

/** Called when a write must wait for another writer (another process). */
typedef void (*ecsrev_store_wait_fn)(void *payload);

/**
 * Set the function ecsrev_store_put() calls, once per put, before it blocks
 * because another process is writing (so a tool can say so). NULL: none.
 */
void ecsrev_store_on_wait(struct ecsrev_store *s, ecsrev_store_wait_fn fn, void *payload);

/**
 * Batch mode for a series of puts that belong together (an import stored in
 * several transactions): while on, a commit flushes its data pages but not
 * the meta page that makes it the newest state; the next commit's flush
 * writes that one out. Integrity is kept (LMDB's MDB_NOMETASYNC): a system
 * crash may undo the last put of the series, never leave a damaged store.
 * Turning it off flushes what is not on disk yet (mdb_env_sync), so the
 * whole series is durable once it returns.
 * @return 0, or -1 if the flush failed (the store is intact; the series may
 *         not survive a system crash)
 */
ECSREV_MUST_CHECK int ecsrev_store_batch(struct ecsrev_store *s, bool on);

/** Default of ecsrev_store_set_map_budget(): 4 MiB. */
#define ECSREV_STORE_MAP_BUDGET ((size_t)4 * 1024 * 1024)

/**
 * How many bytes of the store's file a writer may keep mapped in this
 * process (resident, counted in its RSS) before it lets go of them. LMDB
 * reads the file through a memory map; a long import touches most of it.
 * A writer checks every few revisions and, past the budget, drops its
 * mapping of the pages (they stay in the page cache). Smaller: a flatter
 * RSS; larger: fewer page faults. 0 releases at every check. Where the
 * process's resident size cannot be read (not Linux), it releases at every
 * check whatever the budget.
 */
void ecsrev_store_set_map_budget(struct ecsrev_store *s, size_t bytes);

/** What ecsrev_store_put() did. */
struct ecsrev_store_put_result {
    size_t added;     /**< new revisions stored */
    size_t existing;  /**< already stored with the same content */
    size_t conflicts; /**< already stored with different content: the stored one is kept */
};

/**
 * Store @p n normalized revisions (each must have arn, service_arn and
 * created_ms) in one write transaction; if any is new, append one event
 * (@p command, @p time_ms, the new ARNs and content hashes) to the chain in
 * the same transaction.
 * @return 0 or ECSREV_ESTORE; on error nothing of this call is stored
 */
ECSREV_MUST_CHECK int ecsrev_store_put(struct ecsrev_store *s, const struct ecsrev_revision *revs,
                                       size_t n, const char *command, int64_t time_ms,
                                       struct ecsrev_store_put_result *out,
                                       struct ecsrev_error *err);

/**
 * Where ecsrev_store_put_from() takes its revisions, one at a time, so that
 * a large put never holds them all in memory.
 */
struct ecsrev_store_source {
    /**
     * Set *out to the next revision (it must stay valid until the next call)
     * and return 1; return 0 after the last one, or an error code (err set).
     */
    int (*next)(void *payload, const struct ecsrev_revision **out, struct ecsrev_error *err);
    /**
     * Start again from the first revision: called before each attempt (a put
     * is repeated after the map has grown). May be NULL for a source that
     * cannot rewind: then a full map is an error instead of a retry.
     */
    int (*rewind)(void *payload, struct ecsrev_error *err);
    void *payload; /**< given to both */
    /**
     * For ecsrev_store_put_from: the bodies were stored before by
     * ecsrev_store_stage, so the revisions may come without their canonical
     * document (canon NULL); each body must still be there.
     */
    bool bodies_staged;
};

/**
 * ecsrev_store_put() with the revisions taken from @p src: one write
 * transaction and at most one chain event for all of them. A revision the
 * source gives that lacks its ARN, service or createdAt, or an error of the
 * source, aborts the put: nothing of it is stored.
 * @return 0, the source's error, or ECSREV_ESTORE
 */
/**
 * Stage the bodies of a large import ahead of its records: store the
 * canonical document of every revision of @p src (one transaction), where
 * not already stored. Nothing becomes visible: no command finds a body
 * without a record. Then either store the records with
 * ecsrev_store_put_from (bodies_staged set), or take the bodies back with
 * ecsrev_store_unstage; then ecsrev_store_stage_done. A crash in between
 * leaves only unused bodies, which an import of the same revisions uses
 * again. The first call takes staging.lock shared (see ecsrev_store_unstage).
 * @return 0 or ECSREV_ESTORE (nothing of this call stored), or the source's error
 */
ECSREV_MUST_CHECK int ecsrev_store_stage(struct ecsrev_store *s,
                                         const struct ecsrev_store_source *src,
                                         struct ecsrev_error *err);

/**
 * Drop the bodies of @p src's revisions that no record uses (a record of
 * the same ARN with the same content hash keeps its body). The revisions
 * need no canonical document. Safe to call for revisions that were stored
 * meanwhile: their bodies stay. While another process is staging (it holds
 * staging.lock, see ecsrev_store_stage) nothing is dropped, since that
 * import may count on the same bodies: they stay, unused and invisible.
 * @param dropped set to whether the bodies were dropped
 * @return 0 or ECSREV_ESTORE, or the source's error
 */
ECSREV_MUST_CHECK int ecsrev_store_unstage(struct ecsrev_store *s,
                                           const struct ecsrev_store_source *src, bool *dropped,
                                           struct ecsrev_error *err);

/**
 * End this process's staging: release staging.lock, taken by the first
 * ecsrev_store_stage (also released by ecsrev_store_close, or a crash).
 * Call it when the import that staged is stored or taken back.
 */
void ecsrev_store_stage_done(struct ecsrev_store *s);

ECSREV_MUST_CHECK int ecsrev_store_put_from(struct ecsrev_store *s,
                                            const struct ecsrev_store_source *src,
                                            const char *command, int64_t time_ms,
                                            struct ecsrev_store_put_result *res,
                                            struct ecsrev_error *err);

/**
 * Whether a revision ARN is stored.
 * @return 0 (with *out set) or ECSREV_ESTORE
 */
ECSREV_MUST_CHECK int ecsrev_store_has(struct ecsrev_store *s, const char *arn, bool *out,
                                       struct ecsrev_error *err);

/**
 * Get a stored revision by its full ARN.
 * @param out filled (owned copy); dispose with ecsrev_revision_dispose()
 * @return 0, ECSREV_ENOTFOUND or ECSREV_ESTORE
 */
ECSREV_MUST_CHECK int ecsrev_store_get(struct ecsrev_store *s, const char *arn,
                                       struct ecsrev_revision *out, struct ecsrev_error *err);

/**
 * Resolve @p ref, a full revision ARN or a revision id (the last ARN segment)
 * that is unambiguous in the store, to the full ARN.
 * @param out owned string (free())
 * @return 0, ECSREV_ENOTFOUND ("no stored revision 'x'") or ECSREV_EINVAL
 *         ("revision id 'x' is ambiguous: N revisions")
 */
ECSREV_MUST_CHECK int ecsrev_store_resolve(struct ecsrev_store *s, const char *ref, char **out,
                                           struct ecsrev_error *err);

/**
 * Resolve a service given as an ARN, or as a name with @p cluster (name or
 * ARN; may be NULL when the name is unique in the store), to its ARN.
 * @param out owned string (free())
 * @return 0, ECSREV_ENOTFOUND or ECSREV_EINVAL (ambiguous name)
 */
ECSREV_MUST_CHECK int ecsrev_store_find_service(struct ecsrev_store *s, const char *service,
                                                const char *cluster, char **out,
                                                struct ecsrev_error *err);

/** Called per revision; return non-zero to stop (that value is returned). */
typedef int (*ecsrev_store_rev_fn)(const struct ecsrev_revision *rev, void *payload);

/** Called per service: its ARN, its cluster ARN and how many revisions it has. */
typedef int (*ecsrev_store_service_fn)(const char *service_arn, const char *cluster_arn,
                                       uint64_t revisions, void *payload);

/** Query for ecsrev_store_history(). */
struct ecsrev_store_query {
    int64_t since_ms;  /**< createdAt >= since (ECSREV_TIME_NONE: no bound) */
    int64_t until_ms;  /**< createdAt <= until (ECSREV_TIME_NONE: no bound) */
    bool newest_first; /**< order; oldest first otherwise */
    bool with_body;    /**< fill rev->canon (else NULL, cheaper) */
};
#define ECSREV_STORE_QUERY_INIT                                                                    \
    {                                                                                              \
        ECSREV_TIME_NONE, ECSREV_TIME_NONE, false, true                                            \
    }

/**
 * Walk the revisions of @p service_arn in createdAt order (ties by ARN).
 * Runs in one read transaction; the revision passed to @p fn is borrowed.
 * @return 0, ECSREV_ESTORE, or the callback's non-zero value
 */
ECSREV_MUST_CHECK int ecsrev_store_history(struct ecsrev_store *s, const char *service_arn,
                                           const struct ecsrev_store_query *q,
                                           ecsrev_store_rev_fn fn, void *payload,
                                           struct ecsrev_error *err);

/** Walk every stored service in ARN order. */
ECSREV_MUST_CHECK int ecsrev_store_services(struct ecsrev_store *s, ecsrev_store_service_fn fn,
                                            void *payload, struct ecsrev_error *err);

/**
 * Walk every stored revision in ARN order, with body. If @p service_arn is
 * not NULL, only that service's (in history order).
 */
ECSREV_MUST_CHECK int ecsrev_store_foreach(struct ecsrev_store *s, const char *service_arn,
                                           ecsrev_store_rev_fn fn, void *payload,
                                           struct ecsrev_error *err);

/**
 * Size of the index that a put of records writes into: the B-tree pages of
 * the records, history, id and service tables, in bytes, and how many
 * revisions they hold. A write transaction keeps a copy of every page it
 * changes in memory until its commit, so this bounds the memory of a put,
 * beyond the pages it adds; an import sizes its puts of staged records by it.
 * @return 0 or ECSREV_ESTORE
 */
ECSREV_MUST_CHECK int ecsrev_store_index_size(struct ecsrev_store *s, uint64_t *bytes,
                                              uint64_t *revisions, struct ecsrev_error *err);

/** Counts and sizes for `ecsrev stats`. */
struct ecsrev_store_stats {
    uint64_t revisions;
    uint64_t services;
    uint64_t clusters;
    uint64_t bodies;     /**< distinct canonical documents */
    uint64_t events;     /**< entries in the history chain */
    uint64_t bytes_used; /**< pages in use * page size */
    uint64_t map_size;   /**< current LMDB map size */
    uint64_t file_size;  /**< size of data.mdb on disk */
};

/** Fill @p out. @return 0 or ECSREV_ESTORE */
ECSREV_MUST_CHECK int ecsrev_store_stats(struct ecsrev_store *s, struct ecsrev_store_stats *out,
                                         struct ecsrev_error *err);

/** One event of the tamper-evident history chain. */
struct ecsrev_store_event {
    uint64_t seq;                    /**< 1, 2, ... */
    uint8_t prev[ECSREV_SHA256_LEN]; /**< chain head before this event (zeros for seq 1) */
    uint8_t head[ECSREV_SHA256_LEN]; /**< stored head after: SHA-256(prev || body) */
    const char *body;                /**< canonical JSON of the event (borrowed) */
    size_t body_len;
};

/** Called per event in sequence order. */
typedef int (*ecsrev_store_event_fn)(const struct ecsrev_store_event *ev, void *payload);

/** Walk the chain's events in order. */
ECSREV_MUST_CHECK int ecsrev_store_events(struct ecsrev_store *s, ecsrev_store_event_fn fn,
                                          void *payload, struct ecsrev_error *err);

/**
 * The chain head recorded in the store and the sequence number of the last
 * event (0 and all zeros for an empty chain).
 */
ECSREV_MUST_CHECK int ecsrev_store_head(struct ecsrev_store *s, uint8_t out[ECSREV_SHA256_LEN],
                                        uint64_t *seq, struct ecsrev_error *err);

/** A stored revision record as it is on disk, for `ecsrev verify`. */
struct ecsrev_store_raw {
    const char *arn;
    const uint8_t *content_hash; /**< recorded XXH3-128 */
    const char *body;            /**< stored body bytes, or NULL if missing */
    size_t body_len;
};
typedef int (*ecsrev_store_raw_fn)(const struct ecsrev_store_raw *raw, void *payload);

/** Walk every revision record with its stored body, in ARN order, no checks. */
ECSREV_MUST_CHECK int ecsrev_store_raw(struct ecsrev_store *s, ecsrev_store_raw_fn fn,
                                       void *payload, struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
