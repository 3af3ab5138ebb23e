/*
 * diff.c - the diff engine: field-level changes between two canonical
 * revision documents, and RFC 6902 JSON Patch between two documents.
 *
 * Invariants:
 * - objects are matched member by member, keyed arrays element by key and
 *   set-like arrays member by value, all through one open-addressing hash
 *   table per object/array: the work is linear in the size of both documents
 *   (no LCS, no nested scans);
 * - the array rules come from ecsrev_canon_array_rule(), the same table the
 *   normalizer sorts with; a keyed array whose elements lack the key or repeat
 *   it falls back to comparison by index;
 * - serviceRevisionArn and createdAt (top level) and status, statusReason and
 *   updatedAt (anywhere inside ecsManagedResources) are skipped, which are
 *   exactly the members the configuration hash leaves out;
 * - the category is decided by the top-level member (by the second level
 *   under resolvedConfiguration); changes are sorted by category, then path.
 * Limits: recursion depth is bounded by the JSON parser (ECSREV_JSON_MAX_DEPTH).
 */
#include <ecsrev/diff.h>

#include "canon_priv.h"
#include "diff_priv.h"
#include "json_priv.h"

#include <ecsrev/canon.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *const s_cat_names[ECSREV_CAT_COUNT] = {
    "images",  "task-definition", "networking",        "load-balancers",
    "volumes", "service-connect", "service-discovery", "vpc-lattice",
    "compute", "security",        "managed-resources", "other",
};

/* Top-level members and their categories; unknown members are "other". */
static const struct {
    const char *member;
    int cat; /* -1: decided by the member below (resolvedConfiguration) */
} s_top_cats[] = {
    {"containerImages", ECSREV_CAT_IMAGES},
    {"taskDefinition", ECSREV_CAT_TASK_DEFINITION},
    {"networkConfiguration", ECSREV_CAT_NETWORKING},
    {"loadBalancers", ECSREV_CAT_LOAD_BALANCERS},
    {"volumeConfigurations", ECSREV_CAT_VOLUMES},
    {"fargateEphemeralStorage", ECSREV_CAT_VOLUMES},
    {"serviceConnectConfiguration", ECSREV_CAT_SERVICE_CONNECT},
    {"serviceRegistries", ECSREV_CAT_SERVICE_DISCOVERY},
    {"vpcLatticeConfigurations", ECSREV_CAT_VPC_LATTICE},
    {"launchType", ECSREV_CAT_COMPUTE},
    {"capacityProviderStrategy", ECSREV_CAT_COMPUTE},
    {"platformVersion", ECSREV_CAT_COMPUTE},
    {"platformFamily", ECSREV_CAT_COMPUTE},
    {"overrides", ECSREV_CAT_COMPUTE},
    {"guardDutyEnabled", ECSREV_CAT_SECURITY},
    {"ecsManagedResources", ECSREV_CAT_MANAGED_RESOURCES},
    {"resolvedConfiguration", -1},
};

const char *ecsrev_diff_category_name(enum ecsrev_diff_category cat)
{
    if ((int)cat < 0 || cat >= ECSREV_CAT_COUNT) {
        return s_cat_names[ECSREV_CAT_OTHER];
    }
    return s_cat_names[cat];
}

int ecsrev_diff_category_parse(unsigned *mask, const char *list, struct ecsrev_error *err)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[0] == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ') {
            len--;
        }
        int found = -1;
        for (int i = 0; i < ECSREV_CAT_COUNT; i++) {
            if (strlen(s_cat_names[i]) == len && memcmp(s_cat_names[i], p, len) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            return ecsrev_error_set(err, ECSREV_EINVAL,
                                    "unknown category '%.*s' (expected images, task-definition, "
                                    "networking, load-balancers, volumes, service-connect, "
                                    "service-discovery, vpc-lattice, compute, security, "
                                    "managed-resources or other)",
                                    (int)(len > 64 ? 64 : len), p);
        }
        *mask |= 1u << found;
        if (end == NULL) {
            return 0;
        }
        p = end + 1;
    }
}

/* ---- canonical serialization of parsed values ---- */

static bool is_volatile(const char *member)
{
    return strcmp(member, "status") == 0 || strcmp(member, "statusReason") == 0 ||
           strcmp(member, "updatedAt") == 0;
}

