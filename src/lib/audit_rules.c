/*
 * audit_rules.c - evaluating the rules on canonical revisions, and the audit
 * object that collects findings.
 *
 * Each revision body is parsed once per call (strictly); the rules read the
 * cJSON tree. Change rules compare a revision with the previous revision of
 * the same service, matching keyed array elements (volumes by name,
 * containers by containerName, load balancers by target group) the way the
 * normalizer orders them (ecsrev_canon_array_rule), so they agree with the
 * diff engine about what "the same element" is.
 *
 * Findings name the rule, the revision (and the previous one for change
 * rules), a concrete path and the offending value as JSON text. Exceptions
 * from the configuration mark a finding suppressed; they never drop it.
 */
#include "audit_priv.h"

#include "json_priv.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct ctx {
    struct ecsrev_audit *a;
    const struct ecsrev_revision *rev;
    const struct ecsrev_revision *prev;
    const cJSON *doc;
    const cJSON *pdoc; /* NULL without a previous revision */
};

/* ---- the audit object ---- */

void ecsrev_audit_new(struct ecsrev_audit **out, const struct ecsrev_audit_config *cfg)
{
    struct ecsrev_audit *a = ecsrev_xcalloc(1, sizeof(*a));
    a->cfg = cfg;
    *out = a;
}

void ecsrev_audit_free(struct ecsrev_audit *a)
{
    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        struct ecsrev_finding *f = &a->findings[i];
        free(f->service_arn);
        free(f->revision_arn);
        free(f->previous_arn);
        free(f->path);
        free(f->value);
        free(f->message);
    }
    free(a->findings);
    for (size_t i = 0; i < a->n_services; i++) {
        free(a->services[i]);
    }
    free(a->services);
    free(a);
}

size_t ecsrev_audit_count(const struct ecsrev_audit *a)
{
    return a->n;
}

const struct ecsrev_finding *ecsrev_audit_finding(const struct ecsrev_audit *a, size_t i)
{
    return i < a->n ? &a->findings[i] : NULL;
}

size_t ecsrev_audit_revisions(const struct ecsrev_audit *a)
{
    return a->revisions;
}

size_t ecsrev_audit_services(const struct ecsrev_audit *a)
{
    return a->n_services;
}

const char *ecsrev_audit_service(const struct ecsrev_audit *a, size_t i)
{
    return i < a->n_services ? a->services[i] : NULL;
}

const struct ecsrev_audit_config *ecsrev_audit_config(const struct ecsrev_audit *a)
{
    return a->cfg;
}

enum ecsrev_severity ecsrev_audit_max_severity(const struct ecsrev_audit *a)
{
    enum ecsrev_severity max = ECSREV_SEV_NONE;
    for (size_t i = 0; i < a->n; i++) {
        if (a->findings[i].suppressed_by == NULL && a->findings[i].severity > max) {
            max = a->findings[i].severity;
        }
    }
    return max;
}

static int cmp_str(const char *x, const char *y)
{
    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct ecsrev_finding *x = pa;
    const struct ecsrev_finding *y = pb;
    int c = cmp_str(x->service_arn, y->service_arn);
    if (c == 0 && x->severity != y->severity) {
        c = x->severity > y->severity ? -1 : 1;
    }
    if (c == 0) {
        c = strcmp(x->rule->id, y->rule->id);
    }
    if (c == 0 && x->created_ms != y->created_ms) {
        c = x->created_ms < y->created_ms ? -1 : 1;
    }
    if (c == 0) {
        c = cmp_str(x->revision_arn, y->revision_arn);
    }
    if (c == 0) {
        c = cmp_str(x->path, y->path);
    }
    return c;
}

