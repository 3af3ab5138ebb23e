/*
 * fuzz_sts.c - fuzz target for the STS answer parser (ecsrev_sts__parse), which
 * reads XML from the network while resolving role credentials.
 *
 * Input: the first byte picks the HTTP status (200, 400, 403 or 503), the rest is
 * the body. Properties: the parser never crashes or reads out of bounds; it
 * either returns credentials whose AccessKeyId is 16-128 letters and digits and
 * whose secret and token are printable ASCII without spaces, with an expiry; or
 * an error whose message is one line of printable ASCII. Failed parses leave no
 * credentials behind.
 */
#include "fuzz.h"

#include <ecsrev/error.h>
#include <ecsrev/sigv4.h>

#include "sts_priv.h"

static bool printable(const char *s, bool spaces)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < (spaces ? 0x20 : 0x21) || c > 0x7e) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 400, 403, 503};
    if (size == 0) {
        return 0;
    }
    long status = statuses[data[0] & 3];
    struct ecsrev_credentials c = ECSREV_CREDENTIALS_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    bool retry = false;
    int rc = ecsrev_sts__parse(&c, &retry, status, (const char *)data + 1, size - 1, &err);
    if (rc == 0) {
        FUZZ_CHECK(status == 200);
        FUZZ_CHECK(c.access_key_id != NULL && c.secret_access_key != NULL &&
                   c.session_token != NULL);
        size_t n = strlen(c.access_key_id);
        FUZZ_CHECK(n >= 16 && n <= 128 && printable(c.access_key_id, false));
        FUZZ_CHECK(printable(c.secret_access_key, false) && c.secret_access_key[0] != '\0');
        FUZZ_CHECK(printable(c.session_token, false) && c.session_token[0] != '\0');
        FUZZ_CHECK(c.expires_ms != ECSREV_CREDS_NO_EXPIRY);
        FUZZ_CHECK(!retry);
    } else {
        FUZZ_CHECK(rc == ECSREV_EAUTH || rc == ECSREV_EHTTP);
        FUZZ_CHECK_MSG(&err);
        FUZZ_CHECK(printable(err.msg, true));
        FUZZ_CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
        FUZZ_CHECK(!retry || status == 503 || status == 400 || status == 403);
    }
    ecsrev_credentials_dispose(&c);
    return 0;
}
