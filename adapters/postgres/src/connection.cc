#include "adapters/postgres/src/connection.h"

#include <poll.h>

#include <string>
#include <vector>

namespace es::postgres {
namespace {

std::string Trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The server's SQLSTATE codes the recorder tells apart (Appendix A of the PostgreSQL manual).
Status StatusForSqlState(std::string_view sqlstate, const std::string& message) {
  if (sqlstate == "55P03") return Status::Timeout("PostgreSQL lock timeout: " + message);
  if (sqlstate.starts_with("22")) return Status::InvalidArgument("PostgreSQL: " + message);
  if (sqlstate == "23505") return Status::IntegrityError("PostgreSQL: " + message);
  return Status::IOError("PostgreSQL error " + std::string(sqlstate) + ": " + message);
}

}  // namespace

Connection::Connection(PGconn* conn) : conn_(conn), opened_at_(std::chrono::steady_clock::now()) {}

Connection::~Connection() { PQfinish(conn_); }

Result<std::unique_ptr<Connection>> Connection::Open(const PostgresOptions& options) {
  const std::string port = std::to_string(options.port);
  const std::string connect_timeout = std::to_string(options.connect_timeout_s);
  // Session settings travel in the startup packet: no extra round trip per connection.
  const std::string session = "-c lock_timeout=" + std::to_string(options.lock_timeout.count()) +
                              " -c idle_in_transaction_session_timeout=" +
                              std::to_string(options.idle_in_transaction_session_timeout.count());
  // TCP keepalives: a server machine that vanishes without closing its connections (power
  // loss, a network partition) is noticed after about a minute of silence instead of never, so
  // the notification listener reconnects (or falls back to polling) rather than wait for ever on
  // a dead socket. Ignored on Unix-domain sockets.
  std::vector<const char*> keywords = {"dbname",
                                       "host",
                                       "port",
                                       "connect_timeout",
                                       "options",
                                       "client_encoding",
                                       "fallback_application_name",
                                       "keepalives",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count"};
  std::vector<const char*> values = {options.dbname.c_str(),
                                     options.host.c_str(),
                                     port.c_str(),
                                     connect_timeout.c_str(),
                                     session.c_str(),
                                     "UTF8",
                                     "es",
                                     "1",
                                     "30",
                                     "10",
                                     "3"};
  if (!options.user.empty()) {
    keywords.push_back("user");
    values.push_back(options.user.c_str());
  }
  if (!options.password.empty()) {
    keywords.push_back("password");
    values.push_back(options.password.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (conn == nullptr) return Status::IOError("PostgreSQL: out of memory for a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::IOError("cannot connect to PostgreSQL at " + options.host + ":" + port + ": " +
                           message);
  }
  // A library prints nothing: NOTICEs ("relation already exists, skipping") are dropped.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

ExecError Connection::Classify(const PGresult* result, bool sent) const {
  const bool broken = PQstatus(conn_) != CONNECTION_OK;
  const char* sqlstate = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string message =
      Trimmed(result == nullptr ? PQerrorMessage(conn_) : PQresultErrorMessage(result));
  if (sqlstate == nullptr) {
    // No answer from the server: libpq lost the connection, before or while the statement ran.
    return ExecError{Status::IOError("PostgreSQL connection lost: " + message), !sent, true};
  }
  const std::string_view state(sqlstate);
  // Connection exceptions (08), operator intervention such as a shutdown (57), and
  // serialisation failures or deadlocks (40) are worth repeating on a fresh connection.
  const bool transient =
      broken || state.starts_with("08") || state.starts_with("57") || state.starts_with("40");
  Status status = transient
                      ? Status::IOError("PostgreSQL error " + std::string(state) + ": " + message)
                      : StatusForSqlState(state, message);
  // The server answered with an error: the statement's transaction rolled back.
  return ExecError{std::move(status), true, transient};
}

PgResult Connection::Execute(const Statement& statement, const Params& params, ExecError& error) {
  if (!prepared_.contains(statement.name)) {
    PgResult prepared(PQprepare(conn_, statement.name.c_str(), statement.sql.c_str(), 0, nullptr));
    if (prepared == nullptr || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      // Preparing runs nothing, so the statement certainly did not take effect.
      error = Classify(prepared.get(), /*sent=*/false);
      return nullptr;
    }
    prepared_.insert(statement.name);
  }
  const std::vector<const char*> values = params.values();
  const std::vector<int> lengths = params.lengths();
  const std::vector<int> formats = params.formats();
  PgResult result(PQexecPrepared(conn_, statement.name.c_str(), params.count(), values.data(),
                                 lengths.data(), formats.data(), /*resultFormat=*/1));
  const ExecStatusType status =
      result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
  error = Classify(result.get(), /*sent=*/true);
  return nullptr;
}

Status Connection::ExecuteScript(std::string_view sql) { return Query(sql).status(); }

Result<PgResult> Connection::Query(std::string_view sql) {
  ExecError error;
  PgResult result = ExecuteText(sql, error);
  if (result == nullptr) return error.status;
  return result;
}

PgResult Connection::ExecuteText(std::string_view sql, ExecError& error) {
  PgResult result(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType status =
      result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
  error = Classify(result.get(), /*sent=*/true);
  return nullptr;
}

bool Connection::LooksAlive() {
  // Reads, without blocking, whatever the server sent while the connection was idle: a server
  // that ended the session sends an error, then closes, and the close shows only on a later read.
  for (int reads = 0; reads < 8 && PQstatus(conn_) == CONNECTION_OK; ++reads) {
    pollfd pending{PQsocket(conn_), POLLIN, 0};
    if (poll(&pending, 1, 0) <= 0) break;
    if (PQconsumeInput(conn_) == 0) return false;
    PQisBusy(conn_);  // parses what arrived
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::Ping() {
  PgResult result(PQexec(conn_, "SELECT 1"));
  return result != nullptr && PQresultStatus(result.get()) == PGRES_TUPLES_OK;
}

}  // namespace es::postgres
