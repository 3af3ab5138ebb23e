/*
 * cmd_import.c - `ecsrev import FILE...|-`: store revisions from files.
 *
 * A file is validated completely (parsed and every revision normalized)
 * before anything of it is stored, so a bad file leaves no trace and the other
 * files are still imported and reported one by one.
 *
 * Memory stays flat whatever the file size: JSON Lines are read one line at a
 * time, and normalized revisions are held in memory only up to CHUNK_BYTES of
 * canonical documents. A file that fits is stored in one transaction. A
 * larger one is stored in two phases:
 *
 *  1. while the file is read, each CHUNK_BYTES of revisions has its bodies
 *     staged (ecsrev_store_stage: bodies only, invisible to every command),
 *     and its records (ARN, service, times, hashes: a few hundred bytes each,
 *     no document) go to an unlinked temporary file. A second thread, the
 *     stager, does this for one chunk while this thread parses the next, so
 *     that the wait for each commit's flush to disk overlaps with parsing;
 *  2. once all of the file is known to be good, the records are streamed back
 *     into puts sized by the index (ecsrev_store_put_from with bodies_staged,
 *     see RECORDS_BUDGET), which make them visible with their chain events.
 *
 * A bad revision anywhere takes the staged bodies back (ecsrev_store_unstage),
 * so the file leaves no trace; unless another import is staging at the same
 * time (it may count on the same bodies): then they stay, unused and
 * invisible. A failure of the store while staging (a full disk) is reported
 * for the file, not for the line being read when it was noticed. Both phases
 * run in batch mode (each commit's meta page flushed by the next one, the
 * last by turning batch mode off). A crash leaves whole revisions and at
 * worst unused bodies; a rerun of the same import completes it (see
 * docs/STORE.md).
 *
 * Sizes trade speed for memory: every transaction rewrites the index pages it
 * touches, so fewer, larger ones write less; but LMDB keeps a transaction's
 * dirty pages in memory until its commit. Phase 2 therefore sizes its puts by
 * the index (RECORDS_BUDGET); 4 MiB chunks (two in memory, one being staged)
 * keep the peak resident size of a 100,000-revision import near 53 MiB
 * (bench/).
 */
#include <ecsrev/input.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * Canonical bytes held in memory before their bodies are staged. Two chunks
 * are in memory at a time (one being staged, see struct stager), plus the
 * staging transaction's copy of one.
 */
#define CHUNK_BYTES ((size_t)4 * 1024 * 1024)

/*
 * Puts of staged records. Each put rewrites every index page it touches, and
 * keeps those pages in memory until its commit. While the whole index fits
 * in RECORDS_BUDGET, one put takes as many records as keep it there (a
 * 20,000-revision import into a new store: one put, every index page
 * written once); beyond, RECORDS_PER_PUT at a time (records with random
 * ARNs touch about one page per table each, so the memory stays bounded
 * whatever the store's size).
 */
#define RECORDS_PER_PUT 3000
#define RECORDS_BUDGET ((uint64_t)20 * 1024 * 1024)
/* Index bytes per revision assumed while a store holds too few to tell. */
#define RECORD_INDEX_BYTES 1024

/* The spill file's stdio buffer: one read or write system call per MiB. */
#define SPILL_BUF ((size_t)1 << 20)
/* Longest line of a JSON Lines file. */
#define MAX_LINE ((size_t)64 * 1024 * 1024)

static const char *s_details =
    "Accepts what 'aws ecs describe-service-revisions' prints ({\"serviceRevisions\": [...],\n"
    "\"failures\": [...]}), the raw API response, a single ServiceRevision object, or JSON\n"
    "Lines of either (what 'ecsrev export' writes). Importing the same data again changes\n"
    "nothing. A file with any bad revision is rejected whole (exit 2); other files still load.";

struct totals {
    size_t added, existing, conflicts, files_rejected, revs_rejected, failures;
};

struct stager;

