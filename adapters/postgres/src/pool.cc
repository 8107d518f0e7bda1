#include "adapters/postgres/src/pool.h"

#include <chrono>
#include <string>

namespace es::postgres {

PooledConnection::~PooledConnection() {
  if (pool_ == nullptr) return;
  pool_->Release(std::move(connection_));
}

bool Pool::TooOld(const Connection& connection) const {
  return options_.max_connection_age &&
         std::chrono::steady_clock::now() - connection.opened_at() > *options_.max_connection_age;
}

Result<PooledConnection> Pool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.pool_timeout;
  const int limit = options_.pool_size + options_.pool_max_overflow;
  std::unique_lock lock(mu_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      bool usable = !TooOld(*connection) && connection->LooksAlive() &&
                    (!options_.pre_ping || connection->Ping());
      if (usable) return PooledConnection(this, std::move(connection));
      connection.reset();
      lock.lock();
      --open_;
    }
    if (open_ < limit) break;
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= limit) {
      return Status::Timeout("no PostgreSQL connection free within the pool timeout (" +
                             std::to_string(limit) + " in use)");
    }
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<Connection>> opened = Connection::Open(options_);
  if (!opened.ok()) {
    lock.lock();
    --open_;
    released_.notify_one();
    return opened.status();
  }
  return PooledConnection(this, std::move(opened).value());
}

void Pool::Release(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mu_);
  const bool keep = connection != nullptr && static_cast<int>(idle_.size()) < options_.pool_size &&
                    PQstatus(connection->raw()) == CONNECTION_OK &&
                    PQtransactionStatus(connection->raw()) == PQTRANS_IDLE && !TooOld(*connection);
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    connection.reset();
    --open_;
  }
  released_.notify_one();
}

int Pool::open_count() {
  std::lock_guard lock(mu_);
  return open_;
}

int Pool::idle_count() {
  std::lock_guard lock(mu_);
  return static_cast<int>(idle_.size());
}

}  // namespace es::postgres
