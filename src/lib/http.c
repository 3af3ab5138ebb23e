/*
 * http.c - the HTTP transport on libcurl's multi interface (the only file
 * that includes curl headers).
 *
 * One multi handle drives every transfer; an easy handle per request, which
 * reuses the multi handle's connection cache, so consecutive requests to the
 * same endpoint keep their connections (and TLS sessions) open.
 *
 * Safety settings on every transfer: TLS peer and host verification on,
 * protocols limited to http and https, no redirects, a connect timeout, a
 * read timeout (no byte sent or received for read_timeout once connected
 * aborts; see on_progress) plus an overall cap of connect + 3 x read
 * timeout, response bodies capped at max_body and header blocks at
 * ECSREV_HTTP_MAX_HEADERS. max_body also caps the bodies of all requests
 * in flight together, so memory does not grow with the number of parallel
 * requests (a hostile endpoint streaming endless bodies to 8 requests would
 * otherwise hold 8 x max_body). A Content-Length over the cap fails at once.
 * Proxy variables from the environment are honoured by libcurl itself, as
 * curl(1) does.
 *
 * Invariant: every easy handle added to the multi handle has a struct
 * transfer as CURLOPT_PRIVATE and is on the transport's list until it is
 * returned by wait() or dropped by abort_all().
 */
#include <ecsrev/http.h>

#include <curl/curl.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

/* ---- libcurl, loaded on first use ---- */

#ifndef ECSREV_CURL_SONAME
#define ECSREV_CURL_SONAME "libcurl.so.4"
#endif

/*
 * The libcurl functions this file calls, looked up once by
 * ecsrev_http_global_init(). ecsrev is not linked with libcurl: loading it
 * and the three dozen libraries it depends on (TLS, LDAP, Kerberos, SSH,
 * HTTP/2, IDN...), with every symbol bound at start, was three quarters of
 * the start-up of every command, though only fetch (and audit --fetch) talk
 * to the network. Each type is checked against <curl/curl.h> at compile time
 * (CURL_FN_CHECK: _Generic does not evaluate its operand, so the check
 * references no libcurl symbol).
 */
typedef CURLcode (*curl_global_init_fn)(long flags);
typedef void (*curl_global_cleanup_fn)(void);
typedef CURL *(*curl_easy_init_fn)(void);
typedef CURLcode (*curl_easy_setopt_fn)(CURL *curl, CURLoption option, ...);
typedef CURLcode (*curl_easy_getinfo_fn)(CURL *curl, CURLINFO info, ...);
typedef void (*curl_easy_cleanup_fn)(CURL *curl);
typedef const char *(*curl_easy_strerror_fn)(CURLcode code);
typedef struct curl_slist *(*curl_slist_append_fn)(struct curl_slist *list, const char *data);
typedef void (*curl_slist_free_all_fn)(struct curl_slist *list);
typedef CURLM *(*curl_multi_init_fn)(void);
typedef CURLMcode (*curl_multi_setopt_fn)(CURLM *multi, CURLMoption option, ...);
typedef CURLMcode (*curl_multi_handle_fn)(CURLM *multi, CURL *curl);
typedef CURLMcode (*curl_multi_perform_fn)(CURLM *multi, int *running);
typedef CURLMcode (*curl_multi_poll_fn)(CURLM *multi, struct curl_waitfd extra_fds[],
                                        unsigned int extra_nfds, int timeout_ms, int *ret);
typedef CURLMsg *(*curl_multi_info_read_fn)(CURLM *multi, int *left);
typedef CURLMcode (*curl_multi_cleanup_fn)(CURLM *multi);
typedef const char *(*curl_multi_strerror_fn)(CURLMcode code);

