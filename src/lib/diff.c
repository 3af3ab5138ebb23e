/*
 * diff.c - the diff engine: field-level changes between two canonical
 * revision documents, and RFC 6902 JSON Patch between two documents.
 *
 * Invariants:
 * - the work is linear in the size of both documents (no LCS, no nested
 *   scans): objects whose members are in RFC 8785 order (every canonical
 *   document) are paired by one merge of both member lists; objects in any
 *   other order (raw JSON given to ecsrev_diff_docs) through a hash table, as
 *   are keyed array elements (by key) and set-like array members (by value);
 *   hash keys are borrowed from the trees, never copied;
 * - the display path of a value is kept as a stack of borrowed segments
 *   (member, key label, index) and rendered only when a change is emitted;
 * - the array rules come from ecsrev_canon_array_rule(), the same table the
 *   normalizer sorts with; a keyed array whose elements lack the key or repeat
 *   it falls back to comparison by index;
 * - serviceRevisionArn and createdAt (top level) and status, statusReason and
 *   updatedAt (anywhere inside ecsManagedResources) are skipped, which are
 *   exactly the members the configuration hash leaves out;
 * - the category is decided by the top-level member (by the second level
 *   under resolvedConfiguration); changes are sorted by category, then path,
 *   so the order of the walk never shows in the output.
 * Limits: recursion depth is bounded by the JSON parser (ECSREV_JSON_MAX_DEPTH).
 */
#include <ecsrev/diff.h>

#include "canon_priv.h"
#include "diff_priv.h"
#include "json_priv.h"

#include <ecsrev/canon.h>
#include <ecsrev/hash.h>

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

/*
 * Top-level members and their categories, sorted by name (strcmp) for a
 * binary search; unknown members are "other".
 */
