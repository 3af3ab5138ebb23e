/*
 * canon.c - RFC 8785 (JSON Canonicalization Scheme) serialization and the
 * timestamp forms of ecsrev.
 *
 * Numbers: ECMAScript Number::toString (ECMA-262 7.1.12.1). Integers below
 * 2^53 are printed digit by digit. Otherwise the shortest digit string that
 * reads back as the same double is found by a binary search over 1..17
 * significant digits with the correctly rounded "%.*e" (glibc printf is
 * exact) and, when that one does not round-trip, its two neighbours at the
 * same precision (asymmetric rounding intervals at powers of two). Round
 * trips are checked with strtod on an integer mantissa plus exponent
 * ("12345e-3"), so no decimal point and hence no locale is involved.
 *
 * Strings: escaped exactly as JSON.stringify does (\b \f \n \r \t \" \\ and
 * \u00xx for other controls, lower-case hex); everything else, including
 * "/" and U+2028, is written as raw UTF-8. Strings of printable ASCII (nearly
 * all of them) are checked and copied eight bytes at a time; any other goes
 * byte by byte through a byte-class table, UTF-8 sequences checked as they
 * come (by the rules of ecsrev_json__check_utf8, which names a bad byte).
 * Object members are sorted by the UTF-16 code units of their names, which
 * differs from UTF-8 byte order for characters above U+FFFF versus
 * U+E000..U+FFFF.
 *
 * Output is staged in a fixed array (struct writer) and appended to the
 * caller's buffer a few KiB at a time; the buffer's max still applies.
 *
 * Time: milliseconds since the epoch, proleptic Gregorian calendar, years
 * 0000..9999, computed with days-from-civil arithmetic (no gmtime, no TZ).
 * Epoch seconds given as a JSON number round to milliseconds exactly as their
 * shortest text would (ecsrev_canon__seconds_to_ms proves that without the
 * digit search when it can).
 */
#include "canon_priv.h"
#include "json_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- numbers ------------------------------------------------------------ */

/* Longest ECMAScript number text: "-1.2345678901234567e-308" and the like. */
#define NUMBER_TEXT_MAX 32

/* Digits of a decimal in scientific form: value = 0.d1d2..dn * 10^(exp+1). */
struct decimal {
    char digits[24]; /* NUL-terminated, no leading/trailing zeros */
    int n;
    int exp; /* exponent of the first digit: d1.d2d3... * 10^exp */
};

/* Parse the output of "%.*e" ("d.ddde+XX"). */
static void decimal_from_e(struct decimal *d, const char *s)
{
    d->n = 0;
    while (*s != '\0' && *s != 'e') {
        if (*s >= '0' && *s <= '9' && d->n < (int)sizeof(d->digits) - 1) {
            d->digits[d->n++] = *s;
        }
        s++;
    }
    d->digits[d->n] = '\0';
    d->exp = *s == 'e' ? (int)strtol(s + 1, NULL, 10) : 0;
}

/* Does the decimal read back as exactly @p v? */
static bool decimal_round_trips(const struct decimal *d, double v)
{
    char text[48];
    (void)snprintf(text, sizeof(text), "%se%d", d->digits, d->exp - (d->n - 1));
    return strtod(text, NULL) == v;
}

/* Add @p delta (+1 or -1) in the last digit, keeping n digits. */
static void decimal_step(struct decimal *d, int delta)
{
    int i = d->n - 1;
    if (delta > 0) {
        while (i >= 0 && d->digits[i] == '9') {
            d->digits[i--] = '0';
        }
        if (i < 0) { /* 999 -> 1000: one more digit, drop the last zero */
            memmove(d->digits + 1, d->digits, (size_t)d->n - 1);
            d->digits[0] = '1';
            d->exp++;
        } else {
            d->digits[i]++;
        }
        return;
    }
    while (i >= 0 && d->digits[i] == '0') {
        d->digits[i--] = '9';
    }
    if (i >= 0) {
        d->digits[i]--;
    }
    if (d->digits[0] == '0') { /* 1000 -> 0999: shift to 9990 at a lower exponent */
        memmove(d->digits, d->digits + 1, (size_t)d->n - 1);
        d->digits[d->n - 1] = '9';
        d->exp--;
    }
}

/* Whether some p-digit decimal (v correctly rounded, or one unit either side) round-trips. */
static bool digits_round_trip(struct decimal *out, double v, int p)
{
    char text[48];
    (void)snprintf(text, sizeof(text), "%.*e", p - 1, v);
    decimal_from_e(out, text);
    if (decimal_round_trips(out, v)) {
        return true;
    }
    if (p == 1) {
        return false;
    }
    struct decimal up = *out;
    struct decimal down = *out;
    decimal_step(&up, 1);
    decimal_step(&down, -1);
    if (decimal_round_trips(&up, v)) {
        *out = up;
        return true;
    }
    if (decimal_round_trips(&down, v)) {
        *out = down;
        return true;
    }
    return false;
}

/*
 * The shortest digits that round-trip (ECMA-262 Number::toString, step 5).
 * Round-tripping is monotone in the number of digits (a p-digit answer is a
 * (p+1)-digit one with a trailing zero), so a binary search over 1..17 finds
 * the shortest length in four or five tries instead of up to seventeen.
 */
