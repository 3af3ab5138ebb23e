/*
 * creds.c - the AWS credential provider chain: environment, role profiles (STS
 * AssumeRole along source_profile / credential_source), web identity (STS
 * AssumeRoleWithWebIdentity), SSO (sso.c), profile (static keys,
 * credential_process), container credentials, IMDSv2.
 *
 * Order and rules follow botocore: --profile disables the environment source; a
 * configured source that is broken is an error naming it (no silent fall-through);
 * only "not configured" or "IMDS unreachable" moves on to the next source.
 * Network access goes through the caller's ecsrev_creds_http_fn; environment through
 * ecsrev_getenv_fn. credential_process runs `/bin/sh -c <command>` with posix_spawn,
 * stdin from /dev/null, stdout captured (at most 64 KiB), stderr inherited; its
 * output is never copied into an error message.
 *
 * Secrets (keys, tokens, process output, HTTP bodies, the IMDS session token) are
 * wiped with ecsrev_cleanse before their memory is freed. Limits: 64 KiB for
 * every captured body and 16 KiB for the container authorization token file.
 */
#include <ecsrev/creds.h>

#include <ecsrev/canon.h>

#include <ecsrev/crypto.h>

#include "awsconfig_priv.h"
#include "sso_priv.h"
#include "sts_priv.h"
#include "json_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banned.h"

/* POSIX names this variable; credential_process children inherit it. */
extern char **environ; /* NOLINT(readability-identifier-naming) */

#define BODY_MAX ((size_t)64 * 1024)
#define TOKEN_FILE_MAX ((size_t)16 * 1024)
#define WEB_TOKEN_MAX ((size_t)64 * 1024)
#define ECS_CONTAINER_HOST "http://169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"

/* Env value or NULL when unset or empty. */
static const char *env(ecsrev_getenv_fn getenv_fn, void *payload, const char *name)
{
    const char *v = getenv_fn != NULL ? getenv_fn(name, payload) : NULL;
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

static char *secret_dup(const char *s)
{
    return s != NULL ? ecsrev_xstrdup(s) : NULL;
}

static void set_creds(struct ecsrev_credentials *out, const char *akid, const char *secret,
                      const char *token, int64_t expires_ms, const char *source)
{
    ecsrev_credentials_dispose(out);
    out->access_key_id = secret_dup(akid);
    out->secret_access_key = secret_dup(secret);
    out->session_token = (token != NULL && token[0] != '\0') ? secret_dup(token) : NULL;
    out->expires_ms = expires_ms;
    (void)snprintf(out->source, sizeof(out->source), "%s", source);
}

/* ---- time -------------------------------------------------------------------------------- */

int ecsrev_creds_parse_time(int64_t *out, const char *s, struct ecsrev_error *err)
{
    /* The one ISO 8601 parser (canon); an expiry with no zone is rejected there. */
    if (s == NULL || ecsrev_time_parse(out, s, NULL) < 0) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "invalid timestamp");
    }
    return 0;
}

/* ---- JSON credential documents ---------------------------------------------------------- */

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/*
 * Parse a credential document: AccessKeyId, SecretAccessKey, @p token_key and
 * optional Expiration. @p what names the source in errors; the document's content
 * never appears in them.
 */
static int creds_from_json(struct ecsrev_credentials *out, const char *data, size_t len,
                           const char *token_key, bool process, const char *what,
                           const char *source, struct ecsrev_error *err)
{
    cJSON *doc = NULL;
    int64_t expires = ECSREV_CREDS_NO_EXPIRY;
    int rc = ecsrev_json__parse(&doc, data, len, NULL);
    if (rc < 0 || !cJSON_IsObject(doc)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "%s: output is not a JSON object", what);
        goto done;
    }
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "Version");
    if (process && !(cJSON_IsNumber(version) && version->valuedouble == 1.0)) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "%s: unsupported or missing Version (want 1)",
                              what);
        goto done;
    }
    const char *code = json_string(doc, "Code");
    if (code != NULL && strcmp(code, "Success") != 0) {
        char shown[72];
        ecsrev_awsconfig__printable(shown, sizeof(shown), code);
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "%s: Code is '%s', not 'Success'", what, shown);
        goto done;
    }
    const char *akid = json_string(doc, "AccessKeyId");
    const char *secret = json_string(doc, "SecretAccessKey");
    if (akid == NULL || akid[0] == '\0' || secret == NULL || secret[0] == '\0') {
        rc =
            ecsrev_error_set(err, ECSREV_EAUTH, "%s: missing AccessKeyId or SecretAccessKey", what);
        goto done;
    }
    const char *expiration = json_string(doc, "Expiration");
    if (expiration != NULL && ecsrev_creds_parse_time(&expires, expiration, NULL) < 0) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "%s: invalid Expiration", what);
        goto done;
    }
    set_creds(out, akid, secret, json_string(doc, token_key), expires, source);
    rc = 0;
