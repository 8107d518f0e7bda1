// AppendWaiter: lets one thread sleep until its recorder publishes a write, an Interrupt is set,
// Stop() is called, or a deadline passes. The building block of subscriptions and tracking waits.
//
// Use: Arm(), then look at the recorder, then Wait() if what you need is not there yet. A write
// published after Arm() wakes Wait(), even if it came before Wait() began, so none is missed.
#ifndef ES_API_SRC_APPEND_WAITER_H_
#define ES_API_SRC_APPEND_WAITER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "es/subscription.h"

namespace es {

class AppendWaiter final : public AppendListener {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  enum class Wake { kAppended, kStopped, kTimedOut };

  // Registers with `listeners` (and `interrupt`, when given) until destroyed.
  AppendWaiter(AppendListeners& listeners, const Interrupt* interrupt);
  ~AppendWaiter() override;
  AppendWaiter(const AppendWaiter&) = delete;
  AppendWaiter& operator=(const AppendWaiter&) = delete;

  void OnAppend() override;
  // Wakes Wait() for good: every later Wait() returns kStopped.
  void Stop();
  bool stopped();

  // Forgets the writes published so far.
  void Arm();
  // Until a write is published after Arm(), Stop() or the interrupt, or `deadline`.
  Wake Wait(Deadline deadline);

 private:
  AppendListeners& listeners_;
  const Interrupt* const interrupt_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool appended_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
};

// The deadline `timeout` from now, saturating instead of overflowing for huge timeouts.
AppendWaiter::Deadline DeadlineAfter(std::chrono::milliseconds timeout);

}  // namespace es

#endif  // ES_API_SRC_APPEND_WAITER_H_
