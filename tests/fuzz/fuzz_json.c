/*
 * fuzz_json.c - fuzz target for the strict JSON parser: the fast single-pass
 * parser (with and without an arena) against the careful check-by-check one.
 *
 * Properties: never a crash; both paths agree on accepting, on the tree
 * (ecsrev_json__same_tree) and on the error message; a rejection is one
 * line; a tree in an arena survives cJSON_Delete and the arena's reset.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "json_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool inited;
    static struct ecsrev_json_arena *arena;
    if (!inited) {
        ecsrev_json_init(); /* before any cJSON allocation of this process */
        inited = true;
    }
    if (arena == NULL) {
        arena = ecsrev_json_arena_new(); /* kept across inputs, like the importer's */
    }
    const char *text = (const char *)data;
    cJSON *careful = NULL;
    cJSON *fast = NULL;
    cJSON *heap = NULL;
    struct ecsrev_error e1 = ECSREV_ERROR_INIT;
    struct ecsrev_error e2 = ECSREV_ERROR_INIT;
    struct ecsrev_error e3 = ECSREV_ERROR_INIT;
    int r1 = ecsrev_json__parse_careful(&careful, text, size, &e1);
    int r2 = ecsrev_json__parse_in(&fast, text, size, arena, &e2);
    int r3 = ecsrev_json__parse(&heap, text, size, &e3);
    FUZZ_CHECK(r1 == r2 && r2 == r3);
    if (r1 == 0) {
        FUZZ_CHECK(ecsrev_json__same_tree(careful, fast));
        FUZZ_CHECK(ecsrev_json__same_tree(careful, heap));
    } else {
        FUZZ_CHECK(careful == NULL && fast == NULL && heap == NULL);
        FUZZ_CHECK_MSG(&e1);
        FUZZ_CHECK(strcmp(e1.msg, e2.msg) == 0 && strcmp(e1.msg, e3.msg) == 0);
    }
    if (fast != NULL && fast->child != NULL) {
        /* a heap node added to an arena tree is freed by cJSON_Delete */
        cJSON_AddItemToArray(fast, cJSON_CreateString("added"));
    }
    cJSON_Delete(careful);
    cJSON_Delete(fast);
    cJSON_Delete(heap);
    ecsrev_json_arena_reset(arena);
    return 0;
}
