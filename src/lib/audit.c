/*
 * audit.c - the rule catalog, the rules file and member paths.
 *
 * The rules file is parsed strictly (ecsrev_json__parse: no duplicate keys,
 * valid UTF-8) and validated completely before use: unknown keys, unknown
 * rules, wrong types, bad severities, bad paths and bad operators are errors
 * naming where they are ("rules file 'x': custom[2] (CUSTOM-1): unknown op
 * 'eq'"). Exceptions whose expiry date has passed (relative to the now_ms
 * parameter) are dropped and counted. The format is documented in
 * docs/rules.md.
 *
 * Paths ("a.b[*].c[key]") address members of a canonical revision; keyed
 * arrays are matched with the normalizer's rules (ecsrev_canon_array_rule),
 * so "containerImages[web]" is the element whose containerName is "web".
 */
#include "audit_priv.h"

#include "json_priv.h"

#include <ecsrev/canon.h>

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const struct ecsrev_rule_info s_builtin[R__COUNT] = {
    {"ECS.2", "ECS.2", ECSREV_SEV_HIGH, ECSREV_RULE_REVISION,
     "ECS services should not have public IP addresses assigned to them automatically",
     "With assignPublicIp ENABLED every task gets an address reachable from the internet; "
     "only its security groups stand between the task and any attacker.",
     "Set networkConfiguration.awsvpcConfiguration.assignPublicIp to DISABLED and reach the "
     "service through a load balancer; give private subnets a NAT gateway or VPC endpoints "
     "for outbound traffic."},
    {"ECS.10", "ECS.10", ECSREV_SEV_MEDIUM, ECSREV_RULE_REVISION,
     "ECS Fargate services should run on the latest Fargate platform version",
     "Older platform versions miss security patches and features (such as encrypted "
     "ephemeral storage) that newer ones have.",
     "Set platformVersion to LATEST (or at least 1.4.0 on Linux, 1.0.0 on Windows) and "
     "redeploy the service."},
    {"ECSREV-EBS-UNENCRYPTED", NULL, ECSREV_SEV_HIGH, ECSREV_RULE_REVISION,
     "Managed EBS volumes should be encrypted",
     "An unencrypted volume exposes task data in snapshots and on the storage layer; the "
     "revision does not show account-level default encryption, so it must say encrypted.",
     "Set volumeConfigurations[].managedEBSVolume.encrypted to true, with a customer-managed "
     "kmsKeyId."},
    {"ECSREV-EBS-NO-CMK", NULL, ECSREV_SEV_LOW, ECSREV_RULE_REVISION,
     "Encrypted managed EBS volumes should use a customer-managed KMS key",
     "With the AWS-managed key (aws/ebs) you cannot restrict or audit who may decrypt the "
     "data, nor revoke access by disabling the key.",
     "Set volumeConfigurations[].managedEBSVolume.kmsKeyId to a customer-managed KMS key."},
    {"ECSREV-IMAGE-MUTABLE-TAG", NULL, ECSREV_SEV_MEDIUM, ECSREV_RULE_REVISION,
     "Container images should be referenced by a version tag or digest, not :latest",
     "A mutable tag (:latest, or no tag at all) can point at different images over time, so "
     "what runs is neither reproducible nor reviewable.",
     "Reference images by an immutable version tag (and enable tag immutability in ECR) or "
     "by digest (image@sha256:...)."},
    {"ECSREV-IMAGE-NO-DIGEST", NULL, ECSREV_SEV_LOW, ECSREV_RULE_REVISION,
     "Container images should have a resolved image digest",
     "Without imageDigest the revision does not record exactly which image bytes ran, so a "
     "later audit cannot tell whether a tag was moved.",
     "Use images from registries that ECS can resolve to a digest (ECR, or registries that "
     "answer manifest requests), and keep version consistency enabled."},
    {"ECSREV-IMAGE-REGISTRY-NOT-ALLOWED", NULL, ECSREV_SEV_HIGH, ECSREV_RULE_REVISION,
     "Container images should come from an allowed registry",
     "Images from registries outside your control bypass your scanning, signing and "
     "retention policies.",
     "Mirror the image into an allowed registry (see allow.registries in the rules file) and "
     "reference it from there."},
    {"ECSREV-SUBNET-NOT-ALLOWED", NULL, ECSREV_SEV_HIGH, ECSREV_RULE_REVISION,
     "Services should run only in allowed subnets",
     "A service placed in an unexpected subnet (for example a public one) may be reachable "
     "from networks it was not meant for.",
     "Use only the subnets listed in allow.subnets of the rules file, or add the subnet "
     "there after review."},
    {"ECSREV-SECURITY-GROUP-NOT-ALLOWED", NULL, ECSREV_SEV_HIGH, ECSREV_RULE_REVISION,
     "Services should use only allowed security groups",
     "An unreviewed security group can open ports to networks the service was not meant for.",
     "Use only the security groups listed in allow.securityGroups of the rules file, or add "
     "the group there after review."},
    {"ECSREV-GUARDDUTY-OFF", NULL, ECSREV_SEV_LOW, ECSREV_RULE_REVISION,
     "GuardDuty runtime monitoring should be on for the service",
     "Without runtime monitoring, attacks inside running tasks (crypto miners, reverse "
     "shells) go unnoticed.",
     "Enable GuardDuty Runtime Monitoring with automated agent management for ECS Fargate, or "
     "install the agent on the container instances."},
    {"ECSREV-SC-NO-TLS", NULL, ECSREV_SEV_MEDIUM, ECSREV_RULE_REVISION,
     "Service Connect services should use TLS",
     "Without TLS, traffic between services crosses the network in clear text and clients "
     "cannot authenticate the server.",
     "Add serviceConnectConfiguration.services[].tls with an AWS Private CA "
     "(issuerCertificateAuthority.awsPcaAuthorityArn) and a role ECS can use."},
    {"ECSREV-SC-NO-LOGS", NULL, ECSREV_SEV_LOW, ECSREV_RULE_REVISION,
     "Service Connect should have a log configuration",
     "Without logs from the Service Connect proxy, connection failures and unexpected "
     "callers cannot be investigated.",
     "Set serviceConnectConfiguration.logConfiguration (for example the awslogs driver)."},
    {"ECSREV-EPHEMERAL-NO-CMK", NULL, ECSREV_SEV_LOW, ECSREV_RULE_REVISION,
     "Fargate ephemeral storage should be encrypted with a customer-managed KMS key",
     "By default Fargate encrypts ephemeral storage with an AWS-owned key that you cannot "
     "control, audit or revoke.",
     "Set the cluster's managed storage configuration fargateEphemeralStorageKmsKeyId to a "
     "customer-managed KMS key and redeploy."},
    {"ECSREV-CHANGE-EXPOSURE", NULL, ECSREV_SEV_MEDIUM, ECSREV_RULE_CHANGE,
     "A revision should not increase the service's network exposure unnoticed",
     "Turning on public IPs, adding security groups or adding load balancers makes the service "
     "reachable from more places; such changes should be deliberate and reviewed.",
     "Review the change; revert it or record the approval (an exception in the rules file, "
     "or an allowed security group)."},
    {"ECSREV-CHANGE-ENCRYPTION-REMOVED", NULL, ECSREV_SEV_HIGH, ECSREV_RULE_CHANGE,
     "A revision should not remove encryption or a customer-managed key",
     "Volumes that were encrypted (or used a customer-managed key) and no longer are hold "
     "data with weaker protection than before.",
     "Restore encrypted true and the kmsKeyId on the managed EBS volume (or the ephemeral "
     "storage key) and redeploy."},
    {"ECSREV-CHANGE-REGISTRY", NULL, ECSREV_SEV_MEDIUM, ECSREV_RULE_CHANGE,
     "A revision should not move a container to a different image registry unnoticed",
     "An image now pulled from another registry may not be scanned or signed like the old one, "
     "and is a classic supply-chain attack path.",
     "Confirm the new registry is intended and trusted; otherwise point the container back to "
     "the previous registry."},
};

