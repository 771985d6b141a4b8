// Format names and detection, dispatch to the importers, and the recording → session file step.
#include "isokin/acquisition/import.h"

#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>

#include "import/text.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::acquisition {
namespace {

using namespace import_detail;

struct FormatName {
  ImportFormat format;
  const char* name;
};
constexpr std::array<FormatName, 8> kFormats = {{{ImportFormat::kBiodex, "biodex"},
                                                 {ImportFormat::kConTrex, "contrex"},
                                                 {ImportFormat::kBiodex6Line, "biodex-6line"},
                                                 {ImportFormat::kIsoMed, "isomed"},
                                                 {ImportFormat::kViconCsv, "vicon-csv"},
                                                 {ImportFormat::kC3d, "c3d"},
                                                 {ImportFormat::kMat, "mat"},
                                                 {ImportFormat::kDelimited, "csv"}}};

// Enough of a file to recognise it.
constexpr std::size_t kHeadBytes = 1 << 16;

std::string read_file(const std::filesystem::path& file, std::size_t limit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open for reading");
  std::string data;
  std::array<char, 1 << 16> buffer{};
  while (data.size() < limit && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(
                               std::min<std::size_t>(buffer.size(), limit - data.size())));
    data.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error(file.string() + ": read error");
  return data;
}

bool numeric_fields(std::string_view line, std::size_t count) {
  const std::string_view delimiter = line.find(';') != std::string_view::npos    ? ";"
                                     : line.find('\t') != std::string_view::npos ? "\t"
                                                                                 : "whitespace";
  const auto fields = split(line, delimiter);
  return fields.size() == count && std::all_of(fields.begin(), fields.end(),
                                               [](auto f) { return parse_number(f).has_value(); });
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

std::string_view import_format_name(ImportFormat format) {
  for (const auto& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "?";
}

std::optional<ImportFormat> parse_import_format(std::string_view name) {
  for (const auto& f : kFormats) {
    if (name == f.name) return f.format;
  }
  if (name == "delimited") return ImportFormat::kDelimited;
  return std::nullopt;
}

std::string import_format_names() {
  std::string names;
  for (const auto& f : kFormats) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

std::optional<ImportFormat> detect_import_format_in(std::string_view head) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 512 && byte(1) == 0x50 && byte(0) >= 2) {
    const std::size_t p = (static_cast<std::size_t>(byte(0)) - 1) * 512;
    if (p + 4 <= head.size() && byte(p + 3) >= 84 && byte(p + 3) <= 86) return ImportFormat::kC3d;
  }
  if (head.rfind("MATLAB 5.0 MAT-file", 0) == 0 || head.rfind("MATLAB 7.3 MAT-file", 0) == 0) {
    return ImportFormat::kMat;
  }
  if (head.substr(0, 4096).find('\0') != std::string_view::npos) return std::nullopt;
  if (is_contrex_header(head)) return ImportFormat::kConTrex;
  const Lines lines(head);
  for (std::size_t i = 0; i < std::min<std::size_t>(3, lines.size()); ++i) {
    const auto fields = split(lines[i], ",");
    if (!fields.empty() && fields[0] == "Devices") return ImportFormat::kViconCsv;
  }
  for (std::size_t i = 0; i < std::min<std::size_t>(200, lines.size()); ++i) {
    const auto fields = split(lines[i], "whitespace");
    if (fields.size() >= 5) {
      std::string first;
      for (std::size_t k = 0; k < 3; ++k) {
        for (const char c : fields[k]) {
          first += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        first += ' ';
      }
      if (first == "SET REP MSEC ") return ImportFormat::kBiodex;
    }
  }
  // Headerless 10-column numbers: IsoMed. Six header lines then 5 columns: old Biodex.
  std::vector<std::string_view> data;
  for (std::size_t i = 0; i < lines.size() && data.size() < 5; ++i) {
    if (!trim(lines[i]).empty()) data.push_back(lines[i]);
  }
  if (data.size() >= 2 &&
      std::all_of(data.begin(), data.end(), [](auto l) { return numeric_fields(l, 10); })) {
    return ImportFormat::kIsoMed;
  }
  if (lines.size() > 7) {
    bool header_is_text = false;
    for (std::size_t i = 0; i < 6; ++i) header_is_text |= !numeric_fields(lines[i], 5);
    bool data_ok = true;
    for (std::size_t i = 6; i < std::min<std::size_t>(11, lines.size() - 1); ++i) {
      data_ok &= numeric_fields(lines[i], 5);
    }
    if (header_is_text && data_ok) return ImportFormat::kBiodex6Line;
  }
  return std::nullopt;
}

ImportFormat detect_import_format(const std::filesystem::path& file) {
  const auto format = detect_import_format_in(read_file(file, kHeadBytes));
  if (!format) {
    throw ImportError(file.string() + ": cannot tell the format from the content; give --format " +
                      "one of " + import_format_names() + " (csv with --columns)");
  }
  return *format;
}

namespace {

// Values no joint or dynamometer produces (an angle of 1e308 in a CSV) are kept, marked corrupt
// and named in a warning: never silently used (the analysis bounds what they could cost).
void flag_out_of_range(ImportedRecording& rec, const std::string& name) {
  auto& sig = rec.signals;
  if (sig.status.size() != sig.size()) sig.status.resize(sig.size(), drivers::kStatusOk);
  std::size_t count = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < sig.size(); ++i) {
    if (drivers::within_physical_range(sig.torque[i], sig.angle[i], sig.velocity[i])) continue;
    sig.status[i] |= drivers::kStatusCorrupt;
    if (count++ == 0) first = i;
  }
  if (count == 0) return;
  rec.warnings.push_back(fmt::format(
      "{}: {} sample(s) beyond the physical limits (|torque| ≤ {:g} N·m, |angle| ≤ {:g}°, "
      "|velocity| ≤ {:g} °/s), first sample {} at {:.4g} s: {:.6g} N·m, {:.6g}°, {:.6g} °/s; "
      "kept, marked corrupt",
      name, count, drivers::kPhysicalTorqueLimit, drivers::kPhysicalAngleLimit,
      drivers::kPhysicalVelocityLimit, first + 1, sig.time[first], sig.torque[first],
      sig.angle[first], sig.velocity[first]));
}

std::optional<ImportFormat> chosen_format(std::string_view head, const ImportOptions& options) {
  if (options.format) return options.format;
  const auto detected = detect_import_format_in(head);
  // --columns without --format keeps meaning "a delimited file", unless the content is clearly
  // one whose own importer takes column names (Vicon) or a binary format.
  if (!options.columns.empty() &&
      (!detected || (*detected != ImportFormat::kViconCsv && *detected != ImportFormat::kC3d &&
                     *detected != ImportFormat::kMat))) {
    return ImportFormat::kDelimited;
  }
  return detected;
}

}  // namespace

ImportedRecording import_recording(std::string_view content, const std::string& name,
                                   const ImportOptions& options) {
  const auto format = chosen_format(content.substr(0, kHeadBytes), options);
  if (!format) {
    throw ImportError(name + ": cannot tell the format from the content; give --format one of " +
                      import_format_names() + " (csv with --columns)");
  }
  ImportedRecording rec;
  bool vendor_signs = true;
  switch (*format) {
    case ImportFormat::kBiodex:
      rec = import_biodex(content, name);
      break;
    case ImportFormat::kBiodex6Line:
      rec = import_biodex_6line(content, name);
      break;
    case ImportFormat::kConTrex:
      rec = import_contrex(content, name);
      break;
    case ImportFormat::kIsoMed:
      rec = import_isomed(content, name, options);
      break;
    case ImportFormat::kViconCsv:
      rec = import_vicon_csv(content, name, options);
      break;
    case ImportFormat::kC3d:
      rec = import_c3d(content, name, options);
      break;
    case ImportFormat::kDelimited:
      rec = import_delimited(content, name, options);
      vendor_signs = false;  // --negate is part of the column mapping
      break;
    case ImportFormat::kMat:
      throw std::invalid_argument(name + ": MATLAB files are read from a path, not from memory");
  }
  if (vendor_signs) apply_negate(rec, options.negate);
  rec.source = name;
  flag_out_of_range(rec, name);
  return rec;
}

ImportedRecording import_recording(const std::filesystem::path& file,
                                   const ImportOptions& options) {
  if (!std::filesystem::is_regular_file(file)) {
    throw std::runtime_error(file.string() + ": no such file");
  }
  const auto format = chosen_format(read_file(file, kHeadBytes), options);
  if (format == ImportFormat::kMat) {
    auto rec = import_mat(file, options);
    rec.source = file;
    flag_out_of_range(rec, file.string());
    return rec;
  }
  const std::string content = read_file(file, std::numeric_limits<std::size_t>::max());
  ImportOptions resolved = options;
  resolved.format = format;
  return import_recording(content, file.string(), resolved);
}

namespace {

// The vendor's per-sample marks as session-file device segments (format version 3). Which of
// the vendor's words is extension depends on how the lever was set up (Biodex "Away" from the
// start position is extension for a test started flexed, flexion for one started extended), so
// each run of one mark is named by where the angle went during it. IsoMed: even phase codes are
// the active movements, odd ones (and 0) are between them.
std::vector<DeviceSegment> device_segments(const ImportedRecording& rec) {
  const auto& marks = rec.marks;
  const auto& angle = rec.signals.angle;
  const std::size_t n = marks.phase.size();
  const auto active = [&](std::size_t i) {
    const int code = marks.phase[i];
    return rec.format == ImportFormat::kIsoMed ? code != 0 && code % 2 == 0 : code != 0;
  };
  const auto same_run = [&](std::size_t a, std::size_t b) {
    return marks.phase[a] == marks.phase[b] &&
           (marks.repetition.empty() || marks.repetition[a] == marks.repetition[b]) &&
           (marks.set.empty() || marks.set[a] == marks.set[b]);
  };
  std::vector<DeviceSegment> segments(n);
  int count = 0;
  for (std::size_t begin = 0; begin < n;) {
    std::size_t end = begin + 1;
    while (end < n && same_run(begin, end)) ++end;
    if (active(begin)) {
      const DevicePhase phase =
          angle[end - 1] < angle[begin] ? DevicePhase::kExtension : DevicePhase::kFlexion;
      // Runs are numbered in order where the vendor's own numbers restart with each set; a
      // vendor without sets (Con-Trex) numbers its repetitions once, and that number is kept.
      ++count;
      const bool own_numbers = marks.set.empty() && !marks.repetition.empty();
      const int number = own_numbers ? marks.repetition[begin] : count;
      for (std::size_t i = begin; i < end; ++i) segments[i] = {number, phase};
    }
    begin = end;
  }
  return segments;
}

}  // namespace

namespace {

nlohmann::ordered_json provenance_of(const ImportedRecording& rec) {
  auto provenance = nlohmann::ordered_json::object();
  provenance["source"] = rec.source.string();
  provenance["format"] = std::string(import_format_name(rec.format));
  if (!rec.mapping_json.empty()) {
    const auto mapping = nlohmann::ordered_json::parse(rec.mapping_json);
    for (const auto& [key, value] : mapping.items()) provenance[key] = value;
  }
  provenance["header_text"] = rec.header_text;
  return provenance;
}

bool same_channels(const std::vector<drivers::ChannelDescription>& a,
                   const std::vector<drivers::ChannelDescription>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.unit == y.unit && x.range_min == y.range_min &&
           x.range_max == y.range_max;
  });
}

bool same_calibration(const std::vector<drivers::ChannelCalibration>& a,
                      const std::vector<drivers::ChannelCalibration>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.channel == y.channel && x.gain == y.gain && x.offset == y.offset;
  });
}

