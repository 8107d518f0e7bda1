// The files live in a MemEnv (the "disk" of the current boot). Beside it this Env keeps, per file,
// the image a crash would leave for sure, and per directory the entries a crash would leave; a
// crash builds a fresh MemEnv from those, so that the handles of the dead process keep their old
// buffers and cannot reach the new files.
#include "engine/env/fault_env.h"

#include <algorithm>
#include <cerrno>
#include <random>
#include <utility>

#include "engine/env/errno_status.h"
#include "engine/util/path.h"

namespace es {

// A file (an inode): it may have several names or none over its life.
struct FaultInjectionEnv::Node {
  // A handle on the file in the base Env, to read what the file holds now.
  std::unique_ptr<File> file;
  // What a crash keeps for sure: bytes and size as of the last syncs.
  std::string durable;
};

namespace {

using CrashMode = FaultInjectionEnv::CrashMode;

constexpr std::size_t kSectorSize = 512;

Result<std::string> ReadAll(const File& file) {
  ES_ASSIGN_OR_RETURN(const std::uint64_t size, file.Size());
  std::string bytes(size, '\0');
  ES_RETURN_IF_ERROR(file.Read(0, bytes.size(), bytes.data()));
  return bytes;
}

// Byte `i` of a file image; a shorter image reads as zeros there (as a file extended but not yet
// written does).
char At(const std::string& image, std::size_t i) { return i < image.size() ? image[i] : '\0'; }

// What a crash leaves of a file whose durable image is `durable` and which holds `current`.
std::string CrashImage(const std::string& durable, const std::string& current, CrashMode mode,
                       std::mt19937_64& rng) {
  if (mode == CrashMode::kTornUnsynced) {
    // Losing everything and keeping everything are the common outcomes worth testing often.
    switch (rng() % 4) {
      case 0:
        mode = CrashMode::kDropUnsynced;
        break;
      case 1:
        mode = CrashMode::kKeepUnsynced;
        break;
    }
  }
  if (mode == CrashMode::kDropUnsynced) return durable;
  if (mode == CrashMode::kKeepUnsynced) return current;

  const std::size_t size = rng() % 2 == 0 ? durable.size() : current.size();
  const std::size_t span = std::max(durable.size(), current.size());
  std::string image(size, '\0');
  if (mode == CrashMode::kTornUnsynced) {
    std::size_t dirty = 0;
    for (std::size_t i = 0; i < span; ++i) dirty += At(current, i) != At(durable, i);
    // New bytes are kept up to the chosen unsynced byte, exclusive.
    std::size_t keep = dirty == 0 ? 0 : rng() % dirty;
    std::size_t cut = 0;
    while (cut < span && (At(current, cut) == At(durable, cut) || keep-- > 0)) ++cut;
    for (std::size_t i = 0; i < size; ++i) image[i] = i < cut ? At(current, i) : At(durable, i);
  } else {
    for (std::size_t sector = 0; sector < size; sector += kSectorSize) {
      const std::string& source = rng() % 2 == 0 ? current : durable;
      for (std::size_t i = sector; i < std::min(size, sector + kSectorSize); ++i) {
        image[i] = At(source, i);
      }
    }
  }
  return image;
}

}  // namespace

class FaultInjectionEnv::FaultRegion final : public MappedRegion {
 public:
  FaultRegion(FaultInjectionEnv* env, std::unique_ptr<MappedRegion> base,
              std::shared_ptr<Node> node, std::string path, std::uint64_t generation)
      : env_(env),
        base_(std::move(base)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(generation) {}

  char* data() override { return base_->data(); }
  std::uint64_t size() const override { return base_->size(); }
  void HintRandomAccess() override { base_->HintRandomAccess(); }

  Status Sync(std::uint64_t offset, std::uint64_t length) override {
    env_->RunSyncHook();
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kSync, "msync", path_));
    ES_RETURN_IF_ERROR(base_->Sync(offset, length));
    std::string& durable = node_->durable;
    if (durable.size() < offset + length) durable.resize(offset + length);
    std::copy_n(base_->data() + offset, length,
                durable.begin() + static_cast<std::ptrdiff_t>(offset));
    return Status::OK();
  }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<MappedRegion> base_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const std::uint64_t generation_;
};

