#include "engine/log/segment.h"

#include <cstring>
#include <vector>

#include "engine/util/coding.h"
#include "engine/util/file_names.h"

namespace es {
namespace {

std::uint64_t IndexFileSize(std::uint32_t capacity) {
  return kPositionIndexHeaderSize + std::uint64_t{capacity} * kPositionIndexEntrySize;
}

}  // namespace

std::string Segment::FileName(std::int64_t base_position) {
  return PositionFileName(base_position, ".seg");
}
std::string Segment::IndexFileName(std::int64_t base_position) {
  return PositionFileName(base_position, ".pidx");
}

bool Segment::ParseFileName(const std::string& name, std::int64_t* base_position) {
  return ParsePositionFileName(name, ".seg", base_position);
}

Result<std::unique_ptr<Segment>> Segment::Create(Env* env, const std::string& dir,
                                                 const SegmentHeader& header, std::uint64_t size) {
  std::unique_ptr<Segment> segment(
      new Segment(env, dir, dir + "/" + FileName(header.base_position)));
  segment->header_ = header;
  ES_ASSIGN_OR_RETURN(segment->file_,
                      env->OpenFile(segment->path_, {.create = true, .writable = true}));
  ES_RETURN_IF_ERROR(segment->file_->Truncate(0));
  ES_RETURN_IF_ERROR(segment->file_->Allocate(size));
  std::vector<char> block(kSegmentHeaderSize);
  EncodeSegmentHeader(header, block.data());
  ES_RETURN_IF_ERROR(segment->file_->Write(0, std::string_view(block.data(), block.size())));
  ES_RETURN_IF_ERROR(segment->file_->Sync());
  ES_ASSIGN_OR_RETURN(segment->map_, segment->file_->Map(size, /*writable=*/true));
  ES_RETURN_IF_ERROR(segment->MapPositionIndex(/*recreate=*/true));
  ES_RETURN_IF_ERROR(env->SyncDir(dir));
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::Open(Env* env, const std::string& dir,
                                               std::int64_t base_position) {
  std::unique_ptr<Segment> segment(new Segment(env, dir, dir + "/" + FileName(base_position)));
  ES_ASSIGN_OR_RETURN(segment->file_, env->OpenFile(segment->path_, {.writable = true}));
  ES_ASSIGN_OR_RETURN(std::uint64_t size, segment->file_->Size());
  if (size <= kSegmentHeaderSize) {
    return Status::Corruption(segment->path_ + ": shorter than a segment header");
  }
  ES_ASSIGN_OR_RETURN(segment->map_, segment->file_->Map(size, /*writable=*/true));
  ES_RETURN_IF_ERROR(
      DecodeSegmentHeader(segment->map_->data(), &segment->header_).WithContext(segment->path_));
  if (segment->header_.base_position != base_position) {
    return Status::Corruption(segment->path_ + ": header names another base position");
  }
  return segment;
}

Status Segment::OpenPositionIndex() { return MapPositionIndex(/*recreate=*/false); }

Status Segment::MapPositionIndex(bool recreate) {
  std::string path = dir_ + "/" + IndexFileName(header_.base_position);
  std::uint64_t want = IndexFileSize(header_.capacity_events);
  ES_ASSIGN_OR_RETURN(index_file_, env_->OpenFile(path, {.create = true, .writable = true}));
  ES_ASSIGN_OR_RETURN(std::uint64_t size, index_file_->Size());
  std::vector<char> expected(kPositionIndexHeaderSize);
  EncodePositionIndexHeader({header_.base_position, header_.salt, header_.capacity_events},
                            expected.data());
  if (!recreate && size == want) {
    std::vector<char> actual(kPositionIndexHeaderSize);
    ES_RETURN_IF_ERROR(index_file_->Read(0, actual.size(), actual.data()));
    recreate = actual != expected;
  } else {
    recreate = true;
  }
  index_recreated_ = recreate;
  if (recreate) {
    ES_RETURN_IF_ERROR(index_file_->Truncate(0));
    ES_RETURN_IF_ERROR(index_file_->Allocate(want));
    ES_RETURN_IF_ERROR(index_file_->Write(0, std::string_view(expected.data(), expected.size())));
    // Header and size made durable now, before the writer stores entries through the mapping:
    // a checkpoint then needs to sync only the entries it covers.
    ES_RETURN_IF_ERROR(index_file_->Sync());
  }
  ES_ASSIGN_OR_RETURN(index_map_, index_file_->Map(want, /*writable=*/true));
  return Status::OK();
}

char* Segment::IndexSlot(std::int64_t position) const {
  return index_map_->data() + kPositionIndexHeaderSize +
         static_cast<std::uint64_t>(position - header_.base_position) * kPositionIndexEntrySize;
}

void Segment::SetIndexEntry(std::int64_t position, std::uint32_t frame_offset,
                            std::uint32_t entry_offset) {
  char* slot = IndexSlot(position);
  EncodeFixed<std::uint32_t>(slot, frame_offset);
  EncodeFixed<std::uint32_t>(slot + 4, entry_offset);
}

void Segment::GetIndexEntry(std::int64_t position, std::uint32_t* frame_offset,
                            std::uint32_t* entry_offset) const {
  const char* slot = IndexSlot(position);
  *frame_offset = DecodeFixed<std::uint32_t>(slot);
  *entry_offset = DecodeFixed<std::uint32_t>(slot + 4);
}

void Segment::PrefetchEvent(std::int64_t position) const {
  std::uint32_t frame_offset, entry_offset;
  GetIndexEntry(position, &frame_offset, &entry_offset);
  // Events are typically a few hundred bytes: fetch their first four cache lines.
  for (std::uint64_t line = 0; line < 4 && entry_offset + line * 64 < size(); ++line) {
    __builtin_prefetch(data() + entry_offset + line * 64);
  }
}

Status Segment::ReadEvent(std::int64_t position, EventView* view) const {
  std::uint32_t frame_offset, entry_offset;
  GetIndexEntry(position, &frame_offset, &entry_offset);
  if (entry_offset < kSegmentHeaderSize || entry_offset >= size()) {
    return Status::Corruption(path_ + ": position index entry out of range for position " +
                              std::to_string(position));
  }
  std::size_t length;
  Status s = ParseEventEntry(data() + entry_offset, size() - entry_offset, view, &length);
  if (!s.ok() || !EventEntryCheckMatches(data() + entry_offset, length, position, header_.salt)) {
    return Status::Corruption(path_ + ": event at position " + std::to_string(position) +
                              " does not verify at offset " + std::to_string(entry_offset));
  }
  return Status::OK();
}

Status Segment::Sync(std::uint64_t begin, std::uint64_t end) const {
  return map_->Sync(begin, end - begin);
}

Status Segment::SyncPositionIndex(std::int64_t first, std::int64_t last) const {
  const char* begin = IndexSlot(first);
  return index_map_->Sync(static_cast<std::uint64_t>(begin - index_map_->data()),
                          static_cast<std::uint64_t>(last - first + 1) * kPositionIndexEntrySize);
}

}  // namespace es