static int cmp_service(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

void ecsrev_audit_finish(struct ecsrev_audit *a)
{
    if (a->n > 1) {
        qsort(a->findings, a->n, sizeof(*a->findings), cmp_finding);
    }
    if (a->n_services > 1) {
        qsort(a->services, a->n_services, sizeof(char *), cmp_service);
    }
}

static void note_service(struct ecsrev_audit *a, const char *arn)
{
    for (size_t i = a->n_services; i > 0; i--) {
        if (strcmp(a->services[i - 1], arn) == 0) {
            return;
        }
    }
    if (a->n_services == a->cap_services) {
        a->cap_services = a->cap_services ? a->cap_services * 2 : 16;
        a->services = ecsrev_xrealloc(a->services, a->cap_services * sizeof(char *));
    }
    a->services[a->n_services++] = ecsrev_xstrdup(arn);
}

static const char *exception_for(const struct ecsrev_audit_config *cfg, const char *rule,
                                 const char *service_arn)
{
    for (size_t i = 0; i < cfg->n_exceptions; i++) {
        const struct audit_exception *x = &cfg->exceptions[i];
        if (strcmp(x->rule, rule) == 0 && ecsrev_audit__service_matches(service_arn, x->service)) {
            return x->reason;
        }
    }
    return NULL;
}

static char *json_text(const cJSON *v)
{
    if (v == NULL) {
        return NULL;
    }
    char *p = cJSON_PrintUnformatted(v);
    char *s = ecsrev_xstrdup(p != NULL ? p : "null");
    cJSON_free(p);
    return s;
}

static void add_slot(struct ctx *c, size_t slot, const char *path, const cJSON *value,
                     char *message /* owned */)
{
    struct ecsrev_audit *a = c->a;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->findings = ecsrev_xrealloc(a->findings, a->cap * sizeof(*a->findings));
    }
    const struct ecsrev_rule_info *rule = &a->cfg->rules[slot];
    struct ecsrev_finding *f = &a->findings[a->n++];
    memset(f, 0, sizeof(*f));
    f->rule = rule;
    f->severity = rule->severity;
    f->service_arn = ecsrev_xstrdup(c->rev->service_arn);
    f->revision_arn = ecsrev_xstrdup(c->rev->arn != NULL ? c->rev->arn : "");
    f->created_ms = c->rev->created_ms;
    if (rule->kind == ECSREV_RULE_CHANGE && c->prev != NULL && c->prev->arn != NULL) {
        f->previous_arn = ecsrev_xstrdup(c->prev->arn);
    }
    f->path = ecsrev_xstrdup(path);
    f->value = json_text(value);
    f->message = message;
    f->suppressed_by = exception_for(a->cfg, rule->id, c->rev->service_arn);
}

static void add(struct ctx *c, enum audit_builtin r, const char *path, const cJSON *value,
                const char *fmt, ...) ECSREV_PRINTF(5, 6);

static void add(struct ctx *c, enum audit_builtin r, const char *path, const cJSON *value,
                const char *fmt, ...)
{
    int slot = c->a->cfg->builtin_slot[r];
    if (slot < 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = ecsrev_audit__vasprintf(fmt, ap);
    va_end(ap);
    add_slot(c, (size_t)slot, path, value, msg);
}

static bool on(const struct ctx *c, enum audit_builtin r)
{
    return c->a->cfg->builtin_slot[r] >= 0;
}

/* ---- helpers on the canonical document ---- */

/* Member at a dotted path of plain members, or NULL (null counts as absent). */
static const cJSON *member(const cJSON *node, const char *path)
{
    char name[128];
    const char *p = path;
    while (node != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(name) || !cJSON_IsObject(node)) {
            return NULL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, name);
        p += n + (dot != NULL ? 1 : 0);
    }
    return cJSON_IsNull(node) ? NULL : node;
}

