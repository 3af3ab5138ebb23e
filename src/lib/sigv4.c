/*
 * sigv4.c - AWS Signature Version 4, Authorization-header form.
 *
 * A pure function of its inputs (request, credentials, date string): builds the
 * canonical request, the string to sign and the signature exactly as described in
 * the AWS SigV4 documentation and exercised by the aws-c-auth / botocore test suites:
 *   - path: raw path, optionally normalized (dot segments, duplicate '/'), then
 *     URI-encoded keeping '/' (this equals the SDKs' "double encoding" of an encoded path);
 *   - query: split on '&', each key/value percent-decoded then re-encoded (encoding '/'),
 *     sorted by encoded key then encoded value;
 *   - headers: names lower-cased, values trimmed with inner runs of blanks collapsed,
 *     sorted by name (stable), repeated names joined with ','; host, x-amz-date and,
 *     when asked, x-amz-security-token added here.
 * Secrets: the secret key copy ("AWS4" + secret) and every intermediate HMAC key are
 * wiped with ecsrev_cleanse before return. Error messages never contain secrets or
 * header values. Limits: at most 256 headers and 1024 query parameters.
 */
#include <ecsrev/sigv4.h>

#include <ecsrev/crypto.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define MAX_HEADERS 256
#define MAX_QUERY_PARAMS 1024

/* One canonical header (lower-case name, normalized value) or query pair (encoded). */
struct pair {
    char *name;
    char *value;
    size_t order; /* input position, for a stable sort */
};

void ecsrev_credentials_dispose(struct ecsrev_credentials *c)
{
    if (c == NULL) {
        return;
    }
    ecsrev_free_secret(c->access_key_id);
    ecsrev_free_secret(c->secret_access_key);
    ecsrev_free_secret(c->session_token);
    c->access_key_id = NULL;
    c->secret_access_key = NULL;
    c->session_token = NULL;
    c->expires_ms = ECSREV_CREDS_NO_EXPIRY;
    memset(c->source, 0, sizeof(c->source));
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int ecsrev_sigv4_uri_encode(struct ecsrev_buf *out, const char *s, size_t len, bool encode_slash,
                            struct ecsrev_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (is_unreserved(c) || (c == '/' && !encode_slash)) {
            rc = ecsrev_buf_putc(out, (char)c, err);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = ecsrev_buf_append(out, enc, sizeof(enc), err);
        }
        if (rc < 0) {
            return rc;
        }
    }
    if (out->ptr == NULL) {
        return ecsrev_buf_append(out, "", 0, err); /* keep the buffer NUL-terminated */
    }
    return 0;
}

/* ---- time ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm); no gmtime (banned). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void ecsrev_sigv4_amz_date(char out[17], int64_t epoch_ms)
{
    /* Clamp to years 0000..9999 so the output is always 16 characters. */
    const int64_t min_s = -62167219200LL; /* 0000-01-01T00:00:00Z */
    const int64_t max_s = 253402300799LL; /* 9999-12-31T23:59:59Z */
    int64_t secs = epoch_ms / 1000 - (epoch_ms % 1000 < 0 ? 1 : 0);
    if (secs < min_s) {
        secs = min_s;
    }
    if (secs > max_s) {
        secs = max_s;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m;
    unsigned d;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 4, m, 2);
    put_digits(out + 6, d, 2);
    out[8] = 'T';
    put_digits(out + 9, (unsigned)(rem / 3600), 2);
    put_digits(out + 11, (unsigned)(rem % 3600 / 60), 2);
    put_digits(out + 13, (unsigned)(rem % 60), 2);
    out[15] = 'Z';
    out[16] = '\0';
}

/* ---- validation ------------------------------------------------------------------------ */

static bool valid_amz_date(const char *s)
{
    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') {
        return false;
    }
    for (int i = 0; i < 15; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9')) {
            return false;
        }
    }
    return true;
}

/* Region and service end up in the credential scope, which uses '/' as separator. */
static bool valid_scope_part(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64) {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(is_unreserved(c) && c != '~')) {
            return false;
        }
    }
    return true;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool valid_header_name(const char *s)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!is_tchar((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

static bool valid_header_value(const char *s)
{
    if (s == NULL) {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) {
            return false;
        }
    }
    return true;
}

static char lower(char c)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char lower_case[] = "abcdefghijklmnopqrstuvwxyz";
    for (size_t i = 0; i < sizeof(upper) - 1; i++) {
        if (upper[i] == c) {
            return lower_case[i];
        }
    }
    return c;
}

