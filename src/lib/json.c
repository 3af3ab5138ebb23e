/*
 * json.c - strict parsing on top of cJSON.
 *
 * Two parsers give the same trees. The fast one (fast_*) is a single pass
 * that checks everything the strict rules ask for (UTF-8, control
 * characters, \u0000, depth, RFC 8259 grammar) while it builds the cJSON
 * nodes, optionally out of an arena (struct ecsrev_json_arena) so that a
 * tree costs a few bump allocations and no frees. It reports no details: on
 * anything it does not accept, the text goes to the careful path, which runs
 * the checks one by one (UTF-8 first, then NUL bytes, then a scan for depth
 * and control characters, then cJSON's own parser, then trailing data) and
 * writes the message naming line and column. So messages, and the few
 * leniencies of cJSON (a byte-order mark, numbers such as "01" or "1."),
 * are exactly those of the careful path, and the fast path only has to be
 * right about what it accepts (tests/unit/test_json.c and the json fuzz
 * target compare both). Duplicate member names are checked on the finished
 * tree either way.
 *
 * Allocation hooks: every block cJSON gets from ecsrev_json_init()'s hooks
 * carries a 16-byte tag saying whether it is a malloc'd block or lives in an
 * arena, so cJSON_Delete works on any tree, and frees nothing of an arena's.
 */
#include "json_priv.h"

#include <ecsrev/buf.h>

#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- allocation: tagged blocks ---- */

#define TAG_HEAP UINT64_C(0x6865617065637372)  /* "rscepaeh" */
#define TAG_ARENA UINT64_C(0x6172656e61637372) /* "rscanera" */
#define TAG_SIZE ((size_t)16)                  /* keeps max_align_t alignment */

static bool s_hooks_installed;

struct ecsrev_json_arena;
static void *arena_alloc(struct ecsrev_json_arena *a, size_t n);

/* The arena that every cJSON allocation of this thread goes to, or NULL. */
static _Thread_local struct ecsrev_json_arena *s_current_arena;

static void *hook_malloc(size_t n)
{
    if (s_current_arena != NULL) {
        return arena_alloc(s_current_arena, n);
    }
    if (n > SIZE_MAX - TAG_SIZE) {
        return NULL;
    }
    unsigned char *p = ecsrev_xmalloc(n + TAG_SIZE);
    uint64_t tag = TAG_HEAP;
    memcpy(p, &tag, sizeof(tag));
    return p + TAG_SIZE;
}

static void hook_free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    unsigned char *p = (unsigned char *)ptr - TAG_SIZE;
    uint64_t tag;
    memcpy(&tag, p, sizeof(tag));
    if (tag == TAG_HEAP) {
        free(p);
    } else if (tag != TAG_ARENA) {
        abort(); /* not a block of ours: a double free or a wild pointer */
    }
}

void ecsrev_json_init(void)
{
    cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    s_hooks_installed = true;
}

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct ecsrev_json_arena {
    struct arena_chunk *head;
};

#define ARENA_FIRST_CHUNK ((size_t)64 * 1024)

struct ecsrev_json_arena *ecsrev_json_arena_new(void)
{
    return ecsrev_xcalloc(1, sizeof(struct ecsrev_json_arena));
}

