/*
 * ecs.c - the Amazon ECS API client: AWS JSON 1.1 requests signed with
 * SigV4, error parsing, and a scheduler that keeps up to `concurrency`
 * requests in flight and retries them like the AWS SDKs' "standard" mode.
 *
 * Retry policy (see ecs.h): retryable are throttling codes, HTTP
 * 429/500/502/503/504, the transient codes RequestTimeout(Exception) and
 * PriorRequestNotComplete, timeouts and connection failures, and a 2xx
 * answer whose body is not a JSON object (treated as a cut connection: the
 * request is a read-only Describe/List call, so trying again is harmless).
 * Delay before attempt k+1: random(0, min(cap, base * 2^(k-1))). A retry
 * quota of 500 tokens (5 per retry, 10 per retried timeout; success refunds
 * the job's cost, or 1 token when it needed no retry) limits retry storms.
 *
 * Before a 2xx body is parsed, a linear scan bounds its shape (JSON values,
 * members of one object): a 64 MiB answer of `[0,0,0,...]` would otherwise
 * become a tree of 30 million nodes (gigabytes), and an object with millions
 * of members would keep the duplicate-member check busy for hours. Real
 * answers hold a few thousand values; an answer over the limits is an error
 * that is not retried.
 *
 * Retries never block other requests: a job waiting for its delay just is
 * not started yet, and transport waits are bounded by the earliest delay.
 *
 * Invariants: a job is WAITING, IN_FLIGHT or DONE; in_flight counts jobs
 * IN_FLIGHT and never exceeds the concurrency; the completion id of a
 * request is its job's index in the queue.
 */
#include <ecsrev/ecs.h>

#include <ecsrev/creds.h>
#include <ecsrev/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ecs_priv.h"
#include "json_priv.h"

#include "banned.h"

enum { JOB_WAITING = 0, JOB_IN_FLIGHT, JOB_DONE };

enum {
    RETRY_QUOTA = 500,
    RETRY_COST = 5,
    RETRY_COST_TIMEOUT = 10,
    CREDS_REFRESH_MARGIN_MS = 60000,
    MAX_ERROR_MESSAGE = 300,
    MAX_JSON_VALUES = 500000, /* about 40 MB of cJSON nodes */
    MAX_JSON_MEMBERS = 10000, /* members of one object */
    MAX_SCAN_DEPTH = 64,      /* deeper nesting is rejected by the parser anyway */
};

struct ecsrev_ecs {
    struct ecsrev_transport *t;
    struct ecsrev_ecs_options o;
    char *url;  /* where requests go */
    char *host; /* Host header (and the signed host) */
    char *path; /* request path, "/" for ECS */
    char *region;
    struct ecsrev_credentials creds;
    bool have_creds;
    int retry_tokens;
};

/* ---- client ---- */

/* Split the endpoint URL into host (default port removed) and path. */
static int parse_endpoint(struct ecsrev_ecs *c, const char *endpoint, struct ecsrev_error *err)
{
    return ecsrev_endpoint_split(endpoint, &c->host, &c->path, &c->url, err);
}

