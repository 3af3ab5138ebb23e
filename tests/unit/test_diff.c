/*
 * test_diff.c - the diff engine and its renderers.
 *
 * Golden cases live in tests/data/diff/<case>/{a.json,b.json,expected.json}
 * (written by tests/data/diff/make_cases.py with hand-written expectations):
 * both revisions are normalized, diffed, rendered as JSON, and the
 * "identical" and "changes" members compared with expected.json after
 * canonicalization. The engine is also run without the configuration-hash
 * short-cut, so "no change" and "same hash" are checked to agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ecsrev/canon.h>
#include <ecsrev/diff.h>
#include <ecsrev/json.h>

#include "canon_priv.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_cases[] = {
    "images",       "task-definition", "networking",        "load-balancers",
    "volumes",      "service-connect", "service-discovery", "vpc-lattice",
    "compute",      "security",        "managed-resources", "other",
    "reorder-only", "volatile-only",   "identity-only",
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        assert_int_equal(ecsrev_buf_append(&b, chunk, n, NULL), 0);
    }
    (void)fclose(f);
    *len = b.len;
    return ecsrev_buf_detach(&b);
}

static void load_rev(struct ecsrev_revision *out, const char *name, const char *file)
{
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/diff/%s/%s", ECSREV_TEST_DATA, name, file);
    size_t len = 0;
    char *json = read_file(path, &len);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_revision_normalize(out, json, len, 0, &err);
    if (rc != 0) {
        fail_msg("%s: %s", path, err.msg);
    }
    free(json);
}

/* Canonical text of @p item (owned). */
static char *canon_of(const cJSON *item)
{
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    assert_non_null(item);
    assert_int_equal(ecsrev_canon__write(&b, item, NULL), 0);
    return ecsrev_buf_detach(&b);
}

/* Canonical {"identical","changes"} of a rendered JSON diff. */
static char *core_of_rendered(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(doc, "schema")->valueint, 1);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "from"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "to"));
    cJSON *core = cJSON_CreateObject();
    cJSON_AddItemToObject(core, "identical",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "identical"), 1));
    cJSON_AddItemToObject(core, "changes",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "changes"), 1));
    char *out = canon_of(core);
    cJSON_Delete(core);
    cJSON_Delete(doc);
    return out;
}

static char *expected_of(const char *name)
{
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/diff/%s/expected.json", ECSREV_TEST_DATA, name);
    size_t len = 0;
    char *json = read_file(path, &len);
    cJSON *doc = cJSON_Parse(json);
    free(json);
    char *out = canon_of(doc);
    cJSON_Delete(doc);
    return out;
}

static void check_case(const char *name)
{
    struct ecsrev_revision a = {0};
    struct ecsrev_revision b = {0};
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    struct ecsrev_changes raw = ECSREV_CHANGES_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    load_rev(&a, name, "a.json");
    load_rev(&b, name, "b.json");

    assert_int_equal(ecsrev_diff_revisions(&ch, &a, &b, NULL, &err), 0);
    assert_int_equal(ecsrev_diff_render(&out, ECSREV_DIFF_JSON, &ch, &a, &b, NULL, &err), 0);
    char *got = core_of_rendered(out.ptr);
    char *want = expected_of(name);
    if (strcmp(got, want) != 0) {
        fail_msg("case %s:\n got  %s\n want %s", name, got, want);
    }

    /* Without the hash short-cut the walk must agree, and "no change" <=> same hash. */
    assert_int_equal(ecsrev_diff_docs(&raw, a.canon, a.canon_len, b.canon, b.canon_len, NULL, &err),
                     0);
    assert_int_equal(raw.n, ch.n);
    bool same_hash = memcmp(a.config_hash, b.config_hash, ECSREV_HASH_LEN) == 0;
    assert_true(same_hash == (raw.n == 0));
    assert_true(ch.same_config == same_hash);

    /* Each side against itself. */
    assert_int_equal(ecsrev_diff_docs(&raw, b.canon, b.canon_len, b.canon, b.canon_len, NULL, &err),
                     0);
    assert_int_equal(raw.n, 0);

    free(got);
    free(want);
    ecsrev_buf_dispose(&out);
    ecsrev_changes_dispose(&ch);
    ecsrev_changes_dispose(&raw);
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&b);
}

