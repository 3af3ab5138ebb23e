/*
 * test_json.c - the strict JSON parser: the fast single-pass path (with and
 * without an arena) gives the same trees and the same messages as the
 * careful check-by-check path, over hand-picked edge cases and over many
 * seeded random mutations of real revisions; the arena and the tagged
 * allocation hooks free what they must and nothing else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ecsrev/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_priv.h"
#include "testutil.h"

static struct ecsrev_json_arena *s_arena;

/* Parse @p len bytes three ways and fail unless all agree. @return 1 accepted, 0 rejected */
static int agree(const char *text, size_t len)
{
    cJSON *careful = NULL;
    cJSON *fast = NULL;
    cJSON *heap = NULL;
    struct ecsrev_error e1 = ECSREV_ERROR_INIT;
    struct ecsrev_error e2 = ECSREV_ERROR_INIT;
    struct ecsrev_error e3 = ECSREV_ERROR_INIT;
    int r1 = ecsrev_json__parse_careful(&careful, text, len, &e1);
    int r2 = ecsrev_json__parse_in(&fast, text, len, s_arena, &e2);
    int r3 = ecsrev_json__parse(&heap, text, len, &e3);
    if (r1 != r2 || r1 != r3) {
        fail_msg("paths disagree on [%.*s]: careful %d (%s), arena %d (%s), heap %d (%s)",
                 (int)(len > 200 ? 200 : len), text, r1, e1.msg, r2, e2.msg, r3, e3.msg);
    }
    if (r1 == 0) {
        if (!ecsrev_json__same_tree(careful, fast) || !ecsrev_json__same_tree(careful, heap)) {
            fail_msg("trees differ for [%.*s]", (int)(len > 200 ? 200 : len), text);
        }
    } else {
        assert_string_equal(e1.msg, e2.msg);
        assert_string_equal(e1.msg, e3.msg);
        assert_null(fast);
        assert_null(heap);
    }
    cJSON_Delete(careful);
    cJSON_Delete(fast);
    cJSON_Delete(heap);
    ecsrev_json_arena_reset(s_arena);
    return r1 == 0;
}

static int agree_str(const char *text)
{
    return agree(text, strlen(text));
}

static void test_edge_cases(void **state)
{
    (void)state;
    static const char *const accepted[] = {
        "{}",
        "[]",
        " [ ] ",
        "\t{\r\n}\n",
        "0",
        "-0",
        "1",
        "-1",
        "0.5",
        "-0.0",
        "1e3",
        "1E+3",
        "1e-3",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890123",
        "9007199254740993",
        "9007199254740992",
        "-9007199254740993",
        "2147483647",
        "2147483648",
        "-2147483649",
        "1e400",
        "-1e400",
        "4.9e-324",
        "1.7976931348623157e308",
        "0.1",
        "1.00000000000000011102230246251565404236316680908203125",
        "123.456",
        "-0.001",
        "0.30000000000000004",
        "900719925474099.2",
        "900719925474099.3",
        "9007199254740993.1",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "1.5e3",
        "[1.25,-2.5e-3,0.0]",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\"",
        "\"\\u00e9\\ud83d\\ude00\"",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"\\uFFFF\\uffff\\u0001\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "{\"\":1}",
        "{\"a\":{\"b\":[1,{\"c\":null}]}}",
        "[1,\"x\",true,false,null,{},[]]",
        "{\"abcdefghijklmnop\":\"0123456789abcdef0123456789\"}",
        /* numbers cJSON takes though RFC 8259 does not: the careful path decides */
        "01",
        "1.",
        "-01.5",
        "1.e5",
        "\xef\xbb\xbf{}",
        "\x01[1]",
    };
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        if (!agree_str(accepted[i])) {
            fail_msg("rejected [%s]", accepted[i]);
        }
    }
    static const char *const rejected[] = {
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{a:1}",
        "'a'",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u123g\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"a\x01\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"",
        "tru",
        "nul",
        "truex",
        "-",
        "+1",
        ".5",
        "1e",
        "1e+",
        "0x10",
        "1 2",
        "{} {}",
        "[1] x",
        "{\"a\":1,\"a\":2}",
        "[{\"b\":1,\"b\":1}]",
        "[1 2]",
        "{\"a\" 1}",
        "[\"a\":1]",
        "\xff",
        "[1]\x01",
    };
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        if (agree_str(rejected[i])) {
            fail_msg("accepted [%s]", rejected[i]);
        }
    }
    /* duplicates found on the way (up to 32 members) and by the sorted check past that */
    for (int members = 20; members <= 40; members += 20) {
        char obj[1024];
        size_t o = 0;
        obj[o++] = '{';
        for (int i = 0; i < members; i++) {
            o += (size_t)snprintf(obj + o, sizeof(obj) - o, "%s\"member%02d\":%d", i ? "," : "", i,
                                  i);
        }
        (void)snprintf(obj + o, sizeof(obj) - o, "}");
        assert_int_equal(agree_str(obj), 1);
        (void)snprintf(obj + o, sizeof(obj) - o, ",\"member07\":1}");
        assert_int_equal(agree_str(obj), 0);
        (void)snprintf(obj + o, sizeof(obj) - o, ",\"member%02d\":1}", members - 1);
        assert_int_equal(agree_str(obj), 0);
    }
    /* names alike in length, head and tail */
    assert_int_equal(agree_str("{\"abcdefgh-1-ijklmnop\":1,\"abcdefgh-2-ijklmnop\":2}"), 1);
    assert_int_equal(agree_str("{\"abcdefgh-1-ijklmnop\":1,\"abcdefgh-1-ijklmnop\":2}"), 0);
    /* NUL bytes, inside and outside strings */
    assert_int_equal(agree("[1]\0", 4), 0);
    assert_int_equal(agree("\"a\0b\"", 5), 0);
    /* numbers longer than the fast path's 63 characters */
    char longnum[80];
    memset(longnum, '1', 70);
    longnum[70] = '\0';
    assert_int_equal(agree_str(longnum), 1);
    longnum[63] = '\0';
    assert_int_equal(agree_str(longnum), 1);
}