/* type is a type name: it cannot be put in parentheses */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define CURL_FN_CHECK(fn, type)                                                                    \
    _Static_assert(_Generic((fn), type : 1, default : 0), #fn " does not match <curl/curl.h>")
/* NOLINTEND(bugprone-macro-parentheses) */
CURL_FN_CHECK(curl_global_init, curl_global_init_fn);
CURL_FN_CHECK(curl_global_cleanup, curl_global_cleanup_fn);
CURL_FN_CHECK(curl_easy_init, curl_easy_init_fn);
CURL_FN_CHECK(curl_easy_setopt, curl_easy_setopt_fn);
CURL_FN_CHECK(curl_easy_getinfo, curl_easy_getinfo_fn);
CURL_FN_CHECK(curl_easy_cleanup, curl_easy_cleanup_fn);
CURL_FN_CHECK(curl_easy_strerror, curl_easy_strerror_fn);
CURL_FN_CHECK(curl_slist_append, curl_slist_append_fn);
CURL_FN_CHECK(curl_slist_free_all, curl_slist_free_all_fn);
CURL_FN_CHECK(curl_multi_init, curl_multi_init_fn);
CURL_FN_CHECK(curl_multi_setopt, curl_multi_setopt_fn);
CURL_FN_CHECK(curl_multi_add_handle, curl_multi_handle_fn);
CURL_FN_CHECK(curl_multi_remove_handle, curl_multi_handle_fn);
CURL_FN_CHECK(curl_multi_perform, curl_multi_perform_fn);
CURL_FN_CHECK(curl_multi_poll, curl_multi_poll_fn);
CURL_FN_CHECK(curl_multi_info_read, curl_multi_info_read_fn);
CURL_FN_CHECK(curl_multi_cleanup, curl_multi_cleanup_fn);
CURL_FN_CHECK(curl_multi_strerror, curl_multi_strerror_fn);
#undef CURL_FN_CHECK

struct curl_api {
    curl_global_init_fn global_init;
    curl_global_cleanup_fn global_cleanup;
    curl_easy_init_fn easy_init;
    curl_easy_setopt_fn easy_setopt;
    curl_easy_getinfo_fn easy_getinfo;
    curl_easy_cleanup_fn easy_cleanup;
    curl_easy_strerror_fn easy_strerror;
    curl_slist_append_fn slist_append;
    curl_slist_free_all_fn slist_free_all;
    curl_multi_init_fn multi_init;
    curl_multi_setopt_fn multi_setopt;
    curl_multi_handle_fn multi_add_handle;
    curl_multi_handle_fn multi_remove_handle;
    curl_multi_perform_fn multi_perform;
    curl_multi_poll_fn multi_poll;
    curl_multi_info_read_fn multi_info_read;
    curl_multi_cleanup_fn multi_cleanup;
    curl_multi_strerror_fn multi_strerror;
};

static struct curl_api s_curl;
static bool s_curl_ready; /* loaded, and curl_global_init done */

struct curl_sym {
    const char *name;
    void **slot;
};

int ecsrev_http_global_init(struct ecsrev_error *err)
{
    if (s_curl_ready) {
        return 0;
    }
    void *lib = dlopen(ECSREV_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        /* once, before any thread (see http.h) */
        const char *why = dlerror(); /* NOLINT(concurrency-mt-unsafe) */
        return ecsrev_error_set(err, ECSREV_ENET, "cannot load libcurl (%s): %s",
                                ECSREV_CURL_SONAME, why != NULL ? why : "unknown reason");
    }
    struct curl_api api;
    /* dlsym's object pointer into a function pointer: POSIX allows it. */
#define SYM(field)                                                                                 \
    {                                                                                              \
        "curl_" #field, (void **)(void *)&api.field                                                \
    }
    const struct curl_sym syms[] = {
        SYM(global_init),         SYM(global_cleanup), SYM(easy_init),     SYM(easy_setopt),
        SYM(easy_getinfo),        SYM(easy_cleanup),   SYM(easy_strerror), SYM(slist_append),
        SYM(slist_free_all),      SYM(multi_init),     SYM(multi_setopt),  SYM(multi_add_handle),
        SYM(multi_remove_handle), SYM(multi_perform),  SYM(multi_poll),    SYM(multi_info_read),
        SYM(multi_cleanup),       SYM(multi_strerror),
    };
#undef SYM
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *f = dlsym(lib, syms[i].name);
        if (f == NULL) {
            (void)dlclose(lib);
            return ecsrev_error_set(err, ECSREV_ENET, "libcurl (%s) has no %s: too old",
                                    ECSREV_CURL_SONAME, syms[i].name);
        }
        memcpy(syms[i].slot, &f, sizeof(f));
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        (void)dlclose(lib);
        return ecsrev_error_set(err, ECSREV_ENET, "cannot initialize libcurl");
    }
    s_curl = api;
    s_curl_ready = true; /* the library stays loaded until the process ends */
    return 0;
}

void ecsrev_http_global_cleanup(void)
{
    if (s_curl_ready) {
        s_curl.global_cleanup();
        s_curl_ready = false;
    }
}

