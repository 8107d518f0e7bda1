// Enrolment on a DCB recorder, in the style of the DCB specification: every fact is one event in
// the global log, tagged with the ids it concerns, and a join is one read of its consistency
// boundary and one append conditional on nothing in that boundary having changed since the read.
#ifndef ES_EXAMPLES_COURSEBOOKING_DCB_ENROLMENT_H_
#define ES_EXAMPLES_COURSEBOOKING_DCB_ENROLMENT_H_

#include <es/recorder.h>

#include "examples/coursebooking/enrolment.h"

namespace coursebooking {

// Event types, and what each is tagged with.
inline constexpr char kStudentRegistered[] = "StudentRegistered";      // [student id]
inline constexpr char kCourseRegistered[] = "CourseRegistered";        // [course id]
inline constexpr char kStudentJoinedCourse[] = "StudentJoinedCourse";  // [student id, course id]

class DcbEnrolment final : public Enrolment {
 public:
  // `recorder` must outlive this object.
  explicit DcbEnrolment(es::DcbRecorder& recorder) : recorder_(recorder) {}

  es::Result<std::string> RegisterStudent(std::string_view name, int max_courses) override;
  es::Result<std::string> RegisterCourse(std::string_view name, int places) override;
  // One read of the boundary {StudentRegistered, StudentJoinedCourse tagged with the student} or
  // {CourseRegistered, StudentJoinedCourse tagged with the course}, then one append of a
  // StudentJoinedCourse event under the condition "nothing in that boundary after the read's
  // head".
  JoinOutcome JoinCourse(std::string_view student_id, std::string_view course_id) override;
  es::Result<std::vector<std::string>> ListStudentsForCourse(std::string_view course_id) override;
  es::Result<std::vector<std::string>> ListCoursesForStudent(std::string_view student_id) override;

 private:
  // Appends the registration of a new id, guarded by "nothing is tagged with it yet".
  es::Result<std::string> Register(std::string_view prefix, const char* type, std::string_view name,
                                   int limit);
  // The names of the entities (registered as `other_type`) joined with `id` (registered as
  // `own_type`), in join order.
  es::Result<std::vector<std::string>> ListJoined(std::string_view id, const char* own_type,
                                                  const char* other_type);

  es::DcbRecorder& recorder_;
};

}  // namespace coursebooking

#endif  // ES_EXAMPLES_COURSEBOOKING_DCB_ENROLMENT_H_
