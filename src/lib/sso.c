/*
 * sso.c - AWS IAM Identity Center (SSO) profiles: role credentials from the token
 * that `aws sso login` cached.
 *
 * A profile names an account and a role (sso_account_id, sso_role_name) and
 * either an `[sso-session NAME]` (sso_session) or, the legacy form, its own
 * sso_start_url and sso_region. The AWS CLI caches the access token of a login
 * in ~/.aws/sso/cache/<sha1 hex of the session name, or of the start URL>.json
 * ({"accessToken": ..., "expiresAt": "2026-12-04T18:00:00Z", ...}); ecsrev reads
 * it and calls
 * GET https://portal.sso.<sso_region>.amazonaws.com/federation/credentials
 * ?role_name=R&account_id=A with the token in `x-amz-sso_bearer_token`, whose
 * JSON answer holds roleCredentials {accessKeyId, secretAccessKey, sessionToken,
 * expiration (ms since the epoch)}. The portal endpoint can be replaced with
 * AWS_ENDPOINT_URL_SSO (or AWS_ENDPOINT_URL / the profile's endpoint_url).
 *
 * Like the AWS CLI, a token of an sso-session login that expires within 15
 * minutes (or has expired) is refreshed first when the cache holds a client
 * registration that is still valid and a refresh token: POST
 * https://oidc.<sso_region>.amazonaws.com/token (AWS_ENDPOINT_URL_SSO_OIDC), JSON
 * {clientId, clientSecret, grantType: "refresh_token", refreshToken}, answered
 * with {accessToken, expiresIn, refreshToken}; the cache file is then replaced
 * (a new file with mode 0600 renamed over it), keeping its other members. A
 * refresh that fails leaves the cache alone: the old token is used while it is
 * valid, else the message says to run `aws sso login`.
 *
 * Secrets (the cached file, the token, the answer) are wiped before their memory
 * is freed and never reach a message. Throttling (429), 5xx answers and network
 * failures are retried up to the profile's max_attempts.
 */
#include "sso_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/crypto.h>

#include "awsconfig_priv.h"
#include "json_priv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define CACHE_MAX ((size_t)64 * 1024)
#define ANSWER_MAX ((size_t)64 * 1024)
#define REFRESH_WINDOW_MS ((int64_t)15 * 60 * 1000) /* as botocore */

static bool nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

bool ecsrev_sso__configured(const struct ecsrev_aws_profile *p)
{
    /* as botocore's SSO provider: the account or the role make it one */
    return nonempty(p->sso_account_id) || nonempty(p->sso_role_name);
}

static bool all_of(const char *s, size_t min, size_t max, const char *set, bool alnum)
{
    size_t n = strlen(s);
    if (n < min || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok =
            strchr(set, c) != NULL ||
            (alnum && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')));
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Every setting an SSO profile needs, checked before anything is read or sent. */
static int check_settings(const struct ecsrev_aws_profile *p, struct ecsrev_error *err)
{
    const char *missing[4];
    size_t n = 0;
    if (!nonempty(p->sso_start_url)) {
        missing[n++] = "sso_start_url";
    }
    if (!nonempty(p->sso_region)) {
        missing[n++] = "sso_region";
    }
    if (!nonempty(p->sso_account_id)) {
        missing[n++] = "sso_account_id";
    }
    if (!nonempty(p->sso_role_name)) {
        missing[n++] = "sso_role_name";
    }
    if (n > 0) {
        return ecsrev_error_set(
            err, ECSREV_EAUTH, "profile '%s': SSO needs %s%s%s%s%s%s%s%s", p->name, missing[0],
            n > 1 ? ", " : "", n > 1 ? missing[1] : "", n > 2 ? ", " : "", n > 2 ? missing[2] : "",
            n > 3 ? ", " : "", n > 3 ? missing[3] : "",
            nonempty(p->sso_session) ? " (in the profile or its sso-session)" : "");
    }
    if (!all_of(p->sso_account_id, 12, 12, "0123456789", false)) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': sso_account_id is not a 12-digit account id",
                                p->name);
    }
    if (!all_of(p->sso_role_name, 1, 64, "+=,.@_-", true)) {
        return ecsrev_error_set(err, ECSREV_EAUTH, "profile '%s': sso_role_name is not a role name",
                                p->name);
    }
    if (!all_of(p->sso_region, 1, 63, "abcdefghijklmnopqrstuvwxyz0123456789-", false)) {
        return ecsrev_error_set(err, ECSREV_EAUTH, "profile '%s': sso_region is not a region",
                                p->name);
    }
    return 0;
}

/* ~/.aws/sso/cache/<sha1 hex>.json, as the AWS CLI names it. */
static int cache_path(char **out, const struct ecsrev_aws_profile *p,
                      const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    const char *home = ctx->getenv_fn != NULL ? ctx->getenv_fn("HOME", ctx->env_payload) : NULL;
    if (home == NULL || home[0] == '\0') {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': HOME is not set, so the SSO token cache cannot be "
                                "found",
                                p->name);
    }
    const char *key = nonempty(p->sso_session) ? p->sso_session : p->sso_start_url;
    uint8_t digest[ECSREV_SHA1_LEN];
    char hex[2 * ECSREV_SHA1_LEN + 1];
    ecsrev_sha1(digest, key, strlen(key));
    ecsrev_hex_encode(hex, digest, sizeof(digest));
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    int rc = ecsrev_buf_printf(&b, err, "%s/.aws/sso/cache/%s.json", home, hex);
    if (rc < 0) {
        ecsrev_buf_dispose(&b);
        return rc;
    }
    *out = ecsrev_buf_detach(&b);
    return 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) && it->valuestring[0] != '\0' ? it->valuestring : NULL;
}