static int ascii_casecmp(const char *a, const char *b)
{
    while (*a != '\0' && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    return (unsigned char)lower(*a) - (unsigned char)lower(*b);
}

static bool is_reserved_header(const char *name)
{
    static const char *const names[] = {"host", "x-amz-date", "x-amz-security-token",
                                        "authorization"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (ascii_casecmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- canonical URI ----------------------------------------------------------------------- */

/*
 * Remove "." and ".." segments and empty segments from @p path (raw). The result
 * starts with '/' and ends with '/' when the input did (and is not just "/").
 */
static char *normalize_path(const char *path)
{
    size_t n = strlen(path);
    char *out = ecsrev_xmalloc(n + 2);
    size_t len = 0;
    const char *p = path;
    while (*p != '\0') {
        while (*p == '/') {
            p++;
        }
        const char *seg = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        size_t seg_len = (size_t)(p - seg);
        if (seg_len == 0 || (seg_len == 1 && seg[0] == '.')) {
            continue;
        }
        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (len > 0 && out[len - 1] != '/') {
                len--;
            }
            if (len > 0) {
                len--; /* drop the '/' before the removed segment */
            }
            continue;
        }
        out[len++] = '/';
        memcpy(out + len, seg, seg_len);
        len += seg_len;
    }
    if (len == 0 || (n > 0 && path[n - 1] == '/')) {
        out[len++] = '/';
    }
    out[len] = '\0';
    return out;
}

static int canonical_uri(struct ecsrev_buf *out, const char *path, bool normalize,
                         struct ecsrev_error *err)
{
    if (path == NULL || *path == '\0') {
        path = "/";
    }
    if (!normalize) {
        return ecsrev_sigv4_uri_encode(out, path, strlen(path), false, err);
    }
    char *norm = normalize_path(path);
    int rc = ecsrev_sigv4_uri_encode(out, norm, strlen(norm), false, err);
    free(norm);
    return rc;
}

/* ---- canonical query --------------------------------------------------------------------- */

/* Percent-decode then SigV4-encode (slash encoded). Invalid escapes stay literal. */
static char *reencode(const char *s, size_t len)
{
    char *dec = ecsrev_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && ecsrev_hex_digit(s[i + 1]) >= 0 &&
            ecsrev_hex_digit(s[i + 2]) >= 0) {
            dec[n++] = (char)(ecsrev_hex_digit(s[i + 1]) * 16 + ecsrev_hex_digit(s[i + 2]));
            i += 2;
        } else {
            dec[n++] = s[i];
        }
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    /* cannot fail: the default cap is far above any query we accept */
    if (ecsrev_sigv4_uri_encode(&b, dec, n, true, NULL) < 0) {
        abort();
    }
    free(dec);
    return ecsrev_buf_detach(&b);
}

static int cmp_query(const void *a, const void *b)
{
    const struct pair *x = a;
    const struct pair *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static void free_pairs(struct pair *pairs, size_t n)
{
    for (size_t i = 0; pairs != NULL && i < n; i++) {
        free(pairs[i].name);
        if (pairs[i].value != NULL) {
            ecsrev_cleanse(pairs[i].value, strlen(pairs[i].value)); /* may hold the token */
        }
        free(pairs[i].value);
    }
    free(pairs);
}

static int canonical_query(struct ecsrev_buf *out, const char *query, struct ecsrev_error *err)
{
    struct pair *pairs = ecsrev_xcalloc(MAX_QUERY_PARAMS, sizeof(*pairs));
    size_t n = 0;
    int rc = 0;
    const char *p = query != NULL ? query : "";
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (n == MAX_QUERY_PARAMS) {
                rc = ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: more than %d query parameters",
                                      MAX_QUERY_PARAMS);
                goto done;
            }
            const char *eq = memchr(p, '=', len);
            size_t klen = eq != NULL ? (size_t)(eq - p) : len;
            pairs[n].name = reencode(p, klen);
            pairs[n].value = eq != NULL ? reencode(eq + 1, len - klen - 1) : ecsrev_xstrdup("");
            n++;
        }
        p += len + (end != NULL ? 1 : 0);
    }
    qsort(pairs, n, sizeof(*pairs), cmp_query);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc =
            ecsrev_buf_printf(out, err, "%s%s=%s", i > 0 ? "&" : "", pairs[i].name, pairs[i].value);
    }
done:
    free_pairs(pairs, n);
    return rc;
}

/* ---- canonical headers ------------------------------------------------------------------- */

/* Trim and collapse runs of blanks (space, tab) into one space. */
static char *normalize_value(const char *v)
{
    char *out = ecsrev_xmalloc(strlen(v) + 1);
    size_t n = 0;
    bool blank = false;
    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            blank = n > 0;
            continue;
        }
        if (blank) {
            out[n++] = ' ';
            blank = false;
        }
        out[n++] = *v;
    }
    out[n] = '\0';
    return out;
}

