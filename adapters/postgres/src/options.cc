// PostgresOptions from a URI or from the environment (es/postgres.h).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "adapters/common/event_codec.h"
#include "api/src/environment.h"
#include "es/postgres.h"

namespace es {
namespace {

Result<bool> ParseBool(std::string_view name, std::string_view value) {
  if (std::optional<bool> parsed = ParseBoolean(value)) return *parsed;
  return Status::InvalidArgument(std::string(name) + ": not a boolean: '" + std::string(value) +
                                 "'");
}

Result<int> ParseInt(std::string_view name, std::string_view value) {
  int parsed = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size() || parsed < 0) {
    return Status::InvalidArgument(std::string(name) + ": not a non-negative integer: '" +
                                   std::string(value) + "'");
  }
  return parsed;
}

// Seconds, fractions allowed ("0.5"), as the Python library's float settings.
Result<std::chrono::milliseconds> ParseSeconds(std::string_view name, std::string_view value) {
  const std::string text(value);
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(seconds) || seconds < 0) {
    return Status::InvalidArgument(std::string(name) + ": not a number of seconds: '" + text + "'");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

// Sets the option named `key` (the URI query key) from its text.
Status SetOption(PostgresOptions& options, std::string_view key, std::string_view value) {
  if (key == "schema") {
    options.schema = value;
  } else if (key == "table_prefix") {
    options.table_prefix = value;
  } else if (key == "create_table") {
    ES_ASSIGN_OR_RETURN(options.create_table, ParseBool(key, value));
  } else if (key == "pool_size") {
    ES_ASSIGN_OR_RETURN(options.pool_size, ParseInt(key, value));
  } else if (key == "pool_max_overflow") {
    ES_ASSIGN_OR_RETURN(options.pool_max_overflow, ParseInt(key, value));
  } else if (key == "pool_timeout") {
    ES_ASSIGN_OR_RETURN(options.pool_timeout, ParseSeconds(key, value));
  } else if (key == "max_connection_age") {
    ES_ASSIGN_OR_RETURN(std::chrono::milliseconds age, ParseSeconds(key, value));
    options.max_connection_age = std::chrono::duration_cast<std::chrono::seconds>(age);
  } else if (key == "pre_ping") {
    ES_ASSIGN_OR_RETURN(options.pre_ping, ParseBool(key, value));
  } else if (key == "lock_timeout") {
    ES_ASSIGN_OR_RETURN(options.lock_timeout, ParseSeconds(key, value));
  } else if (key == "idle_in_transaction_session_timeout") {
    ES_ASSIGN_OR_RETURN(options.idle_in_transaction_session_timeout, ParseSeconds(key, value));
  } else if (key == "connect_timeout") {
    ES_ASSIGN_OR_RETURN(options.connect_timeout_s, ParseInt(key, value));
  } else if (key == "port") {
    ES_ASSIGN_OR_RETURN(options.port, ParseInt(key, value));
  } else if (key == "compression") {
    if (value != "zstd" && value != "none") {
      return Status::InvalidArgument("compression: zstd or none, not '" + std::string(value) + "'");
    }
    options.compression = value == "zstd" ? Compression::kZstd : Compression::kNone;
  } else if (key == "compression_level") {
    ES_ASSIGN_OR_RETURN(options.compression_level, ParseInt(key, value));
  } else {
    return Status::InvalidArgument("unknown PostgreSQL option '" + std::string(key) + "'");
  }
  return Status::OK();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecoded(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return Status::InvalidArgument("truncated percent-escape in URI");
    }
    const int high = HexDigit(text[i + 1]);
    const int low = HexDigit(text[i + 2]);
    if (high < 0 || low < 0) return Status::InvalidArgument("bad percent-escape in URI");
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

}  // namespace

Result<PostgresOptions> PostgresOptionsFromUri(std::string_view uri) {
  std::string_view rest;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (uri.starts_with(scheme)) rest = uri.substr(scheme.size());
  }
  if (rest.data() == nullptr) {
    return Status::InvalidArgument("not a postgresql:// URI: '" + std::string(uri) + "'");
  }
  PostgresOptions options;
  std::string_view query;
  if (std::size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  std::string_view authority = rest;
  if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    ES_ASSIGN_OR_RETURN(options.dbname, PercentDecoded(rest.substr(slash + 1)));
    authority = rest.substr(0, slash);
  }
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = credentials;
    if (std::size_t colon = credentials.find(':'); colon != std::string_view::npos) {
      user = credentials.substr(0, colon);
      ES_ASSIGN_OR_RETURN(options.password, PercentDecoded(credentials.substr(colon + 1)));
    }
    ES_ASSIGN_OR_RETURN(options.user, PercentDecoded(user));
  }
  std::string_view host = authority;
  if (std::size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    ES_RETURN_IF_ERROR(SetOption(options, "port", authority.substr(colon + 1)));
    host = authority.substr(0, colon);
  }
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (!host.empty()) {
    ES_ASSIGN_OR_RETURN(options.host, PercentDecoded(host));
  }
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return Status::InvalidArgument("URI option without a value: '" + std::string(pair) + "'");
    }
    ES_ASSIGN_OR_RETURN(std::string value, PercentDecoded(pair.substr(equals + 1)));
    ES_RETURN_IF_ERROR(SetOption(options, pair.substr(0, equals), value));
  }
  if (options.dbname.empty()) return Status::InvalidArgument("URI names no database");
  return options;
}

Result<PostgresOptions> PostgresOptionsFromEnv(std::string_view application_name,
                                               const EnvLookup& lookup) {
  const EnvironmentReader environment(application_name, lookup);
  auto get = [&](std::string_view name) { return environment.Get(name); };
  PostgresOptions options;
  std::optional<std::string> dbname = get("POSTGRES_DBNAME");
  if (!dbname || dbname->empty()) return Status::InvalidArgument("POSTGRES_DBNAME is not set");
  options.dbname = *dbname;
  if (auto host = get("POSTGRES_HOST")) options.host = *host;
  if (auto user = get("POSTGRES_USER")) options.user = *user;
  if (auto password = get("POSTGRES_PASSWORD")) options.password = *password;
  if (auto schema = get("POSTGRES_SCHEMA")) options.schema = *schema;
  if (!application_name.empty()) options.table_prefix = LowerAscii(application_name);
  // Environment name -> URI option name, for the settings parsed from text.
  const std::pair<const char*, const char*> settings[] = {
      {"POSTGRES_PORT", "port"},
      {"POSTGRES_CONNECT_TIMEOUT", "connect_timeout"},
      {"POSTGRES_POOL_SIZE", "pool_size"},
      {"POSTGRES_MAX_OVERFLOW", "pool_max_overflow"},
      {"POSTGRES_POOL_MAX_OVERFLOW", "pool_max_overflow"},  // wins over the documented name
      {"POSTGRES_POOL_TIMEOUT", "pool_timeout"},
      {"POSTGRES_CONN_MAX_AGE", "max_connection_age"},
      {"POSTGRES_PRE_PING", "pre_ping"},
      {"POSTGRES_LOCK_TIMEOUT", "lock_timeout"},
      {"POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "idle_in_transaction_session_timeout"},
      {"CREATE_TABLE", "create_table"},
  };
  for (const auto& [variable, key] : settings) {
    std::optional<std::string> value = get(variable);
    if (!value || value->empty()) continue;
    ES_RETURN_IF_ERROR(SetOption(options, key, *value).WithContext(variable));
  }
  Options engine;
  ES_RETURN_IF_ERROR(ReadCodecSettings(environment, &engine));
  CopyCodecOptions(engine, &options);
  return options;
}

}  // namespace es
