#include "tools/testing/tools_testing.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <sstream>

namespace es::tools {

std::vector<Event> Sample() {
  std::vector<Event> events;
  events.push_back({.type = "Registered", .data = "plain text", .tags = {"student-1"}});
  events.push_back({.type = "Joined",
                    .data = std::string("\0\x01\xff binary", 10),
                    .tags = {"student-1", "course-2", "student-1"}});
  Event streamed{.type = "Opened", .data = "{}", .stream = StreamVersion{"account-7", 1}};
  streamed.uuid = Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  streamed.metadata = {{"user", "ann"}, {"", "empty key"}};
  events.push_back(streamed);
  events.push_back({.type = "Joined", .tags = {"student-3", "course-2"}});
  return events;
}

void Fill(Store& store) {
  for (const Event& event : Sample()) {
    REQUIRE(store.Append(std::span<const Event>(&event, 1), std::nullopt).ok());
  }
  REQUIRE(store.InsertTracking(Tracking{"downstream", 4}).ok());
  REQUIRE(store.InsertTracking(Tracking{"analytics", 2}).ok());
}

std::vector<nlohmann::json> Lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

Ran RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Ran ran;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    ran.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  ran.lines = Lines(ran.out);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

Ran RunEsdump(const std::string& args) { return RunCommand(std::string(ES_ESDUMP) + " " + args); }
Ran RunEsload(const std::string& args) { return RunCommand(std::string(ES_ESLOAD) + " " + args); }

}  // namespace es::tools
