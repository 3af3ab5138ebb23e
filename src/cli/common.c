/*
 * common.c - helpers shared by the commands: where the store lives, reading
 * input files with a size cap, dates for --since/--until, and resolving the
 * revisions and services named on the command line.
 *
 * The CLI is the only place that reads the environment and the clock; it
 * passes what it read down to the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

char *cli_store_dir(const char *opt)
{
    if (opt != NULL && opt[0] != '\0') {
        return ecsrev_xstrdup(opt);
    }
    const char *env = getenv("ECSREV_STORE");
    if (env != NULL && env[0] != '\0') {
        return ecsrev_xstrdup(env);
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int rc;
    if (xdg != NULL && xdg[0] == '/') {
        rc = ecsrev_buf_printf(&b, NULL, "%s/ecsrev", xdg);
    } else if (home != NULL && home[0] != '\0') {
        rc = ecsrev_buf_printf(&b, NULL, "%s/.local/share/ecsrev", home);
    } else {
        cli_error("no store location: use --store DIR or set ECSREV_STORE (HOME is not set)");
        return NULL;
    }
    if (rc < 0) {
        ecsrev_buf_dispose(&b);
        return NULL;
    }
    return ecsrev_buf_detach(&b);
}

/* Once per command: a long import or fetch writes many transactions. */
static void say_waiting(void *payload)
{
    static bool s_said;
    if (!s_said) {
        s_said = true;
        cli_warn("store '%s' is being written by another process; waiting", (const char *)payload);
    }
}

int cli_open_store(struct ecsrev_store **out, const char *opt, bool readonly)
{
    *out = NULL;
    char *dir = cli_store_dir(opt);
    if (dir == NULL) {
        return EXIT_TROUBLE;
    }
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_store_open(out, dir, readonly ? ECSREV_STORE_READONLY : 0, &err);
    free(dir);
    if (rc < 0) {
        return cli_fail(&err);
    }
    ecsrev_store_on_wait(*out, say_waiting, (void *)(uintptr_t)ecsrev_store_path(*out));
    return 0;
}

int cli_read_file(struct ecsrev_buf *out, const char *path, size_t max, struct ecsrev_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: cannot read: %s", name,
                                      strerror(errno));
    }
    struct stat st;
    if (!is_stdin && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        (void)fclose(f);
        return ecsrev_error_set(err, ECSREV_EIO, "%s: is a directory", name);
    }
    ecsrev_buf_init(out, max);
    char chunk[65536];
    int rc = 0;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0 && ecsrev_buf_append(out, chunk, n, NULL) < 0) {
            rc = ecsrev_error_set(err, ECSREV_EINVAL, "%s: larger than the limit of %zu bytes",
                                  name, max);
            break;
        }
        if (n < sizeof(chunk)) {
            if (ferror(f)) {
                rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: cannot read: %s", name,
                                            strerror(errno));
            }
            break;
        }
    }
    if (!is_stdin) {
        (void)fclose(f);
    }
    if (rc == 0 && out->ptr == NULL) {
        rc = ecsrev_buf_append(out, "", 0, err);
    }
    if (rc < 0) {
        ecsrev_buf_dispose(out);
    }
    return rc;
}

int64_t cli_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_relative(int64_t *out, const char *text, int64_t now_ms)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (errno != 0 || end == text || n < 0 || n > 100000 || end[0] == '\0' || end[1] != '\0') {
        return -1;
    }
    int64_t unit;
    switch (end[0]) {
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = INT64_C(60) * 1000;
        break;
    case 'h':
        unit = INT64_C(3600) * 1000;
        break;
    case 'd':
        unit = INT64_C(86400) * 1000;
        break;
    case 'w':
        unit = INT64_C(7) * 86400 * 1000;
        break;
    default:
        return -1;
    }
    *out = now_ms - (int64_t)n * unit;
    return 0;
}

int cli_parse_date(int64_t *out, const char *text, int64_t now_ms, struct ecsrev_error *err)
{
    if (parse_relative(out, text, now_ms) == 0) {
        return 0;
    }
    /* A bare date means its midnight UTC. */
    size_t len = strlen(text);
    if (len == 10 && text[4] == '-' && text[7] == '-') {
        char full[32];
        (void)snprintf(full, sizeof(full), "%sT00:00:00Z", text);
        if (ecsrev_time_parse(out, full, NULL) == 0) {
            return 0;
        }
    } else if (ecsrev_time_parse(out, text, NULL) == 0) {
        return 0;
    }
    return ecsrev_error_set(err, ECSREV_EINVAL,
                            "'%s' is not a date (use ISO 8601 like 2026-11-01 or "
                            "2026-11-01T10:00:00Z, epoch seconds, or 7d / 12h / 30m / 2w)",
                            text);
}

const char *cli_rev_id(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash != NULL ? slash + 1 : arn;
}

const char *cli_arn_resource(const char *arn)
{
    const char *p = strchr(arn, '/');
    return p != NULL ? p + 1 : arn;
}

int cli_resolve_service(char **out, struct ecsrev_store *store, const char *service,
                        const char *cluster)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_store_find_service(store, service, cluster, out, &err) < 0) {
        return cli_fail(&err);
    }
    return 0;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int cli_load_revision(struct ecsrev_revision *out, struct ecsrev_store *store, const char *ref,
                      struct ecsrev_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc;
    if (store != NULL && strcmp(ref, "-") != 0) {
        char *arn = NULL;
        rc = ecsrev_store_resolve(store, ref, &arn, err);
        if (rc == 0) {
            rc = ecsrev_store_get(store, arn, out, err);
            free(arn);
            return rc;
        }
        if (rc != ECSREV_ENOTFOUND || !file_exists(ref)) {
            return rc;
        }
    } else if (strcmp(ref, "-") != 0 && !file_exists(ref)) {
        return ecsrev_error_set(err, ECSREV_ENOTFOUND, "%s: no such file", ref);
    }
    struct ecsrev_buf data = ECSREV_BUF_INIT;
    if ((rc = cli_read_file(&data, ref, CLI_MAX_INPUT, err)) < 0) {
        return rc;
    }
    rc = ecsrev_revision_normalize(out, data.ptr, data.len, 0, err);
    ecsrev_buf_dispose(&data);
    if (rc < 0) {
        ecsrev_error_prefix(err, "%s", strcmp(ref, "-") == 0 ? "<stdin>" : ref);
    }
    return rc;
}