static void shortest_decimal(struct decimal *out, double v)
{
    int lo = 1;
    int hi = 17; /* 17 significant digits always round-trip */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        struct decimal probe;
        if (digits_round_trip(&probe, v, mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    (void)digits_round_trip(out, v, lo);
    while (out->n > 1 && out->digits[out->n - 1] == '0') {
        out->digits[--out->n] = '\0';
    }
}

/* Write @p count '0' characters at @p p; returns the end. */
static char *put_zeros(char *p, int count)
{
    for (int i = 0; i < count; i++) {
        *p++ = '0';
    }
    return p;
}

/* ECMA-262 Number::toString(x) for finite x > 0, given its shortest digits; returns the end. */
static char *format_decimal(char *p, const struct decimal *d)
{
    int k = d->n;
    int n = d->exp + 1; /* position of the decimal point */
    if (k <= n && n <= 21) {
        memcpy(p, d->digits, (size_t)k);
        return put_zeros(p + k, n - k);
    }
    if (0 < n && n <= 21) {
        memcpy(p, d->digits, (size_t)n);
        p += n;
        *p++ = '.';
        memcpy(p, d->digits + n, (size_t)(k - n));
        return p + (k - n);
    }
    if (-6 < n && n <= 0) {
        *p++ = '0';
        *p++ = '.';
        p = put_zeros(p, -n);
        memcpy(p, d->digits, (size_t)k);
        return p + k;
    }
    *p++ = d->digits[0];
    if (k > 1) {
        *p++ = '.';
        memcpy(p, d->digits + 1, (size_t)(k - 1));
        p += k - 1;
    }
    *p++ = 'e';
    *p++ = n - 1 < 0 ? '-' : '+';
    int e = abs(n - 1); /* at most 324 */
    if (e >= 100) {
        *p++ = (char)('0' + e / 100);
    }
    if (e >= 10) {
        *p++ = (char)('0' + e / 10 % 10);
    }
    *p++ = (char)('0' + e % 10);
    return p;
}

/* Digits of @p v (< 2^64) ending at @p end; returns the start. */
static char *integer_digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return end;
}

/*
 * ECMAScript text of a finite @p d into @p out (NUMBER_TEXT_MAX bytes, not
 * NUL-terminated); returns its length.
 */
static size_t number_text(char *out, double d)
{
    assert(isfinite(d));
    char *p = out;
    if (d == 0) {
        *p = '0'; /* also -0 */
        return 1;
    }
    if (d < 0) {
        *p++ = '-';
        d = -d;
    }
    if (d < 9007199254740992.0 && d == (double)(uint64_t)d) {
        /* Fast path: an integer below 2^53 is exact and ECMAScript prints its
         * plain digits. Ports, sizes and counts are nearly all numbers here. */
        char digits[24];
        char *start = integer_digits(digits + sizeof(digits), (uint64_t)d);
        size_t n = (size_t)(digits + sizeof(digits) - start);
        memcpy(p, start, n);
        return (size_t)(p - out) + n;
    }
    struct decimal dec;
    shortest_decimal(&dec, d);
    return (size_t)(format_decimal(p, &dec) - out);
}

static int not_finite(double d, struct ecsrev_error *err)
{
    return ecsrev_error_set(err, ECSREV_EINVAL, "number %s cannot be represented in JSON",
                            isnan(d) ? "NaN" : "Infinity (or out of range)");
}

int ecsrev_canon_number(struct ecsrev_buf *out, double d, struct ecsrev_error *err)
{
    if (!isfinite(d)) {
        return not_finite(d, err);
    }
    char text[NUMBER_TEXT_MAX];
    size_t n = number_text(text, d);
    return ecsrev_buf_append(out, text, n, err);
}

/* ---- staged output ------------------------------------------------------ */

/*
 * Bytes staged for out: appended with one ecsrev_buf_append when the array is
 * full and at the end (w_flush). rc keeps the first error (out over its max,
 * bad UTF-8, a non-finite number); the writers stop at it, later output is
 * dropped, and the message set with it stays.
 */
/* The schema's member names (ecsrev_canon__schema_names), recognized by their address. */
struct name_pool {
    uintptr_t base;
    size_t size;
};

static struct name_pool name_pool(void)
{
    const char *base = NULL;
    size_t size = 0;
    ecsrev_canon__schema_names(&base, &size);
    struct name_pool pool = {(uintptr_t)base, size};
    return pool;
}

/* Whether @p s is a name of @p pool (only the starts of names ever point into it). */
static bool pool_has(const struct name_pool *pool, const char *s)
{
    uintptr_t at = (uintptr_t)s - pool->base; /* integers: s may point anywhere */
    return at != 0 && at < pool->size;
}

struct writer {
    struct ecsrev_buf *out;
    struct ecsrev_error *err;
    int rc;
    size_t n;
    struct name_pool names;
    char tmp[4096];
};

static void w_init(struct writer *w, struct ecsrev_buf *out, struct ecsrev_error *err)
{
    w->out = out;
    w->err = err;
    w->rc = 0;
    w->n = 0;
    w->names = name_pool();
}

static void w_flush(struct writer *w)
{
    if (w->n > 0 && w->rc == 0) {
        w->rc = ecsrev_buf_append(w->out, w->tmp, w->n, w->err);
    }
    w->n = 0;
}

static void w_bytes(struct writer *w, const void *p, size_t len)
{
    if (len > sizeof(w->tmp) - w->n) {
        w_flush(w);
        if (len > sizeof(w->tmp)) {
            if (w->rc == 0) {
                w->rc = ecsrev_buf_append(w->out, p, len, w->err);
            }
            return;
        }
    }
    memcpy(w->tmp + w->n, p, len);
    w->n += len;
}

static inline void w_char(struct writer *w, char c)
{
    if (w->n == sizeof(w->tmp)) {
        w_flush(w);
    }
    w->tmp[w->n++] = c;
}

/* Record an error whose message the caller has just set (first error wins). */
static void w_fail(struct writer *w, int rc)
{
    if (w->rc == 0) {
        w->rc = rc;
    }
}

/* Bytes written so far, flushed or not. */
static size_t w_pos(const struct writer *w)
{
    return w->out->len + w->n;
}

static void put_number(struct writer *w, double d)
{
    if (!isfinite(d)) {
        w_fail(w, not_finite(d, w->err));
        return;
    }
    char text[NUMBER_TEXT_MAX];
    size_t n = number_text(text, d);
    w_bytes(w, text, n);
}

/* ---- strings and member order ------------------------------------------- */

/* Next code point of UTF-8 text; invalid bytes count as themselves. */
static uint32_t next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    size_t n = 0;
    if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        c &= 0x07;
    } else if (c >= 0xe0) {
        n = c <= 0xef ? 2 : 0;
        c &= n != 0 ? 0x0f : 0xff;
    } else if (c >= 0xc2) {
        n = 1;
        c &= 0x1f;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return s[0];
        }
    }
    for (size_t i = 1; i <= n; i++) {
        c = (c << 6) | (s[i] & 0x3f);
    }
    *p = s + 1 + n;
    return c;
}