const struct ecsrev_rule_info *ecsrev_audit_builtin_rules(size_t *n)
{
    *n = R__COUNT;
    return s_builtin;
}

static const char *const s_sev_names[] = {"none", "low", "medium", "high", "critical"};

const char *ecsrev_severity_name(enum ecsrev_severity sev)
{
    if ((int)sev < 0 || (int)sev > (int)ECSREV_SEV_CRITICAL) {
        return "none";
    }
    return s_sev_names[sev];
}

int ecsrev_severity_parse(enum ecsrev_severity *out, const char *name, struct ecsrev_error *err)
{
    for (int i = ECSREV_SEV_LOW; i <= ECSREV_SEV_CRITICAL; i++) {
        if (strcmp(name, s_sev_names[i]) == 0) {
            *out = (enum ecsrev_severity)i;
            return 0;
        }
    }
    return ecsrev_error_set(err, ECSREV_EINVAL,
                            "unknown severity '%s' (low, medium, high or critical)", name);
}

char *ecsrev_audit__vasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return ecsrev_xstrdup("");
    }
    char *s = ecsrev_xmalloc((size_t)n + 1);
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *ecsrev_audit__asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ecsrev_audit__vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

/* ---- paths ---- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '$';
}

void ecsrev_audit__path_dispose(struct audit_path *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].name);
        free(p->steps[i].key);
    }
    free(p->steps);
    p->steps = NULL;
    p->n = 0;
}

/* Parse one "name" or "name[sel]" at *pos; leaves *pos after it. */
static int parse_step(struct path_step *st, const char *text, size_t *pos, struct ecsrev_error *err)
{
    size_t i = *pos;
    size_t start = i;
    while (is_name_char(text[i])) {
        i++;
    }
    if (i == start) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "path '%s': expected a member name at %zu",
                                text, i + 1);
    }
    st->name = ecsrev_xstrndup(text + start, i - start);
    if (text[i] == '[') {
        const char *close = strchr(text + i + 1, ']');
        if (close == NULL || close == text + i + 1) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "path '%s': bad selector at %zu", text,
                                    i + 1);
        }
        size_t klen = (size_t)(close - (text + i + 1));
        if (klen == 1 && text[i + 1] == '*') {
            st->sel = SEL_ALL;
        } else {
            st->sel = SEL_KEY;
            st->key = ecsrev_xstrndup(text + i + 1, klen);
        }
        i = (size_t)(close - text) + 1;
    }
    if (text[i] != '\0' && text[i] != '.') {
        return ecsrev_error_set(err, ECSREV_EINVAL, "path '%s': unexpected '%c' at %zu", text,
                                text[i], i + 1);
    }
    *pos = i;
    return 0;
}

