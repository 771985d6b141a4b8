// Vendor text exports with fixed layouts: Biodex System 3/4 TXT, the older 6-header-line Biodex
// text export, IsoMed 2000 raw export and Vicon Nexus "Devices" CSV. Layouts, units and the sign
// rule are in docs/import-formats.md.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "import/text.h"

namespace isokin::acquisition::import_detail {
namespace {

constexpr double kFootPoundInNm = 1.3558179483314004;  // 1 ft·lbf = 0.3048 m · 4.4482216152605 N
constexpr double kPi = 3.14159265358979323846;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The vendors' devices report torque and velocity in one rotation convention (both positive in
// the same direction). `velocity_sign` maps their velocity to d(angle)/dt (flexion positive);
// torque positive in the direction of positive device velocity is then a flexor moment when
// velocity_sign = +1, so torque takes the opposite sign.
struct SignRule {
  int velocity_sign = 1;
  [[nodiscard]] int torque_sign() const { return -velocity_sign; }
};

SignRule sign_rule(const std::string& file, const SetSignals& raw, const char* how) {
  const int s = velocity_sign_against_angle(raw.time, raw.angle, raw.velocity);
  if (s == 0) {
    fail(file, fmt::format("cannot tell the direction of the velocity column from the {} (no "
                           "clear movement); give the signs with --negate or use --format csv",
                           how));
  }
  return {s};
}

void apply_rule(SetSignals& s, const SignRule& rule, double torque_factor = 1.0) {
  for (auto& v : s.velocity) v *= rule.velocity_sign;
  for (auto& t : s.torque) t *= rule.torque_sign() * torque_factor;
}

std::string mapping_json(const SignRule& rule, nlohmann::ordered_json extra) {
  extra["velocity_sign"] = rule.velocity_sign;
  extra["torque_sign"] = rule.torque_sign();
  return extra.dump();
}

void standard_channels(ImportedRecording& rec, const SignRule& rule, double torque_gain,
                       double angle_gain, double velocity_gain, double angle_offset = 0.0) {
  rec.channels = {
      {"torque", "N·m", 0.0, 0.0}, {"angle", "deg", 0.0, 0.0}, {"velocity", "deg/s", 0.0, 0.0}};
  rec.calibration = {{"torque", rule.torque_sign() * torque_gain, 0.0},
                     {"angle", angle_gain, angle_offset},
                     {"velocity", rule.velocity_sign * velocity_gain, 0.0}};
}

double median_step(const std::vector<double>& t) {
  std::vector<double> d;
  for (std::size_t i = 1; i < t.size(); ++i) d.push_back(t[i] - t[i - 1]);
  if (d.empty()) return 0.0;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

std::string header_of(const Lines& lines, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count && i < lines.size(); ++i) text.append(lines[i]).append("\n");
  return text;
}

}  // namespace

// ---- Biodex System 3/4 exported TXT --------------------------------------------------------

ImportedRecording import_biodex(std::string_view content, const std::string& file) {
  const Lines lines(content);
  // The column line: "Set Rep mSec TORQUE POSITION POS_ANAT VELOCITY" ("POS ANAT" also).
  std::size_t header_index = lines.size();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line = upper(lines[i]);
    if (const auto p = line.find("POS ANAT"); p != std::string::npos) line[p + 3] = '_';
    const auto fields = split(line, "whitespace");
    if (fields.size() >= 5 && fields[0] == "SET" && fields[1] == "REP" && fields[2] == "MSEC") {
      header_index = i;
      for (const auto f : fields) names.emplace_back(f);
      break;
    }
  }
  if (header_index == lines.size()) {
    fail(file, "no column line 'Set Rep mSec TORQUE POSITION POS_ANAT VELOCITY'");
  }
  auto column = [&](const char* name) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      fail_at(file, header_index + 1, fmt::format("the column line has no {}", name));
    }
    return static_cast<std::size_t>(it - names.begin());
  };
  const std::size_t c_set = 0;
  const std::size_t c_rep = 1;
  const std::size_t c_ms = 2;
  const std::size_t c_torque = column("TORQUE");
  const std::size_t c_anat = column("POS_ANAT");
  const std::size_t c_velocity = column("VELOCITY");
  std::size_t first_data = header_index + 1;
  // An optional units line right after the column line, e.g. "- - ms N-M deg deg deg/sec".
  double torque_factor = 1.0;
  std::string torque_unit = "N-M";
  if (first_data < lines.size()) {
    const auto fields = split(lines[first_data], "whitespace");
    if (!fields.empty() && !parse_number(fields[0])) {
      if (c_torque < fields.size()) torque_unit = upper(fields[c_torque]);
      if (torque_unit.rfind("FT", 0) == 0) {
        torque_factor = kFootPoundInNm;
      } else if (torque_unit != "N-M" && torque_unit != "NM" && torque_unit != "N·M" &&
                 torque_unit != "N.M") {
        fail_at(file, first_data + 1, c_torque + 1,
                fmt::format("torque unit '{}' is neither N-M nor FT-LBS", torque_unit));
      }
      ++first_data;
    }
  }
  // A header that names ft-lbs as the torque unit without a units line.
  const std::string header_upper = upper(header_of(lines, header_index));
  if (first_data == header_index + 1 && (header_upper.find("FT-LB") != std::string::npos)) {
    torque_factor = kFootPoundInNm;
    torque_unit = "FT-LBS";
  }

  ImportedRecording rec;
  rec.format = ImportFormat::kBiodex;
  rec.device_model = "Biodex System 3/4 TXT export";
  rec.header_text = header_of(lines, first_data);
  SetSignals& s = rec.signals;
  std::vector<std::size_t> line_of_row;
  const std::size_t needed = std::max({c_torque, c_anat, c_velocity}) + 1;
  for (std::size_t i = first_data; i < lines.size(); ++i) {
    const auto fields = split(lines[i], "whitespace");
    if (fields.empty()) continue;
    const std::size_t ln = i + 1;
    if (fields.size() < needed) {
      fail_at(file, ln, fields.size() + 1,
              fmt::format("{} columns, the column line has {}", fields.size(), names.size()));
    }
    const double set = field_number(file, ln, fields, c_set, "Set");
    const double rep = field_number(file, ln, fields, c_rep, "Rep");
    if (set != std::floor(set) || rep != std::floor(rep) || std::abs(set) > 1e6 ||
        std::abs(rep) > 1e6) {
      fail_at(file, ln, 1, "Set and Rep must be whole numbers");
    }
    s.time.push_back(field_number(file, ln, fields, c_ms, "mSec"));
    s.torque.push_back(field_number(file, ln, fields, c_torque, "TORQUE"));
    s.angle.push_back(field_number(file, ln, fields, c_anat, "POS_ANAT"));
    s.velocity.push_back(field_number(file, ln, fields, c_velocity, "VELOCITY"));
    s.status.push_back(drivers::kStatusOk);
    int phase = 0;
    for (std::size_t k = needed; k < fields.size(); ++k) {
      const std::string word = upper(fields[k]);
      if (word == "AWAY") phase = 1;
      if (word == "TOWARD" || word == "TOWARDS") phase = 2;
      if (phase == 0 && !parse_number(fields[k])) {
        fail_at(file, ln, k + 1, fmt::format("'{}' is neither Away nor Toward", fields[k]));
      }
    }
    rec.marks.set.push_back(static_cast<int>(set));
    rec.marks.repetition.push_back(static_cast<int>(rep));
    rec.marks.phase.push_back(phase);
    line_of_row.push_back(ln);
  }
  if (s.size() < 2) fail(file, "fewer than 2 data lines");
  check_time_increases(file, s.time, line_of_row, c_ms + 1);
  rec.sample_rate_hz = 1000.0 / median_step(s.time);  // from whole milliseconds: exact
  for (auto& t : s.time) t /= 1000.0;
  const SignRule rule = sign_rule(file, s, "POS_ANAT column");
  apply_rule(s, rule, torque_factor);
  standard_channels(rec, rule, torque_factor, 1.0, 1.0);
  rec.mapping_json = mapping_json(
      rule, {{"time", "mSec / 1000"},
             {"torque", "TORQUE"},
             {"torque_unit", torque_unit},
             {"angle", "POS_ANAT"},
             {"velocity", "VELOCITY"},
             {"device_marks", "Set, Rep, Away/Toward kept in memory only (not in format v2)"}});
  return rec;
}

