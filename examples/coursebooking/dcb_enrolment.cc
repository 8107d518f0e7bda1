#include "examples/coursebooking/dcb_enrolment.h"

#include <algorithm>
#include <map>
#include <optional>

namespace coursebooking {
namespace {

bool HasTag(const es::Event& event, std::string_view tag) {
  return std::find(event.tags.begin(), event.tags.end(), tag) != event.tags.end();
}

}  // namespace

es::Result<std::string> DcbEnrolment::RegisterStudent(std::string_view name, int max_courses) {
  return Register("student", kStudentRegistered, name, max_courses);
}

es::Result<std::string> DcbEnrolment::RegisterCourse(std::string_view name, int places) {
  return Register("course", kCourseRegistered, name, places);
}

es::Result<std::string> DcbEnrolment::Register(std::string_view prefix, const char* type,
                                               std::string_view name, int limit) {
  if (limit <= 0) return es::Status::InvalidArgument("a registration's limit must be positive");
  std::string id = NewId(prefix);
  const es::Event event{
      .type = type, .data = EncodeRegistration({std::string(name), limit}), .tags = {id}};
  // Ids are random, so the guard fails only if one repeats: nothing is ever registered twice.
  const es::AppendCondition unused_id{es::Query{{es::QueryItem{{}, {id}}}}, std::nullopt};
  ES_RETURN_IF_ERROR(recorder_.Append(std::span<const es::Event>(&event, 1), unused_id).status());
  return id;
}

JoinOutcome DcbEnrolment::JoinCourse(std::string_view student_id, std::string_view course_id) {
  const std::string student(student_id);
  const std::string course(course_id);
  const es::Query boundary{{
      es::QueryItem{{kStudentRegistered, kStudentJoinedCourse}, {student}},
      es::QueryItem{{kCourseRegistered, kStudentJoinedCourse}, {course}},
  }};
  es::Result<es::ReadResult> read = recorder_.Read(boundary);
  if (!read.ok()) return {.status = read.status()};

  std::optional<int> max_courses;
  std::optional<int> places;
  int student_joins = 0;
  int course_joins = 0;
  bool already_joined = false;
  for (const es::SequencedEvent& sequenced : read->events) {
    const es::Event& event = sequenced.event;
    if (event.type == kStudentJoinedCourse) {
      const bool with_student = HasTag(event, student);
      const bool with_course = HasTag(event, course);
      already_joined |= with_student && with_course;
      student_joins += with_student;
      course_joins += with_course;
      continue;
    }
    es::Result<Registration> registration = DecodeRegistration(event.data);
    if (!registration.ok()) return {.status = registration.status()};
    (event.type == kStudentRegistered ? max_courses : places) = registration->limit;
  }
  if (!max_courses) return {.refusal = Refusal::kStudentNotFound};
  if (!places) return {.refusal = Refusal::kCourseNotFound};
  if (already_joined) return {.refusal = Refusal::kAlreadyJoined};
  if (student_joins >= *max_courses) return {.refusal = Refusal::kTooManyCourses};
  if (course_joins >= *places) return {.refusal = Refusal::kFullyBooked};

  BeforeWrite();
  const es::Event joined{.type = kStudentJoinedCourse, .tags = {student, course}};
  const es::AppendCondition unchanged{boundary, read->head};
  return {.status = recorder_.Append(std::span<const es::Event>(&joined, 1), unchanged).status()};
}

es::Result<std::vector<std::string>> DcbEnrolment::ListStudentsForCourse(
    std::string_view course_id) {
  return ListJoined(course_id, kCourseRegistered, kStudentRegistered);
}

es::Result<std::vector<std::string>> DcbEnrolment::ListCoursesForStudent(
    std::string_view student_id) {
  return ListJoined(student_id, kStudentRegistered, kCourseRegistered);
}

es::Result<std::vector<std::string>> DcbEnrolment::ListJoined(std::string_view id_view,
                                                              const char* own_type,
                                                              const char* other_type) {
  const std::string id(id_view);
  ES_ASSIGN_OR_RETURN(
      es::ReadResult own,
      recorder_.Read(es::Query{{es::QueryItem{{own_type, kStudentJoinedCourse}, {id}}}}));
  bool registered = false;
  std::vector<std::string> others;  // ids, in join order
  for (const es::SequencedEvent& sequenced : own.events) {
    if (sequenced.event.type == own_type) {
      registered = true;
      continue;
    }
    for (const std::string& tag : sequenced.event.tags) {
      if (tag != id) others.push_back(tag);
    }
  }
  if (!registered) return es::Status::NotFound(id + " is not registered");
  // A query without items would match every event: no joins, no second read.
  if (others.empty()) return others;

  es::Query registrations;
  for (const std::string& other : others) {
    registrations.items.push_back(es::QueryItem{{other_type}, {other}});
  }
  ES_ASSIGN_OR_RETURN(es::ReadResult read, recorder_.Read(registrations));
  std::map<std::string, std::string, std::less<>> names;
  for (const es::SequencedEvent& sequenced : read.events) {
    ES_ASSIGN_OR_RETURN(Registration registration, DecodeRegistration(sequenced.event.data));
    names[sequenced.event.tags.front()] = std::move(registration.name);
  }
  std::vector<std::string> result;
  for (const std::string& other : others) {
    auto it = names.find(other);
    if (it == names.end()) return es::Status::Corruption(other + " joined but is not registered");
    result.push_back(it->second);
  }
  return result;
}

}  // namespace coursebooking
