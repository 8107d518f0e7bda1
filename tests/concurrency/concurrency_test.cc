// Concurrency of the engine store (design.md §1, §4, §5), meant to run under ThreadSanitizer:
//  - writers and readers on one store: readers see consecutive positions and whole appends only,
//    never a gap or part of an append; writers read their own writes; the final log is 1..N;
//  - conditional appends racing on the same boundary: exactly one wins each round;
//  - readers reading everything while writers roll small segments.
//
// Every event written here belongs to a batch (one Append): it carries the tags
// "w<writer>-b<batch>" and "w<writer>", and its data is "k/n" (its index in the batch and the batch
// size), optionally followed by filler bytes derived from the batch tag and k, so that a reader can
// check every byte. The seed is printed; ES_TEST_SEED=<n> reproduces a run's choices (not its
// thread interleaving).

#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/testing/test_dir.h"
#include "es/env.h"
#include "es/options.h"
#include "es/query.h"
#include "es/store.h"

namespace es {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint64_t TestSeed() {
  static const std::uint64_t seed = []() -> std::uint64_t {
    if (const char* text = std::getenv("ES_TEST_SEED"); text != nullptr && *text != '\0') {
      return std::strtoull(text, nullptr, 0);
    }
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
  }();
  return seed;
}

// The first errors any thread met. Threads stop early once there is one.
class Errors {
 public:
  void Add(std::string error) {
    std::lock_guard lock(mu_);
    if (errors_.size() < 20) errors_.push_back(std::move(error));
    any_.store(true, std::memory_order_relaxed);
  }
  bool any() const { return any_.load(std::memory_order_relaxed); }
  std::vector<std::string> Get() {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
  std::atomic<bool> any_{false};
};

// A reusable barrier for `count` threads; the last to arrive runs `completion` before releasing
// the others. (libstdc++'s std::barrier spins long enough to be slow with 8 threads on 2 cores.)
class Barrier {
 public:
  explicit Barrier(int count, std::function<void()> completion = {})
      : count_(count), completion_(std::move(completion)) {}

  void ArriveAndWait() {
    std::unique_lock lock(mu_);
    const std::uint64_t generation = generation_;
    if (++arrived_ == count_) {
      if (completion_) completion_();
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != generation; });
  }

