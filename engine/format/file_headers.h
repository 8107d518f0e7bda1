// The fixed, self-checksummed headers of store.meta slots, segments and position indexes
// (docs/format.md). Each Encode writes the whole header block (zeros past its fields); each
// Decode returns Corruption unless magic, version and checksum are right.
#ifndef ES_ENGINE_FORMAT_FILE_HEADERS_H_
#define ES_ENGINE_FORMAT_FILE_HEADERS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "es/status.h"

namespace es {

using StoreId = std::array<std::uint8_t, 16>;

// The version every file header of this format records (docs/format.md).
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kMetaSlotSize = 4096;
inline constexpr std::size_t kSegmentHeaderSize = 4096;
inline constexpr std::size_t kPositionIndexHeaderSize = 4096;
inline constexpr std::size_t kPositionIndexEntrySize = 8;

struct MetaSlot {
  StoreId store_id{};
  std::uint64_t generation = 0;
  std::uint64_t writer_epoch = 0;
  std::uint64_t created_us = 0;
  // Every position up to this one was on stable storage when the slot was written (at open, after
  // recovery synced the log; at a clean close): recovery must find them all, and reports a damaged
  // frame among them as corruption rather than cutting it as a torn tail.
  std::int64_t durable_position = 0;
  // The id of the master key that encrypts the store (KeyIdOf, engine/crypto/key_derivation.h);
  // 0: the store is not encrypted. Fixed at creation.
  std::uint32_t key_id = 0;
};
void EncodeMetaSlot(const MetaSlot& slot, char* dst /* kMetaSlotSize bytes */);
Status DecodeMetaSlot(const char* src /* kMetaSlotSize bytes */, MetaSlot* slot);

struct SegmentHeader {
  StoreId store_id{};
  std::uint64_t salt = 0;
  std::int64_t base_position = 0;
  std::uint64_t writer_epoch = 0;
  std::uint64_t created_us = 0;
  std::uint32_t capacity_events = 0;
  std::uint32_t key_id = 0;  // the store's (0: not encrypted)
};
void EncodeSegmentHeader(const SegmentHeader& header, char* dst /* kSegmentHeaderSize bytes */);
Status DecodeSegmentHeader(const char* src /* kSegmentHeaderSize bytes */, SegmentHeader* header);

struct PositionIndexHeader {
  std::int64_t base_position = 0;
  std::uint64_t salt = 0;
  std::uint32_t capacity = 0;
};
void EncodePositionIndexHeader(const PositionIndexHeader& header, char* dst);
Status DecodePositionIndexHeader(const char* src, PositionIndexHeader* header);

}  // namespace es

#endif  // ES_ENGINE_FORMAT_FILE_HEADERS_H_
