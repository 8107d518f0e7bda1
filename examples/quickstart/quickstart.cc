// Quickstart: create a store in a directory, append DCB events and aggregate events, reopen it
// and print what it holds.
//
//   quickstart DIR
#include <es/store.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

int Fail(const char* what, const es::Status& status) {
  std::fprintf(stderr, "quickstart: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

es::Event DcbEvent(std::string type, std::vector<std::string> tags, std::string data) {
  es::Event event;
  event.type = std::move(type);
  event.tags = std::move(tags);
  event.data = std::move(data);
  return event;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: quickstart DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  es::Options options;  // durable: every append is fsynced before it returns

  {
    auto opened = es::Store::Open(options, dir);
    if (!opened.ok()) return Fail("open", opened.status());
    es::Store& store = **opened;

    // DCB: register a course, guarded by "nothing is tagged with this id yet".
    es::AppendCondition unique{{{es::QueryItem{{}, {"course-dcb"}}}}, std::nullopt};
    auto registered = store.Append(
        std::vector<es::Event>{DcbEvent("CourseRegistered", {"course-dcb"}, R"({"places":2})")},
        unique);
    if (!registered.ok()) return Fail("register course", registered.status());
    std::printf("registered course-dcb at position %lld\n", static_cast<long long>(*registered));

    // Registering it again fails: the condition matches the event just written.
    auto again = store.Append(
        std::vector<es::Event>{DcbEvent("CourseRegistered", {"course-dcb"}, R"({"places":2})")},
        unique);
    std::printf("registering it again: %s\n", again.status().ToString().c_str());

    // Read the boundary, decide, append under the head we saw.
    es::Query boundary{
        {es::QueryItem{{"CourseRegistered", "StudentJoinedCourse"}, {"course-dcb"}}}};
    auto seen = store.Read(boundary, {});
    if (!seen.ok()) return Fail("read", seen.status());
    auto joined = store.Append(
        std::vector<es::Event>{DcbEvent("StudentJoinedCourse", {"course-dcb", "student-ada"}, "")},
        es::AppendCondition{boundary, seen->head});
    if (!joined.ok()) return Fail("join", joined.status());

    // Aggregates: two versions of one stream in one atomic insert.
    std::vector<es::StoredEvent> account = {{"account-1", 1, "AccountOpened", R"({"owner":"ada"})"},
                                            {"account-1", 2, "Deposited", R"({"amount":10})"}};
    auto ids = store.InsertEvents(account);
    if (!ids.ok()) return Fail("insert aggregate events", ids.status());
    auto conflict = store.InsertEvents(std::vector<es::StoredEvent>{account[1]});
    std::printf("inserting version 2 again: %s\n", conflict.status().ToString().c_str());
  }

  // Reopen: recovery replays the log and rebuilds the indexes.
  auto reopened = es::Store::Open(options, dir);
  if (!reopened.ok()) return Fail("reopen", reopened.status());
  es::Store& store = **reopened;
  auto all = store.Read(es::Query{}, {});
  if (!all.ok()) return Fail("read all", all.status());
  std::printf("after reopen the store holds %zu events (head %lld):\n", all->events.size(),
              static_cast<long long>(all->head.value_or(0)));
  for (const es::SequencedEvent& e : all->events) {
    std::string tags;
    for (const std::string& tag : e.event.tags) tags += (tags.empty() ? "" : ",") + tag;
    std::printf("  %lld %-20s tags=[%s] stream=%s data=%s\n", static_cast<long long>(e.position),
                e.event.type.c_str(), tags.c_str(),
                e.event.stream
                    ? (e.event.stream->id + "@" + std::to_string(e.event.stream->version)).c_str()
                    : "-",
                e.event.data.c_str());
  }
  auto stream = store.SelectEvents("account-1", {.desc = true, .limit = 1});
  if (!stream.ok()) return Fail("select events", stream.status());
  std::printf("latest account-1 event: version %lld %s\n",
              static_cast<long long>(stream->at(0).originator_version),
              stream->at(0).topic.c_str());
  es::StoreInfo info = store.Info();
  std::printf("segments %llu, log bytes %llu, index bytes %llu, writer epoch %llu\n",
              static_cast<unsigned long long>(info.segment_count),
              static_cast<unsigned long long>(info.log_bytes),
              static_cast<unsigned long long>(info.index_bytes),
              static_cast<unsigned long long>(info.writer_epoch));
  return 0;
}
