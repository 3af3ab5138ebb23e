/*
 * verify.c - integrity check of the store and its SHA-256 history chain.
 *
 * Order: read the recorded head, walk the events (local checks per event:
 * sequence number, previous-head link, head = SHA-256(prev || body), body
 * parse; collect the ARNs and content hashes each event records), then walk
 * the revision records (body present, XXH3 of the body equals the recorded
 * hash, recorded hash equals the one in the chain), then report the chain's
 * ARNs that have no record. Each damaged place is reported once: an altered
 * event does not make every later event fail, because links are checked
 * against the stored heads and each head against its own event.
 *
 * The head is read in its own transaction before the events: events appended
 * by a concurrent writer after it (seq > recorded seq) are checked but not
 * compared with the recorded head.
 */
#include <ecsrev/verify.h>

#include "json_priv.h"

#include <ecsrev/hash.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct chain_rev {
    char *arn;
    char hash[ECSREV_HASH_HEX_LEN];
    uint64_t seq;
    bool seen;
};

struct vctx {
    struct ecsrev_verify_report *r;
    const uint8_t *expect;
    uint8_t last_head[ECSREV_SHA256_LEN];
    uint64_t last_seq;
    uint8_t recorded_head_at_seq[ECSREV_SHA256_LEN];
    bool recorded_seq_seen;
    struct chain_rev *revs;
    size_t n_revs, cap_revs;
};

static void problem(struct ecsrev_verify_report *r, const char *kind, const char *arn, uint64_t seq,
                    const char *fmt, ...) ECSREV_PRINTF(5, 6);

static void problem(struct ecsrev_verify_report *r, const char *kind, const char *arn, uint64_t seq,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->problems = ecsrev_xrealloc(r->problems, (r->n_problems + 1) * sizeof(*r->problems));
    struct ecsrev_verify_problem *p = &r->problems[r->n_problems++];
    p->kind = kind;
    p->arn = arn != NULL ? ecsrev_xstrdup(arn) : NULL;
    p->seq = seq;
    p->message = ecsrev_xstrdup(msg);
}

void ecsrev_verify_report_dispose(struct ecsrev_verify_report *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->n_problems; i++) {
        free(r->problems[i].arn);
        free(r->problems[i].message);
    }
    free(r->problems);
    struct ecsrev_verify_report zero = ECSREV_VERIFY_REPORT_INIT;
    *r = zero;
}

static void add_chain_rev(struct vctx *v, const char *arn, const char *hash, uint64_t seq)
{
    if (v->n_revs == v->cap_revs) {
        v->cap_revs = v->cap_revs ? v->cap_revs * 2 : 64;
        v->revs = ecsrev_xrealloc(v->revs, v->cap_revs * sizeof(*v->revs));
    }
    struct chain_rev *c = &v->revs[v->n_revs++];
    c->arn = ecsrev_xstrdup(arn);
    (void)snprintf(c->hash, sizeof(c->hash), "%s", hash);
    c->seq = seq;
    c->seen = false;
}

/* Collect the revisions an event records; report a body that is not as written. */
static void event_body(struct vctx *v, const struct ecsrev_store_event *ev)
{
    cJSON *doc = NULL;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_json__parse(&doc, ev->body, ev->body_len, &err) < 0) {
        problem(v->r, "event-body", NULL, ev->seq, "event %llu: body is not JSON: %s",
                (unsigned long long)ev->seq, err.msg);
        return;
    }
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(doc, "seq");
    const cJSON *revs = cJSON_GetObjectItemCaseSensitive(doc, "revisions");
    if (!cJSON_IsNumber(seq) || seq->valuedouble != (double)ev->seq || !cJSON_IsArray(revs)) {
        problem(v->r, "event-body", NULL, ev->seq,
                "event %llu: body does not match its record (seq or revisions)",
                (unsigned long long)ev->seq);
    }
    for (const cJSON *e = cJSON_IsArray(revs) ? revs->child : NULL; e != NULL; e = e->next) {
        const cJSON *arn = cJSON_GetObjectItemCaseSensitive(e, "arn");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(e, "contentHash");
        if (!cJSON_IsString(arn) || !cJSON_IsString(hash) ||
            strlen(hash->valuestring) != ECSREV_HASH_HEX_LEN - 1) {
            problem(v->r, "event-body", NULL, ev->seq, "event %llu: malformed revision entry",
                    (unsigned long long)ev->seq);
            continue;
        }
        add_chain_rev(v, arn->valuestring, hash->valuestring, ev->seq);
    }
    cJSON_Delete(doc);
}

