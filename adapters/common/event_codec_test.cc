#include "adapters/common/event_codec.h"

#include <doctest/doctest.h>

#include <string>

namespace es {
namespace {

Event EventWith(std::string data, Metadata metadata = {}) {
  Event event;
  event.type = "Happened";
  event.data = std::move(data);
  event.metadata = std::move(metadata);
  return event;
}

// `event` stored at `position` and opened again with `opener` (`sealer` seals).
Result<Event> RoundTrip(const Event& event, const AesGcm* sealer, const AesGcm* opener,
                        const std::string* compressed = nullptr, std::int64_t position = 7) {
  StoredValues stored;
  ES_RETURN_IF_ERROR(SealEventValues(sealer, position, event, compressed, &stored));
  StoredRow row{.position = position, .codec = stored.codec, .data = stored.data};
  if (!stored.metadata.empty()) row.metadata = stored.metadata;
  Event opened;
  ES_RETURN_IF_ERROR(OpenEventValues(row, opener, SealedWithoutKey::kRefuse, &opened));
  return opened;
}

TEST_CASE("sealed and compressed values open to the event's data and metadata") {
  auto key = EventDataKeyFrom(*FixedKeyProvider(std::string(32, 'k')), "test v1");
  REQUIRE(key.ok());
  const Event event = EventWith(std::string(200, 'x'), {{"a", "1"}, {"b", "2"}});
  const std::optional<EventCompressor> compressor = CompressorFor(Compression::kZstd, 0);
  std::vector<std::optional<std::string>> compressed =
      CompressEventData(&*compressor, std::span(&event, 1));
  REQUIRE(compressed.size() == 1);
  REQUIRE(compressed[0].has_value());
  const std::string* frames[] = {nullptr, &*compressed[0]};
  for (const std::string* frame : frames) {
    const AesGcm* ciphers[] = {nullptr, key->cipher.get()};
    for (const AesGcm* cipher : ciphers) {
      Result<Event> opened = RoundTrip(event, cipher, cipher, frame);
      REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
      CHECK(opened->data == event.data);
      CHECK(opened->metadata == event.metadata);
    }
  }
  CHECK(CompressEventData(nullptr, std::span(&event, 1)).empty());
  // Short data is never compressed.
  const Event short_event = EventWith("tiny");
  CHECK_FALSE(CompressEventData(&*compressor, std::span(&short_event, 1))[0].has_value());
}

TEST_CASE("a sealed value opens only at its own position, with its own key") {
  auto key = EventDataKeyFrom(*FixedKeyProvider(std::string(32, 'k')), "test v1");
  auto other = EventDataKeyFrom(*FixedKeyProvider(std::string(32, 'k')), "other v1");
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  CHECK(key->key_id == other->key_id);  // the id names the master key, not the purpose
  const Event event = EventWith("secret data", {{"who", "me"}});
  StoredValues stored;
  REQUIRE(SealEventValues(key->cipher.get(), 3, event, nullptr, &stored).ok());
  CHECK(stored.codec == kDataEncrypted);
  CHECK(stored.data.find("secret") == std::string_view::npos);
  StoredRow row{.position = 4, .codec = stored.codec, .data = stored.data};
  Event opened;
  Status moved = OpenEventValues(row, key->cipher.get(), SealedWithoutKey::kRefuse, &opened);
  CHECK(moved.IsCorruption());
  CHECK(moved.message().find("event 4 data") != std::string::npos);
  row.position = 3;
  CHECK(
      OpenEventValues(row, other->cipher.get(), SealedWithoutKey::kRefuse, &opened).IsCorruption());
  CHECK(OpenEventValues(row, nullptr, SealedWithoutKey::kRefuse, &opened).IsCorruption());
  CHECK(OpenEventValues(row, nullptr, SealedWithoutKey::kCheckShape, &opened).ok());
  row.data = row.data.substr(0, 10);
  CHECK(OpenEventValues(row, nullptr, SealedWithoutKey::kCheckShape, &opened).IsCorruption());
  row.codec = 4;
  CHECK(OpenEventValues(row, key->cipher.get(), SealedWithoutKey::kRefuse, &opened)
            .message()
            .find("unknown data_codec") != std::string::npos);
}

TEST_CASE("key checks name the tables and the key ids") {
  CHECK(CheckKeyAgainstRecorded("T", std::nullopt, std::nullopt).ok());
  CHECK(CheckKeyAgainstRecorded("T", std::nullopt, 5).ok());
  CHECK(CheckKeyAgainstRecorded("T", 5, 5).ok());
  CHECK(CheckKeyAgainstRecorded("T", 5, std::nullopt).IsInvalidArgument());
  Status wrong = CheckKeyAgainstRecorded("T", 5, 6);
  CHECK(wrong.IsInvalidArgument());
  CHECK(wrong.message().find("wrong key") != std::string::npos);
  CHECK(PlainEventsRefuseKey("T").IsInvalidArgument());
  auto provider = FixedKeyProvider(std::string(32, 'k'));
  CHECK(VerifyKey("T", std::nullopt, nullptr, "p").ok());
  CHECK(VerifyKey("T", std::nullopt, provider.get(), "p").status().IsInvalidArgument());
  CHECK(VerifyKey("T", 1, provider.get(), "p").status().IsInvalidArgument());
  CHECK(SealingMismatch(kDataEncrypted, true).empty());
  CHECK_FALSE(SealingMismatch(kDataZstd, true).empty());
  CHECK_FALSE(SealingMismatch(kDataEncrypted, false).empty());
  CHECK(BadKeyId(std::nullopt).empty());
  CHECK(BadKeyId(1).empty());
  CHECK_FALSE(BadKeyId(0).empty());
}

}  // namespace
}  // namespace es
