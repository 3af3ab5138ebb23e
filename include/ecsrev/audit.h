/**
 * audit.h - compliance rules over stored service revisions, and reports.
 *
 * A configuration (built from an optional rules file, see docs/rules.md)
 * selects and tunes the built-in rules, adds allow-lists, per-service
 * exceptions with an expiry date and simple custom rules. An audit object
 * collects the findings of every revision given to ecsrev_audit_revision();
 * change rules compare a revision with the one before it. Reports render the
 * findings as text, JSON, SARIF 2.1.0, JUnit XML or Markdown.
 *
 * Nothing here reads the clock: "now" (for exception expiry) and the report
 * time are parameters.
 */
#ifndef ECSREV_AUDIT_H
#define ECSREV_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a rule or finding; larger is worse. */
enum ecsrev_severity {
    ECSREV_SEV_NONE = 0, /**< no severity (used as "nothing found") */
    ECSREV_SEV_LOW = 1,
    ECSREV_SEV_MEDIUM = 2,
    ECSREV_SEV_HIGH = 3,
    ECSREV_SEV_CRITICAL = 4,
};

/** "low", "medium", "high", "critical" ("none" for ECSREV_SEV_NONE). Static string. */
const char *ecsrev_severity_name(enum ecsrev_severity sev);

/**
 * Parse a severity name (lower case).
 * @return 0, or ECSREV_EINVAL ("unknown severity 'x'")
 */
ECSREV_MUST_CHECK int ecsrev_severity_parse(enum ecsrev_severity *out, const char *name,
                                            struct ecsrev_error *err);

/** What a rule looks at. */
enum ecsrev_rule_kind {
    ECSREV_RULE_REVISION = 0, /**< one revision on its own */
    ECSREV_RULE_CHANGE,       /**< a revision compared with the previous one of its service */
    ECSREV_RULE_CUSTOM,       /**< a custom rule from the rules file */
};

/** Description of a rule (built-in or custom). Strings are static or owned by the config. */
struct ecsrev_rule_info {
    const char *id;                /**< stable id: "ECS.2", "ECSREV-EBS-UNENCRYPTED", "CUSTOM-1" */
    const char *control;           /**< AWS Security Hub control id, or NULL */
    enum ecsrev_severity severity; /**< default severity */
    enum ecsrev_rule_kind kind;
    const char *title;       /**< one line */
    const char *rationale;   /**< why it matters */
    const char *remediation; /**< how to fix it */
};

/**
 * The built-in rules in documentation order.
 * @param n set to the number of rules
 * @return static array
 */
const struct ecsrev_rule_info *ecsrev_audit_builtin_rules(size_t *n);

/** A parsed rules file (opaque). */
struct ecsrev_audit_config;

/**
 * Build a configuration from a rules file's text.
 * @param out owned; free with ecsrev_audit_config_free()
 * @param json,len the rules file, or NULL/0 for the defaults (every built-in
 *        rule enabled except the allow-list rules, which need a list)
 * @param name file name used in error messages ("rules file 'x': ...")
 * @param now_ms current time; exceptions whose expiry date has passed are dropped
 * @return 0, ECSREV_EPARSE (not JSON) or ECSREV_EINVAL naming the rule and the
 *         problem, e.g. "rules file 'r.json': custom[2] (CUSTOM-1): unknown op 'eq'"
 */
ECSREV_MUST_CHECK int ecsrev_audit_config_new(struct ecsrev_audit_config **out, const char *json,
                                              size_t len, const char *name, int64_t now_ms,
                                              struct ecsrev_error *err);

/** Free @p cfg. Accepts NULL. */
void ecsrev_audit_config_free(struct ecsrev_audit_config *cfg);

/**
 * The rules a configuration evaluates (enabled built-in rules with their
 * effective severity, then custom rules), in documentation order.
 * @param n set to the count
 * @return array borrowed from @p cfg, valid until it is freed
 */
const struct ecsrev_rule_info *ecsrev_audit_config_rules(const struct ecsrev_audit_config *cfg,
                                                         size_t *n);

/** Number of exceptions dropped because their expiry date has passed. */
size_t ecsrev_audit_config_expired(const struct ecsrev_audit_config *cfg);

