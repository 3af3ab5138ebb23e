/*
 * hash.c - the only user of xxHash. XXH3-128 with seed 0, canonical output.
 *
 * xxHash is compiled in (XXH_INLINE_ALL, the header's own mode): about a
 * fifth fewer instructions per byte than the shared library's build, and the
 * same hashes (the algorithm is fixed by its specification).
 */
#include <ecsrev/hash.h>

#include <ecsrev/buf.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <string.h>

#include "banned.h"

void ecsrev_hash128(uint8_t out[ECSREV_HASH_LEN], const void *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(out, c.digest, ECSREV_HASH_LEN);
}

void ecsrev_hash_hex(char out[ECSREV_HASH_HEX_LEN], const uint8_t hash[ECSREV_HASH_LEN])
{
    ecsrev_hex_encode(out, hash, ECSREV_HASH_LEN);
}
