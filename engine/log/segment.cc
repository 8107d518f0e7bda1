#include "engine/log/segment.h"

#include <cstring>
#include <vector>

#include "engine/util/coding.h"
#include "engine/util/file_names.h"

namespace es {
namespace {

constexpr const char* kSpareSegmentName = "spare-segment.tmp";
constexpr const char* kSpareIndexName = "spare-pidx.tmp";

std::uint64_t IndexFileSize(std::uint32_t capacity) {
  return kPositionIndexHeaderSize + std::uint64_t{capacity} * kPositionIndexEntrySize;
}

// Zeroed heap memory in the place of a mapping, for a position index no file backs.
class MemoryRegion final : public MappedRegion {
 public:
  explicit MemoryRegion(std::uint64_t size) : bytes_(size) {}
  char* data() override { return bytes_.data(); }
  std::uint64_t size() const override { return bytes_.size(); }
  Status Sync(std::uint64_t, std::uint64_t) override {
    return Status::NotSupported("a position index held in memory cannot be synced");
  }

 private:
  std::vector<char> bytes_;
};

// A new file at `path` (emptied if it exists) with `size` bytes allocated.
Result<std::unique_ptr<File>> CreateAllocated(Env* env, const std::string& path,
                                              std::uint64_t size) {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      env->OpenFile(path, {.create = true, .writable = true}));
  ES_RETURN_IF_ERROR(file->Truncate(0));
  ES_RETURN_IF_ERROR(file->Allocate(size));
  return file;
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

Result<Segment::Spare> Segment::PrepareSpare(Env* env, const std::string& dir, std::uint64_t size,
                                             std::uint32_t capacity_events) {
  Spare spare;
  ES_ASSIGN_OR_RETURN(spare.file, CreateAllocated(env, dir + "/" + kSpareSegmentName, size));
  ES_ASSIGN_OR_RETURN(spare.index_file, CreateAllocated(env, dir + "/" + kSpareIndexName,
                                                        IndexFileSize(capacity_events)));
  // Writing the header blocks now turns them from allocated into written extents, so that the
  // roll's synced header writes change no file system metadata.
  const std::string zeros(kSegmentHeaderSize, '\0');
  ES_RETURN_IF_ERROR(spare.file->Write(0, zeros));
  ES_RETURN_IF_ERROR(spare.file->Sync());
  ES_RETURN_IF_ERROR(spare.index_file->Write(0, zeros.substr(0, kPositionIndexHeaderSize)));
  ES_RETURN_IF_ERROR(spare.index_file->Sync());
  return spare;
}

Status Segment::RemoveSpare(Env* env, const std::string& dir) {
  for (const char* name : {kSpareSegmentName, kSpareIndexName}) {
    std::string path = dir + "/" + name;
    if (env->FileExists(path)) ES_RETURN_IF_ERROR(env->RemoveFile(path));
  }
  return Status::OK();
}

Result<std::unique_ptr<Segment>> Segment::Create(Env* env, const std::string& dir,
                                                 const SegmentHeader& header, std::uint64_t size,
                                                 std::optional<Spare> spare) {
  std::unique_ptr<Segment> segment(
      new Segment(env, dir, dir + "/" + FileName(header.base_position)));
  segment->header_ = header;
  const std::string index_path = dir + "/" + IndexFileName(header.base_position);
  if (spare) {
    segment->file_ = std::move(spare->file);
    segment->index_file_ = std::move(spare->index_file);
  } else {
    ES_ASSIGN_OR_RETURN(segment->file_, CreateAllocated(env, segment->path_, size));
    ES_ASSIGN_OR_RETURN(segment->index_file_,
                        CreateAllocated(env, index_path, IndexFileSize(header.capacity_events)));
  }
  std::vector<char> block(kSegmentHeaderSize);
  EncodeSegmentHeader(header, block.data());
  ES_RETURN_IF_ERROR(segment->file_->Write(0, std::string_view(block.data(), block.size())));
  ES_RETURN_IF_ERROR(segment->file_->Sync());
  // Header and size made durable now, before the writer stores entries through the mapping: a
  // checkpoint then needs to sync only the entries it covers.
  ES_RETURN_IF_ERROR(segment->WritePositionIndexHeader());
  if (spare) {
    // Renamed only once their headers are durable, so that a crash never leaves a segment file
    // whose header is still the spare's zeros.
    ES_RETURN_IF_ERROR(env->RenameFile(dir + "/" + kSpareSegmentName, segment->path_));
    ES_RETURN_IF_ERROR(env->RenameFile(dir + "/" + kSpareIndexName, index_path));
  }
  ES_RETURN_IF_ERROR(env->SyncDir(dir));
  ES_ASSIGN_OR_RETURN(segment->map_, segment->file_->Map(size, /*writable=*/true));
  ES_ASSIGN_OR_RETURN(segment->index_map_,
                      segment->index_file_->Map(IndexFileSize(header.capacity_events), true));
  // The writer fills both files front to back through their mappings.
  segment->map_->HintRandomAccess();
  segment->index_map_->HintRandomAccess();
  return segment;
}

Result<std::unique_ptr<Segment>> Segment::Open(Env* env, const std::string& dir,
                                               std::int64_t base_position, bool writable) {
  std::unique_ptr<Segment> segment(new Segment(env, dir, dir + "/" + FileName(base_position)));
  ES_ASSIGN_OR_RETURN(segment->file_, env->OpenFile(segment->path_, {.writable = writable}));
  ES_ASSIGN_OR_RETURN(std::uint64_t size, segment->file_->Size());
  if (size <= kSegmentHeaderSize) {
    return Status::Corruption(segment->path_ + ": shorter than a segment header");
  }
  ES_ASSIGN_OR_RETURN(segment->map_, segment->file_->Map(size, writable));
  ES_RETURN_IF_ERROR(
      DecodeSegmentHeader(segment->map_->data(), &segment->header_).WithContext(segment->path_));
  if (segment->header_.base_position != base_position) {
    return Status::Corruption(segment->path_ + ": header names another base position");
  }
  return segment;
}

Status Segment::OpenPositionIndex(bool writable) {
  std::string path = dir_ + "/" + IndexFileName(header_.base_position);
  std::uint64_t want = IndexFileSize(header_.capacity_events);
  if (!writable && !env_->FileExists(path)) {
    UseMemoryPositionIndex();
    return Status::OK();
  }
  ES_ASSIGN_OR_RETURN(index_file_,
                      env_->OpenFile(path, {.create = writable, .writable = writable}));
  ES_ASSIGN_OR_RETURN(std::uint64_t size, index_file_->Size());
  index_recreated_ = true;
  if (size == want) {
    std::vector<char> actual(kPositionIndexHeaderSize);
    ES_RETURN_IF_ERROR(index_file_->Read(0, actual.size(), actual.data()));
    index_recreated_ = actual != PositionIndexHeader();
  }
  if (index_recreated_ && !writable) {
    index_file_.reset();
    UseMemoryPositionIndex();
    return Status::OK();
  }
  if (index_recreated_) {
    ES_RETURN_IF_ERROR(index_file_->Truncate(0));
    ES_RETURN_IF_ERROR(index_file_->Allocate(want));
    ES_RETURN_IF_ERROR(WritePositionIndexHeader());
  }
  ES_ASSIGN_OR_RETURN(index_map_, index_file_->Map(want, writable));
  return Status::OK();
}

void Segment::UseMemoryPositionIndex() {
  index_map_ = std::make_unique<MemoryRegion>(IndexFileSize(header_.capacity_events));
  index_recreated_ = true;
}

void Segment::CopyPositionIndexToMemory() {
  auto copy = std::make_unique<MemoryRegion>(index_map_->size());
  std::memcpy(copy->data(), index_map_->data(), index_map_->size());
  index_map_ = std::move(copy);
  index_file_.reset();
}

std::vector<char> Segment::PositionIndexHeader() const {
  std::vector<char> block(kPositionIndexHeaderSize);
  EncodePositionIndexHeader({header_.base_position, header_.salt, header_.capacity_events},
                            block.data());
  return block;
}

Status Segment::WritePositionIndexHeader() {
  std::vector<char> block = PositionIndexHeader();
  ES_RETURN_IF_ERROR(index_file_->Write(0, std::string_view(block.data(), block.size())));
  return index_file_->Sync();
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

Status Segment::ReadEvent(std::int64_t position, EventView* view, const AesGcm* key) const {
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
  if (!view->encrypted || key == nullptr) return Status::OK();
  // The frame's header is authenticated with the entry; the entry check has just bound the
  // index entry to this position, but not its frame offset.
  if (frame_offset < kSegmentHeaderSize || frame_offset + kFrameHeaderSize > entry_offset) {
    return Status::Corruption(path_ + ": position index entry of position " +
                              std::to_string(position) + " names no frame before its event");
  }
  thread_local std::string plain;
  return OpenEventEntry(data() + entry_offset, data() + frame_offset, position, *key, &plain, view)
      .WithContext(path_);
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
