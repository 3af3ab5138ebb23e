/*
 * fuzz_ecs.c - fuzz target for the ECS response parsers: the error-body
 * parser (ecsrev_ecs_parse_error) and the fetch pipeline's parsing of
 * ListServices, ListServiceDeployments, DescribeServiceDeployments and
 * DescribeServiceRevisions answers, driven through a fake transport.
 *
 * Input: the whole input is first given to ecsrev_ecs_parse_error. Then it is
 * split at "\n@@\n" into responses, served in request order. The first byte
 * of each response selects how it is answered (see s_answers: status, an
 * X-Amzn-Errortype header, or a transport failure); the rest is the body.
 * Once the responses run out, every request gets 200 "{}".
 *
 * Properties: nothing crashes or leaks; the fetch ends (bounded requests);
 * every delivered revision has an ARN that was asked for, identity members
 * and a canonical document; an error has one message line; counters add up.
 */
#include "fuzz.h"

#include <string.h>

#include <ecsrev/buf.h>
#include <ecsrev/ecs.h>
#include <ecsrev/error.h>
#include <ecsrev/http.h>

#define SEP "\n@@\n"
#define MAX_REQUESTS 200

static const char s_rev_arn[] =
    "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/5613047295846107342";
static const char s_service[] = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";

/* How a response is answered, chosen by its first byte (modulo the count). */
struct answer {
    long status;        /* 0: transport failure */
    const char *header; /* extra header line, or NULL */
    bool retryable;     /* transport failure: retryable */
};

static const struct answer s_answers[] = {
    {200, NULL, false},
    {200, "Content-Type: application/x-amz-json-1.1\r\n", false},
    {400, NULL, false},
    {400, "X-Amzn-Errortype: ThrottlingException:http://internal\r\n", false},
    {403, "X-Amzn-Errortype: AccessDeniedException\r\n", false},
    {500, NULL, false},
    {503, NULL, false},
    {0, NULL, true},
};

struct pending {
    uint64_t id;
};

struct fake {
    struct ecsrev_transport t; /* first member */
    const uint8_t *data;
    size_t size;
    size_t pos; /* next unread byte of data */
    bool done;  /* responses used up */
    struct pending q[64];
    size_t nq;
    size_t requests;
};

static int fake_submit(struct ecsrev_transport *t, uint64_t id,
                       const struct ecsrev_http_request *req, struct ecsrev_error *err)
{
    struct fake *f = (struct fake *)t;
    FUZZ_CHECK(req->url != NULL && req->method != NULL);
    if (f->nq == sizeof(f->q) / sizeof(f->q[0]) || f->requests >= MAX_REQUESTS) {
        return ecsrev_error_set(err, ECSREV_ENET, "fake transport: too many requests");
    }
    f->requests++;
    f->q[f->nq++].id = id;
    return 0;
}

/* The next response of the input: [start, end) of its bytes, or false when used up. */
static bool next_response(struct fake *f, const uint8_t **start, size_t *len)
{
    if (f->done || f->pos > f->size) {
        return false;
    }
    const uint8_t *p = f->data + f->pos;
    size_t left = f->size - f->pos;
    size_t seplen = strlen(SEP);
    size_t n = left;
    for (size_t i = 0; i + seplen <= left; i++) {
        if (memcmp(p + i, SEP, seplen) == 0) {
            n = i;
            break;
        }
    }
    *start = p;
    *len = n;
    if (n == left) {
        f->done = true;
    } else {
        f->pos += n + seplen;
    }
    return true;
}

static int fake_wait(struct ecsrev_transport *t, struct ecsrev_http_completion *out,
                     int64_t timeout_ms, bool *got, struct ecsrev_error *err)
{
    struct fake *f = (struct fake *)t;
    (void)timeout_ms;
    (void)err;
    *got = false;
    if (f->nq == 0) {
        return 0;
    }
    memset(out, 0, sizeof(*out));
    ecsrev_http_response_init(&out->resp);
    out->id = f->q[0].id;
    memmove(f->q, f->q + 1, (f->nq - 1) * sizeof(f->q[0]));
    f->nq--;
    *got = true;

    const uint8_t *r = NULL;
    size_t len = 0;
    if (!next_response(f, &r, &len) || len == 0) {
        out->resp.status = 200;
        ecsrev_buf_add(&out->resp.body, "{}", 2);
        return 0;
    }
    const struct answer *a = &s_answers[r[0] % (sizeof(s_answers) / sizeof(s_answers[0]))];
    if (a->status == 0) {
        out->rc = ecsrev_error_set(&out->err, ECSREV_ENET, "fake: connection reset");
        out->retryable = a->retryable;
        out->timeout = (r[0] & 0x80) != 0;
        return 0;
    }
    out->resp.status = a->status;
    if (a->header != NULL) {
        ecsrev_buf_add(&out->resp.headers, a->header, strlen(a->header));
    }
    ecsrev_buf_add(&out->resp.body, r + 1, len - 1);
    return 0;
}

