/*
 * sts.c - STS AssumeRole and AssumeRoleWithWebIdentity for the credential chain.
 *
 * The request is the AWS Query protocol: POST / with a form body
 * (Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...), signed
 * with SigV4 for service "sts" (AssumeRoleWithWebIdentity is sent unsigned: the
 * token is the proof). The answer is XML; only the few leaf elements credential
 * resolution needs are read (Credentials/AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration; Error/Code, Message), each by exact tag, with the five
 * predefined entities and character references decoded. Anything else in the
 * answer is ignored; a credential value that is missing, nested, or not printable
 * ASCII makes the answer malformed.
 *
 * Secrets (the caller's keys, the web identity token in the body, the answer's
 * keys) are wiped before their memory is freed and never reach a message.
 * Throttling, 5xx answers and network failures are retried up to the profile's
 * max_attempts with a doubling back-off (100 ms, at most 2 s).
 */
#include "sts_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/crypto.h>

#include "awsconfig_priv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define STS_VERSION "2011-06-15"
#define GLOBAL_REGION "us-east-1"
#define GLOBAL_ENDPOINT "https://sts.amazonaws.com"

/* ---- XML ---------------------------------------------------------------------------------- */

/* First occurrence of @p needle in [s, s+len), or NULL. */
static const char *find(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (s[i] == needle[0] && memcmp(s + i, needle, n) == 0) {
            return s + i;
        }
    }
    return NULL;
}

/* Content of the first <name>...</name> in [s, s+len): 1 found, 0 not. */
static int element(const char *s, size_t len, const char *name, const char **v, size_t *vlen)
{
    char open[64];
    char close[64];
    (void)snprintf(open, sizeof(open), "<%s>", name);
    (void)snprintf(close, sizeof(close), "</%s>", name);
    const char *a = find(s, len, open);
    if (a == NULL) {
        return 0;
    }
    a += strlen(open);
    const char *b = find(a, len - (size_t)(a - s), close);
    if (b == NULL) {
        return 0;
    }
    *v = a;
    *vlen = (size_t)(b - a);
    return 1;
}

static int hex_value(char c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* One entity at @p s (after '&', @p len bytes left): its code point, its length. */
static long entity(const char *s, size_t len, size_t *used)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i].name);
        if (len >= n && memcmp(s, named[i].name, n) == 0) {
            *used = n;
            return named[i].c;
        }
    }
    if (len < 3 || s[0] != '#') {
        return -1;
    }
    bool hex = s[1] == 'x';
    long v = 0;
    size_t i = hex ? 2 : 1;
    size_t start = i;
    for (; i < len && i < start + 8 && s[i] != ';'; i++) {
        int d = hex ? hex_value(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0) {
            return -1;
        }
        v = v * (hex ? 16 : 10) + d;
    }
    if (i == start || i >= len || s[i] != ';' || v > 0x10ffff) {
        return -1;
    }
    *used = i + 1;
    return v;
}

/*
 * Decode element text into @p out (NUL-terminated). @p strict: every character must
 * be printable ASCII without spaces (credentials), else -1. Not strict (messages):
 * anything else becomes '?', and a markup character ends nothing: it is kept as '?'.
 */
static int decode(struct ecsrev_buf *out, const char *v, size_t len, bool strict)
{
    for (size_t i = 0; i < len; i++) {
        long c = (unsigned char)v[i];
        if (c == '&') {
            size_t used = 0;
            c = entity(v + i + 1, len - i - 1, &used);
            if (c < 0 && strict) {
                return -1;
            }
            i += c < 0 ? 0 : used;
        } else if (c == '<') {
            c = -1;
            if (strict) {
                return -1;
            }
        }
        bool printable = strict ? (c > 0x20 && c < 0x7f) : (c >= 0x20 && c < 0x7f);
        if (!printable) {
            if (strict) {
                return -1;
            }
            c = '?';
        }
        char ch = (char)c;
        ecsrev_buf_add(out, &ch, 1);
    }
    ecsrev_buf_add(out, "", 1);
    out->len--;
    return 0;
}

