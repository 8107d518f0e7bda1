#include "engine/format/checkpoint_file.h"

#include <cstring>
#include <limits>

#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

constexpr char kMagic[] = "ESCKPT01";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kSegmentTableOffset = 168;
constexpr std::size_t kBlockHeadSize = 16;
// Blocks of about this many record bytes: large enough that the per-block costs vanish, small
// enough that the writer's buffer stays small.
constexpr std::size_t kTargetBlockBytes = 1 << 20;
constexpr std::uint8_t kEncryptedBlock = 1;  // block flags

// Each block of a checkpoint has its own index; each checkpoint file its own key.
AesGcm::Nonce BlockNonce(std::uint64_t index) {
  AesGcm::Nonce nonce{};
  char bytes[8];
  EncodeFixed<std::uint64_t>(bytes, index);
  std::memcpy(nonce.data(), bytes, 8);
  return nonce;
}

bool AllZero(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

std::uint64_t PaddedBlockLength(std::uint64_t record_bytes) {
  return (kBlockHeadSize + record_bytes + 7) & ~std::uint64_t{7};
}

}  // namespace

std::size_t CheckpointHeaderLength(std::size_t segment_count) {
  return kSegmentTableOffset + 16 * segment_count + 8;
}

std::string EncodeCheckpointHeader(const CheckpointHeader& header) {
  std::string bytes(CheckpointHeaderLength(header.segments.size()), '\0');
  char* p = bytes.data();
  std::memcpy(p, kMagic, 8);
  EncodeFixed<std::uint32_t>(p + 8, kVersion);
  EncodeFixed<std::uint32_t>(p + 12, static_cast<std::uint32_t>(bytes.size()));
  std::memcpy(p + 16, header.store_id.data(), 16);
  EncodeFixed<std::uint64_t>(p + 32, header.salt);
  EncodeFixed<std::int64_t>(p + 40, header.position);
  EncodeFixed<std::uint64_t>(p + 48, header.writer_epoch);
  EncodeFixed<std::uint64_t>(p + 56, header.created_us);
  EncodeFixed<std::uint64_t>(p + 64, header.resume_offset);
  EncodeFixed<std::uint32_t>(p + 72, header.last_frame_length);
  EncodeFixed<std::uint32_t>(p + 76, static_cast<std::uint32_t>(header.segments.size()));
  EncodeFixed<std::uint64_t>(p + 80, header.last_frame_checksum);
  EncodeFixed<std::uint64_t>(p + 88, header.log_bytes);
  EncodeFixed<std::uint64_t>(p + 96, header.type_count);
  EncodeFixed<std::uint64_t>(p + 104, header.tag_count);
  EncodeFixed<std::uint64_t>(p + 112, header.stream_count);
  EncodeFixed<std::uint64_t>(p + 120, header.tracking_count);
  EncodeFixed<std::uint64_t>(p + 128, header.block_count);
  EncodeFixed<std::uint64_t>(p + 136, header.block_bytes);
  EncodeFixed<std::uint32_t>(p + 148, header.key_id);
  for (std::size_t i = 0; i < header.segments.size(); ++i) {
    EncodeFixed<std::int64_t>(p + kSegmentTableOffset + 16 * i, header.segments[i].base_position);
    EncodeFixed<std::uint64_t>(p + kSegmentTableOffset + 16 * i + 8, header.segments[i].salt);
  }
  EncodeFixed<std::uint64_t>(p + bytes.size() - 8, Checksum64(p, bytes.size() - 8, 0));
  return bytes;
}

