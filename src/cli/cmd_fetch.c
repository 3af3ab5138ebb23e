/*
 * cmd_fetch.c - `ecsrev fetch`: collect service revisions from Amazon ECS
 * into the store.
 *
 *   ecsrev fetch --cluster C --service S [--service S2 ...] | --all-services | ARN...
 *
 * Resolves the profile, region, endpoint and credentials (creds.h), then runs
 * the fetch pipeline (ecs.h) over the libcurl transport (http.h). Each batch
 * of up to 20 revisions is stored in one ecsrev_store_put() call, i.e. one
 * transaction, in batch order, so an interrupted or failed fetch leaves whole
 * batches and a re-run fetches only what is missing.
 *
 * Exit: 0 everything fetched; 1 some ARNs came back in `failures` (or failed
 * validation); 2 a request failed after its retries, or anything else.
 * Secrets (secret key, session token, Authorization) are never printed: -v
 * logs the operation, attempt, status and duration of each request only.
 */
#include <ecsrev/creds.h>
#include <ecsrev/ecs.h>
#include <ecsrev/http.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *s_details =
    "Lists the deployments of each service (ListServiceDeployments, every page), describes\n"
    "them (DescribeServiceDeployments, 20 per call), collects their source, target and\n"
    "rollback revisions, skips the revisions already stored, and fetches the rest\n"
    "(DescribeServiceRevisions, 20 per call, --concurrency calls at once). Each batch is\n"
    "stored in one transaction. With ARN operands, fetches those service revisions.\n"
    "\n"
    "Credentials, in order: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN];\n"
    "a role profile (role_arn with source_profile or credential_source: STS AssumeRole,\n"
    "external_id, role_session_name, duration_seconds; chains followed); web identity\n"
    "(web_identity_token_file, or AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN); SSO\n"
    "(sso_session or sso_start_url, after `aws sso login`); the profile's keys or\n"
    "credential_process (--profile or AWS_PROFILE); container credentials\n"
    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI); IMDSv2. STS and the SSO\n"
    "portal: AWS_ENDPOINT_URL_STS / _SSO, AWS_ENDPOINT_URL, the profile's\n"
    "endpoint_url, else the regional AWS endpoints. mfa_serial is refused.\n"
    "Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region. Endpoint:\n"
    "--endpoint-url, AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, the profile's endpoint_url,\n"
    "else https://ecs.REGION.amazonaws.com. TLS is always verified, against AWS_CA_BUNDLE\n"
    "(or the profile's ca_bundle) when set, else the system's CAs. Proxies: http_proxy,\n"
    "https_proxy, no_proxy as curl(1).\n"
    "Retries (AWS SDK standard mode): throttling, HTTP 429/500/502/503/504, timeouts and\n"
    "connection failures, up to --max-attempts (or AWS_MAX_ATTEMPTS) attempts.\n"
    "IAM: ecs:ListServiceDeployments, ecs:DescribeServiceDeployments,\n"
    "ecs:DescribeServiceRevisions, and ecs:ListServices for --all-services.\n"
    "\n"
    "Exit status: 0 everything fetched, 1 some ARNs could not be fetched (listed on\n"
    "stderr), 2 a request failed after its retries or anything else went wrong; what was\n"
    "stored before an error stays stored.";

struct fetch_opts {
    const char *cluster;
    struct cli_list services;
    bool all_services;
    const char *since;
    const char *store;
    const char *region;
    const char *profile;
    const char *endpoint;
    long concurrency;
    long max_attempts;
    long connect_timeout;
    long read_timeout;
    bool quiet;
    int verbose;
    const char *format;
};

/* State shared by the callbacks. */
struct run {
    const struct fetch_opts *o;
    struct ecsrev_store *store;
    struct ecsrev_aws_config cfg;
    struct ecsrev_transport *creds_http; /* short timeouts: container, IMDS and STS */
    char *region;                        /* resolved region (STS for roles) */
    int64_t started_ms;
    bool progress_on;
    bool progress_shown;
    struct ecsrev_fetch_progress prog;
    size_t added, existing, conflicts;
    cJSON *failures; /* array of {arn, reason, detail} */
};

/* ---- environment, clock, sleep (main may read them; the library may not) ---- */

static const char *env_get(const char *name, void *payload)
{
    (void)payload;
    return getenv(name);
}

static int64_t clock_now(void *payload)
{
    (void)payload;
    return cli_now_ms();
}