done:
    if (doc != NULL) {
        ecsrev_json__wipe(doc);
        cJSON_Delete(doc);
    }
    return rc;
}

/* ---- environment and profile --------------------------------------------------------- */

/* 1 = found, 0 = not configured, < 0 = error. */
static int from_env(struct ecsrev_credentials *out, ecsrev_getenv_fn getenv_fn, void *payload,
                    struct ecsrev_error *err)
{
    const char *akid = env(getenv_fn, payload, "AWS_ACCESS_KEY_ID");
    const char *secret = env(getenv_fn, payload, "AWS_SECRET_ACCESS_KEY");
    if (akid == NULL && secret == NULL) {
        return 0;
    }
    if (akid == NULL) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID "
                                "is not");
    }
    if (secret == NULL) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
                                "is not");
    }
    set_creds(out, akid, secret, env(getenv_fn, payload, "AWS_SESSION_TOKEN"),
              ECSREV_CREDS_NO_EXPIRY, "environment");
    return 1;
}

static bool nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int from_profile_keys(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                             struct ecsrev_error *err)
{
    bool has_key = nonempty(p->access_key_id);
    bool has_secret = nonempty(p->secret_access_key);
    if (!has_key && !has_secret) {
        return 0;
    }
    if (!has_secret) {
        return ecsrev_error_set(err, ECSREV_EAUTH, "profile '%s': missing aws_secret_access_key",
                                p->name);
    }
    if (!has_key) {
        return ecsrev_error_set(err, ECSREV_EAUTH, "profile '%s': missing aws_access_key_id",
                                p->name);
    }
    char source[64];
    (void)snprintf(source, sizeof(source), "profile %.48s", p->name);
    set_creds(out, p->access_key_id, p->secret_access_key, p->session_token, ECSREV_CREDS_NO_EXPIRY,
              source);
    return 1;
}

/* An SSO profile (sso.c); 0 = not one. */
static int from_sso(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                    const struct ecsrev_aws_config *cfg, const struct ecsrev_creds_context *ctx,
                    struct ecsrev_error *err)
{
    if (!ecsrev_sso__configured(p)) {
        return 0;
    }
    int rc = ecsrev_sso__credentials(out, p, cfg, ctx, err);
    return rc < 0 ? rc : 1;
}

/* ---- credential_process ------------------------------------------------------------------- */

/* Read @p fd to EOF into @p out (capped). */
static int read_all(struct ecsrev_buf *out, int fd, const char *what, struct ecsrev_error *err)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: read error", what);
        }
        if (n == 0) {
            break;
        }
        if (ecsrev_buf_append(out, chunk, (size_t)n, NULL) < 0) {
            ecsrev_cleanse(chunk, sizeof(chunk));
            return ecsrev_error_set(err, ECSREV_EAUTH, "%s: output larger than %zu bytes", what,
                                    out->max);
        }
    }
    ecsrev_cleanse(chunk, sizeof(chunk));
    if (out->ptr == NULL) {
        return ecsrev_buf_append(out, "", 0, err);
    }
    return 0;
}