Status DecodeCheckpointHeader(const char* file, std::uint64_t size, CheckpointHeader* header) {
  if (size < CheckpointHeaderLength(1)) return Status::Corruption("checkpoint: truncated header");
  if (std::memcmp(file, kMagic, 8) != 0) return Status::Corruption("checkpoint: bad magic");
  if (DecodeFixed<std::uint32_t>(file + 8) != kVersion) {
    return Status::Corruption("checkpoint: unsupported format version " +
                              std::to_string(DecodeFixed<std::uint32_t>(file + 8)));
  }
  const std::uint64_t length = DecodeFixed<std::uint32_t>(file + 12);
  const std::uint32_t segment_count = DecodeFixed<std::uint32_t>(file + 76);
  if (segment_count == 0 || length != CheckpointHeaderLength(segment_count) || length > size) {
    return Status::Corruption("checkpoint: bad header length");
  }
  if (DecodeFixed<std::uint64_t>(file + length - 8) != Checksum64(file, length - 8, 0)) {
    return Status::Corruption("checkpoint: header checksum mismatch");
  }
  if (!AllZero(file + 144, 4) || !AllZero(file + 152, kSegmentTableOffset - 152)) {
    return Status::Corruption("checkpoint: flags or reserved bytes are not zero");
  }
  CheckpointHeader h;
  std::memcpy(h.store_id.data(), file + 16, 16);
  h.salt = DecodeFixed<std::uint64_t>(file + 32);
  h.position = DecodeFixed<std::int64_t>(file + 40);
  h.writer_epoch = DecodeFixed<std::uint64_t>(file + 48);
  h.created_us = DecodeFixed<std::uint64_t>(file + 56);
  h.resume_offset = DecodeFixed<std::uint64_t>(file + 64);
  h.last_frame_length = DecodeFixed<std::uint32_t>(file + 72);
  h.last_frame_checksum = DecodeFixed<std::uint64_t>(file + 80);
  h.log_bytes = DecodeFixed<std::uint64_t>(file + 88);
  h.type_count = DecodeFixed<std::uint64_t>(file + 96);
  h.tag_count = DecodeFixed<std::uint64_t>(file + 104);
  h.stream_count = DecodeFixed<std::uint64_t>(file + 112);
  h.tracking_count = DecodeFixed<std::uint64_t>(file + 120);
  h.block_count = DecodeFixed<std::uint64_t>(file + 128);
  h.block_bytes = DecodeFixed<std::uint64_t>(file + 136);
  h.key_id = DecodeFixed<std::uint32_t>(file + 148);
  h.segments.resize(segment_count);
  for (std::size_t i = 0; i < segment_count; ++i) {
    h.segments[i].base_position = DecodeFixed<std::int64_t>(file + kSegmentTableOffset + 16 * i);
    h.segments[i].salt = DecodeFixed<std::uint64_t>(file + kSegmentTableOffset + 16 * i + 8);
  }
  if (h.position < 1) return Status::Corruption("checkpoint: position below 1");
  if (h.block_bytes != size - length) {
    return Status::Corruption("checkpoint: file is " + std::to_string(size) +
                              " bytes, the header says " + std::to_string(length + h.block_bytes));
  }
  *header = std::move(h);
  return Status::OK();
}

std::string* CheckpointBlockWriter::AddRecord(CheckpointBlockKind kind) {
  if (!block_.empty() && (kind != kind_ || block_.size() >= kBlockHeadSize + kTargetBlockBytes)) {
    WriteBlock();
  }
  if (block_.empty()) {
    block_.assign(kBlockHeadSize, '\0');
    kind_ = kind;
    record_count_ = 0;
  }
  ++record_count_;
  return &block_;
}

void CheckpointBlockWriter::WriteBlock() {
  if (key_ != nullptr) block_.resize(block_.size() + AesGcm::kTagSize);
  const std::uint64_t record_bytes = block_.size() - kBlockHeadSize;
  if (record_bytes > std::numeric_limits<std::uint32_t>::max() && status_.ok()) {
    status_ = Status::InvalidArgument("checkpoint: a record block exceeds 4 GiB");
  }
  char* head = block_.data();
  EncodeFixed<std::uint32_t>(head, static_cast<std::uint32_t>(record_bytes));
  EncodeFixed<std::uint8_t>(head + 4, static_cast<std::uint8_t>(kind_));
  EncodeFixed<std::uint8_t>(head + 5, key_ != nullptr ? kEncryptedBlock : 0);
  EncodeFixed<std::uint32_t>(head + 8, record_count_);
  if (key_ != nullptr && status_.ok()) {
    status_ = key_->Seal(BlockNonce(block_count_), std::string_view(head, kBlockHeadSize),
                         head + kBlockHeadSize, record_bytes - AesGcm::kTagSize);
  }
  block_.resize(PaddedBlockLength(record_bytes), '\0');
  std::string seal(8, '\0');
  EncodeFixed<std::uint64_t>(seal.data(),
                             Checksum64(block_.data(), block_.size(), salt_ + block_count_));
  block_ += seal;
  if (status_.ok()) status_ = file_->Write(offset_, block_);
  offset_ += block_.size();
  block_bytes_ += block_.size();
  ++block_count_;
  block_.clear();
}