static const char *member_string(const cJSON *node, const char *path)
{
    const cJSON *v = member(node, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_fargate(const cJSON *doc)
{
    const char *lt = member_string(doc, "launchType");
    if (lt != NULL && strcmp(lt, "FARGATE") == 0) {
        return true;
    }
    const cJSON *cps = member(doc, "capacityProviderStrategy");
    for (const cJSON *e = cJSON_IsArray(cps) ? cps->child : NULL; e != NULL; e = e->next) {
        const char *cp = member_string(e, "capacityProvider");
        if (cp != NULL && (strcmp(cp, "FARGATE") == 0 || strcmp(cp, "FARGATE_SPOT") == 0)) {
            return true;
        }
    }
    return false;
}

/* Compare dotted numeric versions; a non-numeric part compares as 0. */
static int version_cmp(const char *x, const char *y)
{
    while (*x != '\0' || *y != '\0') {
        char *ex = NULL;
        char *ey = NULL;
        unsigned long a = strtoul(x, &ex, 10);
        unsigned long b = strtoul(y, &ey, 10);
        if (a != b) {
            return a < b ? -1 : 1;
        }
        x = *ex == '.' ? ex + 1 : ex;
        y = *ey == '.' ? ey + 1 : ey;
        if (ex == x && ey == y && *x != '\0' && *y != '\0') {
            break; /* neither advanced: garbage */
        }
    }
    return 0;
}

static bool is_version(const char *v)
{
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

/* kmsKeyId that names an AWS-managed key (alias/aws/...) rather than a customer one. */
static bool is_aws_managed_key(const char *k)
{
    return strncmp(k, "alias/aws/", 10) == 0 || strstr(k, ":alias/aws/") != NULL;
}

/* Call fn for every element of the keyed array at @p array_path (a plain path). */
typedef void (*elem_fn)(struct ctx *c, const cJSON *elem, const char *label);

static void each_elem(struct ctx *c, const cJSON *doc, const char *array_path, elem_fn fn)
{
    const cJSON *arr = member(doc, array_path);
    size_t i = 0;
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next, i++) {
        char *label = ecsrev_audit__elem_label(array_path, e, i);
        fn(c, e, label);
        free(label);
    }
}

/* The element of @p arr (at @p array_path) whose label is @p label, or NULL. */
static const cJSON *find_elem(const cJSON *doc, const char *array_path, const char *label)
{
    const cJSON *arr = member(doc, array_path);
    size_t i = 0;
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next, i++) {
        char *l = ecsrev_audit__elem_label(array_path, e, i);
        bool eq = strcmp(l, label) == 0;
        free(l);
        if (eq) {
            return e;
        }
    }
    return NULL;
}

static bool string_in_array(const cJSON *arr, const char *s)
{
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- revision rules ---- */

static void rule_public_ip(struct ctx *c)
{
    static const char path[] = "networkConfiguration.awsvpcConfiguration.assignPublicIp";
    const cJSON *v = member(c->doc, path);
    if (cJSON_IsString(v) && strcmp(v->valuestring, "ENABLED") == 0) {
        add(c, R_ECS2, path, v, "tasks are assigned a public IP address automatically");
    }
}

static void rule_platform_version(struct ctx *c)
{
    if (!on(c, R_ECS10) || !is_fargate(c->doc)) {
        return;
    }
    const cJSON *v = member(c->doc, "platformVersion");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "LATEST") == 0) {
        return; /* no platformVersion means LATEST */
    }
    const char *family = member_string(c->doc, "platformFamily");
    bool windows = family != NULL && strncmp(family, "WINDOWS", 7) == 0;
    const char *min = windows ? c->a->cfg->pv_windows : c->a->cfg->pv_linux;
    const char *os = windows ? "Windows" : "Linux";
    if (!is_version(v->valuestring)) {
        add(c, R_ECS10, "platformVersion", v, "Fargate platform version '%s' is not a version",
            v->valuestring);
    } else if (strcmp(min, "LATEST") == 0) {
        add(c, R_ECS10, "platformVersion", v, "Fargate platform version %s is pinned, not LATEST",
            v->valuestring);
    } else if (version_cmp(v->valuestring, min) < 0) {
        add(c, R_ECS10, "platformVersion", v, "Fargate platform version %s is older than %s (%s)",
            v->valuestring, min, os);
    }
}

static void check_volume(struct ctx *c, const cJSON *vol, const char *label)
{
    const cJSON *ebs = member(vol, "managedEBSVolume");
    if (!cJSON_IsObject(ebs)) {
        return;
    }
    const cJSON *enc = member(ebs, "encrypted");
    const cJSON *key = member(ebs, "kmsKeyId");
    char *base = ecsrev_audit__asprintf("volumeConfigurations[%s].managedEBSVolume", label);
    char *path = NULL;
    if (!cJSON_IsTrue(enc)) {
        path = ecsrev_audit__asprintf("%s.encrypted", base);
        add(c, R_EBS_UNENCRYPTED, path, enc, "managed EBS volume '%s' is not encrypted", label);
    } else if (!cJSON_IsString(key) || key->valuestring[0] == '\0' ||
               is_aws_managed_key(key->valuestring)) {
        path = ecsrev_audit__asprintf("%s.kmsKeyId", base);
        add(c, R_EBS_NO_CMK, path, key,
            "managed EBS volume '%s' is encrypted without a customer-managed KMS key", label);
    }
    free(path);
    free(base);
}

/* Tag of an image reference: NULL when there is none; "" never returned. */
static const char *image_tag(const char *image)
{
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash != NULL ? slash : image, ':');
    return colon != NULL && colon[1] != '\0' ? colon + 1 : NULL;
}

