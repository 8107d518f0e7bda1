// Little-endian fixed-width and LEB128 varint encoding. Every on-disk integer goes through these.
#ifndef ES_ENGINE_UTIL_CODING_H_
#define ES_ENGINE_UTIL_CODING_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

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

// Unsigned LEB128: 7 bits a byte, low bits first, the high bit set on every byte but the last.
inline void PutVarint64(std::string* dst, std::uint64_t value) {
  char buffer[10];
  std::size_t n = 0;
  while (value >= 0x80) {
    buffer[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  buffer[n++] = static_cast<char>(value);
  dst->append(buffer, n);
}

// Decodes a varint from [src, limit): the byte after it, or null when it is truncated or longer
// than 10 bytes (or overflows 64 bits).
inline const char* GetVarint64(const char* src, const char* limit, std::uint64_t* value) {
  std::uint64_t result = 0;
  for (unsigned shift = 0; shift < 64 && src < limit; shift += 7) {
    auto byte = static_cast<std::uint8_t>(*src++);
    if (shift == 63 && byte > 1) return nullptr;
    result |= std::uint64_t{byte & 0x7fu} << shift;
    if (byte < 0x80) {
      *value = result;
      return src;
    }
  }
  return nullptr;
}

// Zigzag: small magnitudes of either sign get short varints.
inline std::uint64_t ZigZagEncode(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}
inline std::int64_t ZigZagDecode(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_CODING_H_
