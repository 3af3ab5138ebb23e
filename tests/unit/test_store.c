/*
 * test_store.c - the LMDB store: put/get, history order and ranges, dedup,
 * conflicts, resolve by id, service lookup, reopen, schema mismatch,
 * permissions, map growth and the event chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ecsrev/canon.h>
#include <ecsrev/crypto.h>
#include <ecsrev/store.h>

#include <lmdb.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define SVC "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
#define SVC2 "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
#define CLU "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
#define CLU2 "arn:aws:ecs:us-east-1:123456789012:cluster/staging"

struct fixture {
    char *dir;
    struct ecsrev_store *store;
};

/* A revision with made-up canonical bytes; hashes computed like the normalizer. */
static void make_rev(struct ecsrev_revision *r, const char *svc, const char *clu, const char *id,
                     int64_t ms, const char *body)
{
    memset(r, 0, sizeof(*r));
    char arn[512];
    const char *res = strstr(svc, ":service/") + strlen(":service/");
    (void)snprintf(arn, sizeof(arn), "arn:aws:ecs:us-east-1:123456789012:service-revision/%s/%s",
                   res, id);
    r->arn = ecsrev_xstrdup(arn);
    r->service_arn = ecsrev_xstrdup(svc);
    r->cluster_arn = ecsrev_xstrdup(clu);
    r->task_definition = ecsrev_xstrdup("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
    r->created_ms = ms;
    r->canon = ecsrev_xstrdup(body);
    r->canon_len = strlen(body);
    ecsrev_hash128(r->content_hash, r->canon, r->canon_len);
    ecsrev_hash128(r->config_hash, "cfg", 3);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_tempdir();
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/store", f->dir);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_open(&f->store, path, 0, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ecsrev_store_close(f->store);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void put_three(struct ecsrev_store *s)
{
    struct ecsrev_revision revs[3];
    make_rev(&revs[0], SVC, CLU, "300", 3000, "{\"n\":3}");
    make_rev(&revs[1], SVC, CLU, "100", 1000, "{\"n\":1}");
    make_rev(&revs[2], SVC, CLU, "200", 2000, "{\"n\":2}");
    struct ecsrev_store_put_result res;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(s, revs, 3, "test", 42, &res, &err), 0);
    assert_int_equal(res.added, 3);
    assert_int_equal(res.existing, 0);
    for (size_t i = 0; i < 3; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
}

static void test_put_get(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_revision got;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    const char *arn = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/200";
    assert_int_equal(ecsrev_store_get(f->store, arn, &got, &err), 0);
    assert_string_equal(got.arn, arn);
    assert_string_equal(got.canon, "{\"n\":2}");
    assert_int_equal(got.canon_len, 7);
    assert_int_equal(got.created_ms, 2000);
    assert_string_equal(got.service_arn, SVC);
    assert_string_equal(got.cluster_arn, CLU);
    uint8_t h[ECSREV_HASH_LEN];
    ecsrev_hash128(h, "{\"n\":2}", 7);
    assert_memory_equal(got.content_hash, h, sizeof(h));
    ecsrev_revision_dispose(&got);
    assert_int_equal(ecsrev_store_get(f->store, "arn:nope", &got, &err), ECSREV_ENOTFOUND);
    bool has = false;
    assert_int_equal(ecsrev_store_has(f->store, arn, &has, &err), 0);
    assert_true(has);
    assert_int_equal(ecsrev_store_has(f->store, "arn:nope", &has, &err), 0);
    assert_false(has);
}

struct collect {
    int64_t times[16];
    size_t n;
};

static int collect_cb(const struct ecsrev_revision *rev, void *payload)
{
    struct collect *c = payload;
    c->times[c->n++] = rev->created_ms;
    return 0;
}

static void test_history_order(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_store_query q = ECSREV_STORE_QUERY_INIT;
    struct collect c = {{0}, 0};
    assert_int_equal(ecsrev_store_history(f->store, SVC, &q, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.times[0], 1000);
    assert_int_equal(c.times[1], 2000);
    assert_int_equal(c.times[2], 3000);

    q.newest_first = true;
    c.n = 0;
    assert_int_equal(ecsrev_store_history(f->store, SVC, &q, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.times[0], 3000);
    assert_int_equal(c.times[2], 1000);

    q.since_ms = 1500;
    q.until_ms = 2500;
    c.n = 0;
    assert_int_equal(ecsrev_store_history(f->store, SVC, &q, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.times[0], 2000);

    q.newest_first = false;
    q.since_ms = 2000;
    q.until_ms = ECSREV_TIME_NONE;
    c.n = 0;
    assert_int_equal(ecsrev_store_history(f->store, SVC, &q, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.times[0], 2000);

    /* A service whose ARN is a prefix of another's must not see the other's history. */
    c.n = 0;
    q.since_ms = ECSREV_TIME_NONE;
    assert_int_equal(ecsrev_store_history(f->store, SVC "x", &q, collect_cb, &c, &err), 0);
    assert_int_equal(c.n, 0);
}

static void test_dedup_and_conflict(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_revision revs[2];
    make_rev(&revs[0], SVC, CLU, "100", 1000, "{\"n\":1}");
    make_rev(&revs[1], SVC, CLU, "200", 2000, "{\"n\":22}");
    struct ecsrev_store_put_result res;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    uint8_t head1[ECSREV_SHA256_LEN];
    uint64_t seq1 = 0;
    assert_int_equal(ecsrev_store_head(f->store, head1, &seq1, &err), 0);
    assert_int_equal(ecsrev_store_put(f->store, revs, 2, "test", 43, &res, &err), 0);
    assert_int_equal(res.added, 0);
    assert_int_equal(res.existing, 1);
    assert_int_equal(res.conflicts, 1);
    /* Nothing new: no event appended. */
    uint8_t head2[ECSREV_SHA256_LEN];
    uint64_t seq2 = 0;
    assert_int_equal(ecsrev_store_head(f->store, head2, &seq2, &err), 0);
    assert_int_equal(seq1, seq2);
    assert_memory_equal(head1, head2, sizeof(head1));
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 3);
    assert_int_equal(st.bodies, 3);
    assert_int_equal(st.services, 1);
    assert_int_equal(st.clusters, 1);
    assert_int_equal(st.events, 1);
    ecsrev_revision_dispose(&revs[0]);
    ecsrev_revision_dispose(&revs[1]);
}

static void test_identical_bodies_stored_once(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[2];
    make_rev(&revs[0], SVC, CLU, "1", 1000, "{\"same\":true}");
    make_rev(&revs[1], SVC, CLU, "2", 2000, "{\"same\":true}");
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, revs, 2, "test", 1, NULL, &err), 0);
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 2);
    assert_int_equal(st.bodies, 1);
    ecsrev_revision_dispose(&revs[0]);
    ecsrev_revision_dispose(&revs[1]);
}

static void test_resolve(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_revision rev;
    make_rev(&rev, SVC2, CLU2, "100", 500, "{\"other\":1}");
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, &rev, 1, "test", 1, NULL, &err), 0);
    ecsrev_revision_dispose(&rev);
    char *arn = NULL;
    assert_int_equal(ecsrev_store_resolve(f->store, "200", &arn, &err), 0);
    assert_string_equal(arn, "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/200");
    free(arn);
    assert_int_equal(ecsrev_store_resolve(f->store, "100", &arn, &err), ECSREV_EINVAL);
    assert_non_null(strstr(err.msg, "ambiguous"));
    assert_int_equal(ecsrev_store_resolve(f->store, "999", &arn, &err), ECSREV_ENOTFOUND);

    assert_int_equal(ecsrev_store_find_service(f->store, "web", NULL, &arn, &err), ECSREV_EINVAL);
    assert_int_equal(ecsrev_store_find_service(f->store, "web", "staging", &arn, &err), 0);
    assert_string_equal(arn, SVC2);
    free(arn);
    assert_int_equal(ecsrev_store_find_service(f->store, "web", CLU, &arn, &err), 0);
    assert_string_equal(arn, SVC);
    free(arn);
    assert_int_equal(ecsrev_store_find_service(f->store, SVC, NULL, &arn, &err), 0);
    free(arn);
    assert_int_equal(ecsrev_store_find_service(f->store, "api", NULL, &arn, &err),
                     ECSREV_ENOTFOUND);
}

