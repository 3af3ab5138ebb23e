/*
 * json.c - strict parsing on top of cJSON.
 *
 * Order of checks: UTF-8 first (cJSON does not validate it), then cJSON's
 * parser with a required null terminator and no trailing garbage, then a walk
 * for nesting depth and duplicate member names. Depth is also bounded before
 * cJSON runs (a scan of brackets outside strings), so hostile nesting never
 * reaches cJSON's recursion.
 */
#include "json_priv.h"

#include <ecsrev/buf.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static void *hook_malloc(size_t n)
{
    return ecsrev_xmalloc(n);
}

void ecsrev_json_init(void)
{
    cJSON_Hooks hooks = {hook_malloc, free};
    cJSON_InitHooks(&hooks);
}

int ecsrev_json__check_utf8(const char *data, size_t len, struct ecsrev_error *err)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path: eight bytes at a time while none has the top bit. */
        uint64_t word;
        while (len - i >= 8 &&
               (memcpy(&word, s + i, 8), (word & UINT64_C(0x8080808080808080)) == 0)) {
            i += 8;
        }
        if (i >= len) {
            break;
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return ecsrev_error_set(err, ECSREV_EPARSE, "invalid UTF-8 at byte %zu", i);
        }
        if (len - i <= n) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "truncated UTF-8 at byte %zu", i);
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return ecsrev_error_set(err, ECSREV_EPARSE, "invalid UTF-8 at byte %zu", i);
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        bool overlong = (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "invalid UTF-8 at byte %zu", i);
        }
        i += n + 1;
    }
    return 0;
}

static void position(const char *data, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (data[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/*
 * Bracket depth outside strings, so deep nesting never reaches cJSON.
 * *open tells whether the text ends inside a string or with brackets left
 * open (and none mismatched): then the input was cut short, not garbled.
 */
static int check_depth(const char *data, size_t len, bool *open, struct ecsrev_error *err)
{
    char stack[ECSREV_JSON_MAX_DEPTH];
    int depth = 0;
    bool in_str = false;
    bool mismatch = false;
    const unsigned char *u = (const unsigned char *)data;
    for (size_t i = 0; i < len; i++) {
        /* Skip the bytes that change nothing, a tight loop over most of the input. */
        if (in_str) {
            while (i < len && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
                i++;
            }
        } else {
            while (i < len && u[i] != '"' && u[i] != '[' && u[i] != '{' && u[i] != ']' &&
                   u[i] != '}') {
                i++;
            }
        }
        if (i >= len) {
            break;
        }
        char c = data[i];
        if (in_str) {
            if ((unsigned char)c < 0x20) {
                size_t line;
                size_t col;
                position(data, i, &line, &col);
                return ecsrev_error_set(
                    err, ECSREV_EPARSE,
                    "control character 0x%02x in a string (line %zu, column %zu)", (unsigned)c,
                    line, col);
            }
            if (c == '\\' && len - i >= 6 && memcmp(data + i + 1, "u0000", 5) == 0) {
                /* cJSON would silently cut the string at the NUL. */
                size_t line;
                size_t col;
                position(data, i, &line, &col);
                return ecsrev_error_set(err, ECSREV_EPARSE,
                                        "unsupported \\u0000 in a string (line %zu, column %zu)",
                                        line, col);
            }
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (depth >= ECSREV_JSON_MAX_DEPTH) {
                size_t line;
                size_t col;
                position(data, i, &line, &col);
                return ecsrev_error_set(err, ECSREV_EPARSE,
                                        "nesting deeper than %d (line %zu, column %zu)",
                                        ECSREV_JSON_MAX_DEPTH, line, col);
            }
            stack[depth++] = c == '[' ? ']' : '}';
        } else if (c == ']' || c == '}') {
            if (depth == 0 || stack[depth - 1] != c) {
                mismatch = true;
            } else {
                depth--;
            }
        }
    }
    *open = !mismatch && (in_str || depth > 0);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A duplicate member name of a small object, by comparing every pair; or NULL. */
static const char *duplicate_pairwise(const cJSON *obj)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        for (const cJSON *d = c->next; d != NULL; d = d->next) {
            if (strcmp(c->string, d->string) == 0) {
                return c->string;
            }
        }
    }
    return NULL;
}

/* A duplicate member name of an object with n members, by sorting; or NULL. */
static const char *duplicate_sorted(const cJSON *obj, size_t n)
{
    const char **names = ecsrev_xmalloc(n * sizeof(*names));
    size_t i = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        names[i++] = c->string;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    const char *dup = NULL;
    for (i = 1; i < n && dup == NULL; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            dup = names[i];
        }
    }
    free(names);
    return dup;
}

/* Duplicate member names of one object: pairwise when small, sorted when large. */
static const char *duplicate_member(const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        n++;
    }
    return n <= 16 ? duplicate_pairwise(obj) : duplicate_sorted(obj, n);
}

static int check_duplicates(const cJSON *item, struct ecsrev_error *err)
{
    if (cJSON_IsObject(item)) {
        const char *dup = duplicate_member(item);
        if (dup != NULL) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "duplicate member '%s'", dup);
        }
    }
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        int rc = check_duplicates(c, err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Messages may quote input (member names): keep them on one printable line. */
static int one_line(int rc, struct ecsrev_error *err)
{
    for (char *p = err != NULL ? err->msg : NULL; p != NULL && *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    return rc;
}

static int parse(cJSON **out, const char *data, size_t len, struct ecsrev_error *err);

int ecsrev_json__parse(cJSON **out, const char *data, size_t len, struct ecsrev_error *err)
{
    int rc = parse(out, data, len, err);
    return rc < 0 ? one_line(rc, err) : rc;
}

static int parse(cJSON **out, const char *data, size_t len, struct ecsrev_error *err)
{
    *out = NULL;
    int rc;
    if ((rc = ecsrev_json__check_utf8(data, len, err)) < 0) {
        return rc;
    }
    if (memchr(data, '\0', len) != NULL) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "NUL byte in JSON text");
    }
    bool open = false;
    if ((rc = check_depth(data, len, &open, err)) < 0) {
        return rc;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (doc == NULL) {
        size_t off = end != NULL && end >= data ? (size_t)(end - data) : 0;
        size_t line;
        size_t col;
        position(data, off > len ? len : off, &line, &col);
        if (off >= len || open) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "truncated JSON (line %zu, column %zu)",
                                    line, col);
        }
        return ecsrev_error_set(err, ECSREV_EPARSE, "invalid JSON at line %zu, column %zu", line,
                                col);
    }
    size_t off = (size_t)(end - data);
    while (off < len && strchr(" \t\r\n", data[off]) != NULL) {
        off++;
    }
    if (off < len) {
        size_t line;
        size_t col;
        position(data, off, &line, &col);
        cJSON_Delete(doc);
        return ecsrev_error_set(err, ECSREV_EPARSE,
                                "unexpected data after the JSON value at line %zu, column %zu",
                                line, col);
    }
    if ((rc = check_duplicates(doc, err)) < 0) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

const char *ecsrev_json__type_name(const cJSON *item)
{
    if (cJSON_IsObject(item)) {
        return "object";
    }
    if (cJSON_IsArray(item)) {
        return "array";
    }
    if (cJSON_IsString(item)) {
        return "string";
    }
    if (cJSON_IsNumber(item)) {
        return "number";
    }
    if (cJSON_IsBool(item)) {
        return "boolean";
    }
    return "null";
}
