/*
 * test_canon.c - RFC 8785 canonical JSON, ECMAScript numbers, timestamps.
 *
 * Data: tests/data/canon/rfc8785/ (the reference implementation's vectors)
 * and tests/data/canon/numbers.txt (bits -> JSON.stringify output, generated
 * once with node by scripts/gen-canon-numbers.js). The fast paths (strings
 * checked eight bytes at a time, member sorting, epoch seconds to
 * milliseconds without the digit search) are checked against simple
 * reference implementations written here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canon_priv.h"
#include "json_priv.h"
#include "testutil.h"

#include <ecsrev/canon.h>
#include <ecsrev/json.h>

#include <math.h>

/* Canonicalize @p json; returns the owned bytes or NULL (err filled). */
static char *canon(const char *json, int *rc_out, struct ecsrev_error *err)
{
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    int rc = ecsrev_canon_json(&out, json, strlen(json), err);
    if (rc_out != NULL) {
        *rc_out = rc;
    }
    if (rc < 0) {
        ecsrev_buf_dispose(&out);
        return NULL;
    }
    return ecsrev_buf_detach(&out);
}

static void assert_canon(const char *json, const char *expected)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char *got = canon(json, NULL, &err);
    if (got == NULL) {
        fail_msg("canon(%s) failed: %s", json, err.msg);
    }
    assert_string_equal(got, expected);
    free(got);
}

static void assert_number(double d, const char *expected)
{
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon_number(&out, d, &err), 0);
    if (strcmp(out.ptr, expected) != 0) {
        fail_msg("number %.17g: got %s, expected %s", d, out.ptr, expected);
    }
    ecsrev_buf_dispose(&out);
}

static void test_rfc8785_vectors(void **state)
{
    (void)state;
    static const char *const s_names[] = {"arrays",  "french", "structures",
                                          "unicode", "values", "weird"};
    for (size_t i = 0; i < sizeof(s_names) / sizeof(s_names[0]); i++) {
        char path[128];
        size_t in_len = 0;
        size_t out_len = 0;
        (void)snprintf(path, sizeof(path), "canon/rfc8785/input/%s.json", s_names[i]);
        char *in = tu_read_data(path, &in_len);
        (void)snprintf(path, sizeof(path), "canon/rfc8785/output/%s.json", s_names[i]);
        char *expected = tu_read_data(path, &out_len);
        struct ecsrev_buf out = ECSREV_BUF_INIT;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        if (ecsrev_canon_json(&out, in, in_len, &err) != 0) {
            fail_msg("%s: %s", s_names[i], err.msg);
        }
        if (out.len != out_len || memcmp(out.ptr, expected, out_len) != 0) {
            fail_msg("%s: got %s", s_names[i], out.ptr);
        }
        /* idempotent: the canonical form is its own canonical form */
        struct ecsrev_buf again = ECSREV_BUF_INIT;
        assert_int_equal(ecsrev_canon_json(&again, out.ptr, out.len, &err), 0);
        assert_int_equal(again.len, out.len);
        assert_memory_equal(again.ptr, out.ptr, out.len);
        ecsrev_buf_dispose(&again);
        ecsrev_buf_dispose(&out);
        free(in);
        free(expected);
    }
}

static void test_tricky_numbers(void **state)
{
    (void)state;
    assert_number(1e21, "1e+21");
    assert_number(1e20, "100000000000000000000");
    assert_number(1e-7, "1e-7");
    assert_number(1e-6, "0.000001");
    assert_number(5e-324, "5e-324");
    assert_number(-5e-324, "-5e-324");
    assert_number(333333333.33333329, "333333333.3333333");
    assert_number(-0.0, "0");
    assert_number(0.0, "0");
    assert_number(1e23, "1e+23");
    assert_number(9007199254740993.0, "9007199254740992");
    assert_number(0.1, "0.1");
    assert_number(100, "100");
    assert_number(123456789012345680000.0, "123456789012345680000");
    assert_number(1.7976931348623157e308, "1.7976931348623157e+308");
    assert_number(2.2250738585072014e-308, "2.2250738585072014e-308");
    assert_number(4.35, "4.35");
    assert_number(0.000001234, "0.000001234");
    assert_number(1.5e-7, "1.5e-7");
    assert_number(-1.5, "-1.5");
    assert_number(1732099730.123, "1732099730.123");
    assert_number(295147905179352830000.0, "295147905179352830000");

    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon_number(&out, NAN, &err), ECSREV_EINVAL);
    assert_int_equal(ecsrev_canon_number(&out, INFINITY, &err), ECSREV_EINVAL);
    assert_int_equal(ecsrev_canon_number(&out, -INFINITY, &err), ECSREV_EINVAL);
    assert_int_equal(out.len, 0);
    ecsrev_buf_dispose(&out);

    /* the same through the parser: literal forms of one value agree */
    assert_canon("[1E21,1e-7,-0,0.0,1.0,1e+0,10e-1,333333333.33333329,9007199254740993]",
                 "[1e+21,1e-7,0,0,1,1,1,333333333.3333333,9007199254740992]");
}

