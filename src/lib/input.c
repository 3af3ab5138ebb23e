/*
 * input.c - split an input document into ServiceRevision objects and
 * normalize each one (see include/ecsrev/input.h for the accepted forms).
 *
 * The whole text is first tried as one JSON value; if there is data after
 * the first value, it is read as JSON Lines (one value per non-empty line).
 * Errors name the revision's place: "serviceRevisions[3]", "line 7", or both.
 */
#include <ecsrev/input.h>

#include <ecsrev/buf.h>

#include <stdlib.h>
#include <string.h>

#include "canon_priv.h"
#include "json_priv.h"

#include "banned.h"

static char *dup_string_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? ecsrev_xstrdup(v->valuestring) : NULL;
}

static void add_rev(struct ecsrev_input *in, size_t *cap, const struct ecsrev_revision *rev)
{
    if (in->n == *cap) {
        *cap = *cap == 0 ? 16 : *cap * 2;
        in->revs = ecsrev_xrealloc(in->revs, *cap * sizeof(*in->revs));
    }
    in->revs[in->n++] = *rev;
}

static int add_one(struct ecsrev_input *in, size_t *cap, cJSON *item, unsigned flags,
                   struct ecsrev_error *err)
{
    if (!cJSON_IsObject(item)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "expected a revision object, got %s %s",
                                cJSON_IsArray(item) ? "an" : "a", ecsrev_json__type_name(item));
    }
    struct ecsrev_revision rev;
    int rc = ecsrev_revision__from_tree(&rev, item, flags, err);
    if (rc == 0) {
        add_rev(in, cap, &rev);
    }
    return rc;
}

static int add_failures(struct ecsrev_input *in, const cJSON *list, struct ecsrev_error *err)
{
    if (!cJSON_IsArray(list)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "failures: expected an array, got %s",
                                ecsrev_json__type_name(list));
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    in->failures = ecsrev_xrealloc(in->failures, (in->n_failures + n) * sizeof(*in->failures));
    size_t i = 0;
    for (const cJSON *f = list->child; f != NULL; f = f->next, i++) {
        if (!cJSON_IsObject(f)) {
            return ecsrev_error_set(err, ECSREV_EINVAL, "failures[%zu]: expected an object", i);
        }
        struct ecsrev_input_failure *out = &in->failures[in->n_failures++];
        out->arn = dup_string_member(f, "arn");
        out->reason = dup_string_member(f, "reason");
        out->detail = dup_string_member(f, "detail");
    }
    return 0;
}

/* One JSON value: a response/CLI document, a revision, or an array of revisions. */
static int add_value(struct ecsrev_input *in, size_t *cap, cJSON *doc, unsigned flags,
                     struct ecsrev_error *err)
{
    const cJSON *list =
        cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "serviceRevisions") : NULL;
    const char *name = "serviceRevisions";
    if (list == NULL && cJSON_IsArray(doc)) {
        list = doc;
        name = "";
    }
    if (list == NULL) {
        if (cJSON_IsObject(doc) && cJSON_GetObjectItemCaseSensitive(doc, "failures") != NULL &&
            cJSON_GetObjectItemCaseSensitive(doc, "serviceRevisionArn") == NULL) {
            return add_failures(in, cJSON_GetObjectItemCaseSensitive(doc, "failures"), err);
        }
        return add_one(in, cap, doc, flags, err);
    }
    if (!cJSON_IsArray(list)) {
        return ecsrev_error_set(err, ECSREV_EINVAL, "serviceRevisions: expected an array, got %s",
                                ecsrev_json__type_name(list));
    }
    size_t i = 0;
    for (cJSON *item = list->child; item != NULL; item = item->next, i++) {
        int rc = add_one(in, cap, item, flags, err);
        if (rc < 0) {
            ecsrev_error_prefix(err, "%s[%zu]", name, i);
            return rc;
        }
    }
    const cJSON *failures = list != doc ? cJSON_GetObjectItemCaseSensitive(doc, "failures") : NULL;
    return failures != NULL ? add_failures(in, failures, err) : 0;
}

static int parse_lines(struct ecsrev_input *in, size_t *cap, const char *data, size_t len,
                       unsigned flags, struct ecsrev_json_arena *arena, struct ecsrev_error *err)
{
    size_t line = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - data) : len;
        line++;
        size_t s = pos;
        while (s < end && strchr(" \t\r", data[s]) != NULL) {
            s++;
        }
        if (s < end) {
            cJSON *doc = NULL;
            struct ecsrev_json_arena *prev = ecsrev_json_arena_enter(arena);
            int rc = ecsrev_json__parse_in(&doc, data + pos, end - pos, arena, err);
            if (rc == 0) {
                rc = add_value(in, cap, doc, flags, err);
            }
            ecsrev_json_arena_leave(prev);
            ecsrev_json_arena_drop(arena, doc);
            if (rc < 0) {
                ecsrev_error_prefix(err, "line %zu", line);
                return rc;
            }
        }
        pos = end + 1;
    }
    return 0;
}

int ecsrev_input_parse(struct ecsrev_input *out, const char *data, size_t len, unsigned flags,
                       struct ecsrev_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    cJSON *doc = NULL;
    struct ecsrev_error perr = ECSREV_ERROR_INIT;
    /* The tree lives only while its revisions are normalized (they copy what they keep). */
    struct ecsrev_json_arena *arena = ecsrev_json_arena_new();
    struct ecsrev_json_arena *prev = ecsrev_json_arena_enter(arena);
    int prc = ecsrev_json__parse_in(&doc, data, len, arena, &perr);
    int rc = prc == 0 ? add_value(out, &cap, doc, flags, err) : 0;
    ecsrev_json_arena_leave(prev);
    ecsrev_json_arena_drop(arena, doc);
    if (prc == 0) {
        /* one JSON value: done */
    } else if (strstr(perr.msg, "unexpected data after") != NULL) {
        rc = parse_lines(out, &cap, data, len, flags, arena, err);
    } else {
        rc = ecsrev_error_set(err, perr.code, "%s", perr.msg);
    }
    ecsrev_json_arena_free(arena);
    if (rc == 0 && out->n == 0 && out->n_failures == 0) {
        rc = ecsrev_error_set(err, ECSREV_EINVAL, "no service revisions found");
    }
    if (rc < 0) {
        ecsrev_input_dispose(out);
    }
    return rc;
}

bool ecsrev_input_is_json_value(const char *data, size_t len)
{
    cJSON *doc = NULL;
    if (ecsrev_json__parse(&doc, data, len, NULL) < 0) {
        return false;
    }
    cJSON_Delete(doc);
    return true;
}

void ecsrev_input_dispose(struct ecsrev_input *in)
{
    if (in == NULL) {
        return;
    }
    for (size_t i = 0; i < in->n; i++) {
        ecsrev_revision_dispose(&in->revs[i]);
    }
    for (size_t i = 0; i < in->n_failures; i++) {
        free(in->failures[i].arn);
        free(in->failures[i].reason);
        free(in->failures[i].detail);
    }
    free(in->revs);
    free(in->failures);
    memset(in, 0, sizeof(*in));
}
