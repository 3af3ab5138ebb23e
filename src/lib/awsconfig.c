/*
 * awsconfig.c - AWS shared config and credentials files, region and endpoint.
 *
 * The INI parser follows what the AWS CLI accepts (Python configparser as used by
 * botocore): `[section]`, `key = value` / `key: value`, full-line '#'/';' comments,
 * indented continuation lines, nested sub-sections (`s3 =` followed by indented
 * `key = value`) skipped. It never crashes on garbage: every line is bounded by the
 * input, which is capped at ECSREV_AWS_CONFIG_MAX_FILE, and NUL bytes are rejected.
 * Keys are lower-cased (configparser does the same); section names are kept.
 *
 * Only the selected profile is collected, and for a role profile the chain of its
 * source_profile entries (each read from the same two files, loops refused); a
 * relevant key repeated for a profile within one file is an error rather than a
 * silent "last one wins". Values from the credentials file override the config
 * file's, as in botocore.
 *
 * Region text is restricted to [a-z0-9-] so it can be placed in a host name and a
 * SigV4 scope; endpoint URLs must be http(s)://host[:port] with no path, query,
 * whitespace or control characters. Secrets read from files are wiped on dispose.
 */
#include <ecsrev/creds.h>

#include <ecsrev/crypto.h>

#include "awsconfig_priv.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- INI parser ------------------------------------------------------------------------- */

struct ini_state {
    const char *fname;
    ecsrev_awsconfig__entry_fn fn;
    void *payload;
    struct ecsrev_buf section;
    struct ecsrev_buf key;
    struct ecsrev_buf value;
    bool have_section;
    bool pending;
    bool nested; /* the pending key opened a nested sub-section */
    size_t pending_line;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static char ascii_lower(char c)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char lower_case[] = "abcdefghijklmnopqrstuvwxyz";
    for (size_t i = 0; i < sizeof(upper) - 1; i++) {
        if (upper[i] == c) {
            return lower_case[i];
        }
    }
    return c;
}

/* Trim blanks on both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1])) {
        (*len)--;
    }
}

void ecsrev_awsconfig__printable(char *out, size_t size, const char *s)
{
    size_t n = 0;
    if (size == 0) {
        return;
    }
    for (; *s != '\0' && n + 1 < size; s++, n++) {
        unsigned char c = (unsigned char)*s;
        out[n] = *s;
        if (c < 0x20 || c == 0x7f) {
            out[n] = '?';
        }
    }
    if (*s != '\0' && size >= 4) {
        n = n < size - 4 ? n : size - 4;
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static int set_buf(struct ecsrev_buf *b, const char *s, size_t len, struct ecsrev_error *err)
{
    ecsrev_buf_clear(b);
    int rc = ecsrev_buf_append(b, s, len, err);
    if (rc == 0 && b->ptr == NULL) {
        rc = ecsrev_buf_append(b, "", 0, err);
    }
    return rc;
}

static int flush(struct ini_state *st, struct ecsrev_error *err)
{
    if (!st->pending) {
        return 0;
    }
    st->pending = false;
    st->nested = false;
    return st->fn(st->section.ptr, st->key.ptr, st->value.ptr, st->pending_line, st->payload, err);
}

static int parse_section(struct ini_state *st, const char *s, size_t len, size_t line,
                         struct ecsrev_error *err)
{
    const char *close = memchr(s, ']', len);
    if (close == NULL) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: missing ']' in section header",
                                st->fname, line);
    }
    const char *rest = close + 1;
    size_t rest_len = len - (size_t)(rest - s);
    trim(&rest, &rest_len);
    if (rest_len > 0 && rest[0] != '#' && rest[0] != ';') {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: unexpected text after ']'", st->fname,
                                line);
    }
    const char *name = s + 1;
    size_t name_len = (size_t)(close - name);
    trim(&name, &name_len);
    if (name_len == 0) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: empty section name", st->fname, line);
    }
    st->have_section = true;
    return set_buf(&st->section, name, name_len, err);
}

static int parse_entry(struct ini_state *st, const char *s, size_t len, size_t line,
                       struct ecsrev_error *err)
{
    size_t i = 0;
    while (i < len && s[i] != '=' && s[i] != ':') {
        i++;
    }
    if (i == len) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: expected 'key = value'", st->fname,
                                line);
    }
    if (!st->have_section) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: entry outside of a [section]",
                                st->fname, line);
    }
    const char *key = s;
    size_t key_len = i;
    const char *val = s + i + 1;
    size_t val_len = len - i - 1;
    trim(&key, &key_len);
    trim(&val, &val_len);
    if (key_len == 0) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: empty key", st->fname, line);
    }
    int rc;
    if ((rc = set_buf(&st->key, key, key_len, err)) < 0 ||
        (rc = set_buf(&st->value, val, val_len, err)) < 0) {
        return rc;
    }
    for (size_t k = 0; k < st->key.len; k++) {
        st->key.ptr[k] = ascii_lower(st->key.ptr[k]);
    }
    st->pending = true;
    st->pending_line = line;
    return 0;
}

static int continuation(struct ini_state *st, const char *s, size_t len, struct ecsrev_error *err)
{
    if (st->nested || st->value.len == 0) {
        st->nested = true; /* nested sub-section entry: ignored */
        return 0;
    }
    int rc = ecsrev_buf_putc(&st->value, '\n', err);
    return rc < 0 ? rc : ecsrev_buf_append(&st->value, s, len, err);
}

