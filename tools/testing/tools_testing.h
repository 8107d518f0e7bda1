// Helpers of the tools' tests (tools_test.cc, binaries_test.cc): sample events, running the
// esdump and esload binaries of this build, and reading their JSON lines. Test-only.
#ifndef ES_TOOLS_TESTING_TOOLS_TESTING_H_
#define ES_TOOLS_TESTING_TOOLS_TESTING_H_

#include <es/event.h>
#include <es/store.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace es::tools {

// Events of every shape: tags, binary data, streams, uuids and metadata.
std::vector<Event> Sample();

// The sample events, and the tracking records of two downstream applications.
void Fill(Store& store);

// Each line of `text`, parsed.
std::vector<nlohmann::json> Lines(const std::string& text);

// What a command line (a shell command) wrote to stdout, parsed and as it is, and its exit status.
struct Ran {
  std::vector<nlohmann::json> lines;
  std::string out;
  int status = -1;
};
Ran RunCommand(const std::string& command);

// The esdump and esload binaries of this build run with `args` (shell words).
Ran RunEsdump(const std::string& args);
Ran RunEsload(const std::string& args);

}  // namespace es::tools

#endif  // ES_TOOLS_TESTING_TOOLS_TESTING_H_