static bool header_safe(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) {
            return false;
        }
    }
    return true;
}

/* One request, retried after a network failure, 429 or 5xx (up to max_attempts). */
static int send_retried(struct ecsrev_buf *answer, long *status,
                        const struct ecsrev_creds_request *req, const struct ecsrev_aws_config *cfg,
                        const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    int max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : ECSREV_AWS_DEFAULT_MAX_ATTEMPTS;
    int64_t delay = 100;
    for (int i = 1;; i++) {
        ecsrev_error_clear(err);
        ecsrev_buf_clear(answer);
        *status = 0;
        int rc = ctx->http_fn(answer, status, req, ctx->http_payload, err);
        bool retry = rc == ECSREV_ENET ||
                     (rc == 0 && (*status == 429 || (*status >= 500 && *status <= 599)));
        if (!retry || i >= max_attempts) {
            return rc;
        }
        if (ctx->sleep_ms != NULL) {
            ctx->sleep_ms(delay, ctx->clock_payload);
        }
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
    }
}

/* Expiry text of the cache ("...Z", or "...UTC" as older AWS CLIs wrote it) in ms. */
static int parse_expiry(int64_t *out, const char *text)
{
    char when[64];
    size_t n = strlen(text);
    if (n >= sizeof(when)) {
        return -1;
    }
    if (n >= 3 && strcmp(text + n - 3, "UTC") == 0) {
        (void)snprintf(when, sizeof(when), "%.*sZ", (int)(n - 3), text);
    } else {
        (void)snprintf(when, sizeof(when), "%s", text);
    }
    return ecsrev_creds_parse_time(out, when, NULL) < 0 ? -1 : 0;
}

/*
 * Print @p doc (it holds secrets) into a buffer of our own, so no partial copy is
 * freed unwiped (cJSON's own printer grows its buffer by reallocating). Free the
 * result with ecsrev_free_secret().
 */
static char *print_secret(const cJSON *doc)
{
    for (size_t size = 4096;; size *= 2) {
        char *text = ecsrev_xmalloc(size);
        if (size <= INT32_MAX &&
            cJSON_PrintPreallocated((cJSON *)(uintptr_t)doc, text, (int)size, 0)) {
            return text;
        }
        ecsrev_cleanse(text, size);
        free(text);
        if (size > CACHE_MAX * 16) {
            abort(); /* a document of a few KiB cannot need this: a cJSON failure */
        }
    }
}

/* Replace the cache file with @p doc: a new 0600 file in the same folder, renamed over it. */
static int write_cache(const char *path, const cJSON *doc, struct ecsrev_error *err)
{
    char *text = print_secret(doc);
    struct ecsrev_buf tmp = ECSREV_BUF_INIT;
    int fd = -1;
    int rc = 0;
    if ((rc = ecsrev_buf_printf(&tmp, err, "%s.ecsrev-XXXXXX", path)) < 0) {
        goto done;
    }
    fd = mkstemp(tmp.ptr); /* mode 0600 */
    if (fd < 0) {
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot write the refreshed token");
        goto done;
    }
    size_t len = strlen(text);
    bool written = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && written) {
        written = false;
        e = errno;
    }
    if (!written) {
        (void)unlink(tmp.ptr);
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, e, "cannot write the refreshed token");
        goto done;
    }
    if (rename(tmp.ptr, path) != 0) {
        e = errno;
        (void)unlink(tmp.ptr);
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, e, "cannot replace the token cache");
    }