int ecsrev_audit__path_parse(struct audit_path *out, const char *text, struct ecsrev_error *err)
{
    out->steps = NULL;
    out->n = 0;
    if (text[0] == '\0') {
        return ecsrev_error_set(err, ECSREV_EINVAL, "empty path");
    }
    size_t pos = 0;
    int rc = 0;
    for (;;) {
        out->steps = ecsrev_xrealloc(out->steps, (out->n + 1) * sizeof(*out->steps));
        struct path_step *st = &out->steps[out->n++];
        memset(st, 0, sizeof(*st));
        if ((rc = parse_step(st, text, &pos, err)) < 0) {
            ecsrev_audit__path_dispose(out);
            return rc;
        }
        if (text[pos] == '\0') {
            return 0;
        }
        pos++; /* '.' */
    }
}

/* The text of a scalar for key matching and labels: string as is, numbers
 * and booleans printed. Owned, or NULL for other types. */
static char *scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return ecsrev_xstrdup(v->valuestring);
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d) {
            return ecsrev_audit__asprintf("%lld", (long long)d);
        }
        return ecsrev_audit__asprintf("%.17g", d);
    }
    if (cJSON_IsBool(v)) {
        return ecsrev_xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    }
    return NULL;
}

char *ecsrev_audit__elem_label(const char *array_path, const cJSON *elem, size_t index)
{
    struct ecsrev_array_rule rule = ecsrev_canon_array_rule(array_path);
    char *label = NULL;
    if (rule.kind == ECSREV_ARRAY_KEYED && cJSON_IsObject(elem)) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(elem, rule.key);
        if (k == NULL && rule.alt_key != NULL) {
            k = cJSON_GetObjectItemCaseSensitive(elem, rule.alt_key);
        }
        label = k != NULL ? scalar_text(k) : NULL;
    } else if (rule.kind == ECSREV_ARRAY_SET) {
        label = scalar_text(elem);
    }
    if (label == NULL) {
        label = ecsrev_audit__asprintf("%zu", index);
    }
    return label;
}

struct walk {
    const struct audit_path *p;
    ecsrev_audit__slot_fn fn;
    void *payload;
};

/* Report a missing slot: the concrete prefix plus the rest of the path as written. */
static void walk_missing(const struct walk *w, const char *concrete, size_t from)
{
    char *path = ecsrev_xstrdup(concrete);
    for (size_t i = from; i < w->p->n; i++) {
        const struct path_step *st = &w->p->steps[i];
        char *next = ecsrev_audit__asprintf("%s%s%s%s%s%s", path, path[0] != '\0' ? "." : "",
                                            st->name, st->sel != SEL_NONE ? "[" : "",
                                            st->sel == SEL_ALL ? "*" : (st->key ? st->key : ""),
                                            st->sel != SEL_NONE ? "]" : "");
        free(path);
        path = next;
    }
    w->fn(path, NULL, w->payload);
    free(path);
}

static void walk_from(const struct walk *w, const cJSON *node, size_t i, const char *concrete,
                      const char *member_path);

static bool key_matches(const char *array_path, const cJSON *elem, size_t index, const char *key)
{
    char *label = ecsrev_audit__elem_label(array_path, elem, index);
    bool eq = strcmp(label, key) == 0;
    free(label);
    return eq;
}

