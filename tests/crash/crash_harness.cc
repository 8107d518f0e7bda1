// Crash harness (design.md §9): a child process appends random conditional and unconditional
// batches with Durability::kSync from several threads and logs the outcome of each append; the
// parent SIGKILLs it at a random moment, reopens the store and checks that
//  - positions are dense from 1 and the head is the last of them;
//  - every acknowledged event is at the position its append returned, with identical type, tags
//    and data bytes, and no event of an append refused with ConditionFailed is anywhere;
//  - the log the previous check saw is still there, unchanged (a recovered event never vanishes);
//  - every event is whole: it can be rebuilt from the fact written at the head of its data;
//  - no append condition was violated: the course-subscription rules hold over the whole log;
//  - random queries on the rebuilt index equal a brute-force filter of the whole log, and an
//    append under a condition that matches fails.
// Then it kills the next child on the same store; every kKillsPerStore kills a fresh store starts,
// alternately with default options and with small segments (so that kills land around rolls).
//
// The checks rely on the public API only: an engine that commits several appends with one fsync
// must pass them just the same.
//
// ES_CRASH_KILLS=<n> sets the number of kills (default 200); ES_TEST_SEED=<n> reproduces a run's
// choices, not the timing of its kills. A failed run keeps its stores and prints where.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/util/coding.h"
#include "es/options.h"
#include "es/query.h"
#include "es/store.h"

namespace es {
namespace {

constexpr int kDefaultKills = 200;
constexpr int kKillsPerStore = 20;
constexpr int kWriters = 4;
// The engine writes frames of 64 KiB or more with pwrite rather than through its mapping; a few
// events this large take that path.
constexpr int kBigPercent = 4;  // of appends, one event with a big filler
constexpr std::size_t kBigMin = 66 << 10;
constexpr std::size_t kBigMax = 140 << 10;
constexpr std::size_t kSmallMax = 300;
constexpr int kQueriesPerCheck = 25;
constexpr int kChildFailed = 3;  // exit status of a child that met an unexpected error

constexpr char kCourseDefined[] = "CourseDefined";
constexpr char kStudentRegistered[] = "StudentRegistered";
constexpr char kStudentSubscribed[] = "StudentSubscribed";
constexpr char kFiller[] = "Filler";
constexpr char kGuarded[] = "Guarded";

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint64_t TestSeed() {
  if (const char* text = std::getenv("ES_TEST_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

int KillsToRun() {
  const char* text = std::getenv("ES_CRASH_KILLS");
  return text != nullptr && *text != '\0' ? std::atoi(text) : kDefaultKills;
}

std::int64_t Uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

std::string Str(std::optional<std::int64_t> value) {
  return value ? std::to_string(*value) : "null";
}

std::string CourseTag(std::int64_t course) { return "course-" + std::to_string(course); }
std::string StudentTag(std::int64_t student) { return "student-" + std::to_string(student); }
std::string WriterTag(std::int64_t writer) { return "w" + std::to_string(writer); }

// ---- Facts: events that carry their own proof of integrity ----

// What an event says, written at the head of its data up to a ';': its type and named numbers,
// e.g. "StudentSubscribed course=4 id=77309411329 student=9". The rest of the data is filler
// derived from that text and its length, and the tags follow from it, so an event can be rebuilt
// from its fact: a torn or mixed-up event cannot pass for a whole one.
struct Fact {
  std::string type;
  std::map<std::string, std::int64_t> fields;  // every fact has a unique "id"
  std::size_t filler = 0;                      // bytes of data after the ';'
};

Fact MakeFact(const char* type, std::map<std::string, std::int64_t> fields, std::size_t filler) {
  Fact fact;
  fact.type = type;
  fact.fields = std::move(fields);
  fact.filler = filler;
  return fact;
}

// The field, or -1 when the fact lacks it (the rebuilt event then differs from the stored one).
std::int64_t Get(const Fact& fact, const std::string& key) {
  auto it = fact.fields.find(key);
  return it == fact.fields.end() ? -1 : it->second;
}

// Depends on its length too, so that an event cut short does not pass for a whole one.
std::string Filler(std::string_view prefix, std::size_t n) {
  std::string out(n, '\0');
  std::mt19937_64 bits(std::hash<std::string_view>{}(prefix) ^ (n * 0x9E3779B97F4A7C15));
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t word = bits();
    std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, n - i));
  }
  return out;
}

Event BuildEvent(const Fact& fact) {
  Event event;
  event.type = fact.type;
  std::string prefix = fact.type;
  for (const auto& [key, value] : fact.fields) prefix += " " + key + "=" + std::to_string(value);
  event.data = prefix + ";" + Filler(prefix, fact.filler);
  if (fact.type == kCourseDefined) {
    event.tags = {CourseTag(Get(fact, "course"))};
  } else if (fact.type == kStudentRegistered) {
    event.tags = {StudentTag(Get(fact, "student"))};
  } else if (fact.type == kStudentSubscribed) {
    event.tags = {CourseTag(Get(fact, "course")), StudentTag(Get(fact, "student"))};
  } else {
    event.tags = {fact.type == kFiller ? "filler" : "guarded", WriterTag(Get(fact, "w"))};
  }
  return event;
}

// Reads the fact at the head of `event`'s data; false when there is none.
bool ParseFact(const Event& event, Fact* fact) {
  const std::size_t end = event.data.find(';');
  if (end == std::string::npos) return false;
  std::istringstream words(event.data.substr(0, end));
  if (!(words >> fact->type)) return false;
  fact->fields.clear();
  for (std::string word; words >> word;) {
    const std::size_t eq = word.find('=');
    if (eq == std::string::npos) return false;
    std::int64_t value;
    auto [ptr, ec] = std::from_chars(word.data() + eq + 1, word.data() + word.size(), value);
    if (ec != std::errc() || ptr != word.data() + word.size()) return false;
    fact->fields[word.substr(0, eq)] = value;
  }
  fact->filler = event.data.size() - end - 1;
  return true;
}

// "" when `event` is exactly the event its fact describes.
std::string CheckWhole(const Event& event, Fact* fact) {
  if (!ParseFact(event, fact)) return "its data does not start with a fact";
  const Event rebuilt = BuildEvent(*fact);
  if (event.type != rebuilt.type)
    return "type '" + event.type + "' but its fact says " + fact->type;
  if (event.tags != rebuilt.tags) return "its tags are not the ones its fact implies";
  if (event.data != rebuilt.data) return "its data bytes are not the ones its fact implies";
  return "";
}

// ---- The rules the append conditions enforce ----

// The course-subscription rules of the Python library's coursebooking example: a course (with
// its places) and a student (with their limit) are defined once; a student subscribes to a
// defined course at most once, while the course has a place left and the student is under their
// limit. And a Guarded event, appended under the empty query ("nothing after `after`"), sits at
// position after + 1 + k.
class Rules {
 public:
  // Why the child must not (or could not have) appended `fact` after the facts applied so far;
  // "" when it may. `position` is where it is (Guarded facts only).
  std::string Refusal(const Fact& fact, std::int64_t position) const {
    const std::int64_t course = Get(fact, "course");
    const std::int64_t student = Get(fact, "student");
    if (fact.type == kCourseDefined && courses_.count(course) != 0) {
      return CourseTag(course) + " is already defined";
    }
    if (fact.type == kStudentRegistered && students_.count(student) != 0) {
      return StudentTag(student) + " is already registered";
    }
    if (fact.type == kStudentSubscribed) {
      auto c = courses_.find(course);
      auto s = students_.find(student);
      if (c == courses_.end()) return CourseTag(course) + " is not defined";
      if (s == students_.end()) return StudentTag(student) + " is not registered";
      if (subscriptions_.count({course, student}) != 0) {
        return StudentTag(student) + " already subscribed to " + CourseTag(course);
      }
      if (c->second.used >= c->second.max) {
        return CourseTag(course) + " has all its " + std::to_string(c->second.max) +
               " places taken";
      }
      if (s->second.used >= s->second.max) {
        return StudentTag(student) + " is at their limit of " + std::to_string(s->second.max);
      }
    }
    if (fact.type == kGuarded && position != Get(fact, "after") + 1 + Get(fact, "k")) {
      return "its append required nothing after position " + std::to_string(Get(fact, "after"));
    }
    return "";
  }

