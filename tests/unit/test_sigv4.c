/*
 * test_sigv4.c - SigV4 against the AWS test vectors copied into tests/data/sigv4/
 * (aws-c-auth v4 header cases, the classic botocore aws4_testsuite) and the two ECS
 * worked examples; plus URI encoding, X-Amz-Date formatting and bad inputs.
 *
 * Each vector's request file is parsed here (request line, headers with folded
 * continuation lines, body); Host and X-Amz-Date are handed to the signer as
 * req.host / amz_date (the signer adds them), every other header is signed as given.
 * Canonical request, string to sign and Authorization are compared byte for byte.
 * Query-string (presigned) vectors are not copied: ecsrev does not presign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ecsrev/buf.h>
#include <ecsrev/crypto.h>
#include <ecsrev/error.h>
#include <ecsrev/json.h>
#include <ecsrev/sigv4.h>

#include "json_priv.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define TOKEN_SHORT "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
#define MAX_HDRS 64

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        assert_int_equal(ecsrev_buf_append(&b, chunk, n, NULL), 0);
    }
    (void)fclose(f);
    return ecsrev_buf_detach(&b);
}

/* "dir/name" into @p out; a path that does not fit fails the test. */
static void join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

static char *read_file_at(const char *dir, const char *name)
{
    char path[1024];
    join(path, sizeof(path), dir, name);
    return read_file(path);
}

/* A parsed raw HTTP request. Strings point into `text` (modified in place). */
struct parsed {
    char *text;
    char method[16];
    char *path;
    char *query;
    char *host;
    char *amz_date;
    char *token;
    char *names[MAX_HDRS];
    char *values[MAX_HDRS]; /* owned: folded lines are joined */
    struct ecsrev_http_header headers[MAX_HDRS];
    size_t n;
    const char *body;
    size_t body_len;
};

static void parsed_dispose(struct parsed *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->values[i]);
    }
    free(p->host);
    free(p->amz_date);
    free(p->token);
    free(p->text);
}

static void add_header(struct parsed *p, char *name, const char *value)
{
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    if (strcasecmp(name, "Host") == 0) {
        p->host = strdup(value);
    } else if (strcasecmp(name, "X-Amz-Date") == 0) {
        p->amz_date = strdup(value);
    } else if (strcasecmp(name, "X-Amz-Security-Token") == 0) {
        p->token = strdup(value);
    } else {
        assert_true(p->n < MAX_HDRS);
        p->names[p->n] = name;
        p->values[p->n] = strdup(value);
        p->n++;
    }
}

/* Append a folded continuation line to the last header value, separated by a space. */
static void fold_header(struct parsed *p, const char *line)
{
    assert_true(p->n > 0);
    size_t a = strlen(p->values[p->n - 1]);
    size_t b = strlen(line);
    char *v = malloc(a + b + 2);
    assert_non_null(v);
    memcpy(v, p->values[p->n - 1], a);
    v[a] = ' ';
    memcpy(v + a + 1, line, b + 1);
    free(p->values[p->n - 1]);
    p->values[p->n - 1] = v;
}

static void parse_request(struct parsed *p, char *text)
{
    memset(p, 0, sizeof(*p));
    p->text = text;
    char *line = text;
    char *eol = strchr(line, '\n');
    assert_non_null(eol);
    *eol = '\0';
    char *sp1 = strchr(line, ' ');
    char *sp2 = strrchr(line, ' '); /* path may contain spaces: "GET /example space/ HTTP/1.1" */
    assert_true(sp1 != NULL && sp2 != NULL && sp2 > sp1);
    *sp1 = '\0';
    *sp2 = '\0';
    (void)snprintf(p->method, sizeof(p->method), "%s", line);
    p->path = sp1 + 1;
    char *q = strchr(p->path, '?');
    if (q != NULL) {
        *q = '\0';
        p->query = q + 1;
    }
    line = eol + 1;
    while (*line != '\0' && *line != '\n') {
        eol = strchr(line, '\n');
        char *next = eol != NULL ? eol + 1 : line + strlen(line);
        if (eol != NULL) {
            *eol = '\0';
        }
        if (*line == ' ' || *line == '\t') {
            fold_header(p, line);
        } else {
            char *colon = strchr(line, ':');
            assert_non_null(colon);
            *colon = '\0';
            add_header(p, line, colon + 1);
        }
        line = next;
    }
    p->body = *line == '\n' ? line + 1 : line;
    p->body_len = strlen(p->body);
    for (size_t i = 0; i < p->n; i++) {
        p->headers[i] = (struct ecsrev_http_header){p->names[i], p->values[i]};
    }
}