void ecsrev_json_arena_reset(struct ecsrev_json_arena *a)
{
    if (a == NULL || a->head == NULL) {
        return;
    }
    /* Keep the newest chunk (the largest: sizes only grow), free the rest. */
    struct arena_chunk *keep = a->head;
    for (struct arena_chunk *c = keep->next; c != NULL;) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

void ecsrev_json_arena_free(struct ecsrev_json_arena *a)
{
    if (a == NULL) {
        return;
    }
    for (struct arena_chunk *c = a->head; c != NULL;) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

struct ecsrev_json_arena *ecsrev_json_arena_enter(struct ecsrev_json_arena *a)
{
    struct ecsrev_json_arena *prev = s_current_arena;
    s_current_arena = s_hooks_installed ? a : NULL;
    return prev;
}

void ecsrev_json_arena_leave(struct ecsrev_json_arena *prev)
{
    s_current_arena = prev;
}

void ecsrev_json_arena_drop(struct ecsrev_json_arena *a, cJSON *tree)
{
    if (!s_hooks_installed) {
        cJSON_Delete(tree); /* nothing went into the arena: plain heap trees */
    }
    ecsrev_json_arena_reset(a);
}

/* A tagged block of @p n bytes from the arena (never NULL: aborts on OOM). */
static void *arena_alloc(struct ecsrev_json_arena *a, size_t n)
{
    size_t need = TAG_SIZE + ((n + 15) & ~(size_t)15);
    struct arena_chunk *c = a->head;
    if (c == NULL || c->size - c->used < need) {
        size_t size = c != NULL ? c->size * 2 : ARENA_FIRST_CHUNK;
        while (size < need) {
            size *= 2;
        }
        struct arena_chunk *fresh = ecsrev_xmalloc(sizeof(*fresh) + size);
        fresh->next = c;
        fresh->size = size;
        fresh->used = 0;
        a->head = c = fresh;
    }
    unsigned char *p = c->data + c->used;
    c->used += need;
    uint64_t tag = TAG_ARENA;
    memcpy(p, &tag, sizeof(tag));
    return p + TAG_SIZE;
}

/* Continuation bytes a UTF-8 sequence starting with @p c has (1-3), or 0 if none starts so. */
static size_t utf8_tail(unsigned c)
{
    return c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
}

/*
 * Length of the valid UTF-8 sequence at @p s (lead byte >= 0x80), or 0: no
 * overlongs, surrogates or code points above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
    size_t n = utf8_tail(s[0]);
    if (n == 0 || (size_t)(end - s) <= n) {
        return 0;
    }
    uint32_t cp = s[0] & (n == 1 ? 0x1fu : n == 2 ? 0x0fu : 0x07u);
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    bool overlong = (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n + 1;
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
        size_t n = utf8_tail(c);
        if (n != 0 && len - i <= n) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "truncated UTF-8 at byte %zu", i);
        }
        size_t seq = utf8_seq(s + i, s + len);
        if (seq == 0) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "invalid UTF-8 at byte %zu", i);
        }
        i += seq;
    }
    return 0;
}

static int hex4(const unsigned char *s);

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
            if (c == '\\' && len - i >= 2 && data[i + 1] == 'u' &&
                (len - i < 6 || hex4((const unsigned char *)data + i + 2) < 0)) {
                /* cJSON would read a bad \u escape as U+0000 and cut the string there. */
                size_t line;
                size_t col;
                position(data, i, &line, &col);
                return ecsrev_error_set(err, ECSREV_EPARSE,
                                        "invalid \\u escape in a string (line %zu, column %zu)",
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

/* ---- the fast path ---- */

struct fast {
    const unsigned char *p;
    const unsigned char *end;
    struct ecsrev_json_arena *arena; /* NULL: blocks from cJSON's hooks */
    int depth;
};

static void *fast_alloc(struct fast *f, size_t n)
{
    return f->arena != NULL ? arena_alloc(f->arena, n) : cJSON_malloc(n);
}

static cJSON *fast_node(struct fast *f, int type)
{
    cJSON *item = fast_alloc(f, sizeof(*item));
    if (item != NULL) {
        memset(item, 0, sizeof(*item));
        item->type = type;
    }
    return item;
}

static void fast_ws(struct fast *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t')) {
        f->p++;
    }
}

static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = ecsrev_hex_digit((char)s[i]);
        if (d < 0) {
            return -1;
        }
        v = (v << 4) | d;
    }
    return v;
}

static size_t put_utf8(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The byte a one-letter escape stands for ('"', '\\', '/', b, f, n, r, t). */
static unsigned char simple_escape(unsigned char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c;
    }
}

/* Decode the \uXXXX (or surrogate pair) after "\u" at @p s into @p o; *used: input bytes. */
static size_t unescape_u(unsigned char *o, const unsigned char *s, size_t *used)
{
    uint32_t cp = (uint32_t)hex4(s);
    *used = 4;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(s + 6) - 0xdc00);
        *used = 10;
    }
    return put_utf8(o, cp);
}

