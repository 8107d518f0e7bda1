// Several processes joining students to courses in one shared store, each through its own
// recorder, as separate application processes would: the rules of the course-subscriptions
// challenge must hold across processes, and positions must stay gap-free. Run on every recorder
// that can be shared between processes (SQLite files, PostgreSQL; the embedded engine is one
// writer process by design).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/testing/test_dir.h"
#include "examples/coursebooking/aggregate_enrolment.h"
#include "examples/coursebooking/dcb_enrolment.h"

#ifdef ES_WITH_SQLITE
#include "es/sqlite.h"
#endif

#ifdef ES_WITH_POSTGRES
#include "adapters/postgres/testing/throwaway_cluster.h"
#include "es/postgres.h"
#endif

namespace coursebooking {
namespace {

using Names = std::vector<std::string>;
using Opener = std::function<es::Result<std::unique_ptr<es::Recorder>>()>;

struct SharedStore {
  std::string name;
  Opener open;
};

std::unique_ptr<Enrolment> MakeEnrolment(bool dcb, es::Recorder& recorder) {
  if (dcb) return std::make_unique<DcbEnrolment>(recorder);
  return std::make_unique<AggregateEnrolment>(recorder);
}

constexpr int kProcesses = 3, kJoinsPerProcess = 40;
constexpr int kStudents = 8, kCourses = 5, kMaxCourses = 2, kPlaces = 3;

// The body of one child process: its own recorder, random joins, each retried on a conflict
// until the rules decide it. Writes its number of successful joins to `out`; exits non-zero on
// any store error. Uses no doctest macro: a failing assertion must not unwind into the parent's
// test runner in a forked copy.
[[noreturn]] void RunJoiner(const Opener& open, bool dcb, const std::vector<std::string>& students,
                            const std::vector<std::string>& courses, unsigned seed, int out) {
  auto recorder = open();
  if (!recorder.ok()) {
    std::fprintf(stderr, "joiner: open: %s\n", recorder.status().ToString().c_str());
    _exit(2);
  }
  std::unique_ptr<Enrolment> enrolment = MakeEnrolment(dcb, **recorder);
  int joined = 0;
  for (int i = 0; i < kJoinsPerProcess; ++i) {
    seed = seed * 1103515245u + 12345u;
    const std::string& student = students[(seed >> 8) % kStudents];
    const std::string& course = courses[(seed >> 20) % kCourses];
    while (true) {
      JoinOutcome outcome = enrolment->JoinCourse(student, course);
      if (outcome.status.IsConditionFailed() || outcome.status.IsIntegrityError()) continue;
      if (!outcome.status.ok()) {
        std::fprintf(stderr, "joiner: join: %s\n", outcome.status.ToString().c_str());
        _exit(3);
      }
      if (outcome.ok()) ++joined;
      break;
    }
  }
  enrolment.reset();
  recorder->reset();
  const bool written = write(out, &joined, sizeof joined) == sizeof joined;
  _exit(written ? 0 : 4);
}

void CheckSharedStore(const SharedStore& store, bool dcb) {
  std::vector<std::string> students, courses;
  std::map<std::string, std::string> name_of;
  {
    // Set up, then close: no recorder thread may be running when the parent forks.
    auto recorder = store.open();
    REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
    std::unique_ptr<Enrolment> setup = MakeEnrolment(dcb, **recorder);
    for (int i = 0; i < kStudents; ++i) {
      auto id = setup->RegisterStudent("s" + std::to_string(i), kMaxCourses);
      REQUIRE(id.ok());
      students.push_back(*id);
      name_of[*id] = "s" + std::to_string(i);
    }
    for (int i = 0; i < kCourses; ++i) {
      auto id = setup->RegisterCourse("c" + std::to_string(i), kPlaces);
      REQUIRE(id.ok());
      courses.push_back(*id);
      name_of[*id] = "c" + std::to_string(i);
    }
  }

  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  std::cout.flush();  // a child must not inherit, and then write, the parent's pending output
  std::fflush(nullptr);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(pipe_fds[0]);
      RunJoiner(store.open, dcb, students, courses, 7919u * static_cast<unsigned>(p + 1),
                pipe_fds[1]);
    }
    children.push_back(pid);
  }
  close(pipe_fds[1]);
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "child exit status " << status);
  }
  int joined = 0, count = 0;
  while (read(pipe_fds[0], &count, sizeof count) == sizeof count) joined += count;
  close(pipe_fds[0]);

  auto recorder = store.open();
  REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
  std::unique_ptr<Enrolment> check = MakeEnrolment(dcb, **recorder);
  std::set<std::pair<std::string, std::string>> by_course, by_student;
  int total = 0;
  for (const std::string& course : courses) {
    auto names = check->ListStudentsForCourse(course);
    REQUIRE(names.ok());
    CHECK(names->size() <= static_cast<std::size_t>(kPlaces));
    for (const std::string& name : *names) CHECK(by_course.insert({name, name_of[course]}).second);
    total += static_cast<int>(names->size());
  }
  for (const std::string& student : students) {
    auto names = check->ListCoursesForStudent(student);
    REQUIRE(names.ok());
    CHECK(names->size() <= static_cast<std::size_t>(kMaxCourses));
    for (const std::string& name : *names) by_student.insert({name_of[student], name});
  }
  CHECK(by_course == by_student);
  CHECK(total == joined);
  CHECK(joined > 0);

  auto all = (*recorder)->Read(es::Query{}, {});
  REQUIRE(all.ok());
  for (std::size_t i = 0; i < all->events.size(); ++i) {
    CHECK(all->events[i].position == static_cast<std::int64_t>(i + 1));
  }
  MESSAGE(store.name << " " << std::string(dcb ? "dcb" : "aggregates") << ": " << joined
                     << " joins by " << kProcesses << " processes, " << all->events.size()
                     << " events");
}

TEST_CASE("enrolment: processes sharing a store never break a limit") {
  std::vector<SharedStore> stores;
#ifdef ES_WITH_SQLITE
  es::testing::TempDir sqlite_dir;
  stores.push_back({"sqlite", [path = sqlite_dir.path() + "/events.sqlite"] {
                      es::SqliteOptions options;
                      options.dbname = path;
                      options.lock_timeout = std::chrono::seconds(30);
                      return es::OpenSqliteRecorder(options);
                    }});
#endif
#ifdef ES_WITH_POSTGRES
  std::optional<es::postgres::testing::ThrowawaySchema> schema;
  if (auto cluster = es::postgres::testing::ThrowawayCluster::Shared(); cluster.ok()) {
    schema.emplace(**cluster);
    stores.push_back(
        {"postgres", [options = schema->Options()] { return es::OpenPostgresRecorder(options); }});
  } else {
    CHECK_FALSE(es::postgres::testing::ThrowawayCluster::RequiredByEnvironment());
    MESSAGE("PostgreSQL skipped: " << cluster.status().ToString());
  }
#endif
  if (stores.empty()) MESSAGE("no recorder that processes can share is built");
  for (const SharedStore& store : stores) {
    for (bool dcb : {true, false}) {
      CAPTURE(store.name);
      CAPTURE(dcb);
      CheckSharedStore(store, dcb);
    }
  }
}

}  // namespace
}  // namespace coursebooking