static int parse_line(struct ini_state *st, const char *s, size_t len, size_t line,
                      struct ecsrev_error *err)
{
    if (len > 0 && s[len - 1] == '\r') {
        len--;
    }
    const char *t = s;
    size_t tlen = len;
    trim(&t, &tlen);
    if (tlen == 0) {
        return flush(st, err);
    }
    if (t[0] == '#' || t[0] == ';') {
        return 0;
    }
    if (is_blank(s[0]) && st->pending) {
        return continuation(st, t, tlen, err);
    }
    int rc = flush(st, err);
    if (rc < 0) {
        return rc;
    }
    if (t[0] == '[') {
        return parse_section(st, t, tlen, line, err);
    }
    return parse_entry(st, t, tlen, line, err);
}

int ecsrev_awsconfig__parse(const char *data, size_t len, const char *fname,
                            ecsrev_awsconfig__entry_fn fn, void *payload, struct ecsrev_error *err)
{
    char safe_name[256];
    ecsrev_awsconfig__printable(safe_name, sizeof(safe_name), fname);
    if (len > ECSREV_AWS_CONFIG_MAX_FILE) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s: file larger than %zu bytes", safe_name,
                                ECSREV_AWS_CONFIG_MAX_FILE);
    }
    if (len > 0 && memchr(data, '\0', len) != NULL) {
        return ecsrev_error_set(err, ECSREV_EPARSE, "%s: NUL byte in file", safe_name);
    }
    struct ini_state st = {safe_name,       fn,    payload, ECSREV_BUF_INIT, ECSREV_BUF_INIT,
                           ECSREV_BUF_INIT, false, false,   false,           0};
    size_t line = 0;
    size_t pos = 0;
    int rc = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        pos = 3; /* UTF-8 byte order mark */
    }
    while (pos < len && rc == 0) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - data) : len;
        line++;
        rc = parse_line(&st, data + pos, end - pos, line, err);
        pos = end + 1;
    }
    if (rc == 0) {
        rc = flush(&st, err);
    }
    ecsrev_buf_dispose(&st.section);
    ecsrev_buf_dispose(&st.key);
    ecsrev_buf_dispose_secret(&st.value);
    return rc;
}

int ecsrev_awsconfig__read_file(struct ecsrev_buf *out, const char *file, struct ecsrev_error *err)
{
    char path[256]; /* printable copy for messages */
    ecsrev_awsconfig__printable(path, sizeof(path), file);
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        int e = errno;
        if (e == ENOENT) {
            return ecsrev_error_set_cause(err, ECSREV_ENOTFOUND, e, "%s: no such file", path);
        }
        return ecsrev_error_set_cause(err, ECSREV_EIO, e, "%s: cannot open (errno %d)", path, e);
    }
    char chunk[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ecsrev_buf_append(out, chunk, n, NULL) < 0) {
            rc = ecsrev_error_set(err, ECSREV_EPARSE, "%s: file larger than %zu bytes", path,
                                  out->max);
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = ecsrev_error_set_cause(err, ECSREV_EIO, errno, "%s: read error", path);
    }
    (void)fclose(f);
    if (rc == 0 && out->ptr == NULL) {
        rc = ecsrev_buf_append(out, "", 0, err);
    }
    return rc;
}

/* ---- profile collection ----------------------------------------------------------------- */

enum key_id {
    K_ACCESS_KEY,
    K_SECRET_KEY,
    K_SESSION_TOKEN,
    K_PROCESS,
    K_REGION,
    K_ENDPOINT,
    K_CA_BUNDLE,
    K_MAX_ATTEMPTS,
    K_ROLE_ARN,
    K_SOURCE_PROFILE,
    K_CREDENTIAL_SOURCE,
    K_EXTERNAL_ID,
    K_SESSION_NAME,
    K_DURATION,
    K_MFA_SERIAL,
    K_WEB_IDENTITY,
    K_SSO_START_URL,
    K_SSO_SESSION,
    K_SSO_ACCOUNT,
    K_SSO_REGION,
    K_SSO_ROLE,
    K_COUNT
};

static const char *const s_keys[K_COUNT] = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "credential_process",
    "region",
    "endpoint_url",
    "ca_bundle",
    "max_attempts",
    "role_arn",
    "source_profile",
    "credential_source",
    "external_id",
    "role_session_name",
    "duration_seconds",
    "mfa_serial",
    "web_identity_token_file",
    "sso_start_url",
    "sso_session",
    "sso_account_id",
    "sso_region",
    "sso_role_name",
};

