/*
 * test_creds.c - AWS config files, the credential chain, region and endpoint.
 *
 * The environment is a fake (a table passed as payload), HOME points at a temp
 * folder holding .aws/config and .aws/credentials, credential_process runs small
 * shell scripts written there, and container / IMDS traffic goes to a fake HTTP
 * function that serves scripted answers and records every request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ecsrev/buf.h>
#include <ecsrev/creds.h>
#include <ecsrev/error.h>
#include <ecsrev/json.h>
#include <ecsrev/sigv4.h>

#include "awsconfig_priv.h"
#include "json_priv.h"
#include "sts_priv.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* ---- fake environment ------------------------------------------------------------------- */

struct fake_env {
    const char *names[32];
    const char *values[32];
    size_t n;
};

static const char *fake_getenv(const char *name, void *payload)
{
    const struct fake_env *e = payload;
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->names[i], name) == 0) {
            return e->values[i];
        }
    }
    return NULL;
}

static void env_set(struct fake_env *e, const char *name, const char *value)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->names[i], name) == 0) {
            e->values[i] = value; /* set again: replaced */
            return;
        }
    }
    assert_true(e->n < 32);
    e->names[e->n] = name;
    e->values[e->n] = value;
    e->n++;
}

/* ---- fake HTTP -------------------------------------------------------------------------- */

struct fake_route {
    const char *method;
    const char *url;
    long status;
    const char *body;
    int rc; /* returned instead of an answer when non-zero (e.g. ECSREV_ENET) */
};

struct fake_http {
    const struct fake_route *routes;
    size_t n_routes;
    int calls;
    char last_headers[8][512]; /* "Name: value" of the last call */
    size_t last_n;
    char log[2048]; /* "METHOD url\n" per call */
};

static int fake_http_fn(struct ecsrev_buf *body_out, long *status_out,
                        const struct ecsrev_creds_request *req, void *payload,
                        struct ecsrev_error *err)
{
    struct fake_http *f = payload;
    const char *method = req->method;
    const char *url = req->url;
    const struct ecsrev_http_header *headers = req->headers;
    size_t n_headers = req->n_headers;
    f->calls++;
    size_t used = strlen(f->log);
    (void)snprintf(f->log + used, sizeof(f->log) - used, "%s %s\n", method, url);
    f->last_n = n_headers < 8 ? n_headers : 8;
    for (size_t i = 0; i < f->last_n; i++) {
        (void)snprintf(f->last_headers[i], sizeof(f->last_headers[i]), "%s: %s", headers[i].name,
                       headers[i].value);
    }
    for (size_t i = 0; i < f->n_routes; i++) {
        const struct fake_route *r = &f->routes[i];
        if (strcmp(r->method, method) != 0 || strcmp(r->url, url) != 0) {
            continue;
        }
        if (r->rc != 0) {
            return ecsrev_error_set(err, r->rc, "connect to %s failed", url);
        }
        *status_out = r->status;
        return ecsrev_buf_puts(body_out, r->body, err);
    }
    return ecsrev_error_set(err, ECSREV_ENET, "connect to %s failed", url);
}

static bool headers_have(const struct fake_http *f, const char *line)
{
    for (size_t i = 0; i < f->last_n; i++) {
        if (strcmp(f->last_headers[i], line) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- fixture: temp HOME ----------------------------------------------------------------- */

struct fx {
    char *home;
    char aws[600];
    struct fake_env env;
    struct ecsrev_aws_config cfg;
    struct ecsrev_credentials creds;
    struct ecsrev_error err;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->home = tu_tempdir();
    (void)snprintf(fx->aws, sizeof(fx->aws), "%s/.aws", fx->home);
    assert_int_equal(mkdir(fx->aws, 0700), 0);
    env_set(&fx->env, "HOME", fx->home);
    fx->cfg = (struct ecsrev_aws_config)ECSREV_AWS_CONFIG_INIT;
    fx->creds = (struct ecsrev_credentials)ECSREV_CREDENTIALS_INIT;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    ecsrev_aws_config_dispose(&fx->cfg);
    ecsrev_credentials_dispose(&fx->creds);
    tu_rmtree(fx->home);
    free(fx->home);
    free(fx);
    return 0;
}

static void write_file(const char *dir, const char *name, const char *text, int mode)
{
    char path[800];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static int load(struct fx *fx, const char *profile_opt)
{
    ecsrev_aws_config_dispose(&fx->cfg);
    return ecsrev_aws_config_load(&fx->cfg, profile_opt, fake_getenv, &fx->env, &fx->err);
}

static int resolve(struct fx *fx, struct fake_http *http)
{
    ecsrev_credentials_dispose(&fx->creds);
    struct ecsrev_creds_context ctx = {
        fake_getenv, &fx->env, http != NULL ? fake_http_fn : NULL, http, NULL, NULL, NULL, NULL};
    return ecsrev_creds_resolve(&fx->creds, &fx->cfg, &ctx, &fx->err);
}

static void assert_msg_has(const struct fx *fx, const char *s)
{
    if (strstr(fx->err.msg, s) == NULL) {
        print_error("message '%s' lacks '%s'\n", fx->err.msg, s);
        fail();
    }
}

static void assert_msg_clean(const struct fx *fx)
{
    assert_null(strstr(fx->err.msg, SECRET));
    assert_null(strstr(fx->err.msg, "SECRETVALUE"));
    assert_null(strstr(fx->err.msg, "TOKENVALUE"));
}

/* ---- environment and profiles ------------------------------------------------------------ */

static void test_env_credentials(void **state)
{
    struct fx *fx = *state;
    env_set(&fx->env, "AWS_ACCESS_KEY_ID", "AKIDENV");
    env_set(&fx->env, "AWS_SECRET_ACCESS_KEY", SECRET);
    env_set(&fx->env, "AWS_SESSION_TOKEN", "TOKENVALUE");
    write_file(fx->aws, "credentials",
               "[default]\naws_access_key_id = AKIDFILE\n"
               "aws_secret_access_key = x\n",
               0600);
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, NULL), 0);
    assert_string_equal(fx->creds.source, "environment");
    assert_string_equal(fx->creds.access_key_id, "AKIDENV");
    assert_string_equal(fx->creds.secret_access_key, SECRET);
    assert_string_equal(fx->creds.session_token, "TOKENVALUE");
    assert_true(fx->creds.expires_ms == ECSREV_CREDS_NO_EXPIRY);
    /* --profile beats the environment, like the AWS CLI */
    assert_int_equal(load(fx, "default"), 0);
    assert_int_equal(resolve(fx, NULL), 0);
    assert_string_equal(fx->creds.source, "profile default");
    assert_string_equal(fx->creds.access_key_id, "AKIDFILE");
    assert_null(fx->creds.session_token);
}

static void test_env_partial(void **state)
{
    struct fx *fx = *state;
    env_set(&fx->env, "AWS_SECRET_ACCESS_KEY", "SECRETVALUE");
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "AWS_ACCESS_KEY_ID is not");
    assert_msg_clean(fx);
}

static void test_profile_files(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config",
               "# comment\n; another\n[default]\nregion = eu-west-1\n\n"
               "[profile dev]\r\nREGION = us-west-2\r\naws_access_key_id = AKIDCONF\r\n"
               "aws_secret_access_key = confsecret\r\ns3 =\r\n  max_concurrent_requests = 20\r\n"
               "  region = nested-ignored\r\nmax_attempts: 7\r\n"
               "endpoint_url = http://127.0.0.1:4566/\r\n",
               0600);
    write_file(fx->aws, "credentials",
               "[dev]\naws_secret_access_key = SECRETVALUE\naws_session_token=TOKENVALUE\n", 0600);
    env_set(&fx->env, "AWS_PROFILE", "dev");
    assert_int_equal(load(fx, NULL), 0);
    assert_string_equal(fx->cfg.profile, "dev");
    assert_true(fx->cfg.profile_explicit);
    assert_false(fx->cfg.profile_from_option);
    assert_string_equal(fx->cfg.region, "us-west-2");
    assert_string_equal(fx->cfg.endpoint_url, "http://127.0.0.1:4566/");
    assert_int_equal(fx->cfg.max_attempts, 7);
    assert_null(fx->cfg.ca_bundle);
    assert_int_equal(resolve(fx, NULL), 0);
    assert_string_equal(fx->creds.source, "profile dev");
    assert_string_equal(fx->creds.access_key_id, "AKIDCONF");
    assert_string_equal(fx->creds.secret_access_key, "SECRETVALUE"); /* credentials file wins */
    assert_string_equal(fx->creds.session_token, "TOKENVALUE");
}

