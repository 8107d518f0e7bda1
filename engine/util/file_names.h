// Names of store files numbered by a log position: the position as 20 zero-padded decimal digits,
// so that names sort in log order, then a suffix (".seg", ".pidx", ".ckpt").
#ifndef ES_ENGINE_UTIL_FILE_NAMES_H_
#define ES_ENGINE_UTIL_FILE_NAMES_H_

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace es {

inline std::string PositionFileName(std::int64_t position, std::string_view suffix) {
  char digits[21];
  std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(position));
  return std::string(digits, 20).append(suffix);
}

// Parses a name made by PositionFileName with `suffix` (position >= 1); false for any other name.
inline bool ParsePositionFileName(std::string_view name, std::string_view suffix,
                                  std::int64_t* position) {
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return false;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, *position);
  return ec == std::errc() && end == name.data() + 20 && *position >= 1;
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_FILE_NAMES_H_
