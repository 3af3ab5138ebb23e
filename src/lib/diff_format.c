/*
 * diff_format.c - renderings of a list of changes: text (grouped by
 * category, old → new, optional ANSI colour), one JSON document, Markdown
 * for pull requests, the one-line summary and the entries of `ecsrev log`.
 *
 * Invariants: values are the canonical JSON stored in each change (already
 * escaped); paths, names and labels can hold any text from the revision, so
 * text and Markdown replace control characters in them (no terminal escape
 * injection, no broken table rows). Every function appends to a caller-owned
 * buffer and never prints.
 */
#include <ecsrev/diff.h>

#include "canon_priv.h"
#include "diff_priv.h"

#include <ecsrev/canon.h>
#include <ecsrev/hash.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define ARROW "\xe2\x86\x92"    /* → */
#define ELLIPSIS "\xe2\x80\xa6" /* … */

/* Items per category in a summary before "+N more". */
#define SUMMARY_ITEMS 3
/* Characters of a value shown in a summary before it is cut. */
#define SUMMARY_VALUE_MAX 40
/* Longest "path: old → new" kept on one line of text. */
#define TEXT_LINE_MAX 100

struct colors {
    const char *red, *green, *yellow, *bold, *dim, *reset;
};

static struct colors colors_for(bool on)
{
    struct colors c = {"", "", "", "", "", ""};
    if (on) {
        c = (struct colors){"\033[31m", "\033[32m", "\033[33m", "\033[1m", "\033[2m", "\033[0m"};
    }
    return c;
}

#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)

/*
 * Append the strings given after @p err, up to a NULL: the plain-text pieces
 * of the renderings, without the cost of a printf format per piece.
 */
/* The end of put_all's list (a typed null pointer: a bare NULL may be an int). */
#define PUT_END ((const char *)NULL)

static int put_all(struct ecsrev_buf *out, struct ecsrev_error *err, ...)
{
    va_list ap;
    int rc = 0;
    va_start(ap, err);
    for (const char *s = va_arg(ap, const char *); s != NULL && rc == 0;
         s = va_arg(ap, const char *)) {
        rc = ecsrev_buf_puts(out, s, err);
    }
    va_end(ap);
    return rc;
}

/* Append @p s with control characters (and DEL) replaced by '?'. */
static int put_clean(struct ecsrev_buf *out, const char *s, struct ecsrev_error *err)
{
    int rc = 0;
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != 0x7f) {
            continue;
        }
        if ((rc = ecsrev_buf_append(out, run, (size_t)(p - run), err)) < 0 || ch == 0) {
            return rc;
        }
        if ((rc = ecsrev_buf_putc(out, '?', err)) < 0) {
            return rc;
        }
        run = p + 1;
    }
}

static const char *op_name(enum ecsrev_change_op op)
{
    switch (op) {
    case ECSREV_CHANGE_ADDED:
        return "added";
    case ECSREV_CHANGE_REMOVED:
        return "removed";
    case ECSREV_CHANGE_CHANGED:
    default:
        return "changed";
    }
}

static char op_sign(enum ecsrev_change_op op)
{
    switch (op) {
    case ECSREV_CHANGE_ADDED:
        return '+';
    case ECSREV_CHANGE_REMOVED:
        return '-';
    case ECSREV_CHANGE_CHANGED:
    default:
        return '~';
    }
}

const char *ecsrev_diff_task_def_short(const char *td)
{
    if (td == NULL) {
        return "";
    }
    const char *slash = strrchr(td, '/');
    if (strncmp(td, "arn:", 4) == 0 && slash != NULL) {
        return slash + 1;
    }
    return td;
}

/* ---- summary ---- */