/* Normalized revisions of one file: in memory, or staged with their records spilled. */
struct pending {
    struct ecsrev_store *store;
    struct ecsrev_revision *revs;
    size_t n, cap, bytes;
    FILE *spill;           /* records of the revisions whose bodies are staged; NULL: none */
    size_t staged;         /* revisions in it */
    char *spill_buf;       /* its stdio buffer (glibc ignores setvbuf's size without one) */
    struct stager *stager; /* stages chunks in the background; NULL: none (yet) */
    bool store_failed;     /* staging failed: the error is the store's, not the input's */
    size_t total;
    const char *name; /* the input, for the progress line */
    bool progress;    /* show a progress line on stderr (a terminal, not --quiet) */
    size_t shown;     /* total when the progress line was last drawn */
};

/* A progress line for long imports: revisions read, then stored. */
static void progress(struct pending *p, const char *what, size_t done, size_t of)
{
    if (!p->progress) {
        return;
    }
    if (of > 0) {
        (void)fprintf(stderr, "\r\033[Kecsrev: import %s: %zu/%zu revisions %s", p->name, done, of,
                      what);
    } else {
        (void)fprintf(stderr, "\r\033[Kecsrev: import %s: %zu revisions %s", p->name, done, what);
    }
    (void)fflush(stderr);
    p->shown = done;
}

static void progress_end(struct pending *p)
{
    if (p->progress && p->shown > 0) {
        (void)fputs("\r\033[K", stderr);
    }
}

static void pending_clear(struct pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        ecsrev_revision_dispose(&p->revs[i]);
    }
    p->n = 0;
    p->bytes = 0;
}

static void stager_stop(struct pending *p);

static void pending_dispose(struct pending *p)
{
    stager_stop(p);
    pending_clear(p);
    free(p->revs);
    if (p->spill != NULL) {
        (void)fclose(p->spill);
    }
    free(p->spill_buf);
    memset(p, 0, sizeof(*p));
}

/* ---- spilled records: lengths and bytes of each string, then the fixed part ---- */

static int put_str(FILE *f, const char *s)
{
    uint64_t n = s != NULL ? strlen(s) + 1 : 0;
    return fwrite(&n, sizeof(n), 1, f) == 1 && (n == 0 || fwrite(s, 1, n, f) == n) ? 0 : -1;
}

static int get_str(FILE *f, char **out)
{
    uint64_t n = 0;
    *out = NULL;
    if (fread(&n, sizeof(n), 1, f) != 1 || n > CLI_MAX_INPUT) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    *out = ecsrev_xmalloc(n);
    return fread(*out, 1, n, f) == n && (*out)[n - 1] == '\0' ? 0 : -1;
}

/* A revision's record: everything but its canonical document (staged in the store). */
static int spill_write(FILE *f, const struct ecsrev_revision *r)
{
    if (put_str(f, r->arn) < 0 || put_str(f, r->service_arn) < 0 ||
        put_str(f, r->cluster_arn) < 0 || put_str(f, r->task_definition) < 0 ||
        fwrite(&r->created_ms, sizeof(r->created_ms), 1, f) != 1 ||
        fwrite(r->content_hash, sizeof(r->content_hash), 1, f) != 1 ||
        fwrite(r->config_hash, sizeof(r->config_hash), 1, f) != 1) {
        return -1;
    }
    return 0;
}

static int spill_read(FILE *f, struct ecsrev_revision *r)
{
    memset(r, 0, sizeof(*r));
    if (get_str(f, &r->arn) < 0 || get_str(f, &r->service_arn) < 0 ||
        get_str(f, &r->cluster_arn) < 0 || get_str(f, &r->task_definition) < 0 ||
        fread(&r->created_ms, sizeof(r->created_ms), 1, f) != 1 ||
        fread(r->content_hash, sizeof(r->content_hash), 1, f) != 1 ||
        fread(r->config_hash, sizeof(r->config_hash), 1, f) != 1) {
        ecsrev_revision_dispose(r);
        return -1;
    }
    return 0;
}