static int wait_child(pid_t pid, const char *what, struct ecsrev_error *err)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: waitpid failed", what);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFEXITED(status)) {
        return ecsrev_error_set_cause(err, ECSREV_EAUTH, WEXITSTATUS(status),
                                      "%s exited with status %d", what, WEXITSTATUS(status));
    }
    return ecsrev_error_set(err, ECSREV_EAUTH, "%s was killed by signal %d", what,
                            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Run `/bin/sh -c cmd`, capturing stdout into @p out. */
static int run_process(struct ecsrev_buf *out, const char *cmd, const char *what,
                       struct ecsrev_error *err)
{
    int fds[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    char sh[] = "sh";
    char dash_c[] = "-c";
    char *cmd_copy = ecsrev_xstrdup(cmd);
    char *argv[] = {sh, dash_c, cmd_copy, NULL};
    pid_t pid = -1;
    int rc = 0;
    if (pipe(fds) < 0) {
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: pipe failed", what);
        free(cmd_copy);
        return rc;
    }
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    (void)close(fds[1]);
    if (e != 0) {
        rc = ecsrev_error_set_cause(err, ECSREV_EAUTH, e, "%s: cannot run /bin/sh (errno %d)", what,
                                    e);
        goto done;
    }
    rc = read_all(out, fds[0], what, err);
    (void)close(fds[0]);
    fds[0] = -1;
    int wrc = wait_child(pid, what, rc < 0 ? NULL : err);
    if (rc == 0) {
        rc = wrc;
    }
done:
    if (fds[0] >= 0) {
        (void)close(fds[0]);
    }
    ecsrev_free_secret(cmd_copy);
    return rc;
}

static int from_process(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                        struct ecsrev_error *err)
{
    if (!nonempty(p->credential_process)) {
        return 0;
    }
    char what[200];
    char source[64];
    struct ecsrev_buf body;
    ecsrev_buf_init(&body, BODY_MAX);
    (void)snprintf(what, sizeof(what), "credential_process for profile '%.128s'", p->name);
    (void)snprintf(source, sizeof(source), "process (profile %.40s)", p->name);
    int rc = run_process(&body, p->credential_process, what, err);
    if (rc == 0) {
        rc = creds_from_json(out, body.ptr, body.len, "SessionToken", true, what, source, err);
    }
    ecsrev_buf_dispose_secret(&body);
    return rc < 0 ? rc : 1;
}

/* ---- container credentials --------------------------------------------------------------- */

static bool valid_url_text(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f || c == '\\') {
            return false;
        }
    }
    return true;
}

/* Host part of an http(s) URL after the scheme ("host:port" or "[v6]:port" -> host). */
static size_t url_host(const char *url, const char **host)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? p + 3 : url;
    *host = p;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        return close != NULL ? (size_t)(close - p + 1) : 0;
    }
    return strcspn(p, ":/?#");
}

static bool host_is(const char *host, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(host, want, len) == 0;
}

/* http:// is allowed only to loopback and the ECS / EKS link-local credential hosts. */
static bool http_host_allowed(const char *host, size_t len)
{
    if (host_is(host, len, "localhost") || host_is(host, len, "[::1]") ||
        host_is(host, len, "169.254.170.2") || host_is(host, len, "169.254.170.23") ||
        host_is(host, len, "[fd00:ec2::23]")) {
        return true;
    }
    if (len < 4 || memcmp(host, "127.", 4) != 0) {
        return false;
    }
    for (size_t i = 4; i < len; i++) {
        if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.')) {
            return false;
        }
    }
    return true;
}

