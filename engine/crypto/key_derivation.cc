#include "engine/crypto/key_derivation.h"

#include <crypto++/hkdf.h>
#include <crypto++/hmac.h>
#include <crypto++/sha.h>

#include "engine/util/coding.h"

namespace es {
namespace {

const CryptoPP::byte* Bytes(std::string_view s) {
  return reinterpret_cast<const CryptoPP::byte*>(s.data());
}

}  // namespace

// Neither Crypto++ call below throws for these sizes (HKDF fails only past 255 x 32 bytes of
// output); no exception can escape.
AesGcm::Key DeriveKey(std::string_view master, std::string_view salt, std::string_view info) {
  AesGcm::Key key;
  CryptoPP::HKDF<CryptoPP::SHA256> hkdf;
  hkdf.DeriveKey(key.data(), key.size(), Bytes(master), master.size(), Bytes(salt), salt.size(),
                 Bytes(info), info.size());
  return key;
}

std::uint32_t KeyIdOf(std::string_view master) {
  constexpr std::string_view kLabel = "es key id v1";
  CryptoPP::HMAC<CryptoPP::SHA256> hmac(Bytes(master), master.size());
  CryptoPP::byte digest[CryptoPP::SHA256::DIGESTSIZE];
  hmac.CalculateDigest(digest, Bytes(kLabel), kLabel.size());
  const auto id = DecodeFixed<std::uint32_t>(reinterpret_cast<const char*>(digest));
  return id == 0 ? 1 : id;
}

}  // namespace es
