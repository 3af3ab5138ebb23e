/*
 * cmd_audit.c - `ecsrev audit`: check stored revisions against the
 * compliance rules and print a report.
 *
 * Selection: the services named with --service (resolved with --cluster),
 * else every stored service (of --cluster when given). Per service the
 * latest revision is audited, or every revision with --all-revisions, or
 * those created since --since. Change rules always see the revision before
 * the audited one, even when that one is outside the --since window.
 *
 * --fetch runs `ecsrev fetch` for the same selection first, with its
 * standard output sent to standard error so the report stays the only thing
 * on standard output.
 *
 * Exit: 0 no unsuppressed finding at or above --fail-on, 1 findings, 2 trouble.
 */
#include <ecsrev/audit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct audit_opts {
    struct cli_list services;
    bool all_services; /* explicit form of the default: every service (of --cluster) */
    const char *cluster;
    bool all_revisions;
    const char *since;
    const char *rules;
    const char *format;
    const char *fail_on;
    bool fetch;
    const char *region;   /* for --fetch */
    const char *profile;  /* for --fetch */
    const char *endpoint; /* for --fetch */
    const char *store;
};

/* State of one service's history walk. */
struct walk {
    struct ecsrev_audit *audit;
    bool all;
    int64_t since_ms; /* ECSREV_TIME_NONE: no bound */
    struct ecsrev_revision prev;
    struct ecsrev_revision last;
    bool have_prev, have_last;
    struct ecsrev_error err;
};

static void walk_dispose(struct walk *w)
{
    ecsrev_revision_dispose(&w->prev);
    ecsrev_revision_dispose(&w->last);
}

/* Move last into prev and copy @p rev into last. */
static void shift(struct walk *w, const struct ecsrev_revision *rev)
{
    ecsrev_revision_dispose(&w->prev);
    w->prev = w->last;
    w->have_prev = w->have_last;
    ecsrev_revision_copy(&w->last, rev);
    w->have_last = true;
}

static int on_revision(const struct ecsrev_revision *rev, void *payload)
{
    struct walk *w = payload;
    bool selected =
        w->all || (w->since_ms != ECSREV_TIME_NONE && rev->created_ms != ECSREV_TIME_NONE &&
                   rev->created_ms >= w->since_ms);
    if (selected) {
        const struct ecsrev_revision *prev = w->have_last ? &w->last : NULL;
        int rc = ecsrev_audit_revision(w->audit, rev, prev, &w->err);
        if (rc < 0) {
            return rc;
        }
    }
    shift(w, rev);
    return 0;
}

static int audit_service(struct ecsrev_audit *audit, struct ecsrev_store *store, const char *arn,
                         const struct audit_opts *o, int64_t since_ms)
{
    struct walk w;
    memset(&w, 0, sizeof(w));
    w.audit = audit;
    w.all = o->all_revisions && since_ms == ECSREV_TIME_NONE;
    w.since_ms = since_ms;
    struct ecsrev_store_query q = ECSREV_STORE_QUERY_INIT;
    int rc = ecsrev_store_history(store, arn, &q, on_revision, &w, &w.err);
    bool latest_only = !o->all_revisions && since_ms == ECSREV_TIME_NONE;
    if (rc == 0 && latest_only && w.have_last) {
        rc = ecsrev_audit_revision(audit, &w.last, w.have_prev ? &w.prev : NULL, &w.err);
    }
    walk_dispose(&w);
    if (rc < 0) {
        return cli_fail(&w.err);
    }
    return 0;
}

/* ---- which services ---- */

struct svc_list {
    char **arns;
    size_t n;
    const char *cluster;
};

static bool cluster_matches(const char *cluster_arn, const char *want)
{
    if (want == NULL) {
        return true;
    }
    if (cluster_arn == NULL) {
        return false;
    }
    if (strcmp(cluster_arn, want) == 0) {
        return true;
    }
    const char *slash = strrchr(cluster_arn, '/');
    return slash != NULL && strcmp(slash + 1, want) == 0;
}

static int on_service(const char *service_arn, const char *cluster_arn, uint64_t revisions,
                      void *payload)
{
    struct svc_list *l = payload;
    if (revisions > 0 && cluster_matches(cluster_arn, l->cluster)) {
        l->arns = ecsrev_xrealloc(l->arns, (l->n + 1) * sizeof(char *));
        l->arns[l->n++] = ecsrev_xstrdup(service_arn);
    }
    return 0;
}

static void svc_list_dispose(struct svc_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->arns[i]);
    }
    free(l->arns);
}

