// The one checksum of the format: XXH3-64.
#ifndef ES_ENGINE_UTIL_CHECKSUM_H_
#define ES_ENGINE_UTIL_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL  // inlined: the checksum is on every append and read
#include <xxhash.h>

namespace es {

inline std::uint64_t Checksum64(const void* data, std::size_t n, std::uint64_t seed) {
  return XXH3_64bits_withSeed(data, n, seed);
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_CHECKSUM_H_
