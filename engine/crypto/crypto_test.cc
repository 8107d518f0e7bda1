// The crypto wrappers: AES-256-GCM against a published vector and under tampering, HKDF against
// RFC 5869, key ids, base64 and key providers.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "engine/crypto/aes_gcm.h"
#include "engine/crypto/base64.h"
#include "engine/crypto/key_derivation.h"
#include "engine/crypto/store_cipher.h"
#include "es/encryption.h"

namespace es {
namespace {

std::string FromHex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return bytes;
}

template <typename Array>
Array ArrayFromHex(std::string_view hex) {
  const std::string bytes = FromHex(hex);
  Array array;
  REQUIRE(bytes.size() == array.size());
  std::copy(bytes.begin(), bytes.end(), array.begin());
  return array;
}

AesGcm::Key TestKey(char fill) {
  AesGcm::Key key;
  key.fill(static_cast<std::uint8_t>(fill));
  return key;
}

TEST_CASE("crypto: AES-256-GCM gives the published test vector (GCM spec, test case 16)") {
  const AesGcm gcm(ArrayFromHex<AesGcm::Key>(
      "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  const auto nonce = ArrayFromHex<AesGcm::Nonce>("cafebabefacedbaddecaf888");
  const std::string aad = FromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string plain = FromHex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  std::string sealed = plain + std::string(AesGcm::kTagSize, '\0');
  REQUIRE(gcm.Seal(nonce, aad, sealed.data(), plain.size()).ok());
  CHECK(sealed ==
        FromHex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3d"
                "a7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"));
  std::string opened(plain.size(), '\0');
  REQUIRE(gcm.Open(nonce, aad, sealed, opened.data()).ok());
  CHECK(opened == plain);
  // In place, as the engine opens checkpoint blocks into their own buffers.
  REQUIRE(gcm.Open(nonce, aad, sealed, sealed.data()).ok());
  CHECK(sealed.substr(0, plain.size()) == plain);
}

TEST_CASE("crypto: any change to ciphertext, tag, associated data, nonce or key fails to open") {
  const AesGcm gcm(TestKey(1));
  const AesGcm other(TestKey(2));
  AesGcm::Nonce nonce{};
  nonce[11] = 7;
  const std::string aad = "frame header";
  const std::string plain = "{\"student\":\"s1\",\"course\":\"c1\"}";
  std::string sealed = plain + std::string(AesGcm::kTagSize, '\0');
  REQUIRE(gcm.Seal(nonce, aad, sealed.data(), plain.size()).ok());
  CHECK(sealed.find("student") == std::string::npos);
  std::string out(plain.size(), '\0');
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string changed = sealed;
    changed[i] ^= 1;
    CHECK_MESSAGE(gcm.Open(nonce, aad, changed, out.data()).IsCorruption(), i);
  }
  std::string changed_aad = aad;
  changed_aad[0] ^= 0x20;
  CHECK(gcm.Open(nonce, changed_aad, sealed, out.data()).IsCorruption());
  AesGcm::Nonce changed_nonce = nonce;
  changed_nonce[0] = 1;
  CHECK(gcm.Open(changed_nonce, aad, sealed, out.data()).IsCorruption());
  CHECK(other.Open(nonce, aad, sealed, out.data()).IsCorruption());
  CHECK(gcm.Open(nonce, aad, sealed.substr(0, AesGcm::kTagSize - 1), out.data()).IsCorruption());
  REQUIRE(gcm.Open(nonce, aad, sealed, out.data()).ok());
  CHECK(out == plain);
}

TEST_CASE("crypto: one key serves many threads at once, each with keys of its own") {
  const AesGcm shared(TestKey(3));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // More keys than a thread caches, so that its cache evicts while the shared key stays.
      std::vector<std::unique_ptr<AesGcm>> own;
      for (int k = 0; k < 10; ++k) own.push_back(std::make_unique<AesGcm>(TestKey(10 + k)));
      for (int i = 0; i < 500; ++i) {
        const AesGcm& key = i % 2 == 0 ? shared : *own[i % own.size()];
        AesGcm::Nonce nonce{};
        nonce[0] = static_cast<std::uint8_t>(t);
        nonce[1] = static_cast<std::uint8_t>(i);
        nonce[2] = static_cast<std::uint8_t>(i >> 8);
        std::string text = "message " + std::to_string(t) + "/" + std::to_string(i);
        const std::string plain = text;
        text.resize(text.size() + AesGcm::kTagSize);
        std::string out(plain.size(), '\0');
        if (!key.Seal(nonce, "", text.data(), plain.size()).ok() ||
            !key.Open(nonce, "", text, out.data()).ok() || out != plain) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) CHECK(failures[t] == 0);
}

TEST_CASE("crypto: HKDF-SHA256 gives RFC 5869's test case 1; key ids tell keys apart") {
  const AesGcm::Key key = DeriveKey(std::string(22, '\x0b'), FromHex("000102030405060708090a0b0c"),
                                    FromHex("f0f1f2f3f4f5f6f7f8f9"));
  CHECK(key == ArrayFromHex<AesGcm::Key>(
                   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"));
  CHECK(KeyIdOf(std::string(32, 'a')) == KeyIdOf(std::string(32, 'a')));
  CHECK(KeyIdOf(std::string(32, 'a')) != KeyIdOf(std::string(32, 'b')));
  CHECK(KeyIdOf(std::string(16, 'a')) != 0);
}

TEST_CASE("crypto: store ciphers take 16, 24 or 32-byte keys and differ per store") {
  StoreId one{}, two{};
  two[0] = 1;
  for (std::size_t size : {0u, 1u, 15u, 17u, 31u, 33u, 64u}) {
    CHECK_MESSAGE(StoreCipher::Create(std::string(size, 'k'), one).status().IsInvalidArgument(),
                  size);
  }
  for (std::size_t size : {16u, 24u, 32u}) {
    CHECK_MESSAGE(StoreCipher::Create(std::string(size, 'k'), one).ok(), size);
  }
  auto a = std::move(StoreCipher::Create(std::string(32, 'k'), one)).value();
  auto b = std::move(StoreCipher::Create(std::string(32, 'k'), two)).value();
  CHECK(a->key_id() == b->key_id());  // the key's id, not the store's
  // The same nonce under the two stores' entry keys gives different bytes.
  const AesGcm::Nonce nonce{};
  std::string x(16 + AesGcm::kTagSize, 'x'), y = x;
  REQUIRE(a->entries().Seal(nonce, "", x.data(), 16).ok());
  REQUIRE(b->entries().Seal(nonce, "", y.data(), 16).ok());
  CHECK(x != y);
  // Checkpoint keys differ by salt, position and epoch.
  std::string c1 = std::string(16 + AesGcm::kTagSize, 'c'), c2 = c1, c3 = c1;
  REQUIRE(a->CheckpointKey(1, 10, 2)->Seal(nonce, "", c1.data(), 16).ok());
  REQUIRE(a->CheckpointKey(2, 10, 2)->Seal(nonce, "", c2.data(), 16).ok());
  REQUIRE(a->CheckpointKey(1, 10, 3)->Seal(nonce, "", c3.data(), 16).ok());
  CHECK(c1 != c2);
  CHECK(c1 != c3);
}

TEST_CASE("crypto: base64 is strict, and keys come from it") {
  // RFC 4648's test vectors, both ways.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, text] : vectors) {
    CHECK(Base64Encode(plain) == text);
    CHECK(*Base64Decode(text) == plain);
  }
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  for (std::size_t cut = 0; cut < 4; ++cut) {
    const std::string bytes = every_byte.substr(cut);
    CHECK(*Base64Decode(Base64Encode(bytes)) == bytes);
  }
  CHECK(*Base64Decode(Base64Encode(std::string("any\0bytes", 9))) == std::string("any\0bytes", 9));
  for (const char* bad :
       {"a", "ab=c", "!!!!", "abc=d===", "YW Jj", "a===", "====", "Zg=a", "Z==="}) {
    CHECK_MESSAGE(Base64Decode(bad).status().IsInvalidArgument(), bad);
  }
  for (std::size_t size : {16u, 24u, 32u}) {
    Result<std::shared_ptr<KeyProvider>> provider =
        KeyProviderFromBase64(Base64Encode(std::string(size, 's')));
    REQUIRE_MESSAGE(provider.ok(), size);
    CHECK(*(*provider)->MasterKey() == std::string(size, 's'));
  }
  Result<std::shared_ptr<KeyProvider>> short_key =
      KeyProviderFromBase64(Base64Encode(std::string(20, 's')));
  CHECK(short_key.status().IsInvalidArgument());
  CHECK(short_key.status().ToString().find("20") != std::string::npos);
  CHECK(KeyProviderFromBase64("not a key").status().IsInvalidArgument());
}

}  // namespace
}  // namespace es
