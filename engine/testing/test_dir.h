// Test helpers for engine tests: a temporary directory, whole-directory snapshots in an Env, and
// event builders. Test-only; never linked into the library.
#ifndef ES_ENGINE_TESTING_TEST_DIR_H_
#define ES_ENGINE_TESTING_TEST_DIR_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/env/forwarding_env.h"
#include "es/env.h"
#include "es/event.h"
#include "es/options.h"
#include "es/query.h"

namespace es::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The bytes of every file in `dir` (one level), by name.
using DirImage = std::map<std::string, std::string>;
DirImage ReadDir(Env* env, const std::string& dir);
// Replaces the files of `dir` with `image` (files not in it are removed).
void WriteDir(Env* env, const std::string& dir, const DirImage& image);

// Reads a whole file / writes bytes into a file (created if missing) at an offset.
std::string ReadFile(Env* env, const std::string& path);
void PatchFile(Env* env, const std::string& path, std::uint64_t offset, const std::string& bytes);
// Flips a bit of the byte at `offset` of the file at `path`.
void FlipBit(Env* env, const std::string& path, std::uint64_t offset);

// Offsets of the frames of a segment file's bytes, in order.
std::vector<std::uint64_t> FrameOffsets(const std::string& segment);

// Rewrites store.meta of the store in `dir` as a writer that crashed would have left it: no
// position recorded as durable (as when the open before the crash found an empty log). Tests that
// forge a crash's leftovers from a cleanly closed store need it: a clean close records every
// frame as durable, and damage to those is corruption, not a torn tail.
void ForgetDurablePosition(Env* env, const std::string& dir);

// Writes a new store in `dir` of `env` with 200 events in 20 frames of 10, in segments of 60
// events (from positions 1, 61, 121 and 181), each frame recording the ones before it as durable
// (kSync). Returns the options it was written with.
Options WriteSegmentedStore(Env* env, const std::string& dir);

// Env `base` but for `hook`, run before the first OpenFile of `path`: what another process (a
// live writer) does to the store's files at that moment of a read-only open or a verify.
class OpenHookEnv final : public ForwardingEnv {
 public:
  OpenHookEnv(Env* base, std::string path, std::function<void()> hook)
      : ForwardingEnv(base), path_(std::move(path)), hook_(std::move(hook)) {}
  // Whether the hook has run.
  bool hooked() const { return !hook_; }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;

 private:
  const std::string path_;
  std::function<void()> hook_;
};

Event MakeEvent(std::string type, std::vector<std::string> tags, std::string data = "");
QueryItem Item(std::vector<std::string> types, std::vector<std::string> tags);

}  // namespace es::testing

#endif  // ES_ENGINE_TESTING_TEST_DIR_H_
