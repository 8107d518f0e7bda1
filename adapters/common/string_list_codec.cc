#include "adapters/common/string_list_codec.h"

#include "engine/util/coding.h"

namespace es {
namespace {

void PutString(std::string* dst, std::string_view value) {
  PutVarint64(dst, value.size());
  dst->append(value);
}

Result<std::vector<std::string>> DecodeStrings(std::string_view blob, std::string_view what) {
  std::vector<std::string> strings;
  const char* p = blob.data();
  const char* const limit = blob.data() + blob.size();
  while (p < limit) {
    std::uint64_t length;
    p = GetVarint64(p, limit, &length);
    if (p == nullptr || length > static_cast<std::uint64_t>(limit - p)) {
      return Status::Corruption("malformed " + std::string(what) + " column");
    }
    strings.emplace_back(p, static_cast<std::size_t>(length));
    p += length;
  }
  return strings;
}

}  // namespace

std::string EncodeTags(const std::vector<std::string>& tags) {
  std::string blob;
  for (const std::string& tag : tags) PutString(&blob, tag);
  return blob;
}

Result<std::vector<std::string>> DecodeTags(std::string_view blob) {
  return DecodeStrings(blob, "tags");
}

std::string EncodeMetadata(const Metadata& metadata) {
  std::string blob;
  for (const auto& [key, value] : metadata) {
    PutString(&blob, key);
    PutString(&blob, value);
  }
  return blob;
}

Result<Metadata> DecodeMetadata(std::string_view blob) {
  ES_ASSIGN_OR_RETURN(std::vector<std::string> strings, DecodeStrings(blob, "metadata"));
  if (strings.size() % 2 != 0) return Status::Corruption("malformed metadata column");
  Metadata metadata;
  for (std::size_t i = 0; i < strings.size(); i += 2) {
    metadata.emplace(std::move(strings[i]), std::move(strings[i + 1]));
  }
  return metadata;
}

}  // namespace es
