/*
 * store.c - the LMDB history store. The only file that includes <lmdb.h>.
 *
 * Layout (one LMDB environment in the store directory; see docs/STORE.md):
 *   meta      "schema" -> "1"; "head" -> seq (u64 BE) || SHA-256 head (32)
 *   revs      revision ARN -> record: version(1) content_hash(16) config_hash(16)
 *             created_ms(8, BE, sign-flipped) service_arn NUL cluster_arn NUL taskdef NUL
 *   bodies    content_hash(16) -> canonical document bytes NUL
 *   history   service_arn NUL created(8, BE, sign-flipped) revision_arn NUL -> ""
 *   ids       revision id (last ARN segment) -> revision ARN (DUPSORT)
 *   services  service_arn -> revision count (u64 BE) || cluster_arn NUL
 *   events    seq (u64 BE) -> prev head(32) || head(32) || event JSON
 *
 * Invariants: every revs record has its body and its history and ids entries;
 * all of them, the service count and the chain event of a put are written in
 * one transaction. Records are never updated or deleted: revisions are
 * immutable. Sign-flipped big-endian times sort in time order as bytes.
 *
 * The map starts at 64 MiB and doubles whenever a write finds it full (the
 * write is retried from the start); other processes pick up the new size on
 * MDB_MAP_RESIZED.
 */
/* madvise(MADV_DONTNEED): POSIX's posix_madvise variant is a no-op on Linux. */
#define _DEFAULT_SOURCE /* NOLINT(bugprone-reserved-identifier,readability-identifier-naming) */

#include <ecsrev/store.h>

#include <ecsrev/buf.h>
#include <ecsrev/crypto.h>
#include <ecsrev/hash.h>

#include <lmdb.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "canon_priv.h"

#include "banned.h"

#define SCHEMA_KEY "schema"
#define HEAD_KEY "head"
#define RECORD_VERSION 1
#define RECORD_FIXED ((size_t)2 * ECSREV_HASH_LEN + 1 + 8)
/* Offset of created_ms in a revs record (size_t: used in pointer arithmetic). */
#define RECORD_TIME_OFF ((size_t)2 * ECSREV_HASH_LEN + 1)
/* prev head || head at the start of an events value. */
#define EVENT_HEADS ((size_t)2 * ECSREV_SHA256_LEN)
#define INITIAL_MAP ((size_t)64 * 1024 * 1024)
#define MAX_KEY 511
#define MAX_MAP ((size_t)1 << 40)
/* Free space below which a failed write is put down to a full disk. */
#define FULL_DISK_BYTES ((uint64_t)1024 * 1024)

struct ecsrev_store {
    MDB_env *env;
    MDB_dbi meta, revs, bodies, history, ids, services, events;
    char *path;
    bool readonly;
    MDB_txn *pinned; /* read transaction pinned by ecsrev_store_read_begin, or NULL */
    int lock_fd;     /* writer.lock, opened at the first put; -1 before */
    int staging_fd;  /* staging.lock, held shared while this process stages; -1 when not */
    ecsrev_store_wait_fn on_wait;
    void *wait_payload;
    uintptr_t map_start; /* where the map is, found by release_map; 0: look it up */
    size_t map_len;      /* reset whenever mdb_env_set_mapsize may have moved it */
    int statm_fd;        /* /proc/self/statm for release_some; -1 not open, -2 unavailable */
    size_t file_floor;   /* file-backed resident bytes right after the last release */
    size_t map_budget;   /* ecsrev_store_set_map_budget */
};

static int lmdb_error(struct ecsrev_error *err, int rc, const char *what)
{
    return ecsrev_error_set_cause(err, ECSREV_ESTORE, rc, "store: %s: %s", what, mdb_strerror(rc));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void put_time(uint8_t *p, int64_t ms)
{
    put_u64(p, (uint64_t)ms ^ ((uint64_t)1 << 63));
}

static int64_t get_time(const uint8_t *p)
{
    return (int64_t)(get_u64(p) ^ ((uint64_t)1 << 63));
}

/* ---- opening ---- */

/*
 * The text of errno value e in buf: strerror_r (the XSI one, with
 * _POSIX_C_SOURCE) because strerror's static buffer is not thread-safe.
 */
static const char *errno_text(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) {
        (void)snprintf(buf, cap, "errno %d", e);
    }
    return buf;
}

static int make_dirs(const char *path, struct ecsrev_error *err)
{
    char *p = ecsrev_xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') {
            continue;
        }
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            char et[128];
            rc = ecsrev_error_set_cause(err, ECSREV_EIO, e, "cannot create store folder '%s': %s",
                                        p, errno_text(e, et, sizeof(et)));
            break;
        }
        *s = c;
        if (c == '\0') {
            break;
        }
    }
    free(p);
    return rc;
}

static int check_path(const char *dir, bool readonly, struct ecsrev_error *err)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT) {
            int e = errno;
            char et[128];
            return ecsrev_error_set_cause(err, ECSREV_EIO, e, "store '%s': %s", dir,
                                          errno_text(e, et, sizeof(et)));
        }
        if (readonly) {
            return ecsrev_error_set(
                err, ECSREV_ENOTFOUND,
                "no store at '%s' (run 'ecsrev import' or 'ecsrev fetch' first)", dir);
        }
        return make_dirs(dir, err);
    }
    if (S_ISLNK(st.st_mode) && st.st_uid != geteuid()) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "store '%s' is a symbolic link owned by another user; refusing it",
                                dir);
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return ecsrev_error_set(err, ECSREV_EIO, "store '%s' is not a folder", dir);
    }
    if (readonly) {
        char data[4096];
        (void)snprintf(data, sizeof(data), "%s/data.mdb", dir);
        if (stat(data, &st) != 0) {
            return ecsrev_error_set(
                err, ECSREV_ENOTFOUND,
                "no store at '%s' (run 'ecsrev import' or 'ecsrev fetch' first)", dir);
        }
    }
    return 0;
}

static int txn_begin(struct ecsrev_store *s, bool write, MDB_txn **txn, struct ecsrev_error *err)
{
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size and try again. */
        rc = mdb_env_set_mapsize(s->env, 0);
        s->map_start = 0;
        if (rc == 0) {
            rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
        }
    }
    if (rc != 0) {
        return lmdb_error(err, rc, "cannot begin transaction");
    }
    return 0;
}

/* A read transaction: the pinned snapshot if there is one, else a new one. */
static int read_begin(struct ecsrev_store *s, MDB_txn **txn, struct ecsrev_error *err)
{
    if (s->pinned != NULL) {
        *txn = s->pinned;
        return 0;
    }
    return txn_begin(s, false, txn, err);
}

static void read_end(struct ecsrev_store *s, MDB_txn *txn)
{
    if (txn != s->pinned) {
        mdb_txn_abort(txn);
    }
}

static int open_dbs(struct ecsrev_store *s, MDB_txn *txn, struct ecsrev_error *err)
{
    unsigned create = s->readonly ? 0 : MDB_CREATE;
    struct {
        const char *name;
        MDB_dbi *dbi;
        unsigned flags;
    } dbs[] = {
        {"meta", &s->meta, 0},       {"revs", &s->revs, 0},         {"bodies", &s->bodies, 0},
        {"history", &s->history, 0}, {"ids", &s->ids, MDB_DUPSORT}, {"services", &s->services, 0},
        {"events", &s->events, 0},
    };
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        int rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | create, dbs[i].dbi);
        if (rc == MDB_NOTFOUND) {
            return ecsrev_error_set(err, ECSREV_ESTORE,
                                    "store '%s' is not an ecsrev store (no '%s' table)", s->path,
                                    dbs[i].name);
        }
        if (rc != 0) {
            return lmdb_error(err, rc, "cannot open tables");
        }
    }
    return 0;
}

static int check_schema(struct ecsrev_store *s, MDB_txn *txn, struct ecsrev_error *err)
{
    MDB_val key = {strlen(SCHEMA_KEY), (void *)(uintptr_t)SCHEMA_KEY};
    MDB_val val;
    char want[16];
    int n = snprintf(want, sizeof(want), "%d", ECSREV_STORE_SCHEMA);
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (rc == MDB_NOTFOUND) {
        if (s->readonly) {
            return ecsrev_error_set(err, ECSREV_ESTORE, "store '%s' has no schema record", s->path);
        }
        val.mv_size = (size_t)n;
        val.mv_data = want;
        if ((rc = mdb_put(txn, s->meta, &key, &val, 0)) != 0) {
            return lmdb_error(err, rc, "cannot write schema");
        }
        return 0;
    }
    if (rc != 0) {
        return lmdb_error(err, rc, "cannot read schema");
    }
    if (val.mv_size != (size_t)n || memcmp(val.mv_data, want, (size_t)n) != 0) {
        return ecsrev_error_set(
            err, ECSREV_ESTORE,
            "store '%s' was written with schema %.*s; this ecsrev reads schema %s", s->path,
            (int)(val.mv_size > 16 ? 16 : val.mv_size), (const char *)val.mv_data, want);
    }
    return 0;
}