/* The first time a file stages: create the spill file and enter batch mode. */
static int spill_open(struct pending *p, struct ecsrev_error *err)
{
    if (p->spill != NULL) {
        return 0;
    }
    if ((p->spill = tmpfile()) == NULL) {
        return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot create a temporary file: %s",
                                      strerror(errno));
    }
    p->spill_buf = ecsrev_xmalloc(SPILL_BUF);
    (void)setvbuf(p->spill, p->spill_buf, _IOFBF, SPILL_BUF); /* one write per MiB */
    if (ecsrev_store_batch(p->store, true) < 0) {
        return ecsrev_error_set(err, ECSREV_ESTORE, "cannot set the store's batch mode");
    }
    return 0;
}

/* Revisions in another order than their array's, as a store source. */
struct rev_ref {
    const struct ecsrev_revision *rev;
};

struct order_source {
    const struct rev_ref *refs;
    size_t n, next;
};

static int order_next(void *payload, const struct ecsrev_revision **out, struct ecsrev_error *err)
{
    (void)err;
    struct order_source *o = payload;
    if (o->next == o->n) {
        return 0;
    }
    *out = o->refs[o->next++].rev;
    return 1;
}

static int order_rewind(void *payload, struct ecsrev_error *err)
{
    (void)err;
    ((struct order_source *)payload)->next = 0;
    return 0;
}

static int cmp_content_hash(const void *a, const void *b)
{
    const struct rev_ref *x = a;
    const struct rev_ref *y = b;
    return memcmp(x->rev->content_hash, y->rev->content_hash, sizeof(x->rev->content_hash));
}

/*
 * Stage the bodies of @p revs and spill their records. Uses the store and
 * the spill file of @p p: only one thread at a time runs it (see struct
 * stager). The caller frees the revisions. The bodies go in in the order of
 * their keys (content hashes): each leaf page of the table is visited once,
 * not once per revision in random order. The records keep the file's order.
 */
static int stage_chunk(struct pending *p, struct ecsrev_revision *revs, size_t n,
                       struct ecsrev_error *err)
{
    struct rev_ref *order = ecsrev_xmalloc((n + 1) * sizeof(*order));
    for (size_t i = 0; i < n; i++) {
        order[i].rev = &revs[i];
    }
    qsort(order, n, sizeof(*order), cmp_content_hash);
    struct order_source o = {order, n, 0};
    struct ecsrev_store_source src = {order_next, order_rewind, &o, false};
    int rc = ecsrev_store_stage(p->store, &src, err);
    free(order);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (spill_write(p->spill, &revs[i]) < 0) {
            rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot write a temporary file: %s",
                                        strerror(errno));
        }
    }
    if (rc == 0) {
        p->staged += n;
    }
    return rc;
}

static void dispose_all(struct ecsrev_revision *revs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
}

/*
 * The stager: a thread that stages one chunk while the main thread reads and
 * normalizes the next. Each staging commit ends waiting for the disk
 * (fdatasync); with the stager, the parser works meanwhile instead, even on
 * one CPU. At most one chunk is in flight, so memory holds two chunks where
 * it used to hold one and a transaction's copy of it: CHUNK_BYTES is set for
 * that.
 *
 * Ownership: while busy, the stager owns its chunk, the store handle and the
 * spill file (and p->staged); the main thread touches none of them until
 * stager_wait() has seen it idle (the mutex orders both). The stager calls
 * no cJSON function (the parser's allocation hooks are per thread anyway)
 * and prints nothing but the store's "waiting for another writer" line.
 */
struct stager {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pending *p;
    struct ecsrev_revision *revs; /* the chunk in flight (busy), or the last one staged */
    size_t n, cap; /* the main thread frees the revisions (malloc's caches are per thread) */
    bool busy, quit;
    int rc; /* the first failure; then the stager stages nothing more */
    struct ecsrev_error err;
};

static void *stager_main(void *arg)
{
    struct stager *st = arg;
    (void)pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->busy && !st->quit) {
            (void)pthread_cond_wait(&st->cv, &st->mu);
        }
        if (!st->busy) {
            break;
        }
        bool skip = st->rc < 0;
        (void)pthread_mutex_unlock(&st->mu);
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        int rc = skip ? 0 : stage_chunk(st->p, st->revs, st->n, &err);
        (void)pthread_mutex_lock(&st->mu);
        if (rc < 0) {
            st->rc = rc;
            st->err = err;
        }
        st->busy = false;
        (void)pthread_cond_broadcast(&st->cv);
    }
    (void)pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* Start the stager; NULL (stage in this thread) if no thread can be made. */
