// What a STORE argument of esdump and esload names (design.md §8): an engine store directory, or
// the URI of another recorder ("sqlite:PATH", "postgresql://user:password@host:port/db?...").
#ifndef ES_TOOLS_COMMON_STORE_NAME_H_
#define ES_TOOLS_COMMON_STORE_NAME_H_

#include <es/options.h>
#include <es/recorder.h>
#include <es/store.h>

#include <memory>
#include <string>
#include <string_view>

namespace es::tools {

struct OpenedStore {
  std::unique_ptr<Recorder> recorder;
  Store* engine = nullptr;  // the same object when `name` was an engine store directory
  std::string backend;      // "engine", "sqlite" or "postgres"
};

// Opens the store `name` names. With `read_only` (esdump), an engine store is opened read-only
// (Options::read_only) and a SQLite database or PostgreSQL schema must already hold the tables
// (nothing is created);
// otherwise (esload) the store or database is created when missing. An engine store takes its
// options from the environment (OptionsFromEnvironment: CIPHER_KEY, COMPRESSOR_TOPIC), and
// `key_base64` (base64 of its key, as CIPHER_KEY), when not empty, overrides CIPHER_KEY.
// InvalidArgument for a URI of a recorder this build lacks.
Result<OpenedStore> OpenStoreNamed(std::string_view name, bool read_only,
                                   std::string_view key_base64 = {});

// The engine options OpenStoreNamed opens a store directory with: OptionsFromEnvironment, then
// `read_only` and the key of `key_base64` (when not empty).
Result<Options> EngineOptions(bool read_only, std::string_view key_base64);

}  // namespace es::tools

#endif  // ES_TOOLS_COMMON_STORE_NAME_H_
