#include "adapters/postgres/src/notification_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace es::postgres {

NotificationListener::NotificationListener(const PostgresOptions& options, const Schema& schema,
                                           std::function<Result<std::int64_t>()> write_count,
                                           std::function<void()> on_change)
    : options_(options),
      listen_command_(schema.ListenCommand()),
      write_count_(std::move(write_count)),
      on_change_(std::move(on_change)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { Run(); }) {}

NotificationListener::~NotificationListener() {
  stopping_.store(true);
  const std::uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The thread still sees stopping_ within one poll interval.
  }
  thread_.join();
  close(wake_fd_);
}

bool NotificationListener::WaitReadable(int socket, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
  poll(fds, socket >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  return !stopping_.load();
}

std::unique_ptr<Connection> NotificationListener::Listen() {
  Result<std::unique_ptr<Connection>> connection = Connection::Open(options_);
  if (!connection.ok()) return nullptr;
  if (!(*connection)->ExecuteScript(listen_command_).ok()) return nullptr;
  return std::move(connection).value();
}

void NotificationListener::Run() {
  std::unique_ptr<Connection> connection;
  std::int64_t last_count = -1;  // -1: none seen since polling began
  auto next_listen = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    if (connection == nullptr && std::chrono::steady_clock::now() >= next_listen) {
      connection = Listen();
      next_listen = std::chrono::steady_clock::now() + kRelistenInterval;
      listening_.store(connection != nullptr);
      // Writes may have committed while nobody listened.
      if (connection != nullptr) on_change_();
    }
    if (connection != nullptr) {
      const int socket = PQsocket(connection->raw());
      if (!WaitReadable(socket, kRelistenInterval)) break;
      if (PQconsumeInput(connection->raw()) == 0 || PQstatus(connection->raw()) != CONNECTION_OK) {
        connection.reset();
        listening_.store(false);
        last_count = -1;
        on_change_();  // a notification may have been lost with the connection
        continue;
      }
      bool notified = false;
      while (PGnotify* notify = PQnotifies(connection->raw())) {
        notified = true;
        PQfreemem(notify);
      }
      if (notified) on_change_();
      continue;
    }
    // Polling: the write counter changes with every committed write.
    Result<std::int64_t> count = write_count_();
    if (count.ok()) {
      if (last_count >= 0 && *count != last_count) on_change_();
      last_count = *count;
    }
    if (!WaitReadable(-1, kPollInterval)) break;
  }
}

}  // namespace es::postgres
