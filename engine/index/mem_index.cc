#include "engine/index/mem_index.h"

#include <algorithm>
#include <mutex>

namespace es {
namespace {

// Appends the whole range (after, min(head, after + limit)] to `out`.
void MatchRange(std::int64_t after, std::int64_t head, std::int64_t limit,
                std::vector<std::int64_t>* out) {
  std::int64_t last = head - after > limit ? after + limit : head;
  out->reserve(out->size() + static_cast<std::size_t>(last - after));
  for (std::int64_t p = after + 1; p <= last; ++p) out->push_back(p);
}

bool MatchesEverything(const QueryItem& item) { return item.types.empty() && item.tags.empty(); }

}  // namespace

void MemIndex::AddEvent(std::int64_t position, std::string_view type,
                        std::span<const std::string_view> tags, const std::string_view* stream_id,
                        std::int64_t version) {
  Type* type_record =
      types_.FindOrInsert(type, [&](Type& t) { t.id = static_cast<std::uint32_t>(types_.size()); });
  type_record->positions.Append(position, &arena_);
  type_column_.EmplaceBack() = type_record->id;
  for (std::string_view tag : tags) {
    tags_.FindOrInsert(tag, [](PostingList&) {})->Append(position, &arena_);
  }
  if (stream_id != nullptr) {
    bool inserted = false;
    Stream* stream = streams_.FindOrInsert(*stream_id, [&](Stream& s) {
      s.max_version = version;
      inserted = true;
    });
    if (!inserted) {
      if (stream->positions.last() <= snapshot_position_) {
        std::lock_guard lock(snapshot_latch_);
        snapshot_streams_.emplace(stream,
                                  StreamState{stream->max_version, stream->versions_increasing});
      }
      if (version > stream->max_version) {
        stream->max_version = version;
      } else {
        stream->versions_increasing = false;
      }
    }
    stream->positions.Append(position, &arena_);
  }
}

void MemIndex::SetMaxTrackingId(std::string_view application_name, std::int64_t notification_id) {
  std::unique_lock lock(tracking_latch_);
  auto it = max_tracking_.find(application_name);
  if (it == max_tracking_.end()) {
    max_tracking_.emplace(std::string(application_name), notification_id);
  } else {
    it->second = notification_id;
  }
}

std::vector<Tracking> MemIndex::TrackingMaxima() const {
  std::shared_lock lock(tracking_latch_);
  std::vector<Tracking> maxima;
  for (const auto& [name, id] : max_tracking_) maxima.push_back(Tracking{name, id});
  return maxima;
}

std::optional<std::int64_t> MemIndex::MaxTrackingId(std::string_view application_name) const {
  std::shared_lock lock(tracking_latch_);
  auto it = max_tracking_.find(application_name);
  if (it == max_tracking_.end()) return std::nullopt;
  return it->second;
}

void MemIndex::Match(const Query& query, std::int64_t after, std::int64_t head, std::int64_t limit,
                     std::vector<std::int64_t>* out) const {
  out->clear();
  if (limit <= 0 || after >= head) return;
  if (query.items.empty() ||
      std::any_of(query.items.begin(), query.items.end(), MatchesEverything)) {
    MatchRange(after, head, limit, out);
    return;
  }
  if (query.items.size() == 1) {
    MatchItem(query.items[0], after, head, limit, out);
    return;
  }
  std::vector<std::int64_t> item_positions;
  for (const QueryItem& item : query.items) {
    item_positions.clear();
    MatchItem(item, after, head, limit, &item_positions);
    out->insert(out->end(), item_positions.begin(), item_positions.end());
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  if (static_cast<std::int64_t>(out->size()) > limit) out->resize(static_cast<std::size_t>(limit));
}

bool MemIndex::AnyMatch(const Query& query, std::int64_t after, std::int64_t head) const {
  if (after >= head) return false;
  if (query.items.empty()) return true;
  std::vector<std::int64_t> found;
  for (const QueryItem& item : query.items) {
    if (MatchesEverything(item)) return true;
    MatchItem(item, after, head, 1, &found);
    if (!found.empty()) return true;
  }
  return false;
}

void MemIndex::MatchItem(const QueryItem& item, std::int64_t after, std::int64_t head,
                         std::int64_t limit, std::vector<std::int64_t>* out) const {
  std::vector<const Type*> types;
  for (const std::string& name : item.types) {
    const Type* type = types_.Find(name);
    if (type != nullptr && std::find(types.begin(), types.end(), type) == types.end()) {
      types.push_back(type);
    }
  }
  if (!item.types.empty() && types.empty()) return;  // none of its types exists
  if (item.tags.empty()) {
    MatchTypes(types, after, head, limit, out);
    return;
  }
  std::vector<std::uint32_t> type_ids;
  for (const Type* type : types) type_ids.push_back(type->id);
  std::sort(type_ids.begin(), type_ids.end());

  // Tags are a set: resolve each distinct tag to its list; an unknown tag matches nothing.
  struct Input {
    const PostingList* list;
    std::uint64_t size;
  };
  std::vector<Input> inputs;
  for (const std::string& tag : item.tags) {
    const PostingList* list = tags_.Find(tag);
    if (list == nullptr) return;
    if (std::none_of(inputs.begin(), inputs.end(),
                     [&](const Input& in) { return in.list == list; })) {
      inputs.push_back({list, list->size()});
    }
  }
  // Drive from the shortest list; leapfrog the others with galloping seeks.
  std::sort(inputs.begin(), inputs.end(),
            [](const Input& a, const Input& b) { return a.size < b.size; });
  PostingList::Cursor driver(*inputs[0].list, inputs[0].size);
  std::vector<PostingList::Cursor> others;
  others.reserve(inputs.size() - 1);
  for (std::size_t i = 1; i < inputs.size(); ++i)
    others.emplace_back(*inputs[i].list, inputs[i].size);

  driver.SeekAtLeast(after + 1);
  while (driver.Valid()) {
    std::int64_t p = driver.position();
    if (p > head) return;
    bool in_all = true;
    for (PostingList::Cursor& other : others) {
      other.SeekAtLeast(p);
      if (!other.Valid()) return;
      if (other.position() != p) {
        driver.SeekAtLeast(other.position());
        in_all = false;
        break;
      }
    }
    if (!in_all) continue;
    if (type_ids.empty() || std::binary_search(type_ids.begin(), type_ids.end(),
                                               type_column_[static_cast<std::size_t>(p - 1)])) {
      out->push_back(p);
      if (static_cast<std::int64_t>(out->size()) >= limit) return;
    }
    driver.Next();
  }
}

void MemIndex::MatchTypes(std::span<const Type* const> types, std::int64_t after, std::int64_t head,
                          std::int64_t limit, std::vector<std::int64_t>* out) const {
  // A k-way merge of the types' postings; an event has one type, so no position repeats.
  std::vector<PostingList::Cursor> cursors;
  for (const Type* type : types) {
    const PostingList& list = type->positions;
    PostingList::Cursor& c = cursors.emplace_back(list, list.size());
    c.SeekAtLeast(after + 1);
    if (!c.Valid()) cursors.pop_back();
  }
  std::int64_t count = 0;
  while (!cursors.empty() && count < limit) {
    auto min = std::min_element(cursors.begin(), cursors.end(), [](const auto& a, const auto& b) {
      return a.position() < b.position();
    });
    std::int64_t p = min->position();
    if (p > head) return;
    out->push_back(p);
    ++count;
    min->Next();
    if (!min->Valid()) cursors.erase(min);
  }
}

void MemIndex::BeginSnapshot(std::int64_t position) {
  snapshot_position_ = position;
  snapshot_type_count_ = types_.size();
  snapshot_tracking_.assign(max_tracking_.begin(), max_tracking_.end());
}

void MemIndex::EndSnapshot() {
  snapshot_position_ = 0;
  snapshot_tracking_.clear();
  std::lock_guard lock(snapshot_latch_);
  snapshot_streams_.clear();
}

MemIndex::StreamState MemIndex::SnapshotState(const Stream& stream) const {
  std::lock_guard lock(snapshot_latch_);
  auto kept = snapshot_streams_.find(&stream);
  if (kept != snapshot_streams_.end()) return kept->second;
  return StreamState{stream.max_version, stream.versions_increasing};
}

void MemIndex::Clear() {
  types_.Clear();
  tags_.Clear();
  streams_.Clear();
  type_column_.Clear();
  max_tracking_.clear();
  arena_.Clear();
}

std::size_t MemIndex::MemoryBytes() const {
  std::size_t n = arena_.MemoryBytes() + types_.MemoryBytes() + tags_.MemoryBytes() +
                  streams_.MemoryBytes() + type_column_.MemoryBytes();
  for (const auto& [name, id] : max_tracking_) n += sizeof(name) + name.capacity() + 48;
  return n;
}

}  // namespace es
