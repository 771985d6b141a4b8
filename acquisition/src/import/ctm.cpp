// Con-Trex MJ raw export (.CTM, "human kinetics" software): an INI-like header of tab-separated
// lines in sections ([Measurement], [session], [Configuration], [SetUp], [filter], [markers by
// index], …; Latin-1, decimal commas in some values), then "[data]", a blank line and rows
// torque<TAB>velocity<TAB>angle at the header's sampling rate, ended by a row of zeros. A .CTA
// file is the same header without the data (a test's settings). The mapping, and what was checked
// on the real files, is in docs/import-formats.md.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "import/text.h"

namespace isokin::acquisition::import_detail {
namespace {

// The device's knee extension/flexion pattern: the only one whose meaning is known.
constexpr int kKneeExtensionFlexion = 210;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(std::string_view text, std::string_view word) {
  return text.find(word) != std::string_view::npos;
}

// The header is Latin-1 (Finnish labels): stored as UTF-8, as every text in a session file.
std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (byte >> 6));
      out += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return out;
}

// A header value: '.' or ',' as the decimal mark (the device writes "-5,6" and "500,0").
std::optional<double> header_number(std::string_view text) {
  const auto value = trim(text);
  return value.find(',') != std::string_view::npos ? parse_number(value, ',') : parse_number(value);
}

struct HeaderLine {
  std::size_t line = 0;  // 1-based
  std::vector<std::string_view> values;
};

// The sections before [data], keyed "section/key" (section names without brackets).
class CtmHeader {
 public:
  CtmHeader(const Lines& lines, std::string file) : file_(std::move(file)) {
    std::string section;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto line = trim(lines[i]);
      if (line.size() >= 2 && line.front() == '[' && line.back() == ']') {
        section = std::string(line.substr(1, line.size() - 2));
        if (section == "data") {
          data_index_ = i;
          break;
        }
        continue;
      }
      auto fields = split(lines[i], "\t");
      if (fields.empty() || fields[0].empty()) continue;
      const std::string key = section + "/" + std::string(fields[0]);
      fields.erase(fields.begin());
      entries_.try_emplace(key, HeaderLine{i + 1, std::move(fields)});
    }
    text_end_ = data_index_ == kNone ? lines.size() : data_index_ + 1;
  }

  [[nodiscard]] const HeaderLine* find(std::string_view section, std::string_view key) const {
    const auto it = entries_.find(std::string(section) + "/" + std::string(key));
    return it == entries_.end() ? nullptr : &it->second;
  }
  [[nodiscard]] std::string_view value(std::string_view section, std::string_view key,
                                       std::size_t k = 0) const {
    const auto* entry = find(section, key);
    return entry != nullptr && k < entry->values.size() ? entry->values[k] : std::string_view();
  }
  // The number in a value; an error naming the line when the line is there but is not a number.
  [[nodiscard]] std::optional<double> number(std::string_view section, std::string_view key,
                                             std::size_t k = 0) const {
    const auto* entry = find(section, key);
    if (entry == nullptr || k >= entry->values.size() || trim(entry->values[k]).empty()) {
      return std::nullopt;
    }
    const auto value = header_number(entry->values[k]);
    if (!value) {
      fail_at(file_, entry->line, k + 2,
              fmt::format("[{}] {}: '{}' is not a number", section, key, entry->values[k]));
    }
    return value;
  }
  [[nodiscard]] double required_number(std::string_view section, std::string_view key) const {
    const auto value = number(section, key);
    if (!value) fail(file_, fmt::format("the header has no [{}] '{}' value", section, key));
    return *value;
  }
  [[nodiscard]] std::size_t line_of(std::string_view section, std::string_view key) const {
    const auto* entry = find(section, key);
    return entry == nullptr ? 0 : entry->line;
  }
  [[nodiscard]] bool has_data() const { return data_index_ != kNone; }
  [[nodiscard]] std::size_t data_index() const { return data_index_; }
  [[nodiscard]] std::size_t text_end() const { return text_end_; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::string file_;
  std::map<std::string, HeaderLine, std::less<>> entries_;
  std::size_t data_index_ = kNone;
  std::size_t text_end_ = 0;
};

enum class MoveKind { kConcentric, kEccentric, kPassive, kUnknown };