/* Expected-value files have no final newline; tolerate one anyway. */
static void assert_text_equal(const char *got, const char *want, const char *what,
                              const char *where)
{
    size_t wl = strlen(want);
    while (wl > 0 && want[wl - 1] == '\n' && (strlen(got) < wl || got[wl - 1] != '\n')) {
        wl--;
    }
    if (strlen(got) != wl || memcmp(got, want, wl) != 0) {
        print_error("%s: %s differs\n--- got\n%s\n--- want\n%.*s\n", where, what, got, (int)wl,
                    want);
        fail();
    }
}

struct expect {
    const char *creq;
    const char *sts;
    const char *authz;
};

static void sign_and_check(const struct parsed *p, const struct ecsrev_credentials *creds,
                           const struct ecsrev_sigv4_signing *s, const struct expect *want,
                           const char *where)
{
    struct ecsrev_buf authz = ECSREV_BUF_INIT;
    struct ecsrev_buf creq = ECSREV_BUF_INIT;
    struct ecsrev_buf sts = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_sigv4_request req = {p->method,  p->host, p->path, p->query,
                                       p->headers, p->n,    p->body, p->body_len};
    int rc = ecsrev_sigv4_sign(&authz, &creq, &sts, &req, creds, s, &err);
    if (rc != 0) {
        print_error("%s: sign failed: %s\n", where, err.msg);
        fail();
    }
    assert_text_equal(creq.ptr, want->creq, "canonical request", where);
    assert_text_equal(sts.ptr, want->sts, "string to sign", where);
    assert_text_equal(authz.ptr, want->authz, "authorization", where);
    ecsrev_buf_dispose(&authz);
    ecsrev_buf_dispose(&creq);
    ecsrev_buf_dispose(&sts);
}

/* ---- aws-c-auth v4 ------------------------------------------------------------------------ */

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static bool json_true(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* "Authorization:..." line of the signed request. */
static char *authz_from_signed_request(const char *sreq)
{
    const char *a = strstr(sreq, "\nAuthorization:");
    assert_non_null(a);
    a += strlen("\nAuthorization:");
    size_t n = strcspn(a, "\n");
    return strndup(a, n);
}

static void run_c_auth_case(const char *dir, const char *name)
{
    char *ctx_text = read_file_at(dir, "context.json");
    char *req_text = read_file_at(dir, "request.txt");
    char *creq = read_file_at(dir, "header-canonical-request.txt");
    char *sts = read_file_at(dir, "header-string-to-sign.txt");
    char *sig = read_file_at(dir, "header-signature.txt");
    char *sreq = read_file_at(dir, "header-signed-request.txt");
    assert_true(ctx_text && req_text && creq && sts && sig && sreq);
    cJSON *ctx = NULL;
    assert_int_equal(ecsrev_json__parse(&ctx, ctx_text, strlen(ctx_text), NULL), 0);
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
    struct ecsrev_credentials creds = ECSREV_CREDENTIALS_INIT;
    creds.access_key_id = (char *)(uintptr_t)json_str(cr, "access_key_id");
    creds.secret_access_key = (char *)(uintptr_t)json_str(cr, "secret_access_key");
    creds.session_token = (char *)(uintptr_t)json_str(cr, "token");
    struct parsed p;
    parse_request(&p, req_text);
    char date[17];
    ecsrev_sigv4_amz_date(date, 1440938160000LL); /* timestamp 2015-08-30T12:36:00Z */
    assert_string_equal(json_str(ctx, "timestamp"), "2015-08-30T12:36:00Z");
    struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
    s.region = json_str(ctx, "region");
    s.service = json_str(ctx, "service");
    s.amz_date = date;
    s.sign_token = !json_true(ctx, "omit_session_token");
    s.normalize_path = json_true(ctx, "normalize");
    char hash_hex[65];
    if (json_true(ctx, "sign_body")) {
        uint8_t h[ECSREV_SHA256_LEN];
        ecsrev_sha256(h, p.body, p.body_len);
        ecsrev_hex_encode(hash_hex, h, sizeof(h));
        p.headers[p.n] = (struct ecsrev_http_header){"X-Amz-Content-Sha256", hash_hex};
        p.n++;
    }
    char *authz = authz_from_signed_request(sreq);
    assert_non_null(strstr(authz, sig)); /* header-signature.txt agrees with the request */
    struct expect want = {creq, sts, authz};
    sign_and_check(&p, &creds, &s, &want, name);
    free(authz);
    cJSON_Delete(ctx);
    parsed_dispose(&p);
    free(ctx_text);
    free(creq);
    free(sts);
    free(sig);
    free(sreq);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted case subdirectory names of @p dir (NULL-terminated, owned). */
static char **list_dirs(const char *dir, size_t *n_out)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **names = calloc(256, sizeof(*names));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        struct stat st;
        join(path, sizeof(path), dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) && n < 255) {
            names[n++] = strdup(e->d_name);
        }
    }
    (void)closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    *n_out = n;
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static void test_aws_c_auth_v4(void **state)
{
    (void)state;
    const char *root = ECSREV_TEST_DATA "/sigv4/aws-c-auth-v4";
    size_t n;
    char **names = list_dirs(root, &n);
    assert_int_equal(n, 38); /* every header case of the suite */
    for (size_t i = 0; i < n; i++) {
        char dir[1024];
        join(dir, sizeof(dir), root, names[i]);
        run_c_auth_case(dir, names[i]);
    }
    free_names(names, n);
}