/* Build the container credentials URL; 0 = not configured. */
static int container_url(char **out, ecsrev_getenv_fn getenv_fn, void *payload,
                         struct ecsrev_error *err)
{
    const char *rel = env(getenv_fn, payload, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env(getenv_fn, payload, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    if (rel != NULL) {
        if (rel[0] != '/' || !valid_url_text(rel) || strlen(rel) > 2048) {
            return ecsrev_error_set(err, ECSREV_EAUTH,
                                    "container credentials: invalid "
                                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        }
        if (ecsrev_buf_printf(&b, err, "%s%s", ECS_CONTAINER_HOST, rel) < 0) {
            ecsrev_buf_dispose(&b);
            return ECSREV_EAUTH;
        }
        *out = ecsrev_buf_detach(&b);
        return 1;
    }
    if (full == NULL) {
        return 0;
    }
    bool https = strncmp(full, "https://", 8) == 0;
    const char *host;
    size_t host_len = url_host(full, &host);
    if (!valid_url_text(full) || strlen(full) > 2048 ||
        (!https && strncmp(full, "http://", 7) != 0) || host_len == 0 ||
        memchr(host, '@', strcspn(host, "/")) != NULL) {
        return ecsrev_error_set(
            err, ECSREV_EAUTH, "container credentials: invalid AWS_CONTAINER_CREDENTIALS_FULL_URI");
    }
    if (!https && !http_host_allowed(host, host_len)) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "container credentials: host '%.*s' in "
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI is not allowed over http "
                                "(use https or a loopback address)",
                                (int)(host_len > 200 ? 200 : host_len), host);
    }
    *out = ecsrev_xstrdup(full);
    return 1;
}

static bool valid_header_secret(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

/* Authorization value for the container endpoint, or NULL when none is configured. */
static int container_token(char **out, ecsrev_getenv_fn getenv_fn, void *payload,
                           struct ecsrev_error *err)
{
    const char *file = env(getenv_fn, payload, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = env(getenv_fn, payload, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    *out = NULL;
    if (file != NULL) {
        struct ecsrev_buf b;
        ecsrev_buf_init(&b, TOKEN_FILE_MAX);
        int rc = ecsrev_awsconfig__read_file(&b, file, err);
        if (rc < 0) {
            ecsrev_buf_dispose_secret(&b);
            ecsrev_error_prefix(err,
                                "container credentials: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            return rc == ECSREV_ENOTFOUND ? ECSREV_EAUTH : rc;
        }
        while (b.len > 0 &&
               (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' || b.ptr[b.len - 1] == ' ')) {
            b.ptr[--b.len] = '\0';
        }
        *out = ecsrev_buf_detach(&b);
    } else if (tok != NULL) {
        *out = ecsrev_xstrdup(tok);
    }
    if (*out != NULL && (!valid_header_secret(*out) || (*out)[0] == '\0')) {
        ecsrev_free_secret(*out);
        *out = NULL;
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "container credentials: authorization token is empty or has "
                                "control characters");
    }
    return 0;
}

static int from_container(struct ecsrev_credentials *out, ecsrev_getenv_fn getenv_fn,
                          void *env_payload, ecsrev_creds_http_fn http_fn, void *http_payload,
                          struct ecsrev_error *err)
{
    char *url = NULL;
    char *token = NULL;
    struct ecsrev_buf body;
    long status = 0;
    ecsrev_buf_init(&body, BODY_MAX);
    int rc = container_url(&url, getenv_fn, env_payload, err);
    if (rc <= 0) {
        goto done;
    }
    if (http_fn == NULL) {
        rc = ecsrev_error_set(err, ECSREV_EAUTH, "container credentials: no HTTP client");
        goto done;
    }
    if ((rc = container_token(&token, getenv_fn, env_payload, err)) < 0) {
        goto done;
    }
    struct ecsrev_http_header auth = {"Authorization", token};
    struct ecsrev_creds_request req = {"GET", url, &auth, token != NULL ? 1 : 0, NULL, 0};
    rc = http_fn(&body, &status, &req, http_payload, err);
    if (rc < 0) {
        ecsrev_error_prefix(err, "container credentials");
        goto done;
    }
    if (status != 200) {
        rc = ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status,
                                    "container credentials: http status %ld from %s", status, url);
        goto done;
    }
    rc = creds_from_json(out, body.ptr, body.len, "Token", false, "container credentials",
                         "container", err);
    rc = rc < 0 ? rc : 1;
done:
    ecsrev_free_secret(token);
    free(url);
    ecsrev_buf_dispose_secret(&body);
    return rc;
}

/* ---- IMDSv2 ------------------------------------------------------------------------------- */

struct imds {
    ecsrev_creds_http_fn http_fn;
    void *payload;
    char base[512];
    char *token;
};

/* One IMDS request; ECSREV_ENET means "IMDS not reachable". */
static int imds_call(struct imds *im, struct ecsrev_buf *body, long *status, const char *method,
                     const char *path, struct ecsrev_error *err)
{
    char url[1024];
    int n = snprintf(url, sizeof(url), "%s%s", im->base, path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        return ecsrev_error_set(err, ECSREV_EAUTH, "imds: URL too long");
    }
    struct ecsrev_http_header h;
    if (im->token == NULL) {
        h = (struct ecsrev_http_header){"X-aws-ec2-metadata-token-ttl-seconds", "21600"};
    } else {
        h = (struct ecsrev_http_header){"X-aws-ec2-metadata-token", im->token};
    }
    ecsrev_buf_clear(body);
    struct ecsrev_creds_request req = {method, url, &h, 1, NULL, 0};
    return im->http_fn(body, status, &req, im->payload, err);
}

static int imds_setup(struct imds *im, ecsrev_getenv_fn getenv_fn, void *payload,
                      struct ecsrev_error *err)
{
    const char *base = env(getenv_fn, payload, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    base = base != NULL ? base : IMDS_DEFAULT;
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/') {
        len--;
    }
    if (len >= sizeof(im->base) || !valid_url_text(base) ||
        (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "imds: invalid AWS_EC2_METADATA_SERVICE_ENDPOINT");
    }
    memcpy(im->base, base, len);
    im->base[len] = '\0';
    return 0;
}

static bool valid_role_name(const char *s, size_t len)
{
    if (len == 0 || len > 128) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("+=,.@_-", c) != NULL;
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Token and role name; returns 0 when IMDS is unreachable, 1 when @p role is set. */
static int imds_role(struct imds *im, struct ecsrev_buf *body, char *role, size_t role_size,
                     struct ecsrev_error *err)
{
    long status = 0;
    int rc = imds_call(im, body, &status, "PUT", "/latest/api/token", err);
    if (rc == ECSREV_ENET) {
        ecsrev_error_clear(err);
        return 0;
    }
    if (rc < 0 || status != 200 || body->len == 0 || !valid_header_secret(body->ptr)) {
        return rc < 0
                   ? rc
                   : ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status,
                                            "imds: token request failed (http status %ld)", status);
    }
    im->token = ecsrev_xstrndup(body->ptr, body->len);
    rc = imds_call(im, body, &status, "GET", "/latest/meta-data/iam/security-credentials/", err);
    if (rc < 0) {
        return rc;
    }
    if (status == 404) {
        return ecsrev_error_set_cause(err, ECSREV_EAUTH, 404,
                                      "imds: no IAM role is attached to this instance");
    }
    size_t len = body->ptr != NULL ? strcspn(body->ptr, "\r\n") : 0;
    if (status != 200 || body->ptr == NULL || !valid_role_name(body->ptr, len) ||
        len >= role_size) {
        return ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status,
                                      "imds: bad role name response (http status %ld)", status);
    }
    memcpy(role, body->ptr, len);
    role[len] = '\0';
    return 1;
}

static int from_imds(struct ecsrev_credentials *out, ecsrev_getenv_fn getenv_fn, void *env_payload,
                     ecsrev_creds_http_fn http_fn, void *http_payload, struct ecsrev_error *err)
{
    struct imds im = {http_fn, http_payload, {0}, NULL};
    struct ecsrev_buf body;
    char role[160];
    char path[256];
    long status = 0;
    ecsrev_buf_init(&body, BODY_MAX);
    int rc = imds_setup(&im, getenv_fn, env_payload, err);
    if (rc < 0 || (rc = imds_role(&im, &body, role, sizeof(role), err)) <= 0) {
        goto done;
    }
    (void)snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
    if ((rc = imds_call(&im, &body, &status, "GET", path, err)) < 0) {
        goto done;
    }
    if (status != 200) {
        rc = ecsrev_error_set_cause(err, ECSREV_EAUTH, (int)status,
                                    "imds: credentials for role '%s': http status %ld", role,
                                    status);
        goto done;
    }
    rc = creds_from_json(out, body.ptr, body.len, "Token", false, "imds", "imds", err);
    rc = rc < 0 ? rc : 1;
done:
    ecsrev_free_secret(im.token);
    ecsrev_buf_dispose_secret(&body);
    return rc;
}

/* ---- roles (STS) -------------------------------------------------------------------------- */

/* Profile @p i of the role chain: 0 is the selected profile, then cfg->sources. */
static const struct ecsrev_aws_profile *chain_at(const struct ecsrev_aws_config *cfg, size_t i)
{
    return i == 0 ? &cfg->creds : &cfg->sources[i - 1];
}

/* A profile whose role is assumed with STS AssumeRole: exactly one source, no MFA. */
static int check_role_profile(const struct ecsrev_aws_profile *p, struct ecsrev_error *err)
{
    if (nonempty(p->mfa_serial)) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': mfa_serial needs a one-time code and ecsrev never "
                                "prompts; use credential_process or a role without MFA",
                                p->name);
    }
    bool sp = nonempty(p->source_profile);
    bool cs = nonempty(p->credential_source);
    if (sp && cs) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': source_profile and credential_source are both set; "
                                "keep one",
                                p->name);
    }
    if (!sp && !cs) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': role_arn needs source_profile or credential_source",
                                p->name);
    }
    return 0;
}

