/*
 * cmd_show.c - `ecsrev show REV`: a stored revision, as its canonical
 * document (json, the default: exactly the stored bytes plus a newline) or a
 * readable summary (text).
 */
#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cJSON *get(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = get(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_list(const char *label, const cJSON *arr)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        return;
    }
    out_printf("  %-16s", label);
    const char *sep = "";
    for (const cJSON *v = arr->child; v != NULL; v = v->next) {
        if (cJSON_IsString(v)) {
            out_printf("%s%s", sep, v->valuestring);
            sep = ", ";
        }
    }
    out_puts("\n");
}

static void print_images(const cJSON *doc)
{
    const cJSON *imgs = get(doc, "containerImages");
    if (!cJSON_IsArray(imgs)) {
        return;
    }
    out_puts("containers:\n");
    for (const cJSON *c = imgs->child; c != NULL; c = c->next) {
        const char *name = str(c, "containerName");
        const char *image = str(c, "image");
        const char *digest = str(c, "imageDigest");
        out_printf("  %-16s %s%s%s\n", name ? name : "?", image ? image : "?", digest ? " @ " : "",
                   digest ? digest : "");
    }
}

static void print_network(const cJSON *doc)
{
    const cJSON *vpc = get(get(doc, "networkConfiguration"), "awsvpcConfiguration");
    if (!cJSON_IsObject(vpc)) {
        return;
    }
    out_puts("network:\n");
    print_list("subnets", get(vpc, "subnets"));
    print_list("security groups", get(vpc, "securityGroups"));
    const char *pub = str(vpc, "assignPublicIp");
    if (pub != NULL) {
        out_printf("  %-16s%s\n", "public IP", pub);
    }
}

static void print_lbs(const cJSON *doc)
{
    const cJSON *lbs = get(doc, "loadBalancers");
    if (!cJSON_IsArray(lbs) || cJSON_GetArraySize(lbs) == 0) {
        return;
    }
    out_puts("load balancers:\n");
    for (const cJSON *lb = lbs->child; lb != NULL; lb = lb->next) {
        const char *tg = str(lb, "targetGroupArn");
        const char *name = str(lb, "loadBalancerName");
        const char *cname = str(lb, "containerName");
        const cJSON *port = get(lb, "containerPort");
        out_printf("  %s -> %s:%d\n", tg ? tg : (name ? name : "?"), cname ? cname : "?",
                   cJSON_IsNumber(port) ? port->valueint : 0);
    }
}

static void print_text(const struct ecsrev_revision *rev)
{
    char when[32] = "-";
    char ch[ECSREV_HASH_HEX_LEN];
    char gh[ECSREV_HASH_HEX_LEN];
    if (rev->created_ms != ECSREV_TIME_NONE) {
        ecsrev_time_format(when, rev->created_ms);
    }
    ecsrev_hash_hex(ch, rev->content_hash);
    ecsrev_hash_hex(gh, rev->config_hash);
    out_printf("revision         %s\n", rev->arn);
    out_printf("service          %s\n", rev->service_arn ? rev->service_arn : "-");
    out_printf("cluster          %s\n", rev->cluster_arn ? rev->cluster_arn : "-");
    out_printf("created          %s\n", when);
    out_printf("task definition  %s\n", rev->task_definition ? rev->task_definition : "-");
    out_printf("content hash     %s\n", ch);
    out_printf("config hash      %s\n", gh);
    cJSON *doc = cJSON_ParseWithLength(rev->canon, rev->canon_len);
    if (doc == NULL) {
        return;
    }
    const char *lt = str(doc, "launchType");
    const char *pv = str(doc, "platformVersion");
    if (lt != NULL || pv != NULL) {
        out_printf("compute          %s%s%s\n", lt ? lt : "", lt && pv ? " " : "", pv ? pv : "");
    }
    print_images(doc);
    print_network(doc);
    print_lbs(doc);
    cJSON_Delete(doc);
}

int cmd_show(int argc, char **argv)
{
    const char *store_opt = NULL;
    const char *format = "json";
    const struct cli_opt opts[] = {
        {"store", 0, CLI_STRING, &store_opt, "DIR", "store folder", 0, 0},
        {"format", 0, CLI_STRING, &format, "FMT", "json (canonical document, default) or text", 0,
         0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "show", "[options] REV", "Show a stored revision.",
        "REV is a full revision ARN or a revision id (the last ARN segment) that is\n"
        "unambiguous in the store."};
    char **ops = NULL;
    size_t n_ops = 0;
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, &ops, &n_ops, &exit_now) < 0) {
        return exit_now;
    }
    int rc = EXIT_TROUBLE;
    struct ecsrev_store *store = NULL;
    struct ecsrev_revision rev;
    memset(&rev, 0, sizeof(rev));
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char *arn = NULL;
    if (n_ops != 1) {
        rc = cli_usage_error("show", "expected one revision, got %zu", n_ops);
        goto done;
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "text") != 0) {
        rc = cli_usage_error("show", "--format: '%s' is not json or text", format);
        goto done;
    }
    if (cli_open_store(&store, store_opt, true) != 0) {
        goto done;
    }
    if (ecsrev_store_resolve(store, ops[0], &arn, &err) < 0 ||
        ecsrev_store_get(store, arn, &rev, &err) < 0) {
        rc = cli_fail(&err);
        goto done;
    }
    if (strcmp(format, "json") == 0) {
        out_write(rev.canon, rev.canon_len);
        out_puts("\n");
    } else {
        print_text(&rev);
    }
    rc = EXIT_OK;
done:
    ecsrev_revision_dispose(&rev);
    free(arn);
    ecsrev_store_close(store);
    free(ops);
    return rc;
}
