/*
 * cmd_verify.c - `ecsrev verify`: check the stored revisions and the
 * tamper-evident history chain.
 *
 * `--head` only prints the current chain head and its sequence number
 * ("<64 hex> <seq>"), to be kept outside the store; `--expect HEAD` also
 * proves the history up to that head is unchanged. Exit: 0 clean, 1 damage
 * found, 2 trouble (cannot open or read the store, bad options).
 */
#include <ecsrev/verify.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int print_head(struct ecsrev_store *store, bool json)
{
    uint8_t head[ECSREV_SHA256_LEN];
    uint64_t seq = 0;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_store_head(store, head, &seq, &err) < 0) {
        return cli_fail(&err);
    }
    char hex[2 * ECSREV_SHA256_LEN + 1];
    ecsrev_hex_encode(hex, head, sizeof(head));
    if (json) {
        out_printf("{\"schema\":\"ecsrev.verify-head/1\",\"head\":\"%s\",\"seq\":%llu}\n", hex,
                   (unsigned long long)seq);
    } else {
        out_printf("%s %llu\n", hex, (unsigned long long)seq);
    }
    return EXIT_OK;
}

static int run_verify(struct ecsrev_store *store, const uint8_t *expect, bool json)
{
    struct ecsrev_verify_report r = ECSREV_VERIFY_REPORT_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    int rc = ecsrev_verify_store(&r, store, expect, &err);
    if (rc == 0) {
        rc = ecsrev_verify_render(&out, &r, json, &err);
    }
    if (rc < 0) {
        ecsrev_verify_report_dispose(&r);
        ecsrev_buf_dispose(&out);
        return cli_fail(&err);
    }
    out_write(out.ptr != NULL ? out.ptr : "", out.len);
    rc = r.n_problems == 0 ? EXIT_OK : EXIT_DIFF;
    ecsrev_verify_report_dispose(&r);
    ecsrev_buf_dispose(&out);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *store_opt = NULL;
    const char *format = "text";
    const char *expect_hex = NULL;
    bool head_only = false;
    const struct cli_opt opts[] = {
        {"head", 0, CLI_FLAG, &head_only, NULL,
         "print the current chain head and its sequence number, then stop", 0, 0},
        {"expect", 'e', CLI_STRING, &expect_hex, "HEAD",
         "also prove the history up to HEAD (64 hex digits) is unchanged", 0, 0},
        {"format", 'f', CLI_STRING, &format, "FMT", "text or json", 0, 0},
        {"store", 0, CLI_STRING, &store_opt, "DIR", "store folder", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "verify", "[options]", "Check the store's integrity and its tamper-evident history.",
        "Recomputes every stored revision's content hash, walks the SHA-256 history chain\n"
        "and compares its last head with the one the store records. Keep the output of\n"
        "'ecsrev verify --head' outside the store and pass it back with --expect to prove\n"
        "that the history up to it was not rewritten.\n"
        "Exit status: 0 clean, 1 damage found, 2 trouble."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        return exit_now;
    }
    const char *extra = n_ops > 0 ? ops[0] : NULL;
    free(ops);
    if (extra != NULL) {
        return cli_usage_error("verify", "unexpected argument '%s'", extra);
    }
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0) {
        return cli_usage_error("verify", "--format: '%s' is not text or json", format);
    }
    if (head_only && expect_hex != NULL) {
        return cli_usage_error("verify", "--head and --expect do not go together");
    }
    uint8_t expect[ECSREV_SHA256_LEN];
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (expect_hex != NULL && ecsrev_verify_head_parse(expect, expect_hex, &err) < 0) {
        return cli_usage_error("verify", "--expect: %s", err.msg);
    }
    struct ecsrev_store *store = NULL;
    if (cli_open_store(&store, store_opt, true) != 0) {
        return EXIT_TROUBLE;
    }
    int rc = head_only ? print_head(store, json)
                       : run_verify(store, expect_hex != NULL ? expect : NULL, json);
    ecsrev_store_close(store);
    return rc;
}
