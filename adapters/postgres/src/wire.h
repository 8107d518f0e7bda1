// PostgreSQL's binary wire format for the few types the recorder exchanges: int4, int8, bool,
// text, bytea, uuid and one-dimensional arrays of them. Binary parameters need no quoting or
// escaping (event data is any bytes), and binary results need no parsing of text.
#ifndef ES_ADAPTERS_POSTGRES_SRC_WIRE_H_
#define ES_ADAPTERS_POSTGRES_SRC_WIRE_H_

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/event.h"

namespace es::postgres {

// Type OIDs (pg_type.oid, fixed in every PostgreSQL release).
inline constexpr Oid kBoolOid = 16;
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kInt4Oid = 23;
inline constexpr Oid kTextOid = 25;
inline constexpr Oid kUuidOid = 2950;

// The parameters of one statement, each encoded in binary.
class Params {
 public:
  void Int4(std::int32_t value);
  void Int8(std::int64_t value);
  void OptionalInt8(std::optional<std::int64_t> value);
  void Bool(bool value);
  void Text(std::string_view value);
  void OptionalText(const std::optional<std::string>& value);
  void TextArray(const std::vector<std::string>& values);
  // A text[] whose null elements are std::nullopt.
  void OptionalTextArray(const std::vector<std::optional<std::string>>& values);
  void ByteaArray(const std::vector<std::string>& values);
  void Int4Array(const std::vector<std::int32_t>& values);
  void OptionalInt8Array(const std::vector<std::optional<std::int64_t>>& values);
  void OptionalUuidArray(const std::vector<std::optional<Uuid>>& values);

  int count() const { return static_cast<int>(values_.size()); }
  // Arrays for PQexecPrepared; valid until the next change.
  std::vector<const char*> values() const;
  std::vector<int> lengths() const;
  std::vector<int> formats() const;

 private:
  void Null();
  void Add(std::string bytes);
  // `elements`: each element's bytes, or null.
  void Array(Oid element_type, const std::vector<std::optional<std::string>>& elements);

  std::vector<std::optional<std::string>> values_;
};

// Reads binary result fields. Each returns the decoded value of row `row`, column `column` of a
// result fetched in binary format; a null field decodes to null (or an empty array).
std::optional<std::int64_t> GetInt8(const PGresult* result, int row, int column);
std::int32_t GetInt4(const PGresult* result, int row, int column);
std::string GetBytes(const PGresult* result, int row, int column);  // text or bytea
std::optional<Uuid> GetUuid(const PGresult* result, int row, int column);
bool IsNull(const PGresult* result, int row, int column);
// A one-dimensional text[] (null elements are not expected and read as empty).
std::vector<std::string> GetTextArray(const PGresult* result, int row, int column);

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_WIRE_H_