/* ---- answers ------------------------------------------------------------------------------ */

static bool throttling(const char *code)
{
    return strcmp(code, "Throttling") == 0 || strcmp(code, "ThrottlingException") == 0 ||
           strcmp(code, "RequestLimitExceeded") == 0 || strcmp(code, "IDPCommunicationError") == 0;
}

static int parse_error(bool *retryable, long status, const char *body, size_t len,
                       struct ecsrev_error *err)
{
    const char *v = NULL;
    size_t vlen = 0;
    struct ecsrev_buf code = ECSREV_BUF_INIT;
    struct ecsrev_buf msg = ECSREV_BUF_INIT;
    if (element(body, len, "Code", &v, &vlen) == 1) {
        (void)decode(&code, v, vlen > 64 ? 64 : vlen, false);
    }
    if (element(body, len, "Message", &v, &vlen) == 1) {
        (void)decode(&msg, v, vlen > 300 ? 300 : vlen, false);
    }
    bool server = status >= 500 && status <= 599;
    *retryable = server || (status != 200 && code.len > 0 && throttling(code.ptr));
    int rc = ecsrev_error_set_cause(
        err, server ? ECSREV_EHTTP : ECSREV_EAUTH, (int)status, "%s%s%s (HTTP %ld)",
        code.len > 0 ? code.ptr : (status == 200 ? "malformed answer" : "error"),
        msg.len > 0 ? ": " : "", msg.len > 0 ? msg.ptr : "", status);
    ecsrev_buf_dispose(&code);
    ecsrev_buf_dispose(&msg);
    return rc;
}

static bool valid_key_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 16 || n > 128) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
            return false;
        }
    }
    return true;
}

int ecsrev_sts__parse(struct ecsrev_credentials *out, bool *retryable, long status,
                      const char *body, size_t len, struct ecsrev_error *err)
{
    bool retry_ignored = false;
    retryable = retryable != NULL ? retryable : &retry_ignored;
    *retryable = false;
    body = body != NULL ? body : "";
    const char *creds = NULL;
    size_t clen = 0;
    if (status != 200 || element(body, len, "Credentials", &creds, &clen) != 1) {
        return parse_error(retryable, status, body, len, err);
    }
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    struct ecsrev_buf vals[4] = {ECSREV_BUF_INIT, ECSREV_BUF_INIT, ECSREV_BUF_INIT,
                                 ECSREV_BUF_INIT};
    int rc = 0;
    int64_t expires = 0;
    for (size_t i = 0; i < 4 && rc == 0; i++) {
        const char *v = NULL;
        size_t vlen = 0;
        if (element(creds, clen, names[i], &v, &vlen) != 1 || vlen == 0 ||
            decode(&vals[i], v, vlen, true) < 0) {
            rc = ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status,
                                        "malformed answer: Credentials/%s is missing or not "
                                        "printable text",
                                        names[i]);
        }
    }
    if (rc == 0 && !valid_key_id(vals[0].ptr)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "malformed answer: AccessKeyId is not a key id");
    }
    if (rc == 0 && ecsrev_creds_parse_time(&expires, vals[3].ptr, NULL) < 0) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "malformed answer: Expiration is not a time");
    }
    if (rc == 0) {
        ecsrev_credentials_dispose(out);
        out->access_key_id = ecsrev_xstrdup(vals[0].ptr);
        out->secret_access_key = ecsrev_xstrdup(vals[1].ptr);
        out->session_token = ecsrev_xstrdup(vals[2].ptr);
        out->expires_ms = expires;
    }
    for (size_t i = 0; i < 4; i++) {
        ecsrev_buf_dispose_secret(&vals[i]);
    }
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Append "&name=<value percent-encoded>" (RFC 3986 unreserved kept, as botocore). */
static int form_add(struct ecsrev_buf *b, const char *name, const char *value,
                    struct ecsrev_error *err)
{
    if (b->len > 0) {
        ecsrev_buf_add(b, "&", 1);
    }
    ecsrev_buf_add(b, name, strlen(name));
    ecsrev_buf_add(b, "=", 1);
    return ecsrev_sigv4_uri_encode(b, value, strlen(value), true, err);
}