 private:
  const int count_;
  const std::function<void()> completion_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;               // guarded by mu_
  std::uint64_t generation_ = 0;  // guarded by mu_
};

std::unique_ptr<Store> OpenStore(const Options& options, const std::string& dir) {
  Result<std::unique_ptr<Store>> store = Store::Open(options, dir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(*store);
}

Query TagQuery(std::string tag) {
  Query query;
  query.items.emplace_back().tags.push_back(std::move(tag));
  return query;
}

Query TypeQuery(std::string type) {
  Query query;
  query.items.emplace_back().types.push_back(std::move(type));
  return query;
}

ReadOptions After(std::optional<std::int64_t> after,
                  std::optional<std::int64_t> limit = std::nullopt) {
  ReadOptions options;
  options.after = after;
  options.limit = limit;
  return options;
}

std::string Str(std::optional<std::int64_t> value) {
  return value ? std::to_string(*value) : "null";
}

int Uniform(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// ---- Batches ----

std::string WriterTag(int writer) { return "w" + std::to_string(writer); }
std::string BatchTag(int writer, int batch) {
  return WriterTag(writer) + "-b" + std::to_string(batch);
}

// "k/n", then up to `max_filler` bytes that depend on the batch tag and k.
std::string EventData(const std::string& tag, int k, int n, int max_filler) {
  std::string data = std::to_string(k) + "/" + std::to_string(n);
  if (max_filler > 0) {
    const std::size_t h = std::hash<std::string>{}(tag) + static_cast<std::size_t>(k) * 7919;
    data.append(h % static_cast<std::size_t>(max_filler + 1), static_cast<char>('a' + h % 26));
  }
  return data;
}

std::vector<Event> MakeBatch(int writer, int batch, int n, int max_filler) {
  std::vector<Event> events(static_cast<std::size_t>(n));
  const std::string tag = BatchTag(writer, batch);
  for (int k = 0; k < n; ++k) {
    Event& event = events[static_cast<std::size_t>(k)];
    event.type = "Written";
    event.tags = {tag, WriterTag(writer)};
    event.data = EventData(tag, k, n, max_filler);
  }
  return events;
}

// An event of a batch, as MakeBatch wrote it.
struct Member {
  std::string tag;
  int k = 0;
  int n = 0;
};

// Decodes an event written by MakeBatch; an error message when it is not one.
std::string ParseMember(const SequencedEvent& e, int max_filler, Member* member) {
  const std::string where = "event at position " + std::to_string(e.position);
  if (e.event.type != "Written" || e.event.tags.size() != 2) return where + ": not a batch event";
  member->tag = e.event.tags[0];
  if (std::sscanf(e.event.data.c_str(), "%d/%d", &member->k, &member->n) != 2 || member->n < 1 ||
      member->k < 0 || member->k >= member->n) {
    return where + ": bad data";
  }
  if (e.event.data != EventData(member->tag, member->k, member->n, max_filler)) {
    return where + " (" + member->tag + " " + std::to_string(member->k) + "/" +
           std::to_string(member->n) + "): data bytes differ from what was written";
  }
  return "";
}

// Checks events read as one run: positions first, first + 1, ... and whole batches. The first
// batch may have begun before the run when `cut_start`; the last may go on after it when
// `cut_end`. Empty when all is well, else what is wrong.
std::string CheckRun(const std::vector<SequencedEvent>& events, std::int64_t first, bool cut_start,
                     bool cut_end, int max_filler) {
  Member previous;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::int64_t want = first + static_cast<std::int64_t>(i);
    if (events[i].position != want) {
      return "position " + std::to_string(events[i].position) + " where " + std::to_string(want) +
             " was expected (a gap or a reordering)";
    }
    Member m;
    if (std::string error = ParseMember(events[i], max_filler, &m); !error.empty()) return error;
    const bool continues = i > 0 && previous.k + 1 < previous.n;
    if (continues && (m.tag != previous.tag || m.n != previous.n || m.k != previous.k + 1)) {
      return "position " + std::to_string(want) + " holds " + m.tag + " " + std::to_string(m.k) +
             "/" + std::to_string(m.n) + " inside the append of " + previous.tag +
             " (part of an append)";
    }
    if (!continues && m.k != 0 && !(i == 0 && cut_start)) {
      return "position " + std::to_string(want) + " holds " + m.tag + " " + std::to_string(m.k) +
             "/" + std::to_string(m.n) + " without the start of its append";
    }
    previous = m;
  }
  if (!events.empty() && !cut_end && previous.k + 1 < previous.n) {
    return "the read ends at position " + std::to_string(events.back().position) + " with " +
           previous.tag + " " + std::to_string(previous.k) + "/" + std::to_string(previous.n) +
           ": part of an append";
  }
  return "";
}

// Checks the result of reading one batch by its tag: the whole batch at consecutive positions, or
// nothing when `may_be_empty`.
std::string CheckBatchRead(const std::vector<SequencedEvent>& events, const std::string& tag,
                           bool may_be_empty, int max_filler) {
  if (events.empty()) return may_be_empty ? "" : "no events for " + tag;
  for (const SequencedEvent& e : events) {
    if (e.event.tags.empty() || e.event.tags[0] != tag) {
      return "a read of " + tag + " returned position " + std::to_string(e.position);
    }
  }
  std::string error = CheckRun(events, events.front().position, false, false, max_filler);
  return error.empty() ? "" : "a read of " + tag + ": " + error;
}

// The checkers themselves: a test that cannot fail proves nothing.
TEST_CASE("concurrency: the run checker detects gaps, reordering and parts of appends") {
  auto run = [](std::int64_t first, const std::vector<std::vector<Event>>& batches) {
    std::vector<SequencedEvent> events;
    for (const std::vector<Event>& batch : batches) {
      for (const Event& e : batch) {
        events.push_back({first + static_cast<std::int64_t>(events.size()), e});
      }
    }
    return events;
  };
  const std::vector<Event> a = MakeBatch(0, 0, 3, 10);
  const std::vector<Event> b = MakeBatch(1, 0, 2, 10);
  const std::vector<Event> a_tail(a.begin() + 1, a.end());
  const std::vector<Event> a_head(a.begin(), a.begin() + 2);
  CHECK(CheckRun(run(1, {a, b}), 1, false, false, 10) == "");
  CHECK(CheckRun(run(5, {a_tail, b}), 5, true, false, 10) == "");
  CHECK(CheckRun(run(5, {b, a_head}), 5, false, true, 10) == "");
  CHECK(CheckRun(run(1, {a, b}), 2, false, false, 10) != "");       // wrong first position
  CHECK(CheckRun(run(5, {a_tail, b}), 5, false, false, 10) != "");  // no start of its append
  CHECK(CheckRun(run(5, {b, a_head}), 5, false, false, 10) != "");  // unfinished append
  CHECK(CheckRun(run(1, {a_head, b}), 1, false, true, 10) != "");   // another append inside
  std::vector<SequencedEvent> gap = run(1, {a, b});
  gap.back().position += 1;
  CHECK(CheckRun(gap, 1, false, false, 10) != "");
  std::vector<SequencedEvent> corrupt = run(1, {a});
  corrupt[1].event.data.back() ^= 1;
  CHECK(CheckRun(corrupt, 1, false, false, 10) != "");
  CHECK(CheckBatchRead(run(1, {a}), BatchTag(0, 0), false, 10) == "");
  CHECK(CheckBatchRead({}, BatchTag(0, 0), false, 10) != "");
  CHECK(CheckBatchRead({}, BatchTag(0, 0), true, 10) == "");
  CHECK(CheckBatchRead(run(1, {a_head}), BatchTag(0, 0), true, 10) != "");
}

// ---- Writers and readers ----

struct Workload {
  int writers = 4;
  int readers = 3;
  int batches = 1000;  // per writer
  int max_batch = 5;
  int max_filler = 0;
  int full_read_percent = 10;  // of reader iterations, reads of the whole log
};

// What the writers did, shared with the readers.
class Progress {
 public:
  explicit Progress(int writers)
      : completed_(std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(writers))),
        batches_(static_cast<std::size_t>(writers)) {}

  // Batches of `writer` whose Append has returned.
  int completed(int writer) const {
    return completed_[static_cast<std::size_t>(writer)].load(std::memory_order_acquire);
  }
  // Only the writer itself calls this.
  void Completed(int writer, std::int64_t last, int n) {
    batches_[static_cast<std::size_t>(writer)].push_back({last - n + 1, n});
    completed_[static_cast<std::size_t>(writer)].fetch_add(1, std::memory_order_release);
  }
  // (first position, size) of each batch of `writer`, in order. After the writer is joined.
  const std::vector<std::pair<std::int64_t, int>>& batches(int writer) const {
    return batches_[static_cast<std::size_t>(writer)];
  }

 private:
  std::unique_ptr<std::atomic<int>[]> completed_;
  std::vector<std::vector<std::pair<std::int64_t, int>>> batches_;
};

// Appends the writer's batches; after each, checks that the writer reads its own write, by tag and
// by position.
void RunWriter(Store& store, const Workload& load, int writer, Progress& progress, Errors& errors) {
  std::mt19937_64 rng(TestSeed() + static_cast<std::uint64_t>(writer));
  for (int b = 0; b < load.batches && !errors.any(); ++b) {
    const int n = Uniform(rng, 1, load.max_batch);
    const std::string tag = BatchTag(writer, b);
    const std::vector<Event> batch = MakeBatch(writer, b, n, load.max_filler);
    Result<std::int64_t> last = store.Append(batch, std::nullopt);
    if (!last.ok()) return errors.Add(tag + ": append failed: " + last.status().ToString());
    progress.Completed(writer, *last, n);

    Result<ReadResult> by_tag = store.Read(TagQuery(tag));
    if (!by_tag.ok()) return errors.Add(tag + ": read failed: " + by_tag.status().ToString());
    std::string error = CheckBatchRead(by_tag->events, tag, false, load.max_filler);
    if (error.empty() && by_tag->events.back().position != *last) {
      error = tag + " was appended at " + std::to_string(*last) + " but read back at " +
              std::to_string(by_tag->events.back().position);
    }
    if (!error.empty()) return errors.Add("read-your-writes: " + error);

    Result<ReadResult> by_position = store.Read(Query{}, After(*last - n, n));
    if (!by_position.ok()) return errors.Add(by_position.status().ToString());
    if (by_position->events != by_tag->events || by_position->head != *last) {
      return errors.Add("read-your-writes: reading positions " + std::to_string(*last - n + 1) +
                        ".." + std::to_string(*last) + " did not return " + tag);
    }
  }
}

struct ReaderStats {
  int reads = 0;
  long long events = 0;
};

// One reader's state: what it saw so far.
class Reader {
 public:
  Reader(Store& store, const Workload& load, int id, const Progress& progress)
      : store_(store),
        load_(load),
        progress_(progress),
        rng_(TestSeed() + 1000 + static_cast<std::uint64_t>(id)) {}

