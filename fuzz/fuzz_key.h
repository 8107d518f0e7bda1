// What frame_decoder opens encrypted entries with, shared with the seeds make_corpus writes for it:
// one fixed key, and for an entry checked on its own, its position and an all-zero frame header.
#ifndef ES_FUZZ_FUZZ_KEY_H_
#define ES_FUZZ_FUZZ_KEY_H_

#include <cstdint>
#include <string>

#include "engine/crypto/aes_gcm.h"
#include "engine/format/event_entry.h"

namespace es::fuzz {

inline const AesGcm& FuzzKey() {
  static const AesGcm key(AesGcm::Key{'f', 'u', 'z', 'z'});
  return key;
}

inline constexpr std::int64_t kLoneEntryPosition = 42;

inline const char* LoneFrameHeader() {
  static const std::string header(kFrameHeaderSize, '\0');
  return header.data();
}

}  // namespace es::fuzz

#endif  // ES_FUZZ_FUZZ_KEY_H_