static void test_golden_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        check_case(s_cases[i]);
    }
}

/* Diff two case files with options; returns the summary line (owned). */
static char *summary_of(const char *name, unsigned mask, size_t *n)
{
    struct ecsrev_revision a = {0};
    struct ecsrev_revision b = {0};
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    struct ecsrev_diff_options opt = ECSREV_DIFF_OPTIONS_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    opt.categories = mask;
    load_rev(&a, name, "a.json");
    load_rev(&b, name, "b.json");
    assert_int_equal(ecsrev_diff_revisions(&ch, &a, &b, &opt, NULL), 0);
    *n = ch.n;
    assert_int_equal(ecsrev_diff_summary(&out, &ch, NULL), 0);
    ecsrev_changes_dispose(&ch);
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&b);
    return ecsrev_buf_detach(&out);
}

static void test_summary(void **state)
{
    (void)state;
    size_t n = 0;
    char *s = summary_of("images", 0, &n);
    assert_string_equal(s, "images: web 1.4.2\xe2\x86\x92"
                           "1.4.3, +worker");
    free(s);
    s = summary_of("networking", 0, &n);
    assert_string_equal(s, "networking: assignPublicIp DISABLED\xe2\x86\x92"
                           "ENABLED, -sg-0aa111, +sg-0fe333");
    free(s);
    s = summary_of("security", 0, &n);
    assert_string_equal(s, "security: guardDutyEnabled false\xe2\x86\x92true");
    free(s);
    s = summary_of("reorder-only", 0, &n);
    assert_string_equal(s, "no configuration change");
    free(s);
}

static void test_category_filter(void **state)
{
    (void)state;
    unsigned mask = 0;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_diff_category_parse(&mask, "images, networking", &err), 0);
    assert_int_equal(mask, (1u << ECSREV_CAT_IMAGES) | (1u << ECSREV_CAT_NETWORKING));
    assert_int_equal(ecsrev_diff_category_parse(&mask, "image", &err), ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "unknown category 'image'"));
    assert_int_equal(ecsrev_diff_category_parse(&mask, "", &err), ECSREV_EINVAL);
    assert_string_equal(ecsrev_diff_category_name(ECSREV_CAT_MANAGED_RESOURCES),
                        "managed-resources");

    size_t n = 0;
    char *s = summary_of("images", 1u << ECSREV_CAT_NETWORKING, &n);
    assert_int_equal(n, 0);
    free(s);
    s = summary_of("images", 1u << ECSREV_CAT_IMAGES, &n);
    assert_int_equal(n, 3);
    free(s);
    /* resolvedConfiguration.loadBalancers belongs to load-balancers */
    s = summary_of("load-balancers", 1u << ECSREV_CAT_LOAD_BALANCERS, &n);
    assert_int_equal(n, 3);
    free(s);
}

/* Diff raw (not normalized) documents: engine behaviour independent of the normalizer. */
static size_t diff_raw(struct ecsrev_changes *ch, const char *a, const char *b)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_diff_docs(ch, a, strlen(a), b, strlen(b), NULL, &err);
    if (rc != 0) {
        fail_msg("diff failed: %s", err.msg);
    }
    return ch->n;
}

