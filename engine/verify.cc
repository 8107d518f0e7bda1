// VerifyStore (es/verify.h): a read-only recovery walk that goes on past damage (SalvageLog) and
// records where every event it finds is, then the position index files and checkpoints checked
// against it.
#include "es/verify.h"

#include <algorithm>
#include <map>

#include "engine/checkpoints.h"
#include "engine/compress/event_compressor.h"
#include "engine/format/frame.h"
#include "engine/index/mem_index.h"
#include "engine/log/recovery.h"
#include "engine/log/store_files.h"
#include "engine/log/store_meta.h"
#include "engine/util/coding.h"
#include "engine/util/file_names.h"
#include "es/env.h"

namespace es {
namespace {

// Problems reported per position index file before the rest are summed up in one.
constexpr std::size_t kProblemsPerIndex = 10;

struct Located {
  std::int64_t position;
  std::uint32_t frame_offset;
  std::uint32_t entry_offset;
};

// Compares the position index file of `segment` against `expected` (the entries of the events
// the walk found in it, in position order: past damage, positions may be missing).
void VerifyPositionIndex(Env* env, const std::string& dir, const SegmentHeader& segment,
                         const std::vector<Located>& expected, VerifyReport* report) {
  const std::int64_t base = segment.base_position;
  const std::string name = Segment::IndexFileName(base);
  const auto problem = [&](std::optional<std::uint64_t> offset, std::string message) {
    report->problems.push_back({name, offset, std::move(message)});
  };
  if (!env->FileExists(dir + "/" + name)) {
    problem(std::nullopt, "missing (the next open for writing rebuilds it)");
    return;
  }
  Result<std::unique_ptr<File>> file = env->OpenFile(dir + "/" + name, {});
  if (!file.ok()) return problem(std::nullopt, file.status().ToString());
  Result<std::uint64_t> size = (*file)->Size();
  if (!size.ok()) return problem(std::nullopt, size.status().ToString());
  const auto entry_offset = [&](std::int64_t position) {
    return kPositionIndexHeaderSize +
           static_cast<std::uint64_t>(position - base) * kPositionIndexEntrySize;
  };
  const std::uint64_t need =
      expected.empty() ? kPositionIndexHeaderSize : entry_offset(expected.back().position + 1);
  if (*size < need) {
    return problem(std::nullopt,
                   "shorter (" + std::to_string(*size) + " bytes) than its segment's events need");
  }
  std::string bytes(need, '\0');
  if (Status read = (*file)->Read(0, need, bytes.data()); !read.ok()) {
    return problem(std::nullopt, read.ToString());
  }
  PositionIndexHeader header;
  if (Status decoded = DecodePositionIndexHeader(bytes.data(), &header); !decoded.ok()) {
    return problem(0, decoded.ToString());
  }
  if (header.base_position != base || header.salt != segment.salt ||
      header.capacity != segment.capacity_events) {
    return problem(0,
                   "its header belongs to another segment (the next open for writing rebuilds it)");
  }
  std::size_t wrong = 0;
  for (const Located& event : expected) {
    const std::uint64_t offset = entry_offset(event.position);
    const auto frame = DecodeFixed<std::uint32_t>(bytes.data() + offset);
    const auto entry = DecodeFixed<std::uint32_t>(bytes.data() + offset + 4);
    ++report->index_entries;
    if (frame == event.frame_offset && entry == event.entry_offset) continue;
    if (++wrong <= kProblemsPerIndex) {
      problem(offset, "entry of position " + std::to_string(event.position) + " is (" +
                          std::to_string(frame) + ", " + std::to_string(entry) +
                          "); the log has it at (" + std::to_string(event.frame_offset) + ", " +
                          std::to_string(event.entry_offset) + ")");
    }
  }
  if (wrong > kProblemsPerIndex) {
    problem(std::nullopt, std::to_string(wrong - kProblemsPerIndex) + " more wrong entries");
  }
}

}  // namespace

Result<VerifyReport> VerifyStore(const Options& options, std::string_view dir_view) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  const std::string dir(dir_view);
  if (!env->FileExists(dir)) return Status::NotFound(dir + ": no such store directory");
  ES_ASSIGN_OR_RETURN(StoreFiles files, ListStoreFiles(env, dir));
  VerifyReport report;
  for (const std::string& name : files.unknown) {
    report.problems.push_back({name, std::nullopt, "not a file a store holds"});
  }
  if (!files.has_meta) {
    report.problems.push_back({kStoreMetaName, std::nullopt, "missing: this is no store"});
    return report;
  }
  Result<StoreMeta> meta = ReadStoreMeta(env, dir);
  if (!meta.ok()) {
    report.problems.push_back({kStoreMetaName, std::nullopt, meta.status().ToString()});
    return report;
  }

