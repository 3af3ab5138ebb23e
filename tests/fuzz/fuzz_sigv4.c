/*
 * fuzz_sigv4.c - fuzz target for the SigV4 URI encoder and the request
 * canonicalization (path normalization, query-string sorting and encoding).
 *
 * Properties: ecsrev_sigv4_uri_encode output contains only unreserved bytes,
 * '%XX' with upper-case hex and (unless encode_slash) '/', and decodes back
 * to the input exactly. ecsrev_sigv4_sign, given a path and a query from the
 * input (split at the first NUL byte), never crashes: it signs or returns
 * EINVAL with one error line that never contains the secret key; a signed
 * request has a canonical request whose second line starts with '/' and
 * signing is deterministic.
 */
#include "fuzz.h"

#include <string.h>

#include <ecsrev/buf.h>
#include <ecsrev/error.h>
#include <ecsrev/sigv4.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1; /* lower-case hex is not allowed either */
}

static void check_encode(const uint8_t *data, size_t size, bool encode_slash)
{
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    FUZZ_CHECK(ecsrev_sigv4_uri_encode(&out, (const char *)data, size, encode_slash, &err) == 0);
    size_t j = 0;
    for (size_t i = 0; i < out.len; i++, j++) {
        unsigned char c = (unsigned char)out.ptr[i];
        FUZZ_CHECK(j < size);
        if (c == '%') {
            FUZZ_CHECK(i + 2 < out.len);
            int hi = hexval(out.ptr[i + 1]);
            int lo = hexval(out.ptr[i + 2]);
            FUZZ_CHECK(hi >= 0 && lo >= 0);
            unsigned char dec = (unsigned char)(hi * 16 + lo);
            FUZZ_CHECK(dec == data[j]);
            FUZZ_CHECK(!unreserved(dec) && (encode_slash || dec != '/'));
            i += 2;
        } else {
            FUZZ_CHECK(unreserved(c) || (!encode_slash && c == '/'));
            FUZZ_CHECK(c == data[j]);
        }
    }
    FUZZ_CHECK(j == size);
    ecsrev_buf_dispose(&out);
}

static int sign(struct ecsrev_buf *auth, struct ecsrev_buf *creq, const char *path,
                const char *query, struct ecsrev_error *err)
{
    char akid[] = "AKIDEXAMPLE";
    char secret[] = SECRET;
    char token[] = "TOKEN";
    struct ecsrev_credentials creds = ECSREV_CREDENTIALS_INIT;
    creds.access_key_id = akid;
    creds.secret_access_key = secret;
    creds.session_token = token;
    struct ecsrev_http_header h[] = {{"Content-Type", "application/x-amz-json-1.1"}};
    struct ecsrev_sigv4_request req = {
        "POST", "ecs.us-east-1.amazonaws.com", path, query, h, 1, "{}", 2};
    struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
    s.region = "us-east-1";
    s.service = "ecs";
    s.amz_date = "20150830T123600Z";
    return ecsrev_sigv4_sign(auth, creq, NULL, &req, &creds, &s, err);
}

static void check_sign(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    FUZZ_CHECK(copy != NULL);
    if (size > 0) {
        memcpy(copy, data, size);
    }
    copy[size] = '\0';
    const char *path = copy;
    size_t plen = strlen(copy);
    const char *query = plen < size ? copy + plen + 1 : NULL;

    struct ecsrev_buf a1 = ECSREV_BUF_INIT;
    struct ecsrev_buf a2 = ECSREV_BUF_INIT;
    struct ecsrev_buf creq = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = sign(&a1, &creq, path, query, &err);
    if (rc < 0) {
        FUZZ_CHECK(rc == ECSREV_EINVAL && err.code == rc);
        FUZZ_CHECK_MSG(&err);
        FUZZ_CHECK(strstr(err.msg, SECRET) == NULL);
    } else {
        FUZZ_CHECK(strncmp(a1.ptr, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40) == 0);
        FUZZ_CHECK(strstr(a1.ptr, SECRET) == NULL && strstr(creq.ptr, SECRET) == NULL);
        FUZZ_CHECK(strncmp(creq.ptr, "POST\n/", 6) == 0);
        FUZZ_CHECK(sign(&a2, NULL, path, query, &err) == 0);
        FUZZ_CHECK(a1.len == a2.len && memcmp(a1.ptr, a2.ptr, a1.len) == 0);
    }
    ecsrev_buf_dispose(&a1);
    ecsrev_buf_dispose(&a2);
    ecsrev_buf_dispose(&creq);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_encode(data, size, false);
    check_encode(data, size, true);
    check_sign(data, size);
    return 0;
}
