#include "engine/compress/event_compressor.h"

#include <zstd.h>

#include <memory>

namespace es {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

// One context per thread: writers compress in their own threads, before they queue.
ZSTD_CCtx* ThreadCompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

}  // namespace

bool EventCompressor::Compress(std::string_view data, const CompressionDictionary* dictionary,
                               std::string* compressed) const {
  if (data.size() < min_bytes_) return false;
  ZSTD_CCtx* ctx = ThreadCompressionContext();
  if (ctx == nullptr) return false;  // out of memory: storing the data plain is still right
  compressed->resize(ZSTD_compressBound(data.size()));
  // Both calls write the content size, no checksum (the log checksums the entry) and, with a
  // dictionary, its id.
  const std::size_t n =
      dictionary != nullptr
          ? ZSTD_compress_usingCDict(ctx, compressed->data(), compressed->size(), data.data(),
                                     data.size(), dictionary->cdict())
          : ZSTD_compressCCtx(ctx, compressed->data(), compressed->size(), data.data(), data.size(),
                              level_);
  if (ZSTD_isError(n) || n >= data.size()) return false;
  compressed->resize(n);
  return true;
}

Status DecompressEventData(std::string_view frame, const DictionarySet* dictionaries,
                           std::size_t max_bytes, std::string* data) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_bytes) {
    return Status::Corruption("compressed event data has no valid zstd frame header");
  }
  std::shared_ptr<const CompressionDictionary> dictionary;
  if (const unsigned id = ZSTD_getDictID_fromFrame(frame.data(), frame.size()); id != 0) {
    if (dictionaries != nullptr) dictionary = dictionaries->Find(id);
    if (dictionary == nullptr) {
      return Status::Corruption("compressed event data needs compression dictionary " +
                                std::to_string(id) + ", which the store does not have");
    }
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (ctx == nullptr) return Status::IOError("out of memory for a zstd decompression context");
  data->resize(static_cast<std::size_t>(size));
  const std::size_t n =
      dictionary != nullptr
          ? ZSTD_decompress_usingDDict(ctx.get(), data->data(), data->size(), frame.data(),
                                       frame.size(), dictionary->ddict())
          : ZSTD_decompressDCtx(ctx.get(), data->data(), data->size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::Corruption(std::string("compressed event data does not decompress: ") +
                              (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size"));
  }
  return Status::OK();
}

}  // namespace es