/* The resource part of an ARN (after its fifth ':'), or @p s itself. */
static const char *arn_resource(const char *s)
{
    if (s == NULL || strncmp(s, "arn:", 4) != 0) {
        return s;
    }
    const char *p = s;
    for (int i = 0; i < 5; i++) {
        p = strchr(p, ':');
        if (p == NULL) {
            return s;
        }
        p++;
    }
    return *p != '\0' ? p : s;
}

/* Short label of an element key or value: "targetgroup/web/1a2b", "web:42". */
static const char *short_label(const char *label)
{
    if (label != NULL && strncmp(label, "arn:", 4) == 0 &&
        strstr(label, ":task-definition/") != NULL) {
        return ecsrev_diff_task_def_short(label);
    }
    return arn_resource(label);
}

/* Decode a canonical JSON string (only the escapes RFC 8785 writes; \uXXXX shown as '?'). */
static int decode_string(struct ecsrev_buf *out, const char *json, struct ecsrev_error *err)
{
    int rc = ecsrev_buf_puts(out, "", err);
    const char *p = json + 1;
    while (rc == 0) {
        size_t run = strcspn(p, "\\\"");
        if ((rc = ecsrev_buf_append(out, p, run, err)) < 0 || p[run] != '\\') {
            break; /* the closing quote or the end */
        }
        p += run;
        if (p[1] == '\0') {
            rc = ecsrev_buf_putc(out, '\\', err);
            break;
        }
        p++;
        char ch = *p;
        if (ch == 'u' && p[1] != '\0' && p[2] != '\0' && p[3] != '\0' && p[4] != '\0') {
            p += 4;
            ch = '?';
        } else if (strchr("btnfr", ch) != NULL) {
            ch = '?';
        }
        rc = ecsrev_buf_putc(out, ch, err);
        p++;
    }
    return rc;
}

/*
 * A value for a summary: strings without quotes, ARNs by their resource,
 * cut to SUMMARY_VALUE_MAX characters; other scalars as they are; containers
 * as "{…}" / "[…]".
 */
static int put_short_value(struct ecsrev_buf *out, const char *json, struct ecsrev_error *err)
{
    if (json == NULL) {
        return 0;
    }
    if (json[0] == '{' || json[0] == '[') {
        return ecsrev_buf_printf(out, err, "%c" ELLIPSIS "%c", json[0], json[0] == '{' ? '}' : ']');
    }
    if (json[0] != '"') {
        return ecsrev_buf_puts(out, json, err);
    }
    struct ecsrev_buf tmp = ECSREV_BUF_INIT;
    int rc = decode_string(&tmp, json, err);
    /* Identifiers differ at their end: a long value keeps its last characters. */
    const char *v = rc == 0 ? short_label(tmp.ptr) : "";
    size_t chars = 0;
    const char *start = v + strlen(v);
    while (start > v && chars < SUMMARY_VALUE_MAX) {
        start--;
        chars += ((unsigned char)*start & 0xc0) != 0x80;
    }
    if (rc == 0 && start > v) {
        rc = ecsrev_buf_puts(out, ELLIPSIS, err);
    }
    if (rc == 0) {
        rc = put_clean(out, start, err);
    }
    ecsrev_buf_dispose(&tmp);
    return rc;
}

/* The tag part of an image reference, or NULL if it has none. */
static const char *image_tag(const char *image, size_t *repo_len)
{
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash != NULL ? slash : image, ':');
    if (colon == NULL) {
        return NULL;
    }
    *repo_len = (size_t)(colon - image);
    return colon + 1;
}

