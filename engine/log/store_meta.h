// store.meta: the store id and the writer epoch, in two checksummed slots (docs/format.md).
#ifndef ES_ENGINE_LOG_STORE_META_H_
#define ES_ENGINE_LOG_STORE_META_H_

#include <string>

#include "engine/format/file_headers.h"
#include "es/env.h"
#include "es/result.h"

namespace es {

inline constexpr char kStoreMetaName[] = "store.meta";

struct StoreMeta {
  MetaSlot slot;  // the current slot
  int index = 0;  // which slot it is: 0 (A) or 1 (B)
};

// Creates store.meta for a new store (generation 1, epoch 1) durably, encrypted under the key
// with `key_id` (0: not encrypted).
Result<StoreMeta> CreateStoreMeta(Env* env, const std::string& dir, std::uint32_t key_id = 0);

// Reads the current slot: the valid one with the larger generation. Corruption when neither is
// valid.
Result<StoreMeta> ReadStoreMeta(Env* env, const std::string& dir);

// Durably writes the other slot with the next generation and writer epoch (at open, before the
// first frame), recording that positions up to `durable_position` are durable.
Result<StoreMeta> BumpStoreMeta(Env* env, const std::string& dir, const StoreMeta& current,
                                std::int64_t durable_position);

// Durably writes the other slot with the next generation and the same epoch, recording that
// positions up to `durable_position` are durable (at a clean close).
Result<StoreMeta> RecordDurablePosition(Env* env, const std::string& dir, const StoreMeta& current,
                                        std::int64_t durable_position);

}  // namespace es

#endif  // ES_ENGINE_LOG_STORE_META_H_