// The session file describes one device: every recording must agree with the first on it.
void check_one_device(std::span<const ImportedRecording> recordings) {
  const auto& first = recordings.front();
  for (const auto& rec : recordings.subspan(1)) {
    const auto differ = [&](std::string_view what) {
      return std::invalid_argument(
          fmt::format("{} and {} differ in {}: one session file holds one device's recordings",
                      first.source.string(), rec.source.string(), what));
    };
    if (rec.sample_rate_hz != first.sample_rate_hz) {
      throw differ(
          fmt::format("sample rate ({:g} Hz, {:g} Hz)", first.sample_rate_hz, rec.sample_rate_hz));
    }
    if (rec.format != first.format) {
      throw differ(fmt::format("format ({}, {})", import_format_name(first.format),
                               import_format_name(rec.format)));
    }
    if (!same_channels(rec.channels, first.channels)) throw differ("channels");
    if (!same_calibration(rec.calibration, first.calibration)) throw differ("calibration");
  }
}

}  // namespace

namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// The set's setpoint: what the user said, else what the file's header says, else the defaults.
drivers::MotionSetpoint setpoint_of(const ImportedRecording& rec, const ImportContext& context) {
  const auto& header = rec.header;
  drivers::MotionSetpoint sp;
  sp.joint = context.joint.value_or(header.joint.value_or(drivers::Joint::kKnee));
  sp.side = context.side.value_or(header.side.value_or(drivers::Side::kRight));
  sp.mode =
      context.mode.value_or(header.mode.value_or(drivers::ContractionMode::kConcentricConcentric));
  sp.extension_velocity = context.set_velocity.value_or(header.extension_velocity.value_or(0.0));
  sp.flexion_velocity = context.set_velocity.value_or(header.flexion_velocity.value_or(0.0));
  const auto& angle = rec.signals.angle;
  if (!angle.empty()) {
    sp.angle_min = *std::min_element(angle.begin(), angle.end());
    sp.angle_max = *std::max_element(angle.begin(), angle.end());
  }
  // The programmed range is what the device was set to; recorded extremes include positioning.
  if (header.angle_min && header.angle_max) {
    sp.angle_min = *header.angle_min;
    sp.angle_max = *header.angle_max;
  }
  // An isometric recording holds the lever still: the hold angle is where it was held.
  if (sp.mode == drivers::ContractionMode::kIsometric) sp.hold_angle = median(angle);
  sp.repetitions = 0;
  return sp;
}