struct collect {
    const char *profile;
    const char *fname;
    bool config_file; /* `[profile x]` syntax */
    bool sso_session; /* collect `[sso-session x]` of the config file instead */
    bool found;
    bool seen[K_COUNT];        /* per file, for duplicate detection */
    bool from_config[K_COUNT]; /* the value came from the config file (not overridden) */
    char *vals[K_COUNT];
};

static bool section_matches(const char *section, const char *profile, bool config_file,
                            bool sso_session)
{
    if (!config_file) {
        return !sso_session && strcmp(section, profile) == 0;
    }
    if (strcmp(section, "default") == 0) {
        return !sso_session && strcmp(profile, "default") == 0;
    }
    const char *kind = sso_session ? "sso-session" : "profile";
    size_t kl = strlen(kind);
    if (strncmp(section, kind, kl) != 0 || !is_blank(section[kl])) {
        return false;
    }
    const char *name = section + kl;
    while (is_blank(*name)) {
        name++;
    }
    return strcmp(name, profile) == 0;
}

static void free_value(char **v)
{
    ecsrev_free_secret(*v);
    *v = NULL;
}

static int collect_entry(const char *section, const char *key, const char *value, size_t line,
                         void *payload, struct ecsrev_error *err)
{
    struct collect *c = payload;
    if (!section_matches(section, c->profile, c->config_file, c->sso_session)) {
        return 0;
    }
    c->found = true;
    for (int k = 0; k < K_COUNT; k++) {
        if (strcmp(key, s_keys[k]) != 0) {
            continue;
        }
        if (c->seen[k]) {
            char fname[256];
            ecsrev_awsconfig__printable(fname, sizeof(fname), c->fname);
            return ecsrev_error_set(err, ECSREV_EPARSE, "%s:%zu: duplicate '%s' for profile '%s'",
                                    fname, line, key, c->profile);
        }
        c->seen[k] = true;
        c->from_config[k] = c->config_file;
        free_value(&c->vals[k]);
        c->vals[k] = ecsrev_xstrdup(value);
        return 0;
    }
    return 0;
}

/* The two files, read once: a missing file is an empty one (ptr NULL). */
struct files {
    const char *path[2];
    struct ecsrev_buf data[2];
};