static int write_value(struct ecsrev_buf *out, const cJSON *item, bool skip_volatile,
                       struct ecsrev_error *err)
{
    int rc = 0;
    if (cJSON_IsTrue(item)) {
        return ecsrev_buf_puts(out, "true", err);
    }
    if (cJSON_IsFalse(item)) {
        return ecsrev_buf_puts(out, "false", err);
    }
    if (cJSON_IsNumber(item)) {
        return ecsrev_canon_number(out, item->valuedouble, err);
    }
    if (cJSON_IsString(item)) {
        return ecsrev_canon__write_string(out, item->valuestring, err);
    }
    if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
        bool obj = cJSON_IsObject(item);
        bool first = true;
        if ((rc = ecsrev_buf_putc(out, obj ? '{' : '[', err)) < 0) {
            return rc;
        }
        for (const cJSON *m = item->child; m != NULL; m = m->next) {
            if (obj && skip_volatile && is_volatile(m->string)) {
                continue;
            }
            if (!first && (rc = ecsrev_buf_putc(out, ',', err)) < 0) {
                return rc;
            }
            first = false;
            if (obj && ((rc = ecsrev_canon__write_string(out, m->string, err)) < 0 ||
                        (rc = ecsrev_buf_putc(out, ':', err)) < 0)) {
                return rc;
            }
            if ((rc = write_value(out, m, skip_volatile, err)) < 0) {
                return rc;
            }
        }
        return ecsrev_buf_putc(out, obj ? '}' : ']', err);
    }
    return ecsrev_buf_puts(out, "null", err);
}

int ecsrev_diff__write_value(struct ecsrev_buf *out, const cJSON *item, struct ecsrev_error *err)
{
    return write_value(out, item, false, err);
}

/* ---- value comparison ---- */

/* cJSON type without flags, true and false folded into one "boolean" kind. */
static int kind(const cJSON *v)
{
    int t = v->type & 0xff;
    return t == cJSON_True ? cJSON_False : t;
}

static bool scalar_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a)) {
        return a->valuedouble == b->valuedouble;
    }
    if (cJSON_IsString(a)) {
        return strcmp(a->valuestring, b->valuestring) == 0;
    }
    return (a->type & 0xff) == (b->type & 0xff);
}

/*
 * Deep equality assuming both sides are canonical (members in the same
 * order). Two equal documents in different member orders compare unequal,
 * which only makes a JSON Patch longer, never wrong.
 */
static bool json_equal(const cJSON *a, const cJSON *b)
{
    if (kind(a) != kind(b)) {
        return false;
    }
    if (!cJSON_IsArray(a) && !cJSON_IsObject(a)) {
        return scalar_equal(a, b);
    }
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) {
            return false;
        }
        if (!json_equal(x, y)) {
            return false;
        }
    }
    return x == NULL && y == NULL;
}

static size_t child_count(const cJSON *v)
{
    size_t n = 0;
    for (const cJSON *c = v != NULL ? v->child : NULL; c != NULL; c = c->next) {
        n++;
    }
    return n;
}

/* ---- a small string-keyed hash table ---- */

struct hent {
    char *key; /* owned */
    uint64_t h;
    const cJSON *a; /* first element/member with this key in A */
    const cJSON *b; /* ... in B */
    size_t ca;      /* occurrences in A (set arrays) */
    size_t cb;      /* occurrences in B */
};