/* Step i selects elements of the array @p arr found at @p here. */
static void walk_array(const struct walk *w, const cJSON *arr, size_t i, const char *here,
                       const char *member_path)
{
    const struct path_step *st = &w->p->steps[i];
    size_t index = 0;
    bool found = false;
    for (const cJSON *e = arr->child; e != NULL; e = e->next, index++) {
        if (st->sel == SEL_KEY && !key_matches(member_path, e, index, st->key)) {
            continue;
        }
        found = true;
        char *label = ecsrev_audit__elem_label(member_path, e, index);
        char *elem_path = ecsrev_audit__asprintf("%s[%s]", here, label);
        walk_from(w, e, i + 1, elem_path, member_path);
        free(elem_path);
        free(label);
    }
    if (!found && st->sel == SEL_KEY) {
        char *elem_path = ecsrev_audit__asprintf("%s[%s]", here, st->key);
        walk_missing(w, elem_path, i + 1);
        free(elem_path);
    }
}

static void walk_from(const struct walk *w, const cJSON *node, size_t i, const char *concrete,
                      const char *member_path)
{
    if (i == w->p->n) {
        w->fn(concrete, cJSON_IsNull(node) ? NULL : node, w->payload);
        return;
    }
    const struct path_step *st = &w->p->steps[i];
    const cJSON *child =
        cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, st->name) : NULL;
    if (child == NULL || cJSON_IsNull(child)) {
        walk_missing(w, concrete, i);
        return;
    }
    char *here =
        ecsrev_audit__asprintf("%s%s%s", concrete, concrete[0] != '\0' ? "." : "", st->name);
    char *mpath =
        ecsrev_audit__asprintf("%s%s%s", member_path, member_path[0] != '\0' ? "." : "", st->name);
    if (st->sel == SEL_NONE) {
        walk_from(w, child, i + 1, here, mpath);
    } else if (cJSON_IsArray(child)) {
        walk_array(w, child, i, here, mpath);
    } else {
        walk_missing(w, concrete, i);
    }
    free(mpath);
    free(here);
}

void ecsrev_audit__path_walk(const cJSON *root, const struct audit_path *p,
                             ecsrev_audit__slot_fn fn, void *payload)
{
    struct walk w = {p, fn, payload};
    walk_from(&w, root, 0, "", "");
}

/* ---- small helpers used by the rules ---- */

bool ecsrev_audit__service_matches(const char *service_arn, const char *name)
{
    if (strcmp(service_arn, name) == 0) {
        return true;
    }
    const char *res = strstr(service_arn, ":service/");
    if (res == NULL) {
        return false;
    }
    res += strlen(":service/");
    if (strcmp(res, name) == 0) {
        return true;
    }
    const char *last = strrchr(res, '/');
    return strcmp(last != NULL ? last + 1 : res, name) == 0;
}

char *ecsrev_audit__image_registry(const char *image)
{
    const char *slash = strchr(image, '/');
    if (slash != NULL) {
        size_t n = (size_t)(slash - image);
        if (memchr(image, '.', n) != NULL || memchr(image, ':', n) != NULL ||
            (n == 9 && strncmp(image, "localhost", 9) == 0)) {
            return ecsrev_xstrndup(image, n);
        }
    }
    return ecsrev_xstrdup("docker.io");
}

bool ecsrev_audit__list_matches(const struct str_list *list, const char *s)
{
    for (size_t i = 0; i < list->n; i++) {
        if (fnmatch(list->items[i], s, 0) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the rules file ---- */

static void str_list_dispose(struct str_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void ecsrev_audit_config_free(struct ecsrev_audit_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    free(cfg->pv_linux);
    free(cfg->pv_windows);
    str_list_dispose(&cfg->registries);
    str_list_dispose(&cfg->subnets);
    str_list_dispose(&cfg->security_groups);
    for (size_t i = 0; i < cfg->n_exceptions; i++) {
        free(cfg->exceptions[i].rule);
        free(cfg->exceptions[i].service);
        free(cfg->exceptions[i].reason);
    }
    free(cfg->exceptions);
    for (size_t i = 0; i < cfg->n_custom; i++) {
        struct custom_rule *c = &cfg->custom[i];
        free(c->id);
        free(c->title);
        free(c->message);
        free(c->remediation);
        free(c->path_text);
        ecsrev_audit__path_dispose(&c->path);
        cJSON_Delete(c->value);
    }
    free(cfg->custom);
    free(cfg->rules);
    free(cfg);
}

static int builtin_index(const char *id)
{
    for (int i = 0; i < R__COUNT; i++) {
        if (strcmp(s_builtin[i].id, id) == 0) {
            return i;
        }
    }
    return -1;
}

/* Fail unless every member of @p obj is one of @p keys (NULL-terminated). */
static int check_keys(const cJSON *obj, const char *const *keys, const char *where,
                      struct ecsrev_error *err)
{
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        bool ok = false;
        for (size_t i = 0; keys[i] != NULL; i++) {
            ok = ok || strcmp(m->string, keys[i]) == 0;
        }
        if (!ok) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "%s: unknown key '%s'", where, m->string);
        }
    }
    return 0;
}

static int want_type(const cJSON *v, bool ok, const char *type, const char *where, const char *key,
                     struct ecsrev_error *err)
{
    if (ok) {
        return 0;
    }
    return ecsrev_error_set(err, ECSREV_EINVAL, "%s: %s: expected %s, got %s", where, key, type,
                            ecsrev_json__type_name(v));
}

/*
 * Optional non-empty string member; *out stays NULL when absent.
 * The error paths return the literal code (ecsrev_error_set returns the same
 * one) so that the static analyzer, which cannot see into error.c, knows that
 * 0 always means a required *out was set.
 */
static int get_string(char **out, const cJSON *obj, const char *key, bool required,
                      const char *where, struct ecsrev_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL && !required) {
        return 0;
    }
    if (v == NULL) {
        (void)ecsrev_error_set(err, ECSREV_EINVAL, "%s: missing '%s'", where, key);
        return ECSREV_EINVAL;
    }
    if (!cJSON_IsString(v)) {
        (void)want_type(v, false, "a string", where, key, err);
        return ECSREV_EINVAL;
    }
    if (v->valuestring[0] == '\0') {
        (void)ecsrev_error_set(err, ECSREV_EINVAL, "%s: %s: must not be empty", where, key);
        return ECSREV_EINVAL;
    }
    free(*out);
    *out = ecsrev_xstrdup(v->valuestring);
    return 0;
}