/* numbers.txt: "<hex bits> <expected>" lines from node's JSON.stringify. */
static void test_generated_numbers(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = tu_read_data("canon/numbers.txt", &len);
    size_t count = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        assert_non_null(space);
        *space = '\0';
        uint64_t bits = strtoull(line, NULL, 16);
        double d;
        memcpy(&d, &bits, sizeof(d));
        assert_number(d, space + 1);
        count++;
    }
    assert_true(count >= 2000);
    free(data);
}

static void test_member_order_utf16(void **state)
{
    (void)state;
    /* U+1F600 (surrogates D83D DE00) sorts before U+E000 in UTF-16,
       although its UTF-8 bytes (F0..) sort after EE 80 80 */
    assert_canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"a\":3,\"\":4,\"aa\":5,\"B\":6}",
                 "{\"\":4,\"B\":6,\"a\":3,\"aa\":5,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
    assert_true(ecsrev_canon__strcmp16("\xf0\x9f\x98\x80", "\xee\x80\x80") < 0);
    assert_true(ecsrev_canon__strcmp16("\xee\x80\x80", "\xf0\x9f\x98\x80") > 0);
    assert_true(ecsrev_canon__strcmp16("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81") < 0);
    assert_true(ecsrev_canon__strcmp16("a", "ab") < 0);
    assert_int_equal(ecsrev_canon__strcmp16("x\xc3\xa9", "x\xc3\xa9"), 0);
    /* nested objects are sorted too, arrays keep their order */
    assert_canon("{\"b\":[3,1,{\"z\":1,\"y\":2}],\"a\":{\"d\":1,\"c\":2}}",
                 "{\"a\":{\"c\":2,\"d\":1},\"b\":[3,1,{\"y\":2,\"z\":1}]}");
}

static void test_string_escapes(void **state)
{
    (void)state;
    assert_canon("\"\\u001f\\u0007\\u0001\"", "\"\\u001f\\u0007\\u0001\"");
    assert_canon("\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\"");
    assert_canon("\"\\u2028\\u2029\"", "\"\xe2\x80\xa8\xe2\x80\xa9\"");
    assert_canon("\"\\/\"", "\"/\"");
    assert_canon("\"\\u00e9\\u007f\"", "\"\xc3\xa9\x7f\"");
    assert_canon("\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\"");
    assert_canon("  [ true , false , null , \"\" , { } , [ ] ]  ", "[true,false,null,\"\",{},[]]");
}

static void assert_bad(const char *json, int code, const char *needle)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = 0;
    char *got = canon(json, &rc, &err);
    if (got != NULL) {
        fail_msg("accepted %s as %s", json, got);
    }
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    if (strstr(err.msg, needle) == NULL) {
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    }
    assert_null(strchr(err.msg, '\n'));
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_bad("{\"a\":", ECSREV_EPARSE, "line 1");
    assert_bad("[1,2", ECSREV_EPARSE, "line 1");
    assert_bad("", ECSREV_EPARSE, "");
    assert_bad("{\"a\":1}x", ECSREV_EPARSE, "unexpected data");
    assert_bad("\"\xff\"", ECSREV_EPARSE, "UTF-8");
    assert_bad("\"\xc0\xaf\"", ECSREV_EPARSE, "UTF-8");
    assert_bad("{\"a\":1,\"a\":2}", ECSREV_EPARSE, "duplicate member 'a'");
    assert_bad("{\"x\":{\"a\":1,\"a\":1}}", ECSREV_EPARSE, "duplicate");
    assert_bad("\"a\\u0000b\"", ECSREV_EPARSE, "\\u0000");
    assert_bad("[\"a\nb\"]", ECSREV_EPARSE, "control character 0x0a");
    assert_bad("[\"a\tb\"]", ECSREV_EPARSE, "control character 0x09");
    assert_bad("{\"\\u000a\":1,\"\\n\":2}", ECSREV_EPARSE, "duplicate member '?'");
    assert_bad("\"\\ud800\"", ECSREV_EPARSE, "");
    assert_bad("[1e400]", ECSREV_EINVAL, "Infinity");
    assert_bad("[NaN]", ECSREV_EPARSE, "");
    assert_bad("{'a':1}", ECSREV_EPARSE, "");

    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 70; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 70; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    assert_bad(deep, ECSREV_EPARSE, "nesting");

    /* 64 levels are fine */
    n = 0;
    for (int i = 0; i < 64; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 64; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    assert_canon(deep, deep);

    /* a capped output buffer fails cleanly */
    struct ecsrev_buf small = ECSREV_BUF_INIT;
    ecsrev_buf_init(&small, 4);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon_json(&small, "[1,2,3,4]", 9, &err), ECSREV_EINVAL);
    ecsrev_buf_dispose(&small);
}

