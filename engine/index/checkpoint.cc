#include "engine/index/checkpoint.h"

#include <string>
#include <string_view>
#include <vector>

#include "engine/util/coding.h"

namespace es {
namespace {

void PutName(std::string* dst, std::string_view name) {
  PutVarint64(dst, name.size());
  dst->append(name);
}

bool HasPositionUpTo(const PostingList& list, std::int64_t last) {
  PostingList::Cursor c(list, list.size());
  return c.Valid() && c.position() <= last;
}

// Appends the posting list of the positions of `list` up to `last` (there is at least one). The
// count is known at the end only: it goes in front of the gaps then.
void PutPostings(std::string* dst, const PostingList& list, std::int64_t last) {
  const std::size_t start = dst->size();
  std::uint64_t count = 0;
  std::int64_t previous = 0;
  for (PostingList::Cursor c(list, list.size()); c.Valid() && c.position() <= last; c.Next()) {
    PutVarint64(dst, static_cast<std::uint64_t>(c.position() - previous));
    previous = c.position();
    ++count;
  }
  std::string count_bytes;
  PutVarint64(&count_bytes, count);
  dst->insert(start, count_bytes);
}

// Decodes the records of one block, failing at the first one that breaks a rule.
class RecordReader {
 public:
  explicit RecordReader(const CheckpointBlock& block)
      : p_(block.records.data()), end_(p_ + block.records.size()) {}

  Status Varint(std::uint64_t* value) {
    p_ = p_ == nullptr ? nullptr : GetVarint64(p_, end_, value);
    return p_ != nullptr ? Status::OK() : Status::Corruption("checkpoint: truncated record");
  }
  Status Name(std::string_view* name, std::size_t min_length) {
    std::uint64_t length = 0;
    ES_RETURN_IF_ERROR(Varint(&length));
    if (length > static_cast<std::uint64_t>(end_ - p_) || length < min_length) {
      return Status::Corruption("checkpoint: bad name length");
    }
    *name = std::string_view(p_, length);
    p_ += length;
    return Status::OK();
  }
  Status Byte(std::uint8_t* value) {
    if (p_ == end_) return Status::Corruption("checkpoint: truncated record");
    *value = static_cast<std::uint8_t>(*p_++);
    return Status::OK();
  }
  // Appends a posting list of positions in 1 .. last to `list`.
  Status Postings(std::int64_t last, PostingList* list, Arena* arena) {
    std::uint64_t count = 0;
    ES_RETURN_IF_ERROR(Varint(&count));
    // Each position takes at least a byte: a bound that keeps a bad count from looping long.
    if (count == 0 || count > static_cast<std::uint64_t>(end_ - p_)) {
      return Status::Corruption("checkpoint: bad posting count");
    }
    std::uint64_t position = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint64_t gap = 0;
      ES_RETURN_IF_ERROR(Varint(&gap));
      if (gap == 0 || gap > static_cast<std::uint64_t>(last) - position) {
        return Status::Corruption("checkpoint: posting list not ascending within 1 .. " +
                                  std::to_string(last));
      }
      position += gap;
      list->Append(static_cast<std::int64_t>(position), arena);
    }
    return Status::OK();
  }
  Status Finish() const {
    return p_ == end_ ? Status::OK() : Status::Corruption("checkpoint: bytes after the records");
  }

 private:
  const char* p_;
  const char* const end_;
};

}  // namespace

void IndexCheckpoint::Write(const MemIndex& index, CheckpointBlockWriter* writer,
                            CheckpointHeader* header) {
  using Kind = CheckpointBlockKind;
  const std::int64_t last = index.snapshot_position_;

  // Types in id order; those added after the snapshot have larger ids.
  std::vector<const MemIndex::Type*> types(index.snapshot_type_count_);
  for (const MemIndex::Type* type : index.types_.Records()) {
    if (type->id < types.size()) types[type->id] = type;
  }
  for (const MemIndex::Type* type : types) {
    PutName(writer->AddRecord(Kind::kTypes), InternTable<MemIndex::Type>::NameOf(type));
  }
  for (std::int64_t p = 1; p <= last; ++p) {
    PutVarint64(writer->AddRecord(Kind::kTypeColumn),
                index.type_column_[static_cast<std::size_t>(p - 1)]);
  }

  // Tags and streams first seen after the snapshot have no position up to it: they are left out.
  std::uint64_t tags = 0;
  for (const PostingList* list : index.tags_.Records()) {
    if (!HasPositionUpTo(*list, last)) continue;
    std::string* out = writer->AddRecord(Kind::kTags);
    PutName(out, InternTable<PostingList>::NameOf(list));
    PutPostings(out, *list, last);
    ++tags;
  }
  std::uint64_t streams = 0;
  for (const MemIndex::Stream* stream : index.streams_.Records()) {
    if (!HasPositionUpTo(stream->positions, last)) continue;
    const MemIndex::StreamState state = index.SnapshotState(*stream);
    std::string* out = writer->AddRecord(Kind::kStreams);
    PutName(out, InternTable<MemIndex::Stream>::NameOf(stream));
    PutVarint64(out, ZigZagEncode(state.max_version));
    out->push_back(state.versions_increasing ? '\1' : '\0');
    PutPostings(out, stream->positions, last);
    ++streams;
  }
  for (const auto& [name, id] : index.snapshot_tracking_) {
    std::string* out = writer->AddRecord(Kind::kTracking);
    PutName(out, name);
    PutVarint64(out, ZigZagEncode(id));
  }

  header->type_count = types.size();
  header->tag_count = tags;
  header->stream_count = streams;
  header->tracking_count = index.snapshot_tracking_.size();
}