int ecsrev_ecs_new(struct ecsrev_ecs **out, struct ecsrev_transport *transport,
                   const struct ecsrev_ecs_options *opts, struct ecsrev_error *err)
{
    *out = NULL;
    if (opts->endpoint == NULL || opts->region == NULL || opts->creds == NULL ||
        opts->now == NULL || opts->sleep == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "ecs client needs an endpoint, a region and callbacks");
    }
    if (opts->max_attempts < 1 || opts->concurrency < 1 || opts->backoff_base_ms < 0 ||
        opts->backoff_cap_ms < 0) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "ecs client: attempts and concurrency must be at least 1");
    }
    struct ecsrev_ecs *c = ecsrev_xcalloc(1, sizeof(*c));
    c->t = transport;
    c->o = *opts;
    c->region = ecsrev_xstrdup(opts->region);
    c->o.region = c->region;
    c->o.endpoint = NULL;
    c->creds = (struct ecsrev_credentials)ECSREV_CREDENTIALS_INIT;
    c->retry_tokens = RETRY_QUOTA;
    int rc = parse_endpoint(c, opts->endpoint, err);
    if (rc < 0) {
        ecsrev_ecs_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ecsrev_ecs_free(struct ecsrev_ecs *c)
{
    if (c == NULL) {
        return;
    }
    ecsrev_credentials_dispose(&c->creds);
    free(c->url);
    free(c->host);
    free(c->path);
    free(c->region);
    free(c);
}

unsigned ecsrev_ecs__concurrency(const struct ecsrev_ecs *c)
{
    return c->o.concurrency;
}

static int ensure_creds(struct ecsrev_ecs *c, int64_t now, struct ecsrev_error *err)
{
    if (c->have_creds && (c->creds.expires_ms == ECSREV_CREDS_NO_EXPIRY ||
                          now + CREDS_REFRESH_MARGIN_MS < c->creds.expires_ms)) {
        return 0;
    }
    ecsrev_credentials_dispose(&c->creds);
    c->have_creds = false;
    int rc = c->o.creds(&c->creds, err, c->o.payload);
    if (rc < 0) {
        ecsrev_credentials_dispose(&c->creds);
        return rc;
    }
    c->have_creds = true;
    return 0;
}

/* ---- errors ---- */

static const char *const s_throttling[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static const char *const s_transient[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static const char *const s_auth[] = {
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "AccessDeniedException",
    "AccessDenied",
};

static bool in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; code != NULL && i < n; i++) {
        if (strcmp(code, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool ecsrev_ecs_is_throttling(const char *code)
{
    return in_list(code, s_throttling, sizeof(s_throttling) / sizeof(s_throttling[0]));
}

/* "aws.protocoltests#FooError:http://internal..." -> "FooError". */
static char *clean_code(const char *raw)
{
    if (raw == NULL) {
        return NULL;
    }
    const char *hash = strchr(raw, '#');
    const char *start = hash != NULL ? hash + 1 : raw;
    size_t len = strcspn(start, ":");
    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t')) {
        len--;
    }
    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    return len == 0 ? NULL : ecsrev_xstrndup(start, len);
}

static const char *string_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ecsrev_ecs_parse_error(char **code, char **message, const char *errortype_header,
                            const char *body, size_t len)
{
    *code = clean_code(errortype_header);
    *message = NULL;
    cJSON *doc = NULL;
    if (body == NULL || len == 0 || ecsrev_json__parse(&doc, body, len, NULL) < 0 ||
        !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return;
    }
    if (*code == NULL) {
        *code = clean_code(string_member(doc, "__type"));
    }
    if (*code == NULL) {
        *code = clean_code(string_member(doc, "code"));
    }
    const char *msg = string_member(doc, "message");
    if (msg == NULL) {
        msg = string_member(doc, "Message");
    }
    if (msg != NULL) {
        *message = ecsrev_xstrdup(msg);
    }
    cJSON_Delete(doc);
}

/* Keep server text printable on one line: control bytes become '?', length capped. */
static void sanitize(char *s)
{
    size_t i = 0;
    for (; i < MAX_ERROR_MESSAGE && s[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f) {
            s[i] = '?';
        }
    }
    s[i] = '\0';
}

/*
 * AWS echoes the canonical request in SignatureDoesNotMatch messages, and it
 * holds the session token (x-amz-security-token:VALUE): blank every such
 * value out before the message can reach a terminal or a log.
 */
static void redact_tokens(char *s)
{
    static const char name[] = "x-amz-security-token";
    size_t n = sizeof(name) - 1;
    for (char *p = s; *p != '\0'; p++) {
        if (strncasecmp(p, name, n) != 0 || (p[n] != ':' && p[n] != '=')) {
            continue;
        }
        char *v = p + n + 1;
        char *end = v;
        while (*end != '\0' && strchr(" \t\r\n&\"',;", *end) == NULL) {
            end++;
        }
        static const char mask[] = "<redacted>";
        if ((size_t)(end - v) >= sizeof(mask) - 1) {
            memcpy(v, mask, sizeof(mask) - 1);
            memmove(v + sizeof(mask) - 1, end, strlen(end) + 1);
        } else {
            memset(v, '*', (size_t)(end - v));
        }
        p = v;
    }
}

/* ---- retry policy ---- */

/* How one attempt ended. */
struct outcome {
    cJSON *json; /* success: the response object */
    bool retryable;
    bool timeout;
    bool expired;    /* ExpiredToken: the credentials ran out before their stated expiry */
    char *log_error; /* short error for the log, owned */
};

static int api_error(struct outcome *o, const struct ecsrev_ecs__job *j,
                     const struct ecsrev_http_completion *comp, struct ecsrev_error *err)
{
    char *header = ecsrev_http_response_header(&comp->resp, "X-Amzn-Errortype");
    char *code = NULL;
    char *msg = NULL;
    long status = comp->resp.status;
    ecsrev_ecs_parse_error(&code, &msg, header, comp->resp.body.ptr, comp->resp.body.len);
    free(header);
    if (code != NULL) {
        sanitize(code);
    }
    if (msg != NULL) {
        redact_tokens(msg);
        sanitize(msg);
    }
    o->retryable = status == 429 || status == 500 || status == 502 || status == 503 ||
                   status == 504 || ecsrev_ecs_is_throttling(code) ||
                   in_list(code, s_transient, sizeof(s_transient) / sizeof(s_transient[0]));
    o->expired = code != NULL &&
                 (strcmp(code, "ExpiredTokenException") == 0 || strcmp(code, "ExpiredToken") == 0);
    int kind =
        in_list(code, s_auth, sizeof(s_auth) / sizeof(s_auth[0])) ? ECSREV_EAUTH : ECSREV_EHTTP;
    int rc = 0;
    if (code != NULL && msg != NULL && msg[0] != '\0') {
        rc = ecsrev_error_set_cause(err, kind, (int)status, "%s: %s: %s", j->op, code, msg);
    } else if (code != NULL) {
        rc = ecsrev_error_set_cause(err, kind, (int)status, "%s: %s (HTTP %ld)", j->op, code,
                                    status);
    } else {
        rc = ecsrev_error_set_cause(err, kind, (int)status, "%s: HTTP %ld", j->op, status);
    }
    char http_code[32];
    (void)snprintf(http_code, sizeof(http_code), "HTTP %ld", status);
    o->log_error = ecsrev_xstrdup(code != NULL ? code : http_code);
    free(code);
    free(msg);
    return rc;
}

/*
 * Bound the tree a JSON text would make: at most MAX_JSON_VALUES values and
 * MAX_JSON_MEMBERS members in any object. Counts separators outside strings,
 * so it is linear and allocates nothing; the text may still be invalid JSON.
 */
static int check_json_size(const char *s, size_t len, const struct ecsrev_ecs__job *j,
                           struct ecsrev_error *err)
{
    size_t values = 1;
    size_t members[MAX_SCAN_DEPTH];
    bool is_object[MAX_SCAN_DEPTH];
    size_t depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\') {
                i++;
            } else if (ch == '"') {
                in_str = false;
            }
            continue;
        }
        if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (depth < MAX_SCAN_DEPTH) {
                members[depth] = 1;
                is_object[depth] = ch == '{';
            }
            depth++;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        } else if (ch == ',') {
            values++;
            if (depth > 0 && depth <= MAX_SCAN_DEPTH && is_object[depth - 1] &&
                ++members[depth - 1] > MAX_JSON_MEMBERS) {
                return ecsrev_error_set(err, ECSREV_EPARSE,
                                        "%s: response too complex: an object with more than %d "
                                        "members",
                                        j->op, MAX_JSON_MEMBERS);
            }
        } else if (ch == ':') {
            values++;
        }
        if (values > MAX_JSON_VALUES) {
            return ecsrev_error_set(err, ECSREV_EPARSE,
                                    "%s: response too complex: more than %d JSON values", j->op,
                                    MAX_JSON_VALUES);
        }
    }
    return 0;
}