struct transfer {
    struct transfer *next;
    struct curl_transport *owner;
    CURL *easy;
    struct curl_slist *headers;
    uint64_t id;
    bool body_too_large;    /* this body alone went over max_body */
    bool bodies_too_large;  /* the bodies in flight together went over max_body */
    bool headers_too_large; /* header block over ECSREV_HTTP_MAX_HEADERS */
    bool read_timed_out;
    curl_off_t last_ul, last_dl; /* byte counts at the last progress call */
    curl_off_t last_activity_us; /* transfer time of the last byte moved */
    struct ecsrev_http_response resp;
    char errbuf[CURL_ERROR_SIZE];
};

struct curl_transport {
    struct ecsrev_transport base; /* must stay first */
    CURLM *multi;
    struct transfer *list;
    struct ecsrev_http_options opts;
    char *ca_bundle;
    char *user_agent;
};

void ecsrev_http_response_init(struct ecsrev_http_response *r)
{
    r->status = 0;
    ecsrev_buf_init(&r->headers, ECSREV_HTTP_MAX_HEADERS);
    ecsrev_buf_init(&r->body, ECSREV_HTTP_MAX_BODY_DEFAULT);
}

void ecsrev_http_response_dispose(struct ecsrev_http_response *r)
{
    if (r == NULL) {
        return;
    }
    ecsrev_buf_dispose(&r->headers);
    ecsrev_buf_dispose(&r->body);
    r->status = 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *ecsrev_http_response_header(const struct ecsrev_http_response *r, const char *name)
{
    char *found = NULL;
    size_t name_len = strlen(name);
    const char *p = r->headers.ptr;
    const char *end = p == NULL ? NULL : p + r->headers.len;
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol == NULL ? end : eol;
        if ((size_t)(line_end - p) > name_len && p[name_len] == ':' &&
            strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            const char *ve = line_end;
            while (v < ve && is_blank(*v)) {
                v++;
            }
            while (ve > v && is_blank(ve[-1])) {
                ve--;
            }
            free(found);
            found = ecsrev_xstrndup(v, (size_t)(ve - v));
        }
        p = eol == NULL ? end : eol + 1;
    }
    return found;
}

/* ---- libcurl callbacks ---- */

/* Bytes of response bodies held by the transfers in flight. */
static size_t bodies_in_flight(const struct curl_transport *t)
{
    size_t sum = 0;
    for (const struct transfer *x = t->list; x != NULL; x = x->next) {
        sum += x->resp.body.len;
    }
    return sum;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *x = userdata;
    size_t n = size * nmemb;
    size_t cap = x->owner->opts.max_body;
    if (n > cap - x->resp.body.len) {
        x->body_too_large = true;
        return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    }
    if (n > cap - bodies_in_flight(x->owner) ||
        ecsrev_buf_append(&x->resp.body, data, n, NULL) < 0) {
        x->bodies_too_large = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *x = userdata;
    size_t n = size * nmemb;
    /* A new status line starts a new header block (after "100 Continue"). */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        ecsrev_buf_clear(&x->resp.headers);
        return n;
    }
    if (ecsrev_buf_append(&x->resp.headers, data, n, NULL) < 0) {
        x->headers_too_large = true;
        return 0;
    }
    return n;
}

/*
 * Read timeout: fail when no byte moved for read_timeout_ms once connected.
 * libcurl's own low-speed check averages over 5 s windows, which would make
 * a 1 s timeout fire after 6 s; this callback uses libcurl's transfer clock
 * (CURLINFO_*_TIME_T), called at least once a second while idle.
 */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)ultotal;
    struct transfer *x = userdata;
    curl_off_t pre = 0;
    curl_off_t total = 0;
    if (s_curl.easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK || pre == 0 ||
        s_curl.easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total) != CURLE_OK) {
        return 0; /* still connecting: the connect timeout applies */
    }
    if (x->last_activity_us < pre || dlnow != x->last_dl || ulnow != x->last_ul) {
        x->last_dl = dlnow;
        x->last_ul = ulnow;
        x->last_activity_us = total > pre ? total : pre;
        return 0;
    }
    if ((total - x->last_activity_us) / 1000 >= x->owner->opts.read_timeout_ms) {
        x->read_timed_out = true;
        return 1; /* aborts the transfer with CURLE_ABORTED_BY_CALLBACK */
    }
    return 0;
}

