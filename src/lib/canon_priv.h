/*
 * canon_priv.h - canonical JSON and ServiceRevision normalization shared by
 * library modules (private: exposes cJSON trees).
 *
 * The diff and audit modules reuse these so that "same canonical bytes",
 * "same configuration hash" and "no difference" always agree.
 */
#ifndef ECSREV_CANON_PRIV_H
#define ECSREV_CANON_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>

#include <cjson/cJSON.h>

/**
 * Strict parse for canonicalization; the same as ecsrev_json__parse(), which
 * already rejects raw control characters and "\u0000" inside strings.
 * @param out owned tree, free with cJSON_Delete
 * @return 0 or ECSREV_EPARSE (message says where)
 */
ECSREV_MUST_CHECK int ecsrev_canon__parse(cJSON **out, const char *json, size_t len,
                                          struct ecsrev_error *err);

/**
 * Append the RFC 8785 canonical serialization of @p item (any JSON value) to
 * @p out. Object members are written in UTF-16 code-unit order of their names
 * whatever their order in the tree. @p item is borrowed and not modified.
 * @return 0, ECSREV_EINVAL (a non-finite number, or @p out would exceed its
 *         max) or ECSREV_EPARSE (a string or member name that is not valid UTF-8)
 */
ECSREV_MUST_CHECK int ecsrev_canon__write(struct ecsrev_buf *out, const cJSON *item,
                                          struct ecsrev_error *err);

/**
 * Append the canonical serialization of object @p doc to @p canon and, to
 * @p config, the same object without its top-level members named in @p omit
 * (a NULL-terminated list): one serialization for both documents, the kept
 * members' bytes are copied. @p doc is borrowed and not modified.
 * @return as ecsrev_canon__write (the first error of either buffer)
 */
ECSREV_MUST_CHECK int ecsrev_canon__write_split(struct ecsrev_buf *canon, struct ecsrev_buf *config,
                                                const cJSON *doc, const char *const *omit,
                                                struct ecsrev_error *err);

/**
 * Reorder the members of every object in @p item (recursively, in place) in
 * RFC 8785 order. The writers order members themselves (in order already
 * costs one comparison per member), so this is only for callers that walk
 * the tree in canonical order.
 */
void ecsrev_canon__sort_members(cJSON *item);

/**
 * Epoch seconds @p seconds (a JSON number) as milliseconds, rounded exactly
 * as ecsrev_time_parse() rounds the number's ecsrev_canon_number() text,
 * without producing that text.
 * @return true with *out set, or false when the shortcut cannot prove the
 *         result (values right at half a millisecond, |seconds| below 2^-10
 *         or from 2^40, out of the 0000..9999 range, NaN): use the text then
 */
bool ecsrev_canon__seconds_to_ms(int64_t *out, double seconds);

/**
 * Append @p s as an RFC 8785 JSON string (quotes and escapes).
 * @return 0, ECSREV_EPARSE (not valid UTF-8) or ECSREV_EINVAL (too large)
 */
ECSREV_MUST_CHECK int ecsrev_canon__write_string(struct ecsrev_buf *out, const char *s,
                                                 struct ecsrev_error *err);

/**
 * Normalize a ServiceRevision object in place: check the type of every member
 * the ECS model defines (message names the path, e.g.
 * "loadBalancers[2].containerPort: expected a number, got a string"), rewrite
 * timestamps in the stored form, sort set-like arrays and order keyed arrays.
 * Unknown members are left unchanged. Identity checks (serviceRevisionArn,
 * createdAt) are done by ecsrev_revision_normalize(), not here, so this also
 * serves partial documents (desired specs, configuration documents).
 * @param doc the revision object (borrowed, modified)
 * @param flags reserved (ecsrev_normalize_flags); pass 0
 * @return 0 or ECSREV_EINVAL
 */
ECSREV_MUST_CHECK int ecsrev_canon__normalize_tree(cJSON *doc, unsigned flags,
                                                   struct ecsrev_error *err);

/**
 * ecsrev_revision_normalize() on an already parsed revision object, for
 * callers that parsed a larger document (import reads whole responses).
 * @param doc borrowed and modified (normalized, then stripped of volatile
 *        members); the caller still frees it
 */
ECSREV_MUST_CHECK int ecsrev_revision__from_tree(struct ecsrev_revision *out, cJSON *doc,
                                                 unsigned flags, struct ecsrev_error *err);

/**
 * Compare two UTF-8 strings by their UTF-16 code units (RFC 8785 order).
 * Both must be valid UTF-8. @return <0, 0 or >0 like strcmp
 */
int ecsrev_canon__strcmp16(const char *a, const char *b);

/**
 * Remove the identity and volatile members from a (normalized) revision tree
 * in place: top-level serviceRevisionArn and createdAt, and status,
 * statusReason and updatedAt of every object under ecsManagedResources.
 */
void ecsrev_canon__strip_volatile(cJSON *doc);

/**
 * Copy @p s into @p out (capacity @p cap, always NUL-terminated, truncated
 * with "..." if needed) with control characters replaced by '?', so input
 * text can be quoted in a one-line error message.
 */
void ecsrev_canon__printable(char *out, size_t cap, const char *s);

/** JSON types of the ServiceRevision schema (scripts/gen-revision-schema.py). */
enum ecsrev_canon__type {
    ECSREV_CANON__STRING = 0,
    ECSREV_CANON__NUMBER,
    ECSREV_CANON__BOOLEAN,
    ECSREV_CANON__TIMESTAMP, /**< epoch-seconds number or ISO 8601 string on input */
    ECSREV_CANON__OBJECT,    /**< structure: members[] */
    ECSREV_CANON__ARRAY,     /**< list: element */
    ECSREV_CANON__MAP,       /**< object with arbitrary names, values of shape element */
};

struct ecsrev_canon__member;

/** One shape of the model (static const tables, never freed). */
struct ecsrev_canon__shape {
    enum ecsrev_canon__type type;
    const struct ecsrev_canon__member *members; /**< OBJECT */
    size_t n_members;                           /**< OBJECT (at most 255) */
    /** OBJECT: the members whose name starts with 'a' + k are
        members[first[k]] .. members[first[k + 1] - 1] (all start with a-z) */
    const unsigned char *first;
    const struct ecsrev_canon__shape *element; /**< ARRAY items, MAP values */
};

/**
 * A named member of an OBJECT shape. Member tables are sorted by name
 * (strcmp); @p name points into the schema's pool of names (see
 * ecsrev_canon__schema_names).
 */
struct ecsrev_canon__member {
    const char *name;
    const struct ecsrev_canon__shape *shape;
};

/** The ServiceRevision shape (generated table in revision_schema.c). */
const struct ecsrev_canon__shape *ecsrev_canon__revision_shape(void);

/**
 * The schema's pool of member names, [*base, *base + *size): each name is
 * preceded by its length (one byte) and followed by a NUL. The normalizer
 * points the names of known members there. Such names are plain ASCII
 * identifiers, so they need no escaping, and the pool is in RFC 8785 order,
 * so two of them compare as their addresses do.
 */
void ecsrev_canon__schema_names(const char **base, size_t *size);

/** The member @p name of OBJECT shape @p shape, or NULL if unknown. */
const struct ecsrev_canon__shape *
ecsrev_canon__member_shape(const struct ecsrev_canon__shape *shape, const char *name);

#endif
