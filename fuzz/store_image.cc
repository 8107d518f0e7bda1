#include "fuzz/store_image.h"

#include <cstdlib>

#include "engine/util/random_bytes.h"

namespace es::fuzz {

std::uint64_t DeterministicMemEnv::NowMicros() {
  std::lock_guard lock(mu_);
  return ++now_;
}

void DeterministicMemEnv::RandomBytes(void* dst, std::size_t n) {
  std::lock_guard lock(mu_);
  FillFromGenerator(rng_, dst, n);
}

DirImage ReadDirImage(Env* env, const std::string& dir) {
  Result<std::vector<std::string>> names = env->GetChildren(dir);
  if (!names.ok()) std::abort();
  DirImage image;
  for (const std::string& name : *names) {
    Result<std::unique_ptr<File>> file = env->OpenFile(dir + "/" + name, {});
    if (!file.ok()) std::abort();
    Result<std::uint64_t> size = (*file)->Size();
    if (!size.ok()) std::abort();
    std::string bytes(*size, '\0');
    if (!(*file)->Read(0, bytes.size(), bytes.data()).ok()) std::abort();
    image.emplace(name, std::move(bytes));
  }
  return image;
}

void WriteDirImage(Env* env, const std::string& dir, const DirImage& image) {
  if (!env->CreateDir(dir).ok()) std::abort();
  for (const auto& [name, bytes] : image) {
    Result<std::unique_ptr<File>> file = env->OpenFile(dir + "/" + name, {.create = true});
    if (!file.ok() || !(*file)->Write(0, bytes).ok()) std::abort();
  }
}

std::vector<SampleWrite> SampleWrites() {
  std::vector<SampleWrite> writes;
  for (int i = 0; i < 14; ++i) {
    SampleWrite write;
    for (int j = 0; j <= i % 3; ++j) {
      Event event;
      event.type = i % 2 == 0 ? "Opened" : "Deposited";
      event.data = std::string(static_cast<std::size_t>(i * 3 + j), static_cast<char>('a' + j));
      event.tags = {"account-" + std::to_string(i % 4), "branch"};
      if (j == 1) event.tags.push_back("branch");  // a repeated tag
      if (i % 4 == 1) event.stream = StreamVersion{"account-" + std::to_string(i), j + 1};
      if (i % 5 == 2) event.uuid = Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
      if (i % 3 == 2) event.metadata = {{"by", "fuzz"}, {"n", std::to_string(i)}};
      write.events.push_back(std::move(event));
    }
    if (i % 6 == 5) write.tracking.push_back({"projector", i});
    writes.push_back(std::move(write));
  }
  writes.push_back({.events = {}, .tracking = {{"projector", 100}}});  // tracking alone
  return writes;
}

Options SmallStoreOptions() {
  Options options;
  options.durability = Durability::kNone;
  options.segment_bytes = 64 * 1024;
  options.segment_events = 8;
  options.max_write_bytes = 32 * 1024;
  options.max_write_events = 4;
  options.prepare_spare_segment = false;
  return options;
}

void WriteAll(Store& store, std::span<const SampleWrite> writes) {
  for (const SampleWrite& write : writes) {
    AppendRequest request;
    request.events = write.events;
    if (!write.tracking.empty()) request.tracking = &write.tracking.front();
    if (!store.Write(request).ok()) std::abort();
  }
}

DirImage MakeSampleStore(Options options) {
  DeterministicMemEnv env;
  options.env = &env;
  {
    Result<std::unique_ptr<Store>> store = Store::Open(options, kStoreDir);
    if (!store.ok()) std::abort();
    WriteAll(**store, SampleWrites());
  }
  return ReadDirImage(&env, kStoreDir);
}

}  // namespace es::fuzz