  void Apply(const Fact& fact) {
    const std::int64_t course = Get(fact, "course");
    const std::int64_t student = Get(fact, "student");
    if (fact.type == kCourseDefined) courses_[course].max = Get(fact, "places");
    if (fact.type == kStudentRegistered) students_[student].max = Get(fact, "limit");
    if (fact.type == kStudentSubscribed) {
      ++courses_[course].used;
      ++students_[student].used;
      subscriptions_.insert({course, student});
    }
  }

  bool defined(std::int64_t course) const { return courses_.count(course) != 0; }
  bool registered(std::int64_t student) const { return students_.count(student) != 0; }
  std::size_t subscriptions() const { return subscriptions_.size(); }

 private:
  struct Capacity {
    std::int64_t max = 0;
    std::int64_t used = 0;
  };
  std::map<std::int64_t, Capacity> courses_;
  std::map<std::int64_t, Capacity> students_;
  std::set<std::pair<std::int64_t, std::int64_t>> subscriptions_;
};

// ---- The acknowledgement log ----

// The child appends one record per append whose outcome it learned: acknowledged (at `last`) or
// refused with ConditionFailed. A record is its payload's length and std::hash, then the payload:
// kind, last, the event count and each event's type, tags and data, length-prefixed. A SIGKILL
// can cut a write(2) short, so the last record may be torn; the parent truncates it away before
// the next child appends.
enum class AckKind : std::uint8_t { kAcknowledged = 1, kRefused = 2 };

struct AckRecord {
  AckKind kind = AckKind::kAcknowledged;
  std::int64_t last = 0;
  std::vector<Event> events;
};

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  EncodeFixed<T>(bytes, value);
  out->append(bytes, sizeof(T));
}

void PutString(std::string* out, std::string_view s) {
  Put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out->append(s);
}

std::string EncodeAck(AckKind kind, std::int64_t last, const std::vector<Event>& events) {
  std::string payload;
  Put<std::uint8_t>(&payload, static_cast<std::uint8_t>(kind));
  Put<std::int64_t>(&payload, last);
  Put<std::uint32_t>(&payload, static_cast<std::uint32_t>(events.size()));
  for (const Event& event : events) {
    PutString(&payload, event.type);
    Put<std::uint32_t>(&payload, static_cast<std::uint32_t>(event.tags.size()));
    for (const std::string& tag : event.tags) PutString(&payload, tag);
    PutString(&payload, event.data);
  }
  std::string record;
  Put<std::uint64_t>(&record, payload.size());
  Put<std::uint64_t>(&record, std::hash<std::string_view>{}(payload));
  return record + payload;
}

// Reads fixed-width values and strings from a payload, failing once it runs short.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  template <typename T>
  bool Get(T* value) {
    if (in_.size() < sizeof(T)) return false;
    *value = DecodeFixed<T>(in_.data());
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetString(std::string* s) {
    std::uint32_t n;
    if (!Get(&n) || in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

bool DecodeAckPayload(std::string_view payload, AckRecord* record) {
  Decoder in(payload);
  std::uint8_t kind;
  std::uint32_t count;
  if (!in.Get(&kind) || !in.Get(&record->last) || !in.Get(&count)) return false;
  record->kind = static_cast<AckKind>(kind);
  record->events.resize(count);
  for (Event& event : record->events) {
    std::uint32_t tags;
    if (!in.GetString(&event.type) || !in.Get(&tags)) return false;
    event.tags.resize(tags);
    for (std::string& tag : event.tags) {
      if (!in.GetString(&tag)) return false;
    }
    if (!in.GetString(&event.data)) return false;
  }
  return in.done() && (record->kind == AckKind::kAcknowledged || record->kind == AckKind::kRefused);
}

// Parses the records of an acknowledgement log; `*valid_bytes` is where the last whole one ends.
// Only the last record may be incomplete (a write cut short by the kill); any other damage is an
// error.
std::string ParseAcks(std::string_view bytes, std::vector<AckRecord>* records,
                      std::size_t* valid_bytes) {
  constexpr std::size_t kHeader = 16;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < kHeader) break;
    const auto length = DecodeFixed<std::uint64_t>(bytes.data() + offset);
    const auto hash = DecodeFixed<std::uint64_t>(bytes.data() + offset + 8);
    if (length > bytes.size() - offset - kHeader) break;
    const std::string_view payload = bytes.substr(offset + kHeader, length);
    AckRecord record;
    if (std::hash<std::string_view>{}(payload) != hash || !DecodeAckPayload(payload, &record)) {
      return "acknowledgement log: bad record at offset " + std::to_string(offset);
    }
    records->push_back(std::move(record));
    offset += kHeader + length;
  }
  *valid_bytes = offset;
  return "";
}

// ---- The child: writers making course decisions until killed ----

// The child cannot use doctest: it reports on stderr and exits with kChildFailed.
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "crash child %d: %s\n", static_cast<int>(getpid()), message.c_str());
  _exit(kChildFailed);
}

