// Options for opening an engine store. Every field has a default chosen for a durable,
// general-purpose store; the comment on each says what it costs to change.
#ifndef ES_OPTIONS_H_
#define ES_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "es/recorder.h"
#include "es/result.h"

namespace es {

class Env;
class KeyProvider;  // es/encryption.h

// How a store's files are written and synced (when Options::env is null).
enum class IoBackend : unsigned char {
  // The faster one for this machine's kind as measured (docs/benchmarks.md): POSIX, since
  // io_uring runs each fdatasync in a kernel worker thread, which cost up to 45 % of the durable
  // throughput with many writers on two cores. The environment variable ES_IO_BACKEND=posix or
  // =io_uring overrides it (CI runs the suite with each).
  kAuto,
  kPosix,    // pwrite, msync and fdatasync system calls
  kIoUring,  // the same operations through an io_uring; Open fails (NotSupported) without one
};

// How event data is stored (docs/format.md, "Event entry").
enum class Compression : unsigned char {
  kNone,
  // zstd, each event's data on its own, so that one event reads without its neighbours. An event
  // whose data does not shrink is stored as it is. Types, tags and stream ids are not compressed.
  kZstd,
};

struct Options {
  // ---- Behaviour ----

  // Where files live. Null means the POSIX file system, through `io_backend`. Not owned; must
  // outlive the store.
  Env* env = nullptr;
  // Frames are copied into mapped segments either way; this chooses how syncs (and large
  // frames' writes) are issued. Store::Info().io_backend reports the one in use.
  IoBackend io_backend = IoBackend::kAuto;
  // Create the directory and an empty store when `dir` holds none.
  bool create_if_missing = true;
  // Fail with InvalidArgument when `dir` already holds a store.
  bool error_if_exists = false;
  // Open an existing store without writing anything to its directory, for inspection (esdump):
  // no lock is taken, so a writer may hold the store meanwhile. As for a writable open, the
  // newest valid checkpoint spares replaying what it covers (its position indexes are mapped
  // read-only); the log after it is read and verified, its position index entries kept in
  // memory, and a torn tail ends what this open sees without being cut. The view is the log as it
  // was read at open: later writes are not seen, and a write a concurrent writer has made but not
  // yet acknowledged may be. Writes and Sync return NotSupported. create_if_missing and
  // error_if_exists are ignored.
  bool read_only = false;

  // ---- Durability ----

  // Default for writes that do not say. kSync costs one fdatasync per write (100-500 us on
  // virtual disks); kNone loses the latest writes on a crash of the machine or process.
  Durability durability = Durability::kSync;
  // How often a background thread syncs kBuffered writes: the window of acknowledged writes a
  // machine crash can lose. Shorter costs more fdatasyncs. At least 1.
  std::uint32_t sync_interval_ms = 100;

  // ---- Storage ----

  // A segment file is preallocated to this size and rolls when the next frame would not fit.
  // Must be at least 64 KiB and at most 4 GiB (position-index offsets are 32-bit).
  std::uint64_t segment_bytes = 64ull << 20;
  // A segment also rolls after this many events; its position index is preallocated at 8 bytes
  // per event. At least 1.
  std::uint32_t segment_events = 1u << 20;
  // The next segment's files are made (allocated and synced) by a background thread while the
  // current one fills, so that a roll only writes two headers, renames two files and syncs the
  // directory instead of also creating and allocating them. The spare takes segment_bytes of disk
  // ahead of need; false makes each roll create and allocate its files (0.05-0.25 ms more here).
  bool prepare_spare_segment = true;

  // ---- Compression (OptionsFromEnvironment reads COMPRESSOR_TOPIC) ----

  // Applies to new writes only: a store reads its compressed events whatever this says, so it
  // may change from one open to the next. Small events shrink little on their own: train a
  // dictionary from the store's events (Store::TrainCompressionDictionary) and they shrink 3-4x.
  // Cost, measured on 256-byte JSON events (docs/benchmarks.md): without a dictionary about 4.5 us
  // more per append (in the writer's own thread, before it queues) and 1.8 us more per event read;
  // with one, 0.8 us and 0.3 us.
  Compression compression = Compression::kNone;
  // zstd's level: 1 (fastest) to 19 (smallest); 0 means zstd's default (3).
  int compression_level = 0;
  // Data shorter than this is stored as it is: small data rarely shrinks on its own.
  std::uint32_t compression_min_bytes = 64;