struct htab {
    struct hent *e;
    size_t cap; /* power of two, > 2 * entries */
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void htab_init(struct htab *t, size_t n)
{
    t->cap = 16;
    while (t->cap < 2 * n + 1) {
        t->cap *= 2;
    }
    t->e = ecsrev_xcalloc(t->cap, sizeof(*t->e));
}

static void htab_dispose(struct htab *t)
{
    for (size_t i = 0; t->e != NULL && i < t->cap; i++) {
        free(t->e[i].key);
    }
    free(t->e);
    t->e = NULL;
}

/* Find @p key; with @p create add it when missing (the table never fills: cap > 2n). */
static struct hent *htab_get(struct htab *t, const char *key, bool create)
{
    uint64_t h = fnv1a(key);
    size_t i = (size_t)h & (t->cap - 1);
    while (t->e[i].key != NULL) {
        if (t->e[i].h == h && strcmp(t->e[i].key, key) == 0) {
            return &t->e[i];
        }
        i = (i + 1) & (t->cap - 1);
    }
    if (!create) {
        return NULL;
    }
    t->e[i].key = ecsrev_xstrdup(key);
    t->e[i].h = h;
    return &t->e[i];
}

/* ---- the change walk ---- */

struct dctx {
    struct ecsrev_changes *out;
    unsigned mask;
    struct ecsrev_buf path; /* display path, "a.b[key].c" */
    struct ecsrev_buf rule; /* member path without selectors, for the array rules */
    const char *owner;      /* innermost keyed element label, or NULL */
    int cat;                /* -1 until a top-level member fixed it */
    bool managed;           /* inside ecsManagedResources */
    struct ecsrev_error *err;
};

static void truncate_buf(struct ecsrev_buf *b, size_t len)
{
    b->len = len;
    b->ptr[len] = '\0';
}

static char *serialize(const cJSON *v, bool skip_volatile, int *rc, struct ecsrev_error *err)
{
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    if (v == NULL) {
        return NULL;
    }
    if ((*rc = write_value(&b, v, skip_volatile, err)) < 0) {
        ecsrev_buf_dispose(&b);
        return NULL;
    }
    return ecsrev_buf_detach(&b);
}

static int emit(struct dctx *c, enum ecsrev_change_op op, const cJSON *a, const cJSON *b,
                const char *name)
{
    int cat = c->cat < 0 ? ECSREV_CAT_OTHER : c->cat;
    if (c->mask != 0 && (c->mask & (1u << cat)) == 0) {
        return 0;
    }
    struct ecsrev_changes *out = c->out;
    if (out->n == out->cap) {
        out->cap = out->cap == 0 ? 16 : out->cap * 2;
        out->items = ecsrev_xrealloc(out->items, out->cap * sizeof(*out->items));
    }
    struct ecsrev_change *ch = &out->items[out->n];
    memset(ch, 0, sizeof(*ch));
    out->n++;
    ch->cat = (enum ecsrev_diff_category)cat;
    ch->category = s_cat_names[cat];
    ch->op = op;
    ch->path = ecsrev_xstrdup(c->path.ptr);
    ch->name = ecsrev_xstrdup(name);
    ch->owner = c->owner != NULL ? ecsrev_xstrdup(c->owner) : NULL;
    int rc = 0;
    ch->old_json = serialize(a, c->managed, &rc, c->err);
    if (rc == 0) {
        ch->new_json = serialize(b, c->managed, &rc, c->err);
    }
    return rc;
}

static int diff_value(struct dctx *c, const cJSON *a, const cJSON *b, const char *name);

static int push_member(struct dctx *c, const char *name)
{
    int rc;
    if (c->path.len > 0 && (rc = ecsrev_buf_putc(&c->path, '.', c->err)) < 0) {
        return rc;
    }
    if (c->rule.len > 0 && (rc = ecsrev_buf_putc(&c->rule, '.', c->err)) < 0) {
        return rc;
    }
    if ((rc = ecsrev_buf_puts(&c->path, name, c->err)) < 0) {
        return rc;
    }
    return ecsrev_buf_puts(&c->rule, name, c->err);
}

static int top_category(const char *member)
{
    for (size_t i = 0; i < sizeof(s_top_cats) / sizeof(s_top_cats[0]); i++) {
        if (strcmp(s_top_cats[i].member, member) == 0) {
            return s_top_cats[i].cat;
        }
    }
    return ECSREV_CAT_OTHER;
}

static bool skip_member(const struct dctx *c, const char *name)
{
    if (c->rule.len == 0) {
        return strcmp(name, "serviceRevisionArn") == 0 || strcmp(name, "createdAt") == 0;
    }
    return c->managed && is_volatile(name);
}

/* One object member present in A, B or both. */
static int diff_member(struct dctx *c, const cJSON *a, const cJSON *b, const char *name)
{
    size_t path_len = c->path.len;
    size_t rule_len = c->rule.len;
    int cat = c->cat;
    bool managed = c->managed;
    if (rule_len == 0) {
        c->cat = top_category(name);
        c->managed = strcmp(name, "ecsManagedResources") == 0;
    } else if (c->cat < 0) {
        c->cat = strcmp(name, "loadBalancers") == 0 ? ECSREV_CAT_LOAD_BALANCERS : ECSREV_CAT_OTHER;
    }
    int rc = push_member(c, name);
    if (rc == 0) {
        rc = diff_value(c, a, b, name);
    }
    truncate_buf(&c->path, path_len);
    truncate_buf(&c->rule, rule_len);
    c->cat = cat;
    c->managed = managed;
    return rc;
}

/* Members of two objects; either may be NULL (absent). */
static int diff_object(struct dctx *c, const cJSON *a, const cJSON *b)
{
    struct htab t;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    for (const cJSON *m = a != NULL ? a->child : NULL; m != NULL; m = m->next) {
        htab_get(&t, m->string, true)->a = m;
    }
    for (const cJSON *m = b != NULL ? b->child : NULL; m != NULL; m = m->next) {
        htab_get(&t, m->string, true)->b = m;
    }
    for (const cJSON *m = a != NULL ? a->child : NULL; m != NULL && rc == 0; m = m->next) {
        if (!skip_member(c, m->string)) {
            rc = diff_member(c, m, htab_get(&t, m->string, false)->b, m->string);
        }
    }
    for (const cJSON *m = b != NULL ? b->child : NULL; m != NULL && rc == 0; m = m->next) {
        if (!skip_member(c, m->string) && htab_get(&t, m->string, false)->a == NULL) {
            rc = diff_member(c, NULL, m, m->string);
        }
    }
    htab_dispose(&t);
    return rc;
}

/* Label of a set member or key value: strings as they are, others as canonical JSON. */
static int label_of(struct ecsrev_buf *out, const cJSON *v, struct ecsrev_error *err)
{
    ecsrev_buf_clear(out);
    if (cJSON_IsString(v)) {
        return ecsrev_buf_puts(out, v->valuestring, err);
    }
    int rc = write_value(out, v, false, err);
    if (rc == 0 && out->ptr == NULL) {
        rc = ecsrev_buf_puts(out, "", err);
    }
    return rc;
}

/* Run diff_value (or emit) at path "<path>[label]". */
static int at_selector(struct dctx *c, const char *label, const cJSON *a, const cJSON *b,
                       const char *owner)
{
    size_t path_len = c->path.len;
    const char *saved_owner = c->owner;
    int rc = ecsrev_buf_printf(&c->path, c->err, "[%s]", label);
    if (rc == 0) {
        if (a != NULL && b != NULL) {
            c->owner = owner != NULL ? owner : c->owner;
            rc = diff_value(c, a, b, label);
        } else {
            rc = emit(c, a != NULL ? ECSREV_CHANGE_REMOVED : ECSREV_CHANGE_ADDED, a, b, label);
        }
    }
    c->owner = saved_owner;
    truncate_buf(&c->path, path_len);
    return rc;
}

static int diff_list(struct dctx *c, const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    int rc = 0;
    char label[32];
    for (size_t i = 0; (x != NULL || y != NULL) && rc == 0; i++) {
        (void)snprintf(label, sizeof(label), "%zu", i);
        rc = at_selector(c, label, x, y, NULL);
        x = x != NULL ? x->next : NULL;
        y = y != NULL ? y->next : NULL;
    }
    return rc;
}

static int diff_set(struct dctx *c, const cJSON *a, const cJSON *b)
{
    struct htab t;
    struct ecsrev_buf key = ECSREV_BUF_INIT;
    struct ecsrev_buf label = ECSREV_BUF_INIT;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    for (const cJSON *e = a->child; e != NULL && rc == 0; e = e->next) {
        ecsrev_buf_clear(&key);
        if ((rc = write_value(&key, e, false, c->err)) == 0) {
            struct hent *h = htab_get(&t, key.ptr, true);
            h->a = e;
            h->ca++;
        }
    }
    for (const cJSON *e = b->child; e != NULL && rc == 0; e = e->next) {
        ecsrev_buf_clear(&key);
        if ((rc = write_value(&key, e, false, c->err)) == 0) {
            struct hent *h = htab_get(&t, key.ptr, true);
            h->b = e;
            h->cb++;
        }
    }
    /* Surplus occurrences: A's are removed, B's are added. */
    for (int side = 0; side < 2 && rc == 0; side++) {
        for (const cJSON *e = (side == 0 ? a : b)->child; e != NULL && rc == 0; e = e->next) {
            ecsrev_buf_clear(&key);
            if ((rc = write_value(&key, e, false, c->err)) < 0 ||
                (rc = label_of(&label, e, c->err)) < 0) {
                break;
            }
            struct hent *h = htab_get(&t, key.ptr, false);
            size_t *mine = side == 0 ? &h->ca : &h->cb;
            size_t theirs = side == 0 ? h->cb : h->ca;
            while (*mine > theirs && rc == 0) {
                rc = at_selector(c, label.ptr, side == 0 ? e : NULL, side == 0 ? NULL : e, NULL);
                (*mine)--;
            }
        }
    }
    ecsrev_buf_dispose(&key);
    ecsrev_buf_dispose(&label);
    htab_dispose(&t);
    return rc;
}

static const cJSON *elem_key(const cJSON *e, const struct ecsrev_array_rule *r)
{
    if (!cJSON_IsObject(e)) {
        return NULL;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, r->key);
    if (k == NULL && r->alt_key != NULL) {
        k = cJSON_GetObjectItemCaseSensitive(e, r->alt_key);
    }
    return cJSON_IsString(k) || cJSON_IsNumber(k) ? k : NULL;
}

/* Index every element of @p arr by key; false if one lacks its key or repeats one. */
static int index_keyed(struct htab *t, const cJSON *arr, bool side_b,
                       const struct ecsrev_array_rule *r, struct ecsrev_buf *label, bool *ok,
                       struct ecsrev_error *err)
{
    int rc = 0;
    for (const cJSON *e = arr->child; e != NULL && *ok; e = e->next) {
        const cJSON *k = elem_key(e, r);
        if (k == NULL || (rc = label_of(label, k, err)) < 0) {
            *ok = false;
            break;
        }
        struct hent *h = htab_get(t, label->ptr, true);
        const cJSON **slot = side_b ? &h->b : &h->a;
        if (*slot != NULL) {
            *ok = false;
            break;
        }
        *slot = e;
    }
    return rc;
}

static int diff_keyed(struct dctx *c, const cJSON *a, const cJSON *b,
                      const struct ecsrev_array_rule *r)
{
    struct htab t;
    struct ecsrev_buf label = ECSREV_BUF_INIT;
    bool ok = r->key != NULL;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    if (ok && (rc = index_keyed(&t, a, false, r, &label, &ok, c->err)) == 0 && ok) {
        rc = index_keyed(&t, b, true, r, &label, &ok, c->err);
    }
    if (rc == 0 && !ok) {
        rc = diff_list(c, a, b);
        goto done;
    }
    for (const cJSON *e = a->child; e != NULL && rc == 0; e = e->next) {
        if ((rc = label_of(&label, elem_key(e, r), c->err)) == 0) {
            struct hent *h = htab_get(&t, label.ptr, false);
            rc = at_selector(c, h->key, h->a, h->b, h->key);
        }
    }
    for (const cJSON *e = b->child; e != NULL && rc == 0; e = e->next) {
        if ((rc = label_of(&label, elem_key(e, r), c->err)) == 0) {
            struct hent *h = htab_get(&t, label.ptr, false);
            if (h->a == NULL) {
                rc = at_selector(c, h->key, NULL, h->b, NULL);
            }
        }
    }
done:
    ecsrev_buf_dispose(&label);
    htab_dispose(&t);
    return rc;
}

static int diff_array(struct dctx *c, const cJSON *a, const cJSON *b)
{
    struct ecsrev_array_rule r = ecsrev_canon_array_rule(c->rule.ptr);
    switch (r.kind) {
    case ECSREV_ARRAY_SET:
        return diff_set(c, a, b);
    case ECSREV_ARRAY_KEYED:
        return diff_keyed(c, a, b, &r);
    case ECSREV_ARRAY_LIST:
    default:
        return diff_list(c, a, b);
    }
}

static int diff_value(struct dctx *c, const cJSON *a, const cJSON *b, const char *name)
{
    if (c->cat >= 0 && c->mask != 0 && (c->mask & (1u << c->cat)) == 0) {
        return 0; /* the whole subtree is filtered out */
    }
    if (a == NULL || b == NULL) {
        /* Inside resolvedConfiguration the category is decided one level down. */
        if (c->cat < 0 && cJSON_IsObject(a != NULL ? a : b)) {
            return diff_object(c, a, b);
        }
        return emit(c, a != NULL ? ECSREV_CHANGE_REMOVED : ECSREV_CHANGE_ADDED, a, b, name);
    }
    if (kind(a) != kind(b)) {
        return emit(c, ECSREV_CHANGE_CHANGED, a, b, name);
    }
    if (cJSON_IsObject(a)) {
        return diff_object(c, a, b);
    }
    if (cJSON_IsArray(a)) {
        return diff_array(c, a, b);
    }
    return scalar_equal(a, b) ? 0 : emit(c, ECSREV_CHANGE_CHANGED, a, b, name);
}

static int cmp_opt_str(const char *x, const char *y)
{
    if (x == NULL || y == NULL) {
        return (x != NULL) - (y != NULL);
    }
    return strcmp(x, y);
}

static int cmp_change(const void *pa, const void *pb)
{
    const struct ecsrev_change *x = pa;
    const struct ecsrev_change *y = pb;
    if (x->cat != y->cat) {
        return x->cat < y->cat ? -1 : 1;
    }
    int r = strcmp(x->path, y->path);
    if (r != 0) {
        return r;
    }
    if (x->op != y->op) {
        return x->op < y->op ? -1 : 1;
    }
    r = cmp_opt_str(x->old_json, y->old_json);
    return r != 0 ? r : cmp_opt_str(x->new_json, y->new_json);
}

void ecsrev_changes_init(struct ecsrev_changes *c)
{
    memset(c, 0, sizeof(*c));
}

void ecsrev_changes_dispose(struct ecsrev_changes *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].path);
        free(c->items[i].old_json);
        free(c->items[i].new_json);
        free(c->items[i].name);
        free(c->items[i].owner);
    }
    free(c->items);
    memset(c, 0, sizeof(*c));
}

