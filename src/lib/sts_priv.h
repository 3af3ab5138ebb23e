/*
 * sts_priv.h - the two STS calls credential resolution needs (internal to the
 * library; creds.c is the caller, tests and the fuzzer use the parser).
 *
 * AssumeRole (signed with the caller's credentials, service "sts") and
 * AssumeRoleWithWebIdentity (unsigned; the token is the proof) over the AWS
 * Query protocol: a form-encoded POST, an XML answer. See sts.c.
 */
#ifndef ECSREV_STS_PRIV_H
#define ECSREV_STS_PRIV_H

#include <ecsrev/creds.h>
#include <ecsrev/error.h>
#include <ecsrev/sigv4.h>

#include <stddef.h>

/** One role to assume. All strings borrowed. */
struct ecsrev_sts__role {
    const char *role_arn;     /**< RoleArn */
    const char *session_name; /**< RoleSessionName, or NULL for "ecsrev-<epoch seconds>" */
    const char *external_id;  /**< ExternalId, or NULL */
    const char *duration;     /**< DurationSeconds as configured (900..43200), or NULL */
    const char *web_token;    /**< non-NULL: AssumeRoleWithWebIdentity with this token
                                   (secret); NULL: AssumeRole */
    const char *what;         /**< names the setting in messages: "profile 'dev'" */
};

/** Largest STS answer read (they are about 1.5 KB). */
#define ECSREV_STS_MAX_BODY ((size_t)64 * 1024)

/**
 * Call STS for @p role and put the temporary credentials (with their Expiration)
 * in @p out. @p caller signs AssumeRole; it is NULL for AssumeRoleWithWebIdentity.
 * Endpoint, signing region and retries: see ecsrev_creds_resolve().
 *
 * @return 0; ECSREV_EAUTH for a refused call, a bad setting or answer
 *         ("profile 'dev': assume role arn:...: AccessDenied: ... (HTTP 403)");
 *         ECSREV_ENET when STS cannot be reached; ECSREV_EHTTP for a 5xx after the
 *         last attempt. Messages never hold a secret.
 */
ECSREV_MUST_CHECK int
ecsrev_sts__assume(struct ecsrev_credentials *out, const struct ecsrev_sts__role *role,
                   const struct ecsrev_credentials *caller, const struct ecsrev_aws_config *cfg,
                   const struct ecsrev_creds_context *ctx, struct ecsrev_error *err);

/**
 * Parse one STS answer: on HTTP 200 the <Credentials> of the result (AccessKeyId,
 * SecretAccessKey, SessionToken, Expiration, all required and checked), otherwise
 * the <Error> (Code and Message, made printable and shortened).
 *
 * @param out        out: credentials (source left empty) on success
 * @param retryable  out, may be NULL: true for a 5xx or a throttling error
 * @return 0; ECSREV_EAUTH "<Code>: <Message> (HTTP <status>)" for an error answer or a
 *         malformed one; ECSREV_EHTTP for a 5xx. The message never holds a secret.
 */
ECSREV_MUST_CHECK int ecsrev_sts__parse(struct ecsrev_credentials *out, bool *retryable,
                                        long status, const char *body, size_t len,
                                        struct ecsrev_error *err);

#endif