  // ---- Encryption (docs/encryption.md; OptionsFromEnvironment reads CIPHER_KEY) ----

  // Set when creating a store to encrypt it for ever with AES-256-GCM: event types, tags, data,
  // metadata, stream ids and versions in the log, and the index checkpoints. Positions, lengths,
  // checksums and tracking records stay plain, so recovery and VerifyStore work without the key.
  // An encrypted store must be opened with the same key, and a store created without one cannot
  // be opened with one: Open fails with InvalidArgument before anything is read or written. Cost,
  // measured on 256-byte events (docs/benchmarks.md): see "Encryption" there.
  std::shared_ptr<KeyProvider> key_provider;

  // ---- Reading ----

  // Memory for events kept decoded, in a store that encrypts or compresses (key_provider or
  // compression set): reading an event from the log then costs its decryption and decompression
  // (for a 256-byte event here about 0.3 us to decrypt, 1.3 us to decompress, 0.3 us with a
  // dictionary; docs/benchmarks.md), while a kept one reads about as fast as from a plain store.
  // Events are kept as their writes commit (a copy each, about 0.2 us at 256 bytes, in the
  // writer's own thread after its write), so readers following the head (subscriptions,
  // projections) find them, and as reads of at most 100 events decode them, so repeated loads of
  // the same aggregates and decision models find them; larger reads (scans) keep nothing new. The
  // least recently used go first. Unused in a store that neither encrypts nor compresses, whose
  // reads decode nothing. 0 keeps none.
  std::size_t decoded_cache_bytes = 32u << 20;

  // ---- Index checkpoints (docs/format.md, "Index checkpoint") ----

  // A background thread (looking every sync_interval_ms) writes a checkpoint of the in-memory
  // indexes whenever the head has moved this many events past the last one, and closing the
  // store writes one; Open then replays only the log after the newest valid checkpoint. Writing
  // one first syncs the log up to its position (so kNone and kBuffered writes before it become
  // durable), then serializes the whole index without blocking writers: for 10 million
  // DCB-shaped events about 2 s on one core and a 100 MB file (about 10 bytes per event), so the
  // background cost per event grows with the store. Two checkpoints are kept. 0 writes none.
  std::uint64_t checkpoint_interval_events = 1'000'000;
  // Open ignores every checkpoint (without removing them) and replays the whole log, verifying
  // every frame. For benchmarks and for checking a store end to end.
  bool ignore_checkpoints = false;

  // ---- Limits (bad input is rejected with InvalidArgument, nothing written) ----

  // The largest encoded write (all its events, tracking and framing). Must leave room in a
  // segment: at most segment_bytes - 4 KiB.
  std::uint32_t max_write_bytes = 16u << 20;
  // The most events in one write. At most segment_events.
  std::uint32_t max_write_events = 1u << 20;
};

// `base` with what the environment sets, as the Python library configures an application:
// COMPRESSOR_TOPIC = "zstd" or "zstd:LEVEL" turns compression on, "none" or "" off (unset leaves
// `base` as it is); CIPHER_KEY, base64 of a 16, 24 or 32-byte key, sets key_provider (CIPHER_TOPIC
// may be unset, empty, "aes-256-gcm" or the Python library's "eventsourcing.cipher:AESCipher",
// which all mean the same; it needs CIPHER_KEY). With a non-empty `application_name`,
// "<APPLICATION_NAME>_<VARIABLE>" (upper-cased) is read first. InvalidArgument naming the
// variable for any other value (the Python library's other compressor topics, such as
// "eventsourcing.compressor:ZlibCompressor", name codecs this store does not have); the message
// never repeats a key.
Result<Options> OptionsFromEnvironment(std::string_view application_name = {}, Options base = {});

}  // namespace es

#endif  // ES_OPTIONS_H_