static void assert_time(const char *text, const char *stored)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int64_t ms = 0;
    if (ecsrev_time_parse(&ms, text, &err) != 0) {
        fail_msg("'%s': %s", text, err.msg);
    }
    char out[32];
    ecsrev_time_format(out, ms);
    if (strcmp(out, stored) != 0) {
        fail_msg("'%s': got %s, expected %s", text, out, stored);
    }
}

static void assert_bad_time(const char *text)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int64_t ms = 0;
    if (ecsrev_time_parse(&ms, text, &err) == 0) {
        fail_msg("'%s' accepted", text);
    }
    assert_int_equal(err.code, ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "bad timestamp"));
    assert_null(strchr(err.msg, '\n')); /* one line, whatever the input */
}

static void test_time(void **state)
{
    (void)state;
    const char *want = "2024-11-20T10:15:30.123Z";
    assert_time("1732097730.123", want);
    assert_time("1.732097730123E9", want);
    assert_time("1.732097730123e+9", want);
    assert_time("1732097730123e-3", want);
    assert_time("1732097730.1234", want);
    assert_time("1732097730.1226", want);
    assert_time("2024-11-20T10:15:30.123000+00:00", want);
    assert_time("2024-11-20T10:15:30.123Z", want);
    assert_time("2024-11-20T11:15:30.123+01:00", want);
    assert_time("2024-11-20T05:15:30.123-0500", want);
    assert_time("2024-11-20T12:15:30.123+02", want);
    assert_time("2024-11-20 10:15:30.1225Z", want);
    assert_time("2024-11-20T10:15:30.122999999Z", want);
    assert_time("2024-11-20T10:15:30Z", "2024-11-20T10:15:30.000Z");
    assert_time("2024-11-20T10:15:30+00:00", "2024-11-20T10:15:30.000Z");
    assert_time("2024-11-20T10:15:30.9999Z", "2024-11-20T10:15:31.000Z");
    assert_time("2024-12-31T23:59:59.9995Z", "2025-01-01T00:00:00.000Z");
    assert_time("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z");
    assert_time("2000-03-01T00:30:00+01:00", "2000-02-29T23:30:00.000Z");
    assert_time("0", "1970-01-01T00:00:00.000Z");
    assert_time("0.0005", "1970-01-01T00:00:00.001Z");
    assert_time("0.0004", "1970-01-01T00:00:00.000Z");
    assert_time("-1.5", "1969-12-31T23:59:58.500Z");
    assert_time("-0.001", "1969-12-31T23:59:59.999Z");
    assert_time("1e9", "2001-09-09T01:46:40.000Z");
    assert_time("0001732097730.12300", want);
    assert_time("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z");
    assert_time("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z");

    assert_bad_time("");
    assert_bad_time("abc");
    assert_bad_time("1732097730.");
    assert_bad_time(".5");
    assert_bad_time("1e");
    assert_bad_time("1e400");
    assert_bad_time("17320977301234567890");
    assert_bad_time("2024-11-20T10:15:30");   /* no zone */
    assert_bad_time("2024-11-20T10:15:30.Z"); /* empty fraction */
    assert_bad_time("2024-02-30T10:15:30Z");  /* no such day */
    assert_bad_time("2023-02-29T10:15:30Z");  /* not a leap year */
    assert_bad_time("2024-11-20T24:00:00Z");
    assert_bad_time("2024-11-20T10:60:00Z");
    assert_bad_time("2024-11-20T10:15:30+25:00");
    assert_bad_time("2024-11-20T10:15:30Zjunk");
    assert_bad_time("2024-11-20");
    assert_bad_time("2024-1-20T10:15:30Z");
    assert_bad_time(" 1732097730");
    assert_bad_time("1732097730 ");
    assert_bad_time("0x10");
    assert_bad_time("2024-11-20T10:15:30\nZ");
    assert_bad_time(
        "1\n2\n3\n4\n5\n6\n7\n8\n9\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n0\n1\n2\n3\n4\n5\n6\n7"
        "\n8\n9\n0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n0");

    char out[32];
    ecsrev_time_format(out, 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    ecsrev_time_format(out, -1);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    ecsrev_time_format(out, INT64_C(951782400000)); /* 2000-02-29 */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
}

/* Every day of several centuries round-trips through format and parse. */
static void test_time_round_trip(void **state)
{
    (void)state;
    for (int64_t day = -800000; day < 2900000; day += 367) {
        int64_t ms = day * INT64_C(86400000) + (day % 86400) * 997;
        char text[32];
        ecsrev_time_format(text, ms);
        int64_t back = 0;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        if (ms < INT64_C(-62167219200000) || ms > INT64_C(253402300799999)) {
            continue;
        }
        if (ecsrev_time_parse(&back, text, &err) != 0) {
            fail_msg("%s: %s", text, err.msg);
        }
        assert_true(back == ms);
    }
}

/* ---- fast paths: strings, member order, epoch milliseconds ---------------- */

/* Deterministic pseudo-random numbers (xorshift64*) for the property tests. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

/* JSON.stringify of valid UTF-8 text, byte by byte: the reference for the fast writer. */
static void ref_quote(struct ecsrev_buf *out, const char *s)
{
    ecsrev_buf_add(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            ecsrev_buf_add(out, "\\\"", 2);
            break;
        case '\\':
            ecsrev_buf_add(out, "\\\\", 2);
            break;
        case '\b':
            ecsrev_buf_add(out, "\\b", 2);
            break;
        case '\f':
            ecsrev_buf_add(out, "\\f", 2);
            break;
        case '\n':
            ecsrev_buf_add(out, "\\n", 2);
            break;
        case '\r':
            ecsrev_buf_add(out, "\\r", 2);
            break;
        case '\t':
            ecsrev_buf_add(out, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                (void)snprintf(esc, sizeof(esc), "\\u%04x", *p);
                ecsrev_buf_add(out, esc, 6);
            } else {
                ecsrev_buf_add(out, p, 1);
            }
            break;
        }
    }
    ecsrev_buf_add(out, "\"", 1);
}

