/**
 * creds.h - AWS shared configuration (profiles), credentials, region and
 * endpoint resolution, as the AWS SDKs and CLI do it.
 *
 * The library never reads the process environment, the clock, or the network
 * by itself: environment lookups go through an ecsrev_getenv_fn, the network
 * credential sources (container credentials, IMDSv2, STS for roles and web
 * identity) through an ecsrev_creds_http_fn supplied by the caller (the http
 * module sits above this one), the clock through the ecsrev_creds_context.
 * Files (~/.aws/config, ~/.aws/credentials, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
 * web identity token files) are read here, and credential_process commands are
 * run here (/bin/sh -c).
 *
 * Typical use (cmd_fetch; the ecsrev_creds_context also carries the region and a
 * clock, which roles need for STS):
 *
 *     struct ecsrev_aws_config cfg = ECSREV_AWS_CONFIG_INIT;
 *     struct ecsrev_credentials creds = ECSREV_CREDENTIALS_INIT;
 *     char *region = NULL, *endpoint = NULL;
 *     if ((rc = ecsrev_aws_config_load(&cfg, opt_profile, env_get, NULL, &err)) < 0 ||
 *         (rc = ecsrev_region_resolve(&region, opt_region, &cfg, env_get, NULL, &err)) < 0 ||
 *         (rc = ecsrev_endpoint_resolve(&endpoint, opt_endpoint, region, &cfg, env_get, NULL,
 *                                       &err)) < 0 ||
 *         (rc = ecsrev_creds_resolve(&creds, &cfg, &ctx, &err)) < 0) {
 *         goto done;   // err.msg is one printable line, never holds a secret
 *     }
 *     ... sign with &creds, region, service "ecs"; send to endpoint; use cfg.max_attempts,
 *     cfg.ca_bundle ...
 *     done: ecsrev_credentials_dispose(&creds); free(region); free(endpoint);
 *           ecsrev_aws_config_dispose(&cfg);
 *
 * where `env_get` is `static const char *env_get(const char *n, void *p) { (void)p; return
 * getenv(n); }` (in src/cli, where getenv is allowed).
 */
#ifndef ECSREV_CREDS_H
#define ECSREV_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/error.h>
#include <ecsrev/sigv4.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest config or credentials file read: 1 MiB (bigger is an EPARSE error). */
#define ECSREV_AWS_CONFIG_MAX_FILE ((size_t)1024 * 1024)

/** Default for max_attempts (AWS SDK "standard" retry mode). */
#define ECSREV_AWS_DEFAULT_MAX_ATTEMPTS 3

/**
 * Look up an environment variable. Return a borrowed string valid until the
 * next call, or NULL when unset. @p payload is passed through.
 */
typedef const char *(*ecsrev_getenv_fn)(const char *name, void *payload);

/** One HTTP request of a credential source. All pointers borrowed. */
struct ecsrev_creds_request {
    const char *method; /**< "GET", "PUT" (IMDS token, empty body) or "POST" (STS) */
    const char *url;    /**< full URL */
    const struct ecsrev_http_header *headers; /**< extra request headers; may hold a secret
                                                   (Authorization, X-aws-ec2-metadata-token,
                                                   X-Amz-Security-Token): never log values */
    size_t n_headers;
    const void *body; /**< request body (POST only; may hold a secret web identity token) */
    size_t body_len;
};

/**
 * Perform one HTTP request for a credential source (container credentials,
 * IMDSv2, or STS for roles), plain http:// or https://, no redirects followed,
 * short timeouts (the SDKs use 1 s connect / 1 s read for IMDS), TLS
 * verification on.
 *
 * @param body_out   out: append the response body here. creds initializes it with a
 *                   64 KiB max; a bigger body is an error (ecsrev_buf_append reports it).
 * @param status_out out: the HTTP status code
 * @param req        the request (borrowed)
 * @param payload    passed through from the ecsrev_creds_context
 * @param err        error record
 * @return 0 when an HTTP response (any status) was received; ECSREV_ENET when no
 *         response (connection refused, timeout, ...); another negative code otherwise.
 */
typedef int (*ecsrev_creds_http_fn)(struct ecsrev_buf *body_out, long *status_out,
                                    const struct ecsrev_creds_request *req, void *payload,
                                    struct ecsrev_error *err);

/**
 * What ecsrev_creds_resolve() may use besides the loaded config. The library
 * reads no environment, clock or network by itself; each comes from here.
 */
