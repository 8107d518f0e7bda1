// Helpers shared by the fuzz targets that start from a real store: an in-memory Env whose salts,
// store ids and clock are the same in every process (so that an input found by one run means the
// same thing in the next, and in the replay of regressions), and whole store directories as
// images to mutate and write back. Any failure of the Env here aborts: it is not what a target
// tests.
#ifndef ES_FUZZ_STORE_IMAGE_H_
#define ES_FUZZ_STORE_IMAGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/env/forwarding_env.h"
#include "es/env.h"
#include "es/event.h"
#include "es/options.h"
#include "es/store.h"

namespace es::fuzz {

inline constexpr char kStoreDir[] = "/store";

// NewMemEnv() with a fixed random seed and a clock that ticks by one microsecond per reading.
class DeterministicMemEnv final : public ForwardingEnv {
 public:
  DeterministicMemEnv() : ForwardingEnv(NewMemEnv()) {}
  std::uint64_t NowMicros() override;
  void RandomBytes(void* dst, std::size_t n) override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_{20261128};              // guarded by mu_
  std::uint64_t now_ = 1'800'000'000'000'000;  // guarded by mu_
};

// The files of a directory (one level), by name.
using DirImage = std::map<std::string, std::string>;
DirImage ReadDirImage(Env* env, const std::string& dir);
// Creates `dir` holding exactly the files of `image`.
void WriteDirImage(Env* env, const std::string& dir, const DirImage& image);

// The events and tracking records of a small store: every event field (streams, uuids, metadata,
// repeated tags), tracking records with and without events, across several segments.
struct SampleWrite {
  std::vector<Event> events;
  std::vector<Tracking> tracking;  // at most one
};
std::vector<SampleWrite> SampleWrites();

// Options for small stores: 64 KiB segments of at most 8 events (so that the sample store spans
// four), durability kNone, no spare segments.
Options SmallStoreOptions();

// Makes each write one request; aborts when one fails.
void WriteAll(Store& store, std::span<const SampleWrite> writes);

// The directory image of a store made on a DeterministicMemEnv with `options` (its env is
// replaced) by SampleWrites, then closed.
DirImage MakeSampleStore(Options options);

}  // namespace es::fuzz

#endif  // ES_FUZZ_STORE_IMAGE_H_
