/*
 * canon.c - RFC 8785 (JSON Canonicalization Scheme) serialization and the
 * timestamp forms of ecsrev.
 *
 * Numbers: ECMAScript Number::toString (ECMA-262 7.1.12.1). The shortest
 * digit string that reads back as the same double is found by trying 1..17
 * significant digits with the correctly rounded "%.*e" (glibc printf is
 * exact) and, when that one does not round-trip, its two neighbours at the
 * same precision (asymmetric rounding intervals at powers of two). Round
 * trips are checked with strtod on an integer mantissa plus exponent
 * ("12345e-3"), so no decimal point and hence no locale is involved.
 *
 * Strings: escaped exactly as JSON.stringify does (\b \f \n \r \t \" \\ and
 * \u00xx for other controls, lower-case hex); everything else, including
 * "/" and U+2028, is written as raw UTF-8. Object members are sorted by the
 * UTF-16 code units of their names, which differs from UTF-8 byte order for
 * characters above U+FFFF versus U+E000..U+FFFF.
 *
 * Time: milliseconds since the epoch, proleptic Gregorian calendar, years
 * 0000..9999, computed with days-from-civil arithmetic (no gmtime, no TZ).
 */
#include "canon_priv.h"
#include "json_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- numbers ------------------------------------------------------------ */

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

/* Shortest round-trip digits of a finite positive double. */
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

static int put_zeros(struct ecsrev_buf *out, int count, struct ecsrev_error *err)
{
    for (int i = 0; i < count; i++) {
        int rc = ecsrev_buf_putc(out, '0', err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ECMA-262 Number::toString(x) for finite x > 0, given its shortest digits. */
static int format_decimal(struct ecsrev_buf *out, const struct decimal *d, struct ecsrev_error *err)
{
    int k = d->n;
    int n = d->exp + 1; /* position of the decimal point */
    int rc;
    if (k <= n && n <= 21) {
        if ((rc = ecsrev_buf_append(out, d->digits, (size_t)k, err)) < 0) {
            return rc;
        }
        return put_zeros(out, n - k, err);
    }
    if (0 < n && n <= 21) {
        if ((rc = ecsrev_buf_append(out, d->digits, (size_t)n, err)) < 0 ||
            (rc = ecsrev_buf_putc(out, '.', err)) < 0) {
            return rc;
        }
        return ecsrev_buf_append(out, d->digits + n, (size_t)(k - n), err);
    }
    if (-6 < n && n <= 0) {
        if ((rc = ecsrev_buf_puts(out, "0.", err)) < 0 || (rc = put_zeros(out, -n, err)) < 0) {
            return rc;
        }
        return ecsrev_buf_append(out, d->digits, (size_t)k, err);
    }
    if ((rc = ecsrev_buf_putc(out, d->digits[0], err)) < 0) {
        return rc;
    }
    if (k > 1) {
        if ((rc = ecsrev_buf_putc(out, '.', err)) < 0 ||
            (rc = ecsrev_buf_append(out, d->digits + 1, (size_t)(k - 1), err)) < 0) {
            return rc;
        }
    }
    return ecsrev_buf_printf(out, err, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
}

int ecsrev_canon_number(struct ecsrev_buf *out, double d, struct ecsrev_error *err)
{
    if (!isfinite(d)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "number %s cannot be represented in JSON",
                                isnan(d) ? "NaN" : "Infinity (or out of range)");
    }
    if (d == 0) {
        return ecsrev_buf_putc(out, '0', err); /* also -0 */
    }
    int rc;
    if (d < 0) {
        if ((rc = ecsrev_buf_putc(out, '-', err)) < 0) {
            return rc;
        }
        d = -d;
    }
    if (d < 9007199254740992.0 && d == (double)(uint64_t)d) {
        /* Fast path: an integer below 2^53 is exact and ECMAScript prints its
         * plain digits. Ports, sizes and counts are nearly all numbers here. */
        char digits[24];
        size_t n = sizeof(digits);
        for (uint64_t v = (uint64_t)d; v > 0; v /= 10) {
            digits[--n] = (char)('0' + v % 10);
        }
        return ecsrev_buf_append(out, digits + n, sizeof(digits) - n, err);
    }
    struct decimal dec;
    shortest_decimal(&dec, d);
    return format_decimal(out, &dec, err);
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
    while (*pa == *pb && *pa != '\0') {
        pa++;
        pb++;
    }
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

int ecsrev_canon__write_string(struct ecsrev_buf *out, const char *s, struct ecsrev_error *err)
{
    int rc;
    size_t len = strlen(s);
    if ((rc = ecsrev_json__check_utf8(s, len, err)) < 0) {
        return rc;
    }
    if ((rc = ecsrev_buf_putc(out, '"', err)) < 0) {
        return rc;
    }
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            break;
        }
        if (esc == NULL && c >= 0x20) {
            continue;
        }
        if ((rc = ecsrev_buf_append(out, s + run, i - run, err)) < 0) {
            return rc;
        }
        run = i + 1;
        rc = esc != NULL ? ecsrev_buf_puts(out, esc, err)
                         : ecsrev_buf_printf(out, err, "\\u%04x", (unsigned)c);
        if (rc < 0) {
            return rc;
        }
    }
    if ((rc = ecsrev_buf_append(out, s + run, len - run, err)) < 0) {
        return rc;
    }
    return ecsrev_buf_putc(out, '"', err);
}

static int compare_members(const void *a, const void *b)
{
    const cJSON *const *x = a;
    const cJSON *const *y = b;
    return ecsrev_canon__strcmp16((*x)->string, (*y)->string);
}

void ecsrev_canon__sort_members(cJSON *item)
{
    for (cJSON *c = item->child; c != NULL; c = c->next) {
        ecsrev_canon__sort_members(c);
    }
    if (!cJSON_IsObject(item) || item->child == NULL || item->child->next == NULL) {
        return;
    }
    size_t n = 0;
    bool sorted = true;
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        n++;
        sorted =
            sorted && (c->next == NULL || ecsrev_canon__strcmp16(c->string, c->next->string) < 0);
    }
    if (sorted) {
        return;
    }
    /* An array of pointers: sizeof(pointer) is meant here. */
    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
    cJSON **members = ecsrev_xcalloc(n, sizeof(*members));
    size_t i = 0;
    for (cJSON *c = item->child; c != NULL; c = c->next) {
        members[i++] = c;
    }
    qsort((void *)members, n, sizeof(*members), /* NOLINT(bugprone-sizeof-expression) */
          compare_members);
    /* Relink in order; cJSON keeps the last item in child->prev. */
    for (i = 0; i < n; i++) {
        members[i]->prev = i > 0 ? members[i - 1] : members[n - 1];
        members[i]->next = i + 1 < n ? members[i + 1] : NULL;
    }
    item->child = members[0];
    free((void *)members);
}

static int write_object(struct ecsrev_buf *out, const cJSON *item, struct ecsrev_error *err)
{
    size_t n = 0;
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        n++;
    }
    /* An array of pointers: sizeof(pointer) is meant here. */
    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
    const cJSON **members = ecsrev_xcalloc(n, sizeof(*members));
    size_t i = 0;
    for (const cJSON *c = item->child; c != NULL; c = c->next) {
        members[i++] = c;
    }
    bool sorted = true; /* members are usually in order already (normalized input) */
    for (i = 1; i < n && sorted; i++) {
        sorted = compare_members(&members[i - 1], &members[i]) < 0;
    }
    if (!sorted) {
        qsort((void *)members, n, sizeof(*members), /* NOLINT(bugprone-sizeof-expression) */
              compare_members);
    }
    int rc = ecsrev_buf_putc(out, '{', err);
    for (i = 0; rc == 0 && i < n; i++) {
        if (i > 0 && (rc = ecsrev_buf_putc(out, ',', err)) < 0) {
            break;
        }
        if ((rc = ecsrev_canon__write_string(out, members[i]->string, err)) < 0 ||
            (rc = ecsrev_buf_putc(out, ':', err)) < 0) {
            break;
        }
        rc = ecsrev_canon__write(out, members[i], err);
    }
    if (rc == 0) {
        rc = ecsrev_buf_putc(out, '}', err);
    }
    free((void *)members);
    return rc;
}