// ---- Older Biodex text export: 6 header lines, time torque position anat-position velocity ---

ImportedRecording import_biodex_6line(std::string_view content, const std::string& file) {
  const Lines lines(content);
  constexpr std::size_t kHeaderLines = 6;
  if (lines.size() <= kHeaderLines) fail(file, "no data after the 6 header lines");
  ImportedRecording rec;
  rec.format = ImportFormat::kBiodex6Line;
  rec.device_model = "Biodex text export (6 header lines)";
  rec.header_text = header_of(lines, kHeaderLines);
  SetSignals& s = rec.signals;
  std::vector<std::size_t> line_of_row;
  for (std::size_t i = kHeaderLines; i < lines.size(); ++i) {
    const auto fields = split(lines[i], "whitespace");
    if (fields.empty()) continue;
    const std::size_t ln = i + 1;
    if (fields.size() != 5) {
      fail_at(file, ln, std::min<std::size_t>(fields.size(), 5) + 1,
              fmt::format("{} columns, expected 5 (time torque position anatomical-position "
                          "velocity)",
                          fields.size()));
    }
    s.time.push_back(field_number(file, ln, fields, 0, "time"));
    s.torque.push_back(field_number(file, ln, fields, 1, "torque"));
    s.angle.push_back(field_number(file, ln, fields, 3, "anatomical position"));
    s.velocity.push_back(field_number(file, ln, fields, 4, "velocity"));
    s.status.push_back(drivers::kStatusOk);
    line_of_row.push_back(ln);
  }
  if (s.size() < 2) fail(file, "fewer than 2 data lines");
  check_time_increases(file, s.time, line_of_row, 1);
  // Time in ms when the header says so or no plausible rate (≥ 2 Hz) fits seconds.
  const std::string head = upper(rec.header_text);
  const bool milliseconds = head.find("MSEC") != std::string::npos ||
                            head.find("(MS)") != std::string::npos || median_step(s.time) >= 0.5;
  rec.sample_rate_hz = (milliseconds ? 1000.0 : 1.0) / median_step(s.time);
  if (milliseconds) {
    for (auto& t : s.time) t /= 1000.0;
  }
  const SignRule rule = sign_rule(file, s, "anatomical position column");
  apply_rule(s, rule);
  standard_channels(rec, rule, 1.0, 1.0, 1.0);
  rec.mapping_json = mapping_json(rule, {{"time", milliseconds ? "column 1 / 1000" : "column 1"},
                                         {"torque", "column 2"},
                                         {"angle", "column 4 (anatomical position)"},
                                         {"velocity", "column 5"}});
  return rec;
}

