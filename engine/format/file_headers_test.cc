// The self-checksummed headers of store.meta slots, segments and position indexes
// (docs/format.md): round trips, the documented layout, and rejection of corrupt, foreign and
// unsupported headers.
#include "engine/format/file_headers.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

// Where each header keeps its checksum: it covers every byte before it.
constexpr std::size_t kMetaChecksumOffset = 64;
constexpr std::size_t kSegmentChecksumOffset = 120;
constexpr std::size_t kPositionIndexChecksumOffset = 40;

StoreId TestStoreId() {
  StoreId id;
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(0xA0 + i);
  return id;
}

MetaSlot TestMetaSlot() {
  MetaSlot slot;
  slot.store_id = TestStoreId();
  slot.generation = 7;
  slot.writer_epoch = 0x1122334455667788ull;
  slot.created_us = 1700000000123456ull;
  slot.durable_position = 0x0102030405060708ll;
  slot.key_id = 0xA1B2C3D4;
  return slot;
}

SegmentHeader TestSegmentHeader() {
  SegmentHeader header;
  header.store_id = TestStoreId();
  header.salt = 0xfedcba9876543210ull;
  header.base_position = 12345;
  header.writer_epoch = 9;
  header.created_us = 1700000000654321ull;
  header.capacity_events = 65536;
  header.key_id = 0xA1B2C3D4;
  return header;
}

PositionIndexHeader TestPositionIndexHeader() {
  PositionIndexHeader header;
  header.base_position = 12345;
  header.salt = 0xfedcba9876543210ull;
  header.capacity = 65536;
  return header;
}

// Encodes into a block pre-filled with garbage: Encode must write every byte of the block.
template <typename Header, typename EncodeFn>
std::string EncodeBlock(const Header& header, std::size_t block_size, EncodeFn encode) {
  std::string block(block_size, '\xCC');
  encode(header, block.data());
  return block;
}

std::string EncodedMeta(const MetaSlot& slot = TestMetaSlot()) {
  return EncodeBlock(slot, kMetaSlotSize, EncodeMetaSlot);
}
std::string EncodedSegment(const SegmentHeader& header = TestSegmentHeader()) {
  return EncodeBlock(header, kSegmentHeaderSize, EncodeSegmentHeader);
}
std::string EncodedPositionIndex(const PositionIndexHeader& header = TestPositionIndexHeader()) {
  return EncodeBlock(header, kPositionIndexHeaderSize, EncodePositionIndexHeader);
}

Status DecodeMeta(const std::string& block) {
  MetaSlot slot;
  return DecodeMetaSlot(block.data(), &slot);
}
Status DecodeSegment(const std::string& block) {
  SegmentHeader header;
  return DecodeSegmentHeader(block.data(), &header);
}
Status DecodePositionIndex(const std::string& block) {
  PositionIndexHeader header;
  return DecodePositionIndexHeader(block.data(), &header);
}

// Rewrites the checksum after a deliberate change, so that only the rule under test can fail.
void Reseal(std::string& block, std::size_t checksum_offset) {
  EncodeFixed<std::uint64_t>(block.data() + checksum_offset,
                             Checksum64(block.data(), checksum_offset, 0));
}

template <typename T>
std::string WithField(std::string block, std::size_t offset, T value, std::size_t checksum_offset) {
  EncodeFixed<T>(block.data() + offset, value);
  Reseal(block, checksum_offset);
  return block;
}

// The bytes outside the named fields are zero, up to the end of the block.
void CheckZeroOutside(const std::string& block, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    CAPTURE(i);
    CHECK(block[i] == 0);
  }
}

// Every flip of every byte up to and including the checksum fails the decode with Corruption.
template <typename DecodeFn>
void CheckEveryFlipFails(const std::string& good, std::size_t checksum_offset, DecodeFn decode) {
  REQUIRE(decode(good).ok());
  for (std::size_t i = 0; i < checksum_offset + 8; ++i) {
    for (unsigned mask : {0x01u, 0x80u, 0xFFu}) {
      CAPTURE(i);
      CAPTURE(mask);
      std::string block = good;
      block[i] = static_cast<char>(block[i] ^ mask);
      CHECK(decode(block).IsCorruption());
    }
  }
}

// Wrong magic and wrong version, each with a valid checksum, fail with Corruption.
template <typename DecodeFn>
void CheckMagicAndVersion(const std::string& good, std::size_t checksum_offset, DecodeFn decode) {
  std::string foreign = good;
  foreign[7] = static_cast<char>(foreign[7] + 1);
  Reseal(foreign, checksum_offset);
  CHECK(decode(foreign).IsCorruption());
  for (std::uint32_t version : {0u, 2u, 0xFFFFFFFFu}) {
    CAPTURE(version);
    CHECK(decode(WithField(good, 8, version, checksum_offset)).IsCorruption());
  }
  // The other kinds of header are foreign too.
  for (const std::string& other : {EncodedMeta(), EncodedSegment(), EncodedPositionIndex()}) {
    if (other.compare(0, 8, good, 0, 8) != 0) CHECK(decode(other).IsCorruption());
  }
}