class FaultInjectionEnv::FaultFile final : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base, std::shared_ptr<Node> node,
            std::string path, std::uint64_t generation)
      : env_(env),
        base_(std::move(base)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(generation) {}

  Status Read(std::uint64_t offset, std::size_t n, char* dst) const override {
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kOther, "read", path_));
    return base_->Read(offset, n, dst);
  }

  Status Write(std::uint64_t offset, std::string_view data) override {
    std::lock_guard lock(env_->mu_);
    const Status status = env_->BeginOp(generation_, OpClass::kWrite, "write", path_);
    if (status.ok()) return base_->Write(offset, data);
    // Only a live handle's injected fault writes part of the data first.
    const std::size_t partial =
        std::min(env_->fault_.short_write_bytes, data.empty() ? 0 : data.size() - 1);
    if (generation_ == env_->generation_ && partial > 0) {
      ES_RETURN_IF_ERROR(base_->Write(offset, data.substr(0, partial)));
    }
    return status;
  }

  Status Sync() override {
    env_->RunSyncHook();
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kSync, "fdatasync", path_));
    ES_RETURN_IF_ERROR(base_->Sync());
    ES_ASSIGN_OR_RETURN(node_->durable, ReadAll(*base_));
    return Status::OK();
  }

  Result<std::uint64_t> Size() const override {
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kOther, "fstat", path_));
    return base_->Size();
  }

  Status Allocate(std::uint64_t size) override {
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kWrite, "fallocate", path_));
    return base_->Allocate(size);
  }

  Status Truncate(std::uint64_t size) override {
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kWrite, "ftruncate", path_));
    return base_->Truncate(size);
  }

  Result<std::unique_ptr<MappedRegion>> Map(std::uint64_t size, bool writable) override {
    std::lock_guard lock(env_->mu_);
    ES_RETURN_IF_ERROR(env_->BeginOp(generation_, OpClass::kOther, "mmap", path_));
    ES_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> region, base_->Map(size, writable));
    return std::unique_ptr<MappedRegion>(
        std::make_unique<FaultRegion>(env_, std::move(region), node_, path_, generation_));
  }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<File> base_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const std::uint64_t generation_;
};

FaultInjectionEnv::FaultInjectionEnv()
    : base_(NewMemEnv()), dirs_{"", "/"}, durable_dirs_{"", "/"} {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

Status FaultInjectionEnv::SimulateCrash(std::uint64_t seed, CrashMode mode) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  std::unique_ptr<Env> disk = NewMemEnv();
  // Parents sort before their children, so that a directory is kept only under a kept parent.
  std::set<std::string> dirs;
  for (const std::string& dir : durable_dirs_) {
    if (dir == "" || dir == "/") {
      dirs.insert(dir);
    } else if (dirs.count(ParentDir(dir)) > 0) {
      ES_RETURN_IF_ERROR(disk->CreateDir(dir));
      dirs.insert(dir);
    }
  }
  std::map<std::string, std::shared_ptr<Node>> files;
  for (const auto& [path, node] : durable_files_) {
    if (dirs.count(ParentDir(path)) == 0) continue;
    ES_ASSIGN_OR_RETURN(const std::string current, ReadAll(*node->file));
    auto survivor = std::make_shared<Node>();
    survivor->durable = CrashImage(node->durable, current, mode, rng);
    {
      ES_ASSIGN_OR_RETURN(std::unique_ptr<File> writer,
                          disk->OpenFile(path, {.create = true, .writable = true}));
      ES_RETURN_IF_ERROR(writer->Write(0, survivor->durable));
    }
    ES_ASSIGN_OR_RETURN(survivor->file, disk->OpenFile(path, {}));
    files.emplace(path, std::move(survivor));
  }
  base_ = std::move(disk);
  ++generation_;
  files_ = files;
  durable_files_ = std::move(files);
  dirs_ = dirs;
  durable_dirs_ = std::move(dirs);
  return Status::OK();
}

void FaultInjectionEnv::InjectFault(const Fault& fault) {
  std::lock_guard lock(mu_);
  armed_ = true;
  fault_ = fault;
  const std::uint64_t count = fault.kind == OpKind::kAny      ? ops_any_
                              : fault.kind == OpKind::kWrites ? ops_writes_
                                                              : ops_syncs_;
  fault_target_ = count + fault.nth;
}

void FaultInjectionEnv::ClearFault() {
  std::lock_guard lock(mu_);
  armed_ = false;
}

