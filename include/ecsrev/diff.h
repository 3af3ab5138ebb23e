/**
 * diff.h - field-level differences between two normalized service revisions,
 * and their renderings (text, JSON, Markdown, RFC 6902 JSON Patch, one-line
 * summaries for `log`).
 *
 * Change model (docs/DIFF.md has the details):
 * - both sides are canonical documents (ecsrev_revision_normalize); they are
 *   compared member by member;
 * - arrays follow the normalizer's rules (ecsrev_canon_array_rule): keyed
 *   arrays are matched by their key ("containerImages[web].image"), set-like
 *   arrays report members added and removed ("...securityGroups[sg-0fe1]"),
 *   other arrays are compared element by element by index ("x[3]");
 * - the identity and volatile members (serviceRevisionArn, createdAt, and
 *   status/statusReason/updatedAt inside ecsManagedResources) are never
 *   reported, so "no change" <=> same configuration hash;
 * - every change has a category (enum ecsrev_diff_category), a path, an op
 *   and the canonical JSON text of the old and/or new value.
 * Matching is linear in the size of the documents: canonical objects by a
 * merge of their sorted members, keyed arrays and sets by hashing.
 */
#ifndef ECSREV_DIFF_H
#define ECSREV_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the JSON documents written by the renderers ("schema"). */
#define ECSREV_DIFF_SCHEMA 1

/** Change categories, in their display and sort order. */
enum ecsrev_diff_category {
    ECSREV_CAT_IMAGES = 0,        /**< "images": containerImages */
    ECSREV_CAT_TASK_DEFINITION,   /**< "task-definition" */
    ECSREV_CAT_NETWORKING,        /**< "networking": networkConfiguration */
    ECSREV_CAT_LOAD_BALANCERS,    /**< "load-balancers" */
    ECSREV_CAT_VOLUMES,           /**< "volumes" */
    ECSREV_CAT_SERVICE_CONNECT,   /**< "service-connect" */
    ECSREV_CAT_SERVICE_DISCOVERY, /**< "service-discovery": serviceRegistries */
    ECSREV_CAT_VPC_LATTICE,       /**< "vpc-lattice" */
    ECSREV_CAT_COMPUTE,           /**< "compute" */
    ECSREV_CAT_SECURITY,          /**< "security": guardDutyEnabled */
    ECSREV_CAT_MANAGED_RESOURCES, /**< "managed-resources": ecsManagedResources */
    ECSREV_CAT_OTHER,             /**< "other": everything else */
    ECSREV_CAT_COUNT
};

/** What happened at a path. */
enum ecsrev_change_op {
    ECSREV_CHANGE_ADDED = 0, /**< only in B: new_json set, old_json NULL */
    ECSREV_CHANGE_REMOVED,   /**< only in A: old_json set, new_json NULL */
    ECSREV_CHANGE_CHANGED,   /**< in both, different: both set */
};

/** One change. All strings are owned by the enclosing struct ecsrev_changes. */
struct ecsrev_change {
    const char *category;          /**< static name, e.g. "images" */
    enum ecsrev_diff_category cat; /**< the same as an enum */
    enum ecsrev_change_op op;
    char *path;     /**< e.g. "containerImages[web].imageDigest" */
    char *old_json; /**< canonical JSON of the old value, NULL when absent */
    char *new_json; /**< canonical JSON of the new value, NULL when absent */
    char *name;     /**< last path segment: member name or selector label ("web", "3") */
    char *owner;    /**< label of the innermost keyed element enclosing the path, or NULL */
};

/** A list of changes, sorted by category then path. Caller-owned. */
struct ecsrev_changes {
    struct ecsrev_change *items;
    size_t n;
    size_t cap;
    bool same_config; /**< both configuration hashes were equal (no comparison was needed) */
};

#define ECSREV_CHANGES_INIT                                                                        \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

/**
 * A cache of the last two parsed documents, keyed by content hash, so a walk
 * over consecutive pairs (`ecsrev log -p`) parses each revision once.
 * Create with ecsrev_diff_cache_new(), free with ecsrev_diff_cache_free().
 */
struct ecsrev_diff_cache;

/** Options for ecsrev_diff_revisions(). */
struct ecsrev_diff_options {
    /** Bit mask of (1u << enum ecsrev_diff_category) to keep; 0 keeps all. */
    unsigned categories;
    /** Optional (borrowed): reuse parsed documents across ecsrev_diff_revisions() calls. */
    struct ecsrev_diff_cache *cache;
};

#define ECSREV_DIFF_OPTIONS_INIT                                                                   \
    {                                                                                              \
        0, NULL                                                                                    \
    }

/** A new, empty cache (owned; free with ecsrev_diff_cache_free()). */
struct ecsrev_diff_cache *ecsrev_diff_cache_new(void);

/** Free @p c and the documents it holds. Accepts NULL. */
void ecsrev_diff_cache_free(struct ecsrev_diff_cache *c);

/** Empty @p c. */
void ecsrev_changes_init(struct ecsrev_changes *c);

/** Free everything @p c owns and empty it. Accepts NULL. */
void ecsrev_changes_dispose(struct ecsrev_changes *c);

/** The name of @p cat ("images"), or "other" for out-of-range values. Static string. */
const char *ecsrev_diff_category_name(enum ecsrev_diff_category cat);

/**
 * Add the categories named in @p list (comma-separated, e.g. "images,networking")
 * to the mask @p mask.
 * @return 0 or ECSREV_EINVAL naming the unknown category
 */
ECSREV_MUST_CHECK int ecsrev_diff_category_parse(unsigned *mask, const char *list,
                                                 struct ecsrev_error *err);