/* The base credentials of a role profile with credential_source. */
static int from_credential_source(struct ecsrev_credentials *out,
                                  const struct ecsrev_aws_profile *p,
                                  const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    const char *cs = p->credential_source;
    int rc;
    if (strcmp(cs, "Environment") == 0) {
        rc = from_env(out, ctx->getenv_fn, ctx->env_payload, err);
    } else if (strcmp(cs, "EcsContainer") == 0) {
        rc = from_container(out, ctx->getenv_fn, ctx->env_payload, ctx->http_fn, ctx->http_payload,
                            err);
    } else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
        /* AWS_EC2_METADATA_DISABLED=true holds here too, as in botocore */
        rc = ctx->http_fn != NULL && !ecsrev_awsconfig__env_true(ctx->getenv_fn, ctx->env_payload,
                                                                 "AWS_EC2_METADATA_DISABLED")
                 ? from_imds(out, ctx->getenv_fn, ctx->env_payload, ctx->http_fn, ctx->http_payload,
                             err)
                 : 0;
    } else {
        char shown[72];
        ecsrev_awsconfig__printable(shown, sizeof(shown), cs);
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': credential_source '%s' is not Environment, "
                                "Ec2InstanceMetadata or EcsContainer",
                                p->name, shown);
    }
    if (rc < 0) {
        char prefix[200];
        (void)snprintf(prefix, sizeof(prefix), "profile '%.128s': credential_source %s", p->name,
                       cs);
        ecsrev_error_prefix(err, "%s", prefix);
        return rc;
    }
    if (rc == 0) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': credential_source %s has no credentials", p->name,
                                cs);
    }
    return 0;
}

