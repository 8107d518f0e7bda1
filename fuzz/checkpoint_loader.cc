// Fuzz target: arbitrary bytes as an index checkpoint beside a valid store (docs/format.md, "Index
// checkpoint", "Loading"). Whatever the checkpoint files hold, Open succeeds (a checkpoint never
// makes it fail) and the store answers exactly as the same store opened with checkpoints ignored:
// reads of every kind of query, streams, tracking maxima, counts, and the stream version and
// tracking checks of writes.
//
// The input is a list of edits to the store's two checkpoint files (made at two closes): overwrite
// bytes, flip a bit, truncate, replace, copy one over the other, or rename one to another
// position. In forging mode (chosen by the input) the header and block checksums are then
// recomputed as a writer would, so that the fuzzer reaches the record decoding behind them. A
// forged checkpoint that keeps every rule of the format but describes another log cannot be told
// from a real one (nor can it be in any checksummed format), so forging only asks that Open
// succeeds and that nothing crashes or reads out of bounds, whatever the answers.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "engine/util/checksum.h"
#include "engine/util/coding.h"
#include "engine/util/file_names.h"
#include "es/store.h"
#include "fuzz/store_image.h"

namespace es::fuzz {
namespace {

constexpr int kMaxEdits = 6;
// docs/format.md, "Index checkpoint": the header without its segment table, and a block header.
constexpr std::size_t kHeaderFixedSize = 176;
constexpr std::size_t kBlockHeaderSize = 16;

// The sample store closed twice, so that it holds two checkpoints (of a prefix of the log and of
// the whole of it).
DirImage MakeStoreWithCheckpoints() {
  DeterministicMemEnv env;
  Options options = SmallStoreOptions();
  options.env = &env;
  const std::vector<SampleWrite> writes = SampleWrites();
  const std::size_t half = writes.size() / 2;
  for (std::span<const SampleWrite> part :
       {std::span(writes).first(half), std::span(writes).subspan(half)}) {
    Result<std::unique_ptr<Store>> store = Store::Open(options, kStoreDir);
    if (!store.ok()) std::abort();
    WriteAll(**store, part);
  }
  return ReadDirImage(&env, kStoreDir);
}

// Everything a store answers that its in-memory indexes decide.
struct Answers {
  std::vector<Status::Code> codes;  // of the reads, in order
  std::vector<std::vector<SequencedEvent>> reads;
  std::vector<std::optional<std::int64_t>> heads;
  std::vector<std::vector<SequencedEvent>> streams;
  std::optional<std::int64_t> tracking_max;
  std::vector<Status::Code> write_checks;
  std::uint64_t type_count = 0;
  std::uint64_t tag_count = 0;
  std::uint64_t stream_count = 0;