static int read_files(struct files *f, const struct ecsrev_aws_config *cfg,
                      struct ecsrev_error *err)
{
    f->path[0] = cfg->config_file;
    f->path[1] = cfg->credentials_file;
    for (int i = 0; i < 2; i++) {
        ecsrev_buf_init(&f->data[i], ECSREV_AWS_CONFIG_MAX_FILE);
    }
    for (int i = 0; i < 2; i++) {
        if (f->path[i] == NULL) {
            continue;
        }
        int rc = ecsrev_awsconfig__read_file(&f->data[i], f->path[i], err);
        if (rc == ECSREV_ENOTFOUND) {
            ecsrev_error_clear(err);
            ecsrev_buf_dispose_secret(&f->data[i]);
            ecsrev_buf_init(&f->data[i], ECSREV_AWS_CONFIG_MAX_FILE);
            f->path[i] = NULL;
        } else if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void files_dispose(struct files *f)
{
    ecsrev_buf_dispose_secret(&f->data[0]);
    ecsrev_buf_dispose_secret(&f->data[1]);
}

static void collect_dispose(struct collect *c)
{
    for (int k = 0; k < K_COUNT; k++) {
        free_value(&c->vals[k]);
    }
}

/* Collect the settings of @p profile from both files: config first, then credentials
 * (later files override earlier ones). */
static int collect_profile(struct collect *c, const struct files *f, const char *profile,
                           bool sso_session, struct ecsrev_error *err)
{
    memset(c, 0, sizeof(*c));
    c->profile = profile;
    c->sso_session = sso_session;
    for (int i = 0; i < (sso_session ? 1 : 2); i++) {
        if (f->path[i] == NULL) {
            continue;
        }
        c->fname = f->path[i];
        c->config_file = i == 0;
        memset(c->seen, 0, sizeof(c->seen));
        int rc = ecsrev_awsconfig__parse(f->data[i].ptr != NULL ? f->data[i].ptr : "",
                                         f->data[i].len, f->path[i], collect_entry, c, err);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* Env value or NULL when unset or empty. */
static const char *env(ecsrev_getenv_fn getenv_fn, void *payload, const char *name)
{
    const char *v = getenv_fn != NULL ? getenv_fn(name, payload) : NULL;
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

/* @p explicit_path (may start with "~/") or $HOME/.aws/<name>; NULL without HOME. */
static char *file_path(const char *explicit_path, const char *home, const char *name)
{
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    int rc;
    if (explicit_path != NULL && strncmp(explicit_path, "~/", 2) != 0) {
        return ecsrev_xstrdup(explicit_path);
    }
    if (home == NULL) {
        return NULL;
    }
    if (explicit_path != NULL) {
        rc = ecsrev_buf_printf(&b, NULL, "%s/%s", home, explicit_path + 2);
    } else {
        rc = ecsrev_buf_printf(&b, NULL, "%s/.aws/%s", home, name);
    }
    if (rc < 0) {
        ecsrev_buf_dispose(&b);
        return NULL;
    }
    return ecsrev_buf_detach(&b);
}

static int parse_max_attempts(int *out, const char *s, const char *where, struct ecsrev_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 100) {
        char shown[40];
        ecsrev_awsconfig__printable(shown, sizeof(shown), s);
        return ecsrev_error_set(err, ECSREV_EPARSE,
                                "invalid max_attempts '%s' (from %s): want 1..100", shown, where);
    }
    *out = (int)v;
    return 0;
}

static bool valid_profile_name(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 128) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == '[' || c == ']') {
            return false;
        }
    }
    return true;
}

static void take(char **dst, char **src)
{
    *dst = *src;
    *src = NULL;
}

static void fill_profile(struct ecsrev_aws_profile *p, struct collect *c, const char *name)
{
    p->name = ecsrev_xstrdup(name);
    p->found = c->found;
    p->keys_in_config = c->vals[K_ACCESS_KEY] != NULL && c->from_config[K_ACCESS_KEY];
    take(&p->access_key_id, &c->vals[K_ACCESS_KEY]);
    take(&p->secret_access_key, &c->vals[K_SECRET_KEY]);
    take(&p->session_token, &c->vals[K_SESSION_TOKEN]);
    take(&p->credential_process, &c->vals[K_PROCESS]);
    take(&p->role_arn, &c->vals[K_ROLE_ARN]);
    take(&p->source_profile, &c->vals[K_SOURCE_PROFILE]);
    take(&p->credential_source, &c->vals[K_CREDENTIAL_SOURCE]);
    take(&p->external_id, &c->vals[K_EXTERNAL_ID]);
    take(&p->role_session_name, &c->vals[K_SESSION_NAME]);
    take(&p->duration_seconds, &c->vals[K_DURATION]);
    take(&p->mfa_serial, &c->vals[K_MFA_SERIAL]);
    take(&p->web_identity_token_file, &c->vals[K_WEB_IDENTITY]);
    take(&p->sso_session, &c->vals[K_SSO_SESSION]);
    take(&p->sso_start_url, &c->vals[K_SSO_START_URL]);
    take(&p->sso_region, &c->vals[K_SSO_REGION]);
    take(&p->sso_account_id, &c->vals[K_SSO_ACCOUNT]);
    take(&p->sso_role_name, &c->vals[K_SSO_ROLE]);
}

static void profile_dispose(struct ecsrev_aws_profile *p)
{
    free(p->name);
    free_value(&p->access_key_id);
    free_value(&p->secret_access_key);
    free_value(&p->session_token);
    free_value(&p->credential_process);
    free_value(&p->role_arn);
    free_value(&p->source_profile);
    free_value(&p->credential_source);
    free_value(&p->external_id);
    free_value(&p->role_session_name);
    free_value(&p->duration_seconds);
    free_value(&p->mfa_serial);
    free_value(&p->web_identity_token_file);
    free_value(&p->sso_session);
    free_value(&p->sso_start_url);
    free_value(&p->sso_region);
    free_value(&p->sso_account_id);
    free_value(&p->sso_role_name);
    memset(p, 0, sizeof(*p));
}

static bool has_value(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Does the chain go on past @p p (a source profile unless @p selected)? As botocore: a
 * role profile assumes its role from its source_profile, but a source profile with
 * static keys is used for its keys even when it has a role_arn too. */
static bool chain_continues(const struct ecsrev_aws_profile *p, bool selected)
{
    if (!has_value(p->role_arn) || has_value(p->web_identity_token_file) ||
        !has_value(p->source_profile)) {
        return false;
    }
    return selected || !(has_value(p->access_key_id) || has_value(p->secret_access_key));
}

static int not_found(const struct ecsrev_aws_config *out, const char *what, const char *profile,
                     struct ecsrev_error *err)
{
    char cf[256];
    char crf[256];
    ecsrev_awsconfig__printable(cf, sizeof(cf), out->config_file ? out->config_file : "(none)");
    ecsrev_awsconfig__printable(crf, sizeof(crf),
                                out->credentials_file ? out->credentials_file : "(none)");
    return ecsrev_error_set(err, ECSREV_ENOTFOUND, "%s'%s' not found in %s, %s", what, profile, cf,
                            crf);
}

/* Copy sso_start_url / sso_region of the `[sso-session NAME]` a profile names into it. */
static int resolve_sso_session(struct ecsrev_aws_profile *p, const struct files *f,
                               struct ecsrev_error *err)
{
    if (!has_value(p->sso_session) ||
        !(has_value(p->sso_account_id) || has_value(p->sso_role_name))) {
        return 0; /* not an SSO profile for botocore either */
    }
    if (!valid_profile_name(p->sso_session)) {
        return ecsrev_error_set(err, ECSREV_EPARSE,
                                "profile '%s': sso_session is not a valid session name", p->name);
    }
    struct collect c;
    int rc = collect_profile(&c, f, p->sso_session, true, err);
    if (rc == 0 && !c.found) {
        char cf[256];
        ecsrev_awsconfig__printable(cf, sizeof(cf), f->path[0] != NULL ? f->path[0] : "(none)");
        rc = ecsrev_error_set(err, ECSREV_ENOTFOUND,
                              "profile '%s': sso_session '%s' has no [sso-session %s] in %s",
                              p->name, p->sso_session, p->sso_session, cf);
    }
    struct {
        int k;
        char **mine;
    } pairs[] = {{K_SSO_START_URL, &p->sso_start_url}, {K_SSO_REGION, &p->sso_region}};
    for (size_t i = 0; rc == 0 && i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char **mine = pairs[i].mine;
        char **theirs = &c.vals[pairs[i].k];
        if (*mine != NULL && *theirs != NULL && strcmp(*mine, *theirs) != 0) {
            rc = ecsrev_error_set(err, ECSREV_EPARSE,
                                  "profile '%s': %s differs from the one of sso-session '%s'",
                                  p->name, s_keys[pairs[i].k], p->sso_session);
        } else if (*theirs != NULL) {
            free_value(mine);
            take(mine, theirs);
        }
    }
    collect_dispose(&c);
    return rc;
}

/* Follow source_profile from the selected profile (see struct ecsrev_aws_config). */
static int load_sources(struct ecsrev_aws_config *out, const struct files *f,
                        struct ecsrev_error *err)
{
    const struct ecsrev_aws_profile *cur = &out->creds;
    bool selected = true;
    while (chain_continues(cur, selected)) {
        char what[200];
        (void)snprintf(what, sizeof(what), "profile '%.128s': source_profile ", cur->name);
        if (!valid_profile_name(cur->source_profile)) {
            return ecsrev_error_set(err, ECSREV_EPARSE, "%sis not a valid profile name", what);
        }
        if (out->n_sources == ECSREV_AWS_MAX_SOURCE_PROFILES) {
            return ecsrev_error_set(err, ECSREV_EPARSE,
                                    "profile '%s': source_profile chain longer than %d profiles",
                                    out->profile, ECSREV_AWS_MAX_SOURCE_PROFILES);
        }
        struct collect c;
        int rc = collect_profile(&c, f, cur->source_profile, false, err);
        if (rc == 0 && !c.found) {
            rc = not_found(out, what, cur->source_profile, err);
        }
        if (rc < 0) {
            collect_dispose(&c);
            return rc;
        }
        if (out->sources == NULL) {
            out->sources = ecsrev_xcalloc(ECSREV_AWS_MAX_SOURCE_PROFILES, sizeof(*out->sources));
        }
        struct ecsrev_aws_profile *next = &out->sources[out->n_sources++];
        fill_profile(next, &c, cur->source_profile);
        collect_dispose(&c);
        if ((rc = resolve_sso_session(next, f, err)) < 0) {
            return rc;
        }
        if (chain_continues(next, false)) {
            /* a profile met again that would assume a role again: a loop */
            bool loop = strcmp(next->name, out->creds.name) == 0;
            for (size_t i = 0; i + 1 < out->n_sources && !loop; i++) {
                loop = strcmp(out->sources[i].name, next->name) == 0;
            }
            if (loop) {
                return ecsrev_error_set(err, ECSREV_EPARSE,
                                        "profile '%s': source_profile chain loops back to '%s'",
                                        out->profile, next->name);
            }
        }
        cur = next;
        selected = false;
    }
    return 0;
}

static int finish_settings(struct ecsrev_aws_config *out, struct collect *c,
                           ecsrev_getenv_fn getenv_fn, void *env_payload, struct ecsrev_error *err)
{
    const char *ca = env(getenv_fn, env_payload, "AWS_CA_BUNDLE");
    if (ca != NULL) {
        out->ca_bundle = ecsrev_xstrdup(ca);
    } else if (c->vals[K_CA_BUNDLE] != NULL && c->vals[K_CA_BUNDLE][0] != '\0') {
        take(&out->ca_bundle, &c->vals[K_CA_BUNDLE]);
    }
    const char *ma = env(getenv_fn, env_payload, "AWS_MAX_ATTEMPTS");
    if (ma != NULL) {
        return parse_max_attempts(&out->max_attempts, ma, "AWS_MAX_ATTEMPTS", err);
    }
    if (c->vals[K_MAX_ATTEMPTS] != NULL) {
        char where[200];
        (void)snprintf(where, sizeof(where), "profile '%.128s'", out->profile);
        return parse_max_attempts(&out->max_attempts, c->vals[K_MAX_ATTEMPTS], where, err);
    }
    return 0;
}

static void select_profile(struct ecsrev_aws_config *out, const char *profile_opt,
                           ecsrev_getenv_fn getenv_fn, void *env_payload)
{
    const char *env_profile = env(getenv_fn, env_payload, "AWS_PROFILE");
    if (profile_opt != NULL) {
        out->profile = ecsrev_xstrdup(profile_opt);
        out->profile_explicit = true;
        out->profile_from_option = true;
    } else if (env_profile != NULL) {
        out->profile = ecsrev_xstrdup(env_profile);
        out->profile_explicit = true;
    } else {
        out->profile = ecsrev_xstrdup("default");
    }
}

int ecsrev_aws_config_load(struct ecsrev_aws_config *out, const char *profile_opt,
                           ecsrev_getenv_fn getenv_fn, void *env_payload, struct ecsrev_error *err)
{
    struct collect c;
    int rc = 0;
    memset(&c, 0, sizeof(c));
    *out = (struct ecsrev_aws_config)ECSREV_AWS_CONFIG_INIT;
    select_profile(out, profile_opt, getenv_fn, env_payload);
    if (!valid_profile_name(out->profile)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "invalid profile name");
    }
    const char *home = env(getenv_fn, env_payload, "HOME");
    out->config_file = file_path(env(getenv_fn, env_payload, "AWS_CONFIG_FILE"), home, "config");
    out->credentials_file =
        file_path(env(getenv_fn, env_payload, "AWS_SHARED_CREDENTIALS_FILE"), home, "credentials");
    struct files f;
    if ((rc = read_files(&f, out, err)) < 0 ||
        (rc = collect_profile(&c, &f, out->profile, false, err)) < 0) {
        goto done;
    }
    if (!c.found && out->profile_explicit) {
        rc = not_found(out, "profile ", out->profile, err);
        goto done;
    }
    rc = finish_settings(out, &c, getenv_fn, env_payload, err);
    fill_profile(&out->creds, &c, out->profile);
    take(&out->region, &c.vals[K_REGION]);
    take(&out->endpoint_url, &c.vals[K_ENDPOINT]);
    if (rc == 0 && (resolve_sso_session(&out->creds, &f, &out->chain_error) < 0 ||
                    load_sources(out, &f, &out->chain_error) < 0)) {
        /* a broken chain matters only if resolution gets to it (after the environment):
           kept in out->chain_error for ecsrev_creds_resolve */
        assert(out->chain_error.code != 0);
    }
done:
    files_dispose(&f);
    collect_dispose(&c);
    return rc;
}

void ecsrev_aws_config_dispose(struct ecsrev_aws_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    free(cfg->profile);
    free(cfg->config_file);
    free(cfg->credentials_file);
    free(cfg->region);
    free(cfg->endpoint_url);
    free(cfg->ca_bundle);
    profile_dispose(&cfg->creds);
    for (size_t i = 0; i < cfg->n_sources; i++) {
        profile_dispose(&cfg->sources[i]);
    }
    free(cfg->sources);
    *cfg = (struct ecsrev_aws_config)ECSREV_AWS_CONFIG_INIT;
}

/* ---- region ------------------------------------------------------------------------------ */

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Lower-case copy of @p s if it is a valid region, else NULL. */
static char *normalize_region(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63) {
        return NULL;
    }
    char *r = ecsrev_xstrdup(s);
    for (size_t i = 0; i < n; i++) {
        r[i] = ascii_lower(r[i]);
        if (!is_alnum_lower(r[i]) && r[i] != '-') {
            free(r);
            return NULL;
        }
    }
    if (!is_alnum_lower(r[0]) || !is_alnum_lower(r[n - 1])) {
        free(r);
        return NULL;
    }
    return r;
}

