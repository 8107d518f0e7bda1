#include "engine/checkpoints.h"

#include "engine/format/frame.h"
#include "engine/index/checkpoint.h"
#include "engine/util/coding.h"
#include "engine/util/file_names.h"

namespace es {
namespace {

constexpr char kSuffix[] = ".ckpt";
// Positions sampled from each covered segment's position index (besides its first and last).
constexpr std::int64_t kSampledPositions = 6;

// Whether the log holds the checkpoint's last covered frame, unchanged, where it says.
Status CheckLastFrame(const Segment& segment, const CheckpointHeader& header,
                      const MetaSlot& meta) {
  const std::uint64_t end = header.resume_offset;
  const std::uint64_t length = header.last_frame_length;
  const auto mismatch = [&](const std::string& why) {
    return Status::Corruption(segment.path() + " does not hold the last frame covered: " + why);
  };
  if (length < kFrameMinLength || end > segment.size() || end < kSegmentHeaderSize + length) {
    return mismatch("it would lie outside the segment");
  }
  FrameHeader frame;
  Status parsed = ParseFrame(segment.data() + end - length, segment.size() - (end - length),
                             segment.header().salt, &frame);
  if (!parsed.ok()) return mismatch(parsed.message());
  if (frame.length != length ||
      DecodeFixed<std::uint64_t>(segment.data() + end - 16) != header.last_frame_checksum) {
    return mismatch("another frame is there");
  }
  const std::int64_t base = segment.header().base_position;
  if (frame.first_position < base || frame.writer_epoch > meta.writer_epoch ||
      frame.first_position + frame.event_count - 1 != header.position ||
      static_cast<std::uint64_t>(frame.first_position - base) + frame.event_count >
          segment.header().capacity_events) {
    return mismatch("its positions or epoch disagree");
  }
  return Status::OK();
}

// Whether a sample of the covered positions of each segment reads back through its position
// index: the entries of covered positions are not replayed, so they must be right already.
Status CheckPositionIndexes(const std::vector<std::unique_ptr<Segment>>& segments,
                            std::int64_t position) {
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = *segments[i];
    if (segment.position_index_recreated()) {
      return Status::Corruption("the position index of " + segment.path() +
                                " was missing or damaged");
    }
    const std::int64_t first = segment.header().base_position;
    const std::int64_t last =
        i + 1 < segments.size() ? segments[i + 1]->header().base_position - 1 : position;
    for (std::int64_t k = 0; k <= kSampledPositions + 1 && first <= last; ++k) {
      EventView view;
      Status read = segment.ReadEvent(first + (last - first) * k / (kSampledPositions + 1), &view);
      if (!read.ok()) return Status::Corruption("a wrong position index entry: " + read.message());
    }
  }
  return Status::OK();
}

// Removes every checkpoint but `newest` and `previous`.
Status PruneCheckpoints(Env* env, const std::string& dir, std::int64_t newest,
                        std::int64_t previous) {
  ES_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(dir));
  for (const std::string& name : children) {
    std::int64_t position;
    if (ParseCheckpointFileName(name, &position) && position != newest && position != previous) {
      ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + name));
    }
  }
  return Status::OK();
}

}  // namespace

std::string CheckpointFileName(std::int64_t position) {
  return PositionFileName(position, kSuffix);
}

bool ParseCheckpointFileName(const std::string& name, std::int64_t* position) {
  return ParsePositionFileName(name, kSuffix, position);
}

Result<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Create(Env* env, const std::string& dir,
                                                                   std::int64_t position) {
  std::unique_ptr<CheckpointWriter> writer(new CheckpointWriter(env, dir, position, nullptr));
  ES_ASSIGN_OR_RETURN(writer->file_,
                      env->OpenFile(writer->TempPath(), {.create = true, .writable = true}));
  ES_RETURN_IF_ERROR(writer->file_->Truncate(0));
  return writer;
}

CheckpointWriter::~CheckpointWriter() {
  if (file_ == nullptr) return;
  file_.reset();
  // Left behind, the temporary would only be removed by the next Open.
  env_->RemoveFile(TempPath()).IgnoreError();
}

std::string CheckpointWriter::TempPath() const {
  return dir_ + "/" + CheckpointFileName(position_) + ".tmp";
}

