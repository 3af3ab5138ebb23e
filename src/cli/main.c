/*
 * main.c - ecsrev entry point: global set-up and the command table.
 *
 * `ecsrev <command> [options] [args]`, `ecsrev help <command>`,
 * `ecsrev --version`, `ecsrev --help`. Each command lives in cmd_<name>.c.
 */
#include <ecsrev/json.h>

#include <ecsrev/http.h>

#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command s_commands[] = {
    {"fetch", cmd_fetch, "fetch service revisions from Amazon ECS into the store"},
    {"import", cmd_import,
     "import revisions from files (aws ecs describe-service-revisions output)"},
    {"show", cmd_show, "show a stored revision"},
    {"diff", cmd_diff, "show what changed between two revisions"},
    {"log", cmd_log, "show the change history of services"},
    {"audit", cmd_audit, "check stored revisions against compliance rules"},
    {"verify", cmd_verify, "check the store's integrity and its tamper-evident history"},
    {"export", cmd_export, "print stored revisions as JSON Lines"},
    {"stats", cmd_stats, "show counts and sizes of the store"},
    {"canon", cmd_canon, "print the RFC 8785 canonical form of a JSON document"},
};

static void usage(FILE *f)
{
    (void)fprintf(f, "usage: ecsrev <command> [options] [args]\n\n"
                     "Keep the history of Amazon ECS service revisions and see what changed.\n\n"
                     "commands:\n");
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++) {
        (void)fprintf(f, "  %-8s %s\n", s_commands[i].name, s_commands[i].summary);
    }
    (void)fprintf(f,
                  "\nRun 'ecsrev <command> --help' for a command's options.\n"
                  "Exit status: 0 ok or no differences, 1 differences or findings, 2 trouble.\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++) {
        if (strcmp(s_commands[i].name, name) == 0) {
            return &s_commands[i];
        }
    }
    return NULL;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        out_printf("ecsrev %s\n", ECSREV_VERSION);
        return EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return EXIT_OK;
        }
        const struct command *c = find(argv[2]);
        if (c == NULL) {
            cli_error("unknown command '%s'; see 'ecsrev --help'", argv[2]);
            return EXIT_TROUBLE;
        }
        char *hargv[] = {argv[2], (char *)(uintptr_t) "--help", NULL};
        return c->fn(2, hargv);
    }
    const struct command *c = find(name);
    if (c == NULL) {
        cli_error("unknown command '%s'; see 'ecsrev --help'", name);
        return EXIT_TROUBLE;
    }
    return c->fn(argc - 1, argv + 1);
}

/* Only these commands talk to the network (audit --fetch runs the fetcher). */
static bool needs_network(int argc, char **argv)
{
    return argc >= 2 && (strcmp(argv[1], "fetch") == 0 || strcmp(argv[1], "audit") == 0);
}

int main(int argc, char **argv)
{
    (void)setlocale(LC_ALL, "C");
#ifdef __GLIBC__
    /* Keep freed heap pages instead of giving them back after every
     * transaction: an import frees and reallocates LMDB's dirty pages all the
     * time, and each page given back is a page fault when taken again. Peak
     * memory is unchanged. */
    (void)mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    /* One heap for all threads: import's stager thread would otherwise get
     * a heap of its own, which keeps the pages of its transactions while the
     * main thread's heap grows for its own (a few MiB more at the peak). */
    (void)mallopt(M_ARENA_MAX, 1);
#endif
    ecsrev_json_init();
    /* Once, in main, before any thread; skipped for the local commands, whose
     * start-up time (show, diff) matters more. */
    bool net = needs_network(argc, argv);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (net && ecsrev_http_global_init(&err) < 0) {
        cli_error("%s", err.msg);
        return EXIT_TROUBLE;
    }
    int rc = run(argc, argv);
    out_flush();
    if (net) {
        ecsrev_http_global_cleanup();
    }
    return rc;
}
