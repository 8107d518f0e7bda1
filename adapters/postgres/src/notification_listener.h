// Wakes in-process subscribers when any process commits a write: a thread LISTENs on the tables'
// channel and calls `on_change` for each NOTIFY. While that connection is down (the server
// restarted, the network dropped) it polls instead: every kPollInterval it compares the head row's
// write counter with the last one seen, and every kRelistenInterval it tries to LISTEN again.
#ifndef ES_ADAPTERS_POSTGRES_SRC_NOTIFICATION_LISTENER_H_
#define ES_ADAPTERS_POSTGRES_SRC_NOTIFICATION_LISTENER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/schema.h"

namespace es::postgres {

class NotificationListener {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{200};
  static constexpr std::chrono::milliseconds kRelistenInterval{1000};

  // `write_count` reads the head row's write counter (used only while polling); `on_change` is
  // called on the listener thread and must be quick.
  NotificationListener(const PostgresOptions& options, const Schema& schema,
                       std::function<Result<std::int64_t>()> write_count,
                       std::function<void()> on_change);
  // Stops and joins the thread.
  ~NotificationListener();

  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // True while the LISTEN connection is up (for tests).
  bool listening() const { return listening_.load(); }

 private:
  void Run();
  // Opens a connection and LISTENs; null when that fails.
  std::unique_ptr<Connection> Listen();
  // Waits until the LISTEN socket is readable, `timeout` passes, or Stop; false on Stop.
  bool WaitReadable(int socket, std::chrono::milliseconds timeout);

  const PostgresOptions options_;
  const std::string listen_command_;
  const std::function<Result<std::int64_t>()> write_count_;
  const std::function<void()> on_change_;
  const int wake_fd_;  // an eventfd written by the destructor
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_NOTIFICATION_LISTENER_H_