static int parse_doc(cJSON **out, const char *doc, size_t len, const char *which,
                     struct ecsrev_error *err)
{
    int rc = ecsrev_json__parse(out, doc, len, err);
    if (rc < 0) {
        ecsrev_error_prefix(err, "revision %s", which);
        return rc;
    }
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return ecsrev_error_set(err, ECSREV_EINVAL, "revision %s: expected an object, got %s",
                                which, "another JSON value");
    }
    return 0;
}

static int diff_trees(struct ecsrev_changes *out, const cJSON *a, const cJSON *b,
                      const struct ecsrev_diff_options *opt, struct ecsrev_error *err)
{
    struct dctx c = {
        out, opt != NULL ? opt->categories : 0, ECSREV_BUF_INIT, ECSREV_BUF_INIT, NULL, -1, false,
        err};
    int rc;
    if ((rc = ecsrev_buf_puts(&c.path, "", err)) == 0 &&
        (rc = ecsrev_buf_puts(&c.rule, "", err)) == 0 && (rc = diff_object(&c, a, b)) == 0 &&
        out->n > 1) {
        qsort(out->items, out->n, sizeof(*out->items), cmp_change);
    }
    if (rc < 0) {
        ecsrev_changes_dispose(out);
    }
    ecsrev_buf_dispose(&c.path);
    ecsrev_buf_dispose(&c.rule);
    return rc;
}