class Writer {
 public:
  Writer(Store& store, int ack_fd, std::uint64_t life, int writer, std::uint64_t seed)
      : store_(store),
        ack_fd_(ack_fd),
        writer_(writer),
        next_id_(static_cast<std::int64_t>((life * kWriters + writer) << 32)),
        rng_(seed) {}

  [[noreturn]] void Run() {
    for (;;) {
      const std::int64_t dice = Uniform(rng_, 0, 99);
      if (dice < 55) {
        Decide();
      } else if (dice < 85) {
        AppendFillers();
      } else {
        AppendGuarded();
      }
    }
  }

 private:
  // One decision of the coursebooking example: read the course's and the student's events, then
  // define the course, register the student or subscribe the student, under the condition that
  // nothing matching that read was appended after its head.
  void Decide() {
    // The ids drift with the log, so that courses keep filling up and new ones keep appearing,
    // and the writers keep contending for the same few.
    const std::int64_t window = Head() / 300 * 3;
    const std::int64_t course = window + Uniform(rng_, 0, 5);
    const std::int64_t student = window + Uniform(rng_, 0, 7);
    Query boundary;
    boundary.items.push_back({{}, {CourseTag(course)}});
    boundary.items.push_back({{}, {StudentTag(student)}});
    Result<ReadResult> read = store_.Read(boundary);
    if (!read.ok()) Die("read: " + read.status().ToString());
    Rules rules;
    for (const SequencedEvent& e : read->events) {
      Fact fact;
      if (!ParseFact(e.event, &fact)) Die("unreadable event at " + std::to_string(e.position));
      rules.Apply(fact);
    }
    Fact fact;
    if (!rules.defined(course)) {
      fact = NewFact(kCourseDefined, {{"course", course}, {"places", Uniform(rng_, 1, 4)}});
    } else if (!rules.registered(student)) {
      fact = NewFact(kStudentRegistered, {{"student", student}, {"limit", Uniform(rng_, 1, 4)}});
    } else {
      fact = NewFact(kStudentSubscribed, {{"course", course}, {"student", student}});
      if (!rules.Refusal(fact, 0).empty()) return;
    }
    fact.filler = FillerBytes(Uniform(rng_, 0, 99) < kBigPercent);
    Commit({BuildEvent(fact)}, AppendCondition{boundary, read->head});
  }

  // Unconditional batches of several events: frames of many sizes.
  void AppendFillers() {
    const std::int64_t n = Uniform(rng_, 1, 8);
    const std::int64_t big = Uniform(rng_, 0, 99) < kBigPercent ? Uniform(rng_, 0, n - 1) : -1;
    std::vector<Event> events;
    for (std::int64_t k = 0; k < n; ++k) {
      Fact fact = NewFact(kFiller, {{"w", writer_}});
      fact.filler = FillerBytes(k == big);
      events.push_back(BuildEvent(fact));
    }
    Commit(events, std::nullopt);
  }