  // With the key, every encrypted entry and checkpoint is authenticated too.
  ES_ASSIGN_OR_RETURN(std::unique_ptr<StoreCipher> cipher,
                      options.key_provider != nullptr
                          ? StoreCipher::ForStore(options.key_provider.get(), meta->slot, dir)
                          : std::unique_ptr<StoreCipher>());
  const AesGcm* entry_key = cipher != nullptr ? &cipher->entries() : nullptr;

  // Compressed events are checked against the dictionaries; a dictionary that does not load is a
  // problem of its own, and the events that need it are then reported too.
  Result<std::unique_ptr<DictionarySet>> dictionaries = DictionarySet::Load(env, dir, 0);
  if (!dictionaries.ok()) {
    report.problems.push_back({"", std::nullopt, dictionaries.status().ToString()});
  }
  const DictionarySet* loaded = dictionaries.ok() ? dictionaries->get() : nullptr;

  // Where the log holds each event, by segment base.
  std::map<std::int64_t, std::vector<Located>> located;
  std::string scratch;  // decompressed data, checked and dropped
  Result<RecoveredLog> log = SalvageLog(
      env, dir, meta->slot, files.segment_bases,
      [&](Segment& segment, std::uint64_t frame_offset, const FrameHeader& header) {
        ++report.frames;
        std::vector<Located>& entries = located[segment.header().base_position];
        return ParseFrameBody(
            segment.data() + frame_offset, header, segment.header().salt,
            [&](const EventView& event, std::size_t entry_offset, std::int64_t position) {
              ++report.events;
              entries.push_back({position, static_cast<std::uint32_t>(frame_offset),
                                 static_cast<std::uint32_t>(frame_offset + entry_offset)});
              // The checksums passed, so only a writer's bug could leave data that does not
              // decompress; readers would meet it as Corruption.
              if (event.data_compressed && !event.encrypted) {
                Status decompressed =
                    DecompressEventData(event.data, loaded, kMaxEventData, &scratch);
                if (!decompressed.ok()) {
                  report.problems.push_back(
                      {Segment::FileName(segment.header().base_position),
                       frame_offset + entry_offset,
                       "event " + std::to_string(position) + ": " + decompressed.ToString()});
                }
              }
            },
            [](const TrackingView&) {}, entry_key);
      },
      &report.problems);
  if (log.ok()) {
    report.torn_bytes = log->torn_bytes;
    report.segments = log->segments.size();
    for (const auto& segment : log->segments) {
      const SegmentHeader& header = segment->header();
      VerifyPositionIndex(env, dir, header, located[header.base_position], &report);
    }
  } else {
    // An I/O error: the walk's segments are gone with the failed result, and their indexes are
    // checked by the next verify that reads them.
    report.problems.push_back({"", std::nullopt, log.status().ToString()});
  }
  for (const std::string& name : files.index_files) {
    std::int64_t base = 0;
    const bool parsed = ParsePositionFileName(name, ".pidx", &base);
    // A live writer's roll renames its spare files to the new segment's names while the
    // directory may be being listed, and the listing may catch the index's new name but not the
    // segment's: a segment there now is not gone.
    if (!parsed || (std::find(files.segment_bases.begin(), files.segment_bases.end(), base) ==
                        files.segment_bases.end() &&
                    !env->FileExists(dir + "/" + Segment::FileName(base)))) {
      report.problems.push_back({name, std::nullopt, "its segment is gone (stale)"});
    }
  }

  for (std::int64_t position : files.checkpoints) {
    MemIndex scratch;
    bool replay_all = false;
    Result<ReplayStart> loaded =
        LoadCheckpoint(env, dir, position, meta->slot, files.segment_bases, &scratch, &replay_all,
                       cipher.get(), /*read_only=*/true);
    // Gone since the listing: a live writer that wrote a newer checkpoint removed it, as it
    // removes every checkpoint but the two newest. The store no longer has it to check.
    if (!loaded.ok() && !env->FileExists(dir + "/" + CheckpointFileName(position))) continue;
    ++report.checkpoints;
    // NotSupported: an encrypted checkpoint passed every check but its records', which need the
    // key.
    if (!loaded.ok() && !loaded.status().IsNotSupported()) {
      report.problems.push_back({CheckpointFileName(position), std::nullopt,
                                 "Open would pass it over: " + loaded.status().ToString()});
    }
  }
  return report;
}

}  // namespace es
