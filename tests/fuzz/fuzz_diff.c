/*
 * fuzz_diff.c - fuzz target for the diff engine and its renderers.
 *
 * Input: two JSON revisions separated by the first NUL byte (no NUL: the
 * same text on both sides). Each is normalized (no identity required).
 * Properties:
 *  - diff(x, x) is empty, by hash short-cut and by full comparison;
 *  - diff(a, b) is empty exactly when the configuration hashes are equal;
 *  - diff(a, b) and diff(b, a) mirror each other: same number of changes,
 *    same categories, paths, names and owners, ADDED <-> REMOVED, CHANGED
 *    stays CHANGED, old and new values swapped;
 *  - every renderer (text, JSON, Markdown, summary, log entry, JSON Patch)
 *    runs without crashing, and the JSON renderings are valid JSON.
 */
#include "fuzz.h"

#include <string.h>

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/diff.h>
#include <ecsrev/error.h>
#include <ecsrev/hash.h>

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static enum ecsrev_change_op mirror_op(enum ecsrev_change_op op)
{
    switch (op) {
    case ECSREV_CHANGE_ADDED:
        return ECSREV_CHANGE_REMOVED;
    case ECSREV_CHANGE_REMOVED:
        return ECSREV_CHANGE_ADDED;
    case ECSREV_CHANGE_CHANGED:
    default:
        return op;
    }
}

static void dump(const char *label, const struct ecsrev_changes *c)
{
    (void)fprintf(stderr, "%s: %zu changes\n", label, c->n);
    for (size_t i = 0; i < c->n; i++) {
        (void)fprintf(stderr, "  %d %s %s -> %s\n", (int)c->items[i].op, c->items[i].path,
                      c->items[i].old_json ? c->items[i].old_json : "-",
                      c->items[i].new_json ? c->items[i].new_json : "-");
    }
}

static void check_mirror(const struct ecsrev_changes *ab, const struct ecsrev_changes *ba)
{
    if (ab->n != ba->n) {
        dump("a->b", ab);
        dump("b->a", ba);
    }
    FUZZ_CHECK(ab->n == ba->n);
    for (size_t i = 0; i < ab->n; i++) {
        const struct ecsrev_change *x = &ab->items[i];
        const struct ecsrev_change *y = &ba->items[i];
        if (!str_eq(x->path, y->path) || y->op != mirror_op(x->op)) {
            dump("a->b", ab);
            dump("b->a", ba);
        }
        FUZZ_CHECK(x->cat == y->cat);
        FUZZ_CHECK(str_eq(x->path, y->path));
        FUZZ_CHECK(str_eq(x->name, y->name));
        FUZZ_CHECK(str_eq(x->owner, y->owner));
        FUZZ_CHECK(y->op == mirror_op(x->op));
        FUZZ_CHECK(str_eq(x->old_json, y->new_json));
        FUZZ_CHECK(str_eq(x->new_json, y->old_json));
        FUZZ_CHECK(x->op != ECSREV_CHANGE_CHANGED || !str_eq(x->old_json, x->new_json));
    }
}

static void check_json_text(const char *text, size_t len)
{
    struct ecsrev_buf c = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    int rc = ecsrev_canon_json(&c, text, len, &err);
    if (rc < 0) {
        (void)fprintf(stderr, "renderer wrote invalid JSON (%s):\n%s\n", err.msg, text);
    }
    FUZZ_CHECK(rc == 0);
    ecsrev_buf_dispose(&c);
}

static void render_all(const struct ecsrev_changes *c, const struct ecsrev_revision *a,
                       const struct ecsrev_revision *b)
{
    struct ecsrev_buf out = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    struct ecsrev_diff_render_options ro = ECSREV_DIFF_RENDER_OPTIONS_INIT;
    ro.from_label = "a.json";
    ro.to_label = "b.json";

    FUZZ_CHECK(ecsrev_diff_render(&out, ECSREV_DIFF_TEXT, c, a, b, &ro, &err) == 0);
    ecsrev_buf_clear(&out);
    ro.color = true;
    FUZZ_CHECK(ecsrev_diff_render(&out, ECSREV_DIFF_MARKDOWN, c, a, b, &ro, &err) == 0);
    ecsrev_buf_clear(&out);
    FUZZ_CHECK(ecsrev_diff_render(&out, ECSREV_DIFF_JSON, c, a, b, &ro, &err) == 0);
    check_json_text(out.ptr, out.len);
    ecsrev_buf_clear(&out);
    FUZZ_CHECK(ecsrev_diff_summary(&out, c, &err) == 0);
    FUZZ_CHECK(strchr(out.ptr, '\n') == NULL);
    ecsrev_buf_clear(&out);
    FUZZ_CHECK(ecsrev_diff_render_text_changes(&out, c, "  ", true, &err) == 0);
    ecsrev_buf_clear(&out);

    struct ecsrev_diff_log_entry e = {b, a, c, true};
    FUZZ_CHECK(ecsrev_diff_render_log_entry(&out, ECSREV_DIFF_TEXT, &e, false, &err) == 0);
    ecsrev_buf_clear(&out);
    FUZZ_CHECK(ecsrev_diff_render_log_entry(&out, ECSREV_DIFF_JSON, &e, false, &err) == 0);
    check_json_text(out.ptr, out.len);
    ecsrev_buf_clear(&out);

    FUZZ_CHECK(ecsrev_diff_patch(&out, a->canon, a->canon_len, b->canon, b->canon_len, &err) == 0);
    check_json_text(out.ptr, out.len);
    ecsrev_buf_dispose(&out);
}

