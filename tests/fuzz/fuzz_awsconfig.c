/*
 * fuzz_awsconfig.c - fuzz target for the AWS shared config / credentials
 * file parser and what is built on it.
 *
 * Properties: ecsrev_awsconfig__parse never crashes; every entry it reports
 * has a non-empty lower-case key without blanks or '=', a section, a line
 * number within the input; a failure is one error line. The same text,
 * written to a temporary file and loaded as both the config and the
 * credentials file by ecsrev_aws_config_load (profiles "default" and "dev"),
 * never crashes or leaks; region and endpoint resolution run on the result.
 * ecsrev_creds_resolve is deliberately not called: it would run the
 * input's credential_process. The input as text also goes through
 * ecsrev_creds_parse_time.
 */
#include "fuzz.h"

#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include <ecsrev/creds.h>
#include <ecsrev/error.h>

#include "awsconfig_priv.h"

struct count {
    size_t entries;
    size_t lines;
};

static int on_entry(const char *section, const char *key, const char *value, size_t line,
                    void *payload, struct ecsrev_error *err)
{
    struct count *c = payload;
    (void)err;
    FUZZ_CHECK(section != NULL && key != NULL && value != NULL);
    FUZZ_CHECK(key[0] != '\0');
    for (const char *p = key; *p != '\0'; p++) {
        FUZZ_CHECK(!isupper((unsigned char)*p));
        FUZZ_CHECK(*p != '=' && *p != '\n');
    }
    FUZZ_CHECK(line >= 1 && line <= c->lines);
    c->entries++;
    return 0;
}

static void check_parse(const uint8_t *data, size_t size)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct count c = {0, 1};
    for (size_t i = 0; i < size; i++) {
        c.lines += data[i] == '\n';
    }
    int rc = ecsrev_awsconfig__parse((const char *)data, size, "fuzz.ini", on_entry, &c, &err);
    if (rc < 0) {
        FUZZ_CHECK(rc == err.code);
        FUZZ_CHECK_MSG(&err);
    }
}

struct env {
    const char *path;
};

static const char *fake_getenv(const char *name, void *payload)
{
    const struct env *e = payload;
    if (strcmp(name, "AWS_CONFIG_FILE") == 0 || strcmp(name, "AWS_SHARED_CREDENTIALS_FILE") == 0) {
        return e->path;
    }
    if (strcmp(name, "HOME") == 0) {
        return "/nonexistent";
    }
    return NULL;
}

/* Region and endpoint resolution on a loaded config. */
static void resolve(const struct ecsrev_aws_config *cfg, struct env *e)
{
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    char *region = NULL;
    char *endpoint = NULL;
    if (ecsrev_region_resolve(&region, NULL, cfg, fake_getenv, e, &err) < 0) {
        FUZZ_CHECK_MSG(&err);
        return;
    }
    FUZZ_CHECK(region != NULL && region[0] != '\0');
    if (ecsrev_endpoint_resolve(&endpoint, NULL, region, cfg, fake_getenv, e, &err) == 0) {
        FUZZ_CHECK(strncmp(endpoint, "http", 4) == 0);
    } else {
        FUZZ_CHECK_MSG(&err);
    }
    free(region);
    free(endpoint);
}

static void load_profile(struct env *e, const char *profile)
{
    struct ecsrev_aws_config cfg = ECSREV_AWS_CONFIG_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    if (ecsrev_aws_config_load(&cfg, profile, fake_getenv, e, &err) < 0) {
        FUZZ_CHECK_MSG(&err);
    } else {
        FUZZ_CHECK(cfg.profile != NULL);
        FUZZ_CHECK(cfg.max_attempts >= 1 && cfg.max_attempts <= 100);
        resolve(&cfg, e);
    }
    ecsrev_aws_config_dispose(&cfg);
}

static void check_load(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/ecsrev-fuzz-awsconfig-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return; /* no temporary folder: the parse was still checked */
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    (void)close(fd);

    struct env e = {path};
    load_profile(&e, NULL);
    load_profile(&e, "dev");
    (void)unlink(path);
}

static void check_time(const uint8_t *data, size_t size)
{
    char text[96];
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int64_t ms = 0;
    if (size >= sizeof(text)) {
        return;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (ecsrev_creds_parse_time(&ms, text, &err) < 0) {
        FUZZ_CHECK_MSG(&err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse(data, size);
    check_load(data, size);
    check_time(data, size);
    return 0;
}
