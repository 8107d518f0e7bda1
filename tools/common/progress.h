// A progress line on stderr for long runs, shown only when stderr is a terminal.
#ifndef ES_TOOLS_COMMON_PROGRESS_H_
#define ES_TOOLS_COMMON_PROGRESS_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace es::tools {

class Progress {
 public:
  // `what` names the job ("export"); `total` is the expected count (0: unknown).
  Progress(std::string what, std::uint64_t total)
      : what_(std::move(what)), total_(total), shown_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() {
    if (shown_ && printed_) std::fprintf(stderr, "\n");
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Update(std::uint64_t done) {
    if (!shown_ || done - last_ < kStep) return;
    last_ = done;
    printed_ = true;
    if (total_ > 0) {
      std::fprintf(stderr, "\r%s: %llu of %llu events", what_.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
    } else {
      std::fprintf(stderr, "\r%s: %llu events", what_.c_str(),
                   static_cast<unsigned long long>(done));
    }
  }

 private:
  static constexpr std::uint64_t kStep = 1 << 16;
  const std::string what_;
  const std::uint64_t total_;
  const bool shown_;
  bool printed_ = false;
  std::uint64_t last_ = 0;
};

}  // namespace es::tools

#endif  // ES_TOOLS_COMMON_PROGRESS_H_
