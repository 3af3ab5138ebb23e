/**
 * json.h - process-wide JSON setup.
 *
 * ecsrev parses JSON with cJSON inside the library only (see src/lib/json_priv.h);
 * no cJSON type appears in a public header. Call ecsrev_json_init() once at
 * start-up so cJSON allocates through ecsrev_xmalloc (abort on out-of-memory):
 * then a NULL from a cJSON parse always means bad JSON, never lack of memory.
 */
#ifndef ECSREV_JSON_H
#define ECSREV_JSON_H

#ifdef __cplusplus
extern "C" {
#endif

/** Maximum nesting of arrays and objects accepted in any input document. */
#define ECSREV_JSON_MAX_DEPTH 64

/** Install the allocation hooks into cJSON. Idempotent; call once from main. */
void ecsrev_json_init(void);

#ifdef __cplusplus
}
#endif
#endif