static char *lower_dup(const char *s)
{
    char *out = ecsrev_xstrdup(s);
    for (char *p = out; *p != '\0'; p++) {
        *p = lower(*p);
    }
    return out;
}

static int cmp_header(const void *a, const void *b)
{
    const struct pair *x = a;
    const struct pair *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0) {
        return c;
    }
    return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}

static int collect_headers(struct pair *pairs, size_t *n_out,
                           const struct ecsrev_sigv4_request *req,
                           const struct ecsrev_credentials *creds,
                           const struct ecsrev_sigv4_signing *s, struct ecsrev_error *err)
{
    size_t n = 0;
    if (req->n_headers > MAX_HEADERS - 3) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: more than %d headers", MAX_HEADERS - 3);
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct ecsrev_http_header *h = &req->headers[i];
        if (!valid_header_name(h->name)) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: invalid header name at index %zu",
                                    i);
        }
        if (is_reserved_header(h->name)) {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "sigv4: header '%s' is added by the signer, do not pass it",
                                    h->name);
        }
        if (!valid_header_value(h->value)) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: invalid value for header '%s'",
                                    h->name);
        }
        pairs[n] = (struct pair){lower_dup(h->name), normalize_value(h->value), n};
        n++;
        *n_out = n;
    }
    pairs[n] = (struct pair){ecsrev_xstrdup("host"), normalize_value(req->host), n};
    n++;
    pairs[n] = (struct pair){ecsrev_xstrdup("x-amz-date"), ecsrev_xstrdup(s->amz_date), n};
    n++;
    if (s->sign_token && creds->session_token != NULL && creds->session_token[0] != '\0') {
        pairs[n] = (struct pair){ecsrev_xstrdup("x-amz-security-token"),
                                 normalize_value(creds->session_token), n};
        n++;
    }
    *n_out = n;
    return 0;
}

/* Append "name:v1,v2\n" lines to @p ch and "name;name2" to @p signed_headers. */
static int canonical_headers(struct ecsrev_buf *ch, struct ecsrev_buf *signed_headers,
                             const struct ecsrev_sigv4_request *req,
                             const struct ecsrev_credentials *creds,
                             const struct ecsrev_sigv4_signing *s, struct ecsrev_error *err)
{
    struct pair *pairs = ecsrev_xcalloc(MAX_HEADERS, sizeof(*pairs));
    size_t n = 0;
    int rc = collect_headers(pairs, &n, req, creds, s, err);
    if (rc < 0) {
        goto done;
    }
    qsort(pairs, n, sizeof(*pairs), cmp_header);
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool same = i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0;
        if (same) {
            rc = ecsrev_buf_printf(ch, err, ",%s", pairs[i].value);
            continue;
        }
        rc =
            ecsrev_buf_printf(ch, err, "%s%s:%s", i > 0 ? "\n" : "", pairs[i].name, pairs[i].value);
        if (rc == 0) {
            rc = ecsrev_buf_printf(signed_headers, err, "%s%s", i > 0 ? ";" : "", pairs[i].name);
        }
    }
    if (rc == 0) {
        rc = ecsrev_buf_putc(ch, '\n', err);
    }
done:
    free_pairs(pairs, n);
    return rc;
}

/* ---- signing --------------------------------------------------------------------------- */

static int check_inputs(const struct ecsrev_sigv4_request *req,
                        const struct ecsrev_credentials *creds,
                        const struct ecsrev_sigv4_signing *s, struct ecsrev_error *err)
{
    if (req->method == NULL || !valid_header_name(req->method)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing or invalid method");
    }
    if (req->host == NULL || req->host[0] == '\0' || !valid_header_value(req->host)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing or invalid host");
    }
    if (req->body == NULL && req->body_len > 0) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: body is NULL but body_len is not 0");
    }
    if (creds->access_key_id == NULL || !valid_header_value(creds->access_key_id) ||
        creds->access_key_id[0] == '\0' || strchr(creds->access_key_id, '/') != NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing or invalid access key id");
    }
    if (creds->secret_access_key == NULL || creds->secret_access_key[0] == '\0') {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing secret access key");
    }
    if (creds->session_token != NULL && !valid_header_value(creds->session_token)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: invalid characters in session token");
    }
    if (!valid_amz_date(s->amz_date)) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "sigv4: invalid amz date (want YYYYMMDDTHHMMSSZ)");
    }
    if (!valid_scope_part(s->region)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing or invalid region");
    }
    if (!valid_scope_part(s->service)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "sigv4: missing or invalid service");
    }
    return 0;
}

