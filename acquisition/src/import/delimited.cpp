// Numeric tables with a user-given column mapping: any delimited text (CSV, ';' with decimal
// comma, tab, whitespace) and, through map_table, MATLAB matrices. Linear calibration, sign
// mapping and raw-range clipping are applied once, here.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "import/text.h"

namespace isokin::acquisition::import_detail {
namespace {

constexpr std::array<const char*, 4> kChannels = {"time", "torque", "angle", "velocity"};
constexpr std::array<const char*, 4> kUnits = {"s", "N·m", "deg", "deg/s"};

struct Calibration {
  double gain = 1.0;
  double offset = 0.0;
  bool negate = false;
  // Raw range of the sensor/ADC: a raw value at or beyond a limit is clipped.
  double raw_min = -std::numeric_limits<double>::infinity();
  double raw_max = std::numeric_limits<double>::infinity();
};

std::invalid_argument usage_error(const std::string& what) {
  return std::invalid_argument("import: " + what);
}

std::string normalized_delimiter(const std::string& d) {
  if (d == "tab" || d == "\\t") return "\t";
  if (d == "space" || d == "whitespace" || d == "ws") return "whitespace";
  if (d.size() != 1) throw usage_error("--delimiter must be one character, tab or whitespace");
  return d;
}

bool is_number_spec(const std::string& spec) {
  return !spec.empty() && std::isdigit(static_cast<unsigned char>(spec[0]));
}

// The validated --columns, --scale, --limits and --negate options.
struct Mapping {
  std::map<std::string, std::string> column_spec;  // channel → number or header name
  std::map<std::string, Calibration> calibration;
};

Mapping parse_mapping(const ImportOptions& o) {
  Mapping m;
  for (const auto item : split(o.columns, ",")) {
    const auto eq = item.find('=');
    const std::string name(trim(item.substr(0, eq)));
    if (eq == std::string_view::npos ||
        std::find(kChannels.begin(), kChannels.end(), name) == kChannels.end()) {
      throw usage_error("--columns entry '" + std::string(item) +
                        "' must be time|torque|angle|velocity=COLUMN");
    }
    if (!m.column_spec.emplace(name, std::string(trim(item.substr(eq + 1)))).second) {
      throw usage_error("--columns maps " + name + " twice: give each channel one column");
    }
  }
  if (!m.column_spec.count("torque") || !m.column_spec.count("angle")) {
    throw usage_error("--columns needs at least torque=COL and angle=COL");
  }
  if (!m.column_spec.count("time") && !o.rate_hz) {
    throw usage_error("no time column: give the sample rate with --rate HZ");
  }
  if (o.rate_hz && !(*o.rate_hz > 0.0 && std::isfinite(*o.rate_hz))) {
    throw usage_error("--rate must be positive");
  }
  for (const auto& s : o.scales) {
    const auto eq = s.find('=');
    const auto comma = s.find(',', eq);
    const std::string channel = s.substr(0, eq);
    std::optional<double> gain;
    std::optional<double> offset = 0.0;
    if (eq != std::string::npos) {
      gain = parse_number(s.substr(eq + 1, comma == std::string::npos ? comma : comma - eq - 1));
      if (comma != std::string::npos) offset = parse_number(s.substr(comma + 1));
    }
    if (!gain || !offset || !m.column_spec.count(channel)) {
      throw usage_error("--scale '" + s + "' must be CHANNEL=GAIN[,OFFSET] for a mapped column");
    }
    m.calibration[channel].gain = *gain;
    m.calibration[channel].offset = *offset;
  }
  for (const auto& l : o.limits) {
    const auto eq = l.find('=');
    const auto comma = l.find(',', eq);
    const std::string channel = l.substr(0, eq);
    std::optional<double> lo;
    std::optional<double> hi;
    if (eq != std::string::npos && comma != std::string::npos) {
      lo = parse_number(l.substr(eq + 1, comma - eq - 1));
      hi = parse_number(l.substr(comma + 1));
    }
    if (!lo || !hi || !(*lo < *hi) || (channel != "torque" && channel != "angle") ||
        !m.column_spec.count(channel)) {
      throw usage_error("--limits '" + l + "' must be torque|angle=MIN,MAX (raw units, MIN < MAX)");
    }
    m.calibration[channel].raw_min = *lo;
    m.calibration[channel].raw_max = *hi;
  }
  for (const auto& channel : o.negate) {
    if (!m.column_spec.count(channel)) {
      throw usage_error("--negate '" + channel + "' is not a mapped column");
    }
    m.calibration[channel].negate = true;
  }
  return m;
}

// Raw per-channel columns (already parsed) → recording: calibration, clipping, time, velocity.
ImportedRecording build(const std::string& file, Mapping& m,
                        std::map<std::string, std::vector<double>> raw,
                        const std::map<std::string, std::size_t>& index,
                        const std::vector<std::size_t>& line_of_row, const ImportOptions& o) {
  const std::size_t n = raw["torque"].size();
  if (n < 2) fail(file, "fewer than 2 data lines");
  ImportedRecording rec;
  auto& sig = rec.signals;
  sig.status.assign(n, drivers::kStatusOk);
  std::map<std::string, std::vector<double>> data;
  for (auto& [channel, values] : raw) {
    const Calibration& c = m.calibration[channel];
    for (std::size_t i = 0; i < n; ++i) {
      const double value = c.gain * values[i] + c.offset;
      if (values[i] <= c.raw_min || values[i] >= c.raw_max) {
        sig.status[i] |=
            channel == "torque" ? drivers::kStatusTorqueClipped : drivers::kStatusAngleClipped;
      }
      values[i] = c.negate ? -value : value;
    }
    data[channel] = std::move(values);
  }
  sig.torque = std::move(data["torque"]);
  sig.angle = std::move(data["angle"]);
  double rate = o.rate_hz.value_or(0.0);
  if (index.count("time")) {
    sig.time = std::move(data["time"]);
    check_time_increases(file, sig.time, line_of_row, index.at("time") + 1);
    if (!o.rate_hz) rate = static_cast<double>(n - 1) / (sig.time.back() - sig.time.front());
  } else {
    sig.time.resize(n);
    for (std::size_t i = 0; i < n; ++i) sig.time[i] = static_cast<double>(i) / rate;
  }
  sig.velocity =
      index.count("velocity") ? std::move(data["velocity"]) : derive_velocity(sig.time, sig.angle);
  rec.sample_rate_hz = rate;
  nlohmann::ordered_json provenance = {{"columns", o.columns},
                                       {"velocity_derived_from_angle", !index.count("velocity")}};
  for (std::size_t k = 0; k < kChannels.size(); ++k) {
    const std::string channel = kChannels[k];
    if (channel == "time" || !index.count(channel)) continue;
    const Calibration& c = m.calibration[channel];
    const double sign = c.negate ? -1.0 : 1.0;
    rec.channels.push_back({channel, kUnits[k], 0.0, 0.0});
    rec.calibration.push_back({channel, sign * c.gain, sign * c.offset});
    if (std::isfinite(c.raw_min)) provenance["limits"][channel] = {c.raw_min, c.raw_max};
    provenance["calibration"][channel] = {
        {"gain", c.gain}, {"offset", c.offset}, {"negate", c.negate}};
  }
  rec.mapping_json = provenance.dump();
  return rec;
}

}  // namespace

ImportedRecording import_delimited(std::string_view content, const std::string& file,
                                   const ImportOptions& o) {
  if (o.columns.empty()) {
    throw usage_error("csv needs --columns time=COL,torque=COL,angle=COL,velocity=COL");
  }
  const std::string delimiter = normalized_delimiter(o.delimiter);
  if (o.decimal.size() != 1) throw usage_error("--decimal must be one character");
  const char decimal = o.decimal[0];
  if (delimiter.size() == 1 && delimiter[0] == decimal) {
    throw usage_error("--delimiter and --decimal are both '" + o.decimal + "'");
  }
  if (o.skip_rows < 0) throw usage_error("--skip-rows must not be negative");
  Mapping m = parse_mapping(o);

  const Lines lines(content);
  std::size_t next = std::min(static_cast<std::size_t>(o.skip_rows), lines.size());
  std::string header_text;
  for (std::size_t i = 0; i < next; ++i) header_text.append(lines[i]).append("\n");

  // Resolve columns: numbers directly, names from a header line.
  std::map<std::string, std::size_t> index;
  const bool needs_header =
      std::any_of(m.column_spec.begin(), m.column_spec.end(),
                  [](const auto& kv) { return !kv.second.empty() && !is_number_spec(kv.second); });
  if (needs_header) {
    if (next >= lines.size()) fail(file, "no header line");
    const std::size_t header_line = next + 1;
    const auto header = split(lines[next], delimiter);
    header_text.append(lines[next]).append("\n");
    ++next;
    for (const auto& [channel, spec] : m.column_spec) {
      if (is_number_spec(spec)) continue;
      const auto it = std::find(header.begin(), header.end(), spec);
      if (it == header.end()) {
        fail_at(file, header_line,
                fmt::format("header has no column '{}' (for {})", spec, channel));
      }
      index[channel] = static_cast<std::size_t>(it - header.begin());
    }
  }
  for (const auto& [channel, spec] : m.column_spec) {
    if (spec.empty() || !is_number_spec(spec)) {
      if (spec.empty()) throw usage_error("column for " + channel + " is empty");
      continue;
    }
    const auto number = parse_number(spec);
    if (!number || *number < 1 || *number != std::floor(*number) || *number > 1e6) {
      throw usage_error(fmt::format("column '{}' for {} must be a number from 1", spec, channel));
    }
    index[channel] = static_cast<std::size_t>(*number) - 1;
  }
  check_one_channel_per_column(
      index, [](std::size_t c) { return fmt::format("column {}", c + 1); }, "--columns");

  std::map<std::string, std::vector<double>> raw;
  std::vector<std::size_t> line_of_row;
  for (; next < lines.size(); ++next) {
    const std::string_view line = lines[next];
    if (trim(line).empty()) continue;
    const std::size_t line_number = next + 1;
    line_of_row.push_back(line_number);
    const auto fields = split(line, delimiter);
    for (const auto& [channel, column] : index) {
      raw[channel].push_back(
          field_number(file, line_number, fields, column, channel.c_str(), decimal));
    }
  }
  auto rec = build(file, m, std::move(raw), index, line_of_row, o);
  rec.format = ImportFormat::kDelimited;
  rec.header_text = std::move(header_text);
  rec.device_model = "delimited file " + std::filesystem::path(file).filename().string();
  auto provenance = nlohmann::ordered_json::parse(rec.mapping_json);
  provenance["delimiter"] = o.delimiter;
  provenance["decimal"] = o.decimal;
  rec.mapping_json = provenance.dump();
  return rec;
}

ImportedRecording map_table(const std::string& file, NumericTable table, const ImportOptions& o) {
  if (o.columns.empty()) {
    throw usage_error(
        "a numeric matrix needs --columns torque=COL,angle=COL[,velocity=COL]"
        "[,time=COL] (1-based column numbers)");
  }
  Mapping m = parse_mapping(o);
  std::map<std::string, std::size_t> index;
  for (const auto& [channel, spec] : m.column_spec) {
    const auto number = parse_number(spec);
    if (!number || *number < 1 || *number != std::floor(*number) ||
        *number > static_cast<double>(table.columns.size())) {
      throw usage_error(fmt::format("column '{}' for {} must be a number from 1 to {}", spec,
                                    channel, table.columns.size()));
    }
    index[channel] = static_cast<std::size_t>(*number) - 1;
  }
  check_one_channel_per_column(
      index, [](std::size_t c) { return fmt::format("column {}", c + 1); }, "--columns");
  std::map<std::string, std::vector<double>> raw;
  for (const auto& [channel, column] : index) raw[channel] = table.columns[column];
  return build(file, m, std::move(raw), index, table.line_of_row, o);
}

}  // namespace isokin::acquisition::import_detail