static int get_severity(enum ecsrev_severity *out, const cJSON *obj, bool required,
                        const char *where, struct ecsrev_error *err)
{
    char *name = NULL;
    int rc = get_string(&name, obj, "severity", required, where, err);
    if (rc == 0 && name != NULL && (rc = ecsrev_severity_parse(out, name, err)) < 0) {
        ecsrev_error_prefix(err, "%s", where);
    }
    free(name);
    return rc;
}

static bool version_ok(const char *v)
{
    if (strcmp(v, "LATEST") == 0) {
        return true;
    }
    bool digit = false;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            digit = true;
        } else if (*p != '.' || !digit) {
            return false;
        } else {
            digit = false;
        }
    }
    return digit;
}

static int parse_platform_versions(struct ecsrev_audit_config *cfg, const cJSON *pv,
                                   const char *where, struct ecsrev_error *err)
{
    static const char *const keys[] = {"linux", "windows", NULL};
    char *w = ecsrev_audit__asprintf("%s: platformVersions", where);
    int rc = want_type(pv, cJSON_IsObject(pv), "an object", where, "platformVersions", err);
    if (rc == 0) {
        rc = check_keys(pv, keys, w, err);
    }
    if (rc == 0) {
        rc = get_string(&cfg->pv_linux, pv, "linux", false, w, err);
    }
    if (rc == 0) {
        rc = get_string(&cfg->pv_windows, pv, "windows", false, w, err);
    }
    if (rc == 0 && (!version_ok(cfg->pv_linux) || !version_ok(cfg->pv_windows))) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "%s: expected LATEST or a version like 1.4.0", w);
    }
    free(w);
    return rc;
}

static int parse_rule_settings(struct ecsrev_audit_config *cfg, const cJSON *r,
                               struct ecsrev_error *err)
{
    static const char *const keys[] = {"enabled", "severity", NULL};
    static const char *const keys10[] = {"enabled", "severity", "platformVersions", NULL};
    int idx = builtin_index(r->string);
    char *where = ecsrev_audit__asprintf("rules.%s", r->string);
    int rc = 0;
    if (idx < 0) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "rules: unknown rule '%s'", r->string);
    } else if (!cJSON_IsObject(r)) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "%s: expected an object, got %s", where,
                              ecsrev_json__type_name(r));
    } else {
        rc = check_keys(r, idx == R_ECS10 ? keys10 : keys, where, err);
    }
    const cJSON *en = rc == 0 ? cJSON_GetObjectItemCaseSensitive(r, "enabled") : NULL;
    if (en != NULL &&
        (rc = want_type(en, cJSON_IsBool(en), "a boolean", where, "enabled", err)) == 0) {
        cfg->enabled[idx] = cJSON_IsTrue(en);
    }
    if (rc == 0) {
        rc = get_severity(&cfg->severity[idx], r, false, where, err);
    }
    const cJSON *pv = rc == 0 ? cJSON_GetObjectItemCaseSensitive(r, "platformVersions") : NULL;
    if (pv != NULL) {
        rc = parse_platform_versions(cfg, pv, where, err);
    }
    free(where);
    return rc;
}

