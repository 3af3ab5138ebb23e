/*
 * cmd_diff.c - `ecsrev diff A B` and `ecsrev diff --service S [--cluster C]`:
 * what changed between two revisions, as text, JSON, Markdown or an RFC 6902
 * JSON Patch.
 *
 * A and B are stored revisions (ARN or unambiguous id) or JSON files holding
 * one revision ("-" = stdin, once). When the store does not exist, files
 * still work. Exit status like diff(1): 0 no change, 1 changes, 2 trouble.
 * The whole output is rendered into one buffer before it is written, so a
 * failure never leaves half a document on stdout.
 */
#include <ecsrev/diff.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define CMD "diff"

/* Options after parsing and checking. */
struct diff_args {
    const char *store;
    const char *service;
    const char *cluster;
    const char *format;
    const char *color;
    struct cli_list categories;
    bool quiet;
    bool patch;
    enum ecsrev_diff_format fmt;
    struct ecsrev_diff_options opt;
};

static int check_args(struct diff_args *a, size_t n_ops)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (strcmp(a->format, "text") == 0) {
        a->fmt = ECSREV_DIFF_TEXT;
    } else if (strcmp(a->format, "json") == 0) {
        a->fmt = ECSREV_DIFF_JSON;
    } else if (strcmp(a->format, "markdown") == 0) {
        a->fmt = ECSREV_DIFF_MARKDOWN;
    } else if (strcmp(a->format, "patch") == 0) {
        a->patch = true;
    } else {
        return cli_usage_error(CMD, "--format: '%s' is not text, json, markdown or patch",
                               a->format);
    }
    for (size_t i = 0; i < a->categories.n; i++) {
        if (ecsrev_diff_category_parse(&a->opt.categories, a->categories.items[i], &err) < 0) {
            return cli_usage_error(CMD, "--category: %s", err.msg);
        }
    }
    if (a->patch && a->opt.categories != 0) {
        return cli_usage_error(CMD, "--category does not apply to --format patch");
    }
    if (a->service != NULL && n_ops != 0) {
        return cli_usage_error(CMD, "give either --service or two revisions, not both");
    }
    if (a->service == NULL && a->cluster != NULL) {
        return cli_usage_error(CMD, "--cluster needs --service");
    }
    if (a->service == NULL && n_ops != 2) {
        return cli_usage_error(CMD, "expected two revisions (or --service), got %zu", n_ops);
    }
    return 0;
}

static bool is_file(const char *ref)
{
    struct stat st;
    return strcmp(ref, "-") == 0 || stat(ref, &st) == 0;
}

/*
 * Open the store read-only. Without --service, a missing store is fine when
 * both operands are files (diffing specs needs no store).
 */
static int open_store(struct ecsrev_store **out, const struct diff_args *a, char **ops)
{
    *out = NULL;
    if (a->service != NULL || !is_file(ops[0]) || !is_file(ops[1])) {
        return cli_open_store(out, a->store, true);
    }
    char *dir = cli_store_dir(a->store);
    if (dir == NULL) {
        return 0;
    }
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_store_open(out, dir, ECSREV_STORE_READONLY, &err) < 0) {
        *out = NULL; /* files only */
    }
    free(dir);
    return 0;
}

/* The two newest revisions of a service: history newest first, stop after two. */
struct latest_two {
    struct ecsrev_revision revs[2];
    size_t n;
};

static int take_two(const struct ecsrev_revision *rev, void *payload)
{
    struct latest_two *t = payload;
    ecsrev_revision_copy(&t->revs[t->n], rev);
    t->n++;
    return t->n == 2 ? 1 : 0;
}

static int load_service_pair(struct ecsrev_revision *ra, struct ecsrev_revision *rb,
                             struct ecsrev_store *store, const struct diff_args *a)
{
    char *service = NULL;
    if (cli_resolve_service(&service, store, a->service, a->cluster) != 0) {
        return EXIT_TROUBLE;
    }
    struct latest_two t;
    memset(&t, 0, sizeof(t));
    struct ecsrev_store_query q = ECSREV_STORE_QUERY_INIT;
    q.newest_first = true;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_store_history(store, service, &q, take_two, &t, &err);
    if (rc < 0) {
        rc = cli_fail(&err);
    } else if (t.n < 2) {
        cli_error("service %s has %zu stored revision%s; diff needs two", service, t.n,
                  t.n == 1 ? "" : "s");
        rc = EXIT_TROUBLE;
    } else {
        *rb = t.revs[0];
        *ra = t.revs[1];
        memset(&t, 0, sizeof(t));
        rc = 0;
    }
    ecsrev_revision_dispose(&t.revs[0]);
    ecsrev_revision_dispose(&t.revs[1]);
    free(service);
    return rc;
}