struct ecsrev_creds_context {
    ecsrev_getenv_fn getenv_fn;       /**< environment lookup (NULL: an empty environment) */
    void *env_payload;                /**< passed to getenv_fn */
    ecsrev_creds_http_fn http_fn;     /**< container, IMDS and STS requests; NULL: those sources
                                           are skipped (container, IMDS) or fail (roles) */
    void *http_payload;               /**< passed to http_fn */
    const char *region;               /**< the resolved region, for STS (endpoint
                                           sts.<region>.<dnsSuffix> and signing); NULL: the
                                           global endpoint sts.amazonaws.com, us-east-1 */
    int64_t (*now_ms)(void *payload); /**< wall clock in ms since the epoch, for signing STS
                                           requests and naming role sessions; NULL: roles
                                           fail */
    void (*sleep_ms)(int64_t ms, void *payload); /**< back-off between STS attempts; NULL:
                                                      retry without waiting */
    void *clock_payload;                         /**< passed to now_ms and sleep_ms */
};

/**
 * Credential-related settings of the selected profile (merged: config file
 * `[profile x]` / `[default]` first, the credentials file `[x]` overrides).
 * All strings owned, NULL when absent. Secrets: wiped by ecsrev_aws_config_dispose.
 */
struct ecsrev_aws_profile {
    char *name;                    /**< the profile's name */
    bool found;                    /**< the profile exists in at least one file */
    char *access_key_id;           /**< aws_access_key_id */
    char *secret_access_key;       /**< aws_secret_access_key (secret) */
    bool keys_in_config;           /**< the keys come from the config file, not the credentials
                                        file (botocore then tries credential_process first) */
    char *session_token;           /**< aws_session_token (secret) */
    char *credential_process;      /**< credential_process command line */
    char *role_arn;                /**< role_arn: assume this role (STS AssumeRole, or
                                        AssumeRoleWithWebIdentity with web_identity_token_file) */
    char *source_profile;          /**< source_profile: the profile whose credentials assume it */
    char *credential_source;       /**< credential_source: Environment, Ec2InstanceMetadata or
                                        EcsContainer */
    char *external_id;             /**< external_id sent with AssumeRole */
    char *role_session_name;       /**< role_session_name (default "ecsrev-<epoch seconds>") */
    char *duration_seconds;        /**< duration_seconds as written (checked when used) */
    char *mfa_serial;              /**< mfa_serial (needs an interactive code: not supported) */
    char *web_identity_token_file; /**< web_identity_token_file (with role_arn) */
    char *sso_session;    /**< sso_session: the `[sso-session NAME]` its settings come from */
    char *sso_start_url;  /**< sso_start_url (own, or the sso-session's) */
    char *sso_region;     /**< sso_region (own, or the sso-session's) */
    char *sso_account_id; /**< sso_account_id */
    char *sso_role_name;  /**< sso_role_name */
};

/** Longest source_profile chain followed (the selected profile not counted). */
#define ECSREV_AWS_MAX_SOURCE_PROFILES 8

/**
 * Shared AWS configuration after ecsrev_aws_config_load(). Caller-owned; all
 * strings owned and freed by ecsrev_aws_config_dispose().
 */
struct ecsrev_aws_config {
    char *profile;            /**< selected profile name: --profile, AWS_PROFILE, else "default" */
    bool profile_explicit;    /**< chosen by --profile or AWS_PROFILE (a missing one is an error) */
    bool profile_from_option; /**< chosen by --profile: environment keys are then skipped,
                                   like the AWS CLI */
    char *config_file;      /**< path used for the config file (AWS_CONFIG_FILE or ~/.aws/config) */
    char *credentials_file; /**< path used for the credentials file */
    char *region;           /**< the profile's `region`, or NULL (see ecsrev_region_resolve) */
    char *endpoint_url;     /**< the profile's `endpoint_url`, or NULL */
    char *ca_bundle;        /**< AWS_CA_BUNDLE, else the profile's `ca_bundle`, or NULL */
    int max_attempts;       /**< AWS_MAX_ATTEMPTS, else profile `max_attempts`, else 3 (1..100) */
    struct ecsrev_aws_profile creds;    /**< credential settings of the profile */
    struct ecsrev_aws_profile *sources; /**< the source_profile chain of a role profile:
                                             sources[0] is creds.source_profile, and so on
                                             while a source is itself a role profile without
                                             keys; NULL when there is none */
    size_t n_sources;                   /**< entries in sources */
    struct ecsrev_error chain_error;    /**< code != 0: the source_profile chain or an
                                             [sso-session] of it is broken; like botocore, this
                                             is an error only once resolution gets past the
                                             environment (ecsrev_creds_resolve reports it) */
};

/** Initializer for an empty config. */
#define ECSREV_AWS_CONFIG_INIT                                                                     \
    {                                                                                              \
        .max_attempts = ECSREV_AWS_DEFAULT_MAX_ATTEMPTS                                            \
    }

