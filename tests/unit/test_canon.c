/*
 * test_canon.c - RFC 8785 canonical JSON, ECMAScript numbers, timestamps.
 *
 * Data: tests/data/canon/rfc8785/ (the reference implementation's vectors)
 * and tests/data/canon/numbers.txt (bits -> JSON.stringify output, generated
 * once with node by scripts/gen-canon-numbers.js).
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