static int open_env(struct ecsrev_store **out, const char *dir, bool readonly,
                    struct ecsrev_error *err)
{
    int rc = 0;
    struct ecsrev_store *s = ecsrev_xcalloc(1, sizeof(*s));
    s->path = ecsrev_xstrdup(dir);
    s->readonly = readonly;
    s->lock_fd = -1;
    s->staging_fd = -1;
    s->statm_fd = -1;
    s->map_budget = ECSREV_STORE_MAP_BUDGET;
    *out = NULL;
    MDB_txn *txn = NULL;
    int lrc;
    if ((lrc = mdb_env_create(&s->env)) != 0 || (lrc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
        (lrc = mdb_env_set_mapsize(s->env, INITIAL_MAP)) != 0 ||
        (lrc = mdb_env_set_maxreaders(s->env, 126)) != 0) {
        rc = lmdb_error(err, lrc, "cannot create environment");
        goto fail;
    }
    if ((lrc = mdb_env_open(s->env, dir, MDB_NOTLS | (readonly ? MDB_RDONLY : 0), 0600)) != 0) {
        rc = ecsrev_error_set_cause(err, lrc == EACCES ? ECSREV_EIO : ECSREV_ESTORE, lrc,
                                    "cannot open store '%s': %s", dir, mdb_strerror(lrc));
        goto fail;
    }
    int dead = 0;
    (void)mdb_reader_check(s->env, &dead);
    if ((rc = txn_begin(s, !readonly, &txn, err)) < 0) {
        goto fail;
    }
    if ((rc = open_dbs(s, txn, err)) < 0 || (rc = check_schema(s, txn, err)) < 0) {
        mdb_txn_abort(txn);
        goto fail;
    }
    if ((lrc = mdb_txn_commit(txn)) != 0) {
        rc = lmdb_error(err, lrc, "cannot initialize");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    ecsrev_store_close(s);
    return rc;
}

/*
 * Whether the store in @p dir was never completed: a process creating it was
 * killed before its first commit, leaving an empty data.mdb, or LMDB's meta
 * pages without any table.
 */
static bool creation_interrupted(const char *dir)
{
    char data[4096];
    struct stat st;
    (void)snprintf(data, sizeof(data), "%s/data.mdb", dir);
    if (stat(data, &st) != 0) {
        return false;
    }
    if (st.st_size == 0) {
        return true;
    }
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi main_dbi;
    MDB_stat ms;
    bool empty = false;
    if (mdb_env_create(&env) == 0 && mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0600) == 0 &&
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        empty = mdb_dbi_open(txn, NULL, 0, &main_dbi) == 0 && mdb_stat(txn, main_dbi, &ms) == 0 &&
                ms.ms_entries == 0;
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return empty;
}

int ecsrev_store_open(struct ecsrev_store **out, const char *dir, unsigned flags,
                      struct ecsrev_error *err)
{
    *out = NULL;
    bool readonly = (flags & ECSREV_STORE_READONLY) != 0;
    int rc = check_path(dir, readonly, err);
    if (rc < 0) {
        return rc;
    }
    rc = open_env(out, dir, readonly, err);
    if (rc == 0 || !readonly || !creation_interrupted(dir)) {
        return rc;
    }
    /* Finish creating the empty store, so that readers see it as empty. */
    struct ecsrev_store *w = NULL;
    if ((rc = open_env(&w, dir, false, err)) < 0) {
        return rc;
    }
    ecsrev_store_close(w);
    return open_env(out, dir, true, err);
}

void ecsrev_store_close(struct ecsrev_store *s)
{
    if (s == NULL) {
        return;
    }
    ecsrev_store_read_end(s);
    ecsrev_store_stage_done(s);
    if (s->lock_fd >= 0) {
        (void)close(s->lock_fd);
    }
    if (s->statm_fd >= 0) {
        (void)close(s->statm_fd);
    }
    if (s->env != NULL) {
        mdb_env_close(s->env);
    }
    free(s->path);
    free(s);
}

const char *ecsrev_store_path(const struct ecsrev_store *s)
{
    return s->path;
}

int ecsrev_store_read_begin(struct ecsrev_store *s, struct ecsrev_error *err)
{
    if (s->pinned != NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "store: a snapshot is already pinned");
    }
    return txn_begin(s, false, &s->pinned, err);
}

void ecsrev_store_read_end(struct ecsrev_store *s)
{
    if (s != NULL && s->pinned != NULL) {
        mdb_txn_abort(s->pinned);
        s->pinned = NULL;
    }
}

/* ---- records ---- */

/* A revs record decoded in place (pointers into LMDB memory). */
struct record {
    const uint8_t *content_hash;
    const uint8_t *config_hash;
    int64_t created_ms;
    char *service_arn;
    char *cluster_arn;
    char *task_definition;
};

static bool decode_record(struct record *r, const MDB_val *v)
{
    uint8_t *p = v->mv_data;
    if (v->mv_size < RECORD_FIXED + 3 || p[0] != RECORD_VERSION || p[v->mv_size - 1] != '\0') {
        return false;
    }
    r->content_hash = p + 1;
    r->config_hash = p + 1 + ECSREV_HASH_LEN;
    r->created_ms = get_time(p + RECORD_TIME_OFF);
    char *s = (char *)p + RECORD_FIXED;
    char *end = (char *)p + v->mv_size;
    r->service_arn = s;
    s += strlen(s) + 1;
    if (s >= end) {
        return false;
    }
    r->cluster_arn = s;
    s += strlen(s) + 1;
    if (s >= end) {
        return false;
    }
    r->task_definition = s;
    return true;
}

static void encode_record(struct ecsrev_buf *b, const struct ecsrev_revision *rev)
{
    uint8_t fixed[RECORD_FIXED];
    fixed[0] = RECORD_VERSION;
    memcpy(fixed + 1, rev->content_hash, ECSREV_HASH_LEN);
    memcpy(fixed + 1 + ECSREV_HASH_LEN, rev->config_hash, ECSREV_HASH_LEN);
    put_time(fixed + RECORD_TIME_OFF, rev->created_ms);
    const char *strs[3] = {rev->service_arn, rev->cluster_arn, rev->task_definition};
    ecsrev_buf_clear(b);
    ecsrev_buf_add(b, fixed, sizeof(fixed));
    for (size_t i = 0; i < 3; i++) {
        const char *str = strs[i] != NULL ? strs[i] : "";
        ecsrev_buf_add(b, str, strlen(str) + 1);
    }
}

/* Fill a borrowed revision view from a record; body may stay NULL. */
static int load_view(struct ecsrev_store *s, MDB_txn *txn, char *arn, const MDB_val *recval,
                     bool with_body, struct ecsrev_revision *out, struct ecsrev_error *err)
{
    struct record r;
    if (!decode_record(&r, recval)) {
        return ecsrev_error_set(err, ECSREV_ESTORE, "store: damaged record for '%s'", arn);
    }
    memset(out, 0, sizeof(*out));
    out->arn = arn;
    out->service_arn = r.service_arn;
    out->cluster_arn = r.cluster_arn[0] != '\0' ? r.cluster_arn : NULL;
    out->task_definition = r.task_definition[0] != '\0' ? r.task_definition : NULL;
    out->created_ms = r.created_ms;
    memcpy(out->content_hash, r.content_hash, ECSREV_HASH_LEN);
    memcpy(out->config_hash, r.config_hash, ECSREV_HASH_LEN);
    if (!with_body) {
        return 0;
    }
    MDB_val key = {ECSREV_HASH_LEN, (void *)(uintptr_t)r.content_hash};
    MDB_val body;
    int rc = mdb_get(txn, s->bodies, &key, &body);
    if (rc != 0 || body.mv_size == 0 || ((char *)body.mv_data)[body.mv_size - 1] != '\0') {
        return ecsrev_error_set(err, ECSREV_ESTORE, "store: missing or damaged body for '%s'", arn);
    }
    out->canon = body.mv_data;
    out->canon_len = body.mv_size - 1;
    return 0;
}

/* ---- writing ---- */

static int put_val(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                   size_t vlen, unsigned flags)
{
    MDB_val key = {klen, (void *)(uintptr_t)k};
    MDB_val val = {vlen, (void *)(uintptr_t)v};
    int rc = mdb_put(txn, dbi, &key, &val, flags);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

/*
 * The revisions a transaction adds per service, written to `services` once
 * at its end instead of a get and a put per revision: an open-addressing
 * table keyed by service ARN (copied: the revisions are the source's, valid
 * for one call).
 */
struct service_count {
    char *service_arn; /* NULL: empty slot */
    char *cluster_arn; /* of the last revision added, as a put per revision would leave it */
    uint64_t added;
};

struct job_services {
    struct service_count *slots;
    size_t cap, n; /* cap: a power of two, or 0 */
};

static size_t services_slot(const struct job_services *t, const char *arn)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)arn; *p != '\0'; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }
    size_t i = (size_t)h & (t->cap - 1);
    while (t->slots[i].service_arn != NULL && strcmp(t->slots[i].service_arn, arn) != 0) {
        i = (i + 1) & (t->cap - 1);
    }
    return i;
}