static void clock_sleep(int64_t ms, void *payload)
{
    (void)payload;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- credentials ---- */

static int creds_http(struct ecsrev_buf *body_out, long *status_out,
                      const struct ecsrev_creds_request *cr, void *payload,
                      struct ecsrev_error *err)
{
    struct run *r = payload;
    struct ecsrev_http_request req = {cr->method,    cr->url,  cr->headers,
                                      cr->n_headers, cr->body, cr->body_len};
    struct ecsrev_http_response resp;
    ecsrev_http_response_init(&resp);
    int rc = ecsrev_http_send(r->creds_http, &req, &resp, err);
    if (rc == 0) {
        *status_out = resp.status;
        rc = ecsrev_buf_append(body_out, resp.body.ptr != NULL ? resp.body.ptr : "", resp.body.len,
                               err);
    }
    ecsrev_buf_dispose_secret(&resp.body); /* credentials JSON */
    ecsrev_http_response_dispose(&resp);
    return rc;
}

static int get_creds(struct ecsrev_credentials *out, struct ecsrev_error *err, void *payload)
{
    struct run *r = payload;
    struct ecsrev_creds_context ctx = {env_get,   NULL,      creds_http,  r,
                                       r->region, clock_now, clock_sleep, NULL};
    int rc = ecsrev_creds_resolve(out, &r->cfg, &ctx, err);
    if (rc == 0 && r->o->verbose > 0) {
        cli_error("credentials from %s", out->source);
    }
    return rc;
}

/* ---- logging and progress ---- */

static void log_request(const struct ecsrev_ecs_log *ev, void *payload)
{
    struct run *r = payload;
    if (r->o->verbose == 0) {
        return;
    }
    char status[32] = "no response";
    if (ev->status != 0) {
        (void)snprintf(status, sizeof(status), "HTTP %ld", ev->status);
    }
    char retry[64] = "";
    if (ev->will_retry) {
        (void)snprintf(retry, sizeof(retry), ", retrying in %lld ms",
                       (long long)ev->retry_delay_ms);
    }
    cli_error("%s attempt %u: %s%s%s (%lld ms)%s", ev->operation, ev->attempt, status,
              ev->error != NULL ? ": " : "", ev->error != NULL ? ev->error : "",
              (long long)ev->duration_ms, retry);
}

static void show_progress(struct run *r)
{
    if (!r->progress_on) {
        return;
    }
    const struct ecsrev_fetch_progress *p = &r->prog;
    (void)fprintf(stderr,
                  "\r\033[Kecsrev: fetch: %zu deployments listed, %zu/%zu revisions fetched, %zu "
                  "stored, %zu already stored",
                  p->deployments, p->fetched + p->failed, p->to_fetch, r->added, p->already_stored);
    (void)fflush(stderr);
    r->progress_shown = true;
}

static void end_progress(struct run *r)
{
    if (r->progress_shown) {
        (void)fputs("\r\033[K", stderr);
        r->progress_shown = false;
    }
}

static void on_progress(const struct ecsrev_fetch_progress *p, void *payload)
{
    struct run *r = payload;
    r->prog = *p;
    show_progress(r);
}

/* ---- store callbacks ---- */

static int on_have(bool *out, const char *arn, struct ecsrev_error *err, void *payload)
{
    struct run *r = payload;
    return ecsrev_store_has(r->store, arn, out, err);
}

static void record_failure(struct run *r, const struct ecsrev_fetch_failure *f)
{
    end_progress(r);
    cli_error("%s: %s%s%s", f->arn, f->reason, f->detail != NULL ? ": " : "",
              f->detail != NULL ? f->detail : "");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "arn", f->arn);
    cJSON_AddStringToObject(e, "reason", f->reason);
    if (f->detail != NULL) {
        cJSON_AddStringToObject(e, "detail", f->detail);
    }
    cJSON_AddItemToArray(r->failures, e);
}

static int on_batch(const struct ecsrev_revision *revs, size_t n,
                    const struct ecsrev_fetch_failure *failures, size_t n_failures,
                    struct ecsrev_error *err, void *payload)
{
    struct run *r = payload;
    for (size_t i = 0; i < n_failures; i++) {
        record_failure(r, &failures[i]);
    }
    if (n == 0) {
        return 0;
    }
    struct ecsrev_store_put_result res = {0, 0, 0};
    int rc = ecsrev_store_put(r->store, revs, n, "fetch", r->started_ms, &res, err);
    if (rc < 0) {
        return rc;
    }
    r->added += res.added;
    r->existing += res.existing;
    r->conflicts += res.conflicts;
    return 0; /* the progress callback that follows shows the new counts */
}

/* ---- summary ---- */