static struct stager *stager_start(struct pending *p)
{
    struct stager *st = ecsrev_xcalloc(1, sizeof(*st));
    st->p = p;
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        return NULL;
    }
    if (pthread_cond_init(&st->cv, NULL) != 0) {
        (void)pthread_mutex_destroy(&st->mu);
        free(st);
        return NULL;
    }
    if (pthread_create(&st->thread, NULL, stager_main, st) != 0) {
        (void)pthread_cond_destroy(&st->cv);
        (void)pthread_mutex_destroy(&st->mu);
        free(st);
        return NULL;
    }
    return st;
}

/* Wait until the chunk in flight, if any, is staged; its result (err set). */
static int stager_wait(struct pending *p, struct ecsrev_error *err)
{
    struct stager *st = p->stager;
    if (st == NULL) {
        return 0;
    }
    (void)pthread_mutex_lock(&st->mu);
    while (st->busy) {
        (void)pthread_cond_wait(&st->cv, &st->mu);
    }
    int rc = st->rc;
    if (rc < 0 && err != NULL) {
        *err = st->err;
    }
    (void)pthread_mutex_unlock(&st->mu);
    return rc;
}

/* Stop and free the stager, once its chunk is staged. */
static void stager_stop(struct pending *p)
{
    struct stager *st = p->stager;
    if (st == NULL) {
        return;
    }
    (void)stager_wait(p, NULL);
    (void)pthread_mutex_lock(&st->mu);
    st->quit = true;
    (void)pthread_cond_broadcast(&st->cv);
    (void)pthread_mutex_unlock(&st->mu);
    (void)pthread_join(st->thread, NULL);
    (void)pthread_cond_destroy(&st->cv);
    (void)pthread_mutex_destroy(&st->mu);
    dispose_all(st->revs, st->n);
    free(st->revs);
    free(st);
    p->stager = NULL;
}

/*
 * Stage what is held in memory: hand it to the stager (once the previous
 * chunk is staged; its failure is returned here), or stage it in this
 * thread when there is no stager. Either way p holds nothing afterwards.
 */
static int stage_pending(struct pending *p, struct ecsrev_error *err)
{
    int rc = spill_open(p, err);
    if (rc < 0) {
        p->store_failed = true;
        pending_clear(p);
        return rc;
    }
    if (p->stager == NULL) {
        p->stager = stager_start(p);
    }
    struct stager *st = p->stager;
    if (st == NULL) {
        rc = stage_chunk(p, p->revs, p->n, err);
        p->store_failed = rc < 0;
        pending_clear(p);
        return rc;
    }
    if ((rc = stager_wait(p, err)) < 0) {
        p->store_failed = true;
        pending_clear(p);
        return rc;
    }
    (void)pthread_mutex_lock(&st->mu);
    struct ecsrev_revision *spare = st->revs;
    size_t spare_cap = st->cap;
    dispose_all(spare, st->n); /* the chunk staged last: done with */
    st->revs = p->revs;
    st->cap = p->cap;
    st->n = p->n;
    st->busy = true;
    (void)pthread_cond_broadcast(&st->cv);
    (void)pthread_mutex_unlock(&st->mu);
    p->revs = spare;
    p->cap = spare_cap;
    p->n = 0;
    p->bytes = 0;
    return 0;
}

/* Take the revisions of @p in (moved out of it). */
static int pending_add(struct pending *p, struct ecsrev_input *in, struct ecsrev_error *err)
{
    for (size_t i = 0; i < in->n; i++) {
        if (p->n == p->cap) {
            p->cap = p->cap == 0 ? 64 : p->cap * 2;
            p->revs = ecsrev_xrealloc(p->revs, p->cap * sizeof(*p->revs));
        }
        p->revs[p->n++] = in->revs[i];
        p->bytes += in->revs[i].canon_len;
        p->total++;
    }
    if (p->total - p->shown >= 1000) {
        progress(p, "read", p->total, 0);
    }
    in->n = 0;
    return p->bytes > CHUNK_BYTES ? stage_pending(p, err) : 0;
}