/* "web 1.4.2→1.4.3" when only the tag of the same repository changed. */
static int put_image_change(struct ecsrev_buf *out, const struct ecsrev_change *ch,
                            struct ecsrev_error *err)
{
    size_t la = 0;
    size_t lb = 0;
    const char *ta = ch->old_json[0] == '"' ? image_tag(ch->old_json, &la) : NULL;
    const char *tb = ch->new_json[0] == '"' ? image_tag(ch->new_json, &lb) : NULL;
    if (ta != NULL && tb != NULL && la == lb && memcmp(ch->old_json, ch->new_json, la) == 0) {
        struct ecsrev_buf o = ECSREV_BUF_INIT;
        struct ecsrev_buf n = ECSREV_BUF_INIT;
        int rc;
        if ((rc = put_all(&o, err, "\"", ta, PUT_END)) == 0 &&
            (rc = put_all(&n, err, "\"", tb, PUT_END)) == 0 &&
            (rc = put_short_value(out, o.ptr, err)) == 0 &&
            (rc = ecsrev_buf_puts(out, ARROW, err)) == 0) {
            rc = put_short_value(out, n.ptr, err);
        }
        ecsrev_buf_dispose(&o);
        ecsrev_buf_dispose(&n);
        return rc;
    }
    int rc = put_short_value(out, ch->old_json, err);
    if (rc == 0 && (rc = ecsrev_buf_puts(out, ARROW, err)) == 0) {
        rc = put_short_value(out, ch->new_json, err);
    }
    return rc;
}

/* Whether the image of the same container also changed (then its digest is not listed). */
static bool image_changed_too(const struct ecsrev_changes *cs, const struct ecsrev_change *ch)
{
    for (size_t i = 0; i < cs->n; i++) {
        const struct ecsrev_change *o = &cs->items[i];
        if (o->cat == ECSREV_CAT_IMAGES && o->op == ECSREV_CHANGE_CHANGED && o->owner != NULL &&
            ch->owner != NULL && strcmp(o->owner, ch->owner) == 0 &&
            strcmp(o->name, "image") == 0) {
            return true;
        }
    }
    return false;
}

/* One summary item: "+sg-1", "web 1.4.2→1.4.3", "assignPublicIp DISABLED→ENABLED". */
static int put_summary_item(struct ecsrev_buf *out, const struct ecsrev_change *ch,
                            struct ecsrev_error *err)
{
    int rc = 0;
    bool image = ch->cat == ECSREV_CAT_IMAGES && ch->owner != NULL &&
                 strcmp(ch->name, "image") == 0 && ch->op == ECSREV_CHANGE_CHANGED;
    if (ch->owner != NULL) {
        if ((rc = put_clean(out, short_label(ch->owner), err)) < 0 ||
            (rc = ecsrev_buf_putc(out, ' ', err)) < 0) {
            return rc;
        }
    }
    if (image) {
        return put_image_change(out, ch, err);
    }
    if (ch->cat == ECSREV_CAT_TASK_DEFINITION && ch->op == ECSREV_CHANGE_CHANGED &&
        strcmp(ch->name, "taskDefinition") == 0) {
        if ((rc = put_short_value(out, ch->old_json, err)) < 0 ||
            (rc = ecsrev_buf_puts(out, ARROW, err)) < 0) {
            return rc;
        }
        return put_short_value(out, ch->new_json, err);
    }
    if (ch->op != ECSREV_CHANGE_CHANGED && (rc = ecsrev_buf_putc(out, op_sign(ch->op), err)) < 0) {
        return rc;
    }
    const char *name = strcmp(ch->name, "imageDigest") == 0 ? "digest" : short_label(ch->name);
    if ((rc = put_clean(out, name, err)) < 0 || ch->op != ECSREV_CHANGE_CHANGED) {
        return rc;
    }
    if ((rc = ecsrev_buf_putc(out, ' ', err)) < 0 ||
        (rc = put_short_value(out, ch->old_json, err)) < 0 ||
        (rc = ecsrev_buf_puts(out, ARROW, err)) < 0) {
        return rc;
    }
    return put_short_value(out, ch->new_json, err);
}

