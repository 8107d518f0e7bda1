// One libpq connection with its prepared statements, and the mapping of libpq failures to
// es::Status.
#ifndef ES_ADAPTERS_POSTGRES_SRC_CONNECTION_H_
#define ES_ADAPTERS_POSTGRES_SRC_CONNECTION_H_

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "adapters/postgres/src/wire.h"
#include "es/postgres.h"
#include "es/result.h"

namespace es::postgres {

// Owns a PGresult.
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// A statement the recorder prepares once per connection, on first use.
struct Statement {
  std::string name;
  std::string sql;
};

// A failed statement: the Status to report and what the failure says about the statement.
struct ExecError {
  Status status;
  // The statement certainly did not take effect: the server rejected it, or it was never sent.
  // False when the connection broke while the statement ran (it may or may not have committed).
  bool not_applied = true;
  // The connection is unusable or the failure is transient (the server shutting down, a
  // serialisation failure): the statement may succeed if repeated on a fresh connection.
  bool transient = false;
};

class Connection {
 public:
  // Connects with the options' server and session settings. IOError when it cannot.
  static Result<std::unique_ptr<Connection>> Open(const PostgresOptions& options);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs a prepared statement (preparing it first on this connection when needed) with binary
  // parameters, asking for binary results. On failure, `error` says what happened.
  PgResult Execute(const Statement& statement, const Params& params, ExecError& error);

  // Runs SQL text with no parameters (DDL, LISTEN), in text format.
  Status ExecuteScript(std::string_view sql);
  // Runs one query of SQL text with no parameters; its rows in text format.
  Result<PgResult> Query(std::string_view sql);
  // As Query, and on failure `error` says what happened (null result).
  PgResult ExecuteText(std::string_view sql, ExecError& error);

  // False when the server closed the connection: checked without a round trip, by reading
  // whatever the server sent while the connection was idle.
  bool LooksAlive();
  // One round trip ("SELECT 1").
  bool Ping();

  PGconn* raw() { return conn_; }
  std::chrono::steady_clock::time_point opened_at() const { return opened_at_; }

 private:
  explicit Connection(PGconn* conn);

  // Maps a failed PGresult (or null) of a statement that was (or was not) sent to an error.
  ExecError Classify(const PGresult* result, bool sent) const;

  PGconn* conn_;
  std::chrono::steady_clock::time_point opened_at_;
  std::set<std::string, std::less<>> prepared_;
};

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_CONNECTION_H_
