#include "engine/compress/compression_dictionary.h"

#include <zdict.h>
#include <zstd.h>

#include "engine/util/coding.h"
#include "engine/util/file_names.h"

namespace es {
namespace {

// zstd's dictionary format: a 4-byte magic number, then the dictionary id (little-endian).
constexpr std::size_t kDictionaryIdOffset = 4;
constexpr std::size_t kMinSampleBytes = 8;

}  // namespace

Result<std::shared_ptr<const CompressionDictionary>> CompressionDictionary::Create(
    std::uint32_t id, std::string bytes, int level) {
  if (ZDICT_getDictID(bytes.data(), bytes.size()) != id) {
    return Status::Corruption("not a zstd dictionary with id " + std::to_string(id));
  }
  std::shared_ptr<CompressionDictionary> dictionary(
      new CompressionDictionary(id, std::move(bytes)));
  // Each digests the dictionary once: its tables are built here rather than for every event.
  dictionary->cdict_ = ZSTD_createCDict(dictionary->bytes_.data(), dictionary->bytes_.size(),
                                        level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
  dictionary->ddict_ = ZSTD_createDDict(dictionary->bytes_.data(), dictionary->bytes_.size());
  if (dictionary->cdict_ == nullptr || dictionary->ddict_ == nullptr) {
    return Status::Corruption("zstd dictionary " + std::to_string(id) + " does not load");
  }
  return std::shared_ptr<const CompressionDictionary>(std::move(dictionary));
}

CompressionDictionary::~CompressionDictionary() {
  ZSTD_freeCDict(cdict_);
  ZSTD_freeDDict(ddict_);
}

Result<std::string> TrainDictionary(const std::vector<std::string>& samples, std::size_t max_bytes,
                                    std::uint32_t id) {
  std::string concatenated;
  std::vector<std::size_t> sizes;
  for (const std::string& sample : samples) {
    if (sample.size() < kMinSampleBytes) continue;
    concatenated += sample;
    sizes.push_back(sample.size());
  }
  std::string dictionary(max_bytes, '\0');
  const std::size_t n =
      ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(), concatenated.data(), sizes.data(),
                            static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) {
    return Status::InvalidArgument(
        std::string("cannot train a dictionary on ") + std::to_string(sizes.size()) +
        " samples of " + std::to_string(concatenated.size()) + " bytes: " + ZDICT_getErrorName(n));
  }
  dictionary.resize(n);
  // Our id, so that frames compressed with it name it (ZDICT chose a random one).
  EncodeFixed<std::uint32_t>(dictionary.data() + kDictionaryIdOffset, id);
  return dictionary;
}

std::string DictionaryFileName(std::uint32_t id) { return PositionFileName(id, kDictionarySuffix); }

bool ParseDictionaryFileName(std::string_view name, std::uint32_t* id) {
  std::int64_t position;
  if (!ParsePositionFileName(name, kDictionarySuffix, &position) || position > 0xFFFFFFFF) {
    return false;
  }
  *id = static_cast<std::uint32_t>(position);
  return true;
}

Result<std::unique_ptr<DictionarySet>> DictionarySet::Load(Env* env, const std::string& dir,
                                                           int level) {
  std::unique_ptr<DictionarySet> set(new DictionarySet(level));
  ES_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(dir));
  for (const std::string& name : children) {
    std::uint32_t id;
    if (!ParseDictionaryFileName(name, &id)) continue;
    const std::string path = dir + "/" + name;
    ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, {}));
    ES_ASSIGN_OR_RETURN(std::uint64_t size, file->Size());
    std::string bytes(size, '\0');
    ES_RETURN_IF_ERROR(file->Read(0, bytes.size(), bytes.data()));
    auto dictionary = CompressionDictionary::Create(id, std::move(bytes), level);
    if (!dictionary.ok()) return dictionary.status().WithContext(path);
    set->by_id_.emplace(id, std::move(dictionary).value());
  }
  return set;
}

Status DictionarySet::Write(Env* env, const std::string& dir, std::uint32_t id, std::string bytes) {
  const std::string path = dir + "/" + DictionaryFileName(id);
  const std::string temporary = path + ".tmp";
  {
    ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(temporary, {.create = true}));
    ES_RETURN_IF_ERROR(file->Write(0, bytes));
    ES_RETURN_IF_ERROR(file->Sync());
  }
  ES_RETURN_IF_ERROR(env->RenameFile(temporary, path));
  ES_RETURN_IF_ERROR(env->SyncDir(dir));
  ES_ASSIGN_OR_RETURN(std::shared_ptr<const CompressionDictionary> dictionary,
                      CompressionDictionary::Create(id, std::move(bytes), level_));
  std::lock_guard lock(mu_);
  by_id_.emplace(id, std::move(dictionary));
  return Status::OK();
}

std::shared_ptr<const CompressionDictionary> DictionarySet::Find(std::uint32_t id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<const CompressionDictionary> DictionarySet::Newest() const {
  std::lock_guard lock(mu_);
  return by_id_.empty() ? nullptr : by_id_.rbegin()->second;
}

std::size_t DictionarySet::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

std::uint32_t DictionarySet::NewestId() const {
  std::lock_guard lock(mu_);
  return by_id_.empty() ? 0 : by_id_.rbegin()->first;
}

}  // namespace es
