/*
 * test_ecs.c - the ECS client and the fetch pipeline against a fake
 * transport (no network): request shape and signing headers, batching
 * (45 revisions -> 3 DescribeServiceRevisions calls), pagination, the
 * incremental skip, retries (throttling, 5xx, timeouts, malformed bodies),
 * exhausted retries, no retry on 4xx, error parsing, failures, ordered
 * delivery of out-of-order completions, the concurrency limit and
 * credential refresh. The clock is fake: sleeping advances it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ecsrev/ecs.h>
#include <ecsrev/http.h>
#include <ecsrev/json.h>

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARN_PREFIX "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/"
#define DEP_PREFIX "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/"

/* ---- the fake ECS behind a fake transport ---- */

enum fault {
    F_NONE = 0,
    F_THROTTLE,  /* 400 ThrottlingException */
    F_500,       /* 500 ServerException */
    F_503,       /* 503 with an HTML body, no error type */
    F_403,       /* 403 InvalidSignatureException */
    F_DENIED,    /* 400 AccessDeniedException via header only */
    F_TIMEOUT,   /* transport timeout */
    F_TLS,       /* non-retryable transport failure */
    F_MALFORMED, /* 200 with a truncated body */
};

#define MAX_PENDING 64
#define MAX_FAULTS 16
#define MAX_CALLS 256

struct pending {
    uint64_t id;
    char op[64];
    char *body;
};

struct fake {
    struct ecsrev_transport base; /* first */
    int n_revisions;              /* revisions 0..n-1, one deployment each */
    int page_size;                /* ListServiceDeployments page size */
    int missing_from;             /* revision ids >= this are MISSING (-1: none) */
    int invalid_id;               /* this revision lacks createdAt (-1: none) */
    int omit_id;                  /* this revision is silently left out (-1: none) */
    bool lifo;                    /* complete the newest request first */
    struct pending pending[MAX_PENDING];
    int n_pending;
    int max_in_flight;
    enum fault faults[MAX_FAULTS]; /* applied to the next calls of fault_op */
    int n_faults;
    const char *fault_op;
    int calls_list, calls_ddep, calls_drev, calls_lsvc;
    int drev_sizes[MAX_CALLS];
    char *bodies[MAX_CALLS]; /* every request body, in order */
    int n_bodies;
    bool saw_token;         /* X-Amz-Security-Token seen */
    bool headers_ok;        /* every request had the headers we expect */
    char last_auth_key[64]; /* access key id of the last Authorization */
};

static int64_t s_now_ms;
static int64_t s_slept_ms;
static int s_sleeps;
static int64_t s_max_sleep_ms;
static int s_creds_calls;
static int64_t s_creds_ttl_ms; /* 0: no expiry */

static int64_t fake_now(void *payload)
{
    (void)payload;
    return s_now_ms;
}

static void fake_sleep(int64_t ms, void *payload)
{
    (void)payload;
    assert_true(ms >= 0);
    s_now_ms += ms;
    s_slept_ms += ms;
    s_sleeps++;
    if (ms > s_max_sleep_ms) {
        s_max_sleep_ms = ms;
    }
}

static int fake_creds(struct ecsrev_credentials *out, struct ecsrev_error *err, void *payload)
{
    (void)err;
    (void)payload;
    s_creds_calls++;
    out->access_key_id = strdup(s_creds_calls == 1 ? "AKIDFIRST" : "AKIDSECOND");
    out->secret_access_key = strdup("secret-never-shown");
    out->session_token = strdup("session-token-value");
    out->expires_ms = s_creds_ttl_ms > 0 ? s_now_ms + s_creds_ttl_ms : ECSREV_CREDS_NO_EXPIRY;
    return 0;
}

static const char *header(const struct ecsrev_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }
    return NULL;
}