/* ---- transfers ---- */

static void transfer_free(struct transfer *x)
{
    if (x == NULL) {
        return;
    }
    if (x->easy != NULL) {
        (void)s_curl.multi_remove_handle(x->owner->multi, x->easy);
        s_curl.easy_cleanup(x->easy);
    }
    s_curl.slist_free_all(x->headers);
    ecsrev_http_response_dispose(&x->resp);
    free(x);
}

static void unlink_transfer(struct curl_transport *t, const struct transfer *x)
{
    for (struct transfer **pp = &t->list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            return;
        }
    }
}

static bool header_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\r' || *s == '\n') {
            return false;
        }
    }
    return true;
}

static int build_headers(struct transfer *x, const struct ecsrev_http_request *req,
                         struct ecsrev_error *err)
{
    /* An empty "Expect:" stops libcurl from waiting for "100 Continue" on larger bodies. */
    x->headers = s_curl.slist_append(x->headers, "Expect:");
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct ecsrev_http_header *h = &req->headers[i];
        if (!header_ok(h->name) || !header_ok(h->value) || h->name[0] == '\0' ||
            strchr(h->name, ':') != NULL) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "invalid http header '%s'", h->name);
        }
        struct ecsrev_buf line = ECSREV_BUF_INIT;
        int rc = ecsrev_buf_printf(&line, err, "%s: %s", h->name, h->value);
        if (rc == 0) {
            x->headers = s_curl.slist_append(x->headers, line.ptr);
        }
        ecsrev_buf_dispose_secret(&line); /* may hold Authorization or a token */
        if (rc < 0) {
            return rc;
        }
        if (x->headers == NULL) {
            abort(); /* out of memory inside libcurl */
        }
    }
    return 0;
}

static CURLcode set_method(CURL *e, const struct ecsrev_http_request *req)
{
    if (strcmp(req->method, "GET") == 0) {
        return s_curl.easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    CURLcode c = s_curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (c == CURLE_OK) {
        c = s_curl.easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
                               req->body_len == 0 ? "" : (const char *)req->body);
    }
    if (c == CURLE_OK && strcmp(req->method, "POST") != 0) {
        c = s_curl.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return c;
}

static int set_options(struct curl_transport *t, struct transfer *x,
                       const struct ecsrev_http_request *req, struct ecsrev_error *err)
{
    CURL *e = x->easy;
    const struct ecsrev_http_options *o = &t->opts;
    CURLcode c = CURLE_OK;
    int64_t total_ms = o->connect_timeout_ms + 3 * o->read_timeout_ms;
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (c == CURLE_OK) {                                                                       \
            c = s_curl.easy_setopt(e, opt, val);                                                   \
        }                                                                                          \
    } while (0)
    SETOPT(CURLOPT_PRIVATE, (void *)x);
    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->ca_bundle != NULL) {
        SETOPT(CURLOPT_CAINFO, t->ca_bundle);
    }
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(CURLOPT_XFERINFODATA, (void *)x);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)total_ms);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body); /* a bigger Content-Length */
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_USERAGENT, t->user_agent);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, (void *)x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, (void *)x);
    SETOPT(CURLOPT_HTTPHEADER, x->headers);
    if (c == CURLE_OK) {
        c = set_method(e, req);
    }
#undef SETOPT
    if (c != CURLE_OK) {
        return ecsrev_error_set_cause(err, ECSREV_EINVAL, (int)c, "http request to '%s': %s",
                                      req->url, s_curl.easy_strerror(c));
    }
    return 0;
}

static int do_submit(struct ecsrev_transport *base, uint64_t id,
                     const struct ecsrev_http_request *req, struct ecsrev_error *err)
{
    struct curl_transport *t = (struct curl_transport *)base;
    struct transfer *x = ecsrev_xcalloc(1, sizeof(*x));
    int rc = 0;
    x->owner = t;
    x->id = id;
    ecsrev_http_response_init(&x->resp);
    x->resp.body.max = t->opts.max_body;
    x->easy = s_curl.easy_init();
    if (x->easy == NULL) {
        abort(); /* libcurl only fails this on out-of-memory */
    }
    if ((rc = build_headers(x, req, err)) < 0 || (rc = set_options(t, x, req, err)) < 0) {
        goto done;
    }
    CURLMcode mc = s_curl.multi_add_handle(t->multi, x->easy);
    if (mc != CURLM_OK) {
        rc = ecsrev_error_set_cause(err, ECSREV_ENET, (int)mc, "http: %s",
                                    s_curl.multi_strerror(mc));
        goto done;
    }
    x->next = t->list;
    t->list = x;
    x = NULL;
done:
    if (x != NULL) {
        s_curl.easy_cleanup(x->easy);
        x->easy = NULL;
        transfer_free(x);
    }
    return rc;
}

