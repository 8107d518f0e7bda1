// PostingList: appends across chunk boundaries, prefix cursors, galloping seeks compared with
// std::lower_bound, positions far apart, and a reader iterating while the writer appends.
#include "engine/index/posting_list.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/util/arena.h"

namespace es {
namespace {

using Positions = std::vector<std::int64_t>;

constexpr std::int64_t k2To32 = std::int64_t{1} << 32;

// A list with the arena its chunks come from (which must outlive it).
struct TestList {
  Arena arena;
  PostingList list;

  void Append(std::int64_t position) { list.Append(position, &arena); }
  void AppendAll(const Positions& positions) {
    for (std::int64_t p : positions) Append(p);
  }
};

// The first `count` positions, as a cursor sees them.
Positions Collect(const PostingList& list, std::uint64_t count) {
  Positions out;
  for (PostingList::Cursor c(list, count); c.Valid(); c.Next()) out.push_back(c.position());
  return out;
}

// "1 4 7": positions as text, so that a failed comparison shows them.
std::string Str(const Positions& positions) {
  std::string out;
  for (std::int64_t p : positions) out += (out.empty() ? "" : " ") + std::to_string(p);
  return out;
}

// The first `count` of `ref`, as text.
std::string Prefix(const Positions& ref, std::size_t count) {
  return Str(Positions(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(count)));
}

// Positions 1, 4, 7, ...: gaps between them leave targets that fall between entries.
Positions Spaced(std::size_t n, std::int64_t first = 1, std::int64_t step = 3) {
  Positions positions(n);
  for (std::size_t i = 0; i < n; ++i) positions[i] = first + step * static_cast<std::int64_t>(i);
  return positions;
}

// The counts at which chunks end (capacities 4, 8, ..., 65536, 65536, ...), up to `limit`.
std::vector<std::uint64_t> ChunkEnds(std::uint64_t limit) {
  std::vector<std::uint64_t> ends;
  std::uint64_t capacity = 4;
  for (std::uint64_t end = capacity; end <= limit; end += capacity) {
    ends.push_back(end);
    capacity = std::min<std::uint64_t>(capacity * 2, 65536);
  }
  return ends;
}

// Where a seek from `from` (an index into `ref`) to `target` must land: an index into the first
// `count` entries of ref, or `count` for past the end.
std::size_t ExpectedSeek(const Positions& ref, std::size_t count, std::size_t from,
                         std::int64_t target) {
  auto end = ref.begin() + static_cast<std::ptrdiff_t>(count);
  auto it = std::lower_bound(ref.begin() + static_cast<std::ptrdiff_t>(from), end, target);
  return static_cast<std::size_t>(it - ref.begin());
}

// A cursor over the first `count` entries, advanced to index `from`, then sought to `target`,
// must land where std::lower_bound does.
void CheckSeek(const PostingList& list, const Positions& ref, std::size_t count, std::size_t from,
               std::int64_t target) {
  PostingList::Cursor c(list, count);
  for (std::size_t i = 0; i < from; ++i) c.Next();
  c.SeekAtLeast(target);
  std::size_t expected = ExpectedSeek(ref, count, from, target);
  CAPTURE(count);
  CAPTURE(from);
  CAPTURE(target);
  if (expected == count) {
    CHECK_FALSE(c.Valid());
  } else {
    CHECK(c.Valid());
    if (c.Valid()) CHECK(c.position() == ref[expected]);
  }
}

TEST_CASE("PostingList: append and iterate, sizes 0..200") {
  for (std::size_t n = 0; n <= 200; ++n) {
    CAPTURE(n);
    TestList t;
    const Positions ref = Spaced(n);
    t.AppendAll(ref);
    const PostingList& list = t.list;
    CHECK(list.size() == n);
    CHECK(list.last() == (n == 0 ? 0 : ref.back()));
    CHECK(Str(Collect(list, n)) == Str(ref));
  }
}

TEST_CASE("PostingList: append and iterate across many chunks") {
  // Past the largest chunk size, so that several full 65536-entry chunks follow each other.
  constexpr std::size_t kN = 300000;
  TestList t;
  const Positions ref = Spaced(kN, 7, 2);
  t.AppendAll(ref);
  const PostingList& list = t.list;
  REQUIRE(list.size() == kN);
  CHECK(Collect(list, kN) == ref);
  // Prefixes ending on, just before and just after every chunk boundary.
  for (std::uint64_t end : ChunkEnds(kN)) {
    for (std::uint64_t count : {end - 1, end, end + 1}) {
      if (count > kN) continue;
      CAPTURE(count);
      Positions prefix = Collect(list, count);
      CHECK(prefix.size() == count);
      CHECK(std::equal(prefix.begin(), prefix.end(), ref.begin()));
    }
  }
}

TEST_CASE("PostingList: appending the last position again is a no-op") {
  TestList t;
  const PostingList& list = t.list;
  Positions ref;
  for (std::int64_t p = 1; p <= 50; ++p) {
    for (int repeat = 0; repeat < (p % 3) + 1; ++repeat) t.Append(p);
    ref.push_back(p);
    CHECK(list.size() == ref.size());
    CHECK(list.last() == p);
  }
  CHECK(Str(Collect(list, list.size())) == Str(ref));

  {  // Position 0 is a position like any other.
    TestList zero;
    zero.AppendAll({0, 0, 2});
    CHECK(zero.list.last() == 2);
    CHECK(Str(Collect(zero.list, zero.list.size())) == "0 2");
  }
}

TEST_CASE("PostingList: cursors over every prefix") {
  constexpr std::size_t kN = 200;
  TestList t;
  const Positions ref = Spaced(kN);
  t.AppendAll(ref);
  const PostingList& list = t.list;
  for (std::size_t count = 0; count <= kN; ++count) {
    CAPTURE(count);
    CHECK(Str(Collect(list, count)) == Prefix(ref, count));
  }
  // An empty list and a zero count give invalid cursors.
  PostingList empty;
  CHECK_FALSE(PostingList::Cursor(empty, 0).Valid());
  CHECK_FALSE(PostingList::Cursor(list, 0).Valid());
  CHECK_FALSE(PostingList::Cursor().Valid());
}

TEST_CASE("PostingList: SeekAtLeast matches std::lower_bound") {
  constexpr std::size_t kN = 300;  // chunks of 4, 8, 16, 32, 64, 128, 256
  TestList t;
  const Positions ref = Spaced(kN, 10, 5);
  t.AppendAll(ref);
  const PostingList& list = t.list;

  SUBCASE("every target from the start, over several prefixes") {
    for (std::size_t count : {std::size_t{1}, std::size_t{4}, std::size_t{5}, std::size_t{60},
                              std::size_t{61}, std::size_t{123}, kN}) {
      for (std::int64_t target = 0; target <= ref.back() + 3; ++target) {
        CheckSeek(list, ref, count, 0, target);
      }
    }
  }
  SUBCASE("from every starting entry to targets around every entry") {
    for (std::size_t from = 0; from < kN; from += 7) {
      for (std::size_t at = from; at < kN; at += 3) {
        for (std::int64_t delta : {-6, -1, 0, 1, 4}) {
          CheckSeek(list, ref, kN, from, ref[at] + delta);
        }
      }
      // A target behind the cursor leaves it where it is; far beyond invalidates it.
      CheckSeek(list, ref, kN, from, 0);
      CheckSeek(list, ref, kN, from, ref.back() + 1000);
    }
  }
  SUBCASE("a sequence of seeks on one cursor, then Next") {
    std::mt19937_64 rng(42);
    for (int round = 0; round < 50; ++round) {
      PostingList::Cursor c(list, kN);
      std::size_t at = 0;
      std::int64_t target = 0;
      while (true) {
        target += static_cast<std::int64_t>(rng() % 40);
        c.SeekAtLeast(target);
        at = ExpectedSeek(ref, kN, at, target);
        if (at == kN) {
          CHECK_FALSE(c.Valid());
          break;
        }
        REQUIRE(c.Valid());
        REQUIRE(c.position() == ref[at]);
        if (rng() % 2 == 0) {
          c.Next();
          ++at;
          if (at == kN) {
            CHECK_FALSE(c.Valid());
            break;
          }
          REQUIRE(c.Valid());
          REQUIRE(c.position() == ref[at]);
        }
      }
    }
  }
}

TEST_CASE("PostingList: SeekAtLeast in a large list") {
  constexpr std::size_t kN = 100000;
  TestList t;
  const Positions ref = Spaced(kN, 1, 3);
  t.AppendAll(ref);
  const PostingList& list = t.list;
  for (std::size_t i = 0; i < kN; i += 997) {
    for (std::int64_t delta : {-2, 0, 1}) CheckSeek(list, ref, kN, 0, ref[i] + delta);
  }
  for (std::uint64_t end : ChunkEnds(kN)) {
    for (std::int64_t delta : {-1, 0, 1}) {
      CheckSeek(list, ref, kN, 0, ref[end - 1] + delta);
      CheckSeek(list, ref, end, 0, ref[end - 1] + delta);  // a prefix ending at the chunk end
    }
  }
}

TEST_CASE("PostingList: positions more than 2^32 apart") {
  const std::vector<Positions> cases = {
      // The largest offset that fits, then one that does not.
      {1, 1 + 0xFFFFFFFFll, 1 + k2To32, 2 + k2To32},
      // Jumps in the middle of a chunk, so chunks end before they are full.
      {1, 2, k2To32 + 10, k2To32 + 11, 3 * k2To32, 3 * k2To32 + 1, 3 * k2To32 + 2, 3 * k2To32 + 3,
       3 * k2To32 + 4, 5 * k2To32},
      // A jump right at a chunk boundary, and positions near the top of the range (2^58).
      {1, 2, 3, 4, k2To32 + 5, (std::int64_t{1} << 57), (std::int64_t{1} << 57) + 1},
  };
  for (const Positions& ref : cases) {
    CAPTURE(ref.size());
    TestList t;
    t.AppendAll(ref);
    const PostingList& list = t.list;
    REQUIRE(list.size() == ref.size());
    CHECK(list.last() == ref.back());
    for (std::size_t count = 0; count <= ref.size(); ++count) {
      CAPTURE(count);
      CHECK(Str(Collect(list, count)) == Prefix(ref, count));
      for (std::int64_t target : ref) {
        for (std::int64_t delta : {-1, 0, 1}) CheckSeek(list, ref, count, 0, target + delta);
      }
    }
  }
  {  // Many entries after a jump.
    TestList t;
    Positions ref = {1, 2, 3};
    for (std::int64_t i = 0; i < 100; ++i) ref.push_back(k2To32 + 7 * i);
    t.AppendAll(ref);
    const PostingList& list = t.list;
    CHECK(Str(Collect(list, list.size())) == Str(ref));
    CheckSeek(list, ref, ref.size(), 0, 4);
    CheckSeek(list, ref, ref.size(), 0, k2To32 + 50);
  }
}

TEST_CASE("PostingList: a reader thread iterates while the writer appends (concurrency)") {
  constexpr std::int64_t kN = 20000;
  auto position_at = [](std::int64_t i) { return 1 + 2 * i; };
  TestList t;
  const PostingList& list = t.list;
  std::atomic<bool> done{false};
  std::atomic<bool> reader_ok{true};
  std::atomic<int> reads{0};

  std::thread reader([&] {
    bool ok = true;
    std::uint64_t previous = 0;
    while (ok) {
      bool finished = done.load(std::memory_order_acquire);
      std::uint64_t count = list.size();
      ok = count >= previous;  // the published size never shrinks
      previous = count;
      std::int64_t i = 0;
      for (PostingList::Cursor c(list, count); ok && c.Valid(); c.Next(), ++i) {
        ok = c.position() == position_at(i);  // monotonic and no garbage
      }
      ok = ok && static_cast<std::uint64_t>(i) == count;
      if (ok && count > 0) {
        PostingList::Cursor c(list, count);
        std::int64_t target = position_at(static_cast<std::int64_t>(count / 2)) - 1;
        c.SeekAtLeast(target);
        ok = c.Valid() && c.position() == target + 1;
      }
      reads.fetch_add(1, std::memory_order_relaxed);
      if (finished) break;
    }
    reader_ok.store(ok && previous == static_cast<std::uint64_t>(kN));
  });

  for (std::int64_t i = 0; i < kN; ++i) {
    t.Append(position_at(i));
    if (i % 64 == 0) std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK(reader_ok.load());
  CHECK(reads.load() > 0);
  CHECK(Collect(list, list.size()).size() == kN);
}

}  // namespace
}  // namespace es