std::uint64_t FaultInjectionEnv::OperationCount(OpKind kind) {
  std::lock_guard lock(mu_);
  switch (kind) {
    case OpKind::kAny:
      return ops_any_;
    case OpKind::kWrites:
      return ops_writes_;
    case OpKind::kSyncs:
      return ops_syncs_;
  }
  return 0;
}

void FaultInjectionEnv::SetSyncHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  sync_hook_ = std::move(hook);
}

void FaultInjectionEnv::RunSyncHook() {
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    hook = sync_hook_;
  }
  if (hook) hook();
}

std::uint64_t FaultInjectionEnv::InjectedFailures() {
  std::lock_guard lock(mu_);
  return failures_;
}

Status FaultInjectionEnv::BeginOp(std::uint64_t generation, OpClass op_class, std::string_view op,
                                  std::string_view path) {
  if (generation != generation_) {
    std::string msg(op);
    msg += ' ';
    msg += path;
    msg += ": the handle was opened before a simulated crash";
    return Status::IOError(msg);
  }
  ++ops_any_;
  ops_writes_ += op_class == OpClass::kWrite;
  ops_syncs_ += op_class == OpClass::kSync;
  if (!armed_) return Status::OK();
  std::uint64_t count = ops_any_;
  if (fault_.kind == OpKind::kWrites) {
    if (op_class != OpClass::kWrite) return Status::OK();
    count = ops_writes_;
  } else if (fault_.kind == OpKind::kSyncs) {
    if (op_class != OpClass::kSync) return Status::OK();
    count = ops_syncs_;
  }
  if (count < fault_target_ || (count > fault_target_ && !fault_.sticky)) return Status::OK();
  ++failures_;
  return ErrnoStatus(op, path, op_class == OpClass::kWrite ? ENOSPC : EIO)
      .WithContext("injected fault");
}

Result<std::shared_ptr<FaultInjectionEnv::Node>> FaultInjectionEnv::NodeFor(
    const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  auto node = std::make_shared<Node>();
  ES_ASSIGN_OR_RETURN(node->file, base_->OpenFile(path, {}));
  files_.emplace(path, node);
  return node;
}

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path, OpenMode mode) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "open", path));
  ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->OpenFile(path, mode));
  ES_ASSIGN_OR_RETURN(std::shared_ptr<Node> node, NodeFor(NormalizePath(path)));
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(file), std::move(node), path, generation_));
}

bool FaultInjectionEnv::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  return base_->FileExists(path);
}

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "opendir", dir));
  return base_->GetChildren(dir);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "unlink", path));
  ES_RETURN_IF_ERROR(base_->RemoveFile(path));
  files_.erase(NormalizePath(path));
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "rename", from + " -> " + to));
  ES_RETURN_IF_ERROR(base_->RenameFile(from, to));
  const auto it = files_.find(NormalizePath(from));
  std::shared_ptr<Node> node = std::move(it->second);
  files_.erase(it);
  files_[NormalizePath(to)] = std::move(node);
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "mkdir", dir));
  ES_RETURN_IF_ERROR(base_->CreateDir(dir));
  dirs_.insert(NormalizePath(dir));
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  RunSyncHook();
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kSync, "fsync", dir));
  ES_RETURN_IF_ERROR(base_->SyncDir(dir));
  const std::string d = NormalizePath(dir);
  // The roots are their own parents but not their own entries.
  const auto in_dir = [&](const std::string& path) { return path != d && ParentDir(path) == d; };
  std::erase_if(durable_files_, [&](const auto& entry) { return in_dir(entry.first); });
  for (const auto& [path, node] : files_) {
    if (in_dir(path)) durable_files_[path] = node;
  }
  std::erase_if(durable_dirs_, in_dir);
  for (const std::string& path : dirs_) {
    if (in_dir(path)) durable_dirs_.insert(path);
  }
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  std::lock_guard lock(mu_);
  ES_RETURN_IF_ERROR(BeginOp(generation_, OpClass::kOther, "lock", path));
  ES_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> file_lock, base_->LockFile(path));
  // Locking creates the file when it is missing.
  ES_RETURN_IF_ERROR(NodeFor(NormalizePath(path)).status());
  return file_lock;
}

std::uint64_t FaultInjectionEnv::NowMicros() {
  std::lock_guard lock(mu_);
  return base_->NowMicros();
}

void FaultInjectionEnv::RandomBytes(void* dst, std::size_t n) {
  std::lock_guard lock(mu_);
  base_->RandomBytes(dst, n);
}

}  // namespace es