/* Classify a completion: 0 with o->json, or an error with o->retryable. */
static int classify(struct outcome *o, const struct ecsrev_ecs__job *j,
                    const struct ecsrev_http_completion *comp, struct ecsrev_error *err)
{
    memset(o, 0, sizeof(*o));
    if (comp->rc < 0) {
        o->retryable = comp->retryable;
        o->timeout = comp->timeout;
        o->log_error = ecsrev_xstrdup(comp->err.msg);
        return ecsrev_error_set_cause(err, comp->rc, comp->err.cause, "%s: %s", j->op,
                                      comp->err.msg);
    }
    long status = comp->resp.status;
    if (status < 200 || status > 299) {
        return api_error(o, j, comp, err);
    }
    struct ecsrev_error perr = ECSREV_ERROR_INIT;
    cJSON *doc = NULL;
    const char *body = comp->resp.body.ptr != NULL ? comp->resp.body.ptr : "";
    int rc = check_json_size(body, comp->resp.body.len, j, err);
    if (rc < 0) {
        o->log_error = ecsrev_xstrdup("response too complex");
        return rc;
    }
    if (ecsrev_json__parse(&doc, body, comp->resp.body.len, &perr) < 0 || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        o->retryable = true;
        o->log_error = ecsrev_xstrdup("malformed response");
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s: malformed response (HTTP %ld): %s", j->op,
                                status, perr.msg[0] != '\0' ? perr.msg : "not a JSON object");
    }
    o->json = doc;
    return 0;
}