Status IndexCheckpoint::Read(std::span<const CheckpointBlock> blocks,
                             const CheckpointHeader& header, MemIndex* index) {
  using Kind = CheckpointBlockKind;
  // Record counts and bytes per kind, checked against the header before anything is sized by
  // them (each record takes at least a byte, so a count cannot exceed the bytes).
  std::uint64_t counts[6] = {};
  std::uint64_t bytes[6] = {};
  for (const CheckpointBlock& block : blocks) {
    counts[static_cast<int>(block.kind)] += block.record_count;
    bytes[static_cast<int>(block.kind)] += block.records.size();
  }
  const std::uint64_t want[6] = {0,
                                 header.type_count,
                                 static_cast<std::uint64_t>(header.position),
                                 header.tag_count,
                                 header.stream_count,
                                 header.tracking_count};
  for (int kind = 1; kind <= 5; ++kind) {
    if (counts[kind] != want[kind] || counts[kind] > bytes[kind]) {
      return Status::Corruption("checkpoint: records of kind " + std::to_string(kind) +
                                " disagree with the header");
    }
  }
  index->tags_.Reserve(header.tag_count);
  index->streams_.Reserve(header.stream_count);

  const std::int64_t last = header.position;
  std::vector<MemIndex::Type*> types;
  std::int64_t position = 0;
  for (const CheckpointBlock& block : blocks) {
    RecordReader in(block);
    for (std::uint32_t i = 0; i < block.record_count; ++i) {
      switch (block.kind) {
        case Kind::kTypes: {
          std::string_view name;
          ES_RETURN_IF_ERROR(in.Name(&name, 1));
          const auto id = static_cast<std::uint32_t>(types.size());
          MemIndex::Type* type =
              index->types_.FindOrInsert(name, [&](MemIndex::Type& t) { t.id = id; });
          if (index->types_.size() != types.size() + 1) {
            return Status::Corruption("checkpoint: type '" + std::string(name) + "' repeated");
          }
          types.push_back(type);
          break;
        }
        case Kind::kTypeColumn: {
          std::uint64_t id = 0;
          ES_RETURN_IF_ERROR(in.Varint(&id));
          if (id >= types.size()) return Status::Corruption("checkpoint: unknown type id");
          ++position;
          index->type_column_.EmplaceBack() = static_cast<std::uint32_t>(id);
          types[id]->positions.Append(position, &index->arena_);
          break;
        }
        case Kind::kTags: {
          std::string_view name;
          ES_RETURN_IF_ERROR(in.Name(&name, 0));
          const std::size_t before = index->tags_.size();
          PostingList* list = index->tags_.FindOrInsert(name, [](PostingList&) {});
          if (index->tags_.size() == before) {
            return Status::Corruption("checkpoint: tag '" + std::string(name) + "' repeated");
          }
          ES_RETURN_IF_ERROR(in.Postings(last, list, &index->arena_));
          break;
        }
        case Kind::kStreams: {
          std::string_view name;
          std::uint64_t max_version = 0;
          std::uint8_t flags = 0;
          ES_RETURN_IF_ERROR(in.Name(&name, 1));
          ES_RETURN_IF_ERROR(in.Varint(&max_version));
          ES_RETURN_IF_ERROR(in.Byte(&flags));
          if (flags > 1) return Status::Corruption("checkpoint: bad stream flags");
          const std::size_t before = index->streams_.size();
          MemIndex::Stream* stream = index->streams_.FindOrInsert(name, [&](MemIndex::Stream& s) {
            s.max_version = ZigZagDecode(max_version);
            s.versions_increasing = flags == 1;
          });
          if (index->streams_.size() == before) {
            return Status::Corruption("checkpoint: stream '" + std::string(name) + "' repeated");
          }
          ES_RETURN_IF_ERROR(in.Postings(last, &stream->positions, &index->arena_));
          break;
        }
        case Kind::kTracking: {
          std::string_view name;
          std::uint64_t id = 0;
          ES_RETURN_IF_ERROR(in.Name(&name, 1));
          ES_RETURN_IF_ERROR(in.Varint(&id));
          if (index->MaxTrackingId(name)) {
            return Status::Corruption("checkpoint: application '" + std::string(name) +
                                      "' repeated");
          }
          index->SetMaxTrackingId(name, ZigZagDecode(id));
          break;
        }
      }
    }
    ES_RETURN_IF_ERROR(in.Finish());
  }
  return Status::OK();
}

}  // namespace es
