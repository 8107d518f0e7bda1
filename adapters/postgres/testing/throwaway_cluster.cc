#include "adapters/postgres/testing/throwaway_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "adapters/postgres/src/connection.h"

namespace es::postgres::testing {
namespace {

namespace fs = std::filesystem;

// The newest /usr/lib/postgresql/<version>/bin that holds initdb, or ES_POSTGRES_BINDIR.
std::string FindBinDir() {
  std::error_code error;
  if (const char* dir = std::getenv("ES_POSTGRES_BINDIR")) {
    return fs::exists(fs::path(dir) / "initdb", error) ? dir : "";
  }
  std::string best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    const std::string version = entry.path().filename().string();
    const int number = std::atoi(version.c_str());
    if (number > best_version && fs::exists(entry.path() / "bin" / "initdb", error)) {
      best_version = number;
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

// A port nobody listens on now (the kernel's choice for port 0); another process could take it
// before the server binds it, which initdb-once-per-process makes unlikely enough for tests.
Result<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return Status::IOError("cannot find a free port on 127.0.0.1");
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

std::unique_ptr<ThrowawayCluster>& SharedCluster() {
  static std::unique_ptr<ThrowawayCluster> cluster;
  return cluster;
}

}  // namespace

bool ThrowawayCluster::RequiredByEnvironment() {
  const char* required = std::getenv("ES_REQUIRE_POSTGRES");
  return required != nullptr && std::string(required) == "1";
}

Result<ThrowawayCluster*> ThrowawayCluster::Shared() {
  static const Result<ThrowawayCluster*> shared = []() -> Result<ThrowawayCluster*> {
    std::unique_ptr<ThrowawayCluster> cluster(new ThrowawayCluster());
    cluster->bin_dir_ = FindBinDir();
    if (cluster->bin_dir_.empty()) {
      return Status::NotFound(
          "PostgreSQL server binaries (initdb) not found in ES_POSTGRES_BINDIR or "
          "/usr/lib/postgresql/*/bin (install Debian's postgresql package)");
    }
    ES_RETURN_IF_ERROR(cluster->Start());
    SharedCluster() = std::move(cluster);
    return SharedCluster().get();
  }();
  return shared;
}

Status ThrowawayCluster::RunTool(const std::string& tool,
                                 const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  if (geteuid() == 0) {
    const char* runuser = fs::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
    argv = {runuser, "-u", "postgres", "--"};
  }
  argv.push_back(bin_dir_ + "/" + tool);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  const std::string log = dir_ + "/tools.log";
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError(tool + " failed (see " + log + ")");
  }
  return Status::OK();
}

Status ThrowawayCluster::Start() {
  std::string pattern = (fs::temp_directory_path() / "es-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp failed");
  dir_ = pattern;
  owner_pid_ = getpid();
  if (geteuid() == 0) {
    const passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) {
      return Status::NotFound("running as root but there is no 'postgres' user to run initdb as");
    }
    if (chown(dir_.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
      return Status::IOError("cannot chown " + dir_ + " to postgres");
    }
  }
  ES_ASSIGN_OR_RETURN(port_, FreePort());
  const std::string data = dir_ + "/data";
  ES_RETURN_IF_ERROR(RunTool("initdb", {"-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                        "--locale=C", "--no-sync", "--no-instructions"}));
  const std::string settings = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                               " -c unix_socket_directories=" + dir_ + " -c max_connections=300";
  ES_RETURN_IF_ERROR(RunTool("pg_ctl", {"-D", data, "-l", dir_ + "/server.log", "-w", "-t", "60",
                                        "-o", settings, "start"}));
  started_ = true;
  return Status::OK();
}

Status ThrowawayCluster::Restart() {
  return RunTool("pg_ctl", {"-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "60",
                            "-m", "fast", "restart"});
}

PostgresOptions ThrowawayCluster::Options(const std::string& schema) const {
  PostgresOptions options;
  options.dbname = "postgres";
  options.host = "127.0.0.1";
  options.port = port_;
  options.user = "postgres";
  options.schema = schema;
  return options;
}

Status ThrowawayCluster::Execute(const std::string& sql) const {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Connection::Open(Options()));
  return connection->ExecuteScript(sql);
}

ThrowawayCluster::~ThrowawayCluster() {
  if (getpid() != owner_pid_) return;
  if (started_) {
    RunTool("pg_ctl", {"-D", dir_ + "/data", "-w", "-m", "immediate", "stop"}).IgnoreError();
  }
  std::error_code error;
  fs::remove_all(dir_, error);
}

ThrowawaySchema::ThrowawaySchema(ThrowawayCluster& cluster) : cluster_(cluster) {
  static std::atomic<int> schemas{0};
  name_ = "es_test_" + std::to_string(getpid()) + "_" + std::to_string(++schemas);
}

ThrowawaySchema::~ThrowawaySchema() {
  cluster_.Execute("DROP SCHEMA IF EXISTS " + name_ + " CASCADE").IgnoreError();
}

}  // namespace es::postgres::testing