static void test_profile_default_and_paths(void **state)
{
    struct fx *fx = *state;
    char other[700];
    (void)snprintf(other, sizeof(other), "%s/elsewhere", fx->home);
    write_file(fx->home, "elsewhere",
               "[profile default]\nregion = ap-south-1\nca_bundle = /ca.pem\n"
               "max_attempts = 5\n",
               0600);
    env_set(&fx->env, "AWS_CONFIG_FILE", other);
    env_set(&fx->env, "AWS_SHARED_CREDENTIALS_FILE", "~/nothing-here");
    assert_int_equal(load(fx, NULL), 0);
    assert_string_equal(fx->cfg.profile, "default");
    assert_false(fx->cfg.profile_explicit);
    assert_string_equal(fx->cfg.config_file, other);
    assert_non_null(strstr(fx->cfg.credentials_file, "/nothing-here"));
    assert_string_equal(fx->cfg.region, "ap-south-1");
    assert_string_equal(fx->cfg.ca_bundle, "/ca.pem");
    assert_int_equal(fx->cfg.max_attempts, 5);
    env_set(&fx->env, "AWS_CA_BUNDLE", "/env-ca.pem");
    env_set(&fx->env, "AWS_MAX_ATTEMPTS", "2");
    assert_int_equal(load(fx, NULL), 0);
    assert_string_equal(fx->cfg.ca_bundle, "/env-ca.pem");
    assert_int_equal(fx->cfg.max_attempts, 2);
}

static void test_max_attempts_invalid(void **state)
{
    struct fx *fx = *state;
    env_set(&fx->env, "AWS_MAX_ATTEMPTS", "three");
    assert_int_equal(load(fx, NULL), ECSREV_EPARSE);
    assert_msg_has(fx, "invalid max_attempts 'three' (from AWS_MAX_ATTEMPTS)");
    fx->env.n = 1;
    write_file(fx->aws, "config", "[default]\nmax_attempts = 0\n", 0600);
    assert_int_equal(load(fx, NULL), ECSREV_EPARSE);
    assert_msg_has(fx, "profile 'default'");
    fx->env.n = 1;
    ecsrev_aws_config_dispose(&fx->cfg);
    assert_int_equal(ecsrev_aws_config_load(&fx->cfg, "a]b", fake_getenv, &fx->env, &fx->err),
                     ECSREV_EINVAL);
}

static void test_profile_missing_and_broken(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "credentials",
               "[dev]\naws_access_key_id = AKIDDEV\n"
               "[half]\naws_secret_access_key = SECRETVALUE\n",
               0600);
    assert_int_equal(load(fx, "nope"), ECSREV_ENOTFOUND);
    assert_msg_has(fx, "profile 'nope' not found");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_string_equal(fx->err.msg, "profile 'dev': missing aws_secret_access_key");
    assert_int_equal(load(fx, "half"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_string_equal(fx->err.msg, "profile 'half': missing aws_access_key_id");
    assert_msg_clean(fx);
    /* the default profile may be missing: that is not an error by itself */
    assert_int_equal(load(fx, NULL), 0);
    assert_false(fx->cfg.creds.found);
}

static void test_broken_chains_are_deferred(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config",
               "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
               "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
               "[profile login]\nsso_session = corp\ncredential_process = true\n",
               0600);
    /* loading succeeds: a broken chain is an error only if resolution gets to it */
    assert_int_equal(load(fx, "role"), 0);
    assert_int_equal(fx->cfg.chain_error.code, ECSREV_ENOTFOUND);
    assert_int_equal(resolve(fx, NULL), ECSREV_ENOTFOUND);
    assert_msg_has(fx, "profile 'role': source_profile 'default' not found in ");
    /* ... and environment keys come first, as in botocore (not with --profile) */
    env_set(&fx->env, "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    env_set(&fx->env, "AWS_SECRET_ACCESS_KEY", "secret");
    env_set(&fx->env, "AWS_PROFILE", "role");
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, NULL), 0);
    assert_string_equal(fx->creds.source, "environment");
    env_set(&fx->env, "AWS_ACCESS_KEY_ID", "");
    env_set(&fx->env, "AWS_SECRET_ACCESS_KEY", "");
    env_set(&fx->env, "AWS_PROFILE", "");
    assert_int_equal(load(fx, "sso"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_ENOTFOUND);
    assert_msg_has(fx, "profile 'sso': sso_session 'corp' has no [sso-session corp] in ");
    /* sso_session without an account or a role is not an SSO profile (botocore) */
    assert_int_equal(load(fx, "login"), 0);
    assert_int_equal(fx->cfg.chain_error.code, 0);
}

