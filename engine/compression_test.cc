// Compression of event data in the store (Options::compression): what is written shrinks, reads
// give back exactly what was appended, and a store reads its compressed events whatever its
// later options. The codec itself: compress/event_compressor_test.cc.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <random>
#include <string>

#include "engine/log/segment.h"
#include "engine/testing/test_dir.h"
#include "es/store.h"
#include "es/verify.h"

namespace es {
namespace {

constexpr char kDir[] = "/store";

std::string Repetitive(std::size_t size) {
  std::string text;
  for (int i = 0; text.size() < size; ++i) {
    text += "{\"course\":\"course-" + std::to_string(i % 7) + "\",\"places\":10},";
  }
  text.resize(size);
  return text;
}

std::string Random(std::size_t size) {
  std::mt19937 rng(static_cast<unsigned>(size));
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

std::unique_ptr<Store> OpenOk(const Options& options) {
  auto store = Store::Open(options, kDir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(store).value();
}

std::vector<Event> EventsOfEverySize() {
  std::vector<Event> events;
  for (std::size_t size : {0u, 10u, 63u, 64u, 256u, 2048u, 65536u, 1u << 20}) {
    for (bool compressible : {true, false}) {
      Event event = testing::MakeEvent("Sized", {"size:" + std::to_string(size)},
                                       compressible ? Repetitive(size) : Random(size));
      event.stream = StreamVersion{"stream-" + std::to_string(size), compressible ? 1 : 2};
      event.metadata = {{"compressible", compressible ? "yes" : "no"}};
      events.push_back(std::move(event));
    }
  }
  return events;
}

// Options of a store in `env` that compresses, without syncing.
Options Compressing(Env* env) {
  Options options;
  options.env = env;
  options.durability = Durability::kNone;
  options.compression = Compression::kZstd;
  return options;
}

TEST_CASE("compression: reads give back what was appended, compressed or not") {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options = Compressing(env.get());
  options.max_write_bytes = 8u << 20;
  const std::vector<Event> events = EventsOfEverySize();
  std::vector<Event> batch = events;  // all in one frame too, in streams of their own
  for (Event& event : batch) event.stream->id += "-batch";
  {
    auto store = OpenOk(options);
    for (const Event& event : events) REQUIRE(store->Append(std::vector<Event>{event}, {}).ok());
    REQUIRE(store->Append(batch, std::nullopt).ok());
  }
  const std::string segment =
      testing::ReadFile(env.get(), std::string(kDir) + "/" + Segment::FileName(1));
  // The repetitive megabyte is not in the file as it is; the random one must be.
  CHECK(segment.find(Repetitive(1 << 20).substr(1000, 4096)) == std::string::npos);
  CHECK(segment.find(Random(1 << 20).substr(1000, 4096)) != std::string::npos);

  // Reopened without compression: old events still read; new ones are stored plain.
  options.compression = Compression::kNone;
  auto store = OpenOk(options);
  Event plain = events[13];
  plain.stream->version = 3;
  REQUIRE(store->Append(std::vector<Event>{plain}, std::nullopt).ok());
  std::vector<Event> expected = events;
  expected.insert(expected.end(), batch.begin(), batch.end());
  expected.push_back(plain);
  auto all = store->Read(Query{}, {});
  REQUIRE(all.ok());
  REQUIRE(all->events.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(all->events[i].event == expected[i]);
  }
  auto stream = store->SelectEvents("stream-256", {});
  REQUIRE(stream.ok());
  CHECK(stream->size() == 2);
}

TEST_CASE("compression: a store with it stores repetitive data in less space") {
  std::unique_ptr<Env> env = NewMemEnv();
  std::uint64_t log_bytes[2];
  for (bool compress : {false, true}) {
    Options options;
    options.env = env.get();
    options.durability = Durability::kNone;
    options.compression = compress ? Compression::kZstd : Compression::kNone;
    const std::string dir = compress ? "/zstd" : "/plain";
    auto store = Store::Open(options, dir);
    REQUIRE(store.ok());
    for (int i = 0; i < 100; ++i) {
      REQUIRE((*store)
                  ->Append(std::vector<Event>{testing::MakeEvent("Big", {"t"}, Repetitive(4096))},
                           std::nullopt)
                  .ok());
    }
    log_bytes[compress] = (*store)->Info().log_bytes;
  }
  CHECK(log_bytes[1] * 4 < log_bytes[0]);
}

std::string JsonEvent(std::mt19937& rng) {
  return R"({"type":"StudentJoinedCourse","student_id":"student-)" +
         std::to_string(rng() % 100000) + R"(","course_id":"course-)" +
         std::to_string(rng() % 1000) + R"(","joined_at":"2026-11-)" +
         std::to_string(10 + rng() % 18) + R"(T12:)" + std::to_string(10 + rng() % 50) +
         R"(:00Z","places_left":)" + std::to_string(rng() % 30) +
         R"(,"channel":"web","agent":"es-speedrun/1.0","version":3})";
}

TEST_CASE("compression: a dictionary trained from the store halves its small events") {
  std::unique_ptr<Env> env = NewMemEnv();
  const Options options = Compressing(env.get());
  std::mt19937 rng(5);
  std::vector<Event> written;
  auto append = [&](int count) {
    auto store = OpenOk(options);
    const std::uint64_t before = store->Info().log_bytes;
    for (int i = 0; i < count; ++i) {
      written.push_back(testing::MakeEvent("Joined", {"t" + std::to_string(i)}, JsonEvent(rng)));
      REQUIRE(store->Append(std::vector<Event>{written.back()}, std::nullopt).ok());
    }
    return static_cast<double>(store->Info().log_bytes - before) / count;
  };
  const double without = append(4000);
  {
    auto store = OpenOk(options);
    CHECK(store->TrainCompressionDictionary(1000).status().IsInvalidArgument());  // too small
    auto id = store->TrainCompressionDictionary(16 << 10);
    REQUIRE_MESSAGE(id.ok(), id.status().ToString());
    CHECK(*id == 1);
    CHECK(store->Info().compression_dictionary == 1);
    CHECK(env->FileExists(std::string(kDir) + "/00000000000000000001.zdict"));
  }
  const double with = append(4000);
  MESSAGE("log bytes per event: " << without << " without a dictionary, " << with << " with");
  const double data = static_cast<double>(written.back().data.size());
  // The entry's framing (type, tag, header: about 60 bytes) is not compressed.
  CHECK((with - (without - data)) * 2 < data);

  for (bool read_only : {false, true}) {
    Options reopen = options;
    reopen.read_only = read_only;
    auto store = OpenOk(reopen);
    auto all = store->Read(Query{}, {});
    REQUIRE(all.ok());
    REQUIRE(all->events.size() == written.size());
    for (std::size_t i = 0; i < written.size(); ++i) CHECK(all->events[i].event == written[i]);
    if (read_only) CHECK(store->TrainCompressionDictionary(16 << 10).status().IsNotSupported());
  }
  auto clean = VerifyStore(options, kDir);
  REQUIRE(clean.ok());
  CHECK(clean->clean());

  // Without its dictionary, an event that needs it is corruption, named as such; others read.
  REQUIRE(env->RemoveFile(std::string(kDir) + "/00000000000000000001.zdict").ok());
  auto store = OpenOk(options);
  auto first = store->Read(Query{}, {std::nullopt, 1});
  CHECK(first.ok());
  Status missing = store->Read(Query{}, {}).status();
  CHECK(missing.IsCorruption());
  CHECK(missing.ToString().find("dictionary 1") != std::string::npos);
  store.reset();
  auto damaged = VerifyStore(options, kDir);
  REQUIRE(damaged.ok());
  CHECK_FALSE(damaged->clean());
}

TEST_CASE("compression: options from the environment") {
  auto with = [](const char* value) {
    setenv("COMPRESSOR_TOPIC", value, 1);
    Result<Options> options = OptionsFromEnvironment();
    unsetenv("COMPRESSOR_TOPIC");
    return options;
  };
  CHECK(OptionsFromEnvironment()->compression == Compression::kNone);
  CHECK(with("zstd")->compression == Compression::kZstd);
  CHECK(with("zstd:9")->compression_level == 9);
  CHECK(with("none")->compression == Compression::kNone);
  for (const char* bad : {"zlib", "zstd:0", "zstd:20", "zstd:", "zstd:3x",
                          "eventsourcing.compressor:ZlibCompressor"}) {
    CAPTURE(bad);
    Status status = with(bad).status();
    CHECK(status.IsInvalidArgument());
    CHECK(status.ToString().find("COMPRESSOR_TOPIC") != std::string::npos);
  }
  setenv("ORDERS_COMPRESSOR_TOPIC", "zstd:5", 1);
  setenv("COMPRESSOR_TOPIC", "none", 1);
  Result<Options> orders = OptionsFromEnvironment("orders");
  Result<Options> others = OptionsFromEnvironment("invoices");
  unsetenv("ORDERS_COMPRESSOR_TOPIC");
  unsetenv("COMPRESSOR_TOPIC");
  REQUIRE(orders.ok());
  CHECK(orders->compression == Compression::kZstd);
  CHECK(orders->compression_level == 5);
  CHECK(others->compression == Compression::kNone);

  Options bad_level;
  bad_level.compression_level = 20;
  std::unique_ptr<Env> env = NewMemEnv();
  bad_level.env = env.get();
  CHECK(Store::Open(bad_level, kDir).status().IsInvalidArgument());
}

}  // namespace
}  // namespace es