static void test_depth(void **state)
{
    (void)state;
    char buf[2 * (ECSREV_JSON_MAX_DEPTH + 1) + 1];
    for (int depth = ECSREV_JSON_MAX_DEPTH; depth <= ECSREV_JSON_MAX_DEPTH + 1; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        buf[2 * depth] = '\0';
        assert_int_equal(agree_str(buf), depth <= ECSREV_JSON_MAX_DEPTH);
    }
}

/* xorshift64*, seeded: the same mutations on every run */
static uint64_t s_rng = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t next_rand(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * UINT64_C(2685821657736338717);
}

/* Bytes that matter to a JSON parser, to mutate with. */
static const char s_interesting[] = "{}[]\",:\\/ubfnrt0123456789-+.eE \t\r\nxa\x01\x7f\x80\xc3\xa9"
                                    "\xed\xf0\xff";

static void test_mutations(void **state)
{
    (void)state;
    const char *files[] = {"revisions/full-api.json", "revisions/single.json",
                           "revisions/full-cli.json"};
    size_t accepted = 0;
    size_t total = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t len = 0;
        char *orig = tu_read_data(files[f], &len);
        assert_non_null(orig);
        assert_int_equal(agree(orig, len), 1);
        char *m = malloc(len + 8);
        assert_non_null(m);
        for (int round = 0; round < 1500; round++) {
            memcpy(m, orig, len);
            size_t mlen = len;
            int edits = 1 + (int)(next_rand() % 3);
            for (int k = 0; k < edits && mlen > 0; k++) {
                size_t at = (size_t)(next_rand() % mlen);
                char c = s_interesting[next_rand() % (sizeof(s_interesting) - 1)];
                switch (next_rand() % 3) {
                case 0: /* replace */
                    m[at] = c;
                    break;
                case 1: /* delete */
                    memmove(m + at, m + at + 1, mlen - at - 1);
                    mlen--;
                    break;
                default: /* insert */
                    memmove(m + at + 1, m + at, mlen - at);
                    m[at] = c;
                    mlen++;
                    break;
                }
            }
            accepted += (size_t)agree(m, mlen);
            total++;
        }
        free(m);
        free(orig);
    }
    /* the mutations must exercise both sides */
    assert_true(accepted > total / 20);
    assert_true(accepted < total - total / 20);
}