/* ---- botocore aws4_testsuite ------------------------------------------------------------- */

static void run_botocore_case(const char *dir, const char *name)
{
    char file[512];
    (void)snprintf(file, sizeof(file), "%s.req", name);
    char *req_text = read_file_at(dir, file);
    (void)snprintf(file, sizeof(file), "%s.creq", name);
    char *creq = read_file_at(dir, file);
    (void)snprintf(file, sizeof(file), "%s.sts", name);
    char *sts = read_file_at(dir, file);
    (void)snprintf(file, sizeof(file), "%s.authz", name);
    char *authz = read_file_at(dir, file);
    assert_true(req_text && creq && sts && authz);
    struct parsed p;
    parse_request(&p, req_text);
    assert_non_null(p.amz_date);
    struct ecsrev_credentials creds = {AKID, SECRET, p.token, ECSREV_CREDS_NO_EXPIRY, {0}};
    if (strcmp(name, "get-vanilla-with-session-token") == 0) {
        creds.session_token = TOKEN_SHORT; /* botocore's test passes it out of band */
    }
    struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
    s.region = "us-east-1";
    s.service = "service";
    s.amz_date = p.amz_date;
    struct expect want = {creq, sts, authz};
    sign_and_check(&p, &creds, &s, &want, name);
    parsed_dispose(&p);
    free(creq);
    free(sts);
    free(authz);
}

/* Walk @p root; a directory holding "<dirname>.req" is a case, others are groups. */
static size_t walk_botocore(const char *root)
{
    size_t n;
    size_t count = 0;
    char **names = list_dirs(root, &n);
    for (size_t i = 0; i < n; i++) {
        char dir[1024];
        char req[1100];
        struct stat st;
        join(dir, sizeof(dir), root, names[i]);
        int len = snprintf(req, sizeof(req), "%s/%s.req", dir, names[i]);
        assert_true(len > 0 && (size_t)len < sizeof(req));
        if (stat(req, &st) == 0) {
            run_botocore_case(dir, names[i]);
            count++;
        } else {
            count += walk_botocore(dir);
        }
    }
    free_names(names, n);
    return count;
}

static void test_botocore_suite(void **state)
{
    (void)state;
    assert_int_equal(walk_botocore(ECSREV_TEST_DATA "/sigv4/botocore-aws4_testsuite"), 34);
}

/* ---- ECS worked examples ----------------------------------------------------------------- */

