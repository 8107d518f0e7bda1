// InternTable<Record>: a hash table from strings (tags, types, stream ids) to records that live,
// with a copy of their name, in an arena and never move.
//
// One writer inserts; any number of readers look up concurrently. A lookup holds a shared latch
// for the probe only; an insert takes it exclusively. A slot is one word: the record's address
// with 16 bits of the name's hash in the otherwise unused top bits, so a probe touches the name of
// a record only when the hashes agree, and a hit costs the slot and the record (one cache line
// holds the record's head and the start of its name).
#ifndef ES_ENGINE_INDEX_INTERN_TABLE_H_
#define ES_ENGINE_INDEX_INTERN_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/util/arena.h"
#include "engine/util/checksum.h"

namespace es {

template <typename Record>
class InternTable {
  static_assert(std::is_trivially_destructible_v<Record> && alignof(Record) <= 8,
                "records live in an arena that never runs destructors");

 public:
  // Records and names are allocated in `arena`, which must outlive the table and its readers.
  explicit InternTable(Arena* arena) : arena_(arena), slots_(kInitialSlots, 0) {}
  InternTable(const InternTable&) = delete;
  InternTable& operator=(const InternTable&) = delete;

  // Any thread.
  const Record* Find(std::string_view name) const {
    std::uint64_t hash = Hash(name);
    std::shared_lock lock(latch_);
    return RecordOf(slots_[Probe(name, hash)]);
  }

  // Writer only. The record of `name`; a new one is value-initialised, then passed to
  // init(Record&) before any reader can find it.
  template <typename Init>
  Record* FindOrInsert(std::string_view name, Init&& init) {
    std::uint64_t hash = Hash(name);
    // The writer is the only mutator, so its own probe needs no latch.
    std::size_t i = Probe(name, hash);
    if (slots_[i] != 0) return RecordOf(slots_[i]);
    Record* record = NewRecord(name);
    init(*record);
    std::unique_lock lock(latch_);
    if ((size_ + 1) * 4 > slots_.size() * 3) {
      Rehash(slots_.size() * 2);
      i = Probe(name, hash);
    }
    slots_[i] = Slot(record, hash);
    ++size_;
    return record;
  }

  // The name a record was interned under.
  static std::string_view NameOf(const Record* record) {
    const char* p = reinterpret_cast<const char*>(record + 1);
    std::uint32_t length;
    std::memcpy(&length, p, sizeof(length));
    return std::string_view(p + sizeof(length), length);
  }

  // Every record, in table order (any thread). Records never move, so the caller may use them
  // after the latch is released; records inserted meanwhile may be missing.
  std::vector<const Record*> Records() const {
    std::shared_lock lock(latch_);
    std::vector<const Record*> records;
    records.reserve(size_);
    for (std::uint64_t slot : slots_) {
      if (slot != 0) records.push_back(RecordOf(slot));
    }
    return records;
  }

  // Writer only: makes room for `n` records in all, so that inserting them never rehashes.
  void Reserve(std::size_t n) {
    std::size_t slots = slots_.size();
    while (n * 4 > slots * 3) slots *= 2;
    if (slots == slots_.size()) return;
    std::unique_lock lock(latch_);
    Rehash(slots);
  }

  // Writer only, with no reader left: forgets every record (the arena keeps their memory).
  void Clear() {
    std::unique_lock lock(latch_);
    slots_.assign(kInitialSlots, 0);
    size_ = 0;
  }

  // Writer only.
  std::size_t size() const { return size_; }
  // The table's own heap bytes (records and names are counted by the arena).
  std::size_t MemoryBytes() const { return slots_.capacity() * sizeof(std::uint64_t); }

 private:
  static constexpr std::size_t kInitialSlots = 64;
  static constexpr unsigned kTagShift = 48;

  static std::uint64_t Hash(std::string_view name) {
    return Checksum64(name.data(), name.size(), 0);
  }
  // 1..65535 from the hash's top bits; 0 for a record whose address needs the top bits (never on
  // today's x86-64 and arm64 user space, but then probes compare names instead).
  static std::uint64_t Slot(const Record* record, std::uint64_t hash) {
    auto address = reinterpret_cast<std::uintptr_t>(record);
    std::uint64_t tag = (hash >> kTagShift) | 1;
    return address >> kTagShift == 0 ? address | (tag << kTagShift) : address;
  }
  static Record* RecordOf(std::uint64_t slot) {
    return slot >> kTagShift == 0
               ? reinterpret_cast<Record*>(slot)
               : reinterpret_cast<Record*>(slot & ((std::uint64_t{1} << kTagShift) - 1));
  }
  static bool MayHold(std::uint64_t slot, std::uint64_t hash) {
    std::uint64_t tag = slot >> kTagShift;
    return tag == 0 || tag == ((hash >> kTagShift) | 1);
  }

  // The slot holding `name`, or the empty slot where it would go.
  std::size_t Probe(std::string_view name, std::uint64_t hash) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      std::uint64_t slot = slots_[i];
      if (slot == 0 || (MayHold(slot, hash) && NameOf(RecordOf(slot)) == name)) return i;
    }
  }

  Record* NewRecord(std::string_view name) {
    auto length = static_cast<std::uint32_t>(name.size());
    void* memory = arena_->Allocate(sizeof(Record) + sizeof(length) + name.size());
    Record* record = new (memory) Record();
    char* p = reinterpret_cast<char*>(record + 1);
    std::memcpy(p, &length, sizeof(length));
    std::memcpy(p + sizeof(length), name.data(), name.size());
    return record;
  }

  // Moves every slot into a table of `slots` slots (a power of two). Latch held exclusively.
  void Rehash(std::size_t slots) {
    std::vector<std::uint64_t> old(slots, 0);
    old.swap(slots_);
    std::size_t mask = slots_.size() - 1;
    for (std::uint64_t slot : old) {
      if (slot == 0) continue;
      std::size_t i = Hash(NameOf(RecordOf(slot))) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  Arena* const arena_;
  mutable std::shared_mutex latch_;
  std::vector<std::uint64_t> slots_;  // power-of-two size, at most 3/4 full
  std::size_t size_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_INTERN_TABLE_H_
