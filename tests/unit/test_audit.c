/*
 * test_audit.c - the audit rules engine, the rules file and the reports.
 *
 * Rule fixtures live in tests/data/audit/<RULE-ID>/ (pass.json, fail.json,
 * prev.json for change rules, expected.json naming the path and the rules
 * file); tests/data/audit/generate.py makes them from base.json, which no
 * rule reports. Invalid rules files are in tests/data/audit/rules/invalid/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <ecsrev/audit.h>
#include <ecsrev/canon.h>
#include <ecsrev/json.h>

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* 2026-06-01T00:00:00Z */
#define NOW_MS INT64_C(1780272000000)

static void load_rev(struct ecsrev_revision *out, const char *rel)
{
    size_t len = 0;
    char *text = tu_read_data(rel, &len);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_revision_normalize(out, text, len, ECSREV_NORMALIZE_REQUIRE_IDENTITY, &err);
    if (rc != 0) {
        fail_msg("%s: %s", rel, err.msg);
    }
    free(text);
}

static void rev_from_string(struct ecsrev_revision *out, const char *json)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_revision_normalize(out, json, strlen(json), 0, &err);
    if (rc != 0) {
        fail_msg("normalize: %s", err.msg);
    }
}

static struct ecsrev_audit_config *config_from(const char *rules_rel, int64_t now_ms)
{
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    if (rules_rel != NULL) {
        text = tu_read_data(rules_rel, &len);
    }
    int rc = ecsrev_audit_config_new(&cfg, text, len, rules_rel, now_ms, &err);
    if (rc != 0) {
        fail_msg("config %s: %s", rules_rel ? rules_rel : "(default)", err.msg);
    }
    free(text);
    return cfg;
}

static struct ecsrev_audit_config *config_text(const char *json)
{
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_audit_config_new(&cfg, json, strlen(json), "inline", NOW_MS, &err);
    if (rc != 0) {
        fail_msg("config: %s", err.msg);
    }
    return cfg;
}

/* Findings of rule @p id; the path of the first one in *path when given. */
static size_t count_rule(const struct ecsrev_audit *a, const char *id, const char **path)
{
    size_t n = 0;
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (strcmp(f->rule->id, id) == 0) {
            if (n == 0 && path != NULL) {
                *path = f->path;
            }
            n++;
        }
    }
    return n;
}

/* Audit @p rev (after @p prev) and return the audit; caller frees. */
static struct ecsrev_audit *run(const struct ecsrev_audit_config *cfg,
                                const struct ecsrev_revision *rev,
                                const struct ecsrev_revision *prev)
{
    struct ecsrev_audit *a = NULL;
    ecsrev_audit_new(&a, cfg);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_audit_revision(a, rev, prev, &err), 0);
    ecsrev_audit_finish(a);
    return a;
}

static int setup(void **state)
{
    (void)state;
    ecsrev_json_init();
    return 0;
}

/* ---- every rule: base passes, pass.json passes, fail.json fails once at the path ---- */

static void check_rule_dir(const char *id, bool change)
{
    char rel[256];
    (void)snprintf(rel, sizeof(rel), "audit/%s/expected.json", id);
    size_t len = 0;
    char *text = tu_read_data(rel, &len);
    cJSON *exp = cJSON_Parse(text);
    free(text);
    assert_non_null(exp);
    const cJSON *rules = cJSON_GetObjectItem(exp, "rules");
    char rules_rel[256] = "";
    if (cJSON_IsString(rules)) {
        (void)snprintf(rules_rel, sizeof(rules_rel), "audit/rules/%s", rules->valuestring);
    }
    struct ecsrev_audit_config *cfg = config_from(rules_rel[0] ? rules_rel : NULL, NOW_MS);
    struct ecsrev_revision prev = {0};
    struct ecsrev_revision pass = {0};
    struct ecsrev_revision failr = {0};
    if (change) {
        (void)snprintf(rel, sizeof(rel), "audit/%s/prev.json", id);
        load_rev(&prev, rel);
    }
    (void)snprintf(rel, sizeof(rel), "audit/%s/pass.json", id);
    load_rev(&pass, rel);
    (void)snprintf(rel, sizeof(rel), "audit/%s/fail.json", id);
    load_rev(&failr, rel);

    struct ecsrev_audit *a = run(cfg, &pass, change ? &prev : NULL);
    if (count_rule(a, id, NULL) != 0) {
        fail_msg("%s: pass.json gave a finding", id);
    }
    ecsrev_audit_free(a);

    a = run(cfg, &failr, change ? &prev : NULL);
    const char *path = NULL;
    size_t n = count_rule(a, id, &path);
    if (n != 1) {
        fail_msg("%s: fail.json gave %zu findings, expected 1", id, n);
    }
    assert_string_equal(path, cJSON_GetObjectItem(exp, "path")->valuestring);
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (strcmp(f->rule->id, id) == 0) {
            assert_string_equal(f->revision_arn, failr.arn);
            assert_string_equal(f->service_arn, failr.service_arn);
            assert_true(f->created_ms == failr.created_ms);
            assert_non_null(f->message);
            if (change) {
                assert_non_null(f->previous_arn);
                assert_string_equal(f->previous_arn, prev.arn);
            } else {
                assert_null(f->previous_arn);
            }
        }
    }
    ecsrev_audit_free(a);
    ecsrev_revision_dispose(&prev);
    ecsrev_revision_dispose(&pass);
    ecsrev_revision_dispose(&failr);
    ecsrev_audit_config_free(cfg);
    cJSON_Delete(exp);
}

