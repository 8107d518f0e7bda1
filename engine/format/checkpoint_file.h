// Index checkpoint files (docs/format.md, "Index checkpoint"): the header that ties a checkpoint to
// a place in the log, and the checksummed blocks that carry its records. What the records mean is
// engine/index/checkpoint.h's business; this layer only frames and verifies them, so that the
// encryption of a later format version wraps block payloads here without touching the records.
#ifndef ES_ENGINE_FORMAT_CHECKPOINT_FILE_H_
#define ES_ENGINE_FORMAT_CHECKPOINT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "engine/crypto/aes_gcm.h"
#include "engine/format/file_headers.h"
#include "es/env.h"
#include "es/status.h"

namespace es {

// Record kinds, in the order their blocks must appear.
enum class CheckpointBlockKind : std::uint8_t {
  kTypes = 1,
  kTypeColumn = 2,
  kTags = 3,
  kStreams = 4,
  kTracking = 5,
};

struct CheckpointSegment {
  std::int64_t base_position = 0;
  std::uint64_t salt = 0;
  bool operator==(const CheckpointSegment&) const = default;
};

struct CheckpointHeader {
  StoreId store_id{};
  std::uint64_t salt = 0;  // seeds the block checksums
  std::int64_t position = 0;
  std::uint64_t writer_epoch = 0;
  std::uint64_t created_us = 0;
  std::uint64_t resume_offset = 0;  // in segments.back()
  std::uint32_t last_frame_length = 0;
  std::uint64_t last_frame_checksum = 0;
  std::uint64_t log_bytes = 0;
  std::uint64_t type_count = 0;
  std::uint64_t tag_count = 0;
  std::uint64_t stream_count = 0;
  std::uint64_t tracking_count = 0;
  std::uint64_t block_count = 0;
  std::uint64_t block_bytes = 0;
  // The store's key id when the blocks are encrypted (with StoreCipher::CheckpointKey of this
  // header's salt, position and writer epoch); 0 when they are not.
  std::uint32_t key_id = 0;
  std::vector<CheckpointSegment> segments;  // the covered segments, in log order
  bool operator==(const CheckpointHeader&) const = default;
};

// The length of a header with `segment_count` segments: where the first block starts.
std::size_t CheckpointHeaderLength(std::size_t segment_count);
std::string EncodeCheckpointHeader(const CheckpointHeader& header);
// Decodes the header of a checkpoint file of `size` bytes: Corruption unless magic, version,
// lengths, reserved fields and checksum are right and the file is as long as the header says.
Status DecodeCheckpointHeader(const char* file, std::uint64_t size, CheckpointHeader* header);

// Writes blocks to `file` from `offset` on, each holding whole records of one kind; with `key`,
// each block's records encrypted (the nonce is the block's index).
class CheckpointBlockWriter {
 public:
  CheckpointBlockWriter(File* file, std::uint64_t offset, std::uint64_t salt,
                        const AesGcm* key = nullptr)
      : file_(file), offset_(offset), salt_(salt), key_(key) {}

  // The buffer to append one record of `kind` to. Kinds must not decrease.
  std::string* AddRecord(CheckpointBlockKind kind);
  // Writes the last block; returns the first error of any write.
  Status Finish();

  std::uint64_t block_count() const { return block_count_; }
  std::uint64_t block_bytes() const { return block_bytes_; }

 private:
  void WriteBlock();

  File* const file_;
  std::uint64_t offset_;
  const std::uint64_t salt_;
  const AesGcm* const key_;
  CheckpointBlockKind kind_ = CheckpointBlockKind::kTypes;
  std::uint32_t record_count_ = 0;
  std::string block_;  // the block being filled: its 16-byte head, then records
  std::uint64_t block_count_ = 0;
  std::uint64_t block_bytes_ = 0;
  Status status_;
};

struct CheckpointBlock {
  CheckpointBlockKind kind;
  std::uint32_t record_count;
  std::string_view records;
};

// Verifies every block of a checkpoint file (its bytes `file`, `size` long, with a decoded
// `header`) and sets `blocks` to their records: Corruption when a checksum or framing rule fails.
// The records of an encrypted checkpoint are opened with `key` into `opened` (which `blocks` then
// point into): Corruption when one does not authenticate; NotSupported without a key, once every
// checksum has been verified.
Status ReadCheckpointBlocks(const char* file, std::uint64_t size, const CheckpointHeader& header,
                            std::vector<CheckpointBlock>* blocks, const AesGcm* key = nullptr,
                            std::deque<std::string>* opened = nullptr);

}  // namespace es

#endif  // ES_ENGINE_FORMAT_CHECKPOINT_FILE_H_
