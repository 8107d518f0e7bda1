#include "engine/format/file_headers.h"

#include <cstring>
#include <string>
#include <string_view>

#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

// Zeroes the block, writes magic and version, lets `fields` fill the rest, then seals the
// checksum over [0, checksum_offset).
template <typename Fields>
void EncodeBlock(char* dst, std::size_t block_size, std::string_view magic,
                 std::size_t checksum_offset, Fields&& fields) {
  std::memset(dst, 0, block_size);
  std::memcpy(dst, magic.data(), 8);
  EncodeFixed<std::uint32_t>(dst + 8, kFormatVersion);
  fields(dst);
  EncodeFixed<std::uint64_t>(dst + checksum_offset, Checksum64(dst, checksum_offset, 0));
}

Status CheckBlock(const char* src, std::string_view magic, std::size_t checksum_offset,
                  const char* what) {
  if (std::memcmp(src, magic.data(), 8) != 0) {
    return Status::Corruption(std::string(what) + ": bad magic");
  }
  if (DecodeFixed<std::uint32_t>(src + 8) != kFormatVersion) {
    return Status::Corruption(std::string(what) + ": unsupported format version " +
                              std::to_string(DecodeFixed<std::uint32_t>(src + 8)));
  }
  if (DecodeFixed<std::uint64_t>(src + checksum_offset) != Checksum64(src, checksum_offset, 0)) {
    return Status::Corruption(std::string(what) + ": checksum mismatch");
  }
  return Status::OK();
}

}  // namespace

void EncodeMetaSlot(const MetaSlot& slot, char* dst) {
  EncodeBlock(dst, kMetaSlotSize, "ESMETA01", 64, [&](char* p) {
    std::memcpy(p + 16, slot.store_id.data(), 16);
    EncodeFixed<std::uint64_t>(p + 32, slot.generation);
    EncodeFixed<std::uint64_t>(p + 40, slot.writer_epoch);
    EncodeFixed<std::uint64_t>(p + 48, slot.created_us);
    EncodeFixed<std::int64_t>(p + 56, slot.durable_position);
    EncodeFixed<std::uint32_t>(p + 12, slot.key_id);
  });
}

Status DecodeMetaSlot(const char* src, MetaSlot* slot) {
  ES_RETURN_IF_ERROR(CheckBlock(src, "ESMETA01", 64, "store.meta slot"));
  std::memcpy(slot->store_id.data(), src + 16, 16);
  slot->generation = DecodeFixed<std::uint64_t>(src + 32);
  slot->writer_epoch = DecodeFixed<std::uint64_t>(src + 40);
  slot->created_us = DecodeFixed<std::uint64_t>(src + 48);
  slot->durable_position = DecodeFixed<std::int64_t>(src + 56);
  slot->key_id = DecodeFixed<std::uint32_t>(src + 12);
  if (slot->durable_position < 0) return Status::Corruption("store.meta slot: negative position");
  return Status::OK();
}

void EncodeSegmentHeader(const SegmentHeader& header, char* dst) {
  EncodeBlock(dst, kSegmentHeaderSize, "ESSEG001", 120, [&](char* p) {
    EncodeFixed<std::uint32_t>(p + 12, static_cast<std::uint32_t>(kSegmentHeaderSize));
    std::memcpy(p + 16, header.store_id.data(), 16);
    EncodeFixed<std::uint64_t>(p + 32, header.salt);
    EncodeFixed<std::int64_t>(p + 40, header.base_position);
    EncodeFixed<std::uint64_t>(p + 48, header.writer_epoch);
    EncodeFixed<std::uint64_t>(p + 56, header.created_us);
    EncodeFixed<std::uint32_t>(p + 64, header.capacity_events);
    EncodeFixed<std::uint32_t>(p + 72, header.key_id);
  });
}

Status DecodeSegmentHeader(const char* src, SegmentHeader* header) {
  ES_RETURN_IF_ERROR(CheckBlock(src, "ESSEG001", 120, "segment header"));
  if (DecodeFixed<std::uint32_t>(src + 12) != kSegmentHeaderSize ||
      DecodeFixed<std::uint32_t>(src + 68) != 0) {
    return Status::NotSupported("segment header: unsupported header size or flags");
  }
  std::memcpy(header->store_id.data(), src + 16, 16);
  header->salt = DecodeFixed<std::uint64_t>(src + 32);
  header->base_position = DecodeFixed<std::int64_t>(src + 40);
  header->writer_epoch = DecodeFixed<std::uint64_t>(src + 48);
  header->created_us = DecodeFixed<std::uint64_t>(src + 56);
  header->capacity_events = DecodeFixed<std::uint32_t>(src + 64);
  header->key_id = DecodeFixed<std::uint32_t>(src + 72);
  if (header->base_position < 1 || header->capacity_events == 0) {
    return Status::Corruption("segment header: bad base position or capacity");
  }
  return Status::OK();
}

void EncodePositionIndexHeader(const PositionIndexHeader& header, char* dst) {
  EncodeBlock(dst, kPositionIndexHeaderSize, "ESPIDX01", 40, [&](char* p) {
    EncodeFixed<std::uint32_t>(p + 12, static_cast<std::uint32_t>(kPositionIndexEntrySize));
    EncodeFixed<std::int64_t>(p + 16, header.base_position);
    EncodeFixed<std::uint64_t>(p + 24, header.salt);
    EncodeFixed<std::uint32_t>(p + 32, header.capacity);
  });
}

Status DecodePositionIndexHeader(const char* src, PositionIndexHeader* header) {
  ES_RETURN_IF_ERROR(CheckBlock(src, "ESPIDX01", 40, "position index header"));
  if (DecodeFixed<std::uint32_t>(src + 12) != kPositionIndexEntrySize) {
    return Status::Corruption("position index header: bad entry size");
  }
  header->base_position = DecodeFixed<std::int64_t>(src + 16);
  header->salt = DecodeFixed<std::uint64_t>(src + 24);
  header->capacity = DecodeFixed<std::uint32_t>(src + 32);
  return Status::OK();
}

}  // namespace es