static void test_every_rule_has_fixtures(void **state)
{
    (void)state;
    size_t n = 0;
    const struct ecsrev_rule_info *rules = ecsrev_audit_builtin_rules(&n);
    assert_int_equal(n, 16);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(rules[i].title);
        assert_non_null(rules[i].rationale);
        assert_non_null(rules[i].remediation);
        assert_true(rules[i].severity >= ECSREV_SEV_LOW);
        check_rule_dir(rules[i].id, rules[i].kind == ECSREV_RULE_CHANGE);
    }
    assert_string_equal(rules[0].control, "ECS.2");
    assert_string_equal(rules[1].control, "ECS.10");
    assert_null(rules[2].control);
}

static void test_base_is_clean(void **state)
{
    (void)state;
    struct ecsrev_revision base = {0};
    load_rev(&base, "audit/base.json");
    const char *configs[] = {NULL, "audit/rules/allow.json"};
    for (size_t k = 0; k < 2; k++) {
        struct ecsrev_audit_config *cfg = config_from(configs[k], NOW_MS);
        struct ecsrev_audit *a = run(cfg, &base, &base);
        if (ecsrev_audit_count(a) != 0) {
            fail_msg("base.json: %s: %s", ecsrev_audit_finding(a, 0)->rule->id,
                     ecsrev_audit_finding(a, 0)->message);
        }
        assert_int_equal(ecsrev_audit_max_severity(a), ECSREV_SEV_NONE);
        assert_int_equal(ecsrev_audit_revisions(a), 1);
        assert_int_equal(ecsrev_audit_services(a), 1);
        ecsrev_audit_free(a);
        ecsrev_audit_config_free(cfg);
    }
    ecsrev_revision_dispose(&base);
}

/* ---- ECS.10 ---- */

static size_t ecs10(const char *cfg_json, const char *rev_json)
{
    struct ecsrev_audit_config *cfg = cfg_json ? config_text(cfg_json) : config_from(NULL, NOW_MS);
    struct ecsrev_revision rev = {0};
    rev_from_string(&rev, rev_json);
    if (rev.service_arn == NULL) {
        rev.service_arn = strdup("arn:aws:ecs:us-east-1:1:service/c/s");
    }
    struct ecsrev_audit *a = run(cfg, &rev, NULL);
    size_t n = count_rule(a, "ECS.10", NULL);
    ecsrev_audit_free(a);
    ecsrev_revision_dispose(&rev);
    ecsrev_audit_config_free(cfg);
    return n;
}

static void test_ecs10_variants(void **state)
{
    (void)state;
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.3.0\"}"), 1);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.4.0\"}"), 0);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\"}"), 0);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"EC2\",\"platformVersion\":\"1.3.0\"}"), 0);
    assert_int_equal(ecs10(NULL, "{\"capacityProviderStrategy\":[{\"capacityProvider\":"
                                 "\"FARGATE_SPOT\",\"weight\":1}],\"platformVersion\":\"1.3.0\"}"),
                     1);
    assert_int_equal(ecs10(NULL, "{\"capacityProviderStrategy\":[{\"capacityProvider\":"
                                 "\"my-asg\",\"weight\":1}],\"platformVersion\":\"1.3.0\"}"),
                     0);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformFamily\":"
                                 "\"WINDOWS_SERVER_2019_CORE\",\"platformVersion\":\"1.0.0\"}"),
                     0);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformFamily\":"
                                 "\"WINDOWS_SERVER_2019_CORE\",\"platformVersion\":\"0.9.0\"}"),
                     1);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.10.0\"}"), 0);
    assert_int_equal(ecs10(NULL, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"latest\"}"), 1);
    const char *newer = "{\"rules\":{\"ECS.10\":{\"platformVersions\":{\"linux\":\"1.5.0\"}}}}";
    assert_int_equal(ecs10(newer, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.4.0\"}"), 1);
    const char *latest = "{\"rules\":{\"ECS.10\":{\"platformVersions\":{\"linux\":\"LATEST\"}}}}";
    assert_int_equal(ecs10(latest, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.4.0\"}"),
                     1);
    assert_int_equal(ecs10(latest, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"LATEST\"}"),
                     0);
    const char *off = "{\"rules\":{\"ECS.10\":{\"enabled\":false}}}";
    assert_int_equal(ecs10(off, "{\"launchType\":\"FARGATE\",\"platformVersion\":\"1.3.0\"}"), 0);
}