int ecsrev_diff_docs(struct ecsrev_changes *out, const char *canon_a, size_t len_a,
                     const char *canon_b, size_t len_b, const struct ecsrev_diff_options *opt,
                     struct ecsrev_error *err)
{
    cJSON *a = NULL;
    cJSON *b = NULL;
    ecsrev_changes_dispose(out);
    int rc;
    if ((rc = parse_doc(&a, canon_a, len_a, "A", err)) == 0 &&
        (rc = parse_doc(&b, canon_b, len_b, "B", err)) == 0) {
        rc = diff_trees(out, a, b, opt, err);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}

struct ecsrev_diff_cache {
    uint8_t hash[2][ECSREV_HASH_LEN];
    cJSON *doc[2];
    int next; /* slot to replace next */
};

struct ecsrev_diff_cache *ecsrev_diff_cache_new(void)
{
    return ecsrev_xcalloc(1, sizeof(struct ecsrev_diff_cache));
}

void ecsrev_diff_cache_free(struct ecsrev_diff_cache *c)
{
    if (c != NULL) {
        cJSON_Delete(c->doc[0]);
        cJSON_Delete(c->doc[1]);
        free(c);
    }
}

/* The parsed document of @p r from the cache, parsing it into a slot other than @p keep. */
static int cached_doc(const cJSON **out, struct ecsrev_diff_cache *c,
                      const struct ecsrev_revision *r, int keep, int *slot, const char *which,
                      struct ecsrev_error *err)
{
    for (int i = 0; i < 2; i++) {
        if (c->doc[i] != NULL && memcmp(c->hash[i], r->content_hash, ECSREV_HASH_LEN) == 0) {
            *out = c->doc[i];
            *slot = i;
            return 0;
        }
    }
    int i = keep == 0 ? 1 : keep == 1 ? 0 : c->next;
    cJSON_Delete(c->doc[i]);
    c->doc[i] = NULL;
    int rc = parse_doc(&c->doc[i], r->canon, r->canon_len, which, err);
    if (rc == 0) {
        memcpy(c->hash[i], r->content_hash, ECSREV_HASH_LEN);
        c->next = 1 - i;
        *out = c->doc[i];
        *slot = i;
    }
    return rc;
}

int ecsrev_diff_revisions(struct ecsrev_changes *out, const struct ecsrev_revision *a,
                          const struct ecsrev_revision *b, const struct ecsrev_diff_options *opt,
                          struct ecsrev_error *err)
{
    ecsrev_changes_dispose(out);
    if (memcmp(a->config_hash, b->config_hash, ECSREV_HASH_LEN) == 0) {
        out->same_config = true;
        return 0;
    }
    if (a->canon == NULL || b->canon == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "revision without a canonical document");
    }
    if (opt == NULL || opt->cache == NULL) {
        return ecsrev_diff_docs(out, a->canon, a->canon_len, b->canon, b->canon_len, opt, err);
    }
    const cJSON *ta = NULL;
    const cJSON *tb = NULL;
    int slot_a = -1;
    int slot_b = -1;
    int rc = cached_doc(&ta, opt->cache, a, -1, &slot_a, "A", err);
    if (rc == 0) {
        rc = cached_doc(&tb, opt->cache, b, slot_a, &slot_b, "B", err);
    }
    return rc < 0 ? rc : diff_trees(out, ta, tb, opt, err);
}