Status CheckpointBlockWriter::Finish() {
  if (!block_.empty()) WriteBlock();
  return status_;
}

Status ReadCheckpointBlocks(const char* file, std::uint64_t size, const CheckpointHeader& header,
                            std::vector<CheckpointBlock>* blocks, const AesGcm* key,
                            std::deque<std::string>* opened) {
  blocks->clear();
  const std::uint8_t flags = header.key_id != 0 ? kEncryptedBlock : 0;
  std::uint64_t offset = CheckpointHeaderLength(header.segments.size());
  std::uint8_t last_kind = 0;
  for (std::uint64_t i = 0; i < header.block_count; ++i) {
    const std::string where = "checkpoint block " + std::to_string(i);
    if (size - offset < kBlockHeadSize + 8) return Status::Corruption(where + ": truncated");
    const char* block = file + offset;
    const std::uint32_t record_bytes = DecodeFixed<std::uint32_t>(block);
    const std::uint64_t sealed = PaddedBlockLength(record_bytes);
    if (sealed + 8 > size - offset) return Status::Corruption(where + ": truncated");
    if (DecodeFixed<std::uint64_t>(block + sealed) != Checksum64(block, sealed, header.salt + i)) {
      return Status::Corruption(where + ": checksum mismatch");
    }
    const auto kind = DecodeFixed<std::uint8_t>(block + 4);
    if (kind < static_cast<std::uint8_t>(CheckpointBlockKind::kTypes) ||
        kind > static_cast<std::uint8_t>(CheckpointBlockKind::kTracking) || kind < last_kind) {
      return Status::Corruption(where + ": unknown or out-of-order kind " + std::to_string(kind));
    }
    if (DecodeFixed<std::uint8_t>(block + 5) != flags) {
      return Status::Corruption(
          where + (flags != 0 ? ": not encrypted like its checkpoint" : ": flags are not zero"));
    }
    if (!AllZero(block + 6, 2) || !AllZero(block + 12, 4) ||
        !AllZero(block + kBlockHeadSize + record_bytes, sealed - kBlockHeadSize - record_bytes)) {
      return Status::Corruption(where + ": reserved or padding bytes are not zero");
    }
    if (flags != 0 && record_bytes < AesGcm::kTagSize) {
      return Status::Corruption(where + ": encrypted records shorter than a tag");
    }
    last_kind = kind;
    blocks->push_back({static_cast<CheckpointBlockKind>(kind),
                       DecodeFixed<std::uint32_t>(block + 8),
                       std::string_view(block + kBlockHeadSize, record_bytes)});
    offset += sealed + 8;
  }
  if (offset != size) return Status::Corruption("checkpoint: bytes after the last block");
  if (flags == 0) return Status::OK();
  if (key == nullptr) {
    return Status::NotSupported(
        "checkpoint: its records are encrypted; reading them needs the key");
  }
  for (std::size_t i = 0; i < blocks->size(); ++i) {
    CheckpointBlock& block = (*blocks)[i];
    std::string& plain = opened->emplace_back(block.records.size() - AesGcm::kTagSize, '\0');
    const char* head = block.records.data() - kBlockHeadSize;
    Status authentic = key->Open(BlockNonce(i), std::string_view(head, kBlockHeadSize),
                                 block.records, plain.data());
    if (!authentic.ok()) {
      return authentic.WithContext("checkpoint block " + std::to_string(i));
    }
    block.records = plain;
  }
  return Status::OK();
}

}  // namespace es
