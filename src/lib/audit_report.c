/*
 * audit_report.c - rendering audit findings: text, JSON, SARIF 2.1.0,
 * JUnit XML and Markdown, appended to a caller's ecsrev_buf.
 *
 * Findings arrive sorted by ecsrev_audit_finish() (service, most severe
 * first). Severity counts in summaries leave suppressed findings out; those
 * are listed with the exception's reason (SARIF: "suppressions"; JUnit: a
 * skipped test case when every finding of the pair is suppressed).
 * All text taken from revisions or rules files is escaped for the format.
 * The first failed append (buffer cap) stops output and is returned.
 */
#include "audit_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Same convention as every other JSON output: an integer "schema" version. */
#define REPORT_SCHEMA "1"
#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define TOOL_URI "https://github.com/ecsrev/ecsrev/blob/main/docs/rules.md"

struct out {
    struct ecsrev_buf *b;
    struct ecsrev_error *err;
    int rc;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if (o->rc == 0) {
        o->rc = ecsrev_buf_append(o->b, s, n, o->err);
    }
}

static void put_str(struct out *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

static void put(struct out *o, const char *fmt, ...) ECSREV_PRINTF(2, 3);

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ecsrev_audit__vasprintf(fmt, ap);
    va_end(ap);
    put_str(o, s);
    free(s);
}

/* A JSON string literal, or null for NULL. */
static void put_jstr(struct out *o, const char *s)
{
    if (s == NULL) {
        put_str(o, "null");
        return;
    }
    put_str(o, "\"");
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        put_raw(o, run, (size_t)(p - run));
        run = p + 1;
        switch (ch) {
        case '"':
            put_str(o, "\\\"");
            break;
        case '\\':
            put_str(o, "\\\\");
            break;
        case '\n':
            put_str(o, "\\n");
            break;
        case '\t':
            put_str(o, "\\t");
            break;
        case '\r':
            put_str(o, "\\r");
            break;
        default:
            put(o, "\\u%04x", ch);
            break;
        }
    }
    put_str(o, run);
    put_str(o, "\"");
}

/* Text for XML attributes and content; control characters XML 1.0 forbids become '?'. */
static void put_xml(struct out *o, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        const char *rep = NULL;
        switch (ch) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            rep = ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r' ? "?" : NULL;
            break;
        }
        if (rep != NULL) {
            put_raw(o, run, (size_t)(p - run));
            put_str(o, rep);
            run = p + 1;
        }
    }
    put_str(o, run);
}

/* Text inside a Markdown table cell: pipes escaped, line breaks and backticks flattened. */
static void put_md(struct out *o, const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '|') {
            put_str(o, "\\|");
        } else if (*p == '\n' || *p == '\r') {
            put_str(o, " ");
        } else if (*p == '`') {
            put_str(o, "'");
        } else {
            put_raw(o, p, 1);
        }
    }
}

static void time_text(char out[32], int64_t ms)
{
    if (ms == ECSREV_TIME_NONE) {
        out[0] = '\0';
        return;
    }
    ecsrev_time_format(out, ms);
}

static const char *rev_id(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash != NULL ? slash + 1 : arn;
}

struct counts {
    size_t by_sev[ECSREV_SEV_CRITICAL + 1];
    size_t total;
    size_t suppressed;
};

static void count(struct counts *c, const struct ecsrev_audit *a)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (f->suppressed_by != NULL) {
            c->suppressed++;
        } else {
            c->by_sev[f->severity]++;
            c->total++;
        }
    }
}

/* ---- text ---- */

static void text_finding(struct out *o, const struct ecsrev_finding *f)
{
    char when[32];
    time_text(when, f->created_ms);
    put(o, "  %-8s %s  %s\n", ecsrev_severity_name(f->severity), f->rule->id, f->rule->title);
    put(o, "           revision %s%s%s%s\n", f->revision_arn, when[0] ? " (" : "", when,
        when[0] ? ")" : "");
    if (f->previous_arn != NULL) {
        put(o, "           previous %s\n", f->previous_arn);
    }
    put(o, "           %s = %s\n", f->path, f->value != NULL ? f->value : "(absent)");
    put(o, "           %s\n", f->message);
    if (f->rule->remediation != NULL && f->rule->remediation[0] != '\0') {
        put(o, "           fix: %s\n", f->rule->remediation);
    }
    if (f->suppressed_by != NULL) {
        put(o, "           suppressed by exception: %s\n", f->suppressed_by);
    }
}