static void assert_string_written(const char *s)
{
    struct ecsrev_buf got = ECSREV_BUF_INIT;
    struct ecsrev_buf want = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_canon__write_string(&got, s, &err) != 0) {
        fail_msg("write_string(%s): %s", s, err.msg);
    }
    ref_quote(&want, s);
    if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len) != 0) {
        fail_msg("write_string: got %s, expected %s", got.ptr, want.ptr);
    }
    ecsrev_buf_dispose(&got);
    ecsrev_buf_dispose(&want);
}

/* Every escape class and UTF-8 length, at every offset around the 8-byte words. */
static void test_string_fast_path(void **state)
{
    (void)state;
    static const char *const s_specials[] = {
        "",
        "\"",
        "\\",
        "\b",
        "\f",
        "\n",
        "\r",
        "\t",
        "\x01",
        "\x1f",
        "\x7f",
        "/",
        " ",
        "~",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf",
        "\xe2\x80\xa8",
        "\xc2\x80",
    };
    char s[128];
    for (size_t k = 0; k < sizeof(s_specials) / sizeof(s_specials[0]); k++) {
        for (size_t before = 0; before <= 20; before++) {
            for (size_t after = 0; after <= 20; after++) {
                memset(s, 'a', before);
                size_t n = strlen(s_specials[k]);
                memcpy(s + before, s_specials[k], n);
                memset(s + before + n, 'z', after);
                s[before + n + after] = '\0';
                assert_string_written(s);
            }
        }
    }
    /* longer than the staging array, plain and with escapes */
    char *big = malloc(10001);
    assert_non_null(big);
    memset(big, 'x', 10000);
    big[10000] = '\0';
    assert_string_written(big);
    big[4095] = '\n';
    big[9999] = '"';
    assert_string_written(big);
    free(big);
}