/* ---- change rules ---- */

static char *with_base(const char *find, const char *repl, const char *arn_suffix)
{
    size_t len = 0;
    char *base = tu_read_data("audit/base.json", &len);
    char *out = calloc(1, len + (repl != NULL ? strlen(repl) : 0) + 64);
    const char *at = find != NULL ? strstr(base, find) : NULL;
    if (find != NULL && at == NULL) {
        fail_msg("'%s' not in base.json", find);
    }
    if (at != NULL) {
        memcpy(out, base, (size_t)(at - base));
        strcat(out, repl);
        strcat(out, at + strlen(find));
    } else {
        strcat(out, base);
    }
    if (arn_suffix != NULL) {
        char *p = strstr(out, "1000000000000000001");
        memcpy(p + 19 - strlen(arn_suffix), arn_suffix, strlen(arn_suffix));
        p = strstr(out, "1767225600");
        memcpy(p, "1767229200", 10);
    }
    free(base);
    return out;
}

static size_t change_count(const char *find, const char *repl, const char *rule,
                           const char *cfg_json, const char **msg_out)
{
    char *a_json = with_base(NULL, NULL, NULL);
    char *b_json = with_base(find, repl, "2");
    struct ecsrev_revision a = {0};
    struct ecsrev_revision b = {0};
    rev_from_string(&a, a_json);
    rev_from_string(&b, b_json);
    struct ecsrev_audit_config *cfg = cfg_json ? config_text(cfg_json) : config_from(NULL, NOW_MS);
    struct ecsrev_audit *au = run(cfg, &b, &a);
    size_t n = count_rule(au, rule, NULL);
    static char msg[512];
    msg[0] = '\0';
    for (size_t i = 0; i < ecsrev_audit_count(au); i++) {
        if (strcmp(ecsrev_audit_finding(au, i)->rule->id, rule) == 0) {
            (void)snprintf(msg, sizeof(msg), "%s", ecsrev_audit_finding(au, i)->message);
        }
    }
    if (msg_out != NULL) {
        *msg_out = msg;
    }
    ecsrev_audit_free(au);
    /* the first revision of a service has nothing to compare with */
    au = run(cfg, &b, NULL);
    assert_int_equal(count_rule(au, rule, NULL), 0);
    ecsrev_audit_free(au);
    ecsrev_audit_config_free(cfg);
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&b);
    free(a_json);
    free(b_json);
    return n;
}

static void test_change_rules(void **state)
{
    (void)state;
    const char *msg = NULL;
    assert_int_equal(
        change_count("\"DISABLED\"", "\"ENABLED\"", "ECSREV-CHANGE-EXPOSURE", NULL, &msg), 1);
    assert_non_null(strstr(msg, "public IP"));
    assert_int_equal(change_count("\"containerPort\": 8080\n    }",
                                  "\"containerPort\": 8080\n    }, {\"targetGroupArn\": "
                                  "\"arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                  "targetgroup/public/1\", \"containerName\": \"api\", "
                                  "\"containerPort\": 8080}",
                                  "ECSREV-CHANGE-EXPOSURE", NULL, &msg),
                     1);
    assert_non_null(strstr(msg, "targetgroup/public/1"));
    /* an allowed security group is not an exposure increase */
    const char *sg = "[\"sg-0aaa\", \"sg-0new\"]";
    assert_int_equal(change_count("[\"sg-0aaa\"]", sg, "ECSREV-CHANGE-EXPOSURE", NULL, NULL), 1);
    assert_int_equal(change_count("[\"sg-0aaa\"]", sg, "ECSREV-CHANGE-EXPOSURE",
                                  "{\"allow\":{\"securityGroups\":[\"sg-0*\"]}}", NULL),
                     0);
    /* removing a security group is not */
    assert_int_equal(change_count("[\"sg-0aaa\"]", "[]", "ECSREV-CHANGE-EXPOSURE", NULL, NULL), 0);
    /* kmsKeyId removed from the volume, ephemeral storage key removed */
    assert_int_equal(change_count("\"kmsKeyId\": \"arn:aws:kms:us-east-1:123456789012:key/1234abcd"
                                  "-12ab-34cd-56ef-1234567890ab\",",
                                  "", "ECSREV-CHANGE-ENCRYPTION-REMOVED", NULL, &msg),
                     1);
    assert_non_null(strstr(msg, "no longer uses KMS key"));
    assert_int_equal(change_count("\"fargateEphemeralStorage\": {\n    \"kmsKeyId\": \"arn:aws:kms:"
                                  "us-east-1:123456789012:key/5678efgh-56ef-78gh-90ij-5678901234cd"
                                  "\"\n  },",
                                  "", "ECSREV-CHANGE-ENCRYPTION-REMOVED", NULL, NULL),
                     1);
    /* same registry, new tag: no change finding; Docker Hub default registry */
    assert_int_equal(change_count("api:2.3.1", "api:2.3.2", "ECSREV-CHANGE-REGISTRY", NULL, NULL),
                     0);
    assert_int_equal(change_count("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.3.1",
                                  "acme/api:2.3.1", "ECSREV-CHANGE-REGISTRY", NULL, &msg),
                     1);
    assert_non_null(strstr(msg, "to docker.io"));
}