static int on_event(const struct ecsrev_store_event *ev, void *payload)
{
    struct vctx *v = payload;
    unsigned long long seq = (unsigned long long)ev->seq;
    v->r->events++;
    if (ev->seq != v->last_seq + 1) {
        problem(v->r, "event-seq", NULL, ev->seq,
                "event %llu: expected sequence number %llu (events missing or reordered)", seq,
                (unsigned long long)v->last_seq + 1);
    }
    if (memcmp(ev->prev, v->last_head, ECSREV_SHA256_LEN) != 0) {
        problem(v->r, "event-prev", NULL, ev->seq,
                "event %llu: previous head does not match the head of event %llu", seq,
                (unsigned long long)v->last_seq);
    }
    uint8_t calc[ECSREV_SHA256_LEN];
    struct ecsrev_sha256_ctx *ctx = ecsrev_sha256_new();
    ecsrev_sha256_update(ctx, ev->prev, ECSREV_SHA256_LEN);
    ecsrev_sha256_update(ctx, ev->body, ev->body_len);
    ecsrev_sha256_final(ctx, calc);
    if (memcmp(calc, ev->head, ECSREV_SHA256_LEN) != 0) {
        problem(v->r, "event-head", NULL, ev->seq,
                "event %llu: head does not match SHA-256(prev || body): the event was altered",
                seq);
    }
    if (v->expect != NULL && memcmp(ev->head, v->expect, ECSREV_SHA256_LEN) == 0 &&
        memcmp(calc, ev->head, ECSREV_SHA256_LEN) == 0 && !v->r->expect_found) {
        v->r->expect_found = true;
        v->r->expect_seq = ev->seq;
    }
    if (ev->seq == v->r->seq) {
        v->recorded_seq_seen = true;
        memcpy(v->recorded_head_at_seq, ev->head, ECSREV_SHA256_LEN);
    }
    memcpy(v->last_head, ev->head, ECSREV_SHA256_LEN);
    v->last_seq = ev->seq;
    event_body(v, ev);
    return 0;
}

static int cmp_chain_rev(const void *a, const void *b)
{
    return strcmp(((const struct chain_rev *)a)->arn, ((const struct chain_rev *)b)->arn);
}

static struct chain_rev *find_chain_rev(struct vctx *v, const char *arn)
{
    struct chain_rev key;
    memset(&key, 0, sizeof(key));
    key.arn = (char *)(uintptr_t)arn;
    return v->n_revs == 0 ? NULL
                          : bsearch(&key, v->revs, v->n_revs, sizeof(*v->revs), cmp_chain_rev);
}

static int on_raw(const struct ecsrev_store_raw *raw, void *payload)
{
    struct vctx *v = payload;
    v->r->revisions++;
    char rec[ECSREV_HASH_HEX_LEN];
    ecsrev_hash_hex(rec, raw->content_hash);
    if (raw->body == NULL) {
        problem(v->r, "body-missing", raw->arn, 0, "revision %s: stored body is missing", raw->arn);
    } else {
        uint8_t h[ECSREV_HASH_LEN];
        char calc[ECSREV_HASH_HEX_LEN];
        ecsrev_hash128(h, raw->body, raw->body_len);
        ecsrev_hash_hex(calc, h);
        if (strcmp(calc, rec) != 0) {
            problem(v->r, "content-hash", raw->arn, 0,
                    "revision %s: body does not match its content hash (recorded %s, "
                    "computed %s)",
                    raw->arn, rec, calc);
        }
    }
    struct chain_rev *c = find_chain_rev(v, raw->arn);
    if (c == NULL) {
        problem(v->r, "not-in-chain", raw->arn, 0,
                "revision %s: not recorded by any event of the history chain", raw->arn);
    } else {
        c->seen = true;
        if (strcmp(c->hash, rec) != 0) {
            problem(v->r, "chain-hash", raw->arn, c->seq,
                    "revision %s: content hash %s differs from %s recorded by event %llu", raw->arn,
                    rec, c->hash, (unsigned long long)c->seq);
        }
    }
    return 0;
}

