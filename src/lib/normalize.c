/*
 * normalize.c - turn one ECS ServiceRevision into its canonical document.
 *
 * Steps (docs/CANONICAL.md has every rule and why):
 *   1. strict parse (ecsrev_canon__parse: UTF-8, duplicates, depth);
 *   2. walk the tree along the model's type table (revision_schema.c):
 *      wrong types fail with the member path; JSON null of a known member
 *      fails too (ECS never sends null; an explicit null is a broken file);
 *      unknown members are not looked into and kept byte for byte;
 *   3. timestamps (every Timestamp-typed member) become the stored form
 *      "YYYY-MM-DDTHH:MM:SS.mmmZ", whether given as epoch seconds (number)
 *      or as text (ISO 8601 or epoch seconds);
 *   4. set-like arrays are sorted, keyed arrays ordered by their key (after
 *      their items were normalized, so ties break on canonical bytes);
 *   5. RFC 8785 serialization, XXH3-128 of it (content hash), and of the
 *      configuration document (identity and volatile members removed).
 *
 * Invariant: normalizing a canonical document gives the same bytes
 * (idempotent), so stored revisions can be re-normalized at any time.
 */
#include "canon_priv.h"
#include "json_priv.h"

#include <ecsrev/buf.h>
#include <ecsrev/canon.h>
#include <ecsrev/hash.h>

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ---- array rules -------------------------------------------------------- */

struct rule_entry {
    const char *path;
    size_t len; /* strlen(path) */
    struct ecsrev_array_rule rule;
};

#define SET_RULE(p)                                                                                \
    {                                                                                              \
        p, sizeof(p) - 1,                                                                          \
        {                                                                                          \
            ECSREV_ARRAY_SET, NULL, NULL                                                           \
        }                                                                                          \
    }
#define KEY_RULE(p, k, alt)                                                                        \
    {                                                                                              \
        p, sizeof(p) - 1,                                                                          \
        {                                                                                          \
            ECSREV_ARRAY_KEYED, k, alt                                                             \
        }                                                                                          \
    }

/* Every order-free array of ServiceRevision; see docs/CANONICAL.md. */
static const struct rule_entry s_rules[] = {
    SET_RULE("networkConfiguration.awsvpcConfiguration.subnets"),
    SET_RULE("networkConfiguration.awsvpcConfiguration.securityGroups"),
    SET_RULE("ecsManagedResources.ingressPaths.loadBalancer.subnetIds"),
    SET_RULE("ecsManagedResources.ingressPaths.loadBalancer.securityGroupIds"),
    SET_RULE("monitoring.metricConfigurations.metricNames"),
    KEY_RULE("capacityProviderStrategy", "capacityProvider", NULL),
    KEY_RULE("loadBalancers", "targetGroupArn", "loadBalancerName"),
    KEY_RULE("serviceRegistries", "registryArn", NULL),
    KEY_RULE("containerImages", "containerName", NULL),
    KEY_RULE("serviceConnectConfiguration.services", "portName", NULL),
    KEY_RULE("serviceConnectConfiguration.services.clientAliases", "port", NULL),
    KEY_RULE("serviceConnectConfiguration.logConfiguration.secretOptions", "name", NULL),
    KEY_RULE("volumeConfigurations", "name", NULL),
    KEY_RULE("volumeConfigurations.managedEBSVolume.tagSpecifications", "resourceType", NULL),
    KEY_RULE("volumeConfigurations.managedEBSVolume.tagSpecifications.tags", "key", NULL),
    KEY_RULE("vpcLatticeConfigurations", "targetGroupArn", NULL),
    KEY_RULE("resolvedConfiguration.loadBalancers", "targetGroupArn", NULL),
    KEY_RULE("ecsManagedResources.ingressPaths", "endpoint", NULL),
    KEY_RULE("ecsManagedResources.ingressPaths.loadBalancerSecurityGroups", "arn", NULL),
    KEY_RULE("ecsManagedResources.ingressPaths.targetGroups", "arn", NULL),
    KEY_RULE("ecsManagedResources.autoScaling.applicationAutoScalingPolicies", "arn", NULL),
    KEY_RULE("ecsManagedResources.metricAlarms", "arn", NULL),
    KEY_RULE("ecsManagedResources.serviceSecurityGroups", "arn", NULL),
    KEY_RULE("ecsManagedResources.logGroups", "arn", NULL),
    KEY_RULE("monitoring.metricConfigurations", "resolutionSeconds", NULL),
};