static void print_summary(const struct run *r, const struct ecsrev_error *err, int rc)
{
    size_t already = r->prog.already_stored + r->existing + r->conflicts;
    size_t failed = r->prog.failed;
    if (strcmp(r->o->format, "json") == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "schema", 1);
        cJSON_AddNumberToObject(doc, "new", (double)r->added);
        cJSON_AddNumberToObject(doc, "alreadyStored", (double)already);
        cJSON_AddNumberToObject(doc, "failed", (double)failed);
        cJSON_AddNumberToObject(doc, "conflicts", (double)r->conflicts);
        cJSON_AddNumberToObject(doc, "services", (double)r->prog.services);
        cJSON_AddNumberToObject(doc, "deployments", (double)r->prog.deployments);
        cJSON_AddNumberToObject(doc, "revisions", (double)r->prog.revisions);
        cJSON_AddItemToObject(doc, "failures", cJSON_Duplicate(r->failures, true));
        if (rc < 0) {
            cJSON_AddStringToObject(doc, "error", err->msg);
        } else {
            cJSON_AddNullToObject(doc, "error");
        }
        char *s = cJSON_PrintUnformatted(doc);
        out_printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(doc);
        return;
    }
    out_printf("fetched %zu new revision%s (%zu already stored, %zu failed)\n", r->added,
               r->added == 1 ? "" : "s", already, failed);
}

/* ---- setup ---- */

static int parse_args(struct fetch_opts *o, char ***arns, size_t *n_arns, int argc, char **argv)
{
    const struct cli_opt opts[] = {
        {"cluster", 0, CLI_STRING, &o->cluster, "C", "cluster name or ARN", 0, 0},
        {"service", 0, CLI_LIST, &o->services, "S", "service name or ARN (repeatable)", 0, 0},
        {"all-services", 0, CLI_FLAG, &o->all_services, NULL, "every service of the cluster", 0, 0},
        {"since", 0, CLI_STRING, &o->since, "DATE",
         "only deployments created since DATE (2026-11-01, 7d, epoch seconds)", 0, 0},
        {"store", 0, CLI_STRING, &o->store, "DIR",
         "store folder (default: $ECSREV_STORE, $XDG_DATA_HOME/ecsrev)", 0, 0},
        {"region", 0, CLI_STRING, &o->region, "R", "AWS region", 0, 0},
        {"profile", 0, CLI_STRING, &o->profile, "P", "AWS profile", 0, 0},
        {"endpoint-url", 0, CLI_STRING, &o->endpoint, "URL", "ECS endpoint URL", 0, 0},
        {"concurrency", 0, CLI_INT, &o->concurrency, "N", "requests in flight (default 8)", 1, 64},
        {"max-attempts", 0, CLI_INT, &o->max_attempts, "N",
         "attempts per request (default AWS_MAX_ATTEMPTS or 3)", 1, 100},
        {"connect-timeout", 0, CLI_INT, &o->connect_timeout, "S",
         "connect timeout in seconds (default 10)", 1, 3600},
        {"read-timeout", 0, CLI_INT, &o->read_timeout, "S",
         "fail a request when no data arrives for S seconds (default 60)", 1, 3600},
        {"format", 0, CLI_STRING, &o->format, "FMT", "summary format: text or json", 0, 0},
        {"quiet", 'q', CLI_FLAG, &o->quiet, NULL, "no progress line and no summary", 0, 0},
        {"verbose", 'v', CLI_COUNT, &o->verbose, NULL, "log every request to stderr", 0, 0},
        {NULL, 0, CLI_FLAG, NULL, NULL, NULL, 0, 0},
    };
    const struct cli_cmd_help help = {
        "fetch", "[options] (--service S... | --all-services | ARN...)",
        "Fetch service revisions from Amazon ECS into the store.", s_details};
    int exit_now = 0;
    if (cli_parse(argc, argv, opts, &help, arns, n_arns, &exit_now) < 0) {
        return exit_now;
    }
    if (o->services.n == 0 && !o->all_services && *n_arns == 0) {
        return cli_usage_error("fetch", "nothing to fetch: give --service, --all-services or "
                                        "revision ARNs");
    }
    if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
        return cli_usage_error("fetch", "--format: '%s' is not text or json", o->format);
    }
    return -1;
}

