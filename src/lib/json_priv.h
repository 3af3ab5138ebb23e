/*
 * json_priv.h - strict JSON parsing shared by library modules (private).
 *
 * cJSON alone accepts duplicate member names, invalid UTF-8 and unbounded
 * nesting; ecsrev_json__parse rejects all three and reports where
 * (line:column) the input went wrong.
 */
#ifndef ECSREV_JSON_PRIV_H
#define ECSREV_JSON_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <ecsrev/error.h>
#include <ecsrev/json.h>

#include <cjson/cJSON.h>

/**
 * Parse exactly one JSON value from @p data (whitespace around it allowed).
 * @param out owned tree, free with cJSON_Delete
 * @return 0, or ECSREV_EPARSE with a message such as
 *         "invalid JSON at line 3, column 14" / "duplicate member 'x' (line 2)" /
 *         "invalid UTF-8 at byte 17" / "nesting deeper than 64 (line 9)".
 */
ECSREV_MUST_CHECK int ecsrev_json__parse(cJSON **out, const char *data, size_t len,
                                         struct ecsrev_error *err);

/**
 * A bump allocator for parsed trees: a tree parsed into an arena costs a few
 * allocations instead of one per node and string, and freeing it costs
 * nothing. cJSON_Delete on such a tree (or on any part of it) is still
 * correct and frees only what was not allocated in the arena (nodes that
 * cJSON_Create* added later). Reset the arena only once every tree parsed
 * into it has been deleted or will not be touched again.
 */
struct ecsrev_json_arena;

/** A new, empty arena (never NULL: allocation failure aborts). */
struct ecsrev_json_arena *ecsrev_json_arena_new(void);

/** Forget every block of @p arena, keeping its largest chunk for reuse. */
void ecsrev_json_arena_reset(struct ecsrev_json_arena *arena);

/** Free @p arena and all its chunks (NULL is fine). */
void ecsrev_json_arena_free(struct ecsrev_json_arena *arena);

/**
 * Send every cJSON allocation of this thread to @p arena (cJSON_Create*,
 * the careful parser, printing) until ecsrev_json_arena_leave(). Meant for
 * a short stretch that parses, works on the tree and keeps nothing of it:
 * then ecsrev_json_arena_drop() frees the lot without walking it.
 * Without ecsrev_json_init()'s hooks this does nothing.
 * @return the arena entered before, to give to ecsrev_json_arena_leave()
 */
struct ecsrev_json_arena *ecsrev_json_arena_enter(struct ecsrev_json_arena *arena);

/** Stop sending allocations to the arena; @p prev is what _enter returned. */
void ecsrev_json_arena_leave(struct ecsrev_json_arena *prev);

/**
 * Free @p tree, made while @p arena was entered, and reset the arena. With
 * the hooks installed every block of the tree is in the arena, so this is
 * a reset; without them the tree is an ordinary one and is deleted.
 */
void ecsrev_json_arena_drop(struct ecsrev_json_arena *arena, cJSON *tree);

/**
 * ecsrev_json__parse, with the tree's nodes and strings allocated in
 * @p arena (when ecsrev_json_init() installed the hooks; otherwise, or with
 * a NULL arena, from the heap). Same checks, same trees, same messages.
 */
ECSREV_MUST_CHECK int ecsrev_json__parse_in(cJSON **out, const char *data, size_t len,
                                            struct ecsrev_json_arena *arena,
                                            struct ecsrev_error *err);

/**
 * The careful, check-by-check parser alone (what ecsrev_json__parse falls
 * back to when the fast path declines). For tests comparing the two.
 */
ECSREV_MUST_CHECK int ecsrev_json__parse_careful(cJSON **out, const char *data, size_t len,
                                                 struct ecsrev_error *err);

/**
 * Check that @p data is valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
 * @return 0, or ECSREV_EPARSE naming the byte offset.
 */
ECSREV_MUST_CHECK int ecsrev_json__check_utf8(const char *data, size_t len,
                                              struct ecsrev_error *err);

/**
 * Whether two trees are the same: types, member names, values (numbers bit
 * for bit, so -0 differs from 0), children in the same order, and cJSON's
 * list links (next/prev, first->prev == last) intact in both.
 */
bool ecsrev_json__same_tree(const cJSON *a, const cJSON *b);

/** "object", "array", "string", "number", "boolean" or "null". */
const char *ecsrev_json__type_name(const cJSON *item);

/**
 * Wipe every string of a parsed document (one that holds secrets, such as a
 * credentials answer) before cJSON_Delete. Iterative: bounded by
 * ECSREV_JSON_MAX_DEPTH, the parser's nesting cap.
 */
void ecsrev_json__wipe(const cJSON *root);

#endif