  // Reads the log after `after` (all when absent), at most `limit` events. Every event up to the
  // end of the read must be there at consecutive positions, in whole batches (but for one cut at
  // each end by `after` and `limit`); without a limit, the read must end at the head, and the
  // head must not go back.
  std::string ReadLog(std::optional<std::int64_t> after, std::optional<std::int64_t> limit) {
    const std::string what = "read after " + Str(after) + " limit " + Str(limit) + " (head was " +
                             std::to_string(seen_head_) + ")";
    Result<ReadResult> read = store_.Read(Query{}, After(after, limit));
    if (!read.ok()) return what + ": " + read.status().ToString();
    const std::vector<SequencedEvent>& events = read->events;
    stats_.events += static_cast<long long>(events.size());
    const std::int64_t from = after.value_or(0);
    const bool cut_end = limit && static_cast<std::int64_t>(events.size()) == *limit;
    if (std::string error = CheckRun(events, from + 1, true, cut_end, load_.max_filler);
        !error.empty()) {
      return what + ": " + error;
    }
    if (limit) return "";
    const std::int64_t head = read->head.value_or(0);
    const std::int64_t last = events.empty() ? std::min(head, from) : events.back().position;
    if (head != last) {
      return what + ": head " + Str(read->head) + " but the last event is " + std::to_string(last);
    }
    if (head < seen_head_) {
      return what + ": the head went back to " + std::to_string(head);
    }
    seen_head_ = head;
    return "";
  }