static int load_pair(struct ecsrev_revision *ra, struct ecsrev_revision *rb,
                     struct ecsrev_store *store, const struct diff_args *a, char **ops)
{
    if (a->service != NULL) {
        return load_service_pair(ra, rb, store, a);
    }
    if (strcmp(ops[0], "-") == 0 && strcmp(ops[1], "-") == 0) {
        return cli_usage_error(CMD, "only one side can be read from stdin");
    }
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (cli_load_revision(ra, store, ops[0], &err) < 0 ||
        cli_load_revision(rb, store, ops[1], &err) < 0) {
        return cli_fail(&err);
    }
    return 0;
}

static int render(struct ecsrev_buf *out, const struct diff_args *a,
                  const struct ecsrev_changes *ch, const struct ecsrev_revision *ra,
                  const struct ecsrev_revision *rb, char **ops)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_diff_render_options ro = ECSREV_DIFF_RENDER_OPTIONS_INIT;
    int rc;
    if (a->patch) {
        rc = ecsrev_diff_patch(out, ra->canon, ra->canon_len, rb->canon, rb->canon_len, &err);
    } else {
        if (a->fmt == ECSREV_DIFF_TEXT && cli_color(&ro.color, CMD, a->color) != 0) {
            return EXIT_TROUBLE;
        }
        ro.from_label = ops != NULL ? ops[0] : NULL;
        ro.to_label = ops != NULL ? ops[1] : NULL;
        rc = ecsrev_diff_render(out, a->fmt, ch, ra, rb, &ro, &err);
    }
    return rc < 0 ? cli_fail(&err) : 0;
}

int cmd_diff(int argc, char **argv)
{
    struct diff_args a;
    memset(&a, 0, sizeof(a));
    a.format = "text";
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &a.store, "DIR", "store folder", 0, 0},
        {"service", 0, CLI_STRING, &a.service, "SERVICE",
         "compare the service's latest two stored revisions (ARN, or name with --cluster)", 0, 0},
        {"cluster", 0, CLI_STRING, &a.cluster, "CLUSTER", "cluster of --service (name or ARN)", 0,
         0},
        {"format", 0, CLI_STRING, &a.format, "FMT", "text (default), json, markdown or patch", 0,
         0},
        {"category", 0, CLI_LIST, &a.categories, "LIST",
         "only these categories (comma-separated, repeatable)", 0, 0},
        {"quiet", 'q', CLI_FLAG, &a.quiet, NULL, "print nothing; only the exit status", 0, 0},
        {"color", 0, CLI_STRING, &a.color, "WHEN", "auto (default), always or never", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        CMD, "[options] A B | --service SERVICE [--cluster C]",
        "Show what changed between two service revisions.",
        "A and B are stored revisions (full ARN or unambiguous revision id) or JSON files\n"
        "holding one revision ('-' reads stdin). With --service, the service's latest two\n"
        "stored revisions are compared.\n\n"
        "Categories: images, task-definition, networking, load-balancers, volumes,\n"
        "service-connect, service-discovery, vpc-lattice, compute, security,\n"
        "managed-resources, other. See docs/DIFF.md for paths and output formats.\n\n"
        "Exit status: 0 no configuration change, 1 changes, 2 trouble."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        cli_list_dispose(&a.categories);
        return exit_now;
    }
    struct ecsrev_store *store = NULL;
    struct ecsrev_revision ra;
    struct ecsrev_revision rb;
    memset(&ra, 0, sizeof(ra));
    memset(&rb, 0, sizeof(rb));
    struct ecsrev_changes ch = ECSREV_CHANGES_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = check_args(&a, n_ops);
    if (rc != 0 || (rc = open_store(&store, &a, ops)) != 0 ||
        (rc = load_pair(&ra, &rb, store, &a, ops)) != 0) {
        goto done;
    }
    if (ecsrev_diff_revisions(&ch, &ra, &rb, &a.opt, &err) < 0) {
        rc = cli_fail(&err);
        goto done;
    }
    if (!a.quiet) {
        if ((rc = render(&out, &a, &ch, &ra, &rb, a.service != NULL ? NULL : ops)) != 0) {
            goto done;
        }
        out_write(out.ptr != NULL ? out.ptr : "", out.len);
    }
    rc = ch.n > 0 ? EXIT_DIFF : EXIT_OK;
done:
    ecsrev_buf_dispose(&out);
    ecsrev_changes_dispose(&ch);
    ecsrev_revision_dispose(&ra);
    ecsrev_revision_dispose(&rb);
    ecsrev_store_close(store);
    cli_list_dispose(&a.categories);
    free(ops);
    return rc;
}
