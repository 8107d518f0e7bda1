#include "adapters/postgres/src/wire.h"

#include <cstring>

namespace es::postgres {
namespace {

// Network byte order, as every binary field of the protocol.
void AppendBigEndian(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out += static_cast<char>((value >> shift) & 0xff);
  }
}

std::uint64_t ReadBigEndian(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

std::string Int8Bytes(std::int64_t value) {
  std::string bytes;
  AppendBigEndian(bytes, static_cast<std::uint64_t>(value), 8);
  return bytes;
}

}  // namespace

void Params::Null() { values_.emplace_back(); }
void Params::Add(std::string bytes) { values_.emplace_back(std::move(bytes)); }

void Params::Int4(std::int32_t value) {
  std::string bytes;
  AppendBigEndian(bytes, static_cast<std::uint32_t>(value), 4);
  Add(std::move(bytes));
}

void Params::Int8(std::int64_t value) { Add(Int8Bytes(value)); }

void Params::OptionalInt8(std::optional<std::int64_t> value) {
  if (value) {
    Int8(*value);
  } else {
    Null();
  }
}

void Params::Bool(bool value) { Add(std::string(1, value ? '\1' : '\0')); }

void Params::Text(std::string_view value) { Add(std::string(value)); }

void Params::OptionalText(const std::optional<std::string>& value) {
  if (value) {
    Text(*value);
  } else {
    Null();
  }
}

void Params::TextArray(const std::vector<std::string>& values) {
  Array(kTextOid, std::vector<std::optional<std::string>>(values.begin(), values.end()));
}

void Params::OptionalTextArray(const std::vector<std::optional<std::string>>& values) {
  Array(kTextOid, values);
}

void Params::ByteaArray(const std::vector<std::string>& values) {
  Array(kByteaOid, std::vector<std::optional<std::string>>(values.begin(), values.end()));
}

void Params::Int4Array(const std::vector<std::int32_t>& values) {
  std::vector<std::optional<std::string>> elements;
  elements.reserve(values.size());
  for (std::int32_t value : values) {
    std::string bytes;
    AppendBigEndian(bytes, static_cast<std::uint32_t>(value), 4);
    elements.emplace_back(std::move(bytes));
  }
  Array(kInt4Oid, elements);
}

void Params::OptionalInt8Array(const std::vector<std::optional<std::int64_t>>& values) {
  std::vector<std::optional<std::string>> elements;
  elements.reserve(values.size());
  for (const auto& value : values) {
    if (value) {
      elements.emplace_back(Int8Bytes(*value));
    } else {
      elements.emplace_back();
    }
  }
  Array(kInt8Oid, elements);
}

void Params::OptionalUuidArray(const std::vector<std::optional<Uuid>>& values) {
  std::vector<std::optional<std::string>> elements;
  elements.reserve(values.size());
  for (const auto& value : values) {
    if (value) {
      elements.emplace_back(std::string(reinterpret_cast<const char*>(value->data()), 16));
    } else {
      elements.emplace_back();
    }
  }
  Array(kUuidOid, elements);
}

// array_send's layout: ndim, has-nulls flag, element type, then per dimension its size and
// lower bound, then each element as a length (-1: null) and its bytes.
void Params::Array(Oid element_type, const std::vector<std::optional<std::string>>& elements) {
  std::string bytes;
  const bool empty = elements.empty();
  bool has_null = false;
  for (const auto& element : elements) has_null |= !element.has_value();
  AppendBigEndian(bytes, empty ? 0 : 1, 4);
  AppendBigEndian(bytes, has_null ? 1 : 0, 4);
  AppendBigEndian(bytes, element_type, 4);
  if (!empty) {
    AppendBigEndian(bytes, elements.size(), 4);
    AppendBigEndian(bytes, 1, 4);
  }
  for (const auto& element : elements) {
    if (!element) {
      AppendBigEndian(bytes, static_cast<std::uint32_t>(-1), 4);
      continue;
    }
    AppendBigEndian(bytes, element->size(), 4);
    bytes += *element;
  }
  Add(std::move(bytes));
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> pointers;
  pointers.reserve(values_.size());
  for (const auto& value : values_) pointers.push_back(value ? value->data() : nullptr);
  return pointers;
}

std::vector<int> Params::lengths() const {
  std::vector<int> lengths;
  lengths.reserve(values_.size());
  for (const auto& value : values_) lengths.push_back(value ? static_cast<int>(value->size()) : 0);
  return lengths;
}

std::vector<int> Params::formats() const { return std::vector<int>(values_.size(), 1); }

bool IsNull(const PGresult* result, int row, int column) {
  return PQgetisnull(result, row, column) != 0;
}

std::optional<std::int64_t> GetInt8(const PGresult* result, int row, int column) {
  if (IsNull(result, row, column)) return std::nullopt;
  return static_cast<std::int64_t>(ReadBigEndian(PQgetvalue(result, row, column), 8));
}

std::int32_t GetInt4(const PGresult* result, int row, int column) {
  return static_cast<std::int32_t>(ReadBigEndian(PQgetvalue(result, row, column), 4));
}

std::string GetBytes(const PGresult* result, int row, int column) {
  return std::string(PQgetvalue(result, row, column),
                     static_cast<std::size_t>(PQgetlength(result, row, column)));
}

std::optional<Uuid> GetUuid(const PGresult* result, int row, int column) {
  if (IsNull(result, row, column) || PQgetlength(result, row, column) != 16) return std::nullopt;
  Uuid uuid;
  std::memcpy(uuid.data(), PQgetvalue(result, row, column), 16);
  return uuid;
}

std::vector<std::string> GetTextArray(const PGresult* result, int row, int column) {
  std::vector<std::string> values;
  if (IsNull(result, row, column)) return values;
  const char* in = PQgetvalue(result, row, column);
  const char* end = in + PQgetlength(result, row, column);
  if (end - in < 12) return values;
  const auto dimensions = ReadBigEndian(in, 4);
  in += 12;  // ndim, has-nulls flag, element type
  if (dimensions == 0 || end - in < 8) return values;
  const auto size = ReadBigEndian(in, 4);
  in += 8;  // size, lower bound
  values.reserve(size);
  for (std::uint64_t i = 0; i < size && end - in >= 4; ++i) {
    const auto length = static_cast<std::int32_t>(ReadBigEndian(in, 4));
    in += 4;
    if (length < 0) {
      values.emplace_back();
      continue;
    }
    if (end - in < length) break;
    values.emplace_back(in, static_cast<std::size_t>(length));
    in += length;
  }
  return values;
}

}  // namespace es::postgres