  // A batch under the empty query: "fail if anything at all was appended after the head I read".
  void AppendGuarded() {
    const std::int64_t after = Head();
    const std::int64_t n = Uniform(rng_, 1, 3);
    std::vector<Event> events;
    for (std::int64_t k = 0; k < n; ++k) {
      Fact fact = NewFact(kGuarded, {{"w", writer_}, {"after", after}, {"k", k}});
      fact.filler = FillerBytes(false);
      events.push_back(BuildEvent(fact));
    }
    Commit(events, AppendCondition{Query{}, after});
  }

  Fact NewFact(const char* type, std::map<std::string, std::int64_t> fields) {
    fields["id"] = next_id_++;
    return MakeFact(type, std::move(fields), 0);
  }

  std::size_t FillerBytes(bool big) {
    return static_cast<std::size_t>(big ? Uniform(rng_, kBigMin, kBigMax)
                                        : Uniform(rng_, 0, kSmallMax));
  }

  std::int64_t Head() {
    Result<std::optional<std::int64_t>> head = store_.Head();
    if (!head.ok()) Die("head: " + head.status().ToString());
    return head->value_or(0);
  }

  void Commit(const std::vector<Event>& events, const std::optional<AppendCondition>& condition) {
    Result<std::int64_t> last = store_.Append(events, condition);
    if (!last.ok() && !last.status().IsConditionFailed()) {
      Die("append: " + last.status().ToString());
    }
    const std::string record = last.ok() ? EncodeAck(AckKind::kAcknowledged, *last, events)
                                         : EncodeAck(AckKind::kRefused, 0, events);
    // One write(2) per record on an O_APPEND descriptor: records of different threads never
    // interleave, and the page cache keeps them when the process is killed.
    if (write(ack_fd_, record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
      Die(std::string("acknowledgement log: ") + std::strerror(errno));
    }
  }

  Store& store_;
  const int ack_fd_;
  const int writer_;
  std::int64_t next_id_;
  std::mt19937_64 rng_;
};

// The child process: opens the store, tells the parent through `ready_fd`, and writes until it
// is killed.
[[noreturn]] void RunChild(const Options& options, const std::string& dir,
                           const std::string& ack_path, std::uint64_t life, std::uint64_t seed,
                           int ready_fd) {
  // Orphaned children must not write forever.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1) Die("parent gone");
  const int ack_fd = open(ack_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ack_fd < 0) Die(ack_path + ": " + std::strerror(errno));
  Result<std::unique_ptr<Store>> store = Store::Open(options, dir);
  if (!store.ok()) Die("open: " + store.status().ToString());
  if (write(ready_fd, "r", 1) != 1) Die("cannot tell the parent");
  close(ready_fd);
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Writer>> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.push_back(std::make_unique<Writer>(**store, ack_fd, life, w, seed + w));
    threads.emplace_back(&Writer::Run, writers.back().get());
  }
  std::this_thread::sleep_for(std::chrono::seconds(60));
  Die("not killed within 60 s");
}

// ---- The parent's checks ----

bool Matches(const Query& query, const Event& event) {
  if (query.items.empty()) return true;
  return std::any_of(query.items.begin(), query.items.end(), [&](const QueryItem& item) {
    const bool type_ok = item.types.empty() || std::find(item.types.begin(), item.types.end(),
                                                         event.type) != item.types.end();
    return type_ok && std::all_of(item.tags.begin(), item.tags.end(), [&](const std::string& tag) {
             return std::find(event.tags.begin(), event.tags.end(), tag) != event.tags.end();
           });
  });
}

// Reference §1.4 by brute force over the whole log (position p at p - 1).
ReadResult BruteForceRead(const std::vector<SequencedEvent>& log, const Query& query,
                          const ReadOptions& options) {
  ReadResult out;
  const std::size_t begin = static_cast<std::size_t>(
      std::min<std::int64_t>(options.after.value_or(0), static_cast<std::int64_t>(log.size())));
  for (std::size_t i = begin; i < log.size(); ++i) {
    if (options.limit && static_cast<std::int64_t>(out.events.size()) >= *options.limit) break;
    if (Matches(query, log[i].event)) out.events.push_back(log[i]);
  }
  if (options.limit) {
    if (!out.events.empty()) out.head = out.events.back().position;
  } else if (!log.empty()) {
    out.head = log.back().position;
  }
  return out;
}

std::string Describe(const Query& query, const ReadOptions& options) {
  std::string out = "query [";
  for (const QueryItem& item : query.items) {
    out += "{types:";
    for (const std::string& type : item.types) out += " " + type;
    out += ", tags:";
    for (const std::string& tag : item.tags) out += " " + tag;
    out += "}";
  }
  return out + "] after " + Str(options.after) + " limit " + Str(options.limit);
}

std::string Positions(const std::vector<SequencedEvent>& events) {
  std::string out;
  for (std::size_t i = 0; i < events.size() && i < 10; ++i) {
    out += (i > 0 ? "," : "") + std::to_string(events[i].position);
  }
  return out + (events.size() > 10 ? ",..." : "");
}

