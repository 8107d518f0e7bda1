#include "engine/crypto/base64.h"

#include <array>

namespace es {
namespace {

// Written out rather than through Crypto++'s Base64Encoder/Decoder filters: their per-call
// pipeline cost several microseconds per event, most of esdump export's time and a good part of
// esload's (docs/benchmarks.md, tools_bench).
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> DecodingTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& value : table) value = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr std::array<std::int8_t, 256> kDecoding = DecodingTable();

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string text((bytes.size() + 2) / 3 * 4, '=');
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* out = text.data();
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3, out += 4) {
    const std::uint32_t group = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out[0] = kAlphabet[group >> 18];
    out[1] = kAlphabet[(group >> 12) & 63];
    out[2] = kAlphabet[(group >> 6) & 63];
    out[3] = kAlphabet[group & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t group = (in[i] << 16) | (rest == 2 ? in[i + 1] << 8 : 0);
    out[0] = kAlphabet[group >> 18];
    out[1] = kAlphabet[(group >> 12) & 63];
    if (rest == 2) out[2] = kAlphabet[(group >> 6) & 63];
  }
  return text;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::InvalidArgument("not base64 (length)");
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string bytes(text.size() / 4 * 3 - padding, '\0');
  std::size_t out = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (last && k >= 4 - padding) {
        group <<= 6;  // '=' stands for zero bits
        continue;
      }
      const std::int8_t value = kDecoding[static_cast<unsigned char>(c)];
      if (value < 0)
        return Status::InvalidArgument("not base64 (a character outside its alphabet)");
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    const std::size_t take = last ? 3 - padding : 3;
    for (std::size_t k = 0; k < take; ++k) bytes[out++] = static_cast<char>(group >> (16 - 8 * k));
  }
  return bytes;
}

}  // namespace es