/* ---- images ---- */

static size_t image_findings(const char *image, const char *rule, const char *cfg_json)
{
    char repl[512];
    (void)snprintf(repl, sizeof(repl), "\"image\": \"%s\"", image);
    char *json = with_base("\"image\": \"123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.3.1\"",
                           repl, NULL);
    struct ecsrev_revision rev = {0};
    rev_from_string(&rev, json);
    struct ecsrev_audit_config *cfg = cfg_json ? config_text(cfg_json) : config_from(NULL, NOW_MS);
    struct ecsrev_audit *a = run(cfg, &rev, NULL);
    size_t n = count_rule(a, rule, NULL);
    ecsrev_audit_free(a);
    ecsrev_audit_config_free(cfg);
    ecsrev_revision_dispose(&rev);
    free(json);
    return n;
}

static void test_image_rules(void **state)
{
    (void)state;
    const char *mut = "ECSREV-IMAGE-MUTABLE-TAG";
    assert_int_equal(image_findings("nginx", mut, NULL), 1);
    assert_int_equal(image_findings("nginx:latest", mut, NULL), 1);
    assert_int_equal(image_findings("localhost:5000/nginx", mut, NULL), 1);
    assert_int_equal(image_findings("localhost:5000/nginx:1.25", mut, NULL), 0);
    assert_int_equal(image_findings("nginx@sha256:abc", mut, NULL), 0);
    assert_int_equal(image_findings("nginx:1.25.3", mut, NULL), 0);
    const char *reg = "ECSREV-IMAGE-REGISTRY-NOT-ALLOWED";
    const char *allow = "{\"allow\":{\"registries\":[\"*.dkr.ecr.*.amazonaws.com\","
                        "\"public.ecr.aws/aws-observability/*\"]}}";
    assert_int_equal(image_findings("nginx:1.25", reg, NULL), 0); /* no list: rule off */
    assert_int_equal(image_findings("nginx:1.25", reg, allow), 1);
    assert_int_equal(image_findings("public.ecr.aws/aws-observability/fluent-bit:2.32", reg, allow),
                     0);
    assert_int_equal(image_findings("public.ecr.aws/other/fluent-bit:2.32", reg, allow), 1);
    assert_int_equal(image_findings("111.dkr.ecr.eu-west-1.amazonaws.com/x:1", reg, allow), 0);
}

/* ---- the rules file ---- */

static const struct ecsrev_rule_info *find_rule(const struct ecsrev_audit_config *cfg,
                                                const char *id)
{
    size_t n = 0;
    const struct ecsrev_rule_info *r = ecsrev_audit_config_rules(cfg, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r[i].id, id) == 0) {
            return &r[i];
        }
    }
    return NULL;
}

