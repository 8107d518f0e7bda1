#include "engine/testing/test_dir.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "engine/log/store_meta.h"

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