struct ecsrev_array_rule ecsrev_canon_array_rule(const char *path)
{
    for (size_t i = 0; path != NULL && i < sizeof(s_rules) / sizeof(s_rules[0]); i++) {
        if (strcmp(s_rules[i].path, path) == 0) {
            return s_rules[i].rule;
        }
    }
    struct ecsrev_array_rule list = {ECSREV_ARRAY_LIST, NULL, NULL};
    return list;
}

/* The member @p name of OBJECT shape @p shape, or NULL if unknown. */
static const struct ecsrev_canon__member *find_member(const struct ecsrev_canon__shape *shape,
                                                      const char *name)
{
    /* the members with name's first letter (one to four of them), by the index */
    unsigned k = (unsigned)(unsigned char)name[0] - 'a';
    if (shape == NULL || shape->first == NULL || k >= 26) {
        return NULL;
    }
    for (size_t i = shape->first[k]; i < shape->first[k + 1]; i++) {
        const char *m = shape->members[i].name;
        /* m == name: a name normalized before */
        if (m == name || (m[1] == name[1] && strcmp(m + 1, name + 1) == 0)) {
            return &shape->members[i];
        }
    }
    return NULL;
}

const struct ecsrev_canon__shape *
ecsrev_canon__member_shape(const struct ecsrev_canon__shape *shape, const char *name)
{
    const struct ecsrev_canon__member *m = find_member(shape, name);
    return m != NULL ? m->shape : NULL;
}

/*
 * Point the name of member @p c at the schema's copy of it, @p name (equal
 * text): the writer then knows its length and order without reading it.
 * cJSON_StringIsConst keeps cJSON_Delete off the static string.
 */
static void intern_name(cJSON *c, const char *name)
{
    if (c->string == name) {
        return;
    }
    if ((c->type & cJSON_StringIsConst) == 0) {
        cJSON_free(c->string);
    }
    c->string = (char *)(uintptr_t)name; /* never written through: the flag says so */
    c->type |= cJSON_StringIsConst;
}

/* ---- ordering arrays ---------------------------------------------------- */

struct sort_item {
    cJSON *item;
    const cJSON *key; /* key value, or NULL */
    int rank;         /* 0 key, 1 alternative key, 2 no key */
    char *bytes;      /* canonical bytes of the whole item (tie-break) */
    size_t len;
};

static int compare_values(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        return (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
    }
    if (cJSON_IsString(a) && cJSON_IsString(b)) {
        return ecsrev_canon__strcmp16(a->valuestring, b->valuestring);
    }
    /* mixed types: numbers before strings before anything else */
    int ta = cJSON_IsNumber(a) ? 0 : cJSON_IsString(a) ? 1 : 2;
    int tb = cJSON_IsNumber(b) ? 0 : cJSON_IsString(b) ? 1 : 2;
    return (ta > tb) - (ta < tb);
}

static int compare_items(const struct sort_item *a, const struct sort_item *b)
{
    if (a->rank != b->rank) {
        return a->rank < b->rank ? -1 : 1;
    }
    if (a->key != NULL && b->key != NULL) {
        int c = compare_values(a->key, b->key);
        if (c != 0) {
            return c;
        }
    }
    if (a->bytes == NULL || b->bytes == NULL) {
        return 0; /* a tie: sort_array serializes tied items and sorts again */
    }
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, n);
    if (c != 0) {
        return c;
    }
    return (a->len > b->len) - (a->len < b->len);
}

/* Canonical bytes of @p s's item, for ordering items that have no key or equal keys. */
static int item_bytes(struct sort_item *s, struct ecsrev_error *err)
{
    if (s->bytes != NULL) {
        return 0;
    }
    struct ecsrev_buf b = ECSREV_BUF_INIT;
    int rc = ecsrev_canon__write(&b, s->item, err);
    s->len = b.len;
    s->bytes = ecsrev_buf_detach(&b);
    return rc;
}

/*
 * Serialize the items whose order is not decided by their key: those
 * without one, and those whose key equals a neighbour's after sorting by key.
 * Most arrays have distinct keys, so most items are never serialized.
 * @return 1 if any item was serialized (sort again), 0 if none, <0 on error
 */
static int serialize_ties(struct sort_item *const *order, size_t n, struct ecsrev_error *err)
{
    int again = 0;
    bool tie_before = false; /* order[i - 1] and order[i] tie */
    for (size_t i = 0; i < n; i++) {
        /* no item has bytes yet, so these compare keys only */
        bool tie_after = i + 1 < n && compare_items(order[i], order[i + 1]) == 0;
        bool tie = order[i]->rank == 2 || tie_before || tie_after;
        tie_before = tie_after;
        if (tie && order[i]->bytes == NULL) {
            int rc = item_bytes(order[i], err);
            if (rc < 0) {
                return rc;
            }
            again = 1;
        }
    }
    return again;
}