static bool chars_in(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n < min || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(extra, c) != NULL)) {
            return false;
        }
    }
    return true;
}

/* Check the settings before anything is sent; the messages name them, never a secret. */
static int check_role(const struct ecsrev_sts__role *r, struct ecsrev_error *err)
{
    char shown[96];
    if (r->role_arn == NULL || strncmp(r->role_arn, "arn:", 4) != 0 ||
        !chars_in(r->role_arn, 20, 2048, ":/+=,.@_-")) {
        ecsrev_awsconfig__printable(shown, sizeof(shown), r->role_arn ? r->role_arn : "");
        return ecsrev_error_set(err, ECSREV_EAUTH, "%s: role_arn '%s' is not a role ARN", r->what,
                                shown);
    }
    if (r->session_name != NULL && !chars_in(r->session_name, 2, 64, "+=,.@_-")) {
        ecsrev_awsconfig__printable(shown, sizeof(shown), r->session_name);
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "%s: role_session_name '%s' is not 2-64 characters of "
                                "[A-Za-z0-9+=,.@_-]",
                                r->what, shown);
    }
    if (r->external_id != NULL && !chars_in(r->external_id, 2, 1224, "+=,.@:/_-")) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "%s: external_id is not 2-1224 characters of "
                                "[A-Za-z0-9+=,.@:/_-]",
                                r->what);
    }
    if (r->duration != NULL) {
        char *end = NULL;
        long d = strtol(r->duration, &end, 10);
        if (end == r->duration || *end != '\0' || d < 900 || d > 43200) {
            ecsrev_awsconfig__printable(shown, sizeof(shown), r->duration);
            return ecsrev_error_set(err, ECSREV_EAUTH,
                                    "%s: duration_seconds '%s' is not 900..43200", r->what, shown);
        }
    }
    return 0;
}

struct sts_call {
    char *endpoint;
    char *host;
    char *path;
    char *url;
    const char *region;
    struct ecsrev_buf body; /* secret: may hold the web identity token */
};

static void call_dispose(struct sts_call *c)
{
    free(c->endpoint);
    free(c->host);
    free(c->path);
    free(c->url);
    ecsrev_buf_dispose_secret(&c->body);
}

static int call_setup(struct sts_call *c, const struct ecsrev_sts__role *r, int64_t now,
                      const struct ecsrev_aws_config *cfg, const struct ecsrev_creds_context *ctx,
                      struct ecsrev_error *err)
{
    int rc = 0;
    c->region = ctx->region != NULL ? ctx->region : GLOBAL_REGION;
    if (ctx->region != NULL) {
        rc = ecsrev_service_endpoint_resolve(&c->endpoint, "sts", NULL, ctx->region, cfg,
                                             ctx->getenv_fn, ctx->env_payload, err);
    } else {
        /* no region: an override still applies, else the global endpoint */
        rc = ecsrev_service_endpoint_resolve(&c->endpoint, "sts", NULL, GLOBAL_REGION, cfg,
                                             ctx->getenv_fn, ctx->env_payload, err);
        if (rc == 0 && strcmp(c->endpoint, "https://sts." GLOBAL_REGION ".amazonaws.com") == 0) {
            free(c->endpoint);
            c->endpoint = ecsrev_xstrdup(GLOBAL_ENDPOINT);
        }
    }
    if (rc < 0 || (rc = ecsrev_endpoint_split(c->endpoint, &c->host, &c->path, &c->url, err)) < 0) {
        return rc;
    }
    char session[32];
    (void)snprintf(session, sizeof(session), "ecsrev-%lld", (long long)(now / 1000));
    const char *fields[][2] = {
        {"Action", r->web_token != NULL ? "AssumeRoleWithWebIdentity" : "AssumeRole"},
        {"Version", STS_VERSION},
        {"RoleArn", r->role_arn},
        {"RoleSessionName", r->session_name != NULL ? r->session_name : session},
        {"ExternalId", r->external_id},
        {"DurationSeconds", r->duration},
        {"WebIdentityToken", r->web_token},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i][1] != NULL &&
            (rc = form_add(&c->body, fields[i][0], fields[i][1], err)) < 0) {
            return rc;
        }
    }
    return 0;
}