static void check_image(struct ctx *c, const cJSON *ci, const char *label)
{
    const cJSON *img = member(ci, "image");
    const cJSON *digest = member(ci, "imageDigest");
    if (cJSON_IsString(img) && strchr(img->valuestring, '@') == NULL) {
        const char *tag = image_tag(img->valuestring);
        char *path = ecsrev_audit__asprintf("containerImages[%s].image", label);
        if (tag == NULL || strcmp(tag, "latest") == 0) {
            add(c, R_IMAGE_MUTABLE_TAG, path, img, "container '%s' uses the mutable image %s%s",
                label, img->valuestring, tag == NULL ? " (no tag means :latest)" : "");
        }
        free(path);
    }
    if (!cJSON_IsString(digest) || digest->valuestring[0] == '\0') {
        char *path = ecsrev_audit__asprintf("containerImages[%s].imageDigest", label);
        add(c, R_IMAGE_NO_DIGEST, path, digest, "container '%s' has no resolved image digest",
            label);
        free(path);
    }
    if (on(c, R_IMAGE_REGISTRY) && cJSON_IsString(img)) {
        char *reg = ecsrev_audit__image_registry(img->valuestring);
        /* the image without tag or digest, for allow entries like "public.ecr.aws/org/..." */
        const char *tag = image_tag(img->valuestring);
        const char *at = strchr(img->valuestring, '@');
        size_t n = at != NULL ? (size_t)(at - img->valuestring)
                              : (tag != NULL ? (size_t)(tag - 1 - img->valuestring)
                                             : strlen(img->valuestring));
        char *repo = ecsrev_xstrndup(img->valuestring, n);
        const struct str_list *allow = &c->a->cfg->registries;
        if (!ecsrev_audit__list_matches(allow, reg) && !ecsrev_audit__list_matches(allow, repo)) {
            char *path = ecsrev_audit__asprintf("containerImages[%s].image", label);
            add(c, R_IMAGE_REGISTRY, path, img,
                "container '%s' uses an image from registry %s, which is not allowed", label, reg);
            free(path);
        }
        free(repo);
        free(reg);
    }
}

static void check_allowed(struct ctx *c, enum audit_builtin r, const char *member_name,
                          const struct str_list *allow, const char *what)
{
    if (!on(c, r)) {
        return;
    }
    char *apath =
        ecsrev_audit__asprintf("networkConfiguration.awsvpcConfiguration.%s", member_name);
    const cJSON *arr = member(c->doc, apath);
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next) {
        if (cJSON_IsString(e) && !ecsrev_audit__list_matches(allow, e->valuestring)) {
            char *path = ecsrev_audit__asprintf("%s[%s]", apath, e->valuestring);
            add(c, r, path, e, "%s %s is not allowed", what, e->valuestring);
            free(path);
        }
    }
    free(apath);
}

static void check_sc_service(struct ctx *c, const cJSON *svc, const char *label)
{
    if (!cJSON_IsObject(member(svc, "tls"))) {
        char *path = ecsrev_audit__asprintf("serviceConnectConfiguration.services[%s].tls", label);
        add(c, R_SC_NO_TLS, path, NULL, "Service Connect service '%s' does not use TLS", label);
        free(path);
    }
}

static void rule_service_connect(struct ctx *c)
{
    const cJSON *sc = member(c->doc, "serviceConnectConfiguration");
    if (!cJSON_IsTrue(member(sc, "enabled"))) {
        return;
    }
    each_elem(c, c->doc, "serviceConnectConfiguration.services", check_sc_service);
    if (!cJSON_IsObject(member(sc, "logConfiguration"))) {
        add(c, R_SC_NO_LOGS, "serviceConnectConfiguration.logConfiguration", NULL,
            "Service Connect has no log configuration");
    }
}

static void rule_misc(struct ctx *c)
{
    const cJSON *gd = member(c->doc, "guardDutyEnabled");
    if (cJSON_IsFalse(gd)) {
        add(c, R_GUARDDUTY_OFF, "guardDutyEnabled", gd, "GuardDuty runtime monitoring is off");
    }
    if (is_fargate(c->doc)) {
        const cJSON *k = member(c->doc, "fargateEphemeralStorage.kmsKeyId");
        if (!cJSON_IsString(k) || k->valuestring[0] == '\0') {
            add(c, R_EPHEMERAL_NO_CMK, "fargateEphemeralStorage.kmsKeyId", k,
                "Fargate ephemeral storage is not encrypted with a customer-managed KMS key");
        }
    }
}

/* ---- change rules ---- */

