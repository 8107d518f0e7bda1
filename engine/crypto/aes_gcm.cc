#include "engine/crypto/aes_gcm.h"

#include <crypto++/aes.h>
#include <crypto++/gcm.h>
#include <crypto++/misc.h>
#include <crypto++/osrng.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace es {
namespace {

const CryptoPP::byte* Bytes(const void* p) { return static_cast<const CryptoPP::byte*>(p); }
CryptoPP::byte* Bytes(void* p) { return static_cast<CryptoPP::byte*>(p); }

// Keys whose objects one thread keeps: a store uses one for its events and derives one per
// checkpoint, so a few cover any thread; the least recently used goes first.
constexpr std::size_t kKeysPerThread = 8;

std::atomic<std::uint64_t> next_serial{1};

}  // namespace

struct AesGcm::Ciphers {
  std::uint64_t serial = 0;
  CryptoPP::GCM<CryptoPP::AES>::Encryption encryption;
  CryptoPP::GCM<CryptoPP::AES>::Decryption decryption;
};

AesGcm::AesGcm(const Key& key)
    : serial_(next_serial.fetch_add(1, std::memory_order_relaxed)), key_(key) {}

AesGcm::~AesGcm() { CryptoPP::SecureWipeArray(key_.data(), key_.size()); }

AesGcm::Ciphers& AesGcm::ForThisThread() const {
  thread_local std::vector<std::unique_ptr<Ciphers>> cache;  // most recently used last
  if (!cache.empty() && cache.back()->serial == serial_) return *cache.back();
  auto found = std::find_if(cache.begin(), cache.end(),
                            [&](const auto& ciphers) { return ciphers->serial == serial_; });
  if (found != cache.end()) {
    std::rotate(found, found + 1, cache.end());
    return *cache.back();
  }
  if (cache.size() == kKeysPerThread) cache.erase(cache.begin());
  auto ciphers = std::make_unique<Ciphers>();
  // The nonce given here is replaced by each message's own.
  const Nonce zero{};
  ciphers->encryption.SetKeyWithIV(key_.data(), key_.size(), zero.data(), zero.size());
  ciphers->decryption.SetKeyWithIV(key_.data(), key_.size(), zero.data(), zero.size());
  ciphers->serial = serial_;
  cache.push_back(std::move(ciphers));
  return *cache.back();
}

Status AesGcm::Seal(const Nonce& nonce, std::string_view associated_data, char* data,
                    std::size_t length) const {
  try {
    ForThisThread().encryption.EncryptAndAuthenticate(
        Bytes(data), Bytes(data + length), kTagSize, nonce.data(), static_cast<int>(nonce.size()),
        Bytes(associated_data.data()), associated_data.size(), Bytes(data), length);
  } catch (const CryptoPP::Exception& e) {
    return Status::InvalidArgument(std::string("AES-GCM encryption failed: ") + e.what());
  }
  return Status::OK();
}

Status AesGcm::Open(const Nonce& nonce, std::string_view associated_data, std::string_view sealed,
                    char* plain) const {
  if (sealed.size() < kTagSize) return Status::Corruption("sealed bytes shorter than a tag");
  const std::size_t length = sealed.size() - kTagSize;
  bool authentic = false;
  try {
    authentic = ForThisThread().decryption.DecryptAndVerify(
        Bytes(plain), Bytes(sealed.data() + length), kTagSize, nonce.data(),
        static_cast<int>(nonce.size()), Bytes(associated_data.data()), associated_data.size(),
        Bytes(sealed.data()), length);
  } catch (const CryptoPP::Exception& e) {
    return Status::Corruption(std::string("AES-GCM decryption failed: ") + e.what());
  }
  if (!authentic) {
    return Status::Corruption("AES-GCM tag mismatch: the bytes were changed or the key is wrong");
  }
  return Status::OK();
}

Status AesGcm::SealWithRandomNonce(std::string_view associated_data, std::string_view plain,
                                   std::string* sealed) const {
  Nonce nonce;
  try {
    CryptoPP::OS_GenerateRandomBlock(/*blocking=*/false, nonce.data(), nonce.size());
  } catch (const CryptoPP::Exception& e) {
    return Status::IOError(std::string("no random nonce: ") + e.what());
  }
  sealed->resize(kNonceSize + plain.size() + kTagSize);
  std::copy(nonce.begin(), nonce.end(), sealed->begin());
  std::copy(plain.begin(), plain.end(), sealed->begin() + kNonceSize);
  return Seal(nonce, associated_data, sealed->data() + kNonceSize, plain.size());
}

Status AesGcm::OpenWithStoredNonce(std::string_view associated_data, std::string_view sealed,
                                   std::string* plain) const {
  if (sealed.size() < kNonceSize + kTagSize) {
    return Status::Corruption("sealed value shorter than a nonce and a tag");
  }
  Nonce nonce;
  std::copy(sealed.begin(), sealed.begin() + kNonceSize, nonce.begin());
  plain->resize(sealed.size() - kNonceSize - kTagSize);
  return Open(nonce, associated_data, sealed.substr(kNonceSize), plain->data());
}

}  // namespace es