static int fake_submit(struct ecsrev_transport *t, uint64_t id,
                       const struct ecsrev_http_request *req, struct ecsrev_error *err)
{
    (void)err;
    struct fake *f = (struct fake *)t;
    assert_true(f->n_pending < MAX_PENDING);
    const char *target = header(req, "X-Amz-Target");
    const char *auth = header(req, "Authorization");
    if (target == NULL || auth == NULL) {
        f->headers_ok = false;
        return ECSREV_EINVAL;
    }
    if (strcmp(req->method, "POST") != 0 || header(req, "X-Amz-Date") == NULL ||
        header(req, "Host") == NULL ||
        strcmp(header(req, "Content-Type"), "application/x-amz-json-1.1") != 0 ||
        strncmp(target, ECSREV_ECS_TARGET_PREFIX, strlen(ECSREV_ECS_TARGET_PREFIX)) != 0 ||
        strncmp(auth, "AWS4-HMAC-SHA256 Credential=", 28) != 0 ||
        strstr(auth, "x-amz-security-token") == NULL || strstr(auth, "x-amz-target") == NULL) {
        f->headers_ok = false;
    }
    const char *tok = header(req, "X-Amz-Security-Token");
    if (tok != NULL && strcmp(tok, "session-token-value") == 0) {
        f->saw_token = true;
    }
    (void)snprintf(f->last_auth_key, sizeof(f->last_auth_key), "%.*s", (int)strcspn(auth + 28, "/"),
                   auth + 28);
    struct pending *p = &f->pending[f->n_pending++];
    p->id = id;
    (void)snprintf(p->op, sizeof(p->op), "%s", target + strlen(ECSREV_ECS_TARGET_PREFIX));
    p->body = strndup(req->body, req->body_len);
    if (f->n_bodies < MAX_CALLS) {
        f->bodies[f->n_bodies++] = strdup(p->body);
    }
    if (f->n_pending > f->max_in_flight) {
        f->max_in_flight = f->n_pending;
    }
    return 0;
}

static void set_body(struct ecsrev_http_completion *c, long status, const char *headers,
                     const char *body)
{
    c->resp.status = status;
    if (headers != NULL) {
        assert_int_equal(ecsrev_buf_puts(&c->resp.headers, headers, NULL), 0);
    }
    assert_int_equal(ecsrev_buf_puts(&c->resp.body, body, NULL), 0);
}

static void set_json(struct ecsrev_http_completion *c, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    set_body(c, 200, NULL, s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static bool apply_fault(struct fake *f, const char *op, struct ecsrev_http_completion *c)
{
    if (f->n_faults == 0 || f->fault_op == NULL || strcmp(op, f->fault_op) != 0) {
        return false;
    }
    enum fault k = f->faults[0];
    memmove(f->faults, f->faults + 1, (size_t)(f->n_faults - 1) * sizeof(f->faults[0]));
    f->n_faults--;
    switch (k) {
    case F_THROTTLE:
        set_body(c, 400, NULL,
                 "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
        break;
    case F_500:
        set_body(c, 500, "X-Amzn-Errortype: ServerException:http://internal.amazon.com/\r\n",
                 "{\"message\":\"internal error\"}");
        break;
    case F_503:
        set_body(c, 503, NULL, "<html>busy</html>");
        break;
    case F_403:
        set_body(c, 403, "X-Amzn-Errortype: InvalidSignatureException\r\n",
                 "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature "
                 "we calculated does not match. The Canonical String for this request should "
                 "have been 'POST\\n/\\n\\nhost:fake\\nx-amz-security-token:"
                 "SESSIONTOKENVALUE0123456789\\n'\"}");
        break;
    case F_DENIED:
        set_body(c, 400, "x-amzn-errortype: AccessDeniedException:http://internal/\r\n",
                 "{\"Message\":\"User: x is not authorized\"}");
        break;
    case F_TIMEOUT:
        c->rc = ecsrev_error_set(&c->err, ECSREV_ENET, "http://fake/: operation timed out");
        c->retryable = true;
        c->timeout = true;
        break;
    case F_TLS:
        c->rc = ecsrev_error_set(&c->err, ECSREV_ENET, "https://fake/: certificate problem");
        c->retryable = false;
        break;
    case F_MALFORMED:
        set_body(c, 200, NULL, "{\"serviceRevisions\": [{\"servi");
        break;
    case F_NONE:
    default:
        return false;
    }
    return true;
}

static char *rev_arn(int i)
{
    static char buf[128];
    (void)snprintf(buf, sizeof(buf), ARN_PREFIX "%04d", i);
    return buf;
}

static int arn_id(const char *arn, const char *prefix)
{
    if (strncmp(arn, prefix, strlen(prefix)) != 0) {
        return -1;
    }
    return (int)strtol(arn + strlen(prefix), NULL, 10);
}

static void answer_list(struct fake *f, const cJSON *req, struct ecsrev_http_completion *c)
{
    const cJSON *tok = cJSON_GetObjectItem(req, "nextToken");
    int start = cJSON_IsString(tok) ? (int)strtol(tok->valuestring + 3, NULL, 10) : 0;
    assert_non_null(cJSON_GetObjectItem(req, "service"));
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "serviceDeployments");
    int end = start + f->page_size < f->n_revisions ? start + f->page_size : f->n_revisions;
    for (int i = start; i < end; i++) {
        char arn[160];
        (void)snprintf(arn, sizeof(arn), DEP_PREFIX "%04d", i);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "serviceDeploymentArn", arn);
        cJSON_AddItemToArray(a, d);
    }
    if (end < f->n_revisions) {
        char t[32];
        (void)snprintf(t, sizeof(t), "tok%d", end);
        cJSON_AddStringToObject(o, "nextToken", t);
    }
    set_json(c, o);
}

static void answer_ddep(struct fake *f, const cJSON *req, struct ecsrev_http_completion *c)
{
    (void)f;
    const cJSON *arns = cJSON_GetObjectItem(req, "serviceDeploymentArns");
    assert_true(cJSON_GetArraySize(arns) <= 20);
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "serviceDeployments");
    cJSON_AddArrayToObject(o, "failures");
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arns)
    {
        int i = arn_id(e->valuestring, DEP_PREFIX);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "serviceDeploymentArn", e->valuestring);
        cJSON *src = cJSON_AddArrayToObject(d, "sourceServiceRevisions");
        if (i > 0) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "arn", rev_arn(i - 1));
            cJSON_AddItemToArray(src, s);
        }
        cJSON *tgt = cJSON_AddObjectToObject(d, "targetServiceRevision");
        cJSON_AddStringToObject(tgt, "arn", rev_arn(i));
        cJSON_AddItemToArray(a, d);
    }
    set_json(c, o);
}