/* Read a web identity token file (secret): trailing whitespace removed, not empty. */
static int read_token_file(char **out, const char *path, const char *what, struct ecsrev_error *err)
{
    struct ecsrev_buf b;
    ecsrev_buf_init(&b, WEB_TOKEN_MAX);
    int rc = ecsrev_awsconfig__read_file(&b, path, err);
    if (rc < 0) {
        ecsrev_buf_dispose_secret(&b);
        ecsrev_error_prefix(err, "%s", what);
        if (err != NULL) {
            err->code = ECSREV_EAUTH; /* the code returned, the cause kept */
        }
        return ECSREV_EAUTH;
    }
    while (b.len > 0 && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' ||
                         b.ptr[b.len - 1] == ' ' || b.ptr[b.len - 1] == '\t')) {
        b.ptr[--b.len] = '\0';
    }
    if (b.len == 0 || !valid_header_secret(b.ptr)) {
        ecsrev_buf_dispose_secret(&b);
        (void)ecsrev_error_set(err, ECSREV_EAUTH,
                               "%s: the token is empty or has control characters", what);
        return ECSREV_EAUTH;
    }
    *out = ecsrev_buf_detach(&b);
    return 0;
}

/*
 * AssumeRoleWithWebIdentity. For the selected profile (@p source false) each setting
 * comes from the environment first, then from the profile, as botocore reads them:
 * AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file, AWS_ROLE_ARN / role_arn,
 * AWS_ROLE_SESSION_NAME / role_session_name. A source profile (@p source true) uses
 * its own settings only. 0 = not configured.
 */
