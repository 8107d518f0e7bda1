// A heap copy of some bytes with nothing readable after them, for decoder tests: AddressSanitizer
// then reports any read past the end, which a std::string's capacity would hide.
#ifndef ES_ENGINE_TESTING_EXACT_BUFFER_H_
#define ES_ENGINE_TESTING_EXACT_BUFFER_H_

#include <cstring>
#include <memory>
#include <string_view>

namespace es::testing {

class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view bytes)
      : data_(new char[bytes.size()]), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
  }
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

}  // namespace es::testing

#endif  // ES_ENGINE_TESTING_EXACT_BUFFER_H_
