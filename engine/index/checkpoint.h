// IndexCheckpoint: the records of an index checkpoint (docs/format.md, "Index checkpoint"): a
// MemIndex snapshot written as blocks of a checkpoint file, and a MemIndex rebuilt from them.
#ifndef ES_ENGINE_INDEX_CHECKPOINT_H_
#define ES_ENGINE_INDEX_CHECKPOINT_H_

#include <span>

#include "engine/format/checkpoint_file.h"
#include "engine/index/mem_index.h"
#include "es/status.h"

namespace es {

class IndexCheckpoint {
 public:
  // Writes the records of the snapshot `index` is holding (MemIndex::BeginSnapshot; the writer
  // may go on adding events meanwhile) and sets the record counts of `header`.
  static void Write(const MemIndex& index, CheckpointBlockWriter* writer, CheckpointHeader* header);

  // Rebuilds the empty `index` from the verified `blocks` of a checkpoint with `header`, as of
  // header.position. Corruption when a record breaks a rule of the format; `index` then holds
  // part of the checkpoint and must be cleared.
  static Status Read(std::span<const CheckpointBlock> blocks, const CheckpointHeader& header,
                     MemIndex* index);
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_CHECKPOINT_H_