/* One attempt: sign (AssumeRole), send, parse. */
static int attempt(struct ecsrev_credentials *out, bool *retryable, struct sts_call *c,
                   const struct ecsrev_credentials *caller, int64_t now,
                   const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    static const char form_type[] = "application/x-www-form-urlencoded; charset=utf-8";
    struct ecsrev_buf auth = ECSREV_BUF_INIT;
    struct ecsrev_buf answer;
    char amz_date[17];
    long status = 0;
    int rc = 0;
    ecsrev_buf_init(&answer, ECSREV_STS_MAX_BODY);
    ecsrev_sigv4_amz_date(amz_date, now);
    struct ecsrev_http_header h[6] = {{"Content-Type", form_type}};
    size_t nh = 1;
    if (caller != NULL) {
        struct ecsrev_sigv4_request sreq = {"POST", c->host, c->path,     NULL,
                                            h,      1,       c->body.ptr, c->body.len};
        struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
        s.region = c->region;
        s.service = "sts";
        s.amz_date = amz_date;
        if ((rc = ecsrev_sigv4_sign(&auth, NULL, NULL, &sreq, caller, &s, err)) < 0) {
            goto done;
        }
        h[nh++] = (struct ecsrev_http_header){"Host", c->host};
        h[nh++] = (struct ecsrev_http_header){"X-Amz-Date", amz_date};
        h[nh++] = (struct ecsrev_http_header){"Authorization", auth.ptr};
        if (caller->session_token != NULL) {
            h[nh++] = (struct ecsrev_http_header){"X-Amz-Security-Token", caller->session_token};
        }
    }
    struct ecsrev_creds_request req = {"POST", c->url, h, nh, c->body.ptr, c->body.len};
    rc = ctx->http_fn(&answer, &status, &req, ctx->http_payload, err);
    if (rc < 0) {
        *retryable = rc == ECSREV_ENET;
        goto done;
    }
    rc = ecsrev_sts__parse(out, retryable, status, answer.ptr, answer.len, err);
done:
    ecsrev_buf_dispose_secret(&auth);
    ecsrev_buf_dispose_secret(&answer);
    return rc;
}

int ecsrev_sts__assume(struct ecsrev_credentials *out, const struct ecsrev_sts__role *role,
                       const struct ecsrev_credentials *caller, const struct ecsrev_aws_config *cfg,
                       const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    const char *action = role->web_token != NULL ? "assume role with web identity" : "assume role";
    struct sts_call c = {NULL, NULL, NULL, NULL, NULL, ECSREV_BUF_INIT};
    int rc = check_role(role, err);
    if (rc < 0) {
        return rc;
    }
    if (ctx->http_fn == NULL || ctx->now_ms == NULL) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "%s: %s needs STS, and no HTTP client or clock "
                                "was given",
                                role->what, action);
    }
    int64_t now = ctx->now_ms(ctx->clock_payload);
    if ((rc = call_setup(&c, role, now, cfg, ctx, err)) < 0) {
        call_dispose(&c);
        return rc;
    }
    int max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : ECSREV_AWS_DEFAULT_MAX_ATTEMPTS;
    int64_t delay = 100;
    for (int i = 1;; i++) {
        bool retryable = false;
        ecsrev_error_clear(err);
        rc = attempt(out, &retryable, &c, caller, now, ctx, err);
        if (rc == 0 || !retryable || i >= max_attempts) {
            break;
        }
        if (ctx->sleep_ms != NULL) {
            ctx->sleep_ms(delay, ctx->clock_payload);
        }
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        now = ctx->now_ms(ctx->clock_payload);
    }
    if (rc < 0) {
        ecsrev_error_prefix(err, "%s: %s %s", role->what, action, role->role_arn);
    } else {
        (void)snprintf(out->source, sizeof(out->source), "%s",
                       role->web_token != NULL ? "web identity" : "role");
    }
    call_dispose(&c);
    return rc;
}