int ecsrev_region_resolve(char **out, const char *region_opt, const struct ecsrev_aws_config *cfg,
                          ecsrev_getenv_fn getenv_fn, void *env_payload, struct ecsrev_error *err)
{
    const char *v = NULL;
    const char *where = NULL;
    const char *env_region = env(getenv_fn, env_payload, "AWS_REGION");
    const char *env_default = env(getenv_fn, env_payload, "AWS_DEFAULT_REGION");
    *out = NULL;
    if (region_opt != NULL) {
        v = region_opt;
        where = "--region";
    } else if (env_region != NULL) {
        v = env_region;
        where = "AWS_REGION";
    } else if (env_default != NULL) {
        v = env_default;
        where = "AWS_DEFAULT_REGION";
    } else if (cfg != NULL && cfg->region != NULL && cfg->region[0] != '\0') {
        v = cfg->region;
        where = "the profile";
    }
    if (v == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "no region: use --region or AWS_REGION");
    }
    *out = normalize_region(v);
    if (*out == NULL) {
        char shown[72];
        ecsrev_awsconfig__printable(shown, sizeof(shown), v);
        return ecsrev_error_set(err, ECSREV_EINVAL, "invalid region '%s' (from %s)", shown, where);
    }
    return 0;
}

/* ---- partitions (from partitions.json regionRegex / dnsSuffix) --------------------------- */

