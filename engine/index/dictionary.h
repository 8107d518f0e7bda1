// Dictionary: interns strings (tags, types, stream ids) as dense ids 0, 1, 2, ...
//
// One writer inserts; any number of readers look up concurrently. Lookups take a shared latch
// for the probe only; an insert takes it exclusively. Names live in an arena and never move.
#ifndef ES_ENGINE_INDEX_DICTIONARY_H_
#define ES_ENGINE_INDEX_DICTIONARY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "engine/index/segmented_vector.h"

namespace es {

class Dictionary {
 public:
  Dictionary();

  // Any thread. The id of `name`, if interned.
  std::optional<std::uint32_t> Find(std::string_view name) const;

  // Writer only. The id of `name`, interning it if new; `*inserted` says which.
  std::uint32_t FindOrInsert(std::string_view name, bool* inserted);

  // Any thread, for an id it obtained from Find or FindOrInsert.
  std::string_view Name(std::uint32_t id) const { return names_[id]; }

  // Writer only.
  std::size_t size() const { return names_.size(); }
  std::size_t MemoryBytes() const;

 private:
  std::size_t Probe(std::string_view name, std::uint64_t hash) const;
  void Grow();
  std::string_view Intern(std::string_view name);

  mutable std::shared_mutex latch_;
  std::vector<std::uint32_t> slots_;  // id + 1; 0 is empty. Power-of-two size.
  SegmentedVector<std::string_view> names_;
  std::vector<std::unique_ptr<char[]>> arena_;
  std::size_t arena_used_ = 0;  // in arena_.back()
  std::size_t arena_bytes_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_DICTIONARY_H_