static void run_ecs_example(const cJSON *ex)
{
    const char *name = json_str(ex, "name");
    const char *url = json_str(ex, "url");
    assert_true(name != NULL && url != NULL && strncmp(url, "https://", 8) == 0);
    char host[256];
    (void)snprintf(host, sizeof(host), "%.*s", (int)strcspn(url + 8, "/"), url + 8);
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(ex, "request_headers");
    struct ecsrev_http_header headers[8];
    size_t n = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hdrs)
    {
        assert_true(n < 8 && cJSON_IsString(h));
        headers[n++] = (struct ecsrev_http_header){h->string, h->valuestring};
    }
    const char *body = json_str(ex, "body");
    struct ecsrev_sigv4_request req = {
        json_str(ex, "method"), host, "/", NULL, headers, n, body, strlen(body)};
    struct ecsrev_credentials creds = ECSREV_CREDENTIALS_INIT;
    creds.access_key_id = (char *)(uintptr_t)json_str(ex, "access_key_id");
    creds.secret_access_key = (char *)(uintptr_t)json_str(ex, "secret_access_key");
    creds.session_token = (char *)(uintptr_t)json_str(ex, "session_token");
    struct ecsrev_sigv4_signing s = ECSREV_SIGV4_SIGNING_INIT;
    s.region = json_str(ex, "region");
    s.service = json_str(ex, "service");
    s.amz_date = json_str(ex, "x_amz_date");
    struct ecsrev_buf authz = ECSREV_BUF_INIT;
    struct ecsrev_buf creq = ECSREV_BUF_INIT;
    struct ecsrev_buf sts = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_sigv4_sign(&authz, &creq, &sts, &req, &creds, &s, &err), 0);
    assert_text_equal(creq.ptr, json_str(ex, "canonical_request"), "canonical request", name);
    assert_text_equal(sts.ptr, json_str(ex, "string_to_sign"), "string to sign", name);
    assert_text_equal(authz.ptr, json_str(ex, "authorization"), "authorization", name);
    ecsrev_buf_dispose(&authz);
    ecsrev_buf_dispose(&creq);
    ecsrev_buf_dispose(&sts);
}

static void test_ecs_examples(void **state)
{
    (void)state;
    char *text = read_file(ECSREV_TEST_DATA "/sigv4/ecs/ecs-sigv4-worked-examples.json");
    assert_non_null(text);
    cJSON *doc = NULL;
    assert_int_equal(ecsrev_json__parse(&doc, text, strlen(text), NULL), 0);
    const cJSON *ex;
    size_t count = 0;
    cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(doc, "examples"))
    {
        run_ecs_example(ex);
        count++;
    }
    assert_int_equal(count, 2);
    cJSON_Delete(doc);
    free(text);
}

/* ---- unit cases ---------------------------------------------------------------------------- */

static void test_uri_encode(void **state)
{
    (void)state;
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    assert_int_equal(ecsrev_sigv4_uri_encode(&b, "a-Z_0.~/ %+=\xe1\x88\xb4", 15, false, NULL), 0);
    assert_string_equal(b.ptr, "a-Z_0.~/%20%25%2B%3D%E1%88%B4");
    ecsrev_buf_clear(&b);
    assert_int_equal(ecsrev_sigv4_uri_encode(&b, "a/b", 3, true, NULL), 0);
    assert_string_equal(b.ptr, "a%2Fb");
    ecsrev_buf_dispose(&b);
    assert_int_equal(ecsrev_sigv4_uri_encode(&b, "", 0, true, NULL), 0);
    assert_string_equal(b.ptr, "");
    ecsrev_buf_dispose(&b);
    struct ecsrev_buf small;
    ecsrev_buf_init(&small, 4);
    assert_int_equal(ecsrev_sigv4_uri_encode(&small, "    ", 4, true, NULL), ECSREV_EINVAL);
    ecsrev_buf_dispose(&small);
}

static void test_amz_date(void **state)
{
    (void)state;
    char d[17];
    ecsrev_sigv4_amz_date(d, 1440938160000LL);
    assert_string_equal(d, "20150830T123600Z");
    ecsrev_sigv4_amz_date(d, 0);
    assert_string_equal(d, "19700101T000000Z");
    ecsrev_sigv4_amz_date(d, -1);
    assert_string_equal(d, "19691231T235959Z");
    ecsrev_sigv4_amz_date(d, 951782400999LL); /* leap day 2000 */
    assert_string_equal(d, "20000229T000000Z");
    ecsrev_sigv4_amz_date(d, 4102444799000LL);
    assert_string_equal(d, "20991231T235959Z");
    ecsrev_sigv4_amz_date(d, INT64_MAX);
    assert_string_equal(d, "99991231T235959Z");
    ecsrev_sigv4_amz_date(d, INT64_MIN);
    assert_string_equal(d, "00000101T000000Z");
}

static int sign_simple(const struct ecsrev_http_header *h, size_t n, const char *date,
                       const char *region, const char *host, struct ecsrev_error *err)
{
    struct ecsrev_credentials creds = {AKID, SECRET, NULL, ECSREV_CREDS_NO_EXPIRY, {0}};
    struct ecsrev_sigv4_request req = {"POST", host, "/", NULL, h, n, NULL, 0};
    struct ecsrev_sigv4_signing s = {region, "ecs", date, true, true};
    struct ecsrev_buf authz = ECSREV_BUF_INIT;
    int rc = ecsrev_sigv4_sign(&authz, NULL, NULL, &req, &creds, &s, err);
    assert_true(rc != 0 || strncmp(authz.ptr, "AWS4-HMAC-SHA256 Credential=", 28) == 0);
    ecsrev_buf_dispose(&authz);
    return rc;
}