static void test_rules_file_options(void **state)
{
    (void)state;
    struct ecsrev_audit_config *cfg = config_from("audit/rules/full.json", NOW_MS);
    assert_int_equal(find_rule(cfg, "ECS.2")->severity, ECSREV_SEV_CRITICAL);
    assert_int_equal(find_rule(cfg, "ECS.10")->severity, ECSREV_SEV_HIGH);
    assert_null(find_rule(cfg, "ECSREV-GUARDDUTY-OFF"));
    assert_non_null(find_rule(cfg, "ECSREV-IMAGE-REGISTRY-NOT-ALLOWED"));
    assert_non_null(find_rule(cfg, "ECSREV-SUBNET-NOT-ALLOWED"));
    const struct ecsrev_rule_info *c = find_rule(cfg, "CUSTOM-NO-SPOT");
    assert_non_null(c);
    assert_int_equal(c->kind, ECSREV_RULE_CUSTOM);
    assert_string_equal(c->title, "Production services must not run on Fargate Spot");
    assert_int_equal(ecsrev_audit_config_expired(cfg), 1);

    char *json = with_base("\"launchType\": \"FARGATE\",",
                           "\"capacityProviderStrategy\": [{\"capacityProvider\": "
                           "\"FARGATE_SPOT\", \"weight\": 1}, {\"capacityProvider\": \"FARGATE\", "
                           "\"weight\": 1}], \"guardDutyEnabled\": false, \"networkConfiguration"
                           "\": {\"awsvpcConfiguration\": {\"subnets\": [\"subnet-0ccc\"], "
                           "\"assignPublicIp\": \"ENABLED\"}},",
                           NULL);
    /* drop the original networkConfiguration and guardDutyEnabled (duplicates) */
    char *dup = strstr(json, "\"networkConfiguration\": {\n");
    assert_non_null(dup);
    char *end = strstr(dup, "\"containerImages\"");
    memmove(dup, end, strlen(end) + 1);
    char *gd = strstr(json, "\"guardDutyEnabled\": true,");
    memmove(gd, gd + strlen("\"guardDutyEnabled\": true,"),
            strlen(gd + strlen("\"guardDutyEnabled\": true,")) + 1);
    struct ecsrev_revision rev = {0};
    rev_from_string(&rev, json);
    struct ecsrev_audit *a = run(cfg, &rev, NULL);
    const char *path = NULL;
    assert_int_equal(count_rule(a, "CUSTOM-NO-SPOT", &path), 1);
    assert_string_equal(path, "capacityProviderStrategy[FARGATE_SPOT].capacityProvider");
    assert_int_equal(count_rule(a, "CUSTOM-TAGS", &path), 1);
    assert_string_equal(path, "volumeConfigurations[data].managedEBSVolume.tagSpecifications");
    assert_int_equal(count_rule(a, "CUSTOM-WEB-FROM-ECR", NULL), 0);
    assert_int_equal(count_rule(a, "ECSREV-GUARDDUTY-OFF", NULL), 0); /* disabled */
    assert_int_equal(count_rule(a, "ECSREV-SUBNET-NOT-ALLOWED", NULL), 1);
    /* ECS.2 is reported, critical, but suppressed by the exception for prod/api */
    bool seen = false;
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (strcmp(f->rule->id, "ECS.2") == 0) {
            seen = true;
            assert_int_equal(f->severity, ECSREV_SEV_CRITICAL);
            assert_non_null(f->suppressed_by);
            assert_non_null(strstr(f->suppressed_by, "CHG-1234"));
        } else if (strcmp(f->rule->id, "ECSREV-SC-NO-LOGS") == 0) {
            assert_null(f->suppressed_by); /* expired exception */
        }
    }
    assert_true(seen);
    /* the subnet finding (high) is the worst unsuppressed one */
    assert_int_equal(ecsrev_audit_max_severity(a), ECSREV_SEV_HIGH);
    ecsrev_audit_free(a);
    ecsrev_revision_dispose(&rev);
    free(json);
    ecsrev_audit_config_free(cfg);
}

static void test_exception_expiry(void **state)
{
    (void)state;
    const char *json = "{\"exceptions\":[{\"rule\":\"ECSREV-GUARDDUTY-OFF\",\"service\":"
                       "\"api\",\"reason\":\"r\",\"expires\":\"2026-01-31\"}]}";
    /* valid through the whole expiry day (UTC) */
    const int64_t jan31_end = INT64_C(1769904000000); /* 2026-02-01T00:00:00Z */
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_audit_config_new(&cfg, json, strlen(json), "x", jan31_end - 1, &err),
                     0);
    assert_int_equal(ecsrev_audit_config_expired(cfg), 0);
    ecsrev_audit_config_free(cfg);
    assert_int_equal(ecsrev_audit_config_new(&cfg, json, strlen(json), "x", jan31_end, &err), 0);
    assert_int_equal(ecsrev_audit_config_expired(cfg), 1);
    ecsrev_audit_config_free(cfg);
}