static void services_note(struct job_services *t, const struct ecsrev_revision *rev)
{
    if (2 * (t->n + 1) > t->cap) {
        struct job_services bigger = {
            ecsrev_xcalloc(t->cap == 0 ? 16 : 2 * t->cap, sizeof(*t->slots)),
            t->cap == 0 ? 16 : 2 * t->cap, t->n};
        for (size_t i = 0; i < t->cap; i++) {
            if (t->slots[i].service_arn != NULL) {
                bigger.slots[services_slot(&bigger, t->slots[i].service_arn)] = t->slots[i];
            }
        }
        free(t->slots);
        *t = bigger;
    }
    struct service_count *c = &t->slots[services_slot(t, rev->service_arn)];
    const char *cluster = rev->cluster_arn != NULL ? rev->cluster_arn : "";
    if (c->service_arn == NULL) {
        c->service_arn = ecsrev_xstrdup(rev->service_arn);
        t->n++;
    }
    if (c->cluster_arn == NULL || strcmp(c->cluster_arn, cluster) != 0) {
        free(c->cluster_arn);
        c->cluster_arn = ecsrev_xstrdup(cluster);
    }
    c->added++;
}

static void services_clear(struct job_services *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].service_arn);
        free(t->slots[i].cluster_arn);
    }
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* Add the counts of @p t to `services`. Returns an LMDB rc. */
static int services_write(struct ecsrev_store *s, MDB_txn *txn, const struct job_services *t,
                          struct ecsrev_buf *tmp)
{
    for (size_t i = 0; i < t->cap; i++) {
        const struct service_count *c = &t->slots[i];
        if (c->service_arn == NULL) {
            continue;
        }
        MDB_val key = {strlen(c->service_arn), c->service_arn};
        MDB_val val;
        uint64_t count = 0;
        int rc = mdb_get(txn, s->services, &key, &val);
        if (rc == 0 && val.mv_size >= 8) {
            count = get_u64(val.mv_data);
        } else if (rc != MDB_NOTFOUND && rc != 0) {
            return rc;
        }
        uint8_t cnt[8];
        put_u64(cnt, count + c->added);
        ecsrev_buf_clear(tmp);
        ecsrev_buf_add(tmp, cnt, 8);
        ecsrev_buf_add(tmp, c->cluster_arn, strlen(c->cluster_arn) + 1);
        if ((rc = put_val(txn, s->services, c->service_arn, key.mv_size, tmp->ptr, tmp->len, 0)) !=
            0) {
            return rc;
        }
    }
    return 0;
}

static void history_key(struct ecsrev_buf *b, const char *service_arn, int64_t ms, const char *arn)
{
    uint8_t t[8];
    put_time(t, ms);
    ecsrev_buf_clear(b);
    ecsrev_buf_add(b, service_arn, strlen(service_arn) + 1);
    ecsrev_buf_add(b, t, 8);
    if (arn != NULL) {
        ecsrev_buf_add(b, arn, strlen(arn) + 1);
    }
}

static int validate_rev(const struct ecsrev_revision *rev, bool need_canon,
                        struct ecsrev_error *err)
{
    if (rev->arn == NULL || rev->service_arn == NULL || (need_canon && rev->canon == NULL) ||
        rev->created_ms == ECSREV_TIME_NONE) {
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "revision '%s' lacks an ARN, service or createdAt",
                                rev->arn != NULL ? rev->arn : "?");
    }
    size_t hist = strlen(rev->service_arn) + 1 + 8 + strlen(rev->arn) + 1;
    if (strlen(rev->arn) > MAX_KEY || hist > MAX_KEY) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "revision ARN '%.80s...' is too long",
                                rev->arn);
    }
    return 0;
}

/* Store one revision; *added tells whether it was new. Returns an LMDB rc. */
/* An LMDB-style code of ours: a staged body is not in the store (any more). */
#define BODY_MISSING (INT_MIN + 1)

/*
 * Whether the record of @p rev's ARN, if any, has @p rev's content: *state
 * 0 no record, 1 same content, 2 another content. Returns an LMDB rc.
 */
static int record_state(struct ecsrev_store *s, MDB_txn *txn, const struct ecsrev_revision *rev,
                        int *state)
{
    MDB_val key = {strlen(rev->arn), rev->arn};
    MDB_val val;
    int rc = mdb_get(txn, s->revs, &key, &val);
    if (rc == MDB_NOTFOUND) {
        *state = 0;
        return 0;
    }
    if (rc == 0) {
        struct record r;
        bool same = decode_record(&r, &val) &&
                    memcmp(r.content_hash, rev->content_hash, ECSREV_HASH_LEN) == 0;
        *state = same ? 1 : 2;
    }
    return rc;
}