/* ---- RFC 6902 JSON Patch ---- */

struct pctx {
    struct ecsrev_buf *out;
    struct ecsrev_buf ptr; /* JSON Pointer of the current value */
    bool first;
    struct ecsrev_error *err;
};

static int patch_op(struct pctx *p, const char *op, const cJSON *value)
{
    int rc;
    if ((rc = ecsrev_buf_puts(p->out, p->first ? "  " : ",\n  ", p->err)) < 0 ||
        (rc = ecsrev_buf_printf(p->out, p->err, "{\"op\":\"%s\",\"path\":", op)) < 0 ||
        (rc = ecsrev_canon__write_string(p->out, p->ptr.ptr, p->err)) < 0) {
        return rc;
    }
    p->first = false;
    if (value != NULL && ((rc = ecsrev_buf_puts(p->out, ",\"value\":", p->err)) < 0 ||
                          (rc = write_value(p->out, value, false, p->err)) < 0)) {
        return rc;
    }
    return ecsrev_buf_putc(p->out, '}', p->err);
}

/* Append "/token" to the pointer, escaping '~' and '/' (RFC 6901). */
static int push_token(struct pctx *p, const char *token)
{
    int rc = ecsrev_buf_putc(&p->ptr, '/', p->err);
    for (const char *s = token; *s != '\0' && rc == 0; s++) {
        if (*s == '~') {
            rc = ecsrev_buf_puts(&p->ptr, "~0", p->err);
        } else if (*s == '/') {
            rc = ecsrev_buf_puts(&p->ptr, "~1", p->err);
        } else {
            rc = ecsrev_buf_putc(&p->ptr, *s, p->err);
        }
    }
    return rc;
}