/* First UTF-16 code unit of a code point. */
static uint32_t first_unit(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xd800 + ((cp - 0x10000) >> 10);
}

int ecsrev_canon__strcmp16(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a;
    const unsigned char *pb = (const unsigned char *)b;
    /*
     * Fast path: UTF-8 byte order is code point order, and code point order
     * is UTF-16 order except between U+E000..U+FFFF (lead byte 0xEE/0xEF)
     * and U+10000 and above (lead byte 0xF0..0xF4). So the first differing
     * byte decides unless it is such a lead byte; a differing continuation
     * byte means both characters share their lead byte, hence their length.
     */
    size_t i = 0;
    while (i < 16 && pa[i] == pb[i] && pa[i] != '\0') {
        i++;
    }
    if (i == 16) {
        /* A long common prefix (ARNs as array keys): eight bytes at a time,
           within both strings, then byte by byte in the word that differs. */
        size_t la = i + strlen(a + i);
        size_t lb = i + strlen(b + i);
        size_t limit = la < lb ? la : lb;
        uint64_t wa;
        uint64_t wb;
        while (i + 8 <= limit &&
               (memcpy(&wa, pa + i, sizeof(wa)), memcpy(&wb, pb + i, sizeof(wb)), wa == wb)) {
            i += 8;
        }
        while (pa[i] == pb[i] && pa[i] != '\0') {
            i++;
        }
    }
    pa += i;
    pb += i;
    if (*pa < 0xee && *pb < 0xee) {
        return (int)*pa - (int)*pb;
    }
    /* Back to the start of the character that differs, and decode from there. */
    while (pa > (const unsigned char *)a && (*pa & 0xc0) == 0x80) {
        pa--;
        pb--;
    }
    for (;;) {
        if (*pa == '\0' || *pb == '\0') {
            return (*pa != '\0') - (*pb != '\0');
        }
        uint32_t ca = next_code_point(&pa);
        uint32_t cb = next_code_point(&pb);
        if (ca == cb) {
            continue;
        }
        uint32_t ua = first_unit(ca);
        uint32_t ub = first_unit(cb);
        if (ua != ub) {
            return ua < ub ? -1 : 1;
        }
        /* same high surrogate: the low surrogates order like the code points */
        return ca < cb ? -1 : 1;
    }
}

/* What a string byte needs: copy it, stop, escape it, check a UTF-8 sequence, reject it. */
enum byte_class {
    BYTE_PLAIN = 0,
    BYTE_END,    /* the terminating NUL */
    BYTE_ESCAPE, /* control character, '"' or '\\' */
    BYTE_LEAD,   /* 0xC2..0xF4: first byte of a multi-byte sequence */
    BYTE_BAD,    /* never valid in UTF-8 at the start of a character */
};

#define P BYTE_PLAIN
#define E BYTE_END
#define S BYTE_ESCAPE
#define M BYTE_LEAD
#define B BYTE_BAD
static const unsigned char s_byte_class[256] = {
    E, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* 00 */
    S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* 10 */
    P, P, S, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 20 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 30 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 40 */
    P, P, P, P, P, P, P, P, P, P, P, P, S, P, P, P, /* 50 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 60 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 70 */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 80 */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* 90 */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* a0 */
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, /* b0 */
    B, B, M, M, M, M, M, M, M, M, M, M, M, M, M, M, /* c0 */
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, /* d0 */
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, /* e0 */
    M, M, M, M, M, B, B, B, B, B, B, B, B, B, B, B, /* f0 */
};
#undef P
#undef E
#undef S
#undef M
#undef B

