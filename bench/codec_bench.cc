// Append and read throughput of the engine with and without compression and encryption, side by
// side in one run, for 256-byte and 2 KiB JSON-like events, and the size they take in the log
// (issue 4).
//
//   codec_bench [--events N] [--cache-mib M] [--dir DIR]
//
// Each configuration appends N events one per write (durability none, so that the codec's cost is
// not hidden behind fdatasync), then reads them all back in pages of 1,000 twice: first right
// after the appends, from the store's decoded-event cache (Options::decoded_cache_bytes, here M
// MiB, default 512, enough to hold every event), then after closing and reopening the store, from
// the log, decoding each event (pages of 1,000 are scans, which keep no event in the cache). With
// "zstd+dict" the store first holds N other events of the same shape, on which it trains a 110 KiB
// dictionary (Store::TrainCompressionDictionary) before the measured appends; "+aes" encrypts the
// store (Options::key_provider). Output, one line per configuration, medians of three runs (log
// bytes include each event's framing: frame header and trailer, entry header, type and tag, about
// 110 bytes here; the ratios compare with "none" of the same size in the same run, read at the same
// moment; it has no cache and reads the log both times):
//   <event size>  <codec>  append <us/event>  read cached <us/event>  read log <us/event>
//       log <bytes/event> (<log ratio>)  read throughput <cached ratio> cached, <log ratio> log
#include <es/encryption.h>
#include <es/store.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace {

using namespace es::bench;

// A JSON object of about `size` bytes with the variety of real events: ids, names, amounts and
// timestamps drawn at random, keys repeated from event to event.
std::string JsonEvent(std::mt19937_64& rng, std::size_t size) {
  static const char* const kNames[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald"};
  static const char* const kCities[] = {"Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Perth"};
  std::string json = "{\"event_id\":\"" + std::to_string(rng()) + "\",\"occurred_at\":\"2026-11-" +
                     std::to_string(10 + rng() % 18) + "T" + std::to_string(rng() % 24) + ":" +
                     std::to_string(rng() % 60) + ":00Z\",\"lines\":[";
  for (int i = 0; json.size() + 100 < size; ++i) {
    if (i > 0) json += ',';
    json += "{\"customer\":\"" + std::string(kNames[rng() % 6]) + "\",\"city\":\"" +
            kCities[rng() % 6] + "\",\"amount\":" + std::to_string(rng() % 100000) +
            ",\"sku\":\"SKU-" + std::to_string(rng() % 5000) + "\"}";
  }
  json += "]}";
  json.resize(std::max(json.size(), size), ' ');
  return json;
}

struct Figures {
  double append_us;
  double read_cached_us;
  double read_log_us;
  double log_bytes_per_event;
};

std::vector<es::Event> Events(std::mt19937_64& rng, std::size_t size, int events) {
  std::vector<es::Event> all(static_cast<std::size_t>(events));
  for (int i = 0; i < events; ++i) {
    all[i].type = "OrderPlaced";
    all[i].tags = {"order-" + std::to_string(i)};
    all[i].data = JsonEvent(rng, size);
  }
  return all;
}

void AppendAll(es::Store& store, const std::vector<es::Event>& events) {
  for (const es::Event& event : events) {
    Check(store.Append(std::span<const es::Event>(&event, 1), std::nullopt).status(), "append");
  }
}

// Reads the `events` events after position `after` in pages of 1,000: microseconds per event.
double ReadAll(es::Store& store, std::int64_t after, int events) {
  const auto start = Clock::now();
  std::int64_t read = 0;
  for (std::optional<std::int64_t> from = after; read < events;) {
    auto page = store.Read(es::Query{}, {from, 1000});
    Check(page.status(), "read");
    read += static_cast<std::int64_t>(page->events.size());
    from = page->head;
  }
  return Micros(Clock::now() - start) / events;
}

Figures Run(const std::string& dir, es::Compression compression, bool dictionary, bool encrypted,
            std::size_t size, int events, std::size_t cache_bytes) {
  std::filesystem::remove_all(dir);
  es::Options options;
  options.durability = es::Durability::kNone;
  options.compression = compression;
  if (encrypted) options.key_provider = es::FixedKeyProvider(std::string(32, 'k'));
  options.checkpoint_interval_events = 0;
  options.decoded_cache_bytes = cache_bytes;
  auto store = es::Store::Open(options, dir);
  Check(store.status(), "open");
  std::mt19937_64 rng(7);
  std::int64_t after = 0;
  if (dictionary) {
    AppendAll(**store, Events(rng, size, events));
    Check((*store)->TrainCompressionDictionary().status(), "train");
    after = events;
  }
  const std::uint64_t log_before = (*store)->Info().log_bytes;
  const std::vector<es::Event> all = Events(rng, size, events);
  const auto start = Clock::now();
  AppendAll(**store, all);
  const double append_us = Micros(Clock::now() - start) / events;
  const double log_bytes = static_cast<double>((*store)->Info().log_bytes - log_before) / events;
  const double read_cached_us = ReadAll(**store, after, events);
  store->reset();
  store = es::Store::Open(options, dir);
  Check(store.status(), "reopen");
  const double read_log_us = ReadAll(**store, after, events);
  store->reset();
  std::filesystem::remove_all(dir);
  return {append_us, read_cached_us, read_log_us, log_bytes};
}

}  // namespace

int main(int argc, char** argv) {
  int events = 100'000;
  std::size_t cache_mib = 512;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events") {
      events = std::atoi(argv[i + 1]);
    } else if (flag == "--cache-mib") {
      cache_mib = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: codec_bench [--events N] [--cache-mib M] [--dir DIR]\n");
      return 2;
    }
  }
  dir = ScratchDir(dir, "es-codec-bench");
  for (std::size_t size : {256u, 2048u}) {
    double plain_bytes = 0, plain_cached_us = 0, plain_log_us = 0;
    const struct {
      const char* name;
      es::Compression compression;
      bool dictionary;
      bool encrypted;
    } codecs[] = {{"none", es::Compression::kNone, false, false},
                  {"zstd", es::Compression::kZstd, false, false},
                  {"zstd+dict", es::Compression::kZstd, true, false},
                  {"aes", es::Compression::kNone, false, true},
                  {"zstd+aes", es::Compression::kZstd, false, true},
                  {"zstd+dict+aes", es::Compression::kZstd, true, true}};
    for (const auto& codec : codecs) {
      // Three runs each; the median of each figure.
      std::vector<double> append, read_cached, read_log, bytes;
      for (int run = 0; run < 3; ++run) {
        Figures f = Run(dir, codec.compression, codec.dictionary, codec.encrypted, size, events,
                        cache_mib << 20);
        append.push_back(f.append_us);
        read_cached.push_back(f.read_cached_us);
        read_log.push_back(f.read_log_us);
        bytes.push_back(f.log_bytes_per_event);
      }
      const double log_bytes = Median(bytes);
      const double cached_us = Median(read_cached);
      const double log_us = Median(read_log);
      if (plain_bytes == 0) {  // "none" comes first; it reads the log both times
        plain_bytes = log_bytes;
        plain_cached_us = cached_us;
        plain_log_us = log_us;
      }
      std::printf(
          "%5zu B  %-13s  append %6.2f us/event  read cached %6.2f us/event  read log %6.2f "
          "us/event  log %7.1f B/event (%.2fx of plain)  read throughput %.2fx cached, %.2fx "
          "log\n",
          size, codec.name, Median(append), cached_us, log_us, log_bytes, log_bytes / plain_bytes,
          plain_cached_us / cached_us, plain_log_us / log_us);
      std::fflush(stdout);
    }
  }
  return 0;
}
