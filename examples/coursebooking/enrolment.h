// Course booking, the enrolment problem of the course-subscriptions challenge: students register
// with a limit on their courses, courses with a number of places, and students join courses.
// Two implementations share this interface and its rules: DcbEnrolment (one global log, one
// conditional append per join) and AggregateEnrolment (a stream per student and per course, both
// extended in one atomic insert per join).
//
// Rules of a join, checked in this order: the student exists (else kStudentNotFound), the course
// exists (kCourseNotFound), the student has not joined it yet (kAlreadyJoined), the student is
// under their limit (kTooManyCourses), the course has a free place (kFullyBooked).
//
// A join decides on what it read; if another join on the same student or course commits between
// its read and its write, its write is refused with the store's ConditionFailed (DCB) or
// IntegrityError (aggregates) and changes nothing. Joins do not retry: the caller decides.
#ifndef ES_EXAMPLES_COURSEBOOKING_ENROLMENT_H_
#define ES_EXAMPLES_COURSEBOOKING_ENROLMENT_H_

#include <es/result.h>
#include <es/status.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace coursebooking {

// A rule of the domain that refused a join.
enum class Refusal : unsigned char {
  kNone,
  kStudentNotFound,
  kCourseNotFound,
  kAlreadyJoined,
  kTooManyCourses,
  kFullyBooked,
};
std::string_view RefusalName(Refusal refusal);

// What a join did: succeeded, was refused by a rule, or failed in the store (a concurrent write,
// an I/O error...). Exactly one of refusal and a non-OK status is set when it did not succeed.
struct JoinOutcome {
  Refusal refusal = Refusal::kNone;
  es::Status status;
  bool ok() const { return refusal == Refusal::kNone && status.ok(); }
};

class Enrolment {
 public:
  virtual ~Enrolment() = default;

  // Register a student or course under a new id ("student-<uuid>", "course-<uuid>").
  // InvalidArgument when the limit is not positive.
  virtual es::Result<std::string> RegisterStudent(std::string_view name, int max_courses) = 0;
  virtual es::Result<std::string> RegisterCourse(std::string_view name, int places) = 0;

  virtual JoinOutcome JoinCourse(std::string_view student_id, std::string_view course_id) = 0;

  // Names in join order. NotFound for an unknown id.
  virtual es::Result<std::vector<std::string>> ListStudentsForCourse(
      std::string_view course_id) = 0;
  virtual es::Result<std::vector<std::string>> ListCoursesForStudent(
      std::string_view student_id) = 0;

  // Runs `hook` in every JoinCourse after it has decided and before it writes: tests and demos
  // make another join commit there, as a concurrent process could.
  void set_before_write(std::function<void()> hook) { before_write_ = std::move(hook); }

 protected:
  void BeforeWrite() const {
    if (before_write_) before_write_();
  }

 private:
  std::function<void()> before_write_;
};

// ---- Shared by the implementations ----

// prefix + "-" + a random (version 4) UUID in its text form.
std::string NewId(std::string_view prefix);

// A registration's data: the limit (places or courses) and the name.
struct Registration {
  std::string name;
  int limit = 0;
};
std::string EncodeRegistration(const Registration& registration);
// Corruption when `data` was not made by EncodeRegistration.
es::Result<Registration> DecodeRegistration(std::string_view data);

}  // namespace coursebooking

#endif  // ES_EXAMPLES_COURSEBOOKING_ENROLMENT_H_