MoveKind move_kind(std::string_view word) {
  const auto w = lower(word);
  if (w == "kons" || w == "kon" || w == "con" || w == "konz") return MoveKind::kConcentric;
  if (w == "eks" || w == "ecc" || w == "exz" || w == "ekz") return MoveKind::kEccentric;
  if (w == "cpm") return MoveKind::kPassive;
  return MoveKind::kUnknown;
}

const char* move_kind_name(MoveKind kind) {
  switch (kind) {
    case MoveKind::kConcentric:
      return "concentric";
    case MoveKind::kEccentric:
      return "eccentric";
    case MoveKind::kPassive:
      return "passive (CPM: the lever moves the relaxed limb)";
    case MoveKind::kUnknown:
      break;
  }
  return "unknown";
}

// The program's last word "A/B" names move 1 (extension) and move 2 (flexion): kons/kons,
// eks/eks, CPM/eks. The set's mode is the one isokin's ContractionMode table gives for that pair;
// a passive extension counts as the concentric/eccentric mode's extension (the extensors work
// only eccentrically, in flexion).
std::optional<drivers::ContractionMode> mode_of(MoveKind extension, MoveKind flexion) {
  using drivers::ContractionMode;
  if (extension == MoveKind::kConcentric && flexion == MoveKind::kConcentric) {
    return ContractionMode::kConcentricConcentric;
  }
  if (extension == MoveKind::kEccentric && flexion == MoveKind::kEccentric) {
    return ContractionMode::kEccentricEccentric;
  }
  if ((extension == MoveKind::kConcentric || extension == MoveKind::kPassive) &&
      flexion == MoveKind::kEccentric) {
    return ContractionMode::kConcentricEccentric;
  }
  return std::nullopt;
}

std::optional<drivers::Side> side_of(std::string_view code, std::string_view text) {
  const auto t = lower(text);
  if (t == "right") return drivers::Side::kRight;
  if (t == "left") return drivers::Side::kLeft;
  if (t.empty() && trim(code) == "0") return drivers::Side::kRight;
  if (t.empty() && trim(code) == "1") return drivers::Side::kLeft;
  return std::nullopt;
}

// "0 - ei kumpikaan" (neither). Other codes are read from their words only (Finnish or English):
// no export with an involved side is public, so the codes are not guessed.
std::optional<drivers::Side> involved_side_of(std::string_view value) {
  const auto v = lower(trim(value));
  if (v == "0" || v.rfind("0 ", 0) == 0 || contains(v, "kumpikaan") || contains(v, "none") ||
      contains(v, "neither")) {
    return drivers::Side::kNone;
  }
  if (contains(v, "oikea") || contains(v, "right")) return drivers::Side::kRight;
  if (contains(v, "vasen") || contains(v, "left")) return drivers::Side::kLeft;
  return std::nullopt;
}

struct Rows {
  std::vector<double> torque, velocity, angle;
  std::size_t first_line = 0, last_line = 0;  // 1-based, of the samples
  std::size_t terminator_line = 0;            // 0: none
};

Rows read_rows(const Lines& lines, std::size_t begin, const std::string& file) {
  Rows rows;
  for (std::size_t i = begin; i < lines.size(); ++i) {
    const auto fields = split(lines[i], "whitespace");
    if (fields.empty()) continue;
    const std::size_t ln = i + 1;
    if (fields.size() != 3) {
      fail_at(file, ln, std::min<std::size_t>(fields.size(), 3) + 1,
              fmt::format("{} columns, a Con-Trex data row has 3 (torque velocity angle)",
                          fields.size()));
    }
    rows.torque.push_back(field_number(file, ln, fields, 0, "torque"));
    rows.velocity.push_back(field_number(file, ln, fields, 1, "velocity"));
    rows.angle.push_back(field_number(file, ln, fields, 2, "angle"));
    if (rows.first_line == 0) rows.first_line = ln;
    rows.last_line = ln;
  }
  // The device ends the data with a row of zeros: not a sample (its angle would be 0°).
  if (!rows.torque.empty() && rows.torque.back() == 0.0 && rows.velocity.back() == 0.0 &&
      rows.angle.back() == 0.0) {
    rows.terminator_line = rows.last_line;
    rows.torque.pop_back();
    rows.velocity.pop_back();
    rows.angle.pop_back();
  }
  return rows;
}