static void test_duplicate_key(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "credentials",
               "[default]\naws_access_key_id = A\n[other]\nx = 1\n[default]\n"
               "aws_access_key_id = B\n",
               0600);
    assert_int_equal(load(fx, NULL), ECSREV_EPARSE);
    assert_msg_has(fx, "credentials:6: duplicate 'aws_access_key_id' for profile 'default'");
}

/* ---- credential_process -------------------------------------------------------------------- */

static void write_process_profile(struct fx *fx, const char *script)
{
    char cfg[1200];
    write_file(fx->home, "proc.sh", script, 0700);
    (void)snprintf(cfg, sizeof(cfg), "[profile dev]\ncredential_process = %s/proc.sh --flag\n",
                   fx->home);
    write_file(fx->aws, "config", cfg, 0600);
}

static void test_process_ok(void **state)
{
    struct fx *fx = *state;
    write_process_profile(fx, "#!/bin/sh\n[ \"$1\" = --flag ] || exit 9\n"
                              "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\",'\n"
                              "echo '\"SecretAccessKey\": \"SECRETVALUE\", \"SessionToken\": "
                              "\"TOKENVALUE\", \"Expiration\": \"2015-08-30T12:36:00Z\"}'\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), 0);
    assert_string_equal(fx->creds.source, "process (profile dev)");
    assert_string_equal(fx->creds.access_key_id, "AKIDPROC");
    assert_string_equal(fx->creds.secret_access_key, "SECRETVALUE");
    assert_string_equal(fx->creds.session_token, "TOKENVALUE");
    assert_true(fx->creds.expires_ms == 1440938160000LL);
}

static void test_process_failures(void **state)
{
    struct fx *fx = *state;
    write_process_profile(fx, "#!/bin/sh\necho 'SECRETVALUE'\nexit 3\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_string_equal(fx->err.msg, "credential_process for profile 'dev' exited with status 3");
    write_process_profile(fx, "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", "
                              "\"SecretAccessKey\": \"SECRETVALUE\"}'\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "credential_process for profile 'dev': unsupported or missing Version");
    assert_msg_clean(fx);
    write_process_profile(fx, "#!/bin/sh\necho 'not json SECRETVALUE'\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "not a JSON object");
    assert_msg_clean(fx);
    write_process_profile(fx, "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"A\"}'\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "missing AccessKeyId or SecretAccessKey");
    write_process_profile(fx, "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' a\n");
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "output larger than");
    write_file(fx->aws, "config", "[profile dev]\ncredential_process = kill -9 $$\n", 0600);
    assert_int_equal(load(fx, "dev"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "killed by signal 9");
}

/* ---- container --------------------------------------------------------------------------- */

static const char s_creds_json[] =
    "{\"AccessKeyId\": \"AKIDNET\", \"SecretAccessKey\": \"SECRETVALUE\", "
    "\"Token\": \"TOKENVALUE\", \"Expiration\": \"2015-08-30T13:36:00.500Z\"}";

static void test_container_relative(void **state)
{
    struct fx *fx = *state;
    static const struct fake_route routes[] = {
        {"GET", "http://169.254.170.2/v2/credentials/abc", 200, s_creds_json, 0}};
    struct fake_http http = {routes, 1, 0, {{0}}, 0, {0}};
    env_set(&fx->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
    env_set(&fx->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc");
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, &http), 0);
    assert_string_equal(fx->creds.source, "container");
    assert_string_equal(fx->creds.access_key_id, "AKIDNET");
    assert_string_equal(fx->creds.session_token, "TOKENVALUE");
    assert_true(fx->creds.expires_ms == 1440941760500LL);
    assert_int_equal(http.calls, 1);
    assert_true(headers_have(&http, "Authorization: Bearer abc"));
}

static void test_container_full_uri(void **state)
{
    struct fx *fx = *state;
    static const struct fake_route routes[] = {
        {"GET", "http://127.0.0.1:9911/creds", 200, s_creds_json, 0},
        {"GET", "https://creds.example.com/x", 500, "oops SECRETVALUE", 0}};
    struct fake_http http = {routes, 2, 0, {{0}}, 0, {0}};
    write_file(fx->home, "token", "file-token\n", 0600);
    char token_path[700];
    (void)snprintf(token_path, sizeof(token_path), "%s/token", fx->home);
    env_set(&fx->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9911/creds");
    env_set(&fx->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_path);
    env_set(&fx->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored");
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, &http), 0);
    assert_true(headers_have(&http, "Authorization: file-token"));
    /* https to any host is fine; its error status is reported, its body is not */
    fx->env.values[1] = "https://creds.example.com/x";
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_int_equal(fx->err.cause, 500);
    assert_msg_has(fx, "container credentials: http status 500");
    assert_msg_clean(fx);
    /* plain http to a non-loopback host is refused before any request */
    int calls = http.calls;
    fx->env.values[1] = "http://evil.example.com/creds";
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_msg_has(fx, "host 'evil.example.com'");
    assert_int_equal(http.calls, calls);
    fx->env.values[1] = "http://169.254.170.23/v1/credentials";
    assert_int_equal(resolve(fx, &http), ECSREV_ENET); /* allowed host, nothing listens */
    assert_msg_has(fx, "container credentials");
    fx->env.values[2] = "/no/such/token/file";
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_msg_has(fx, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
}

/* ---- IMDS ---------------------------------------------------------------------------------- */

static void test_imds(void **state)
{
    struct fx *fx = *state;
    static const struct fake_route routes[] = {
        {"PUT", "http://127.0.0.1:9/latest/api/token", 200, "IMDSTOKEN", 0},
        {"GET", "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/", 200, "my-role\n",
         0},
        {"GET", "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/my-role", 200,
         "{\"Code\": \"Success\", \"AccessKeyId\": \"AKIDIMDS\", \"SecretAccessKey\": \"S\", "
         "\"Token\": \"T\", \"Expiration\": \"2015-08-30T12:36:00+01:00\"}",
         0}};
    struct fake_http http = {routes, 3, 0, {{0}}, 0, {0}};
    env_set(&fx->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/");
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, &http), 0);
    assert_string_equal(fx->creds.source, "imds");
    assert_string_equal(fx->creds.access_key_id, "AKIDIMDS");
    assert_true(fx->creds.expires_ms == 1440938160000LL - 3600000LL);
    assert_int_equal(http.calls, 3);
    assert_true(headers_have(&http, "X-aws-ec2-metadata-token: IMDSTOKEN"));
    assert_non_null(strstr(http.log, "PUT http://127.0.0.1:9/latest/api/token\n"));
}

static void test_imds_no_role(void **state)
{
    struct fx *fx = *state;
    static const struct fake_route routes[] = {
        {"PUT", "http://169.254.169.254/latest/api/token", 200, "IMDSTOKEN", 0},
        {"GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 404, "", 0}};
    struct fake_http http = {routes, 2, 0, {{0}}, 0, {0}};
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_msg_has(fx, "imds: no IAM role");
}

static void test_nothing_found(void **state)
{
    struct fx *fx = *state;
    struct fake_http http = {NULL, 0, 0, {{0}}, 0, {0}}; /* every request: ENET */
    assert_int_equal(load(fx, NULL), 0);
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_string_equal(fx->err.msg, "no AWS credentials found (tried environment, profile "
                                     "'default', container, IMDS)");
    assert_int_equal(http.calls, 1);
    env_set(&fx->env, "AWS_EC2_METADATA_DISABLED", "TRUE");
    http.calls = 0;
    assert_int_equal(resolve(fx, &http), ECSREV_EAUTH);
    assert_int_equal(http.calls, 0);
    assert_string_equal(fx->err.msg,
                        "no AWS credentials found (tried environment, profile 'default', "
                        "container)");
}

/* ---- region and endpoint ------------------------------------------------------------------ */

static void expect_region(struct fx *fx, const char *opt, const char *want)
{
    char *r = NULL;
    int rc = ecsrev_region_resolve(&r, opt, &fx->cfg, fake_getenv, &fx->env, &fx->err);
    if (want == NULL) {
        assert_int_equal(rc, ECSREV_EINVAL);
        assert_null(r);
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(r, want);
    free(r);
}

static void test_region(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config", "[default]\nregion = sa-east-1\n", 0600);
    assert_int_equal(load(fx, NULL), 0);
    expect_region(fx, NULL, "sa-east-1");
    env_set(&fx->env, "AWS_DEFAULT_REGION", "eu-west-3");
    expect_region(fx, NULL, "eu-west-3");
    env_set(&fx->env, "AWS_REGION", "US-EAST-2");
    expect_region(fx, NULL, "us-east-2");
    expect_region(fx, "ap-northeast-1", "ap-northeast-1");
    expect_region(fx, "us-east-1.evil.com/", NULL);
    assert_string_equal(fx->err.msg, "invalid region 'us-east-1.evil.com/' (from --region)");
    expect_region(fx, "-us", NULL);
    expect_region(fx, "us east", NULL);
    expect_region(fx, "us-east-1\nInjected: x", NULL);
    assert_string_equal(fx->err.msg, "invalid region 'us-east-1?Injected: x' (from --region)");
    fx->env.n = 1;
    ecsrev_aws_config_dispose(&fx->cfg);
    expect_region(fx, NULL, NULL);
    assert_string_equal(fx->err.msg, "no region: use --region or AWS_REGION");
}

static void expect_endpoint(struct fx *fx, const char *opt, const char *region, const char *want)
{
    char *u = NULL;
    int rc = ecsrev_endpoint_resolve(&u, opt, region, &fx->cfg, fake_getenv, &fx->env, &fx->err);
    if (want == NULL) {
        assert_int_equal(rc, ECSREV_EINVAL);
        assert_null(u);
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(u, want);
    free(u);
}

static void test_endpoint(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config", "[default]\nendpoint_url = https://profile.example:443/\n", 0600);
    assert_int_equal(load(fx, NULL), 0);
    expect_endpoint(fx, NULL, "us-east-1", "https://profile.example");
    env_set(&fx->env, "AWS_ENDPOINT_URL", "http://generic.example:80");
    expect_endpoint(fx, NULL, "us-east-1", "http://generic.example");
    env_set(&fx->env, "AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:8080/");
    expect_endpoint(fx, NULL, "us-east-1", "http://127.0.0.1:8080");
    expect_endpoint(fx, "http://[::1]:9000", "us-east-1", "http://[::1]:9000");
    env_set(&fx->env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    expect_endpoint(fx, NULL, "us-east-1", "https://ecs.us-east-1.amazonaws.com");
    expect_endpoint(fx, "ftp://x", "us-east-1", NULL);
    assert_msg_has(fx, "(from --endpoint-url): must start with https:// or http://");
    expect_endpoint(fx, "https://x/path", "us-east-1", NULL);
    expect_endpoint(fx, "https://x?a=b", "us-east-1", NULL);
    expect_endpoint(fx, "https://x y", "us-east-1", NULL);
    expect_endpoint(fx, "https://x\ny", "us-east-1", NULL);
    assert_null(strchr(fx->err.msg, '\n'));
    expect_endpoint(fx, "https://", "us-east-1", NULL);
    expect_endpoint(fx, "https://user@x", "us-east-1", NULL);
    expect_endpoint(fx, NULL, "cn-north-1", "https://ecs.cn-north-1.amazonaws.com.cn");
    expect_endpoint(fx, NULL, "us-gov-west-1", "https://ecs.us-gov-west-1.amazonaws.com");
    expect_endpoint(fx, NULL, "us-iso-east-1", "https://ecs.us-iso-east-1.c2s.ic.gov");
    expect_endpoint(fx, NULL, "us-isob-east-1", "https://ecs.us-isob-east-1.sc2s.sgov.gov");
    expect_endpoint(fx, NULL, "eu-isoe-west-1", "https://ecs.eu-isoe-west-1.cloud.adc-e.uk");
    expect_endpoint(fx, NULL, "us-isof-south-1", "https://ecs.us-isof-south-1.csp.hci.ic.gov");
    expect_endpoint(fx, NULL, "eusc-de-east-1", "https://ecs.eusc-de-east-1.amazonaws.eu");
    expect_endpoint(fx, NULL, "xx-future-1", "https://ecs.xx-future-1.amazonaws.com");
    expect_endpoint(fx, NULL, "bad/region", NULL);
}

/* Every region listed in partitions.json maps to its partition's dnsSuffix. */
static void test_partitions_json(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = tu_read_data("creds/partitions.json", &len);
    cJSON *doc = NULL;
    assert_int_equal(ecsrev_json__parse(&doc, text, len, NULL), 0);
    const cJSON *p;
    size_t checked = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(doc, "partitions"))
    {
        const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(p, "outputs");
        const char *suffix = cJSON_GetObjectItemCaseSensitive(outputs, "dnsSuffix")->valuestring;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "regions"))
        {
            if (strstr(r->string, "global") != NULL) {
                continue; /* pseudo-regions such as aws-global */
            }
            if (strcmp(ecsrev_region_dns_suffix(r->string), suffix) != 0) {
                print_error("%s: got %s, want %s\n", r->string, ecsrev_region_dns_suffix(r->string),
                            suffix);
                fail();
            }
            checked++;
        }
    }
    assert_true(checked > 30);
    cJSON_Delete(doc);
    free(text);
}

/* ---- INI parser ------------------------------------------------------------------------------ */

struct entries {
    char text[2048];
};

static int record_entry(const char *section, const char *key, const char *value, size_t line,
                        void *payload, struct ecsrev_error *err)
{
    (void)err;
    struct entries *e = payload;
    size_t used = strlen(e->text);
    (void)snprintf(e->text + used, sizeof(e->text) - used, "%zu[%s]%s=%s|", line, section, key,
                   value);
    return 0;
}

static int parse_text(const char *text, size_t len, struct entries *e, struct ecsrev_error *err)
{
    memset(e, 0, sizeof(*e));
    return ecsrev_awsconfig__parse(text, len, "f", record_entry, e, err);
}

static void test_ini_parser(void **state)
{
    (void)state;
    struct entries e;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    const char *ok = "\xef\xbb\xbf# c\n[ a b ] ; trailing comment\nK1 = v # not a comment\n"
                     "k2:\tv2 \nk3 = first\n  second\n\n  ; indented comment\n"
                     "s3 =\n  x = 1\n  y = 2\nk4=\n";
    assert_int_equal(parse_text(ok, strlen(ok), &e, &err), 0);
    assert_string_equal(e.text, "3[a b]k1=v # not a comment|4[a b]k2=v2|5[a b]k3=first\nsecond|"
                                "9[a b]s3=|12[a b]k4=|");
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"k = v\n", "f:1: entry outside of a [section]"},
        {"[a\n", "f:1: missing ']' in section header"},
        {"[]\n", "f:1: empty section name"},
        {"[a] x\n", "f:1: unexpected text after ']'"},
        {"[a]\njunk\n", "f:2: expected 'key = value'"},
        {"[a]\n = v\n", "f:2: empty key"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_text(bad[i].text, strlen(bad[i].text), &e, &err), ECSREV_EPARSE);
        assert_string_equal(err.msg, bad[i].msg);
    }
    assert_int_equal(parse_text("[a]\nk = v\0x\n", 11, &e, &err), ECSREV_EPARSE);
    assert_string_equal(err.msg, "f: NUL byte in file");
    char *big = calloc(ECSREV_AWS_CONFIG_MAX_FILE + 2, 1);
    assert_non_null(big);
    memset(big, '#', ECSREV_AWS_CONFIG_MAX_FILE + 1);
    assert_int_equal(parse_text(big, ECSREV_AWS_CONFIG_MAX_FILE + 1, &e, &err), ECSREV_EPARSE);
    free(big);
    assert_int_equal(parse_text("", 0, &e, &err), 0);
    assert_int_equal(parse_text("[a]", 3, &e, &err), 0);
}

static int count_entry(const char *section, const char *key, const char *value, size_t line,
                       void *payload, struct ecsrev_error *err)
{
    (void)section;
    (void)key;
    (void)value;
    (void)line;
    (void)err;
    (*(size_t *)payload)++;
    return 0;
}

/* Deterministic garbage: the parser must return cleanly (ASan/UBSan run catches the rest). */
static void test_ini_garbage(void **state)
{
    (void)state;
    static const char alphabet[] = "[]=:;# \t\r\nab\x01\xff";
    uint32_t x = 12345;
    char buf[512];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round % (int)sizeof(buf));
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
        }
        size_t n = 0;
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        int rc = ecsrev_awsconfig__parse(buf, len, "g", count_entry, &n, &err);
        assert_true(rc == 0 || rc == ECSREV_EPARSE);
        assert_true(rc == 0 || err.msg[0] != '\0');
    }
}

static void test_parse_time(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(ecsrev_creds_parse_time(&t, "2015-08-30T12:36:00Z", NULL), 0);
    assert_true(t == 1440938160000LL);
    assert_int_equal(ecsrev_creds_parse_time(&t, "2015-08-30T12:36:00.123456Z", NULL), 0);
    assert_true(t == 1440938160123LL);
    assert_int_equal(ecsrev_creds_parse_time(&t, "2000-02-29T00:00:00-02:30", NULL), 0);
    assert_true(t == 951782400000LL + 9000000LL);
    assert_int_equal(ecsrev_creds_parse_time(&t, "1969-12-31T23:59:59Z", NULL), 0);
    assert_true(t == -1000);
    assert_int_equal(ecsrev_creds_parse_time(&t, "2015-08-30T12:36:00", NULL), ECSREV_EPARSE);
    assert_int_equal(ecsrev_creds_parse_time(&t, "2015-13-30T12:36:00Z", NULL), ECSREV_EPARSE);
    assert_int_equal(ecsrev_creds_parse_time(&t, "2015-08-30T12:36:00Zjunk", NULL), ECSREV_EPARSE);
    assert_int_equal(ecsrev_creds_parse_time(&t, "", NULL), ECSREV_EPARSE);
    assert_int_equal(ecsrev_creds_parse_time(&t, NULL, NULL), ECSREV_EPARSE);
}

/* ---- roles (STS) ------------------------------------------------------------------------- */

#define STS_OK(akid)                                                                               \
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"   \
    "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser><Credentials>"   \
    "<AccessKeyId>" akid "</AccessKeyId><SecretAccessKey>sec&#x2F;ret&amp;x</SecretAccessKey>"     \
    "<SessionToken>tok&#43;en</SessionToken><Expiration>2030-01-02T03:04:05Z</Expiration>"         \
    "</Credentials></AssumeRoleResult></AssumeRoleResponse>"

static int64_t fixed_now(void *payload)
{
    (void)payload;
    return 1440938160000LL; /* 2015-08-30T12:36:00Z */
}

static int resolve_sts(struct fx *fx, struct fake_http *http, const char *region)
{
    ecsrev_credentials_dispose(&fx->creds);
    struct ecsrev_creds_context ctx = {fake_getenv, &fx->env,  fake_http_fn, http,
                                       region,      fixed_now, NULL,         NULL};
    return ecsrev_creds_resolve(&fx->creds, &fx->cfg, &ctx, &fx->err);
}

static void test_sts_parse(void **state)
{
    (void)state;
    struct ecsrev_credentials c = ECSREV_CREDENTIALS_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    bool retry = true;
    const char *ok = STS_OK("ASIAEXAMPLEEXAMPLE");
    assert_int_equal(ecsrev_sts__parse(&c, &retry, 200, ok, strlen(ok), &err), 0);
    assert_false(retry);
    assert_string_equal(c.access_key_id, "ASIAEXAMPLEEXAMPLE");
    assert_string_equal(c.secret_access_key, "sec/ret&x");
    assert_string_equal(c.session_token, "tok+en");
    assert_true(c.expires_ms == 1893553445000LL);
    ecsrev_credentials_dispose(&c);

    const char *denied = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                         "<Message>User: a is not &lt;authorized&gt;\n\x01</Message></Error>"
                         "</ErrorResponse>";
    assert_int_equal(ecsrev_sts__parse(&c, &retry, 403, denied, strlen(denied), &err),
                     ECSREV_EAUTH);
    assert_false(retry);
    assert_string_equal(err.msg, "AccessDenied: User: a is not <authorized>?? (HTTP 403)");
    const char *throttled = "<Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
                            "</Error>";
    assert_int_equal(ecsrev_sts__parse(&c, &retry, 400, throttled, strlen(throttled), &err),
                     ECSREV_EAUTH);
    assert_true(retry);
    assert_int_equal(ecsrev_sts__parse(&c, &retry, 503, "", 0, &err), ECSREV_EHTTP);
    assert_true(retry);
    assert_string_equal(err.msg, "error (HTTP 503)");
    assert_int_equal(ecsrev_sts__parse(&c, &retry, 200, NULL, 0, &err), ECSREV_EAUTH);
    assert_string_equal(err.msg, "malformed answer (HTTP 200)");

    /* credential values: printable ASCII without spaces, no nested markup, known entities */
    static const char *const bad[] = {
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey>a b"
        "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-02T03:04:05Z"
        "</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey>a&bogus;"
        "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-02T03:04:05Z"
        "</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIA-not-a-key-id</AccessKeyId><SecretAccessKey>s"
        "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-02T03:04:05Z"
        "</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey><x>s</x>"
        "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-02T03:04:05Z"
        "</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey>s"
        "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>later</Expiration>"
        "</Credentials>",
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey>s"
        "</SecretAccessKey><SessionToken></SessionToken><Expiration>2030-01-02T03:04:05Z"
        "</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ecsrev_sts__parse(&c, NULL, 200, bad[i], strlen(bad[i]), &err),
                         ECSREV_EAUTH);
        assert_non_null(strstr(err.msg, "malformed answer"));
        assert_null(c.access_key_id);
    }
}

static void test_role_chain(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config",
               "[profile audit]\nrole_arn = arn:aws:iam::123456789012:role/audit\n"
               "source_profile = hop\nexternal_id = corp-42\nduration_seconds = 900\n"
               "[profile hop]\nrole_arn = arn:aws:iam::210987654321:role/hop\n"
               "source_profile = base\naws_access_key_id = IGNORED_NOT_A_SOURCE\n"
               "aws_secret_access_key = x\n",
               0600);
    write_file(fx->aws, "credentials",
               "[base]\naws_access_key_id = AKIDEXAMPLE\n"
               "aws_secret_access_key = secret\n",
               0600);
    assert_int_equal(load(fx, "audit"), 0);
    assert_int_equal(fx->cfg.n_sources, 1); /* hop has keys: they end the chain */
    assert_string_equal(fx->cfg.sources[0].name, "hop");

    /* a source profile with keys and a role is used for its keys: one AssumeRole */
    const struct fake_route routes[] = {
        {"POST", "https://sts.eu-west-1.amazonaws.com/", 200, STS_OK("ASIAFIRSTFIRSTFIRST"), 0},
    };
    struct fake_http http = {routes, 1, 0, {{0}}, 0, {0}};
    assert_int_equal(resolve_sts(fx, &http, "eu-west-1"), 0);
    assert_int_equal(http.calls, 1);
    assert_string_equal(fx->creds.access_key_id, "ASIAFIRSTFIRSTFIRST");
    assert_string_equal(fx->creds.session_token, "tok+en");
    assert_string_equal(fx->creds.source, "role (profile audit)");
    assert_true(headers_have(&http, "Content-Type: application/x-www-form-urlencoded; "
                                    "charset=utf-8"));
    assert_true(headers_have(&http, "X-Amz-Date: 20150830T123600Z"));
    assert_true(headers_have(&http, "Host: sts.eu-west-1.amazonaws.com"));
    bool scoped = false;
    for (size_t i = 0; i < http.last_n; i++) {
        scoped = scoped || strstr(http.last_headers[i], "Credential=IGNORED_NOT_A_SOURCE/20150830/"
                                                        "eu-west-1/sts/aws4_request") != NULL;
    }
    assert_true(scoped);

    /* without keys, hop is a role too: two calls, base signs the first; no region: global */
    write_file(fx->aws, "config",
               "[profile audit]\nrole_arn = arn:aws:iam::123456789012:role/audit\n"
               "source_profile = hop\n"
               "[profile hop]\nrole_arn = arn:aws:iam::210987654321:role/hop\n"
               "source_profile = base\n",
               0600);
    assert_int_equal(load(fx, "audit"), 0);
    assert_int_equal(fx->cfg.n_sources, 2);
    const struct fake_route global[] = {
        {"POST", "https://sts.amazonaws.com/", 200, STS_OK("ASIASECONDSECONDSEC"), 0},
    };
    struct fake_http http2 = {global, 1, 0, {{0}}, 0, {0}};
    assert_int_equal(resolve_sts(fx, &http2, NULL), 0);
    assert_int_equal(http2.calls, 2);
    assert_string_equal(http2.log, "POST https://sts.amazonaws.com/\n"
                                   "POST https://sts.amazonaws.com/\n");
    bool second_signed_by_first = false;
    for (size_t i = 0; i < http2.last_n; i++) {
        second_signed_by_first =
            second_signed_by_first ||
            strstr(http2.last_headers[i], "Credential=ASIASECONDSECONDSEC/20150830/us-east-1/sts/"
                                          "aws4_request") != NULL;
    }
    assert_true(second_signed_by_first);
    assert_true(headers_have(&http2, "X-Amz-Security-Token: tok+en"));

    /* AWS_ENDPOINT_URL_STS wins; a refusal names the profile and the role */
    env_set(&fx->env, "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4566");
    const struct fake_route denied[] = {
        {"POST", "http://127.0.0.1:4566/", 403,
         "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error>"
         "</ErrorResponse>",
         0},
    };
    struct fake_http http3 = {denied, 1, 0, {{0}}, 0, {0}};
    assert_int_equal(resolve_sts(fx, &http3, "eu-west-1"), ECSREV_EAUTH);
    assert_string_equal(fx->err.msg, "profile 'hop': assume role "
                                     "arn:aws:iam::210987654321:role/hop: AccessDenied: no "
                                     "(HTTP 403)");
    assert_int_equal(http3.calls, 1);
    assert_msg_clean(fx);
}

