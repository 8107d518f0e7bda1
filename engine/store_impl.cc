#include "engine/store_impl.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "api/src/validation.h"
#include "engine/checkpoints.h"
#include "engine/format/event_entry.h"
#include "engine/format/frame.h"
#include "engine/log/store_files.h"
#include "engine/util/coding.h"
#include "engine/util/path.h"
#include "es/encryption.h"

namespace es {
namespace {

constexpr std::uint64_t kMinSegmentBytes = 64 * 1024;
constexpr std::uint64_t kMaxSegmentBytes = std::uint64_t{1} << 32;
// Frames at least this large are written with pwrite instead of through the mapping.
constexpr std::size_t kBufferedFrameBytes = 64 * 1024;
// A leader stops adding writers to its group at this many bytes of frames (unless the group
// would be empty), so that a small write does not wait for a huge group's copy.
constexpr std::size_t kMaxGroupBytes = 4 << 20;
// After a small group that syncs, the active segment is kept written with zeros this far ahead of
// its frames. Segments are allocated with fallocate, whose extents the file system marks
// unwritten: an fdatasync after a write into one must also commit the extent's conversion to its
// journal, which made syncing a group of 7 KB cost 150 us here, against 90 us into blocks
// written before (docs/benchmarks.md, "Zeros ahead of the writer"). The zeros go out with the
// group's sync, 256 KiB at a time (about 0.15 ms more on the sync that carries them). Large
// groups gain little from it and would write twice.
constexpr std::uint64_t kZeroAheadBytes = 256 << 10;
constexpr int kMaxCompressionLevel = 19;

Status ValidateOptions(const Options& o) {
  if (o.segment_bytes < kMinSegmentBytes || o.segment_bytes > kMaxSegmentBytes) {
    return Status::InvalidArgument("segment_bytes must be between 64 KiB and 4 GiB");
  }
  if (o.segment_events == 0) return Status::InvalidArgument("segment_events must be at least 1");
  if (o.sync_interval_ms == 0)
    return Status::InvalidArgument("sync_interval_ms must be at least 1");
  if (o.max_write_bytes < kFrameMinLength ||
      o.max_write_bytes > o.segment_bytes - kSegmentHeaderSize) {
    return Status::InvalidArgument(
        "max_write_bytes must be at least 64 and leave a segment header's room in a segment");
  }
  if (o.max_write_events == 0 || o.max_write_events > o.segment_events) {
    return Status::InvalidArgument("max_write_events must be between 1 and segment_events");
  }
  if (o.compression_level < 0 || o.compression_level > kMaxCompressionLevel) {
    return Status::InvalidArgument("compression_level must be between 0 (zstd's default) and 19");
  }
  return Status::OK();
}

// The event a view holds, its data decompressed when it was stored compressed.
Result<Event> EventFromView(const EventView& view, const DictionarySet& dictionaries) {
  Event event = ToEvent(view);
  if (view.data_compressed) {
    ES_RETURN_IF_ERROR(DecompressEventData(view.data, &dictionaries, kMaxEventData, &event.data));
  }
  return event;
}

// Samples for a dictionary: the data of the latest events, about `bytes` of it in all.
constexpr std::size_t kTrainingBytesPerDictionaryByte = 100;
constexpr std::int64_t kMaxTrainingEvents = 200'000;

// Tags of an event as views, reusing one buffer per thread.
std::span<const std::string_view> TagViews(const std::vector<std::string>& tags) {
  thread_local std::vector<std::string_view> views;
  views.assign(tags.begin(), tags.end());
  return views;
}

std::span<const std::string_view> TagViews(const EventView& event) {
  thread_local std::vector<std::string_view> views;
  views.clear();
  event.ForEachTag([](std::string_view tag) { views.push_back(tag); });
  return views;
}

// The io_uring Env when `backend` (or, for kAuto, ES_IO_BACKEND) asks for it; null for the POSIX
// Env.
Result<std::unique_ptr<Env>> ChooseFileSystemEnv(IoBackend backend) {
  if (backend == IoBackend::kAuto) {
    const char* forced = std::getenv("ES_IO_BACKEND");
    std::string_view name = forced != nullptr ? forced : "posix";
    if (name == "io_uring") {
      backend = IoBackend::kIoUring;
    } else if (name != "posix") {
      return Status::InvalidArgument("ES_IO_BACKEND must be posix or io_uring, not '" +
                                     std::string(name) + "'");
    }
  }
  if (backend != IoBackend::kIoUring) return std::unique_ptr<Env>();
  Result<std::unique_ptr<Env>> ring = NewIoUringEnv();
  if (!ring.ok()) return ring.status().WithContext("the io_uring I/O backend was asked for");
  return ring;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const Options& options, std::string_view dir) {
  return StoreImpl::Open(options, dir);
}

Result<std::unique_ptr<Store>> StoreImpl::Open(const Options& options, std::string_view dir_view) {
  ES_RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<Env> owned_env;
  if (options.env == nullptr) {
    ES_ASSIGN_OR_RETURN(owned_env, ChooseFileSystemEnv(options.io_backend));
  }
  Env* env = options.env != nullptr ? options.env : owned_env ? owned_env.get() : Env::Default();
  std::string dir(dir_view);
  if (dir.empty()) return Status::InvalidArgument("store directory name is empty");
  if (!env->FileExists(dir)) {
    if (options.read_only) return Status::NotFound(dir + ": no such store directory");
    if (!options.create_if_missing)
      return Status::NotFound(dir + ": no store (create_if_missing is off)");
    ES_RETURN_IF_ERROR(env->CreateDir(dir));
    // The new directory's own entry must survive a crash too, or everything in it goes with it.
    std::string parent = ParentDir(NormalizePath(dir));
    ES_RETURN_IF_ERROR(env->SyncDir(parent.empty() ? "." : parent));
  }
  std::unique_ptr<StoreImpl> store(new StoreImpl(options, std::move(owned_env), env, dir));
  if (!options.read_only) {
    ES_ASSIGN_OR_RETURN(store->lock_, env->LockFile(dir + "/" + kLockName));
  }

  // Anything unknown in the directory is an error; temporaries are removed.
  ES_ASSIGN_OR_RETURN(StoreFiles files, ListStoreFiles(env, dir));
  if (!files.unknown.empty()) {
    return Status::Corruption(dir + ": unexpected file '" + files.unknown.front() +
                              "' in a store directory");
  }
  const std::vector<std::int64_t>& bases = files.segment_bases;
  const bool has_meta = files.has_meta;
  StoreMeta meta;
  if (!has_meta && options.read_only) return Status::NotFound(dir + ": no store.meta, no store");
  if (has_meta) {
    if (options.error_if_exists) return Status::InvalidArgument(dir + ": store exists");
    ES_ASSIGN_OR_RETURN(meta, ReadStoreMeta(env, dir));
    ES_RETURN_IF_ERROR(store->SetUpEncryption(meta));
  }
  if (!options.read_only) {
    for (const std::string& name : files.temporaries) {
      ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + name));
    }
  }
  ES_ASSIGN_OR_RETURN(store->dictionaries_,
                      DictionarySet::Load(env, dir, options.compression_level));
  if (!has_meta) {
    if (!bases.empty()) return Status::Corruption(dir + ": segments without store.meta");
    std::uint32_t key_id = 0;
    if (options.key_provider != nullptr) {
      ES_ASSIGN_OR_RETURN(key_id, StoreCipher::KeyIdOfProvided(*options.key_provider));
    }
    ES_ASSIGN_OR_RETURN(meta, CreateStoreMeta(env, dir, key_id));
    ES_RETURN_IF_ERROR(store->SetUpEncryption(meta));
  }

