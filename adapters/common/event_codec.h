// How the SQL recorders (SQLite, PostgreSQL) store an event's data and metadata: compressed and
// sealed value by value, each row marked by a data_codec column (docs/sqlite.md and
// docs/postgres.md, "Encryption"). Each recorder keeps its own columns and SQL; this is what
// their rows, their key checks and their verifiers have in common, so that both read and write
// the values alike.
#ifndef ES_ADAPTERS_COMMON_EVENT_CODEC_H_
#define ES_ADAPTERS_COMMON_EVENT_CODEC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compress/event_compressor.h"
#include "engine/crypto/aes_gcm.h"
#include "es/encryption.h"
#include "es/event.h"
#include "es/options.h"
#include "es/result.h"

namespace es {

// The data_codec column: how a row holds the event's data (bits).
inline constexpr std::int64_t kDataPlain = 0;
inline constexpr std::int64_t kDataZstd = 1;  // a zstd frame (engine/compress)
// data, and metadata when present, sealed (AesGcm::SealWithRandomNonce) after any compression.
inline constexpr std::int64_t kDataEncrypted = 2;

// Data shorter than this is stored as it is (as Options::compression_min_bytes' default).
inline constexpr std::size_t kMinCompressedBytes = 64;

// The associated data of a sealed value: which column ('d' data, 'm' metadata), and the event's
// position, so that no sealed value can move to another row or column unnoticed.
std::string SealedValueContext(char column, std::int64_t position);

// The event data key of a master key, and the id the tables record for it.
struct EventDataKey {
  std::int64_t key_id = 0;
  std::unique_ptr<AesGcm> cipher;
};
// The key derived (HKDF-SHA256) from the provider's master key for `purpose`, which names the
// recorder's format ("es sqlite event data v1"). InvalidArgument when the master key is not 16,
// 24 or 32 bytes; the provider's own failure otherwise. No copy of the master key outlives the
// call.
Result<EventDataKey> EventDataKeyFrom(KeyProvider& provider, std::string_view purpose);

// Copies the engine options' compression and key (as OptionsFromEnvironment or a tool sets them)
// into a recorder's options (SqliteOptions, PostgresOptions), whose fields mean the same.
template <typename RecorderOptions>
void CopyCodecOptions(const Options& engine, RecorderOptions* options) {
  options->compression = engine.compression;
  options->compression_level = engine.compression_level;
  options->key_provider = engine.key_provider;
}

// The compressor of a recorder's compression options; none for Compression::kNone.
std::optional<EventCompressor> CompressorFor(Compression compression, int level);

// Each event's data compressed, where that shrinks it (nullopt where it does not); empty when
// `compressor` is null. Done before a write takes its lock: it costs microseconds per event.
std::vector<std::optional<std::string>> CompressEventData(const EventCompressor* compressor,
                                                          std::span<const Event> events);

// An event's data and metadata as its row stores them.
struct StoredValues {
  std::int64_t codec = kDataPlain;
  std::string_view data;  // the event's data, its compressed form, or sealed_data
  // The metadata as EncodeMetadata's list, sealed when the row is; empty when there is none.
  std::string metadata;
  std::string sealed_data;  // holds the sealed data that `data` views
};

// The stored values of `event` at `position`: its data, or `compressed` (the data compressed)
// when not null, then sealed with `cipher` when not null, as its metadata. `*stored` views
// `event` and `compressed`, which must outlive it.
Status SealEventValues(const AesGcm* cipher, std::int64_t position, const Event& event,
                       const std::string* compressed, StoredValues* stored);

// What OpenEventValues does with a sealed row when it has no cipher.
enum class SealedWithoutKey {
  kRefuse,      // Corruption: a reader cannot return such an event
  kCheckShape,  // verify: check that the sealed values can hold a nonce and a tag, and leave the
                // event's data and metadata empty
};

// The stored values of one row, as its columns hold them.
struct StoredRow {
  std::int64_t position = 0;
  std::int64_t codec = kDataPlain;
  std::string_view data;
  // EncodeMetadata's list, sealed when the row is; none when the row holds no such value (no
  // metadata, or metadata kept in columns of its own).
  std::optional<std::string_view> metadata;
};

// Sets event->data, and event->metadata when `row.metadata` is set, from the row's values opened
// with `cipher` (null: the tables are not encrypted, or verify has no key). Corruption naming the
// event ("event 12 data: ...") when a value does not decode: an unknown codec bit, a sealed value
// that does not authenticate (or, with kCheckShape and no cipher, cannot hold a nonce and a tag),
// compressed data that does not decompress, a metadata list that does not parse.
Status OpenEventValues(const StoredRow& row, const AesGcm* cipher,
                       SealedWithoutKey sealed_without_key, Event* event);

// The checks of an open's key against the key id its tables record, named by `tables` ("SQLite
// tables 'es_events'"). InvalidArgument when tables that record a key id are opened without a key
// (`key_id` none) or with another key; OK otherwise (tables recording none are the caller's
// to refuse or record the key in).
Status CheckKeyAgainstRecorded(std::string_view tables, std::optional<std::int64_t> recorded,
                               std::optional<std::int64_t> key_id);
// InvalidArgument: tables holding plain events refuse a key.
Status PlainEventsRefuseKey(std::string_view tables);

// Verify's key: the data key of `provider` (none without one) after the checks an open makes of
// it (InvalidArgument for tables that record no key id or another one).
Result<EventDataKey> VerifyKey(std::string_view tables, std::optional<std::int64_t> recorded,
                               KeyProvider* provider, std::string_view purpose);

// Verify's problem with a row of `codec` in tables that record a key id or not: every row is
// sealed when they do, none when they do not. Empty when there is none.
std::string SealingMismatch(std::int64_t codec, bool key_recorded);
// Verify's problem with a recorded key id outside 1 to 2^32-1; empty when there is none.
std::string BadKeyId(std::optional<std::int64_t> key_id);

}  // namespace es

#endif  // ES_ADAPTERS_COMMON_EVENT_CODEC_H_