static void change_public_ip(struct ctx *c)
{
    static const char path[] = "networkConfiguration.awsvpcConfiguration.assignPublicIp";
    const char *now = member_string(c->doc, path);
    const char *was = member_string(c->pdoc, path);
    if (now != NULL && strcmp(now, "ENABLED") == 0 &&
        (was == NULL || strcmp(was, "ENABLED") != 0)) {
        add(c, R_CHANGE_EXPOSURE, path, member(c->doc, path),
            "public IP assignment was turned on (was %s)", was != NULL ? was : "unset");
    }
}

static void change_security_groups(struct ctx *c)
{
    static const char apath[] = "networkConfiguration.awsvpcConfiguration.securityGroups";
    const cJSON *now = member(c->doc, apath);
    const cJSON *was = member(c->pdoc, apath);
    for (const cJSON *e = cJSON_IsArray(now) ? now->child : NULL; e != NULL; e = e->next) {
        if (!cJSON_IsString(e) || string_in_array(was, e->valuestring) ||
            ecsrev_audit__list_matches(&c->a->cfg->security_groups, e->valuestring)) {
            continue;
        }
        char *path = ecsrev_audit__asprintf("%s[%s]", apath, e->valuestring);
        add(c, R_CHANGE_EXPOSURE, path, e, "security group %s was added", e->valuestring);
        free(path);
    }
}

static void change_lb_elem(struct ctx *c, const cJSON *lb, const char *label)
{
    if (find_elem(c->pdoc, "loadBalancers", label) != NULL) {
        return;
    }
    const char *target = member_string(lb, "targetGroupArn");
    if (target == NULL) {
        target = member_string(lb, "loadBalancerName");
    }
    char *path = ecsrev_audit__asprintf("loadBalancers[%s]", label);
    add(c, R_CHANGE_EXPOSURE, path, lb, "load balancer %s was added",
        target != NULL ? target : label);
    free(path);
}

static void change_volume(struct ctx *c, const cJSON *vol, const char *label)
{
    const cJSON *pvol = find_elem(c->pdoc, "volumeConfigurations", label);
    const cJSON *ebs = member(vol, "managedEBSVolume");
    const cJSON *pebs = member(pvol, "managedEBSVolume");
    if (!cJSON_IsObject(ebs) || !cJSON_IsObject(pebs)) {
        return;
    }
    char *base = ecsrev_audit__asprintf("volumeConfigurations[%s].managedEBSVolume", label);
    char *path = NULL;
    const cJSON *enc = member(ebs, "encrypted");
    const char *key = member_string(ebs, "kmsKeyId");
    const char *pkey = member_string(pebs, "kmsKeyId");
    if (cJSON_IsTrue(member(pebs, "encrypted")) && !cJSON_IsTrue(enc)) {
        path = ecsrev_audit__asprintf("%s.encrypted", base);
        add(c, R_CHANGE_ENCRYPTION, path, enc, "managed EBS volume '%s' is no longer encrypted",
            label);
    } else if (pkey != NULL && key == NULL) {
        path = ecsrev_audit__asprintf("%s.kmsKeyId", base);
        add(c, R_CHANGE_ENCRYPTION, path, NULL, "managed EBS volume '%s' no longer uses KMS key %s",
            label, pkey);
    }
    free(path);
    free(base);
}

static void change_registry_elem(struct ctx *c, const cJSON *ci, const char *label)
{
    const cJSON *pci = find_elem(c->pdoc, "containerImages", label);
    const char *img = member_string(ci, "image");
    const char *pimg = member_string(pci, "image");
    if (img == NULL || pimg == NULL) {
        return;
    }
    char *reg = ecsrev_audit__image_registry(img);
    char *preg = ecsrev_audit__image_registry(pimg);
    if (strcmp(reg, preg) != 0) {
        char *path = ecsrev_audit__asprintf("containerImages[%s].image", label);
        add(c, R_CHANGE_REGISTRY, path, member(ci, "image"),
            "container '%s' image registry changed from %s to %s", label, preg, reg);
        free(path);
    }
    free(preg);
    free(reg);
}

static void change_rules(struct ctx *c)
{
    if (c->pdoc == NULL) {
        return;
    }
    if (on(c, R_CHANGE_EXPOSURE)) {
        change_public_ip(c);
        change_security_groups(c);
        each_elem(c, c->doc, "loadBalancers", change_lb_elem);
    }
    if (on(c, R_CHANGE_ENCRYPTION)) {
        each_elem(c, c->doc, "volumeConfigurations", change_volume);
        const char *pk = member_string(c->pdoc, "fargateEphemeralStorage.kmsKeyId");
        if (pk != NULL && member_string(c->doc, "fargateEphemeralStorage.kmsKeyId") == NULL) {
            add(c, R_CHANGE_ENCRYPTION, "fargateEphemeralStorage.kmsKeyId", NULL,
                "Fargate ephemeral storage no longer uses KMS key %s", pk);
        }
    }
    if (on(c, R_CHANGE_REGISTRY)) {
        each_elem(c, c->doc, "containerImages", change_registry_elem);
    }
}