static int parse_rules(struct ecsrev_audit_config *cfg, const cJSON *rules,
                       struct ecsrev_error *err)
{
    if (!cJSON_IsObject(rules)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "rules: expected an object, got %s",
                                ecsrev_json__type_name(rules));
    }
    for (const cJSON *r = rules->child; r != NULL; r = r->next) {
        int rc = parse_rule_settings(cfg, r, err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int parse_str_list(struct str_list *out, const cJSON *obj, const char *key,
                          struct ecsrev_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (arr == NULL) {
        return 0;
    }
    if (!cJSON_IsArray(arr)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "allow.%s: expected an array, got %s", key,
                                ecsrev_json__type_name(arr));
    }
    size_t i = 0;
    for (const cJSON *v = arr->child; v != NULL; v = v->next, i++) {
        if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "allow.%s[%zu]: expected a non-empty string", key, i);
        }
        out->items = ecsrev_xrealloc(out->items, (out->n + 1) * sizeof(char *));
        out->items[out->n++] = ecsrev_xstrdup(v->valuestring);
    }
    return 0;
}

static int parse_allow(struct ecsrev_audit_config *cfg, const cJSON *allow,
                       struct ecsrev_error *err)
{
    static const char *const keys[] = {"registries", "subnets", "securityGroups", NULL};
    int rc = want_type(allow, cJSON_IsObject(allow), "an object", "rules file", "allow", err);
    if (rc == 0) {
        rc = check_keys(allow, keys, "allow", err);
    }
    if (rc == 0) {
        rc = parse_str_list(&cfg->registries, allow, "registries", err);
    }
    if (rc == 0) {
        rc = parse_str_list(&cfg->subnets, allow, "subnets", err);
    }
    if (rc == 0) {
        rc = parse_str_list(&cfg->security_groups, allow, "securityGroups", err);
    }
    return rc;
}

static bool custom_known(const struct ecsrev_audit_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_custom; i++) {
        if (strcmp(cfg->custom[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* "YYYY-MM-DD" -> ms at the end of that day (UTC), i.e. the next midnight. */
static int parse_expiry(int64_t *out, const char *s)
{
    char full[32];
    int64_t midnight = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        snprintf(full, sizeof(full), "%sT00:00:00Z", s) < 0 ||
        ecsrev_time_parse(&midnight, full, NULL) < 0) {
        return -1;
    }
    *out = midnight + INT64_C(86400000);
    return 0;
}

static int parse_exception(struct ecsrev_audit_config *cfg, const cJSON *e, size_t i,
                           int64_t now_ms, struct ecsrev_error *err)
{
    static const char *const keys[] = {"rule", "service", "reason", "expires", NULL};
    struct audit_exception x = {NULL, NULL, NULL};
    char *expires = NULL;
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(e, "rule");
    char *where = cJSON_IsString(rule)
                      ? ecsrev_audit__asprintf("exceptions[%zu] (%s)", i, rule->valuestring)
                      : ecsrev_audit__asprintf("exceptions[%zu]", i);
    int rc = want_type(e, cJSON_IsObject(e), "an object", "exceptions", "item", err);
    int64_t exp_ms = 0;
    if (rc == 0 && (rc = check_keys(e, keys, where, err)) == 0 &&
        (rc = get_string(&x.rule, e, "rule", true, where, err)) == 0 &&
        (rc = get_string(&x.service, e, "service", true, where, err)) == 0 &&
        (rc = get_string(&x.reason, e, "reason", true, where, err)) == 0 &&
        (rc = get_string(&expires, e, "expires", true, where, err)) == 0) {
        if (builtin_index(x.rule) < 0 && !custom_known(cfg, x.rule)) {
            rc = ecsrev_error_set(err, ECSREV_EINVAL, "%s: unknown rule '%s'", where, x.rule);
        } else if (parse_expiry(&exp_ms, expires) < 0) {
            rc = ecsrev_error_set(err, ECSREV_EINVAL,
                                  "%s: expires: '%s' is not a date (YYYY-MM-DD)", where, expires);
        }
    }
    if (rc == 0 && now_ms >= exp_ms) {
        cfg->expired++;
    } else if (rc == 0) {
        cfg->exceptions =
            ecsrev_xrealloc(cfg->exceptions, (cfg->n_exceptions + 1) * sizeof(*cfg->exceptions));
        cfg->exceptions[cfg->n_exceptions++] = x;
        x.rule = x.service = x.reason = NULL;
    }
    free(x.rule);
    free(x.service);
    free(x.reason);
    free(expires);
    free(where);
    return rc;
}

static int parse_exceptions(struct ecsrev_audit_config *cfg, const cJSON *arr, int64_t now_ms,
                            struct ecsrev_error *err)
{
    if (!cJSON_IsArray(arr)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "exceptions: expected an array, got %s",
                                ecsrev_json__type_name(arr));
    }
    size_t i = 0;
    for (const cJSON *e = arr->child; e != NULL; e = e->next, i++) {
        int rc = parse_exception(cfg, e, i, now_ms, err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static const char *const s_op_names[] = {"equals", "not-equals", "in",     "not-in",
                                         "exists", "absent",     "matches"};

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_name_char(id[i]) && id[i] != '.') {
            return false;
        }
    }
    return true;
}

/* Check op and value of a custom rule. */
static int parse_custom_op(struct custom_rule *c, const cJSON *obj, const char *where,
                           struct ecsrev_error *err)
{
    char *op = NULL;
    int rc = get_string(&op, obj, "op", true, where, err);
    if (rc < 0) {
        return rc;
    }
    size_t k = 0;
    while (k < sizeof(s_op_names) / sizeof(s_op_names[0]) && strcmp(op, s_op_names[k]) != 0) {
        k++;
    }
    if (k == sizeof(s_op_names) / sizeof(s_op_names[0])) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL,
                              "%s: unknown op '%s' (equals, not-equals, in, not-in, exists, "
                              "absent or matches)",
                              where, op);
        free(op);
        return rc;
    }
    free(op);
    c->op = (enum audit_op)k;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "value");
    bool needs = c->op != OP_EXISTS && c->op != OP_ABSENT;
    if (needs && v == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "%s: op '%s' needs a 'value'", where,
                                s_op_names[k]);
    }
    if (!needs && v != NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "%s: op '%s' takes no 'value'", where,
                                s_op_names[k]);
    }
    if ((c->op == OP_IN || c->op == OP_NOT_IN) && !cJSON_IsArray(v)) {
        return want_type(v, false, "an array", where, "value", err);
    }
    if (c->op == OP_MATCHES && !cJSON_IsString(v)) {
        return want_type(v, false, "a string (a glob)", where, "value", err);
    }
    c->value = v != NULL ? cJSON_Duplicate(v, true) : NULL;
    return 0;
}