/* Delete the body @p hash (absent is fine). Returns an LMDB rc. */
static int drop_body(struct ecsrev_store *s, MDB_txn *txn, const uint8_t *hash)
{
    MDB_val key = {ECSREV_HASH_LEN, (void *)(uintptr_t)hash};
    int rc = mdb_del(txn, s->bodies, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Store one revision; *state as record_state (0: it was added). With
 * @p staged, its body was stored before by ecsrev_store_stage (check_staged
 * makes sure it is still there), and a conflicting revision's staged body is
 * dropped (only a record of this ARN with this content could use it). The
 * record goes first, with MDB_NOOVERWRITE: one B-tree operation both finds a
 * stored record (LMDB then returns it) and inserts a new one. Any failure
 * after it aborts the whole transaction, so the order of the writes does not
 * matter.
 */
static int put_one(struct ecsrev_store *s, MDB_txn *txn, const struct ecsrev_revision *rev,
                   bool staged, struct job_services *svcs, struct ecsrev_buf *tmp, int *state)
{
    encode_record(tmp, rev);
    size_t arn_len = strlen(rev->arn);
    MDB_val key = {arn_len, rev->arn};
    MDB_val val = {tmp->len, tmp->ptr};
    int rc = mdb_put(txn, s->revs, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        struct record r;
        bool same = decode_record(&r, &val) &&
                    memcmp(r.content_hash, rev->content_hash, ECSREV_HASH_LEN) == 0;
        *state = same ? 1 : 2;
        return !same && staged ? drop_body(s, txn, rev->content_hash) : 0;
    }
    *state = 0;
    if (rc != 0) {
        return rc;
    }
    if (!staged && (rc = put_val(txn, s->bodies, rev->content_hash, ECSREV_HASH_LEN, rev->canon,
                                 rev->canon_len + 1, MDB_NOOVERWRITE)) != 0) {
        return rc;
    }
    history_key(tmp, rev->service_arn, rev->created_ms, rev->arn);
    if ((rc = put_val(txn, s->history, tmp->ptr, tmp->len, "", 0, 0)) != 0) {
        return rc;
    }
    const char *id = strrchr(rev->arn, '/');
    id = id != NULL ? id + 1 : rev->arn;
    if ((rc = put_val(txn, s->ids, id, strlen(id), rev->arn, arn_len, MDB_NODUPDATA)) != 0) {
        return rc;
    }
    services_note(svcs, rev);
    return 0;
}

static int read_head(struct ecsrev_store *s, MDB_txn *txn, uint8_t head[ECSREV_SHA256_LEN],
                     uint64_t *seq)
{
    MDB_val key = {strlen(HEAD_KEY), (void *)(uintptr_t)HEAD_KEY};
    MDB_val val;
    int rc = mdb_get(txn, s->meta, &key, &val);
    if (rc == MDB_NOTFOUND) {
        memset(head, 0, ECSREV_SHA256_LEN);
        *seq = 0;
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    if (val.mv_size != 8 + ECSREV_SHA256_LEN) {
        return MDB_CORRUPTED;
    }
    *seq = get_u64(val.mv_data);
    memcpy(head, (uint8_t *)val.mv_data + 8, ECSREV_SHA256_LEN);
    return 0;
}

/* The event body: canonical JSON (members in RFC 8785 order). */
/* A revision added by a put, for its chain event. */
struct added {
    char *arn;
    uint8_t hash[ECSREV_HASH_LEN];
};

/*
 * The event: {"command":...,"revisions":[{"arn":...,"contentHash":...},...],
 * "seq":N,"time":"..."}, written directly in RFC 8785 form (members already in
 * order, strings escaped by the canonical writer) into @p out.
 */
static int event_body(struct ecsrev_buf *out, const struct added *added, size_t n_added,
                      const char *command, int64_t time_ms, uint64_t seq)
{
#define ADD_LITERAL(lit) ecsrev_buf_add(out, (lit), sizeof(lit) - 1)
    ADD_LITERAL("{\"command\":");
    int rc = ecsrev_canon__write_string(out, command, NULL);
    ADD_LITERAL(",\"revisions\":[");
    for (size_t i = 0; rc == 0 && i < n_added; i++) {
        char hex[ECSREV_HASH_HEX_LEN];
        ecsrev_hash_hex(hex, added[i].hash);
        if (i > 0) {
            ADD_LITERAL(",");
        }
        ADD_LITERAL("{\"arn\":");
        rc = ecsrev_canon__write_string(out, added[i].arn, NULL);
        ADD_LITERAL(",\"contentHash\":\"");
        ecsrev_buf_add(out, hex, ECSREV_HASH_HEX_LEN - 1);
        ADD_LITERAL("\"}");
    }
#undef ADD_LITERAL
    char when[32];
    ecsrev_time_format(when, time_ms);
    char tail[96];
    int n = snprintf(tail, sizeof(tail), "],\"seq\":%" PRIu64 ",\"time\":\"%s\"}", seq, when);
    if (n < 0 || (size_t)n >= sizeof(tail)) {
        return -1;
    }
    ecsrev_buf_add(out, tail, (size_t)n);
    return rc;
}

static int append_event(struct ecsrev_store *s, MDB_txn *txn, const struct added *added,
                        size_t n_added, const char *command, int64_t time_ms,
                        struct ecsrev_buf *tmp)
{
    uint8_t prev[ECSREV_SHA256_LEN];
    uint64_t seq;
    int rc = read_head(s, txn, prev, &seq);
    if (rc != 0) {
        return rc;
    }
    seq++;
    /* the value: prev head || head || event, the head filled in once known */
    ecsrev_buf_clear(tmp);
    ecsrev_buf_add(tmp, prev, sizeof(prev));
    ecsrev_buf_add(tmp, prev, sizeof(prev));
    if (event_body(tmp, added, n_added, command, time_ms, seq) != 0) {
        return EINVAL; /* a string that is not UTF-8: validated long before */
    }
    uint8_t *head = (uint8_t *)tmp->ptr + ECSREV_SHA256_LEN;
    struct ecsrev_sha256_ctx *ctx = ecsrev_sha256_new();
    ecsrev_sha256_update(ctx, prev, sizeof(prev));
    ecsrev_sha256_update(ctx, tmp->ptr + EVENT_HEADS, tmp->len - EVENT_HEADS);
    ecsrev_sha256_final(ctx, head);

    uint8_t k[8];
    put_u64(k, seq);
    if ((rc = put_val(txn, s->events, k, 8, tmp->ptr, tmp->len, MDB_NOOVERWRITE)) != 0) {
        return rc;
    }
    uint8_t hv[8 + ECSREV_SHA256_LEN];
    put_u64(hv, seq);
    memcpy(hv + 8, head, ECSREV_SHA256_LEN);
    return put_val(txn, s->meta, HEAD_KEY, strlen(HEAD_KEY), hv, sizeof(hv), 0);
}

/*
 * Drop this process's page-table entries for the map. LMDB reads the data
 * file through a read-only shared mapping, and every page it touches (plus
 * the neighbours the kernel maps around each fault) stays resident in this
 * process: a long import would end up with the whole file in its RSS.
 * MADV_DONTNEED on a shared file mapping only unmaps; the pages stay in the
 * page cache and the next access faults them back in with the same bytes,
 * so this is safe at any time, even in the middle of a transaction.
 */
static void find_map(struct ecsrev_store *s, const MDB_envinfo *info)
{
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0) {
        return;
    }
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof(line), maps) != NULL) {
        /* "start-end perms offset dev inode path" */
        char *p = line;
        unsigned long start = strtoul(p, &p, 16);
        unsigned long end = *p == '-' ? strtoul(p + 1, &p, 16) : 0;
        p = *p != '\0' ? strchr(p + 1, ' ') : NULL; /* after the permissions */
        unsigned long long offset = p != NULL ? strtoull(p + 1, &p, 16) : 1;
        p = p != NULL && *p != '\0' ? strchr(p + 1, ' ') : NULL; /* after the device */
        unsigned long long inode = p != NULL ? strtoull(p + 1, NULL, 10) : 0;
        if (inode == (unsigned long long)st.st_ino && offset == 0 && end > start &&
            end - start == info->me_mapsize) {
            s->map_start = start;
            s->map_len = end - start;
            break;
        }
    }
    (void)fclose(maps);
}

static void release_map(struct ecsrev_store *s)
{
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) != 0) {
        return;
    }
    /* LMDB does not say where its map is (me_mapaddr is only set with
     * MDB_FIXEDMAP): find the data file's mapping in /proc/self/maps, once
     * per map (every mdb_env_set_mapsize here forgets it: it remaps). */
    if (s->map_start == 0 || s->map_len != info.me_mapsize) {
        s->map_start = 0;
        find_map(s, &info);
        if (s->map_start == 0) {
            return; /* not Linux, or not found: nothing to release */
        }
    }
    size_t used = ((size_t)info.me_last_pgno + 1) * (size_t)sysconf(_SC_PAGESIZE);
    (void)madvise((void *)s->map_start, used < s->map_len ? used : s->map_len, MADV_DONTNEED);
}

/*
 * File-backed resident bytes of this process (the "shared" field of
 * /proc/self/statm: the map's pages plus the mapped executable and
 * libraries), or 0 when that cannot be read.
 */
static size_t file_resident(struct ecsrev_store *s)
{
    if (s->statm_fd == -1) {
        s->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (s->statm_fd < 0) {
            s->statm_fd = -2;
        }
    }
    char buf[128];
    ssize_t n = s->statm_fd >= 0 ? pread(s->statm_fd, buf, sizeof(buf) - 1, 0) : -1;
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    /* "size resident shared text lib data dt", in pages */
    char *p = buf;
    (void)strtoul(p, &p, 10);
    (void)strtoul(p, &p, 10);
    return (size_t)strtoul(p, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE);
}

/* Revisions stored between two release_some checks. */
#define RELEASE_EVERY 8

/*
 * release_map once the map's pages mapped in this process exceed
 * s->map_budget. Releasing is not free: every page touched afterwards faults
 * back in (with its fault-around neighbours), so releasing after every few
 * revisions cost a fifth of an import's time in page faults; checking a
 * counter and releasing only when the budget is spent keeps the hot upper
 * B-tree pages mapped. Where statm cannot be read, it releases every time.
 */
static void release_some(struct ecsrev_store *s)
{
    size_t now = file_resident(s);
    if (now != 0 && (now < s->file_floor || now - s->file_floor < s->map_budget)) {
        return;
    }
    release_map(s);
    s->file_floor = file_resident(s);
}

/* LMDB's codes are errno values and MDB_* (near -30800): this one is ours. */
#define SOURCE_FAILED INT_MIN

/* What one write transaction does with the revisions of a source. */
enum job_kind {
    JOB_PUT,    /* store them, with their chain event */
    JOB_STAGE,  /* store their bodies only (ecsrev_store_stage) */
    JOB_UNSTAGE /* drop their bodies that no record uses (ecsrev_store_unstage) */
};