static int patch_value(struct pctx *p, const cJSON *a, const cJSON *b);

/* op on a child (member name or index) of the current pointer. */
static int patch_child(struct pctx *p, const char *token, const char *op, const cJSON *a,
                       const cJSON *b)
{
    size_t len = p->ptr.len;
    int rc = push_token(p, token);
    if (rc == 0) {
        rc = op != NULL ? patch_op(p, op, b) : patch_value(p, a, b);
    }
    truncate_buf(&p->ptr, len);
    return rc;
}

static int patch_object(struct pctx *p, const cJSON *a, const cJSON *b)
{
    struct htab t;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    for (const cJSON *m = b->child; m != NULL; m = m->next) {
        htab_get(&t, m->string, true)->b = m;
    }
    for (const cJSON *m = a->child; m != NULL && rc == 0; m = m->next) {
        struct hent *h = htab_get(&t, m->string, true);
        h->a = m;
        rc = h->b == NULL ? patch_child(p, m->string, "remove", m, NULL)
                          : patch_child(p, m->string, NULL, m, h->b);
    }
    for (const cJSON *m = b->child; m != NULL && rc == 0; m = m->next) {
        if (htab_get(&t, m->string, false)->a == NULL) {
            rc = patch_child(p, m->string, "add", NULL, m);
        }
    }
    htab_dispose(&t);
    return rc;
}