static void check_heads(struct vctx *v)
{
    struct ecsrev_verify_report *r = v->r;
    static const uint8_t zero[ECSREV_SHA256_LEN];
    if (r->seq == 0) {
        if (memcmp(r->head, zero, sizeof(zero)) != 0) {
            problem(r, "head", NULL, 0, "recorded head is not empty but no event is recorded");
        }
    } else if (!v->recorded_seq_seen) {
        problem(r, "head", NULL, r->seq, "recorded head names event %llu, which is missing",
                (unsigned long long)r->seq);
    } else if (memcmp(v->recorded_head_at_seq, r->head, ECSREV_SHA256_LEN) != 0) {
        problem(r, "head", NULL, r->seq,
                "recorded head differs from the head of event %llu: the chain was altered",
                (unsigned long long)r->seq);
    }
    if (v->expect != NULL && !r->expect_found) {
        char hex[2 * ECSREV_SHA256_LEN + 1];
        ecsrev_hex_encode(hex, v->expect, ECSREV_SHA256_LEN);
        problem(r, "expect", NULL, 0,
                "expected head %s is not in the chain: the history up to it was changed "
                "(or it belongs to another store)",
                hex);
    }
}

static void free_chain(struct vctx *v)
{
    for (size_t i = 0; i < v->n_revs; i++) {
        free(v->revs[i].arn);
    }
    free(v->revs);
}

int ecsrev_verify_store(struct ecsrev_verify_report *out, struct ecsrev_store *s,
                        const uint8_t *expect, struct ecsrev_error *err)
{
    struct ecsrev_verify_report zero = ECSREV_VERIFY_REPORT_INIT;
    *out = zero;
    out->expect_given = expect != NULL;
    struct vctx v;
    memset(&v, 0, sizeof(v));
    v.r = out;
    v.expect = expect;
    /* One snapshot for the head, the events and the revisions, so a write
     * committed meanwhile by another process cannot look like damage. */
    int rc = ecsrev_store_read_begin(s, err);
    if (rc < 0) {
        return rc;
    }
    rc = ecsrev_store_head(s, out->head, &out->seq, err);
    if (rc == 0) {
        rc = ecsrev_store_events(s, on_event, &v, err);
    }
    if (rc == 0) {
        if (v.n_revs > 1) {
            qsort(v.revs, v.n_revs, sizeof(*v.revs), cmp_chain_rev);
        }
        rc = ecsrev_store_raw(s, on_raw, &v, err);
    }
    if (rc == 0) {
        for (size_t i = 0; i < v.n_revs; i++) {
            if (!v.revs[i].seen && (i == 0 || strcmp(v.revs[i].arn, v.revs[i - 1].arn) != 0)) {
                problem(out, "revision-missing", v.revs[i].arn, v.revs[i].seq,
                        "revision %s: recorded by event %llu but not in the store", v.revs[i].arn,
                        (unsigned long long)v.revs[i].seq);
            }
        }
        check_heads(&v);
    }
    ecsrev_store_read_end(s);
    free_chain(&v);
    return rc;
}

int ecsrev_verify_head_parse(uint8_t out[ECSREV_SHA256_LEN], const char *hex,
                             struct ecsrev_error *err)
{
    if (strlen(hex) != (size_t)2 * ECSREV_SHA256_LEN) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "'%.80s' is not a chain head (64 hex digits)",
                                hex);
    }
    for (size_t i = 0; i < ECSREV_SHA256_LEN; i++) {
        int hi = ecsrev_hex_digit(hex[2 * i]);
        int lo = ecsrev_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "'%.80s' is not a chain head (64 hex digits)", hex);
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* JSON string literal (messages hold ARNs, which are plain ASCII, but escape anyway). */
static int put_jstr(struct ecsrev_buf *b, const char *s, struct ecsrev_error *err)
{
    if (s == NULL) {
        return ecsrev_buf_puts(b, "null", err);
    }
    int rc = ecsrev_buf_putc(b, '"', err);
    for (const char *p = s; rc == 0 && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            rc = ecsrev_buf_printf(b, err, "\\%c", c);
        } else if (c < 0x20) {
            rc = ecsrev_buf_printf(b, err, "\\u%04x", c);
        } else {
            rc = ecsrev_buf_putc(b, (char)c, err);
        }
    }
    return rc == 0 ? ecsrev_buf_putc(b, '"', err) : rc;
}