/* The key of one item: a string or number member named by the rule. */
static void item_key(struct sort_item *s, const struct ecsrev_array_rule *rule)
{
    s->rank = 2;
    s->key = NULL;
    if (rule->kind == ECSREV_ARRAY_SET) {
        if (cJSON_IsString(s->item) || cJSON_IsNumber(s->item)) {
            s->rank = 0;
            s->key = s->item;
        }
        return;
    }
    const char *names[2] = {rule->key, rule->alt_key};
    for (int i = 0; i < 2; i++) {
        const cJSON *k = names[i] != NULL && cJSON_IsObject(s->item)
                             ? cJSON_GetObjectItemCaseSensitive(s->item, names[i])
                             : NULL;
        if (cJSON_IsString(k) || cJSON_IsNumber(k)) {
            s->rank = i;
            s->key = k;
            return;
        }
    }
}

/* Items kept on the stack while an array is sorted; more go to the heap. */
#define ITEMS_ON_STACK 32

/* Sort @p order by compare_items: binary insertion (arrays here are short). */
static void sort_items(struct sort_item **order, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct sort_item *x = order[i];
        if (compare_items(order[i - 1], x) <= 0) {
            continue;
        }
        size_t lo = 0;
        size_t hi = i - 1; /* order[hi] > x: find the first item greater than x */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (compare_items(order[mid], x) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        memmove((void *)(order + lo + 1), (const void *)(order + lo),
                (i - lo) * sizeof(*order)); /* NOLINT(bugprone-sizeof-expression) */
        order[lo] = x;
    }
}

static int sort_array(cJSON *array, const struct ecsrev_array_rule *rule, struct ecsrev_error *err)
{
    size_t n = 0;
    for (const cJSON *c = array->child; c != NULL; c = c->next) {
        n++;
    }
    if (n < 2) {
        return 0;
    }
    /* the items stay in place (they own their bytes); order is what gets sorted */
    struct sort_item items_stack[ITEMS_ON_STACK];
    struct sort_item *order_stack[ITEMS_ON_STACK];
    bool small = n <= ITEMS_ON_STACK;
    struct sort_item *items = small ? items_stack : ecsrev_xcalloc(n, sizeof(*items));
    /* An array of pointers: sizeof(pointer) is meant here. */
    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
    struct sort_item **order = small ? order_stack : ecsrev_xcalloc(n, sizeof(*order));
    int rc = 0;
    size_t i = 0;
    for (cJSON *c = array->child; c != NULL && i < n; c = c->next, i++) {
        items[i].item = c;
        items[i].bytes = NULL;
        items[i].len = 0;
        item_key(&items[i], rule);
        order[i] = &items[i];
    }
    sort_items(order, n);
    if ((rc = serialize_ties(order, n, err)) < 0) {
        goto done;
    }
    if (rc > 0) {
        rc = 0;
        sort_items(order, n);
    }
    /* relink by hand (cJSON's invariant: child->prev is the tail, tail->next
       is NULL); cJSON 1.7.15's insert/detach helpers lose items when mixed */
    array->child = order[0]->item;
    for (i = 0; i < n; i++) {
        order[i]->item->prev = order[i == 0 ? n - 1 : i - 1]->item;
        order[i]->item->next = i + 1 < n ? order[i + 1]->item : NULL;
    }
done:
    for (i = 0; i < n; i++) {
        free(items[i].bytes);
    }
    if (!small) {
        free(items);
        free((void *)order);
    }
    return rc;
}

/* ---- type walk ---------------------------------------------------------- */

/*
 * Where the walk is: one frame per level, on the C stack of walk_child, linked
 * to its parent. Paths are rendered from the frames only when needed: the
 * message path ("loadBalancers[2].containerPort") when an error is reported,
 * the rule path without indices ("loadBalancers") when an array with two or
 * more items is to be ordered. NULL is the document itself.
 */
struct frame {
    const struct frame *up;
    const char *name; /* member name, or NULL for an array item */
    size_t index;     /* array index when name is NULL */
};

/* A rendered path: at most PATH_MAX_LEN - 1 bytes, the rest cut off. */
#define PATH_MAX_LEN 512

