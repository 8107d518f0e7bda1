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
// The size of a frame header (frame.h), which every encrypted entry of the frame authenticates.
inline constexpr std::size_t kFrameHeaderSize = 48;

class AesGcm;

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
  // An encrypted entry parsed without being opened (OpenEventEntry): every field above but
  // data_compressed and has_stream is empty, and `sealed` holds the entry's content as stored
  // (ciphertext, then the tag).
  bool encrypted = false;
  std::string_view sealed;

  // Calls fn(std::string_view tag) for each tag in stored order.
  template <typename Fn>
  void ForEachTag(Fn&& fn) const;
};

// The encoded size of `event`, or InvalidArgument naming what is wrong (empty type, empty stream
// id, a type, tag or stream id over 65,535 bytes, an entry over 4 GiB). With `compressed_data`,
// the entry stores that (the zstd frame of event.data) in place of event.data, and says so.
// `encrypted`: the size of the entry EncodeEncryptedEventEntry writes.
Status EventEntrySize(const Event& event, std::size_t* size,
                      const std::string* compressed_data = nullptr, bool encrypted = false);

// Writes the entry of `event` (whose size EventEntrySize gave, with the same `compressed_data`)
// at `dst`.
void EncodeEventEntry(const Event& event, std::int64_t position, std::uint64_t salt, char* dst,
                      const std::string* compressed_data = nullptr);

// Writes the entry of `event` at `dst` with its content (every field after the fixed part)
// encrypted under `key`: the nonce is the low 32 bits of the writer epoch in `frame_header` (the
// header of the frame the entry goes in, already encoded) and the position; the associated data
// is the frame header and the entry's fixed part (docs/format.md, "Event entry"). Its size is
// EventEntrySize(..., encrypted = true).
Status EncodeEncryptedEventEntry(const Event& event, std::int64_t position, std::uint64_t salt,
                                 const char* frame_header, const AesGcm& key, char* dst,
                                 const std::string* compressed_data = nullptr);

// Parses the entry at `src` (at most `available` bytes) without verifying its check: sets `view`
// and `*length`. Corruption when it does not parse within `available`. An encrypted entry is not
// opened: `view` says only that it is (EventView::encrypted).
Status ParseEventEntry(const char* src, std::size_t available, EventView* view,
                       std::size_t* length);

// Opens the encrypted entry at `entry` (of `position`, in the frame whose header is at
// `frame_header`), whose `view` ParseEventEntry set: decrypts its content into `*plain` and
// parses it, leaving `view` pointing into `*plain`. Does nothing when the view is not encrypted.
// Corruption when the content does not authenticate (any byte of the entry or of the frame
// header changed, another position, or another key) or does not parse.
Status OpenEventEntry(const char* entry, const char* frame_header, std::int64_t position,
                      const AesGcm& key, std::string* plain, EventView* view);

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