  // Reads a batch by its tag: an old one or the last one whose append returned (visible and
  // whole), or the next one, maybe being appended (nothing or the whole batch).
  std::string ReadBatch() {
    const int writer = Uniform(rng_, 0, load_.writers - 1);
    const int completed = progress_.completed(writer);
    int batch = completed;  // the next one
    const int kind = Uniform(rng_, 0, 2);
    if (kind == 0 && completed > 0) batch = Uniform(rng_, 0, completed - 1);
    if (kind == 1 && completed > 0) batch = completed - 1;
    const std::string tag = BatchTag(writer, batch);
    Result<ReadResult> read = store_.Read(TagQuery(tag));
    if (!read.ok()) return "read of " + tag + ": " + read.status().ToString();
    stats_.events += static_cast<long long>(read->events.size());
    if (std::string error = CheckBatchRead(read->events, tag, batch >= completed, load_.max_filler);
        !error.empty()) {
      return error + " (" + std::to_string(completed) + " batches of the writer had returned)";
    }
    return "";
  }

  // One read of a random kind.
  std::string ReadOnce() {
    ++stats_.reads;
    const int kind = Uniform(rng_, 0, 99);
    if (kind < load_.full_read_percent) return ReadLog(std::nullopt, std::nullopt);
    if (kind < load_.full_read_percent + (100 - load_.full_read_percent) / 4) {
      return ReadLog(std::max<std::int64_t>(0, seen_head_ - Uniform(rng_, 0, 300)), std::nullopt);
    }
    if (kind < load_.full_read_percent + (100 - load_.full_read_percent) / 2) {
      return ReadLog(std::uniform_int_distribution<std::int64_t>(0, seen_head_ + 5)(rng_),
                     Uniform(rng_, 1, 200));
    }
    return ReadBatch();
  }

