// C3D analog channels → recording, mapped by a JSON profile (docs/import-formats.md):
//   {"channel_base": 1,
//    "angle":    {"channel": 17, "scale": 35.6838},
//    "velocity": {"channel": 18, "scale": 35.6838},
//    "torque":   {"channel": 20, "scale": -144049, "offset": 0}}
// value = scale · analog + offset, in isokin's units and signs; a channel may be given by its
// ANALOG:LABELS entry ("label": "Voltage.20") instead of its number; velocity may be omitted.
#include <fstream>
#include <nlohmann/json.hpp>

#include "import/text.h"
#include "isokin/acquisition/c3d.h"

namespace isokin::acquisition::import_detail {
namespace {

struct ChannelMap {
  std::size_t index = 0;  // 0-based
  double scale = 1.0;
  double offset = 0.0;
  std::string source;  // as the profile gave it
};

std::invalid_argument profile_error(const std::filesystem::path& profile, const std::string& what) {
  return std::invalid_argument(profile.string() + ": " + what);
}

}  // namespace

ImportedRecording import_c3d(std::string_view content, const std::string& file,
                             const ImportOptions& options) {
  if (options.profile.empty()) {
    throw std::invalid_argument(
        "import: c3d needs --profile FILE.json naming the angle, torque (and velocity) analog "
        "channels and their scale factors (docs/import-formats.md)");
  }
  std::ifstream in(options.profile);
  if (!in) throw std::runtime_error(options.profile.string() + ": cannot open for reading");
  nlohmann::json profile;
  try {
    profile = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, or out_of_range for a number too large for a double.
    throw profile_error(options.profile, std::string("not valid JSON: ") + e.what());
  }
  if (!profile.is_object()) throw profile_error(options.profile, "must be a JSON object");

  const C3dAnalog analog = read_c3d_analog(std::as_bytes(std::span(content)), file);
  // Not json::value(): it throws its own exception, without the file, for a key of another type.
  const auto base_key = profile.find("channel_base");
  long long base = 1;
  if (base_key != profile.end())
    base = base_key->is_number_integer() ? base_key->get<long long>() : -1;
  if (base != 0 && base != 1) throw profile_error(options.profile, "channel_base must be 0 or 1");
  std::map<std::string, ChannelMap> map;
  for (const char* channel : {"angle", "velocity", "torque"}) {
    if (!profile.contains(channel)) {
      if (std::string(channel) == "velocity") continue;
      throw profile_error(options.profile, std::string("has no \"") + channel + "\" entry");
    }
    const auto& entry = profile[channel];
    ChannelMap m;
    if (!entry.is_object()) {
      throw profile_error(options.profile, std::string(channel) + " must be an object");
    }
    if (entry.contains("label")) {
      if (!entry["label"].is_string()) {
        throw profile_error(options.profile, std::string(channel) + ".label must be a string");
      }
      const std::string label = entry["label"].get<std::string>();
      const auto it = std::find(analog.labels.begin(), analog.labels.end(), label);
      if (it == analog.labels.end()) {
        fail(file, fmt::format("no analog channel labelled '{}' (for {}, profile {})", label,
                               channel, options.profile.string()));
      }
      m.index = static_cast<std::size_t>(it - analog.labels.begin());
      m.source = "label " + label;
    } else if (entry.contains("channel") && entry["channel"].is_number_integer()) {
      const auto number = entry["channel"].get<long long>();
      if (number < base || number - base >= static_cast<long long>(analog.channel_count)) {
        fail(file, fmt::format("{} channel {} ({}-based) is not among its {} analog channels",
                               channel, number, base, analog.channel_count));
      }
      m.index = static_cast<std::size_t>(number - base);
      m.source = fmt::format("channel {} ({}-based)", number, base);
    } else {
      throw profile_error(options.profile,
                          std::string(channel) + R"( needs "channel" (a number) or "label")");
    }
    if (entry.contains("scale") && !entry["scale"].is_number()) {
      throw profile_error(options.profile, std::string(channel) + ".scale must be a number");
    }
    if (entry.contains("offset") && !entry["offset"].is_number()) {
      throw profile_error(options.profile, std::string(channel) + ".offset must be a number");
    }
    m.scale = entry.value("scale", 1.0);
    m.offset = entry.value("offset", 0.0);
    map[channel] = m;
  }
  std::map<std::string, std::size_t> channel_columns;
  for (const auto& [channel, m] : map) channel_columns[channel] = m.index;
  check_one_channel_per_column(
      channel_columns,
      [&](std::size_t c) {
        return fmt::format("analog channel {} ('{}')", c + static_cast<std::size_t>(base),
                           c < analog.labels.size() ? analog.labels[c] : "");
      },
      "profile " + options.profile.string());
  if (analog.sample_count < 2) fail(file, "fewer than 2 analog samples");

  ImportedRecording rec;
  rec.format = ImportFormat::kC3d;
  rec.device_model = "C3D analog channels";
  rec.header_text = analog.summary;
  rec.sample_rate_hz = analog.analog_rate_hz;
  auto& s = rec.signals;
  auto mapped = [&](const std::string& channel) {
    const ChannelMap& m = map.at(channel);
    const auto values = analog.channel(m.index);
    std::vector<double> out(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = m.scale * values[i] + m.offset;
    return out;
  };
  s.time.resize(analog.sample_count);
  for (std::size_t i = 0; i < s.time.size(); ++i) {
    s.time[i] = static_cast<double>(i) / analog.analog_rate_hz;
  }
  s.angle = mapped("angle");
  s.torque = mapped("torque");
  s.velocity = map.count("velocity") ? mapped("velocity") : derive_velocity(s.time, s.angle);
  s.status.assign(s.time.size(), drivers::kStatusOk);
  nlohmann::ordered_json provenance;
  provenance["profile"] = options.profile.string();
  for (const auto& [channel, m] : map) {
    const std::string unit = m.index < analog.units.size() ? analog.units[m.index] : "";
    const std::string unit_out =
        channel == "torque" ? "N·m" : (channel == "angle" ? "deg" : "deg/s");
    rec.channels.push_back({channel, unit_out, 0.0, 0.0});
    // Raw = the analog value after the file's own scaling (in its ANALOG:UNITS).
    rec.calibration.push_back({channel, m.scale, m.offset});
    provenance[channel] = {{"source", m.source},
                           {"label", m.index < analog.labels.size() ? analog.labels[m.index] : ""},
                           {"file_unit", unit},
                           {"scale", m.scale},
                           {"offset", m.offset}};
  }
  provenance["velocity_derived_from_angle"] = !map.count("velocity");
  rec.mapping_json = provenance.dump();
  return rec;
}

}  // namespace isokin::acquisition::import_detail