/*
 * Each pattern is a list of space-separated tokens matched against the
 * dash-separated parts of the region: a literal (alternatives split by '|'),
 * "W" = \w+ or "D" = \d+. \w never matches '-', so splitting on '-' is exact.
 */
struct partition {
    const char *id;
    const char *pattern;
    const char *dns_suffix;
};

static const struct partition s_partitions[] = {
    {"aws-us-gov", "us gov W D", "amazonaws.com"},
    {"aws-iso", "us iso W D", "c2s.ic.gov"},
    {"aws-iso-b", "us isob W D", "sc2s.sgov.gov"},
    {"aws-iso-e", "eu isoe W D", "cloud.adc-e.uk"},
    {"aws-iso-f", "us isof W D", "csp.hci.ic.gov"},
    {"aws-eusc", "eusc de W D", "amazonaws.eu"},
    {"aws-cn", "cn W D", "amazonaws.com.cn"},
    {"aws", "us|eu|ap|sa|ca|me|af|il|mx W D", "amazonaws.com"},
};

static bool token_matches(const char *tok, size_t tok_len, const char *part, size_t part_len)
{
    if (part_len == 0) {
        return false;
    }
    if (tok_len == 1 && (tok[0] == 'W' || tok[0] == 'D')) {
        for (size_t i = 0; i < part_len; i++) {
            char c = part[i];
            bool digit = c >= '0' && c <= '9';
            bool word = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            if (tok[0] == 'D' ? !digit : !word) {
                return false;
            }
        }
        return true;
    }
    while (tok_len > 0) {
        const char *bar = memchr(tok, '|', tok_len);
        size_t alt_len = bar != NULL ? (size_t)(bar - tok) : tok_len;
        if (alt_len == part_len && memcmp(tok, part, part_len) == 0) {
            return true;
        }
        tok += alt_len + (bar != NULL ? 1 : 0);
        tok_len -= alt_len + (bar != NULL ? 1 : 0);
    }
    return false;
}

