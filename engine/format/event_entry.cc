#include "engine/format/event_entry.h"

#include <cstring>
#include <limits>
#include <string>

#include "engine/crypto/aes_gcm.h"
#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

constexpr std::size_t kFixedPart = 20;
constexpr std::uint16_t kHasStream = 1;
constexpr std::uint16_t kHasUuid = 2;
constexpr std::uint16_t kHasMetadata = 4;
constexpr std::uint16_t kDataCompressed = 8;
constexpr std::uint16_t kEncrypted = 16;

std::size_t MetadataBlockSize(const Metadata& metadata) {
  std::size_t n = 4;
  for (const auto& [key, value] : metadata) n += 8 + key.size() + value.size();
  return n;
}

char* Put(char* dst, std::string_view bytes) {
  std::memcpy(dst, bytes.data(), bytes.size());
  return dst + bytes.size();
}

std::uint32_t EntryCheck(const char* entry, std::size_t length, std::int64_t position,
                         std::uint64_t salt) {
  return static_cast<std::uint32_t>(
      Checksum64(entry + 8, length - 8, salt ^ static_cast<std::uint64_t>(position)));
}

// Bounds-checked reading of an entry.
class Reader {
 public:
  Reader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  bool Take(std::size_t n, const char** out) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }
  template <typename T>
  bool Fixed(T* out) {
    const char* at;
    if (!Take(sizeof(T), &at)) return false;
    *out = DecodeFixed<T>(at);
    return true;
  }
  bool Bytes(std::size_t n, std::string_view* out) {
    const char* at;
    if (!Take(n, &at)) return false;
    *out = std::string_view(at, n);
    return true;
  }
  const char* position() const { return p_; }

 private:
  const char* p_;
  const char* end_;
};

struct FixedPart {
  std::uint16_t flags = 0, tag_count = 0, type_length = 0, stream_length = 0;
  std::uint32_t data_length = 0;
};

Status BadEntry(const char* what) {
  return Status::Corruption(std::string("event entry: ") + what);
}

// Parses the content (everything after the fixed part) of an entry with `fixed` into `view`,
// which then points into `content`.
Status ParseContent(const FixedPart& fixed, std::string_view content, EventView* view) {
  Reader r(content.data(), content.size());
  if (view->has_stream && !r.Fixed(&view->version)) return BadEntry("truncated version");
  if ((fixed.flags & kHasUuid) != 0 && !r.Take(16, &view->uuid)) return BadEntry("truncated uuid");
  if ((fixed.flags & kHasMetadata) != 0) {
    std::uint32_t block_length;
    if (!r.Fixed(&block_length) || !r.Bytes(block_length, &view->metadata)) {
      return BadEntry("truncated metadata");
    }
    Reader m(view->metadata.data(), view->metadata.size());
    std::uint32_t count;
    if (!m.Fixed(&count)) return BadEntry("truncated metadata count");
    // As the writer makes it: present only when not empty, keys strictly ascending. Anything else
    // would decode into another map than the bytes say (ToEvent drops and sorts).
    if (count == 0) return BadEntry("empty metadata");
    std::string_view previous_key;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t n;
      std::string_view key, value;
      if (!m.Fixed(&n) || !m.Bytes(n, &key) || !m.Fixed(&n) || !m.Bytes(n, &value)) {
        return BadEntry("truncated metadata pair");
      }
      if (i > 0 && key <= previous_key) return BadEntry("metadata keys not strictly ascending");
      previous_key = key;
    }
    if (m.position() != view->metadata.data() + view->metadata.size()) {
      return BadEntry("metadata length disagrees with its pairs");
    }
  }
  view->tag_count = fixed.tag_count;
  view->tags = r.position();
  for (std::uint16_t i = 0; i < fixed.tag_count; ++i) {
    std::uint16_t n;
    std::string_view tag;
    if (!r.Fixed(&n) || !r.Bytes(n, &tag)) return BadEntry("truncated tag");
  }
  if (!r.Bytes(fixed.type_length, &view->type) || !r.Bytes(fixed.stream_length, &view->stream_id) ||
      !r.Bytes(fixed.data_length, &view->data)) {
    return BadEntry("truncated strings");
  }
  if (r.position() != content.data() + content.size()) {
    return BadEntry("length disagrees with its fields");
  }
  return Status::OK();
}

FixedPart DecodeFixedPart(const char* entry) {
  FixedPart fixed;
  fixed.flags = DecodeFixed<std::uint16_t>(entry + 8);
  fixed.tag_count = DecodeFixed<std::uint16_t>(entry + 10);
  fixed.type_length = DecodeFixed<std::uint16_t>(entry + 12);
  fixed.stream_length = DecodeFixed<std::uint16_t>(entry + 14);
  fixed.data_length = DecodeFixed<std::uint32_t>(entry + 16);
  return fixed;
}

