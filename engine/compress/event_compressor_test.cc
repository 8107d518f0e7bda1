#include "engine/compress/event_compressor.h"

#include <doctest/doctest.h>

#include "es/env.h"

#include <random>
#include <string>
#include <vector>

namespace es {
namespace {

// JSON-like text: repetitive enough to shrink on its own once it is a few hundred bytes long.
std::string JsonLike(std::size_t size) {
  std::string text;
  for (int i = 0; text.size() < size; ++i) {
    text += R"({"student_id":"student-)" + std::to_string(i % 97) + R"(","course_id":"course-)" +
            std::to_string(i % 13) + R"(","at":"2026-11-28"},)";
  }
  text.resize(size);
  return text;
}

std::string Random(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

TEST_CASE("event compression round-trips every size class") {
  const EventCompressor compressor(0, 64);
  for (std::size_t size : {64u, 65u, 100u, 256u, 1000u, 2048u, 4096u, 65536u, 1u << 20}) {
    CAPTURE(size);
    const std::string data = JsonLike(size);
    std::string compressed;
    REQUIRE(compressor.Compress(data, nullptr, &compressed));
    CHECK(compressed.size() < data.size());
    std::string back;
    REQUIRE(DecompressEventData(compressed, nullptr, 1u << 30, &back).ok());
    CHECK(back == data);
  }
}

TEST_CASE("event compression leaves short and incompressible data as it is") {
  const EventCompressor compressor(3, 64);
  std::string compressed;
  CHECK_FALSE(compressor.Compress("", nullptr, &compressed));
  CHECK_FALSE(compressor.Compress(JsonLike(63), nullptr, &compressed));  // under min_bytes
  CHECK_FALSE(compressor.Compress(Random(256, 1), nullptr, &compressed));
  CHECK_FALSE(compressor.Compress(Random(1 << 16, 2), nullptr, &compressed));
  const EventCompressor eager(3, 0);
  CHECK_FALSE(eager.Compress("ab", nullptr, &compressed));  // a frame is longer than two bytes
}

TEST_CASE("damaged compressed data is corruption, never a crash or a wrong answer") {
  const EventCompressor compressor(3, 0);
  const std::string data = JsonLike(4096);
  std::string compressed;
  REQUIRE(compressor.Compress(data, nullptr, &compressed));
  std::string out;

  SUBCASE("truncated at every length") {
    for (std::size_t n = 0; n < compressed.size(); ++n) {
      CAPTURE(n);
      CHECK(DecompressEventData(compressed.substr(0, n), nullptr, 1u << 20, &out).IsCorruption());
    }
  }
  SUBCASE("each byte flipped: corruption, or data of the declared size (the log checksums it)") {
    for (std::size_t i = 0; i < compressed.size(); ++i) {
      CAPTURE(i);
      std::string damaged = compressed;
      damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
      Status status = DecompressEventData(damaged, nullptr, 1u << 20, &out);
      if (status.ok()) {
        CHECK(out.size() == data.size());
      } else {
        CHECK(status.IsCorruption());
      }
    }
  }
  SUBCASE("a declared size over the limit is refused before allocating it") {
    CHECK(DecompressEventData(compressed, nullptr, 1000, &out).IsCorruption());
  }
  SUBCASE("bytes that are not a zstd frame") {
    CHECK(DecompressEventData(Random(100, 3), nullptr, 1u << 20, &out).IsCorruption());
    CHECK(DecompressEventData("", nullptr, 1u << 20, &out).IsCorruption());
  }
}

std::vector<std::string> TrainingSamples(int count) {
  std::mt19937 rng(11);
  std::vector<std::string> samples;
  for (int i = 0; i < count; ++i) {
    samples.push_back(R"({"type":"StudentJoinedCourse","student_id":"student-)" +
                      std::to_string(rng() % 100000) + R"(","course_id":"course-)" +
                      std::to_string(rng() % 1000) + R"(","joined_at":"2026-11-)" +
                      std::to_string(10 + rng() % 18) + R"(T12:00:00Z","places_left":)" +
                      std::to_string(rng() % 30) + R"(,"channel":"web","version":3})");
  }
  return samples;
}

TEST_CASE("a trained dictionary shrinks small events, and is needed to read them") {
  const std::vector<std::string> samples = TrainingSamples(5000);
  auto bytes = TrainDictionary(samples, 16 << 10, 7);
  REQUIRE_MESSAGE(bytes.ok(), bytes.status().ToString());
  auto dictionary = CompressionDictionary::Create(7, *bytes, 3);
  REQUIRE(dictionary.ok());

  const EventCompressor compressor(3, 0);
  const std::string event = TrainingSamples(5001).back();
  std::string alone, with_dictionary;
  const bool shrank_alone = compressor.Compress(event, nullptr, &alone);
  REQUIRE(compressor.Compress(event, dictionary->get(), &with_dictionary));
  CHECK(with_dictionary.size() * 2 < (shrank_alone ? alone.size() : event.size()));

  std::unique_ptr<Env> env = NewMemEnv();
  REQUIRE(env->CreateDir("/d").ok());
  auto set = DictionarySet::Load(env.get(), "/d", 3);
  REQUIRE(set.ok());
  std::string back;
  CHECK(DecompressEventData(with_dictionary, set->get(), 1 << 20, &back).IsCorruption());
  CHECK(DecompressEventData(with_dictionary, nullptr, 1 << 20, &back).IsCorruption());
  REQUIRE((*set)->Write(env.get(), "/d", 7, *bytes).ok());
  REQUIRE(DecompressEventData(with_dictionary, set->get(), 1 << 20, &back).ok());
  CHECK(back == event);
  CHECK((*set)->NewestId() == 7);

  // Loaded again from its file, as the next open would.
  auto reloaded = DictionarySet::Load(env.get(), "/d", 3);
  REQUIRE(reloaded.ok());
  REQUIRE(DecompressEventData(with_dictionary, reloaded->get(), 1 << 20, &back).ok());
  CHECK(back == event);
}

TEST_CASE("dictionary files that are damaged or misnamed do not load") {
  const std::vector<std::string> samples = TrainingSamples(3000);
  auto bytes = TrainDictionary(samples, 8 << 10, 2);
  REQUIRE(bytes.ok());
  std::unique_ptr<Env> env = NewMemEnv();
  REQUIRE(env->CreateDir("/d").ok());
  auto put = [&](std::uint32_t id, const std::string& content) {
    auto file = env->OpenFile("/d/" + DictionaryFileName(id), {.create = true});
    REQUIRE(file.ok());
    REQUIRE((*file)->Write(0, content).ok());
  };
  SUBCASE("an id other than its name") { put(3, *bytes); }
  SUBCASE("not a dictionary") { put(2, "just some bytes, not zstd"); }
  SUBCASE("truncated") { put(2, bytes->substr(0, 6)); }
  Status status = DictionarySet::Load(env.get(), "/d", 3).status();
  CHECK(status.IsCorruption());
  CHECK(status.ToString().find(".zdict") != std::string::npos);
}

TEST_CASE("training needs enough samples") {
  CHECK(
      TrainDictionary({"too few", "samples to train on"}, 8 << 10, 1).status().IsInvalidArgument());
  CHECK(TrainDictionary({}, 8 << 10, 1).status().IsInvalidArgument());
}

}  // namespace
}  // namespace es