  friend bool operator==(const Answers&, const Answers&) = default;
};

Answers Ask(Store& store) {
  Answers answers;
  const std::vector<Query> queries = {
      {},
      {{{.types = {"Opened"}}}},
      {{{.types = {"Deposited", "Unknown"}}}},
      {{{.tags = {"branch"}}}},
      {{{.tags = {"account-1", "branch"}}}},
      {{{.types = {"Opened"}, .tags = {"account-2"}}, {.tags = {"account-3"}}}},
      {{{.tags = {"unknown"}}}},
  };
  for (const Query& query : queries) {
    for (const ReadOptions& options : {ReadOptions{}, ReadOptions{.after = 3, .limit = 2}}) {
      Result<ReadResult> read = store.Read(query, options);
      answers.codes.push_back(read.status().code());
      if (read.ok()) {
        answers.reads.push_back(read->events);
        answers.heads.push_back(read->head);
      }
    }
  }
  for (int i = 0; i < 16; ++i) {
    Result<std::vector<SequencedEvent>> stream =
        store.ReadStream("account-" + std::to_string(i), {});
    answers.codes.push_back(stream.status().code());
    if (stream.ok()) answers.streams.push_back(*stream);
  }
  Result<std::optional<std::int64_t>> tracking = store.MaxTrackingId("projector");
  answers.codes.push_back(tracking.status().code());
  if (tracking.ok()) answers.tracking_max = *tracking;
  // Writes the indexes refuse (a stream version taken, a tracking id not above the maximum), so
  // that asking changes nothing.
  const Event taken{.type = "T", .stream = StreamVersion{"account-1", 1}};
  answers.write_checks.push_back(store.Write({.events = {&taken, 1}}).status().code());
  const Tracking old_tracking{"projector", 5};
  answers.write_checks.push_back(
      store.Write({.events = {}, .tracking = &old_tracking}).status().code());
  const StoreInfo info = store.Info();
  answers.type_count = info.type_count;
  answers.tag_count = info.tag_count;
  answers.stream_count = info.stream_count;
  return answers;
}

const DirImage& SampleStore() {
  static const DirImage* const image = new DirImage(MakeStoreWithCheckpoints());
  return *image;
}

// Opens the store `image` holds without writing a checkpoint at close, and asks it everything.
// Open must succeed: the log is intact, and a checkpoint never makes Open fail.
Answers OpenAndAsk(const DirImage& image, bool ignore_checkpoints) {
  DeterministicMemEnv env;
  WriteDirImage(&env, kStoreDir, image);
  Options options = SmallStoreOptions();
  options.env = &env;
  options.checkpoint_interval_events = 0;
  options.ignore_checkpoints = ignore_checkpoints;
  Result<std::unique_ptr<Store>> store = Store::Open(options, kStoreDir);
  if (!store.ok()) std::abort();
  return Ask(**store);
}

// The answers of a full replay, which every read of the intact log gives without an error.
const Answers& ReplayAnswers() {
  static const Answers* const answers = [] {
    auto* replayed = new Answers(OpenAndAsk(SampleStore(), /*ignore_checkpoints=*/true));
    for (Status::Code code : replayed->codes) {
      if (code != Status::Code::kOk) std::abort();
    }
    return replayed;
  }();
  return *answers;
}

// Recomputes the header checksum and the block checksums of a checkpoint, as far as its length
// fields allow.
void Reseal(std::string& bytes) {
  if (bytes.size() < kHeaderFixedSize) return;
  char* p = bytes.data();
  const auto header_length = DecodeFixed<std::uint32_t>(p + 12);
  if (header_length < kHeaderFixedSize || header_length > bytes.size()) return;
  EncodeFixed<std::uint64_t>(p + header_length - 8, Checksum64(p, header_length - 8, 0));
  const auto salt = DecodeFixed<std::uint64_t>(p + 32);
  std::size_t offset = header_length;
  for (std::uint64_t block = 0; offset + kBlockHeaderSize <= bytes.size(); ++block) {
    const std::uint64_t padded =
        (kBlockHeaderSize + DecodeFixed<std::uint32_t>(p + offset) + 7) & ~std::uint64_t{7};
    if (padded + 8 > bytes.size() - offset) return;
    EncodeFixed<std::uint64_t>(p + offset + padded, Checksum64(p + offset, padded, salt + block));
    offset += padded + 8;
  }
}

void ApplyEdit(FuzzedDataProvider& input, DirImage& image, std::vector<std::string>& checkpoints) {
  if (checkpoints.empty()) return;
  const std::size_t which = input.ConsumeIntegralInRange<std::size_t>(0, checkpoints.size() - 1);
  std::string& bytes = image[checkpoints[which]];
  switch (input.ConsumeIntegralInRange(0, 5)) {
    case 0: {  // overwrite bytes
      const std::size_t offset =
          bytes.empty() ? 0 : input.ConsumeIntegralInRange<std::size_t>(0, bytes.size() - 1);
      const std::string patch = input.ConsumeRandomLengthString(64);
      if (bytes.size() < offset + patch.size()) bytes.resize(offset + patch.size());
      bytes.replace(offset, patch.size(), patch);
      break;
    }
    case 1:  // flip a bit
      if (!bytes.empty()) {
        bytes[input.ConsumeIntegralInRange<std::size_t>(0, bytes.size() - 1)] ^=
            1 << input.ConsumeIntegralInRange(0, 7);
      }
      break;
    case 2:  // truncate
      bytes.resize(input.ConsumeIntegralInRange<std::size_t>(0, bytes.size()));
      break;
    case 3:  // replace
      bytes = input.ConsumeRandomLengthString(4096);
      break;
    case 4:  // copy over the other one
      image[checkpoints[(which + 1) % checkpoints.size()]] = bytes;
      break;
    default: {  // rename to another position
      const std::string name =
          PositionFileName(input.ConsumeIntegralInRange<std::int64_t>(1, 40), ".ckpt");
      if (image.count(name) == 0) {
        image[name] = std::move(bytes);
        image.erase(checkpoints[which]);
        checkpoints[which] = name;
      }
      break;
    }
  }
}

}  // namespace
}  // namespace es::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  es::fuzz::DirImage image = es::fuzz::SampleStore();
  std::vector<std::string> checkpoints;
  std::int64_t position;
  for (const auto& [name, bytes] : image) {
    if (es::ParsePositionFileName(name, ".ckpt", &position)) checkpoints.push_back(name);
  }
  if (checkpoints.size() != 2) std::abort();  // the sample store is not what this target expects
  const bool forge = input.ConsumeBool();
  for (int i = 0; i < es::fuzz::kMaxEdits && input.remaining_bytes() > 0; ++i) {
    es::fuzz::ApplyEdit(input, image, checkpoints);
  }
  if (forge) {
    for (const std::string& name : checkpoints) es::fuzz::Reseal(image[name]);
  }
  const es::fuzz::Answers answers = es::fuzz::OpenAndAsk(image, /*ignore_checkpoints=*/false);
  if (!forge && answers != es::fuzz::ReplayAnswers()) std::abort();
  return 0;
}
