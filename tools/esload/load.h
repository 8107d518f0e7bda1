// The work of esload (docs/tools.md): JSON lines in, appends out.
#ifndef ES_TOOLS_ESLOAD_LOAD_H_
#define ES_TOOLS_ESLOAD_LOAD_H_

#include <es/recorder.h>

#include <cstdint>
#include <istream>
#include <ostream>

namespace es::tools {

struct LoadOptions {
  bool results = false;                       // one JSON result line per input line on `out`
  bool stop_on_error = false;                 // stop at the first line that fails
  Durability durability = Durability::kNone;  // of each append (the caller syncs at the end)
};

struct LoadSummary {
  std::uint64_t lines = 0;     // non-blank lines read
  std::uint64_t appended = 0;  // lines appended
  std::uint64_t events = 0;    // events appended
  std::uint64_t invalid = 0;   // lines that were not a valid event or request: nothing written
  std::uint64_t failed = 0;    // valid lines the store refused (condition_failed, ...)
  bool stopped = false;        // stop_on_error ended the load early
};

// Appends each line of `in` to `recorder`: an event object is one unconditional append of one
// event, a request {"events":[...],"condition":{...}} one append of its events under its
// condition. A bad line writes nothing and is reported, with its line number, on `errors` (and
// as a result line with `results`). A store error other than a refused append (an I/O error, a
// poisoned store) ends the load: it is the returned status.
Status LoadLines(Recorder& recorder, std::istream& in, const LoadOptions& options,
                 std::ostream& out, std::ostream& errors, LoadSummary* summary);

}  // namespace es::tools

#endif  // ES_TOOLS_ESLOAD_LOAD_H_