static void test_reopen_and_readonly(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s", ecsrev_store_path(f->store));
    ecsrev_store_close(f->store);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_open(&f->store, path, ECSREV_STORE_READONLY, &err), 0);
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 3);
    struct ecsrev_revision rev;
    make_rev(&rev, SVC, CLU, "400", 4000, "{}");
    assert_int_equal(ecsrev_store_put(f->store, &rev, 1, "t", 1, NULL, &err), ECSREV_ESTORE);
    ecsrev_revision_dispose(&rev);

    struct ecsrev_store *none = NULL;
    char missing[4096];
    (void)snprintf(missing, sizeof(missing), "%s/missing", f->dir);
    assert_int_equal(ecsrev_store_open(&none, missing, ECSREV_STORE_READONLY, &err),
                     ECSREV_ENOTFOUND);
    assert_null(none);
}

static void test_permissions(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct stat st;
    const char *path = ecsrev_store_path(f->store);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char file[4096];
    (void)snprintf(file, sizeof(file), "%s/data.mdb", path);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    (void)snprintf(file, sizeof(file), "%s/lock.mdb", path);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_schema_mismatch(void **state)
{
    struct fixture *f = *state;
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s", ecsrev_store_path(f->store));
    ecsrev_store_close(f->store);
    f->store = NULL;
    /* Rewrite the schema record with raw LMDB, as a future ecsrev would. */
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    char k[] = "schema";
    char v[] = "99";
    MDB_val key = {6, k};
    MDB_val val = {2, v};
    assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_open(&f->store, path, 0, &err), ECSREV_ESTORE);
    assert_non_null(strstr(err.msg, "schema 99"));
    assert_non_null(strstr(err.msg, "schema 1"));
}

