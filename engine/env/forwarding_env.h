// ForwardingEnv: an Env that passes every operation to another one, for the wrappers of tests and
// fuzz targets that change one or two of them (a deterministic clock, a hook at an open).
#ifndef ES_ENGINE_ENV_FORWARDING_ENV_H_
#define ES_ENGINE_ENV_FORWARDING_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "es/env.h"

namespace es {

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* base) : base_(base) {}
  explicit ForwardingEnv(std::unique_ptr<Env> owned)
      : owned_(std::move(owned)), base_(owned_.get()) {}

  std::string_view io_backend() const override { return base_->io_backend(); }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }
  std::uint64_t NowMicros() override { return base_->NowMicros(); }
  void RandomBytes(void* dst, std::size_t n) override { base_->RandomBytes(dst, n); }

 private:
  const std::unique_ptr<Env> owned_;
  Env* const base_;
};

}  // namespace es

#endif  // ES_ENGINE_ENV_FORWARDING_ENV_H_