static int from_web_identity(struct ecsrev_credentials *out, const struct ecsrev_aws_profile *p,
                             bool source, const struct ecsrev_aws_config *cfg,
                             const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    const char *file =
        source ? NULL : env(ctx->getenv_fn, ctx->env_payload, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role = source ? NULL : env(ctx->getenv_fn, ctx->env_payload, "AWS_ROLE_ARN");
    const char *session =
        source ? NULL : env(ctx->getenv_fn, ctx->env_payload, "AWS_ROLE_SESSION_NAME");
    char what[200];
    if (file != NULL) {
        (void)snprintf(what, sizeof(what), "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
    } else if (nonempty(p->web_identity_token_file)) {
        file = p->web_identity_token_file;
        (void)snprintf(what, sizeof(what), "profile '%.128s': web identity", p->name);
    } else {
        return 0;
    }
    role = role != NULL ? role : (nonempty(p->role_arn) ? p->role_arn : NULL);
    session = session != NULL ? session : p->role_session_name;
    if (role == NULL) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "%s: no role to assume (set AWS_ROLE_ARN or the profile's "
                                "role_arn)",
                                what);
    }
    char *token = NULL;
    int rc = read_token_file(&token, file, what, err);
    if (rc < 0) {
        return rc;
    }
    struct ecsrev_sts__role r = {role, session, NULL, NULL, token, what};
    rc = ecsrev_sts__assume(out, &r, NULL, cfg, ctx, err);
    ecsrev_free_secret(token);
    return rc < 0 ? rc : 1;
}

/*
 * The credential providers of one profile, in botocore's order: web identity, SSO,
 * the keys of the credentials file, credential_process, the keys of the config
 * file. @p source: a source profile (no environment). 0 = none configured.
 */
static int from_profile_providers(struct ecsrev_credentials *out,
                                  const struct ecsrev_aws_profile *p, bool source,
                                  const struct ecsrev_aws_config *cfg,
                                  const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    int rc;
    if ((rc = from_web_identity(out, p, source, cfg, ctx, err)) != 0 ||
        (rc = from_sso(out, p, cfg, ctx, err)) != 0 ||
        (!p->keys_in_config && (rc = from_profile_keys(out, p, err)) != 0) ||
        (rc = from_process(out, p, err)) != 0 ||
        (p->keys_in_config && (rc = from_profile_keys(out, p, err)) != 0)) {
        return rc;
    }
    return 0;
}

static bool has_keys(const struct ecsrev_aws_profile *p)
{
    return nonempty(p->access_key_id) || nonempty(p->secret_access_key);
}

/*
 * Where the role chain chain_at(0..n_sources) gets its base credentials. The last
 * profile is where load_sources stopped: a source profile with keys, or without a
 * role to assume, gives them through its providers (botocore: "The source profile
 * must have credentials"), and the innermost role is the one before it; otherwise
 * the last profile is itself the innermost role, assumed with its credential_source.
 */
static bool base_from_providers(const struct ecsrev_aws_config *cfg, size_t *innermost)
{
    size_t last = cfg->n_sources;
    const struct ecsrev_aws_profile *p = chain_at(cfg, last);
    bool providers =
        last > 0 && (has_keys(p) || !nonempty(p->role_arn) || nonempty(p->web_identity_token_file));
    *innermost = providers ? last - 1 : last;
    return providers;
}

static int chain_base(struct ecsrev_credentials *out, bool providers,
                      const struct ecsrev_aws_config *cfg, const struct ecsrev_creds_context *ctx,
                      struct ecsrev_error *err)
{
    size_t last = cfg->n_sources;
    const struct ecsrev_aws_profile *p = chain_at(cfg, last);
    if (!providers) {
        return from_credential_source(out, p, ctx, err);
    }
    int rc = from_profile_providers(out, p, true, cfg, ctx, err);
    if (rc == 0) {
        return ecsrev_error_set(err, ECSREV_EAUTH,
                                "profile '%s': source_profile '%s' has no credentials",
                                chain_at(cfg, last - 1)->name, p->name);
    }
    return rc < 0 ? rc : 0;
}

