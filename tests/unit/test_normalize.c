/*
 * test_normalize.c - the ServiceRevision normalizer: type checks, timestamps,
 * set-like and keyed arrays, unknown members, identity, both hashes.
 *
 * Fixtures: tests/data/revisions/ (full-api.json: DescribeServiceRevisions
 * body with epoch timestamps; full-cli.json: the same as the AWS CLI prints
 * it; single.json: one bare revision; single.canon.json: its canonical form).
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
#include <ecsrev/hash.h>
#include <ecsrev/json.h>

#define N_REVS 5

/* Golden hashes of the revisions of full-api.json, in file order. Update
   only together with docs/CANONICAL.md: a change here changes every store. */
static const char *const s_golden[N_REVS][2] = {
    /* content hash, config hash; api/1 and api/2 share the configuration */
    {"264685df3766f748a05196c676935976", "05714327746593cf11e311265d72e45e"},
    {"09de460873cb0a12718ec54836a7e53e", "e802e07e5f1426bbc679ca37733e5cf9"},
    {"39fcead41f74208c2b0d61d4f0a32837", "5d95be2cce23f71ed1f7b857efae9808"},
    {"06635b9fa88ea38cf46ff0aedd66c300", "b2469b71280a248760021ce43e68727a"},
    {"e43c363bb40bfb674b19d32a91c859ce", "b2469b71280a248760021ce43e68727a"},
};

/* The revisions of a DescribeServiceRevisions body, each as owned JSON text. */
static void load_revisions(const char *rel, char *out[N_REVS])
{
    size_t len = 0;
    char *text = tu_read_data(rel, &len);
    cJSON *body = cJSON_ParseWithLength(text, len);
    assert_non_null(body);
    const cJSON *revs = cJSON_GetObjectItemCaseSensitive(body, "serviceRevisions");
    assert_int_equal(cJSON_GetArraySize(revs), N_REVS);
    for (int i = 0; i < N_REVS; i++) {
        out[i] = cJSON_PrintUnformatted(cJSON_GetArrayItem(revs, i));
    }
    cJSON_Delete(body);
    free(text);
}

static void free_revisions(char *revs[N_REVS])
{
    for (int i = 0; i < N_REVS; i++) {
        cJSON_free(revs[i]);
    }
}

static void normalize_ok(struct ecsrev_revision *rev, const char *json, unsigned flags)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_revision_normalize(rev, json, strlen(json), flags, &err) != 0) {
        fail_msg("normalize failed: %s", err.msg);
    }
}

/* Canonical bytes of a cJSON revision tree (printed, then normalized). */
static char *canon_of_tree(const cJSON *tree)
{
    char *text = cJSON_PrintUnformatted(tree);
    struct ecsrev_revision rev;
    normalize_ok(&rev, text, 0);
    cJSON_free(text);
    char *canon = rev.canon;
    rev.canon = NULL;
    ecsrev_revision_dispose(&rev);
    return canon;
}

static void hex(char out[ECSREV_HASH_HEX_LEN], const uint8_t h[ECSREV_HASH_LEN])
{
    ecsrev_hash_hex(out, h);
}