done:
    ecsrev_free_secret(text);
    ecsrev_buf_dispose(&tmp);
    return rc;
}

/* Replace (or add) a string member of @p obj. */
static void set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(obj, key);
    if (old != NULL) {
        ecsrev_json__wipe(old);
        cJSON_Delete(old);
    }
    if (cJSON_AddStringToObject(obj, key, value) == NULL) {
        abort(); /* only on out-of-memory */
    }
}

/* Can the cached login of @p doc be refreshed at @p now? */
static bool refreshable(const struct ecsrev_aws_profile *p, const cJSON *doc, int64_t now)
{
    int64_t reg_expires = 0;
    const char *reg = json_str(doc, "registrationExpiresAt");
    return nonempty(p->sso_session) && json_str(doc, "clientId") != NULL &&
           json_str(doc, "clientSecret") != NULL && json_str(doc, "refreshToken") != NULL &&
           (reg == NULL || (parse_expiry(&reg_expires, reg) == 0 && reg_expires > now));
}

/*
 * Refresh the login in @p doc (SSO-OIDC CreateToken with the refresh token) and
 * write it to @p path (best effort). @p doc is updated only on success, which
 * frees its old accessToken, expiresAt and refreshToken strings.
 */
static int refresh_token(cJSON *doc, const char *path, const struct ecsrev_aws_profile *p,
                         const struct ecsrev_aws_config *cfg,
                         const struct ecsrev_creds_context *ctx, int64_t now,
                         struct ecsrev_error *err)
{
    char *endpoint = NULL;
    char *body = NULL;
    cJSON *answer_doc = NULL;
    struct ecsrev_buf url = ECSREV_BUF_INIT;
    struct ecsrev_buf answer;
    long status = 0;
    ecsrev_buf_init(&answer, ANSWER_MAX);
    cJSON *req_doc = cJSON_CreateObject();
    if (req_doc == NULL ||
        cJSON_AddStringToObject(req_doc, "clientId", json_str(doc, "clientId")) == NULL ||
        cJSON_AddStringToObject(req_doc, "clientSecret", json_str(doc, "clientSecret")) == NULL ||
        cJSON_AddStringToObject(req_doc, "grantType", "refresh_token") == NULL ||
        cJSON_AddStringToObject(req_doc, "refreshToken", json_str(doc, "refreshToken")) == NULL) {
        abort(); /* only on out-of-memory */
    }
    body = print_secret(req_doc);
    int rc = ecsrev_service_endpoint_resolve(&endpoint, "sso-oidc", NULL, p->sso_region, cfg,
                                             ctx->getenv_fn, ctx->env_payload, err);
    if (rc < 0 || (rc = ecsrev_buf_printf(&url, err, "%s/token", endpoint)) < 0) {
        goto done;
    }
    struct ecsrev_http_header h = {"Content-Type", "application/json"};
    struct ecsrev_creds_request req = {"POST", url.ptr, &h, 1, body, strlen(body)};
    if ((rc = send_retried(&answer, &status, &req, cfg, ctx, err)) < 0) {
        goto done;
    }
    const char *token = NULL;
    const cJSON *expires_in = NULL;
    bool parsed = ecsrev_json__parse(&answer_doc, answer.ptr != NULL ? answer.ptr : "", answer.len,
                                     NULL) == 0 &&
                  cJSON_IsObject(answer_doc);
    if (status != 200) {
        char msg[160] = "";
        const char *code = parsed ? json_str(answer_doc, "error") : NULL;
        if (code != NULL) {
            ecsrev_awsconfig__printable(msg, sizeof(msg), code);
        }
        rc = ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status, "HTTP %ld%s%s", status,
                                    msg[0] != '\0' ? ": " : "", msg);
        goto done;
    }
    if (!parsed || (token = json_str(answer_doc, "accessToken")) == NULL || !header_safe(token) ||
        !cJSON_IsNumber(expires_in = cJSON_GetObjectItemCaseSensitive(answer_doc, "expiresIn")) ||
        !(expires_in->valuedouble >= 1 && expires_in->valuedouble <= 366 * 86400.0)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "malformed answer: no accessToken and expiresIn");
        goto done;
    }
    char when[32];
    int64_t at = now + (int64_t)expires_in->valuedouble * 1000;
    ecsrev_time_format(when, at - at % 1000);
    when[19] = 'Z'; /* "YYYY-MM-DDTHH:MM:SSZ", as the AWS CLI writes it */
    when[20] = '\0';
    set_string(doc, "accessToken", token);
    set_string(doc, "expiresAt", when);
    const char *next_refresh = json_str(answer_doc, "refreshToken");
    if (next_refresh != NULL) {
        set_string(doc, "refreshToken", next_refresh);
    }
    /* The new token is good for this run even if the cache cannot be replaced (the next
     * run then refreshes again); only the refresh itself decides the result. */
    struct ecsrev_error werr = ECSREV_ERROR_INIT;
    (void)write_cache(path, doc, &werr);
    rc = 0;