/*
 * Length of the well-formed UTF-8 sequence starting with the lead byte
 * 0xC2..0xF4 at @p p (no overlongs, surrogates or code points above
 * U+10FFFF: the rules of ecsrev_json__check_utf8), or 0. Stops at the first
 * bad byte, so it never reads past a terminating NUL.
 */
static size_t utf8_sequence(const unsigned char *p)
{
    unsigned lead = p[0];
    unsigned lo = 0x80; /* allowed range of the second byte */
    unsigned hi = 0xbf;
    size_t n = 4;
    if (lead <= 0xdf) {
        n = 2;
    } else if (lead <= 0xef) {
        n = 3;
        lo = lead == 0xe0 ? 0xa0 : 0x80; /* overlong below U+0800 */
        hi = lead == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else {
        lo = lead == 0xf0 ? 0x90 : 0x80; /* overlong below U+10000 */
        hi = lead == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* Escape one byte of class BYTE_ESCAPE as JSON.stringify does. */
static void put_escape(struct writer *w, unsigned char c)
{
    static const char s_hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', s_hex[c >> 4], s_hex[c & 0xf]};
    size_t n = 2;
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        break;
    case '\b':
        esc[1] = 'b';
        break;
    case '\f':
        esc[1] = 'f';
        break;
    case '\n':
        esc[1] = 'n';
        break;
    case '\r':
        esc[1] = 'r';
        break;
    case '\t':
        esc[1] = 't';
        break;
    default:
        n = 6; /* \u00xx */
        break;
    }
    w_bytes(w, esc, n);
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Whether any of the eight bytes in @p x needs work: a control character or
 * NUL (< 0x20), '"', '\\', or a byte >= 0x80. The "has a byte less than n"
 * bit trick (exact as a yes/no answer); '"' and '\\' are tested as zero bytes
 * of x XOR the repeated character.
 */
static bool word_needs_work(uint64_t x)
{
    uint64_t quote = x ^ (ONES * '"');
    uint64_t backslash = x ^ (ONES * '\\');
    uint64_t control = (x - ONES * 0x20) & ~x;
    uint64_t is_quote = (quote - ONES) & ~quote;
    uint64_t is_backslash = (backslash - ONES) & ~backslash;
    return ((x | control | is_quote | is_backslash) & HIGHS) != 0;
}

/* Report the bad UTF-8 in @p s: the full check names the byte (same rules as utf8_sequence). */
static void bad_utf8(struct writer *w, const char *s)
{
    int rc = ecsrev_json__check_utf8(s, strlen(s), w->err);
    w_fail(w, rc < 0 ? rc : ecsrev_error_set(w->err, ECSREV_EPARSE, "invalid UTF-8"));
}

/* Any string, byte by byte: escapes, UTF-8 checks, strings longer than the staging array. */
static void put_string_slow(struct writer *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    w_char(w, '"');
    for (;;) {
        size_t n = 1;
        switch (s_byte_class[*p]) {
        case BYTE_PLAIN:
            w_char(w, (char)*p);
            break;
        case BYTE_LEAD:
            n = utf8_sequence(p);
            w_bytes(w, p, n);
            break;
        case BYTE_ESCAPE:
            put_escape(w, *p);
            break;
        case BYTE_END:
            w_char(w, '"');
            return;
        default:
            n = 0;
            break;
        }
        if (n == 0) {
            bad_utf8(w, s);
            return;
        }
        p += n;
    }
}

/* A vector of 16 bytes (GCC's and clang's vector extension: SSE2 on x86-64). */
#define BLOCK_ATTR __attribute__((vector_size(16)))

/* Whether any of the 16 bytes at @p s needs work, as word_needs_work tells for 8. */
static bool block_needs_work(const char *s)
{
    unsigned char v BLOCK_ATTR;
    memcpy(&v, s, sizeof(v));
    /* below 0x20 or from 0x80: exactly the bytes that v - 0x20 takes to 0x60 and above */
    signed char bad BLOCK_ATTR =
        (signed char BLOCK_ATTR)((v - 0x20) >= 0x60) | (v == '"') | (v == '\\');
    uint64_t half[2];
    memcpy(half, &bad, sizeof(half));
    return (half[0] | half[1]) != 0;
}

/*
 * Copy @p s (@p len bytes) to @p d if it is printable ASCII only, checked a
 * block (16 bytes) or a word (8) at a time, the last one overlapping the one
 * before; false (d partly written) for any other string.
 */
static bool copy_plain(char *d, const char *s, size_t len)
{
    uint64_t word;
    uint64_t last;
    if (len >= 16) {
        for (size_t i = 0; i + 16 <= len; i += 16) {
            if (block_needs_work(s + i)) {
                return false;
            }
            memcpy(d + i, s + i, 16);
        }
        if (block_needs_work(s + len - 16)) {
            return false;
        }
        memcpy(d + len - 16, s + len - 16, 16);
        return true;
    }
    if (len >= 8) {
        memcpy(&word, s, sizeof(word));
        memcpy(&last, s + len - 8, sizeof(last));
        if (word_needs_work(word) || word_needs_work(last)) {
            return false;
        }
        memcpy(d, &word, sizeof(word));
        memcpy(d + len - 8, &last, sizeof(last));
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if (s_byte_class[(unsigned char)s[i]] != BYTE_PLAIN) {
            return false;
        }
        d[i] = s[i];
    }
    return true;
}

/*
 * Fast path for the common string: printable ASCII only (no escape, no UTF-8
 * to check) that fits in the staging array; false (nothing written) for any
 * other string.
 */
static bool put_plain_string(struct writer *w, const char *s, size_t len)
{
    if (len + 2 > sizeof(w->tmp) - w->n) {
        w_flush(w);
        if (len + 2 > sizeof(w->tmp)) {
            return false;
        }
    }
    char *d = w->tmp + w->n + 1; /* after the opening quote */
    if (!copy_plain(d, s, len)) {
        return false;
    }
    d[-1] = '"';
    d[len] = '"';
    w->n += len + 2;
    return true;
}

static void put_string(struct writer *w, const char *s)
{
    if (!put_plain_string(w, s, strlen(s))) {
        put_string_slow(w, s);
    }
}

int ecsrev_canon__write_string(struct ecsrev_buf *out, const char *s, struct ecsrev_error *err)
{
    struct writer w;
    w_init(&w, out, err);
    put_string(&w, s);
    w_flush(&w);
    return w.rc;
}

/*
 * A member name: the schema's names (set by the normalizer) have a known
 * length and nothing to escape; any other goes through put_string.
 */
static void put_name(struct writer *w, const char *name)
{
    size_t len = pool_has(&w->names, name) ? (unsigned char)name[-1] : 0; /* length byte */
    if (len == 0 || len + 2 > sizeof(w->tmp) - w->n) {
        put_string(w, name);
        return;
    }
    char *d = w->tmp + w->n;
    d[0] = '"';
    memcpy(d + 1, name, len);
    d[len + 1] = '"';
    w->n += len + 2;
}

/*
 * ecsrev_canon__strcmp16 of member names: two schema names by their
 * addresses (the pool is in this order), most other pairs by their first
 * bytes inline.
 */
static int name_order(const struct name_pool *pool, const char *a, const char *b)
{
    unsigned char ca = (unsigned char)a[0];
    unsigned char cb = (unsigned char)b[0];
    if (ca != cb && ca < 0xee && cb < 0xee) {
        return (int)ca - (int)cb;
    }
    if (pool_has(pool, a) && pool_has(pool, b)) {
        return ((uintptr_t)a > (uintptr_t)b) - ((uintptr_t)a < (uintptr_t)b);
    }
    return ecsrev_canon__strcmp16(a, b);
}

/* Members kept on the stack while an object is written; more go to the heap. */
#define MEMBERS_ON_STACK 32

/*
 * Sort @p m[0..n) by member name in RFC 8785 order: binary insertion, stable,
 * one comparison per member when they are in order already (canonical input).
 */
static void sort_by_name(const cJSON **m, size_t n, const struct name_pool *pool)
{
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = m[i];
        if (name_order(pool, m[i - 1]->string, x->string) <= 0) {
            continue;
        }
        size_t lo = 0;
        size_t hi = i - 1; /* m[hi] > x: find the first member greater than x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (name_order(pool, m[mid]->string, x->string) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        memmove((void *)(m + lo + 1), (const void *)(m + lo),
                (i - lo) * sizeof(*m)); /* NOLINT(bugprone-sizeof-expression) */
        m[lo] = x;
    }
}

/*
 * The members of object @p item in RFC 8785 order, in @p stack if they fit
 * (MEMBERS_ON_STACK), else in *heap, which the caller frees.
 */
static const cJSON **ordered_members(const cJSON *item, const struct name_pool *pool,
                                     const cJSON **stack, const cJSON ***heap, size_t *n_out)
{
    size_t n = 0;
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        n++;
    }
    const cJSON **m = stack;
    *heap = NULL;
    if (n > MEMBERS_ON_STACK) {
        /* An array of pointers: sizeof(pointer) is meant here. */
        /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
        *heap = ecsrev_xcalloc(n, sizeof(**heap));
        m = *heap;
    }
    size_t i = 0;
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        m[i++] = c;
    }
    sort_by_name(m, n, pool);
    *n_out = n;
    return m;
}