struct job {
    enum job_kind kind;
    const struct ecsrev_store_source *src;
    const char *command; /* JOB_PUT: for the event */
    int64_t time_ms;
    struct ecsrev_store_put_result res;
    struct added *added; /* JOB_PUT: revisions added, for the event */
    size_t n_added, cap;
    struct job_services svcs; /* JOB_PUT: revisions added per service */
};

static int job_begin(struct ecsrev_store *s, MDB_txn **txn)
{
    int lrc = mdb_txn_begin(s->env, NULL, 0, txn);
    if (lrc == MDB_MAP_RESIZED) {
        s->map_start = 0;
        if ((lrc = mdb_env_set_mapsize(s->env, 0)) == 0) {
            lrc = mdb_txn_begin(s->env, NULL, 0, txn);
        }
    }
    return lrc;
}

static void job_note_added(struct job *job, const struct ecsrev_revision *rev)
{
    if (job->n_added == job->cap) {
        job->cap = job->cap == 0 ? 64 : job->cap * 2;
        job->added = ecsrev_xrealloc(job->added, job->cap * sizeof(*job->added));
    }
    job->added[job->n_added].arn = ecsrev_xstrdup(rev->arn);
    memcpy(job->added[job->n_added++].hash, rev->content_hash, ECSREV_HASH_LEN);
}

static void job_clear(struct job *job)
{
    for (size_t i = 0; i < job->n_added; i++) {
        free(job->added[i].arn);
    }
    free(job->added);
    job->added = NULL;
    job->n_added = job->cap = 0;
    services_clear(&job->svcs);
    memset(&job->res, 0, sizeof(job->res));
}

/* A revision added by a put, in the order of check_staged. */
struct added_ref {
    const struct added *added;
};

static int cmp_added_hash(const void *a, const void *b)
{
    const struct added_ref *x = a;
    const struct added_ref *y = b;
    return memcmp(x->added->hash, y->added->hash, ECSREV_HASH_LEN);
}

/*
 * With bodies staged: every revision the put adds must still find its body
 * (staging.lock keeps other imports from taking staged bodies back; this
 * catches anything else). Checked once per put, in the order of the bodies'
 * keys, with one cursor: each leaf page of `bodies` is read once, where a
 * lookup per revision in input order was a random descent each time (and
 * every page read through the map brings its neighbours into the process).
 * Returns an LMDB rc, or BODY_MISSING with *missing set.
 */
static int check_staged(struct ecsrev_store *s, MDB_txn *txn, const struct job *job,
                        const char **missing)
{
    struct added_ref *order = ecsrev_xmalloc((job->n_added + 1) * sizeof(*order));
    for (size_t i = 0; i < job->n_added; i++) {
        order[i].added = &job->added[i];
    }
    qsort(order, job->n_added, sizeof(*order), cmp_added_hash);
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, s->bodies, &cur);
    for (size_t i = 0; rc == 0 && i < job->n_added; i++) {
        MDB_val key = {ECSREV_HASH_LEN, (void *)(uintptr_t)order[i].added->hash};
        MDB_val val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET);
        if (rc == MDB_NOTFOUND) {
            *missing = order[i].added->arn;
            rc = BODY_MISSING;
        }
        if (i % RELEASE_EVERY == RELEASE_EVERY - 1) {
            release_some(s);
        }
    }
    mdb_cursor_close(cur);
    free(order);
    return rc;
}

/* The job's work on one revision. Returns an LMDB rc. */
static int job_one(struct ecsrev_store *s, MDB_txn *txn, struct job *job,
                   const struct ecsrev_revision *rev, struct ecsrev_buf *tmp)
{
    int state = 0;
    int rc;
    switch (job->kind) {
    case JOB_STAGE:
        return put_val(txn, s->bodies, rev->content_hash, ECSREV_HASH_LEN, rev->canon,
                       rev->canon_len + 1, MDB_NOOVERWRITE);
    case JOB_UNSTAGE:
        rc = record_state(s, txn, rev, &state);
        return rc != 0 || state == 1 ? rc : drop_body(s, txn, rev->content_hash);
    case JOB_PUT:
    default:
        rc = put_one(s, txn, rev, job->src->bodies_staged, &job->svcs, tmp, &state);
        if (rc == 0 && state == 0) {
            job_note_added(job, rev);
        } else if (rc == 0) {
            *(state == 1 ? &job->res.existing : &job->res.conflicts) += 1;
        }
        return rc;
    }
}

/*
 * One attempt at the whole job in one transaction; returns an LMDB rc
 * (MDB_MAP_FULL: the caller grows the map and tries again), or
 * SOURCE_FAILED when the source reported an error, gave an invalid
 * revision, or a staged body was missing (@p err set).
 */
static int job_attempt(struct ecsrev_store *s, struct job *job, struct ecsrev_error *err)
{
    const struct ecsrev_store_source *src = job->src;
    bool need_canon = job->kind == JOB_STAGE || (job->kind == JOB_PUT && !src->bodies_staged);
    job_clear(job);
    if (src->rewind != NULL && src->rewind(src->payload, err) < 0) {
        return SOURCE_FAILED;
    }
    MDB_txn *txn = NULL;
    int lrc = job_begin(s, &txn);
    if (lrc != 0) {
        return lrc;
    }
    struct ecsrev_buf tmp = ECSREV_BUF_INIT;
    for (size_t i = 0; lrc == 0; i++) {
        const struct ecsrev_revision *rev = NULL;
        int more = src->next(src->payload, &rev, err);
        if (more <= 0 || validate_rev(rev, need_canon, err) < 0) {
            lrc = more == 0 ? 0 : SOURCE_FAILED;
            break;
        }
        lrc = job_one(s, txn, job, rev, &tmp);
        if (i % RELEASE_EVERY == RELEASE_EVERY - 1) {
            release_some(s);
        }
    }
    const char *missing = NULL;
    if (lrc == 0 && job->kind == JOB_PUT && src->bodies_staged &&
        (lrc = check_staged(s, txn, job, &missing)) == BODY_MISSING) {
        (void)ecsrev_error_set(err, ECSREV_ESTORE,
                               "store '%s': the staged body of '%s' is gone (did a concurrent "
                               "import of the same revisions fail?); import again",
                               s->path, missing);
        lrc = SOURCE_FAILED;
    }
    if (lrc == 0 && job->n_added > 0 && (lrc = services_write(s, txn, &job->svcs, &tmp)) == 0) {
        lrc = append_event(s, txn, job->added, job->n_added, job->command, job->time_ms, &tmp);
    }
    job->res.added = job->n_added;
    ecsrev_buf_dispose(&tmp);
    if (lrc != 0) {
        mdb_txn_abort(txn);
        return lrc;
    }
    lrc = mdb_txn_commit(txn);
    release_some(s);
    return lrc;
}

void ecsrev_store_set_map_budget(struct ecsrev_store *s, size_t bytes)
{
    if (s != NULL) {
        s->map_budget = bytes;
    }
}

static int grow(struct ecsrev_store *s, struct ecsrev_error *err)
{
    MDB_envinfo info;
    (void)mdb_env_info(s->env, &info);
    size_t next = info.me_mapsize * 2;
    if (next > MAX_MAP) {
        return ecsrev_error_set(err, ECSREV_ESTORE, "store '%s' is full at %zu bytes", s->path,
                                info.me_mapsize);
    }
    s->map_start = 0;
    int rc = mdb_env_set_mapsize(s->env, next);
    if (rc != 0) {
        return lmdb_error(err, rc, "cannot grow the map");
    }
    return 0;
}

static int job_run(struct ecsrev_store *s, struct job *job, struct ecsrev_error *err);

int ecsrev_store_batch(struct ecsrev_store *s, bool on)
{
    if (s == NULL || s->readonly) {
        return 0;
    }
    unsigned flags = 0;
    bool was_on = mdb_env_get_flags(s->env, &flags) == 0 && (flags & MDB_NOMETASYNC) != 0;
    if (mdb_env_set_flags(s->env, MDB_NOMETASYNC, on ? 1 : 0) != 0) {
        return -1;
    }
    /* the last commit's meta page, not flushed yet */
    return !on && was_on && mdb_env_sync(s->env, 1) != 0 ? -1 : 0;
}