  if (options.decoded_cache_bytes > 0 && (store->cipher_ != nullptr || store->compressor_)) {
    store->decoded_cache_ = std::make_unique<DecodedEventCache>(options.decoded_cache_bytes);
  }

  // The newest checkpoint that passes every check spares replaying what it covers.
  ReplayStart start;
  if (!options.ignore_checkpoints) {
    for (std::int64_t position : files.checkpoints) {
      bool replay_all;
      Result<ReplayStart> loaded =
          LoadCheckpoint(env, dir, position, meta.slot, bases, &store->index_, &replay_all,
                         store->cipher_.get(), options.read_only);
      if (loaded.ok()) {
        start = std::move(loaded).value();
        store->checkpoint_loaded_ = position;
        break;
      }
      store->checkpoints_rejected_.push_back(CheckpointFileName(position) + ": " +
                                             loaded.status().ToString());
      if (replay_all) break;
    }
  }
  const std::int64_t replay_from = start.next_position;
  StoreImpl* s = store.get();
  ES_ASSIGN_OR_RETURN(RecoveredLog log,
                      RecoverLog(
                          env, dir, meta.slot, bases, std::move(start),
                          [s](Segment& segment, std::uint64_t offset, const FrameHeader& h) {
                            return s->IndexRecoveredFrame(segment, offset, h);
                          },
                          options.read_only));
  store->replayed_events_ = static_cast<std::uint64_t>(log.next_position - replay_from);
  // The loaded checkpoint vouches for the position index entries it covers (docs/format.md).
  store->checkpoint_position_ = store->checkpoint_loaded_.value_or(0);
  store->durable_index_position_ = store->checkpoint_position_;
  store->checkpoint_head_.store(store->checkpoint_position_, std::memory_order_relaxed);

  if (options.read_only) {
    store->next_position_ = log.next_position;
    store->log_bytes_ = log.log_bytes;
    for (auto& segment : log.segments) store->PublishSegment(std::move(segment));
    store->head_.store(store->next_position_ - 1, std::memory_order_release);
    store->durable_head_.store(store->next_position_ - 1, std::memory_order_release);
    store->meta_ = meta;
    store->poisoned_ = Status::NotSupported(dir + " is open read-only");
    return std::unique_ptr<Store>(std::move(store));
  }

  // Position index files whose segment is gone are stale derived data.
  for (const std::string& name : files.index_files) {
    bool live = std::any_of(log.segments.begin(), log.segments.end(), [&](const auto& segment) {
      return Segment::IndexFileName(segment->header().base_position) == name;
    });
    if (!live) ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + name));
  }

  store->next_position_ = log.next_position;
  store->tail_offset_ = log.tail_offset;
  store->written_until_ = log.tail_offset;
  store->log_bytes_ = log.log_bytes;
  for (auto& segment : log.segments) store->PublishSegment(std::move(segment));
  // What recovery found may still be only in the page cache (the previous writer was killed
  // before syncing): make it durable before building on it, and say so in store.meta.
  store->durable_ = LogMark{0, kSegmentHeaderSize, 0};
  if (!store->owned_segments_.empty()) ES_RETURN_IF_ERROR(store->SyncTo(store->TailMark()));
  ES_ASSIGN_OR_RETURN(store->meta_, BumpStoreMeta(env, dir, meta, store->next_position_ - 1));
  if (store->owned_segments_.empty()) ES_RETURN_IF_ERROR(store->Roll());
  store->head_.store(store->next_position_ - 1, std::memory_order_release);
  store->syncer_ = std::thread([s] { s->RunBackgroundSync(); });
  if (options.prepare_spare_segment) {
    store->spare_wanted_ = true;
    store->spare_maker_ = std::thread([s] { s->RunSpareMaker(); });
  }
  if (options.checkpoint_interval_events > 0) {
    store->checkpointer_ = std::thread([s] { s->RunBackgroundCheckpoints(); });
  }
  return std::unique_ptr<Store>(std::move(store));
}