/* Append @p s (or its head, if it does not fit) to a path buffer. */
static void path_add(char *buf, size_t *len, const char *sep, const char *s)
{
    size_t n = *len;
    for (const char *p = n > 0 ? sep : ""; *p != '\0' && n + 1 < PATH_MAX_LEN; p++) {
        buf[n++] = *p;
    }
    for (; *s != '\0' && n + 1 < PATH_MAX_LEN; s++) {
        buf[n++] = *s;
    }
    buf[n] = '\0';
    *len = n;
}

/* Render the path of @p f into @p buf (PATH_MAX_LEN bytes); indices only if @p indices. */
static void render_path(char *buf, size_t *len, const struct frame *f, bool indices)
{
    if (f == NULL) {
        *len = 0;
        buf[0] = '\0';
        return;
    }
    render_path(buf, len, f->up, indices);
    if (f->name != NULL) {
        path_add(buf, len, ".", f->name);
        return;
    }
    if (!indices) {
        return;
    }
    char idx[32]; /* "[index]" */
    size_t n = sizeof(idx);
    size_t index = f->index;
    idx[--n] = '\0';
    idx[--n] = ']';
    do {
        idx[--n] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0 && n > 1);
    idx[--n] = '[';
    path_add(buf, len, "", idx + n);
}

/* The message path of @p f in @p buf, with control characters of input names replaced. */
static const char *shown(char buf[PATH_MAX_LEN], const struct frame *f)
{
    size_t len = 0;
    render_path(buf, &len, f, true);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            buf[i] = '?';
        }
    }
    return buf;
}

static const char *expected_name(enum ecsrev_canon__type t)
{
    switch (t) {
    case ECSREV_CANON__STRING:
        return "a string";
    case ECSREV_CANON__NUMBER:
        return "a number";
    case ECSREV_CANON__BOOLEAN:
        return "a boolean";
    case ECSREV_CANON__TIMESTAMP:
        return "a timestamp (number or string)";
    case ECSREV_CANON__OBJECT:
    case ECSREV_CANON__MAP:
        return "an object";
    case ECSREV_CANON__ARRAY:
        return "an array";
    default:
        return "?";
    }
}

static const char *got_name(const cJSON *item)
{
    const char *t = ecsrev_json__type_name(item);
    if (strcmp(t, "null") == 0) {
        return "null";
    }
    if (strcmp(t, "object") == 0 || strcmp(t, "array") == 0) {
        return strcmp(t, "object") == 0 ? "an object" : "an array";
    }
    return strcmp(t, "string") == 0   ? "a string"
           : strcmp(t, "number") == 0 ? "a number"
                                      : "a boolean";
}

static bool type_matches(enum ecsrev_canon__type t, const cJSON *item)
{
    int type = item->type & 0xff; /* the cJSON_Is* tests without a call each */
    switch (t) {
    case ECSREV_CANON__STRING:
        return type == cJSON_String;
    case ECSREV_CANON__NUMBER:
        return type == cJSON_Number;
    case ECSREV_CANON__BOOLEAN:
        return type == cJSON_True || type == cJSON_False;
    case ECSREV_CANON__TIMESTAMP:
        return type == cJSON_Number || type == cJSON_String;
    case ECSREV_CANON__OBJECT:
    case ECSREV_CANON__MAP:
        return type == cJSON_Object;
    case ECSREV_CANON__ARRAY:
        return type == cJSON_Array;
    default:
        return false;
    }
}

/* Milliseconds of a timestamp given as a number: as its shortest text would give. */
static int number_ms(int64_t *out, double seconds, struct ecsrev_error *err)
{
    if (ecsrev_canon__seconds_to_ms(out, seconds)) {
        return 0;
    }
    /* go through the shortest text so numbers and text round alike */
    struct ecsrev_buf text = ECSREV_BUF_INIT;
    int rc = ecsrev_canon_number(&text, seconds, err);
    if (rc == 0) {
        rc = ecsrev_time_parse(out, text.ptr, err);
    }
    ecsrev_buf_dispose(&text);
    return rc;
}

