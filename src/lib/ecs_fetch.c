/*
 * ecs_fetch.c - the fetch pipeline: services -> deployments -> revision ARNs
 * -> the revisions not stored yet, in batches of at most 20.
 *
 * Phases run one after the other, each with up to `concurrency` requests in
 * flight: ListServices (pages in sequence); ListServiceDeployments (pages of
 * each service in sequence, services in parallel) together with
 * DescribeServiceDeployments (a batch is described as soon as 20 deployments
 * are listed, the rest after the last page); DescribeServiceRevisions (batches in
 * parallel). Between phases the ARN
 * sets are sorted and deduplicated, so the batches, and what the batch
 * callback sees, depend only on the data, never on timing: a batch that
 * completes early is parsed and normalized, then held until every batch
 * before it has been delivered.
 *
 * Limits: responses are capped by the transport; ARN sets grow with the
 * number of deployments (a few bytes per ARN).
 *
 * Hostile answers (docs/FETCH.md, "Hostile answers"): a listing whose
 * nextToken repeats a token already used for the same listing, or that is
 * still going after MAX_PAGES pages, stops the fetch (it would loop
 * forever); a deployment or revision that is not what
 * was asked for never reaches the store: it becomes a failure of its ARN
 * (INVALID, CONFLICT, UNEXPECTED or NOT_RETURNED) and the rest of the batch
 * is kept.
 */
#include <ecsrev/ecs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs_priv.h"

#include "banned.h"

/* A growable array of owned strings. */
struct strv {
    char **v;
    size_t n, cap;
};

static void strv_push(struct strv *s, const char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap == 0 ? 32 : s->cap * 2;
        s->v = ecsrev_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = ecsrev_xstrdup(str);
}

static void strv_dispose(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_sort_unique(struct strv *s)
{
    if (s->n == 0) {
        return;
    }
    qsort(s->v, s->n, sizeof(*s->v), cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[w - 1]) == 0) {
            free(s->v[i]);
        } else {
            s->v[w++] = s->v[i];
        }
    }
    s->n = w;
}

/* An owned failure entry. */
struct fail {
    char *arn;
    char *reason;
    char *detail;
};

struct failv {
    struct fail *v;
    size_t n, cap;
};

static void failv_push(struct failv *f, const char *arn, const char *reason, const char *detail)
{
    if (f->n == f->cap) {
        f->cap = f->cap == 0 ? 8 : f->cap * 2;
        f->v = ecsrev_xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    struct fail *e = &f->v[f->n++];
    e->arn = ecsrev_xstrdup(arn != NULL ? arn : "(no arn)");
    e->reason = ecsrev_xstrdup(reason != NULL ? reason : "UNKNOWN");
    e->detail = detail != NULL ? ecsrev_xstrdup(detail) : NULL;
}

static void failv_dispose(struct failv *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].arn);
        free(f->v[i].reason);
        free(f->v[i].detail);
    }
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static int cmp_fail(const void *a, const void *b)
{
    const struct fail *x = a;
    const struct fail *y = b;
    int c = strcmp(x->arn, y->arn);
    return c != 0 ? c : strcmp(x->reason, y->reason);
}

/* The results of one DescribeServiceRevisions batch, held until its turn. */
struct slot {
    bool ready;
    struct ecsrev_revision *revs;
    size_t n_revs;
    struct failv fails;
};

/* Largest revision accepted from the API (real ones are a few KiB). */
#define MAX_REVISION_BYTES ((size_t)1024 * 1024)
#define MAX_ARN_LEN 2048

struct fetch {
    struct ecsrev_ecs *c;
    const struct ecsrev_fetch_spec *spec;
    const struct ecsrev_fetch_callbacks *cb;
    struct ecsrev_fetch_progress prog;
    struct strv services;    /* services to list (names or ARNs) */
    struct strv deployments; /* deployment ARNs */
    struct strv revisions;   /* revision ARNs referenced */
    struct strv want;        /* revision ARNs to fetch, sorted */
    struct strv *tokens;     /* per service: the nextTokens its listing used */
    size_t dep_queued;       /* deployments[0, dep_queued) are queued for describing */
    struct failv dep_fails;
    struct slot *slots;
    size_t n_slots, next_slot;
};

