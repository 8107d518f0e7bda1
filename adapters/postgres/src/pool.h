// A pool of connections to one server: pool_size kept open, up to pool_max_overflow more opened
// under load, callers waiting up to pool_timeout beyond that; old connections (max_connection_age)
// and connections the server dropped are replaced on the way out of the pool.
#ifndef ES_ADAPTERS_POSTGRES_SRC_POOL_H_
#define ES_ADAPTERS_POSTGRES_SRC_POOL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "adapters/postgres/src/connection.h"
#include "es/postgres.h"

namespace es::postgres {

class Pool;

// A connection on loan from the pool; returned to it when destroyed.
class PooledConnection {
 public:
  PooledConnection(Pool* pool, std::unique_ptr<Connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}
  PooledConnection(PooledConnection&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();

  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }
  // Closes the connection instead of returning it (after it broke).
  void Discard() { connection_.reset(); }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> connection_;
};

class Pool {
 public:
  explicit Pool(const PostgresOptions& options) : options_(options) {}

  // A connection that looks alive (pinged first when options.pre_ping). Timeout when every
  // connection stays busy for options.pool_timeout; IOError when a new one cannot be opened.
  Result<PooledConnection> Acquire();

  // Connections currently open (idle or on loan): for tests of the pool.
  int open_count();
  int idle_count();

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<Connection> connection);
  bool TooOld(const Connection& connection) const;

  const PostgresOptions options_;
  std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // guarded by mu_: idle + on loan + opening
};

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_POOL_H_
