// esdump STORE <command>: inspect, verify and export a store without changing it (docs/tools.md).
// Exit status: 0 done (verify: the store is clean), 1 verify found problems, 2 bad usage, 3 the
// store could not be opened or read.
#include <es/store.h>
#include <es/verify.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <string>

#include "tools/common/event_json.h"
#include "tools/common/store_name.h"
#include "tools/esdump/dump.h"

namespace {

constexpr int kProblems = 1;
constexpr int kUsage = 2;
constexpr int kStoreError = 3;

int Fail(const es::Status& status) {
  std::cerr << "esdump: " << status.ToString() << '\n';
  return status.IsInvalidArgument() ? kUsage : kStoreError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "esdump: inspect, verify and export an es store. The store is opened read-only and never\n"
      "modified, even while another process writes to it. Output: JSON lines, or tables with\n"
      "--pretty. Exit status: 0 done, 1 verify found problems, 2 bad usage, 3 store error."};
  std::string store_dir;
  bool pretty = false;
  app.add_option("STORE", store_dir, "the store directory, sqlite:PATH or postgresql://...")
      ->required();
  app.add_flag("--pretty", pretty, "readable tables instead of JSON lines");
  std::string key;
  app.add_option(
      "--key", key,
      "an encrypted store's key: base64 of 16, 24 or 32 bytes (prefer CIPHER_KEY in the "
      "environment: arguments are visible to other users); verify needs none, and with one also "
      "authenticates every encrypted entry and checkpoint");

  CLI::App* info = app.add_subcommand(
      "info",
      "format, store id, head and durable head, segments, counts, index memory, I/O "
      "backend, encryption and compression");
  CLI::App* read = app.add_subcommand("read", "the events matching a query");
  std::string query_text = "[]";
  std::int64_t after = 0, limit = 0;
  bool with_head = false;
  read->add_option("--query", query_text,
                   "JSON array of items [{\"types\":[...],\"tags\":[...]}]; [] (the default) "
                   "matches every event");
  CLI::Option* after_option = read->add_option("--after", after, "only events after this position")
                                  ->check(CLI::NonNegativeNumber);
  CLI::Option* limit_option =
      read->add_option("--limit", limit, "at most this many events")->check(CLI::NonNegativeNumber);
  read->add_flag("--with-head", with_head,
                 "end with {\"head\":N|null}: with --limit the last event returned, else the "
                 "store's last position");
  CLI::App* verify = app.add_subcommand(
      "verify",
      "check every frame and checksum, the position indexes and the index checkpoints "
      "against the log (SQLite, PostgreSQL: integrity_check, every row, the tags and head "
      "tables against the events); one line per problem, with its file and offset (table and "
      "position)");
  CLI::App* exporter = app.add_subcommand("export", "every event as JSON lines esload accepts");
  CLI::App* stats = app.add_subcommand(
      "stats", "events by type, distinct tags, the most frequent tags, events per segment");
  std::size_t top = 10;
  stats->add_option("--top", top, "how many of the most frequent tags (default 10)");
  for (CLI::App* command : {info, read, verify, exporter, stats}) command->fallthrough();
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kUsage;
  }

  const bool recorder_uri = store_dir.starts_with("sqlite:") ||
                            store_dir.starts_with("postgresql://") ||
                            store_dir.starts_with("postgres://");
  // A recorder's info and verify look at its tables directly, never through a recorder, which
  // would set its database up (WAL mode, a key id) on opening it.
  if (recorder_uri && verify->parsed()) {
    es::Result<bool> clean = es::tools::DumpRecorderVerify(store_dir, key, std::cout, pretty);
    std::cout.flush();
    if (!clean.ok()) return Fail(clean.status());
    return *clean ? 0 : kProblems;
  }
  if (recorder_uri && info->parsed()) {
    es::Status done = es::tools::DumpRecorderInfo(store_dir, key, std::cout, pretty);
    std::cout.flush();
    return done.ok() ? 0 : Fail(done);
  }
  if (verify->parsed()) {
    es::Result<es::Options> options = es::tools::EngineOptions(/*read_only=*/true, key);
    if (!options.ok()) return Fail(options.status());
    es::Result<es::VerifyReport> report = es::VerifyStore(*options, store_dir);
    if (!report.ok()) return Fail(report.status());
    es::tools::DumpVerifyReport(*report, std::cout, pretty);
    return report->clean() ? 0 : kProblems;
  }
  es::Result<es::tools::OpenedStore> store = es::tools::OpenStoreNamed(store_dir, true, key);
  if (!store.ok()) return Fail(store.status());
  es::Recorder& recorder = *store->recorder;
  es::Status done;
  if (info->parsed()) {
    done = es::tools::DumpInfo(*store->engine, std::cout, pretty);
  } else if (read->parsed()) {
    es::Result<es::Query> query = es::tools::ParseQuery(query_text);
    if (!query.ok()) return Fail(query.status().WithContext("--query"));
    es::ReadOptions bounds;
    if (after_option->count() > 0) bounds.after = after;
    if (limit_option->count() > 0) bounds.limit = limit;
    done = es::tools::DumpRead(recorder, *query, bounds, with_head, std::cout, pretty);
  } else if (exporter->parsed()) {
    done = es::tools::DumpExport(recorder, std::cout);
  } else {
    done = es::tools::DumpStats(recorder, store->engine, top, std::cout, pretty);
  }
  std::cout.flush();
  return done.ok() ? 0 : Fail(done);
}