/* Random decimals: the exact path (53-bit digits, up to 22 after the point) against strtod. */
static void test_decimals(void **state)
{
    (void)state;
    char text[64];
    for (int i = 0; i < 20000; i++) {
        uint64_t mant = next_rand() >> (11 + next_rand() % 50);
        int frac = (int)(next_rand() % 25);
        char digits[32];
        int n = snprintf(digits, sizeof(digits), "%0*llu", frac + 1, (unsigned long long)mant);
        int whole = n - frac;
        (void)snprintf(text, sizeof(text), "%s%.*s%s%.*s", next_rand() % 2 ? "-" : "", whole,
                       digits, frac > 0 ? "." : "", frac, digits + whole);
        if (!agree_str(text)) {
            fail_msg("rejected [%s]", text);
        }
    }
}

/*
 * Strings of every length up to 80 (plain, with an escape, with UTF-8), many
 * times over: the plain ones are copied while scanned, and their copies meet
 * the end of arena chunks and of the text at every offset.
 */
static void test_string_lengths(void **state)
{
    (void)state;
    size_t cap = 400000;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t n = 0;
    doc[n++] = '[';
    for (int round = 0; n + 300 < cap; round++) {
        int len = round % 81;
        int kind = (round / 81) % 3;
        char sep = round > 0 ? ',' : ' ';
        doc[n++] = sep;
        doc[n++] = '"';
        for (int k = 0; k < len; k++) {
            doc[n++] = (char)('a' + (k + round) % 26);
        }
        if (kind == 1) {
            memcpy(doc + n, "\\n", 2);
            n += 2;
        } else if (kind == 2) {
            memcpy(doc + n, "\xc3\xa9", 2);
            n += 2;
        }
        doc[n++] = '"';
    }
    doc[n++] = ']';
    assert_int_equal(agree(doc, n), 1);
    /* the last string ends right before the end of the text, at every length */
    for (int len = 0; len <= 40; len++) {
        char tail[64];
        int t = snprintf(tail, sizeof(tail), "\"%.*s\"", len,
                         "0123456789abcdefghijklmnopqrstuvwxyzABCDE");
        assert_int_equal(agree(tail, (size_t)t), 1);
        assert_int_equal(agree(tail, (size_t)t - 1), 0);
    }
    free(doc);
}

static void test_arena_and_hooks(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = tu_read_data("revisions/full-api.json", &len);
    assert_non_null(text);
    struct ecsrev_json_arena *arena = ecsrev_json_arena_new();
    for (int i = 0; i < 50; i++) {
        cJSON *doc = NULL;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        assert_int_equal(ecsrev_json__parse_in(&doc, text, len, arena, &err), 0);
        /* cJSON operations that free and allocate, mixed into an arena tree */
        cJSON *added = cJSON_CreateString("heap node");
        cJSON_AddItemToObject(doc, "extra", added);
        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(doc, "extra", cJSON_CreateNumber(1)));
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "serviceRevisions");
        char *printed = cJSON_PrintUnformatted(doc);
        assert_non_null(printed);
        cJSON_free(printed);
        cJSON_Delete(doc); /* frees the heap nodes only; ASan/valgrind see no leak */
        ecsrev_json_arena_reset(arena);
    }
    /* a document larger than the first chunk */
    size_t big_len = 0;
    char *big = malloc(len * 40 + 64);
    assert_non_null(big);
    big[big_len++] = '[';
    for (int i = 0; i < 40; i++) {
        if (i > 0) {
            big[big_len++] = ',';
        }
        memcpy(big + big_len, text, len);
        big_len += len;
    }
    big[big_len++] = ']';
    cJSON *doc = NULL;
    assert_int_equal(ecsrev_json__parse_in(&doc, big, big_len, arena, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(doc), 40);
    cJSON_Delete(doc);
    ecsrev_json_arena_reset(arena);
    ecsrev_json_arena_reset(arena);
    ecsrev_json_arena_free(arena);
    ecsrev_json_arena_free(NULL);
    free(big);
    free(text);
}

int main(void)
{
    ecsrev_json_init();
    s_arena = ecsrev_json_arena_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),     cmocka_unit_test(test_depth),
        cmocka_unit_test(test_mutations),      cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_string_lengths), cmocka_unit_test(test_arena_and_hooks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ecsrev_json_arena_free(s_arena);
    return rc;
}
