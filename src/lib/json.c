/*
 * json.c - strict parsing on top of cJSON.
 *
 * Two parsers give the same trees. The fast one (fast_*) is a single pass
 * that checks everything the strict rules ask for (UTF-8, control
 * characters, \u0000, depth, RFC 8259 grammar, duplicate member names)
 * while it builds the cJSON nodes, optionally out of an arena (struct
 * ecsrev_json_arena) so that a tree costs a few bump allocations and no
 * frees. It reports no details: on anything it does not accept, the text
 * goes to the careful path, which runs the checks one by one (UTF-8 first,
 * then NUL bytes, then a scan for depth and control characters, then
 * cJSON's own parser, then trailing data, then duplicates on the finished
 * tree) and writes the message naming line and column. So messages, and
 * the few leniencies of cJSON (a byte-order mark, numbers such as "01" or
 * "1."), are exactly those of the careful path, and the fast path only has
 * to be right about what it accepts (tests/unit/test_json.c and the json
 * fuzz target compare both).
 *
 * Where the fast path spends its time is per string and per node, so: the
 * arena's free space is kept in struct fast and bumped in line; a plain
 * string (ASCII, no escapes) is copied into the arena while it is scanned,
 * 16 bytes at a time with SSE2 (8 with SWAR elsewhere); whitespace is
 * tested one byte before looping; member names are summarised (name_sig)
 * and a 64-bit filter skips most comparisons; numbers with at most 53 bits
 * of digits are converted exactly without strtod.
 *
 * Allocation hooks: every block cJSON gets from ecsrev_json_init()'s hooks
 * carries a 16-byte tag saying whether it is a malloc'd block or lives in an
 * arena, so cJSON_Delete works on any tree, and frees nothing of an arena's.
 */
#include "json_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/crypto.h>

#include <float.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/*
 * The fast parser's state. Arena blocks are bumped off the current chunk's
 * free space, kept here ([bump, bump + room)) and given back to the chunk
 * when the parse ends; without an arena room stays 0 and every block comes
 * from cJSON's hooks.
 */
struct fast {
    const unsigned char *p;
    const unsigned char *end;
    unsigned char *bump;
    size_t room;
    struct ecsrev_json_arena *arena;
    int depth;
};

#define ROUND16(n) (((n) + 15) & ~(size_t)15)
#define NODE_SIZE ROUND16(sizeof(cJSON))

/* Take the free space of the arena's current chunk. */
static void fast_take(struct fast *f)
{
    struct arena_chunk *c = f->arena != NULL ? f->arena->head : NULL;
    f->bump = c != NULL ? c->data + c->used : NULL;
    f->room = c != NULL ? c->size - c->used : 0;
}

/* Give the unused space back to the chunk. */
static void fast_give(struct fast *f)
{
    if (f->bump != NULL) {
        struct arena_chunk *c = f->arena->head;
        c->used = (size_t)(f->bump - c->data);
    }
}

/* fast_alloc when the current chunk is full (or there is no arena). */
static void *fast_alloc_slow(struct fast *f, size_t n)
{
    if (f->arena == NULL) {
        return cJSON_malloc(n);
    }
    fast_give(f);
    void *p = arena_alloc(f->arena, n); /* starts a new chunk */
    fast_take(f);
    return p;
}

/*
 * A tagged block of @p n bytes (a multiple of 16, so that strings can be
 * copied and read 16 or 8 bytes at a time); NULL only when malloc fails
 * without ecsrev_json_init()'s hooks.
 */
static inline void *fast_alloc(struct fast *f, size_t n)
{
    if (f->room >= TAG_SIZE + n) {
        unsigned char *p = f->bump;
        uint64_t tag = TAG_ARENA;
        memcpy(p, &tag, sizeof(tag));
        f->bump += TAG_SIZE + n;
        f->room -= TAG_SIZE + n;
        return p + TAG_SIZE;
    }
    return fast_alloc_slow(f, n);
}

/* Skip whitespace; the byte at f->p then, or -1 at the end of the text. */
static int fast_skip_ws(struct fast *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t')) {
        f->p++;
    }
    return f->p < f->end ? *f->p : -1;
}

