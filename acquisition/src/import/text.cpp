// Helpers shared by the text importers.
#include "import/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace isokin::acquisition::import_detail {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view line, std::string_view delimiter) {
  std::vector<std::string_view> fields;
  if (delimiter == "whitespace") {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i >= line.size()) break;
      const std::size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      fields.push_back(line.substr(start, i - start));
    }
    return fields;
  }
  const char d = delimiter.empty() ? ',' : delimiter[0];
  std::size_t start = 0;
  for (;;) {
    const auto pos = line.find(d, start);
    fields.push_back(trim(line.substr(start, pos == std::string_view::npos ? pos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  // A trailing delimiter (e.g. the ADC client's "a;b;c;") does not make an extra column.
  if (fields.size() > 1 && fields.back().empty()) fields.pop_back();
  return fields;
}

std::optional<double> parse_number(std::string_view text, char decimal) {
  std::string buffer(text);
  if (decimal != '.') {
    if (buffer.find('.') != std::string::npos) return std::nullopt;  // "1.5" is not "1,5"
    std::replace(buffer.begin(), buffer.end(), decimal, '.');
  }
  double value = 0.0;
  const char* begin = buffer.data();
  const char* end = buffer.data() + buffer.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end || !std::isfinite(value)) return std::nullopt;
  return value;
}

Lines::Lines(std::string_view content) {
  std::size_t start = 0;
  while (start < content.size()) {
    auto end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    auto line = content.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines_.push_back(line);
    start = end + 1;
  }
}

void fail_at(const std::string& file, std::size_t line, std::size_t column,
             const std::string& problem) {
  throw ImportError(fmt::format("{}:{}: column {}: {}", file, line, column, problem));
}

void fail_at(const std::string& file, std::size_t line, const std::string& problem) {
  throw ImportError(fmt::format("{}:{}: {}", file, line, problem));
}

void fail(const std::string& file, const std::string& problem) {
  throw ImportError(fmt::format("{}: {}", file, problem));
}

double field_number(const std::string& file, std::size_t line_number,
                    const std::vector<std::string_view>& fields, std::size_t column,
                    const char* what, char decimal) {
  if (column >= fields.size()) {
    throw ImportError(fmt::format("{}:{}: column {} ({}) is missing: the line has {}", file,
                                  line_number, column + 1, what, fields.size()));
  }
  const auto value = parse_number(fields[column], decimal);
  if (!value) {
    throw ImportError(fmt::format("{}:{}: column {} ({}): '{}' is not a number", file, line_number,
                                  column + 1, what, fields[column]));
  }
  return *value;
}

std::vector<double> derive_velocity(const std::vector<double>& t, const std::vector<double>& a) {
  const std::size_t n = a.size();
  std::vector<double> v(n, 0.0);
  if (n < 2) return v;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t lo = i == 0 ? 0 : i - 1;
    const std::size_t hi = i + 1 == n ? n - 1 : i + 1;
    v[i] = (a[hi] - a[lo]) / (t[hi] - t[lo]);
  }
  return v;
}

int velocity_sign_against_angle(const std::vector<double>& time, const std::vector<double>& angle,
                                const std::vector<double>& velocity) {
  const auto derived = derive_velocity(time, angle);
  double dot = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < derived.size() && i < velocity.size(); ++i) {
    dot += derived[i] * velocity[i];
    norm += std::abs(derived[i] * velocity[i]);
  }
  // Agreement in sign must be clear, not noise around zero.
  if (norm == 0.0 || std::abs(dot) < 0.2 * norm) return 0;
  return dot > 0.0 ? 1 : -1;
}

void apply_negate(ImportedRecording& recording, const std::vector<std::string>& negate) {
  auto& s = recording.signals;
  for (const auto& channel : negate) {
    std::vector<double>* values = nullptr;
    if (channel == "torque") values = &s.torque;
    if (channel == "velocity") values = &s.velocity;
    if (channel == "angle") values = &s.angle;
    if (values == nullptr) {
      throw std::invalid_argument("import: --negate '" + channel +
                                  "' must be torque, angle or velocity");
    }
    for (auto& v : *values) v = -v;
    for (auto& c : recording.calibration) {
      if (c.channel == channel) {
        c.gain = -c.gain;
        c.offset = -c.offset;
      }
    }
  }
}

void check_time_increases(const std::string& file, const std::vector<double>& time,
                          const std::vector<std::size_t>& line_of_row, std::size_t column) {
  for (std::size_t i = 1; i < time.size(); ++i) {
    if (!(time[i] > time[i - 1])) {
      throw ImportError(fmt::format("{}:{}: column {} (time): {} does not increase on {}", file,
                                    line_of_row[i], column, time[i], time[i - 1]));
    }
  }
}

void check_one_channel_per_column(const std::map<std::string, std::size_t>& channel_columns,
                                  const std::function<std::string(std::size_t)>& column_name,
                                  std::string_view mapping) {
  std::map<std::size_t, std::string> channel_of_column;
  for (const auto& [channel, column] : channel_columns) {
    const auto [it, added] = channel_of_column.emplace(column, channel);
    if (!added) {
      throw std::invalid_argument(
          fmt::format("import: {} maps {} to both {} and {}: one column can be only one channel",
                      mapping, column_name(column), it->second, channel));
    }
  }
}

}  // namespace isokin::acquisition::import_detail