/* Create ~/.aws/sso/cache in the fixture's HOME; its path into @p dir. */
static void make_sso_cache(const struct fx *fx, char *dir, size_t size)
{
    (void)snprintf(dir, size, "%s/sso", fx->aws);
    assert_int_equal(mkdir(dir, 0700), 0);
    (void)snprintf(dir, size, "%s/sso/cache", fx->aws);
    assert_int_equal(mkdir(dir, 0700), 0);
}

static void test_sso_portal(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config",
               "[profile dev]\nsso_start_url = https://corp.awsapps.com/start\n"
               "sso_region = eu-west-1\nsso_account_id = 123456789012\n"
               "sso_role_name = ReadOnly\n",
               0600);
    /* the AWS CLI's cache file name: SHA-1 of the start URL (of the session name, for
       sso-session profiles) */
    char dir[800];
    make_sso_cache(fx, dir, sizeof(dir));
    write_file(dir, "a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json",
               "{\"accessToken\": \"tok\", \"expiresAt\": \"2015-08-30T13:00:00Z\"}", 0600);
    assert_int_equal(load(fx, "dev"), 0);
    const struct fake_route routes[] = {
        {"GET",
         "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?role_name=ReadOnly"
         "&account_id=123456789012",
         200,
         "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSOSSOSSOSSO0001\", "
         "\"secretAccessKey\": \"s\", \"sessionToken\": \"t\", \"expiration\": "
         "1440941760000}}",
         0},
    };
    struct fake_http http = {routes, 1, 0, {{0}}, 0, {0}};
    int rc = resolve_sts(fx, &http, "us-east-1");
    if (rc != 0) {
        print_error("%s\n", fx->err.msg);
    }
    assert_int_equal(rc, 0);
    assert_string_equal(fx->creds.access_key_id, "ASIASSOSSOSSOSSO0001");
    assert_true(fx->creds.expires_ms == 1440941760000LL);
    assert_string_equal(fx->creds.source, "sso (profile dev)");
    assert_true(headers_have(&http, "x-amz-sso_bearer_token: tok"));
}