static void render_text(struct out *o, const struct ecsrev_audit *a)
{
    struct counts c;
    count(&c, a);
    const char *last = NULL;
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (last == NULL || strcmp(last, f->service_arn) != 0) {
            put(o, "%s%s\n", last != NULL ? "\n" : "", f->service_arn);
            last = f->service_arn;
        }
        text_finding(o, f);
    }
    put(o, "%s%zu finding%s (%zu critical, %zu high, %zu medium, %zu low)", last ? "\n" : "",
        c.total, c.total == 1 ? "" : "s", c.by_sev[ECSREV_SEV_CRITICAL], c.by_sev[ECSREV_SEV_HIGH],
        c.by_sev[ECSREV_SEV_MEDIUM], c.by_sev[ECSREV_SEV_LOW]);
    if (c.suppressed > 0) {
        put(o, ", %zu suppressed", c.suppressed);
    }
    put(o, " in %zu service%s, %zu revision%s audited\n", ecsrev_audit_services(a),
        ecsrev_audit_services(a) == 1 ? "" : "s", ecsrev_audit_revisions(a),
        ecsrev_audit_revisions(a) == 1 ? "" : "s");
    size_t expired = ecsrev_audit_config_expired(ecsrev_audit_config(a));
    if (expired > 0) {
        put(o, "%zu exception%s expired and no longer appl%s\n", expired, expired == 1 ? "" : "s",
            expired == 1 ? "ies" : "y");
    }
}

/* ---- JSON ---- */

static void json_finding(struct out *o, const struct ecsrev_finding *f)
{
    char when[32];
    time_text(when, f->created_ms);
    put_str(o, "{\"ruleId\":");
    put_jstr(o, f->rule->id);
    put_str(o, ",\"controlId\":");
    put_jstr(o, f->rule->control);
    put(o, ",\"severity\":\"%s\",\"title\":", ecsrev_severity_name(f->severity));
    put_jstr(o, f->rule->title);
    put_str(o, ",\"service\":");
    put_jstr(o, f->service_arn);
    put_str(o, ",\"revision\":");
    put_jstr(o, f->revision_arn);
    put_str(o, ",\"createdAt\":");
    put_jstr(o, when[0] != '\0' ? when : NULL);
    put_str(o, ",\"previousRevision\":");
    put_jstr(o, f->previous_arn);
    put_str(o, ",\"path\":");
    put_jstr(o, f->path);
    put_str(o, ",\"value\":");
    put_str(o, f->value != NULL ? f->value : "null");
    put_str(o, ",\"message\":");
    put_jstr(o, f->message);
    put_str(o, ",\"remediation\":");
    put_jstr(o, f->rule->remediation);
    put_str(o, ",\"suppressed\":");
    if (f->suppressed_by != NULL) {
        put_str(o, "{\"reason\":");
        put_jstr(o, f->suppressed_by);
        put_str(o, "}");
    } else {
        put_str(o, "null");
    }
    put_str(o, "}");
}

static void json_rules(struct out *o, const struct ecsrev_audit *a)
{
    size_t n;
    const struct ecsrev_rule_info *rules = ecsrev_audit_config_rules(ecsrev_audit_config(a), &n);
    static const char *const kinds[] = {"revision", "change", "custom"};
    put_str(o, "\"rules\":[");
    for (size_t i = 0; i < n; i++) {
        put_str(o, i > 0 ? ",{\"id\":" : "{\"id\":");
        put_jstr(o, rules[i].id);
        put_str(o, ",\"controlId\":");
        put_jstr(o, rules[i].control);
        put(o, ",\"severity\":\"%s\",\"kind\":\"%s\",\"title\":",
            ecsrev_severity_name(rules[i].severity), kinds[rules[i].kind]);
        put_jstr(o, rules[i].title);
        put_str(o, "}");
    }
    put_str(o, "]");
}

static void render_json(struct out *o, const struct ecsrev_audit *a,
                        const struct ecsrev_report_options *opts)
{
    struct counts c;
    count(&c, a);
    char when[32];
    time_text(when, opts->generated_ms);
    put_str(o, "{\"schema\":" REPORT_SCHEMA ",\"generatedAt\":");
    put_jstr(o, when[0] != '\0' ? when : NULL);
    put_str(o, ",\"tool\":{\"name\":\"ecsrev\",\"version\":");
    put_jstr(o, opts->tool_version);
    put(o, "},\"failOn\":\"%s\",", ecsrev_severity_name(opts->fail_on));
    put(o,
        "\"summary\":{\"critical\":%zu,\"high\":%zu,\"medium\":%zu,\"low\":%zu,\"total\":%zu,"
        "\"suppressed\":%zu,\"services\":%zu,\"revisions\":%zu,\"expiredExceptions\":%zu},",
        c.by_sev[ECSREV_SEV_CRITICAL], c.by_sev[ECSREV_SEV_HIGH], c.by_sev[ECSREV_SEV_MEDIUM],
        c.by_sev[ECSREV_SEV_LOW], c.total, c.suppressed, ecsrev_audit_services(a),
        ecsrev_audit_revisions(a), ecsrev_audit_config_expired(ecsrev_audit_config(a)));
    json_rules(o, a);
    put_str(o, ",\"findings\":[");
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        if (i > 0) {
            put_str(o, ",");
        }
        json_finding(o, ecsrev_audit_finding(a, i));
    }
    put_str(o, "]}\n");
}