done:
    if (answer_doc != NULL) {
        ecsrev_json__wipe(answer_doc);
        cJSON_Delete(answer_doc);
    }
    ecsrev_json__wipe(req_doc);
    cJSON_Delete(req_doc);
    ecsrev_free_secret(body);
    free(endpoint);
    ecsrev_buf_dispose(&url);
    ecsrev_buf_dispose_secret(&answer);
    return rc;
}

/* The cached access token (secret) of the profile's login, if it has not expired. */
static int cached_token(char **out, const struct ecsrev_aws_profile *p,
                        const struct ecsrev_aws_config *cfg, const struct ecsrev_creds_context *ctx,
                        int64_t now, struct ecsrev_error *err)
{
    char *path = NULL;
    cJSON *doc = NULL;
    struct ecsrev_buf data;
    const char *login = nonempty(p->sso_session) ? "sso-session" : "sso_start_url";
    ecsrev_buf_init(&data, CACHE_MAX);
    int rc = cache_path(&path, p, ctx, err);
    if (rc < 0) {
        goto done;
    }
    rc = ecsrev_awsconfig__read_file(&data, path, err);
    if (rc == ECSREV_ENOTFOUND) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "profile '%s': no SSO login cached for its %s (run `aws sso login "
                              "--profile %s`)",
                              p->name, login, p->name);
        goto done;
    }
    if (rc < 0) {
        ecsrev_error_prefix(err, "profile '%s': SSO token cache", p->name);
        if (err != NULL) {
            err->code = ECSREV_EAUTH; /* the code returned, the cause kept */
        }
        rc = ECSREV_EAUTH;
        goto done;
    }
    const char *token = NULL;
    const char *expires = NULL;
    char shown_path[256]; /* HOME may hold anything */
    ecsrev_awsconfig__printable(shown_path, sizeof(shown_path), path);
    if (ecsrev_json__parse(&doc, data.ptr, data.len, NULL) < 0 || !cJSON_IsObject(doc) ||
        (token = json_str(doc, "accessToken")) == NULL ||
        (expires = json_str(doc, "expiresAt")) == NULL || !header_safe(token)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "profile '%s': the SSO token cache %s is not a token of `aws sso "
                              "login` (run it again)",
                              p->name, shown_path);
        goto done;
    }
    int64_t expires_ms = 0;
    if (parse_expiry(&expires_ms, expires) < 0) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "profile '%s': the SSO token cache %s has no valid expiresAt",
                              p->name, shown_path);
        goto done;
    }
    char refresh_error[200] = "";
    if (expires_ms - REFRESH_WINDOW_MS <= now && refreshable(p, doc, now)) {
        struct ecsrev_error rerr = ECSREV_ERROR_INIT;
        if (refresh_token(doc, path, p, cfg, ctx, now, &rerr) == 0) {
            /* the old strings are gone: read the new ones */
            token = json_str(doc, "accessToken");
            expires = json_str(doc, "expiresAt");
            if (token == NULL || expires == NULL || parse_expiry(&expires_ms, expires) < 0) {
                abort(); /* refresh_token wrote both */
            }
        } else {
            (void)snprintf(refresh_error, sizeof(refresh_error),
                           " and could not be refreshed (%.160s)", rerr.msg);
        }
    }
    if (expires_ms <= now) {
        char shown[64];
        ecsrev_time_format(shown, expires_ms);
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "profile '%s': the SSO login expired at %s%s (run `aws sso login "
                              "--profile %s`)",
                              p->name, shown, refresh_error, p->name);
        goto done;
    }
    *out = ecsrev_xstrdup(token);
    rc = 0;
done:
    if (doc != NULL) {
        ecsrev_json__wipe(doc);
        cJSON_Delete(doc);
    }
    ecsrev_buf_dispose_secret(&data);
    free(path);
    return rc;
}