static int parse_custom_fields(struct ecsrev_audit_config *cfg, struct custom_rule *c,
                               const cJSON *obj, const char *where, struct ecsrev_error *err)
{
    static const char *const keys[] = {"id",       "title",   "path",        "op", "value",
                                       "severity", "message", "remediation", NULL};
    int rc = check_keys(obj, keys, where, err);
    if (rc == 0 && !valid_id(c->id)) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL,
                              "%s: id must be 1-64 letters, digits, '.', '_' or '-'", where);
    } else if (rc == 0 && (builtin_index(c->id) >= 0 || custom_known(cfg, c->id))) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "%s: id is already used by another rule", where);
    }
    if (rc == 0) {
        rc = get_string(&c->title, obj, "title", false, where, err);
    }
    if (rc == 0 && (rc = get_string(&c->path_text, obj, "path", true, where, err)) == 0 &&
        (rc = ecsrev_audit__path_parse(&c->path, c->path_text, err)) < 0) {
        ecsrev_error_prefix(err, "%s", where);
    }
    if (rc == 0) {
        rc = parse_custom_op(c, obj, where, err);
    }
    if (rc == 0) {
        rc = get_severity(&c->severity, obj, true, where, err);
    }
    if (rc == 0) {
        rc = get_string(&c->message, obj, "message", true, where, err);
    }
    if (rc == 0) {
        rc = get_string(&c->remediation, obj, "remediation", false, where, err);
    }
    return rc;
}

static int parse_custom(struct ecsrev_audit_config *cfg, const cJSON *arr, struct ecsrev_error *err)
{
    if (!cJSON_IsArray(arr)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "custom: expected an array, got %s",
                                ecsrev_json__type_name(arr));
    }
    size_t i = 0;
    for (const cJSON *obj = arr->child; obj != NULL; obj = obj->next, i++) {
        if (!cJSON_IsObject(obj)) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "custom[%zu]: expected an object, got %s",
                                    i, ecsrev_json__type_name(obj));
        }
        char *where0 = ecsrev_audit__asprintf("custom[%zu]", i);
        struct custom_rule c;
        memset(&c, 0, sizeof(c));
        int rc = get_string(&c.id, obj, "id", true, where0, err);
        free(where0);
        if (rc == 0) {
            char *where = ecsrev_audit__asprintf("custom[%zu] (%s)", i, c.id);
            rc = parse_custom_fields(cfg, &c, obj, where, err);
            free(where);
        }
        cfg->custom = ecsrev_xrealloc(cfg->custom, (cfg->n_custom + 1) * sizeof(c));
        cfg->custom[cfg->n_custom++] = c; /* freed with the config even on error */
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Allow-list rules need their list; everything else is on by default. */
static int check_allow_rules(struct ecsrev_audit_config *cfg, const cJSON *rules,
                             struct ecsrev_error *err)
{
    static const struct {
        int rule;
        const char *list;
    } needs[] = {{R_IMAGE_REGISTRY, "registries"},
                 {R_SUBNET, "subnets"},
                 {R_SECURITY_GROUP, "securityGroups"}};
    const struct str_list *lists[] = {&cfg->registries, &cfg->subnets, &cfg->security_groups};
    for (size_t i = 0; i < 3; i++) {
        int r = needs[i].rule;
        const cJSON *set =
            rules != NULL ? cJSON_GetObjectItemCaseSensitive(rules, s_builtin[r].id) : NULL;
        bool asked = set != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(set, "enabled"));
        if (asked && lists[i]->n == 0) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "rules.%s: enabled but allow.%s is empty",
                                    s_builtin[r].id, needs[i].list);
        }
        if (lists[i]->n == 0) {
            cfg->enabled[r] = false;
        }
    }
    return 0;
}