/* Replace a timestamp value by its stored-form string. */
static int convert_timestamp(cJSON *parent, cJSON *item, const struct frame *at,
                             struct ecsrev_error *err)
{
    int64_t ms = 0;
    int rc = cJSON_IsNumber(item) ? number_ms(&ms, item->valuedouble, err)
                                  : ecsrev_time_parse(&ms, item->valuestring, err);
    char path[PATH_MAX_LEN];
    if (rc < 0) {
        ecsrev_error_prefix(err, "%s", shown(path, at));
        return rc;
    }
    char stored[32];
    ecsrev_time_format(stored, ms);
    if (cJSON_IsString(item) && strcmp(item->valuestring, stored) == 0) {
        return 0;
    }
    cJSON *repl = cJSON_CreateString(stored);
    /* ReplaceItemViaPointer does not carry the member name over */
    bool ok = cJSON_IsObject(parent)
                  ? cJSON_ReplaceItemInObjectCaseSensitive(parent, item->string, repl)
                  : cJSON_ReplaceItemViaPointer(parent, item, repl);
    if (!ok) {
        cJSON_Delete(repl);
        return ecsrev_error_set(err, ECSREV_EINVAL, "%s: cannot replace timestamp",
                                shown(path, at));
    }
    return 0;
}

static int walk_value(cJSON *parent, cJSON *item, const struct ecsrev_canon__shape *shape,
                      const struct frame *at, struct ecsrev_error *err);

/* Descend into one child: member @p name, or array item @p index if name is NULL. */
static int walk_child(cJSON *parent, cJSON *child, const struct ecsrev_canon__shape *shape,
                      const char *name, size_t index, const struct frame *at,
                      struct ecsrev_error *err)
{
    struct frame f = {at, name, index};
    return walk_value(parent, child, shape, &f, err);
}

/* The nearest frame from @p f up that is a member (array items have no name). */
static const struct frame *named(const struct frame *f)
{
    while (f != NULL && f->name == NULL) {
        f = f->up;
    }
    return f;
}

/*
 * Whether @p path[0..len) is the rule path of the frames from @p f up: their
 * member names joined by '.', array items left out (the rendered rule path,
 * compared from its end without rendering it). @p f is a member frame whose
 * name is @p path's tail of length @p tail.
 */
static bool rule_path_is(const char *path, size_t len, const struct frame *f, size_t tail)
{
    for (;;) {
        if (tail > len || memcmp(path + len - tail, f->name, tail) != 0) {
            return false;
        }
        len -= tail;
        f = named(f->up);
        if (f == NULL || len == 0) {
            return f == NULL && len == 0;
        }
        if (path[len - 1] != '.') {
            return false;
        }
        len--;
        tail = strlen(f->name);
    }
}

/* The rule of the array at @p at: ecsrev_canon_array_rule() of its rule path. */
static struct ecsrev_array_rule rule_at(const struct frame *at)
{
    const struct frame *leaf = named(at);
    size_t n = leaf != NULL ? strlen(leaf->name) : 0;
    for (size_t i = 0; leaf != NULL && i < sizeof(s_rules) / sizeof(s_rules[0]); i++) {
        const struct rule_entry *r = &s_rules[i];
        /* most rules end in another name: where it would start tells */
        size_t start = r->len - n;
        if (n > 0 && r->len >= n && (start == 0 || r->path[start - 1] == '.') &&
            r->path[start] == leaf->name[0] && rule_path_is(r->path, r->len, leaf, n)) {
            return r->rule;
        }
    }
    struct ecsrev_array_rule list = {ECSREV_ARRAY_LIST, NULL, NULL};
    return list;
}

/* Order an array whose items were walked, if its rule says so. */
static int order_array(cJSON *array, const struct frame *at, struct ecsrev_error *err)
{
    if (array->child == NULL || array->child->next == NULL) {
        return 0; /* nothing to order */
    }
    struct ecsrev_array_rule rule = rule_at(at);
    return rule.kind != ECSREV_ARRAY_LIST ? sort_array(array, &rule, err) : 0;
}

/* Whether @p item needs no walk: a string, number or boolean of its model type. */
static bool scalar_done(const struct ecsrev_canon__shape *shape, const cJSON *item)
{
    return (shape->type == ECSREV_CANON__STRING || shape->type == ECSREV_CANON__NUMBER ||
            shape->type == ECSREV_CANON__BOOLEAN) &&
           type_matches(shape->type, item);
}

/*
 * Walk the members of an OBJECT: known ones get the schema's name (see
 * intern_name) and are checked; unknown ones are kept as they are.
 */
static int walk_object(cJSON *item, const struct ecsrev_canon__shape *shape, const struct frame *at,
                       struct ecsrev_error *err)
{
    int rc = 0;
    cJSON *next = NULL;
    for (cJSON *c = item->child; rc == 0 && c != NULL; c = next) {
        next = c->next; /* c may be replaced (timestamps) */
        const struct ecsrev_canon__member *m = find_member(shape, c->string);
        if (m == NULL) {
            continue; /* unknown members are kept as they are */
        }
        intern_name(c, m->name);
        if (!scalar_done(m->shape, c)) {
            rc = walk_child(item, c, m->shape, c->string, 0, at, err);
        }
    }
    return rc;
}