static int from_role_chain(struct ecsrev_credentials *out, const struct ecsrev_aws_config *cfg,
                           const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    struct ecsrev_credentials base = ECSREV_CREDENTIALS_INIT;
    size_t innermost = 0;
    int rc = 0;
    bool providers = base_from_providers(cfg, &innermost);
    /* every role to assume is checked before anything is sent */
    for (size_t i = 0; i <= innermost; i++) {
        if ((rc = check_role_profile(chain_at(cfg, i), err)) < 0) {
            return rc;
        }
    }
    if ((rc = chain_base(&base, providers, cfg, ctx, err)) < 0) {
        goto done;
    }
    for (size_t i = innermost + 1; i-- > 0;) {
        const struct ecsrev_aws_profile *p = chain_at(cfg, i);
        char what[200];
        (void)snprintf(what, sizeof(what), "profile '%.128s'", p->name);
        struct ecsrev_sts__role r = {
            p->role_arn, p->role_session_name, p->external_id, p->duration_seconds, NULL, what};
        struct ecsrev_credentials next = ECSREV_CREDENTIALS_INIT;
        rc = ecsrev_sts__assume(&next, &r, &base, cfg, ctx, err);
        ecsrev_credentials_dispose(&base);
        base = next;
        if (rc < 0) {
            goto done;
        }
    }
    *out = base;
    base = (struct ecsrev_credentials)ECSREV_CREDENTIALS_INIT;
    (void)snprintf(out->source, sizeof(out->source), "role (profile %.40s)", cfg->creds.name);
    rc = 1;
done:
    ecsrev_credentials_dispose(&base);
    return rc;
}

/* ---- the chain ------------------------------------------------------------------------- */

int ecsrev_creds_resolve(struct ecsrev_credentials *out, const struct ecsrev_aws_config *cfg,
                         const struct ecsrev_creds_context *ctx, struct ecsrev_error *err)
{
    int rc = 0;
    const struct ecsrev_aws_profile *p = &cfg->creds;
    bool imds_off =
        ecsrev_awsconfig__env_true(ctx->getenv_fn, ctx->env_payload, "AWS_EC2_METADATA_DISABLED");
    *out = (struct ecsrev_credentials)ECSREV_CREDENTIALS_INIT;
    if (!cfg->profile_from_option &&
        (rc = from_env(out, ctx->getenv_fn, ctx->env_payload, err)) != 0) {
        return rc < 0 ? rc : 0;
    }
    if (cfg->chain_error.code != 0) {
        /* a broken source_profile chain or sso-session, found by ecsrev_aws_config_load */
        if (err != NULL) {
            *err = cfg->chain_error;
        }
        return cfg->chain_error.code;
    }
    if (nonempty(p->role_arn) && !nonempty(p->web_identity_token_file)) {
        rc = from_role_chain(out, cfg, ctx, err);
        return rc < 0 ? rc : 0;
    }
    if ((rc = from_profile_providers(out, p, false, cfg, ctx, err)) != 0 ||
        (rc = from_container(out, ctx->getenv_fn, ctx->env_payload, ctx->http_fn, ctx->http_payload,
                             err)) != 0) {
        return rc < 0 ? rc : 0;
    }
    if (!imds_off && ctx->http_fn != NULL &&
        (rc = from_imds(out, ctx->getenv_fn, ctx->env_payload, ctx->http_fn, ctx->http_payload,
                        err)) != 0) {
        return rc < 0 ? rc : 0;
    }
    return ecsrev_error_set(err, ECSREV_EAUTH,
                            "no AWS credentials found (tried %sprofile '%s', "
                            "container%s)",
                            cfg->profile_from_option ? "" : "environment, ", cfg->profile,
                            imds_off || ctx->http_fn == NULL ? "" : ", IMDS");
}
