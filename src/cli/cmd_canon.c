/*
 * cmd_canon.c - `ecsrev canon [FILE|-]`: the RFC 8785 canonical form of any
 * JSON document, exactly those bytes (no newline added).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_canon(int argc, char **argv)
{
    const struct cli_opt opts[] = {
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "canon", "[FILE|-]",
        "Print the RFC 8785 (JSON Canonicalization Scheme) form of a JSON document.",
        "Reads standard input when FILE is '-' or absent. Prints exactly the canonical bytes,\n"
        "with no newline after them, so the output can be hashed or signed as is."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        return exit_now;
    }
    if (n_ops > 1) {
        free(ops);
        return cli_usage_error("canon", "expected at most one file, got %zu", n_ops);
    }
    const char *path = n_ops == 1 ? ops[0] : "-";
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    free(ops);
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_buf in = ECSREV_BUF_INIT;
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    int rc = cli_read_file(&in, path, CLI_MAX_INPUT, &err);
    if (rc == 0 && (rc = ecsrev_canon_json(&out, in.ptr, in.len, &err)) < 0) {
        ecsrev_error_prefix(&err, "%s", name);
    }
    if (rc == 0) {
        out_write(out.ptr, out.len);
    }
    ecsrev_buf_dispose(&in);
    ecsrev_buf_dispose(&out);
    return rc < 0 ? cli_fail(&err) : EXIT_OK;
}