/* Many strings in one document: every position of a string against the staging array. */
static void test_string_runs_in_document(void **state)
{
    (void)state;
    cJSON *array = cJSON_CreateArray();
    struct ecsrev_buf want = ECSREV_BUF_INIT;
    ecsrev_buf_add(&want, "[", 1);
    uint64_t rnd = 42;
    char s[320];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(next_random(&rnd) % 300);
        for (size_t j = 0; j < len; j++) {
            uint64_t r = next_random(&rnd) % 64;
            s[j] = r == 0 ? '"' : r == 1 ? '\n' : r == 2 ? '\\' : (char)('a' + r % 26);
        }
        s[len] = '\0';
        cJSON_AddItemToArray(array, cJSON_CreateString(s));
        if (i > 0) {
            ecsrev_buf_add(&want, ",", 1);
        }
        ref_quote(&want, s);
    }
    ecsrev_buf_add(&want, "]", 1);
    struct ecsrev_buf got = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon__write(&got, array, &err), 0);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.ptr, want.ptr, want.len);
    /* a buffer capped below the document's size fails at any flush */
    struct ecsrev_buf small = ECSREV_BUF_INIT;
    ecsrev_buf_init(&small, want.len - 1);
    assert_int_equal(ecsrev_canon__write(&small, array, &err), ECSREV_EINVAL);
    assert_int_equal(err.code, ECSREV_EINVAL);
    ecsrev_buf_dispose(&small);
    ecsrev_buf_dispose(&got);
    ecsrev_buf_dispose(&want);
    cJSON_Delete(array);
}

/* The writer accepts exactly the UTF-8 that ecsrev_json__check_utf8 accepts. */
static void test_string_utf8_agrees(void **state)
{
    (void)state;
    char s[16];
    static const unsigned char s_rest[] = {0x80, 0xbf, 0x41, 0xc0, 0x00};
    for (unsigned lead = 0x80; lead <= 0xff; lead++) {
        for (unsigned second = 0x01; second <= 0xff; second++) {
            for (size_t r = 0; r < sizeof(s_rest) * 3; r++) {
                /* "ab" + lead + second + 1..3 times rest + "c" (rest 0: the end) */
                unsigned char rest = s_rest[r / 3];
                size_t n = 0;
                s[n++] = 'a';
                s[n++] = 'b';
                s[n++] = (char)lead;
                s[n++] = (char)second;
                for (size_t k = 0; k <= r % 3 && rest != 0; k++) {
                    s[n++] = (char)rest;
                }
                s[n++] = rest != 0 ? 'c' : '\0';
                s[n] = '\0';
                struct ecsrev_error e1 = ECSREV_ERROR_INIT;
                struct ecsrev_error e2 = ECSREV_ERROR_INIT;
                struct ecsrev_buf b = ECSREV_BUF_INIT;
                int want = ecsrev_json__check_utf8(s, strlen(s), &e1);
                int got = ecsrev_canon__write_string(&b, s, &e2);
                if (want != got || strcmp(e1.msg, e2.msg) != 0) {
                    fail_msg("%02x %02x %02x x%zu: check_utf8 %d '%s', write_string %d '%s'", lead,
                             second, rest, r % 3 + 1, want, e1.msg, got, e2.msg);
                }
                if (got == 0) {
                    ecsrev_buf_clear(&b);
                    assert_string_written(s);
                }
                ecsrev_buf_dispose(&b);
            }
        }
    }
}