/* Whether a failed transfer may succeed when tried again. */
static bool retryable_code(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* "Failed to connect" -> "failed to connect", but keep "SSL ..." as it is. */
static void lower_first(char *s)
{
    if (is_upper(s[0]) && !is_upper(s[1])) {
        s[0] = (char)(s[0] - 'A' + 'a');
    }
}

static void fill_completion(struct ecsrev_http_completion *out, struct transfer *x, CURLcode c)
{
    char *url = NULL;
    (void)s_curl.easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
    memset(out, 0, sizeof(*out));
    out->id = x->id;
    out->resp = x->resp;
    ecsrev_http_response_init(&x->resp); /* ownership moved to out */
    (void)s_curl.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &out->resp.status);
    if (c == CURLE_OK) {
        return;
    }
    char cap[32];
    size_t max_body = x->owner->opts.max_body;
    if (max_body % ((size_t)1 << 20) == 0) {
        (void)snprintf(cap, sizeof(cap), "%zu MiB", max_body >> 20);
    } else {
        (void)snprintf(cap, sizeof(cap), "%zu bytes", max_body);
    }
    if (x->body_too_large || c == CURLE_FILESIZE_EXCEEDED) {
        out->rc = ecsrev_error_set(&out->err, ECSREV_EHTTP, "%s: response larger than %s",
                                   url != NULL ? url : "?", cap);
        return;
    }
    if (x->bodies_too_large) {
        out->rc = ecsrev_error_set(&out->err, ECSREV_EHTTP,
                                   "%s: responses in flight larger than %s together",
                                   url != NULL ? url : "?", cap);
        return;
    }
    if (x->headers_too_large) {
        out->rc =
            ecsrev_error_set(&out->err, ECSREV_EHTTP, "%s: response headers larger than %zu KiB",
                             url != NULL ? url : "?", ECSREV_HTTP_MAX_HEADERS >> 10);
        return;
    }
    if (x->read_timed_out) {
        out->retryable = true;
        out->timeout = true;
        out->rc = ecsrev_error_set_cause(&out->err, ECSREV_ENET, (int)CURLE_OPERATION_TIMEDOUT,
                                         "%s: no data for %lld ms (read timeout)",
                                         url != NULL ? url : "?",
                                         (long long)x->owner->opts.read_timeout_ms);
        return;
    }
    char msg[CURL_ERROR_SIZE];
    (void)snprintf(msg, sizeof(msg), "%s",
                   x->errbuf[0] != '\0' ? x->errbuf : s_curl.easy_strerror(c));
    lower_first(msg);
    out->retryable = retryable_code(c);
    out->timeout = c == CURLE_OPERATION_TIMEDOUT;
    out->rc = ecsrev_error_set_cause(&out->err, ECSREV_ENET, (int)c, "%s: %s",
                                     url != NULL ? url : "?", msg);
}