void ecsrev_canon__sort_members(cJSON *item)
{
    for (cJSON *c = item->child; c != NULL; c = c->next) {
        ecsrev_canon__sort_members(c);
    }
    if (!cJSON_IsObject(item) || item->child == NULL || item->child->next == NULL) {
        return;
    }
    const cJSON *stack[MEMBERS_ON_STACK];
    const cJSON **heap = NULL;
    size_t n = 0;
    struct name_pool pool = name_pool();
    const cJSON **m = ordered_members(item, &pool, stack, &heap, &n);
    /* Relink in order; cJSON keeps the last item in child->prev. The casts
       drop the const that ordered_members puts on item's own children. */
    for (size_t i = 0; i < n; i++) {
        cJSON *c = (cJSON *)(uintptr_t)m[i];
        c->prev = (cJSON *)(uintptr_t)m[i > 0 ? i - 1 : n - 1];
        c->next = i + 1 < n ? (cJSON *)(uintptr_t)m[i + 1] : NULL;
    }
    item->child = (cJSON *)(uintptr_t)m[0];
    free((void *)heap);
}

/* ---- canonical writing -------------------------------------------------- */

static void put_value(struct writer *w, const cJSON *item);

/* One "name":value member. */
static void put_member(struct writer *w, const cJSON *member)
{
    put_name(w, member->string);
    w_char(w, ':');
    put_value(w, member);
}