static int build_canonical_request(struct ecsrev_buf *creq, struct ecsrev_buf *signed_headers,
                                   const struct ecsrev_sigv4_request *req,
                                   const struct ecsrev_credentials *creds,
                                   const struct ecsrev_sigv4_signing *s, struct ecsrev_error *err)
{
    int rc;
    if ((rc = ecsrev_buf_printf(creq, err, "%s\n", req->method)) < 0 ||
        (rc = canonical_uri(creq, req->path, s->normalize_path, err)) < 0 ||
        (rc = ecsrev_buf_putc(creq, '\n', err)) < 0 ||
        (rc = canonical_query(creq, req->query, err)) < 0 ||
        (rc = ecsrev_buf_putc(creq, '\n', err)) < 0 ||
        (rc = canonical_headers(creq, signed_headers, req, creds, s, err)) < 0) {
        return rc;
    }
    uint8_t digest[ECSREV_SHA256_LEN];
    char hex[2 * ECSREV_SHA256_LEN + 1];
    ecsrev_sha256(digest, req->body_len > 0 ? req->body : "", req->body_len);
    ecsrev_hex_encode(hex, digest, sizeof(digest));
    return ecsrev_buf_printf(creq, err, "\n%s\n%s", signed_headers->ptr, hex);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static void derive_signing_key(uint8_t out[ECSREV_SHA256_LEN], const char *secret,
                               const char *date8, const struct ecsrev_sigv4_signing *s)
{
    size_t slen = strlen(secret);
    char *k0 = ecsrev_xmalloc(slen + 5);
    (void)snprintf(k0, slen + 5, "AWS4%s", secret);
    uint8_t k1[ECSREV_SHA256_LEN];
    uint8_t k2[ECSREV_SHA256_LEN];
    ecsrev_hmac_sha256(k1, k0, slen + 4, date8, 8);
    ecsrev_hmac_sha256(k2, k1, sizeof(k1), s->region, strlen(s->region));
    ecsrev_hmac_sha256(k1, k2, sizeof(k2), s->service, strlen(s->service));
    ecsrev_hmac_sha256(out, k1, sizeof(k1), "aws4_request", 12);
    ecsrev_cleanse(k0, slen + 4);
    ecsrev_cleanse(k1, sizeof(k1));
    ecsrev_cleanse(k2, sizeof(k2));
    free(k0);
}

int ecsrev_sigv4_sign(struct ecsrev_buf *authorization, struct ecsrev_buf *canonical_request,
                      struct ecsrev_buf *string_to_sign, const struct ecsrev_sigv4_request *req,
                      const struct ecsrev_credentials *creds, const struct ecsrev_sigv4_signing *s,
                      struct ecsrev_error *err)
{
    struct ecsrev_buf creq = ECSREV_BUF_INIT;
    struct ecsrev_buf sts = ECSREV_BUF_INIT;
    struct ecsrev_buf signed_headers = ECSREV_BUF_INIT;
    uint8_t key[ECSREV_SHA256_LEN];
    uint8_t mac[ECSREV_SHA256_LEN];
    char hex[2 * ECSREV_SHA256_LEN + 1];
    char date8[9];
    int rc;

    assert(authorization != NULL && req != NULL && creds != NULL && s != NULL);
    if ((rc = check_inputs(req, creds, s, err)) < 0 ||
        (rc = build_canonical_request(&creq, &signed_headers, req, creds, s, err)) < 0) {
        goto done;
    }
    memcpy(date8, s->amz_date, 8);
    date8[8] = '\0';
    ecsrev_sha256(mac, creq.ptr, creq.len);
    ecsrev_hex_encode(hex, mac, sizeof(mac));
    if ((rc = ecsrev_buf_printf(&sts, err, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                                s->amz_date, date8, s->region, s->service, hex)) < 0) {
        goto done;
    }
    derive_signing_key(key, creds->secret_access_key, date8, s);
    ecsrev_hmac_sha256(mac, key, sizeof(key), sts.ptr, sts.len);
    ecsrev_cleanse(key, sizeof(key));
    ecsrev_hex_encode(hex, mac, sizeof(mac));
    if ((rc = ecsrev_buf_printf(authorization, err,
                                "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                                "SignedHeaders=%s, Signature=%s",
                                creds->access_key_id, date8, s->region, s->service,
                                signed_headers.ptr, hex)) < 0) {
        goto done;
    }
    if (canonical_request != NULL &&
        (rc = ecsrev_buf_append(canonical_request, creq.ptr, creq.len, err)) < 0) {
        goto done;
    }
    if (string_to_sign != NULL) {
        rc = ecsrev_buf_append(string_to_sign, sts.ptr, sts.len, err);
    }
done:
    ecsrev_buf_dispose_secret(&creq); /* holds the session token when it is signed */
    ecsrev_buf_dispose(&sts);
    ecsrev_buf_dispose(&signed_headers);
    return rc;
}