static void test_sso_refresh(void **state)
{
    struct fx *fx = *state;
    write_file(fx->aws, "config",
               "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
               "sso_role_name = ReadOnly\n[sso-session corp]\n"
               "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
               0600);
    char dir[800];
    make_sso_cache(fx, dir, sizeof(dir));
    /* SHA-1 of "corp"; the token expires 5 minutes after fixed_now: refreshed first */
    write_file(dir, "ee0bfd2552fbd840c02cc48b6e823320543c450f.json",
               "{\"accessToken\": \"old\", \"expiresAt\": \"2015-08-30T12:41:00Z\", "
               "\"clientId\": \"c\", \"clientSecret\": \"s\", \"refreshToken\": \"r1\", "
               "\"startUrl\": \"https://corp.awsapps.com/start\"}",
               0600);
    assert_int_equal(load(fx, "dev"), 0);
    const struct fake_route routes[] = {
        {"POST", "https://oidc.eu-west-1.amazonaws.com/token", 200,
         "{\"accessToken\": \"new\", \"expiresIn\": 3600, \"refreshToken\": \"r2\", "
         "\"tokenType\": \"Bearer\"}",
         0},
        {"GET",
         "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?role_name=ReadOnly"
         "&account_id=123456789012",
         200,
         "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSOSSOSSOSSO0002\", "
         "\"secretAccessKey\": \"s\", \"sessionToken\": \"t\", \"expiration\": "
         "1440941760000}}",
         0},
    };
    struct fake_http http = {routes, 2, 0, {{0}}, 0, {0}};
    assert_int_equal(resolve_sts(fx, &http, "us-east-1"), 0);
    assert_string_equal(http.log, "POST https://oidc.eu-west-1.amazonaws.com/token\n"
                                  "GET https://portal.sso.eu-west-1.amazonaws.com/federation/"
                                  "credentials?role_name=ReadOnly&account_id=123456789012\n");
    assert_true(headers_have(&http, "x-amz-sso_bearer_token: new"));
    assert_string_equal(fx->creds.access_key_id, "ASIASSOSSOSSOSSO0002");
    /* the cache now holds the new token, its expiry, the new refresh token and the rest */
    char path[900];
    (void)snprintf(path, sizeof(path), "%s/ee0bfd2552fbd840c02cc48b6e823320543c450f.json", dir);
    struct ecsrev_buf text;
    ecsrev_buf_init(&text, 1 << 16);
    assert_int_equal(ecsrev_awsconfig__read_file(&text, path, NULL), 0);
    assert_non_null(strstr(text.ptr, "\"accessToken\":\"new\""));
    assert_non_null(strstr(text.ptr, "\"expiresAt\":\"2015-08-30T13:36:00Z\""));
    assert_non_null(strstr(text.ptr, "\"refreshToken\":\"r2\""));
    assert_non_null(strstr(text.ptr, "\"clientSecret\":\"s\""));
    assert_non_null(strstr(text.ptr, "\"startUrl\":\"https://corp.awsapps.com/start\""));
    ecsrev_buf_dispose(&text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* a refresh that fails: the old token is used while valid, the cache left alone */
    write_file(dir, "ee0bfd2552fbd840c02cc48b6e823320543c450f.json",
               "{\"accessToken\": \"old\", \"expiresAt\": \"2015-08-30T12:41:00Z\", "
               "\"clientId\": \"c\", \"clientSecret\": \"s\", \"refreshToken\": \"r1\"}",
               0600);
    const struct fake_route refused[] = {
        {"POST", "https://oidc.eu-west-1.amazonaws.com/token", 400,
         "{\"error\": \"invalid_grant\"}", 0},
        routes[1],
    };
    struct fake_http http2 = {refused, 2, 0, {{0}}, 0, {0}};
    assert_int_equal(resolve_sts(fx, &http2, "us-east-1"), 0);
    assert_true(headers_have(&http2, "x-amz-sso_bearer_token: old"));
}

static void test_endpoint_split(void **state)
{
    (void)state;
    char *host = NULL;
    char *path = NULL;
    char *url = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(
        ecsrev_endpoint_split("https://sts.amazonaws.com:443", &host, &path, &url, &err), 0);
    assert_string_equal(host, "sts.amazonaws.com");
    assert_string_equal(path, "/");
    assert_string_equal(url, "https://sts.amazonaws.com:443/");
    free(host);
    free(path);
    free(url);
    /* control bytes anywhere are refused, and never reach the message */
    static const char *const bad[] = {"http://a\x1b[2Jb/", "http://a/\x0b", "ftp://x\ny",
                                      "http://u@h/",       "http://h/?q",   "http://"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ecsrev_endpoint_split(bad[i], &host, &path, &url, &err), ECSREV_EINVAL);
        assert_null(host);
        for (const char *c = err.msg; *c != '\0'; c++) {
            assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
        }
    }
}