static void report_failures(const char *name, const struct ecsrev_input *in, struct totals *t)
{
    for (size_t i = 0; i < in->n_failures; i++) {
        const struct ecsrev_input_failure *f = &in->failures[i];
        cli_warn("%s: failure listed for %s: %s%s%s", name, f->arn ? f->arn : "?",
                 f->reason ? f->reason : "unknown reason", f->detail ? ": " : "",
                 f->detail ? f->detail : "");
    }
    t->failures += in->n_failures;
}

static void add_result(struct ecsrev_store_put_result *sum, const struct ecsrev_store_put_result *r)
{
    sum->added += r->added;
    sum->existing += r->existing;
    sum->conflicts += r->conflicts;
}

/* Store what was collected: one put if nothing spilled, else chunk by chunk. */
/*
 * Records from the spill file as a store source: from @c start, at most
 * @c limit of them (or all with SIZE_MAX), one at a time; rewinding seeks
 * back to @c start.
 */
struct spill_source {
    FILE *f;
    off_t start;
    size_t left;  /* records after start */
    size_t limit; /* records to give */
    size_t count; /* given so far */
    struct ecsrev_revision cur;
};

static int spill_next(void *payload, const struct ecsrev_revision **out, struct ecsrev_error *err)
{
    struct spill_source *ss = payload;
    ecsrev_revision_dispose(&ss->cur);
    if (ss->count == ss->left || ss->count == ss->limit) {
        return 0;
    }
    if (spill_read(ss->f, &ss->cur) < 0) {
        return ecsrev_error_set(err, ECSREV_EIO, "cannot read back a temporary file");
    }
    ss->count++;
    *out = &ss->cur;
    return 1;
}

static int spill_rewind(void *payload, struct ecsrev_error *err)
{
    struct spill_source *ss = payload;
    ecsrev_revision_dispose(&ss->cur);
    ss->count = 0;
    if (fseeko(ss->f, ss->start, SEEK_SET) != 0) {
        return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot read a temporary file: %s",
                                      strerror(errno));
    }
    return 0;
}

static int spill_flush(struct pending *p, struct ecsrev_error *err)
{
    if (fflush(p->spill) != 0) {
        return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot write a temporary file: %s",
                                      strerror(errno));
    }
    return 0;
}

/*
 * Take back the staged bodies of a file that will not be stored (or not
 * completely: the bodies of records already stored stay). Best effort: what
 * is left is unused bodies, never a visible revision.
 */
static void unstage(struct pending *p)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    stager_stop(p); /* the chunk in flight is staged, or failed, first */
    if (p->spill == NULL || p->staged == 0 || spill_flush(p, &err) < 0) {
        return;
    }
    struct spill_source ss = {p->spill, 0, p->staged, SIZE_MAX, 0, {0}};
    struct ecsrev_store_source src = {spill_next, spill_rewind, &ss, false};
    bool dropped = false;
    if (ecsrev_store_unstage(p->store, &src, &dropped, &err) < 0) {
        cli_warn("%s: could not take back the stored documents of this file (%s); they are "
                 "unused and harmless",
                 p->name, err.msg);
    }
    ecsrev_revision_dispose(&ss.cur);
}

/* How many staged records the next put takes (see RECORDS_BUDGET). */
static size_t records_per_put(struct ecsrev_store *store)
{
    uint64_t bytes = 0;
    uint64_t revisions = 0;
    struct ecsrev_error ignored = ECSREV_ERROR_INIT;
    if (ecsrev_store_index_size(store, &bytes, &revisions, &ignored) < 0 ||
        bytes >= RECORDS_BUDGET) {
        return RECORDS_PER_PUT;
    }
    uint64_t per_rev = revisions >= 1000 ? bytes / revisions + 1 : RECORD_INDEX_BYTES;
    uint64_t room = (RECORDS_BUDGET - bytes) / per_rev;
    return room > RECORDS_PER_PUT ? (size_t)room : RECORDS_PER_PUT;
}