static int make_client(struct ecsrev_ecs **client, struct ecsrev_transport **http, struct run *r,
                       struct ecsrev_error *err)
{
    char *region = NULL;
    char *endpoint = NULL;
    const struct fetch_opts *o = r->o;
    int rc = 0;
    if ((rc = ecsrev_region_resolve(&region, o->region, &r->cfg, env_get, NULL, err)) < 0 ||
        (rc = ecsrev_endpoint_resolve(&endpoint, o->endpoint, region, &r->cfg, env_get, NULL,
                                      err)) < 0) {
        goto done;
    }
    if (o->verbose > 0) {
        cli_error("region %s, endpoint %s", region, endpoint);
    }
    struct ecsrev_http_options ho = ECSREV_HTTP_OPTIONS_INIT;
    ho.connect_timeout_ms = o->connect_timeout * 1000;
    ho.read_timeout_ms = o->read_timeout * 1000;
    ho.ca_bundle = r->cfg.ca_bundle;
    ho.max_connections = (size_t)o->concurrency;
    ho.user_agent = "ecsrev/" ECSREV_VERSION;
    if ((rc = ecsrev_http_transport_new(http, &ho, err)) < 0) {
        goto done;
    }
    /* The SDKs give credential endpoints short timeouts (IMDS: 1 s). */
    ho.connect_timeout_ms = 2000;
    ho.read_timeout_ms = 5000;
    ho.max_body = (size_t)64 * 1024;
    ho.max_connections = 1;
    if ((rc = ecsrev_http_transport_new(&r->creds_http, &ho, err)) < 0) {
        goto done;
    }
    r->region = ecsrev_xstrdup(region);
    struct ecsrev_ecs_options eo = ECSREV_ECS_OPTIONS_INIT;
    eo.endpoint = endpoint;
    eo.region = region;
    eo.max_attempts = (unsigned)(o->max_attempts > 0 ? o->max_attempts : r->cfg.max_attempts);
    eo.concurrency = (unsigned)o->concurrency;
    eo.creds = get_creds;
    eo.now = clock_now;
    eo.sleep = clock_sleep;
    eo.log = log_request;
    eo.payload = r;
    rc = ecsrev_ecs_new(client, *http, &eo, err);
done:
    free(region);
    free(endpoint);
    return rc;
}

static int run_fetch(struct run *r, char **arns, size_t n_arns, struct ecsrev_error *err)
{
    const struct fetch_opts *o = r->o;
    struct ecsrev_transport *http = NULL;
    struct ecsrev_ecs *client = NULL;
    struct ecsrev_fetch_spec spec = ECSREV_FETCH_SPEC_INIT;
    int rc = 0;
    if (o->since != NULL &&
        (rc = cli_parse_date(&spec.since_ms, o->since, r->started_ms, err)) < 0) {
        ecsrev_error_prefix(err, "--since");
        return rc;
    }
    if ((rc = ecsrev_aws_config_load(&r->cfg, o->profile, env_get, NULL, err)) < 0 ||
        (rc = make_client(&client, &http, r, err)) < 0) {
        goto done;
    }
    if (cli_open_store(&r->store, o->store, false) != 0) {
        rc = ECSREV_ESTORE;
        err->msg[0] = '\0'; /* already printed */
        goto done;
    }
    spec.cluster = o->cluster;
    spec.services = (const char *const *)o->services.items;
    spec.n_services = o->services.n;
    spec.all_services = o->all_services;
    spec.revision_arns = (const char *const *)arns;
    spec.n_revision_arns = n_arns;
    struct ecsrev_fetch_callbacks cb = {on_have, on_batch, on_progress, r};
    rc = ecsrev_ecs_fetch(&r->prog, client, &spec, &cb, err);
done:
    ecsrev_ecs_free(client);
    if (http != NULL) {
        http->free(http);
    }
    return rc;
}

int cmd_fetch(int argc, char **argv)
{
    struct fetch_opts o;
    memset(&o, 0, sizeof(o));
    o.concurrency = 8;
    o.connect_timeout = 10;
    o.read_timeout = 60;
    o.format = "text";
    char **arns = NULL;
    size_t n_arns = 0;
    int exit_now = parse_args(&o, &arns, &n_arns, argc, argv);
    if (exit_now >= 0) {
        free(arns);
        cli_list_dispose(&o.services);
        return exit_now;
    }
    struct run r;
    memset(&r, 0, sizeof(r));
    r.o = &o;
    r.cfg = (struct ecsrev_aws_config)ECSREV_AWS_CONFIG_INIT;
    r.started_ms = cli_now_ms();
    r.progress_on = !o.quiet && cli_stderr_is_tty();
    r.failures = cJSON_CreateArray();
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = run_fetch(&r, arns, n_arns, &err);
    end_progress(&r);
    if (rc < 0 && err.msg[0] != '\0') {
        cli_error("%s", err.msg);
    }
    if (r.conflicts > 0) {
        cli_warn("%zu fetched revisions differ from the stored ones with the same ARN; kept the "
                 "stored ones",
                 r.conflicts);
    }
    if (!o.quiet && r.store != NULL) {
        print_summary(&r, &err, rc);
    }
    int status = rc < 0 ? EXIT_TROUBLE : (r.prog.failed > 0 ? EXIT_DIFF : EXIT_OK);
    cJSON_Delete(r.failures);
    ecsrev_store_close(r.store);
    if (r.creds_http != NULL) {
        r.creds_http->free(r.creds_http);
    }
    ecsrev_aws_config_dispose(&r.cfg);
    free(r.region);
    cli_list_dispose(&o.services);
    free(arns);
    return status;
}