static void test_engine_edges(void **state)
{
    (void)state;
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    /* type change is one change */
    assert_int_equal(diff_raw(&ch, "{\"x\":1}", "{\"x\":\"1\"}"), 1);
    assert_int_equal(ch.items[0].op, ECSREV_CHANGE_CHANGED);
    assert_string_equal(ch.items[0].category, "other");
    assert_string_equal(ch.items[0].old_json, "1");
    assert_string_equal(ch.items[0].new_json, "\"1\"");

    /* duplicate keys in a keyed array: compared by index */
    assert_int_equal(diff_raw(&ch,
                              "{\"containerImages\":[{\"containerName\":\"a\",\"image\":\"x\"},"
                              "{\"containerName\":\"a\",\"image\":\"y\"}]}",
                              "{\"containerImages\":[{\"containerName\":\"a\",\"image\":\"x\"},"
                              "{\"containerName\":\"a\",\"image\":\"z\"}]}"),
                     1);
    assert_string_equal(ch.items[0].path, "containerImages[1].image");

    /* a list (unknown member) element added at the end */
    assert_int_equal(diff_raw(&ch, "{\"l\":[1,2]}", "{\"l\":[1,2,3]}"), 1);
    assert_string_equal(ch.items[0].path, "l[2]");
    assert_int_equal(ch.items[0].op, ECSREV_CHANGE_ADDED);

    /* identity members never count, even when absent on one side */
    assert_int_equal(diff_raw(&ch, "{\"serviceRevisionArn\":\"a\",\"createdAt\":\"x\"}", "{}"), 0);

    /* duplicates in a set: the surplus counts */
    assert_int_equal(diff_raw(&ch,
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[\"s1\",\"s1\"]}}}",
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[\"s1\"]}}}"),
                     1);
    assert_string_equal(ch.items[0].path, "networkConfiguration.awsvpcConfiguration.subnets[s1]");
    assert_int_equal(ch.items[0].op, ECSREV_CHANGE_REMOVED);

    /* a whole resolvedConfiguration added splits into its categories */
    assert_int_equal(
        diff_raw(&ch, "{}", "{\"resolvedConfiguration\":{\"loadBalancers\":[],\"x\":1}}"), 2);
    assert_string_equal(ch.items[0].category, "load-balancers");
    assert_string_equal(ch.items[1].category, "other");

    /* bad input */
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_diff_docs(&ch, "[1]", 3, "{}", 2, NULL, &err), ECSREV_EINVAL);
    assert_int_equal(ch.n, 0);
    assert_int_equal(ecsrev_diff_docs(&ch, "{}", 2, "{", 1, NULL, &err), ECSREV_EPARSE);
    assert_non_null(strstr(err.msg, "revision B"));
    ecsrev_changes_dispose(&ch);
}

/* Many set members and keyed elements: hashing keeps this fast (no quadratic walk). */
static void test_large_arrays(void **state)
{
    (void)state;
    enum { N = 50000 };
    struct ecsrev_buf a = ECSREV_BUF_INIT;
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    assert_int_equal(ecsrev_buf_puts(&a,
                                     "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                                     "{\"subnets\":[",
                                     NULL),
                     0);
    assert_int_equal(ecsrev_buf_puts(&b,
                                     "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                                     "{\"subnets\":[",
                                     NULL),
                     0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ecsrev_buf_printf(&a, NULL, "%s\"s-%d\"", i ? "," : "", i), 0);
        assert_int_equal(ecsrev_buf_printf(&b, NULL, "%s\"s-%d\"", i ? "," : "", N - 1 - i + 1), 0);
    }
    assert_int_equal(ecsrev_buf_puts(&a, "]}}}", NULL), 0);
    assert_int_equal(ecsrev_buf_puts(&b, "]}}}", NULL), 0);
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    assert_int_equal(ecsrev_diff_docs(&ch, a.ptr, a.len, b.ptr, b.len, NULL, NULL), 0);
    assert_int_equal(ch.n, 2); /* s-0 removed, s-50000 added */
    ecsrev_changes_dispose(&ch);
    ecsrev_buf_dispose(&a);
    ecsrev_buf_dispose(&b);
}

/* "path op old new" of every change, one per line (owned). */
static char *changes_text(const struct ecsrev_changes *ch)
{
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    assert_int_equal(ecsrev_buf_puts(&b, "", NULL), 0);
    for (size_t i = 0; i < ch->n; i++) {
        const struct ecsrev_change *c = &ch->items[i];
        assert_int_equal(ecsrev_buf_printf(&b, NULL, "%s %s %d %s %s\n", c->category, c->path,
                                           (int)c->op, c->old_json ? c->old_json : "-",
                                           c->new_json ? c->new_json : "-"),
                         0);
    }
    return ecsrev_buf_detach(&b);
}

/*
 * Objects in canonical member order are paired by a merge, others through a
 * hash table: both give the same changes, whatever the order of each side.
 */
static void test_member_order(void **state)
{
    (void)state;
    const char *sorted[2] = {"{\"a\":{\"x\":2,\"y\":1},\"b\":1,\"createdAt\":\"t1\"}",
                             "{\"a\":{\"x\":3,\"y\":1},\"c\":true,\"createdAt\":\"t2\"}"};
    const char *shuffled[2] = {"{\"createdAt\":\"t1\",\"b\":1,\"a\":{\"y\":1,\"x\":2}}",
                               "{\"c\":true,\"a\":{\"y\":1,\"x\":3},\"createdAt\":\"t2\"}"};
    const char *want = "other a.x 2 2 3\nother b 1 1 -\nother c 0 - true\n";
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    for (int i = 0; i < 4; i++) {
        const char *a = (i & 1) ? shuffled[0] : sorted[0];
        const char *b = (i & 2) ? shuffled[1] : sorted[1];
        assert_int_equal(diff_raw(&ch, a, b), 3);
        char *got = changes_text(&ch);
        assert_string_equal(got, want);
        free(got);
    }

    /*
     * RFC 8785 order is UTF-16 order: U+1F600 (a surrogate pair, D83D DE00)
     * sorts before U+E000, the reverse of their UTF-8 byte order. A merge in
     * byte order would miss the pair here and report U+E000 added and removed.
     */
    assert_int_equal(
        diff_raw(&ch, "{\"\xf0\x9f\x98\x80\":1,\"\xee\x80\x80\":1}", "{\"\xee\x80\x80\":2}"), 2);
    char *got = changes_text(&ch);
    assert_string_equal(got, "other \xee\x80\x80 2 1 2\nother \xf0\x9f\x98\x80 1 1 -\n");
    free(got);
    ecsrev_changes_dispose(&ch);
}

/* Every top-level member lands in its category (the lookup table is searched by halves). */
static void test_top_categories(void **state)
{
    (void)state;
    static const struct {
        const char *member;
        const char *category;
    } cases[] = {
        {"aaa", "other"},
        {"capacityProviderStrategy", "compute"},
        {"clusterArn", "other"},
        {"containerImages", "images"},
        {"ecsManagedResources", "managed-resources"},
        {"fargateEphemeralStorage", "volumes"},
        {"guardDutyEnabled", "security"},
        {"launchType", "compute"},
        {"loadBalancers", "load-balancers"},
        {"networkConfiguration", "networking"},
        {"overrides", "compute"},
        {"platformFamily", "compute"},
        {"platformVersion", "compute"},
        {"serviceConnectConfiguration", "service-connect"},
        {"serviceRegistries", "service-discovery"},
        {"taskDefinition", "task-definition"},
        {"volumeConfigurations", "volumes"},
        {"vpcLatticeConfigurations", "vpc-lattice"},
        {"zzz", "other"},
    };
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    char doc[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)snprintf(doc, sizeof(doc), "{\"%s\":1}", cases[i].member);
        assert_int_equal(diff_raw(&ch, "{}", doc), 1);
        assert_string_equal(ch.items[0].category, cases[i].category);
        assert_string_equal(ch.items[0].path, cases[i].member);
    }
    ecsrev_changes_dispose(&ch);
}

/* Paths, names and owners of changes below selectors of every kind. */
static void test_selector_paths(void **state)
{
    (void)state;
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    /* a number key, inside a keyed element */
    assert_int_equal(diff_raw(&ch,
                              "{\"serviceConnectConfiguration\":{\"services\":[{\"clientAliases\":"
                              "[{\"dnsName\":\"a\",\"port\":80}],\"portName\":\"http\"}]}}",
                              "{\"serviceConnectConfiguration\":{\"services\":[{\"clientAliases\":"
                              "[{\"dnsName\":\"b\",\"port\":80}],\"portName\":\"http\"}]}}"),
                     1);
    assert_string_equal(ch.items[0].path,
                        "serviceConnectConfiguration.services[http].clientAliases[80].dnsName");
    assert_string_equal(ch.items[0].name, "dnsName");
    assert_string_equal(ch.items[0].owner, "80");

    /* list indices, nested */
    assert_int_equal(diff_raw(&ch, "{\"l\":[{\"m\":[1,2]}]}", "{\"l\":[{\"m\":[1,3]}]}"), 1);
    assert_string_equal(ch.items[0].path, "l[0].m[1]");
    assert_string_equal(ch.items[0].name, "1");
    assert_null(ch.items[0].owner);

    /* set members: the string "1" and the number 1 are different members with the same label */
    assert_int_equal(diff_raw(&ch,
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[\"1\",{\"b\":[2]}]}}}",
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[1,{\"b\":[2]}]}}}"),
                     2);
    char *got = changes_text(&ch);
    assert_string_equal(got,
                        "networking networkConfiguration.awsvpcConfiguration.subnets[1] 0 - 1\n"
                        "networking networkConfiguration.awsvpcConfiguration.subnets[1] 1 "
                        "\"1\" -\n");
    free(got);
    assert_int_equal(diff_raw(&ch,
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[{\"b\":[2]}]}}}",
                              "{\"networkConfiguration\":{\"awsvpcConfiguration\":"
                              "{\"subnets\":[]}}}"),
                     1);
    assert_string_equal(ch.items[0].path,
                        "networkConfiguration.awsvpcConfiguration.subnets[{\"b\":[2]}]");
    ecsrev_changes_dispose(&ch);
}

/* Keyed arrays small enough for the table's inline slots and larger ones match alike. */
static void test_keyed_sizes(void **state)
{
    (void)state;
    for (int n = 1; n <= 12; n++) {
        struct ecsrev_buf a = ECSREV_BUF_INIT;
        struct ecsrev_buf b = ECSREV_BUF_INIT;
        assert_int_equal(ecsrev_buf_puts(&a, "{\"containerImages\":[", NULL), 0);
        assert_int_equal(ecsrev_buf_puts(&b, "{\"containerImages\":[", NULL), 0);
        for (int i = 0; i < n; i++) {
            /* B lists the elements in reverse order; element 0 changes its image */
            assert_int_equal(ecsrev_buf_printf(&a, NULL,
                                               "%s{\"containerName\":\"c%d\",\"image\":\"i:1\"}",
                                               i > 0 ? "," : "", i),
                             0);
            assert_int_equal(ecsrev_buf_printf(&b, NULL,
                                               "%s{\"containerName\":\"c%d\",\"image\":\"i:%d\"}",
                                               i > 0 ? "," : "", n - 1 - i, n - 1 - i == 0 ? 2 : 1),
                             0);
        }
        /* and one element only in A, one only in B */
        assert_int_equal(ecsrev_buf_puts(&a, ",{\"containerName\":\"old\"}]}", NULL), 0);
        assert_int_equal(ecsrev_buf_puts(&b, ",{\"containerName\":\"new\"}]}", NULL), 0);
        struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
        assert_int_equal(ecsrev_diff_docs(&ch, a.ptr, a.len, b.ptr, b.len, NULL, NULL), 0);
        char *got = changes_text(&ch);
        assert_string_equal(got, "images containerImages[c0].image 2 \"i:1\" \"i:2\"\n"
                                 "images containerImages[new] 0 - {\"containerName\":\"new\"}\n"
                                 "images containerImages[old] 1 {\"containerName\":\"old\"} -\n");
        assert_string_equal(ch.items[0].owner, "c0");
        free(got);
        ecsrev_changes_dispose(&ch);
        ecsrev_buf_dispose(&a);
        ecsrev_buf_dispose(&b);
    }
}

static void test_renderers(void **state)
{
    (void)state;
    struct ecsrev_revision a = {0};
    struct ecsrev_revision b = {0};
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_diff_render_options opt = ECSREV_DIFF_RENDER_OPTIONS_INIT;
    load_rev(&a, "networking", "a.json");
    load_rev(&b, "networking", "b.json");
    assert_int_equal(ecsrev_diff_revisions(&ch, &a, &b, NULL, NULL), 0);

    assert_int_equal(ecsrev_diff_render(&out, ECSREV_DIFF_TEXT, &ch, &a, &b, &opt, NULL), 0);
    assert_non_null(strstr(out.ptr, "networking (3)\n"));
    assert_non_null(strstr(out.ptr, "  ~ networkConfiguration.awsvpcConfiguration.assignPublicIp: "
                                    "\"DISABLED\" \xe2\x86\x92 \"ENABLED\"\n"));
    assert_non_null(strstr(
        out.ptr, "  + networkConfiguration.awsvpcConfiguration.securityGroups[sg-0fe333]\n"));
    assert_null(strchr(out.ptr, '\033'));
    ecsrev_buf_clear(&out);
    opt.color = true;
    assert_int_equal(ecsrev_diff_render(&out, ECSREV_DIFF_TEXT, &ch, &a, &b, &opt, NULL), 0);
    assert_non_null(strchr(out.ptr, '\033'));

    ecsrev_buf_clear(&out);
    assert_int_equal(ecsrev_diff_render(&out, ECSREV_DIFF_MARKDOWN, &ch, &a, &b, &opt, NULL), 0);
    assert_non_null(strstr(out.ptr, "#### networking\n\n| Change | Path | Old | New |\n"));
    assert_non_null(strstr(out.ptr, "| changed | `networkConfiguration.awsvpcConfiguration."
                                    "assignPublicIp` | `\"DISABLED\"` | `\"ENABLED\"` |\n"));
    assert_null(strchr(out.ptr, '\033'));

    /* log entries */
    struct ecsrev_diff_log_entry e = {&b, &a, &ch, true};
    ecsrev_buf_clear(&out);
    assert_int_equal(ecsrev_diff_render_log_entry(&out, ECSREV_DIFF_JSON, &e, false, NULL), 0);
    assert_non_null(strstr(out.ptr, "\"taskDefinition\":\"arn:aws:ecs:us-east-1:123456789012:"
                                    "task-definition/web:41\""));
    cJSON *doc = cJSON_Parse(out.ptr);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "changes")), 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "configChanged")));
    cJSON_Delete(doc);
    ecsrev_buf_clear(&out);
    e.prev = NULL;
    assert_int_equal(ecsrev_diff_render_log_entry(&out, ECSREV_DIFF_TEXT, &e, false, NULL), 0);
    assert_non_null(strstr(out.ptr, "task     web:41\nchanges  initial revision\n"));
    assert_string_equal(ecsrev_diff_task_def_short("web:3"), "web:3");

    ecsrev_buf_dispose(&out);
    ecsrev_changes_dispose(&ch);
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&b);
}