static void answer_drev(struct fake *f, const cJSON *req, struct ecsrev_http_completion *c)
{
    const cJSON *arns = cJSON_GetObjectItem(req, "serviceRevisionArns");
    int n = cJSON_GetArraySize(arns);
    assert_true(n >= 1 && n <= 20);
    if (f->calls_drev - 1 < MAX_CALLS) {
        f->drev_sizes[f->calls_drev - 1] = n;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "serviceRevisions");
    cJSON *fl = cJSON_AddArrayToObject(o, "failures");
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, arns)
    {
        int i = arn_id(e->valuestring, ARN_PREFIX);
        if (i < 0 || (f->missing_from >= 0 && i >= f->missing_from)) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "arn", e->valuestring);
            cJSON_AddStringToObject(x, "reason", "MISSING");
            cJSON_AddStringToObject(x, "detail", "no such revision");
            cJSON_AddItemToArray(fl, x);
            continue;
        }
        if (i == f->omit_id) {
            continue;
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "serviceRevisionArn", e->valuestring);
        cJSON_AddStringToObject(r, "serviceArn",
                                "arn:aws:ecs:us-east-1:123456789012:service/prod/web");
        cJSON_AddStringToObject(r, "clusterArn", "arn:aws:ecs:us-east-1:123456789012:cluster/prod");
        char td[128];
        (void)snprintf(td, sizeof(td), "arn:aws:ecs:us-east-1:123456789012:task-definition/web:%d",
                       i);
        cJSON_AddStringToObject(r, "taskDefinition", td);
        if (i != f->invalid_id) {
            cJSON_AddNumberToObject(r, "createdAt", 1717401731.512 + 60.0 * i);
        }
        cJSON_AddItemToArray(a, r);
    }
    set_json(c, o);
}

static void answer_lsvc(struct fake *f, const cJSON *req, struct ecsrev_http_completion *c)
{
    (void)f;
    const cJSON *tok = cJSON_GetObjectItem(req, "nextToken");
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "serviceArns");
    if (!cJSON_IsString(tok)) {
        cJSON_AddItemToArray(
            a, cJSON_CreateString("arn:aws:ecs:us-east-1:123456789012:service/prod/a"));
        cJSON_AddStringToObject(o, "nextToken", "page2");
    } else {
        cJSON_AddItemToArray(
            a, cJSON_CreateString("arn:aws:ecs:us-east-1:123456789012:service/prod/b"));
    }
    set_json(c, o);
}