/**
 * Load the shared config and credentials files for the selected profile.
 *
 * Profile: @p profile_opt (--profile) if non-NULL, else AWS_PROFILE, else "default".
 * Files: AWS_CONFIG_FILE (default $HOME/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
 * (default $HOME/.aws/credentials); a leading "~/" is expanded with HOME; a file
 * that does not exist is skipped. In the config file the profile is `[profile x]`
 * (or `[default]` / `[profile default]`), in the credentials file `[x]`.
 *
 * @param out          out: filled; dispose with ecsrev_aws_config_dispose() (also on error)
 * @param profile_opt  --profile value or NULL (borrowed)
 * @param getenv_fn    environment lookup; @p env_payload passed through
 * @return 0; ECSREV_ENOTFOUND "profile 'dev' not found in <config>, <credentials>" if an
 *         explicitly selected profile is in neither file; ECSREV_EPARSE for a malformed
 *         file (with file:line), an oversized file or a bad max_attempts; ECSREV_EIO if a
 *         file exists but cannot be read; ECSREV_EINVAL for a bad profile name.
 */
ECSREV_MUST_CHECK int ecsrev_aws_config_load(struct ecsrev_aws_config *out, const char *profile_opt,
                                             ecsrev_getenv_fn getenv_fn, void *env_payload,
                                             struct ecsrev_error *err);

/** Free (and wipe the secrets of) @p cfg; reset to ECSREV_AWS_CONFIG_INIT. Accepts NULL. */
void ecsrev_aws_config_dispose(struct ecsrev_aws_config *cfg);

/**
 * Resolve credentials in the AWS SDK (botocore) order:
 *  1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *     skipped when the profile came from --profile;
 *  2. a role profile (role_arn without web_identity_token_file): the base credentials
 *     come from credential_source (Environment, Ec2InstanceMetadata, EcsContainer) or
 *     from the source_profile chain (static keys, a web identity profile, another
 *     role profile, an SSO profile or credential_process), then STS AssumeRole is called for each
 * role of the chain, innermost first, each signed with the previous credentials (RoleSessionName:
 * role_session_name, else "ecsrev-<epoch seconds>"; ExternalId: external_id; DurationSeconds:
 * duration_seconds, 900..43200). mfa_serial is refused: ecsrev never prompts;
 *  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME,
 *     each else the profile's web_identity_token_file, role_arn, role_session_name:
 *     STS AssumeRoleWithWebIdentity (unsigned) with the token file's contents;
 *  4. SSO (IAM Identity Center), a profile with sso_account_id or sso_role_name:
 *     sso_session (its `[sso-session]` section) or sso_start_url + sso_region; the
 *     token `aws sso login` cached in $HOME/.aws/sso/cache (refreshed first when it
 *     expires within 15 minutes and the login can be refreshed, as the AWS CLI
 *     does) is exchanged at the portal (sso.c);
 *  5. the profile: static keys of the credentials file, credential_process (run
 *     with /bin/sh -c; its stdout must be JSON Version 1 with AccessKeyId,
 *     SecretAccessKey, optional SessionToken and Expiration; its output is never
 *     printed or put in errors), then keys that only the config file holds
 *     (botocore's order; steps 3-5 are also how a source profile gives its
 *     credentials, without the environment);
 *  6. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *     (http://169.254.170.2<uri>) or AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http
 *     only to a loopback address, localhost, 169.254.170.2, 169.254.170.23 or
 *     [fd00:ec2::23]); Authorization from the contents of
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *  7. IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true): PUT /latest/api/token, GET
 *     /latest/meta-data/iam/security-credentials/ and .../<role> on
 *     http://169.254.169.254 or AWS_EC2_METADATA_SERVICE_ENDPOINT.
 * STS is reached at AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or the profile's
 * endpoint_url (like the AWS CLI; none of them with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * =true), else https://sts.<region>.<dnsSuffix>; throttling, 5xx answers and network
 * failures are retried up to cfg->max_attempts times.
 * A broken source_profile chain or `[sso-session]` (cfg->chain_error) is reported
 * once resolution gets past the environment.
 * A source that is configured but broken is an error naming it (it does not fall
 * through): a partial key pair, a failing credential_process, a role STS refuses,
 * an expired SSO login, a container endpoint that fails.
 * IMDS that cannot be reached (ECSREV_ENET from the http function) counts as absent.
 *
 * @param out  out: credentials, owned by the caller (ecsrev_credentials_dispose,
 *             also after an error). `source` names the source used.
 * @param cfg  loaded config (borrowed)
 * @param ctx  environment, HTTP, region and clock (borrowed)
 * @return 0; ECSREV_EAUTH for every credential failure, e.g.
 *         "profile 'dev': missing aws_secret_access_key",
 *         "credential_process for profile 'dev' exited with status 1",
 *         "profile 'dev': assume role arn:aws:iam::123456789012:role/audit: AccessDenied:
 *         <STS's message> (HTTP 403)",
 *         "no AWS credentials found (tried environment, profile 'default', container, IMDS)";
 *         ECSREV_ENET/ECSREV_EHTTP when a configured container endpoint or STS cannot be
 *         used. Messages never contain secrets.
 */