static void test_role_profile_limits(void **state)
{
    struct fx *fx = *state;
    struct ecsrev_buf cfg = ECSREV_BUF_INIT;
    for (int i = 0; i <= ECSREV_AWS_MAX_SOURCE_PROFILES + 1; i++) {
        assert_int_equal(ecsrev_buf_printf(&cfg, NULL,
                                           "[profile p%d]\nrole_arn = arn:aws:iam::1:role/r%d\n"
                                           "source_profile = p%d\n",
                                           i, i, i + 1),
                         0);
    }
    write_file(fx->aws, "config", cfg.ptr, 0600);
    ecsrev_buf_dispose(&cfg);
    assert_int_equal(load(fx, "p0"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EPARSE);
    assert_msg_has(fx, "profile 'p0': source_profile chain longer than 8 profiles");
    write_file(fx->aws, "config",
               "[profile a]\nrole_arn = arn:aws:iam::1:role/r\n"
               "source_profile = [x]\n",
               0600);
    assert_int_equal(load(fx, "a"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EPARSE);
    assert_msg_has(fx, "profile 'a': source_profile is not a valid profile name");
    /* a continuation line makes a value span lines: never into a message (found by fuzzing) */
    write_file(fx->aws, "config",
               "[profile a]\nsso_account_id = 123456789012\nsso_session = x\n role_arn = y\n",
               0600);
    assert_int_equal(load(fx, "a"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EPARSE);
    assert_string_equal(fx->err.msg, "profile 'a': sso_session is not a valid session name");
    /* no clock or HTTP client: a role cannot be assumed, and says so */
    write_file(fx->aws, "config",
               "[profile a]\nrole_arn = arn:aws:iam::1:role/r\n"
               "credential_source = Environment\n",
               0600);
    env_set(&fx->env, "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    env_set(&fx->env, "AWS_SECRET_ACCESS_KEY", "secret");
    assert_int_equal(load(fx, "a"), 0);
    assert_int_equal(resolve(fx, NULL), ECSREV_EAUTH);
    assert_msg_has(fx, "profile 'a': assume role needs STS, and no HTTP client or clock");
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_default_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_attempts_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_missing_and_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_chains_are_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_relative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_full_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds_no_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint, setup, teardown),
        cmocka_unit_test(test_partitions_json),
        cmocka_unit_test(test_ini_parser),
        cmocka_unit_test(test_ini_garbage),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_sts_parse),
        cmocka_unit_test_setup_teardown(test_role_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_profile_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_portal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_refresh, setup, teardown),
        cmocka_unit_test(test_endpoint_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