// The associated data that binds an encrypted entry's content to its frame and its own fixed
// part: the frame header, then the entry's length and bytes [8, 20).
std::string_view AssociatedData(const char* frame_header, const char* entry, char* buffer) {
  std::memcpy(buffer, frame_header, kFrameHeaderSize);
  std::memcpy(buffer + kFrameHeaderSize, entry, 4);
  std::memcpy(buffer + kFrameHeaderSize + 4, entry + 8, kFixedPart - 8);
  return std::string_view(buffer, kFrameHeaderSize + kFixedPart - 4);
}

// The writer epoch's low 32 bits, then the position: unique for every entry ever written under
// the store's key (docs/format.md, "store.meta").
AesGcm::Nonce EntryNonce(const char* frame_header, std::int64_t position) {
  AesGcm::Nonce nonce;
  std::memcpy(nonce.data(), frame_header + 40, 4);
  char bytes[8];
  EncodeFixed<std::int64_t>(bytes, position);
  std::memcpy(nonce.data() + 4, bytes, 8);
  return nonce;
}

// Writes the entry of `event` at `dst` but for its length and check, with `extra_flags`; returns
// the end of its content.
char* EncodeUnchecked(const Event& event, char* dst, const std::string* compressed_data,
                      std::uint16_t extra_flags) {
  const std::string_view data = compressed_data != nullptr ? *compressed_data : event.data;
  std::uint16_t flags = (event.stream ? kHasStream : 0) | (event.uuid ? kHasUuid : 0) |
                        (event.metadata.empty() ? 0 : kHasMetadata) |
                        (compressed_data != nullptr ? kDataCompressed : 0) | extra_flags;
  char* p = dst + 8;
  EncodeFixed<std::uint16_t>(p, flags);
  EncodeFixed<std::uint16_t>(p + 2, static_cast<std::uint16_t>(event.tags.size()));
  EncodeFixed<std::uint16_t>(p + 4, static_cast<std::uint16_t>(event.type.size()));
  EncodeFixed<std::uint16_t>(
      p + 6, static_cast<std::uint16_t>(event.stream ? event.stream->id.size() : 0));
  EncodeFixed<std::uint32_t>(p + 8, static_cast<std::uint32_t>(data.size()));
  p += 12;
  if (event.stream) {
    EncodeFixed<std::int64_t>(p, event.stream->version);
    p += 8;
  }
  if (event.uuid) {
    std::memcpy(p, event.uuid->data(), 16);
    p += 16;
  }
  if (!event.metadata.empty()) {
    EncodeFixed<std::uint32_t>(p, static_cast<std::uint32_t>(MetadataBlockSize(event.metadata)));
    EncodeFixed<std::uint32_t>(p + 4, static_cast<std::uint32_t>(event.metadata.size()));
    p += 8;
    for (const auto& [key, value] : event.metadata) {
      EncodeFixed<std::uint32_t>(p, static_cast<std::uint32_t>(key.size()));
      p = Put(p + 4, key);
      EncodeFixed<std::uint32_t>(p, static_cast<std::uint32_t>(value.size()));
      p = Put(p + 4, value);
    }
  }
  for (const std::string& tag : event.tags) {
    EncodeFixed<std::uint16_t>(p, static_cast<std::uint16_t>(tag.size()));
    p = Put(p + 2, tag);
  }
  p = Put(p, event.type);
  if (event.stream) p = Put(p, event.stream->id);
  return Put(p, data);
}

void SetLengthAndCheck(char* entry, std::size_t length, std::int64_t position, std::uint64_t salt) {
  EncodeFixed<std::uint32_t>(entry, static_cast<std::uint32_t>(length));
  EncodeFixed<std::uint32_t>(entry + 4, EntryCheck(entry, length, position, salt));
}

}  // namespace

Status EventEntrySize(const Event& event, std::size_t* size, const std::string* compressed_data,
                      bool encrypted) {
  if (event.type.empty()) return Status::InvalidArgument("event type is empty");
  if (event.type.size() > kMaxShortString) {
    return Status::InvalidArgument("event type is longer than 65535 bytes");
  }
  if (event.tags.size() > std::numeric_limits<std::uint16_t>::max()) {
    return Status::InvalidArgument("event has more than 65535 tags");
  }
  const std::size_t data_size =
      compressed_data != nullptr ? compressed_data->size() : event.data.size();
  std::size_t n = kFixedPart + event.type.size() + data_size;
  for (const std::string& tag : event.tags) {
    if (tag.size() > kMaxShortString) {
      return Status::InvalidArgument("event tag is longer than 65535 bytes");
    }
    n += 2 + tag.size();
  }
  if (event.stream) {
    if (event.stream->id.empty()) return Status::InvalidArgument("stream id is empty");
    if (event.stream->id.size() > kMaxShortString) {
      return Status::InvalidArgument("stream id is longer than 65535 bytes");
    }
    n += 8 + event.stream->id.size();
  }
  if (event.uuid) n += 16;
  if (!event.metadata.empty()) n += 4 + MetadataBlockSize(event.metadata);
  if (encrypted) n += AesGcm::kTagSize;
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    return Status::InvalidArgument("event is larger than 4 GiB");
  }
  *size = n;
  return Status::OK();
}