Status StoreImpl::IndexRecoveredFrame(Segment& segment, std::uint64_t frame_offset,
                                      const FrameHeader& header) {
  const char* frame = segment.data() + frame_offset;
  bool sealed = false;  // an encrypted entry in a store without a key
  Status parsed = ParseFrameBody(
      frame, header, segment.header().salt,
      [&](const EventView& event, std::size_t entry_offset, std::int64_t position) {
        if (event.encrypted) {
          sealed = true;
          return;
        }
        index_.AddEvent(position, event.type, TagViews(event),
                        event.has_stream ? &event.stream_id : nullptr, event.version);
        auto want_frame = static_cast<std::uint32_t>(frame_offset);
        auto want_entry = static_cast<std::uint32_t>(frame_offset + entry_offset);
        std::uint32_t have_frame, have_entry;
        segment.GetIndexEntry(position, &have_frame, &have_entry);
        if (have_frame != want_frame || have_entry != want_entry) {
          segment.SetIndexEntry(position, want_frame, want_entry);
        }
      },
      [&](const TrackingView& tracking) {
        std::optional<std::int64_t> max = index_.MaxTrackingId(tracking.application_name);
        if (!max || tracking.notification_id > *max) {
          index_.SetMaxTrackingId(tracking.application_name, tracking.notification_id);
        }
      },
      entry_key());
  if (parsed.ok() && sealed) {
    return Status::Corruption(segment.path() + ": the frame at offset " +
                              std::to_string(frame_offset) +
                              " holds encrypted events, and the store is not encrypted");
  }
  return parsed;
}

Status StoreImpl::SetUpEncryption(const StoreMeta& meta) {
  if (!options_.read_only && meta.slot.key_id != 0 && meta.slot.writer_epoch >= 0xFFFFFFFF) {
    // Entry nonces hold the epoch's low 32 bits: another epoch could repeat one.
    return Status::NotSupported(dir_ + ": opened for writing 2^32 times; its nonces are spent");
  }
  ES_ASSIGN_OR_RETURN(cipher_, StoreCipher::ForStore(options_.key_provider.get(), meta.slot, dir_));
  return Status::OK();
}

Status StoreImpl::ReadView(const Segment& segment, std::int64_t position, EventView* view) const {
  ES_RETURN_IF_ERROR(segment.ReadEvent(position, view, entry_key()));
  if (view->encrypted) {
    return Status::Corruption(segment.path() + ": the event at position " +
                              std::to_string(position) +
                              " is encrypted, and the store is not encrypted");
  }
  return Status::OK();
}

template <typename VersionWanted>
Result<bool> StoreImpl::ReadEvent(const Segment& segment, std::int64_t position,
                                  VersionWanted&& version_wanted, bool fill_cache,
                                  Event* event) const {
  if (decoded_cache_ != nullptr && decoded_cache_->Lookup(position, event)) {
    return version_wanted(event->stream ? event->stream->version : 0);
  }
  EventView view;
  ES_RETURN_IF_ERROR(ReadView(segment, position, &view));
  if (!version_wanted(view.version)) return false;
  ES_ASSIGN_OR_RETURN(*event, EventFromView(view, *dictionaries_));
  if (fill_cache && decoded_cache_ != nullptr && (cipher_ != nullptr || view.data_compressed)) {
    decoded_cache_->Insert(position, *event);
  }
  return true;
}

void StoreImpl::KeepDecoded(const Writer& writer) const {
  if (decoded_cache_ == nullptr || !writer.result->ok()) return;
  const std::span<const Event> events = writer.request.events;
  const std::int64_t first = **writer.result - static_cast<std::int64_t>(events.size()) + 1;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (cipher_ != nullptr || Writer::CompressedData(writer.compressed, i) != nullptr) {
      decoded_cache_->Insert(first + static_cast<std::int64_t>(i), events[i]);
    }
  }
}

void StoreImpl::PublishSegment(std::unique_ptr<Segment> segment) {
  segments_.EmplaceBack() = segment.get();
  owned_segments_.push_back(std::move(segment));
  segment_count_.store(owned_segments_.size(), std::memory_order_release);
}

Status StoreImpl::Roll() {
  SegmentHeader header;
  header.store_id = meta_.slot.store_id;
  env_->RandomBytes(&header.salt, sizeof(header.salt));
  header.base_position = next_position_;
  header.writer_epoch = meta_.slot.writer_epoch;
  header.created_us = env_->NowMicros();
  header.capacity_events = options_.segment_events;
  header.key_id = meta_.slot.key_id;
  std::optional<Segment::Spare> spare;
  {
    std::lock_guard lock(syncer_mutex_);
    spare.swap(spare_);
  }
  const bool from_spare = spare.has_value();
  ES_ASSIGN_OR_RETURN(
      std::unique_ptr<Segment> segment,
      Segment::Create(env_, dir_, header, options_.segment_bytes, std::move(spare)));
  PublishSegment(std::move(segment));
  tail_offset_ = kSegmentHeaderSize;
  written_until_ = tail_offset_;
  ++rolls_;
  rolls_from_spare_ += from_spare;
  if (options_.prepare_spare_segment) {
    // Only now: the maker reuses the spare's names, which the roll has just renamed away. A spare
    // the maker finished during the roll is the next one.
    std::lock_guard lock(syncer_mutex_);
    spare_wanted_ = !spare_.has_value();
    spare_maker_wake_.notify_one();
  }
  return Status::OK();
}

