// Compression of event data, one event at a time (docs/format.md, "Event entry"): each event's
// data is its own zstd frame, so reading one event never decompresses its neighbours. Types,
// tags and stream ids stay as they are: they are short, and the in-memory indexes are built from
// them at open.
#ifndef ES_ENGINE_COMPRESS_EVENT_COMPRESSOR_H_
#define ES_ENGINE_COMPRESS_EVENT_COMPRESSOR_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/compress/compression_dictionary.h"
#include "es/status.h"

namespace es {

// The most data an event can hold: an entry's data length is a u32.
inline constexpr std::size_t kMaxEventData = 0xFFFFFFFF;

class EventCompressor {
 public:
  // `level` is zstd's (1 fastest ... 19; negative levels faster still); data shorter than
  // `min_bytes` is never compressed.
  EventCompressor(int level, std::size_t min_bytes) : level_(level), min_bytes_(min_bytes) {}

  // Sets `*compressed` to the zstd frame of `data`, made with `dictionary` when not null (at the
  // level the dictionary was loaded with), and returns true when that is smaller than `data`;
  // false (and `*compressed` unspecified) when `data` is too short or does not shrink, and is to
  // be stored as it is. Thread-safe.
  bool Compress(std::string_view data, const CompressionDictionary* dictionary,
                std::string* compressed) const;

 private:
  const int level_;
  const std::size_t min_bytes_;
};

// The data of a zstd frame made by Compress, into `*data`, with the dictionary the frame names
// taken from `dictionaries` (which may be null when the store has none). Corruption when `frame`
// is not one (damaged, truncated, or declaring a size over `max_bytes`) or names a dictionary the
// set lacks. Needs no other settings: a store reads its compressed events whatever its current
// options. Thread-safe.
Status DecompressEventData(std::string_view frame, const DictionarySet* dictionaries,
                           std::size_t max_bytes, std::string* data);

}  // namespace es

#endif  // ES_ENGINE_COMPRESS_EVENT_COMPRESSOR_H_