static int select_services(struct svc_list *out, struct ecsrev_store *store,
                           const struct audit_opts *o)
{
    out->cluster = o->cluster;
    if (o->services.n == 0) {
        struct ecsrev_error err = ECSREV_ERROR_INIT;
        if (ecsrev_store_services(store, on_service, out, &err) < 0) {
            return cli_fail(&err);
        }
        return 0;
    }
    for (size_t i = 0; i < o->services.n; i++) {
        char *arn = NULL;
        if (cli_resolve_service(&arn, store, o->services.items[i], o->cluster) != 0) {
            return EXIT_TROUBLE;
        }
        out->arns = ecsrev_xrealloc(out->arns, (out->n + 1) * sizeof(char *));
        out->arns[out->n++] = arn;
    }
    return 0;
}

/* ---- --fetch ---- */

/* Run `ecsrev fetch` for the selection with its stdout redirected to stderr. */
static int run_fetch(const struct audit_opts *o)
{
    size_t max = 14 + 2 * o->services.n;
    char **args = ecsrev_xcalloc(max, sizeof(char *));
    size_t n = 0;
    args[n++] = (char *)(uintptr_t) "fetch";
    args[n++] = (char *)(uintptr_t) "--quiet";
    if (o->store != NULL) {
        args[n++] = (char *)(uintptr_t) "--store";
        args[n++] = (char *)(uintptr_t)o->store;
    }
    if (o->cluster != NULL) {
        args[n++] = (char *)(uintptr_t) "--cluster";
        args[n++] = (char *)(uintptr_t)o->cluster;
    }
    const char *const passed[][2] = {
        {"--region", o->region}, {"--profile", o->profile}, {"--endpoint-url", o->endpoint}};
    for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++) {
        if (passed[i][1] != NULL) {
            args[n++] = (char *)(uintptr_t)passed[i][0];
            args[n++] = (char *)(uintptr_t)passed[i][1];
        }
    }
    if (o->services.n == 0) {
        args[n++] = (char *)(uintptr_t) "--all-services";
    }
    for (size_t i = 0; i < o->services.n; i++) {
        args[n++] = (char *)(uintptr_t) "--service";
        args[n++] = o->services.items[i];
    }
    out_flush();
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        free(args);
        if (saved >= 0) {
            (void)close(saved);
        }
        cli_error("cannot redirect the output of fetch");
        return EXIT_TROUBLE;
    }
    int rc = cmd_fetch((int)n, args);
    out_flush();
    (void)dup2(saved, STDOUT_FILENO);
    (void)close(saved);
    free(args);
    if (rc == EXIT_DIFF) {
        cli_warn("fetch: some revisions could not be fetched; auditing what is stored");
        rc = EXIT_OK;
    }
    return rc;
}

/* ---- the command ---- */

static int parse_opts(struct audit_opts *o, enum ecsrev_report_format *fmt,
                      enum ecsrev_severity *fail_on, int64_t *since_ms, int64_t now_ms)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_report_format_parse(fmt, o->format, &err) < 0) {
        return cli_usage_error("audit", "--format: %s", err.msg);
    }
    if (ecsrev_severity_parse(fail_on, o->fail_on, &err) < 0) {
        return cli_usage_error("audit", "--fail-on: %s", err.msg);
    }
    *since_ms = ECSREV_TIME_NONE;
    if (o->since != NULL && cli_parse_date(since_ms, o->since, now_ms, &err) < 0) {
        return cli_usage_error("audit", "--since: %s", err.msg);
    }
    if (o->all_services && o->services.n > 0) {
        return cli_usage_error("audit", "--all-services and --service exclude each other");
    }
    if (o->fetch && o->services.n == 0 && o->cluster == NULL) {
        return cli_usage_error("audit", "--fetch needs --service or --cluster");
    }
    if (!o->fetch && (o->region != NULL || o->profile != NULL || o->endpoint != NULL)) {
        return cli_usage_error("audit", "--%s goes with --fetch",
                               o->region != NULL    ? "region"
                               : o->profile != NULL ? "profile"
                                                    : "endpoint-url");
    }
    return 0;
}

static int load_config(struct ecsrev_audit_config **cfg, const char *path, int64_t now_ms)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_buf text = ECSREV_BUF_INIT;
    if (path != NULL && cli_read_file(&text, path, CLI_MAX_INPUT, &err) < 0) {
        return cli_fail(&err);
    }
    int rc =
        ecsrev_audit_config_new(cfg, path != NULL ? text.ptr : NULL, text.len, path, now_ms, &err);
    ecsrev_buf_dispose(&text);
    return rc < 0 ? cli_fail(&err) : 0;
}

static int run_audit(struct ecsrev_audit *audit, const struct audit_opts *o, int64_t since_ms)
{
    struct ecsrev_store *store = NULL;
    if (cli_open_store(&store, o->store, true) != 0) {
        return EXIT_TROUBLE;
    }
    struct svc_list svcs = {NULL, 0, NULL};
    int rc = select_services(&svcs, store, o);
    for (size_t i = 0; rc == 0 && i < svcs.n; i++) {
        rc = audit_service(audit, store, svcs.arns[i], o, since_ms);
    }
    svc_list_dispose(&svcs);
    ecsrev_store_close(store);
    return rc;
}