void StoreImpl::RunSpareMaker() {
  std::unique_lock syncer_lock(syncer_mutex_);
  while (true) {
    spare_maker_wake_.wait(syncer_lock, [this] { return closing_ || spare_wanted_; });
    if (closing_) break;
    syncer_lock.unlock();
    Result<Segment::Spare> made =
        Segment::PrepareSpare(env_, dir_, options_.segment_bytes, options_.segment_events);
    syncer_lock.lock();
    spare_wanted_ = false;
    if (made.ok()) {
      spare_ = std::move(made).value();
    } else {
      // The next roll creates its files itself, and asks again.
      spare_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    spare_maker_wake_.notify_all();
  }
}

void StoreImpl::TEST_WaitForSpareMaker() {
  std::unique_lock syncer_lock(syncer_mutex_);
  spare_maker_wake_.wait(syncer_lock, [this] { return !spare_wanted_; });
}

const Segment* StoreImpl::SegmentFor(std::int64_t position) const {
  std::size_t lo = 0;
  std::size_t hi = segment_count_.load(std::memory_order_acquire);
  // The last segment whose base is <= position.
  while (hi - lo > 1) {
    std::size_t mid = lo + (hi - lo) / 2;
    if (segments_[mid]->header().base_position <= position) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return segments_[lo];
}

Result<std::int64_t> StoreImpl::Write(const AppendRequest& request) {
  // Everything that does not depend on the store's state is checked before queueing.
  ES_RETURN_IF_ERROR(ValidateWriteRequest(request));
  if (request.events.size() > options_.max_write_events) {
    return Status::InvalidArgument("write of " + std::to_string(request.events.size()) +
                                   " events exceeds max_write_events");
  }
  // Compressed here, in the caller's thread, so that writers compress in parallel and the
  // leader only copies.
  std::vector<std::optional<std::string>> compressed;
  if (compressor_) {
    const std::shared_ptr<const CompressionDictionary> dictionary = dictionaries_->Newest();
    compressed.resize(request.events.size());
    for (std::size_t i = 0; i < request.events.size(); ++i) {
      std::string bytes;
      if (compressor_->Compress(request.events[i].data, dictionary.get(), &bytes)) {
        compressed[i] = std::move(bytes);
      }
    }
  }
  std::size_t body_length = 0;
  for (std::size_t i = 0; i < request.events.size(); ++i) {
    std::size_t size;
    ES_RETURN_IF_ERROR(EventEntrySize(request.events[i], &size,
                                      Writer::CompressedData(compressed, i), cipher_ != nullptr)
                           .WithContext("event " + std::to_string(i)));
    body_length += size;
  }
  if (request.tracking != nullptr) {
    if (request.tracking->application_name.size() > kMaxShortString) {
      return Status::InvalidArgument("tracking application name is longer than 65535 bytes");
    }
    body_length += TrackingEntrySize(*request.tracking);
  }
  const std::size_t frame_length = FrameLength(body_length);
  if (frame_length > options_.max_write_bytes) {
    return Status::InvalidArgument("write of " + std::to_string(frame_length) +
                                   " bytes exceeds max_write_bytes");
  }

  auto writer = std::make_shared<Writer>(request, std::move(compressed), body_length, frame_length,
                                         request.options.durability.value_or(options_.durability));
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(writer);
    if (queue_.size() == 1) writer->state.store(Writer::kLeading, std::memory_order_relaxed);
  }
  // Followers sleep on their own word, so that waking them needs no lock they would queue on.
  int state;
  while ((state = writer->state.load(std::memory_order_acquire)) == Writer::kQueued) {
    writer->state.wait(Writer::kQueued, std::memory_order_acquire);
  }
  if (state == Writer::kDone) {
    KeepDecoded(*writer);
    return std::move(*writer->result);
  }

  // This writer leads a group: itself and the writers queued behind it, up to a size that keeps
  // the group's latency near one sync. The group's shared pointers keep every writer alive until
  // it has been woken.
  thread_local std::vector<std::shared_ptr<Writer>> group;
  group.clear();
  {
    std::lock_guard lock(queue_mutex_);
    std::size_t group_bytes = 0;
    for (const std::shared_ptr<Writer>& w : queue_) {
      if (!group.empty() && group_bytes + w->frame_length > kMaxGroupBytes) break;
      group.push_back(w);
      group_bytes += w->frame_length;
    }
  }
  CommitGroup(group);
  if (std::any_of(group.begin(), group.end(), [](const auto& w) { return w->result->ok(); })) {
    append_listeners().Notify();
  }
  std::shared_ptr<Writer> next_leader;
  {
    std::lock_guard lock(queue_mutex_);
    for (std::size_t i = 0; i < group.size(); ++i) queue_.pop_front();
    if (!queue_.empty()) next_leader = queue_.front();
  }
  // The next leader first, so that its group commits while this one's writers wake up.
  if (next_leader != nullptr) Wake(*next_leader, Writer::kLeading);
  for (const std::shared_ptr<Writer>& w : group) {
    if (w != writer) Wake(*w, Writer::kDone);
  }
  group.clear();
  KeepDecoded(*writer);
  return std::move(*writer->result);
}

void StoreImpl::Wake(Writer& writer, int state) {
  writer.state.store(state, std::memory_order_release);
  writer.state.notify_one();
}

void StoreImpl::CommitGroup(std::span<const std::shared_ptr<Writer>> group) {
  std::lock_guard lock(write_mutex_);
  group_tracking_.clear();
  bool sync = false;
  bool buffered = false;
  // A group that syncs writes its frames with one system call rather than through the mapping:
  // fdatasync after writes through a mapping costs more (docs/benchmarks.md), and one write per
  // group is cheap beside the sync. Other groups copy into the mapping, with no system call.
  group_through_file_ = std::any_of(
      group.begin(), group.end(), [](const auto& w) { return w->durability == Durability::kSync; });
  for (const std::shared_ptr<Writer>& w : group) {
    if (!poisoned_.ok()) {
      w->result = poisoned_;
      continue;
    }
    w->result = Accept(*w);
    if (w->result->ok()) {
      sync |= w->durability == Durability::kSync;
      buffered |= w->durability == Durability::kBuffered;
      if (w->request.tracking != nullptr) group_tracking_.push_back(w->request.tracking);
    }
  }
  if (poisoned_.ok()) {
    Status written = WriteGroupFrames(/*zero_ahead=*/true);
    if (!written.ok()) Poison(written);
  }
  group_frames_.clear();  // unwritten when the store was poisoned meanwhile
  if (poisoned_.ok() && sync) {
    Status synced = SyncTo(TailMark());
    if (!synced.ok()) Poison(synced);
  }
  if (!poisoned_.ok()) {
    // Nothing of the group is published: its accepted writes share the failure. Their frames may
    // or may not be found by the next open.
    for (const std::shared_ptr<Writer>& w : group) {
      if (w->result->ok()) w->result = poisoned_;
    }
    return;
  }

  // Publish: the head readers acquire, then the tracking maxima, so that a reader who sees a
  // tracking record can read the events recorded with it.
  head_.store(next_position_ - 1, std::memory_order_release);
  for (const Tracking* tracking : group_tracking_) {
    index_.SetMaxTrackingId(tracking->application_name, tracking->notification_id);
  }
  if (buffered && !buffered_pending_) {
    buffered_pending_ = true;
    std::lock_guard syncer_lock(syncer_mutex_);
    syncer_wake_.notify_one();
  }
}

Result<std::int64_t> StoreImpl::Accept(const Writer& writer) {
  const AppendRequest& request = writer.request;
  const std::int64_t head = next_position_ - 1;  // includes the group's accepted writes
  if (request.condition != nullptr) {
    std::int64_t after = request.condition->after.value_or(0);
    if (index_.AnyMatch(request.condition->fail_if_events_match, after, head)) {
      return Status::ConditionFailed("an event after position " + std::to_string(after) +
                                     " matches the append condition");
    }
  }
  ES_RETURN_IF_ERROR(CheckStreams(request.events, head));
  if (request.tracking != nullptr) {
    const std::string& name = request.tracking->application_name;
    std::optional<std::int64_t> max = index_.MaxTrackingId(name);
    for (const Tracking* accepted : group_tracking_) {
      if (accepted->application_name == name)
        max = std::max(max.value_or(0), accepted->notification_id);
    }
    if (max && request.tracking->notification_id <= *max) {
      return Status::IntegrityError(
          "tracking id " + std::to_string(request.tracking->notification_id) + " of application '" +
          name + "' is not greater than its recorded maximum " + std::to_string(*max));
    }
  }

  const auto count = static_cast<std::uint32_t>(request.events.size());
  const std::size_t frame_length = writer.frame_length;
  Segment* segment = owned_segments_.back().get();
  if (tail_offset_ + frame_length > segment->size() ||
      static_cast<std::uint64_t>(next_position_ - segment->header().base_position) + count >
          segment->header().capacity_events) {
    // A segment is named by the position of its first event, so one without events cannot roll:
    // the next segment would take its name and file. (A segment made smaller by an older open's
    // options or by damage, or filled by tracking records alone.) The write is refused alone.
    if (next_position_ == segment->header().base_position) {
      return Status::InvalidArgument("a write of " + std::to_string(count) + " events and " +
                                     std::to_string(frame_length) + " bytes does not fit in " +
                                     segment->path() + ", which holds no event to roll after");
    }
    // The frames held for the old segment go to it first.
    Status rolled = WriteGroupFrames(/*zero_ahead=*/false);
    if (rolled.ok()) rolled = Roll();
    if (!rolled.ok()) {
      // A half-made segment file may be left behind it, named for positions a later write to the
      // old segment would take: no write may follow until recovery has dealt with it.
      Poison(rolled);
      return poisoned_;
    }
    segment = owned_segments_.back().get();
  }

  // Encode the frame: entries, then header and seal. It goes into group_frames_ in a group that
  // syncs, and when large (one pwrite costs less than a page fault per page of the mapping);
  // otherwise straight into the mapped segment, with no system call.
  const std::uint64_t salt = segment->header().salt;
  const bool via_file = group_through_file_ || frame_length >= kBufferedFrameBytes;
  if (via_file && group_frames_.empty()) group_frames_offset_ = tail_offset_;
  if (via_file) group_frames_.resize(group_frames_.size() + frame_length);
  char* frame = via_file ? group_frames_.data() + group_frames_.size() - frame_length
                         : segment->data() + tail_offset_;
  // The header first: encrypted entries authenticate it.
  FrameHeader header;
  header.length = static_cast<std::uint32_t>(frame_length);
  header.first_position = next_position_;
  header.event_count = count;
  header.tracking_count = request.tracking != nullptr ? 1 : 0;
  header.body_length = static_cast<std::uint32_t>(writer.body_length);
  header.unsynced_before = static_cast<std::uint32_t>(std::min<std::int64_t>(
      next_position_ - 1 - durable_head_.load(std::memory_order_acquire), kUnsyncedUnknown));
  header.commit_time_us = env_->NowMicros();
  header.writer_epoch = meta_.slot.writer_epoch;
  EncodeFrameHeader(header, frame);
  std::size_t entry_offset = kFrameHeaderSize;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::int64_t position = next_position_ + i;
    const std::string* compressed = Writer::CompressedData(writer.compressed, i);
    if (cipher_ != nullptr) {
      Status sealed =
          EncodeEncryptedEventEntry(request.events[i], position, salt, frame, cipher_->entries(),
                                    frame + entry_offset, compressed);
      if (!sealed.ok()) {
        // Part of a frame may be in the mapping: as after a failed write, only recovery may
        // write after it.
        group_frames_.clear();
        Poison(sealed);
        return poisoned_;
      }
    } else {
      EncodeEventEntry(request.events[i], position, salt, frame + entry_offset, compressed);
    }
    segment->SetIndexEntry(position, static_cast<std::uint32_t>(tail_offset_),
                           static_cast<std::uint32_t>(tail_offset_ + entry_offset));
    entry_offset += DecodeFixed<std::uint32_t>(frame + entry_offset);
  }
  if (request.tracking != nullptr) EncodeTrackingEntry(*request.tracking, frame + entry_offset);
  SealFrame(frame, salt);
  if (via_file && !group_through_file_) {
    // Written now: the group's next frame may go into the mapping after it.
    Status written = WriteGroupFrames(/*zero_ahead=*/false);
    if (!written.ok()) {
      Poison(written);
      return poisoned_;
    }
  }

  // Index the events now, so that the group's later requests are checked against them; readers
  // ignore them until the head is published.
  for (std::uint32_t i = 0; i < count; ++i) {
    const Event& event = request.events[i];
    std::string_view stream_id = event.stream ? std::string_view(event.stream->id) : "";
    index_.AddEvent(next_position_ + i, event.type, TagViews(event.tags),
                    event.stream ? &stream_id : nullptr, event.stream ? event.stream->version : 0);
  }
  tail_offset_ += frame_length;
  log_bytes_ += frame_length;
  next_position_ += count;
  return count > 0 ? next_position_ - 1 : std::int64_t{0};
}