/* UTF-16 code units of valid UTF-8 @p s; returns how many. */
static size_t utf16_units(uint16_t *out, size_t cap, const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0' && n + 2 <= cap) {
        uint32_t cp = *p;
        size_t len = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
        cp = len == 1 ? cp : len == 2 ? cp & 0x1f : len == 3 ? cp & 0x0f : cp & 0x07;
        for (size_t i = 1; i < len; i++) {
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        p += len;
        if (cp >= 0x10000) {
            out[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
            out[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            out[n++] = (uint16_t)cp;
        }
    }
    return n;
}

static int ref_strcmp16(const char *a, const char *b)
{
    uint16_t ua[256];
    uint16_t ub[256];
    size_t na = utf16_units(ua, 256, a);
    size_t nb = utf16_units(ub, 256, b);
    for (size_t i = 0; i < na && i < nb; i++) {
        if (ua[i] != ub[i]) {
            return ua[i] < ub[i] ? -1 : 1;
        }
    }
    return (na > nb) - (na < nb);
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* Differences after common prefixes of every length (the 8-byte word loop). */
static void test_strcmp16_prefixes(void **state)
{
    (void)state;
    static const char *const s_tails[] = {
        "",
        "a",
        "b",
        "\x7f",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x9f\x98\x80",
        "\xf0\x9f\x98\x81",
        "\xf4\x8f\xbf\xbf",
        "ab",
        "a\xee\x80\x80",
    };
    const size_t n_tails = sizeof(s_tails) / sizeof(s_tails[0]);
    static const char s_prefix[] = "arn:aws:elasticloadbalancing:us-east-1:123456789012:tg/";
    char a[128];
    char b[128];
    for (size_t len = 0; len < sizeof(s_prefix); len++) {
        for (size_t i = 0; i < n_tails; i++) {
            for (size_t j = 0; j < n_tails; j++) {
                (void)snprintf(a, sizeof(a), "%.*s%s", (int)len, s_prefix, s_tails[i]);
                (void)snprintf(b, sizeof(b), "%.*s%s", (int)len, s_prefix, s_tails[j]);
                int want = ref_strcmp16(a, b);
                int got = sign(ecsrev_canon__strcmp16(a, b));
                if (want != got) {
                    fail_msg("strcmp16('%s', '%s') = %d, expected %d", a, b, got, want);
                }
            }
        }
    }
}

static int ref_compare_names(const void *x, const void *y)
{
    return ref_strcmp16(*(const char *const *)x, *(const char *const *)y);
}

/* Objects in random member order, wider than the members kept on the stack. */
static void test_member_order_shuffled(void **state)
{
    (void)state;
    static const char *const s_parts[] = {"a",
                                          "b",
                                          "Z",
                                          "\xc3\xa9",
                                          "\xee\x80\x80",
                                          "\xf0\x9f\x98\x80",
                                          "serviceConnectConfiguration"};
    const size_t n_parts = sizeof(s_parts) / sizeof(s_parts[0]);
    uint64_t rnd = 7;
    for (size_t n = 1; n <= 80; n += 3) {
        char names[80][96];
        const char *sorted[80];
        for (size_t i = 0; i < n; i++) {
            /* distinct names with shared prefixes: "<part><part>..#i" */
            size_t len = 0;
            for (int k = 0; k < 3; k++) {
                const char *part = s_parts[next_random(&rnd) % n_parts];
                len += (size_t)snprintf(names[i] + len, sizeof(names[i]) - len, "%s", part);
            }
            (void)snprintf(names[i] + len, sizeof(names[i]) - len, "#%zu", i);
            sorted[i] = names[i];
        }
        qsort((void *)sorted, n, sizeof(sorted[0]), ref_compare_names);
        cJSON *obj = cJSON_CreateObject();
        struct ecsrev_buf want = ECSREV_BUF_INIT;
        ecsrev_buf_add(&want, "{", 1);
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToObject(obj, names[i], cJSON_CreateNumber((double)i));
        }
        for (size_t i = 0; i < n; i++) {
            char num[32];
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, sorted[i]);
            ecsrev_buf_add(&want, i > 0 ? "," : "", i > 0 ? 1 : 0);
            ref_quote(&want, sorted[i]);
            int len = snprintf(num, sizeof(num), ":%d", (int)v->valuedouble);
            ecsrev_buf_add(&want, num, (size_t)len);
        }
        ecsrev_buf_add(&want, "}", 1);
        struct ecsrev_buf got = ECSREV_BUF_INIT;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        assert_int_equal(ecsrev_canon__write(&got, obj, &err), 0);
        assert_string_equal(got.ptr, want.ptr);
        /* sorting the tree in place gives the same order, and a sound list */
        ecsrev_canon__sort_members(obj);
        size_t i = 0;
        const cJSON *last = NULL;
        for (const cJSON *c = obj->child; c != NULL; c = c->next, i++) {
            assert_string_equal(c->string, sorted[i]);
            assert_true(c == obj->child || c->prev == last);
            last = c;
        }
        assert_int_equal(i, n);
        assert_ptr_equal(obj->child->prev, last);
        ecsrev_buf_clear(&got);
        assert_int_equal(ecsrev_canon__write(&got, obj, &err), 0);
        assert_string_equal(got.ptr, want.ptr);
        ecsrev_buf_dispose(&got);
        ecsrev_buf_dispose(&want);
        cJSON_Delete(obj);
    }
}

/* The text path that ecsrev_canon__seconds_to_ms must agree with. */
static int64_t ms_by_text(double v, int *rc)
{
    struct ecsrev_buf text = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int64_t ms = 0;
    *rc = ecsrev_canon_number(&text, v, &err);
    if (*rc == 0) {
        *rc = ecsrev_time_parse(&ms, text.ptr, &err);
    }
    ecsrev_buf_dispose(&text);
    return ms;
}

/* Check one value; returns whether the shortcut took it. */
static bool check_seconds(double v)
{
    int64_t fast = 0;
    if (!ecsrev_canon__seconds_to_ms(&fast, v)) {
        return false;
    }
    int rc = 0;
    int64_t slow = ms_by_text(v, &rc);
    if (rc != 0 || fast != slow) {
        fail_msg("%.17g s: shortcut %lld ms, text %lld ms (rc %d)", v, (long long)fast,
                 (long long)slow, rc);
    }
    return true;
}

static void test_seconds_to_ms(void **state)
{
    (void)state;
    int64_t ms = 0;
    /* the usual createdAt takes the shortcut */
    assert_true(ecsrev_canon__seconds_to_ms(&ms, 1704080639.162));
    assert_true(ms == INT64_C(1704080639162));
    assert_true(ecsrev_canon__seconds_to_ms(&ms, -1.5));
    assert_true(ms == -1500);
    assert_true(ecsrev_canon__seconds_to_ms(&ms, 1704080639.999));
    assert_true(ms == INT64_C(1704080639999));
    assert_true(ecsrev_canon__seconds_to_ms(&ms, 253402300799.999)); /* 9999-12-31 */
    assert_true(ms == INT64_C(253402300799999));
    assert_true(ecsrev_canon__seconds_to_ms(&ms, -62167219200.0)); /* 0000-01-01 */
    assert_true(ms == INT64_C(-62167219200000));
    /* what it leaves to the text path */
    assert_false(ecsrev_canon__seconds_to_ms(&ms, 253402300800.0)); /* out of range */
    assert_false(ecsrev_canon__seconds_to_ms(&ms, -62167219200.001));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, 0.0));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, 1e-7));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, 1e300));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, NAN));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, INFINITY));
    assert_false(ecsrev_canon__seconds_to_ms(&ms, 0.0015)); /* half a millisecond */
    /* every millisecond value (and its neighbouring doubles) the shortcut takes agrees
       with the shortest text, and it takes all of them from 2^-10 s on */
    uint64_t rnd = 1;
    for (int i = 0; i < 200000; i++) {
        int64_t m;
        switch (i % 4) {
        case 0:
            m = i / 4; /* small: 0 .. 50 s */
            break;
        case 1:
            m = INT64_C(1700000000000) + (int64_t)(next_random(&rnd) % INT64_C(100000000000));
            break;
        case 2:
            m = (int64_t)(next_random(&rnd) % INT64_C(253402300799999));
            break;
        default:
            m = -(int64_t)(next_random(&rnd) % INT64_C(62167219200000));
            break;
        }
        double v = (double)m / 1000.0;
        bool taken = check_seconds(v);
        if (!taken && fabs(v) >= 0x1p-10) {
            fail_msg("%.17g s (%lld ms) not taken by the shortcut", v, (long long)m);
        }
        (void)check_seconds(nextafter(v, INFINITY));
        (void)check_seconds(nextafter(v, -INFINITY));
        (void)check_seconds(((double)m + 0.5) / 1000.0); /* half-way: text path */
        (void)check_seconds(((double)m + 0.4999) / 1000.0);
        (void)check_seconds(((double)m + 0.5001) / 1000.0);
    }
    /* any double in range: random bit patterns */
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_random(&rnd);
        double v;
        memcpy(&v, &bits, sizeof(v));
        (void)check_seconds(v);
        (void)check_seconds(ldexp(v, -(int)(bits % 60)));
    }
}