/*
 * Resident KiB of this process's mapping of @p dir/store/data.mdb, from
 * /proc/self/smaps; -1 where there is no such file (not Linux).
 */
static long mapped_kb(const char *dir)
{
    char want[4096];
    (void)snprintf(want, sizeof(want), "%s/store/data.mdb", dir);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        return -1;
    }
    char line[4608];
    bool in = false;
    long rss = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n') {
            line[--n] = '\0';
        }
        size_t hex = strspn(line, "0123456789abcdef");
        if (hex > 0 && line[hex] == '-') { /* a mapping's header line, with or without a path */
            in = n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0;
        } else if (in && strncmp(line, "Rss:", 4) == 0) {
            rss += strtol(line + 4, NULL, 10);
        }
    }
    (void)fclose(f);
    return rss;
}

static off_t data_size(const char *dir)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/store/data.mdb", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* Store PUTS x PER_PUT revisions of about BODY bytes, with scattered keys. */
static void put_scattered(struct fixture *f)
{
    enum { PUTS = 4, PER_PUT = 500, BODY = 3000 };
    struct ecsrev_revision *revs = calloc(PER_PUT, sizeof(*revs));
    char *body = malloc(BODY + 1);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    for (int p = 0; p < PUTS; p++) {
        for (int i = 0; i < PER_PUT; i++) {
            int k = p * PER_PUT + i;
            memset(body, 'a' + (k % 26), BODY);
            int n = snprintf(body, BODY, "{\"k\":%d,\"x\":\"", k);
            body[n + (k % 100)] = '"'; /* distinct lengths too */
            body[n + (k % 100) + 1] = '}';
            body[n + (k % 100) + 2] = '\0';
            char id[32];
            (void)snprintf(id, sizeof(id), "%d", (k * 7919) % 100003); /* scattered keys */
            make_rev(&revs[i], k % 2 ? SVC : SVC2, k % 2 ? CLU : CLU2, id, k, body);
        }
        assert_int_equal(ecsrev_store_batch(f->store, p < PUTS - 1), 0);
        struct ecsrev_store_put_result res;
        assert_int_equal(ecsrev_store_put(f->store, revs, PER_PUT, "test", 1, &res, &err), 0);
        assert_int_equal(res.added, PER_PUT);
        for (int i = 0; i < PER_PUT; i++) {
            ecsrev_revision_dispose(&revs[i]);
        }
    }
    assert_int_equal(ecsrev_store_batch(f->store, false), 0);
    /* the data is all there, read back through the map */
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, PUTS * PER_PUT);
    struct ecsrev_revision got;
    const char *arn = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/7919";
    assert_int_equal(ecsrev_store_get(f->store, arn, &got, &err), 0);
    assert_int_equal(strncmp(got.canon, "{\"k\":1,", 7), 0);
    ecsrev_revision_dispose(&got);
    free(body);
    free(revs);
}

/* With a budget of 0, puts leave few pages of the map resident (release_map). */
static void test_map_pages_released(void **state)
{
    struct fixture *f = *state;
    ecsrev_store_set_map_budget(f->store, 0);
    put_scattered(f);
    long kb = mapped_kb(f->dir);
    if (kb >= 0) {
        /* without the release the whole file (~8 MB) would be resident */
        assert_true(kb * 1024 < (long)data_size(f->dir) / 8);
    }
}