// A subject field the user did not give: the first file's header value, which the other files'
// headers must not contradict (they describe one person's visit).
template <typename T>
std::optional<T> subject_field(std::span<const ImportedRecording> recordings,
                               const std::optional<T>& given,
                               std::optional<T> HeaderContext::*field, std::string_view what) {
  if (given) return given;
  std::optional<T> value;
  const ImportedRecording* from = nullptr;
  for (const auto& rec : recordings) {
    const auto& said = rec.header.*field;
    if (!said) continue;
    if (value && *value != *said) {
      throw std::invalid_argument(fmt::format(
          "{} and {} differ in the subject's {}: give it on the command line or in the manifest",
          from->source.string(), rec.source.string(), what));
    }
    value = said;
    from = &rec;
  }
  return value;
}

}  // namespace

Session to_session(const ImportedRecording& rec, const ImportContext& context) {
  return to_session(std::span(&rec, 1), std::span(&context, 1));
}

Session to_session(std::span<const ImportedRecording> recordings,
                   std::span<const ImportContext> contexts) {
  if (recordings.empty() || recordings.size() != contexts.size()) {
    throw std::invalid_argument("to_session: one context per recording, at least one recording");
  }
  check_one_device(recordings);
  const auto& rec = recordings.front();
  const auto& context = contexts.front();
  Session session;
  session.complete = true;
  session.info.created_utc = context.created_utc.empty() ? utc_now() : context.created_utc;
  session.info.software = "isokin 0.1.0";
  session.info.protocol_name = "imported";
  session.info.subject.id = context.subject;
  session.info.subject.body_mass_kg =
      subject_field(recordings, context.body_mass_kg, &HeaderContext::body_mass_kg, "body mass")
          .value_or(0.0);
  session.info.subject.sex = context.sex;
  session.info.subject.age_years = context.age_years;
  session.info.subject.sport = context.sport;
  session.info.subject.dominant_side = context.dominant_side;
  session.info.subject.injured_side = subject_field(recordings, context.injured_side,
                                                    &HeaderContext::injured_side, "involved side");
  auto& device = session.info.device;
  device.driver = "import";
  // Some formats describe each file (its name, matrix size): the common part is the format.
  const bool one_model =
      std::all_of(recordings.begin(), recordings.end(),
                  [&](const ImportedRecording& r) { return r.device_model == rec.device_model; });
  device.model = one_model ? rec.device_model
                           : fmt::format("{} files ({}), each described in /protocol/json",
                                         import_format_name(rec.format), recordings.size());
  device.sample_rate_hz = rec.sample_rate_hz;
  device.channels = rec.channels;
  device.calibration = rec.calibration;
  // How it was imported, with the original header: the format has no other place for it. One
  // file: its provenance object; several: {"sources": [one per set, in set order]}.
  nlohmann::ordered_json provenance;
  if (recordings.size() == 1) {
    provenance = provenance_of(rec);
  } else {
    provenance["sources"] = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < recordings.size(); ++k) {
      auto one = provenance_of(recordings[k]);
      one["set_index"] = k;
      provenance["sources"].push_back(std::move(one));
    }
  }
  session.info.protocol_json =
      provenance.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (std::size_t k = 0; k < recordings.size(); ++k) {
    const auto& part = recordings[k];
    const auto& part_context = contexts[k];
    auto& set = session.sets.emplace_back();
    set.signals = part.signals;
    set.info.index = static_cast<int>(k);
    if (recordings.size() > 1) set.info.label = part.source.filename().string();
    set.info.setpoint = setpoint_of(part, part_context);
    if (!part.marks.phase.empty()) {
      set.signals.device_segments = device_segments(part);
      set.info.device_segmented = true;
    }
    set.stats.sample_count = part.signals.size();
    set.stats.complete = true;
    set.stats.end_reason = "imported";
  }
  return session;
}

void write_imported_session(const ImportedRecording& recording, const ImportContext& context,
                            const std::filesystem::path& path) {
  write_imported_session(std::span(&recording, 1), std::span(&context, 1), path);
}

void write_imported_session(std::span<const ImportedRecording> recordings,
                            std::span<const ImportContext> contexts,
                            const std::filesystem::path& path) {
  const Session session = to_session(recordings, contexts);
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(dir);
  PendingFile pending(path);
  write_session(pending.path(), session);
  pending.commit(PendingFile::Existing::kReplace);  // re-importing replaces an earlier import
}

}  // namespace isokin::acquisition