/* Decode the escapes of a string body (already checked) into @p o. */
static size_t unescape(unsigned char *o, const unsigned char *s, const unsigned char *e)
{
    size_t n = 0;
    while (s < e) {
        if (*s != '\\') {
            o[n++] = *s++;
        } else if (s[1] == 'u') {
            size_t used;
            n += unescape_u(o + n, s + 2, &used);
            s += 2 + used;
        } else {
            o[n++] = simple_escape(s[1]);
            s += 2;
        }
    }
    return n;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The bytes among the 8 at @p s that end a plain run (< 0x20, >= 0x80, '"'
 * or '\\'), as their top bits; 0 when there are none (SWAR). Borrows only
 * carry upwards from a flagged byte, so the lowest flag is always exact.
 */
static uint64_t special8(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof(w));
    uint64_t quote = w ^ (ONES * '"');
    uint64_t bslash = w ^ (ONES * '\\');
    /* a byte b is zero / below 0x20 when (b - k) borrows into its top bit */
    uint64_t t =
        ((quote - ONES) & ~quote) | ((bslash - ONES) & ~bslash) | ((w - ONES * 0x20) & ~w) | w;
    return t & HIGHS;
}

/* Step f->p over plain string bytes. */
static void skip_plain(struct fast *f)
{
    while (f->end - f->p >= 8) {
        uint64_t m = special8(f->p);
        if (m != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            f->p += (unsigned)__builtin_ctzll(m) >> 3; /* the first byte in memory is lowest */
            return;
#else
            break;
#endif
        }
        f->p += 8;
    }
    while (f->p < f->end && *f->p >= 0x20 && *f->p < 0x80 && *f->p != '"' && *f->p != '\\') {
        f->p++;
    }
}

/*
 * Step f->p over the escape at it (a backslash): false for an unknown
 * escape, bad hex, \u0000 or an unpaired surrogate.
 */
static bool skip_escape(struct fast *f)
{
    if (f->end - f->p < 2) {
        return false;
    }
    unsigned char e = f->p[1];
    if (e != 'u') {
        f->p += 2;
        return e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
               e == 't';
    }
    int cp = f->end - f->p >= 6 ? hex4(f->p + 2) : -1;
    if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff)) {
        return false; /* bad hex, \u0000 or a lone low surrogate */
    }
    f->p += 6;
    if (cp < 0xd800 || cp > 0xdbff) {
        return true;
    }
    int lo = f->end - f->p >= 6 && f->p[0] == '\\' && f->p[1] == 'u' ? hex4(f->p + 2) : -1;
    f->p += 6;
    return lo >= 0xdc00 && lo <= 0xdfff;
}

/*
 * A string at f->p (the opening quote): a new NUL-terminated copy, or NULL.
 * Rejects raw control characters, invalid UTF-8, unknown escapes, \u0000 and
 * unpaired surrogates.
 */
static char *fast_string(struct fast *f, size_t *len_out)
{
    const unsigned char *s = ++f->p;
    bool escapes = false;
    for (;;) {
        skip_plain(f);
        if (f->p >= f->end) {
            return NULL;
        }
        unsigned char c = *f->p;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return NULL;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(f->p, f->end);
            if (n == 0) {
                return NULL;
            }
            f->p += n;
            continue;
        }
        /* a backslash */
        escapes = true;
        if (!skip_escape(f)) {
            return NULL;
        }
    }
    size_t raw = (size_t)(f->p - s);
    unsigned char *out = fast_alloc(f, raw + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t n = escapes ? unescape(out, s, f->p) : (memcpy(out, s, raw), raw);
    out[n] = '\0';
    *len_out = n;
    f->p++; /* the closing quote */
    return (char *)out;
}