static const struct {
    const char *member;
    int cat; /* -1: decided by the member below (resolvedConfiguration) */
} s_top_cats[] = {
    {"capacityProviderStrategy", ECSREV_CAT_COMPUTE},
    {"containerImages", ECSREV_CAT_IMAGES},
    {"ecsManagedResources", ECSREV_CAT_MANAGED_RESOURCES},
    {"fargateEphemeralStorage", ECSREV_CAT_VOLUMES},
    {"guardDutyEnabled", ECSREV_CAT_SECURITY},
    {"launchType", ECSREV_CAT_COMPUTE},
    {"loadBalancers", ECSREV_CAT_LOAD_BALANCERS},
    {"networkConfiguration", ECSREV_CAT_NETWORKING},
    {"overrides", ECSREV_CAT_COMPUTE},
    {"platformFamily", ECSREV_CAT_COMPUTE},
    {"platformVersion", ECSREV_CAT_COMPUTE},
    {"resolvedConfiguration", -1},
    {"serviceConnectConfiguration", ECSREV_CAT_SERVICE_CONNECT},
    {"serviceRegistries", ECSREV_CAT_SERVICE_DISCOVERY},
    {"taskDefinition", ECSREV_CAT_TASK_DEFINITION},
    {"volumeConfigurations", ECSREV_CAT_VOLUMES},
    {"vpcLatticeConfigurations", ECSREV_CAT_VPC_LATTICE},
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

/*
 * Whether @p v (may be NULL) has cJSON type @p type: the same test as
 * cJSON_IsObject() and friends, without a call into the shared library for
 * every node visited.
 */
static bool is_type(const cJSON *v, int type)
{
    return v != NULL && (v->type & 0xff) == type;
}

static bool is_volatile(const char *member)
{
    return strcmp(member, "status") == 0 || strcmp(member, "statusReason") == 0 ||
           strcmp(member, "updatedAt") == 0;
}

static int write_value(struct ecsrev_buf *out, const cJSON *item, bool skip_volatile,
                       struct ecsrev_error *err)
{
    int rc = 0;
    if (is_type(item, cJSON_True)) {
        return ecsrev_buf_puts(out, "true", err);
    }
    if (is_type(item, cJSON_False)) {
        return ecsrev_buf_puts(out, "false", err);
    }
    if (is_type(item, cJSON_Number)) {
        return ecsrev_canon_number(out, item->valuedouble, err);
    }
    if (is_type(item, cJSON_String)) {
        return ecsrev_canon__write_string(out, item->valuestring, err);
    }
    if (is_type(item, cJSON_Array) || is_type(item, cJSON_Object)) {
        bool obj = is_type(item, cJSON_Object);
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
    if (is_type(a, cJSON_Number)) {
        return a->valuedouble == b->valuedouble;
    }
    if (is_type(a, cJSON_String)) {
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
    if (!is_type(a, cJSON_Array) && !is_type(a, cJSON_Object)) {
        return scalar_equal(a, b);
    }
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (is_type(a, cJSON_Object) && strcmp(x->string, y->string) != 0) {
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

/* ---- a small hash table with borrowed keys ---- */

struct hent {
    const char *key; /* borrowed from a tree, or owned by the table (htab_keep) */
    uint64_t h;
    bool json;      /* key is the canonical JSON of a non-string set member */
    const cJSON *a; /* first element/member with this key in A */
    const cJSON *b; /* ... in B */
    size_t ca;      /* occurrences in A (set arrays) */
    size_t cb;      /* occurrences in B */
};

/* Slots kept inside the table itself: arrays of up to 7 elements per side need no allocation. */
#define HTAB_INLINE 16

/* Not movable once initialized (e may point into small). */
struct htab {
    struct hent *e;
    size_t cap;   /* power of two, > 2 * entries */
    char **owned; /* keys serialized for the table (non-string values), freed with it */
    size_t n_owned;
    size_t cap_owned;
    struct hent small[HTAB_INLINE];
};

static uint64_t key_hash(const char *s)
{
    uint8_t h[ECSREV_HASH_LEN];
    uint64_t v;
    ecsrev_hash128(h, s, strlen(s));
    memcpy(&v, h, sizeof(v));
    return v;
}

static void htab_init(struct htab *t, size_t n)
{
    t->owned = NULL;
    t->n_owned = 0;
    t->cap_owned = 0;
    t->cap = HTAB_INLINE;
    while (t->cap < 2 * n + 1) {
        t->cap *= 2;
    }
    if (t->cap == HTAB_INLINE) {
        memset(t->small, 0, sizeof(t->small));
        t->e = t->small;
    } else {
        t->e = ecsrev_xcalloc(t->cap, sizeof(*t->e));
    }
}

static void htab_dispose(struct htab *t)
{
    for (size_t i = 0; i < t->n_owned; i++) {
        free(t->owned[i]);
    }
    free(t->owned);
    if (t->e != t->small) {
        free(t->e);
    }
    t->e = NULL;
    t->owned = NULL;
    t->n_owned = 0;
}

/* Keep @p s (owned) until the table is disposed; returns @p s. */
static const char *htab_keep(struct htab *t, char *s)
{
    if (t->n_owned == t->cap_owned) {
        t->cap_owned = t->cap_owned == 0 ? 4 : t->cap_owned * 2;
        t->owned = ecsrev_xrealloc(t->owned, t->cap_owned * sizeof(*t->owned));
    }
    t->owned[t->n_owned++] = s;
    return s;
}

/*
 * Find (@p key, @p json); with @p create add it when missing (the table never
 * fills: cap > 2n). The key is borrowed: it must outlive the table. A table
 * in its inline slots (at most 7 keys) is not hashed: every key gets hash 0,
 * so the probe is a scan of the few keys packed from slot 0.
 */
static struct hent *htab_get(struct htab *t, const char *key, bool json, bool create)
{
    uint64_t h = t->e == t->small ? 0 : key_hash(key);
    size_t i = (size_t)h & (t->cap - 1);
    while (t->e[i].key != NULL) {
        if (t->e[i].h == h && t->e[i].json == json && strcmp(t->e[i].key, key) == 0) {
            return &t->e[i];
        }
        i = (i + 1) & (t->cap - 1);
    }
    if (!create) {
        return NULL;
    }
    t->e[i].key = key;
    t->e[i].h = h;
    t->e[i].json = json;
    return &t->e[i];
}

/*
 * Label of a key value or set member: a string is its own label (borrowed
 * from the tree), any other value its canonical JSON (kept by @p t).
 */
static int label_in(const char **out, struct htab *t, const cJSON *v, struct ecsrev_error *err)
{
    if (is_type(v, cJSON_String)) {
        *out = v->valuestring;
        return 0;
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    int rc = write_value(&b, v, false, err);
    if (rc < 0) {
        ecsrev_buf_dispose(&b);
        return rc;
    }
    *out = htab_keep(t, ecsrev_buf_detach(&b));
    return 0;
}

/* ---- the change walk ---- */

/*
 * One step of the path to the current value. Steps borrow their text from
 * the trees (member names, string keys) or from the hash table of the array
 * being walked, all of which outlive the step; the display path is rendered
 * from the stack only when a change is emitted.
 */
enum seg_kind {
    SEG_MEMBER, /* ".name" */
    SEG_LABEL,  /* "[label]": key of a keyed element, or a set member */
    SEG_INDEX,  /* "[3]" */
};

struct seg {
    enum seg_kind kind;
    const char *text; /* MEMBER, LABEL */
    size_t index;     /* INDEX */
};

struct dctx {
    struct ecsrev_changes *out;
    unsigned mask;
    struct seg *segs; /* path of the current value, outermost first */
    size_t depth;
    size_t cap;
    struct ecsrev_buf rule; /* scratch: member path without selectors, for the array rules */
    const char *owner;      /* innermost keyed element label, or NULL */
    int cat;                /* -1 until a top-level member fixed it */
    bool managed;           /* inside ecsManagedResources */
    bool nested;            /* below the top level (the member path so far is not "") */
    struct ecsrev_error *err;
};

static void grow_segs(struct dctx *c)
{
    c->cap = c->cap == 0 ? 16 : c->cap * 2;
    c->segs = ecsrev_xrealloc(c->segs, c->cap * sizeof(*c->segs));
}

/* Called for every value visited: small enough to be inlined. */
static void push_seg(struct dctx *c, enum seg_kind kind, const char *text, size_t index)
{
    if (c->depth == c->cap) {
        grow_segs(c);
    }
    c->segs[c->depth++] = (struct seg){kind, text, index};
}

/* Text of a step (an index is formatted into @p num). */
static const char *seg_text(const struct seg *s, char num[32])
{
    if (s->kind != SEG_INDEX) {
        return s->text;
    }
    (void)snprintf(num, 32, "%zu", s->index);
    return num;
}

/*
 * Render the path stack into @p out: "a.b[key].c", or with @p members_only
 * the member names alone ("a.b.c", the form the array rules are keyed by).
 */
static int render_path(struct ecsrev_buf *out, const struct dctx *c, bool members_only)
{
    char num[32];
    ecsrev_buf_clear(out);
    int rc = ecsrev_buf_puts(out, "", c->err);
    for (size_t i = 0; i < c->depth && rc == 0; i++) {
        const struct seg *s = &c->segs[i];
        if (s->kind == SEG_MEMBER) {
            if (out->len > 0) {
                rc = ecsrev_buf_putc(out, '.', c->err);
            }
            if (rc == 0) {
                rc = ecsrev_buf_puts(out, s->text, c->err);
            }
        } else if (!members_only && (rc = ecsrev_buf_putc(out, '[', c->err)) == 0 &&
                   (rc = ecsrev_buf_puts(out, seg_text(s, num), c->err)) == 0) {
            rc = ecsrev_buf_putc(out, ']', c->err);
        }
    }
    return rc;
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

/* Add one change at the current path (never at the top level: depth > 0). */
static int emit(struct dctx *c, enum ecsrev_change_op op, const cJSON *a, const cJSON *b)
{
    int cat = c->cat < 0 ? ECSREV_CAT_OTHER : c->cat;
    if (c->mask != 0 && (c->mask & (1u << cat)) == 0) {
        return 0;
    }
    struct ecsrev_buf path = ECSREV_BUF_INIT;
    int rc = render_path(&path, c, false);
    if (rc < 0) {
        ecsrev_buf_dispose(&path);
        return rc;
    }
    struct ecsrev_changes *out = c->out;
    if (out->n == out->cap) {
        out->cap = out->cap == 0 ? 16 : out->cap * 2;
        out->items = ecsrev_xrealloc(out->items, out->cap * sizeof(*out->items));
    }
    struct ecsrev_change *ch = &out->items[out->n];
    memset(ch, 0, sizeof(*ch));
    out->n++;
    char num[32];
    ch->cat = (enum ecsrev_diff_category)cat;
    ch->category = s_cat_names[cat];
    ch->op = op;
    ch->path = ecsrev_buf_detach(&path);
    ch->name = ecsrev_xstrdup(seg_text(&c->segs[c->depth - 1], num));
    ch->owner = c->owner != NULL ? ecsrev_xstrdup(c->owner) : NULL;
    ch->old_json = serialize(a, c->managed, &rc, c->err);
    if (rc == 0) {
        ch->new_json = serialize(b, c->managed, &rc, c->err);
    }
    return rc;
}

static int diff_value(struct dctx *c, const cJSON *a, const cJSON *b);

static int top_category(const char *member)
{
    size_t lo = 0;
    size_t hi = sizeof(s_top_cats) / sizeof(s_top_cats[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(member, s_top_cats[mid].member);
        if (r == 0) {
            return s_top_cats[mid].cat;
        }
        if (r < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return ECSREV_CAT_OTHER;
}

static bool skip_member(const struct dctx *c, const char *name)
{
    if (!c->nested) {
        return strcmp(name, "serviceRevisionArn") == 0 || strcmp(name, "createdAt") == 0;
    }
    return c->managed && is_volatile(name);
}

/* One object member present in A, B or both. */
static int diff_member(struct dctx *c, const cJSON *a, const cJSON *b, const char *name)
{
    int cat = c->cat;
    bool managed = c->managed;
    bool nested = c->nested;
    if (!nested) {
        c->cat = top_category(name);
        c->managed = strcmp(name, "ecsManagedResources") == 0;
    } else if (c->cat < 0) {
        c->cat = strcmp(name, "loadBalancers") == 0 ? ECSREV_CAT_LOAD_BALANCERS : ECSREV_CAT_OTHER;
    }
    c->nested = nested || name[0] != '\0';
    push_seg(c, SEG_MEMBER, name, 0);
    int rc = diff_value(c, a, b);
    c->depth--;
    c->cat = cat;
    c->managed = managed;
    c->nested = nested;
    return rc;
}

/* Members of two objects in any order (documents that are not canonical); either may be NULL. */
static int diff_object_hashed(struct dctx *c, const cJSON *a, const cJSON *b)
{
    struct htab t;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    for (const cJSON *m = a != NULL ? a->child : NULL; m != NULL; m = m->next) {
        htab_get(&t, m->string, false, true)->a = m;
    }
    for (const cJSON *m = b != NULL ? b->child : NULL; m != NULL; m = m->next) {
        htab_get(&t, m->string, false, true)->b = m;
    }
    for (const cJSON *m = a != NULL ? a->child : NULL; m != NULL && rc == 0; m = m->next) {
        if (!skip_member(c, m->string)) {
            rc = diff_member(c, m, htab_get(&t, m->string, false, false)->b, m->string);
        }
    }
    for (const cJSON *m = b != NULL ? b->child : NULL; m != NULL && rc == 0; m = m->next) {
        if (!skip_member(c, m->string) && htab_get(&t, m->string, false, false)->a == NULL) {
            rc = diff_member(c, NULL, m, m->string);
        }
    }
    htab_dispose(&t);
    return rc;
}

/* Whether the members of @p o (NULL: none) are strictly ascending in RFC 8785 order. */
static bool members_sorted(const cJSON *o)
{
    const cJSON *m = o != NULL ? o->child : NULL;
    for (; m != NULL && m->next != NULL; m = m->next) {
        if (ecsrev_canon__strcmp16(m->string, m->next->string) >= 0) {
            return false;
        }
    }
    return true;
}

/*
 * RFC 8785 order of two member names. Names on both sides are mostly equal,
 * which libc's strcmp confirms fastest; only unequal names need the UTF-16
 * order.
 */
static int name_order(const char *x, const char *y)
{
    return strcmp(x, y) == 0 ? 0 : ecsrev_canon__strcmp16(x, y);
}

/*
 * Members of two objects; either may be NULL (absent). Canonical documents
 * have their members in RFC 8785 order, so one merge of both member lists
 * pairs them; other documents (raw JSON given to ecsrev_diff_docs) go through
 * a hash table.
 */
static int diff_object(struct dctx *c, const cJSON *a, const cJSON *b)
{
    if (!members_sorted(a) || !members_sorted(b)) {
        return diff_object_hashed(c, a, b);
    }
    const cJSON *x = a != NULL ? a->child : NULL;
    const cJSON *y = b != NULL ? b->child : NULL;
    int rc = 0;
    while ((x != NULL || y != NULL) && rc == 0) {
        int order = x == NULL ? 1 : y == NULL ? -1 : name_order(x->string, y->string);
        const cJSON *mx = order <= 0 ? x : NULL;
        const cJSON *my = order >= 0 ? y : NULL;
        const char *name = mx != NULL ? mx->string : my->string;
        if (!skip_member(c, name)) {
            rc = diff_member(c, mx, my, name);
        }
        x = mx != NULL ? x->next : x;
        y = my != NULL ? y->next : y;
    }
    return rc;
}

/* Run diff_value (or emit) at "<path>[label]" (@p index for SEG_INDEX). */
static int at_selector(struct dctx *c, enum seg_kind kind, const char *label, size_t index,
                       const cJSON *a, const cJSON *b, const char *owner)
{
    const char *saved_owner = c->owner;
    push_seg(c, kind, label, index);
    int rc;
    if (a != NULL && b != NULL) {
        c->owner = owner != NULL ? owner : c->owner;
        rc = diff_value(c, a, b);
    } else {
        rc = emit(c, a != NULL ? ECSREV_CHANGE_REMOVED : ECSREV_CHANGE_ADDED, a, b);
    }
    c->depth--;
    c->owner = saved_owner;
    return rc;
}

static int diff_list(struct dctx *c, const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child;
    const cJSON *y = b->child;
    int rc = 0;
    for (size_t i = 0; (x != NULL || y != NULL) && rc == 0; i++) {
        rc = at_selector(c, SEG_INDEX, NULL, i, x, y, NULL);
        x = x != NULL ? x->next : NULL;
        y = y != NULL ? y->next : NULL;
    }
    return rc;
}

/* Count the members of set @p arr by value (strings by their text, others by canonical JSON). */
static int count_members(struct htab *t, const cJSON *arr, bool side_b, struct ecsrev_error *err)
{
    int rc = 0;
    for (const cJSON *e = arr->child; e != NULL && rc == 0; e = e->next) {
        const char *key = NULL;
        if ((rc = label_in(&key, t, e, err)) == 0) {
            struct hent *h = htab_get(t, key, !is_type(e, cJSON_String), true);
            if (side_b) {
                h->b = e;
                h->cb++;
            } else {
                h->a = e;
                h->ca++;
            }
        }
    }
    return rc;
}

/* Set-like arrays: the members only in A are removed, those only in B added (with multiplicity). */
static int diff_set(struct dctx *c, const cJSON *a, const cJSON *b)
{
    struct htab t;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = count_members(&t, a, false, c->err);
    if (rc == 0) {
        rc = count_members(&t, b, true, c->err);
    }
    for (size_t i = 0; i < t.cap && rc == 0; i++) {
        const struct hent *h = &t.e[i];
        for (size_t k = h->cb; h->key != NULL && k < h->ca && rc == 0; k++) {
            rc = at_selector(c, SEG_LABEL, h->key, 0, h->a, NULL, NULL);
        }
        for (size_t k = h->ca; h->key != NULL && k < h->cb && rc == 0; k++) {
            rc = at_selector(c, SEG_LABEL, h->key, 0, NULL, h->b, NULL);
        }
    }
    htab_dispose(&t);
    return rc;
}

static const cJSON *elem_key(const cJSON *e, const struct ecsrev_array_rule *r)
{
    if (!is_type(e, cJSON_Object)) {
        return NULL;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, r->key);
    if (k == NULL && r->alt_key != NULL) {
        k = cJSON_GetObjectItemCaseSensitive(e, r->alt_key);
    }
    return is_type(k, cJSON_String) || is_type(k, cJSON_Number) ? k : NULL;
}

/* Index every element of @p arr by key; false if one lacks its key or repeats one. */
static int index_keyed(struct htab *t, const cJSON *arr, bool side_b,
                       const struct ecsrev_array_rule *r, bool *ok, struct ecsrev_error *err)
{
    int rc = 0;
    for (const cJSON *e = arr->child; e != NULL && *ok; e = e->next) {
        const cJSON *k = elem_key(e, r);
        const char *label = NULL;
        if (k == NULL || (rc = label_in(&label, t, k, err)) < 0) {
            *ok = false;
            break;
        }
        struct hent *h = htab_get(t, label, false, true);
        const cJSON **slot = side_b ? &h->b : &h->a;
        if (*slot != NULL) {
            *ok = false;
            break;
        }
        *slot = e;
    }
    return rc;
}

/* Keyed arrays: elements matched by key; by index when a key is missing or repeated. */
static int diff_keyed(struct dctx *c, const cJSON *a, const cJSON *b,
                      const struct ecsrev_array_rule *r)
{
    struct htab t;
    bool ok = r->key != NULL;
    htab_init(&t, child_count(a) + child_count(b));
    int rc = 0;
    if (ok && (rc = index_keyed(&t, a, false, r, &ok, c->err)) == 0 && ok) {
        rc = index_keyed(&t, b, true, r, &ok, c->err);
    }
    if (rc == 0 && !ok) {
        rc = diff_list(c, a, b);
    }
    for (size_t i = 0; i < t.cap && rc == 0 && ok; i++) {
        const struct hent *h = &t.e[i];
        if (h->key != NULL) {
            rc = at_selector(c, SEG_LABEL, h->key, 0, h->a, h->b, h->key);
        }
    }
    htab_dispose(&t);
    return rc;
}

static int diff_array(struct dctx *c, const cJSON *a, const cJSON *b)
{
    int rc = render_path(&c->rule, c, true);
    if (rc < 0) {
        return rc;
    }
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

static int diff_value(struct dctx *c, const cJSON *a, const cJSON *b)
{
    if (c->cat >= 0 && c->mask != 0 && (c->mask & (1u << c->cat)) == 0) {
        return 0; /* the whole subtree is filtered out */
    }
    if (a == NULL || b == NULL) {
        /* Inside resolvedConfiguration the category is decided one level down. */
        if (c->cat < 0 && is_type(a != NULL ? a : b, cJSON_Object)) {
            return diff_object(c, a, b);
        }
        return emit(c, a != NULL ? ECSREV_CHANGE_REMOVED : ECSREV_CHANGE_ADDED, a, b);
    }
    if (kind(a) != kind(b)) {
        return emit(c, ECSREV_CHANGE_CHANGED, a, b);
    }
    if (is_type(a, cJSON_Object)) {
        return diff_object(c, a, b);
    }
    if (is_type(a, cJSON_Array)) {
        return diff_array(c, a, b);
    }
    return scalar_equal(a, b) ? 0 : emit(c, ECSREV_CHANGE_CHANGED, a, b);
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
    if (r == 0) {
        r = cmp_opt_str(x->new_json, y->new_json);
    }
    /* Ties only between oddly named members ("a.b" vs a → b): keep the order deterministic. */
    if (r == 0) {
        r = cmp_opt_str(x->name, y->name);
    }
    return r != 0 ? r : cmp_opt_str(x->owner, y->owner);
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

/*
 * Parse one side. With an @p arena, every block of the tree is allocated in
 * it (free the tree with ecsrev_json_arena_drop); with NULL, an ordinary
 * tree (cJSON_Delete).
 */
static int parse_doc(cJSON **out, const char *doc, size_t len, const char *which,
                     struct ecsrev_json_arena *arena, struct ecsrev_error *err)
{
    struct ecsrev_json_arena *prev = ecsrev_json_arena_enter(arena);
    int rc = ecsrev_json__parse_in(out, doc, len, arena, err);
    ecsrev_json_arena_leave(prev);
    if (rc < 0) {
        ecsrev_error_prefix(err, "revision %s", which);
        return rc;
    }
    if (!is_type(*out, cJSON_Object)) {
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
    struct dctx c;
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.mask = opt != NULL ? opt->categories : 0;
    c.cat = -1;
    c.err = err;
    int rc = diff_object(&c, a, b);
    if (rc == 0 && out->n > 1) {
        qsort(out->items, out->n, sizeof(*out->items), cmp_change);
    }
    if (rc < 0) {
        ecsrev_changes_dispose(out);
    }
    free(c.segs);
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
    if ((rc = parse_doc(&a, canon_a, len_a, "A", NULL, err)) == 0 &&
        (rc = parse_doc(&b, canon_b, len_b, "B", NULL, err)) == 0) {
        rc = diff_trees(out, a, b, opt, err);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}

struct ecsrev_diff_cache {
    uint8_t hash[2][ECSREV_HASH_LEN];
    cJSON *doc[2];
    struct ecsrev_json_arena *arena[2]; /* each slot's tree lives in its own arena */
    int next;                           /* slot to replace next */
};

struct ecsrev_diff_cache *ecsrev_diff_cache_new(void)
{
    struct ecsrev_diff_cache *c = ecsrev_xcalloc(1, sizeof(struct ecsrev_diff_cache));
    c->arena[0] = ecsrev_json_arena_new();
    c->arena[1] = ecsrev_json_arena_new();
    return c;
}

void ecsrev_diff_cache_free(struct ecsrev_diff_cache *c)
{
    if (c != NULL) {
        for (int i = 0; i < 2; i++) {
            ecsrev_json_arena_drop(c->arena[i], c->doc[i]);
            ecsrev_json_arena_free(c->arena[i]);
        }
        free(c);
    }
}

/* The slot holding @p r's document, or -1. */
static int cache_find(const struct ecsrev_diff_cache *c, const struct ecsrev_revision *r)
{
    for (int i = 0; i < 2; i++) {
        if (c->doc[i] != NULL && memcmp(c->hash[i], r->content_hash, ECSREV_HASH_LEN) == 0) {
            return i;
        }
    }
    return -1;
}

/* Parse @p r into @p slot, replacing what it held. */
static int cache_fill(struct ecsrev_diff_cache *c, const struct ecsrev_revision *r, int slot,
                      const char *which, struct ecsrev_error *err)
{
    ecsrev_json_arena_drop(c->arena[slot], c->doc[slot]);
    c->doc[slot] = NULL;
    int rc = parse_doc(&c->doc[slot], r->canon, r->canon_len, which, c->arena[slot], err);
    if (rc == 0) {
        memcpy(c->hash[slot], r->content_hash, ECSREV_HASH_LEN);
        c->next = 1 - slot;
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
    /* Look both up before parsing either, so that a miss never evicts the
     * other side: walking a history, each revision is parsed once. */
    struct ecsrev_diff_cache *c = opt->cache;
    int slot_a = cache_find(c, a);
    int slot_b = cache_find(c, b);
    int rc = 0;
    if (slot_a < 0) {
        slot_a = slot_b == 0 ? 1 : slot_b == 1 ? 0 : c->next;
        rc = cache_fill(c, a, slot_a, "A", err);
    }
    if (rc == 0 && slot_b < 0) {
        slot_b = 1 - slot_a;
        rc = cache_fill(c, b, slot_b, "B", err);
    }
    return rc < 0 ? rc : diff_trees(out, c->doc[slot_a], c->doc[slot_b], opt, err);
}

/* ---- RFC 6902 JSON Patch ---- */

static void truncate_buf(struct ecsrev_buf *b, size_t len)
{
    b->len = len;
    b->ptr[len] = '\0';
}

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
        htab_get(&t, m->string, false, true)->b = m;
    }
    for (const cJSON *m = a->child; m != NULL && rc == 0; m = m->next) {
        struct hent *h = htab_get(&t, m->string, false, true);
        h->a = m;
        rc = h->b == NULL ? patch_child(p, m->string, "remove", m, NULL)
                          : patch_child(p, m->string, NULL, m, h->b);
    }
    for (const cJSON *m = b->child; m != NULL && rc == 0; m = m->next) {
        if (htab_get(&t, m->string, false, false)->a == NULL) {
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
    if (is_type(a, cJSON_Object)) {
        return patch_object(p, a, b);
    }
    if (is_type(a, cJSON_Array)) {
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
