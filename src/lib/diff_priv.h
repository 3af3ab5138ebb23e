/*
 * diff_priv.h - helpers shared by diff.c (engine, JSON Patch) and
 * diff_format.c (renderers). Private to the library.
 */
#ifndef ECSREV_DIFF_PRIV_H
#define ECSREV_DIFF_PRIV_H

#include <stddef.h>

#include <ecsrev/buf.h>
#include <ecsrev/diff.h>
#include <ecsrev/error.h>

#include <cjson/cJSON.h>

/**
 * Append @p item, a value taken from a canonical document, as canonical
 * (RFC 8785) JSON. Strings are written with ecsrev_canon__write_string().
 * @return 0 or ECSREV_EINVAL
 */
ECSREV_MUST_CHECK int ecsrev_diff__write_value(struct ecsrev_buf *out, const cJSON *item,
                                               struct ecsrev_error *err);

#endif