static int render_json(struct ecsrev_buf *b, const struct ecsrev_verify_report *r, const char *head,
                       struct ecsrev_error *err)
{
    int rc =
        ecsrev_buf_printf(b, err,
                          "{\"schema\":1,\"ok\":%s,\"head\":\"%s\","
                          "\"seq\":%llu,\"revisions\":%llu,\"events\":%llu,\"expect\":",
                          r->n_problems == 0 ? "true" : "false", head, (unsigned long long)r->seq,
                          (unsigned long long)r->revisions, (unsigned long long)r->events);
    if (rc == 0 && r->expect_given) {
        rc = r->expect_found ? ecsrev_buf_printf(b, err, "{\"found\":true,\"seq\":%llu}",
                                                 (unsigned long long)r->expect_seq)
                             : ecsrev_buf_puts(b, "{\"found\":false,\"seq\":null}", err);
    } else if (rc == 0) {
        rc = ecsrev_buf_puts(b, "null", err);
    }
    if (rc == 0) {
        rc = ecsrev_buf_puts(b, ",\"problems\":[", err);
    }
    for (size_t i = 0; rc == 0 && i < r->n_problems; i++) {
        const struct ecsrev_verify_problem *p = &r->problems[i];
        rc = ecsrev_buf_printf(b, err, "%s{\"kind\":\"%s\",\"arn\":", i > 0 ? "," : "", p->kind);
        if (rc == 0) {
            rc = put_jstr(b, p->arn, err);
        }
        if (rc == 0) {
            rc = p->seq > 0 ? ecsrev_buf_printf(
                                  b, err, ",\"seq\":%llu,\"message\":", (unsigned long long)p->seq)
                            : ecsrev_buf_puts(b, ",\"seq\":null,\"message\":", err);
        }
        if (rc == 0) {
            rc = put_jstr(b, p->message, err);
        }
        if (rc == 0) {
            rc = ecsrev_buf_putc(b, '}', err);
        }
    }
    return rc == 0 ? ecsrev_buf_puts(b, "]}\n", err) : rc;
}

static int render_text(struct ecsrev_buf *b, const struct ecsrev_verify_report *r, const char *head,
                       struct ecsrev_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n_problems; i++) {
        rc = ecsrev_buf_printf(b, err, "DAMAGED %s\n", r->problems[i].message);
    }
    if (rc == 0 && r->expect_given && r->expect_found) {
        rc = ecsrev_buf_printf(b, err, "expected head found at event %llu\n",
                               (unsigned long long)r->expect_seq);
    }
    if (rc == 0) {
        rc = ecsrev_buf_printf(b, err, "%s: %llu revisions, %llu events, %zu problem%s\n",
                               r->n_problems == 0 ? "ok" : "damaged",
                               (unsigned long long)r->revisions, (unsigned long long)r->events,
                               r->n_problems, r->n_problems == 1 ? "" : "s");
    }
    if (rc == 0) {
        rc = ecsrev_buf_printf(b, err, "head %s seq %llu\n", head, (unsigned long long)r->seq);
    }
    return rc;
}

int ecsrev_verify_render(struct ecsrev_buf *out, const struct ecsrev_verify_report *r, bool json,
                         struct ecsrev_error *err)
{
    char head[2 * ECSREV_SHA256_LEN + 1];
    ecsrev_hex_encode(head, r->head, ECSREV_SHA256_LEN);
    return json ? render_json(out, r, head, err) : render_text(out, r, head, err);
}