static int64_t backoff_ms(const struct ecsrev_ecs *c, unsigned attempts)
{
    int64_t max = c->o.backoff_base_ms;
    for (unsigned i = 1; i < attempts && max < c->o.backoff_cap_ms; i++) {
        max *= 2;
    }
    if (max > c->o.backoff_cap_ms) {
        max = c->o.backoff_cap_ms;
    }
    uint64_t r = 0;
    if (ecsrev_random_bytes(&r, sizeof(r), NULL) < 0) {
        r = UINT64_MAX / 2;
    }
    /* full jitter: uniform in [0, max] */
    double f = (double)(r >> 11) / (double)(UINT64_C(1) << 53);
    return (int64_t)(f * (double)max);
}

/* ---- the scheduler ---- */

void ecsrev_ecs__exec_init(struct ecsrev_ecs__exec *x, struct ecsrev_ecs *c,
                           ecsrev_ecs__done_fn done, void *payload)
{
    memset(x, 0, sizeof(*x));
    x->c = c;
    x->done = done;
    x->payload = payload;
}

void ecsrev_ecs__exec_add(struct ecsrev_ecs__exec *x, const char *op, char *body, size_t tag)
{
    if (x->n == x->cap) {
        x->cap = x->cap == 0 ? 16 : x->cap * 2;
        x->jobs = ecsrev_xrealloc(x->jobs, x->cap * sizeof(struct ecsrev_ecs__job *));
    }
    struct ecsrev_ecs__job *j = ecsrev_xcalloc(1, sizeof(*j));
    j->op = op;
    j->body = body;
    j->body_len = strlen(body);
    j->tag = tag;
    j->state = JOB_WAITING;
    x->jobs[x->n++] = j;
}

void ecsrev_ecs__exec_dispose(struct ecsrev_ecs__exec *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->jobs[i]->body);
        free(x->jobs[i]);
    }
    free(x->jobs);
    memset(x, 0, sizeof(*x));
}

char *ecsrev_ecs__print(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s == NULL) {
        abort(); /* only on out-of-memory */
    }
    char *copy = ecsrev_xstrdup(s);
    cJSON_free(s);
    return copy;
}