static void test_rules_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *msg;
    } cases[] = {
        {"not-json", "JSON (line 1"},
        {"not-object", "expected an object, got array"},
        {"unknown-top", "top level: unknown key 'rule'"},
        {"unknown-rule", "rules: unknown rule 'ECS.99'"},
        {"unknown-rule-key", "rules.ECS.2: unknown key 'platformVersions'"},
        {"bad-enabled", "rules.ECS.2: enabled: expected a boolean, got string"},
        {"bad-severity", "rules.ECS.10: unknown severity 'urgent'"},
        {"bad-platform", "rules.ECS.10: platformVersions: expected LATEST or a version"},
        {"unknown-platform-key", "platformVersions: unknown key 'macos'"},
        {"allow-not-array", "allow.registries: expected an array, got string"},
        {"allow-unknown", "allow: unknown key 'vpcs'"},
        {"allow-needed", "rules.ECSREV-SUBNET-NOT-ALLOWED: enabled but allow.subnets is empty"},
        {"exception-no-reason", "exceptions[0] (ECS.2): missing 'reason'"},
        {"exception-bad-date", "exceptions[0] (ECS.2): expires: '2030-02-30' is not a date"},
        {"exception-unknown-rule", "exceptions[0] (ECS.3): unknown rule 'ECS.3'"},
        {"exception-unknown-key", "exceptions[0] (ECS.2): unknown key 'owner'"},
        {"custom-unknown-op", "custom[2] (CUSTOM-1): unknown op 'eq'"},
        {"custom-no-id", "custom[0]: missing 'id'"},
        {"custom-dup-id", "custom[0] (ECS.2): id is already used"},
        {"custom-bad-path", "custom[0] (C-1): path 'containerImages[web.image': bad selector"},
        {"custom-missing-value", "custom[0] (C-1): op 'in' needs a 'value'"},
        {"custom-value-not-array", "custom[0] (C-1): value: expected an array, got string"},
        {"custom-extra-value", "custom[0] (C-1): op 'absent' takes no 'value'"},
        {"custom-no-severity", "custom[0] (C-1): missing 'severity'"},
        {"custom-no-message", "custom[0] (C-1): missing 'message'"},
        {"custom-unknown-key", "custom[0] (C-1): unknown key 'level'"},
        {"duplicate-key", "duplicate member 'rules'"},
        {"bad-version", "version: only version 1 is supported"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char rel[256];
        (void)snprintf(rel, sizeof(rel), "audit/rules/invalid/%s.json", cases[i].file);
        size_t len = 0;
        char *text = tu_read_data(rel, &len);
        struct ecsrev_audit_config *cfg = NULL;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        int rc = ecsrev_audit_config_new(&cfg, text, len, "r.json", NOW_MS, &err);
        free(text);
        if (rc == 0) {
            ecsrev_audit_config_free(cfg);
            fail_msg("%s: accepted", cases[i].file);
        }
        assert_null(cfg);
        assert_true(rc == ECSREV_EINVAL || rc == ECSREV_EPARSE);
        if (strncmp(err.msg, "rules file 'r.json': ", 21) != 0 ||
            strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].file, err.msg, cases[i].msg);
        }
    }
}

/* ---- custom rule operators and paths ---- */

static size_t custom(const char *path, const char *op, const char *value, const char **where)
{
    char json[1024];
    (void)snprintf(json, sizeof(json),
                   "{\"custom\":[{\"id\":\"T-1\",\"path\":\"%s\",\"op\":\"%s\"%s%s,"
                   "\"severity\":\"low\",\"message\":\"m\"}]}",
                   path, op, value ? ",\"value\":" : "", value ? value : "");
    struct ecsrev_audit_config *cfg = config_text(json);
    struct ecsrev_revision rev = {0};
    load_rev(&rev, "audit/base.json");
    struct ecsrev_audit *a = run(cfg, &rev, NULL);
    static char first[256];
    const char *p = NULL;
    size_t n = count_rule(a, "T-1", &p);
    (void)snprintf(first, sizeof(first), "%s", p != NULL ? p : "");
    if (where != NULL) {
        *where = first;
    }
    ecsrev_audit_free(a);
    ecsrev_revision_dispose(&rev);
    ecsrev_audit_config_free(cfg);
    return n;
}

static void test_custom_ops(void **state)
{
    (void)state;
    const char *w = NULL;
    const char *pip = "networkConfiguration.awsvpcConfiguration.assignPublicIp";
    assert_int_equal(custom(pip, "equals", "\"DISABLED\"", &w), 1);
    assert_string_equal(w, pip);
    assert_int_equal(custom(pip, "equals", "\"ENABLED\"", NULL), 0);
    assert_int_equal(custom(pip, "not-equals", "\"ENABLED\"", NULL), 1);
    assert_int_equal(custom(pip, "in", "[\"ENABLED\",\"DISABLED\"]", NULL), 1);
    assert_int_equal(custom(pip, "not-in", "[\"DISABLED\"]", NULL), 0);
    assert_int_equal(custom(pip, "exists", NULL, NULL), 1);
    assert_int_equal(custom(pip, "absent", NULL, NULL), 0);
    assert_int_equal(custom("overrides.runtimePlatform", "absent", NULL, &w), 1);
    assert_string_equal(w, "overrides.runtimePlatform");
    assert_int_equal(custom("containerImages[api].image", "matches", "\"*.amazonaws.com/*\"", &w),
                     1);
    assert_string_equal(w, "containerImages[api].image");
    assert_int_equal(custom("containerImages[*].image", "matches", "\"ghcr.io/*\"", NULL), 0);
    assert_int_equal(custom("containerImages[web].image", "absent", NULL, &w), 1);
    assert_string_equal(w, "containerImages[web].image");
    assert_int_equal(custom("networkConfiguration.awsvpcConfiguration.securityGroups[*]", "not-in",
                            "[\"sg-0bbb\"]", &w),
                     1);
    assert_string_equal(w, "networkConfiguration.awsvpcConfiguration.securityGroups[sg-0aaa]");
    assert_int_equal(
        custom("volumeConfigurations[data].managedEBSVolume.sizeInGiB", "in", "[10, 20]", NULL), 1);
    assert_int_equal(custom("serviceConnectConfiguration.services[http].clientAliases[8080]."
                            "dnsName",
                            "equals", "\"api.prod.internal\"", &w),
                     1);
    assert_string_equal(w,
                        "serviceConnectConfiguration.services[http].clientAliases[8080].dnsName");
    assert_int_equal(custom("loadBalancers[*].containerPort", "equals", "8080", NULL), 1);
    assert_int_equal(custom("guardDutyEnabled", "equals", "true", NULL), 1);
}

