// Little-endian fixed-width encoding. Every on-disk integer goes through these.
#ifndef ES_ENGINE_UTIL_CODING_H_
#define ES_ENGINE_UTIL_CODING_H_

#include <bit>
#include <cstdint>
#include <cstring>

namespace es {

static_assert(std::endian::native == std::endian::little,
              "the on-disk format is little-endian and encoded by memcpy");

template <typename T>
inline void EncodeFixed(char* dst, T value) {
  std::memcpy(dst, &value, sizeof(T));
}

template <typename T>
inline T DecodeFixed(const char* src) {
  T value;
  std::memcpy(&value, src, sizeof(T));
  return value;
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_CODING_H_