// Queries of every shape, with tags taken from the log so that they match something.
Query RandomQuery(std::mt19937_64& rng, const std::vector<SequencedEvent>& log) {
  static const char* const kTypes[] = {kCourseDefined, kStudentRegistered, kStudentSubscribed,
                                       kFiller,        kGuarded,           "Unknown"};
  Query query;
  const std::int64_t items = Uniform(rng, 0, 3);
  for (std::int64_t i = 0; i < items; ++i) {
    QueryItem& item = query.items.emplace_back();
    for (std::int64_t t = Uniform(rng, 0, 2); t > 0; --t) {
      item.types.push_back(kTypes[Uniform(rng, 0, std::ssize(kTypes) - 1)]);
    }
    if (log.empty() || Uniform(rng, 0, 9) == 0) {
      if (Uniform(rng, 0, 1) == 0) item.tags.push_back("no-such-tag");
      continue;
    }
    // Some tags of one event: items with two tags then match at least that event.
    const std::vector<std::string>& tags =
        log[static_cast<std::size_t>(Uniform(rng, 0, std::ssize(log) - 1))].event.tags;
    for (const std::string& tag : tags) {
      if (Uniform(rng, 0, 2) != 0) item.tags.push_back(tag);
    }
  }
  return query;
}

struct Tally {
  int kills = 0;
  int kills_before_open = 0;  // the child had not opened the store yet
  int stores = 0;
  long long events_written = 0;  // events in the logs (each counted once)
  long long events_checked = 0;  // summed over checks: every check reads the whole log
  long long acknowledged = 0;    // acknowledged appends (each counted once)
  long long refused = 0;         // appends refused with ConditionFailed (each counted once)
  long long torn_records = 0;    // acknowledgement records cut short by a kill
  long long queries = 0;
  long long failing_conditions = 0;
  std::int64_t largest_log = 0;
  std::size_t subscriptions = 0;  // in the largest log
  std::uint64_t most_segments = 0;
};

// A store the children write to, and what the parent knows of it.
class CrashedStore {
 public:
  CrashedStore(Options options, std::string dir, std::string ack_path)
      : options_(options), dir_(std::move(dir)), ack_path_(std::move(ack_path)) {}

  const Options& options() const { return options_; }
  const std::string& dir() const { return dir_; }
  const std::string& ack_path() const { return ack_path_; }

  // Reopens the store after a kill and checks everything; "" when all is well.
  std::string Check(std::mt19937_64& rng, Tally* tally) {
    Result<std::unique_ptr<Store>> opened = Store::Open(options_, dir_);
    if (!opened.ok()) return "reopen: " + opened.status().ToString();
    Store& store = **opened;
    std::vector<SequencedEvent> log;
    if (std::string error = ReadLog(store, &log); !error.empty()) return error;
    if (std::string error = CheckLog(log, tally); !error.empty()) return error;
    if (std::string error = CheckAcks(log, tally); !error.empty()) return error;
    if (std::string error = CheckQueries(store, log, rng, tally); !error.empty()) return error;
    tally->events_written += static_cast<long long>(log.size() - seen_.size());
    tally->events_checked += static_cast<long long>(log.size());
    tally->largest_log = std::max(tally->largest_log, static_cast<std::int64_t>(log.size()));
    tally->most_segments = std::max(tally->most_segments, store.Info().segment_count);
    seen_ = std::move(log);
    return "";
  }

 private:
  // The whole log; the head must be its last position, and positions dense from 1.
  static std::string ReadLog(Store& store, std::vector<SequencedEvent>* log) {
    Result<std::optional<std::int64_t>> head = store.Head();
    Result<ReadResult> all = store.Read(Query{});
    if (!head.ok()) return "head: " + head.status().ToString();
    if (!all.ok()) return "read: " + all.status().ToString();
    if (all->head != *head) return "Head() " + Str(*head) + " but Read() says " + Str(all->head);
    *log = std::move(all->events);
    for (std::size_t i = 0; i < log->size(); ++i) {
      if ((*log)[i].position != static_cast<std::int64_t>(i) + 1) {
        return "position " + std::to_string((*log)[i].position) + " where " +
               std::to_string(i + 1) + " was expected";
      }
    }
    if (head->value_or(0) != static_cast<std::int64_t>(log->size())) {
      return "head " + Str(*head) + " but " + std::to_string(log->size()) + " events";
    }
    return "";
  }

