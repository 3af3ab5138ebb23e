/*
 * audit_priv.h - shared internals of the audit module (audit.c: rule
 * catalog, rules file and paths; audit_rules.c: evaluation; audit_report.c:
 * renderers). Private to src/lib.
 */
#ifndef ECSREV_AUDIT_PRIV_H
#define ECSREV_AUDIT_PRIV_H

#include <ecsrev/audit.h>

#include <cjson/cJSON.h>

#include <stdarg.h>

/* Built-in rules, in the order of ecsrev_audit_builtin_rules(). */
enum audit_builtin {
    R_ECS2 = 0,
    R_ECS10,
    R_EBS_UNENCRYPTED,
    R_EBS_NO_CMK,
    R_IMAGE_MUTABLE_TAG,
    R_IMAGE_NO_DIGEST,
    R_IMAGE_REGISTRY,
    R_SUBNET,
    R_SECURITY_GROUP,
    R_GUARDDUTY_OFF,
    R_SC_NO_TLS,
    R_SC_NO_LOGS,
    R_EPHEMERAL_NO_CMK,
    R_CHANGE_EXPOSURE,
    R_CHANGE_ENCRYPTION,
    R_CHANGE_REGISTRY,
    R__COUNT
};

enum audit_op {
    OP_EQUALS = 0,
    OP_NOT_EQUALS,
    OP_IN,
    OP_NOT_IN,
    OP_EXISTS,
    OP_ABSENT,
    OP_MATCHES,
};

enum path_sel {
    SEL_NONE = 0, /* plain member */
    SEL_ALL,      /* member[*] */
    SEL_KEY,      /* member[key] */
};

struct path_step {
    char *name;
    enum path_sel sel;
    char *key;
};

struct audit_path {
    struct path_step *steps;
    size_t n;
};

struct custom_rule {
    char *id;
    char *title;
    char *message;
    char *remediation;
    char *path_text;
    struct audit_path path;
    enum audit_op op;
    cJSON *value; /* owned; NULL for exists/absent */
    enum ecsrev_severity severity;
};

struct audit_exception {
    char *rule;
    char *service;
    char *reason;
};

struct str_list {
    char **items;
    size_t n;
};

struct ecsrev_audit_config {
    bool enabled[R__COUNT];
    enum ecsrev_severity severity[R__COUNT];
    char *pv_linux;   /* minimum Fargate platform version, Linux */
    char *pv_windows; /* minimum Fargate platform version, Windows */
    struct str_list registries;
    struct str_list subnets;
    struct str_list security_groups;
    struct audit_exception *exceptions;
    size_t n_exceptions;
    size_t expired;
    struct custom_rule *custom;
    size_t n_custom;
    /* effective rules: enabled built-ins then customs */
    struct ecsrev_rule_info *rules;
    size_t n_rules;
    int builtin_slot[R__COUNT]; /* index into rules, or -1 when disabled */
    size_t custom_slot0;        /* index of the first custom rule in rules */
};

struct ecsrev_audit {
    const struct ecsrev_audit_config *cfg;
    struct ecsrev_finding *findings;
    size_t n, cap;
    char **services;
    size_t n_services, cap_services;
    size_t revisions;
};

/* printf into a new owned string (never NULL). */
char *ecsrev_audit__asprintf(const char *fmt, ...) ECSREV_PRINTF(1, 2);
char *ecsrev_audit__vasprintf(const char *fmt, va_list ap) ECSREV_PRINTF(1, 0);

/* Parse "a.b[*].c[key]"; message names the problem. */
ECSREV_MUST_CHECK int ecsrev_audit__path_parse(struct audit_path *out, const char *text,
                                               struct ecsrev_error *err);
void ecsrev_audit__path_dispose(struct audit_path *p);

/* Called per place a path reaches: its concrete path and value (NULL: absent). */
typedef void (*ecsrev_audit__slot_fn)(const char *path, const cJSON *value, void *payload);

/* Walk @p root along @p p, calling @p fn for every slot. */
void ecsrev_audit__path_walk(const cJSON *root, const struct audit_path *p,
                             ecsrev_audit__slot_fn fn, void *payload);

/* Label of element @p index of the array at member path @p array_path:
 * the key member's value for keyed arrays, the value for sets of scalars,
 * else the index. Owned string. */
char *ecsrev_audit__elem_label(const char *array_path, const cJSON *elem, size_t index);

/* Whether @p service_arn is named by @p name (ARN, "cluster/name" or name). */
bool ecsrev_audit__service_matches(const char *service_arn, const char *name);

/* Registry host of an image reference ("docker.io" when it has none). Owned. */
char *ecsrev_audit__image_registry(const char *image);

/* Whether @p s matches one of the globs in @p list. */
bool ecsrev_audit__list_matches(const struct str_list *list, const char *s);

#endif