/*
 * Arrays: skip the equal prefix and suffix, patch the overlapping middle
 * element by element, then remove A's surplus or add B's, at fixed indices.
 */
static int patch_array(struct pctx *p, const cJSON *a, const cJSON *b)
{
    size_t na = child_count(a);
    size_t nb = child_count(b);
    const cJSON **va = ecsrev_xcalloc(na + 1, sizeof(const cJSON *));
    const cJSON **vb = ecsrev_xcalloc(nb + 1, sizeof(const cJSON *));
    size_t i = 0;
    for (const cJSON *e = a->child; e != NULL; e = e->next) {
        va[i++] = e;
    }
    i = 0;
    for (const cJSON *e = b->child; e != NULL; e = e->next) {
        vb[i++] = e;
    }
    size_t pre = 0;
    while (pre < na && pre < nb && json_equal(va[pre], vb[pre])) {
        pre++;
    }
    size_t suf = 0;
    while (suf < na - pre && suf < nb - pre && json_equal(va[na - 1 - suf], vb[nb - 1 - suf])) {
        suf++;
    }
    size_t ma = na - pre - suf;
    size_t mb = nb - pre - suf;
    int rc = 0;
    char token[32];
    for (i = 0; i < ma && i < mb && rc == 0; i++) {
        (void)snprintf(token, sizeof(token), "%zu", pre + i);
        rc = patch_child(p, token, NULL, va[pre + i], vb[pre + i]);
    }
    for (i = mb; i < ma && rc == 0; i++) {
        (void)snprintf(token, sizeof(token), "%zu", pre + mb);
        rc = patch_child(p, token, "remove", va[pre + i], NULL);
    }
    for (i = ma; i < mb && rc == 0; i++) {
        (void)snprintf(token, sizeof(token), "%zu", pre + i);
        rc = patch_child(p, token, "add", NULL, vb[pre + i]);
    }
    free(va);
    free(vb);
    return rc;
}

static int patch_value(struct pctx *p, const cJSON *a, const cJSON *b)
{
    if (kind(a) != kind(b)) {
        return patch_op(p, "replace", b);
    }
    if (cJSON_IsObject(a)) {
        return patch_object(p, a, b);
    }
    if (cJSON_IsArray(a)) {
        return patch_array(p, a, b);
    }
    return scalar_equal(a, b) ? 0 : patch_op(p, "replace", b);
}

int ecsrev_diff_patch(struct ecsrev_buf *out, const char *canon_a, size_t len_a,
                      const char *canon_b, size_t len_b, struct ecsrev_error *err)
{
    cJSON *a = NULL;
    cJSON *b = NULL;
    struct pctx p = {out, ECSREV_BUF_INIT, true, err};
    int rc;
    if ((rc = ecsrev_json__parse(&a, canon_a, len_a, err)) < 0) {
        ecsrev_error_prefix(err, "revision A");
        goto done;
    }
    if ((rc = ecsrev_json__parse(&b, canon_b, len_b, err)) < 0) {
        ecsrev_error_prefix(err, "revision B");
        goto done;
    }
    if ((rc = ecsrev_buf_puts(&p.ptr, "", err)) < 0 ||
        (rc = ecsrev_buf_puts(out, "[\n", err)) < 0 || (rc = patch_value(&p, a, b)) < 0) {
        goto done;
    }
    rc = ecsrev_buf_puts(out, p.first ? "]\n" : "\n]\n", err);
done:
    ecsrev_buf_dispose(&p.ptr);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}
