// Checkpoint file framing: header and blocks round-trip (a kind spread over several blocks), and
// every damage is caught: each byte flipped, the file cut at each length, blocks swapped, blocks
// put under another file's header, a failed write.
#include "engine/format/checkpoint_file.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/env/fault_env.h"
#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"

namespace es {
namespace {

constexpr char kPath[] = "/ckpt";

CheckpointHeader SampleHeader() {
  CheckpointHeader h;
  for (std::size_t i = 0; i < h.store_id.size(); ++i) h.store_id[i] = static_cast<std::uint8_t>(i);
  h.salt = 0x1234567890abcdefull;
  h.position = 77;
  h.writer_epoch = 3;
  h.created_us = 1'800'000'000'000'000ull;
  h.resume_offset = 4096 + 640;
  h.last_frame_length = 64;
  h.last_frame_checksum = 0xfeedfacecafebeefull;
  h.log_bytes = 640;
  h.type_count = 2;
  h.tag_count = 5;
  h.stream_count = 1;
  h.tracking_count = 0;
  h.segments = {{1, 111}, {40, 222}};
  return h;
}

// Writes a checkpoint file of `header` with `records[kind]` records of that kind; returns its
// bytes with the header's block fields set.
std::string WriteFile(Env* env, CheckpointHeader* header,
                      const std::vector<std::pair<CheckpointBlockKind, std::string>>& records) {
  auto file = env->OpenFile(kPath, {.create = true, .writable = true});
  REQUIRE_OK(file.status());
  REQUIRE_OK((*file)->Truncate(0));
  CheckpointBlockWriter writer(file->get(), CheckpointHeaderLength(header->segments.size()),
                               header->salt);
  for (const auto& [kind, bytes] : records) writer.AddRecord(kind)->append(bytes);
  REQUIRE_OK(writer.Finish());
  header->block_count = writer.block_count();
  header->block_bytes = writer.block_bytes();
  REQUIRE_OK((*file)->Write(0, EncodeCheckpointHeader(*header)));
  return testing::ReadFile(env, kPath);
}

Status Verify(const std::string& bytes) {
  CheckpointHeader header;
  ES_RETURN_IF_ERROR(DecodeCheckpointHeader(bytes.data(), bytes.size(), &header));
  std::vector<CheckpointBlock> blocks;
  return ReadCheckpointBlocks(bytes.data(), bytes.size(), header, &blocks);
}

const std::vector<std::pair<CheckpointBlockKind, std::string>> kSmallRecords = {
    {CheckpointBlockKind::kTypes,
     "\x01"
     "A"},
    {CheckpointBlockKind::kTypes,
     "\x01"
     "B"},
    {CheckpointBlockKind::kTypeColumn, "\x01"},
    {CheckpointBlockKind::kTags, "tag record"},
    {CheckpointBlockKind::kTracking, "t"},
};

TEST_CASE("checkpoint file: header and blocks round-trip, a kind over several blocks") {
  auto env = NewMemEnv();
  CheckpointHeader header = SampleHeader();
  std::vector<std::pair<CheckpointBlockKind, std::string>> records = {{CheckpointBlockKind::kTypes,
                                                                       "\x01"
                                                                       "A"}};
  // 3 MiB of type-column records: the writer cuts them into blocks of about 1 MiB.
  for (int i = 0; i < 300'000; ++i) {
    records.emplace_back(CheckpointBlockKind::kTypeColumn, std::string(10, static_cast<char>(i)));
  }
  records.emplace_back(CheckpointBlockKind::kStreams, "stream");
  const std::string bytes = WriteFile(env.get(), &header, records);

  CheckpointHeader decoded;
  REQUIRE_OK(DecodeCheckpointHeader(bytes.data(), bytes.size(), &decoded));
  CHECK(decoded == header);
  std::vector<CheckpointBlock> blocks;
  REQUIRE_OK(ReadCheckpointBlocks(bytes.data(), bytes.size(), decoded, &blocks));
  REQUIRE(blocks.size() == header.block_count);
  CHECK(blocks.size() >= 5);
  CHECK(blocks.front().kind == CheckpointBlockKind::kTypes);
  CHECK(blocks.back().kind == CheckpointBlockKind::kStreams);
  std::string column;
  std::uint64_t column_records = 0;
  for (const CheckpointBlock& block : blocks) {
    if (block.kind != CheckpointBlockKind::kTypeColumn) continue;
    CHECK(block.records.size() < (1u << 20) + 16);
    column += block.records;
    column_records += block.record_count;
  }
  CHECK(column_records == 300'000);
  std::string expected;
  for (std::size_t i = 1; i + 1 < records.size(); ++i) expected += records[i].second;
  CHECK(column == expected);
}

TEST_CASE("checkpoint file: every flipped byte is caught") {
  auto env = NewMemEnv();
  CheckpointHeader header = SampleHeader();
  const std::string bytes = WriteFile(env.get(), &header, kSmallRecords);
  REQUIRE_OK(Verify(bytes));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (char mask : {'\x01', '\x80'}) {
      CAPTURE(i);
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      CHECK(Verify(damaged).IsCorruption());
    }
  }
}

TEST_CASE("checkpoint file: a file cut anywhere or extended is caught") {
  auto env = NewMemEnv();
  CheckpointHeader header = SampleHeader();
  const std::string bytes = WriteFile(env.get(), &header, kSmallRecords);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    CHECK(Verify(bytes.substr(0, length)).IsCorruption());
  }
  CHECK(Verify(bytes + std::string(8, '\0')).IsCorruption());
}

TEST_CASE("checkpoint file: blocks are bound to their place and to their file") {
  auto env = NewMemEnv();
  CheckpointHeader header = SampleHeader();
  // Two blocks of the same kind and length, then swapped.
  std::vector<std::pair<CheckpointBlockKind, std::string>> records = {
      {CheckpointBlockKind::kTags, std::string((1 << 20) + 8, 'a')},
      {CheckpointBlockKind::kTags, std::string((1 << 20) + 8, 'b')}};
  const std::string bytes = WriteFile(env.get(), &header, records);
  REQUIRE(header.block_count == 2);
  const std::size_t first = CheckpointHeaderLength(header.segments.size());
  const std::size_t block = header.block_bytes / 2;
  std::string swapped =
      bytes.substr(0, first) + bytes.substr(first + block, block) + bytes.substr(first, block);
  CHECK(Verify(swapped).IsCorruption());

  // The same blocks under the header of another checkpoint (another salt).
  CheckpointHeader other = header;
  other.salt ^= 1;
  std::string foreign = EncodeCheckpointHeader(other) + bytes.substr(first);
  CHECK(Verify(foreign).IsCorruption());
}

TEST_CASE("checkpoint file: a failed block write is reported by Finish") {
  FaultInjectionEnv env;
  auto file = env.OpenFile(kPath, {.create = true, .writable = true});
  REQUIRE_OK(file.status());
  CheckpointBlockWriter writer(file->get(), CheckpointHeaderLength(1), 7);
  env.InjectFault({.kind = FaultInjectionEnv::OpKind::kWrites, .nth = 1});
  writer.AddRecord(CheckpointBlockKind::kTypes)->append(std::string((1 << 20) + 1, 'x'));
  writer.AddRecord(CheckpointBlockKind::kTypes)->append("y");
  CHECK(writer.Finish().IsIOError());
}

}  // namespace
}  // namespace es