static int fake_wait(struct ecsrev_transport *t, struct ecsrev_http_completion *out,
                     int64_t timeout_ms, bool *got, struct ecsrev_error *err)
{
    (void)timeout_ms;
    (void)err;
    struct fake *f = (struct fake *)t;
    *got = false;
    if (f->n_pending == 0) {
        return 0;
    }
    int k = f->lifo ? f->n_pending - 1 : 0;
    struct pending p = f->pending[k];
    memmove(&f->pending[k], &f->pending[k + 1], (size_t)(f->n_pending - k - 1) * sizeof(p));
    f->n_pending--;
    memset(out, 0, sizeof(*out));
    out->id = p.id;
    ecsrev_http_response_init(&out->resp);
    s_now_ms += 20; /* every request takes 20 ms */
    if (strcmp(p.op, "ListServiceDeployments") == 0) {
        f->calls_list++;
    } else if (strcmp(p.op, "DescribeServiceDeployments") == 0) {
        f->calls_ddep++;
    } else if (strcmp(p.op, "DescribeServiceRevisions") == 0) {
        f->calls_drev++;
    } else if (strcmp(p.op, "ListServices") == 0) {
        f->calls_lsvc++;
    }
    if (!apply_fault(f, p.op, out)) {
        cJSON *req = cJSON_Parse(p.body);
        assert_non_null(req);
        if (strcmp(p.op, "ListServiceDeployments") == 0) {
            answer_list(f, req, out);
        } else if (strcmp(p.op, "DescribeServiceDeployments") == 0) {
            answer_ddep(f, req, out);
        } else if (strcmp(p.op, "DescribeServiceRevisions") == 0) {
            answer_drev(f, req, out);
        } else if (strcmp(p.op, "ListServices") == 0) {
            answer_lsvc(f, req, out);
        } else {
            fail_msg("unexpected operation %s", p.op);
        }
        cJSON_Delete(req);
    }
    free(p.body);
    *got = true;
    return 0;
}

static void fake_abort_all(struct ecsrev_transport *t)
{
    struct fake *f = (struct fake *)t;
    for (int i = 0; i < f->n_pending; i++) {
        free(f->pending[i].body);
    }
    f->n_pending = 0;
}

static void fake_free(struct ecsrev_transport *t)
{
    fake_abort_all(t);
}

/* ---- fixture ---- */

struct fx {
    struct fake fake;
    struct ecsrev_ecs *ecs;
    /* what the batch callback saw */
    char **arns;
    size_t n_arns;
    int batches;
    size_t batch_sizes[64];
    char **fail_lines;
    size_t n_fails;
    int have_below; /* have() says yes for revision ids below this */
    int have_calls;
};

static int make_client(struct fx *x, unsigned attempts, unsigned concurrency)
{
    ecsrev_ecs_free(x->ecs);
    x->ecs = NULL;
    struct ecsrev_ecs_options o = ECSREV_ECS_OPTIONS_INIT;
    o.endpoint = "https://ecs.us-east-1.amazonaws.com";
    o.region = "us-east-1";
    o.max_attempts = attempts;
    o.concurrency = concurrency;
    o.creds = fake_creds;
    o.now = fake_now;
    o.sleep = fake_sleep;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_ecs_new(&x->ecs, &x->fake.base, &o, &err);
    assert_int_equal(rc, 0);
    return rc;
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    x->fake.base.submit = fake_submit;
    x->fake.base.wait = fake_wait;
    x->fake.base.abort_all = fake_abort_all;
    x->fake.base.free = fake_free;
    x->fake.n_revisions = 45;
    x->fake.page_size = 20;
    x->fake.missing_from = -1;
    x->fake.invalid_id = -1;
    x->fake.omit_id = -1;
    x->fake.headers_ok = true;
    x->have_below = -1;
    s_now_ms = 1780000000000;
    s_slept_ms = 0;
    s_sleeps = 0;
    s_max_sleep_ms = 0;
    s_creds_calls = 0;
    s_creds_ttl_ms = 0;
    *state = x;
    return make_client(x, 3, 8);
}

static int teardown(void **state)
{
    struct fx *x = *state;
    ecsrev_ecs_free(x->ecs);
    x->fake.base.free(&x->fake.base);
    for (size_t i = 0; i < x->n_arns; i++) {
        free(x->arns[i]);
    }
    free(x->arns);
    for (size_t i = 0; i < x->n_fails; i++) {
        free(x->fail_lines[i]);
    }
    free(x->fail_lines);
    for (int i = 0; i < x->fake.n_bodies; i++) {
        free(x->fake.bodies[i]);
    }
    free(x);
    return 0;
}

static int on_have(bool *out, const char *arn, struct ecsrev_error *err, void *payload)
{
    (void)err;
    struct fx *x = payload;
    x->have_calls++;
    *out = arn_id(arn, ARN_PREFIX) < x->have_below;
    return 0;
}

