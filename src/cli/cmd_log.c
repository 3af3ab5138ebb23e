/*
 * cmd_log.c - `ecsrev log`: the change history of services, newest first,
 * each revision with a one-line summary of what changed against the revision
 * before it in the same service (`-p`: the full field diff).
 *
 * Streaming: the history is walked newest first and only two revisions are
 * held at a time (the entry waiting for its predecessor, and the revision
 * being read), each entry is written as soon as its predecessor is known, so
 * memory stays constant however long the history is. --since is applied by
 * hand rather than by the store query: the oldest entry in range still needs
 * the revision before it (outside the range) for its summary.
 * Without --service every stored service is listed, in service ARN order.
 */
#include <ecsrev/diff.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CMD "log"

/* Returned by the history callback to stop the walk early (not an error). */
#define STOP_WALK 1
/* Returned by the history callback after an error (message already in err). */
#define WALK_FAILED 2

struct log_state {
    struct ecsrev_diff_options opt;
    enum ecsrev_diff_format fmt;
    bool patch;
    bool color;
    int64_t since_ms;
    struct ecsrev_revision pending; /* newest revision not yet printed */
    bool have_pending;
    struct ecsrev_changes changes;
    struct ecsrev_buf out;
    struct ecsrev_error err;
};

/* Print the entry of @p rev, whose predecessor is @p prev (NULL: initial revision). */
static int emit(struct log_state *s, const struct ecsrev_revision *rev,
                const struct ecsrev_revision *prev)
{
    ecsrev_changes_dispose(&s->changes);
    if (prev != NULL && ecsrev_diff_revisions(&s->changes, prev, rev, &s->opt, &s->err) < 0) {
        return -1;
    }
    /* With --category, entries that change nothing in those categories are left out. */
    if (s->opt.categories != 0 && prev != NULL && s->changes.n == 0) {
        return 0;
    }
    struct ecsrev_diff_log_entry e = {rev, prev, &s->changes, s->patch};
    ecsrev_buf_clear(&s->out);
    if (ecsrev_diff_render_log_entry(&s->out, s->fmt, &e, s->color, &s->err) < 0) {
        return -1;
    }
    out_write(s->out.ptr, s->out.len);
    return 0;
}

static int on_revision(const struct ecsrev_revision *rev, void *payload)
{
    struct log_state *s = payload;
    if (s->have_pending) {
        if (emit(s, &s->pending, rev) < 0) {
            return WALK_FAILED;
        }
        ecsrev_revision_dispose(&s->pending);
        s->have_pending = false;
    }
    if (s->since_ms != ECSREV_TIME_NONE && rev->created_ms < s->since_ms) {
        return STOP_WALK;
    }
    ecsrev_revision_copy(&s->pending, rev);
    s->have_pending = true;
    return 0;
}

static int log_service(struct log_state *s, struct ecsrev_store *store, const char *service,
                       int64_t until_ms, bool header)
{
    if (header && s->fmt == ECSREV_DIFF_TEXT) {
        out_printf("%sservice %s%s\n\n", cli_c_bold(s->color), service, cli_c_reset(s->color));
    }
    struct ecsrev_store_query q = ECSREV_STORE_QUERY_INIT;
    q.newest_first = true;
    q.until_ms = until_ms;
    int rc = ecsrev_store_history(store, service, &q, on_revision, s, &s->err);
    if (rc == WALK_FAILED || rc < 0) {
        ecsrev_revision_dispose(&s->pending);
        s->have_pending = false;
        return cli_fail(&s->err);
    }
    if (s->have_pending) {
        rc = emit(s, &s->pending, NULL);
        ecsrev_revision_dispose(&s->pending);
        s->have_pending = false;
        if (rc < 0) {
            return cli_fail(&s->err);
        }
    }
    return 0;
}

/* Service ARNs of the store (one string per service; a few bytes each). */
struct service_list {
    char **arns;
    size_t n;
    size_t cap;
};

static int add_service(const char *service_arn, const char *cluster_arn, uint64_t revisions,
                       void *payload)
{
    (void)cluster_arn;
    (void)revisions;
    struct service_list *l = payload;
    if (l->n == l->cap) {
        l->cap = l->cap == 0 ? 16 : l->cap * 2;
        l->arns = ecsrev_xrealloc(l->arns, l->cap * sizeof(*l->arns));
    }
    l->arns[l->n++] = ecsrev_xstrdup(service_arn);
    return 0;
}

static void service_list_dispose(struct service_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->arns[i]);
    }
    free(l->arns);
    memset(l, 0, sizeof(*l));
}

struct log_args {
    const char *store;
    const char *service;
    const char *cluster;
    const char *since;
    const char *until;
    const char *format;
    const char *color;
    struct cli_list categories;
    bool patch;
};