static int write_array(struct ecsrev_buf *out, const cJSON *item, struct ecsrev_error *err)
{
    int rc = ecsrev_buf_putc(out, '[', err);
    for (const cJSON *c = item->child; rc == 0 && c != NULL; c = c->next) {
        if (c != item->child && (rc = ecsrev_buf_putc(out, ',', err)) < 0) {
            break;
        }
        rc = ecsrev_canon__write(out, c, err);
    }
    if (rc == 0) {
        rc = ecsrev_buf_putc(out, ']', err);
    }
    return rc;
}

int ecsrev_canon__write(struct ecsrev_buf *out, const cJSON *item, struct ecsrev_error *err)
{
    assert(item != NULL);
    if (cJSON_IsObject(item)) {
        return write_object(out, item, err);
    }
    if (cJSON_IsArray(item)) {
        return write_array(out, item, err);
    }
    if (cJSON_IsString(item)) {
        return ecsrev_canon__write_string(out, item->valuestring, err);
    }
    if (cJSON_IsNumber(item)) {
        return ecsrev_canon_number(out, item->valuedouble, err);
    }
    if (cJSON_IsTrue(item)) {
        return ecsrev_buf_puts(out, "true", err);
    }
    if (cJSON_IsFalse(item)) {
        return ecsrev_buf_puts(out, "false", err);
    }
    if (cJSON_IsNull(item)) {
        return ecsrev_buf_puts(out, "null", err);
    }
    return ecsrev_error_set(err, ECSREV_EINVAL, "unsupported JSON value");
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
    (void)snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                   (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                   (int)(rem % 1000));
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
