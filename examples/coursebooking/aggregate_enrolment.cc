#include "examples/coursebooking/aggregate_enrolment.h"

#include <algorithm>

namespace coursebooking {

es::Result<std::string> AggregateEnrolment::RegisterStudent(std::string_view name,
                                                            int max_courses) {
  return Register("student", kStudentRegisteredTopic, name, max_courses);
}

es::Result<std::string> AggregateEnrolment::RegisterCourse(std::string_view name, int places) {
  return Register("course", kCourseRegisteredTopic, name, places);
}

es::Result<std::string> AggregateEnrolment::Register(std::string_view prefix, const char* topic,
                                                     std::string_view name, int limit) {
  if (limit <= 0) return es::Status::InvalidArgument("a registration's limit must be positive");
  std::string id = NewId(prefix);
  const es::StoredEvent created{id, 1, topic, EncodeRegistration({std::string(name), limit})};
  ES_RETURN_IF_ERROR(
      recorder_.InsertEvents(std::span<const es::StoredEvent>(&created, 1)).status());
  return id;
}

es::Result<AggregateEnrolment::Aggregate> AggregateEnrolment::Load(std::string_view id,
                                                                   const char* registered_topic) {
  ES_ASSIGN_OR_RETURN(std::vector<es::StoredEvent> events, recorder_.SelectEvents(id, {}));
  Aggregate aggregate;
  for (const es::StoredEvent& event : events) {
    if (event.topic == registered_topic) {
      ES_ASSIGN_OR_RETURN(aggregate.registration, DecodeRegistration(event.state));
      aggregate.exists = true;
    } else if (aggregate.exists) {
      aggregate.joined.push_back(event.state);
    } else {
      return es::Status::Corruption(std::string(id) + ": '" + event.topic +
                                    "' before its registration");
    }
    aggregate.version = event.originator_version;
  }
  return aggregate;
}

JoinOutcome AggregateEnrolment::JoinCourse(std::string_view student_id,
                                           std::string_view course_id) {
  es::Result<Aggregate> student = Load(student_id, kStudentRegisteredTopic);
  if (!student.ok()) return {.status = student.status()};
  es::Result<Aggregate> course = Load(course_id, kCourseRegisteredTopic);
  if (!course.ok()) return {.status = course.status()};
  if (!student->exists) return {.refusal = Refusal::kStudentNotFound};
  if (!course->exists) return {.refusal = Refusal::kCourseNotFound};
  if (std::find(student->joined.begin(), student->joined.end(), course_id) !=
      student->joined.end()) {
    return {.refusal = Refusal::kAlreadyJoined};
  }
  if (static_cast<int>(student->joined.size()) >= student->registration.limit) {
    return {.refusal = Refusal::kTooManyCourses};
  }
  if (static_cast<int>(course->joined.size()) >= course->registration.limit) {
    return {.refusal = Refusal::kFullyBooked};
  }
  BeforeWrite();
  const es::StoredEvent both[] = {
      {std::string(student_id), student->version + 1, kStudentJoinedTopic, std::string(course_id)},
      {std::string(course_id), course->version + 1, kCourseAcceptedTopic, std::string(student_id)},
  };
  return {.status = recorder_.InsertEvents(both).status()};
}

es::Result<std::vector<std::string>> AggregateEnrolment::ListStudentsForCourse(
    std::string_view course_id) {
  return ListJoined(course_id, kCourseRegisteredTopic, kStudentRegisteredTopic);
}

es::Result<std::vector<std::string>> AggregateEnrolment::ListCoursesForStudent(
    std::string_view student_id) {
  return ListJoined(student_id, kStudentRegisteredTopic, kCourseRegisteredTopic);
}

es::Result<std::vector<std::string>> AggregateEnrolment::ListJoined(std::string_view id,
                                                                    const char* own_topic,
                                                                    const char* other_topic) {
  ES_ASSIGN_OR_RETURN(Aggregate own, Load(id, own_topic));
  if (!own.exists) return es::Status::NotFound(std::string(id) + " is not registered");
  std::vector<std::string> names;
  for (const std::string& other_id : own.joined) {
    ES_ASSIGN_OR_RETURN(Aggregate other, Load(other_id, other_topic));
    if (!other.exists) return es::Status::Corruption(other_id + " joined but is not registered");
    names.push_back(std::move(other.registration.name));
  }
  return names;
}

}  // namespace coursebooking