/* ---- SARIF 2.1.0 ---- */

static const char *sarif_level(enum ecsrev_severity s)
{
    return s >= ECSREV_SEV_HIGH ? "error" : (s == ECSREV_SEV_MEDIUM ? "warning" : "note");
}

/* GitHub code scanning reads "security-severity" (0.0-10.0). */
static const char *security_severity(enum ecsrev_severity s)
{
    static const char *const v[] = {"0.0", "3.0", "5.5", "8.0", "9.5"};
    return v[s];
}

static void sarif_rule(struct out *o, const struct ecsrev_rule_info *r)
{
    put_str(o, "{\"id\":");
    put_jstr(o, r->id);
    put_str(o, ",\"shortDescription\":{\"text\":");
    put_jstr(o, r->title);
    put_str(o, "},\"fullDescription\":{\"text\":");
    put_jstr(o, r->rationale);
    put_str(o, "},\"help\":{\"text\":");
    put_jstr(o, r->remediation);
    put(o, "},\"helpUri\":\"" TOOL_URI "\",\"defaultConfiguration\":{\"level\":\"%s\"}",
        sarif_level(r->severity));
    put(o, ",\"properties\":{\"severity\":\"%s\",\"security-severity\":\"%s\",\"controlId\":",
        ecsrev_severity_name(r->severity), security_severity(r->severity));
    put_jstr(o, r->control);
    put_str(o, ",\"tags\":[\"security\",\"ecs\"]}}");
}

static void sarif_result(struct out *o, const struct ecsrev_finding *f, size_t rule_index)
{
    char when[32];
    time_text(when, f->created_ms);
    put_str(o, "{\"ruleId\":");
    put_jstr(o, f->rule->id);
    put(o, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":", rule_index,
        sarif_level(f->severity));
    char *msg = ecsrev_audit__asprintf("%s (%s = %s)", f->message, f->path,
                                       f->value != NULL ? f->value : "absent");
    put_jstr(o, msg);
    free(msg);
    put_str(o, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
    put_jstr(o, f->revision_arn);
    put_str(o, "}},\"logicalLocations\":[{\"name\":");
    put_jstr(o, f->path);
    char *fqn = ecsrev_audit__asprintf("%s/%s", f->revision_arn, f->path);
    put_str(o, ",\"fullyQualifiedName\":");
    put_jstr(o, fqn);
    free(fqn);
    put_str(o, ",\"kind\":\"member\"}]}]");
    if (f->suppressed_by != NULL) {
        put_str(o, ",\"suppressions\":[{\"kind\":\"external\",\"justification\":");
        put_jstr(o, f->suppressed_by);
        put_str(o, "}]");
    }
    put(o,
        ",\"properties\":{\"severity\":\"%s\",\"controlId\":", ecsrev_severity_name(f->severity));
    put_jstr(o, f->rule->control);
    put_str(o, ",\"service\":");
    put_jstr(o, f->service_arn);
    put_str(o, ",\"revision\":");
    put_jstr(o, f->revision_arn);
    put_str(o, ",\"createdAt\":");
    put_jstr(o, when[0] != '\0' ? when : NULL);
    put_str(o, ",\"previousRevision\":");
    put_jstr(o, f->previous_arn);
    put_str(o, ",\"value\":");
    put_str(o, f->value != NULL ? f->value : "null");
    put_str(o, "}}");
}

static void render_sarif(struct out *o, const struct ecsrev_audit *a,
                         const struct ecsrev_report_options *opts)
{
    size_t n;
    const struct ecsrev_rule_info *rules = ecsrev_audit_config_rules(ecsrev_audit_config(a), &n);
    put_str(o, "{\"$schema\":\"" SARIF_SCHEMA "\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{"
               "\"driver\":{\"name\":\"ecsrev\",\"informationUri\":\"" TOOL_URI "\"");
    if (opts->tool_version != NULL) {
        put_str(o, ",\"version\":");
        put_jstr(o, opts->tool_version);
    }
    put_str(o, ",\"rules\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            put_str(o, ",");
        }
        sarif_rule(o, &rules[i]);
    }
    put_str(o, "]}},\"results\":[");
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (i > 0) {
            put_str(o, ",");
        }
        sarif_result(o, f, (size_t)(f->rule - rules));
    }
    put_str(o, "]}]}\n");
}

