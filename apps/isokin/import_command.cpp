// `isokin import`: any delimited recording (CSV, semicolon with decimal comma, whitespace) to a
// session file, with column mapping, linear calibration and sign mapping done once, here.
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "analysis_cli.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::cli {
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

std::runtime_error usage_error(const std::string& what) {
  return std::runtime_error("import: " + what);
}

double parse_number(std::string_view text, char decimal, bool* ok) {
  std::string buffer(text);
  if (decimal != '.') std::replace(buffer.begin(), buffer.end(), decimal, '.');
  double value = 0.0;
  const char* begin = buffer.data();
  const char* end = buffer.data() + buffer.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  *ok = ec == std::errc() && ptr == end && begin != end;
  return value;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view line, const std::string& delimiter) {
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
  const char d = delimiter[0];
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

std::string normalized_delimiter(const std::string& d) {
  if (d == "tab" || d == "\\t") return "\t";
  if (d == "space" || d == "whitespace" || d == "ws") return "whitespace";
  if (d.size() != 1) throw usage_error("--delimiter must be one character, tab or whitespace");
  return d;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Central differences (one-sided at the ends): d(angle)/dt in °/s.
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

}  // namespace

std::filesystem::path import_delimited(const ImportOptions& o) {
  const std::string delimiter = normalized_delimiter(o.delimiter);
  if (o.decimal.size() != 1) throw usage_error("--decimal must be one character");
  const char decimal = o.decimal[0];
  if (delimiter.size() == 1 && delimiter[0] == decimal) {
    throw usage_error("--delimiter and --decimal are both '" + o.decimal + "'");
  }
  const auto joint = drivers::parse_joint(o.joint);
  if (!joint) throw usage_error("--joint must be knee or trunk, got '" + o.joint + "'");
  // The trunk is tested once, not per side.
  const std::optional<drivers::Side> side =
      *joint == drivers::Joint::kTrunk ? drivers::Side::kNone : drivers::parse_side(o.side);
  if (!side || (*side == drivers::Side::kNone && *joint != drivers::Joint::kTrunk)) {
    throw usage_error("--side must be left or right, got '" + o.side + "'");
  }

  // --columns time=1,torque=Torque,...: 1-based numbers or header names.
  std::map<std::string, std::string> column_spec;
  for (const auto item : split(o.columns, ",")) {
    const auto eq = item.find('=');
    const std::string name(trim(item.substr(0, eq)));
    if (eq == std::string_view::npos ||
        std::find(kChannels.begin(), kChannels.end(), name) == kChannels.end()) {
      throw usage_error("--columns entry '" + std::string(item) +
                        "' must be time|torque|angle|velocity=COLUMN");
    }
    column_spec[name] = std::string(trim(item.substr(eq + 1)));
  }
  if (!column_spec.count("torque") || !column_spec.count("angle")) {
    throw usage_error("--columns needs at least torque=COL and angle=COL");
  }
  if (!column_spec.count("time") && !o.rate_hz) {
    throw usage_error("no time column: give the sample rate with --rate HZ");
  }
  if (o.rate_hz && !(*o.rate_hz > 0.0)) throw usage_error("--rate must be positive");

  std::map<std::string, Calibration> calibration;
  for (const auto& s : o.scales) {
    const auto eq = s.find('=');
    const auto comma = s.find(',', eq);
    const std::string channel = s.substr(0, eq);
    bool ok_gain = false;
    bool ok_offset = true;
    Calibration c;
    if (eq != std::string::npos) {
      c.gain = parse_number(s.substr(eq + 1, comma == std::string::npos ? comma : comma - eq - 1),
                            '.', &ok_gain);
      if (comma != std::string::npos) c.offset = parse_number(s.substr(comma + 1), '.', &ok_offset);
    }
    if (!ok_gain || !ok_offset || !column_spec.count(channel)) {
      throw usage_error("--scale '" + s + "' must be CHANNEL=GAIN[,OFFSET] for a mapped column");
    }
    calibration[channel].gain = c.gain;
    calibration[channel].offset = c.offset;
  }
  for (const auto& l : o.limits) {
    const auto eq = l.find('=');
    const auto comma = l.find(',', eq);
    const std::string channel = l.substr(0, eq);
    bool ok_min = false;
    bool ok_max = false;
    double lo = 0.0;
    double hi = 0.0;
    if (eq != std::string::npos && comma != std::string::npos) {
      lo = parse_number(l.substr(eq + 1, comma - eq - 1), '.', &ok_min);
      hi = parse_number(l.substr(comma + 1), '.', &ok_max);
    }
    if (!ok_min || !ok_max || !(lo < hi) || (channel != "torque" && channel != "angle") ||
        !column_spec.count(channel)) {
      throw usage_error("--limits '" + l + "' must be torque|angle=MIN,MAX (raw units, MIN < MAX)");
    }
    calibration[channel].raw_min = lo;
    calibration[channel].raw_max = hi;
  }
  for (const auto& channel : o.negate) {
    if (!column_spec.count(channel)) {
      throw usage_error("--negate '" + channel + "' is not a mapped column");
    }
    calibration[channel].negate = true;
  }

  std::ifstream in(o.file);
  if (!in) throw std::runtime_error(o.file.string() + ": cannot open for reading");
  const std::string where = o.file.string();
  std::string line;
  long line_number = 0;
  for (int i = 0; i < o.skip_rows && std::getline(in, line); ++i) ++line_number;

  // Resolve columns: numbers directly, names from a header line.
  std::map<std::string, std::size_t> index;
  const bool needs_header = std::any_of(column_spec.begin(), column_spec.end(), [](const auto& kv) {
    return !kv.second.empty() && !std::isdigit(static_cast<unsigned char>(kv.second[0]));
  });
  if (needs_header) {
    if (!std::getline(in, line)) throw std::runtime_error(where + ": no header line");
    ++line_number;
    const auto header = split(line, delimiter);
    for (const auto& [channel, spec] : column_spec) {
      if (std::isdigit(static_cast<unsigned char>(spec[0]))) continue;
      const auto it = std::find(header.begin(), header.end(), spec);
      if (it == header.end()) {
        throw std::runtime_error(fmt::format("{}:{}: header has no column '{}' (for {})", where,
                                             line_number, spec, channel));
      }
      index[channel] = static_cast<std::size_t>(it - header.begin());
    }
  }
  for (const auto& [channel, spec] : column_spec) {
    if (spec.empty() || !std::isdigit(static_cast<unsigned char>(spec[0]))) continue;
    bool ok = false;
    const double number = parse_number(spec, '.', &ok);
    if (!ok || number < 1 || number != std::floor(number)) {
      throw usage_error("column '" + spec + "' for " + channel + " must be a number from 1");
    }
    index[channel] = static_cast<std::size_t>(number) - 1;
  }

  std::map<std::string, std::vector<double>> data;
  for (const auto& [channel, _] : index) data[channel].reserve(1 << 16);
  std::vector<long> line_of_row;  // for errors found after reading
  std::vector<std::uint32_t> status;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    line_of_row.push_back(line_number);
    std::uint32_t sample_status = drivers::kStatusOk;
    const auto fields = split(line, delimiter);
    for (const auto& [channel, column] : index) {
      if (column >= fields.size()) {
        throw std::runtime_error(fmt::format("{}:{}: column {} ({}) is missing: the line has {}",
                                             where, line_number, column + 1, channel,
                                             fields.size()));
      }
      bool ok = false;
      const double raw = parse_number(fields[column], decimal, &ok);
      if (!ok || !std::isfinite(raw)) {
        throw std::runtime_error(fmt::format("{}:{}: column {} ({}): '{}' is not a number", where,
                                             line_number, column + 1, channel, fields[column]));
      }
      const Calibration& c = calibration[channel];
      const double value = c.gain * raw + c.offset;
      data[channel].push_back(c.negate ? -value : value);
      if (raw <= c.raw_min || raw >= c.raw_max) {
        sample_status |=
            channel == "torque" ? drivers::kStatusTorqueClipped : drivers::kStatusAngleClipped;
      }
    }
    status.push_back(sample_status);
  }
  const std::size_t n = data["torque"].size();
  if (n < 2) throw std::runtime_error(where + ": fewer than 2 data lines");

  acquisition::Session session;
  auto& set = session.sets.emplace_back();
  auto& sig = set.signals;
  sig.torque = std::move(data["torque"]);
  sig.angle = std::move(data["angle"]);
  double rate = o.rate_hz.value_or(0.0);
  if (index.count("time")) {
    sig.time = std::move(data["time"]);
    for (std::size_t i = 1; i < n; ++i) {
      if (!(sig.time[i] > sig.time[i - 1])) {
        throw std::runtime_error(fmt::format("{}:{}: column {} (time): {} does not increase on {}",
                                             where, line_of_row[i], index["time"] + 1, sig.time[i],
                                             sig.time[i - 1]));
      }
    }
    if (!o.rate_hz) rate = static_cast<double>(n - 1) / (sig.time.back() - sig.time.front());
  } else {
    sig.time.resize(n);
    for (std::size_t i = 0; i < n; ++i) sig.time[i] = static_cast<double>(i) / rate;
  }
  sig.velocity =
      index.count("velocity") ? std::move(data["velocity"]) : derive_velocity(sig.time, sig.angle);
  sig.status = std::move(status);

  session.complete = true;
  session.info.created_utc = utc_timestamp();
  session.info.software = "isokin 0.1.0";
  session.info.protocol_name = "imported";
  session.info.subject.id = o.subject;
  session.info.subject.body_mass_kg = o.body_mass_kg;
  auto& device = session.info.device;
  device.driver = "import";
  device.model = "delimited file " + o.file.filename().string();
  device.sample_rate_hz = rate;
  nlohmann::ordered_json provenance = {{"source", o.file.string()},
                                       {"columns", o.columns},
                                       {"delimiter", o.delimiter},
                                       {"decimal", o.decimal},
                                       {"velocity_derived_from_angle", !index.count("velocity")}};
  for (std::size_t k = 0; k < kChannels.size(); ++k) {
    const std::string channel = kChannels[k];
    if (channel == "time" || !index.count(channel)) continue;
    const Calibration& c = calibration[channel];
    const double sign = c.negate ? -1.0 : 1.0;
    device.channels.push_back({channel, kUnits[k], 0.0, 0.0});
    device.calibration.push_back({channel, sign * c.gain, sign * c.offset});
    if (std::isfinite(c.raw_min)) provenance["limits"][channel] = {c.raw_min, c.raw_max};
    provenance["calibration"][channel] = {
        {"gain", c.gain}, {"offset", c.offset}, {"negate", c.negate}};
  }
  session.info.protocol_json = provenance.dump();
  set.info.index = 0;
  set.info.setpoint.joint = *joint;
  set.info.setpoint.side = *side;
  set.info.setpoint.extension_velocity = o.velocity;
  set.info.setpoint.flexion_velocity = o.velocity;
  set.info.setpoint.angle_min = *std::min_element(sig.angle.begin(), sig.angle.end());
  set.info.setpoint.angle_max = *std::max_element(sig.angle.begin(), sig.angle.end());
  set.info.setpoint.repetitions = 0;
  set.stats.sample_count = n;
  set.stats.complete = true;
  set.stats.end_reason = "imported";

  std::filesystem::create_directories(o.out_dir);
  const auto path = o.out_dir / (o.file.stem().string() + ".h5");
  acquisition::write_session(path, session);
  return path;
}

int run_import(const ImportOptions& options, std::ostream& out) {
  const auto path = import_delimited(options);
  const auto session = acquisition::read_session(path);
  const auto& set = session.sets.at(0);
  fmt::print(out, "{}: {} samples at {:.6g} Hz ({:.2f} s) -> {}\n", options.file.string(),
             set.signals.size(), session.info.device.sample_rate_hz,
             set.signals.time.back() - set.signals.time.front(), path.string());
  return 0;
}

}  // namespace isokin::cli
