/**
 * http.h - the HTTP transport behind a struct of function pointers.
 *
 * A transport runs several requests at once: the caller submits requests,
 * each tagged with an id of its choosing, and collects completions one by one
 * with wait(), in whatever order they finish. The libcurl implementation
 * (ecsrev_http_transport_new) keeps its connections open between requests;
 * tests of the ECS client plug in a fake transport with the same interface.
 *
 * A completion with rc == 0 means an HTTP response arrived, whatever its
 * status; rc < 0 is a transport failure (connect, TLS, timeout, reset, body
 * over the cap) with `retryable` saying whether trying again can help.
 *
 * No libcurl type appears here; libcurl is used only in src/lib/http.c.
 */
#ifndef ECSREV_HTTP_H
#define ECSREV_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/error.h>
#include <ecsrev/sigv4.h> /* struct ecsrev_http_header */

#ifdef __cplusplus
extern "C" {
#endif

/** Default cap on one response body: 64 MiB. */
#define ECSREV_HTTP_MAX_BODY_DEFAULT ((size_t)64 * 1024 * 1024)
/** Cap on the header block of one response: 64 KiB. */
#define ECSREV_HTTP_MAX_HEADERS ((size_t)64 * 1024)

/** One request. Everything is borrowed for the duration of submit() only. */
struct ecsrev_http_request {
    const char *method;                       /**< "GET", "POST", "PUT" */
    const char *url;                          /**< absolute http:// or https:// URL */
    const struct ecsrev_http_header *headers; /**< sent as given (Host overrides the default) */
    size_t n_headers;
    const void *body; /**< may be NULL when body_len is 0 */
    size_t body_len;
};

/** A response: status, raw header block of the final response, body. */
struct ecsrev_http_response {
    long status;               /**< HTTP status code, e.g. 200 */
    struct ecsrev_buf headers; /**< "Name: value\r\n" lines of the final response */
    struct ecsrev_buf body;    /**< the body, capped */
};

/** Initialize @p r empty (status 0). */
void ecsrev_http_response_init(struct ecsrev_http_response *r);

/** Free what @p r owns. Accepts NULL. */
void ecsrev_http_response_dispose(struct ecsrev_http_response *r);

/**
 * The value of response header @p name (case-insensitive), leading and
 * trailing blanks removed; the last one wins if repeated.
 * @return owned string (free()), or NULL when absent
 */
char *ecsrev_http_response_header(const struct ecsrev_http_response *r, const char *name);

/** One finished request, as returned by wait(). */
struct ecsrev_http_completion {
    uint64_t id;    /**< the id given to submit() */
    int rc;         /**< 0: a response arrived (see resp); < 0: transport failure (see err) */
    bool retryable; /**< rc < 0 only: connect failure, reset or timeout (not TLS, URL, cap) */
    bool timeout;   /**< rc < 0 only: the failure was a timeout */
    struct ecsrev_error err;          /**< rc < 0 only */
    struct ecsrev_http_response resp; /**< owned by the caller: ecsrev_http_response_dispose() */
};

/**
 * A transport. Implementations embed this struct as their first member.
 * Not thread-safe: one thread drives it.
 */
struct ecsrev_transport {
    /**
     * Start @p req. Copies what it needs before returning.
     * @return 0, or a negative code (e.g. EINVAL for a bad URL) with @p err set
     */
    int (*submit)(struct ecsrev_transport *t, uint64_t id, const struct ecsrev_http_request *req,
                  struct ecsrev_error *err);
    /**
     * Collect one finished request into @p out (which the caller disposes).
     * Waits up to about @p timeout_ms (negative: until one finishes) and may
     * return early without one.
     * @param got set true when @p out was filled
     * @return 0, or a negative code when the transport itself failed
     */
    int (*wait)(struct ecsrev_transport *t, struct ecsrev_http_completion *out, int64_t timeout_ms,
                bool *got, struct ecsrev_error *err);
    /** Drop every request in flight; their completions are never returned. */
    void (*abort_all)(struct ecsrev_transport *t);
    /** Free the transport (aborting requests in flight). */
    void (*free)(struct ecsrev_transport *t);
};

/** Options of the libcurl transport. */
struct ecsrev_http_options {
    int64_t connect_timeout_ms; /**< TCP + TLS connect; default 10 s */
    int64_t read_timeout_ms;    /**< fail when no byte moves for this long once connected; 60 s */
    const char *ca_bundle;      /**< PEM file of trusted CAs (AWS_CA_BUNDLE), NULL: system */
    size_t max_body;        /**< cap on one response body and on all bodies in flight together; 0:
                               ECSREV_HTTP_MAX_BODY_DEFAULT */
    size_t max_connections; /**< connections kept per host; default 8 */
    const char *user_agent; /**< User-Agent; NULL: "ecsrev" */
};

/** Defaults: 10 s connect, 60 s read, system CAs, 64 MiB, 8 connections. */
#define ECSREV_HTTP_OPTIONS_INIT                                                                   \
    {                                                                                              \
        10000, 60000, NULL, 0, 8, NULL                                                             \
    }

/**
 * Load libcurl (dlopen of its ABI, libcurl.so.4, so that commands that never
 * talk to the network do not load it and its dependencies at start) and
 * initialize it (curl_global_init). Once, before any thread: main calls it
 * for the commands that fetch. Calling it again does nothing.
 * @return 0, or ECSREV_ENET (libcurl cannot be loaded or initialized: the
 *         message says why)
 */
ECSREV_MUST_CHECK int ecsrev_http_global_init(struct ecsrev_error *err);

/** Undo ecsrev_http_global_init() (curl_global_cleanup); libcurl stays loaded. */
void ecsrev_http_global_cleanup(void);

/**
 * The libcurl transport (multi interface). TLS peer and host verification is
 * always on; only http and https are allowed; redirects are not followed.
 * Proxies follow libcurl's defaults (http_proxy, https_proxy, no_proxy from
 * the environment). The whole transfer is capped at connect + 3 x read
 * timeout, so a server sending one byte at a time cannot hold it forever.
 * ecsrev_http_global_init() must have been called (main does it).
 * @param out owned; free with (*out)->free(*out)
 * @param opts borrowed for this call (strings are copied)
 * @return 0, or ECSREV_EINVAL (an option out of range, or libcurl refusing an option)
 */
ECSREV_MUST_CHECK int ecsrev_http_transport_new(struct ecsrev_transport **out,
                                                const struct ecsrev_http_options *opts,
                                                struct ecsrev_error *err);

/**
 * Send one request and wait for it, on a transport with nothing else in
 * flight (used for the credential endpoints).
 * @param out filled on success (caller disposes; initialize it first)
 * @return 0 when a response arrived (any status), or the transport's error
 */
ECSREV_MUST_CHECK int ecsrev_http_send(struct ecsrev_transport *t,
                                       const struct ecsrev_http_request *req,
                                       struct ecsrev_http_response *out, struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