// [markers by index]: move 1 = the starts of the extensions, move 2 = the starts of the
// flexions, 0-based sample indices. From the first marker to the last is the device's test; each
// run between consecutive markers is one movement, numbered per direction (the device's
// repetition). Samples before the first marker or from the last one on are outside the test.
void mark_repetitions(const CtmHeader& header, std::size_t samples, const std::string& file,
                      DeviceMarks& marks) {
  struct Marker {
    std::size_t index;
    int phase;
    int repetition;
  };
  std::vector<Marker> markers;
  for (const int phase : {1, 2}) {
    const auto key = phase == 1 ? "move 1" : "move 2";
    const auto* entry = header.find("markers by index", key);
    if (entry == nullptr) continue;
    int repetition = 0;
    for (std::size_t k = 0; k < entry->values.size(); ++k) {
      if (trim(entry->values[k]).empty()) continue;
      const auto value = parse_number(trim(entry->values[k]));
      if (!value || *value != std::floor(*value) || *value < 0 ||
          *value >= static_cast<double>(samples)) {
        fail_at(file, entry->line, k + 2,
                fmt::format("[markers by index] {}: '{}' is not a sample index (0 to {})", key,
                            entry->values[k], samples == 0 ? 0 : samples - 1));
      }
      markers.push_back({static_cast<std::size_t>(*value), phase, ++repetition});
    }
  }
  if (markers.size() < 2) return;
  std::sort(markers.begin(), markers.end(),
            [](const Marker& a, const Marker& b) { return a.index < b.index; });
  marks.repetition.assign(samples, 0);
  marks.phase.assign(samples, 0);
  for (std::size_t k = 0; k + 1 < markers.size(); ++k) {
    if (markers[k].index == markers[k + 1].index) {
      fail_at(file, header.line_of("markers by index", "move 1"),
              fmt::format("[markers by index]: sample {} is marked twice", markers[k].index));
    }
    for (std::size_t i = markers[k].index; i < markers[k + 1].index; ++i) {
      marks.phase[i] = markers[k].phase;
      marks.repetition[i] = markers[k].repetition;
    }
  }
}

// The device's angle runs from its extension end `mov1` to its flexion end `mov2` (both from the
// anatomical zero): flexion = ±device angle, the sign that puts mov1 below mov2.
struct AngleMapping {
  int sign = -1;
  std::optional<double> extended, flexed;  // the programmed ends, ° flexion
};

AngleMapping angle_mapping(const CtmHeader& header, std::vector<std::string>& warnings) {
  AngleMapping m;
  const auto mov1 = header.number("SetUp", "mov1");
  const auto mov2 = header.number("SetUp", "mov2");
  if (!mov1 || !mov2 || *mov1 == *mov2) {
    warnings.emplace_back(
        "no [SetUp] mov1/mov2 range: flexion = −device angle, as on the Con-Trex files seen");
    return m;
  }
  m.sign = *mov1 > *mov2 ? -1 : 1;
  m.extended = m.sign * *mov1;
  m.flexed = m.sign * *mov2;
  return m;
}

struct Program {
  MoveKind extension = MoveKind::kUnknown;
  MoveKind flexion = MoveKind::kUnknown;
  std::string text;
};

Program program_of(const CtmHeader& header, std::vector<std::string>& warnings) {
  Program p;
  p.text = latin1_to_utf8(header.value("Configuration", "program", 1));
  const auto words = split(p.text, "whitespace");
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    const auto slash = it->find('/');
    if (slash == std::string_view::npos) continue;
    p.extension = move_kind(it->substr(0, slash));
    p.flexion = move_kind(it->substr(slash + 1));
    break;
  }
  if (p.extension == MoveKind::kUnknown || p.flexion == MoveKind::kUnknown ||
      !mode_of(p.extension, p.flexion)) {
    warnings.push_back(fmt::format(
        "program '{}' is not one isokin maps (kons/kons, eks/eks, kons/eks, CPM/eks): the mode "
        "is concentric/concentric unless --mode says otherwise",
        p.text));
  }
  return p;
}

