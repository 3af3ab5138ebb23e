/*
 * json_priv.h - strict JSON parsing shared by library modules (private).
 *
 * cJSON alone accepts duplicate member names, invalid UTF-8 and unbounded
 * nesting; ecsrev_json__parse rejects all three and reports where
 * (line:column) the input went wrong.
 */
#ifndef ECSREV_JSON_PRIV_H
#define ECSREV_JSON_PRIV_H

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
 * Check that @p data is valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
 * @return 0, or ECSREV_EPARSE naming the byte offset.
 */
ECSREV_MUST_CHECK int ecsrev_json__check_utf8(const char *data, size_t len,
                                              struct ecsrev_error *err);

/** "object", "array", "string", "number", "boolean" or "null". */
const char *ecsrev_json__type_name(const cJSON *item);

#endif