static void progress(const struct fetch *f)
{
    if (f->cb->progress != NULL) {
        f->cb->progress(&f->prog, f->cb->payload);
    }
}

/* ---- response helpers ---- */

static int malformed(const struct ecsrev_ecs__job *j, const char *member, const char *what,
                     struct ecsrev_error *err)
{
    return ecsrev_error_set(err, ECSREV_EINVAL, "%s: malformed response: %s %s", j->op, member,
                            what);
}

/* The array member @p name, or NULL when absent; an error when not an array. */
static int get_array(const cJSON **out, const cJSON *o, const char *name,
                     const struct ecsrev_ecs__job *j, struct ecsrev_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsArray(v)) {
        return malformed(j, name, "is not an array", err);
    }
    *out = v;
    return 0;
}

static const char *get_string(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

static int push_failures(struct failv *out, const cJSON *resp, const struct ecsrev_ecs__job *j,
                         struct ecsrev_error *err)
{
    const cJSON *arr = NULL;
    int rc = get_array(&arr, resp, "failures", j, err);
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsObject(e)) {
            return malformed(j, "failures", "holds a non-object", err);
        }
        failv_push(out, get_string(e, "arn"), get_string(e, "reason"), get_string(e, "detail"));
    }
    return rc;
}

/* ---- requests ---- */

static const char *service_cluster(const struct fetch *f, const char *service, char *buf,
                                   size_t size)
{
    if (f->spec->cluster != NULL) {
        return f->spec->cluster;
    }
    /* arn:aws:ecs:region:account:service/CLUSTER/NAME */
    const char *res = strstr(service, ":service/");
    if (strncmp(service, "arn:", 4) != 0 || res == NULL) {
        return NULL;
    }
    res += strlen(":service/");
    const char *slash = strchr(res, '/');
    if (slash == NULL || (size_t)(slash - res) >= size) {
        return NULL;
    }
    memcpy(buf, res, (size_t)(slash - res));
    buf[slash - res] = '\0';
    return buf;
}

static char *list_services_body(const char *cluster, const char *token)
{
    cJSON *o = cJSON_CreateObject();
    if (cluster != NULL) {
        cJSON_AddStringToObject(o, "cluster", cluster);
    }
    cJSON_AddNumberToObject(o, "maxResults", 100);
    if (token != NULL) {
        cJSON_AddStringToObject(o, "nextToken", token);
    }
    return ecsrev_ecs__print(o);
}

static char *list_deployments_body(const struct fetch *f, const char *service, const char *token)
{
    char cbuf[256];
    const char *cluster = service_cluster(f, service, cbuf, sizeof(cbuf));
    cJSON *o = cJSON_CreateObject();
    if (cluster != NULL) {
        cJSON_AddStringToObject(o, "cluster", cluster);
    }
    cJSON_AddStringToObject(o, "service", service);
    if (f->spec->since_ms != ECSREV_TIME_NONE) {
        cJSON *created = cJSON_AddObjectToObject(o, "createdAt");
        cJSON_AddNumberToObject(created, "after", (double)f->spec->since_ms / 1000.0);
    }
    cJSON_AddNumberToObject(o, "maxResults", 100);
    if (token != NULL) {
        cJSON_AddStringToObject(o, "nextToken", token);
    }
    return ecsrev_ecs__print(o);
}

static char *describe_body(const char *member, char *const *arns, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, member);
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateString(arns[i]));
    }
    return ecsrev_ecs__print(o);
}

/* ---- ListServices ---- */

struct list_services_ctx {
    struct strv *out;
    const char *cluster;
    struct strv tokens; /* nextTokens used so far */
};

/*
 * Pages one listing may take. ECS keeps 90 days of deployments and lists 100
 * a page, and a cluster holds at most a few thousand services: 1,000 pages is
 * far beyond any real listing, and ends one that an endpoint keeps alive with
 * ever new tokens.
 */
#define MAX_PAGES 1000

/*
 * Remember @p token for one listing; an error when it was used before (the
 * endpoint is sending the listing round in circles) or when the listing has
 * had MAX_PAGES pages.
 */