/* ---- reports ---- */

static struct ecsrev_audit *sample_audit(struct ecsrev_audit_config **cfg_out)
{
    const char *rules = "{\"custom\":[{\"id\":\"X-1\",\"path\":\"launchType\",\"op\":\"exists\","
                        "\"severity\":\"critical\",\"message\":\"quote \\\" <tag> & 'x' | pipe\"}],"
                        "\"exceptions\":[{\"rule\":\"ECSREV-GUARDDUTY-OFF\",\"service\":\"api\","
                        "\"reason\":\"accepted <risk>\",\"expires\":\"2099-01-01\"}]}";
    struct ecsrev_audit_config *cfg = config_text(rules);
    struct ecsrev_revision prev = {0};
    struct ecsrev_revision rev = {0};
    load_rev(&prev, "audit/ECSREV-CHANGE-EXPOSURE/prev.json");
    load_rev(&rev, "audit/ECSREV-CHANGE-EXPOSURE/fail.json");
    struct ecsrev_revision other = {0};
    load_rev(&other, "audit/ECSREV-GUARDDUTY-OFF/fail.json");
    struct ecsrev_audit *a = NULL;
    ecsrev_audit_new(&a, cfg);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_audit_revision(a, &rev, &prev, &err), 0);
    assert_int_equal(ecsrev_audit_revision(a, &other, NULL, &err), 0);
    ecsrev_audit_finish(a);
    ecsrev_revision_dispose(&prev);
    ecsrev_revision_dispose(&rev);
    ecsrev_revision_dispose(&other);
    *cfg_out = cfg;
    return a;
}

static char *render(const struct ecsrev_audit *a, enum ecsrev_report_format fmt)
{
    struct ecsrev_report_options o = ECSREV_REPORT_OPTIONS_INIT;
    o.format = fmt;
    o.generated_ms = NOW_MS;
    o.tool_version = "0.0.0-test";
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_audit_report(&b, a, &o, &err), 0);
    return ecsrev_buf_detach(&b);
}

static void test_report_json(void **state)
{
    (void)state;
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_audit *a = sample_audit(&cfg);
    char *text = render(a, ECSREV_REPORT_JSON);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetObjectItem(doc, "schema")->valueint, 1);
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    assert_int_equal(cJSON_GetObjectItem(sum, "critical")->valueint, 2); /* X-1 twice */
    assert_int_equal(cJSON_GetObjectItem(sum, "medium")->valueint, 1);   /* exposure */
    assert_int_equal(cJSON_GetObjectItem(sum, "suppressed")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(sum, "total")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(sum, "revisions")->valueint, 2);
    const cJSON *findings = cJSON_GetObjectItem(doc, "findings");
    assert_int_equal(cJSON_GetArraySize(findings), 4);
    const cJSON *f0 = cJSON_GetArrayItem(findings, 0);
    assert_string_equal(cJSON_GetObjectItem(f0, "severity")->valuestring, "critical");
    assert_string_equal(cJSON_GetObjectItem(f0, "message")->valuestring,
                        "quote \" <tag> & 'x' | pipe");
    bool change = false;
    for (const cJSON *f = findings->child; f != NULL; f = f->next) {
        const char *id = cJSON_GetObjectItem(f, "ruleId")->valuestring;
        if (strcmp(id, "ECSREV-CHANGE-EXPOSURE") == 0) {
            change = true;
            assert_true(cJSON_IsString(cJSON_GetObjectItem(f, "previousRevision")));
            assert_string_equal(cJSON_GetObjectItem(f, "value")->valuestring, "sg-0new");
            assert_string_equal(cJSON_GetObjectItem(f, "createdAt")->valuestring,
                                "2026-01-01T01:00:00.000Z");
        }
        if (strcmp(id, "ECSREV-GUARDDUTY-OFF") == 0) {
            assert_true(cJSON_IsObject(cJSON_GetObjectItem(f, "suppressed")));
        }
    }
    assert_true(change);
    cJSON_Delete(doc);
    free(text);
    ecsrev_audit_free(a);
    ecsrev_audit_config_free(cfg);
}

