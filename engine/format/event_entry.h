// Event entries: one event inside a frame body (docs/format.md, "Event entry").
#ifndef ES_ENGINE_FORMAT_EVENT_ENTRY_H_
#define ES_ENGINE_FORMAT_EVENT_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/util/coding.h"
#include "es/event.h"
#include "es/status.h"

namespace es {

inline constexpr std::size_t kMaxShortString = 65535;  // types, tags, stream ids

// A decoded entry pointing into the bytes it was decoded from.
struct EventView {
  std::string_view type;
  std::string_view data;  // as stored: a zstd frame when data_compressed
  bool data_compressed = false;
  std::string_view stream_id;  // empty without a stream
  std::int64_t version = 0;
  bool has_stream = false;
  const char* uuid = nullptr;  // 16 bytes, or null
  std::string_view metadata;   // the encoded pair block, empty without metadata
  std::uint16_t tag_count = 0;
  const char* tags = nullptr;  // tag_count (u16 length, bytes) records

  // Calls fn(std::string_view tag) for each tag in stored order.
  template <typename Fn>
  void ForEachTag(Fn&& fn) const;
};

// The encoded size of `event`, or InvalidArgument naming what is wrong (empty type, empty stream
// id, a type, tag or stream id over 65,535 bytes, an entry over 4 GiB). With `compressed_data`,
// the entry stores that (the zstd frame of event.data) in place of event.data, and says so.
Status EventEntrySize(const Event& event, std::size_t* size,
                      const std::string* compressed_data = nullptr);

// Writes the entry of `event` (whose size EventEntrySize gave, with the same `compressed_data`)
// at `dst`.
void EncodeEventEntry(const Event& event, std::int64_t position, std::uint64_t salt, char* dst,
                      const std::string* compressed_data = nullptr);

// Parses the entry at `src` (at most `available` bytes) without verifying its check: sets `view`
// and `*length`. Corruption when it does not parse within `available`.
Status ParseEventEntry(const char* src, std::size_t available, EventView* view,
                       std::size_t* length);

// Verifies the entry check of the entry at `src` (length `length`) for `position`.
bool EventEntryCheckMatches(const char* src, std::size_t length, std::int64_t position,
                            std::uint64_t salt);

// Copies a view into an owned Event; its data is as stored (still compressed when
// view.data_compressed).
Event ToEvent(const EventView& view);

template <typename Fn>
void EventView::ForEachTag(Fn&& fn) const {
  const char* p = tags;
  for (std::uint16_t i = 0; i < tag_count; ++i) {
    auto n = DecodeFixed<std::uint16_t>(p);
    fn(std::string_view(p + 2, n));
    p += 2 + n;
  }
}

}  // namespace es

#endif  // ES_ENGINE_FORMAT_EVENT_ENTRY_H_