int ecsrev_diff_summary(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                        struct ecsrev_error *err)
{
    if (changes->n == 0) {
        return ecsrev_buf_puts(out, "no configuration change", err);
    }
    int rc = 0;
    size_t i = 0;
    while (i < changes->n && rc == 0) {
        enum ecsrev_diff_category cat = changes->items[i].cat;
        rc = put_all(out, err, i > 0 ? "; " : "", changes->items[i].category, ": ", PUT_END);
        size_t shown = 0;
        size_t more = 0;
        for (; i < changes->n && changes->items[i].cat == cat && rc == 0; i++) {
            const struct ecsrev_change *ch = &changes->items[i];
            if (ch->cat == ECSREV_CAT_IMAGES && strcmp(ch->name, "imageDigest") == 0 &&
                image_changed_too(changes, ch)) {
                continue;
            }
            if (shown == SUMMARY_ITEMS) {
                more++;
                continue;
            }
            if (shown > 0) {
                rc = ecsrev_buf_puts(out, ", ", err);
            }
            if (rc == 0) {
                rc = put_summary_item(out, ch, err);
            }
            shown++;
        }
        if (rc == 0 && more > 0) {
            rc = ecsrev_buf_printf(out, err, ", +%zu more", more);
        }
    }
    return rc;
}

/* ---- text ---- */

static int put_side_text(struct ecsrev_buf *out, const char *tag, const struct ecsrev_revision *r,
                         const char *label, const struct colors *c, struct ecsrev_error *err)
{
    const char *name = r->arn != NULL ? r->arn : (label != NULL ? label : "(revision)");
    int rc = ecsrev_buf_printf(out, err, "%s%s%s ", c->bold, tag, c->reset);
    if (rc == 0) {
        rc = put_clean(out, name, err);
    }
    if (rc == 0 && r->created_ms != ECSREV_TIME_NONE) {
        char when[32];
        ecsrev_time_format(when, r->created_ms);
        rc = ecsrev_buf_printf(out, err, "  %s%s%s", c->dim, when, c->reset);
    }
    return rc == 0 ? ecsrev_buf_putc(out, '\n', err) : rc;
}

/* Whether the value repeats what the path already says (a set member). */
static bool value_is_label(const struct ecsrev_change *ch)
{
    const char *v = ch->op == ECSREV_CHANGE_ADDED ? ch->new_json : ch->old_json;
    size_t plen = strlen(ch->path);
    if (v == NULL || plen == 0 || ch->path[plen - 1] != ']') {
        return false;
    }
    if (v[0] != '"') {
        return strcmp(v, ch->name) == 0;
    }
    size_t n = strlen(ch->name);
    return strncmp(v + 1, ch->name, n) == 0 && v[n + 1] == '"' && v[n + 2] == '\0';
}

static int put_change_text(struct ecsrev_buf *out, const struct ecsrev_change *ch,
                           const char *indent, const struct colors *c, struct ecsrev_error *err)
{
    const char *col = ch->op == ECSREV_CHANGE_ADDED     ? c->green
                      : ch->op == ECSREV_CHANGE_REMOVED ? c->red
                                                        : c->yellow;
    int rc = ecsrev_buf_printf(out, err, "%s  %s%c ", indent, col, op_sign(ch->op));
    if (rc == 0) {
        rc = put_clean(out, ch->path, err);
    }
    if (rc < 0) {
        return rc;
    }
    const char *o = ch->old_json;
    const char *n = ch->new_json;
    size_t len = strlen(ch->path) + (o != NULL ? strlen(o) : 0) + (n != NULL ? strlen(n) : 0);
    if (ch->op != ECSREV_CHANGE_CHANGED && value_is_label(ch)) {
        return ecsrev_buf_printf(out, err, "%s\n", c->reset);
    }
    if (len <= TEXT_LINE_MAX) {
        if (ch->op == ECSREV_CHANGE_CHANGED) {
            return ecsrev_buf_printf(out, err, "%s: %s%s%s " ARROW " %s%s%s\n", c->reset, c->red, o,
                                     c->reset, c->green, n, c->reset);
        }
        return ecsrev_buf_printf(out, err, "%s: %s%s\n", c->reset, o != NULL ? o : n, c->reset);
    }
    if ((rc = ecsrev_buf_printf(out, err, "%s\n", c->reset)) == 0 && o != NULL) {
        rc = ecsrev_buf_printf(out, err, "%s      %s- %s%s\n", indent, c->red, o, c->reset);
    }
    if (rc == 0 && n != NULL) {
        rc = ecsrev_buf_printf(out, err, "%s      %s+ %s%s\n", indent, c->green, n, c->reset);
    }
    return rc;
}

