// Checking a store end to end without changing it: what `esdump verify` runs.
#ifndef ES_VERIFY_H_
#define ES_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/options.h"
#include "es/result.h"

namespace es {

struct VerifyProblem {
  std::string file;                     // in the store directory; empty: the directory itself
  std::optional<std::uint64_t> offset;  // a byte offset in `file`, when one applies
  std::string message;
};

struct VerifyReport {
  std::uint64_t segments = 0;       // segment files walked
  std::uint64_t frames = 0;         // valid frames
  std::uint64_t events = 0;         // events in them
  std::uint64_t index_entries = 0;  // position index entries compared with the log
  std::uint64_t checkpoints = 0;    // index checkpoints checked
  // Bytes after the log's last valid frame that a crash (or a writer at work) left: not a
  // problem, the next open for writing cuts them.
  std::uint64_t torn_bytes = 0;
  std::vector<VerifyProblem> problems;
  bool clean() const { return problems.empty(); }
};

// Checks the store in `dir` (read-only; a writer may hold it meanwhile):
//  - the files of the directory: store.meta, and nothing a store does not hold;
//  - every frame of every segment: checksums, positions, epochs and entries, as recovery does,
//    and that the log reaches the position store.meta records as durable;
//  - every position index file: its header, and each entry of the events its segment holds
//    against where the log holds them (a missing or stale index is a problem too, though the
//    next open for writing rebuilds it);
//  - every index checkpoint, with every check Open makes before trusting one (docs/format.md,
//    "Index checkpoint").
// The walk goes on past damage: each damaged stretch of a segment (bytes that are neither valid
// frames nor a torn tail, by recovery's rules) is reported with its segment file and the offset
// where it begins, up to the next 8-aligned offset where a valid frame lets the walk go on, and
// with the positions it made unreadable; a segment whose header is damaged is reported and passed
// over. The later checks cover every event the walk found.
// An encrypted store needs no key (docs/encryption.md): the checksums cover its stored bytes.
// With options.key_provider set, every encrypted entry and checkpoint is also opened, so that
// bytes changed under recomputed checksums are found; a key that is not the store's (or one for
// a store that is not encrypted) is an InvalidArgument result. Otherwise only an unreadable
// directory is a non-OK result.
Result<VerifyReport> VerifyStore(const Options& options, std::string_view dir);

}  // namespace es

#endif  // ES_VERIFY_H_
