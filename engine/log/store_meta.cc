#include "engine/log/store_meta.h"

#include <string_view>
#include <vector>

namespace es {
namespace {

std::string MetaPath(const std::string& dir) { return dir + "/" + kStoreMetaName; }

Status WriteSlot(Env* env, const std::string& path, const StoreMeta& meta, bool create) {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      env->OpenFile(path, {.create = create, .writable = true}));
  std::vector<char> block(kMetaSlotSize);
  EncodeMetaSlot(meta.slot, block.data());
  if (create) ES_RETURN_IF_ERROR(file->Allocate(2 * kMetaSlotSize));
  ES_RETURN_IF_ERROR(
      file->Write(meta.index * kMetaSlotSize, std::string_view(block.data(), block.size())));
  return file->Sync().WithContext(path);
}

}  // namespace

Result<StoreMeta> CreateStoreMeta(Env* env, const std::string& dir, std::uint32_t key_id) {
  StoreMeta meta;
  meta.slot.key_id = key_id;
  env->RandomBytes(meta.slot.store_id.data(), meta.slot.store_id.size());
  meta.slot.generation = 1;
  meta.slot.writer_epoch = 1;
  meta.slot.created_us = env->NowMicros();
  // Written under a temporary name and renamed, so that a failure part-way leaves a temporary
  // (which Open removes) rather than a store.meta without a valid slot, which no open can read.
  const std::string temporary = MetaPath(dir) + ".tmp";
  ES_RETURN_IF_ERROR(WriteSlot(env, temporary, meta, /*create=*/true));
  ES_RETURN_IF_ERROR(env->RenameFile(temporary, MetaPath(dir)));
  ES_RETURN_IF_ERROR(env->SyncDir(dir));
  return meta;
}

Result<StoreMeta> ReadStoreMeta(Env* env, const std::string& dir) {
  std::string path = MetaPath(dir);
  ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, {}));
  ES_ASSIGN_OR_RETURN(std::uint64_t size, file->Size());
  if (size != 2 * kMetaSlotSize) {
    return Status::Corruption(path + ": wrong size " + std::to_string(size));
  }
  std::vector<char> bytes(2 * kMetaSlotSize);
  ES_RETURN_IF_ERROR(file->Read(0, bytes.size(), bytes.data()));
  StoreMeta slots[2];
  bool valid[2];
  for (int i = 0; i < 2; ++i) {
    slots[i].index = i;
    valid[i] = DecodeMetaSlot(bytes.data() + i * kMetaSlotSize, &slots[i].slot).ok();
  }
  if (!valid[0] && !valid[1]) return Status::Corruption(path + ": no valid slot");
  if (valid[0] && valid[1] && slots[0].slot.store_id != slots[1].slot.store_id) {
    return Status::Corruption(path + ": slots name different stores");
  }
  bool first = !valid[1] || (valid[0] && slots[0].slot.generation > slots[1].slot.generation);
  return slots[first ? 0 : 1];
}

Result<StoreMeta> BumpStoreMeta(Env* env, const std::string& dir, const StoreMeta& current,
                                std::int64_t durable_position) {
  StoreMeta next = current;
  ++next.slot.writer_epoch;
  return RecordDurablePosition(env, dir, next, durable_position);
}

Result<StoreMeta> RecordDurablePosition(Env* env, const std::string& dir, const StoreMeta& current,
                                        std::int64_t durable_position) {
  StoreMeta next = current;
  next.index = 1 - current.index;
  ++next.slot.generation;
  next.slot.durable_position = durable_position;
  ES_RETURN_IF_ERROR(WriteSlot(env, MetaPath(dir), next, /*create=*/false));
  return next;
}

}  // namespace es
