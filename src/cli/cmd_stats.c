/*
 * cmd_stats.c - `ecsrev stats`: counts and sizes of the store.
 */
#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_stats(int argc, char **argv)
{
    const char *store_opt = NULL;
    const char *format = "text";
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &store_opt, "DIR", "store folder", 0, 0},
        {"format", 0, CLI_STRING, &format, "FMT", "text or json", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "stats", "[options]", "Show counts of revisions, services and clusters, and sizes.", NULL};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        return exit_now;
    }
    free(ops);
    if (n_ops != 0) {
        return cli_usage_error("stats", "unexpected argument");
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        return cli_usage_error("stats", "--format: '%s' is not text or json", format);
    }
    struct ecsrev_store *store = NULL;
    if (cli_open_store(&store, store_opt, true) != 0) {
        return EXIT_TROUBLE;
    }
    struct ecsrev_store_stats st;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_store_stats(store, &st, &err);
    if (rc < 0) {
        ecsrev_store_close(store);
        return cli_fail(&err);
    }
    uint8_t head[ECSREV_SHA256_LEN];
    uint64_t seq = 0;
    char head_hex[2 * ECSREV_SHA256_LEN + 1] = "";
    if (ecsrev_store_head(store, head, &seq, &err) == 0) {
        ecsrev_hex_encode(head_hex, head, sizeof(head));
    }
    if (strcmp(format, "json") == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "schema", 1);
        cJSON_AddStringToObject(doc, "store", ecsrev_store_path(store));
        cJSON_AddNumberToObject(doc, "storeSchema", ECSREV_STORE_SCHEMA);
        cJSON_AddNumberToObject(doc, "revisions", (double)st.revisions);
        cJSON_AddNumberToObject(doc, "services", (double)st.services);
        cJSON_AddNumberToObject(doc, "clusters", (double)st.clusters);
        cJSON_AddNumberToObject(doc, "bodies", (double)st.bodies);
        cJSON_AddNumberToObject(doc, "events", (double)st.events);
        cJSON_AddStringToObject(doc, "head", head_hex);
        cJSON_AddNumberToObject(doc, "bytesUsed", (double)st.bytes_used);
        cJSON_AddNumberToObject(doc, "fileSize", (double)st.file_size);
        cJSON_AddNumberToObject(doc, "mapSize", (double)st.map_size);
        char *s = cJSON_PrintUnformatted(doc);
        out_printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(doc);
    } else {
        out_printf("store        %s\n", ecsrev_store_path(store));
        out_printf("revisions    %llu\n", (unsigned long long)st.revisions);
        out_printf("services     %llu\n", (unsigned long long)st.services);
        out_printf("clusters     %llu\n", (unsigned long long)st.clusters);
        out_printf("bodies       %llu\n", (unsigned long long)st.bodies);
        out_printf("events       %llu (head %s)\n", (unsigned long long)st.events,
                   seq > 0 ? head_hex : "-");
        out_printf("bytes used   %llu (file %llu, map %llu)\n", (unsigned long long)st.bytes_used,
                   (unsigned long long)st.file_size, (unsigned long long)st.map_size);
    }
    ecsrev_store_close(store);
    return EXIT_OK;
}