/* The budget is what is kept: a large one keeps the pages, a small one bounds them. */
static void test_map_budget(void **state)
{
    struct fixture *f = *state;
    ecsrev_store_set_map_budget(f->store, (size_t)-1);
    put_scattered(f);
    long kb = mapped_kb(f->dir);
    if (kb < 0) {
        skip();
    }
    assert_true(kb * 1024 > (long)data_size(f->dir) / 4); /* nothing was released */

    /* a fresh store and process mapping, with a budget of 1 MiB */
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/store", f->dir);
    ecsrev_store_close(f->store);
    tu_rmtree(path);
    assert_int_equal(ecsrev_store_open(&f->store, path, 0, &err), 0);
    ecsrev_store_set_map_budget(f->store, (size_t)1024 * 1024);
    put_scattered(f);
    kb = mapped_kb(f->dir);
    /* the budget, plus what the last few puts mapped before the check */
    assert_true(kb * 1024 < 2 * 1024 * 1024);
    assert_true(data_size(f->dir) > 3 * 1024 * 1024);
}

/* A source over an array that fails (or gives a bad revision) at @c fail_at. */
struct test_source {
    struct ecsrev_revision *revs;
    size_t n, next, fail_at, rewinds;
    bool bad_instead;
};

static int test_next(void *payload, const struct ecsrev_revision **out, struct ecsrev_error *err)
{
    struct test_source *t = payload;
    if (t->next == t->fail_at) {
        if (t->bad_instead) {
            static struct ecsrev_revision bad; /* no ARN: the store refuses it */
            *out = &bad;
            t->next++;
            return 1;
        }
        return ecsrev_error_set(err, ECSREV_EIO, "source broke at %zu", t->next);
    }
    if (t->next == t->n) {
        return 0;
    }
    *out = &t->revs[t->next++];
    return 1;
}

static int test_rewind(void *payload, struct ecsrev_error *err)
{
    (void)err;
    struct test_source *t = payload;
    t->next = 0;
    t->rewinds++;
    return 0;
}

/* ecsrev_store_put_from: all or nothing, whatever the source does. */
static void test_put_from_source(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[5];
    for (int i = 0; i < 5; i++) {
        char id[16];
        char body[32];
        (void)snprintf(id, sizeof(id), "%d", 500 + i);
        (void)snprintf(body, sizeof(body), "{\"s\":%d}", i);
        make_rev(&revs[i], SVC, CLU, id, 5000 + i, body);
    }
    struct ecsrev_store_put_result res;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_store_stats st;
    struct test_source t = {revs, 5, 0, 3, 0, false};
    struct ecsrev_store_source src = {test_next, test_rewind, &t, false};
    assert_int_equal(ecsrev_store_put_from(f->store, &src, "test", 1, &res, &err), ECSREV_EIO);
    assert_non_null(strstr(err.msg, "source broke at 3"));
    t.bad_instead = true;
    assert_int_equal(ecsrev_store_put_from(f->store, &src, "test", 1, &res, &err), ECSREV_EINVAL);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 0);
    assert_int_equal(st.events, 0);
    t.fail_at = SIZE_MAX;
    assert_int_equal(ecsrev_store_put_from(f->store, &src, "test", 1, &res, &err), 0);
    assert_int_equal(res.added, 5);
    assert_int_equal(t.rewinds, 3); /* every attempt starts from the first revision */
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 5);
    assert_int_equal(st.events, 1);
    for (int i = 0; i < 5; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
}