/* The next byte that is not whitespace (most text is compact: test one first). */
static inline int fast_peek(struct fast *f)
{
    if (f->p<f->end && * f->p> ' ') {
        return *f->p;
    }
    return fast_skip_ws(f);
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

/*
 * Strings are scanned a chunk at a time: special_bits() flags the bytes of
 * a chunk that end a plain run ('"', '\\', < 0x20 or >= 0x80), and
 * first_special() says where the first of them is.
 */
#if defined(__SSE2__)
#define SCAN_CHUNK 16

/* Byte i of the 16 at @p s as bit i (the signed comparison with 0x20 also takes >= 0x80). */
static inline uint64_t special_bits(const unsigned char *s)
{
    __m128i x = _mm_loadu_si128((const void *)s);
    __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i bslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i low = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, bslash), low));
}

/* The offset of the first flagged byte of the chunk @p s (@p m, not 0). */
static inline size_t first_special(const unsigned char *s, uint64_t m)
{
    (void)s;
    return (size_t)__builtin_ctzll(m);
}
#else
#define SCAN_CHUNK 8
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The flagged bytes among the 8 at @p s as their top bits; 0 when there are
 * none (SWAR). Borrows only carry upwards from a flagged byte, so the
 * lowest flag is always exact.
 */
static inline uint64_t special_bits(const unsigned char *s)
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

/* The offset of the first flagged byte of the chunk @p s (@p m, not 0). */
static inline size_t first_special(const unsigned char *s, uint64_t m)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)s;
    return (size_t)__builtin_ctzll(m) >> 3; /* the first byte in memory is lowest */
#else
    (void)m;
    size_t k = 0;
    while (s[k] >= 0x20 && s[k] < 0x80 && s[k] != '"' && s[k] != '\\') {
        k++;
    }
    return k;
#endif
}
#endif