ECSREV_MUST_CHECK int ecsrev_creds_resolve(struct ecsrev_credentials *out,
                                           const struct ecsrev_aws_config *cfg,
                                           const struct ecsrev_creds_context *ctx,
                                           struct ecsrev_error *err);

/**
 * Resolve the region: @p region_opt (--region), AWS_REGION, AWS_DEFAULT_REGION,
 * the profile's `region`. The value must be 1..63 characters of [a-z0-9-]
 * (upper-case letters accepted and lowered), starting and ending with a letter or digit.
 *
 * @param out  out: owned string (free())
 * @param cfg  loaded config, may be NULL
 * @return 0; ECSREV_EINVAL "no region: use --region or AWS_REGION" when none, or
 *         "invalid region 'x' (from AWS_REGION)" for a bad value.
 */
ECSREV_MUST_CHECK int ecsrev_region_resolve(char **out, const char *region_opt,
                                            const struct ecsrev_aws_config *cfg,
                                            ecsrev_getenv_fn getenv_fn, void *env_payload,
                                            struct ecsrev_error *err);

/**
 * Resolve the endpoint URL of an AWS service: @p endpoint_opt (--endpoint-url; pass
 * NULL for a service the command does not target, as the AWS CLI applies it to the
 * called service only), AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_ECS,
 * AWS_ENDPOINT_URL_STS), AWS_ENDPOINT_URL, the profile's `endpoint_url` (the
 * environment and profile values are ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=
 * true), else "https://<service>.<region>.<dnsSuffix>" with the partition DNS suffix of
 * @p region (ecsrev_region_dns_suffix).
 * A given URL must be http:// or https:// with a non-empty host and no whitespace or
 * control characters; a trailing '/' is removed.
 *
 * @param out      out: owned URL without trailing '/' (free())
 * @param service  endpoint prefix in lower case: "ecs" or "sts"
 * @param region   a region validated by ecsrev_region_resolve (borrowed)
 * @param cfg      loaded config, may be NULL
 * @return 0 or ECSREV_EINVAL naming the bad value and where it came from.
 */
ECSREV_MUST_CHECK int ecsrev_service_endpoint_resolve(char **out, const char *service,
                                                      const char *endpoint_opt, const char *region,
                                                      const struct ecsrev_aws_config *cfg,
                                                      ecsrev_getenv_fn getenv_fn, void *env_payload,
                                                      struct ecsrev_error *err);

/** ecsrev_service_endpoint_resolve() for "ecs". */
ECSREV_MUST_CHECK int ecsrev_endpoint_resolve(char **out, const char *endpoint_opt,
                                              const char *region,
                                              const struct ecsrev_aws_config *cfg,
                                              ecsrev_getenv_fn getenv_fn, void *env_payload,
                                              struct ecsrev_error *err);

/**
 * Split an endpoint URL from ecsrev_service_endpoint_resolve() into what a request
 * and its signature need: the Host header value (the scheme's default port
 * removed), the path ("/" when empty, trailing '/' removed) and the URL to send to
 * (ending in '/' when the path is "/").
 *
 * @param host  out: owned (free())
 * @param path  out: owned (free())
 * @param url   out: owned (free())
 * @return 0 or ECSREV_EINVAL for a URL that is not http(s) with a plain host (no
 *         user info, query, fragment or whitespace); nothing is returned then.
 */
ECSREV_MUST_CHECK int ecsrev_endpoint_split(const char *endpoint, char **host, char **path,
                                            char **url, struct ecsrev_error *err);

/**
 * DNS suffix of the partition of @p region (from partitions.json): "amazonaws.com",
 * "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk", "csp.hci.ic.gov",
 * "amazonaws.eu"; "amazonaws.com" (partition aws) for an unknown region.
 * @return borrowed static string.
 */
const char *ecsrev_region_dns_suffix(const char *region);

/**
 * Parse an ISO-8601 UTC timestamp as used by AWS credential sources
 * ("2024-05-01T12:00:00Z", optional fraction, "+00:00" accepted) into ms since the epoch.
 * @return 0 or ECSREV_EPARSE.
 */
ECSREV_MUST_CHECK int ecsrev_creds_parse_time(int64_t *out, const char *s,
                                              struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