/* ---- JUnit XML ---- */

struct pair {
    size_t failing;    /* unsuppressed findings */
    size_t suppressed; /* suppressed findings */
};

static struct pair pair_counts(const struct ecsrev_audit *a, const char *svc,
                               const struct ecsrev_rule_info *r)
{
    struct pair p = {0, 0};
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (f->rule == r && strcmp(f->service_arn, svc) == 0) {
            if (f->suppressed_by != NULL) {
                p.suppressed++;
            } else {
                p.failing++;
            }
        }
    }
    return p;
}

static void junit_failure(struct out *o, const struct ecsrev_audit *a, const char *svc,
                          const struct ecsrev_rule_info *r, size_t n)
{
    put(o, "      <failure type=\"%s\" message=\"", ecsrev_severity_name(r->severity));
    char *m = ecsrev_audit__asprintf("%zu finding%s: %s", n, n == 1 ? "" : "s", r->title);
    put_xml(o, m);
    free(m);
    put_str(o, "\">");
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (f->rule != r || strcmp(f->service_arn, svc) != 0 || f->suppressed_by != NULL) {
            continue;
        }
        char *line = ecsrev_audit__asprintf("%s [%s] %s: %s = %s\n", f->revision_arn,
                                            ecsrev_severity_name(f->severity), f->message, f->path,
                                            f->value != NULL ? f->value : "(absent)");
        put_xml(o, line);
        free(line);
    }
    put_str(o, "Remediation: ");
    put_xml(o, r->remediation);
    put_str(o, "</failure>\n");
}

static void junit_suite(struct out *o, const struct ecsrev_audit *a, const char *svc)
{
    size_t n;
    const struct ecsrev_rule_info *rules = ecsrev_audit_config_rules(ecsrev_audit_config(a), &n);
    size_t failures = 0;
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        struct pair p = pair_counts(a, svc, &rules[i]);
        failures += p.failing > 0;
        skipped += p.failing == 0 && p.suppressed > 0;
    }
    put_str(o, "  <testsuite name=\"");
    put_xml(o, svc);
    put(o, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", n, failures,
        skipped);
    for (size_t i = 0; i < n; i++) {
        struct pair p = pair_counts(a, svc, &rules[i]);
        put_str(o, "    <testcase classname=\"");
        put_xml(o, svc);
        put_str(o, "\" name=\"");
        char *name = ecsrev_audit__asprintf("%s: %s", rules[i].id, rules[i].title);
        put_xml(o, name);
        free(name);
        if (p.failing == 0 && p.suppressed == 0) {
            put_str(o, "\"/>\n");
            continue;
        }
        put_str(o, "\">\n");
        if (p.failing > 0) {
            junit_failure(o, a, svc, &rules[i], p.failing);
        } else {
            put_str(o, "      <skipped message=\"suppressed by an exception\"/>\n");
        }
        put_str(o, "    </testcase>\n");
    }
    put_str(o, "  </testsuite>\n");
}