Status CheckpointWriter::Write(CheckpointHeader header, const MemIndex& index,
                               const StoreCipher* cipher) {
  env_->RandomBytes(&header.salt, sizeof(header.salt));
  std::unique_ptr<AesGcm> key;
  if (cipher != nullptr) {
    key = cipher->CheckpointKey(header.salt, header.position, header.writer_epoch);
    header.key_id = cipher->key_id();
  }
  CheckpointBlockWriter blocks(file_.get(), CheckpointHeaderLength(header.segments.size()),
                               header.salt, key.get());
  IndexCheckpoint::Write(index, &blocks, &header);
  ES_RETURN_IF_ERROR(blocks.Finish());
  header.block_count = blocks.block_count();
  header.block_bytes = blocks.block_bytes();
  return file_->Write(0, EncodeCheckpointHeader(header));
}

Status CheckpointWriter::Commit(std::int64_t previous) {
  ES_RETURN_IF_ERROR(file_->Sync());
  file_.reset();
  ES_RETURN_IF_ERROR(env_->RenameFile(TempPath(), dir_ + "/" + CheckpointFileName(position_)));
  ES_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return PruneCheckpoints(env_, dir_, position_, previous);
}

Result<ReplayStart> LoadCheckpoint(Env* env, const std::string& dir, std::int64_t position,
                                   const MetaSlot& meta,
                                   const std::vector<std::int64_t>& segment_bases, MemIndex* index,
                                   bool* replay_all, const StoreCipher* cipher, bool read_only) {
  *replay_all = false;
  ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      env->OpenFile(dir + "/" + CheckpointFileName(position), {}));
  ES_ASSIGN_OR_RETURN(const std::uint64_t size, file->Size());
  if (size < CheckpointHeaderLength(1)) return Status::Corruption("truncated header");
  ES_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> map, file->Map(size, /*writable=*/false));
  CheckpointHeader header;
  ES_RETURN_IF_ERROR(DecodeCheckpointHeader(map->data(), size, &header));
  if (header.position != position) {
    return Status::Corruption("holds position " + std::to_string(header.position));
  }
  if (header.store_id != meta.store_id) return Status::Corruption("belongs to another store");
  if (header.key_id != meta.key_id) {
    return Status::Corruption("encrypted under key id " + std::to_string(header.key_id) +
                              ", the store under " + std::to_string(meta.key_id));
  }
  if (header.writer_epoch > meta.writer_epoch) {
    return Status::Corruption("written by an open later than the store's last");
  }

  // The covered segments must be the log's first ones, the very files it was written from.
  ReplayStart start;
  if (header.segments.size() > segment_bases.size() || header.segments[0].base_position != 1) {
    return Status::Corruption("covers segments the log does not have");
  }
  for (std::size_t i = 0; i < header.segments.size(); ++i) {
    if (segment_bases[i] != header.segments[i].base_position) {
      return Status::Corruption("covers segments the log does not have");
    }
    ES_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment,
                        Segment::Open(env, dir, segment_bases[i], /*writable=*/!read_only));
    if (segment->header().store_id != meta.store_id ||
        segment->header().salt != header.segments[i].salt) {
      return Status::Corruption(segment->path() + " is not the segment it covers");
    }
    ES_RETURN_IF_ERROR(segment->OpenPositionIndex(/*writable=*/!read_only));
    start.segments.push_back(std::move(segment));
  }
  ES_RETURN_IF_ERROR(CheckLastFrame(*start.segments.back(), header, meta));
  if (Status indexes = CheckPositionIndexes(start.segments, position); !indexes.ok()) {
    *replay_all = true;
    return indexes;
  }

  std::vector<CheckpointBlock> blocks;
  std::deque<std::string> opened;
  std::unique_ptr<AesGcm> key;
  if (cipher != nullptr) {
    key = cipher->CheckpointKey(header.salt, header.position, header.writer_epoch);
  }
  ES_RETURN_IF_ERROR(ReadCheckpointBlocks(map->data(), size, header, &blocks, key.get(), &opened));
  if (Status read = IndexCheckpoint::Read(blocks, header, index); !read.ok()) {
    index->Clear();
    return read;
  }
  start.offset = header.resume_offset;
  start.next_position = position + 1;
  start.log_bytes = header.log_bytes;
  return start;
}

}  // namespace es
