// Waiting for writes: subscriptions to the log, interrupts, and the append listeners recorders
// notify (reference §1.6, §3.3, §3.4).
//
//   auto sub = recorder.Subscribe(query, after);          // DCB
//   while (true) {
//     auto event = (*sub)->Next(std::chrono::seconds(1));
//     if (event.status().IsTimeout()) continue;           // nothing new yet
//     if (!event.ok()) break;                             // Interrupted after Stop(), or an error
//     ...
//   }
//
// A subscription first yields every match after its starting point, in order, then each new
// one as it commits. It never skips a match: positions are published in order, and a reader
// sees every write that returned before it began.
#ifndef ES_SUBSCRIPTION_H_
#define ES_SUBSCRIPTION_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <vector>

#include "es/result.h"

namespace es {

class AppendWaiter;

// A flag that one thread sets to end another's waits (the Python library's `interrupt` event).
// Thread-safe; once set, it stays set.
class Interrupt {
 public:
  Interrupt() = default;
  Interrupt(const Interrupt&) = delete;
  Interrupt& operator=(const Interrupt&) = delete;

  // Sets the flag and wakes every wait watching it.
  void Set();
  bool IsSet() const;

 private:
  friend class AppendWaiter;
  mutable std::mutex mu_;
  bool set_ = false;                            // guarded by mu_
  mutable std::vector<AppendWaiter*> waiters_;  // guarded by mu_
};

// Items after a starting point, then live ones. Next is for one consumer thread; Stop for any.
// A subscription must be destroyed before its recorder.
template <typename T>
class Subscription {
 public:
  virtual ~Subscription() = default;

  // The next item, waiting up to `timeout` for one to commit. Timeout when none did (call again
  // to keep waiting); Interrupted once Stop() was called, even while this waits; any other error
  // is the recorder's, and the subscription may be called again.
  virtual Result<T> Next(std::chrono::milliseconds timeout) = 0;

  // Ends the subscription; callable from any thread, at any time, more than once. A Next waiting
  // in another thread returns Interrupted at once, and so does every later Next.
  virtual void Stop() = 0;
};

// Told by a recorder that a write became visible to readers. Recorders call OnAppend on the
// writing thread, after publishing, so an implementation must be quick, must not block, and must
// not call into the recorder.
class AppendListener {
 public:
  virtual ~AppendListener() = default;
  virtual void OnAppend() = 0;
};

// The listeners of one recorder. Adding and removing are thread-safe; after RemoveListener
// returns, no call to that listener is in flight. Notify costs one atomic load when there are no
// listeners.
class AppendListeners {
 public:
  void Add(AppendListener* listener);
  void Remove(AppendListener* listener);
  void Notify();

 private:
  std::mutex mu_;
  std::vector<AppendListener*> listeners_;  // guarded by mu_
  std::atomic<std::size_t> count_{0};
};

}  // namespace es

#endif  // ES_SUBSCRIPTION_H_