static void put_object(struct writer *w, const cJSON *item)
{
    const cJSON *stack[MEMBERS_ON_STACK];
    const cJSON **heap = NULL;
    size_t n = 0;
    const cJSON **m = ordered_members(item, &w->names, stack, &heap, &n);
    w_char(w, '{');
    for (size_t i = 0; i < n && w->rc == 0; i++) {
        if (i > 0) {
            w_char(w, ',');
        }
        put_member(w, m[i]);
    }
    w_char(w, '}');
    free((void *)heap);
}

static void put_array(struct writer *w, const cJSON *item)
{
    w_char(w, '[');
    for (const cJSON *c = item->child; c != NULL && w->rc == 0; c = c->next) {
        if (c != item->child) {
            w_char(w, ',');
        }
        put_value(w, c);
    }
    w_char(w, ']');
}

static void put_value(struct writer *w, const cJSON *item)
{
    assert(item != NULL);
    switch (item->type & 0xff) {
    case cJSON_Object:
        put_object(w, item);
        break;
    case cJSON_Array:
        put_array(w, item);
        break;
    case cJSON_String:
        put_string(w, item->valuestring);
        break;
    case cJSON_Number:
        put_number(w, item->valuedouble);
        break;
    case cJSON_True:
        w_bytes(w, "true", 4);
        break;
    case cJSON_False:
        w_bytes(w, "false", 5);
        break;
    case cJSON_NULL:
        w_bytes(w, "null", 4);
        break;
    default:
        w_fail(w, ecsrev_error_set(w->err, ECSREV_EINVAL, "unsupported JSON value"));
        break;
    }
}

int ecsrev_canon__write(struct ecsrev_buf *out, const cJSON *item, struct ecsrev_error *err)
{
    struct writer w;
    w_init(&w, out, err);
    put_value(&w, item);
    w_flush(&w);
    return w.rc;
}

static bool is_omitted(const char *name, const char *const *omit)
{
    for (; *omit != NULL; omit++) {
        if (name[0] == (*omit)[0] && strcmp(name, *omit) == 0) {
            return true;
        }
    }
    return false;
}

/* Append the bytes [start, end) that @p src has written (flushed or staged) to @p dst. */
static void w_copy(struct writer *dst, const struct writer *src, size_t start, size_t end)
{
    size_t flushed = src->out->len;
    if (start < flushed) {
        size_t stop = end < flushed ? end : flushed;
        w_bytes(dst, src->out->ptr + start, stop - start);
        start = stop;
    }
    if (start < end) {
        w_bytes(dst, src->tmp + (start - flushed), end - start);
    }
}

/*
 * The members written to canon that config keeps: runs of consecutive kept
 * members, [start, end) of canon with the commas between them, copied to
 * config when a run ends (most documents: two or three runs).
 */
struct kept_run {
    size_t start;
    size_t end; /* 0: no run yet */
    bool config_empty;
};

static void run_copy(struct writer *wf, const struct writer *wc, struct kept_run *run)
{
    if (run->end == 0 || wc->rc != 0) {
        return; /* nothing to copy, or wc dropped bytes */
    }
    if (!run->config_empty) {
        w_char(wf, ',');
    }
    run->config_empty = false;
    w_copy(wf, wc, run->start, run->end);
    run->end = 0;
}

int ecsrev_canon__write_split(struct ecsrev_buf *canon, struct ecsrev_buf *config, const cJSON *doc,
                              const char *const *omit, struct ecsrev_error *err)
{
    assert(cJSON_IsObject(doc));
    struct writer wc; /* canon */
    struct writer wf; /* config: members copied from what wc wrote */
    w_init(&wc, canon, err);
    w_init(&wf, config, err);
    const cJSON *stack[MEMBERS_ON_STACK];
    const cJSON **heap = NULL;
    size_t n = 0;
    const cJSON **m = ordered_members(doc, &wc.names, stack, &heap, &n);
    struct kept_run run = {0, 0, true};
    w_char(&wc, '{');
    w_char(&wf, '{');
    for (size_t i = 0; i < n && wc.rc == 0; i++) {
        if (i > 0) {
            w_char(&wc, ',');
        }
        size_t start = w_pos(&wc);
        put_member(&wc, m[i]);
        if (is_omitted(m[i]->string, omit)) {
            run_copy(&wf, &wc, &run);
        } else if (run.end != 0) {
            run.end = w_pos(&wc); /* the run goes on, with the comma before this member */
        } else {
            run.start = start;
            run.end = w_pos(&wc);
        }
    }
    run_copy(&wf, &wc, &run);
    w_char(&wc, '}');
    w_char(&wf, '}');
    w_flush(&wc);
    w_flush(&wf);
    free((void *)heap);
    return wc.rc != 0 ? wc.rc : wf.rc;
}