static void fake_abort_all(struct ecsrev_transport *t)
{
    ((struct fake *)t)->nq = 0;
}

static void fake_free(struct ecsrev_transport *t)
{
    (void)t;
}

struct clock {
    int64_t now;
};

static int64_t clock_now(void *payload)
{
    struct clock *c = payload;
    c->now += 7;
    return c->now;
}

static void clock_sleep(int64_t ms, void *payload)
{
    struct clock *c = payload;
    FUZZ_CHECK(ms >= 0);
    c->now += ms;
}

static int get_creds(struct ecsrev_credentials *out, struct ecsrev_error *err, void *payload)
{
    (void)err;
    (void)payload;
    out->access_key_id = ecsrev_xstrdup("AKIDEXAMPLE");
    out->secret_access_key = ecsrev_xstrdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    out->session_token = ecsrev_xstrdup("FUZZ-SESSION-TOKEN");
    return 0;
}

struct sink {
    size_t revs;
    size_t fails;
};

static int on_have(bool *out, const char *arn, struct ecsrev_error *err, void *payload)
{
    (void)err;
    (void)payload;
    FUZZ_CHECK(arn != NULL);
    /* Pretend every other ARN (by length) is stored, deterministically. */
    *out = strlen(arn) % 5 == 0;
    return 0;
}

static int on_batch(const struct ecsrev_revision *revs, size_t n,
                    const struct ecsrev_fetch_failure *failures, size_t n_failures,
                    struct ecsrev_error *err, void *payload)
{
    struct sink *s = payload;
    (void)err;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(revs[i].arn != NULL && revs[i].service_arn != NULL);
        FUZZ_CHECK(revs[i].created_ms != ECSREV_TIME_NONE);
        FUZZ_CHECK(revs[i].canon != NULL && strlen(revs[i].canon) == revs[i].canon_len);
        if (i > 0) {
            FUZZ_CHECK(strcmp(revs[i - 1].arn, revs[i].arn) < 0);
        }
    }
    for (size_t i = 0; i < n_failures; i++) {
        FUZZ_CHECK(failures[i].arn != NULL && failures[i].reason != NULL);
    }
    s->revs += n;
    s->fails += n_failures;
    return 0;
}

static void check_parse_error(const uint8_t *data, size_t size)
{
    char header[64];
    char *code = NULL;
    char *msg = NULL;
    size_t hl = size < sizeof(header) - 1 ? size : sizeof(header) - 1;
    memcpy(header, data, hl);
    header[hl] = '\0';

    ecsrev_ecs_parse_error(&code, &msg, NULL, (const char *)data, size);
    FUZZ_CHECK(code == NULL || (code[0] != '\0' && strchr(code, ':') == NULL));
    free(code);
    free(msg);
    ecsrev_ecs_parse_error(&code, &msg, header, (const char *)data, size);
    free(code);
    free(msg);
}

static void run_fetch(const uint8_t *data, size_t size, bool all_services)
{
    struct fake f;
    memset(&f, 0, sizeof(f));
    f.t.submit = fake_submit;
    f.t.wait = fake_wait;
    f.t.abort_all = fake_abort_all;
    f.t.free = fake_free;
    f.data = data;
    f.size = size;
    struct clock clk = {1700000000000};
    struct ecsrev_ecs_options o = ECSREV_ECS_OPTIONS_INIT;
    o.endpoint = "http://127.0.0.1:9/";
    o.region = "us-east-1";
    o.max_attempts = 2;
    o.concurrency = 2;
    o.backoff_base_ms = 10;
    o.backoff_cap_ms = 100;
    o.creds = get_creds;
    o.now = clock_now;
    o.sleep = clock_sleep;
    o.payload = &clk;
    struct ecsrev_ecs *c = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    FUZZ_CHECK(ecsrev_ecs_new(&c, &f.t, &o, &err) == 0);

    const char *services[] = {s_service};
    const char *revs[] = {s_rev_arn};
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    spec.cluster = all_services ? "prod" : NULL;
    spec.services = services;
    spec.n_services = 1;
    spec.all_services = all_services;
    spec.revision_arns = revs;
    spec.n_revision_arns = 1;
    struct sink sink = {0, 0};
    struct ecsrev_fetch_callbacks cb = {on_have, on_batch, NULL, &sink};
    struct ecsrev_fetch_progress prog;
    int rc = ecsrev_ecs_fetch(&prog, c, &spec, &cb, &err);
    if (rc < 0) {
        FUZZ_CHECK(rc == err.code);
        FUZZ_CHECK_MSG(&err);
    } else {
        FUZZ_CHECK(prog.fetched == sink.revs);
        FUZZ_CHECK(prog.fetched <= prog.to_fetch);
    }
    ecsrev_ecs_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse_error(data, size);
    run_fetch(data, size, false);
    run_fetch(data, size, true);
    return 0;
}