void ecsrev_store_on_wait(struct ecsrev_store *s, ecsrev_store_wait_fn fn, void *payload)
{
    s->on_wait = fn;
    s->wait_payload = payload;
}

/*
 * Take writer.lock before LMDB's own writer mutex, only to be able to say
 * that we wait: LMDB blocks silently. flock is released by close or crash.
 */
static int lock_writer(struct ecsrev_store *s, struct ecsrev_error *err)
{
    if (s->lock_fd < 0) {
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/writer.lock", s->path);
        s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->lock_fd < 0) {
            int e = errno;
            char et[128];
            return ecsrev_error_set_cause(err, ECSREV_ESTORE, e, "store '%s': cannot open %s: %s",
                                          s->path, "writer.lock", errno_text(e, et, sizeof(et)));
        }
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) {
        return 0;
    }
    if (errno == EWOULDBLOCK && s->on_wait != NULL) {
        s->on_wait(s->wait_payload);
    }
    while (flock(s->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            char et[128];
            return ecsrev_error_set_cause(err, ECSREV_ESTORE, e, "store '%s': cannot lock: %s",
                                          s->path, errno_text(e, et, sizeof(et)));
        }
    }
    return 0;
}

/* An array as a source. */
struct array_source {
    const struct ecsrev_revision *revs;
    size_t n, next;
};

static int array_next(void *payload, const struct ecsrev_revision **out, struct ecsrev_error *err)
{
    (void)err;
    struct array_source *a = payload;
    if (a->next == a->n) {
        return 0;
    }
    *out = &a->revs[a->next++];
    return 1;
}

static int array_rewind(void *payload, struct ecsrev_error *err)
{
    (void)err;
    ((struct array_source *)payload)->next = 0;
    return 0;
}

int ecsrev_store_put(struct ecsrev_store *s, const struct ecsrev_revision *revs, size_t n,
                     const char *command, int64_t time_ms, struct ecsrev_store_put_result *out,
                     struct ecsrev_error *err)
{
    /* validate all first: a bad revision never makes us wait for the lock */
    for (size_t i = 0; i < n; i++) {
        int rc = validate_rev(&revs[i], true, err);
        if (rc < 0) {
            return rc;
        }
    }
    struct array_source a = {revs, n, 0};
    struct ecsrev_store_source src = {array_next, array_rewind, &a, false};
    return ecsrev_store_put_from(s, &src, command, time_ms, out, err);
}

int ecsrev_store_put_from(struct ecsrev_store *s, const struct ecsrev_store_source *src,
                          const char *command, int64_t time_ms, struct ecsrev_store_put_result *out,
                          struct ecsrev_error *err)
{
    struct job job = {JOB_PUT, src, command, time_ms, {0, 0, 0}, NULL, 0, 0, {NULL, 0, 0}};
    int rc = job_run(s, &job, err);
    if (rc == 0 && out != NULL) {
        *out = job.res;
    }
    job_clear(&job);
    return rc;
}

/*
 * staging.lock: every process that stages bodies holds it shared until its
 * import ends (flock: released by close or crash). Taking staged bodies back
 * needs it exclusive, so a failed import never deletes bodies that another
 * import, still running, may have found already there and count on.
 */
static int staging_lock(struct ecsrev_store *s, struct ecsrev_error *err)
{
    if (s->staging_fd >= 0) {
        return 0;
    }
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/staging.lock", s->path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        char et[128];
        return ecsrev_error_set_cause(err, ECSREV_ESTORE, e, "store '%s': cannot open %s: %s",
                                      s->path, "staging.lock", errno_text(e, et, sizeof(et)));
    }
    while (flock(fd, LOCK_SH) != 0) {
        if (errno != EINTR) {
            int e = errno;
            char et[128];
            (void)close(fd);
            return ecsrev_error_set_cause(err, ECSREV_ESTORE, e, "store '%s': cannot lock: %s",
                                          s->path, errno_text(e, et, sizeof(et)));
        }
    }
    s->staging_fd = fd;
    return 0;
}

void ecsrev_store_stage_done(struct ecsrev_store *s)
{
    if (s != NULL && s->staging_fd >= 0) {
        (void)close(s->staging_fd); /* releases the lock */
        s->staging_fd = -1;
    }
}

int ecsrev_store_stage(struct ecsrev_store *s, const struct ecsrev_store_source *src,
                       struct ecsrev_error *err)
{
    struct job job = {JOB_STAGE, src, NULL, 0, {0, 0, 0}, NULL, 0, 0, {NULL, 0, 0}};
    int rc = s->readonly ? 0 : staging_lock(s, err);
    return rc < 0 ? rc : job_run(s, &job, err);
}

int ecsrev_store_unstage(struct ecsrev_store *s, const struct ecsrev_store_source *src,
                         bool *dropped, struct ecsrev_error *err)
{
    struct job job = {JOB_UNSTAGE, src, NULL, 0, {0, 0, 0}, NULL, 0, 0, {NULL, 0, 0}};
    *dropped = false;
    int rc = s->readonly ? 0 : staging_lock(s, err);
    if (rc < 0) {
        return rc;
    }
    /* shared to exclusive, without waiting: another import staging keeps them */
    if (flock(s->staging_fd, LOCK_EX | LOCK_NB) != 0) {
        (void)flock(s->staging_fd, LOCK_SH);
        return 0;
    }
    rc = job_run(s, &job, err);
    (void)flock(s->staging_fd, LOCK_SH);
    *dropped = rc == 0;
    return rc;
}

/*
 * LMDB reports a short write as EIO (it writes many pages with one pwritev,
 * and a full file system takes only part of them): when the file system of
 * the store has no room left, ENOSPC says what happened.
 */
static int full_disk(struct ecsrev_store *s, int lrc)
{
    mdb_filehandle_t fd;
    struct statvfs v;
    if (lrc == EIO && mdb_env_get_fd(s->env, &fd) == 0 && fstatvfs(fd, &v) == 0 &&
        (uint64_t)v.f_bavail * v.f_frsize < FULL_DISK_BYTES) {
        return ENOSPC;
    }
    return lrc;
}

/* Run @p job under the writer lock, growing the map and retrying while it is full. */
static int job_run(struct ecsrev_store *s, struct job *job, struct ecsrev_error *err)
{
    if (s->readonly) {
        return ecsrev_error_set(err, ECSREV_ESTORE, "store '%s' is open read-only", s->path);
    }
    int rc = lock_writer(s, err);
    while (rc == 0) {
        int lrc = job_attempt(s, job, err);
        if (lrc == SOURCE_FAILED) {
            rc = err != NULL && err->code != 0 ? err->code : ECSREV_EINVAL;
        } else if (lrc == MDB_MAP_FULL && job->src->rewind == NULL) {
            rc = ecsrev_error_set(err, ECSREV_ESTORE,
                                  "store '%s' is full and the write cannot be repeated", s->path);
        } else if (lrc == MDB_MAP_FULL) {
            rc = grow(s, err);
            continue;
        } else if (lrc != 0) {
            lrc = full_disk(s, lrc);
            rc = ecsrev_error_set_cause(err, ECSREV_ESTORE, lrc, "store '%s': cannot write: %s",
                                        s->path, mdb_strerror(lrc));
        }
        break;
    }
    if (s->lock_fd >= 0) {
        (void)flock(s->lock_fd, LOCK_UN);
    }
    return rc;
}

/* ---- reading ---- */

int ecsrev_store_has(struct ecsrev_store *s, const char *arn, bool *out, struct ecsrev_error *err)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_val key = {strlen(arn), (void *)(uintptr_t)arn};
    MDB_val val;
    int lrc = strlen(arn) > MAX_KEY ? MDB_NOTFOUND : mdb_get(txn, s->revs, &key, &val);
    read_end(s, txn);
    if (lrc != 0 && lrc != MDB_NOTFOUND) {
        return lmdb_error(err, lrc, "cannot read");
    }
    *out = lrc == 0;
    return 0;
}

int ecsrev_store_get(struct ecsrev_store *s, const char *arn, struct ecsrev_revision *out,
                     struct ecsrev_error *err)
{
    memset(out, 0, sizeof(*out));
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_val key = {strlen(arn), (void *)(uintptr_t)arn};
    MDB_val val;
    int lrc = strlen(arn) > MAX_KEY ? MDB_NOTFOUND : mdb_get(txn, s->revs, &key, &val);
    if (lrc == MDB_NOTFOUND) {
        rc = ecsrev_error_set(err, ECSREV_ENOTFOUND, "no stored revision '%s'", arn);
    } else if (lrc != 0) {
        rc = lmdb_error(err, lrc, "cannot read");
    } else {
        char *arn_copy = ecsrev_xstrdup(arn);
        struct ecsrev_revision view;
        rc = load_view(s, txn, arn_copy, &val, true, &view, err);
        if (rc == 0) {
            ecsrev_revision_copy(out, &view);
        }
        free(arn_copy);
    }
    read_end(s, txn);
    return rc;
}