static int new_token(struct strv *seen, const char *token, const struct ecsrev_ecs__job *j,
                     struct ecsrev_error *err)
{
    if (seen->n + 1 >= MAX_PAGES) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "%s: malformed response: still a nextToken after %d pages (the "
                                "listing would never end)",
                                j->op, MAX_PAGES);
    }
    for (size_t i = 0; i < seen->n; i++) {
        if (strcmp(seen->v[i], token) == 0) {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "%s: malformed response: nextToken repeats a token already "
                                    "used (the listing would never end)",
                                    j->op);
        }
    }
    strv_push(seen, token);
    return 0;
}

static int services_done(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                         const cJSON *resp, const char *raw, size_t raw_len,
                         struct ecsrev_error *err, void *payload)
{
    (void)raw;
    (void)raw_len;
    struct list_services_ctx *ctx = payload;
    const cJSON *arr = NULL;
    int rc = get_array(&arr, resp, "serviceArns", j, err);
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e)) {
            return malformed(j, "serviceArns", "holds a non-string", err);
        }
        strv_push(ctx->out, e->valuestring);
    }
    const char *token = get_string(resp, "nextToken");
    if (rc == 0 && token != NULL && (rc = new_token(&ctx->tokens, token, j, err)) == 0) {
        ecsrev_ecs__exec_add(x, j->op, list_services_body(ctx->cluster, token), 0);
    }
    return rc;
}

static int list_services(struct strv *out, struct ecsrev_ecs *c, const char *cluster,
                         struct ecsrev_error *err)
{
    struct list_services_ctx ctx = {out, cluster, {NULL, 0, 0}};
    struct ecsrev_ecs__exec x;
    ecsrev_ecs__exec_init(&x, c, services_done, &ctx);
    ecsrev_ecs__exec_add(&x, "ListServices", list_services_body(cluster, NULL), 0);
    int rc = ecsrev_ecs__exec_run(&x, err);
    ecsrev_ecs__exec_dispose(&x);
    strv_dispose(&ctx.tokens);
    return rc;
}

int ecsrev_ecs_list_services(char ***out, size_t *n, struct ecsrev_ecs *c, const char *cluster,
                             struct ecsrev_error *err)
{
    struct strv s = {NULL, 0, 0};
    *out = NULL;
    *n = 0;
    int rc = list_services(&s, c, cluster, err);
    if (rc < 0) {
        strv_dispose(&s);
        return rc;
    }
    *out = s.v;
    *n = s.n;
    return 0;
}

/* ---- ListServiceDeployments + DescribeServiceDeployments ---- */

/*
 * Both run in one queue: listed deployments are cut into batches of 20 as
 * pages arrive, so describing overlaps the (sequential) paging. The revision ARNs they yield are
 * only used once all are known (sorted and deduplicated), so timing changes nothing stored.
 */

static bool is_revision_arn(const char *s);

static const char s_op_list[] = "ListServiceDeployments";
static const char s_op_describe[] = "DescribeServiceDeployments";

/* Queue full batches of the deployments listed so far; the rest too when @p last. */
static void queue_describes(struct ecsrev_ecs__exec *x, struct fetch *f, bool last)
{
    while (f->deployments.n - f->dep_queued >= ECSREV_ECS_BATCH_MAX ||
           (last && f->deployments.n > f->dep_queued)) {
        size_t i = f->dep_queued;
        size_t n = f->deployments.n - i;
        n = n > ECSREV_ECS_BATCH_MAX ? ECSREV_ECS_BATCH_MAX : n;
        ecsrev_ecs__exec_add(x, s_op_describe,
                             describe_body("serviceDeploymentArns", f->deployments.v + i, n), i);
        f->dep_queued += n;
    }
}

static int list_page_done(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                          const cJSON *resp, struct fetch *f, struct ecsrev_error *err)
{
    const cJSON *arr = NULL;
    int rc = get_array(&arr, resp, "serviceDeployments", j, err);
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arr)
    {
        const char *arn = cJSON_IsObject(e) ? get_string(e, "serviceDeploymentArn") : NULL;
        if (arn == NULL) {
            return malformed(j, "serviceDeployments", "entry without serviceDeploymentArn", err);
        }
        strv_push(&f->deployments, arn);
        f->prog.deployments++;
    }
    if (rc < 0) {
        return rc;
    }
    const char *token = get_string(resp, "nextToken");
    if (token != NULL) {
        if ((rc = new_token(&f->tokens[j->tag], token, j, err)) < 0) {
            return rc;
        }
        const char *service = f->services.v[j->tag];
        ecsrev_ecs__exec_add(x, s_op_list, list_deployments_body(f, service, token), j->tag);
    } else {
        f->prog.services++;
    }
    queue_describes(x, f, f->prog.services == f->services.n);
    progress(f);
    return 0;
}

