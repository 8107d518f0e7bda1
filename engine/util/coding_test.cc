// Varint and zigzag coding: round trips at every length boundary, the exact bytes of a few values,
// and rejection of truncated, overlong and overflowing encodings.
#include "engine/util/coding.h"

#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>

namespace es {
namespace {

TEST_CASE("coding: varints round-trip at every length boundary") {
  for (unsigned bits = 0; bits <= 64; ++bits) {
    const std::uint64_t top = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    for (std::uint64_t value : {top, top + 1, top / 2 + 1}) {
      CAPTURE(value);
      std::string bytes;
      PutVarint64(&bytes, value);
      CHECK(bytes.size() == (value == 0 ? 1 : (std::bit_width(value) + 6) / 7));
      std::uint64_t decoded = 0;
      CHECK(GetVarint64(bytes.data(), bytes.data() + bytes.size(), &decoded) ==
            bytes.data() + bytes.size());
      CHECK(decoded == value);
    }
  }
}

TEST_CASE("coding: varints are little-endian LEB128") {
  std::string bytes;
  PutVarint64(&bytes, 300);
  CHECK(bytes == "\xac\x02");
  bytes.clear();
  PutVarint64(&bytes, 0);
  CHECK(bytes == std::string(1, '\0'));
}

TEST_CASE("coding: malformed varints are rejected") {
  std::uint64_t value = 0;
  SUBCASE("empty") { CHECK(GetVarint64(nullptr, nullptr, &value) == nullptr); }
  SUBCASE("truncated") {
    const std::string bytes = "\xff\xff";
    CHECK(GetVarint64(bytes.data(), bytes.data() + bytes.size(), &value) == nullptr);
  }
  SUBCASE("longer than 10 bytes") {
    const std::string bytes = std::string(10, '\x80') + '\x01';
    CHECK(GetVarint64(bytes.data(), bytes.data() + bytes.size(), &value) == nullptr);
  }
  SUBCASE("overflowing 64 bits") {
    const std::string bytes = std::string(9, '\xff') + '\x02';
    CHECK(GetVarint64(bytes.data(), bytes.data() + bytes.size(), &value) == nullptr);
  }
}

TEST_CASE("coding: zigzag maps small magnitudes to small numbers, both ways") {
  CHECK(ZigZagEncode(0) == 0);
  CHECK(ZigZagEncode(-1) == 1);
  CHECK(ZigZagEncode(1) == 2);
  CHECK(ZigZagEncode(-2) == 3);
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-7}, std::int64_t{123456789},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    CHECK(ZigZagDecode(ZigZagEncode(v)) == v);
  }
}

}  // namespace
}  // namespace es