/* The portal's answer: roleCredentials, or an error with its message. */
static int parse_answer(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                        long status, const char *body, size_t len, struct ecsrev_error *err)
{
    cJSON *doc = NULL;
    int rc = 0;
    bool server = status == 429 || (status >= 500 && status <= 599);
    bool parsed =
        ecsrev_json__parse(&doc, body != NULL ? body : "", len, NULL) == 0 && cJSON_IsObject(doc);
    if (status != 200) {
        char msg[160] = "";
        const char *m = parsed ? json_str(doc, "message") : NULL;
        m = m != NULL ? m : (parsed ? json_str(doc, "Message") : NULL);
        if (m != NULL) {
            ecsrev_awsconfig__printable(msg, sizeof(msg), m);
        }
        const char *hint = status == 401   ? " (run `aws sso login` again)"
                           : status == 403 ? " (the login has no access to this account and role)"
                                           : "";
        rc =
            ecsrev_error_set_cause(err, server ? ECSREV_EHTTP : ECSREV_EAUTH, (int)status,
                                   "HTTP %ld%s%s%s", status, msg[0] != '\0' ? ": " : "", msg, hint);
        goto done;
    }
    const cJSON *rcred = parsed ? cJSON_GetObjectItemCaseSensitive(doc, "roleCredentials") : NULL;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rcred, "expiration");
    const char *akid = json_str(rcred, "accessKeyId");
    const char *secret = json_str(rcred, "secretAccessKey");
    const char *token = json_str(rcred, "sessionToken");
    if (akid == NULL || secret == NULL || token == NULL || !cJSON_IsNumber(exp) ||
        !(exp->valuedouble > 0 && exp->valuedouble < 1e15) || !header_safe(akid) ||
        !header_safe(token)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "malformed answer: no roleCredentials with accessKeyId, "
                              "secretAccessKey, sessionToken and expiration");
        goto done;
    }
    ecsrev_credentials_dispose(out);
    out->access_key_id = ecsrev_xstrdup(akid);
    out->secret_access_key = ecsrev_xstrdup(secret);
    out->session_token = ecsrev_xstrdup(token);
    out->expires_ms = (int64_t)exp->valuedouble;
    (void)snprintf(out->source, sizeof(out->source), "sso (profile %.40s)", p->name);
done:
    if (doc != NULL) {
        ecsrev_json__wipe(doc);
        cJSON_Delete(doc);
    }
    return rc;
}

int ecsrev_sso__credentials(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                            const struct ecsrev_aws_config *cfg,
                            const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    char *token = NULL;
    char *endpoint = NULL;
    struct ecsrev_buf url = ECSREV_BUF_INIT;
    struct ecsrev_buf answer;
    ecsrev_buf_init(&answer, ANSWER_MAX);
    int rc = check_settings(p, err);
    if (rc < 0) {
        goto done;
    }
    if (ctx->http_fn == NULL || ctx->now_ms == NULL) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH,
                              "profile '%s': SSO needs the portal, and no HTTP client or clock "
                              "was given",
                              p->name);
        goto done;
    }
    if ((rc = cached_token(&token, p, cfg, ctx, ctx->now_ms(ctx->clock_payload), err)) < 0 ||
        (rc = ecsrev_service_endpoint_resolve(&endpoint, "sso", NULL, p->sso_region, cfg,
                                              ctx->getenv_fn, ctx->env_payload, err)) < 0 ||
        (rc = ecsrev_buf_printf(&url, err, "%s/federation/credentials?role_name=", endpoint)) < 0 ||
        (rc = ecsrev_sigv4_uri_encode(&url, p->sso_role_name, strlen(p->sso_role_name), true,
                                      err)) < 0 ||
        (rc = ecsrev_buf_printf(&url, err, "&account_id=%s", p->sso_account_id)) < 0) {
        goto done;
    }
    struct ecsrev_http_header h = {"x-amz-sso_bearer_token", token};
    struct ecsrev_creds_request req = {"GET", url.ptr, &h, 1, NULL, 0};
    long status = 0;
    if ((rc = send_retried(&answer, &status, &req, cfg, ctx, err)) == 0) {
        rc = parse_answer(out, p, status, answer.ptr, answer.len, err);
    }
    if (rc < 0) {
        ecsrev_error_prefix(err, "profile '%s': SSO role %s in account %s", p->name,
                            p->sso_role_name, p->sso_account_id);
    }
done:
    ecsrev_free_secret(token);
    free(endpoint);
    ecsrev_buf_dispose(&url);
    ecsrev_buf_dispose_secret(&answer);
    return rc;
}