static void test_api_and_cli_forms_agree(void **state)
{
    (void)state;
    char *api[N_REVS];
    char *cli[N_REVS];
    load_revisions("revisions/full-api.json", api);
    load_revisions("revisions/full-cli.json", cli);
    for (int i = 0; i < N_REVS; i++) {
        struct ecsrev_revision a;
        struct ecsrev_revision c;
        normalize_ok(&a, api[i], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
        normalize_ok(&c, cli[i], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
        assert_string_equal(a.canon, c.canon);
        assert_memory_equal(a.content_hash, c.content_hash, ECSREV_HASH_LEN);
        assert_memory_equal(a.config_hash, c.config_hash, ECSREV_HASH_LEN);
        assert_true(a.created_ms == c.created_ms);
        /* the input texts really differ (timestamps, order) */
        assert_string_not_equal(api[i], cli[i]);
        ecsrev_revision_dispose(&a);
        ecsrev_revision_dispose(&c);
    }
    free_revisions(api);
    free_revisions(cli);
}

static void test_golden_hashes(void **state)
{
    (void)state;
    char *api[N_REVS];
    load_revisions("revisions/full-api.json", api);
    for (int i = 0; i < N_REVS; i++) {
        struct ecsrev_revision r;
        normalize_ok(&r, api[i], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
        char content[ECSREV_HASH_HEX_LEN];
        char config[ECSREV_HASH_HEX_LEN];
        hex(content, r.content_hash);
        hex(config, r.config_hash);
        if (strcmp(content, s_golden[i][0]) != 0 || strcmp(config, s_golden[i][1]) != 0) {
            fail_msg("revision %d: hashes {\"%s\", \"%s\"} differ from the golden ones", i, content,
                     config);
        }
        /* content hash is XXH3-128 of exactly the canonical bytes */
        uint8_t h[ECSREV_HASH_LEN];
        ecsrev_hash128(h, r.canon, r.canon_len);
        assert_memory_equal(h, r.content_hash, ECSREV_HASH_LEN);
        ecsrev_revision_dispose(&r);
    }
    free_revisions(api);
}

static void test_golden_canon_single(void **state)
{
    (void)state;
    size_t len = 0;
    size_t clen = 0;
    char *single = tu_read_data("revisions/single.json", &len);
    char *expected = tu_read_data("revisions/single.canon.json", &clen);
    struct ecsrev_revision r;
    normalize_ok(&r, single, ECSREV_NORMALIZE_REQUIRE_IDENTITY);
    assert_int_equal(r.canon_len, clen);
    assert_memory_equal(r.canon, expected, clen);
    /* single.json is revision web/2 of full-api.json */
    char *api[N_REVS];
    load_revisions("revisions/full-api.json", api);
    struct ecsrev_revision a;
    normalize_ok(&a, api[1], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
    assert_string_equal(a.canon, r.canon);
    assert_non_null(strstr(r.canon, "\"createdAt\":\"2024-11-20T10:15:30.123Z\""));
    assert_true(r.created_ms == INT64_C(1732097730123));
    assert_string_equal(r.arn, "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/"
                               "5613047295846107342");
    assert_string_equal(r.service_arn, "arn:aws:ecs:us-east-1:123456789012:service/prod/web");
    assert_string_equal(r.cluster_arn, "arn:aws:ecs:us-east-1:123456789012:cluster/prod");
    assert_string_equal(r.task_definition,
                        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:57");
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&r);
    free_revisions(api);
    free(single);
    free(expected);
}

static void test_idempotent(void **state)
{
    (void)state;
    char *api[N_REVS];
    load_revisions("revisions/full-api.json", api);
    for (int i = 0; i < N_REVS; i++) {
        struct ecsrev_revision a;
        struct ecsrev_revision b;
        normalize_ok(&a, api[i], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
        normalize_ok(&b, a.canon, ECSREV_NORMALIZE_REQUIRE_IDENTITY);
        assert_string_equal(a.canon, b.canon);
        assert_memory_equal(a.config_hash, b.config_hash, ECSREV_HASH_LEN);
        /* the RFC 8785 serializer alone does not change canonical bytes */
        struct ecsrev_buf c = ECSREV_BUF_INIT;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        assert_int_equal(ecsrev_canon_json(&c, a.canon, a.canon_len, &err), 0);
        assert_string_equal(c.ptr, a.canon);
        ecsrev_buf_dispose(&c);
        ecsrev_revision_dispose(&a);
        ecsrev_revision_dispose(&b);
    }
    free_revisions(api);
}

/* ---- every keyed and set-like array -------------------------------------- */

struct rule_case {
    const char *path;
    enum ecsrev_array_kind kind;
    const char *key;
    const char *alt;
};

/* Written out again on purpose: the test fails if the table loses a rule. */
static const struct rule_case s_cases[] = {
    {"networkConfiguration.awsvpcConfiguration.subnets", ECSREV_ARRAY_SET, NULL, NULL},
    {"networkConfiguration.awsvpcConfiguration.securityGroups", ECSREV_ARRAY_SET, NULL, NULL},
    {"ecsManagedResources.ingressPaths.loadBalancer.subnetIds", ECSREV_ARRAY_SET, NULL, NULL},
    {"ecsManagedResources.ingressPaths.loadBalancer.securityGroupIds", ECSREV_ARRAY_SET, NULL,
     NULL},
    {"monitoring.metricConfigurations.metricNames", ECSREV_ARRAY_SET, NULL, NULL},
    {"capacityProviderStrategy", ECSREV_ARRAY_KEYED, "capacityProvider", NULL},
    {"loadBalancers", ECSREV_ARRAY_KEYED, "targetGroupArn", "loadBalancerName"},
    {"serviceRegistries", ECSREV_ARRAY_KEYED, "registryArn", NULL},
    {"containerImages", ECSREV_ARRAY_KEYED, "containerName", NULL},
    {"serviceConnectConfiguration.services", ECSREV_ARRAY_KEYED, "portName", NULL},
    {"serviceConnectConfiguration.services.clientAliases", ECSREV_ARRAY_KEYED, "port", NULL},
    {"serviceConnectConfiguration.logConfiguration.secretOptions", ECSREV_ARRAY_KEYED, "name",
     NULL},
    {"volumeConfigurations", ECSREV_ARRAY_KEYED, "name", NULL},
    {"volumeConfigurations.managedEBSVolume.tagSpecifications", ECSREV_ARRAY_KEYED, "resourceType",
     NULL},
    {"volumeConfigurations.managedEBSVolume.tagSpecifications.tags", ECSREV_ARRAY_KEYED, "key",
     NULL},
    {"vpcLatticeConfigurations", ECSREV_ARRAY_KEYED, "targetGroupArn", NULL},
    {"resolvedConfiguration.loadBalancers", ECSREV_ARRAY_KEYED, "targetGroupArn", NULL},
    {"ecsManagedResources.ingressPaths", ECSREV_ARRAY_KEYED, "endpoint", NULL},
    {"ecsManagedResources.ingressPaths.loadBalancerSecurityGroups", ECSREV_ARRAY_KEYED, "arn",
     NULL},
    {"ecsManagedResources.ingressPaths.targetGroups", ECSREV_ARRAY_KEYED, "arn", NULL},
    {"ecsManagedResources.autoScaling.applicationAutoScalingPolicies", ECSREV_ARRAY_KEYED, "arn",
     NULL},
    {"ecsManagedResources.metricAlarms", ECSREV_ARRAY_KEYED, "arn", NULL},
    {"ecsManagedResources.serviceSecurityGroups", ECSREV_ARRAY_KEYED, "arn", NULL},
    {"ecsManagedResources.logGroups", ECSREV_ARRAY_KEYED, "arn", NULL},
    {"monitoring.metricConfigurations", ECSREV_ARRAY_KEYED, "resolutionSeconds", NULL},
};

#define MAX_FOUND 16

/* Collect the arrays at a dotted member path (descending through arrays). */
static void find_arrays(cJSON *node, const char *path, cJSON *found[MAX_FOUND], int *n)
{
    if (cJSON_IsArray(node) && *path != '\0') {
        for (cJSON *c = node->child; c != NULL; c = c->next) {
            find_arrays(c, path, found, n);
        }
        return;
    }
    if (*path == '\0') {
        if (cJSON_IsArray(node) && *n < MAX_FOUND) {
            found[(*n)++] = node;
        }
        return;
    }
    const char *dot = strchr(path, '.');
    size_t len = dot != NULL ? (size_t)(dot - path) : strlen(path);
    char name[128];
    assert_true(len < sizeof(name));
    memcpy(name, path, len);
    name[len] = '\0';
    cJSON *child = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, name) : NULL;
    if (child != NULL) {
        find_arrays(child, dot != NULL ? dot + 1 : "", found, n);
    }
}

static void reverse_array(cJSON *array)
{
    /* relinked by hand: cJSON 1.7.15's InsertItemInArray at 0 loses items */
    cJSON *items[64];
    int n = 0;
    for (cJSON *c = array->child; c != NULL && n < 64; c = c->next) {
        items[n++] = c;
    }
    assert_true(n < 64);
    for (int i = 0; i < n; i++) {
        cJSON *it = items[n - 1 - i];
        it->prev = i == 0 ? items[0] : items[n - i];
        it->next = i + 1 < n ? items[n - 2 - i] : NULL;
    }
    array->child = n > 0 ? items[n - 1] : NULL;
}

/* Make the array long enough to have an order: add items with new keys. */
static void grow_array(cJSON *array, const struct rule_case *rc)
{
    if (rc->kind == ECSREV_ARRAY_SET) {
        cJSON_AddItemToArray(array, cJSON_CreateString("zz-added"));
        cJSON_AddItemToArray(array, cJSON_CreateString("00-added"));
        cJSON_AddItemToArray(array, cJSON_CreateString("00-added")); /* duplicates are kept */
        return;
    }
    const cJSON *first = array->child;
    assert_non_null(first);
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(first, rc->key);
    for (int i = 0; i < 2; i++) {
        cJSON *copy = cJSON_Duplicate(first, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, rc->key);
        if (cJSON_IsNumber(key)) {
            /* 9 and 10000: numeric order differs from text order */
            cJSON_AddNumberToObject(copy, rc->key, i == 0 ? 10000 : 9);
        } else {
            cJSON_AddStringToObject(copy, rc->key, i == 0 ? "zz-added" : "00-added");
        }
        cJSON_AddItemToArray(array, copy);
    }
}

/* The canonical array at @p path is ordered by the rule. */
static void assert_sorted(const char *canon, const struct rule_case *rc)
{
    cJSON *doc = cJSON_Parse(canon);
    cJSON *found[MAX_FOUND];
    int n = 0;
    find_arrays(doc, rc->path, found, &n);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        const cJSON *prev = NULL;
        for (const cJSON *c = found[i]->child; c != NULL; c = c->next) {
            const cJSON *k =
                rc->kind == ECSREV_ARRAY_SET ? c : cJSON_GetObjectItemCaseSensitive(c, rc->key);
            if (k == NULL && rc->alt != NULL) {
                continue; /* alt-keyed items come after the keyed ones */
            }
            if (prev != NULL && cJSON_IsNumber(k)) {
                if (prev->valuedouble > k->valuedouble) {
                    fail_msg("%s: %g before %g", rc->path, prev->valuedouble, k->valuedouble);
                }
            } else if (prev != NULL &&
                       ecsrev_canon__strcmp16(prev->valuestring, k->valuestring) > 0) {
                fail_msg("%s: '%s' before '%s'", rc->path, prev->valuestring, k->valuestring);
            }
            prev = k;
        }
    }
    cJSON_Delete(doc);
}

static void test_every_array_rule(void **state)
{
    (void)state;
    char *api[N_REVS];
    load_revisions("revisions/full-api.json", api);
    /* web/2 and api/1 together hold every array */
    const int sources[2] = {1, 3};
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        const struct rule_case *rc = &s_cases[i];
        struct ecsrev_array_rule rule = ecsrev_canon_array_rule(rc->path);
        assert_int_equal(rule.kind, rc->kind);
        if (rc->kind == ECSREV_ARRAY_KEYED) {
            assert_string_equal(rule.key, rc->key);
            if (rc->alt != NULL) {
                assert_string_equal(rule.alt_key, rc->alt);
            } else {
                assert_null(rule.alt_key);
            }
        }
        int total = 0;
        for (int s = 0; s < 2; s++) {
            cJSON *tree = cJSON_Parse(api[sources[s]]);
            cJSON *found[MAX_FOUND];
            int n = 0;
            find_arrays(tree, rc->path, found, &n);
            if (n == 0) {
                cJSON_Delete(tree);
                continue;
            }
            total += n;
            for (int k = 0; k < n; k++) {
                grow_array(found[k], rc);
            }
            char *forward = canon_of_tree(tree);
            for (int k = 0; k < n; k++) {
                reverse_array(found[k]);
            }
            char *backward = canon_of_tree(tree);
            if (strcmp(forward, backward) != 0) {
                size_t at = 0;
                while (forward[at] == backward[at]) {
                    at++;
                }
                at = at > 60 ? at - 60 : 0;
                fail_msg("%s: order of the input changed the canonical form at\n%.160s\n%.160s",
                         rc->path, forward + at, backward + at);
            }
            assert_non_null(strstr(forward, "00-added") != NULL ? forward : strstr(forward, "9"));
            assert_sorted(forward, rc);
            free(forward);
            free(backward);
            cJSON_Delete(tree);
        }
        if (total == 0) {
            fail_msg("no fixture array at %s", rc->path);
        }
    }
    /* an order that matters is kept: unknown paths are plain lists */
    assert_int_equal(ecsrev_canon_array_rule("containerImages.foo").kind, ECSREV_ARRAY_LIST);
    assert_int_equal(ecsrev_canon_array_rule("").kind, ECSREV_ARRAY_LIST);
    assert_int_equal(ecsrev_canon_array_rule(NULL).kind, ECSREV_ARRAY_LIST);
    free_revisions(api);
}

static char *canon_text(const char *json)
{
    struct ecsrev_revision r;
    normalize_ok(&r, json, 0);
    char *c = r.canon;
    r.canon = NULL;
    ecsrev_revision_dispose(&r);
    return c;
}

static void test_key_details(void **state)
{
    (void)state;
    /* numeric keys in numeric order; items without the key last, by bytes */
    char *c = canon_text("{\"serviceConnectConfiguration\":{\"services\":[{\"portName\":\"h\","
                         "\"clientAliases\":[{\"port\":8080},{\"dnsName\":\"b\"},{\"port\":443},"
                         "{\"dnsName\":\"a\"},{\"port\":80}]}]}}");
    assert_non_null(strstr(c, "[{\"port\":80},{\"port\":443},{\"port\":8080},{\"dnsName\":\"a\"},"
                              "{\"dnsName\":\"b\"}]"));
    free(c);
    /* target group first, then load balancer name, then neither */
    c = canon_text("{\"loadBalancers\":[{\"containerPort\":1},{\"loadBalancerName\":\"b\"},"
                   "{\"targetGroupArn\":\"z\"},{\"loadBalancerName\":\"a\"},"
                   "{\"targetGroupArn\":\"y\",\"containerPort\":2},"
                   "{\"targetGroupArn\":\"y\",\"containerPort\":1}]}");
    assert_string_equal(c, "{\"loadBalancers\":[{\"containerPort\":1,\"targetGroupArn\":\"y\"},"
                           "{\"containerPort\":2,\"targetGroupArn\":\"y\"},"
                           "{\"targetGroupArn\":\"z\"},{\"loadBalancerName\":\"a\"},"
                           "{\"loadBalancerName\":\"b\"},{\"containerPort\":1}]}");
    free(c);
    /* sets: UTF-16 order, duplicates kept */
    c = canon_text("{\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":"
                   "[\"\\ue000\",\"b\",\"\\ud83d\\ude00\",\"a\",\"b\"]}}}");
    assert_string_equal(c, "{\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":"
                           "[\"a\",\"b\",\"b\",\"\xf0\x9f\x98\x80\",\"\xee\x80\x80\"]}}}");
    free(c);
}

static void test_unknown_members_kept(void **state)
{
    (void)state;
    char *c =
        canon_text("{\"zNew\":{\"list\":[3,1,2],\"createdAt\":1.5E9,\"n\":null},"
                   "\"containerImages\":[{\"containerName\":\"b\",\"runtimeId\":[\"y\",\"x\"]},"
                   "{\"containerName\":\"a\",\"extra\":null}],"
                   "\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":[\"s2\",\"s1\"],"
                   "\"ipv6\":[\"b\",\"a\"]},\"future\":true},"
                   "\"ecsManagedResources\":{\"newThing\":[{\"arn\":\"b\"},{\"arn\":\"a\"}]}}");
    assert_string_equal(c,
                        "{\"containerImages\":[{\"containerName\":\"a\",\"extra\":null},"
                        "{\"containerName\":\"b\",\"runtimeId\":[\"y\",\"x\"]}],"
                        "\"ecsManagedResources\":{\"newThing\":[{\"arn\":\"b\"},{\"arn\":\"a\"}]},"
                        "\"networkConfiguration\":{\"awsvpcConfiguration\":{\"ipv6\":[\"b\",\"a\"],"
                        "\"subnets\":[\"s1\",\"s2\"]},\"future\":true},"
                        "\"zNew\":{\"createdAt\":1500000000,\"list\":[3,1,2],\"n\":null}}");
    free(c);
}

static void assert_rejects(const char *json, unsigned flags, const char *message)
{
    struct ecsrev_revision r;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_revision_normalize(&r, json, strlen(json), flags, &err);
    if (rc == 0) {
        fail_msg("accepted %s", json);
    }
    if (strstr(err.msg, message) == NULL) {
        fail_msg("message '%s' lacks '%s'", err.msg, message);
    }
    assert_int_equal(rc, err.code);
    assert_null(r.canon);
    assert_null(r.arn);
}

static void test_type_errors(void **state)
{
    (void)state;
    assert_rejects("{\"containerImages\":\"web\"}", 0,
                   "containerImages: expected an array, got a string");
    assert_rejects("{\"loadBalancers\":[{},{},{\"containerPort\":\"80\"}]}", 0,
                   "loadBalancers[2].containerPort: expected a number, got a string");
    assert_rejects("{\"guardDutyEnabled\":\"true\"}", 0,
                   "guardDutyEnabled: expected a boolean, got a string");
    assert_rejects("{\"networkConfiguration\":[]}", 0,
                   "networkConfiguration: expected an object, got an array");
    assert_rejects("{\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":[\"a\",1]}}}",
                   0,
                   "networkConfiguration.awsvpcConfiguration.subnets[1]: expected a string, "
                   "got a number");
    assert_rejects("{\"serviceConnectConfiguration\":{\"logConfiguration\":{\"options\":"
                   "{\"awslogs-region\":1}}}}",
                   0,
                   "serviceConnectConfiguration.logConfiguration.options.awslogs-region: "
                   "expected a string, got a number");
    assert_rejects("{\"taskDefinition\":null}", 0, "taskDefinition: expected a string, got null");
    assert_rejects("{\"createdAt\":true}", 0, "createdAt: expected a timestamp");
    assert_rejects("{\"createdAt\":\"yesterday\"}", 0, "createdAt: bad timestamp 'yesterday'");
    assert_rejects("{\"createdAt\":1e300}", 0, "createdAt: bad timestamp");
    assert_rejects("{\"ecsManagedResources\":{\"ingressPaths\":[{\"loadBalancer\":"
                   "{\"updatedAt\":\"2024-13-01T00:00:00Z\"}}]}}",
                   0, "ecsManagedResources.ingressPaths[0].loadBalancer.updatedAt: bad timestamp");
    assert_rejects("{\"ecsManagedResources\":{\"autoScaling\":{\"applicationAutoScalingPolicies\":"
                   "[{\"targetValue\":\"60\"}]}}}",
                   0,
                   "ecsManagedResources.autoScaling.applicationAutoScalingPolicies[0].targetValue: "
                   "expected a number, got a string");
    assert_rejects("[]", 0, "expected a service revision object, got an array");
    assert_rejects("\"x\"", 0, "expected a service revision object, got a string");
    assert_rejects("{\"a\":1,\"a\":2}", 0, "duplicate member");
    assert_rejects("{\"a\":", 0, "line 1");
    assert_rejects("{\"a\":\"\xff\"}", 0, "UTF-8");
    /* input text quoted in messages stays on one line */
    assert_rejects("{\"serviceConnectConfiguration\":{\"logConfiguration\":{\"options\":"
                   "{\"a\\nb\":1}}}}",
                   0, "options.a?b: expected a string");
}

static void test_identity(void **state)
{
    (void)state;
    const unsigned req = ECSREV_NORMALIZE_REQUIRE_IDENTITY;
    const char *arn = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1234567890";
    char doc[512];
    assert_rejects("{\"createdAt\":1}", req, "missing serviceRevisionArn");
    (void)snprintf(doc, sizeof(doc), "{\"serviceRevisionArn\":\"%s\"}", arn);
    assert_rejects(doc, req, "missing createdAt");
    static const char *const s_bad[] = {
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        "arn:aws:ecs:us-east-1:12345678901:service-revision/prod/web/1",
        "arn:aws:ec2:us-east-1:123456789012:service-revision/prod/web/1",
        "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/",
        "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1/2",
        "arn:aws:ecs::123456789012:service-revision/prod/web/1",
        "web/1",
    };
    for (size_t i = 0; i < sizeof(s_bad) / sizeof(s_bad[0]); i++) {
        (void)snprintf(doc, sizeof(doc), "{\"serviceRevisionArn\":\"%s\",\"createdAt\":1}",
                       s_bad[i]);
        assert_rejects(doc, req, "serviceRevisionArn: not a service revision ARN");
    }
    assert_rejects("{\"serviceRevisionArn\":5,\"createdAt\":1}", req,
                   "serviceRevisionArn: expected a string, got a number");

    /* derived service and cluster ARNs, other partitions */
    struct ecsrev_revision r;
    (void)snprintf(doc, sizeof(doc), "{\"serviceRevisionArn\":\"%s\",\"createdAt\":\"%s\"}",
                   "arn:aws-cn:ecs:cn-north-1:123456789012:service-revision/c_1/s-2/77",
                   "2024-11-20T10:15:30Z");
    normalize_ok(&r, doc, req);
    assert_string_equal(r.service_arn, "arn:aws-cn:ecs:cn-north-1:123456789012:service/c_1/s-2");
    assert_string_equal(r.cluster_arn, "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c_1");
    assert_null(r.task_definition);
    assert_true(r.created_ms == INT64_C(1732097730000));
    struct ecsrev_revision copy;
    ecsrev_revision_copy(&copy, &r);
    ecsrev_revision_dispose(&r);
    assert_string_equal(copy.cluster_arn, "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c_1");
    assert_int_equal(copy.canon_len, strlen(copy.canon));
    ecsrev_revision_dispose(&copy);
    ecsrev_revision_dispose(&copy); /* twice is fine */
    ecsrev_revision_dispose(NULL);

    /* without the flag: nothing required, nothing derived from a bad ARN */
    normalize_ok(&r, "{\"serviceRevisionArn\":\"x\"}", 0);
    assert_string_equal(r.arn, "x");
    assert_null(r.service_arn);
    assert_null(r.cluster_arn);
    assert_true(r.created_ms == ECSREV_TIME_NONE);
    ecsrev_revision_dispose(&r);
    normalize_ok(&r, "{}", 0);
    assert_null(r.arn);
    assert_string_equal(r.canon, "{}");
    ecsrev_revision_dispose(&r);
}

static void test_config_hash(void **state)
{
    (void)state;
    char *api[N_REVS];
    load_revisions("revisions/full-api.json", api);
    struct ecsrev_revision r[N_REVS];
    for (int i = 0; i < N_REVS; i++) {
        normalize_ok(&r[i], api[i], ECSREV_NORMALIZE_REQUIRE_IDENTITY);
    }
    /* api/1 and api/2 differ only in ARN, createdAt and managed statuses */
    assert_memory_equal(r[3].config_hash, r[4].config_hash, ECSREV_HASH_LEN);
    assert_memory_not_equal(r[3].content_hash, r[4].content_hash, ECSREV_HASH_LEN);
    /* web/2 and web/3 differ in an image: different configurations */
    assert_memory_not_equal(r[1].config_hash, r[2].config_hash, ECSREV_HASH_LEN);
    assert_memory_not_equal(r[0].config_hash, r[1].config_hash, ECSREV_HASH_LEN);

    /* config_doc gives exactly the hashed bytes, without the volatile members */
    struct ecsrev_buf doc = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_revision_config_doc(&doc, r[3].canon, r[3].canon_len, &err), 0);
    uint8_t h[ECSREV_HASH_LEN];
    ecsrev_hash128(h, doc.ptr, doc.len);
    assert_memory_equal(h, r[3].config_hash, ECSREV_HASH_LEN);
    assert_null(strstr(doc.ptr, "serviceRevisionArn"));
    assert_null(strstr(doc.ptr, "createdAt"));
    assert_null(strstr(doc.ptr, "\"status"));
    assert_null(strstr(doc.ptr, "updatedAt"));
    assert_non_null(strstr(doc.ptr, "\"healthCheckPath\":\"/ping\""));
    assert_non_null(strstr(doc.ptr, "\"taskDefinition\""));
    ecsrev_buf_dispose(&doc);
    assert_int_equal(ecsrev_revision_config_doc(&doc, "{", 1, &err), ECSREV_EPARSE);
    ecsrev_buf_dispose(&doc);

    /* a config member that changes does change the hash (test can fail) */
    cJSON *tree = cJSON_Parse(api[4]);
    cJSON *lt = cJSON_GetObjectItemCaseSensitive(tree, "platformVersion");
    cJSON_SetValuestring(lt, "1.4.0");
    char *changed = canon_of_tree(tree);
    struct ecsrev_revision x;
    normalize_ok(&x, changed, 0);
    assert_memory_not_equal(x.config_hash, r[4].config_hash, ECSREV_HASH_LEN);
    ecsrev_revision_dispose(&x);
    free(changed);
    cJSON_Delete(tree);

    /* managed items tied on arn but differing in status: same config hash */
    const char *a = "{\"ecsManagedResources\":{\"metricAlarms\":[{\"arn\":\"x\",\"status\":\"A\"},"
                    "{\"arn\":\"x\",\"status\":\"B\",\"n\":1}]}}";
    const char *b = "{\"ecsManagedResources\":{\"metricAlarms\":[{\"arn\":\"x\",\"status\":\"C\","
                    "\"n\":1},{\"arn\":\"x\",\"status\":\"D\"}]}}";
    struct ecsrev_revision ra;
    struct ecsrev_revision rb;
    normalize_ok(&ra, a, 0);
    normalize_ok(&rb, b, 0);
    assert_memory_equal(ra.config_hash, rb.config_hash, ECSREV_HASH_LEN);
    ecsrev_revision_dispose(&ra);
    ecsrev_revision_dispose(&rb);

    for (int i = 0; i < N_REVS; i++) {
        ecsrev_revision_dispose(&r[i]);
    }
    free_revisions(api);
}

static void test_timestamp_forms(void **state)
{
    (void)state;
    static const char *const s_forms[] = {
        "1732097730.123",
        "1.732097730123E9",
        "\"2024-11-20T10:15:30.123000+00:00\"",
        "\"2024-11-20T10:15:30.123Z\"",
        "\"2024-11-20T11:15:30.123+01:00\"",
        "\"1732097730.123\"",
    };
    char *first = NULL;
    for (size_t i = 0; i < sizeof(s_forms) / sizeof(s_forms[0]); i++) {
        char doc[256];
        (void)snprintf(doc, sizeof(doc),
                       "{\"createdAt\":%s,\"ecsManagedResources\":{\"logGroups\":[{\"arn\":\"l\","
                       "\"updatedAt\":%s}]}}",
                       s_forms[i], s_forms[i]);
        char *c = canon_text(doc);
        if (first == NULL) {
            first = c;
            assert_string_equal(c, "{\"createdAt\":\"2024-11-20T10:15:30.123Z\","
                                   "\"ecsManagedResources\":{\"logGroups\":[{\"arn\":\"l\","
                                   "\"updatedAt\":\"2024-11-20T10:15:30.123Z\"}]}}");
        } else {
            assert_string_equal(c, first);
            free(c);
        }
    }
    free(first);
}

/* Arrays whose name ends a rule path but whose path differs keep their own rule. */
static void test_rule_lookalikes(void **state)
{
    (void)state;
    /* top-level loadBalancers fall back to loadBalancerName; the resolved ones do not:
       items without targetGroupArn order by their bytes there ("c" < "l") */
    char *c = canon_text("{\"loadBalancers\":[{\"containerName\":\"x\",\"loadBalancerName\":\"b\"},"
                         "{\"loadBalancerName\":\"a\"}],"
                         "\"resolvedConfiguration\":{\"loadBalancers\":["
                         "{\"loadBalancerName\":\"a\"},"
                         "{\"containerName\":\"x\",\"loadBalancerName\":\"b\"}]}}");
    assert_string_equal(c, "{\"loadBalancers\":[{\"loadBalancerName\":\"a\"},"
                           "{\"containerName\":\"x\",\"loadBalancerName\":\"b\"}],"
                           "\"resolvedConfiguration\":{\"loadBalancers\":["
                           "{\"containerName\":\"x\",\"loadBalancerName\":\"b\"},"
                           "{\"loadBalancerName\":\"a\"}]}}");
    free(c);
    /* a set nested under a keyed array (tags under tagSpecifications) and a list
       whose name is also a rule's last name elsewhere (services' clientAliases) */
    c = canon_text("{\"volumeConfigurations\":[{\"name\":\"v\",\"managedEBSVolume\":"
                   "{\"tagSpecifications\":[{\"resourceType\":\"volume\",\"tags\":"
                   "[{\"key\":\"b\"},{\"key\":\"a\"}]}]}}],"
                   "\"serviceConnectConfiguration\":{\"services\":[{\"portName\":\"b\"},"
                   "{\"portName\":\"a\",\"clientAliases\":[{\"port\":9},{\"port\":8}]}]}}");
    assert_string_equal(c, "{\"serviceConnectConfiguration\":{\"services\":["
                           "{\"clientAliases\":[{\"port\":8},{\"port\":9}],\"portName\":\"a\"},"
                           "{\"portName\":\"b\"}]},"
                           "\"volumeConfigurations\":[{\"managedEBSVolume\":"
                           "{\"tagSpecifications\":[{\"resourceType\":\"volume\",\"tags\":"
                           "[{\"key\":\"a\"},{\"key\":\"b\"}]}]},\"name\":\"v\"}]}");
    free(c);
    /* unknown members are not walked, even when named like a rule */
    c = canon_text(
        "{\"subnets\":[\"b\",\"a\"],\"x\":{\"loadBalancers\":[{\"targetGroupArn\":\"b\"},"
        "{\"targetGroupArn\":\"a\"}]}}");
    assert_string_equal(c, "{\"subnets\":[\"b\",\"a\"],\"x\":{\"loadBalancers\":["
                           "{\"targetGroupArn\":\"b\"},{\"targetGroupArn\":\"a\"}]}}");
    free(c);
}

/* Number timestamps at the edges: as the same value written as text. */
static void test_timestamp_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *number;
        const char *stored;
    } s_numbers[] = {
        {"1704080639.162", "2024-01-01T03:43:59.162Z"},
        {"1704080639.9995", "2024-01-01T03:44:00.000Z"}, /* shortest text rounds up */
        {"1704080639.9994", "2024-01-01T03:43:59.999Z"},
        {"1704080639.999", "2024-01-01T03:43:59.999Z"},
        {"-1.5", "1969-12-31T23:59:58.500Z"},
        {"-0.001", "1969-12-31T23:59:59.999Z"},
        {"-0.0005", "1969-12-31T23:59:59.999Z"}, /* half away from zero */
        {"0.0005", "1970-01-01T00:00:00.001Z"},
        {"0.0015", "1970-01-01T00:00:00.002Z"},
        {"0", "1970-01-01T00:00:00.000Z"},
        {"-0", "1970-01-01T00:00:00.000Z"},
        {"1e-7", "1970-01-01T00:00:00.000Z"},
        {"951782400", "2000-02-29T00:00:00.000Z"},
        {"951868799.999", "2000-02-29T23:59:59.999Z"},
        {"253402300799.999", "9999-12-31T23:59:59.999Z"},
        {"-62167219200", "0000-01-01T00:00:00.000Z"},
        {"1.704080639162E9", "2024-01-01T03:43:59.162Z"},
    };
    for (size_t i = 0; i < sizeof(s_numbers) / sizeof(s_numbers[0]); i++) {
        char doc[128];
        char want[128];
        (void)snprintf(doc, sizeof(doc), "{\"createdAt\":%s}", s_numbers[i].number);
        (void)snprintf(want, sizeof(want), "{\"createdAt\":\"%s\"}", s_numbers[i].stored);
        char *c = canon_text(doc);
        if (strcmp(c, want) != 0) {
            fail_msg("%s: got %s, expected %s", s_numbers[i].number, c, want);
        }
        free(c);
    }
    assert_rejects("{\"createdAt\":253402300800}", 0, "createdAt: bad timestamp '253402300800'");
    assert_rejects("{\"createdAt\":-62167219200.001}", 0, "out of range");
}

/* Arrays longer than the items sorted on the stack, with ties broken by bytes. */
static void test_long_arrays(void **state)
{
    (void)state;
    struct ecsrev_buf in = ECSREV_BUF_INIT;
    struct ecsrev_buf want = ECSREV_BUF_INIT;
    ecsrev_buf_add(&in, "{\"containerImages\":[", 20);
    ecsrev_buf_add(&want, "{\"containerImages\":[", 20);
    char item[96];
    for (int i = 0; i < 100; i++) {
        int k = (i * 37) % 100; /* a permutation of 0..99 */
        int len = snprintf(item, sizeof(item), "%s{\"containerName\":\"c%03d\",\"image\":\"i%d\"}",
                           i > 0 ? "," : "", k / 2, k % 2);
        ecsrev_buf_add(&in, item, (size_t)len);
        len = snprintf(item, sizeof(item), "%s{\"containerName\":\"c%03d\",\"image\":\"i%d\"}",
                       i > 0 ? "," : "", i / 2, i % 2);
        ecsrev_buf_add(&want, item, (size_t)len);
    }
    ecsrev_buf_add(&in, "]}", 2);
    ecsrev_buf_add(&want, "]}", 2);
    char *c = canon_text(in.ptr);
    assert_string_equal(c, want.ptr);
    free(c);
    ecsrev_buf_dispose(&in);
    ecsrev_buf_dispose(&want);
}

/* Write @p tree canonically; owned text. */
static char *write_tree(const cJSON *tree)
{
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon__write(&b, tree, &err), 0);
    return ecsrev_buf_detach(&b);
}