static int walk_value(cJSON *parent, cJSON *item, const struct ecsrev_canon__shape *shape,
                      const struct frame *at, struct ecsrev_error *err)
{
    if (!type_matches(shape->type, item)) {
        char path[PATH_MAX_LEN];
        return ecsrev_error_set(err, ECSREV_EINVAL, "%s: expected %s, got %s", shown(path, at),
                                expected_name(shape->type), got_name(item));
    }
    int rc = 0;
    size_t index = 0;
    cJSON *next = NULL;
    switch (shape->type) {
    case ECSREV_CANON__TIMESTAMP:
        return convert_timestamp(parent, item, at, err);
    case ECSREV_CANON__OBJECT:
        return walk_object(item, shape, at, err);
    case ECSREV_CANON__MAP:
        for (cJSON *c = item->child; rc == 0 && c != NULL; c = next) {
            next = c->next;
            rc = walk_child(item, c, shape->element, c->string, 0, at, err);
        }
        return rc;
    case ECSREV_CANON__ARRAY:
        for (cJSON *c = item->child; rc == 0 && c != NULL; c = next, index++) {
            next = c->next;
            if (!scalar_done(shape->element, c)) {
                rc = walk_child(item, c, shape->element, NULL, index, at, err);
            }
        }
        return rc == 0 ? order_array(item, at, err) : rc;
    default:
        return 0;
    }
}

int ecsrev_canon__normalize_tree(cJSON *doc, unsigned flags, struct ecsrev_error *err)
{
    (void)flags;
    assert(doc != NULL);
    if (!cJSON_IsObject(doc)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "expected a service revision object, got %s",
                                got_name(doc));
    }
    return walk_value(NULL, doc, ecsrev_canon__revision_shape(), NULL, err);
}

/* ---- configuration document --------------------------------------------- */

static void strip_managed(cJSON *item)
{
    if (cJSON_IsObject(item)) {
        cJSON_DeleteItemFromObjectCaseSensitive(item, "status");
        cJSON_DeleteItemFromObjectCaseSensitive(item, "statusReason");
        cJSON_DeleteItemFromObjectCaseSensitive(item, "updatedAt");
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        for (cJSON *c = item->child; c != NULL; c = c->next) {
            strip_managed(c);
        }
    }
}

void ecsrev_canon__strip_volatile(cJSON *doc)
{
    if (!cJSON_IsObject(doc)) {
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "serviceRevisionArn");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "createdAt");
    cJSON *managed = cJSON_GetObjectItemCaseSensitive(doc, "ecsManagedResources");
    if (managed != NULL) {
        strip_managed(managed);
    }
}

/* Strip, re-order (ties may have changed) and serialize a normalized tree. */
static int config_bytes(struct ecsrev_buf *out, cJSON *doc, struct ecsrev_error *err)
{
    /* Stripping statuses can change the order of managed-resource items that
     * have no key (they sort by their bytes): only then normalize again. */
    bool managed = cJSON_GetObjectItemCaseSensitive(doc, "ecsManagedResources") != NULL;
    ecsrev_canon__strip_volatile(doc);
    int rc = managed ? ecsrev_canon__normalize_tree(doc, 0, err) : 0;
    if (rc == 0) {
        rc = ecsrev_canon__write(out, doc, err);
    }
    return rc;
}

int ecsrev_revision_config_doc(struct ecsrev_buf *out, const char *canon, size_t len,
                               struct ecsrev_error *err)
{
    cJSON *doc = NULL;
    int rc = ecsrev_canon__parse(&doc, canon, len, err);
    if (rc < 0) {
        return rc;
    }
    rc = config_bytes(out, doc, err);
    cJSON_Delete(doc);
    return rc;
}

/* ---- identity ----------------------------------------------------------- */

struct arn_parts {
    char partition[32];
    char region[32];
    char account[16];
    char cluster[256];
    char service[256];
};

/* Characters allowed in the parts of a revision ARN (bits of arn_class). */
enum arn_chars {
    ARN_LOWER = 1, /* a-z 0-9 - */
    ARN_NAME = 2,  /* A-Z a-z 0-9 - _ */
    ARN_DIGIT = 4, /* 0-9 */
};

