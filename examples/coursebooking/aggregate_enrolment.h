// Enrolment with event-sourced aggregates, the classic way: a stream of events per student and
// per course, each event at the next version of its stream. A join reads both streams and
// appends one event to each, at their next versions, in one atomic insert: a concurrent join on
// either takes one of those versions first, and the insert then fails whole.
#ifndef ES_EXAMPLES_COURSEBOOKING_AGGREGATE_ENROLMENT_H_
#define ES_EXAMPLES_COURSEBOOKING_AGGREGATE_ENROLMENT_H_

#include <es/recorder.h>

#include <cstdint>

#include "examples/coursebooking/enrolment.h"

namespace coursebooking {

// Topics of the streams' events, and what their state holds.
inline constexpr char kStudentRegisteredTopic[] = "Student.Registered";   // the registration
inline constexpr char kStudentJoinedTopic[] = "Student.JoinedCourse";     // the course id
inline constexpr char kCourseRegisteredTopic[] = "Course.Registered";     // the registration
inline constexpr char kCourseAcceptedTopic[] = "Course.AcceptedStudent";  // the student id

class AggregateEnrolment final : public Enrolment {
 public:
  // `recorder` must outlive this object.
  explicit AggregateEnrolment(es::AggregateRecorder& recorder) : recorder_(recorder) {}

  es::Result<std::string> RegisterStudent(std::string_view name, int max_courses) override;
  es::Result<std::string> RegisterCourse(std::string_view name, int places) override;
  JoinOutcome JoinCourse(std::string_view student_id, std::string_view course_id) override;
  es::Result<std::vector<std::string>> ListStudentsForCourse(std::string_view course_id) override;
  es::Result<std::vector<std::string>> ListCoursesForStudent(std::string_view student_id) override;

  // A student or course as its stream makes it.
  struct Aggregate {
    bool exists = false;
    Registration registration;
    std::vector<std::string> joined;  // course ids of a student, student ids of a course
    std::int64_t version = 0;         // of its last event
  };
  // Folds the stream `id` (registered with `registered_topic`); a missing stream gives an
  // Aggregate that does not exist.
  es::Result<Aggregate> Load(std::string_view id, const char* registered_topic);

 private:
  es::Result<std::string> Register(std::string_view prefix, const char* topic,
                                   std::string_view name, int limit);
  es::Result<std::vector<std::string>> ListJoined(std::string_view id, const char* own_topic,
                                                  const char* other_topic);

  es::AggregateRecorder& recorder_;
};

}  // namespace coursebooking

#endif  // ES_EXAMPLES_COURSEBOOKING_AGGREGATE_ENROLMENT_H_