static void test_bad_inputs(void **state)
{
    (void)state;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    const char *h = "example.amazonaws.com";
    assert_int_equal(sign_simple(NULL, 0, DATE, "us-east-1", h, &err), 0);
    assert_int_equal(sign_simple(NULL, 0, "2015-08-30", "us-east-1", h, &err), ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "amz date"));
    assert_int_equal(sign_simple(NULL, 0, DATE, "us/east", h, &err), ECSREV_EINVAL);
    assert_int_equal(sign_simple(NULL, 0, DATE, "", h, &err), ECSREV_EINVAL);
    assert_int_equal(sign_simple(NULL, 0, DATE, "us-east-1", "a\r\nb", &err), ECSREV_EINVAL);
    struct ecsrev_http_header bad_value[] = {{"X-Test", "a\r\nInjected: 1"}};
    assert_int_equal(sign_simple(bad_value, 1, DATE, "us-east-1", h, &err), ECSREV_EINVAL);
    struct ecsrev_http_header bad_name[] = {{"X Test", "a"}};
    assert_int_equal(sign_simple(bad_name, 1, DATE, "us-east-1", h, &err), ECSREV_EINVAL);
    struct ecsrev_http_header host[] = {{"hOsT", "a"}};
    assert_int_equal(sign_simple(host, 1, DATE, "us-east-1", h, &err), ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "added by the signer"));
    struct ecsrev_http_header token[] = {{"X-Amz-Security-Token", "secret-token"}};
    assert_int_equal(sign_simple(token, 1, DATE, "us-east-1", h, &err), ECSREV_EINVAL);
    assert_null(strstr(err.msg, "secret-token"));
}

/* Different secret, date, region or token => different signature; the secret never leaks. */
static void test_signature_depends_on_inputs(void **state)
{
    (void)state;
    struct ecsrev_sigv4_request req = {
        "POST", "ecs.us-west-2.amazonaws.com", "/", NULL, NULL, 0, "{}", 2};
    struct ecsrev_credentials a = {AKID, SECRET, NULL, ECSREV_CREDS_NO_EXPIRY, {0}};
    struct ecsrev_credentials b = {AKID, "another-secret", NULL, ECSREV_CREDS_NO_EXPIRY, {0}};
    struct ecsrev_credentials c = {AKID, SECRET, "tok", ECSREV_CREDS_NO_EXPIRY, {0}};
    struct ecsrev_sigv4_signing s = {"us-west-2", "ecs", DATE, true, true};
    struct ecsrev_buf x = ECSREV_BUF_INIT;
    struct ecsrev_buf y = ECSREV_BUF_INIT;
    struct ecsrev_buf z = ECSREV_BUF_INIT;
    struct ecsrev_buf creq = ECSREV_BUF_INIT;
    assert_int_equal(ecsrev_sigv4_sign(&x, NULL, NULL, &req, &a, &s, NULL), 0);
    assert_int_equal(ecsrev_sigv4_sign(&y, NULL, NULL, &req, &b, &s, NULL), 0);
    assert_int_equal(ecsrev_sigv4_sign(&z, &creq, NULL, &req, &c, &s, NULL), 0);
    assert_string_not_equal(x.ptr, y.ptr);
    assert_string_not_equal(x.ptr, z.ptr);
    assert_null(strstr(x.ptr, SECRET));
    assert_non_null(strstr(z.ptr, "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    assert_non_null(strstr(creq.ptr, "\nx-amz-security-token:tok\n"));
    ecsrev_buf_clear(&z);
    s.sign_token = false;
    assert_int_equal(ecsrev_sigv4_sign(&z, NULL, NULL, &req, &c, &s, NULL), 0);
    assert_string_equal(x.ptr, z.ptr); /* unsigned token: same as no token */
    ecsrev_buf_dispose(&x);
    ecsrev_buf_dispose(&y);
    ecsrev_buf_dispose(&z);
    ecsrev_buf_dispose(&creq);
}

int main(void)
{
    ecsrev_json_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_c_auth_v4),
        cmocka_unit_test(test_botocore_suite),
        cmocka_unit_test(test_ecs_examples),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_amz_date),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_signature_depends_on_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
