/**
 * sigv4.h - AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) and the
 * credential record it signs with.
 *
 * ecsrev_sigv4_sign() is a pure function of its inputs: no clock, no
 * environment, no I/O. The caller supplies the request time as an X-Amz-Date
 * string (see ecsrev_sigv4_amz_date()).
 *
 * Which headers are signed, and which the caller must send
 * ---------------------------------------------------------
 * The signer ALWAYS signs these three itself; the caller must NOT pass them in
 * `req->headers` (EINVAL if it does) but MUST send them on the wire with exactly
 * these values:
 *   - `Host: <req->host>`          (host[:port] exactly as the HTTP client sends it;
 *                                    libcurl sends "host:port" only for a non-default port)
 *   - `X-Amz-Date: <s->amz_date>`
 *   - `X-Amz-Security-Token: <creds->session_token>`  when the credentials have a session
 *     token. It is signed only if `s->sign_token` is true (set it true for ECS, as the
 *     SDKs do); it must be sent either way.
 * Every header in `req->headers` is signed and must be sent with the same value
 * (for ECS: `Content-Type: application/x-amz-json-1.1` and
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`).
 * Headers the HTTP client adds on its own and that are not passed here
 * (User-Agent, Accept, Content-Length, Expect, ...) are simply not signed, which
 * is allowed. Then send `Authorization: <authorization>`.
 * ECS does not use `x-amz-content-sha256` (botocore sends it only for S3); the
 * payload hash only appears in the canonical request.
 *
 * Not implemented: query-string (presigned URL) signing, SigV4a, chunked/unsigned payloads.
 */
#ifndef ECSREV_SIGV4_H
#define ECSREV_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Value of ecsrev_credentials.expires_ms when the credentials never expire. */
#define ECSREV_CREDS_NO_EXPIRY INT64_MIN

/**
 * AWS credentials. Caller-owned struct; the strings are owned (heap) and are
 * released, wiped first, by ecsrev_credentials_dispose(). Never print, log or
 * store the secret key or the session token.
 */
struct ecsrev_credentials {
    char *access_key_id;     /**< owned; e.g. "AKIDEXAMPLE" (not secret, but not logged either) */
    char *secret_access_key; /**< owned secret */
    char *session_token;     /**< owned secret, or NULL for long-term keys */
    int64_t expires_ms;      /**< expiry in ms since the epoch, or ECSREV_CREDS_NO_EXPIRY */
    char source[64];         /**< where they came from: "environment", "profile dev",
                                  "process (profile dev)", "container", "imds" */
};

/** Initializer for an empty credential record. */
#define ECSREV_CREDENTIALS_INIT                                                                    \
    {                                                                                              \
        NULL, NULL, NULL, ECSREV_CREDS_NO_EXPIRY,                                                  \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/**
 * Wipe (ecsrev_cleanse) and free the strings of @p c and reset it to
 * ECSREV_CREDENTIALS_INIT. Accepts NULL and an already disposed record.
 */
void ecsrev_credentials_dispose(struct ecsrev_credentials *c);

/** One HTTP header; both strings borrowed. */
struct ecsrev_http_header {
    const char *name;
    const char *value;
};

/** The request to sign. All pointers borrowed for the duration of the call. */
struct ecsrev_sigv4_request {
    const char *method; /**< "POST", "GET", ... */
    const char *host;   /**< Host header value: "ecs.us-west-2.amazonaws.com" or "127.0.0.1:8080" */
    const char *path;   /**< raw (not percent-encoded) absolute path, e.g. "/"; ECS uses "/" */
    const char *query;  /**< query string without '?' as sent on the wire, or NULL/"" */
    const struct ecsrev_http_header *headers; /**< other signed headers (see file comment) */
    size_t n_headers;
    const void *body; /**< request body (may be NULL when body_len is 0) */
    size_t body_len;
};

/** Signing parameters. Strings borrowed. */
struct ecsrev_sigv4_signing {
    const char *region;   /**< "us-west-2" */
    const char *service;  /**< signing name: "ecs" */
    const char *amz_date; /**< "YYYYMMDDTHHMMSSZ", e.g. "20150830T123600Z" */
    bool sign_token; /**< sign X-Amz-Security-Token when there is a session token (true for ECS) */
    bool normalize_path; /**< remove "." / ".." segments and duplicate '/' (true for every
                              service except S3; irrelevant for "/") */
};

/** Initializer: sign_token and normalize_path on, everything else NULL. */
#define ECSREV_SIGV4_SIGNING_INIT                                                                  \
    {                                                                                              \
        NULL, NULL, NULL, true, true                                                               \
    }

/**
 * Sign a request with SigV4 (Authorization-header form).
 *
 * @param authorization      out: receives the value of the Authorization header
 *                           ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...");
 *                           appended to the caller's (initialized) buffer; caller disposes it.
 * @param canonical_request  out, may be NULL: receives the canonical request (for tests and -v)
 * @param string_to_sign     out, may be NULL: receives the string to sign
 * @param req                the request (borrowed)
 * @param creds              credentials (borrowed); access_key_id and secret_access_key required
 * @param s                  signing parameters (borrowed)
 * @param err                error record, may be NULL
 * @return 0, or ECSREV_EINVAL for a bad input (missing field, malformed amz_date, region or
 *         service with characters outside [A-Za-z0-9-_.], a header name that is not an HTTP
 *         token, a CR/LF in a header value, or a caller-passed Host/X-Amz-Date/
 *         X-Amz-Security-Token/Authorization header), or ECSREV_EINVAL if an output buffer's
 *         max is exceeded. The derived signing key is wiped before return. Secrets never
 *         appear in @p err.
 */
ECSREV_MUST_CHECK int
ecsrev_sigv4_sign(struct ecsrev_buf *authorization, struct ecsrev_buf *canonical_request,
                  struct ecsrev_buf *string_to_sign, const struct ecsrev_sigv4_request *req,
                  const struct ecsrev_credentials *creds, const struct ecsrev_sigv4_signing *s,
                  struct ecsrev_error *err);

/**
 * Append the SigV4 URI encoding of @p len bytes at @p s to @p out: every byte
 * except the unreserved set A-Z a-z 0-9 '-' '.' '_' '~' becomes %XX (upper-case hex);
 * '/' is kept unless @p encode_slash. Bytes are taken as-is (UTF-8 is encoded
 * byte by byte; '%' becomes %25).
 * @return 0, or ECSREV_EINVAL if @p out would exceed its max.
 */
ECSREV_MUST_CHECK int ecsrev_sigv4_uri_encode(struct ecsrev_buf *out, const char *s, size_t len,
                                              bool encode_slash, struct ecsrev_error *err);

/**
 * Format @p epoch_ms (ms since 1970-01-01 UTC; sub-second part dropped) as an
 * X-Amz-Date "YYYYMMDDTHHMMSSZ" into @p out (16 chars + NUL). Times before
 * year 0 or after 9999 are clamped to those years' bounds.
 */
void ecsrev_sigv4_amz_date(char out[17], int64_t epoch_ms);

#ifdef __cplusplus
}
#endif
#endif