static int check_args(struct log_state *s, int64_t *until_ms, const struct log_args *a, char **ops,
                      size_t n_ops)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int64_t now = cli_now_ms();
    s->patch = a->patch;
    if (n_ops != 0) {
        return cli_usage_error(CMD, "unexpected argument '%s'", ops[0]);
    }
    if (strcmp(a->format, "text") == 0) {
        s->fmt = ECSREV_DIFF_TEXT;
    } else if (strcmp(a->format, "json") == 0) {
        s->fmt = ECSREV_DIFF_JSON;
    } else {
        return cli_usage_error(CMD, "--format: '%s' is not text or json", a->format);
    }
    for (size_t i = 0; i < a->categories.n; i++) {
        if (ecsrev_diff_category_parse(&s->opt.categories, a->categories.items[i], &err) < 0) {
            return cli_usage_error(CMD, "--category: %s", err.msg);
        }
    }
    if (a->service == NULL && a->cluster != NULL) {
        return cli_usage_error(CMD, "--cluster needs --service");
    }
    if (a->since != NULL && cli_parse_date(&s->since_ms, a->since, now, &err) < 0) {
        return cli_usage_error(CMD, "--since: %s", err.msg);
    }
    if (a->until != NULL && cli_parse_date(until_ms, a->until, now, &err) < 0) {
        return cli_usage_error(CMD, "--until: %s", err.msg);
    }
    if (s->fmt == ECSREV_DIFF_TEXT) {
        return cli_color(&s->color, CMD, a->color);
    }
    return 0;
}

static int run_log(struct log_state *s, const struct log_args *a, int64_t until_ms)
{
    struct ecsrev_store *store = NULL;
    struct service_list services = {NULL, 0, 0};
    char *one = NULL;
    int rc = cli_open_store(&store, a->store, true);
    if (rc != 0) {
        goto done;
    }
    if (a->service != NULL) {
        if ((rc = cli_resolve_service(&one, store, a->service, a->cluster)) == 0) {
            rc = log_service(s, store, one, until_ms, false);
        }
        goto done;
    }
    if (ecsrev_store_services(store, add_service, &services, &s->err) < 0) {
        rc = cli_fail(&s->err);
        goto done;
    }
    for (size_t i = 0; i < services.n && rc == 0; i++) {
        rc = log_service(s, store, services.arns[i], until_ms, true);
    }
done:
    free(one);
    service_list_dispose(&services);
    ecsrev_store_close(store);
    return rc;
}

int cmd_log(int argc, char **argv)
{
    struct log_args a;
    memset(&a, 0, sizeof(a));
    a.format = "text";
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &a.store, "DIR", "store folder", 0, 0},
        {"service", 0, CLI_STRING, &a.service, "SERVICE",
         "only this service (ARN, or name with --cluster)", 0, 0},
        {"cluster", 0, CLI_STRING, &a.cluster, "CLUSTER", "cluster of --service (name or ARN)", 0,
         0},
        {"since", 0, CLI_STRING, &a.since, "DATE",
         "revisions created at or after DATE (ISO 8601, epoch seconds, or 7d/12h/30m/2w ago)", 0,
         0},
        {"until", 0, CLI_STRING, &a.until, "DATE", "revisions created at or before DATE", 0, 0},
        {"category", 0, CLI_LIST, &a.categories, "LIST",
         "only entries changing these categories (comma-separated)", 0, 0},
        {"patch", 'p', CLI_FLAG, &a.patch, NULL, "show the full field diff of each entry", 0, 0},
        {"format", 0, CLI_STRING, &a.format, "FMT", "text (default) or json (JSON Lines)", 0, 0},
        {"color", 0, CLI_STRING, &a.color, "WHEN", "auto (default), always or never", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        CMD, "[options]", "Show the change history of services, newest first.",
        "Each entry names the revision, its creation time and task definition, and\n"
        "summarizes what changed against the revision before it in the same service\n"
        "(\"initial revision\" for the first one, \"no configuration change\" when the\n"
        "configuration hashes are equal). --category keeps only entries changing those\n"
        "categories (initial revisions are always kept). --format json writes JSON Lines:\n"
        "one object per entry. See docs/DIFF.md."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        cli_list_dispose(&a.categories);
        return exit_now;
    }
    struct log_state s;
    memset(&s, 0, sizeof(s));
    s.since_ms = ECSREV_TIME_NONE;
    s.opt.cache = ecsrev_diff_cache_new(); /* each revision is parsed once, not twice */
    int64_t until_ms = ECSREV_TIME_NONE;
    int rc = check_args(&s, &until_ms, &a, ops, n_ops);
    if (rc == 0) {
        rc = run_log(&s, &a, until_ms);
    }
    ecsrev_changes_dispose(&s.changes);
    ecsrev_diff_cache_free(s.opt.cache);
    ecsrev_buf_dispose(&s.out);
    ecsrev_revision_dispose(&s.pending);
    cli_list_dispose(&a.categories);
    free(ops);
    return rc;
}
