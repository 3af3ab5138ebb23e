/*
 * crypto.c - SHA-256, HMAC-SHA256, cleansing and randomness via OpenSSL 3.
 *
 * EVP calls on fixed, valid algorithms cannot fail short of memory
 * exhaustion; such failures abort, like every allocation in ecsrev.
 */
#include <ecsrev/crypto.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct ecsrev_sha256_ctx {
    EVP_MD_CTX *md;
};

static void die(const char *what)
{
    (void)fprintf(stderr, "ecsrev: fatal: openssl %s failed\n", what);
    abort();
}

void ecsrev_sha256(uint8_t out[ECSREV_SHA256_LEN], const void *data, size_t len)
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != ECSREV_SHA256_LEN) {
        die("sha256");
    }
}

void ecsrev_sha1(uint8_t out[ECSREV_SHA1_LEN], const void *data, size_t len)
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha1(), NULL) != 1 || n != ECSREV_SHA1_LEN) {
        die("sha1");
    }
}

struct ecsrev_sha256_ctx *ecsrev_sha256_new(void)
{
    struct ecsrev_sha256_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));
    if (ctx == NULL || (ctx->md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
        die("sha256 init");
    }
    return ctx;
}

void ecsrev_sha256_update(struct ecsrev_sha256_ctx *ctx, const void *data, size_t len)
{
    if (EVP_DigestUpdate(ctx->md, data, len) != 1) {
        die("sha256 update");
    }
}

void ecsrev_sha256_final(struct ecsrev_sha256_ctx *ctx, uint8_t out[ECSREV_SHA256_LEN])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx->md, out, &n) != 1 || n != ECSREV_SHA256_LEN) {
        die("sha256 final");
    }
    EVP_MD_CTX_free(ctx->md);
    OPENSSL_free(ctx);
}

void ecsrev_hmac_sha256(uint8_t out[ECSREV_SHA256_LEN], const void *key, size_t key_len,
                        const void *data, size_t len)
{
    unsigned int n = 0;
    if (key_len > (size_t)INT32_MAX ||
        HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) == NULL ||
        n != ECSREV_SHA256_LEN) {
        die("hmac-sha256");
    }
}

void ecsrev_cleanse(void *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
    }
}

void ecsrev_free_secret(char *s)
{
    if (s != NULL) {
        ecsrev_cleanse(s, strlen(s));
        free(s);
    }
}

int ecsrev_random_bytes(void *out, size_t len, struct ecsrev_error *err)
{
    if (len > (size_t)INT32_MAX || RAND_bytes(out, (int)len) != 1) {
        return ecsrev_error_set(err, ECSREV_EIO, "cannot get random bytes");
    }
    return 0;
}