Status StoreImpl::WriteGroupFrames(bool zero_ahead) {
  if (group_frames_.empty()) return Status::OK();
  Segment* segment = owned_segments_.back().get();
  const std::uint64_t end = group_frames_offset_ + group_frames_.size();
  Status written = segment->WriteAt(group_frames_offset_, group_frames_);
  const bool zeros_wanted =
      zero_ahead && group_through_file_ && group_frames_.size() < kBufferedFrameBytes;
  group_frames_.clear();
  ES_RETURN_IF_ERROR(written);
  written_until_ = std::max(written_until_, end);
  if (zeros_wanted && written_until_ < end + kZeroAheadBytes / 2 &&
      written_until_ < segment->size()) {
    static const std::string* const kZeros = new std::string(kZeroAheadBytes, '\0');
    const std::uint64_t length = std::min(end + kZeroAheadBytes, segment->size()) - written_until_;
    ES_RETURN_IF_ERROR(
        segment->WriteAt(written_until_, std::string_view(*kZeros).substr(0, length)));
    written_until_ += length;
  }
  return Status::OK();
}

StoreImpl::LogMark StoreImpl::TailMark() const {
  return LogMark{owned_segments_.size() - 1, tail_offset_, next_position_ - 1};
}

void StoreImpl::Poison(const Status& cause) {
  // After a failed write or sync the kernel may have dropped dirty pages: nothing can be trusted
  // until recovery reads back what is really on disk.
  poisoned_ =
      Status::Poisoned("the store refuses writes until it is reopened after: " + cause.ToString());
}