  // What the previous check saw is unchanged; new events are whole and none belongs to an append
  // refused with ConditionFailed; the rules hold over the whole log.
  std::string CheckLog(const std::vector<SequencedEvent>& log, Tally* tally) {
    if (log.size() < seen_.size()) {
      return "the log shrank from " + std::to_string(seen_.size()) + " events, seen at the last " +
             "check, to " + std::to_string(log.size());
    }
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      if (log[i] != seen_[i]) {
        return "the event at position " + std::to_string(i + 1) + " changed since the last check";
      }
    }
    Rules rules;
    for (const SequencedEvent& e : log) {
      const std::string where = "event at position " + std::to_string(e.position) + ": ";
      Fact fact;
      // Events seen before were checked then; rebuilding big fillers is the costly part.
      if (e.position > static_cast<std::int64_t>(seen_.size())) {
        if (std::string error = CheckWhole(e.event, &fact); !error.empty()) return where + error;
        if (refused_ids_.count(Get(fact, "id")) != 0) {
          return where + "it belongs to an append refused with ConditionFailed";
        }
        log_ids_.insert(Get(fact, "id"));
      } else if (!ParseFact(e.event, &fact)) {
        return where + "no fact";
      }
      if (std::string refusal = rules.Refusal(fact, e.position); !refusal.empty()) {
        return where + fact.type + " although " + refusal + ": an append condition was violated";
      }
      rules.Apply(fact);
    }
    tally->subscriptions = std::max(tally->subscriptions, rules.subscriptions());
    return "";
  }

  // The acknowledgement records added since the last check: every acknowledged event is where
  // its append said, byte for byte (from then on CheckLog keeps it from changing), and no event of
  // a refused append is in the log (from then on CheckLog keeps it out). Truncates a record torn
  // by the kill, so that the next child appends after the last whole one.
  std::string CheckAcks(const std::vector<SequencedEvent>& log, Tally* tally) {
    std::string added;
    if (std::ifstream file(ack_path_, std::ios::binary); file) {  // absent: no child opened it
      file.seekg(static_cast<std::streamoff>(acks_checked_));
      added.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    std::vector<AckRecord> records;
    std::size_t valid_bytes;
    if (std::string error = ParseAcks(added, &records, &valid_bytes); !error.empty()) {
      return error + " after the " + std::to_string(acks_checked_) + " bytes checked before";
    }
    acks_checked_ += valid_bytes;
    if (valid_bytes < added.size()) {
      ++tally->torn_records;
      std::filesystem::resize_file(ack_path_, acks_checked_);
    }
    const auto head = static_cast<std::int64_t>(log.size());
    for (const AckRecord& record : records) {
      if (record.kind == AckKind::kRefused) {
        for (const Event& event : record.events) {
          Fact fact;
          ParseFact(event, &fact);
          if (log_ids_.count(Get(fact, "id")) != 0) {
            return "an event of an append refused with ConditionFailed is in the log: " +
                   event.data.substr(0, event.data.find(';'));
          }
          refused_ids_.insert(Get(fact, "id"));
        }
        ++tally->refused;
        continue;
      }
      const auto n = static_cast<std::int64_t>(record.events.size());
      if (record.last < n) {
        return "an append of " + std::to_string(n) + " events returned position " +
               std::to_string(record.last);
      }
      if (record.last > head) {
        return "an append acknowledged at position " + std::to_string(record.last) +
               " is lost: the head is " + std::to_string(head);
      }
      for (std::int64_t k = 0; k < n; ++k) {
        const std::int64_t position = record.last - n + 1 + k;
        const Event& want = record.events[static_cast<std::size_t>(k)];
        const Event& got = log[static_cast<std::size_t>(position - 1)].event;
        if (got != want) {
          return "position " + std::to_string(position) + " holds '" +
                 got.data.substr(0, got.data.find(';')) + "' (" + std::to_string(got.data.size()) +
                 " data bytes) but the acknowledged append put '" +
                 want.data.substr(0, want.data.find(';')) + "' (" +
                 std::to_string(want.data.size()) + " bytes) there";
        }
      }
      ++tally->acknowledged;
    }
    return "";
  }

  // The rebuilt index against a brute-force filter; conditions that match make appends fail.
  static std::string CheckQueries(Store& store, const std::vector<SequencedEvent>& log,
                                  std::mt19937_64& rng, Tally* tally) {
    const auto head = static_cast<std::int64_t>(log.size());
    for (int q = 0; q < kQueriesPerCheck; ++q) {
      const Query query = RandomQuery(rng, log);
      ReadOptions options;
      if (Uniform(rng, 0, 1) == 0) options.after = Uniform(rng, 0, head + 1);
      if (Uniform(rng, 0, 1) == 0) options.limit = Uniform(rng, 0, 20);
      const std::string what = Describe(query, options);
      Result<ReadResult> got = store.Read(query, options);
      if (!got.ok()) return what + ": " + got.status().ToString();
      const ReadResult want = BruteForceRead(log, query, options);
      if (got->events != want.events || got->head != want.head) {
        return what + ": the store returned positions [" + Positions(got->events) + "] head " +
               Str(got->head) + ", a scan of the log [" + Positions(want.events) + "] head " +
               Str(want.head);
      }
      ++tally->queries;

      // Only conditions that must fail are tried: the parent writes nothing.
      ReadOptions first_match = options;
      first_match.limit = 1;
      if (BruteForceRead(log, query, first_match).events.empty()) continue;
      Event probe;
      probe.type = "Probe";
      Result<std::int64_t> appended =
          store.Append({&probe, 1}, AppendCondition{query, options.after});
      if (!appended.status().IsConditionFailed()) {
        return "an append under the condition " + what +
               " did not fail with ConditionFailed: " + appended.status().ToString();
      }
      ++tally->failing_conditions;
    }
    return "";
  }

  const Options options_;
  const std::string dir_;
  const std::string ack_path_;
  std::vector<SequencedEvent> seen_;              // the log at the last check
  std::unordered_set<std::int64_t> log_ids_;      // fact ids of seen_
  std::unordered_set<std::int64_t> refused_ids_;  // fact ids of refused appends
  std::size_t acks_checked_ = 0;                  // bytes of the acknowledgement log
};