int ecsrev_canon__parse(cJSON **out, const char *json, size_t len, struct ecsrev_error *err)
{
    return ecsrev_json__parse(out, json, len, err);
}

int ecsrev_canon_json(struct ecsrev_buf *out, const char *json, size_t len,
                      struct ecsrev_error *err)
{
    cJSON *doc = NULL;
    int rc = ecsrev_canon__parse(&doc, json, len, err);
    if (rc < 0) {
        return rc;
    }
    rc = ecsrev_canon__write(out, doc, err);
    cJSON_Delete(doc);
    return rc;
}

/* ---- time --------------------------------------------------------------- */

#define MS_PER_DAY INT64_C(86400000)
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define TIME_MIN_MS INT64_C(-62167219200000)
#define TIME_MAX_MS INT64_C(253402300799999)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Write @p v as exactly @p width decimal digits at @p p (v < 10^width); returns the end. */
static char *fixed_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void ecsrev_time_format(char out[32], int64_t ms)
{
    int64_t days = ms / MS_PER_DAY;
    int64_t rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y;
    int m;
    int d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside what ecsrev stores: printf's forms */
        (void)snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                       (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                       (int)(rem % 1000));
        return;
    }
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" without printf: this runs once per revision */
    char *p = fixed_digits(out, (unsigned)y, 4);
    *p++ = '-';
    p = fixed_digits(p, (unsigned)m, 2);
    *p++ = '-';
    p = fixed_digits(p, (unsigned)d, 2);
    *p++ = 'T';
    p = fixed_digits(p, (unsigned)(rem / 3600000), 2);
    *p++ = ':';
    p = fixed_digits(p, (unsigned)(rem / 60000 % 60), 2);
    *p++ = ':';
    p = fixed_digits(p, (unsigned)(rem / 1000 % 60), 2);
    *p++ = '.';
    p = fixed_digits(p, (unsigned)(rem % 1000), 3);
    *p++ = 'Z';
    *p = '\0';
}

/*
 * Why this is exact: |v| = mant * 2^-sh with mant < 2^53, so |v| * 1000 =
 * mant * 1000 / 2^sh is computed exactly in 64 bits, as the integer ms
 * nearest to it plus a distance dist (in units of 2^-sh). The text path
 * rounds the shortest round-trip decimal S of v (half away from zero) to
 * ms; S lies within half an ulp (2^-sh / 2) of |v|, so 1000 * S lies within
 * 500 units of 1000 * |v|, hence within dist + 500 units of ms. When that is
 * below half a millisecond (2^(sh-1) units), S rounds to ms as well, whatever
 * its digits. Otherwise (a value right at half a millisecond) the caller
 * takes the text path.
 */
bool ecsrev_canon__seconds_to_ms(int64_t *out, double v)
{
    double a = fabs(v);
    if (!(a >= 0x1p-10 && a < 0x1p40)) { /* also NaN; 2^40 s is past year 9999 */
        return false;
    }
    uint64_t bits;
    _Static_assert(sizeof(bits) == sizeof(a), "IEEE 754 binary64 double");
    memcpy(&bits, &a, sizeof(bits));
    int biased = (int)(bits >> 52); /* a is normal and positive: no sign bit */
    uint64_t mant = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
    int sh = 1075 - biased; /* a = mant * 2^-sh, 13 <= sh <= 62 in this range */
    assert(sh >= 13 && sh <= 62);
    uint64_t x = mant * 1000; /* < 2^63 */
    uint64_t ms = x >> sh;
    uint64_t frac = x & ((UINT64_C(1) << sh) - 1);
    uint64_t half = UINT64_C(1) << (sh - 1);
    uint64_t dist = frac;
    if (frac >= half) {
        ms++;
        dist = (UINT64_C(1) << sh) - frac;
    }
    if (dist + 500 >= half) {
        return false;
    }
    int64_t signed_ms = v < 0 ? -(int64_t)ms : (int64_t)ms;
    if (signed_ms < TIME_MIN_MS || signed_ms > TIME_MAX_MS) {
        return false; /* the text path reports it */
    }
    *out = signed_ms;
    return true;
}

void ecsrev_canon__printable(char *out, size_t cap, const char *s)
{
    assert(cap >= 4);
    size_t n = 0;
    for (; s[n] != '\0' && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)s[n];
        out[n] = s[n];
        if (c < 0x20 || c == 0x7f) {
            out[n] = '?';
        }
    }
    out[n] = '\0';
    if (s[n] != '\0') {
        memcpy(out + cap - 4, "...", 4);
    }
}