static unsigned arn_class(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= '0' && c <= '9') {
        return ARN_LOWER | ARN_NAME | ARN_DIGIT;
    }
    if ((c >= 'a' && c <= 'z') || c == '-') {
        return ARN_LOWER | ARN_NAME;
    }
    return (c >= 'A' && c <= 'Z') || c == '_' ? ARN_NAME : 0;
}

/* Copy the next @p sep-terminated field of @p allowed characters; advance *p. */
static bool take_field(const char **p, char sep, char *out, size_t cap, unsigned allowed)
{
    size_t n = 0;
    const char *s = *p;
    while (*s != '\0' && *s != sep) {
        if ((arn_class(*s) & allowed) == 0 || n + 1 >= cap) {
            return false;
        }
        out[n++] = *s++;
    }
    out[n] = '\0';
    if (n == 0 || *s != sep) {
        return false;
    }
    *p = s + 1;
    return true;
}

/* arn:<partition>:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id> */
static bool parse_revision_arn(const char *arn, struct arn_parts *out)
{
    const char *p = arn;
    if (strncmp(p, "arn:", 4) != 0) {
        return false;
    }
    p += 4;
    if (!take_field(&p, ':', out->partition, sizeof(out->partition), ARN_LOWER) ||
        strncmp(p, "ecs:", 4) != 0) {
        return false;
    }
    p += 4;
    if (!take_field(&p, ':', out->region, sizeof(out->region), ARN_LOWER) ||
        !take_field(&p, ':', out->account, sizeof(out->account), ARN_DIGIT) ||
        strlen(out->account) != 12 || strncmp(p, "service-revision/", 17) != 0) {
        return false;
    }
    p += 17;
    if (!take_field(&p, '/', out->cluster, sizeof(out->cluster), ARN_NAME) ||
        !take_field(&p, '/', out->service, sizeof(out->service), ARN_NAME)) {
        return false;
    }
    size_t n = 0;
    while ((arn_class(p[n]) & ARN_NAME) != 0) {
        n++;
    }
    return n > 0 && n < 256 && p[n] == '\0';
}

/* The top-level members that from_tree reads, found in one pass (find_identity). */
enum identity_slot {
    ID_ARN,     /* serviceRevisionArn */
    ID_SERVICE, /* serviceArn */
    ID_CLUSTER, /* clusterArn */
    ID_TASK,    /* taskDefinition */
    ID_CREATED, /* createdAt */
    ID_MANAGED, /* ecsManagedResources */
    ID_COUNT,
};

static const char *const s_identity_names[ID_COUNT] = {
    "serviceRevisionArn", "serviceArn", "clusterArn",
    "taskDefinition",     "createdAt",  "ecsManagedResources",
};

/* found[slot] = the first member of @p doc named s_identity_names[slot], or NULL. */
static void find_identity(const cJSON *found[ID_COUNT], const cJSON *doc)
{
    for (int i = 0; i < ID_COUNT; i++) {
        found[i] = NULL;
    }
    for (const cJSON *c = doc->child; c != NULL; c = c->next) {
        const char *name = c->string != NULL ? c->string : "";
        for (int i = 0; i < ID_COUNT; i++) {
            const char *want = s_identity_names[i];
            if (found[i] == NULL && name[0] == want[0] && strcmp(name, want) == 0) {
                found[i] = c;
                break;
            }
        }
    }
}

static char *string_value(const cJSON *v)
{
    return cJSON_IsString(v) ? ecsrev_xstrdup(v->valuestring) : NULL;
}