/* An RFC 8259 number into @p item; false if not one (or a very long one). */
static bool fast_number(struct fast *f, cJSON *item)
{
    const unsigned char *s = f->p;
    const unsigned char *q = s;
    if (q < f->end && *q == '-') {
        q++;
    }
    if (q >= f->end || *q < '0' || *q > '9') {
        return false;
    }
    bool integral = true;
    uint64_t mant = 0;
    size_t digits = 0;
    if (*q == '0') {
        q++;
    } else {
        while (q < f->end && *q >= '0' && *q <= '9') {
            mant = mant * 10 + (uint64_t)(*q++ - '0');
            digits++;
            if (digits > 18) {
                integral = false; /* keep going, strtod decides */
            }
        }
    }
    if (q < f->end && *q == '.') {
        integral = false;
        q++;
        if (q >= f->end || *q < '0' || *q > '9') {
            return false;
        }
        while (q < f->end && *q >= '0' && *q <= '9') {
            q++;
        }
    }
    if (q < f->end && (*q == 'e' || *q == 'E')) {
        integral = false;
        q++;
        if (q < f->end && (*q == '+' || *q == '-')) {
            q++;
        }
        if (q >= f->end || *q < '0' || *q > '9') {
            return false;
        }
        while (q < f->end && *q >= '0' && *q <= '9') {
            q++;
        }
    }
    size_t len = (size_t)(q - s);
    /* numbers over 63 characters (never seen in practice) go the careful way */
    if (len > 63 || (q < f->end && (*q == '+' || *q == '-' || *q == '.' || *q == 'e' || *q == 'E' ||
                                    (*q >= '0' && *q <= '9')))) {
        return false;
    }
    double v;
    if (integral && mant <= (UINT64_C(1) << 53)) {
        v = (double)mant; /* exact, as strtod would give */
        if (*s == '-') {
            v = -v;
        }
    } else {
        char text[64];
        memcpy(text, s, len);
        text[len] = '\0';
        v = strtod(text, NULL);
    }
    item->valuedouble = v;
    if (v >= (double)INT_MAX) {
        item->valueint = INT_MAX;
    } else if (v <= (double)INT_MIN) {
        item->valueint = INT_MIN;
    } else {
        item->valueint = (int)v;
    }
    f->p = q;
    return true;
}

static bool fast_literal(struct fast *f, const char *word, size_t n)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0) {
        return false;
    }
    f->p += n;
    return true;
}

static cJSON *fast_value(struct fast *f);

/* Append @p item to @p parent's children (cJSON keeps the last in child->prev). */
static void fast_link(cJSON *parent, cJSON *item)
{
    cJSON *first = parent->child;
    if (first == NULL) {
        parent->child = item;
        item->prev = item;
    } else {
        cJSON *last = first->prev;
        last->next = item;
        item->prev = last;
        first->prev = item;
    }
}

/* Members compared pairwise for duplicates; larger objects are sorted at the end. */
#define SMALL_OBJECT 16

/* A cheap summary of a member name: equal names, equal summaries. */
static uint64_t name_sig(const char *s, size_t n)
{
    uint64_t head = 0;
    uint64_t tail = 0;
    memcpy(&head, s, n < 8 ? n : 8);
    memcpy(&tail, s + (n < 8 ? 0 : n - 8), n < 8 ? n : 8);
    return head ^ ((tail << 29) | (tail >> 35)) ^ ((uint64_t)n * UINT64_C(0x9e3779b97f4a7c15));
}

/*
 * A member name and its colon at f->p; false if not there or a duplicate of
 * one of the first SMALL_OBJECT names (@p sigs / @p names, @p members so far).
 */
static char *fast_member_name(struct fast *f, uint64_t *sigs, const char **names, size_t members)
{
    size_t n;
    char *name = NULL;
    if (f->p >= f->end || *f->p != '"' || (name = fast_string(f, &n)) == NULL) {
        return NULL;
    }
    if (members < SMALL_OBJECT) {
        uint64_t sig = name_sig(name, n);
        for (size_t k = 0; k < members; k++) {
            if (sigs[k] == sig && strcmp(names[k], name) == 0) {
                cJSON_free(name);
                return NULL; /* a duplicate: the careful path names it */
            }
        }
        sigs[members] = sig;
        names[members] = name;
    }
    fast_ws(f);
    if (f->p >= f->end || *f->p != ':') {
        cJSON_free(name);
        return NULL;
    }
    f->p++;
    fast_ws(f);
    return name;
}

/*
 * Elements or members up to the closing bracket; false on any error,
 * a duplicate member name included.
 */
static bool fast_container(struct fast *f, cJSON *item, bool object)
{
    unsigned char close = object ? '}' : ']';
    uint64_t sigs[SMALL_OBJECT];
    const char *names[SMALL_OBJECT];
    size_t members = 0;
    if (++f->depth > ECSREV_JSON_MAX_DEPTH) {
        return false;
    }
    f->p++;
    fast_ws(f);
    if (f->p < f->end && *f->p == close) {
        f->p++;
        f->depth--;
        return true;
    }
    for (;;) {
        char *name = NULL;
        if (object && (name = fast_member_name(f, sigs, names, members++)) == NULL) {
            return false;
        }
        cJSON *child = fast_value(f);
        if (child == NULL) {
            cJSON_free(name);
            return false;
        }
        child->string = name;
        fast_link(item, child);
        fast_ws(f);
        if (f->p >= f->end) {
            return false;
        }
        if (*f->p == ',') {
            f->p++;
            fast_ws(f);
            continue;
        }
        if (*f->p != close) {
            return false;
        }
        f->p++;
        f->depth--;
        return members <= SMALL_OBJECT || duplicate_member(item) == NULL;
    }
}