static void check_self(const struct ecsrev_revision *a)
{
    struct ecsrev_changes c = ECSREV_CHANGES_INIT;
    struct ecsrev_buf patch = ECSREV_BUF_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;

    FUZZ_CHECK(ecsrev_diff_revisions(&c, a, a, NULL, &err) == 0);
    FUZZ_CHECK(c.n == 0);
    FUZZ_CHECK(ecsrev_diff_docs(&c, a->canon, a->canon_len, a->canon, a->canon_len, NULL, &err) ==
               0);
    if (c.n != 0) {
        dump("x->x", &c);
    }
    FUZZ_CHECK(c.n == 0);
    FUZZ_CHECK(ecsrev_diff_patch(&patch, a->canon, a->canon_len, a->canon, a->canon_len, &err) ==
               0);
    check_json_text(patch.ptr, patch.len);
    ecsrev_buf_dispose(&patch);
    ecsrev_changes_dispose(&c);
}

static void check_pair(const struct ecsrev_revision *a, const struct ecsrev_revision *b)
{
    struct ecsrev_changes ab = ECSREV_CHANGES_INIT;
    struct ecsrev_changes ba = ECSREV_CHANGES_INIT;
    struct ecsrev_error err = ECSREV_ERROR_INIT;

    FUZZ_CHECK(ecsrev_diff_docs(&ab, a->canon, a->canon_len, b->canon, b->canon_len, NULL, &err) ==
               0);
    FUZZ_CHECK(ecsrev_diff_docs(&ba, b->canon, b->canon_len, a->canon, a->canon_len, NULL, &err) ==
               0);
    bool same = memcmp(a->config_hash, b->config_hash, ECSREV_HASH_LEN) == 0;
    if (same != (ab.n == 0)) {
        dump("a->b", &ab);
        (void)fprintf(stderr, "a: %s\nb: %s\n", a->canon, b->canon);
    }
    FUZZ_CHECK(same == (ab.n == 0));
    check_mirror(&ab, &ba);
    render_all(&ab, a, b);
    ecsrev_changes_dispose(&ab);
    ecsrev_changes_dispose(&ba);

    /* A category filter keeps a subset, still sorted and mirrored. */
    struct ecsrev_diff_options opt = ECSREV_DIFF_OPTIONS_INIT;
    opt.categories = (1u << ECSREV_CAT_IMAGES) | (1u << ECSREV_CAT_OTHER);
    FUZZ_CHECK(ecsrev_diff_revisions(&ab, a, b, &opt, &err) == 0);
    FUZZ_CHECK(ecsrev_diff_revisions(&ba, b, a, &opt, &err) == 0);
    for (size_t i = 0; i < ab.n; i++) {
        FUZZ_CHECK(ab.items[i].cat == ECSREV_CAT_IMAGES || ab.items[i].cat == ECSREV_CAT_OTHER);
    }
    check_mirror(&ab, &ba);
    ecsrev_changes_dispose(&ab);
    ecsrev_changes_dispose(&ba);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ecsrev_revision a = {0};
    struct ecsrev_revision b = {0};
    struct ecsrev_error err = ECSREV_ERROR_INIT;
    const uint8_t *nul = memchr(data, 0, size);
    size_t alen = nul ? (size_t)(nul - data) : size;
    const uint8_t *bdata = nul ? nul + 1 : data;
    size_t blen = nul ? size - alen - 1 : size;

    bool a_ok = ecsrev_revision_normalize(&a, (const char *)data, alen, 0, &err) == 0;
    bool b_ok = ecsrev_revision_normalize(&b, (const char *)bdata, blen, 0, &err) == 0;
    if (a_ok) {
        check_self(&a);
    }
    if (a_ok && b_ok) {
        check_pair(&a, &b);
    }
    ecsrev_revision_dispose(&a);
    ecsrev_revision_dispose(&b);
    return 0;
}