/* Store what was collected: one put if nothing was staged, else the records chunk by chunk. */
static int store_pending(struct pending *p, int64_t now, struct ecsrev_store_put_result *res,
                         struct ecsrev_error *err)
{
    struct ecsrev_store_put_result r = {0, 0, 0};
    int rc;
    if (p->spill == NULL) {
        rc = ecsrev_store_put(p->store, p->revs, p->n, "import", now, &r, err);
        add_result(res, &r);
        return rc;
    }
    if ((rc = stage_pending(p, err)) < 0 || (rc = stager_wait(p, err)) < 0 ||
        (rc = spill_flush(p, err)) < 0) {
        return rc;
    }
    stager_stop(p);
    rewind(p->spill);
    for (size_t done = 0; done < p->staged && rc == 0;) {
        struct spill_source ss = {
            p->spill, ftello(p->spill), p->staged - done, records_per_put(p->store), 0, {0}};
        struct ecsrev_store_source src = {spill_next, spill_rewind, &ss, true};
        if (ss.start < 0) {
            return ecsrev_error_set_cause(err, ECSREV_EIO, errno,
                                          "cannot read a temporary file: %s", strerror(errno));
        }
        rc = ecsrev_store_put_from(p->store, &src, "import", now, &r, err);
        ecsrev_revision_dispose(&ss.cur);
        if (rc == 0) {
            done += ss.count;
            add_result(res, &r);
            progress(p, "stored", done, p->total);
        }
    }
    return rc;
}

/* ---- reading ---- */

/* A buffered line reader that copes with NUL bytes (which fgets cannot). */
struct reader {
    FILE *f;
    char buf[65536];
    size_t pos, len;
};

/* One line into @p line (without the newline). @return 1 line, 0 end, <0 error */
static int read_line(struct reader *r, struct ecsrev_buf *line, struct ecsrev_error *err)
{
    ecsrev_buf_clear(line);
    bool any = false;
    for (;;) {
        if (r->pos == r->len) {
            r->len = fread(r->buf, 1, sizeof(r->buf), r->f);
            r->pos = 0;
            if (r->len == 0) {
                break;
            }
        }
        any = true;
        const char *start = r->buf + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : r->len - r->pos;
        if (ecsrev_buf_append(line, start, n, NULL) < 0) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "larger than the limit of %zu bytes",
                                    line->max);
        }
        r->pos += n;
        if (nl != NULL) {
            r->pos++;
            break;
        }
    }
    if (ferror(r->f)) {
        return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot read: %s", strerror(errno));
    }
    if (line->ptr == NULL) {
        ecsrev_buf_add(line, "", 0);
    }
    return any ? 1 : 0;
}

