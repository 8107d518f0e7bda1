// The files of a store directory, classified by name (docs/format.md, "Files").
#ifndef ES_ENGINE_LOG_STORE_FILES_H_
#define ES_ENGINE_LOG_STORE_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "es/env.h"
#include "es/result.h"

namespace es {

inline constexpr char kLockName[] = "LOCK";

struct StoreFiles {
  bool has_meta = false;
  std::vector<std::int64_t> segment_bases;  // ascending
  std::vector<std::string> index_files;     // "<base>.pidx", any order
  std::vector<std::int64_t> checkpoints;    // positions, newest first
  std::vector<std::uint32_t> dictionaries;  // compression dictionary ids, ascending
  std::vector<std::string> temporaries;     // "*.tmp": removed by the next open for writing
  std::vector<std::string> unknown;         // anything else: a store directory holds none
};

Result<StoreFiles> ListStoreFiles(Env* env, const std::string& dir);

}  // namespace es

#endif  // ES_ENGINE_LOG_STORE_FILES_H_