/** One finding. All strings are owned by the audit object. */
struct ecsrev_finding {
    const struct ecsrev_rule_info *rule; /**< the rule (borrowed from the config) */
    enum ecsrev_severity severity;       /**< effective severity */
    char *service_arn;
    char *revision_arn;
    int64_t created_ms; /**< revision's createdAt or ECSREV_TIME_NONE */
    char *previous_arn; /**< change rules: the revision before; else NULL */
    char *path;         /**< where in the canonical revision ("containerImages[web].image") */
    char *value;        /**< offending value as JSON text, or NULL when absent */
    char *message;      /**< what is wrong, one line */
    const char *suppressed_by; /**< exception reason when an exception applies, else NULL */
};

/** An audit run (opaque): findings and the services and revisions evaluated. */
struct ecsrev_audit;

/**
 * Start an audit.
 * @param out owned; free with ecsrev_audit_free()
 * @param cfg borrowed; must outlive the audit
 */
void ecsrev_audit_new(struct ecsrev_audit **out, const struct ecsrev_audit_config *cfg);

/** Free @p a. Accepts NULL. */
void ecsrev_audit_free(struct ecsrev_audit *a);

/**
 * Evaluate every enabled rule on @p rev (which must have a body and a
 * service ARN); change rules also look at @p prev, the previous revision of
 * the same service (NULL for the first one).
 * @return 0, or ECSREV_EPARSE if a body is not JSON
 */
ECSREV_MUST_CHECK int ecsrev_audit_revision(struct ecsrev_audit *a,
                                            const struct ecsrev_revision *rev,
                                            const struct ecsrev_revision *prev,
                                            struct ecsrev_error *err);

/**
 * Sort the findings for reporting: by service ARN, most severe first, then
 * rule id, createdAt and path. Call once after the last ecsrev_audit_revision().
 */
void ecsrev_audit_finish(struct ecsrev_audit *a);

/** Number of findings (suppressed ones included). */
size_t ecsrev_audit_count(const struct ecsrev_audit *a);

/** Finding @p i (< count). Borrowed, valid until ecsrev_audit_free(). */
const struct ecsrev_finding *ecsrev_audit_finding(const struct ecsrev_audit *a, size_t i);

/** Number of revisions evaluated. */
size_t ecsrev_audit_revisions(const struct ecsrev_audit *a);

/** Number of distinct services evaluated. */
size_t ecsrev_audit_services(const struct ecsrev_audit *a);

/** Service ARN @p i (< ecsrev_audit_services(), sorted after finish). Borrowed. */
const char *ecsrev_audit_service(const struct ecsrev_audit *a, size_t i);

/** The configuration the audit uses. Borrowed. */
const struct ecsrev_audit_config *ecsrev_audit_config(const struct ecsrev_audit *a);

/**
 * The highest severity among findings that are not suppressed
 * (ECSREV_SEV_NONE when there are none).
 */
enum ecsrev_severity ecsrev_audit_max_severity(const struct ecsrev_audit *a);

/** Report formats. */
enum ecsrev_report_format {
    ECSREV_REPORT_TEXT = 0,
    ECSREV_REPORT_JSON,
    ECSREV_REPORT_SARIF,
    ECSREV_REPORT_JUNIT,
    ECSREV_REPORT_MARKDOWN,
};

/**
 * Parse "text", "json", "sarif", "junit" or "markdown".
 * @return 0 or ECSREV_EINVAL ("unknown format 'x'")
 */
ECSREV_MUST_CHECK int ecsrev_report_format_parse(enum ecsrev_report_format *out, const char *name,
                                                 struct ecsrev_error *err);

/** Options of ecsrev_audit_report(). */
struct ecsrev_report_options {
    enum ecsrev_report_format format;
    enum ecsrev_severity fail_on; /**< threshold shown in reports */
    int64_t generated_ms;         /**< report time (ECSREV_TIME_NONE: left out) */
    const char *tool_version;     /**< "0.1.0"; NULL: left out */
};
#define ECSREV_REPORT_OPTIONS_INIT                                                                 \
    {                                                                                              \
        ECSREV_REPORT_TEXT, ECSREV_SEV_MEDIUM, ECSREV_TIME_NONE, NULL                              \
    }

/**
 * Render the findings of a finished audit.
 * @param out report appended here (caller-owned)
 * @return 0 or ECSREV_EINVAL when @p out would exceed its cap
 */
ECSREV_MUST_CHECK int ecsrev_audit_report(struct ecsrev_buf *out, const struct ecsrev_audit *a,
                                          const struct ecsrev_report_options *opts,
                                          struct ecsrev_error *err);

#ifdef __cplusplus
}
#endif
#endif