static void test_time_format_edges(void **state)
{
    (void)state;
    char out[32];
    ecsrev_time_format(out, INT64_C(253402300799999));
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    ecsrev_time_format(out, INT64_C(-62167219200000));
    assert_string_equal(out, "0000-01-01T00:00:00.000Z");
    ecsrev_time_format(out, INT64_C(1704080639162));
    assert_string_equal(out, "2024-01-01T03:43:59.162Z");
    /* outside 0000..9999 (not stored, but formatted as before) */
    ecsrev_time_format(out, INT64_C(253402300800000));
    assert_string_equal(out, "10000-01-01T00:00:00.000Z");
    ecsrev_time_format(out, INT64_C(-62167219200001));
    assert_string_equal(out, "-001-12-31T23:59:59.999Z");
}

/* write_split: the config document is the canonical one without the omitted members. */
static void test_write_split(void **state)
{
    (void)state;
    static const char *const s_omits[][4] = {
        {NULL},           {"a", NULL},           {"e", NULL},
        {"a", "b", NULL}, {"b", "d", NULL},      {"c", "d", NULL},
        {"d", "e", NULL}, {"a", "c", "e", NULL}, {"x", NULL},
    };
    /* members out of order; a long one so that the staging array is flushed */
    char *big = malloc(6001);
    assert_non_null(big);
    memset(big, 'q', 6000);
    big[6000] = '\0';
    for (size_t k = 0; k < sizeof(s_omits) / sizeof(s_omits[0]); k++) {
        for (int with_big = 0; with_big < 2; with_big++) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddStringToObject(doc, "d", "4");
            cJSON_AddItemToObject(doc, "b", cJSON_CreateNumber(2));
            cJSON_AddStringToObject(doc, "e", with_big ? big : "5");
            cJSON_AddStringToObject(doc, "a", "\n1");
            cJSON_AddItemToObject(doc, "c", cJSON_CreateObject());
            struct ecsrev_buf canon = ECSREV_BUF_INIT;
            struct ecsrev_buf config = ECSREV_BUF_INIT;
            struct ecsrev_buf want = ECSREV_BUF_INIT;
            struct ecsrev_error err = ECSREV_ERROR_INIT;
            assert_int_equal(ecsrev_canon__write_split(&canon, &config, doc, s_omits[k], &err), 0);
            assert_int_equal(ecsrev_canon__write(&want, doc, &err), 0);
            assert_string_equal(canon.ptr, want.ptr);
            for (size_t i = 0; s_omits[k][i] != NULL; i++) {
                cJSON_DeleteItemFromObjectCaseSensitive(doc, s_omits[k][i]);
            }
            ecsrev_buf_clear(&want);
            assert_int_equal(ecsrev_canon__write(&want, doc, &err), 0);
            assert_string_equal(config.ptr, want.ptr);
            ecsrev_buf_dispose(&canon);
            ecsrev_buf_dispose(&config);
            ecsrev_buf_dispose(&want);
            cJSON_Delete(doc);
        }
    }
    free(big);
}