TEST_CASE("MetaSlot: round trip and layout") {
  const MetaSlot slot = TestMetaSlot();
  const std::string block = EncodedMeta(slot);
  MetaSlot decoded;
  REQUIRE(DecodeMetaSlot(block.data(), &decoded).ok());
  CHECK(decoded.store_id == slot.store_id);
  CHECK(decoded.generation == slot.generation);
  CHECK(decoded.writer_epoch == slot.writer_epoch);
  CHECK(decoded.created_us == slot.created_us);
  CHECK(decoded.durable_position == slot.durable_position);
  CHECK(decoded.key_id == slot.key_id);

  CHECK(block.substr(0, 8) == "ESMETA01");
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 8) == 1);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 12) == slot.key_id);
  CHECK(std::memcmp(block.data() + 16, slot.store_id.data(), 16) == 0);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 32) == slot.generation);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 40) == slot.writer_epoch);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 48) == slot.created_us);
  CHECK(DecodeFixed<std::int64_t>(block.data() + 56) == slot.durable_position);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 64) == Checksum64(block.data(), 64, 0));
  CheckZeroOutside(block, 72, kMetaSlotSize);
}

TEST_CASE("MetaSlot: corruption, magic and version") {
  CheckEveryFlipFails(EncodedMeta(), kMetaChecksumOffset, DecodeMeta);
  CheckMagicAndVersion(EncodedMeta(), kMetaChecksumOffset, DecodeMeta);
  CHECK(DecodeMeta(std::string(kMetaSlotSize, '\0')).IsCorruption());
}

TEST_CASE("SegmentHeader: round trip and layout") {
  const SegmentHeader header = TestSegmentHeader();
  const std::string block = EncodedSegment(header);
  SegmentHeader decoded;
  REQUIRE(DecodeSegmentHeader(block.data(), &decoded).ok());
  CHECK(decoded.store_id == header.store_id);
  CHECK(decoded.salt == header.salt);
  CHECK(decoded.base_position == header.base_position);
  CHECK(decoded.writer_epoch == header.writer_epoch);
  CHECK(decoded.created_us == header.created_us);
  CHECK(decoded.capacity_events == header.capacity_events);
  CHECK(decoded.key_id == header.key_id);

  CHECK(block.substr(0, 8) == "ESSEG001");
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 8) == 1);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 12) == kSegmentHeaderSize);
  CHECK(std::memcmp(block.data() + 16, header.store_id.data(), 16) == 0);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 32) == header.salt);
  CHECK(DecodeFixed<std::int64_t>(block.data() + 40) == header.base_position);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 48) == header.writer_epoch);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 56) == header.created_us);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 64) == header.capacity_events);
  CheckZeroOutside(block, 68, 72);  // flags
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 72) == header.key_id);
  CheckZeroOutside(block, 76, 120);  // reserved
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 120) == Checksum64(block.data(), 120, 0));
  CheckZeroOutside(block, 128, kSegmentHeaderSize);
}

TEST_CASE("SegmentHeader: corruption, magic and version") {
  CheckEveryFlipFails(EncodedSegment(), kSegmentChecksumOffset, DecodeSegment);
  CheckMagicAndVersion(EncodedSegment(), kSegmentChecksumOffset, DecodeSegment);
}

TEST_CASE("SegmentHeader: unsupported features and bad values") {
  const std::string good = EncodedSegment();
  auto with = [&](std::size_t offset, auto value) {
    return DecodeSegment(WithField(good, offset, value, kSegmentChecksumOffset));
  };
  CHECK(with(68, std::uint32_t{1}).IsNotSupported());     // flags: encrypted
  CHECK(with(68, std::uint32_t{2}).IsNotSupported());     // flags: compressed
  CHECK(with(12, std::uint32_t{8192}).IsNotSupported());  // header size
  CHECK(with(40, std::int64_t{0}).IsCorruption());        // base position
  CHECK(with(40, std::int64_t{-1}).IsCorruption());
  CHECK(with(64, std::uint32_t{0}).IsCorruption());  // capacity
  // The smallest valid values.
  CHECK(with(40, std::int64_t{1}).ok());
  CHECK(with(64, std::uint32_t{1}).ok());
}

TEST_CASE("PositionIndexHeader: round trip and layout") {
  const PositionIndexHeader header = TestPositionIndexHeader();
  const std::string block = EncodedPositionIndex(header);
  PositionIndexHeader decoded;
  REQUIRE(DecodePositionIndexHeader(block.data(), &decoded).ok());
  CHECK(decoded.base_position == header.base_position);
  CHECK(decoded.salt == header.salt);
  CHECK(decoded.capacity == header.capacity);

  CHECK(block.substr(0, 8) == "ESPIDX01");
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 8) == 1);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 12) == kPositionIndexEntrySize);
  CHECK(DecodeFixed<std::int64_t>(block.data() + 16) == header.base_position);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 24) == header.salt);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 32) == header.capacity);
  CHECK(DecodeFixed<std::uint32_t>(block.data() + 36) == 0);
  CHECK(DecodeFixed<std::uint64_t>(block.data() + 40) == Checksum64(block.data(), 40, 0));
  CheckZeroOutside(block, 48, kPositionIndexHeaderSize);
}

TEST_CASE("PositionIndexHeader: corruption, magic, version and entry size") {
  CheckEveryFlipFails(EncodedPositionIndex(), kPositionIndexChecksumOffset, DecodePositionIndex);
  CheckMagicAndVersion(EncodedPositionIndex(), kPositionIndexChecksumOffset, DecodePositionIndex);
  CHECK(DecodePositionIndex(
            WithField(EncodedPositionIndex(), 12, std::uint32_t{16}, kPositionIndexChecksumOffset))
            .IsCorruption());
}

}  // namespace
}  // namespace es
