// FaultInjectionEnv: an in-memory Env for crash-safety tests. It knows, for every file, which of
// its bytes and which directory entries a crash of the machine would keep, and it can fail chosen
// operations. Test-only; never linked into the library.
//
// What is durable (a model of POSIX on a journaling file system):
//  - A file's bytes, written through File::Write or a writable mapping, become durable when
//    File::Sync() is called on any handle of the file (all of its bytes and its size) or when
//    MappedRegion::Sync(offset, length) covers them (those bytes only, however they were
//    written: Linux's msync flushes the file's pages in the range). Mappings are plain memory, so
//    what is unsynced is found by comparing the file with its durable image.
//  - The creation, removal and renaming of an entry (file or directory) become durable when its
//    directory is synced with SyncDir. A directory's own entry needs SyncDir of its parent; a
//    file in a directory whose entry is not durable is lost with it. (A file renamed across
//    directories that were both synced since comes back under both names, as two copies.)
//
// SimulateCrash reboots the machine: the file system becomes what was durable, plus what the
// crash mode keeps of what was not. Every handle, mapping and lock taken before the crash belongs
// to the dead process: its operations fail with IOError, a mapping's memory stays readable and
// writable but reaches no file, and its locks are released. So a crash may be simulated while a
// store is open (the store object is then a zombie to destroy whenever convenient, and a new one
// can be opened at once), as long as nothing is writing to the env's files at that moment.
//
// Faults: InjectFault makes the nth operation of a kind fail with IOError (ENOSPC for writes, EIO
// otherwise; and, when sticky, every later one of that kind: a dead disk); a failing File::Write
// may first write part of its data (a short write).
//
// Thread-safe like every Env; one mutex serialises the file system operations.
#ifndef ES_ENGINE_ENV_FAULT_ENV_H_
#define ES_ENGINE_ENV_FAULT_ENV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "es/env.h"

namespace es {

class FaultInjectionEnv final : public Env {
 public:
  // What a crash keeps of a file's bytes (and size) that were not durable.
  enum class CrashMode {
    // Nothing: the durable image only.
    kDropUnsynced,
    // Everything: what a crash of the process alone (not the machine) leaves.
    kKeepUnsynced,
    // Per file, chosen by the seed: nothing, everything, or the unsynced bytes before a random
    // unsynced byte, in file order (a torn write: for an append-only file, the order of
    // writing). The file's size is its durable or its current size.
    kTornUnsynced,
    // Per file and per 512-byte sector, chosen by the seed: the sector's new or old bytes, in no
    // order (disk caches and write-back reorder writes that were not synced).
    kScrambledUnsynced,
  };

  // Which operations a fault counts and fails.
  enum class OpKind {
    kAny,     // every operation below, and opening, listing, removing, renaming, locking,
              // mapping, reading and sizing
    kWrites,  // File::Write, File::Allocate, File::Truncate
    kSyncs,   // File::Sync, MappedRegion::Sync, SyncDir
  };

  struct Fault {
    OpKind kind = OpKind::kAny;
    // The nth operation of `kind` from now fails: 1 is the next one.
    std::uint64_t nth = 1;
    // Every later operation of `kind` fails too.
    bool sticky = false;
    // A failing File::Write first writes up to this many bytes of its data (never all of it).
    std::size_t short_write_bytes = 0;
  };

  FaultInjectionEnv();
  ~FaultInjectionEnv() override;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // Crashes and reboots the machine (see the file comment). The same seed on the same files
  // gives the same result. Armed faults stay armed and operation counts go on. Fails only if the
  // in-memory file system does.
  Status SimulateCrash(std::uint64_t seed, CrashMode mode = CrashMode::kTornUnsynced);

  // Arms `fault`, replacing any armed one.
  void InjectFault(const Fault& fault);
  // Disarms the fault: operations succeed again.
  void ClearFault();
  // Operations of `kind` attempted since construction (by live handles; failed ones included).
  std::uint64_t OperationCount(OpKind kind);
  // Operations failed by injected faults since construction.
  std::uint64_t InjectedFailures();
  // Calls `hook` (when non-empty) at the start of every sync (File::Sync, MappedRegion::Sync,
  // SyncDir), on the syncing thread, before the sync is counted or may fail: a test can hold a
  // writer inside its sync. The hook must not call into this Env.
  void SetSyncHook(std::function<void()> hook);

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  bool FileExists(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status CreateDir(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  std::uint64_t NowMicros() override;
  void RandomBytes(void* dst, std::size_t n) override;

 private:
  struct Node;
  class FaultFile;
  class FaultRegion;
  enum class OpClass { kOther, kWrite, kSync };

  // Counts an operation of `op_class` by a handle of `generation`, and says whether it may
  // proceed: IOError for a handle from before a crash or when an injected fault fires. Requires
  // mu_.
  Status BeginOp(std::uint64_t generation, OpClass op_class, std::string_view op,
                 std::string_view path);
  // The node of the file at normalized `path`, created for a file the base Env just created.
  // Requires mu_.
  Result<std::shared_ptr<Node>> NodeFor(const std::string& path);
  void RunSyncHook();  // without mu_

  std::mutex mu_;
  // The file system of the current boot; replaced by a fresh one at each crash.
  std::unique_ptr<Env> base_;                                   // guarded by mu_
  std::uint64_t generation_ = 0;                                // guarded by mu_: crashes so far
  std::map<std::string, std::shared_ptr<Node>> files_;          // guarded by mu_: entries now
  std::map<std::string, std::shared_ptr<Node>> durable_files_;  // guarded by mu_
  std::set<std::string> dirs_;                                  // guarded by mu_
  std::set<std::string> durable_dirs_;                          // guarded by mu_

  bool armed_ = false;               // guarded by mu_
  Fault fault_;                      // guarded by mu_
  std::uint64_t fault_target_ = 0;   // guarded by mu_: OperationCount(fault_.kind) that fails
  std::uint64_t ops_any_ = 0;        // guarded by mu_
  std::uint64_t ops_writes_ = 0;     // guarded by mu_
  std::uint64_t ops_syncs_ = 0;      // guarded by mu_
  std::uint64_t failures_ = 0;       // guarded by mu_
  std::function<void()> sync_hook_;  // guarded by mu_
};

}  // namespace es

#endif  // ES_ENGINE_ENV_FAULT_ENV_H_