static bool present(const cJSON *v)
{
    return v != NULL && !cJSON_IsNull(v);
}

/* The revision ARN in member @p name of @p o, or NULL when it holds none. */
static const char *ref_arn(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && is_revision_arn(v->valuestring) ? v->valuestring : NULL;
}

/*
 * Check the revision references of deployment @p d; NULL when they are
 * well-formed (then, with @p f, they are added to the revisions to fetch).
 */
static const char *deployment_refs(struct fetch *f, const cJSON *d)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(d, "sourceServiceRevisions");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(d, "targetServiceRevision");
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(d, "rollback");
    const cJSON *s = NULL;
    if (present(src) && !cJSON_IsArray(src)) {
        return "sourceServiceRevisions: not an array";
    }
    const cJSON *sources = present(src) ? src : NULL;
    cJSON_ArrayForEach(s, sources)
    {
        if (!cJSON_IsObject(s) || ref_arn(s, "arn") == NULL) {
            return "sourceServiceRevisions: an entry without a service revision ARN";
        }
    }
    if (present(target) && (!cJSON_IsObject(target) || ref_arn(target, "arn") == NULL)) {
        return "targetServiceRevision: no service revision ARN";
    }
    if (present(rb) && !cJSON_IsObject(rb)) {
        return "rollback: not an object";
    }
    const cJSON *rb_ref =
        present(rb) ? cJSON_GetObjectItemCaseSensitive(rb, "serviceRevisionArn") : NULL;
    if (present(rb_ref) && ref_arn(rb, "serviceRevisionArn") == NULL) {
        return "rollback.serviceRevisionArn: not a service revision ARN";
    }
    if (f == NULL) {
        return NULL;
    }
    cJSON_ArrayForEach(s, sources)
    {
        strv_push(&f->revisions, get_string(s, "arn"));
    }
    if (present(target)) {
        strv_push(&f->revisions, get_string(target, "arn"));
    }
    if (present(rb_ref)) {
        strv_push(&f->revisions, rb_ref->valuestring);
    }
    return NULL;
}

