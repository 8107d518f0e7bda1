// Encryption at rest (Options::key_provider, docs/encryption.md): what an encrypted store writes
// holds none of its users' strings, reads give back what was appended with and without
// compression, the wrong key or none is refused before anything is touched, any changed byte is
// detected even when every checksum is recomputed, and a crash is recovered without the key.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "engine/checkpoints.h"
#include "engine/env/fault_env.h"
#include "engine/format/checkpoint_file.h"
#include "engine/format/frame.h"
#include "engine/log/segment.h"
#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"
#include "engine/util/checksum.h"
#include "engine/util/coding.h"
#include "es/encryption.h"
#include "es/store.h"
#include "es/verify.h"

namespace es {
namespace {

constexpr char kDir[] = "/store";
const std::string kKey(32, 'K');

// Strings that must never appear in a file of an encrypted store.
const std::vector<std::string> kSecrets = {"SecretEnrolled",        "secret-student-tag",
                                           "secret-stream-id",      "secret-metadata-key",
                                           "secret-metadata-value", "secret-data-text"};

std::string Repetitive(std::size_t size) {
  std::string text;
  while (text.size() < size) text += "{\"secret-data-text\":\"course-7\",\"places\":10},";
  text.resize(size);
  return text;
}

std::vector<Event> SecretEvents(int count, std::size_t data_size) {
  std::vector<Event> events;
  for (int i = 0; i < count; ++i) {
    Event event = testing::MakeEvent(
        "SecretEnrolled", {"secret-student-tag", "n:" + std::to_string(i)}, Repetitive(data_size));
    event.stream = StreamVersion{"secret-stream-id", i + 1};
    event.metadata = {{"secret-metadata-key", "secret-metadata-value"}};
    Uuid uuid{};
    uuid[0] = static_cast<std::uint8_t>(i);
    event.uuid = uuid;
    events.push_back(std::move(event));
  }
  return events;
}

Options Encrypted(Env* env, std::string key = kKey) {
  Options options;
  options.env = env;
  options.durability = Durability::kNone;
  options.key_provider = FixedKeyProvider(std::move(key));
  options.checkpoint_interval_events = 0;
  // Small segments and no spare: tests copy whole store images, and run under ThreadSanitizer.
  options.segment_bytes = 1 << 20;
  options.max_write_bytes = options.segment_bytes / 2;
  options.prepare_spare_segment = false;
  return options;
}

std::unique_ptr<Store> OpenOk(const Options& options, const char* dir = kDir) {
  auto store = Store::Open(options, dir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(store).value();
}

std::vector<Event> ReadAll(Store& store) {
  Result<ReadResult> read = store.Read(Query{}, {});
  REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  std::vector<Event> events;
  for (SequencedEvent& e : read->events) events.push_back(std::move(e.event));
  return events;
}

TEST_CASE("encryption: reads give back every event, with and without compression, after reopen") {
  for (Compression compression : {Compression::kNone, Compression::kZstd}) {
    CAPTURE(static_cast<int>(compression));
    std::unique_ptr<Env> env = NewMemEnv();
    Options options = Encrypted(env.get());
    options.compression = compression;
    options.segment_bytes = 16u << 20;
    options.max_write_bytes = 8u << 20;
    std::vector<Event> written;
    {
      auto store = OpenOk(options);
      CHECK(store->Info().encryption == "aes-256-gcm");
      CHECK(store->Info().key_id != 0);
      int version = 0;
      const auto append_every_size = [&] {
        for (std::size_t size : {0u, 1u, 63u, 64u, 256u, 2048u, 65536u, 1u << 20}) {
          std::vector<Event> batch = SecretEvents(3, size);
          for (Event& event : batch) event.stream->version = ++version;
          REQUIRE(store->Append(batch, std::nullopt).ok());
          written.insert(written.end(), batch.begin(), batch.end());
        }
      };
      append_every_size();
      if (compression == Compression::kZstd) {
        // And again through a dictionary trained from the (decrypted) events.
        for (int i = 0; i < 40; ++i) {
          std::vector<Event> batch = SecretEvents(1, 200 + i);
          batch[0].stream->version = ++version;
          REQUIRE(store->Append(batch, std::nullopt).ok());
          written.push_back(batch[0]);
        }
        REQUIRE(store->TrainCompressionDictionary(1024).ok());
        append_every_size();
        CHECK(store->Info().compression_dictionary == 1);
      }
      CHECK(ReadAll(*store) == written);
      // Conditions, stream reads and version checks work on what only the key can read.
      Query query{{testing::Item({"SecretEnrolled"}, {"n:1"})}};
      CHECK(store->Append(SecretEvents(1, 10), AppendCondition{query, std::nullopt})
                .status()
                .IsConditionFailed());
      CHECK(store->InsertEvents(std::vector<StoredEvent>{{"secret-stream-id", 1, "T", "x"}})
                .status()
                .IsIntegrityError());
    }
    for (bool ignore_checkpoints : {false, true}) {
      options.ignore_checkpoints = ignore_checkpoints;
      options.checkpoint_interval_events = 1;  // the close writes one for the next open
      auto store = OpenOk(options);
      CHECK(ReadAll(*store) == written);
      auto stream = store->ReadStream("secret-stream-id", {});
      REQUIRE(stream.ok());
      CHECK(stream->size() == written.size());
      auto matched = store->Read(Query{{testing::Item({}, {"secret-student-tag", "n:2"})}}, {});
      REQUIRE(matched.ok());
      CHECK(matched->events.size() == static_cast<std::size_t>(std::count_if(
                                          written.begin(), written.end(),
                                          [](const Event& e) { return e.tags[1] == "n:2"; })));
    }
    {
      options.ignore_checkpoints = false;
      const StoreInfo info = OpenOk(options)->Info();
      CHECK(info.checkpoint_loaded.has_value());
      CHECK(info.checkpoints_written == 0);
      CHECK(info.checkpoint_failures == 0);
      for (const std::string& rejected : info.checkpoints_rejected) FAIL_CHECK(rejected);
    }
    options.read_only = true;
    CHECK(ReadAll(*OpenOk(options)) == written);
    // Verify needs no key.
    Options no_key;
    no_key.env = env.get();
    Result<VerifyReport> report = VerifyStore(no_key, kDir);
    REQUIRE(report.ok());
    CHECK(report->events == written.size());
    CHECK(report->checkpoints >= 1);
    for (const VerifyProblem& problem : report->problems)
      FAIL(problem.file << ": " << problem.message);
  }
}

TEST_CASE("encryption: no file of the store holds a user's string") {
  for (Compression compression : {Compression::kNone, Compression::kZstd}) {
    std::unique_ptr<Env> env = NewMemEnv();
    Options options = Encrypted(env.get());
    options.compression = compression;
    options.checkpoint_interval_events = 5;
    {
      auto store = OpenOk(options);
      for (int i = 0; i < 4; ++i) {
        std::vector<Event> batch = SecretEvents(5, 300);
        for (Event& event : batch) event.stream->version += 5 * i;
        REQUIRE(store->Append(batch, std::nullopt).ok());
      }
    }
    const testing::DirImage image = testing::ReadDir(env.get(), kDir);
    bool checkpoint = false;
    for (const auto& [name, bytes] : image) {
      checkpoint |= name.ends_with(".ckpt");
      for (const std::string& secret : kSecrets) {
        CHECK_MESSAGE(bytes.find(secret) == std::string::npos, name << " holds " << secret);
      }
    }
    CHECK(checkpoint);
    // The same store unencrypted holds them: the check above can fail.
    std::unique_ptr<Env> plain_env = NewMemEnv();
    Options plain = options;
    plain.env = plain_env.get();
    plain.key_provider = nullptr;
    plain.compression = Compression::kNone;
    REQUIRE(OpenOk(plain)->Append(SecretEvents(1, 300), std::nullopt).ok());
    for (const std::string& secret : kSecrets) {
      CHECK(testing::ReadFile(plain_env.get(), std::string(kDir) + "/" + Segment::FileName(1))
                .find(secret) != std::string::npos);
    }
  }
}

TEST_CASE("encryption: the wrong key, no key, or a key for a plain store is refused untouched") {
  std::unique_ptr<Env> env = NewMemEnv();
  REQUIRE(OpenOk(Encrypted(env.get()))->Append(SecretEvents(2, 50), std::nullopt).ok());
  const testing::DirImage before = testing::ReadDir(env.get(), kDir);
  const auto refused = [&](const Options& options, const char* dir, const char* says) {
    Result<std::unique_ptr<Store>> store = Store::Open(options, dir);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsInvalidArgument());
    CHECK_MESSAGE(store.status().message().find(says) != std::string::npos,
                  store.status().ToString());
  };
  refused(Encrypted(env.get(), std::string(32, 'W')), kDir, "wrong key");
  refused(Encrypted(env.get(), std::string(16, 'K')), kDir, "wrong key");
  Options no_key;
  no_key.env = env.get();
  refused(no_key, kDir, "is encrypted");
  no_key.read_only = true;
  refused(no_key, kDir, "is encrypted");
  CHECK(testing::ReadDir(env.get(), kDir) == before);
  // Messages never repeat the key.
  Result<std::unique_ptr<Store>> wrong =
      Store::Open(Encrypted(env.get(), std::string(32, 'W')), kDir);
  CHECK(wrong.status().ToString().find(std::string(8, 'W')) == std::string::npos);
  // A key of a bad length is refused when creating a store, which is then not created.
  CHECK(Store::Open(Encrypted(env.get(), "short"), "/new").status().IsInvalidArgument());
  CHECK_FALSE(env->FileExists("/new/store.meta"));
  // A plain store does not become encrypted.
  Options plain;
  plain.env = env.get();
  REQUIRE(OpenOk(plain, "/plain")->Append(SecretEvents(1, 10), std::nullopt).ok());
  refused(Encrypted(env.get()), "/plain", "not encrypted");
}

// Re-seals the frame holding position 1 of segment 1 after `change` altered its bytes: its entry
// checks and frame checksum are recomputed as docs/format.md defines them, so only the
// encryption's tags can tell.
void ChangeAndReseal(Env* env, const std::function<void(char* frame, std::size_t length)>& change) {
  const std::string path = std::string(kDir) + "/" + Segment::FileName(1);
  std::string segment = testing::ReadFile(env, path);
  SegmentHeader segment_header;
  REQUIRE_OK(DecodeSegmentHeader(segment.data(), &segment_header));
  char* frame = segment.data() + kSegmentHeaderSize;
  FrameHeader header;
  REQUIRE_OK(ParseFrame(frame, segment.size() - kSegmentHeaderSize, segment_header.salt, &header));
  change(frame, header.length);
  std::size_t offset = kFrameHeaderSize;
  for (std::uint32_t i = 0; i < header.event_count; ++i) {
    const auto length = DecodeFixed<std::uint32_t>(frame + offset);
    if (length < 8 || offset + length > kFrameHeaderSize + header.body_length) break;
    const std::uint64_t seed = segment_header.salt ^ static_cast<std::uint64_t>(1 + i);
    EncodeFixed<std::uint32_t>(frame + offset + 4, static_cast<std::uint32_t>(Checksum64(
                                                       frame + offset + 8, length - 8, seed)));
    offset += length;
  }
  SealFrame(frame, segment_header.salt);
  testing::PatchFile(env, path, 0, segment);
}

TEST_CASE("encryption: any changed byte of a frame is detected, checksums recomputed or not") {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options = Encrypted(env.get());
  options.checkpoint_interval_events = 1;  // a checkpoint covers the frame: Open does not read it
  {
    auto store = OpenOk(options);
    REQUIRE(store->Append(SecretEvents(2, 40), std::nullopt).ok());
  }
  const testing::DirImage original = testing::ReadDir(env.get(), kDir);
  const std::string segment =
      testing::ReadFile(env.get(), std::string(kDir) + "/" + Segment::FileName(1));
  FrameHeader header;
  SegmentHeader segment_header;
  REQUIRE_OK(DecodeSegmentHeader(segment.data(), &segment_header));
  REQUIRE_OK(ParseFrame(segment.data() + kSegmentHeaderSize, segment.size() - kSegmentHeaderSize,
                        segment_header.salt, &header));
  // Every byte of the header and body but the frame's own framing (its length, kind, flags,
  // version and body length: a frame changed there no longer parses, or is not resealed where
  // its checksum was) and the entry checks.
  // The entry checks are recomputed: changing one changes nothing.
  std::set<std::size_t> checks;
  for (std::size_t offset = kFrameHeaderSize; offset < kFrameHeaderSize + header.body_length;
       offset += DecodeFixed<std::uint32_t>(segment.data() + kSegmentHeaderSize + offset)) {
    for (std::size_t i = 4; i < 8; ++i) checks.insert(offset + i);
  }
  REQUIRE(checks.size() == 8);
  std::size_t detected = 0, tried = 0;
  for (std::size_t at = 0; at < kFrameHeaderSize + header.body_length; ++at) {
    if (at < 8 || (at >= 24 && at < 28) || checks.contains(at)) continue;
    for (bool checkpoint : {true, false}) {
      CAPTURE(at);
      CAPTURE(checkpoint);
      testing::WriteDir(env.get(), kDir, original);
      ChangeAndReseal(env.get(), [&](char* frame, std::size_t) { frame[at] ^= 0x10; });
      options.ignore_checkpoints = !checkpoint;
      ++tried;
      Result<std::unique_ptr<Store>> store = Store::Open(options, kDir);
      if (!store.ok()) {
        detected += store.status().IsCorruption() || store.status().IsNotSupported();
        continue;
      }
      Result<ReadResult> read = (*store)->Read(Query{}, {});
      if (!read.ok()) {
        CHECK_MESSAGE(read.status().IsCorruption(), read.status().ToString());
        ++detected;
        continue;
      }
      // A change that leaves the frame valid must be one that means nothing: the tracking and
      // padding bytes do not exist here, so every byte counts.
      FAIL_CHECK("byte " << at << " changed unnoticed (checkpoint " << checkpoint << ")");
    }
  }
  CHECK(detected == tried);
  CHECK(tried > 200);
}

TEST_CASE("encryption: verify with the key finds what checksums cannot; without it, none") {
  std::unique_ptr<Env> env = NewMemEnv();
  // No checkpoint: its seal (the last frame's checksum) would tell the change without the key.
  Options options = Encrypted(env.get());
  REQUIRE(OpenOk(options)->Append(SecretEvents(2, 40), std::nullopt).ok());
  Options with_key;
  with_key.env = env.get();
  with_key.key_provider = options.key_provider;
  Options without_key;
  without_key.env = env.get();
  Result<VerifyReport> clean = VerifyStore(with_key, kDir);
  REQUIRE_MESSAGE(clean.ok(), clean.status().ToString());
  CHECK(clean->clean());
  with_key.key_provider = FixedKeyProvider(std::string(32, 'W'));
  CHECK(VerifyStore(with_key, kDir).status().IsInvalidArgument());
  with_key.key_provider = options.key_provider;

  // The last byte of the first entry's tag, resealed.
  ChangeAndReseal(env.get(), [](char* frame, std::size_t) {
    frame[kFrameHeaderSize + DecodeFixed<std::uint32_t>(frame + kFrameHeaderSize) - 1] ^= 1;
  });
  Result<VerifyReport> blind = VerifyStore(without_key, kDir);
  REQUIRE(blind.ok());
  CHECK(blind->clean());
  Result<VerifyReport> keyed = VerifyStore(with_key, kDir);
  REQUIRE(keyed.ok());
  REQUIRE_FALSE(keyed->clean());
  CHECK(keyed->problems[0].file == Segment::FileName(1));
  CHECK(keyed->problems[0].message.find("authenticate") != std::string::npos);
}

TEST_CASE("encryption: a checkpoint changed under recomputed checksums is passed over") {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options = Encrypted(env.get());
  options.checkpoint_interval_events = 1;
  std::vector<Event> written = SecretEvents(20, 30);
  REQUIRE(OpenOk(options)->Append(written, std::nullopt).ok());
  options.checkpoint_interval_events = 0;  // the opens below write none over the changed one
  const std::string path = std::string(kDir) + "/" + CheckpointFileName(20);
  const std::string original = testing::ReadFile(env.get(), path);
  CheckpointHeader header;
  REQUIRE_OK(DecodeCheckpointHeader(original.data(), original.size(), &header));
  CHECK(header.key_id != 0);
  const std::size_t first_block = CheckpointHeaderLength(header.segments.size());
  const auto record_bytes = DecodeFixed<std::uint32_t>(original.data() + first_block);
  const std::size_t sealed = (16 + record_bytes + 7) & ~std::size_t{7};
  for (std::size_t at = 16; at < 16 + record_bytes; ++at) {
    CAPTURE(at);
    std::string changed = original;
    char* block = changed.data() + first_block;
    block[at] ^= 1;
    EncodeFixed<std::uint64_t>(block + sealed, Checksum64(block, sealed, header.salt));
    testing::PatchFile(env.get(), path, 0, changed);
    auto store = OpenOk(options);
    const StoreInfo info = store->Info();
    CHECK_FALSE(info.checkpoint_loaded.has_value());
    REQUIRE(info.checkpoints_rejected.size() == 1);
    CHECK(info.checkpoints_rejected[0].find("tag mismatch") != std::string::npos);
    CHECK(ReadAll(*store) == written);
  }
}

TEST_CASE(
    "encryption: a store that crashed mid-append verifies without the key and reads with it") {
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    CAPTURE(seed);
    FaultInjectionEnv env;
    Options options = Encrypted(&env);
    auto store = OpenOk(options);
    std::vector<Event> acknowledged;
    for (int i = 0; i < 10; ++i) {
      std::vector<Event> batch = SecretEvents(2, 100 + 50 * i);
      for (Event& event : batch) event.stream->id += std::to_string(i);
      AppendRequest request;
      request.events = batch;
      request.options.durability = Durability::kSync;
      REQUIRE(store->Write(request).ok());
      acknowledged.insert(acknowledged.end(), batch.begin(), batch.end());
    }
    for (int i = 0; i < 5; ++i) {  // unsynced: lost, torn or kept by the crash
      std::vector<Event> batch = SecretEvents(3, 500);
      for (Event& event : batch) event.stream->id += "-unsynced" + std::to_string(i);
      REQUIRE(store->Append(batch, std::nullopt).ok());
    }
    REQUIRE_OK(env.SimulateCrash(seed));
    store.reset();

    Options no_key;
    no_key.env = &env;
    Result<VerifyReport> report = VerifyStore(no_key, kDir);
    REQUIRE(report.ok());
    for (const VerifyProblem& problem : report->problems) {
      // Position index entries are not synced with the log: the crash may have lost them, and
      // the next open for writing rewrites them.
      if (problem.file.ends_with(".pidx")) continue;
      FAIL(problem.file << " @" << problem.offset.value_or(0) << ": " << problem.message);
    }
    CHECK(report->events >= acknowledged.size());

    auto reopened = OpenOk(options);
    std::vector<Event> read = ReadAll(*reopened);
    REQUIRE(read.size() >= acknowledged.size());
    read.resize(acknowledged.size());
    CHECK(read == acknowledged);
    REQUIRE(reopened->Append(SecretEvents(1, 10), std::nullopt).ok());
  }
}

}  // namespace
}  // namespace es