static bool pattern_matches(const char *pattern, const char *region)
{
    const char *p = pattern;
    const char *r = region;
    for (;;) {
        size_t tok_len = strcspn(p, " ");
        size_t part_len = strcspn(r, "-");
        if (!token_matches(p, tok_len, r, part_len)) {
            return false;
        }
        bool last_tok = p[tok_len] == '\0';
        bool last_part = r[part_len] == '\0';
        if (last_tok || last_part) {
            return last_tok && last_part;
        }
        p += tok_len + 1;
        r += part_len + 1;
    }
}

const char *ecsrev_region_dns_suffix(const char *region)
{
    for (size_t i = 0; i < sizeof(s_partitions) / sizeof(s_partitions[0]); i++) {
        if (pattern_matches(s_partitions[i].pattern, region)) {
            return s_partitions[i].dns_suffix;
        }
    }
    return "amazonaws.com";
}

/* ---- endpoint ---------------------------------------------------------------------------- */

/*
 * Check @p url and return a normalized copy (trailing '/' and default port removed),
 * or NULL with a reason in @p why.
 */
static char *normalize_endpoint(const char *url, const char **why)
{
    size_t skip;
    bool https = false;
    if (strncmp(url, "https://", 8) == 0) {
        skip = 8;
        https = true;
    } else if (strncmp(url, "http://", 7) == 0) {
        skip = 7;
    } else {
        *why = "must start with https:// or http://";
        return NULL;
    }
    for (const char *p = url; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '@' || c == '\\') {
            *why = "contains a space, control character, '?', '#', '@' or '\\'";
            return NULL;
        }
    }
    size_t len = strlen(url);
    while (len > skip && url[len - 1] == '/') {
        len--;
    }
    const char *host = url + skip;
    size_t host_len = len - skip;
    if (host_len == 0 || host[0] == ':') {
        *why = "has no host";
        return NULL;
    }
    if (memchr(host, '/', host_len) != NULL) {
        *why = "has a path (only scheme://host[:port] is supported)";
        return NULL;
    }
    const char *dflt = https ? ":443" : ":80";
    size_t dl = strlen(dflt);
    if (host_len > dl && memcmp(host + host_len - dl, dflt, dl) == 0) {
        len -= dl;
    }
    return ecsrev_xstrndup(url, len);
}

bool ecsrev_awsconfig__env_true(ecsrev_getenv_fn getenv_fn, void *env_payload, const char *name)
{
    const char *v = env(getenv_fn, env_payload, name);
    if (v == NULL || strlen(v) != 4) {
        return false;
    }
    char low[5];
    for (int i = 0; i < 4; i++) {
        low[i] = ascii_lower(v[i]);
    }
    low[4] = '\0';
    return strcmp(low, "true") == 0;
}