/* Build the list of effective rules. */
static void build_rules(struct ecsrev_audit_config *cfg)
{
    cfg->rules = ecsrev_xcalloc(R__COUNT + cfg->n_custom, sizeof(*cfg->rules));
    cfg->n_rules = 0;
    for (int i = 0; i < R__COUNT; i++) {
        cfg->builtin_slot[i] = -1;
        if (cfg->enabled[i]) {
            cfg->builtin_slot[i] = (int)cfg->n_rules;
            cfg->rules[cfg->n_rules] = s_builtin[i];
            cfg->rules[cfg->n_rules++].severity = cfg->severity[i];
        }
    }
    cfg->custom_slot0 = cfg->n_rules;
    for (size_t i = 0; i < cfg->n_custom; i++) {
        const struct custom_rule *c = &cfg->custom[i];
        struct ecsrev_rule_info *r = &cfg->rules[cfg->n_rules++];
        r->id = c->id;
        r->control = NULL;
        r->severity = c->severity;
        r->kind = ECSREV_RULE_CUSTOM;
        r->title = c->title != NULL ? c->title : c->message;
        r->rationale = c->message;
        r->remediation = c->remediation != NULL ? c->remediation : "";
    }
}

static int parse_document(struct ecsrev_audit_config *cfg, const cJSON *doc, int64_t now_ms,
                          struct ecsrev_error *err)
{
    static const char *const keys[] = {"version", "rules", "allow", "exceptions", "custom", NULL};
    if (!cJSON_IsObject(doc)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "expected an object, got %s",
                                ecsrev_json__type_name(doc));
    }
    int rc = check_keys(doc, keys, "top level", err);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
    if (rc == 0 && ver != NULL && !(cJSON_IsNumber(ver) && ver->valuedouble == 1)) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "version: only version 1 is supported");
    }
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(doc, "rules");
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(doc, "allow");
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(doc, "custom");
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(doc, "exceptions");
    if (rc == 0 && rules != NULL) {
        rc = parse_rules(cfg, rules, err);
    }
    if (rc == 0 && allow != NULL) {
        rc = parse_allow(cfg, allow, err);
    }
    if (rc == 0 && custom != NULL) {
        rc = parse_custom(cfg, custom, err);
    }
    if (rc == 0 && exc != NULL) {
        rc = parse_exceptions(cfg, exc, now_ms, err);
    }
    if (rc == 0) {
        rc = check_allow_rules(cfg, rules, err);
    }
    return rc;
}

int ecsrev_audit_config_new(struct ecsrev_audit_config **out, const char *json, size_t len,
                            const char *name, int64_t now_ms, struct ecsrev_error *err)
{
    *out = NULL;
    struct ecsrev_audit_config *cfg = ecsrev_xcalloc(1, sizeof(*cfg));
    for (int i = 0; i < R__COUNT; i++) {
        cfg->enabled[i] = true;
        cfg->severity[i] = s_builtin[i].severity;
    }
    cfg->pv_linux = ecsrev_xstrdup("1.4.0");
    cfg->pv_windows = ecsrev_xstrdup("1.0.0");
    cJSON *doc = NULL;
    int rc = 0;
    if (json != NULL) {
        rc = ecsrev_json__parse(&doc, json, len, err);
        if (rc == 0) {
            rc = parse_document(cfg, doc, now_ms, err);
        }
        if (rc < 0) {
            ecsrev_error_prefix(err, "rules file '%s'", name != NULL ? name : "-");
        }
    } else {
        rc = check_allow_rules(cfg, NULL, err);
    }
    cJSON_Delete(doc);
    if (rc < 0) {
        ecsrev_audit_config_free(cfg);
        return rc;
    }
    build_rules(cfg);
    *out = cfg;
    return 0;
}

const struct ecsrev_rule_info *ecsrev_audit_config_rules(const struct ecsrev_audit_config *cfg,
                                                         size_t *n)
{
    *n = cfg->n_rules;
    return cfg->rules;
}

size_t ecsrev_audit_config_expired(const struct ecsrev_audit_config *cfg)
{
    return cfg->expired;
}