static void render_junit(struct out *o, const struct ecsrev_audit *a)
{
    size_t n;
    const struct ecsrev_rule_info *rules = ecsrev_audit_config_rules(ecsrev_audit_config(a), &n);
    size_t failures = 0;
    for (size_t s = 0; s < ecsrev_audit_services(a); s++) {
        for (size_t i = 0; i < n; i++) {
            failures += pair_counts(a, ecsrev_audit_service(a, s), &rules[i]).failing > 0;
        }
    }
    put_str(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    put(o, "<testsuites name=\"ecsrev audit\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n",
        n * ecsrev_audit_services(a), failures);
    for (size_t s = 0; s < ecsrev_audit_services(a); s++) {
        junit_suite(o, a, ecsrev_audit_service(a, s));
    }
    put_str(o, "</testsuites>\n");
}

/* ---- Markdown ---- */

static void md_finding(struct out *o, const struct ecsrev_finding *f)
{
    put(o, "| %s%s | ", ecsrev_severity_name(f->severity),
        f->suppressed_by != NULL ? " (suppressed)" : "");
    put_md(o, f->rule->id);
    put_str(o, " | `");
    put_md(o, rev_id(f->revision_arn));
    put_str(o, "` | `");
    put_md(o, f->path);
    put_str(o, "` | ");
    if (f->value != NULL) {
        put_str(o, "`");
        put_md(o, f->value);
        put_str(o, "`");
    } else {
        put_str(o, "(absent)");
    }
    put_str(o, " | ");
    put_md(o, f->message);
    if (f->previous_arn != NULL) {
        put_str(o, " (previous: `");
        put_md(o, rev_id(f->previous_arn));
        put_str(o, "`)");
    }
    if (f->suppressed_by != NULL) {
        put_str(o, " — exception: ");
        put_md(o, f->suppressed_by);
    }
    put_str(o, " |\n");
}

static void md_remediations(struct out *o, const struct ecsrev_audit *a)
{
    size_t n;
    const struct ecsrev_rule_info *rules = ecsrev_audit_config_rules(ecsrev_audit_config(a), &n);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        bool hit = false;
        for (size_t k = 0; k < ecsrev_audit_count(a) && !hit; k++) {
            hit = ecsrev_audit_finding(a, k)->rule == &rules[i];
        }
        if (!hit) {
            continue;
        }
        if (!any) {
            put_str(o, "\n## Remediation\n\n");
            any = true;
        }
        put_str(o, "- **");
        put_md(o, rules[i].id);
        put_str(o, "** ");
        put_md(o, rules[i].title);
        put_str(o, ": ");
        put_md(o, rules[i].remediation);
        put_str(o, "\n");
    }
}

static void render_markdown(struct out *o, const struct ecsrev_audit *a,
                            const struct ecsrev_report_options *opts)
{
    struct counts c;
    count(&c, a);
    char when[32];
    time_text(when, opts->generated_ms);
    put_str(o, "# ecsrev audit report\n\n");
    if (when[0] != '\0') {
        put(o, "Generated %s. ", when);
    }
    put(o, "%zu service%s, %zu revision%s audited; failing at %s or above.\n\n",
        ecsrev_audit_services(a), ecsrev_audit_services(a) == 1 ? "" : "s",
        ecsrev_audit_revisions(a), ecsrev_audit_revisions(a) == 1 ? "" : "s",
        ecsrev_severity_name(opts->fail_on));
    put(o,
        "| Severity | Findings |\n|---|---|\n| critical | %zu |\n| high | %zu |\n"
        "| medium | %zu |\n| low | %zu |\n| suppressed | %zu |\n",
        c.by_sev[ECSREV_SEV_CRITICAL], c.by_sev[ECSREV_SEV_HIGH], c.by_sev[ECSREV_SEV_MEDIUM],
        c.by_sev[ECSREV_SEV_LOW], c.suppressed);
    const char *last = NULL;
    for (size_t i = 0; i < ecsrev_audit_count(a); i++) {
        const struct ecsrev_finding *f = ecsrev_audit_finding(a, i);
        if (last == NULL || strcmp(last, f->service_arn) != 0) {
            put_str(o, "\n## ");
            put_md(o, f->service_arn);
            put_str(o, "\n\n| Severity | Rule | Revision | Path | Value | Message |\n"
                       "|---|---|---|---|---|---|\n");
            last = f->service_arn;
        }
        md_finding(o, f);
    }
    if (last == NULL) {
        put_str(o, "\nNo findings.\n");
    }
    md_remediations(o, a);
}

int ecsrev_report_format_parse(enum ecsrev_report_format *out, const char *name,
                               struct ecsrev_error *err)
{
    static const char *const names[] = {"text", "json", "sarif", "junit", "markdown"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum ecsrev_report_format)i;
            return 0;
        }
    }
    return ecsrev_error_set(err, ECSREV_EINVAL,
                            "unknown format '%s' (text, json, sarif, junit or markdown)", name);
}

int ecsrev_audit_report(struct ecsrev_buf *out, const struct ecsrev_audit *a,
                        const struct ecsrev_report_options *opts, struct ecsrev_error *err)
{
    struct out o = {out, err, 0};
    switch (opts->format) {
    case ECSREV_REPORT_JSON:
        render_json(&o, a, opts);
        break;
    case ECSREV_REPORT_SARIF:
        render_sarif(&o, a, opts);
        break;
    case ECSREV_REPORT_JUNIT:
        render_junit(&o, a);
        break;
    case ECSREV_REPORT_MARKDOWN:
        render_markdown(&o, a, opts);
        break;
    case ECSREV_REPORT_TEXT:
    default:
        render_text(&o, a);
        break;
    }
    return o.rc;
}