static int send_job(struct ecsrev_ecs__exec *x, size_t idx, int64_t now, struct ecsrev_error *err)
{
    struct ecsrev_ecs *c = x->c;
    struct ecsrev_ecs__job *j = x->jobs[idx];
    struct ecsrev_buf auth = ECSREV_BUF_INIT;
    int rc = 0;
    if ((rc = ensure_creds(c, now, err)) < 0) {
        return rc;
    }
    char amz_date[17];
    char target[128];
    ecsrev_sigv4_amz_date(amz_date, now);
    (void)snprintf(target, sizeof(target), "%s%s", ECSREV_ECS_TARGET_PREFIX, j->op);
    struct ecsrev_http_header signed_h[] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", target},
    };
    struct ecsrev_sigv4_request sreq = {"POST",   c->host, c->path, NULL,
                                        signed_h, 2,       j->body, j->body_len};
    struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
    s.region = c->region;
    s.service = "ecs";
    s.amz_date = amz_date;
    if ((rc = ecsrev_sigv4_sign(&auth, NULL, NULL, &sreq, &c->creds, &s, err)) < 0) {
        goto done;
    }
    struct ecsrev_http_header h[7] = {
        {"Host", c->host}, {"X-Amz-Date", amz_date},    signed_h[0],
        signed_h[1],       {"Authorization", auth.ptr},
    };
    size_t nh = 5;
    if (c->creds.session_token != NULL) {
        h[nh++] = (struct ecsrev_http_header){"X-Amz-Security-Token", c->creds.session_token};
    }
    struct ecsrev_http_request req = {"POST", c->url, h, nh, j->body, j->body_len};
    if ((rc = c->t->submit(c->t, (uint64_t)idx, &req, err)) < 0) {
        goto done;
    }
    j->state = JOB_IN_FLIGHT;
    j->attempts++;
    j->started_ms = now;
    x->in_flight++;
done:
    ecsrev_buf_dispose_secret(&auth);
    return rc;
}

