// Fuzz target: recovery over arbitrary segment, position index and store.meta bytes
// (docs/format.md, "Recovery"). The input is a list of edits to the files of a real small store
// (several segments, every event field, tracking records), so that the fuzzer starts past the
// headers and checksums: overwrite bytes, flip a bit, truncate, replace a file, remove one, copy
// one over another, or add one under a store file name. Then, on the edited directory:
//  - a read-only open (esdump's) and VerifyStore change nothing and never crash; the read-only
//    open either fails or reads a gap-free log;
//  - an open for writing either fails, leaving the log and store.meta as they were, or gives a
//    store that reads the same log as the read-only open, takes a write (unless its active
//    segment was shortened and holds no event, which cannot roll: then the write is refused
//    alone), and after closing verifies clean and reopens to the same events.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "engine/util/file_names.h"
#include "es/store.h"
#include "es/verify.h"
#include "fuzz/store_image.h"

namespace es::fuzz {
namespace {

constexpr int kMaxEdits = 8;

Options StoreOptions() {
  Options options = SmallStoreOptions();
  options.checkpoint_interval_events = 0;  // checkpoints are checkpoint_loader's
  return options;
}

const DirImage& SampleStore() {
  static const DirImage* const image = new DirImage(MakeSampleStore(StoreOptions()));
  return *image;
}

std::size_t PickOffset(FuzzedDataProvider& input, const std::string& bytes) {
  if (bytes.empty()) return 0;
  // Headers and the first frames are where most checks are: favour the first 8 KiB.
  const std::size_t limit =
      input.ConsumeBool() ? std::min<std::size_t>(bytes.size(), 8192) : bytes.size();
  return input.ConsumeIntegralInRange<std::size_t>(0, limit - 1);
}

void ApplyEdit(FuzzedDataProvider& input, DirImage& image) {
  if (image.empty()) return;
  auto file =
      std::next(image.begin(), input.ConsumeIntegralInRange<std::size_t>(0, image.size() - 1));
  std::string& bytes = file->second;
  switch (input.ConsumeIntegralInRange(0, 6)) {
    case 0: {  // overwrite bytes
      const std::size_t offset = PickOffset(input, bytes);
      const std::string patch = input.ConsumeRandomLengthString(64);
      if (bytes.size() < offset + patch.size()) bytes.resize(offset + patch.size());
      bytes.replace(offset, patch.size(), patch);
      break;
    }
    case 1:  // flip a bit
      if (!bytes.empty())
        bytes[PickOffset(input, bytes)] ^= 1 << input.ConsumeIntegralInRange(0, 7);
      break;
    case 2:  // truncate
      bytes.resize(PickOffset(input, bytes));
      break;
    case 3:  // replace
      bytes = input.ConsumeRandomLengthString(4096);
      break;
    case 4:  // remove
      image.erase(file);
      break;
    case 5: {  // copy over another file
      auto other =
          std::next(image.begin(), input.ConsumeIntegralInRange<std::size_t>(0, image.size() - 1));
      other->second = bytes;
      break;
    }
    case 6: {  // add a copy under a store file name (a segment, a position index, a temporary)
      static const char* const kSuffixes[] = {".seg", ".pidx", ".seg.tmp"};
      const std::string name = PositionFileName(input.ConsumeIntegralInRange<std::int64_t>(1, 40),
                                                kSuffixes[input.ConsumeIntegralInRange(0, 2)]);
      image[name] = bytes;
      break;
    }
  }
}

// Every event of the store; aborts unless positions run 1, 2, ... and the head is the last.
std::vector<SequencedEvent> ReadAll(Store& store) {
  Result<ReadResult> all = store.Read(Query{});
  if (!all.ok()) std::abort();
  for (std::size_t i = 0; i < all->events.size(); ++i) {
    if (all->events[i].position != static_cast<std::int64_t>(i) + 1) std::abort();
  }
  const std::optional<std::int64_t> head =
      all->events.empty() ? std::nullopt : std::optional<std::int64_t>(all->events.back().position);
  if (all->head != head) std::abort();
  return std::move(all->events);
}

// The files an open that fails must leave alone: the log and store.meta. (It may remove
// temporaries, take the LOCK and rebuild position indexes, which are derived data.)
DirImage Authoritative(const DirImage& image) {
  DirImage kept;
  std::int64_t base;
  for (const auto& [name, bytes] : image) {
    if (name == "store.meta" || ParsePositionFileName(name, ".seg", &base)) kept[name] = bytes;
  }
  return kept;
}

void CheckRecovery(const DirImage& image) {
  DeterministicMemEnv env;
  WriteDirImage(&env, kStoreDir, image);
  Options options = StoreOptions();
  options.env = &env;

  std::optional<std::vector<SequencedEvent>> read_only_events;
  {
    Options read_only = options;
    read_only.read_only = true;
    Result<std::unique_ptr<Store>> store = Store::Open(read_only, kStoreDir);
    if (store.ok()) read_only_events = ReadAll(**store);
  }
  // The directory is readable, so VerifyStore reports problems rather than failing.
  if (!VerifyStore(options, kStoreDir).ok()) std::abort();
  if (ReadDirImage(&env, kStoreDir) != image) std::abort();

  std::vector<SequencedEvent> events;
  {
    Result<std::unique_ptr<Store>> store = Store::Open(options, kStoreDir);
    if (!store.ok()) {
      if (Authoritative(ReadDirImage(&env, kStoreDir)) != Authoritative(image)) std::abort();
      return;
    }
    events = ReadAll(**store);
    if (read_only_events && *read_only_events != events) std::abort();
    const Event event{.type = "AfterRecovery", .data = "x", .tags = {"t"}};
    Result<std::int64_t> appended = (*store)->Append({&event, 1}, std::nullopt);
    if (appended.ok()) {
      if (*appended != static_cast<std::int64_t>(events.size()) + 1) std::abort();
      events.push_back({*appended, event});
    } else if (!appended.status().IsInvalidArgument() ||
               (*store)->Info().segments.back().events != 0) {
      // Only refused when it does not fit in a damaged (shortened) active segment that holds no
      // event, which cannot roll.
      std::abort();
    }
  }
  Result<VerifyReport> report = VerifyStore(options, kStoreDir);
  if (!report.ok() || !report->clean()) std::abort();
  Result<std::unique_ptr<Store>> reopened = Store::Open(options, kStoreDir);
  if (!reopened.ok() || ReadAll(**reopened) != events) std::abort();
}

}  // namespace
}  // namespace es::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  es::fuzz::DirImage image = es::fuzz::SampleStore();
  for (int i = 0; i < es::fuzz::kMaxEdits && input.remaining_bytes() > 0; ++i) {
    es::fuzz::ApplyEdit(input, image);
  }
  es::fuzz::CheckRecovery(image);
  return 0;
}