// Starts a child writing to `store`, kills it at a random moment and reaps it. "" when it died
// of the SIGKILL.
std::string KillOnce(const CrashedStore& store, std::uint64_t life, std::mt19937_64& rng,
                     Tally* tally) {
  // Mostly within 50 ms of the child opening the store, sometimes at once, sometimes after a
  // longer run that grows the store; and sometimes before it has opened it at all.
  const bool before_open = Uniform(rng, 0, 9) == 0;
  const std::int64_t dice = Uniform(rng, 0, 99);
  const std::int64_t delay_us = before_open ? Uniform(rng, 0, 3000)
                                : dice < 10 ? 0
                                : dice < 85 ? Uniform(rng, 1000, 50'000)
                                            : Uniform(rng, 50'000, 250'000);
  const std::uint64_t child_seed = rng();
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    close(ready[0]);
    RunChild(store.options(), store.dir(), store.ack_path(), life, child_seed, ready[1]);
  }
  close(ready[1]);
  bool opened = false;
  if (!before_open) {
    pollfd poll_ready = {ready[0], POLLIN, 0};
    char byte;
    opened = poll(&poll_ready, 1, 30'000) == 1 && read(ready[0], &byte, 1) == 1;
  }
  std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
  kill(pid, SIGKILL);
  int status;
  const pid_t reaped = waitpid(pid, &status, 0);
  // Open until the child is dead: its report of an open store must not die of SIGPIPE.
  close(ready[0]);
  if (reaped != pid) return std::string("waitpid: ") + std::strerror(errno);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return "the child ended by itself (status " + std::to_string(status) +
           "); its message is above";
  }
  ++tally->kills;
  if (!opened) ++tally->kills_before_open;
  return "";
}