static int on_batch(const struct ecsrev_revision *revs, size_t n,
                    const struct ecsrev_fetch_failure *fails, size_t nf, struct ecsrev_error *err,
                    void *payload)
{
    (void)err;
    struct fx *x = payload;
    if (x->batches < 64) {
        x->batch_sizes[x->batches] = n;
    }
    x->batches++;
    x->arns = realloc(x->arns, (x->n_arns + n) * sizeof(*x->arns));
    for (size_t i = 0; i < n; i++) {
        assert_non_null(revs[i].canon);
        assert_true(revs[i].created_ms > 0);
        x->arns[x->n_arns++] = strdup(revs[i].arn);
    }
    x->fail_lines = realloc(x->fail_lines, (x->n_fails + nf) * sizeof(*x->fail_lines));
    for (size_t i = 0; i < nf; i++) {
        char line[1024];
        (void)snprintf(line, sizeof(line), "%s %s", fails[i].arn, fails[i].reason);
        x->fail_lines[x->n_fails++] = strdup(line);
    }
    return 0;
}

static int run_fetch(struct fx *x, struct ecsrev_fetch_progress *prog, struct ecsrev_error *err)
{
    static const char *const services[] = {"web"};
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    spec.cluster = "prod";
    spec.services = services;
    spec.n_services = 1;
    struct ecsrev_fetch_callbacks cb = {on_have, on_batch, NULL, x};
    return ecsrev_ecs_fetch(prog, x->ecs, &spec, &cb, err);
}

static void assert_sorted_all(const struct fx *x, int n)
{
    assert_int_equal(x->n_arns, (size_t)n);
    for (int i = 0; i < n; i++) {
        assert_string_equal(x->arns[i], rev_arn(i));
    }
}

/* ---- tests ---- */

static void test_batches_of_20(void **state)
{
    struct fx *x = *state;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_list, 3);
    assert_int_equal(x->fake.calls_ddep, 3);
    assert_int_equal(x->fake.calls_drev, 3);
    assert_int_equal(x->fake.drev_sizes[0], 20);
    assert_int_equal(x->fake.drev_sizes[1], 20);
    assert_int_equal(x->fake.drev_sizes[2], 5);
    assert_int_equal(x->batches, 3);
    assert_sorted_all(x, 45);
    assert_int_equal(p.deployments, 45);
    assert_int_equal(p.revisions, 45);
    assert_int_equal(p.to_fetch, 45);
    assert_int_equal(p.fetched, 45);
    assert_int_equal(p.failed, 0);
    assert_int_equal(p.services, 1);
    assert_true(x->fake.headers_ok);
    assert_true(x->fake.saw_token);
    assert_int_equal(s_sleeps, 0);
}

static void test_pagination_and_since(void **state)
{
    struct fx *x = *state;
    x->fake.page_size = 7;
    static const char *const services[] = {"arn:aws:ecs:us-east-1:123456789012:service/prod/web"};
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    spec.services = services;
    spec.n_services = 1;
    spec.since_ms = 1700000000500;
    struct ecsrev_fetch_callbacks cb = {NULL, on_batch, NULL, x};
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_ecs_fetch(&p, x->ecs, &spec, &cb, &err), 0);
    assert_int_equal(x->fake.calls_list, 7); /* 45 / 7 -> 7 pages */
    assert_int_equal(p.deployments, 45);
    assert_sorted_all(x, 45);
    /* the first request: cluster taken from the service ARN, createdAt.after in seconds */
    cJSON *first = cJSON_Parse(x->fake.bodies[0]);
    assert_string_equal(cJSON_GetObjectItem(first, "cluster")->valuestring, "prod");
    const cJSON *after = cJSON_GetObjectItem(cJSON_GetObjectItem(first, "createdAt"), "after");
    assert_true(cJSON_IsNumber(after));
    assert_true(after->valuedouble > 1700000000.49 && after->valuedouble < 1700000000.51);
    assert_null(cJSON_GetObjectItem(first, "nextToken"));
    cJSON_Delete(first);
    /* pages follow their tokens; describes are cut in full batches of 20 as pages arrive */
    int pages = 0;
    for (int i = 1; i < x->fake.n_bodies; i++) {
        cJSON *b = cJSON_Parse(x->fake.bodies[i]);
        const cJSON *tok = cJSON_GetObjectItem(b, "nextToken");
        if (tok != NULL) {
            char want[32];
            (void)snprintf(want, sizeof(want), "tok%d", 7 * ++pages);
            assert_string_equal(tok->valuestring, want);
        }
        cJSON_Delete(b);
    }
    assert_int_equal(pages, 6);
    assert_int_equal(x->fake.calls_ddep, 3);
}