/* Staging: bodies first (invisible), then records, or the bodies taken back. */
static void test_stage_then_put_or_unstage(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[4];
    for (int i = 0; i < 4; i++) {
        char id[16];
        char body[32];
        (void)snprintf(id, sizeof(id), "%d", 700 + i);
        (void)snprintf(body, sizeof(body), "{\"t\":%d}", i);
        make_rev(&revs[i], SVC, CLU, id, 7000 + i, body);
    }
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_store_stats st;
    struct test_source t = {revs, 4, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source src = {test_next, test_rewind, &t, false};
    /* staged bodies are invisible */
    assert_int_equal(ecsrev_store_stage(f->store, &src, &err), 0);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 0);
    assert_int_equal(st.bodies, 4);
    bool has = true;
    assert_int_equal(ecsrev_store_has(f->store, revs[0].arn, &has, &err), 0);
    assert_false(has);
    /* the records of the first two, without their documents */
    struct ecsrev_revision recs[2];
    for (int i = 0; i < 2; i++) {
        recs[i] = revs[i];
        recs[i].canon = NULL;
        recs[i].canon_len = 0;
    }
    struct test_source tr = {recs, 2, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source rsrc = {test_next, test_rewind, &tr, true};
    struct ecsrev_store_put_result res;
    assert_int_equal(ecsrev_store_put_from(f->store, &rsrc, "test", 1, &res, &err), 0);
    assert_int_equal(res.added, 2);
    struct ecsrev_revision got;
    assert_int_equal(ecsrev_store_get(f->store, revs[1].arn, &got, &err), 0);
    assert_string_equal(got.canon, "{\"t\":1}");
    ecsrev_revision_dispose(&got);
    /* while another handle (process) is staging, nothing is taken back */
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/store", f->dir);
    struct ecsrev_store *other_importer = NULL;
    assert_int_equal(ecsrev_store_open(&other_importer, path, 0, &err), 0);
    struct test_source none = {revs, 0, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source nsrc = {test_next, test_rewind, &none, false};
    assert_int_equal(ecsrev_store_stage(other_importer, &nsrc, &err), 0);
    bool dropped = true;
    t.next = 0;
    assert_int_equal(ecsrev_store_unstage(f->store, &src, &dropped, &err), 0);
    assert_false(dropped);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.bodies, 4);
    ecsrev_store_stage_done(other_importer);
    ecsrev_store_close(other_importer);
    /* taking all four back keeps the two bodies that records use */
    t.next = 0;
    assert_int_equal(ecsrev_store_unstage(f->store, &src, &dropped, &err), 0);
    assert_true(dropped);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 2);
    assert_int_equal(st.bodies, 2);
    assert_int_equal(ecsrev_store_get(f->store, revs[0].arn, &got, &err), 0);
    ecsrev_revision_dispose(&got);
    /* a record whose staged body is gone: refused, nothing stored */
    struct ecsrev_revision late = revs[3];
    late.canon = NULL;
    struct test_source tl = {&late, 1, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source lsrc = {test_next, test_rewind, &tl, true};
    assert_int_equal(ecsrev_store_put_from(f->store, &lsrc, "test", 1, &res, &err), ECSREV_ESTORE);
    assert_non_null(strstr(err.msg, "staged body"));
    /* ... also among others whose bodies are there: the message names it, nothing is stored */
    struct ecsrev_revision mixed[3];
    make_rev(&mixed[0], SVC, CLU, "801", 8010, "{\"t\":801}");
    make_rev(&mixed[2], SVC, CLU, "802", 8020, "{\"t\":802}");
    struct test_source tm = {mixed, 3, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source msrc = {test_next, test_rewind, &tm, false};
    tm.n = 1;
    assert_int_equal(ecsrev_store_stage(f->store, &msrc, &err), 0);
    tm.revs = &mixed[2];
    tm.next = 0;
    assert_int_equal(ecsrev_store_stage(f->store, &msrc, &err), 0);
    mixed[1] = late;
    struct ecsrev_revision mixed_recs[3] = {mixed[0], mixed[1], mixed[2]};
    for (int i = 0; i < 3; i++) {
        mixed_recs[i].canon = NULL;
    }
    struct test_source tmr = {mixed_recs, 3, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source mrsrc = {test_next, test_rewind, &tmr, true};
    memset(&err, 0, sizeof(err));
    assert_int_equal(ecsrev_store_put_from(f->store, &mrsrc, "test", 1, &res, &err), ECSREV_ESTORE);
    assert_non_null(strstr(err.msg, late.arn));
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 2);
    /* take the two staged bodies back */
    tm.revs = mixed_recs;
    tm.n = 3;
    tm.next = 0;
    assert_int_equal(ecsrev_store_unstage(f->store, &msrc, &dropped, &err), 0);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.bodies, 2);
    ecsrev_revision_dispose(&mixed[0]);
    ecsrev_revision_dispose(&mixed[2]);
    /* a staged body whose ARN is stored with other content is dropped by the put */
    struct ecsrev_revision other;
    make_rev(&other, SVC, CLU, "700", 7000, "{\"t\":\"other\"}");
    struct test_source to = {&other, 1, 0, SIZE_MAX, 0, false};
    struct ecsrev_store_source osrc = {test_next, test_rewind, &to, false};
    assert_int_equal(ecsrev_store_stage(f->store, &osrc, &err), 0);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.bodies, 3);
    to.next = 0;
    osrc.bodies_staged = true;
    assert_int_equal(ecsrev_store_put_from(f->store, &osrc, "test", 1, &res, &err), 0);
    assert_int_equal(res.conflicts, 1);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.bodies, 2);
    assert_int_equal(st.revisions, 2);
    ecsrev_revision_dispose(&other);
    for (int i = 0; i < 4; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
}

