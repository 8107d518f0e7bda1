#include "engine/log/store_files.h"

#include <algorithm>
#include <functional>

#include "engine/checkpoints.h"
#include "engine/compress/compression_dictionary.h"
#include "engine/log/segment.h"
#include "engine/log/store_meta.h"

namespace es {
namespace {

bool HasSuffix(const std::string& name, std::string_view suffix) {
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<StoreFiles> ListStoreFiles(Env* env, const std::string& dir) {
  ES_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(dir));
  StoreFiles files;
  for (const std::string& name : children) {
    std::int64_t position;
    std::uint32_t dictionary;
    if (name == kLockName) continue;
    if (name == kStoreMetaName) {
      files.has_meta = true;
    } else if (Segment::ParseFileName(name, &position)) {
      files.segment_bases.push_back(position);
    } else if (ParseCheckpointFileName(name, &position)) {
      files.checkpoints.push_back(position);
    } else if (ParseDictionaryFileName(name, &dictionary)) {
      files.dictionaries.push_back(dictionary);
    } else if (HasSuffix(name, ".pidx") && name.size() == 25) {
      files.index_files.push_back(name);
    } else if (HasSuffix(name, ".tmp")) {
      files.temporaries.push_back(name);
    } else {
      files.unknown.push_back(name);
    }
  }
  std::sort(files.segment_bases.begin(), files.segment_bases.end());
  std::sort(files.checkpoints.begin(), files.checkpoints.end(), std::greater<>());
  std::sort(files.dictionaries.begin(), files.dictionaries.end());
  return files;
}

}  // namespace es