/* Step f->p over plain string bytes. */
static inline void skip_plain(struct fast *f)
{
    while (f->end - f->p >= SCAN_CHUNK) {
        uint64_t m = special_bits(f->p);
        if (m != 0) {
            f->p += first_special(f->p, m);
            return;
        }
        f->p += SCAN_CHUNK;
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
 * Step f->p over the byte @p c at it that ended a plain run and is not the
 * closing quote: a UTF-8 sequence or an escape (then *escapes is set).
 * False if it is neither valid nor allowed.
 */
static bool skip_special(struct fast *f, unsigned char c, bool *escapes)
{
    if (c < 0x20) {
        return false;
    }
    if (c >= 0x80) {
        size_t n = utf8_seq(f->p, f->end);
        f->p += n;
        return n != 0;
    }
    *escapes = true;
    return skip_escape(f);
}

/*
 * Step f->p from the first byte of a string's body to its closing quote,
 * checking the body: false on raw control characters, invalid UTF-8,
 * unknown escapes, \u0000, unpaired surrogates or the end of the text.
 */
static inline bool fast_scan(struct fast *f, bool *escapes)
{
    for (;;) {
        skip_plain(f);
        if (f->p >= f->end) {
            return false;
        }
        unsigned char c = *f->p;
        if (c == '"') {
            return true;
        }
        if (!skip_special(f, c, escapes)) {
            return false;
        }
    }
}

/*
 * The checked string body [s, e) as a new NUL-terminated block, decoded
 * when it has @p escapes; *len: its length. NULL only on malloc failure.
 */
static inline char *fast_copy(struct fast *f, const unsigned char *s, const unsigned char *e,
                              bool escapes, size_t *len)
{
    size_t raw = (size_t)(e - s);
    size_t size = ROUND16(raw + 1);
    unsigned char *out = fast_alloc(f, size);
    if (out == NULL) {
        return NULL;
    }
    if (escapes) {
        raw = unescape(out, s, e);
    } else if ((size_t)(f->end - s) >= size) {
        for (size_t i = 0; i < raw; i += 16) {
            memcpy(out + i, s + i, 16); /* the block has room, the text has bytes */
        }
    } else {
        memcpy(out, s, raw);
    }
    out[raw] = '\0';
    *len = raw;
    return (char *)out;
}

/*
 * The common string, ASCII without escapes, copied into the arena while it
 * is scanned (f->p: its first byte). The chunk is only taken once the
 * closing quote is found; NULL with f->p unchanged for any other string,
 * without an arena or when the chunk or the text ends first: then
 * fast_string_body scans and copies in two passes.
 */
static inline char *fast_plain_copy(struct fast *f, size_t *len)
{
    if (f->room < TAG_SIZE + SCAN_CHUNK) {
        return NULL;
    }
    const unsigned char *s = f->p;
    unsigned char *out = f->bump + TAG_SIZE;
    size_t text = (size_t)(f->end - s);
    size_t lim = text < f->room - TAG_SIZE ? text : f->room - TAG_SIZE;
    for (size_t i = 0; lim - i >= SCAN_CHUNK; i += SCAN_CHUNK) {
        uint64_t m = special_bits(s + i);
        memcpy(out + i, s + i, SCAN_CHUNK);
        if (m == 0) {
            continue;
        }
        size_t n = i + first_special(s + i, m);
        if (s[n] != '"') {
            return NULL;
        }
        /* room is a multiple of 16 and >= TAG_SIZE + i + SCAN_CHUNK, so the block fits */
        size_t need = TAG_SIZE + ROUND16(n + 1);
        uint64_t tag = TAG_ARENA;
        memcpy(f->bump, &tag, sizeof(tag));
        f->bump += need;
        f->room -= need;
        out[n] = '\0';
        *len = n;
        f->p = s + n + 1;
        return (char *)out;
    }
    return NULL;
}

/* Any string body at f->p, scanned then copied; f->p ends past the closing quote. */
static char *fast_string_slow(struct fast *f, size_t *len)
{
    const unsigned char *s = f->p;
    bool escapes = false;
    if (!fast_scan(f, &escapes)) {
        return NULL;
    }
    char *out = fast_copy(f, s, f->p, escapes, len);
    f->p++; /* the closing quote */
    return out;
}

/*
 * The string body at f->p (after the opening quote) as a new checked,
 * decoded, NUL-terminated block; *len: its length. f->p ends past the
 * closing quote. NULL if the string is not valid.
 */
static inline char *fast_string_body(struct fast *f, size_t *len)
{
    char *out = fast_plain_copy(f, len);
    return out != NULL ? out : fast_string_slow(f, len);
}

/*
 * Step *q over decimal digits, appending them to *mant, which sticks at
 * UINT64_MAX once it is too large to be exact anyway. @return how many.
 */
static inline size_t fast_digits(const unsigned char **q, const unsigned char *end, uint64_t *mant)
{
    const unsigned char *p = *q;
    uint64_t m = *mant;
    while (p < end && *p >= '0' && *p <= '9') {
        m = m < UINT64_C(100000000000000000) ? m * 10 + (uint64_t)(*p - '0') : UINT64_MAX;
        p++;
    }
    size_t n = (size_t)(p - *q);
    *q = p;
    *mant = m;
    return n;
}

/* Powers of ten that a double holds exactly. */
static const double s_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * The value of the number text [s, s + len): exact without strtod when the
 * digits (@p mant, @p frac of them after the point, no exponent) fit in 53
 * bits and 10^frac is exact, since one correctly rounded division then
 * gives what strtod gives.
 */
static double fast_number_value(const unsigned char *s, size_t len, uint64_t mant, size_t frac,
                                bool exact)
{
#if FLT_EVAL_METHOD != 0
    exact = exact && frac == 0; /* wider intermediates could round twice */
#endif
    if (exact && mant <= (UINT64_C(1) << 53) && frac < sizeof(s_pow10) / sizeof(s_pow10[0])) {
        double v = (double)mant / s_pow10[frac];
        return *s == '-' ? -v : v;
    }
    char text[64];
    memcpy(text, s, len);
    text[len] = '\0';
    return strtod(text, NULL);
}

/* An RFC 8259 number into @p item; false if not one (or a very long one). */
static bool fast_number(struct fast *f, cJSON *item)
{
    const unsigned char *s = f->p;
    const unsigned char *q = s < f->end && *s == '-' ? s + 1 : s;
    uint64_t mant = 0;
    size_t whole = fast_digits(&q, f->end, &mant);
    if (whole == 0 || (whole > 1 && q[-(ptrdiff_t)whole] == '0')) {
        return false; /* none, or a leading zero (cJSON's leniency: the careful path) */
    }
    size_t frac = 0;
    if (q < f->end && *q == '.') {
        q++;
        if ((frac = fast_digits(&q, f->end, &mant)) == 0) {
            return false;
        }
    }
    bool exponent = q < f->end && (*q == 'e' || *q == 'E');
    if (exponent) {
        q += q + 1 < f->end && (q[1] == '+' || q[1] == '-') ? 2 : 1;
        uint64_t ignored = 0;
        if (fast_digits(&q, f->end, &ignored) == 0) {
            return false;
        }
    }
    size_t len = (size_t)(q - s);
    /* numbers over 63 characters (never seen in practice) go the careful way */
    if (len > 63 ||
        (q < f->end && (*q == '+' || *q == '-' || *q == '.' || *q == 'e' || *q == 'E'))) {
        return false;
    }
    double v = fast_number_value(s, len, mant, frac, !exponent);
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

static inline bool fast_literal(struct fast *f, const char *word, size_t n)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0) {
        return false;
    }
    f->p += n;
    return true;
}

/*
 * A new empty node appended to @p parent's children after @p last (NULL:
 * it is the first). Linked before it is filled, so that a failed parse
 * leaves one tree for cJSON_Delete. NULL only on malloc failure.
 */
static inline cJSON *fast_child(struct fast *f, cJSON *parent, cJSON *last)
{
    cJSON *item = fast_alloc(f, NODE_SIZE);
    if (item == NULL) {
        return NULL;
    }
    memset(item, 0, sizeof(*item));
    if (last == NULL) {
        parent->child = item;
    } else {
        last->next = item;
        item->prev = last;
    }
    parent->child->prev = item; /* cJSON keeps the last child in first->prev */
    return item;
}

/* Members checked for duplicates on the way; larger objects are sorted at the end. */
#define SMALL_OBJECT 32

/* The member names of one object so far, as summaries (equal names, equal summaries). */
struct fast_names {
    uint64_t bloom; /* one bit per summary, to skip most comparisons */
    size_t count;
    uint64_t sigs[SMALL_OBJECT];
};

/* The @p n bytes at @p s (n < 8) as an 8-byte load would give them, the rest zero. */
static inline uint64_t low_bytes_mask(size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return ~(UINT64_MAX >> (8 * n));
#else
    return (UINT64_C(1) << (8 * n)) - 1;
#endif
}

/*
 * A cheap summary of the member name @p s (n bytes, in a block of at least
 * 16: see fast_copy): its length, first and last eight bytes.
 */
static inline uint64_t name_sig(const char *s, size_t n)
{
    uint64_t head;
    uint64_t tail;
    memcpy(&head, s, 8);
    if (n < 8) {
        head &= low_bytes_mask(n);
        tail = head;
    } else {
        memcpy(&tail, s + n - 8, 8);
    }
    return head ^ ((tail << 29) | (tail >> 35)) ^ ((uint64_t)n * UINT64_C(0x9e3779b97f4a7c15));
}

/*
 * Whether the name of @p item (the newest member of @p obj, @p n bytes) is
 * none of the earlier ones. Past SMALL_OBJECT members it says yes: the
 * caller checks the whole object at its end.
 */
static bool fast_unique(struct fast_names *names, const cJSON *obj, const cJSON *item, size_t n)
{
    if (names->count >= SMALL_OBJECT) {
        names->count++;
        return true;
    }
    uint64_t sig = name_sig(item->string, n);
    uint64_t bit = UINT64_C(1) << ((sig * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
    bool maybe = false;
    for (size_t k = 0; (names->bloom & bit) != 0 && k < names->count && !maybe; k++) {
        maybe = names->sigs[k] == sig;
    }
    for (const cJSON *c = obj->child; maybe && c != item; c = c->next) {
        if (strcmp(c->string, item->string) == 0) {
            return false; /* a duplicate: the careful path names it */
        }
    }
    names->bloom |= bit;
    names->sigs[names->count++] = sig;
    return true;
}

/*
 * A member name and its colon at f->p (after whitespace): a new child of
 * @p obj after @p last, named, not yet filled; NULL if the name or the colon
 * is not there or the name is a duplicate.
 */
static cJSON *fast_member(struct fast *f, cJSON *obj, cJSON *last, struct fast_names *names)
{
    if (fast_peek(f) != '"') {
        return NULL;
    }
    f->p++;
    size_t n = 0;
    char *name = fast_string_body(f, &n);
    if (name == NULL) {
        return NULL;
    }
    cJSON *item = fast_child(f, obj, last);
    if (item == NULL) {
        cJSON_free(name);
        return NULL;
    }
    item->string = name;
    if (!fast_unique(names, obj, item, n) || fast_peek(f) != ':') {
        return NULL;
    }
    f->p++;
    return item;
}

/* The string value at f->p (the opening quote) into @p item. */
static inline bool fast_string(struct fast *f, cJSON *item)
{
    item->type = cJSON_String;
    f->p++;
    size_t n;
    item->valuestring = fast_string_body(f, &n);
    return item->valuestring != NULL;
}

static bool fast_fill(struct fast *f, cJSON *item, int c);

/* fast_fill with the most common value, a string, handled in line. */
static inline bool fast_value(struct fast *f, cJSON *item, int c)
{
    return c == '"' ? fast_string(f, item) : fast_fill(f, item, c);
}

/* The members of the object at f->p ('{') into @p obj; false on any error. */
static bool fast_object(struct fast *f, cJSON *obj)
{
    struct fast_names names;
    names.bloom = 0;
    names.count = 0;
    if (++f->depth > ECSREV_JSON_MAX_DEPTH) {
        return false;
    }
    f->p++;
    int c = fast_peek(f);
    if (c != '}') {
        cJSON *last = NULL;
        for (;;) {
            last = fast_member(f, obj, last, &names);
            if (last == NULL || !fast_value(f, last, fast_peek(f))) {
                return false;
            }
            c = fast_peek(f);
            if (c != ',') {
                break;
            }
            f->p++;
        }
        if (c != '}') {
            return false;
        }
    }
    f->p++;
    f->depth--;
    return names.count <= SMALL_OBJECT || duplicate_member(obj) == NULL;
}

/* The elements of the array at f->p ('[') into @p arr; false on any error. */
static bool fast_array(struct fast *f, cJSON *arr)
{
    if (++f->depth > ECSREV_JSON_MAX_DEPTH) {
        return false;
    }
    f->p++;
    int c = fast_peek(f);
    if (c != ']') {
        cJSON *last = NULL;
        for (;;) {
            last = fast_child(f, arr, last);
            if (last == NULL || !fast_value(f, last, c)) {
                return false;
            }
            c = fast_peek(f);
            if (c != ',') {
                break;
            }
            f->p++;
            c = fast_peek(f);
        }
        if (c != ']') {
            return false;
        }
    }
    f->p++;
    f->depth--;
    return true;
}

/* The value at f->p, whose first byte is @p c (-1: none), into @p item. */
static bool fast_fill(struct fast *f, cJSON *item, int c)
{
    switch (c) {
    case '"':
        return fast_string(f, item);
    case '{':
        item->type = cJSON_Object;
        return fast_object(f, item);
    case '[':
        item->type = cJSON_Array;
        return fast_array(f, item);
    case 't':
        item->type = cJSON_True;
        item->valueint = 1; /* as cJSON sets it */
        return fast_literal(f, "true", 4);
    case 'f':
        item->type = cJSON_False;
        return fast_literal(f, "false", 5);
    case 'n':
        item->type = cJSON_NULL;
        return fast_literal(f, "null", 4);
    default:
        item->type = cJSON_Number;
        return fast_number(f, item);
    }
}

/* The whole text as one value, or NULL for "let the careful path say why". */
static cJSON *fast_parse(const char *data, size_t len, struct ecsrev_json_arena *arena)
{
    struct fast f = {(const unsigned char *)data,
                     (const unsigned char *)data + len,
                     NULL,
                     0,
                     s_hooks_installed ? arena : NULL,
                     0};
    fast_take(&f);
    struct arena_chunk *start = f.arena != NULL ? f.arena->head : NULL;
    size_t start_used = start != NULL ? start->used : 0;
    cJSON *doc = fast_alloc(&f, NODE_SIZE);
    if (doc == NULL) {
        return NULL;
    }
    memset(doc, 0, sizeof(*doc));
    bool ok = fast_fill(&f, doc, fast_peek(&f)) && fast_peek(&f) == -1;
    fast_give(&f);
    if (!ok) {
        cJSON_Delete(doc);
        if (start != NULL && f.arena->head == start) {
            start->used = start_used; /* nothing else was put in the arena meanwhile */
        }
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

/*
 * Wipe every string of a parsed document (it holds secrets) before cJSON_Delete.
 * Iterative with an explicit stack: the parser caps nesting at ECSREV_JSON_MAX_DEPTH.
 */
void ecsrev_json__wipe(const cJSON *root)
{
    const cJSON *stack[ECSREV_JSON_MAX_DEPTH + 2];
    size_t depth = 0;
    stack[depth++] = root;
    while (depth > 0) {
        const cJSON *it = stack[--depth];
        if (it == NULL) {
            continue;
        }
        if (it->valuestring != NULL) {
            ecsrev_cleanse(it->valuestring, strlen(it->valuestring));
        }
        if (it->next != NULL) {
            stack[depth++] = it->next; /* siblings share one slot: depth stays bounded */
        }
        if (it->child != NULL && depth < sizeof(stack) / sizeof(stack[0])) {
            stack[depth++] = it->child;
        }
    }
}