static int fill_identity(struct ecsrev_revision *rev, const cJSON *const found[ID_COUNT],
                         unsigned flags, struct ecsrev_error *err)
{
    bool strict = (flags & ECSREV_NORMALIZE_REQUIRE_IDENTITY) != 0;
    rev->arn = string_value(found[ID_ARN]);
    rev->service_arn = string_value(found[ID_SERVICE]);
    rev->cluster_arn = string_value(found[ID_CLUSTER]);
    rev->task_definition = string_value(found[ID_TASK]);
    const cJSON *created = found[ID_CREATED];
    rev->created_ms = ECSREV_TIME_NONE;
    if (cJSON_IsString(created)) {
        int rc = ecsrev_time_parse(&rev->created_ms, created->valuestring, err);
        if (rc < 0) {
            return rc; /* cannot happen: the walk stored a valid time */
        }
    }
    struct arn_parts parts;
    bool parsed = rev->arn != NULL && parse_revision_arn(rev->arn, &parts);
    if (strict && rev->arn == NULL) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "missing serviceRevisionArn");
    }
    if (strict && !parsed) {
        char shown[204];
        ecsrev_canon__printable(shown, sizeof(shown), rev->arn);
        return ecsrev_error_set(err, ECSREV_EINVAL,
                                "serviceRevisionArn: not a service revision ARN: '%s'", shown);
    }
    if (strict && rev->created_ms == ECSREV_TIME_NONE) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "missing createdAt");
    }
    if (parsed && rev->service_arn == NULL) {
        struct ecsrev_buf b = ECSREV_BUF_INIT;
        int rc = ecsrev_buf_printf(&b, err, "arn:%s:ecs:%s:%s:service/%s/%s", parts.partition,
                                   parts.region, parts.account, parts.cluster, parts.service);
        rev->service_arn = ecsrev_buf_detach(&b);
        if (rc < 0) {
            return rc;
        }
    }
    if (parsed && rev->cluster_arn == NULL) {
        struct ecsrev_buf b = ECSREV_BUF_INIT;
        int rc = ecsrev_buf_printf(&b, err, "arn:%s:ecs:%s:%s:cluster/%s", parts.partition,
                                   parts.region, parts.account, parts.cluster);
        rev->cluster_arn = ecsrev_buf_detach(&b);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- public ------------------------------------------------------------- */

/* Top-level members that the configuration document leaves out. */
static const char *const s_identity_members[] = {"serviceRevisionArn", "createdAt", NULL};

int ecsrev_revision__from_tree(struct ecsrev_revision *out, cJSON *doc, unsigned flags,
                               struct ecsrev_error *err)
{
    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    out->created_ms = ECSREV_TIME_NONE;
    struct ecsrev_buf canon = ECSREV_BUF_INIT;
    struct ecsrev_buf config = ECSREV_BUF_INIT;
    const cJSON *found[ID_COUNT];
    int rc;
    if ((rc = ecsrev_canon__normalize_tree(doc, flags, err)) < 0) {
        goto done;
    }
    find_identity(found, doc);
    if ((rc = fill_identity(out, found, flags, err)) < 0) {
        goto done;
    }
    if (found[ID_MANAGED] == NULL) {
        /* the configuration document is the canonical one without the
           identity members: one serialization for both */
        rc = ecsrev_canon__write_split(&canon, &config, doc, s_identity_members, err);
    } else if ((rc = ecsrev_canon__write(&canon, doc, err)) == 0) {
        rc = config_bytes(&config, doc, err);
    }
    if (rc < 0) {
        goto done;
    }
    out->canon_len = canon.len;
    out->canon = ecsrev_buf_detach(&canon);
    ecsrev_hash128(out->content_hash, out->canon, out->canon_len);
    ecsrev_hash128(out->config_hash, config.ptr != NULL ? config.ptr : "", config.len);
done:
    if (rc < 0) {
        ecsrev_revision_dispose(out);
    }
    ecsrev_buf_dispose(&canon);
    ecsrev_buf_dispose(&config);
    return rc;
}

int ecsrev_revision_normalize(struct ecsrev_revision *out, const char *json, size_t len,
                              unsigned flags, struct ecsrev_error *err)
{
    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    out->created_ms = ECSREV_TIME_NONE;
    cJSON *doc = NULL;
    int rc = ecsrev_canon__parse(&doc, json, len, err);
    if (rc == 0) {
        rc = ecsrev_revision__from_tree(out, doc, flags, err);
        cJSON_Delete(doc);
    }
    return rc;
}

void ecsrev_revision_dispose(struct ecsrev_revision *rev)
{
    if (rev == NULL) {
        return;
    }
    free(rev->arn);
    free(rev->service_arn);
    free(rev->cluster_arn);
    free(rev->task_definition);
    free(rev->canon);
    memset(rev, 0, sizeof(*rev));
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? ecsrev_xstrdup(s) : NULL;
}

void ecsrev_revision_copy(struct ecsrev_revision *out, const struct ecsrev_revision *src)
{
    assert(out != NULL && src != NULL);
    *out = *src;
    out->arn = dup_or_null(src->arn);
    out->service_arn = dup_or_null(src->service_arn);
    out->cluster_arn = dup_or_null(src->cluster_arn);
    out->task_definition = dup_or_null(src->task_definition);
    out->canon = NULL;
    if (src->canon != NULL) {
        out->canon = ecsrev_xmalloc(src->canon_len + 1);
        memcpy(out->canon, src->canon, src->canon_len);
        out->canon[src->canon_len] = '\0';
    }
}
