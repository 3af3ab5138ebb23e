/**
 * crypto.h - the few OpenSSL primitives ecsrev needs: SHA-256, HMAC-SHA256,
 * secure wiping and random bytes. The only module that includes OpenSSL
 * headers (buf.c uses OPENSSL_cleanse for secret buffers).
 */
#ifndef ECSREV_CRYPTO_H
#define ECSREV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ECSREV_SHA256_LEN 32

/** SHA-256 of @p len bytes. */
void ecsrev_sha256(uint8_t out[ECSREV_SHA256_LEN], const void *data, size_t len);

#define ECSREV_SHA1_LEN 20

/**
 * SHA-1 of @p len bytes. Not for security: only to name files the way other tools
 * do (the AWS CLI names its SSO token cache files by the SHA-1 of the session).
 */
void ecsrev_sha1(uint8_t out[ECSREV_SHA1_LEN], const void *data, size_t len);

/** Incremental SHA-256; opaque. */
struct ecsrev_sha256_ctx;
/** New context; free with ecsrev_sha256_final(). */
struct ecsrev_sha256_ctx *ecsrev_sha256_new(void);
void ecsrev_sha256_update(struct ecsrev_sha256_ctx *ctx, const void *data, size_t len);
/** Write the digest and free @p ctx. */
void ecsrev_sha256_final(struct ecsrev_sha256_ctx *ctx, uint8_t out[ECSREV_SHA256_LEN]);

/** HMAC-SHA256 of @p data under @p key. */
void ecsrev_hmac_sha256(uint8_t out[ECSREV_SHA256_LEN], const void *key, size_t key_len,
                        const void *data, size_t len);

/** Overwrite @p len bytes at @p p so the compiler cannot skip it (OPENSSL_cleanse). */
void ecsrev_cleanse(void *p, size_t len);

/** Wipe (ecsrev_cleanse) the NUL-terminated secret @p s, then free() it. Accepts NULL. */
void ecsrev_free_secret(char *s);

/** Fill @p out with cryptographically strong random bytes. */
ECSREV_MUST_CHECK int ecsrev_random_bytes(void *out, size_t len, struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