static void test_incremental_skip(void **state)
{
    struct fx *x = *state;
    x->have_below = 30;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->have_calls, 45);
    assert_int_equal(x->fake.calls_drev, 1);
    assert_int_equal(x->fake.drev_sizes[0], 15);
    assert_int_equal(p.already_stored, 30);
    assert_int_equal(p.to_fetch, 15);
    assert_int_equal(p.fetched, 15);
    assert_string_equal(x->arns[0], rev_arn(30));
    /* everything stored: no DescribeServiceRevisions at all */
    x->have_below = 1000;
    x->fake.calls_drev = 0;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_drev, 0);
    assert_int_equal(p.fetched, 0);
    assert_int_equal(p.already_stored, 45);
}

static void test_throttle_then_success(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "DescribeServiceRevisions";
    x->fake.faults[0] = F_THROTTLE;
    x->fake.faults[1] = F_THROTTLE;
    x->fake.n_faults = 2;
    assert_int_equal(make_client(x, 3, 1), 0);
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_drev, 5); /* 2 throttled + 3 */
    assert_sorted_all(x, 45);
    /* two backoffs: at most 1 s then at most 2 s */
    assert_true(s_sleeps <= 2);
    assert_true(s_max_sleep_ms <= 2000);
}

static void test_5xx_then_success(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "ListServiceDeployments";
    x->fake.faults[0] = F_503;
    x->fake.faults[1] = F_500;
    x->fake.n_faults = 2;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_list, 5); /* 2 failed + 3 pages */
    assert_sorted_all(x, 45);
}

static void test_timeout_and_malformed_retried(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "DescribeServiceDeployments";
    x->fake.faults[0] = F_TIMEOUT;
    x->fake.faults[1] = F_MALFORMED;
    x->fake.n_faults = 2;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_ddep, 5); /* 2 failed + 3 batches */
    assert_sorted_all(x, 45);
}

static void test_retries_exhausted(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "DescribeServiceRevisions";
    for (int i = 0; i < MAX_FAULTS; i++) {
        x->fake.faults[i] = F_500;
    }
    x->fake.n_faults = MAX_FAULTS; /* more than 3 batches x 3 attempts */
    assert_int_equal(make_client(x, 3, 1), 0);
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = run_fetch(x, &p, &err);
    assert_int_equal(rc, ECSREV_EHTTP);
    assert_int_equal(err.cause, 500);
    assert_string_equal(
        err.msg, "DescribeServiceRevisions: ServerException: internal error (after 3 attempts)");
    /* the other batches go on while one waits: 3 attempts of one, 1..3 of the others */
    assert_true(x->fake.calls_drev >= 5 && x->fake.calls_drev <= 9);
    assert_int_equal(x->batches, 0);
    assert_true(s_sleeps >= 1);
}

static void test_max_attempts_one(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "ListServiceDeployments";
    x->fake.faults[0] = F_THROTTLE;
    x->fake.n_faults = 1;
    assert_int_equal(make_client(x, 1, 8), 0);
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), ECSREV_EHTTP);
    assert_string_equal(err.msg, "ListServiceDeployments: ThrottlingException: Rate exceeded");
    assert_int_equal(x->fake.calls_list, 1);
}

static void test_no_retry_on_403(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "ListServiceDeployments";
    x->fake.faults[0] = F_403;
    x->fake.n_faults = 1;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), ECSREV_EAUTH);
    assert_int_equal(err.cause, 403);
    assert_non_null(
        strstr(err.msg, "ListServiceDeployments: InvalidSignatureException: The request"));
    assert_null(strstr(err.msg, "secret"));
    /* AWS echoes the canonical request: the session token in it is blanked out */
    assert_null(strstr(err.msg, "SESSIONTOKENVALUE"));
    assert_non_null(strstr(err.msg, "x-amz-security-token:<redacted>"));
    assert_int_equal(x->fake.calls_list, 1);
    assert_int_equal(s_sleeps, 0);
}

static void test_no_retry_access_denied_header_only(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "DescribeServiceRevisions";
    x->fake.faults[0] = F_DENIED;
    x->fake.n_faults = 1;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), ECSREV_EAUTH);
    assert_string_equal(
        err.msg, "DescribeServiceRevisions: AccessDeniedException: User: x is not authorized");
    assert_int_equal(x->fake.calls_drev, 1);
}

