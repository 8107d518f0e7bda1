// The commands of esdump (docs/tools.md), on a store the caller opened (read-only): each writes
// JSON lines to `out`, or a table with `pretty`.
#ifndef ES_TOOLS_ESDUMP_DUMP_H_
#define ES_TOOLS_ESDUMP_DUMP_H_

#include <es/query.h>
#include <es/recorder.h>
#include <es/store.h>
#include <es/verify.h>

#include <cstddef>
#include <ostream>
#include <string_view>

namespace es::tools {

// One object: format, store id, head and durable head, counts, segments, index memory, I/O
// backend, encryption and compression.
Status DumpInfo(Store& store, std::ostream& out, bool pretty);

// For a store named by a recorder's URI (sqlite:PATH, postgresql://...), opened read-only: one
// object, what InspectSqlite or InspectPostgres find (docs/tools.md). `key_base64` as
// OpenStoreNamed takes it.
Status DumpRecorderInfo(std::string_view store, std::string_view key_base64, std::ostream& out,
                        bool pretty);

// For a store named by a recorder's URI: runs VerifySqlite or VerifyPostgres and writes one line
// per problem, then a summary line. Whether the store is clean.
Result<bool> DumpRecorderVerify(std::string_view store, std::string_view key_base64,
                                std::ostream& out, bool pretty);

// The events matching `query` after `options.after`, at most `options.limit`; with `with_head`
// a last line {"head":N|null} by the head rule of ReadResult.
Status DumpRead(Recorder& recorder, const Query& query, const ReadOptions& options, bool with_head,
                std::ostream& out, bool pretty);

// Every event, in order, then every tracking record, as lines esload accepts.
Status DumpExport(Recorder& recorder, std::ostream& out);

// Events by type, distinct tags and the `top` most frequent; with `engine` (the same store, when
// it is the engine), events per segment.
Status DumpStats(Recorder& recorder, Store* engine, std::size_t top, std::ostream& out,
                 bool pretty);

// The report of VerifyStore: one line per problem, then a summary line.
void DumpVerifyReport(const VerifyReport& report, std::ostream& out, bool pretty);

}  // namespace es::tools

#endif  // ES_TOOLS_ESDUMP_DUMP_H_
