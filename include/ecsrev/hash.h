/**
 * hash.h - XXH3-128 content hashes (xxHash).
 *
 * Hashes are fast fingerprints of canonical bytes, used to deduplicate bodies
 * and detect accidental damage. They are NOT collision-resistant against an
 * attacker; the SHA-256 history chain (store) is what proves tampering.
 */
#ifndef ECSREV_HASH_H
#define ECSREV_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of an XXH3-128 digest in bytes. */
#define ECSREV_HASH_LEN 16
/** Size of its lower-case hex form, NUL included. */
#define ECSREV_HASH_HEX_LEN 33

/**
 * XXH3-128 (seed 0) of @p len bytes at @p data, written to @p out in xxHash's
 * canonical (big-endian) byte order, so the hex form matches `xxh128sum`.
 */
void ecsrev_hash128(uint8_t out[ECSREV_HASH_LEN], const void *data, size_t len);

/** Lower-case hex of a digest into @p out (ECSREV_HASH_HEX_LEN bytes). */
void ecsrev_hash_hex(char out[ECSREV_HASH_HEX_LEN], const uint8_t hash[ECSREV_HASH_LEN]);

#ifdef __cplusplus
}
#endif
#endif
