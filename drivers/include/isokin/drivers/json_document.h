#pragma once
// Reading JSON documents that people write by hand (test protocols, serial device profiles):
// every problem is reported with the document's name and where in it, as the caller's own error
// type: "<source>:<line>:<column>: invalid JSON: …" for text that is not JSON, and
// "<source>: <JSON pointer>: <problem>" for a value the schema does not allow.

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace isokin::drivers {

// 1-based line and column of a byte offset in `text`.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset);

class JsonDocument {
 public:
  // `raise` throws the caller's error with the message it is given (it must not return).
  JsonDocument(std::string source, std::function<void(const std::string&)> raise);

  // Parses `text`; a syntax error or a number too large for a double is raised with its line
  // and column.
  [[nodiscard]] nlohmann::json parse(std::string_view text) const;

  [[noreturn]] void fail(const std::string& where, const std::string& problem) const;
  // The document's "schema" must be `schema` and its "schema_version" 1 to `newest` (a newer one
  // is refused as written for a newer build).
  void check_schema(const nlohmann::json& document, std::string_view schema, int newest) const;
  // An object with no keys but `allowed` (the message lists them).
  void only_keys(const nlohmann::json& object, const std::string& where,
                 std::initializer_list<std::string_view> allowed) const;
  [[nodiscard]] const nlohmann::json& member(const nlohmann::json& object, const std::string& where,
                                             const char* key) const;
  [[nodiscard]] std::string text(const nlohmann::json& value, const std::string& where) const;
  // A number from min to max; `unit` (e.g. "°/s") is said with the numbers in the message.
  [[nodiscard]] double number(const nlohmann::json& value, const std::string& where, double min,
                              double max, std::string_view unit = {}) const;
  [[nodiscard]] long long integer(const nlohmann::json& value, const std::string& where,
                                  long long min, long long max) const;
  [[nodiscard]] bool boolean(const nlohmann::json& value, const std::string& where) const;

 private:
  std::string source_;
  std::function<void(const std::string&)> raise_;
};

}  // namespace isokin::drivers
