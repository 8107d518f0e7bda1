#include "engine/testing/test_dir.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "engine/format/file_headers.h"
#include "engine/log/store_meta.h"
#include "engine/util/coding.h"
#include "es/store.h"

namespace es::testing {

TempDir::TempDir() {
  std::string pattern = "/tmp/es-test-XXXXXX";
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void ForgetDurablePosition(Env* env, const std::string& dir) {
  Result<StoreMeta> meta = ReadStoreMeta(env, dir);
  REQUIRE_MESSAGE(meta.ok(), meta.status().ToString());
  Status written = RecordDurablePosition(env, dir, *meta, 0).status();
  REQUIRE_MESSAGE(written.ok(), written.ToString());
}

std::string ReadFile(Env* env, const std::string& path) {
  auto file = env->OpenFile(path, {});
  REQUIRE_MESSAGE(file.ok(), file.status().ToString());
  auto size = (*file)->Size();
  REQUIRE(size.ok());
  std::string bytes(*size, '\0');
  REQUIRE((*file)->Read(0, bytes.size(), bytes.data()).ok());
  return bytes;
}

void PatchFile(Env* env, const std::string& path, std::uint64_t offset, const std::string& bytes) {
  auto file = env->OpenFile(path, {.create = true, .writable = true});
  REQUIRE_MESSAGE(file.ok(), file.status().ToString());
  REQUIRE((*file)->Write(offset, bytes).ok());
}

void FlipBit(Env* env, const std::string& path, std::uint64_t offset) {
  std::string byte = ReadFile(env, path).substr(offset, 1);
  byte[0] = static_cast<char>(byte[0] ^ 0x10);
  PatchFile(env, path, offset, byte);
}

std::vector<std::uint64_t> FrameOffsets(const std::string& segment) {
  std::vector<std::uint64_t> offsets;
  std::uint64_t offset = kSegmentHeaderSize;
  while (offset + 4 <= segment.size()) {
    auto length = DecodeFixed<std::uint32_t>(segment.data() + offset);
    if (length == 0) break;
    offsets.push_back(offset);
    offset += length;
  }
  return offsets;
}

DirImage ReadDir(Env* env, const std::string& dir) {
  DirImage image;
  auto children = env->GetChildren(dir);
  REQUIRE(children.ok());
  for (const std::string& name : *children) image[name] = ReadFile(env, dir + "/" + name);
  return image;
}

void WriteDir(Env* env, const std::string& dir, const DirImage& image) {
  auto children = env->GetChildren(dir);
  REQUIRE(children.ok());
  for (const std::string& name : *children) {
    if (image.count(name) == 0) REQUIRE(env->RemoveFile(dir + "/" + name).ok());
  }
  for (const auto& [name, bytes] : image) {
    auto file = env->OpenFile(dir + "/" + name, {.create = true, .writable = true});
    REQUIRE(file.ok());
    REQUIRE((*file)->Truncate(0).ok());
    REQUIRE((*file)->Write(0, bytes).ok());
  }
}

Options WriteSegmentedStore(Env* env, const std::string& dir) {
  Options options;
  options.env = env;
  options.durability = Durability::kSync;
  options.prepare_spare_segment = false;
  options.checkpoint_interval_events = 0;
  options.segment_events = 64;
  options.segment_bytes = 64 * 1024;
  options.max_write_bytes = 32 * 1024;
  options.max_write_events = 16;
  auto store = Store::Open(options, dir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  const std::vector<Event> batch(10, MakeEvent("T", {"t"}, "payload"));
  for (int i = 0; i < 20; ++i) REQUIRE((*store)->Append(batch, std::nullopt).ok());
  return options;
}

Result<std::unique_ptr<File>> OpenHookEnv::OpenFile(const std::string& path, OpenMode mode) {
  if (path == path_ && hook_) std::exchange(hook_, nullptr)();
  return ForwardingEnv::OpenFile(path, mode);
}

Event MakeEvent(std::string type, std::vector<std::string> tags, std::string data) {
  Event event;
  event.type = std::move(type);
  event.tags = std::move(tags);
  event.data = std::move(data);
  return event;
}

QueryItem Item(std::vector<std::string> types, std::vector<std::string> tags) {
  return QueryItem{std::move(types), std::move(tags)};
}

}  // namespace es::testing
