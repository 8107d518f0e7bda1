#include "engine/index/dictionary.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "engine/util/checksum.h"

namespace es {
namespace {
constexpr std::size_t kArenaBlock = 64 * 1024;
std::uint64_t Hash(std::string_view name) { return Checksum64(name.data(), name.size(), 0); }
}  // namespace

Dictionary::Dictionary() : slots_(64, 0) {}

std::size_t Dictionary::Probe(std::string_view name, std::uint64_t hash) const {
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    std::uint32_t slot = slots_[i];
    if (slot == 0 || names_[slot - 1] == name) return i;
  }
}

std::optional<std::uint32_t> Dictionary::Find(std::string_view name) const {
  std::uint64_t hash = Hash(name);
  std::shared_lock lock(latch_);
  std::uint32_t slot = slots_[Probe(name, hash)];
  if (slot == 0) return std::nullopt;
  return slot - 1;
}

std::uint32_t Dictionary::FindOrInsert(std::string_view name, bool* inserted) {
  std::uint64_t hash = Hash(name);
  // The writer is the only mutator, so its own probe needs no latch.
  std::size_t i = Probe(name, hash);
  if (slots_[i] != 0) {
    *inserted = false;
    return slots_[i] - 1;
  }
  *inserted = true;
  auto id = static_cast<std::uint32_t>(names_.size());
  names_.EmplaceBack() = Intern(name);
  std::unique_lock lock(latch_);
  if ((names_.size()) * 2 > slots_.size()) {
    Grow();
    i = Probe(name, hash);
  }
  slots_[i] = id + 1;
  return id;
}

void Dictionary::Grow() {
  std::vector<std::uint32_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  std::size_t mask = slots_.size() - 1;
  for (std::uint32_t slot : old) {
    if (slot == 0) continue;
    std::size_t i = Hash(names_[slot - 1]) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

std::string_view Dictionary::Intern(std::string_view name) {
  if (name.empty()) return std::string_view();
  if (arena_.empty() || arena_used_ + name.size() > kArenaBlock) {
    std::size_t block = std::max(kArenaBlock, name.size());
    arena_.push_back(std::make_unique<char[]>(block));
    arena_bytes_ += block;
    arena_used_ = 0;
  }
  char* dst = arena_.back().get() + arena_used_;
  std::memcpy(dst, name.data(), name.size());
  arena_used_ += name.size();
  return std::string_view(dst, name.size());
}

std::size_t Dictionary::MemoryBytes() const {
  return slots_.capacity() * sizeof(std::uint32_t) + names_.MemoryBytes() + arena_bytes_;
}

}  // namespace es