int ecsrev_service_endpoint_resolve(char **out, const char *service, const char *endpoint_opt,
                                    const char *region, const struct ecsrev_aws_config *cfg,
                                    ecsrev_getenv_fn getenv_fn, void *env_payload,
                                    struct ecsrev_error *err)
{
    const char *v = NULL;
    const char *where = NULL;
    char service_env[64];
    *out = NULL;
    size_t n = (size_t)snprintf(service_env, sizeof(service_env), "AWS_ENDPOINT_URL_%s", service);
    for (size_t i = 17; i < n && i < sizeof(service_env); i++) {
        char c = service_env[i];
        service_env[i] = (char)((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : (c == '-' ? '_' : c));
    }
    bool ignore =
        ecsrev_awsconfig__env_true(getenv_fn, env_payload, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (endpoint_opt != NULL) {
        v = endpoint_opt;
        where = "--endpoint-url";
    } else if (!ignore && env(getenv_fn, env_payload, service_env) != NULL) {
        v = env(getenv_fn, env_payload, service_env);
        where = service_env;
    } else if (!ignore && env(getenv_fn, env_payload, "AWS_ENDPOINT_URL") != NULL) {
        v = env(getenv_fn, env_payload, "AWS_ENDPOINT_URL");
        where = "AWS_ENDPOINT_URL";
    } else if (!ignore && cfg != NULL && cfg->endpoint_url != NULL &&
               cfg->endpoint_url[0] != '\0') {
        v = cfg->endpoint_url;
        where = "profile endpoint_url";
    }
    if (v != NULL) {
        const char *why = NULL;
        *out = normalize_endpoint(v, &why);
        if (*out == NULL) {
            char shown[208];
            ecsrev_awsconfig__printable(shown, sizeof(shown), v);
            return ecsrev_error_set(err, ECSREV_EINVAL, "invalid endpoint URL '%s' (from %s): %s",
                                    shown, where, why);
        }
        return 0;
    }
    char *r = region != NULL ? normalize_region(region) : NULL;
    if (r == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "no valid region for the %s endpoint",
                                service_env + 17);
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    /* the host names of the SSO portal and of SSO-OIDC are not their service ids */
    const char *host = strcmp(service, "sso") == 0        ? "portal.sso"
                       : strcmp(service, "sso-oidc") == 0 ? "oidc"
                                                          : service;
    int rc = ecsrev_buf_printf(&b, err, "https://%s.%s.%s", host, r, ecsrev_region_dns_suffix(r));
    free(r);
    if (rc < 0) {
        ecsrev_buf_dispose(&b);
        return rc;
    }
    *out = ecsrev_buf_detach(&b);
    return 0;
}

int ecsrev_endpoint_resolve(char **out, const char *endpoint_opt, const char *region,
                            const struct ecsrev_aws_config *cfg, ecsrev_getenv_fn getenv_fn,
                            void *env_payload, struct ecsrev_error *err)
{
    return ecsrev_service_endpoint_resolve(out, "ecs", endpoint_opt, region, cfg, getenv_fn,
                                           env_payload, err);
}

int ecsrev_endpoint_split(const char *endpoint, char **host, char **path, char **url,
                          struct ecsrev_error *err)
{
    const char *rest = NULL;
    const char *default_port = NULL;
    *host = *path = *url = NULL;
    if (strncmp(endpoint, "https://", 8) == 0) {
        rest = endpoint + 8;
        default_port = ":443";
    } else if (strncmp(endpoint, "http://", 7) == 0) {
        rest = endpoint + 7;
        default_port = ":80";
    }
    bool controls = false;
    for (const char *q = endpoint; *q != '\0'; q++) {
        controls = controls || (unsigned char)*q <= 0x20 || (unsigned char)*q == 0x7f;
    }
    size_t host_len = rest != NULL ? strcspn(rest, "/?#") : 0;
    if (rest == NULL || controls || host_len == 0 || memchr(rest, '@', host_len) != NULL ||
        strpbrk(rest, "?#") != NULL) {
        char shown[208];
        ecsrev_awsconfig__printable(shown, sizeof(shown), endpoint);
        if (rest == NULL) {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "endpoint '%s' must start with https:// or http://", shown);
        }
        return ecsrev_error_set(err, ECSREV_EINVAL, "invalid endpoint '%s'", shown);
    }
    size_t dp = strlen(default_port);
    size_t keep = host_len;
    if (host_len > dp && memcmp(rest + host_len - dp, default_port, dp) == 0) {
        keep = host_len - dp;
    }
    const char *p = rest + host_len;
    size_t path_len = strlen(p);
    while (path_len > 0 && p[path_len - 1] == '/') {
        path_len--;
    }
    if (path_len == 0) {
        struct ecsrev_buf u = ECSREV_BUF_INIT;
        int rc = ecsrev_buf_printf(&u, err, "%.*s/", (int)(p - endpoint), endpoint);
        if (rc < 0) {
            ecsrev_buf_dispose(&u);
            return rc;
        }
        *url = ecsrev_buf_detach(&u);
        *path = ecsrev_xstrdup("/");
    } else {
        *path = ecsrev_xstrndup(p, path_len);
        *url = ecsrev_xstrndup(endpoint, (size_t)(p - endpoint) + path_len);
    }
    *host = ecsrev_xstrndup(rest, keep);
    return 0;
}