/* Whether @p s points into the schema's name pool. */
static int in_pool(const char *s)
{
    const char *base = NULL;
    size_t size = 0;
    ecsrev_canon__schema_names(&base, &size);
    return (uintptr_t)s > (uintptr_t)base && (uintptr_t)s < (uintptr_t)base + size;
}

/*
 * The normalizer points known member names at the schema's pool (and marks
 * them const for cJSON_Delete); the writer orders them by address among
 * themselves and by their text against other names: the bytes are those of
 * the same tree with ordinary names.
 */
static void test_schema_names(void **state)
{
    (void)state;
    /* the pool: names in UTF-16 (here: byte) order, each after its length */
    const char *base = NULL;
    size_t size = 0;
    ecsrev_canon__schema_names(&base, &size);
    const char *prev = NULL;
    for (size_t at = 0; at + 1 < size; at += (unsigned char)base[at] + 2) {
        const char *name = base + at + 1;
        assert_int_equal(strlen(name), (unsigned char)base[at]);
        assert_true(prev == NULL || ecsrev_canon__strcmp16(prev, name) < 0);
        prev = name;
    }
    assert_non_null(prev);

    /* known names next to unknown ones sharing their prefixes, a map, nesting */
    const char *json =
        "{\"serviceArnX\":1,\"serviceArn\":\"s\",\"service\":2,\"serviceRegistries\":"
        "[{\"port\":1,\"registryArn\":\"r\",\"containerPort\":2,\"portZ\":3}],"
        "\"clusterArn\":\"c\",\"cluster\":0,\"a\":0,\"zz\":0,\"\xc3\xa9\":0,"
        "\"serviceConnectConfiguration\":{\"logConfiguration\":{\"options\":"
        "{\"logDriver\":\"x\",\"b\":\"y\",\"a\":\"z\"},\"logDriver\":\"awslogs\"},"
        "\"enabled\":true,\"namespace\":\"n\"},\"platformVersion\":\"1\"}";
    cJSON *tree = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_canon__parse(&tree, json, strlen(json), &err), 0);
    cJSON *plain = cJSON_Duplicate(tree, 1);
    assert_int_equal(ecsrev_canon__normalize_tree(tree, 0, &err), 0);
    assert_int_equal(ecsrev_canon__normalize_tree(plain, 0, &err), 0);
    cJSON *copy = cJSON_Duplicate(plain, 1); /* normalized, names not in the pool */
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(tree, "serviceArn");
    assert_true(in_pool(arn->string));
    assert_true((arn->type & cJSON_StringIsConst) != 0);
    assert_false(in_pool(cJSON_GetObjectItemCaseSensitive(tree, "serviceArnX")->string));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(tree, "serviceConnectConfiguration");
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(sc, "logConfiguration");
    assert_true(in_pool(lc->string));
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(lc, "options");
    /* map keys are data, even when they look like member names */
    assert_false(in_pool(cJSON_GetObjectItemCaseSensitive(opts, "logDriver")->string));
    assert_false(in_pool(copy->child->string));

    char *a = write_tree(tree);
    char *b = write_tree(copy);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "{\"a\":0,\"cluster\":0,\"clusterArn\":\"c\",\"platformVersion\""));
    assert_non_null(strstr(a, "\"service\":2,\"serviceArn\":\"s\",\"serviceArnX\":1,"));
    assert_non_null(strstr(a, "[{\"containerPort\":2,\"port\":1,\"portZ\":3,\"registryArn\""));
    /* normalizing again (pool names already) changes nothing */
    assert_int_equal(ecsrev_canon__normalize_tree(tree, 0, &err), 0);
    char *again = write_tree(tree);
    assert_string_equal(a, again);
    free(a);
    free(b);
    free(again);
    cJSON_Delete(tree); /* must not free the pool's names (ASan) */
    cJSON_Delete(plain);
    cJSON_Delete(copy);
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_and_cli_forms_agree),
        cmocka_unit_test(test_golden_hashes),
        cmocka_unit_test(test_golden_canon_single),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_every_array_rule),
        cmocka_unit_test(test_key_details),
        cmocka_unit_test(test_unknown_members_kept),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_config_hash),
        cmocka_unit_test(test_timestamp_forms),
        cmocka_unit_test(test_rule_lookalikes),
        cmocka_unit_test(test_timestamp_numbers),
        cmocka_unit_test(test_long_arrays),
        cmocka_unit_test(test_schema_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