void EncodeEventEntry(const Event& event, std::int64_t position, std::uint64_t salt, char* dst,
                      const std::string* compressed_data) {
  char* end = EncodeUnchecked(event, dst, compressed_data, 0);
  SetLengthAndCheck(dst, static_cast<std::size_t>(end - dst), position, salt);
}

Status EncodeEncryptedEventEntry(const Event& event, std::int64_t position, std::uint64_t salt,
                                 const char* frame_header, const AesGcm& key, char* dst,
                                 const std::string* compressed_data) {
  char* end = EncodeUnchecked(event, dst, compressed_data, kEncrypted);
  const auto content_length = static_cast<std::size_t>(end - dst) - kFixedPart;
  // The length is part of the associated data, so it goes in first.
  EncodeFixed<std::uint32_t>(
      dst, static_cast<std::uint32_t>(kFixedPart + content_length + AesGcm::kTagSize));
  char associated[kFrameHeaderSize + kFixedPart];
  ES_RETURN_IF_ERROR(key.Seal(EntryNonce(frame_header, position),
                              AssociatedData(frame_header, dst, associated), dst + kFixedPart,
                              content_length));
  SetLengthAndCheck(dst, kFixedPart + content_length + AesGcm::kTagSize, position, salt);
  return Status::OK();
}

Status ParseEventEntry(const char* src, std::size_t available, EventView* view,
                       std::size_t* length) {
  if (available < kFixedPart) return BadEntry("truncated header");
  auto entry_length = DecodeFixed<std::uint32_t>(src);
  if (entry_length < kFixedPart || entry_length > available) return BadEntry("bad length");
  const FixedPart fixed = DecodeFixedPart(src);
  if ((fixed.flags & ~(kHasStream | kHasUuid | kHasMetadata | kDataCompressed | kEncrypted)) != 0) {
    return BadEntry("unknown flags");
  }
  if (fixed.type_length == 0) return BadEntry("empty type");
  *view = EventView{};
  view->has_stream = (fixed.flags & kHasStream) != 0;
  view->data_compressed = (fixed.flags & kDataCompressed) != 0;
  if (view->has_stream != (fixed.stream_length != 0)) {
    return BadEntry("stream flag and length disagree");
  }
  const std::string_view content(src + kFixedPart, entry_length - kFixedPart);
  if ((fixed.flags & kEncrypted) != 0) {
    if (content.size() < AesGcm::kTagSize) return BadEntry("encrypted content shorter than a tag");
    view->encrypted = true;
    view->sealed = content;
  } else {
    ES_RETURN_IF_ERROR(ParseContent(fixed, content, view));
  }
  *length = entry_length;
  return Status::OK();
}

Status OpenEventEntry(const char* entry, const char* frame_header, std::int64_t position,
                      const AesGcm& key, std::string* plain, EventView* view) {
  if (!view->encrypted) return Status::OK();
  char associated[kFrameHeaderSize + kFixedPart];
  plain->resize(view->sealed.size() - AesGcm::kTagSize);
  Status opened =
      key.Open(EntryNonce(frame_header, position), AssociatedData(frame_header, entry, associated),
               view->sealed, plain->data());
  if (!opened.ok()) {
    return Status::Corruption("event entry of position " + std::to_string(position) +
                              " does not authenticate: " + opened.message());
  }
  view->encrypted = false;
  view->sealed = {};
  return ParseContent(DecodeFixedPart(entry), *plain, view);
}

bool EventEntryCheckMatches(const char* src, std::size_t length, std::int64_t position,
                            std::uint64_t salt) {
  return DecodeFixed<std::uint32_t>(src + 4) == EntryCheck(src, length, position, salt);
}

Event ToEvent(const EventView& view) {
  Event event;
  event.type = view.type;
  event.data = view.data;
  event.tags.reserve(view.tag_count);
  view.ForEachTag([&](std::string_view tag) { event.tags.emplace_back(tag); });
  if (view.has_stream) event.stream = StreamVersion{std::string(view.stream_id), view.version};
  if (view.uuid != nullptr) {
    Uuid uuid;
    std::memcpy(uuid.data(), view.uuid, 16);
    event.uuid = uuid;
  }
  if (!view.metadata.empty()) {
    const char* p = view.metadata.data() + 4;
    auto count = DecodeFixed<std::uint32_t>(view.metadata.data());
    for (std::uint32_t i = 0; i < count; ++i) {
      auto key_length = DecodeFixed<std::uint32_t>(p);
      std::string key(p + 4, key_length);
      p += 4 + key_length;
      auto value_length = DecodeFixed<std::uint32_t>(p);
      event.metadata.emplace(std::move(key), std::string(p + 4, value_length));
      p += 4 + value_length;
    }
  }
  return event;
}

}  // namespace es