/* ---- custom rules ---- */

struct custom_ctx {
    struct ctx *c;
    size_t index;
};

static bool in_array(const cJSON *arr, const cJSON *v)
{
    for (const cJSON *e = arr->child; e != NULL; e = e->next) {
        if (cJSON_Compare(e, v, true)) {
            return true;
        }
    }
    return false;
}

static bool glob_matches(const char *glob, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return fnmatch(glob, v->valuestring, 0) == 0;
    }
    char *text = json_text(v);
    bool m = fnmatch(glob, text, 0) == 0;
    free(text);
    return m;
}

static bool custom_hit(const struct custom_rule *r, const cJSON *v)
{
    switch (r->op) {
    case OP_EXISTS:
        return v != NULL;
    case OP_ABSENT:
        return v == NULL;
    case OP_EQUALS:
        return v != NULL && cJSON_Compare(v, r->value, true);
    case OP_NOT_EQUALS:
        return v != NULL && !cJSON_Compare(v, r->value, true);
    case OP_IN:
        return v != NULL && in_array(r->value, v);
    case OP_NOT_IN:
        return v != NULL && !in_array(r->value, v);
    case OP_MATCHES:
        return v != NULL && glob_matches(r->value->valuestring, v);
    default:
        return false;
    }
}

static void custom_slot(const char *path, const cJSON *value, void *payload)
{
    struct custom_ctx *cc = payload;
    const struct ecsrev_audit_config *cfg = cc->c->a->cfg;
    const struct custom_rule *r = &cfg->custom[cc->index];
    if (custom_hit(r, value)) {
        add_slot(cc->c, cfg->custom_slot0 + cc->index, path, value, ecsrev_xstrdup(r->message));
    }
}

static void custom_rules(struct ctx *c)
{
    for (size_t i = 0; i < c->a->cfg->n_custom; i++) {
        struct custom_ctx cc = {c, i};
        ecsrev_audit__path_walk(c->doc, &c->a->cfg->custom[i].path, custom_slot, &cc);
    }
}

/* ---- entry point ---- */

static void revision_rules(struct ctx *c)
{
    const struct ecsrev_audit_config *cfg = c->a->cfg;
    rule_public_ip(c);
    rule_platform_version(c);
    each_elem(c, c->doc, "volumeConfigurations", check_volume);
    each_elem(c, c->doc, "containerImages", check_image);
    check_allowed(c, R_SUBNET, "subnets", &cfg->subnets, "subnet");
    check_allowed(c, R_SECURITY_GROUP, "securityGroups", &cfg->security_groups, "security group");
    rule_misc(c);
    rule_service_connect(c);
}

static int parse_body(cJSON **out, const struct ecsrev_revision *rev, struct ecsrev_error *err)
{
    if (rev->canon == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "revision %s: no body",
                                rev->arn != NULL ? rev->arn : "(unnamed)");
    }
    int rc = ecsrev_json__parse(out, rev->canon, rev->canon_len, err);
    if (rc < 0) {
        ecsrev_error_prefix(err, "revision %s", rev->arn != NULL ? rev->arn : "(unnamed)");
    }
    return rc;
}

int ecsrev_audit_revision(struct ecsrev_audit *a, const struct ecsrev_revision *rev,
                          const struct ecsrev_revision *prev, struct ecsrev_error *err)
{
    cJSON *doc = NULL;
    cJSON *pdoc = NULL;
    int rc;
    if (rev->service_arn == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "revision %s: no service ARN",
                                rev->arn != NULL ? rev->arn : "(unnamed)");
    }
    if ((rc = parse_body(&doc, rev, err)) < 0) {
        goto done;
    }
    if (prev != NULL && (rc = parse_body(&pdoc, prev, err)) < 0) {
        goto done;
    }
    struct ctx c = {a, rev, prev, doc, pdoc};
    note_service(a, rev->service_arn);
    a->revisions++;
    revision_rules(&c);
    change_rules(&c);
    custom_rules(&c);
done:
    cJSON_Delete(pdoc);
    cJSON_Delete(doc);
    return rc;
}