int ecsrev_store_resolve(struct ecsrev_store *s, const char *ref, char **out,
                         struct ecsrev_error *err)
{
    *out = NULL;
    if (strncmp(ref, "arn:", 4) == 0) {
        bool has = false;
        int rc = ecsrev_store_has(s, ref, &has, err);
        if (rc < 0) {
            return rc;
        }
        if (!has) {
            return ecsrev_error_set(err, ECSREV_ENOTFOUND, "no stored revision '%s'", ref);
        }
        *out = ecsrev_xstrdup(ref);
        return 0;
    }
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    MDB_val key = {strlen(ref), (void *)(uintptr_t)ref};
    MDB_val val;
    size_t count = 0;
    int lrc = mdb_cursor_open(txn, s->ids, &cur);
    if (lrc == 0 && strlen(ref) > 0 && strlen(ref) <= MAX_KEY) {
        lrc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY);
        if (lrc == 0) {
            lrc = mdb_cursor_count(cur, &count);
        }
    }
    if (lrc == 0 && count == 1) {
        *out = ecsrev_xstrndup(val.mv_data, val.mv_size);
    } else if (lrc == 0 && count > 1) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL,
                              "revision id '%s' is ambiguous: %zu stored revisions have it; use "
                              "the full ARN",
                              ref, count);
    } else if (lrc == 0 || lrc == MDB_NOTFOUND) {
        rc = ecsrev_error_set(err, ECSREV_ENOTFOUND, "no stored revision '%s'", ref);
    } else {
        rc = lmdb_error(err, lrc, "cannot read");
    }
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

/* "arn:...:service/cluster/name" or legacy "arn:...:service/name". */
static bool service_matches(const char *service_arn, const char *cluster_arn, const char *name,
                            const char *cluster)
{
    const char *res = strstr(service_arn, ":service/");
    if (res == NULL) {
        return false;
    }
    res += strlen(":service/");
    const char *last = strrchr(res, '/');
    const char *svc_name = last != NULL ? last + 1 : res;
    if (strcmp(svc_name, name) != 0) {
        return false;
    }
    if (cluster == NULL) {
        return true;
    }
    if (strncmp(cluster, "arn:", 4) == 0) {
        return strcmp(cluster, cluster_arn) == 0;
    }
    const char *c = strstr(cluster_arn, ":cluster/");
    return c != NULL && strcmp(c + strlen(":cluster/"), cluster) == 0;
}

struct find_ctx {
    const char *name;
    const char *cluster;
    char *found;
    size_t matches;
};

static int find_cb(const char *service_arn, const char *cluster_arn, uint64_t n, void *payload)
{
    (void)n;
    struct find_ctx *f = payload;
    if (service_matches(service_arn, cluster_arn, f->name, f->cluster)) {
        if (f->found == NULL) {
            f->found = ecsrev_xstrdup(service_arn);
        }
        f->matches++;
    }
    return 0;
}

int ecsrev_store_find_service(struct ecsrev_store *s, const char *service, const char *cluster,
                              char **out, struct ecsrev_error *err)
{
    *out = NULL;
    struct find_ctx f = {service, cluster, NULL, 0};
    if (strncmp(service, "arn:", 4) == 0) {
        f.name = NULL;
    }
    int rc = 0;
    if (f.name == NULL) {
        MDB_txn *txn = NULL;
        if ((rc = read_begin(s, &txn, err)) < 0) {
            return rc;
        }
        MDB_val key = {strlen(service), (void *)(uintptr_t)service};
        MDB_val val;
        int lrc = strlen(service) > MAX_KEY ? MDB_NOTFOUND : mdb_get(txn, s->services, &key, &val);
        read_end(s, txn);
        if (lrc == MDB_NOTFOUND) {
            return ecsrev_error_set(err, ECSREV_ENOTFOUND, "no stored revisions of service '%s'",
                                    service);
        }
        if (lrc != 0) {
            return lmdb_error(err, lrc, "cannot read");
        }
        *out = ecsrev_xstrdup(service);
        return 0;
    }
    if ((rc = ecsrev_store_services(s, find_cb, &f, err)) < 0) {
        free(f.found);
        return rc;
    }
    if (f.matches == 0) {
        return ecsrev_error_set(err, ECSREV_ENOTFOUND, "no stored revisions of service '%s'%s%s",
                                service, cluster != NULL ? " in cluster " : "",
                                cluster != NULL ? cluster : "");
    }
    if (f.matches > 1) {
        free(f.found);
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "service name '%s' is in %zu clusters; name one with --cluster",
                                service, f.matches);
    }
    *out = f.found;
    return 0;
}

int ecsrev_store_services(struct ecsrev_store *s, ecsrev_store_service_fn fn, void *payload,
                          struct ecsrev_error *err)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    int lrc = mdb_cursor_open(txn, s->services, &cur);
    struct ecsrev_buf name = ECSREV_BUF_INIT;
    for (MDB_cursor_op op = MDB_FIRST; lrc == 0 && rc == 0; op = MDB_NEXT) {
        lrc = mdb_cursor_get(cur, &key, &val, op);
        if (lrc != 0) {
            break;
        }
        if (val.mv_size < 9 || ((char *)val.mv_data)[val.mv_size - 1] != '\0') {
            rc = ecsrev_error_set(err, ECSREV_ESTORE, "store: damaged service record");
            break;
        }
        ecsrev_buf_clear(&name);
        ecsrev_buf_add(&name, key.mv_data, key.mv_size);
        rc = fn(name.ptr, (const char *)val.mv_data + 8, get_u64(val.mv_data), payload);
    }
    if (lrc != 0 && lrc != MDB_NOTFOUND) {
        rc = lmdb_error(err, lrc, "cannot read services");
    }
    ecsrev_buf_dispose(&name);
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

/* Visit one history entry (key = svc NUL time arn NUL). */
static int visit_history(struct ecsrev_store *s, MDB_txn *txn, const MDB_val *hkey, size_t prefix,
                         bool with_body, ecsrev_store_rev_fn fn, void *payload,
                         struct ecsrev_error *err)
{
    char *arn = (char *)hkey->mv_data + prefix + 8;
    if (hkey->mv_size <= prefix + 9 || ((char *)hkey->mv_data)[hkey->mv_size - 1] != '\0') {
        return ecsrev_error_set(err, ECSREV_ESTORE, "store: damaged history entry");
    }
    MDB_val key = {strlen(arn), arn};
    MDB_val val;
    int lrc = mdb_get(txn, s->revs, &key, &val);
    if (lrc != 0) {
        return ecsrev_error_set(err, ECSREV_ESTORE,
                                "store: history names '%s' but it has no record", arn);
    }
    struct ecsrev_revision view;
    int rc = load_view(s, txn, arn, &val, with_body, &view, err);
    if (rc < 0) {
        return rc;
    }
    return fn(&view, payload);
}

static bool has_prefix(const MDB_val *k, const struct ecsrev_buf *prefix)
{
    return k->mv_size >= prefix->len + 8 && memcmp(k->mv_data, prefix->ptr, prefix->len) == 0;
}

