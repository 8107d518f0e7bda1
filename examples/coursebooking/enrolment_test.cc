// The enrolment tests of the reference (§5.10), for both implementations on every recorder the
// conformance suite knows: the shared enrolment case, the consistency-boundary case, and a
// threaded stress test with tight limits.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "examples/coursebooking/aggregate_enrolment.h"
#include "examples/coursebooking/dcb_enrolment.h"
#include "tests/conformance/fixture.h"

namespace coursebooking {
namespace {

using Names = std::vector<std::string>;

struct Implementation {
  const char* name;
  std::function<std::unique_ptr<Enrolment>(es::Recorder&)> make;
};

const Implementation kImplementations[] = {
    {"dcb", [](es::Recorder& r) { return std::make_unique<DcbEnrolment>(r); }},
    {"aggregates", [](es::Recorder& r) { return std::make_unique<AggregateEnrolment>(r); }},
};

// Runs `body` once for each implementation on each backend, each time on a fresh recorder.
void ForEachSetup(
    const std::function<void(es::conformance::Fixture&, const Implementation&)>& body) {
  for (const es::conformance::Backend& backend : es::conformance::Backends()) {
    for (const Implementation& implementation : kImplementations) {
      CAPTURE(backend.name);
      CAPTURE(implementation.name);
      std::unique_ptr<es::conformance::Fixture> fixture = backend.make();
      body(*fixture, implementation);
    }
  }
}

std::string Registered(es::Result<std::string> id) {
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  return *id;
}

void JoinOk(Enrolment& enrolment, const std::string& student, const std::string& course) {
  JoinOutcome outcome = enrolment.JoinCourse(student, course);
  REQUIRE_MESSAGE(outcome.ok(), RefusalName(outcome.refusal) << " " << outcome.status.ToString());
}

void JoinRefused(Enrolment& enrolment, const std::string& student, const std::string& course,
                 Refusal refusal) {
  JoinOutcome outcome = enrolment.JoinCourse(student, course);
  CHECK_MESSAGE(outcome.status.ok(), outcome.status.ToString());
  CHECK(RefusalName(outcome.refusal) == RefusalName(refusal));
}

Names List(es::Result<Names> names) {
  REQUIRE_MESSAGE(names.ok(), names.status().ToString());
  return *names;
}

TEST_CASE("enrolment: the shared enrolment case") {
  ForEachSetup([](es::conformance::Fixture& fixture, const Implementation& implementation) {
    std::unique_ptr<Enrolment> enrolment = implementation.make(fixture.recorder());
    std::map<std::string, std::string> courses, students;
    for (const char* name : {"DCB", "Maths", "Biology", "French", "Spanish"}) {
      courses[name] = Registered(enrolment->RegisterCourse(name, 5));
    }
    for (const char* name : {"Sara", "Mollie", "Allard", "Grace", "Bastian", "Greg", "Katherine"}) {
      students[name] = Registered(enrolment->RegisterStudent(name, 3));
    }
    // The rest runs on the recovered store where the backend persists.
    fixture.Restart();
    enrolment = implementation.make(fixture.recorder());

    for (const char* name : {"Sara", "Mollie", "Allard", "Grace", "Bastian"}) {
      JoinOk(*enrolment, students[name], courses["DCB"]);
    }
    JoinRefused(*enrolment, students["Greg"], courses["DCB"], Refusal::kFullyBooked);
    for (const char* name : {"French", "Spanish", "Maths"}) {
      JoinOk(*enrolment, students["Greg"], courses[name]);
    }
    JoinRefused(*enrolment, students["Greg"], courses["Biology"], Refusal::kTooManyCourses);
    JoinOk(*enrolment, students["Katherine"], courses["French"]);
    JoinRefused(*enrolment, students["Katherine"], courses["French"], Refusal::kAlreadyJoined);
    JoinRefused(*enrolment, students["Grace"], "not-a-course", Refusal::kCourseNotFound);
    JoinRefused(*enrolment, "not-a-student", courses["DCB"], Refusal::kStudentNotFound);

    CHECK(List(enrolment->ListStudentsForCourse(courses["DCB"])) ==
          Names{"Sara", "Mollie", "Allard", "Grace", "Bastian"});
    CHECK(List(enrolment->ListStudentsForCourse(courses["French"])) == Names{"Greg", "Katherine"});
    CHECK(List(enrolment->ListStudentsForCourse(courses["Biology"])).empty());
    CHECK(List(enrolment->ListCoursesForStudent(students["Sara"])) == Names{"DCB"});
    CHECK(List(enrolment->ListCoursesForStudent(students["Greg"])) ==
          Names{"French", "Spanish", "Maths"});
    CHECK(enrolment->ListCoursesForStudent("not-a-student").status().IsNotFound());
    CHECK(enrolment->ListStudentsForCourse("not-a-course").status().IsNotFound());
    CHECK(enrolment->RegisterCourse("Empty", 0).status().IsInvalidArgument());
  });
}

// A join decided on a state that another join changed before it wrote is refused by the store,
// and changes nothing.
TEST_CASE("enrolment: the consistency boundary holds against a concurrent join") {
  ForEachSetup([](es::conformance::Fixture& fixture, const Implementation& implementation) {
    std::unique_ptr<Enrolment> enrolment = implementation.make(fixture.recorder());
    std::unique_ptr<Enrolment> other = implementation.make(fixture.recorder());
    const std::string french = Registered(enrolment->RegisterCourse("French", 5));
    const std::string sara = Registered(enrolment->RegisterStudent("Sara", 3));
    const std::string bastian = Registered(enrolment->RegisterStudent("Bastian", 3));

    enrolment->set_before_write([&] { JoinOk(*other, bastian, french); });
    JoinOutcome stale = enrolment->JoinCourse(sara, french);
    CHECK(stale.refusal == Refusal::kNone);
    CHECK_MESSAGE((stale.status.IsConditionFailed() || stale.status.IsIntegrityError()),
                  stale.status.ToString());
    enrolment->set_before_write(nullptr);

    CHECK(List(enrolment->ListStudentsForCourse(french)) == Names{"Bastian"});
    CHECK(List(enrolment->ListCoursesForStudent(sara)).empty());
    // Decided again on the new state, the join goes through.
    JoinOk(*enrolment, sara, french);
    CHECK(List(enrolment->ListStudentsForCourse(french)) == Names{"Bastian", "Sara"});
  });
}

// Threads join random students to random courses, retrying a join the store refused because of
// a concurrent one. No course may ever exceed its places, no student their limit, and the two
// views of every join must agree.
TEST_CASE("enrolment: concurrent joins never break a limit") {
  ForEachSetup([](es::conformance::Fixture& fixture, const Implementation& implementation) {
    constexpr int kStudents = 8, kCourses = 5, kMaxCourses = 2, kPlaces = 3;
    constexpr int kThreads = 4, kJoinsPerThread = 40;
    std::unique_ptr<Enrolment> setup = implementation.make(fixture.recorder());
    std::vector<std::string> students, courses;
    std::map<std::string, std::string> name_of;
    for (int i = 0; i < kStudents; ++i) {
      students.push_back(Registered(setup->RegisterStudent("s" + std::to_string(i), kMaxCourses)));
      name_of[students.back()] = "s" + std::to_string(i);
    }
    for (int i = 0; i < kCourses; ++i) {
      courses.push_back(Registered(setup->RegisterCourse("c" + std::to_string(i), kPlaces)));
      name_of[courses.back()] = "c" + std::to_string(i);
    }

    std::atomic<int> joined{0}, conflicts{0}, errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::unique_ptr<Enrolment> enrolment = implementation.make(fixture.recorder());
        unsigned seed = 7919u * static_cast<unsigned>(t + 1);
        for (int i = 0; i < kJoinsPerThread; ++i) {
          seed = seed * 1103515245u + 12345u;
          const std::string& student = students[(seed >> 8) % kStudents];
          const std::string& course = courses[(seed >> 20) % kCourses];
          while (true) {
            JoinOutcome outcome = enrolment->JoinCourse(student, course);
            if (outcome.status.IsConditionFailed() || outcome.status.IsIntegrityError()) {
              ++conflicts;
              continue;  // decide again on the new state
            }
            if (!outcome.status.ok()) ++errors;
            if (outcome.ok()) ++joined;
            break;
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(errors == 0);
    MESSAGE(std::string(implementation.name)
            << ": " << joined.load() << " joins, " << conflicts.load() << " conflicts");

    std::set<std::pair<std::string, std::string>> by_course, by_student;
    int total = 0;
    for (const std::string& course : courses) {
      Names names = List(setup->ListStudentsForCourse(course));
      CHECK(names.size() <= static_cast<std::size_t>(kPlaces));
      for (const std::string& name : names) CHECK(by_course.insert({name, name_of[course]}).second);
      total += static_cast<int>(names.size());
    }
    for (const std::string& student : students) {
      Names names = List(setup->ListCoursesForStudent(student));
      CHECK(names.size() <= static_cast<std::size_t>(kMaxCourses));
      for (const std::string& name : names) by_student.insert({name_of[student], name});
    }
    CHECK(by_course == by_student);
    CHECK(total == joined.load());
  });
}

}  // namespace
}  // namespace coursebooking
