// What verifying a recorder's tables found (VerifySqlite in es/sqlite_verify.h, VerifyPostgres in
// es/postgres_verify.h): what `esdump verify` reports for a SQLite or PostgreSQL store.
#ifndef ES_RECORDER_VERIFY_H_
#define ES_RECORDER_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace es {

struct RecorderProblem {
  std::string table;                     // the table it is in; empty: the database as a whole
  std::optional<std::int64_t> position;  // the event it concerns, when one does
  std::string message;
};

struct RecorderVerifyReport {
  std::uint64_t events = 0;            // event rows walked
  std::uint64_t tag_rows = 0;          // rows of the tags table compared with the events
  std::uint64_t tracking_records = 0;  // rows of the tracking table checked
  std::vector<RecorderProblem> problems;
  bool clean() const { return problems.empty(); }
};

}  // namespace es

#endif  // ES_RECORDER_VERIFY_H_
