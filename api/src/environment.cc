#include "api/src/environment.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace es {
std::string LowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::optional<bool> ParseBoolean(std::string_view text) {
  const std::string lower = LowerAscii(text);
  for (const char* yes : {"y", "yes", "t", "true", "on", "1"}) {
    if (lower == yes) return true;
  }
  for (const char* no : {"n", "no", "f", "false", "off", "0"}) {
    if (lower == no) return false;
  }
  return std::nullopt;
}

EnvironmentReader::EnvironmentReader(std::string_view application_name, EnvironmentLookup lookup)
    : lookup_(std::move(lookup)) {
  if (application_name.empty()) return;
  for (char c : application_name) {
    prefix_ += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  prefix_ += '_';
}

std::optional<std::string> EnvironmentReader::Lookup(const std::string& name) const {
  if (lookup_) return lookup_(name);
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> EnvironmentReader::Get(std::string_view name) const {
  if (!prefix_.empty()) {
    if (auto value = Lookup(prefix_ + std::string(name))) return value;
  }
  return Lookup(std::string(name));
}

std::string EnvironmentReader::SourceOf(std::string_view name) const {
  if (!prefix_.empty() && Lookup(prefix_ + std::string(name))) return prefix_ + std::string(name);
  return std::string(name);
}

Result<std::optional<bool>> EnvironmentReader::GetBool(std::string_view name) const {
  std::optional<std::string> value = Get(name);
  if (!value) return std::optional<bool>();
  if (std::optional<bool> parsed = ParseBoolean(*value)) return parsed;
  return Status::InvalidArgument(SourceOf(name) + " must be a boolean (y/n, yes/no, true/false, " +
                                 "on/off, 1/0), not '" + *value + "'");
}

Result<std::optional<std::int64_t>> EnvironmentReader::GetInt(std::string_view name) const {
  std::optional<std::string> value = Get(name);
  if (!value) return std::optional<std::int64_t>();
  std::int64_t number = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, number);
  if (ec != std::errc() || ptr != end || value->empty()) {
    return Status::InvalidArgument(SourceOf(name) + " must be a whole number, not '" + *value +
                                   "'");
  }
  return std::optional<std::int64_t>(number);
}

}  // namespace es