static void test_patch_shape(void **state)
{
    (void)state;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    const char *a = "{\"a\":[1,2,3,4],\"b\":{\"c/d\":1,\"e~\":2},\"gone\":true}";
    const char *b = "{\"a\":[1,9,4],\"b\":{\"c/d\":2,\"e~\":2},\"new\":null}";
    assert_int_equal(ecsrev_diff_patch(&out, a, strlen(a), b, strlen(b), NULL), 0);
    assert_string_equal(out.ptr, "[\n"
                                 "  {\"op\":\"replace\",\"path\":\"/a/1\",\"value\":9},\n"
                                 "  {\"op\":\"remove\",\"path\":\"/a/2\"},\n"
                                 "  {\"op\":\"replace\",\"path\":\"/b/c~1d\",\"value\":2},\n"
                                 "  {\"op\":\"remove\",\"path\":\"/gone\"},\n"
                                 "  {\"op\":\"add\",\"path\":\"/new\",\"value\":null}\n"
                                 "]\n");
    ecsrev_buf_clear(&out);
    assert_int_equal(ecsrev_diff_patch(&out, a, strlen(a), a, strlen(a), NULL), 0);
    assert_string_equal(out.ptr, "[\n]\n");
    ecsrev_buf_dispose(&out);
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_cases),    cmocka_unit_test(test_summary),
        cmocka_unit_test(test_category_filter), cmocka_unit_test(test_engine_edges),
        cmocka_unit_test(test_large_arrays),    cmocka_unit_test(test_renderers),
        cmocka_unit_test(test_patch_shape),     cmocka_unit_test(test_member_order),
        cmocka_unit_test(test_top_categories),  cmocka_unit_test(test_selector_paths),
        cmocka_unit_test(test_keyed_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