static void test_map_grows(void **state)
{
    struct fixture *f = *state;
    /* 96 MiB of distinct bodies overflows the 64 MiB initial map. */
    size_t body_len = 1024 * 1024;
    char *body = malloc(body_len + 1);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    for (int i = 0; i < 96; i++) {
        memset(body, 'a' + (i % 26), body_len);
        char prefix[16];
        int n = snprintf(prefix, sizeof(prefix), "{\"i\":%d,", i);
        memcpy(body, prefix, (size_t)n);
        body[body_len] = '\0';
        struct ecsrev_revision rev;
        char id[16];
        (void)snprintf(id, sizeof(id), "%d", i);
        make_rev(&rev, SVC, CLU, id, i, body);
        assert_int_equal(ecsrev_store_put(f->store, &rev, 1, "test", 1, NULL, &err), 0);
        ecsrev_revision_dispose(&rev);
    }
    free(body);
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 96);
    assert_true(st.map_size > (uint64_t)64 * 1024 * 1024);
    /* the pages are released from the new, larger map too */
    long kb = mapped_kb(f->dir);
    if (kb >= 0) {
        assert_true(kb * 1024 < (long)data_size(f->dir) / 8);
    }
}

struct chain {
    uint8_t prev[ECSREV_SHA256_LEN];
    size_t n;
};

static int chain_cb(const struct ecsrev_store_event *ev, void *payload)
{
    struct chain *c = payload;
    assert_int_equal(ev->seq, c->n + 1);
    assert_memory_equal(ev->prev, c->prev, ECSREV_SHA256_LEN);
    struct ecsrev_sha256_ctx *ctx = ecsrev_sha256_new();
    uint8_t head[ECSREV_SHA256_LEN];
    ecsrev_sha256_update(ctx, ev->prev, ECSREV_SHA256_LEN);
    ecsrev_sha256_update(ctx, ev->body, ev->body_len);
    ecsrev_sha256_final(ctx, head);
    assert_memory_equal(head, ev->head, ECSREV_SHA256_LEN);
    memcpy(c->prev, head, ECSREV_SHA256_LEN);
    c->n++;
    return 0;
}

static void test_event_chain(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_revision rev;
    make_rev(&rev, SVC, CLU, "400", 4000, "{\"n\":4}");
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, &rev, 1, "fetch", 5000, NULL, &err), 0);
    ecsrev_revision_dispose(&rev);
    struct chain c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(ecsrev_store_events(f->store, chain_cb, &c, &err), 0);
    assert_int_equal(c.n, 2);
    uint8_t head[ECSREV_SHA256_LEN];
    uint64_t seq = 0;
    assert_int_equal(ecsrev_store_head(f->store, head, &seq, &err), 0);
    assert_int_equal(seq, 2);
    assert_memory_equal(head, c.prev, sizeof(head));
}

static void test_pinned_snapshot(void **state)
{
    struct fixture *f = *state;
    put_three(f->store);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_read_begin(f->store, &err), 0);
    assert_int_equal(ecsrev_store_read_begin(f->store, &err), ECSREV_EINVAL);
    struct ecsrev_revision rev;
    make_rev(&rev, SVC, CLU, "400", 4000, "{\"n\":4}");
    assert_int_equal(ecsrev_store_put(f->store, &rev, 1, "t", 1, NULL, &err), 0);
    ecsrev_revision_dispose(&rev);
    struct ecsrev_store_stats st;
    uint8_t head[ECSREV_SHA256_LEN];
    uint64_t seq = 0;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 3); /* the snapshot does not see the new write */
    assert_int_equal(ecsrev_store_head(f->store, head, &seq, &err), 0);
    assert_int_equal(seq, 1);
    ecsrev_store_read_end(f->store);
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 4);
    assert_int_equal(ecsrev_store_head(f->store, head, &seq, &err), 0);
    assert_int_equal(seq, 2);
}