// A fresh directory under /tmp for the run's stores, removed unless the run failed.
class WorkDir {
 public:
  WorkDir() {
    char name[] = "/tmp/es-crash-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~WorkDir() {
    std::error_code ignored;
    if (!keep_) std::filesystem::remove_all(path_, ignored);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;

  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Every other store rolls segments often: by size (big events fill 1 MiB quickly) and by count.
Options StoreOptions(int store_number) {
  Options options;
  if (store_number % 2 == 1) {
    options.segment_bytes = 1 << 20;
    options.segment_events = 256;
    options.max_write_bytes = (1 << 20) - (4 << 10);
    options.max_write_events = 256;
  }
  return options;
}

// ---- The checkers themselves: a test that cannot fail proves nothing ----

TEST_CASE("crash: an event is whole only when it is what its fact says") {
  const Fact fact = MakeFact(kStudentSubscribed, {{"course", 4}, {"student", 9}, {"id", 7}}, 100);
  const Event event = BuildEvent(fact);
  CHECK(event.tags == std::vector<std::string>{"course-4", "student-9"});
  Fact parsed;
  CHECK(CheckWhole(event, &parsed) == "");
  CHECK(parsed.fields == fact.fields);
  CHECK(parsed.filler == 100);
  Event flipped = event;
  flipped.data[event.data.size() - 3] ^= 1;
  CHECK(CheckWhole(flipped, &parsed) != "");
  Event cut = event;
  cut.data.pop_back();
  CHECK(CheckWhole(cut, &parsed) != "");
  Event retagged = event;
  std::swap(retagged.tags[0], retagged.tags[1]);
  CHECK(CheckWhole(retagged, &parsed) != "");
  Event no_fact = event;
  no_fact.data = "StudentSubscribed course=4";
  CHECK(CheckWhole(no_fact, &parsed) != "");
}

TEST_CASE("crash: the rules catch every violated condition") {
  Rules rules;
  const Fact course = MakeFact(kCourseDefined, {{"course", 1}, {"places", 1}, {"id", 1}}, 0);
  const Fact alice = MakeFact(kStudentRegistered, {{"student", 1}, {"limit", 1}, {"id", 2}}, 0);
  const Fact bob = MakeFact(kStudentRegistered, {{"student", 2}, {"limit", 5}, {"id", 3}}, 0);
  auto subscribe = [](std::int64_t c, std::int64_t s) {
    return MakeFact(kStudentSubscribed, {{"course", c}, {"student", s}, {"id", 9}}, 0);
  };
  CHECK(rules.Refusal(subscribe(1, 1), 0) != "");  // no such course
  for (const Fact& fact : {course, alice, bob}) {
    REQUIRE(rules.Refusal(fact, 0) == "");
    rules.Apply(fact);
  }
  CHECK(rules.Refusal(course, 0) != "");           // defined twice
  CHECK(rules.Refusal(alice, 0) != "");            // registered twice
  CHECK(rules.Refusal(subscribe(1, 3), 0) != "");  // no such student
  REQUIRE(rules.Refusal(subscribe(1, 1), 0) == "");
  rules.Apply(subscribe(1, 1));
  CHECK(rules.Refusal(subscribe(1, 1), 0) != "");  // twice
  CHECK(rules.Refusal(subscribe(1, 2), 0) != "");  // no place left
  const Fact second = MakeFact(kCourseDefined, {{"course", 2}, {"places", 3}, {"id", 4}}, 0);
  rules.Apply(second);
  CHECK(rules.Refusal(subscribe(2, 1), 0) != "");  // over the student's limit
  CHECK(rules.Refusal(subscribe(2, 2), 0) == "");
  const Fact guarded = MakeFact(kGuarded, {{"w", 0}, {"after", 10}, {"k", 1}, {"id", 5}}, 0);
  CHECK(rules.Refusal(guarded, 12) == "");
  CHECK(rules.Refusal(guarded, 13) != "");
}

TEST_CASE("crash: the acknowledgement log keeps whole records and drops a torn last one") {
  const std::vector<Event> first = {BuildEvent(MakeFact(kFiller, {{"w", 1}, {"id", 1}}, 70'000)),
                                    BuildEvent(MakeFact(kFiller, {{"w", 1}, {"id", 2}}, 0))};
  const std::vector<Event> second = {BuildEvent(MakeFact(kFiller, {{"w", 2}, {"id", 3}}, 5))};
  const std::string a = EncodeAck(AckKind::kAcknowledged, 12, first);
  const std::string b = EncodeAck(AckKind::kRefused, 0, second);
  std::vector<AckRecord> records;
  std::size_t valid;
  REQUIRE(ParseAcks(a + b, &records, &valid) == "");
  REQUIRE(records.size() == 2);
  CHECK(valid == a.size() + b.size());
  CHECK(records[0].kind == AckKind::kAcknowledged);
  CHECK(records[0].last == 12);
  CHECK(records[0].events == first);
  CHECK(records[1].kind == AckKind::kRefused);
  CHECK(records[1].events == second);
  for (std::size_t cut : {std::size_t{1}, std::size_t{15}, std::size_t{16}, b.size() - 1}) {
    records.clear();
    CHECK(ParseAcks(a + b.substr(0, cut), &records, &valid) == "");
    CHECK(records.size() == 1);
    CHECK(valid == a.size());
  }
  std::string damaged = a + b;
  damaged[a.size() / 2] ^= 1;
  records.clear();
  CHECK(ParseAcks(damaged, &records, &valid) != "");
}

TEST_CASE("crash: the brute-force reader follows the head rule") {
  std::vector<SequencedEvent> log;
  for (std::int64_t p = 1; p <= 3; ++p) {
    log.push_back({p, BuildEvent(MakeFact(kFiller, {{"w", p % 2}, {"id", p}}, 0))});
  }
  Query w1;
  w1.items.push_back({{}, {"w1"}});
  ReadResult all = BruteForceRead(log, w1, {});
  CHECK(all.events.size() == 2);
  CHECK(all.head == 3);
  CHECK(BruteForceRead(log, w1, {std::nullopt, 1}).head == 1);
  CHECK(BruteForceRead(log, w1, {std::nullopt, 0}).head == std::nullopt);
  CHECK(BruteForceRead(log, w1, {5, std::nullopt}).events.empty());
  Query wrong_type;
  wrong_type.items.push_back({{kGuarded}, {"w1"}});
  CHECK(BruteForceRead(log, wrong_type, {}).events.empty());
  CHECK(BruteForceRead(log, Query{}, {1, std::nullopt}).events.size() == 2);
}

// ---- The harness ----

TEST_CASE("crash: SIGKILLed writers lose no acknowledged append and break no condition") {
  const std::uint64_t seed = TestSeed();
  const int kills = KillsToRun();
  std::printf("crash: seed %llu, %d kills (set ES_TEST_SEED and ES_CRASH_KILLS to reproduce)\n",
              static_cast<unsigned long long>(seed), kills);
  const auto start = Clock::now();
  WorkDir work;
  std::mt19937_64 rng(seed);
  Tally tally;
  std::unique_ptr<CrashedStore> store;
  for (int kill = 0; kill < kills; ++kill) {
    if (kill % kKillsPerStore == 0) {
      // Each store starts fresh; the previous one is no longer needed.
      if (store != nullptr) std::filesystem::remove_all(store->dir());
      const std::string name = work.path() + "/store-" + std::to_string(tally.stores);
      store = std::make_unique<CrashedStore>(StoreOptions(tally.stores), name, name + ".acks");
      ++tally.stores;
    }
    std::string error = KillOnce(*store, static_cast<std::uint64_t>(kill), rng, &tally);
    if (error.empty()) error = store->Check(rng, &tally);
    if (!error.empty()) {
      work.Keep();
      FAIL("kill " << kill << " of the run with seed " << seed << ", store " << store->dir()
                   << " (kept): " << error);
    }
    if ((kill + 1) % 500 == 0) {
      std::printf("crash: %d kills, %.0f s\n", kill + 1, SecondsSince(start));
      std::fflush(stdout);
    }
  }
  std::printf(
      "crash: %d kills (%d before the child opened the store) over %d stores in %.1f s: %lld "
      "events written, %lld acknowledged and %lld refused appends, %lld torn acknowledgements; "
      "%lld events checked, %lld queries against a scan, %lld conditions that had to fail; "
      "largest log %lld events (%zu subscriptions), up to %llu segments\n",
      tally.kills, tally.kills_before_open, tally.stores, SecondsSince(start), tally.events_written,
      tally.acknowledged, tally.refused, tally.torn_records, tally.events_checked, tally.queries,
      tally.failing_conditions, static_cast<long long>(tally.largest_log), tally.subscriptions,
      static_cast<unsigned long long>(tally.most_segments));
  CHECK(tally.kills == kills);
}

}  // namespace
}  // namespace es