/* Return the next finished transfer, if libcurl has one. */
static bool take_done(struct curl_transport *t, struct ecsrev_http_completion *out)
{
    int left = 0;
    CURLMsg *m = NULL;
    while ((m = s_curl.multi_info_read(t->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        char *priv = NULL;
        CURLcode c = m->data.result;
        (void)s_curl.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        struct transfer *x = (struct transfer *)(void *)priv;
        fill_completion(out, x, c);
        unlink_transfer(t, x);
        transfer_free(x);
        return true;
    }
    return false;
}

static int do_wait(struct ecsrev_transport *base, struct ecsrev_http_completion *out,
                   int64_t timeout_ms, bool *got, struct ecsrev_error *err)
{
    struct curl_transport *t = (struct curl_transport *)base;
    *got = false;
    bool forever = timeout_ms < 0;
    for (;;) {
        int running = 0;
        CURLMcode mc = s_curl.multi_perform(t->multi, &running);
        if (mc != CURLM_OK) {
            return ecsrev_error_set_cause(err, ECSREV_ENET, (int)mc, "http: %s",
                                          s_curl.multi_strerror(mc));
        }
        if (take_done(t, out)) {
            *got = true;
            return 0;
        }
        if (running == 0 && t->list == NULL) {
            return 0; /* nothing in flight */
        }
        int poll_ms = forever ? 1000 : (int)(timeout_ms > 1000 ? 1000 : timeout_ms);
        mc = s_curl.multi_poll(t->multi, NULL, 0, poll_ms, NULL);
        if (mc != CURLM_OK) {
            return ecsrev_error_set_cause(err, ECSREV_ENET, (int)mc, "http: %s",
                                          s_curl.multi_strerror(mc));
        }
        if (!forever) {
            /* No clock here: count the poll's maximum as spent; callers loop anyway. */
            timeout_ms -= poll_ms;
            if (timeout_ms <= 0) {
                mc = s_curl.multi_perform(t->multi, &running);
                *got = mc == CURLM_OK && take_done(t, out);
                return 0;
            }
        }
    }
}

static void do_abort_all(struct ecsrev_transport *base)
{
    struct curl_transport *t = (struct curl_transport *)base;
    while (t->list != NULL) {
        struct transfer *x = t->list;
        t->list = x->next;
        transfer_free(x);
    }
}

static void do_free(struct ecsrev_transport *base)
{
    struct curl_transport *t = (struct curl_transport *)base;
    if (t == NULL) {
        return;
    }
    do_abort_all(base);
    (void)s_curl.multi_cleanup(t->multi);
    free(t->ca_bundle);
    free(t->user_agent);
    free(t);
}

int ecsrev_http_transport_new(struct ecsrev_transport **out, const struct ecsrev_http_options *opts,
                              struct ecsrev_error *err)
{
    *out = NULL;
    if (opts->connect_timeout_ms <= 0 || opts->connect_timeout_ms > 3600000 ||
        opts->read_timeout_ms <= 0 || opts->read_timeout_ms > 3600000) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "http timeouts must be between 1 ms and 1 h");
    }
    if (!s_curl_ready) {
        return ecsrev_error_set(err, ECSREV_ENET,
                                "http: libcurl is not loaded (ecsrev_http_global_init)");
    }
    struct curl_transport *t = ecsrev_xcalloc(1, sizeof(*t));
    t->base.submit = do_submit;
    t->base.wait = do_wait;
    t->base.abort_all = do_abort_all;
    t->base.free = do_free;
    t->opts = *opts;
    if (t->opts.max_body == 0) {
        t->opts.max_body = ECSREV_HTTP_MAX_BODY_DEFAULT;
    }
    if (t->opts.max_connections == 0) {
        t->opts.max_connections = 8;
    }
    t->ca_bundle = opts->ca_bundle != NULL ? ecsrev_xstrdup(opts->ca_bundle) : NULL;
    t->user_agent = ecsrev_xstrdup(opts->user_agent != NULL ? opts->user_agent : "ecsrev");
    t->opts.ca_bundle = t->ca_bundle;
    t->opts.user_agent = t->user_agent;
    t->multi = s_curl.multi_init();
    if (t->multi == NULL) {
        abort(); /* out of memory inside libcurl */
    }
    long conns = (long)t->opts.max_connections;
    (void)s_curl.multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    (void)s_curl.multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, conns + 4);
    *out = &t->base;
    return 0;
}

int ecsrev_http_send(struct ecsrev_transport *t, const struct ecsrev_http_request *req,
                     struct ecsrev_http_response *out, struct ecsrev_error *err)
{
    int rc = t->submit(t, 1, req, err);
    if (rc < 0) {
        return rc;
    }
    for (;;) {
        struct ecsrev_http_completion c;
        bool got = false;
        if ((rc = t->wait(t, &c, -1, &got, err)) < 0) {
            t->abort_all(t);
            return rc;
        }
        if (!got) {
            return ecsrev_error_set(err, ECSREV_ENET, "http: request to '%s' vanished", req->url);
        }
        if (c.rc < 0) {
            if (err != NULL) {
                *err = c.err;
            }
            ecsrev_http_response_dispose(&c.resp);
            return c.rc;
        }
        ecsrev_http_response_dispose(out);
        *out = c.resp;
        return 0;
    }
}