static int bad_time(const char *text, const char *why, struct ecsrev_error *err)
{
    char shown[68];
    ecsrev_canon__printable(shown, sizeof(shown), text);
    return ecsrev_error_set(err, ECSREV_EINVAL, "bad timestamp '%s': %s", shown, why);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Read exactly @p n digits. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Epoch seconds as decimal text ("1732099730.123", "1.732099730123E9"), exact. */
static int parse_epoch(int64_t *out, const char *text, struct ecsrev_error *err)
{
    const char *p = text;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') {
        p++;
    }
    char digits[40]; /* significant digits; more never matter at ms precision */
    int n = 0;
    long point = 0; /* digits before the decimal point, relative to digits[0] */
    int int_len = 0;
    int frac_len = 0;
    for (; is_digit(*p); p++, int_len++) {
        if (n == 0 && *p == '0') {
            continue;
        }
        if (n < (int)sizeof(digits)) {
            digits[n++] = *p;
        }
        point++;
    }
    if (*p == '.') {
        for (p++; is_digit(*p); p++, frac_len++) {
            if (n == 0 && *p == '0') {
                point--;
                continue;
            }
            if (n < (int)sizeof(digits)) {
                digits[n++] = *p;
            }
        }
        if (frac_len == 0) {
            return bad_time(text, "no digits after the decimal point", err);
        }
    }
    if (int_len == 0) {
        return bad_time(text, "not a number of seconds or an ISO 8601 time", err);
    }
    long exp = 0;
    if (*p == 'e' || *p == 'E') {
        const char *e = p + 1 + (p[1] == '-' || p[1] == '+');
        if (!is_digit(*e)) {
            return bad_time(text, "bad exponent", err);
        }
        for (; is_digit(*e); e++) {
            exp = exp < 1000 ? exp * 10 + (*e - '0') : exp;
        }
        exp = p[1] == '-' ? -exp : exp;
        p = e;
    }
    if (*p != '\0') {
        return bad_time(text, "unexpected character", err);
    }
    /* ms = 0.digits * 10^(point + exp + 3) */
    point += exp + 3;
    if (n == 0 || point < 0) {
        *out = 0;
        return 0;
    }
    if (point > 18) {
        return bad_time(text, "out of range", err);
    }
    int64_t ms = 0;
    for (long i = 0; i < point; i++) {
        ms = ms * 10 + (i < n ? digits[i] - '0' : 0);
    }
    if (point < n && digits[point] >= '5') {
        ms++; /* round half away from zero */
    }
    ms = neg ? -ms : ms;
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
        return bad_time(text, "out of range", err);
    }
    *out = ms;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int s_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : s_days[m - 1];
}

/* Time-zone designator: Z, +HH:MM, +HHMM or +HH; @p out in minutes east of UTC. */
static bool parse_zone(const char *p, int *out)
{
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *out = 0;
        return true;
    }
    if (p[0] != '+' && p[0] != '-') {
        return false;
    }
    int sign = p[0] == '-' ? -1 : 1;
    p++;
    int hh;
    int mm = 0;
    if (!read_digits(&p, 2, &hh)) {
        return false;
    }
    if (*p == ':') {
        p++;
    }
    if (*p != '\0' && !read_digits(&p, 2, &mm)) {
        return false;
    }
    if (*p != '\0' || hh > 23 || mm > 59) {
        return false;
    }
    *out = sign * (hh * 60 + mm);
    return true;
}

/* ISO 8601: YYYY-MM-DD('T'|' ')HH:MM:SS[.fff...](Z|+HH:MM|+HHMM|+HH). */
static int parse_iso(int64_t *out, const char *text, struct ecsrev_error *err)
{
    const char *p = text;
    int y;
    int mo;
    int d;
    int h;
    int mi;
    int s;
    bool date_ok = read_digits(&p, 4, &y) && *p++ == '-' && read_digits(&p, 2, &mo) &&
                   *p++ == '-' && read_digits(&p, 2, &d);
    bool sep_ok = date_ok && (*p == 'T' || *p == 't' || *p == ' ');
    if (!sep_ok) {
        return bad_time(text, "expected YYYY-MM-DDTHH:MM:SS with a time zone", err);
    }
    p++;
    if (!read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi) || *p++ != ':' ||
        !read_digits(&p, 2, &s)) {
        return bad_time(text, "expected YYYY-MM-DDTHH:MM:SS with a time zone", err);
    }
    int frac_ms = 0;
    if (*p == '.' || *p == ',') {
        p++;
        if (!is_digit(*p)) {
            return bad_time(text, "empty fraction of a second", err);
        }
        int scale = 100;
        bool round_up = false;
        for (int i = 0; is_digit(*p); i++, p++) {
            if (i < 3) {
                frac_ms += (*p - '0') * scale;
                scale /= 10;
            } else if (i == 3) {
                round_up = *p >= '5';
            }
        }
        frac_ms += round_up ? 1 : 0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
        return bad_time(text, "date or time out of range", err);
    }
    int zone = 0;
    if (*p == '\0') {
        return bad_time(text, "missing time zone (Z or +HH:MM)", err);
    }
    if (!parse_zone(p, &zone)) {
        return bad_time(text, "bad time zone", err);
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s -
                   (int64_t)zone * 60;
    int64_t ms = secs * 1000 + frac_ms;
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
        return bad_time(text, "out of range", err);
    }
    *out = ms;
    return 0;
}

int ecsrev_time_parse(int64_t *out, const char *text, struct ecsrev_error *err)
{
    assert(out != NULL && text != NULL);
    size_t len = strlen(text);
    if (len >= 5 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
        is_digit(text[3]) && text[4] == '-') {
        return parse_iso(out, text, err);
    }
    if (len == 0) {
        return bad_time(text, "empty", err);
    }
    return parse_epoch(out, text, err);
}
