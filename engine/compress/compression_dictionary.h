// Compression dictionaries (docs/format.md, "Compression dictionary"): zstd dictionaries trained
// from a store's own events, so that small events, which share little within themselves, shrink
// by what they share with each other. Each is an immutable file "<id>.zdict" beside the segments,
// id = 1, 2, ... as trained; a compressed event's zstd frame names the id of the dictionary it
// needs (0: none), so any event reads with the dictionaries of its store.
#ifndef ES_ENGINE_COMPRESS_COMPRESSION_DICTIONARY_H_
#define ES_ENGINE_COMPRESS_COMPRESSION_DICTIONARY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "es/env.h"
#include "es/result.h"

struct ZSTD_CDict_s;
struct ZSTD_DDict_s;

namespace es {

inline constexpr char kDictionarySuffix[] = ".zdict";

// One loaded dictionary, ready to compress (at one level) and decompress with.
class CompressionDictionary {
 public:
  // Corruption when `bytes` is not a zstd dictionary with id `id`.
  static Result<std::shared_ptr<const CompressionDictionary>> Create(std::uint32_t id,
                                                                     std::string bytes, int level);
  ~CompressionDictionary();
  CompressionDictionary(const CompressionDictionary&) = delete;
  CompressionDictionary& operator=(const CompressionDictionary&) = delete;

  std::uint32_t id() const { return id_; }
  std::size_t size() const { return bytes_.size(); }
  const ZSTD_CDict_s* cdict() const { return cdict_; }
  const ZSTD_DDict_s* ddict() const { return ddict_; }

 private:
  CompressionDictionary(std::uint32_t id, std::string bytes) : id_(id), bytes_(std::move(bytes)) {}

  const std::uint32_t id_;
  const std::string bytes_;
  ZSTD_CDict_s* cdict_ = nullptr;
  ZSTD_DDict_s* ddict_ = nullptr;
};

// A dictionary of at most `max_bytes` trained from `samples` (event data; samples under 8 bytes
// are skipped), with id `id`. InvalidArgument when the samples are too few or too small to train
// on (zstd wants thousands, about 100 times the dictionary's size in all).
Result<std::string> TrainDictionary(const std::vector<std::string>& samples, std::size_t max_bytes,
                                    std::uint32_t id);

// The dictionaries of one store, by id. Thread-safe: readers look dictionaries up while a new one
// is added.
class DictionarySet {
 public:
  // Every "<id>.zdict" file in `dir`. Corruption naming the file when one is not a dictionary
  // with the id of its name.
  static Result<std::unique_ptr<DictionarySet>> Load(Env* env, const std::string& dir, int level);

  // Writes `bytes` as the dictionary file of `id` (through a temporary file, synced, renamed, the
  // directory synced: durable before any event uses it) and adds it.
  Status Write(Env* env, const std::string& dir, std::uint32_t id, std::string bytes);

  // Null when there is none.
  std::shared_ptr<const CompressionDictionary> Find(std::uint32_t id) const;
  std::shared_ptr<const CompressionDictionary> Newest() const;
  std::uint32_t NewestId() const;
  std::size_t size() const;

 private:
  explicit DictionarySet(int level) : level_(level) {}

  const int level_;
  mutable std::mutex mu_;
  std::map<std::uint32_t, std::shared_ptr<const CompressionDictionary>> by_id_;  // guarded by mu_
};

std::string DictionaryFileName(std::uint32_t id);
// True (setting `id`) for a name DictionaryFileName makes.
bool ParseDictionaryFileName(std::string_view name, std::uint32_t* id);

}  // namespace es

#endif  // ES_ENGINE_COMPRESS_COMPRESSION_DICTIONARY_H_