/**
 * Compare two normalized revisions. If their configuration hashes are equal
 * the result is empty (and same_config is set) without parsing anything.
 * @param out emptied, then filled with the changes from @p a to @p b
 * @param opt may be NULL (all categories)
 * @return 0 or ECSREV_EPARSE / ECSREV_EINVAL if a canonical document is not a
 *         JSON object; on error @p out is empty
 */
ECSREV_MUST_CHECK int ecsrev_diff_revisions(struct ecsrev_changes *out,
                                            const struct ecsrev_revision *a,
                                            const struct ecsrev_revision *b,
                                            const struct ecsrev_diff_options *opt,
                                            struct ecsrev_error *err);

/**
 * Compare two canonical documents (as in struct ecsrev_revision.canon).
 * Same result as ecsrev_diff_revisions() without the hash short-cut.
 */
ECSREV_MUST_CHECK int ecsrev_diff_docs(struct ecsrev_changes *out, const char *canon_a,
                                       size_t len_a, const char *canon_b, size_t len_b,
                                       const struct ecsrev_diff_options *opt,
                                       struct ecsrev_error *err);

/**
 * Append an RFC 6902 JSON Patch (a JSON array of operations, one per line,
 * ending with a newline) that turns document @p canon_a into @p canon_b,
 * both taken whole (identity members included). Values are canonical JSON.
 * @return 0 or ECSREV_EPARSE if a document is not JSON
 */
ECSREV_MUST_CHECK int ecsrev_diff_patch(struct ecsrev_buf *out, const char *canon_a, size_t len_a,
                                        const char *canon_b, size_t len_b,
                                        struct ecsrev_error *err);

/**
 * Append a one-line summary of @p changes (no newline), e.g.
 * "images: web 1.4.2→1.4.3; networking: +sg-0fe1, assignPublicIp DISABLED→ENABLED",
 * or "no configuration change" when there are none. At most three items per
 * category are listed, then "+N more".
 */
ECSREV_MUST_CHECK int ecsrev_diff_summary(struct ecsrev_buf *out,
                                          const struct ecsrev_changes *changes,
                                          struct ecsrev_error *err);

/** Output forms of ecsrev_diff_render(). */
enum ecsrev_diff_format {
    ECSREV_DIFF_TEXT = 0, /**< grouped by category, old → new */
    ECSREV_DIFF_JSON,     /**< one JSON document, schema ECSREV_DIFF_SCHEMA */
    ECSREV_DIFF_MARKDOWN, /**< a heading and one table per category */
};

/** Options for the renderers. */
struct ecsrev_diff_render_options {
    bool color;             /**< ANSI colours in TEXT */
    const char *from_label; /**< names A when it has no ARN (e.g. a file name), or NULL */
    const char *to_label;   /**< names B likewise, or NULL */
};

#define ECSREV_DIFF_RENDER_OPTIONS_INIT                                                            \
    {                                                                                              \
        false, NULL, NULL                                                                          \
    }

/**
 * Append the whole diff of @p a → @p b in @p format: a header naming both
 * sides, then the changes (TEXT and MARKDOWN say "no configuration change"
 * when there are none). JSON ends with a newline.
 * @param opt may be NULL
 * @return 0 or ECSREV_EINVAL (output too large, bad format)
 */
ECSREV_MUST_CHECK int ecsrev_diff_render(struct ecsrev_buf *out, enum ecsrev_diff_format format,
                                         const struct ecsrev_changes *changes,
                                         const struct ecsrev_revision *a,
                                         const struct ecsrev_revision *b,
                                         const struct ecsrev_diff_render_options *opt,
                                         struct ecsrev_error *err);

/**
 * Append only the TEXT body of @p changes (category headings and changes),
 * every line prefixed by @p indent (may be ""). Nothing for no changes.
 */
ECSREV_MUST_CHECK int ecsrev_diff_render_text_changes(struct ecsrev_buf *out,
                                                      const struct ecsrev_changes *changes,
                                                      const char *indent, bool color,
                                                      struct ecsrev_error *err);

/** One entry of `ecsrev log`. All pointers borrowed. */
struct ecsrev_diff_log_entry {
    const struct ecsrev_revision *rev;    /**< the revision the entry is about */
    const struct ecsrev_revision *prev;   /**< the one before it in its service, or NULL */
    const struct ecsrev_changes *changes; /**< prev → rev (empty when prev is NULL) */
    bool with_changes;                    /**< include the full field diff (log -p) */
};

/**
 * Append one log entry. TEXT: a few lines ("revision", "created", "task",
 * summary, and with with_changes the indented diff) and a blank line. JSON: one
 * object on one line (JSON Lines) with "schema", "service", "revision", "id",
 * "createdAt", "taskDefinition", "previous", "initial", "configChanged",
 * "summary", and with with_changes "changes".
 * @param format ECSREV_DIFF_TEXT or ECSREV_DIFF_JSON
 * @return 0 or ECSREV_EINVAL
 */
ECSREV_MUST_CHECK int ecsrev_diff_render_log_entry(struct ecsrev_buf *out,
                                                   enum ecsrev_diff_format format,
                                                   const struct ecsrev_diff_log_entry *entry,
                                                   bool color, struct ecsrev_error *err);

/**
 * Short form of a task definition: "family:revision" from a task definition
 * ARN, else @p td itself. Borrowed pointer into @p td ("" for NULL).
 */
const char *ecsrev_diff_task_def_short(const char *td);

#ifdef __cplusplus
}
#endif
#endif