/* A store whose creation was killed before its first commit reads as an empty store. */
static void test_interrupted_creation(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_store_stats st;
    /* 1. an empty data.mdb (killed right after creating the files) */
    char dir[4096];
    char file[4200];
    (void)snprintf(dir, sizeof(dir), "%s/empty", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    (void)snprintf(file, sizeof(file), "%s/data.mdb", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    (void)fclose(fp);
    struct ecsrev_store *ro = NULL;
    assert_int_equal(ecsrev_store_open(&ro, dir, ECSREV_STORE_READONLY, &err), 0);
    assert_int_equal(ecsrev_store_stats(ro, &st, &err), 0);
    assert_int_equal(st.revisions, 0);
    ecsrev_store_close(ro);
    /* 2. LMDB's meta pages but no table (killed before the first commit) */
    (void)snprintf(dir, sizeof(dir), "%s/metaonly", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    MDB_env *env = NULL;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    mdb_env_close(env);
    assert_int_equal(ecsrev_store_open(&ro, dir, ECSREV_STORE_READONLY, &err), 0);
    assert_int_equal(ecsrev_store_stats(ro, &st, &err), 0);
    assert_int_equal(st.revisions, 0);
    ecsrev_store_close(ro);
}

static void test_invalid_revision_rejected(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[2];
    make_rev(&revs[0], SVC, CLU, "1", 1000, "{}");
    make_rev(&revs[1], SVC, CLU, "2", ECSREV_TIME_NONE, "{}");
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, revs, 2, "t", 1, NULL, &err), ECSREV_EINVAL);
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.revisions, 0); /* all or nothing */
    ecsrev_revision_dispose(&revs[0]);
    ecsrev_revision_dispose(&revs[1]);
}

struct svc_seen {
    uint64_t web, staging;
    char cluster[128];
};

static int svc_cb(const char *service_arn, const char *cluster_arn, uint64_t revisions,
                  void *payload)
{
    struct svc_seen *s = payload;
    if (strcmp(service_arn, SVC) == 0) {
        s->web = revisions;
        (void)snprintf(s->cluster, sizeof(s->cluster), "%s", cluster_arn);
    } else if (strcmp(service_arn, SVC2) == 0) {
        s->staging = revisions;
    }
    return 0;
}

static int sum_cb(const char *service_arn, const char *cluster_arn, uint64_t revisions,
                  void *payload)
{
    (void)service_arn;
    (void)cluster_arn;
    *(uint64_t *)payload += revisions;
    return 0;
}

/* The per-service counts: new revisions only, summed per put, across puts. */
static void test_service_counts(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[6];
    make_rev(&revs[0], SVC, CLU, "1", 1000, "{\"n\":1}");
    make_rev(&revs[1], SVC2, CLU2, "2", 2000, "{\"n\":2}");
    make_rev(&revs[2], SVC, CLU, "3", 3000, "{\"n\":3}");
    make_rev(&revs[3], SVC, CLU, "1", 1000, "{\"n\":1}"); /* the same again: not counted twice */
    make_rev(&revs[4], SVC2, CLU2, "5", 5000, "{\"n\":5}");
    make_rev(&revs[5], SVC, CLU, "6", 6000, "{\"n\":6}");
    struct ecsrev_store_put_result res;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, revs, 6, "test", 1, &res, &err), 0);
    assert_int_equal(res.added, 5);
    assert_int_equal(res.existing, 1);
    struct svc_seen seen;
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(ecsrev_store_services(f->store, svc_cb, &seen, &err), 0);
    assert_int_equal(seen.web, 3);
    assert_int_equal(seen.staging, 2);
    assert_string_equal(seen.cluster, CLU);
    for (size_t i = 0; i < 6; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
    /* a second put: one new, one existing, one conflicting */
    make_rev(&revs[0], SVC, CLU, "7", 7000, "{\"n\":7}");
    make_rev(&revs[1], SVC, CLU, "3", 3000, "{\"n\":3}");
    make_rev(&revs[2], SVC2, CLU2, "5", 5000, "{\"n\":55}");
    assert_int_equal(ecsrev_store_put(f->store, revs, 3, "test", 2, &res, &err), 0);
    assert_int_equal(res.added, 1);
    assert_int_equal(res.existing, 1);
    assert_int_equal(res.conflicts, 1);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(ecsrev_store_services(f->store, svc_cb, &seen, &err), 0);
    assert_int_equal(seen.web, 4);
    assert_int_equal(seen.staging, 2);
    for (size_t i = 0; i < 3; i++) {
        ecsrev_revision_dispose(&revs[i]);
    }
    /* many services in one put (the table grows) */
    enum { MANY = 100 };
    struct ecsrev_revision *many = calloc(MANY, sizeof(*many));
    for (int i = 0; i < MANY; i++) {
        char svc[128];
        char id[16];
        char body[32];
        (void)snprintf(svc, sizeof(svc), "arn:aws:ecs:us-east-1:123456789012:service/prod/s%d",
                       i % 40);
        (void)snprintf(id, sizeof(id), "m%d", i);
        (void)snprintf(body, sizeof(body), "{\"m\":%d}", i);
        make_rev(&many[i], svc, CLU, id, 10000 + i, body);
    }
    assert_int_equal(ecsrev_store_put(f->store, many, MANY, "test", 3, &res, &err), 0);
    assert_int_equal(res.added, MANY);
    struct ecsrev_store_stats st;
    assert_int_equal(ecsrev_store_stats(f->store, &st, &err), 0);
    assert_int_equal(st.services, 42);
    uint64_t sum = 0;
    assert_int_equal(ecsrev_store_services(f->store, sum_cb, &sum, &err), 0);
    assert_int_equal(sum, st.revisions);
    assert_int_equal(sum, 106);
    for (int i = 0; i < MANY; i++) {
        ecsrev_revision_dispose(&many[i]);
    }
    free(many);
}

