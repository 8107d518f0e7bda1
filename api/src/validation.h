// Argument checks every backend applies before it touches its storage, so that bad input gets the
// same InvalidArgument message whichever recorder receives it.
#ifndef ES_API_SRC_VALIDATION_H_
#define ES_API_SRC_VALIDATION_H_

#include "es/recorder.h"

namespace es {

// A write carries events or a tracking record; every event has a type; stream ids, when present,
// and tracking application names are not empty; a condition's `after` is not negative.
Status ValidateWriteRequest(const AppendRequest& request);

// `after` and `limit`, when present, are not negative.
Status ValidateReadOptions(const ReadOptions& options);

// `limit`, when present, is not negative.
Status ValidateSelectEventsOptions(const SelectEventsOptions& options);

}  // namespace es

#endif  // ES_API_SRC_VALIDATION_H_
