// The index checkpoints of a store directory (docs/format.md, "Index checkpoint"): their names,
// writing one durably and pruning the older ones, and loading one at Open after checking that the
// log still holds exactly what it covers.
#ifndef ES_ENGINE_CHECKPOINTS_H_
#define ES_ENGINE_CHECKPOINTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/crypto/store_cipher.h"
#include "engine/format/checkpoint_file.h"
#include "engine/format/file_headers.h"
#include "engine/index/mem_index.h"
#include "engine/log/recovery.h"
#include "es/env.h"
#include "es/result.h"

namespace es {

// "<position, 20 digits>.ckpt".
std::string CheckpointFileName(std::int64_t position);
// Parses a checkpoint file name; false for any other name.
bool ParseCheckpointFileName(const std::string& name, std::int64_t* position);

// A checkpoint being written: a temporary file until Commit. Destroying it uncommitted removes
// the temporary.
class CheckpointWriter {
 public:
  // Creates the temporary file of the checkpoint at `position`.
  static Result<std::unique_ptr<CheckpointWriter>> Create(Env* env, const std::string& dir,
                                                          std::int64_t position);
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Writes `header` (every field but the salt, the key id, the record counts and the block
  // fields, which it sets) and the records of the snapshot `index` holds, encrypted when the
  // store has a `cipher`. The index is read only during the call.
  Status Write(CheckpointHeader header, const MemIndex& index, const StoreCipher* cipher);
  // Syncs the file, renames it to its name, syncs the directory, then removes every other
  // checkpoint but `previous`: the one before it that the store loaded or wrote, known to be good
  // (0: none).
  Status Commit(std::int64_t previous);

 private:
  CheckpointWriter(Env* env, std::string dir, std::int64_t position, std::unique_ptr<File> file)
      : env_(env), dir_(std::move(dir)), position_(position), file_(std::move(file)) {}
  std::string TempPath() const;

  Env* const env_;
  const std::string dir_;
  const std::int64_t position_;
  std::unique_ptr<File> file_;  // null once committed
};

// Loads the checkpoint at `position` of the store `meta` (whose directory holds the segments
// `segment_bases`, ascending) into the empty `index`, after every check of docs/format.md,
// "Loading". Returns where replay resumes. On failure `index` is empty again; `replay_all` is set
// when the failure lies in the position indexes rather than the checkpoint, so that no other
// checkpoint should be tried. With `read_only` nothing is written: segments and position
// indexes are mapped read-only (a position index that would need recreating fails the load).
// The checkpoint of an encrypted store is opened with its `cipher`; without one, every check but
// the records' is made and the result is NotSupported.
Result<ReplayStart> LoadCheckpoint(Env* env, const std::string& dir, std::int64_t position,
                                   const MetaSlot& meta,
                                   const std::vector<std::int64_t>& segment_bases, MemIndex* index,
                                   bool* replay_all, const StoreCipher* cipher,
                                   bool read_only = false);

}  // namespace es

#endif  // ES_ENGINE_CHECKPOINTS_H_