// ---- IsoMed 2000 raw export: 10 columns, no header ------------------------------------------

ImportedRecording import_isomed(std::string_view content, const std::string& file,
                                const ImportOptions& options) {
  const Lines lines(content);
  ImportedRecording rec;
  rec.format = ImportFormat::kIsoMed;
  rec.device_model = "IsoMed 2000 raw export";
  SetSignals& s = rec.signals;
  std::vector<std::size_t> line_of_row;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string_view delimiter = line.find(';') != std::string_view::npos    ? ";"
                                       : line.find('\t') != std::string_view::npos ? "\t"
                                                                                   : "whitespace";
    const auto fields = split(line, delimiter);
    if (fields.empty() || (fields.size() == 1 && fields[0].empty())) continue;
    const std::size_t ln = i + 1;
    if (fields.size() != 10) {
      fail_at(file, ln, std::min<std::size_t>(fields.size(), 10) + 1,
              fmt::format("{} columns, an IsoMed raw export has 10", fields.size()));
    }
    for (std::size_t c = 0; c < 10; ++c) (void)field_number(file, ln, fields, c, "IsoMed value");
    s.time.push_back(field_number(file, ln, fields, 0, "time ms"));
    s.angle.push_back(options.rom_start_angle +
                      field_number(file, ln, fields, 1, "position 0.1 deg") / 10.0);
    s.torque.push_back(field_number(file, ln, fields, 2, "torque 0.1 N·m") / 10.0);
    s.velocity.push_back(field_number(file, ln, fields, 3, "velocity 0.1 deg/s") / 10.0);
    s.status.push_back(drivers::kStatusOk);
    const double phase = field_number(file, ln, fields, 5, "phase code");
    if (phase != std::floor(phase) || std::abs(phase) > 1e6) {
      fail_at(file, ln, 6, fmt::format("phase code '{}' is not a whole number", fields[5]));
    }
    rec.marks.phase.push_back(static_cast<int>(phase));
    line_of_row.push_back(ln);
  }
  if (s.size() < 2) fail(file, "fewer than 2 data lines");
  check_time_increases(file, s.time, line_of_row, 1);
  rec.sample_rate_hz = 1000.0 / median_step(s.time);
  for (auto& t : s.time) t /= 1000.0;
  const SignRule rule = sign_rule(file, s, "position column");
  apply_rule(s, rule);
  standard_channels(rec, rule, 0.1, 0.1, 0.1, options.rom_start_angle);
  rec.mapping_json =
      mapping_json(rule, {{"time", "column 1 / 1000"},
                          {"angle", fmt::format("{} + column 2 / 10", options.rom_start_angle)},
                          {"torque", "column 3 / 10"},
                          {"velocity", "column 4 / 10"},
                          {"device_marks", "phase code (column 6) kept in memory only"}});
  return rec;
}