/* One value at f->p (no leading whitespace): a new node, or NULL. */
static cJSON *fast_value(struct fast *f)
{
    if (f->p >= f->end) {
        return NULL;
    }
    cJSON *item = NULL;
    bool ok = false;
    switch (*f->p) {
    case '{':
    case '[':
        if ((item = fast_node(f, *f->p == '{' ? cJSON_Object : cJSON_Array)) != NULL) {
            ok = fast_container(f, item, *f->p == '{');
        }
        break;
    case '"':
        if ((item = fast_node(f, cJSON_String)) != NULL) {
            size_t n;
            ok = (item->valuestring = fast_string(f, &n)) != NULL;
        }
        break;
    case 't':
        ok = fast_literal(f, "true", 4) && (item = fast_node(f, cJSON_True)) != NULL;
        if (ok) {
            item->valueint = 1; /* as cJSON sets it */
        }
        break;
    case 'f':
        ok = fast_literal(f, "false", 5) && (item = fast_node(f, cJSON_False)) != NULL;
        break;
    case 'n':
        ok = fast_literal(f, "null", 4) && (item = fast_node(f, cJSON_NULL)) != NULL;
        break;
    default:
        if ((item = fast_node(f, cJSON_Number)) != NULL) {
            ok = fast_number(f, item);
        }
        break;
    }
    if (!ok) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

/* The whole text as one value, or NULL for "let the careful path say why". */
static cJSON *fast_parse(const char *data, size_t len, struct ecsrev_json_arena *arena)
{
    struct fast f = {(const unsigned char *)data, (const unsigned char *)data + len,
                     s_hooks_installed ? arena : NULL, 0};
    fast_ws(&f);
    cJSON *doc = fast_value(&f);
    if (doc == NULL) {
        return NULL;
    }
    fast_ws(&f);
    if (f.p != f.end) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static int parse(cJSON **out, const char *data, size_t len, struct ecsrev_error *err);

int ecsrev_json__parse_in(cJSON **out, const char *data, size_t len,
                          struct ecsrev_json_arena *arena, struct ecsrev_error *err)
{
    cJSON *doc = fast_parse(data, len, arena);
    if (doc != NULL) {
        *out = doc; /* duplicates were checked on the way */
        return 0;
    }
    int rc = parse(out, data, len, err);
    return rc < 0 ? one_line(rc, err) : rc;
}

int ecsrev_json__parse(cJSON **out, const char *data, size_t len, struct ecsrev_error *err)
{
    return ecsrev_json__parse_in(out, data, len, NULL, err);
}

/* The careful path alone (for tests that compare both). */
int ecsrev_json__parse_careful(cJSON **out, const char *data, size_t len, struct ecsrev_error *err)
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

/* Bit-for-bit equality of two doubles (-0 and 0 differ). */
static bool same_bits(double a, double b)
{
    uint64_t x;
    uint64_t y;
    memcpy(&x, &a, sizeof(x));
    memcpy(&y, &b, sizeof(y));
    return x == y;
}

static bool same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool ecsrev_json__same_tree(const cJSON *a, const cJSON *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    if ((a->type & 0xff) != (b->type & 0xff) || !same_string(a->string, b->string) ||
        !same_string(a->valuestring, b->valuestring) || a->valueint != b->valueint ||
        !same_bits(a->valuedouble, b->valuedouble)) {
        return false;
    }
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    if (x != NULL && y != NULL) {
        /* cJSON's list invariant: the first child's prev is the last one */
        const cJSON *xl = x;
        const cJSON *yl = y;
        while (xl->next != NULL) {
            xl = xl->next;
        }
        while (yl->next != NULL) {
            yl = yl->next;
        }
        if (x->prev != xl || y->prev != yl) {
            return false;
        }
    }
    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (!ecsrev_json__same_tree(x, y) || (x->next != NULL && x->next->prev != x) ||
            (y->next != NULL && y->next->prev != y)) {
            return false;
        }
    }
    return x == NULL && y == NULL;
}
