/*
 * hash.c - the only user of xxHash. XXH3-128 with seed 0, canonical output.
 *
 * xxHash is compiled in (XXH_INLINE_ALL, the header's own mode) for short
 * inputs: about a fifth fewer instructions per byte than the shared library's
 * build. Long ones (documents) go to the shared library's run-time dispatch,
 * which uses AVX2 or AVX-512 where the CPU has them. Same hashes either way
 * (the algorithm is fixed by its specification).
 */
#include <ecsrev/hash.h>

#include <ecsrev/buf.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#if defined(__x86_64__)
/*
 * libxxhash's entry that picks SSE2, AVX2 or AVX-512 at run time, as
 * <xxh_x86dispatch.h> declares it; that header cannot be included here, where
 * XXH_INLINE_ALL makes every XXH_PUBLIC_API declaration static.
 */
/* NOLINTNEXTLINE(readability-identifier-naming): the library's name */
XXH128_hash_t XXH3_128bits_dispatch(const void *input, size_t len);
#endif

#include <string.h>

#include "banned.h"

/*
 * From this length on, the library's dispatched code (AVX2 or AVX-512 where
 * the CPU has them) is faster than the inlined SSE2 code, despite the call:
 * 2.4 times for a 3.8 KB document. Shorter inputs stay inline.
 */
#define DISPATCH_FROM 1024

void ecsrev_hash128(uint8_t out[ECSREV_HASH_LEN], const void *data, size_t len)
{
#if defined(__x86_64__)
    XXH128_hash_t h =
        len >= DISPATCH_FROM ? XXH3_128bits_dispatch(data, len) : XXH3_128bits(data, len);
#else
    XXH128_hash_t h = XXH3_128bits(data, len);
#endif
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(out, c.digest, ECSREV_HASH_LEN);
}

void ecsrev_hash_hex(char out[ECSREV_HASH_HEX_LEN], const uint8_t hash[ECSREV_HASH_LEN])
{
    ecsrev_hex_encode(out, hash, ECSREV_HASH_LEN);
}