int ecsrev_store_history(struct ecsrev_store *s, const char *service_arn,
                         const struct ecsrev_store_query *q, ecsrev_store_rev_fn fn, void *payload,
                         struct ecsrev_error *err)
{
    int64_t since = q->since_ms == ECSREV_TIME_NONE ? INT64_MIN : q->since_ms;
    int64_t until = q->until_ms == ECSREV_TIME_NONE ? INT64_MAX : q->until_ms;
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    struct ecsrev_buf prefix = ECSREV_BUF_INIT;
    struct ecsrev_buf start = ECSREV_BUF_INIT;
    ecsrev_buf_add(&prefix, service_arn, strlen(service_arn) + 1);
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    int lrc = mdb_cursor_open(txn, s->history, &cur);
    if (lrc == 0 && !q->newest_first) {
        history_key(&start, service_arn, since, NULL);
        key.mv_size = start.len;
        key.mv_data = start.ptr;
        lrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    } else if (lrc == 0) {
        /* Position on the first key after the upper bound, then step back. */
        history_key(&start, service_arn, until, NULL);
        ecsrev_buf_add(&start, "\xff", 1);
        key.mv_size = start.len;
        key.mv_data = start.ptr;
        lrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        lrc = mdb_cursor_get(cur, &key, &val, lrc == 0 ? MDB_PREV : MDB_LAST);
    }
    while (lrc == 0 && rc == 0 && has_prefix(&key, &prefix)) {
        int64_t t = get_time((uint8_t *)key.mv_data + prefix.len);
        if (t < since || t > until) {
            break;
        }
        rc = visit_history(s, txn, &key, prefix.len, q->with_body, fn, payload, err);
        lrc = mdb_cursor_get(cur, &key, &val, q->newest_first ? MDB_PREV : MDB_NEXT);
    }
    if (rc == 0 && lrc != 0 && lrc != MDB_NOTFOUND) {
        rc = lmdb_error(err, lrc, "cannot read history");
    }
    mdb_cursor_close(cur);
    read_end(s, txn);
    ecsrev_buf_dispose(&prefix);
    ecsrev_buf_dispose(&start);
    return rc;
}

int ecsrev_store_foreach(struct ecsrev_store *s, const char *service_arn, ecsrev_store_rev_fn fn,
                         void *payload, struct ecsrev_error *err)
{
    if (service_arn != NULL) {
        struct ecsrev_store_query q = ECSREV_STORE_QUERY_INIT;
        return ecsrev_store_history(s, service_arn, &q, fn, payload, err);
    }
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    struct ecsrev_buf arn = ECSREV_BUF_INIT;
    int lrc = mdb_cursor_open(txn, s->revs, &cur);
    for (MDB_cursor_op op = MDB_FIRST; lrc == 0 && rc == 0; op = MDB_NEXT) {
        if ((lrc = mdb_cursor_get(cur, &key, &val, op)) != 0) {
            break;
        }
        ecsrev_buf_clear(&arn);
        ecsrev_buf_add(&arn, key.mv_data, key.mv_size);
        struct ecsrev_revision view;
        if ((rc = load_view(s, txn, arn.ptr, &val, true, &view, err)) == 0) {
            rc = fn(&view, payload);
        }
    }
    if (rc == 0 && lrc != 0 && lrc != MDB_NOTFOUND) {
        rc = lmdb_error(err, lrc, "cannot read revisions");
    }
    ecsrev_buf_dispose(&arn);
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

static uint64_t count_clusters(MDB_txn *txn, MDB_dbi services)
{
    /* Distinct cluster ARNs; services are few, so a small list suffices. */
    char **seen = NULL;
    size_t n = 0;
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    if (mdb_cursor_open(txn, services, &cur) != 0) {
        return 0;
    }
    for (MDB_cursor_op op = MDB_FIRST; mdb_cursor_get(cur, &key, &val, op) == 0; op = MDB_NEXT) {
        if (val.mv_size < 9) {
            continue;
        }
        const char *c = (const char *)val.mv_data + 8;
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) {
            dup = strcmp(seen[i], c) == 0;
        }
        if (!dup && c[0] != '\0') {
            seen = ecsrev_xrealloc(seen, (n + 1) * sizeof(*seen));
            seen[n++] = ecsrev_xstrdup(c);
        }
    }
    mdb_cursor_close(cur);
    for (size_t i = 0; i < n; i++) {
        free(seen[i]);
    }
    free(seen);
    return n;
}

int ecsrev_store_index_size(struct ecsrev_store *s, uint64_t *bytes, uint64_t *revisions,
                            struct ecsrev_error *err)
{
    *bytes = 0;
    *revisions = 0;
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_stat st;
    MDB_dbi dbis[] = {s->revs, s->history, s->ids, s->services};
    for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
        if (mdb_stat(txn, dbis[i], &st) == 0) {
            *bytes += ((uint64_t)st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
                      st.ms_psize;
            if (dbis[i] == s->revs) {
                *revisions = st.ms_entries;
            }
        }
    }
    read_end(s, txn);
    return 0;
}

int ecsrev_store_stats(struct ecsrev_store *s, struct ecsrev_store_stats *out,
                       struct ecsrev_error *err)
{
    memset(out, 0, sizeof(*out));
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_stat st;
    uint64_t *targets[] = {&out->revisions, &out->services, &out->bodies, &out->events};
    MDB_dbi dbis[] = {s->revs, s->services, s->bodies, s->events};
    for (size_t i = 0; i < 4; i++) {
        if (mdb_stat(txn, dbis[i], &st) == 0) {
            *targets[i] = st.ms_entries;
        }
    }
    out->clusters = count_clusters(txn, s->services);
    read_end(s, txn);
    MDB_envinfo info;
    MDB_stat env;
    if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &env) == 0) {
        out->bytes_used = ((uint64_t)info.me_last_pgno + 1) * env.ms_psize;
        out->map_size = info.me_mapsize;
    }
    char data[4096];
    struct stat fst;
    (void)snprintf(data, sizeof(data), "%s/data.mdb", s->path);
    if (stat(data, &fst) == 0) {
        out->file_size = (uint64_t)fst.st_size;
    }
    return 0;
}

int ecsrev_store_events(struct ecsrev_store *s, ecsrev_store_event_fn fn, void *payload,
                        struct ecsrev_error *err)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    int lrc = mdb_cursor_open(txn, s->events, &cur);
    for (MDB_cursor_op op = MDB_FIRST; lrc == 0 && rc == 0; op = MDB_NEXT) {
        if ((lrc = mdb_cursor_get(cur, &key, &val, op)) != 0) {
            break;
        }
        if (key.mv_size != 8 || val.mv_size < EVENT_HEADS) {
            rc = ecsrev_error_set(err, ECSREV_ESTORE, "store: damaged event record");
            break;
        }
        struct ecsrev_store_event ev;
        ev.seq = get_u64(key.mv_data);
        memcpy(ev.prev, val.mv_data, ECSREV_SHA256_LEN);
        memcpy(ev.head, (uint8_t *)val.mv_data + ECSREV_SHA256_LEN, ECSREV_SHA256_LEN);
        ev.body = (const char *)val.mv_data + EVENT_HEADS;
        ev.body_len = val.mv_size - EVENT_HEADS;
        rc = fn(&ev, payload);
    }
    if (rc == 0 && lrc != 0 && lrc != MDB_NOTFOUND) {
        rc = lmdb_error(err, lrc, "cannot read events");
    }
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

int ecsrev_store_head(struct ecsrev_store *s, uint8_t out[ECSREV_SHA256_LEN], uint64_t *seq,
                      struct ecsrev_error *err)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    int lrc = read_head(s, txn, out, seq);
    read_end(s, txn);
    if (lrc != 0) {
        return lmdb_error(err, lrc, "cannot read the chain head");
    }
    return 0;
}

int ecsrev_store_raw(struct ecsrev_store *s, ecsrev_store_raw_fn fn, void *payload,
                     struct ecsrev_error *err)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn, err);
    if (rc < 0) {
        return rc;
    }
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    struct ecsrev_buf arn = ECSREV_BUF_INIT;
    static const uint8_t zero[ECSREV_HASH_LEN];
    int lrc = mdb_cursor_open(txn, s->revs, &cur);
    for (MDB_cursor_op op = MDB_FIRST; lrc == 0 && rc == 0; op = MDB_NEXT) {
        if ((lrc = mdb_cursor_get(cur, &key, &val, op)) != 0) {
            break;
        }
        ecsrev_buf_clear(&arn);
        ecsrev_buf_add(&arn, key.mv_data, key.mv_size);
        struct ecsrev_store_raw raw = {arn.ptr, zero, NULL, 0};
        struct record r;
        if (decode_record(&r, &val)) {
            raw.content_hash = r.content_hash;
            MDB_val bkey = {ECSREV_HASH_LEN, (void *)(uintptr_t)r.content_hash};
            MDB_val body;
            if (mdb_get(txn, s->bodies, &bkey, &body) == 0 && body.mv_size > 0) {
                raw.body = body.mv_data;
                raw.body_len = body.mv_size - 1;
            }
        }
        rc = fn(&raw, payload);
    }
    if (rc == 0 && lrc != 0 && lrc != MDB_NOTFOUND) {
        rc = lmdb_error(err, lrc, "cannot read revisions");
    }
    ecsrev_buf_dispose(&arn);
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}