/* An event's exact bytes: canonical JSON, strings escaped as RFC 8785 says. */
static int last_event_cb(const struct ecsrev_store_event *ev, void *payload)
{
    char **out = payload;
    free(*out);
    *out = ecsrev_xstrndup(ev->body, ev->body_len);
    return 0;
}

static void test_event_bytes(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_revision revs[2];
    make_rev(&revs[0], SVC, CLU, "1", 1000, "{\"n\":1}");
    make_rev(&revs[1], SVC, CLU, "q\"\\\t\x01\xc3\xa9/2", 2000, "{\"n\":2}");
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    assert_int_equal(ecsrev_store_put(f->store, revs, 2, "im\"port", 1700000000123, NULL, &err), 0);
    char *body = NULL;
    assert_int_equal(ecsrev_store_events(f->store, last_event_cb, &body, &err), 0);
    char h0[ECSREV_HASH_HEX_LEN];
    char h1[ECSREV_HASH_HEX_LEN];
    ecsrev_hash_hex(h0, revs[0].content_hash);
    ecsrev_hash_hex(h1, revs[1].content_hash);
    char want[1024];
    (void)snprintf(want, sizeof(want),
                   "{\"command\":\"im\\\"port\",\"revisions\":["
                   "{\"arn\":\"arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1\","
                   "\"contentHash\":\"%s\"},"
                   "{\"arn\":\"arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/"
                   "q\\\"\\\\\\t\\u0001\xc3\xa9/2\",\"contentHash\":\"%s\"}],"
                   "\"seq\":1,\"time\":\"2023-11-14T22:13:20.123Z\"}",
                   h0, h1);
    assert_string_equal(body, want);
    /* and it is its own canonical form */
    struct ecsrev_buf canon = ECSREV_BUF_INIT;
    assert_int_equal(ecsrev_canon_json(&canon, body, strlen(body), &err), 0);
    assert_int_equal(canon.len, strlen(body));
    assert_memory_equal(canon.ptr, body, canon.len);
    ecsrev_buf_dispose(&canon);
    free(body);
    ecsrev_revision_dispose(&revs[0]);
    ecsrev_revision_dispose(&revs[1]);
}

/* The index size grows with the revisions and leaves the bodies out. */
static void test_index_size(void **state)
{
    struct fixture *f = *state;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    uint64_t bytes = 1;
    uint64_t revs = 1;
    assert_int_equal(ecsrev_store_index_size(f->store, &bytes, &revs, &err), 0);
    assert_int_equal(revs, 0);
    assert_int_equal(bytes, 0);
    put_three(f->store);
    assert_int_equal(ecsrev_store_index_size(f->store, &bytes, &revs, &err), 0);
    assert_int_equal(revs, 3);
    assert_int_equal(bytes, 4 * 4096); /* one leaf page per table */
    enum { N = 2000 };
    struct ecsrev_revision *many = calloc(N, sizeof(*many));
    char big[5000];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < N; i++) {
        char id[16];
        char *body = malloc(sizeof(big) + 32);
        (void)snprintf(id, sizeof(id), "%d", 1000 + i);
        (void)snprintf(body, sizeof(big) + 32, "{\"i\":%d,\"s\":\"%s\"}", i, big);
        make_rev(&many[i], SVC, CLU, id, 10000 + i, body);
        free(body);
    }
    assert_int_equal(ecsrev_store_put(f->store, many, N, "test", 1, NULL, &err), 0);
    for (int i = 0; i < N; i++) {
        ecsrev_revision_dispose(&many[i]);
    }
    free(many);
    assert_int_equal(ecsrev_store_index_size(f->store, &bytes, &revs, &err), 0);
    assert_int_equal(revs, N + 3);
    /* hundreds of bytes per revision, not the 5 KB bodies */
    assert_true(bytes > (uint64_t)N * 200);
    assert_true(bytes < (uint64_t)N * 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identical_bodies_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_pages_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_from_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_then_put_or_unstage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_revision_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_creation, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