static int report(const struct ecsrev_audit *audit, enum ecsrev_report_format fmt,
                  enum ecsrev_severity fail_on, int64_t now_ms)
{
    struct ecsrev_report_options ro = ECSREV_REPORT_OPTIONS_INIT;
    ro.format = fmt;
    ro.fail_on = fail_on;
    ro.generated_ms = now_ms;
    ro.tool_version = ECSREV_VERSION;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_audit_report(&out, audit, &ro, &err) < 0) {
        ecsrev_buf_dispose(&out);
        return cli_fail(&err);
    }
    out_write(out.ptr != NULL ? out.ptr : "", out.len);
    ecsrev_buf_dispose(&out);
    enum ecsrev_severity max = ecsrev_audit_max_severity(audit);
    return max != ECSREV_SEV_NONE && max >= fail_on ? EXIT_DIFF : EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    struct audit_opts o = {{NULL, 0}, false, NULL, false, NULL, NULL, "text",
                           "medium",  false, NULL, NULL,  NULL, NULL};
    const struct cli_opt opts[] = {
        {"service", 's', CLI_LIST, &o.services, "SERVICE",
         "service name or ARN (repeatable; default: every stored service)", 0, 0},
        {"all-services", 0, CLI_FLAG, &o.all_services, NULL,
         "every service (of --cluster): the default without --service", 0, 0},
        {"cluster", 'c', CLI_STRING, &o.cluster, "CLUSTER", "cluster name or ARN", 0, 0},
        {"all-revisions", 'a', CLI_FLAG, &o.all_revisions, NULL,
         "audit every stored revision, not only the latest", 0, 0},
        {"since", 0, CLI_STRING, &o.since, "DATE",
         "audit revisions created since DATE (2026-01-31, 7d, ...)", 0, 0},
        {"rules", 'r', CLI_STRING, &o.rules, "FILE", "rules file (see docs/rules.md)", 0, 0},
        {"format", 'f', CLI_STRING, &o.format, "FMT", "text, json, sarif, junit or markdown", 0, 0},
        {"fail-on", 0, CLI_STRING, &o.fail_on, "SEVERITY",
         "exit 1 on findings at or above low, medium (default), high or critical", 0, 0},
        {"fetch", 0, CLI_FLAG, &o.fetch, NULL, "fetch the selected services from ECS first", 0, 0},
        {"region", 0, CLI_STRING, &o.region, "R", "AWS region (with --fetch)", 0, 0},
        {"profile", 0, CLI_STRING, &o.profile, "P", "AWS profile (with --fetch)", 0, 0},
        {"endpoint-url", 0, CLI_STRING, &o.endpoint, "URL", "ECS endpoint URL (with --fetch)", 0,
         0},
        {"store", 0, CLI_STRING, &o.store, "DIR", "store folder", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "audit", "[options]", "Check stored revisions against compliance rules.",
        "Audits the latest stored revision of each selected service (every revision with\n"
        "--all-revisions, or those created since --since). Change rules compare each audited\n"
        "revision with the one before it. Rules, ids and the rules-file format: docs/rules.md.\n"
        "Exit status: 0 no finding at or above --fail-on, 1 findings, 2 trouble."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        cli_list_dispose(&o.services);
        return exit_now;
    }
    const char *extra = n_ops > 0 ? ops[0] : NULL;
    free(ops);
    int64_t now_ms = cli_now_ms();
    enum ecsrev_report_format fmt = ECSREV_REPORT_TEXT;
    enum ecsrev_severity fail_on = ECSREV_SEV_MEDIUM;
    int64_t since_ms = ECSREV_TIME_NONE;
    struct ecsrev_audit_config *cfg = NULL;
    struct ecsrev_audit *audit = NULL;
    int rc = n_ops != 0 ? cli_usage_error("audit", "unexpected argument '%s'", extra)
                        : parse_opts(&o, &fmt, &fail_on, &since_ms, now_ms);
    if (rc == 0) {
        rc = load_config(&cfg, o.rules, now_ms);
    }
    if (rc == 0 && o.fetch) {
        rc = run_fetch(&o) == EXIT_OK ? 0 : EXIT_TROUBLE;
    }
    if (rc == 0) {
        ecsrev_audit_new(&audit, cfg);
        rc = run_audit(audit, &o, since_ms);
    }
    if (rc == 0) {
        ecsrev_audit_finish(audit);
        rc = report(audit, fmt, fail_on, now_ms);
    }
    ecsrev_audit_free(audit);
    ecsrev_audit_config_free(cfg);
    cli_list_dispose(&o.services);
    return rc;
}
