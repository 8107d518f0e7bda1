#include "examples/coursebooking/enrolment.h"

#include <charconv>
#include <cstdio>
#include <random>

namespace coursebooking {

std::string_view RefusalName(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return "none";
    case Refusal::kStudentNotFound:
      return "student not found";
    case Refusal::kCourseNotFound:
      return "course not found";
    case Refusal::kAlreadyJoined:
      return "already joined";
    case Refusal::kTooManyCourses:
      return "too many courses";
    case Refusal::kFullyBooked:
      return "fully booked";
  }
  return "unknown refusal";
}

std::string NewId(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t high = rng();
  std::uint64_t low = rng();
  high = (high & ~0xF000ull) | 0x4000ull;      // version 4
  low = (low & ~(3ull << 62)) | (2ull << 62);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof(text), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xFFFF),
                static_cast<unsigned long long>(high & 0xFFFF),
                static_cast<unsigned long long>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
  return std::string(prefix) + "-" + text;
}

std::string EncodeRegistration(const Registration& registration) {
  return std::to_string(registration.limit) + ":" + registration.name;
}

es::Result<Registration> DecodeRegistration(std::string_view data) {
  Registration registration;
  const std::size_t colon = data.find(':');
  const char* end = data.data() + (colon == std::string_view::npos ? 0 : colon);
  auto [parsed, ec] = std::from_chars(data.data(), end, registration.limit);
  if (colon == std::string_view::npos || ec != std::errc() || parsed != end) {
    return es::Status::Corruption("registration data is not '<limit>:<name>'");
  }
  registration.name = std::string(data.substr(colon + 1));
  return registration;
}

}  // namespace coursebooking
