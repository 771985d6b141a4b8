#include "isokin/drivers/json_document.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

namespace isokin::drivers {

using nlohmann::json;

std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

namespace {

// Byte offset of the `n`-th (0-based) object key in `text`, in document order: a string
// followed by ':' is a key. Only called on text that parsed up to that key.
std::size_t offset_of_key(std::string_view text, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    const std::size_t start = i;
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') ++i;  // an escaped character, '"' included
    }
    std::size_t after = i + 1;
    while (after < text.size() && (text[after] == ' ' || text[after] == '\t' ||
                                   text[after] == '\n' || text[after] == '\r')) {
      ++after;
    }
    if (after < text.size() && text[after] == ':' && seen++ == n) return start;
  }
  return text.size();
}

// nlohmann keeps the last of two equal keys without a word; a hand-written protocol with
// "repetitions" twice would silently run the second. Finds the first duplicated key: its name
// and the document-order numbers of both occurrences.
struct DuplicateKey {
  std::string key;
  std::size_t first = 0;
  std::size_t second = 0;
};

json parse_refusing_duplicates(std::string_view text, std::optional<DuplicateKey>& duplicate) {
  std::vector<std::map<std::string, std::size_t>> open_objects;  // key → its number
  std::size_t keys = 0;
  const json::parser_callback_t check = [&](int /*depth*/, json::parse_event_t event,
                                            json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty()) {
      const auto [it, added] = open_objects.back().emplace(parsed.get<std::string>(), keys);
      if (!added && !duplicate) duplicate = DuplicateKey{it->first, it->second, keys};
      ++keys;
    }
    return true;
  };
  return json::parse(text, check);
}

}  // namespace

JsonDocument::JsonDocument(std::string source, std::function<void(const std::string&)> raise)
    : source_(std::move(source)), raise_(std::move(raise)) {}

json JsonDocument::parse(std::string_view text) const {
  try {
    std::optional<DuplicateKey> duplicate;
    json document = parse_refusing_duplicates(text, duplicate);
    if (duplicate) {
      const auto [line, column] = line_and_column(text, offset_of_key(text, duplicate->second));
      const auto first_line = line_and_column(text, offset_of_key(text, duplicate->first)).first;
      raise_(
          fmt::format("{}:{}:{}: invalid JSON: duplicate key \"{}\" (first given on line {}; JSON "
                      "readers keep only one of the two values)",
                      source_, line, column, duplicate->key, first_line));
    }
    return document;
  } catch (const json::parse_error& e) {
    const auto [line, column] = line_and_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's message starts "[json.exception.parse_error.101] parse error at line …:": keep
    // the part after the position, which the line and column replace.
    if (const auto colon = what.find(": ", what.find("parse error")); colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    raise_(fmt::format("{}:{}:{}: invalid JSON: {}", source_, line, column, what));
  } catch (const json::exception& e) {
    // A number too large for a double (found by fuzzing): nlohmann names the text, not its
    // position, so find the text to point at it.
    std::string what = e.what();
    if (const auto bracket = what.find("] "); bracket != std::string::npos) {
      what = what.substr(bracket + 2);
    }
    std::size_t at = 0;
    if (const auto open = what.find('\''); open != std::string::npos) {
      const auto close = what.find('\'', open + 1);
      const auto found = text.find(what.substr(open + 1, close - open - 1));
      if (found != std::string_view::npos) at = found;
    }
    const auto [line, column] = line_and_column(text, at);
    raise_(fmt::format("{}:{}:{}: invalid JSON: {}", source_, line, column, what));
  }
  std::abort();  // raise_ throws
}

void JsonDocument::fail(const std::string& where, const std::string& problem) const {
  raise_(fmt::format("{}: {}: {}", source_, where.empty() ? "/" : where, problem));
  std::abort();  // raise_ throws
}

void JsonDocument::check_schema(const json& document, std::string_view schema, int newest) const {
  if (text(member(document, "", "schema"), "/schema") != schema) {
    fail("/schema", fmt::format("must be \"{}\"", schema));
  }
  const auto version = integer(member(document, "", "schema_version"), "/schema_version", 1, 1000);
  if (version > newest) {
    fail("/schema_version",
         fmt::format("version {} is newer than this build reads ({})", version, newest));
  }
}

void JsonDocument::only_keys(const json& object, const std::string& where,
                             std::initializer_list<std::string_view> allowed) const {
  if (!object.is_object()) fail(where, "must be a JSON object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto k : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      fail(fmt::format("{}/{}", where, key), fmt::format("unknown key (allowed here: {})", list));
    }
  }
}

const json& JsonDocument::member(const json& object, const std::string& where,
                                 const char* key) const {
  if (!object.is_object() || !object.contains(key)) {
    fail(where, fmt::format("missing required key '{}'", key));
  }
  return object.at(key);
}

std::string JsonDocument::text(const json& value, const std::string& where) const {
  if (!value.is_string()) fail(where, "must be a string");
  return value.get<std::string>();
}

double JsonDocument::number(const json& value, const std::string& where, double min, double max,
                            std::string_view unit) const {
  if (!value.is_number()) fail(where, "must be a number");
  const double v = value.get<double>();
  if (!(v >= min && v <= max)) {
    const std::string u = unit.empty() ? std::string() : " " + std::string(unit);
    fail(where, fmt::format("{:g}{} is outside {:g}–{:g}{}", v, u, min, max, u));
  }
  return v;
}

long long JsonDocument::integer(const json& value, const std::string& where, long long min,
                                long long max) const {
  if (!value.is_number_integer()) fail(where, "must be a whole number");
  // Unsigned values beyond long long's range are out of any range asked for here.
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(where, fmt::format("{} is outside {}–{}", value.get<std::uint64_t>(), min, max));
  }
  const auto v = value.get<long long>();
  if (v < min || v > max) fail(where, fmt::format("{} is outside {}–{}", v, min, max));
  return v;
}

bool JsonDocument::boolean(const json& value, const std::string& where) const {
  if (!value.is_boolean()) fail(where, "must be true or false");
  return value.get<bool>();
}

}  // namespace isokin::drivers
