#include "api/src/validation.h"

#include <string>

namespace es {

Status ValidateWriteRequest(const AppendRequest& request) {
  if (request.events.empty() && request.tracking == nullptr) {
    return Status::InvalidArgument("write of no events and no tracking record");
  }
  for (std::size_t i = 0; i < request.events.size(); ++i) {
    const Event& event = request.events[i];
    if (event.type.empty()) {
      return Status::InvalidArgument("event " + std::to_string(i) + " has an empty type");
    }
    if (event.stream && event.stream->id.empty()) {
      return Status::InvalidArgument("event " + std::to_string(i) + " has an empty stream id");
    }
  }
  if (request.condition != nullptr && request.condition->after && *request.condition->after < 0) {
    return Status::InvalidArgument("negative condition after: " +
                                   std::to_string(*request.condition->after));
  }
  if (request.tracking != nullptr && request.tracking->application_name.empty()) {
    return Status::InvalidArgument("tracking record with an empty application name");
  }
  return Status::OK();
}

Status ValidateReadOptions(const ReadOptions& options) {
  if (options.after && *options.after < 0) {
    return Status::InvalidArgument("negative after: " + std::to_string(*options.after));
  }
  if (options.limit && *options.limit < 0) {
    return Status::InvalidArgument("negative limit: " + std::to_string(*options.limit));
  }
  return Status::OK();
}

Status ValidateSelectEventsOptions(const SelectEventsOptions& options) {
  if (options.limit && *options.limit < 0) {
    return Status::InvalidArgument("negative limit: " + std::to_string(*options.limit));
  }
  return Status::OK();
}

}  // namespace es