static void test_report_sarif(void **state)
{
    (void)state;
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_audit *a = sample_audit(&cfg);
    char *text = render(a, ECSREV_REPORT_SARIF);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "version")->valuestring, "2.1.0");
    const cJSON *run0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "runs"), 0);
    const cJSON *driver = cJSON_GetObjectItem(cJSON_GetObjectItem(run0, "tool"), "driver");
    const cJSON *rules = cJSON_GetObjectItem(driver, "rules");
    size_t n = 0;
    (void)ecsrev_audit_config_rules(cfg, &n);
    assert_int_equal((size_t)cJSON_GetArraySize(rules), n);
    const cJSON *results = cJSON_GetObjectItem(run0, "results");
    assert_int_equal(cJSON_GetArraySize(results), 4);
    for (const cJSON *r = results->child; r != NULL; r = r->next) {
        int idx = cJSON_GetObjectItem(r, "ruleIndex")->valueint;
        const cJSON *rule = cJSON_GetArrayItem(rules, idx);
        assert_string_equal(cJSON_GetObjectItem(rule, "id")->valuestring,
                            cJSON_GetObjectItem(r, "ruleId")->valuestring);
        const char *level = cJSON_GetObjectItem(r, "level")->valuestring;
        assert_true(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0 ||
                    strcmp(level, "note") == 0);
        const cJSON *loc = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "locations"), 0);
        const cJSON *uri = cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(loc, "physicalLocation"), "artifactLocation"),
            "uri");
        assert_non_null(strstr(uri->valuestring, ":service-revision/"));
    }
    cJSON_Delete(doc);
    free(text);
    ecsrev_audit_free(a);
    ecsrev_audit_config_free(cfg);
}

static void test_report_text_junit_markdown(void **state)
{
    (void)state;
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_audit *a = sample_audit(&cfg);
    char *text = render(a, ECSREV_REPORT_TEXT);
    assert_non_null(strstr(text, "arn:aws:ecs:us-east-1:123456789012:service/prod/api\n"));
    assert_non_null(strstr(text, "3 findings (2 critical, 0 high, 1 medium, 0 low), 1 suppressed"));
    assert_non_null(strstr(text, "previous arn:aws:ecs:"));
    /* most severe first within the service */
    assert_true(strstr(text, "critical") < strstr(text, "medium "));
    free(text);

    char *xml = render(a, ECSREV_REPORT_JUNIT);
    assert_non_null(strstr(xml, "<?xml version=\"1.0\""));
    assert_non_null(strstr(xml, "quote &quot; &lt;tag&gt; &amp; &apos;x&apos; | pipe"));
    assert_non_null(strstr(xml, "<skipped"));
    assert_null(strstr(xml, "<tag>"));
    free(xml);

    char *md = render(a, ECSREV_REPORT_MARKDOWN);
    assert_non_null(strstr(md, "| Severity | Rule | Revision | Path | Value | Message |"));
    assert_non_null(strstr(md, "quote \" <tag> & 'x' \\| pipe"));
    assert_non_null(strstr(md, "## Remediation"));
    free(md);
    ecsrev_audit_free(a);
    ecsrev_audit_config_free(cfg);
}

static void test_report_cap(void **state)
{
    (void)state;
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_audit *a = sample_audit(&cfg);
    struct ecsrev_report_options o = ECSREV_REPORT_OPTIONS_INIT;
    o.format = ECSREV_REPORT_SARIF;
    struct ecsrev_buf b;
    ecsrev_buf_init(&b, 100);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_audit_report(&b, a, &o, &err), ECSREV_EINVAL);
    ecsrev_buf_dispose(&b);
    ecsrev_audit_free(a);
    ecsrev_audit_config_free(cfg);
}

static void test_names(void **state)
{
    (void)state;
    enum ecsrev_severity s;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_severity_parse(&s, "high", &err), 0);
    assert_int_equal(s, ECSREV_SEV_HIGH);
    assert_int_equal(ecsrev_severity_parse(&s, "HIGH", &err), ECSREV_EINVAL);
    assert_string_equal(ecsrev_severity_name(ECSREV_SEV_CRITICAL), "critical");
    enum ecsrev_report_format f;
    assert_int_equal(ecsrev_report_format_parse(&f, "sarif", &err), 0);
    assert_int_equal(f, ECSREV_REPORT_SARIF);
    assert_int_equal(ecsrev_report_format_parse(&f, "xml", &err), ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "unknown format 'xml'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rule_has_fixtures),
        cmocka_unit_test(test_base_is_clean),
        cmocka_unit_test(test_ecs10_variants),
        cmocka_unit_test(test_change_rules),
        cmocka_unit_test(test_image_rules),
        cmocka_unit_test(test_rules_file_options),
        cmocka_unit_test(test_exception_expiry),
        cmocka_unit_test(test_rules_file_errors),
        cmocka_unit_test(test_custom_ops),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_report_sarif),
        cmocka_unit_test(test_report_text_junit_markdown),
        cmocka_unit_test(test_report_cap),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
