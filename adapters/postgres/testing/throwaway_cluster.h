// A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temporary directory,
// listening on 127.0.0.1 only (and a Unix socket in that directory), on a free port, trust
// authentication. Started once per process on first use and stopped (its directory removed) when
// that process exits; processes forked from it leave it alone.
//
// As root, initdb and pg_ctl run as Debian's `postgres` user (initdb refuses root). Server binaries
// come from /usr/lib/postgresql/<version>/bin (Debian's postgresql package), or
// ES_POSTGRES_BINDIR.
#ifndef ES_ADAPTERS_POSTGRES_TESTING_THROWAWAY_CLUSTER_H_
#define ES_ADAPTERS_POSTGRES_TESTING_THROWAWAY_CLUSTER_H_

#include <string>

#include "es/postgres.h"
#include "es/result.h"

namespace es::postgres::testing {

class ThrowawayCluster {
 public:
  // The process's cluster, started on the first call. NotFound when the server binaries are not
  // installed (callers skip, unless RequiredByEnvironment()); IOError when it fails to start.
  static Result<ThrowawayCluster*> Shared();

  // True when ES_REQUIRE_POSTGRES=1: a missing server must fail the tests, not skip them (CI).
  static bool RequiredByEnvironment();

  // Options for the cluster's database "postgres" as its superuser, with `schema`.
  PostgresOptions Options(const std::string& schema = {}) const;
  int port() const { return port_; }

  // pg_ctl restart: every connection is dropped; returns once the server accepts connections.
  Status Restart();

  // Runs SQL as the superuser (DROP SCHEMA after a test, for instance).
  Status Execute(const std::string& sql) const;

  ~ThrowawayCluster();

 private:
  ThrowawayCluster() = default;
  Status Start();
  // Runs a server binary (as `postgres` when root), its output appended to the cluster's log.
  Status RunTool(const std::string& tool, const std::vector<std::string>& args) const;

  std::string bin_dir_;
  std::string dir_;  // the temporary directory: data/, the log and the Unix socket
  int port_ = 0;
  int owner_pid_ = 0;  // the process that started the cluster stops it
  bool started_ = false;
};

// A schema of its own on a cluster, named after the process and a counter, so that tests and
// cases start empty and independent; dropped (with everything in it) on destruction, which must
// come after the recorders using it are closed.
class ThrowawaySchema {
 public:
  explicit ThrowawaySchema(ThrowawayCluster& cluster);
  ~ThrowawaySchema();
  ThrowawaySchema(const ThrowawaySchema&) = delete;
  ThrowawaySchema& operator=(const ThrowawaySchema&) = delete;

  const std::string& name() const { return name_; }
  PostgresOptions Options() const { return cluster_.Options(name_); }

 private:
  ThrowawayCluster& cluster_;
  std::string name_;
};

}  // namespace es::postgres::testing

#endif  // ES_ADAPTERS_POSTGRES_TESTING_THROWAWAY_CLUSTER_H_
