/*
 * cmd_import.c - `ecsrev import FILE...|-`: store revisions from files.
 *
 * Each file is read (size-capped), parsed and normalized completely before
 * anything is stored, then stored in one transaction: a bad file leaves no
 * trace, and the other files are still imported and reported one by one.
 */
#include <ecsrev/input.h>

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *s_details =
    "Accepts what 'aws ecs describe-service-revisions' prints ({\"serviceRevisions\": [...],\n"
    "\"failures\": [...]}), the raw API response, a single ServiceRevision object, or JSON\n"
    "Lines of either (what 'ecsrev export' writes). Importing the same data again changes\n"
    "nothing. A file with any bad revision is rejected whole (exit 2); other files still load.";

struct totals {
    size_t added, existing, conflicts, files_rejected, failures;
};

static int import_one(struct ecsrev_store *store, const char *path, int64_t now, struct totals *t,
                      cJSON *files_json)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_buf data = ECSREV_BUF_INIT;
    struct ecsrev_input in = ECSREV_INPUT_INIT;
    struct ecsrev_store_put_result res = {0, 0, 0};
    cJSON *fj = cJSON_CreateObject();
    cJSON_AddStringToObject(fj, "file", name);
    int rc = cli_read_file(&data, path, CLI_MAX_INPUT, &err);
    if (rc == 0) {
        rc = ecsrev_input_parse(&in, data.ptr, data.len, ECSREV_NORMALIZE_REQUIRE_IDENTITY, &err);
        if (rc < 0) {
            ecsrev_error_prefix(&err, "%s", name);
        }
    }
    if (rc == 0) {
        rc = ecsrev_store_put(store, in.revs, in.n, "import", now, &res, &err);
    }
    if (rc < 0) {
        cli_error("%s", err.msg);
        t->files_rejected++;
        cJSON_AddBoolToObject(fj, "rejected", true);
        cJSON_AddStringToObject(fj, "error", err.msg);
    } else {
        for (size_t i = 0; i < in.n_failures; i++) {
            const struct ecsrev_input_failure *f = &in.failures[i];
            cli_warn("%s: failure listed for %s: %s%s%s", name, f->arn ? f->arn : "?",
                     f->reason ? f->reason : "unknown reason", f->detail ? ": " : "",
                     f->detail ? f->detail : "");
        }
        if (res.conflicts > 0) {
            cli_warn("%s: %zu revisions differ from the stored revisions with the same ARN; kept "
                     "the stored ones",
                     name, res.conflicts);
        }
        t->added += res.added;
        t->existing += res.existing;
        t->conflicts += res.conflicts;
        t->failures += in.n_failures;
        cJSON_AddBoolToObject(fj, "rejected", false);
    }
    cJSON_AddNumberToObject(fj, "new", (double)res.added);
    cJSON_AddNumberToObject(fj, "existing", (double)res.existing);
    cJSON_AddNumberToObject(fj, "conflicts", (double)res.conflicts);
    cJSON_AddItemToArray(files_json, fj);
    ecsrev_input_dispose(&in);
    ecsrev_buf_dispose(&data);
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
         "store folder (default: $ECSREV_STORE, "
         "$XDG_DATA_HOME/ecsrev)",
         0, 0},
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
    struct totals t = {0, 0, 0, 0, 0};
    cJSON *files_json = cJSON_CreateArray();
    int64_t now = cli_now_ms();
    for (size_t i = 0; i < n_files; i++) {
        (void)import_one(store, files[i], now, &t, files_json);
    }
    if (!quiet) {
        print_summary(&t, format, files_json);
    }
    cJSON_Delete(files_json);
    ecsrev_store_close(store);
    free(files);
    return t.files_rejected > 0 ? EXIT_TROUBLE : EXIT_OK;
}
