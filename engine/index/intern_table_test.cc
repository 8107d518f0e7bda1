// InternTable: names of every kind across table growth and arena blocks, records that never move,
// and readers looking up concurrently with the writer inserting.
#include "engine/index/intern_table.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/index/segmented_vector.h"
#include "engine/util/arena.h"

namespace es {
namespace {

// An InternTable whose records number the names in insertion order, with lookups by number
// (published in init, before the record, so readers may use them).
class NumberedTable {
 public:
  std::optional<std::uint32_t> Find(std::string_view name) const {
    const Entry* entry = table_.Find(name);
    if (entry == nullptr) return std::nullopt;
    return entry->id;
  }
  std::uint32_t FindOrInsert(std::string_view name, bool* inserted) {
    *inserted = false;
    Entry* entry = table_.FindOrInsert(name, [&](Entry& e) {
      e.id = static_cast<std::uint32_t>(table_.size());
      entries_.EmplaceBack() = &e;
      *inserted = true;
    });
    return entry->id;
  }
  std::string_view Name(std::uint32_t id) const { return InternTable<Entry>::NameOf(entries_[id]); }
  std::size_t size() const { return table_.size(); }
  std::size_t MemoryBytes() const { return table_.MemoryBytes() + arena_.MemoryBytes(); }

 private:
  struct Entry {
    std::uint32_t id = 0;
  };
  Arena arena_;
  InternTable<Entry> table_{&arena_};
  SegmentedVector<const Entry*> entries_;
};

// Distinct strings of many shapes: empty, binary, short, and longer than an arena block.
std::vector<std::string> TestStrings(std::size_t n) {
  std::vector<std::string> strings = {
      "",
      std::string(1, '\0'),
      std::string("a\0b", 3),
      "a",
      std::string(64 * 1024 - 1, 'x'),
      std::string(64 * 1024, 'y'),
      std::string(64 * 1024 + 1, 'z'),
      std::string(200000, 'w'),
  };
  for (std::size_t i = 0; strings.size() < n; ++i) {
    std::string s = "string-" + std::to_string(i);
    if (i % 500 == 0) s += std::string(3000 + i % 7, static_cast<char>('a' + i % 26));
    strings.push_back(std::move(s));
  }
  strings.resize(n);
  return strings;
}

// Inserts every string, checking that each new one gets the next id.
void InsertAll(NumberedTable& dictionary, const std::vector<std::string>& strings) {
  for (std::size_t i = 0; i < strings.size(); ++i) {
    CAPTURE(i);
    bool inserted = false;
    std::uint32_t id = dictionary.FindOrInsert(strings[i], &inserted);
    CHECK(inserted);
    CHECK(id == i);
    CHECK(dictionary.size() == i + 1);
  }
}

// Every string resolves to its id both ways, and FindOrInsert does not insert it again.
void CheckAll(NumberedTable& dictionary, const std::vector<std::string>& strings) {
  for (std::size_t i = 0; i < strings.size(); ++i) {
    CAPTURE(i);
    std::optional<std::uint32_t> id = dictionary.Find(strings[i]);
    REQUIRE(id.has_value());
    CHECK(*id == i);
    CHECK(dictionary.Name(*id) == strings[i]);
    bool inserted = true;
    CHECK(dictionary.FindOrInsert(strings[i], &inserted) == i);
    CHECK_FALSE(inserted);
  }
  CHECK(dictionary.size() == strings.size());
}

TEST_CASE("InternTable: empty") {
  NumberedTable dictionary;
  CHECK(dictionary.size() == 0);
  CHECK_FALSE(dictionary.Find("").has_value());
  CHECK_FALSE(dictionary.Find("a").has_value());
  CHECK(dictionary.MemoryBytes() > 0);
}

TEST_CASE("InternTable: the empty string is a name like any other") {
  NumberedTable dictionary;
  bool inserted = false;
  CHECK(dictionary.FindOrInsert("a", &inserted) == 0);
  CHECK(dictionary.FindOrInsert("", &inserted) == 1);
  CHECK(inserted);
  CHECK(dictionary.Find("") == 1u);
  CHECK(dictionary.Find(std::string_view()) == 1u);
  CHECK(dictionary.Name(1).empty());
  CHECK(dictionary.Find(std::string(1, '\0')) == std::nullopt);
  CHECK(dictionary.FindOrInsert("", &inserted) == 1);
  CHECK_FALSE(inserted);
}

TEST_CASE("InternTable: many strings, dense ids, growth") {
  const std::vector<std::string> strings = TestStrings(20000);
  NumberedTable dictionary;
  const std::size_t empty_bytes = dictionary.MemoryBytes();
  InsertAll(dictionary, strings);
  CHECK(dictionary.MemoryBytes() > empty_bytes);
  CheckAll(dictionary, strings);
  // Absent strings, including prefixes and extensions of present ones.
  for (std::string_view absent : {"string-", "string-00", "string-20000x", "b", "aa"}) {
    CAPTURE(absent);
    CHECK_FALSE(dictionary.Find(absent).has_value());
  }
  CHECK_FALSE(dictionary.Find(std::string(64 * 1024, 'x')).has_value());
  CHECK_FALSE(dictionary.Find(std::string(200001, 'w')).has_value());
}

TEST_CASE("InternTable: names never move") {
  const std::vector<std::string> strings = TestStrings(5000);
  NumberedTable dictionary;
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    bool inserted;
    names.push_back(dictionary.Name(dictionary.FindOrInsert(strings[i], &inserted)));
  }
  for (std::size_t i = 0; i < strings.size(); ++i) {
    CAPTURE(i);
    std::string_view name = dictionary.Name(static_cast<std::uint32_t>(i));
    CHECK(name == strings[i]);
    if (!name.empty()) CHECK(name.data() == names[i].data());
  }
}

TEST_CASE("InternTable: concurrent Find from reader threads while the writer inserts") {
  const std::vector<std::string> strings = TestStrings(8000);
  NumberedTable dictionary;
  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::atomic<int> failures{0};

  auto reader = [&](std::size_t stride) {
    started.fetch_add(1);
    bool finished = false;
    while (!finished) {
      finished = done.load(std::memory_order_acquire);  // one last pass after the writer ends
      std::size_t highest = 0;
      for (std::size_t i = 0; i < strings.size(); i += stride) {
        std::optional<std::uint32_t> id = dictionary.Find(strings[i]);
        if (!id) continue;
        highest = i;
        // A found id is the string's own, and its name reads back as the string.
        if (*id != i || dictionary.Name(*id) != strings[i]) failures.fetch_add(1);
      }
      // The writer inserts in order: everything before a found string is there too.
      for (std::size_t j = 0; j < highest; j += 97) {
        std::optional<std::uint32_t> id = dictionary.Find(strings[j]);
        if (!id || *id != j || dictionary.Name(*id) != strings[j]) failures.fetch_add(1);
      }
    }
  };
  std::thread reader1(reader, 1);
  std::thread reader2(reader, 13);
  while (started.load() < 2) std::this_thread::yield();

  for (std::size_t i = 0; i < strings.size(); ++i) {
    bool inserted;
    dictionary.FindOrInsert(strings[i], &inserted);
    if (i % 128 == 0) std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  reader1.join();
  reader2.join();
  CHECK(failures.load() == 0);
  CheckAll(dictionary, strings);
}

}  // namespace
}  // namespace es