void read_context(const CtmHeader& header, const Program& program, const AngleMapping& angle,
                  ImportedRecording& rec, std::vector<std::string>& warnings) {
  auto& context = rec.header;
  // Compared as written: a code is not a quantity (and an absurd one must not overflow an int).
  const auto pattern = trim(header.value("Configuration", "pattern"));
  context.joint = drivers::Joint::kKnee;
  if (pattern != std::to_string(kKneeExtensionFlexion)) {
    warnings.push_back(fmt::format(
        "pattern {} '{}' is not the knee extension/flexion pattern (210): imported as the knee",
        latin1_to_utf8(pattern), latin1_to_utf8(header.value("Configuration", "pattern", 1))));
  }
  context.side =
      side_of(header.value("Configuration", "side"), header.value("Configuration", "side", 1));
  if (!context.side) warnings.emplace_back("[Configuration] side not understood: give --side");
  context.mode = mode_of(program.extension, program.flexion);
  context.extension_velocity = header.number("Configuration", "speed", 0);
  context.flexion_velocity = header.number("Configuration", "speed", 1);
  context.angle_min = angle.extended;
  context.angle_max = angle.flexed;
  if (const auto mass = header.number("session", "subject weight"); mass && *mass > 0.0) {
    context.body_mass_kg = mass;
  }
  if (const auto gravity = trim(header.value("Configuration", "gravity")); gravity == "1") {
    warnings.emplace_back(
        "the device's gravity correction was on: its torque may already be corrected for the "
        "limb's weight (isokin analyze --no-gravity avoids correcting twice)");
  }
  if (header.find("session", "involved side") != nullptr) {
    const auto involved = header.value("session", "involved side");
    context.injured_side = involved_side_of(involved);
    if (!context.injured_side) {
      warnings.push_back(
          fmt::format("involved side '{}' not understood: not recorded", latin1_to_utf8(involved)));
    }
  }
}

// The data rows, which must number the header's `samples` (a cut file is refused, never
// imported in part), or the error saying why there are none.
Rows read_samples(const Lines& lines, const CtmHeader& header, const std::string& file) {
  const double announced = header.required_number("Measurement", "samples");
  if (announced < 0 || announced != std::floor(announced) || announced > 1e9) {
    fail_at(file, header.line_of("Measurement", "samples"),
            fmt::format("samples '{:g}' is not a count", announced));
  }
  const auto samples = static_cast<std::size_t>(announced);
  if (!header.has_data()) {
    fail(file, fmt::format("holds no samples: no [data] section (a .CTA file holds only a "
                           "test's settings; its header announces {} samples)",
                           samples));
  }
  Rows rows = read_rows(lines, header.data_index() + 1, file);
  if (rows.torque.empty()) fail(file, "holds no samples: the [data] section is empty");
  if (rows.torque.size() != samples) {
    fail(file, fmt::format("the header announces {} samples (line {}) but the data holds {} "
                           "(lines {}-{}): {}",
                           samples, header.line_of("Measurement", "samples"), rows.torque.size(),
                           rows.first_line, rows.last_line,
                           rows.torque.size() < samples ? "the file is cut short"
                                                        : "more rows than announced"));
  }
  return rows;
}

std::string joined(const HeaderLine* entry) {
  if (entry == nullptr) return {};
  std::string text;
  for (const auto v : entry->values) {
    if (!trim(v).empty()) text += (text.empty() ? "" : " ") + latin1_to_utf8(trim(v));
  }
  return text;
}

// How the file was mapped, with the header values isokin does not use (kept for a reader).
// The device's own gravity setting, from `gravity <TAB> 0|1 <TAB> off|on`.
std::string device_gravity(const CtmHeader& header) {
  const auto value = trim(header.value("Configuration", "gravity"));
  return value == "0" ? "off" : value == "1" ? "on" : "unknown";
}