Status StoreImpl::SyncTo(const LogMark& target) {
  std::lock_guard lock(sync_mutex_);
  if (target.head <= durable_.head) return Status::OK();
  for (std::size_t i = durable_.segment; i <= target.segment; ++i) {
    const Segment* segment = segments_[i];
    std::uint64_t begin = i == durable_.segment ? durable_.offset : kSegmentHeaderSize;
    std::uint64_t end = i == target.segment ? target.offset : segment->size();
    if (begin < end) ES_RETURN_IF_ERROR(segment->Sync(begin, end));
  }
  durable_ = target;
  durable_head_.store(target.head, std::memory_order_release);
  sync_count_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void StoreImpl::RunBackgroundSync() {
  std::unique_lock syncer_lock(syncer_mutex_);
  while (!closing_) {
    syncer_wake_.wait_for(syncer_lock, std::chrono::milliseconds(options_.sync_interval_ms));
    if (closing_) break;
    syncer_lock.unlock();
    LogMark target;
    {
      std::lock_guard lock(write_mutex_);
      if (buffered_pending_ && poisoned_.ok()) target = TailMark();
      buffered_pending_ = false;
    }
    if (target.head > 0) {
      Status synced = SyncTo(target);
      if (!synced.ok()) {
        std::lock_guard lock(write_mutex_);
        Poison(synced);
      }
    }
    syncer_lock.lock();
  }
}

void StoreImpl::RunBackgroundCheckpoints() {
  const auto interval = static_cast<std::int64_t>(options_.checkpoint_interval_events);
  std::int64_t attempted = 0;  // the head at the last attempt, so that a failure is not retried
                               // before another interval of events
  std::unique_lock syncer_lock(syncer_mutex_);
  while (!closing_) {
    checkpointer_wake_.wait_for(syncer_lock, std::chrono::milliseconds(options_.sync_interval_ms));
    if (closing_) break;
    syncer_lock.unlock();
    const std::int64_t head = head_.load(std::memory_order_acquire);
    if (head - std::max(attempted, checkpoint_head_.load(std::memory_order_relaxed)) >= interval) {
      attempted = head;
      // A failure is counted for Info and leaves the earlier checkpoints; a failed sync of the
      // log has poisoned the store on the way.
      WriteCheckpoint().IgnoreError();
    }
    syncer_lock.lock();
  }
}

Status StoreImpl::WriteCheckpoint() {
  std::lock_guard checkpoint_lock(checkpoint_mutex_);
  ES_RETURN_IF_ERROR(index_sync_failure_);
  CheckpointHeader header;
  {
    std::lock_guard lock(write_mutex_);
    if (!poisoned_.ok()) return poisoned_;
    const LogMark mark = TailMark();
    // A tail at the start of a segment has no frame there to seal the checkpoint with; the next
    // write will give it one.
    if (mark.head <= checkpoint_position_ || mark.offset == kSegmentHeaderSize) {
      return Status::OK();
    }
    if (Status synced = SyncTo(mark); !synced.ok()) {
      Poison(synced);
      return synced;
    }
    const char* tail = owned_segments_[mark.segment]->data();
    header.store_id = meta_.slot.store_id;
    header.position = mark.head;
    header.writer_epoch = meta_.slot.writer_epoch;
    header.created_us = env_->NowMicros();
    header.resume_offset = mark.offset;
    header.last_frame_length = DecodeFixed<std::uint32_t>(tail + mark.offset - 8);
    header.last_frame_checksum = DecodeFixed<std::uint64_t>(tail + mark.offset - 16);
    header.log_bytes = log_bytes_;
    for (std::size_t i = 0; i <= mark.segment; ++i) {
      const SegmentHeader& segment = owned_segments_[i]->header();
      header.segments.push_back({segment.base_position, segment.salt});
    }
    index_.BeginSnapshot(mark.head);
  }
  // Serialized without the writer lock: the snapshot bounds what is read by the position.
  const std::int64_t position = header.position;
  Result<std::unique_ptr<CheckpointWriter>> writer = CheckpointWriter::Create(env_, dir_, position);
  Status written = writer.status();
  if (written.ok()) written = SyncPositionIndexes(position);
  if (written.ok()) written = (*writer)->Write(std::move(header), index_, cipher_.get());
  {
    std::lock_guard lock(write_mutex_);
    index_.EndSnapshot();
  }
  if (written.ok()) written = (*writer)->Commit(checkpoint_position_);
  if (!written.ok()) {
    checkpoint_failures_.fetch_add(1, std::memory_order_relaxed);
    return written;
  }
  checkpoint_position_ = position;
  checkpoint_head_.store(position, std::memory_order_relaxed);
  checkpoints_written_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status StoreImpl::SyncPositionIndexes(std::int64_t position) {
  const std::size_t count = segment_count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < count; ++i) {
    const Segment& segment = *segments_[i];
    const std::int64_t first =
        std::max(segment.header().base_position, durable_index_position_ + 1);
    const std::int64_t last =
        i + 1 < count ? std::min(position, segments_[i + 1]->header().base_position - 1) : position;
    if (first > last) continue;
    if (Status synced = segment.SyncPositionIndex(first, last); !synced.ok()) {
      index_sync_failure_ = synced;
      return synced;
    }
  }
  durable_index_position_ = position;
  return Status::OK();
}

StoreImpl::~StoreImpl() {
  {
    std::lock_guard syncer_lock(syncer_mutex_);
    closing_ = true;
  }
  syncer_wake_.notify_one();
  checkpointer_wake_.notify_one();
  spare_maker_wake_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (spare_maker_.joinable()) {
    spare_maker_.join();
    // An unused spare is only disk taken: Open would remove it too.
    spare_.reset();
    Segment::RemoveSpare(env_, dir_).IgnoreError();
  }
  const bool checkpoints = checkpointer_.joinable();
  if (checkpoints) checkpointer_.join();
  // A caller who cares calls Sync() first. Recording the durable position lets the next open
  // tell damage to these frames from a torn tail; only an open that wrote store.meta (and so
  // holds the lock and the current slot) may write it again.
  if (Sync().ok() && meta_.slot.generation > 0) {
    std::lock_guard lock(write_mutex_);
    Result<StoreMeta> recorded =
        RecordDurablePosition(env_, dir_, meta_, durable_head_.load(std::memory_order_acquire));
    if (recorded.ok()) meta_ = *recorded;
  }
  // A failure leaves the earlier checkpoints: the next Open replays a little more.
  if (checkpoints) WriteCheckpoint().IgnoreError();
}

std::size_t StoreImpl::TEST_QueuedWriters() {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

Status StoreImpl::Sync() {
  std::lock_guard lock(write_mutex_);
  if (!poisoned_.ok()) return poisoned_;
  Status synced = SyncTo(TailMark());
  if (!synced.ok()) Poison(synced);
  return synced;
}

Status StoreImpl::CheckStreams(std::span<const Event> events, std::int64_t head) const {
  std::vector<std::pair<std::string_view, std::int64_t>> keys;
  for (const Event& event : events) {
    if (!event.stream) continue;
    keys.emplace_back(event.stream->id, event.stream->version);
    ES_RETURN_IF_ERROR(CheckVersionFree(event.stream->id, event.stream->version, head));
  }
  std::sort(keys.begin(), keys.end());
  auto repeated = std::adjacent_find(keys.begin(), keys.end());
  if (repeated != keys.end()) {
    return Status::IntegrityError("stream '" + std::string(repeated->first) + "' version " +
                                  std::to_string(repeated->second) + " appears twice in the write");
  }
  return Status::OK();
}

Status StoreImpl::CheckVersionFree(std::string_view stream_id, std::int64_t version,
                                   std::int64_t head) const {
  const MemIndex::Stream* stream = index_.FindStream(stream_id);
  if (stream == nullptr || version > stream->max_version) return Status::OK();
  auto conflict = [&] {
    return Status::IntegrityError("stream '" + std::string(stream_id) + "' already has version " +
                                  std::to_string(version));
  };
  if (version == stream->max_version) return conflict();
  // A version below the maximum: look through the stream's events in the log.
  for (PostingList::Cursor c(stream->positions, stream->positions.size());
       c.Valid() && c.position() <= head; c.Next()) {
    EventView view;
    ES_RETURN_IF_ERROR(ReadView(*SegmentFor(c.position()), c.position(), &view));
    if (view.version == version) return conflict();
  }
  return Status::OK();
}

Result<ReadResult> StoreImpl::Read(const Query& query, const ReadOptions& options) {
  ES_RETURN_IF_ERROR(ValidateReadOptions(options));
  const std::int64_t head = head_.load(std::memory_order_acquire);
  ReadResult result;
  thread_local std::vector<std::int64_t> positions;
  index_.Match(query, options.after.value_or(0), head,
               options.limit.value_or(std::numeric_limits<std::int64_t>::max()), &positions);
  result.events.reserve(positions.size());
  const bool fill_cache = positions.size() <= kMostEventsFillingCache;
  const auto any_version = [](std::int64_t) { return true; };
  // In groups, so that the memory accesses of a group's events overlap.
  constexpr std::size_t kGroup = 16;
  for (std::size_t begin = 0; begin < positions.size(); begin += kGroup) {
    std::size_t end = std::min(positions.size(), begin + kGroup);
    const Segment* segments[kGroup];
    for (std::size_t i = begin; i < end; ++i) {
      segments[i - begin] = SegmentFor(positions[i]);
      segments[i - begin]->PrefetchIndexEntry(positions[i]);
    }
    for (std::size_t i = begin; i < end; ++i) segments[i - begin]->PrefetchEvent(positions[i]);
    for (std::size_t i = begin; i < end; ++i) {
      SequencedEvent& read = result.events.emplace_back();
      read.position = positions[i];
      ES_RETURN_IF_ERROR(
          ReadEvent(*segments[i - begin], positions[i], any_version, fill_cache, &read.event)
              .status());
    }
  }
  if (options.limit) {
    if (!positions.empty()) result.head = positions.back();
  } else if (head > 0) {
    result.head = head;
  }
  return result;
}

Result<std::vector<SequencedEvent>> StoreImpl::ReadStream(std::string_view stream_id,
                                                          const SelectEventsOptions& options) {
  ES_RETURN_IF_ERROR(ValidateSelectEventsOptions(options));
  const std::int64_t head = head_.load(std::memory_order_acquire);
  std::vector<SequencedEvent> events;
  const MemIndex::Stream* stream = index_.FindStream(stream_id);
  if (stream == nullptr) return events;
  const bool fill_cache = stream->positions.size() <= kMostEventsFillingCache;
  for (PostingList::Cursor c(stream->positions, stream->positions.size());
       c.Valid() && c.position() <= head; c.Next()) {
    auto in_bounds = [&](std::int64_t version) {
      return (!options.gt || version > *options.gt) && (!options.lte || version <= *options.lte);
    };
    Event event;
    ES_ASSIGN_OR_RETURN(bool wanted, ReadEvent(*SegmentFor(c.position()), c.position(), in_bounds,
                                               fill_cache, &event));
    if (wanted) events.push_back(SequencedEvent{c.position(), std::move(event)});
  }
  auto by_version = [&](const SequencedEvent& a, const SequencedEvent& b) {
    return options.desc ? a.event.stream->version > b.event.stream->version
                        : a.event.stream->version < b.event.stream->version;
  };
  if (!std::is_sorted(events.begin(), events.end(), by_version)) {
    std::sort(events.begin(), events.end(), by_version);
  }
  if (options.limit && static_cast<std::int64_t>(events.size()) > *options.limit) {
    events.resize(static_cast<std::size_t>(*options.limit));
  }
  return events;
}

Result<std::optional<std::int64_t>> StoreImpl::Head() {
  std::int64_t head = head_.load(std::memory_order_acquire);
  return head > 0 ? std::optional<std::int64_t>(head) : std::nullopt;
}

Result<std::vector<Tracking>> StoreImpl::TrackingRecords() { return index_.TrackingMaxima(); }

Result<std::optional<std::int64_t>> StoreImpl::MaxTrackingId(std::string_view application_name) {
  return index_.MaxTrackingId(application_name);
}

Result<std::uint32_t> StoreImpl::TrainCompressionDictionary(std::size_t max_bytes) {
  if (options_.read_only) return Status::NotSupported(dir_ + " is open read-only");
  if (max_bytes < 1024) return Status::InvalidArgument("a dictionary needs at least 1 KiB");
  std::lock_guard training(training_mutex_);
  const std::int64_t head = head_.load(std::memory_order_acquire);
  ES_ASSIGN_OR_RETURN(
      ReadResult latest,
      Read(Query{}, {std::max<std::int64_t>(0, head - kMaxTrainingEvents), std::nullopt}));
  std::vector<std::string> samples;
  std::size_t bytes = 0;
  for (auto it = latest.events.rbegin();
       it != latest.events.rend() && bytes < max_bytes * kTrainingBytesPerDictionaryByte; ++it) {
    bytes += it->event.data.size();
    samples.push_back(std::move(it->event.data));
  }
  const std::uint32_t id = dictionaries_->NewestId() + 1;
  ES_ASSIGN_OR_RETURN(std::string dictionary, TrainDictionary(samples, max_bytes, id));
  ES_RETURN_IF_ERROR(dictionaries_->Write(env_, dir_, id, std::move(dictionary)));
  return id;
}

StoreInfo StoreImpl::Info() {
  std::lock_guard lock(write_mutex_);
  StoreInfo info;
  info.compression_dictionary = dictionaries_->NewestId();
  info.compression_dictionaries = dictionaries_->size();
  info.encryption = cipher_ != nullptr ? "aes-256-gcm" : "none";
  info.key_id = meta_.slot.key_id;
  if (decoded_cache_ != nullptr) {
    info.decoded_cache_bytes = decoded_cache_->charge();
    info.decoded_cache_hits = decoded_cache_->hits();
    info.decoded_cache_misses = decoded_cache_->misses();
  }
  if (std::int64_t head = head_.load(std::memory_order_acquire); head > 0) info.head = head;
  if (std::int64_t durable = durable_head_.load(std::memory_order_acquire); durable > 0) {
    info.durable_head = durable;
  }
  info.sync_count = sync_count_.load(std::memory_order_relaxed);
  info.writer_epoch = meta_.slot.writer_epoch;
  info.segment_count = owned_segments_.size();
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t byte : meta_.slot.store_id) {
    info.store_id += kHex[byte >> 4];
    info.store_id += kHex[byte & 15];
  }
  info.format_version = kFormatVersion;
  info.read_only = options_.read_only;
  for (std::size_t i = 0; i < owned_segments_.size(); ++i) {
    const Segment& segment = *owned_segments_[i];
    const std::int64_t base = segment.header().base_position;
    const std::int64_t end = i + 1 < owned_segments_.size()
                                 ? owned_segments_[i + 1]->header().base_position
                                 : next_position_;
    info.segments.push_back(SegmentInfo{Segment::FileName(base), base,
                                        static_cast<std::uint64_t>(end - base), segment.size(),
                                        i + 1 == owned_segments_.size()});
  }
  info.log_bytes = log_bytes_;
  info.index_bytes = index_.MemoryBytes();
  info.tag_count = index_.tag_count();
  info.type_count = index_.type_count();
  info.stream_count = index_.stream_count();
  info.io_backend = std::string(env_->io_backend());
  info.rolls = rolls_;
  info.rolls_from_spare = rolls_from_spare_;
  info.spare_failures = spare_failures_.load(std::memory_order_relaxed);
  info.checkpoint_loaded = checkpoint_loaded_;
  info.checkpoints_rejected = checkpoints_rejected_;
  info.replayed_events = replayed_events_;
  if (std::int64_t newest = checkpoint_head_.load(std::memory_order_relaxed); newest > 0) {
    info.checkpoint_position = newest;
  }
  info.checkpoints_written = checkpoints_written_.load(std::memory_order_relaxed);
  info.checkpoint_failures = checkpoint_failures_.load(std::memory_order_relaxed);
  return info;
}

}  // namespace es