/* XXH3-128 vectors (the header's reference code), on both sides of the dispatch length. */
static void test_hash_vectors(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        const char *hex;
    } s_vectors[] = {
        {0, "99aa06d3014798d86001c324468d497f"},     {1, "495b62073ef70ca44c5cca45d0f4811f"},
        {240, "de57aab31e77a2ff93e173833f75ab66"},   {1023, "8e8ed756aa1f01faf0d330ce2b3300fb"},
        {1024, "4c17271c906df79223bc880ebf0d29c6"},  {3800, "b06891f9afa16a54afbea7a0bbf61359"},
        {65536, "2c7dfeea59d29a74cf188822048798b0"},
    };
    unsigned char *data = malloc(65536);
    assert_non_null(data);
    for (size_t i = 0; i < 65536; i++) {
        data[i] = (unsigned char)(i * 31 + 7);
    }
    for (size_t k = 0; k < sizeof(s_vectors) / sizeof(s_vectors[0]); k++) {
        uint8_t h[ECSREV_HASH_LEN];
        char hex[ECSREV_HASH_HEX_LEN];
        ecsrev_hash128(h, data, s_vectors[k].len);
        ecsrev_hash_hex(hex, h);
        assert_string_equal(hex, s_vectors[k].hex);
    }
    free(data);
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_vectors),
        cmocka_unit_test(test_tricky_numbers),
        cmocka_unit_test(test_generated_numbers),
        cmocka_unit_test(test_member_order_utf16),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_string_fast_path),
        cmocka_unit_test(test_string_runs_in_document),
        cmocka_unit_test(test_string_utf8_agrees),
        cmocka_unit_test(test_strcmp16_prefixes),
        cmocka_unit_test(test_member_order_shuffled),
        cmocka_unit_test(test_seconds_to_ms),
        cmocka_unit_test(test_time_format_edges),
        cmocka_unit_test(test_write_split),
        cmocka_unit_test(test_hash_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
