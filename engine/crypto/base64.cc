#include "engine/crypto/base64.h"

#include <crypto++/base64.h>
#include <crypto++/filters.h>

namespace es {

std::string Base64Encode(std::string_view bytes) {
  std::string text;
  CryptoPP::StringSource source(reinterpret_cast<const CryptoPP::byte*>(bytes.data()), bytes.size(),
                                true,
                                new CryptoPP::Base64Encoder(new CryptoPP::StringSink(text),
                                                            /*insertLineBreaks=*/false));
  return text;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size()) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return Status::InvalidArgument("not base64 (a character outside its alphabet)");
    }
  }
  if (text.size() % 4 != 0) return Status::InvalidArgument("not base64 (length)");
  std::string bytes;
  try {
    CryptoPP::StringSource source(reinterpret_cast<const CryptoPP::byte*>(text.data()), text.size(),
                                  true,
                                  new CryptoPP::Base64Decoder(new CryptoPP::StringSink(bytes)));
  } catch (const CryptoPP::Exception& e) {
    return Status::InvalidArgument(std::string("not base64: ") + e.what());
  }
  return bytes;
}

}  // namespace es