static bool blank(const struct ecsrev_buf *b)
{
    for (size_t i = 0; i < b->len; i++) {
        if (strchr(" \t\r", b->ptr[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* Parse one JSON document (or line) and collect its revisions. */
static int collect(struct pending *p, const char *name, const char *data, size_t len,
                   struct totals *t, struct ecsrev_error *err)
{
    struct ecsrev_input in = ECSREV_INPUT_INIT;
    int rc = ecsrev_input_parse(&in, data, len, ECSREV_NORMALIZE_REQUIRE_IDENTITY, err);
    if (rc == 0) {
        report_failures(name, &in, t);
        rc = pending_add(p, &in, err);
    }
    ecsrev_input_dispose(&in);
    return rc;
}

/* collect() for line @p lineno of JSON Lines: the error names the line, unless the store failed. */
static int collect_line(struct pending *p, const char *name, const struct ecsrev_buf *line,
                        size_t lineno, struct totals *t, struct ecsrev_error *err)
{
    int rc = collect(p, name, line->ptr, line->len, t, err);
    if (rc < 0 && !p->store_failed) {
        ecsrev_error_prefix(err, "line %zu", lineno);
    }
    return rc;
}

/*
 * Read a whole input. JSON Lines when the first non-blank line is a complete
 * JSON value and more follows; otherwise one document (pretty-printed CLI
 * output), read whole up to CLI_MAX_INPUT.
 */
static int read_input(struct reader *f, const char *name, struct pending *p, struct totals *t,
                      struct ecsrev_error *err)
{
    struct ecsrev_buf line = ECSREV_BUF_INIT;
    struct ecsrev_buf doc = ECSREV_BUF_INIT;
    ecsrev_buf_init(&line, MAX_LINE);
    ecsrev_buf_init(&doc, CLI_MAX_INPUT);
    size_t lineno = 0;
    int rc;
    while ((rc = read_line(f, &line, err)) > 0 && blank(&line)) {
        lineno++;
    }
    lineno++;
    if (rc <= 0) {
        if (rc == 0) {
            rc = ecsrev_error_set(err, ECSREV_EINVAL, "no service revisions found (empty input)");
        }
        goto done;
    }
    int more = read_line(f, &doc, err);
    if (more < 0) {
        rc = more;
        goto done;
    }
    if (more > 0 && ecsrev_input_is_json_value(line.ptr, line.len)) {
        /* JSON Lines: the first line, then line by line (doc holds the second). */
        rc = collect_line(p, name, &line, lineno, t, err);
        for (int r = more; rc == 0 && r > 0;) {
            lineno++;
            if (!blank(&doc) && (rc = collect_line(p, name, &doc, lineno, t, err)) < 0) {
                break;
            }
            if ((r = read_line(f, &doc, err)) < 0) {
                rc = r;
            }
        }
        goto done;
    }
    /* One document: the lines read so far (newlines put back), then the rest. */
    struct ecsrev_buf all = ECSREV_BUF_INIT;
    ecsrev_buf_init(&all, CLI_MAX_INPUT);
    for (size_t i = 1; i < lineno; i++) {
        ecsrev_buf_add(&all, "\n", 1); /* blank lines before the first: keep line numbers */
    }
    if ((rc = ecsrev_buf_append(&all, line.ptr, line.len, err)) == 0 && more > 0) {
        if ((rc = ecsrev_buf_putc(&all, '\n', err)) == 0 &&
            (rc = ecsrev_buf_append(&all, doc.ptr, doc.len, err)) == 0) {
            rc = ecsrev_buf_putc(&all, '\n', err);
        }
    }
    /* the rest: what the reader holds, then the file */
    if (rc == 0) {
        rc = ecsrev_buf_append(&all, f->buf + f->pos, f->len - f->pos, err);
        f->pos = f->len;
    }
    char chunk[65536];
    size_t n;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f->f)) > 0) {
        rc = ecsrev_buf_append(&all, chunk, n, err);
    }
    if (rc < 0) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "larger than the limit of %zu bytes",
                              CLI_MAX_INPUT);
    } else if (ferror(f->f)) {
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "cannot read: %s", strerror(errno));
    } else {
        rc = collect(p, name, all.ptr, all.len, t, err);
    }
    ecsrev_buf_dispose(&all);
done:
    ecsrev_buf_dispose(&line);
    ecsrev_buf_dispose(&doc);
    return rc;
}

static void file_json(cJSON *files, const char *name, bool rejected, const char *error,
                      const struct ecsrev_store_put_result *res)
{
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddStringToObject(fj, "file", name);
    cJSON_AddBoolToObject(fj, "rejected", rejected);
    if (error != NULL) {
        cJSON_AddStringToObject(fj, "error", error);
    }
    cJSON_AddNumberToObject(fj, "new", (double)res->added);
    cJSON_AddNumberToObject(fj, "existing", (double)res->existing);
    cJSON_AddNumberToObject(fj, "conflicts", (double)res->conflicts);
    cJSON_AddItemToArray(files, fj);
}