static void test_no_retry_tls(void **state)
{
    struct fx *x = *state;
    x->fake.fault_op = "ListServiceDeployments";
    x->fake.faults[0] = F_TLS;
    x->fake.n_faults = 1;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), ECSREV_ENET);
    assert_string_equal(err.msg, "ListServiceDeployments: https://fake/: certificate problem");
    assert_int_equal(x->fake.calls_list, 1);
}

static void test_error_parsing(void **state)
{
    (void)state;
    struct {
        const char *header;
        const char *body;
        const char *code;
        const char *msg;
    } cases[] = {
        {"AccessDeniedException:http://internal.amazon.com/coral/", "{}", "AccessDeniedException",
         NULL},
        {NULL, "{\"__type\":\"com.amazonaws.ecs#ClientException\",\"message\":\"m1\"}",
         "ClientException", "m1"},
        {NULL, "{\"code\":\"ServerException\",\"Message\":\"m2\"}", "ServerException", "m2"},
        {"HeaderWins", "{\"__type\":\"BodyLoses\",\"message\":\"m3\"}", "HeaderWins", "m3"},
        {NULL, "{\"__type\":\"aws.protocoltests#Foo:http://x/\"}", "Foo", NULL},
        {NULL, "<html>", NULL, NULL},
        {NULL, "", NULL, NULL},
        {NULL, "{\"__type\": 5, \"message\": [1]}", NULL, NULL},
        {NULL, "{\"a\":1,\"a\":2}", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *code = NULL;
        char *msg = NULL;
        ecsrev_ecs_parse_error(&code, &msg, cases[i].header, cases[i].body, strlen(cases[i].body));
        if (cases[i].code == NULL) {
            assert_null(code);
        } else {
            assert_non_null(code);
            assert_string_equal(code, cases[i].code);
        }
        if (cases[i].msg == NULL) {
            assert_null(msg);
        } else {
            assert_non_null(msg);
            assert_string_equal(msg, cases[i].msg);
        }
        free(code);
        free(msg);
    }
    assert_true(ecsrev_ecs_is_throttling("ThrottlingException"));
    assert_true(ecsrev_ecs_is_throttling("RequestLimitExceeded"));
    assert_true(ecsrev_ecs_is_throttling("TooManyRequestsException"));
    assert_false(ecsrev_ecs_is_throttling("AccessDeniedException"));
    assert_false(ecsrev_ecs_is_throttling(NULL));
}

static void test_failures(void **state)
{
    struct fx *x = *state;
    x->fake.missing_from = 43;
    x->fake.invalid_id = 5;
    x->fake.omit_id = 7;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(p.fetched, 41);
    assert_int_equal(p.failed, 4);
    assert_int_equal(x->n_fails, 4);
    char want[256];
    (void)snprintf(want, sizeof(want), "%s INVALID", rev_arn(5));
    assert_string_equal(x->fail_lines[0], want);
    (void)snprintf(want, sizeof(want), "%s NOT_RETURNED", rev_arn(7));
    assert_string_equal(x->fail_lines[1], want);
    (void)snprintf(want, sizeof(want), "%s MISSING", rev_arn(43));
    assert_string_equal(x->fail_lines[2], want);
    (void)snprintf(want, sizeof(want), "%s MISSING", rev_arn(44));
    assert_string_equal(x->fail_lines[3], want);
}

static void test_out_of_order_completion(void **state)
{
    struct fx *x = *state;
    x->fake.lifo = true;
    x->fake.n_revisions = 130;
    x->fake.page_size = 100;
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.calls_drev, 7);
    assert_int_equal(x->batches, 7);
    assert_int_equal(x->batch_sizes[0], 20);
    assert_int_equal(x->batch_sizes[6], 10);
    assert_sorted_all(x, 130);
    assert_int_equal(x->fake.max_in_flight, 7);
}

static void test_concurrency_limit(void **state)
{
    struct fx *x = *state;
    x->fake.n_revisions = 400;
    x->fake.page_size = 100;
    assert_int_equal(make_client(x, 3, 4), 0);
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(run_fetch(x, &p, &err), 0);
    assert_int_equal(x->fake.max_in_flight, 4);
    assert_int_equal(x->fake.calls_drev, 20);
    assert_sorted_all(x, 400);
}