int ecsrev_diff_render_text_changes(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                                    const char *indent, bool color, struct ecsrev_error *err)
{
    struct colors c = colors_for(color);
    int rc = 0;
    size_t i = 0;
    while (i < changes->n && rc == 0) {
        enum ecsrev_diff_category cat = changes->items[i].cat;
        size_t count = 0;
        while (i + count < changes->n && changes->items[i + count].cat == cat) {
            count++;
        }
        rc = ecsrev_buf_printf(out, err, "%s%s%s%s (%zu)\n", i > 0 ? "\n" : "", indent, c.bold,
                               changes->items[i].category, count);
        if (rc == 0) {
            rc = ecsrev_buf_puts(out, c.reset, err);
        }
        for (size_t k = 0; k < count && rc == 0; k++) {
            rc = put_change_text(out, &changes->items[i + k], indent, &c, err);
        }
        i += count;
    }
    return rc;
}

static int render_text(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                       const struct ecsrev_revision *a, const struct ecsrev_revision *b,
                       const struct ecsrev_diff_render_options *opt, struct ecsrev_error *err)
{
    struct colors c = colors_for(opt->color);
    int rc;
    if ((rc = put_side_text(out, "from", a, opt->from_label, &c, err)) < 0 ||
        (rc = put_side_text(out, "to  ", b, opt->to_label, &c, err)) < 0 ||
        (rc = ecsrev_buf_putc(out, '\n', err)) < 0) {
        return rc;
    }
    if (changes->n == 0) {
        return ecsrev_buf_puts(out, "no configuration change\n", err);
    }
    return ecsrev_diff_render_text_changes(out, changes, "", opt->color, err);
}

/* ---- JSON ---- */

static int put_json_str_or_null(struct ecsrev_buf *out, const char *s, struct ecsrev_error *err)
{
    return s != NULL ? ecsrev_canon__write_string(out, s, err) : ecsrev_buf_puts(out, "null", err);
}