std::string mapping_of(const CtmHeader& header, const Program& program, const Rows& rows,
                       int angle_sign, int velocity_sign,
                       const std::vector<std::string>& warnings) {
  nlohmann::ordered_json mapping = {
      {"time", "row / samplingrate"},
      {"torque", "column 1 (N·m) × torque_sign"},
      {"velocity", "column 2 (°/s) × velocity_sign"},
      {"angle", "column 3 (device degrees from the anatomical zero) × angle_sign"},
      {"angle_sign", angle_sign},
      {"velocity_sign", velocity_sign},
      {"torque_sign", -velocity_sign},
      {"samples", rows.torque.size()},
      {"terminator", rows.terminator_line == 0
                         ? std::string("none")
                         : fmt::format("dropped (line {}: 0 0 0)", rows.terminator_line)},
      {"pattern", joined(header.find("Configuration", "pattern"))},
      {"program", program.text},
      {"extension", move_kind_name(program.extension)},
      {"flexion", move_kind_name(program.flexion)},
      {"speed", joined(header.find("Configuration", "speed"))},
      {"anatomical_zero", joined(header.find("SetUp", "anatomical zero"))},
      {"device_gravity_correction", joined(header.find("Configuration", "gravity"))},
      // What the analysis follows by default (docs/analysis.md §4): "on", "off" or "unknown".
      {"device_gravity", device_gravity(header)},
      {"device_filter", joined(header.find("filter", "filter"))},
      {"device_marks",
       "[markers by index] move 1 / move 2: repetition and phase (1 extension, 2 flexion)"},
      {"warnings", warnings}};
  return mapping.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool is_contrex_header(std::string_view head) {
  const Lines lines(head.substr(0, 8192));
  std::size_t first = 0;
  while (first < lines.size() && trim(lines[first]).empty()) ++first;
  if (first == lines.size() || trim(lines[first]) != "[Measurement]") return false;
  for (std::size_t i = first + 1; i < std::min<std::size_t>(lines.size(), first + 40); ++i) {
    const auto fields = split(lines[i], "\t");
    if (!fields.empty() && fields[0] == "samplingrate") return true;
  }
  return false;
}

ImportedRecording import_contrex(std::string_view content, const std::string& file) {
  const Lines lines(content);
  const CtmHeader header(lines, file);
  const double rate = header.required_number("Measurement", "samplingrate");
  if (!(rate > 0.0) || rate > 1e6) {
    fail_at(file, header.line_of("Measurement", "samplingrate"),
            fmt::format("samplingrate {:g} Hz is not a sample rate", rate));
  }
  const Rows rows = read_samples(lines, header, file);

  ImportedRecording rec;
  rec.format = ImportFormat::kConTrex;
  const auto system = header.value("Measurement", "system name");
  const auto software = header.value("Measurement", "software");
  rec.device_model = fmt::format("{} .CTM export ({})", system.empty() ? "Con-Trex" : system,
                                 software.empty() ? "software not named" : software);
  std::string head;
  for (std::size_t i = 0; i < header.text_end(); ++i) head.append(lines[i]).append("\n");
  rec.header_text = latin1_to_utf8(head);
  rec.sample_rate_hz = rate;

  std::vector<std::string> warnings;
  const AngleMapping angle = angle_mapping(header, warnings);
  const Program program = program_of(header, warnings);
  read_context(header, program, angle, rec, warnings);

  SetSignals& s = rec.signals;
  const std::size_t n = rows.torque.size();
  for (std::size_t i = 0; i < n; ++i) {
    s.time.push_back(static_cast<double>(i) / rate);
    s.angle.push_back(angle.sign * rows.angle[i]);
  }
  // The device's velocity is d(device angle)/dt; checked against the data, as for the other
  // vendors, falling back on the angle's sign when the lever did not move.
  int velocity_sign = velocity_sign_against_angle(s.time, s.angle, rows.velocity);
  if (velocity_sign == 0) velocity_sign = angle.sign;
  // Torque positive in the direction of positive device velocity (move 1, extension): the vendors'
  // rule, and what the files show (positive during concentric extension efforts).
  const int torque_sign = -velocity_sign;
  for (std::size_t i = 0; i < n; ++i) {
    s.velocity.push_back(velocity_sign * rows.velocity[i]);
    s.torque.push_back(torque_sign * rows.torque[i]);
    s.status.push_back(drivers::kStatusOk);
  }
  mark_repetitions(header, n, file, rec.marks);
  if (rec.marks.phase.empty()) {
    warnings.emplace_back("no [markers by index] move 1/move 2: the device's test is not marked");
  }

  rec.channels = {
      {"torque", "N·m", 0.0, 0.0}, {"angle", "deg", 0.0, 0.0}, {"velocity", "deg/s", 0.0, 0.0}};
  rec.calibration = {{"torque", static_cast<double>(torque_sign), 0.0},
                     {"angle", static_cast<double>(angle.sign), 0.0},
                     {"velocity", static_cast<double>(velocity_sign), 0.0}};
  rec.mapping_json = mapping_of(header, program, rows, angle.sign, velocity_sign, warnings);
  return rec;
}

}  // namespace isokin::acquisition::import_detail