static int import_one(struct ecsrev_store *store, const char *path, int64_t now, bool show,
                      struct totals *t, cJSON *files)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_store_put_result res = {0, 0, 0};
    struct pending p;
    memset(&p, 0, sizeof(p));
    p.store = store;
    p.name = name;
    p.progress = show;
    int rc = 0;
    struct reader *r = ecsrev_xcalloc(1, sizeof(*r));
    r->f = is_stdin ? stdin : fopen(path, "rb");
    if (r->f == NULL) {
        rc = ecsrev_error_set_cause(&err, ECSREV_EIO, errno, "%s: cannot read: %s", name,
                                    strerror(errno));
    } else if ((rc = read_input(r, name, &p, t, &err)) < 0) {
        ecsrev_error_prefix(&err, "%s", name);
    }
    if (r->f != NULL && !is_stdin) {
        (void)fclose(r->f);
    }
    free(r);
    if (rc == 0) {
        rc = store_pending(&p, now, &res, &err);
    }
    if (rc < 0) {
        unstage(&p);
    }
    /* out of batch mode: flushes what the last commits left for the next one */
    if (p.spill != NULL && ecsrev_store_batch(store, false) < 0 && rc == 0) {
        rc = ecsrev_error_set(&err, ECSREV_ESTORE, "%s: cannot flush the store to disk", name);
    }
    ecsrev_store_stage_done(store);
    progress_end(&p);
    if (rc < 0) {
        cli_error("%s", err.msg);
        t->files_rejected++;
        t->revs_rejected += p.total;
    } else if (res.conflicts > 0) {
        cli_warn("%s: %zu revisions differ from the stored revisions with the same ARN; kept "
                 "the stored ones",
                 name, res.conflicts);
    }
    t->added += res.added;
    t->existing += res.existing;
    t->conflicts += res.conflicts;
    file_json(files, name, rc < 0, rc < 0 ? err.msg : NULL, &res);
    pending_dispose(&p);
    return rc;
}

static void print_summary(const struct totals *t, const char *format, cJSON *files)
{
    if (strcmp(format, "json") == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "schema", 1);
        cJSON_AddNumberToObject(doc, "new", (double)t->added);
        cJSON_AddNumberToObject(doc, "existing", (double)t->existing);
        cJSON_AddNumberToObject(doc, "conflicts", (double)t->conflicts);
        cJSON_AddNumberToObject(doc, "rejectedFiles", (double)t->files_rejected);
        cJSON_AddNumberToObject(doc, "failures", (double)t->failures);
        cJSON_AddItemToObject(doc, "files", cJSON_Duplicate(files, true));
        char *s = cJSON_PrintUnformatted(doc);
        out_printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(doc);
        return;
    }
    out_printf("imported: %zu new, %zu already stored", t->added, t->existing);
    if (t->conflicts > 0) {
        out_printf(", %zu conflicting (kept stored)", t->conflicts);
    }
    if (t->files_rejected > 0) {
        out_printf(", %zu file%s rejected", t->files_rejected, t->files_rejected == 1 ? "" : "s");
    }
    out_puts("\n");
}

int cmd_import(int argc, char **argv)
{
    const char *store_opt = NULL;
    const char *format = "text";
    bool quiet = false;
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &store_opt, "DIR",
         "store folder (default: $ECSREV_STORE, $XDG_DATA_HOME/ecsrev)", 0, 0},
        {"format", 0, CLI_STRING, &format, "FMT", "summary format: text or json", 0, 0},
        {"quiet", 'q', CLI_FLAG, &quiet, NULL, "print no summary", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {"import", "[options] FILE...|-",
                                      "Import service revisions from files into the store.",
                                      s_details};
    char **files = NULL;
    size_t n_files = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &files, &n_files, &exit_now) < 0) {
        return exit_now;
    }
    if (n_files == 0) {
        free(files);
        return cli_usage_error("import", "no input files (use '-' for standard input)");
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        free(files);
        return cli_usage_error("import", "--format: '%s' is not text or json", format);
    }
    struct ecsrev_store *store = NULL;
    if (cli_open_store(&store, store_opt, false) != 0) {
        free(files);
        return EXIT_TROUBLE;
    }
    struct totals t;
    memset(&t, 0, sizeof(t));
    cJSON *files_json = cJSON_CreateArray();
    int64_t now = cli_now_ms();
    for (size_t i = 0; i < n_files; i++) {
        (void)import_one(store, files[i], now, !quiet && cli_stderr_is_tty(), &t, files_json);
    }
    if (!quiet) {
        print_summary(&t, format, files_json);
    }
    cJSON_Delete(files_json);
    ecsrev_store_close(store);
    free(files);
    return t.files_rejected > 0 ? EXIT_TROUBLE : EXIT_OK;
}