static bool failv_has(const struct failv *fv, const char *arn)
{
    for (size_t i = 0; i < fv->n; i++) {
        if (strcmp(fv->v[i].arn, arn) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * One DescribeServiceDeployments answer. A deployment whose revision
 * references are malformed is INVALID (its references are not used); one
 * that was not asked for is UNEXPECTED; an asked-for one that is neither in
 * serviceDeployments nor in failures is NOT_RETURNED. Entries without a
 * serviceDeploymentArn cannot be matched and are ignored.
 */
static int describe_done(const struct ecsrev_ecs__job *j, const cJSON *resp, struct fetch *f,
                         struct ecsrev_error *err)
{
    char *const *asked = f->deployments.v + j->tag;
    size_t n_asked = f->dep_queued - j->tag;
    n_asked = n_asked > ECSREV_ECS_BATCH_MAX ? ECSREV_ECS_BATCH_MAX : n_asked;
    bool seen[ECSREV_ECS_BATCH_MAX] = {false};
    const cJSON *arr = NULL;
    size_t first_fail = f->dep_fails.n;
    int rc = get_array(&arr, resp, "serviceDeployments", j, err);
    if (rc == 0) {
        rc = push_failures(&f->dep_fails, resp, j, err);
    }
    if (rc < 0) {
        return rc;
    }
    const cJSON *d = NULL;
    cJSON_ArrayForEach(d, arr)
    {
        const char *arn = cJSON_IsObject(d) ? get_string(d, "serviceDeploymentArn") : NULL;
        if (arn == NULL) {
            continue;
        }
        size_t k = 0;
        while (k < n_asked && strcmp(asked[k], arn) != 0) {
            k++;
        }
        if (k == n_asked) {
            if (!failv_has(&f->dep_fails, arn)) {
                failv_push(&f->dep_fails, arn, "UNEXPECTED",
                           "DescribeServiceDeployments returned it but it was not requested; "
                           "ignored");
            }
            continue;
        }
        if (seen[k]) {
            continue; /* a second copy: the first one counts */
        }
        seen[k] = true;
        const char *problem = deployment_refs(NULL, d);
        if (problem != NULL) {
            failv_push(&f->dep_fails, arn, "INVALID", problem);
        } else {
            (void)deployment_refs(f, d);
        }
    }
    for (size_t k = 0; k < n_asked; k++) {
        bool failed = false;
        for (size_t i = first_fail; i < f->dep_fails.n && !failed; i++) {
            failed = strcmp(f->dep_fails.v[i].arn, asked[k]) == 0;
        }
        if (!seen[k] && !failed) {
            failv_push(&f->dep_fails, asked[k], "NOT_RETURNED",
                       "DescribeServiceDeployments: neither in serviceDeployments nor in failures");
        }
    }
    return 0;
}

static int deployments_done(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                            const cJSON *resp, const char *raw, size_t raw_len,
                            struct ecsrev_error *err, void *payload)
{
    (void)raw;
    (void)raw_len;
    struct fetch *f = payload;
    if (j->op == s_op_list) {
        return list_page_done(x, j, resp, f, err);
    }
    return describe_done(j, resp, f, err);
}

/* Deployment failures, in ARN order, before any revision. */
static int deliver_deployment_failures(struct fetch *f, struct ecsrev_error *err)
{
    if (f->dep_fails.n == 0) {
        return 0;
    }
    qsort(f->dep_fails.v, f->dep_fails.n, sizeof(*f->dep_fails.v), cmp_fail);
    struct ecsrev_fetch_failure *v = ecsrev_xcalloc(f->dep_fails.n, sizeof(*v));
    for (size_t i = 0; i < f->dep_fails.n; i++) {
        v[i] = (struct ecsrev_fetch_failure){f->dep_fails.v[i].arn, f->dep_fails.v[i].reason,
                                             f->dep_fails.v[i].detail};
    }
    int rc = f->cb->batch(NULL, 0, v, f->dep_fails.n, err, f->cb->payload);
    if (rc == 0) {
        f->prog.failed += f->dep_fails.n;
        progress(f);
    }
    free(v);
    return rc;
}

static int list_and_describe_deployments(struct fetch *f, struct ecsrev_error *err)
{
    struct ecsrev_ecs__exec x;
    f->tokens = ecsrev_xcalloc(f->services.n + 1, sizeof(*f->tokens));
    ecsrev_ecs__exec_init(&x, f->c, deployments_done, f);
    for (size_t i = 0; i < f->services.n; i++) {
        ecsrev_ecs__exec_add(&x, s_op_list, list_deployments_body(f, f->services.v[i], NULL), i);
    }
    int rc = ecsrev_ecs__exec_run(&x, err);
    ecsrev_ecs__exec_dispose(&x);
    if (rc < 0) {
        return rc;
    }
    return deliver_deployment_failures(f, err);
}

/* ---- DescribeServiceRevisions ---- */

static bool requested(char *const *arns, size_t n, const char *arn)
{
    return n > 0 && bsearch(&arn, arns, n, sizeof(*arns), cmp_str) != NULL;
}

static int cmp_rev(const void *a, const void *b)
{
    const struct ecsrev_revision *x = a;
    const struct ecsrev_revision *y = b;
    return strcmp(x->arn, y->arn);
}

static bool slot_has(const struct slot *s, const char *arn)
{
    for (size_t i = 0; i < s->n_revs; i++) {
        if (strcmp(s->revs[i].arn, arn) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < s->fails.n; i++) {
        if (strcmp(s->fails.v[i].arn, arn) == 0) {
            return true;
        }
    }
    return false;
}

/* Roughly the length of the JSON text of @p v; stops counting past @p limit. */
static size_t json_size(const cJSON *v, size_t limit)
{
    size_t n = (v->string != NULL ? strlen(v->string) + 4 : 0) +
               (cJSON_IsString(v) ? strlen(v->valuestring) + 2 : 8);
    for (const cJSON *c = v->child; c != NULL && n <= limit; c = c->next) {
        n += json_size(c, limit);
    }
    return n;
}

/* Whether @p s is @p prefix followed by exactly @p rest (of length @p rest_len). */
static bool is_concat(const char *s, const char *prefix, size_t prefix_len, const char *rest,
                      size_t rest_len)
{
    return s != NULL && strlen(s) == prefix_len + rest_len && memcmp(s, prefix, prefix_len) == 0 &&
           memcmp(s + prefix_len, rest, rest_len) == 0;
}

/*
 * NULL when serviceArn and clusterArn of @p r name the service and cluster
 * of its ARN (arn:P:ecs:R:A:service-revision/CLUSTER/SERVICE/ID; the service
 * ARN may be the long form .../service/CLUSTER/SERVICE or the old short
 * form .../service/SERVICE), else what is wrong. The ARN was validated by
 * the normalizer.
 */
static const char *identity_problem(const struct ecsrev_revision *r)
{
    const char *res = strstr(r->arn, ":service-revision/");
    const char *cluster = res + strlen(":service-revision/");
    const char *service = strchr(cluster, '/') + 1;
    size_t cluster_len = (size_t)(service - 1 - cluster);
    size_t service_len = (size_t)(strchr(service, '/') - service);
    size_t head = (size_t)(res - r->arn); /* "arn:P:ecs:R:A" */
    char prefix[MAX_ARN_LEN + 32];
    if (head + 16 >= sizeof(prefix)) {
        return "serviceRevisionArn too long";
    }
    (void)snprintf(prefix, sizeof(prefix), "%.*s:service/", (int)head, r->arn);
    size_t plen = strlen(prefix);
    if (!is_concat(r->service_arn, prefix, plen, cluster, cluster_len + 1 + service_len) &&
        !is_concat(r->service_arn, prefix, plen, service, service_len)) {
        return "serviceArn names another service than serviceRevisionArn";
    }
    (void)snprintf(prefix, sizeof(prefix), "%.*s:cluster/", (int)head, r->arn);
    if (!is_concat(r->cluster_arn, prefix, strlen(prefix), cluster, cluster_len)) {
        return "clusterArn names another cluster than serviceRevisionArn";
    }
    return NULL;
}

static void slot_drop_revision(struct slot *s, size_t i)
{
    ecsrev_revision_dispose(&s->revs[i]);
    memmove(&s->revs[i], &s->revs[i + 1], (s->n_revs - i - 1) * sizeof(*s->revs));
    s->n_revs--;
}

/*
 * Normalize one returned revision into the slot, or record why it failed:
 * INVALID (fails validation, over MAX_REVISION_BYTES, serviceArn/clusterArn
 * of another service), UNEXPECTED (not requested), CONFLICT (returned twice
 * with different content: neither copy is kept). An identical second copy
 * is ignored; entries without a serviceRevisionArn are ignored (the
 * requested ARNs they may stand for end up NOT_RETURNED).
 */
static void add_revision(struct slot *s, const cJSON *rev, char *const *arns, size_t n)
{
    const char *arn = cJSON_IsObject(rev) ? get_string(rev, "serviceRevisionArn") : NULL;
    if (arn == NULL) {
        return;
    }
    size_t dup = 0;
    while (dup < s->n_revs && strcmp(s->revs[dup].arn, arn) != 0) {
        dup++;
    }
    bool failed = failv_has(&s->fails, arn);
    if (!requested(arns, n, arn)) {
        if (!failed) {
            failv_push(&s->fails, arn, "UNEXPECTED",
                       "DescribeServiceRevisions returned it but it was not requested; not stored");
        }
        return;
    }
    if (failed) {
        return; /* already in failures, INVALID or CONFLICT: stays a failure */
    }
    if (json_size(rev, MAX_REVISION_BYTES) > MAX_REVISION_BYTES) {
        if (dup < s->n_revs) {
            slot_drop_revision(s, dup);
        }
        failv_push(&s->fails, arn, "INVALID", "revision larger than 1 MiB");
        return;
    }
    char *text = cJSON_PrintUnformatted(rev);
    if (text == NULL) {
        abort(); /* only on out-of-memory */
    }
    struct ecsrev_error nerr = ECSREV_ERROR_INIT;
    struct ecsrev_revision r;
    memset(&r, 0, sizeof(r));
    const char *problem = NULL;
    if (ecsrev_revision_normalize(&r, text, strlen(text), ECSREV_NORMALIZE_REQUIRE_IDENTITY,
                                  &nerr) < 0) {
        problem = nerr.msg;
    } else if (strcmp(r.arn, arn) != 0) {
        problem = "serviceRevisionArn changed by normalization";
    } else {
        problem = identity_problem(&r);
    }
    cJSON_free(text);
    if (dup < s->n_revs) {
        bool same = problem == NULL &&
                    memcmp(r.content_hash, s->revs[dup].content_hash, sizeof(r.content_hash)) == 0;
        ecsrev_revision_dispose(&r);
        if (!same) {
            slot_drop_revision(s, dup);
            failv_push(&s->fails, arn, "CONFLICT",
                       "DescribeServiceRevisions returned it twice with different content; "
                       "neither copy stored");
        }
        return;
    }
    if (problem != NULL) {
        failv_push(&s->fails, arn, "INVALID", problem);
        ecsrev_revision_dispose(&r);
        return;
    }
    s->revs = ecsrev_xrealloc(s->revs, (s->n_revs + 1) * sizeof(*s->revs));
    s->revs[s->n_revs++] = r;
}

static void slot_dispose(struct slot *s)
{
    for (size_t i = 0; i < s->n_revs; i++) {
        ecsrev_revision_dispose(&s->revs[i]);
    }
    free(s->revs);
    failv_dispose(&s->fails);
    memset(s, 0, sizeof(*s));
}

/* Deliver every ready slot at the head of the line. */
static int flush_slots(struct fetch *f, struct ecsrev_error *err)
{
    while (f->next_slot < f->n_slots && f->slots[f->next_slot].ready) {
        struct slot *s = &f->slots[f->next_slot];
        struct ecsrev_fetch_failure *v = ecsrev_xcalloc(s->fails.n, sizeof(*v));
        for (size_t i = 0; i < s->fails.n; i++) {
            v[i] = (struct ecsrev_fetch_failure){s->fails.v[i].arn, s->fails.v[i].reason,
                                                 s->fails.v[i].detail};
        }
        int rc = f->cb->batch(s->revs, s->n_revs, v, s->fails.n, err, f->cb->payload);
        free(v);
        if (rc < 0) {
            return rc;
        }
        f->prog.fetched += s->n_revs;
        f->prog.failed += s->fails.n;
        slot_dispose(s);
        f->next_slot++;
        progress(f);
    }
    return 0;
}

static int revisions_done(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                          const cJSON *resp, const char *raw, size_t raw_len,
                          struct ecsrev_error *err, void *payload)
{
    (void)x;
    (void)raw;
    (void)raw_len;
    struct fetch *f = payload;
    struct slot *s = &f->slots[j->tag];
    char *const *arns = f->want.v + j->tag * ECSREV_ECS_BATCH_MAX;
    size_t n = f->want.n - j->tag * ECSREV_ECS_BATCH_MAX;
    n = n > ECSREV_ECS_BATCH_MAX ? ECSREV_ECS_BATCH_MAX : n;
    const cJSON *arr = NULL;
    int rc = get_array(&arr, resp, "serviceRevisions", j, err);
    if (rc == 0) {
        rc = push_failures(&s->fails, resp, j, err);
    }
    if (rc < 0) {
        return rc;
    }
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arr)
    {
        add_revision(s, e, arns, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (!slot_has(s, arns[i])) {
            failv_push(&s->fails, arns[i], "NOT_RETURNED",
                       "DescribeServiceRevisions: neither in serviceRevisions nor in failures");
        }
    }
    if (s->n_revs > 1) {
        qsort(s->revs, s->n_revs, sizeof(*s->revs), cmp_rev);
    }
    if (s->fails.n > 1) {
        qsort(s->fails.v, s->fails.n, sizeof(*s->fails.v), cmp_fail);
    }
    s->ready = true;
    return flush_slots(f, err);
}

/* Split the referenced ARNs into stored and wanted. */
static int filter_stored(struct fetch *f, struct ecsrev_error *err)
{
    strv_sort_unique(&f->revisions);
    f->prog.revisions = f->revisions.n;
    for (size_t i = 0; i < f->revisions.n; i++) {
        bool have = false;
        if (f->cb->have != NULL) {
            int rc = f->cb->have(&have, f->revisions.v[i], err, f->cb->payload);
            if (rc < 0) {
                return rc;
            }
        }
        if (have) {
            f->prog.already_stored++;
        } else {
            strv_push(&f->want, f->revisions.v[i]);
        }
    }
    f->prog.to_fetch = f->want.n;
    progress(f);
    return 0;
}

static int describe_revisions(struct fetch *f, struct ecsrev_error *err)
{
    int rc = filter_stored(f, err);
    if (rc < 0) {
        return rc;
    }
    f->n_slots = (f->want.n + ECSREV_ECS_BATCH_MAX - 1) / ECSREV_ECS_BATCH_MAX;
    f->slots = ecsrev_xcalloc(f->n_slots, sizeof(*f->slots));
    struct ecsrev_ecs__exec x;
    ecsrev_ecs__exec_init(&x, f->c, revisions_done, f);
    for (size_t b = 0; b < f->n_slots; b++) {
        size_t i = b * ECSREV_ECS_BATCH_MAX;
        size_t n = f->want.n - i;
        n = n > ECSREV_ECS_BATCH_MAX ? ECSREV_ECS_BATCH_MAX : n;
        ecsrev_ecs__exec_add(&x, "DescribeServiceRevisions",
                             describe_body("serviceRevisionArns", f->want.v + i, n), b);
    }
    rc = ecsrev_ecs__exec_run(&x, err);
    ecsrev_ecs__exec_dispose(&x);
    return rc;
}

/* ---- the pipeline ---- */

static bool is_revision_arn(const char *s)
{
    return strncmp(s, "arn:", 4) == 0 && strstr(s, ":service-revision/") != NULL &&
           strpbrk(s, " \t\r\n") == NULL && strlen(s) <= MAX_ARN_LEN;
}

static int check_spec(const struct ecsrev_fetch_spec *spec, struct ecsrev_error *err)
{
    for (size_t i = 0; i < spec->n_revision_arns; i++) {
        if (!is_revision_arn(spec->revision_arns[i])) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "'%s' is not a service revision ARN",
                                    spec->revision_arns[i]);
        }
    }
    for (size_t i = 0; i < spec->n_services; i++) {
        if (spec->services[i][0] == '\0') {
            return ecsrev_error_set(err, ECSREV_EINVAL, "empty service name");
        }
    }
    return 0;
}

static void fetch_dispose(struct fetch *f)
{
    for (size_t i = 0; f->tokens != NULL && i < f->services.n; i++) {
        strv_dispose(&f->tokens[i]);
    }
    free(f->tokens);
    strv_dispose(&f->services);
    strv_dispose(&f->deployments);
    strv_dispose(&f->revisions);
    strv_dispose(&f->want);
    failv_dispose(&f->dep_fails);
    for (size_t i = 0; i < f->n_slots; i++) {
        slot_dispose(&f->slots[i]);
    }
    free(f->slots);
}

int ecsrev_ecs_fetch(struct ecsrev_fetch_progress *out, struct ecsrev_ecs *c,
                     const struct ecsrev_fetch_spec *spec, const struct ecsrev_fetch_callbacks *cb,
                     struct ecsrev_error *err)
{
    struct fetch f;
    memset(&f, 0, sizeof(f));
    memset(out, 0, sizeof(*out));
    f.c = c;
    f.spec = spec;
    f.cb = cb;
    int rc = check_spec(spec, err);
    if (rc < 0) {
        goto done;
    }
    for (size_t i = 0; i < spec->n_services; i++) {
        strv_push(&f.services, spec->services[i]);
    }
    if (spec->all_services && (rc = list_services(&f.services, c, spec->cluster, err)) < 0) {
        goto done;
    }
    strv_sort_unique(&f.services);
    if ((rc = list_and_describe_deployments(&f, err)) < 0) {
        goto done;
    }
    for (size_t i = 0; i < spec->n_revision_arns; i++) {
        strv_push(&f.revisions, spec->revision_arns[i]);
    }
    rc = describe_revisions(&f, err);
done:
    *out = f.prog;
    fetch_dispose(&f);
    return rc;
}
