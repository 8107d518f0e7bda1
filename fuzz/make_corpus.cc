// Writes the seed corpus of every fuzz target (fuzz/make_corpus.sh runs it into fuzz/corpus/):
//   frame_decoder      frames a writer makes (every event field, tracking entries), each after
//                      the target's mode byte, and single event entries
//   esload_line        the line forms of docs/tools.md
//   query_matcher,     pseudo-random inputs of a fixed seed (every input decodes into a session or
//   recovery,          into edits; the empty input is the untouched sample store)
//   checkpoint_loader
// Deterministic, so that the committed corpus is what it regenerates.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/compress/event_compressor.h"
#include "engine/format/event_entry.h"
#include "engine/format/frame.h"
#include "fuzz/fuzz_key.h"

namespace es {
namespace {

// frame_decoder's mode bytes: parse as given, or seal first (which makes any salt right).
constexpr char kParseAsGiven = 0;
constexpr char kSealFirst = 1;

void WriteInput(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_corpus: cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

std::vector<Event> SampleEvents() {
  Event plain{.type = "Opened", .data = "", .tags = {}};
  Event tagged{.type = "Deposited", .data = "12.50", .tags = {"account-1", "branch", "branch"}};
  Event full{.type = "Renamed",
             .data = std::string("\0\xff", 2),
             .tags = {"account-2"},
             .stream = StreamVersion{"account-2", 7},
             .uuid = Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
             .metadata = {{"by", "fuzz"}, {"reason", "seed"}}};
  return {plain, tagged, full};
}

// With `compressed_data`, the entry stores it (a zstd frame of event.data) in place of the data.
std::string EncodeEntry(const Event& event, std::int64_t position,
                        const std::string* compressed_data = nullptr) {
  std::size_t size = 0;
  if (!EventEntrySize(event, &size, compressed_data).ok()) std::exit(1);
  std::string bytes(size, '\0');
  EncodeEventEntry(event, position, /*salt=*/0, bytes.data(), compressed_data);
  return bytes;
}

std::string EncodeFrame(const std::vector<Event>& events, const std::vector<Tracking>& trackings,
                        std::int64_t first_position) {
  std::string body;
  for (std::size_t i = 0; i < events.size(); ++i) {
    body += EncodeEntry(events[i], first_position + static_cast<std::int64_t>(i));
  }
  for (const Tracking& tracking : trackings) {
    std::string entry(TrackingEntrySize(tracking), '\0');
    EncodeTrackingEntry(tracking, entry.data());
    body += entry;
  }
  FrameHeader header;
  header.length = static_cast<std::uint32_t>(FrameLength(body.size()));
  header.first_position = first_position;
  header.event_count = static_cast<std::uint32_t>(events.size());
  header.tracking_count = static_cast<std::uint32_t>(trackings.size());
  header.body_length = static_cast<std::uint32_t>(body.size());
  header.commit_time_us = 1'800'000'000'000'000;
  header.writer_epoch = 3;
  std::string frame(header.length, '\0');
  EncodeFrameHeader(header, frame.data());
  frame.replace(kFrameHeaderSize, body.size(), body);
  SealFrame(frame.data(), /*salt=*/0);
  return frame;
}

// The entry of `event` encrypted with the fuzz key, for the frame whose header is at
// `frame_header`.
std::string EncodeEncryptedEntry(const Event& event, std::int64_t position,
                                 const char* frame_header) {
  std::size_t size = 0;
  if (!EventEntrySize(event, &size, nullptr, /*encrypted=*/true).ok()) std::exit(1);
  std::string bytes(size, '\0');
  if (!EncodeEncryptedEventEntry(event, position, /*salt=*/0, frame_header, fuzz::FuzzKey(),
                                 bytes.data())
           .ok()) {
    std::exit(1);
  }
  return bytes;
}

// A frame of `events` encrypted with the fuzz key: its header first, which the entries
// authenticate.
std::string EncodeEncryptedFrame(const std::vector<Event>& events, std::int64_t first_position) {
  std::size_t body_length = 0;
  for (const Event& event : events) {
    std::size_t size = 0;
    if (!EventEntrySize(event, &size, nullptr, /*encrypted=*/true).ok()) std::exit(1);
    body_length += size;
  }
  FrameHeader header;
  header.length = static_cast<std::uint32_t>(FrameLength(body_length));
  header.first_position = first_position;
  header.event_count = static_cast<std::uint32_t>(events.size());
  header.body_length = static_cast<std::uint32_t>(body_length);
  header.writer_epoch = 5;
  std::string frame(header.length, '\0');
  EncodeFrameHeader(header, frame.data());
  std::size_t offset = kFrameHeaderSize;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string entry = EncodeEncryptedEntry(
        events[i], first_position + static_cast<std::int64_t>(i), frame.data());
    frame.replace(offset, entry.size(), entry);
    offset += entry.size();
  }
  SealFrame(frame.data(), /*salt=*/0);
  return frame;
}

void FrameDecoderCorpus(const std::string& dir) {
  const std::vector<Event> events = SampleEvents();
  for (std::size_t i = 0; i < events.size(); ++i) {
    WriteInput(dir, "entry-" + std::to_string(i), kParseAsGiven + EncodeEntry(events[i], 1));
  }
  WriteInput(dir, "frame-one-event", kSealFirst + EncodeFrame({events[0]}, {}, 1));
  WriteInput(dir, "frame-events", kSealFirst + EncodeFrame(events, {}, 10));
  WriteInput(dir, "frame-tracking", kSealFirst + EncodeFrame({}, {{"projector", 42}}, 5));
  WriteInput(dir, "frame-events-tracking",
             kSealFirst + EncodeFrame(events, {{"projector", -1}}, 1'000'000));
  Event repetitive{.type = "Compressed", .data = std::string(300, 'z'), .tags = {"t"}};
  std::string compressed;
  if (!EventCompressor(3, 0).Compress(repetitive.data, nullptr, &compressed)) std::exit(1);
  WriteInput(dir, "entry-compressed", kParseAsGiven + EncodeEntry(repetitive, 1, &compressed));
  WriteInput(dir, "entry-encrypted",
             kParseAsGiven + EncodeEncryptedEntry(events[2], fuzz::kLoneEntryPosition,
                                                  fuzz::LoneFrameHeader()));
  WriteInput(dir, "frame-encrypted", kSealFirst + EncodeEncryptedFrame(events, 20));
}

void EsloadLineCorpus(const std::string& dir) {
  const std::vector<std::string> lines = {
      R"({"type":"Opened","tags":["account-1"],"data_b64":"eyJhIjoxfQ=="})",
      R"({"position":3,"type":"T","tags":[],"data":"text","stream":"s-1","version":2})",
      R"({"type":"T","data_b64":"","uuid":"01234567-89ab-cdef-0123-456789abcdef","metadata":{"k":"v"}})",
      R"({"events":[{"type":"A","tags":["x","x"]},{"type":"B","data":""}]})",
      R"({"events":[{"type":"A"}],"condition":{"query":[],"after":null}})",
      R"({"events":[{"type":"A"}],"condition":{"query":[{"types":["A","B"],"tags":["t"]},{}],"after":7}})",
      R"({"tracking":{"application":"projector","notification_id":42}})",
      R"({"events":[{"type":"A"}],"tracking":{"application":"p","notification_id":-1}})",
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    WriteInput(dir, "line-" + std::to_string(i), lines[i]);
  }
}

void RandomCorpus(const std::string& dir, int count, std::size_t max_size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  WriteInput(dir, "empty", "");
  for (int i = 0; i < count; ++i) {
    std::string bytes(std::uniform_int_distribution<std::size_t>(8, max_size)(rng), '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    WriteInput(dir, "random-" + std::to_string(i), bytes);
  }
}

}  // namespace
}  // namespace es

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus CORPUS_DIR (with one directory per target)\n");
    return 2;
  }
  const std::string root = argv[1];
  es::FrameDecoderCorpus(root + "/frame_decoder");
  es::EsloadLineCorpus(root + "/esload_line");
  es::RandomCorpus(root + "/query_matcher", 8, 512, 1);
  es::RandomCorpus(root + "/recovery", 8, 256, 2);
  es::RandomCorpus(root + "/checkpoint_loader", 8, 256, 3);
  return 0;
}
