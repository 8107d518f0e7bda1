// esload STORE [FILE|-]: appends JSON lines to a store (docs/tools.md). The store is created when
// missing. Appends are made without waiting for each to be durable; the store is synced once at
// the end, so a crash during a load loses a suffix of it. `esload STORE --train-dictionary`
// instead trains a compression dictionary from the store's events (esload is the tool that
// writes; esdump never changes a store).
// Exit status: 0 every line appended, 1 some line was invalid or refused, 2 bad usage, 3 a store
// or input error.
#include <es/store.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <string>

#include "tools/common/event_json.h"
#include "tools/common/store_name.h"
#include "tools/esload/load.h"

int main(int argc, char** argv) {
  CLI::App app{
      "esload: append JSON lines to an es store (created when missing). Each line is an event\n"
      "object (one unconditional append) or a request {\"events\":[...],\"condition\":{\"query\":"
      "[...],\"after\":N|null}}.\nExit status: 0 all appended, 1 some line invalid or refused, 2 "
      "bad usage, 3 store or input error."};
  std::string store_dir;
  std::string input = "-";
  es::tools::LoadOptions options;
  app.add_option("STORE", store_dir, "the store directory, sqlite:PATH or postgresql://...")
      ->required();
  app.add_option("FILE", input, "JSON lines to load; - (the default) reads stdin");
  app.add_flag("--results", options.results,
               "print one result per line: {\"ok\":true,\"position\":N} or "
               "{\"ok\":false,\"error\":\"condition_failed\",...}");
  app.add_flag("--stop-on-error", options.stop_on_error, "stop at the first bad or refused line");
  bool train = false;
  std::size_t dictionary_bytes = 110 << 10;
  app.add_flag("--train-dictionary", train,
               "read no input: train a compression dictionary from the engine store's latest "
               "events (Store::TrainCompressionDictionary) for its compressing writers to use "
               "from their next open; prints {\"dictionary\":ID}");
  app.add_option("--dictionary-bytes", dictionary_bytes,
                 "the dictionary's size with --train-dictionary (default 110 KiB)")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{16} << 20));
  std::string key;
  app.add_option("--key", key,
                 "the key of an encrypted store, or of the one to create: base64 of 16, 24 or 32 "
                 "bytes (prefer CIPHER_KEY in the environment: arguments are visible to other "
                 "users)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }

  if (train) {
    if (input != "-") {
      std::cerr << "esload: --train-dictionary reads no input, and FILE was given\n";
      return 2;
    }
    es::Result<es::tools::OpenedStore> store = es::tools::OpenStoreNamed(store_dir, false, key);
    if (store.ok() && store->engine == nullptr) {
      store = es::Status::NotSupported("dictionaries are trained for engine stores only, not " +
                                       store_dir);
    }
    es::Result<std::uint32_t> id =
        store.ok() ? store->engine->TrainCompressionDictionary(dictionary_bytes) : store.status();
    if (!id.ok()) {
      std::cerr << "esload: " << id.status().ToString() << '\n';
      return 3;
    }
    std::cout << nlohmann::ordered_json{{"dictionary", *id}}.dump() << '\n';
    return 0;
  }
  std::ifstream file;
  if (input != "-") {
    file.open(input);
    if (!file) {
      std::cerr << "esload: cannot open " << input << '\n';
      return 3;
    }
  }
  std::istream& in = input == "-" ? std::cin : file;
  es::Result<es::tools::OpenedStore> store = es::tools::OpenStoreNamed(store_dir, false, key);
  if (!store.ok()) {
    std::cerr << "esload: " << store.status().ToString() << '\n';
    return 3;
  }
  es::tools::LoadSummary summary;
  es::Status loaded =
      es::tools::LoadLines(*store->recorder, in, options, std::cout, std::cerr, &summary);
  // SQLite makes its NORMAL-mode commits durable when its last connection closes.
  es::Status synced = store->engine != nullptr ? store->engine->Sync() : es::Status::OK();
  if (!loaded.ok() || !synced.ok()) {
    std::cerr << "esload: " << (loaded.ok() ? synced : loaded).ToString() << '\n';
    return 3;
  }
  if (!options.results) {
    std::cout << nlohmann::ordered_json{{"lines", summary.lines},   {"appended", summary.appended},
                                        {"events", summary.events}, {"invalid", summary.invalid},
                                        {"failed", summary.failed}, {"stopped", summary.stopped}}
                     .dump()
              << '\n';
  }
  return summary.invalid + summary.failed == 0 ? 0 : 1;
}
