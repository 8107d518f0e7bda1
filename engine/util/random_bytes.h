// Random bytes from a pseudo-random generator, for the in-memory Envs' RandomBytes (the POSIX Env
// reads the kernel's).
#ifndef ES_ENGINE_UTIL_RANDOM_BYTES_H_
#define ES_ENGINE_UTIL_RANDOM_BYTES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

namespace es {

// Fills the `n` bytes at `dst` with `generator`'s next words, in order.
inline void FillFromGenerator(std::mt19937_64& generator, void* dst, std::size_t n) {
  auto* out = static_cast<char*>(dst);
  while (n > 0) {
    const std::uint64_t word = generator();
    const std::size_t k = std::min(n, sizeof(word));
    std::memcpy(out, &word, k);
    out += k;
    n -= k;
  }
}

}  // namespace es

#endif  // ES_ENGINE_UTIL_RANDOM_BYTES_H_