/* Start waiting jobs that are due, in queue order, up to the concurrency. */
static int start_due(struct ecsrev_ecs__exec *x, int64_t now, struct ecsrev_error *err)
{
    while (x->first_open < x->n && x->jobs[x->first_open]->state == JOB_DONE) {
        x->first_open++;
    }
    for (size_t i = x->first_open; i < x->n && x->in_flight < x->c->o.concurrency; i++) {
        struct ecsrev_ecs__job *j = x->jobs[i];
        if (j->state == JOB_WAITING && j->ready_ms <= now) {
            int rc = send_job(x, i, now, err);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* Earliest start time of a waiting job, or INT64_MAX when none waits. */
static int64_t next_due(const struct ecsrev_ecs__exec *x)
{
    int64_t best = INT64_MAX;
    for (size_t i = x->first_open; i < x->n; i++) {
        if (x->jobs[i]->state == JOB_WAITING && x->jobs[i]->ready_ms < best) {
            best = x->jobs[i]->ready_ms;
        }
    }
    return best;
}

static void log_attempt(const struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j,
                        long status, const char *error, int64_t now, bool retry, int64_t delay)
{
    if (x->c->o.log == NULL) {
        return;
    }
    struct ecsrev_ecs_log ev = {j->op, j->attempts, status, error, now - j->started_ms,
                                retry, delay};
    x->c->o.log(&ev, x->c->o.payload);
}

/* Decide about a failed attempt: schedule a retry (0) or give up (error). */
static int retry_or_fail(struct ecsrev_ecs__exec *x, struct ecsrev_ecs__job *j,
                         const struct outcome *o, long status, int64_t now,
                         struct ecsrev_error *err)
{
    struct ecsrev_ecs *c = x->c;
    int cost = o->timeout ? RETRY_COST_TIMEOUT : RETRY_COST;
    bool can = o->retryable && j->attempts < c->o.max_attempts && c->retry_tokens >= cost;
    if (!can) {
        log_attempt(x, j, status, o->log_error, now, false, 0);
        if (o->retryable && j->attempts > 1) {
            struct ecsrev_error tmp = *err;
            (void)ecsrev_error_set_cause(err, tmp.code, tmp.cause, "%s (after %u attempts)",
                                         tmp.msg, j->attempts);
        }
        return err->code;
    }
    c->retry_tokens -= cost;
    j->retry_cost += cost;
    int64_t delay = backoff_ms(c, j->attempts);
    j->ready_ms = now + delay;
    j->state = JOB_WAITING;
    log_attempt(x, j, status, o->log_error, now, true, delay);
    return 0;
}

static int handle(struct ecsrev_ecs__exec *x, struct ecsrev_http_completion *comp,
                  struct ecsrev_error *err)
{
    if (comp->id >= x->n || x->jobs[comp->id]->state != JOB_IN_FLIGHT) {
        return ecsrev_error_set(err, ECSREV_ENET, "transport returned an unknown request");
    }
    struct ecsrev_ecs *c = x->c;
    struct ecsrev_ecs__job *j = x->jobs[comp->id];
    int64_t now = c->o.now(c->o.payload);
    x->in_flight--;
    struct outcome o;
    struct ecsrev_error aerr = ECSREV_ERROR_INIT;
    int rc = classify(&o, j, comp, &aerr);
    if (rc < 0 && o.expired && !j->creds_renewed) {
        /* Credentials can end before the expiry they stated (revoked, or a
         * clock apart): fetch them again and retry, once per request. */
        j->creds_renewed = true;
        ecsrev_credentials_dispose(&c->creds);
        c->have_creds = false;
        o.retryable = true;
    }
    if (rc < 0) {
        rc = retry_or_fail(x, j, &o, comp->resp.status, now, &aerr);
        if (rc < 0 && err != NULL) {
            *err = aerr;
        }
        free(o.log_error);
        return rc;
    }
    log_attempt(x, j, comp->resp.status, NULL, now, false, 0);
    c->retry_tokens += j->retry_cost > 0 ? j->retry_cost : 1;
    if (c->retry_tokens > RETRY_QUOTA) {
        c->retry_tokens = RETRY_QUOTA;
    }
    j->state = JOB_DONE;
    rc = x->done(x, j, o.json, comp->resp.body.ptr, comp->resp.body.len, err, x->payload);
    cJSON_Delete(o.json);
    free(j->body);
    j->body = NULL;
    return rc;
}

static int wait_one(struct ecsrev_ecs__exec *x, int64_t now, struct ecsrev_error *err)
{
    struct ecsrev_ecs *c = x->c;
    int64_t due = x->in_flight < c->o.concurrency ? next_due(x) : INT64_MAX;
    int64_t timeout = due == INT64_MAX ? -1 : (due > now ? due - now : 0);
    struct ecsrev_http_completion comp;
    bool got = false;
    int rc = c->t->wait(c->t, &comp, timeout, &got, err);
    if (rc < 0 || !got) {
        return rc;
    }
    rc = handle(x, &comp, err);
    ecsrev_http_response_dispose(&comp.resp);
    return rc;
}

int ecsrev_ecs__exec_run(struct ecsrev_ecs__exec *x, struct ecsrev_error *err)
{
    struct ecsrev_ecs *c = x->c;
    int rc = 0;
    for (;;) {
        int64_t now = c->o.now(c->o.payload);
        if ((rc = start_due(x, now, err)) < 0) {
            break;
        }
        if (x->in_flight == 0) {
            int64_t due = next_due(x);
            if (due == INT64_MAX) {
                break; /* everything done */
            }
            c->o.sleep(due > now ? due - now : 0, c->o.payload);
            continue;
        }
        if ((rc = wait_one(x, now, err)) < 0) {
            break;
        }
    }
    if (rc < 0 && x->in_flight > 0) {
        c->t->abort_all(c->t);
        x->in_flight = 0;
    }
    return rc;
}

/* ---- single calls ---- */

struct call_ctx {
    struct ecsrev_buf *out;
};

static int call_done(struct ecsrev_ecs__exec *x, const struct ecsrev_ecs__job *j, const cJSON *resp,
                     const char *raw, size_t raw_len, struct ecsrev_error *err, void *payload)
{
    (void)x;
    (void)j;
    (void)resp;
    struct call_ctx *cc = payload;
    return ecsrev_buf_append(cc->out, raw, raw_len, err);
}

int ecsrev_ecs_call(struct ecsrev_buf *out, struct ecsrev_ecs *c, const char *operation,
                    const char *body, size_t len, struct ecsrev_error *err)
{
    struct call_ctx cc = {out};
    struct ecsrev_ecs__exec x;
    ecsrev_ecs__exec_init(&x, c, call_done, &cc);
    ecsrev_ecs__exec_add(&x, operation, ecsrev_xstrndup(body, len), 0);
    int rc = ecsrev_ecs__exec_run(&x, err);
    ecsrev_ecs__exec_dispose(&x);
    return rc;
}