static int put_side_json(struct ecsrev_buf *out, const struct ecsrev_revision *r,
                         struct ecsrev_error *err)
{
    char when[32];
    char content[ECSREV_HASH_HEX_LEN];
    char config[ECSREV_HASH_HEX_LEN];
    ecsrev_hash_hex(content, r->content_hash);
    ecsrev_hash_hex(config, r->config_hash);
    int rc;
    if ((rc = ecsrev_buf_puts(out, "{\"arn\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, r->arn, err)) < 0 ||
        (rc = ecsrev_buf_puts(out, ",\"createdAt\":", err)) < 0) {
        return rc;
    }
    if (r->created_ms != ECSREV_TIME_NONE) {
        ecsrev_time_format(when, r->created_ms);
        rc = ecsrev_buf_printf(out, err, "\"%s\"", when);
    } else {
        rc = ecsrev_buf_puts(out, "null", err);
    }
    if (rc < 0) {
        return rc;
    }
    return ecsrev_buf_printf(out, err, ",\"contentHash\":\"%s\",\"configHash\":\"%s\"}", content,
                             config);
}

/* The "changes" array: [{"category","path","op","old","new"}, ...]; absent values left out. */
static int put_changes_json(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                            struct ecsrev_error *err)
{
    int rc = ecsrev_buf_putc(out, '[', err);
    for (size_t i = 0; i < changes->n && rc == 0; i++) {
        const struct ecsrev_change *ch = &changes->items[i];
        if ((rc = put_all(out, err, i > 0 ? "," : "", "{\"category\":\"", ch->category,
                          "\",\"path\":", PUT_END)) < 0 ||
            (rc = ecsrev_canon__write_string(out, ch->path, err)) < 0 ||
            (rc = put_all(out, err, ",\"op\":\"", op_name(ch->op), "\"", PUT_END)) < 0) {
            break;
        }
        if (ch->old_json != NULL) {
            rc = put_all(out, err, ",\"old\":", ch->old_json, PUT_END);
        }
        if (rc == 0 && ch->new_json != NULL) {
            rc = put_all(out, err, ",\"new\":", ch->new_json, PUT_END);
        }
        if (rc == 0) {
            rc = ecsrev_buf_putc(out, '}', err);
        }
    }
    return rc == 0 ? ecsrev_buf_putc(out, ']', err) : rc;
}

static int render_json(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                       const struct ecsrev_revision *a, const struct ecsrev_revision *b,
                       struct ecsrev_error *err)
{
    int rc;
    if ((rc = ecsrev_buf_printf(out, err, "{\"schema\":%d,\"from\":", ECSREV_DIFF_SCHEMA)) < 0 ||
        (rc = put_side_json(out, a, err)) < 0 || (rc = ecsrev_buf_puts(out, ",\"to\":", err)) < 0 ||
        (rc = put_side_json(out, b, err)) < 0 ||
        (rc = ecsrev_buf_printf(
             out, err, ",\"identical\":%s,\"changes\":", changes->n == 0 ? "true" : "false")) < 0 ||
        (rc = put_changes_json(out, changes, err)) < 0) {
        return rc;
    }
    return ecsrev_buf_puts(out, "}\n", err);
}

/* ---- Markdown ---- */

/* A code span for a table cell: fence longer than any backtick run, '|' escaped. */
static int put_md_code(struct ecsrev_buf *out, const char *s, struct ecsrev_error *err)
{
    size_t run = 0;
    size_t longest = 0;
    for (const char *p = s; *p != '\0'; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    char fence[8] = "`";
    size_t nf = longest + 1 < sizeof(fence) - 1 ? longest + 1 : sizeof(fence) - 1;
    memset(fence, '`', nf);
    fence[nf] = '\0';
    bool pad = longest > 0;
    int rc = ecsrev_buf_printf(out, err, "%s%s", fence, pad ? " " : "");
    for (const char *p = s; *p != '\0' && rc == 0; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '|') {
            rc = ecsrev_buf_puts(out, "\\|", err);
        } else if (ch < 0x20 || ch == 0x7f) {
            rc = ecsrev_buf_putc(out, '?', err);
        } else {
            rc = ecsrev_buf_putc(out, *p, err);
        }
    }
    return rc == 0 ? ecsrev_buf_printf(out, err, "%s%s", pad ? " " : "", fence) : rc;
}

static int put_side_md(struct ecsrev_buf *out, const char *tag, const struct ecsrev_revision *r,
                       const char *label, struct ecsrev_error *err)
{
    const char *name = r->arn != NULL ? r->arn : (label != NULL ? label : "(revision)");
    int rc = ecsrev_buf_printf(out, err, "**%s:** ", tag);
    if (rc == 0) {
        rc = put_md_code(out, name, err);
    }
    if (rc == 0 && r->created_ms != ECSREV_TIME_NONE) {
        char when[32];
        ecsrev_time_format(when, r->created_ms);
        rc = ecsrev_buf_printf(out, err, " (%s)", when);
    }
    return rc == 0 ? ecsrev_buf_puts(out, "  \n", err) : rc;
}

static int render_markdown(struct ecsrev_buf *out, const struct ecsrev_changes *changes,
                           const struct ecsrev_revision *a, const struct ecsrev_revision *b,
                           const struct ecsrev_diff_render_options *opt, struct ecsrev_error *err)
{
    int rc;
    if ((rc = ecsrev_buf_puts(out, "### ECS service revision diff\n\n", err)) < 0 ||
        (rc = put_side_md(out, "From", a, opt->from_label, err)) < 0 ||
        (rc = put_side_md(out, "To", b, opt->to_label, err)) < 0) {
        return rc;
    }
    if (changes->n == 0) {
        return ecsrev_buf_puts(out, "\n_No configuration change._\n", err);
    }
    if ((rc = ecsrev_buf_puts(out, "\n**Summary:** ", err)) < 0 ||
        (rc = ecsrev_diff_summary(out, changes, err)) < 0 ||
        (rc = ecsrev_buf_putc(out, '\n', err)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < changes->n && rc == 0; i++) {
        const struct ecsrev_change *ch = &changes->items[i];
        if (i == 0 || changes->items[i - 1].cat != ch->cat) {
            rc = ecsrev_buf_printf(out, err,
                                   "\n#### %s\n\n| Change | Path | Old | New |\n"
                                   "|---|---|---|---|\n",
                                   ch->category);
        }
        if (rc == 0) {
            rc = ecsrev_buf_printf(out, err, "| %s | ", op_name(ch->op));
        }
        if (rc == 0) {
            rc = put_md_code(out, ch->path, err);
        }
        if (rc == 0) {
            rc = ecsrev_buf_puts(out, " | ", err);
        }
        if (rc == 0 && ch->old_json != NULL) {
            rc = put_md_code(out, ch->old_json, err);
        }
        if (rc == 0) {
            rc = ecsrev_buf_puts(out, " | ", err);
        }
        if (rc == 0 && ch->new_json != NULL) {
            rc = put_md_code(out, ch->new_json, err);
        }
        if (rc == 0) {
            rc = ecsrev_buf_puts(out, " |\n", err);
        }
    }
    return rc;
}

int ecsrev_diff_render(struct ecsrev_buf *out, enum ecsrev_diff_format format,
                       const struct ecsrev_changes *changes, const struct ecsrev_revision *a,
                       const struct ecsrev_revision *b,
                       const struct ecsrev_diff_render_options *opt, struct ecsrev_error *err)
{
    static const struct ecsrev_diff_render_options defaults = ECSREV_DIFF_RENDER_OPTIONS_INIT;
    if (opt == NULL) {
        opt = &defaults;
    }
    switch (format) {
    case ECSREV_DIFF_TEXT:
        return render_text(out, changes, a, b, opt, err);
    case ECSREV_DIFF_JSON:
        return render_json(out, changes, a, b, err);
    case ECSREV_DIFF_MARKDOWN:
        return render_markdown(out, changes, a, b, opt, err);
    default:
        return ecsrev_error_set(err, ECSREV_EINVAL, "unknown diff format %d", (int)format);
    }
}

/* ---- log entries ---- */

static int put_log_summary(struct ecsrev_buf *out, const struct ecsrev_diff_log_entry *e,
                           struct ecsrev_error *err)
{
    if (e->prev == NULL) {
        return ecsrev_buf_puts(out, "initial revision", err);
    }
    return ecsrev_diff_summary(out, e->changes, err);
}

static int log_entry_text(struct ecsrev_buf *out, const struct ecsrev_diff_log_entry *e, bool color,
                          struct ecsrev_error *err)
{
    struct colors c = colors_for(color);
    char when[32] = "-";
    if (e->rev->created_ms != ECSREV_TIME_NONE) {
        ecsrev_time_format(when, e->rev->created_ms);
    }
    int rc;
    if ((rc = ecsrev_buf_printf(out, err, "%srevision ", c.yellow)) < 0 ||
        (rc = put_clean(out, e->rev->arn != NULL ? e->rev->arn : "-", err)) < 0 ||
        (rc = ecsrev_buf_printf(out, err, "%s\ncreated  %s\ntask     ", c.reset, when)) < 0 ||
        (rc = put_clean(out, ecsrev_diff_task_def_short(e->rev->task_definition), err)) < 0 ||
        (rc = ecsrev_buf_puts(out, "\nchanges  ", err)) < 0 ||
        (rc = put_log_summary(out, e, err)) < 0 || (rc = ecsrev_buf_puts(out, "\n", err)) < 0) {
        return rc;
    }
    if (e->with_changes && e->prev != NULL && e->changes->n > 0) {
        if ((rc = ecsrev_buf_putc(out, '\n', err)) < 0 ||
            (rc = ecsrev_diff_render_text_changes(out, e->changes, "    ", color, err)) < 0) {
            return rc;
        }
    }
    return ecsrev_buf_putc(out, '\n', err);
}

static int log_entry_json(struct ecsrev_buf *out, const struct ecsrev_diff_log_entry *e,
                          struct ecsrev_error *err)
{
    const struct ecsrev_revision *r = e->rev;
    const char *id = NULL;
    if (r->arn != NULL) {
        const char *slash = strrchr(r->arn, '/');
        id = slash != NULL ? slash + 1 : r->arn;
    }
    char when[32];
    int rc;
    if ((rc = ecsrev_buf_puts(
             out, "{\"schema\":" XSTRINGIFY(ECSREV_DIFF_SCHEMA) ",\"service\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, r->service_arn, err)) < 0 ||
        (rc = ecsrev_buf_puts(out, ",\"revision\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, r->arn, err)) < 0 ||
        (rc = ecsrev_buf_puts(out, ",\"id\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, id, err)) < 0) {
        return rc;
    }
    if (r->created_ms != ECSREV_TIME_NONE) {
        ecsrev_time_format(when, r->created_ms);
        rc = put_all(out, err, ",\"createdAt\":\"", when, "\"", PUT_END);
    } else {
        rc = ecsrev_buf_puts(out, ",\"createdAt\":null", err);
    }
    bool changed = e->prev != NULL && e->changes->n > 0;
    if (rc < 0 || (rc = ecsrev_buf_puts(out, ",\"taskDefinition\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, r->task_definition, err)) < 0 ||
        (rc = ecsrev_buf_puts(out, ",\"previous\":", err)) < 0 ||
        (rc = put_json_str_or_null(out, e->prev != NULL ? e->prev->arn : NULL, err)) < 0 ||
        (rc = put_all(out, err, ",\"initial\":", e->prev == NULL ? "true" : "false",
                      ",\"configChanged\":", changed ? "true" : "false",
                      ",\"summary\":", PUT_END)) < 0) {
        return rc;
    }
    struct ecsrev_buf summary = ECSREV_BUF_INIT;
    if ((rc = put_log_summary(&summary, e, err)) == 0) {
        rc = ecsrev_canon__write_string(out, summary.ptr != NULL ? summary.ptr : "", err);
    }
    ecsrev_buf_dispose(&summary);
    if (rc == 0 && e->with_changes) {
        if ((rc = ecsrev_buf_puts(out, ",\"changes\":", err)) == 0) {
            rc = put_changes_json(out, e->changes, err);
        }
    }
    return rc == 0 ? ecsrev_buf_puts(out, "}\n", err) : rc;
}

int ecsrev_diff_render_log_entry(struct ecsrev_buf *out, enum ecsrev_diff_format format,
                                 const struct ecsrev_diff_log_entry *entry, bool color,
                                 struct ecsrev_error *err)
{
    switch (format) {
    case ECSREV_DIFF_TEXT:
        return log_entry_text(out, entry, color, err);
    case ECSREV_DIFF_JSON:
        return log_entry_json(out, entry, err);
    case ECSREV_DIFF_MARKDOWN:
    default:
        return ecsrev_error_set(err, ECSREV_EINVAL, "log entries are text or json");
    }
}