// ---- Vicon Nexus "Devices" CSV --------------------------------------------------------------

ImportedRecording import_vicon_csv(std::string_view content, const std::string& file,
                                   const ImportOptions& options) {
  const Lines lines(content);
  std::size_t devices = lines.size();
  for (std::size_t i = 0; i < std::min<std::size_t>(3, lines.size()); ++i) {
    const auto fields = split(lines[i], ",");
    if (!fields.empty() && fields[0] == "Devices") {
      devices = i;
      break;
    }
  }
  if (devices == lines.size()) fail(file, "no 'Devices' line in the first 3 lines");
  const std::size_t rate_i = devices + 1;
  const std::size_t names_i = devices + 3;
  const std::size_t units_i = devices + 4;
  if (units_i >= lines.size()) fail(file, "the header ends before the units line");
  const auto rate_fields = split(lines[rate_i], ",");
  const double rate = field_number(file, rate_i + 1, rate_fields, 0, "rate Hz");
  if (!(rate > 0.0) || rate > 1e7) fail_at(file, rate_i + 1, 1, "the rate must be positive");
  const auto names = split(lines[names_i], ",");
  const auto units = split(lines[units_i], ",");
  if (names.size() < 3 || names[0] != "Frame" || names[1] != "Sub Frame") {
    fail_at(file, names_i + 1, 1, "the column line must start with Frame,Sub Frame");
  }

  // Channel → column name: defaults, overridden by --columns NAME=HEADER.
  std::map<std::string, std::string> wanted = {
      {"angle", "Angle"}, {"velocity", "Angular velocity"}, {"torque", "Torque"}};
  for (const auto item : split(options.columns, ",")) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string channel(trim(item.substr(0, eq)));
    if (eq == std::string_view::npos || !wanted.count(channel)) {
      throw std::invalid_argument("import: vicon-csv --columns entry '" + std::string(item) +
                                  "' must be torque|angle|velocity=COLUMN NAME");
    }
    wanted[channel] = std::string(trim(item.substr(eq + 1)));
  }
  std::map<std::string, std::size_t> index;
  std::map<std::string, double> factor;
  for (const auto& [channel, name] : wanted) {
    const std::string wanted_name = upper(name);  // lambdas cannot capture structured bindings
    const auto it = std::find_if(names.begin(), names.end(),
                                 [&](std::string_view n) { return upper(n) == wanted_name; });
    if (it == names.end()) {
      if (channel == "velocity") continue;  // derived from angle
      fail_at(file, names_i + 1, fmt::format("no column '{}' (for {})", name, channel));
    }
    const auto c = static_cast<std::size_t>(it - names.begin());
    index[channel] = c;
    const std::string unit = c < units.size() ? upper(units[c]) : "";
    double f = 0.0;
    if (channel == "angle")
      f = unit == "DEG" || unit == "°" ? 1.0 : unit == "RAD" ? 180.0 / kPi : 0;
    if (channel == "velocity") {
      f = unit == "DEG/S" || unit == "°/S" ? 1.0 : unit == "RAD/S" ? 180.0 / kPi : 0.0;
    }
    if (channel == "torque") {
      f = unit == "N.M" || unit == "NM" || unit == "N·M" || unit == "N M" ? 1.0
          : unit == "N.MM" || unit == "NMM" || unit == "N·MM"             ? 0.001
                                                                          : 0.0;
    }
    if (f == 0.0) {
      fail_at(file, units_i + 1, c + 1,
              fmt::format("unit '{}' of {} is not one isokin converts",
                          c < units.size() ? units[c] : "", channel));
    }
    factor[channel] = f;
  }
  check_one_channel_per_column(
      index, [&](std::size_t c) { return fmt::format("column '{}'", names[c]); },
      "vicon-csv --columns");

  ImportedRecording rec;
  rec.format = ImportFormat::kViconCsv;
  rec.device_model = "Vicon Nexus devices CSV: " + std::string(lines[devices + 2]);
  rec.header_text = header_of(lines, units_i + 1);
  std::vector<double> frame;
  std::vector<double> sub;
  std::vector<std::size_t> line_of_row;
  SetSignals& s = rec.signals;
  for (std::size_t i = units_i + 1; i < lines.size(); ++i) {
    const auto fields = split(lines[i], ",");
    if (trim(lines[i]).empty()) break;  // the next section (Trajectories, …) follows a blank
    const std::size_t ln = i + 1;
    frame.push_back(field_number(file, ln, fields, 0, "Frame"));
    sub.push_back(field_number(file, ln, fields, 1, "Sub Frame"));
    s.angle.push_back(field_number(file, ln, fields, index["angle"], "angle") * factor["angle"]);
    s.torque.push_back(field_number(file, ln, fields, index["torque"], "torque") *
                       factor["torque"]);
    if (index.count("velocity")) {
      s.velocity.push_back(field_number(file, ln, fields, index["velocity"], "velocity") *
                           factor["velocity"]);
    }
    s.status.push_back(drivers::kStatusOk);
    line_of_row.push_back(ln);
  }
  if (s.angle.size() < 2) fail(file, "fewer than 2 data lines");
  const double sub_frames = *std::max_element(sub.begin(), sub.end()) + 1.0;
  for (std::size_t i = 0; i < frame.size(); ++i) {
    s.time.push_back(((frame[i] - frame[0]) * sub_frames + sub[i] - sub[0]) / rate);
  }
  check_time_increases(file, s.time, line_of_row, 1);
  for (std::size_t i = 1; i < s.time.size(); ++i) {
    if (s.time[i] - s.time[i - 1] > 1.5 / rate) s.status[i] |= drivers::kStatusGapBefore;
  }
  const bool derived = !index.count("velocity");
  SignRule rule{1};
  if (derived) {
    s.velocity = derive_velocity(s.time, s.angle);
  } else {
    rule = sign_rule(file, s, "angle column");
  }
  apply_rule(s, rule);
  rec.sample_rate_hz = rate;
  standard_channels(rec, rule, factor["torque"], factor["angle"],
                    derived ? 1.0 : factor["velocity"]);
  if (derived) rec.calibration.pop_back();
  rec.mapping_json =
      mapping_json(rule, {{"angle", wanted["angle"]},
                          {"velocity", derived ? "derived from angle" : wanted["velocity"]},
                          {"torque", wanted["torque"]},
                          {"time", "((Frame - first) * sub frames + Sub Frame) / rate"}});
  return rec;
}

}  // namespace isokin::acquisition::import_detail