  const ReaderStats& stats() const { return stats_; }

 private:
  Store& store_;
  const Workload& load_;
  const Progress& progress_;
  std::mt19937_64 rng_;
  std::int64_t seen_head_ = 0;
  ReaderStats stats_;
};

// Reads until `done`, and once more after.
void RunReader(Reader& reader, int id, const std::atomic<bool>& done, Errors& errors) {
  while (!errors.any()) {
    const bool last_round = done.load(std::memory_order_acquire);
    if (std::string error = reader.ReadOnce(); !error.empty()) {
      return errors.Add("reader " + std::to_string(id) + ": " + error);
    }
    if (last_round) return;
  }
}

// The log after all writers: positions 1..N, N the number appended, every batch whole, and each
// writer's batches where its appends said, in its order.
void CheckFinalLog(Store& store, const Workload& load, const Progress& progress) {
  std::int64_t total = 0;
  for (int w = 0; w < load.writers; ++w) {
    for (const auto& [first, n] : progress.batches(w)) total += n;
  }
  Result<ReadResult> all = store.Read(Query{});
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  CHECK(static_cast<std::int64_t>(all->events.size()) == total);
  CHECK(all->head == total);
  CHECK(CheckRun(all->events, 1, false, false, load.max_filler) == "");
  for (int w = 0; w < load.writers; ++w) {
    CAPTURE(w);
    std::vector<std::int64_t> want;
    for (const auto& [first, n] : progress.batches(w)) {
      for (int k = 0; k < n; ++k) want.push_back(first + k);
    }
    Result<ReadResult> mine = store.Read(TagQuery(WriterTag(w)));
    REQUIRE(mine.ok());
    std::vector<std::int64_t> got;
    for (const SequencedEvent& e : mine->events) got.push_back(e.position);
    CHECK(got == want);
    CHECK(static_cast<int>(progress.batches(w).size()) == load.batches);
  }
}

// Runs `load` on a store opened with `options` in `dir`, checks the log, reopens the store and
// checks it again. Returns the final number of events.
std::int64_t RunWritersAndReaders(const Options& options, const std::string& dir,
                                  const Workload& load, const char* name) {
  const auto start = Clock::now();
  std::unique_ptr<Store> store = OpenStore(options, dir);
  Progress progress(load.writers);
  Errors errors;
  std::atomic<bool> done{false};
  std::vector<std::unique_ptr<Reader>> reader_states;
  std::vector<std::thread> readers;
  for (int r = 0; r < load.readers; ++r) {
    reader_states.push_back(std::make_unique<Reader>(*store, load, r, progress));
    readers.emplace_back(RunReader, std::ref(*reader_states.back()), r, std::cref(done),
                         std::ref(errors));
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < load.writers; ++w) {
    writers.emplace_back(RunWriter, std::ref(*store), std::cref(load), w, std::ref(progress),
                         std::ref(errors));
  }
  for (std::thread& t : writers) t.join();
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  CHECK(errors.Get() == std::vector<std::string>{});

  CheckFinalLog(*store, load, progress);
  const std::int64_t head = store->Head()->value_or(0);
  store.reset();
  store = OpenStore(options, dir);
  CheckFinalLog(*store, load, progress);

  int reads = 0;
  long long events = 0;
  for (const auto& reader : reader_states) {
    CHECK(reader->stats().reads > 0);
    reads += reader->stats().reads;
    events += reader->stats().events;
  }
  std::printf("%s: %lld events appended, %d reads returned %lld events, %.1f s\n", name,
              static_cast<long long>(head), reads, events, SecondsSince(start));
  return head;
}

TEST_CASE(
    "concurrency: writers and readers on a MemEnv store never see a gap or part of an "
    "append") {
  std::printf("concurrency: seed %llu (set ES_TEST_SEED to reproduce)\n",
              static_cast<unsigned long long>(TestSeed()));
  std::unique_ptr<Env> env = NewMemEnv();
  Options options;
  options.env = env.get();
  options.durability = Durability::kNone;
  Workload load;
  load.batches = 1500;
  RunWritersAndReaders(options, "/store", load, "writers and readers, MemEnv");
}

TEST_CASE("concurrency: writers and readers on a POSIX store with kSync") {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kSync;
  Workload load;
  load.batches = 150;
  RunWritersAndReaders(options, dir.path() + "/store", load, "writers and readers, POSIX kSync");
}

TEST_CASE("concurrency: readers read everything while writers roll small segments") {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options;
  options.env = env.get();
  options.durability = Durability::kNone;
  options.segment_bytes = 64 << 10;
  options.segment_events = 50;
  options.max_write_events = 50;
  options.max_write_bytes = 32 << 10;
  Workload load;
  load.writers = 3;
  load.readers = 3;
  load.batches = 400;
  load.max_filler = 3000;  // frames of up to ~15 KiB: segments roll by size and by event count
  load.full_read_percent = 60;
  const std::int64_t events = RunWritersAndReaders(options, "/store", load, "segment rolls");
  std::unique_ptr<Store> store = OpenStore(options, "/store");
  CHECK(store->Info().segment_count >= static_cast<std::uint64_t>(events / 50));
}

// ---- Conditional appends racing ----

// The query the racers of round `round` read and append under: tag, type or everything. Every
// racer's event matches all three.
Query RaceQuery(int round) {
  switch (round % 3) {
    case 0:
      return TagQuery("race");
    case 1:
      return TypeQuery("Claimed");
    default:
      return Query{};
  }
}

TEST_CASE("concurrency: conditional appends on the same boundary: exactly one wins each round") {
  constexpr int kRacers = 8;
  constexpr int kRounds = 2000;
  const auto start = Clock::now();
  std::unique_ptr<Env> env = NewMemEnv();
  Options options;
  options.env = env.get();
  options.durability = Durability::kNone;
  std::unique_ptr<Store> store = OpenStore(options, "/store");

  // outcome[round][racer]: the racer's batch size when it won, 0 when its condition failed, -1
  // on any other result.
  std::vector<std::vector<int>> outcome(kRounds, std::vector<int>(kRacers, -1));
  std::vector<std::int64_t> winner_last(kRounds, 0);
  Errors errors;
  int round_checked = 0;
  // Runs when every racer finished a round: exactly one winner.
  auto check_round = [&] {
    if (round_checked >= kRounds) return;
    const std::vector<int>& o = outcome[static_cast<std::size_t>(round_checked)];
    const auto winners = std::count_if(o.begin(), o.end(), [](int n) { return n > 0; });
    const auto losers = std::count(o.begin(), o.end(), 0);
    if (winners != 1 || losers != kRacers - 1) {
      errors.Add("round " + std::to_string(round_checked) + ": " + std::to_string(winners) +
                 " winners and " + std::to_string(losers) + " condition failures");
    }
    ++round_checked;
  };
  Barrier read_done(kRacers);
  Barrier round_done(kRacers, check_round);

  auto racer = [&](int id) {
    std::mt19937_64 rng(TestSeed() + 2000 + static_cast<std::uint64_t>(id));
    std::optional<std::int64_t> head;
    for (int round = 0; round < kRounds; ++round) {
      // Reading after the previous round's head keeps reads short; without a limit the head
      // returned is the store's head all the same.
      const Query query = RaceQuery(round);
      Result<ReadResult> read = store->Read(query, After(head));
      if (read.ok()) {
        head = read->head;
      } else {
        errors.Add(read.status().ToString());
      }
      read_done.ArriveAndWait();  // every racer has read the same head
      // In rounds whose query ignores them, unrelated events move the head before the appends.
      if (round % 3 != 2) {
        Event noise;
        noise.type = "Noise";
        noise.tags = {"noise"};
        if (!store->Append({&noise, 1}, std::nullopt).ok()) errors.Add("noise append failed");
      }
      const int n = Uniform(rng, 1, 3);
      std::vector<Event> batch(static_cast<std::size_t>(n));
      for (int k = 0; k < n; ++k) {
        Event& e = batch[static_cast<std::size_t>(k)];
        e.type = "Claimed";
        e.tags = {"race", "round-" + std::to_string(round)};
        e.data = std::to_string(id) + "/" + std::to_string(k);
      }
      AppendCondition condition;
      condition.fail_if_events_match = query;
      condition.after = head;
      Result<std::int64_t> appended = store->Append(batch, condition);
      int& mine = outcome[static_cast<std::size_t>(round)][static_cast<std::size_t>(id)];
      if (appended.ok()) {
        mine = n;
        winner_last[static_cast<std::size_t>(round)] = *appended;
      } else if (appended.status().IsConditionFailed()) {
        mine = 0;
      } else {
        errors.Add(appended.status().ToString());
      }
      round_done.ArriveAndWait();
    }
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < kRacers; ++id) threads.emplace_back(racer, id);
  for (std::thread& t : threads) t.join();
  CHECK(errors.Get() == std::vector<std::string>{});
  CHECK(round_checked == kRounds);

  // The log holds exactly the winners' batches, whole, each where its append said.
  Result<ReadResult> race = store->Read(TagQuery("race"));
  REQUIRE(race.ok());
  std::size_t i = 0;
  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    const std::vector<int>& o = outcome[static_cast<std::size_t>(round)];
    const auto winner = std::find_if(o.begin(), o.end(), [](int n) { return n > 0; });
    REQUIRE(winner != o.end());
    const int id = static_cast<int>(winner - o.begin());
    for (int k = 0; k < *winner; ++k, ++i) {
      REQUIRE(i < race->events.size());
      const SequencedEvent& e = race->events[i];
      CHECK(e.position == winner_last[static_cast<std::size_t>(round)] - *winner + 1 + k);
      CHECK(e.event.tags[1] == "round-" + std::to_string(round));
      CHECK(e.event.data == std::to_string(id) + "/" + std::to_string(k));
    }
  }
  CHECK(i == race->events.size());
  Result<ReadResult> noise = store->Read(TagQuery("noise"));
  REQUIRE(noise.ok());
  int noisy_rounds = 0;
  for (int round = 0; round < kRounds; ++round) noisy_rounds += round % 3 != 2 ? 1 : 0;
  CHECK(noise->events.size() == static_cast<std::size_t>(kRacers * noisy_rounds));
  CHECK(store->Head()->value_or(0) ==
        static_cast<std::int64_t>(race->events.size() + noise->events.size()));
  std::printf("conditional race: %d rounds of %d racers, %.1f s\n", kRounds, kRacers,
              SecondsSince(start));
}

}  // namespace
}  // namespace es
