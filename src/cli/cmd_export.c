/*
 * cmd_export.c - `ecsrev export [--service S [--cluster C]]`: every stored
 * revision as JSON Lines, one canonical document per line, in ARN order (or
 * the service's history order). `ecsrev import` of the output reproduces the
 * store's revisions.
 */
#include <stdlib.h>

#include "cli.h"

static int write_line(const struct ecsrev_revision *rev, void *payload)
{
    (void)payload;
    out_write(rev->canon, rev->canon_len);
    out_write("\n", 1);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *store_opt = NULL;
    const char *service = NULL;
    const char *cluster = NULL;
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &store_opt, "DIR", "store folder", 0, 0},
        {"service", 0, CLI_STRING, &service, "SERVICE", "only this service (ARN, or name)", 0, 0},
        {"cluster", 0, CLI_STRING, &cluster, "CLUSTER", "cluster of a --service name", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "export", "[options]", "Print stored revisions as JSON Lines (canonical documents).", NULL};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        return exit_now;
    }
    free(ops);
    if (n_ops != 0) {
        return cli_usage_error("export", "unexpected argument");
    }
    struct ecsrev_store *store = NULL;
    if (cli_open_store(&store, store_opt, true) != 0) {
        return EXIT_TROUBLE;
    }
    char *svc = NULL;
    int rc = EXIT_OK;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (service != NULL && cli_resolve_service(&svc, store, service, cluster) != 0) {
        rc = EXIT_TROUBLE;
    } else if (ecsrev_store_foreach(store, svc, write_line, NULL, &err) < 0) {
        rc = cli_fail(&err);
    }
    free(svc);
    ecsrev_store_close(store);
    return rc;
}