static void test_creds_refresh(void **state)
{
    struct fx *x = *state;
    s_creds_ttl_ms = 90000; /* refreshed when within a minute of expiry */
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_ecs_call(&out, x->ecs, "ListServices", "{}", 2, &err), 0);
    assert_int_equal(s_creds_calls, 1);
    assert_string_equal(x->fake.last_auth_key, "AKIDFIRST");
    s_now_ms += 10000;
    ecsrev_buf_clear(&out);
    assert_int_equal(ecsrev_ecs_call(&out, x->ecs, "ListServices", "{}", 2, &err), 0);
    assert_int_equal(s_creds_calls, 1);
    s_now_ms += 40000;
    ecsrev_buf_clear(&out);
    assert_int_equal(ecsrev_ecs_call(&out, x->ecs, "ListServices", "{}", 2, &err), 0);
    assert_int_equal(s_creds_calls, 2);
    assert_string_equal(x->fake.last_auth_key, "AKIDSECOND");
    assert_non_null(strstr(out.ptr, "serviceArns"));
    ecsrev_buf_dispose(&out);
}

static void test_list_services_pages(void **state)
{
    struct fx *x = *state;
    char **svcs = NULL;
    size_t n = 0;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_ecs_list_services(&svcs, &n, x->ecs, "prod", &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(x->fake.calls_lsvc, 2);
    assert_non_null(strstr(svcs[1], "service/prod/b"));
    for (size_t i = 0; i < n; i++) {
        free(svcs[i]);
    }
    free(svcs);
}

static void test_all_services(void **state)
{
    struct fx *x = *state;
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    spec.cluster = "prod";
    spec.all_services = true;
    struct ecsrev_fetch_callbacks cb = {NULL, on_batch, NULL, x};
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_ecs_fetch(&p, x->ecs, &spec, &cb, &err), 0);
    assert_int_equal(x->fake.calls_lsvc, 2);
    assert_int_equal(p.services, 2);
    assert_int_equal(x->fake.calls_list, 6); /* 3 pages per service */
    assert_int_equal(p.deployments, 90);     /* the fake answers the same for both */
    assert_sorted_all(x, 45);                /* deduplicated */
}

static void test_explicit_arns(void **state)
{
    struct fx *x = *state;
    const char *arns[] = {rev_arn(3)};
    char a3[128];
    (void)snprintf(a3, sizeof(a3), "%s", arns[0]);
    const char *const list[] = {a3, a3, ARN_PREFIX "0001"};
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    spec.revision_arns = list;
    spec.n_revision_arns = 3;
    struct ecsrev_fetch_callbacks cb = {NULL, on_batch, NULL, x};
    struct ecsrev_fetch_progress p;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_ecs_fetch(&p, x->ecs, &spec, &cb, &err), 0);
    assert_int_equal(x->fake.calls_list, 0);
    assert_int_equal(x->fake.calls_drev, 1);
    assert_int_equal(x->fake.drev_sizes[0], 2);
    assert_int_equal(x->n_arns, 2);
    const char *const bad[] = {"not-an-arn"};
    spec.revision_arns = bad;
    spec.n_revision_arns = 1;
    assert_int_equal(ecsrev_ecs_fetch(&p, x->ecs, &spec, &cb, &err), ECSREV_EINVAL);
    assert_string_equal(err.msg, "'not-an-arn' is not a service revision ARN");
}

static void test_endpoint_validation(void **state)
{
    struct fx *x = *state;
    struct ecsrev_ecs_options o = ECSREV_ECS_OPTIONS_INIT;
    o.region = "us-east-1";
    o.creds = fake_creds;
    o.now = fake_now;
    o.sleep = fake_sleep;
    const char *bad[] = {"ftp://x", "https://", "https://user@host/", "https://h/?q=1", "h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ecsrev_ecs *c = NULL;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        o.endpoint = bad[i];
        assert_int_equal(ecsrev_ecs_new(&c, &x->fake.base, &o, &err), ECSREV_EINVAL);
        assert_null(c);
    }
    o.endpoint = "http://127.0.0.1:8080/";
    struct ecsrev_ecs *c = NULL;
    assert_int_equal(ecsrev_ecs_new(&c, &x->fake.base, &o, NULL), 0);
    ecsrev_ecs_free(c);
    o.max_attempts = 0;
    assert_int_equal(ecsrev_ecs_new(&c, &x->fake.base, &o, NULL), ECSREV_EINVAL);
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_of_20, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination_and_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incremental_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_malformed_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_attempts_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_on_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_access_denied_header_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_tls, setup, teardown),
        cmocka_unit_test(test_error_parsing),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creds_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_services_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_services, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_arns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_validation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
