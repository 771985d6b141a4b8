// Device profiles for serial-line boards: JSON in, a checked SerialProfile out
// (docs/serial-protocol.md describes every key).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

#include "isokin/drivers/json_document.h"
#include "isokin/drivers/serial_device.h"

namespace isokin::drivers {
namespace {

using json = nlohmann::json;
constexpr int kProfileSchemaVersion = 1;

using Reader = JsonDocument;

SerialChannelMap channel_map(const Reader& r, const json& calibration, const char* name) {
  const std::string where = fmt::format("/calibration/{}", name);
  const json& c = r.member(calibration, "/calibration", name);
  r.only_keys(c, where, {"gain", "offset", "sign"});
  SerialChannelMap map;
  map.gain = r.number(r.member(c, where, "gain"), where + "/gain", -1e9, 1e9);
  map.offset = r.number(r.member(c, where, "offset"), where + "/offset", -1e9, 1e9);
  if (c.contains("sign")) {
    const auto sign = r.integer(c["sign"], where + "/sign", -1, 1);
    if (sign == 0) r.fail(where + "/sign", "must be 1 or -1");
    map.sign = static_cast<double>(sign);
  }
  return map;
}

void read_port(const Reader& r, const json& port, SerialProfile& p) {
  r.only_keys(port, "/port",
              {"path", "baud_rate", "data_bits", "parity", "stop_bits", "flow_control"});
  if (port.contains("path")) p.port = r.text(port["path"], "/port/path");
  if (port.contains("baud_rate")) {
    p.baud_rate =
        static_cast<unsigned>(r.integer(port["baud_rate"], "/port/baud_rate", 50, 20'000'000));
  }
  if (port.contains("data_bits")) {
    p.data_bits = static_cast<unsigned>(r.integer(port["data_bits"], "/port/data_bits", 5, 8));
  }
  if (port.contains("stop_bits")) {
    p.stop_bits = static_cast<unsigned>(r.integer(port["stop_bits"], "/port/stop_bits", 1, 2));
  }
  if (port.contains("parity")) {
    const std::string parity = r.text(port["parity"], "/port/parity");
    if (parity == "none") {
      p.parity = SerialParity::kNone;
    } else if (parity == "odd") {
      p.parity = SerialParity::kOdd;
    } else if (parity == "even") {
      p.parity = SerialParity::kEven;
    } else {
      r.fail("/port/parity", R"(must be "none", "odd" or "even")");
    }
  }
  if (port.contains("flow_control")) {
    const std::string flow = r.text(port["flow_control"], "/port/flow_control");
    if (flow == "none") {
      p.flow_control = SerialFlowControl::kNone;
    } else if (flow == "software") {
      p.flow_control = SerialFlowControl::kSoftware;
    } else if (flow == "hardware") {
      p.flow_control = SerialFlowControl::kHardware;
    } else {
      r.fail("/port/flow_control", R"(must be "none", "software" or "hardware")");
    }
  }
}

void read_framing(const Reader& r, const json& framing, SerialProfile& p) {
  r.only_keys(framing, "/framing",
              {"type", "separator", "line_end", "sync", "width", "fields", "count_range"});
  const std::string type = r.text(r.member(framing, "/framing", "type"), "/framing/type");
  const json& fields = r.member(framing, "/framing", "fields");
  if (!fields.is_array() || fields.empty() || fields.size() > serial::kMaxFields) {
    r.fail("/framing/fields", "must list 1 to 8 fields");
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string where = fmt::format("/framing/fields/{}", i);
    std::string field = r.text(fields[i], where);
    if (field != "torque" && field != "velocity" && field != "angle" && !field.empty()) {
      r.fail(where, fmt::format(R"(unknown field "{}" (torque, velocity, angle, or "" to ignore))",
                                field));
    }
    if (!field.empty() && std::count(p.fields.begin(), p.fields.end(), field) > 0) {
      r.fail(where, fmt::format("\"{}\" listed twice", field));
    }
    p.fields.push_back(std::move(field));
  }
  for (const char* needed : {"torque", "angle", "velocity"}) {
    if (std::count(p.fields.begin(), p.fields.end(), needed) == 0) {
      r.fail("/framing/fields", fmt::format("no \"{}\" field", needed));
    }
  }
  if (type == "ascii") {
    for (const char* key : {"sync", "width"}) {
      if (framing.contains(key)) r.fail(fmt::format("/framing/{}", key), "only binary framing");
    }
    p.framing = SerialFramingKind::kAscii;
    p.ascii.field_count = p.fields.size();
    if (framing.contains("separator")) {
      const std::string separator = r.text(framing["separator"], "/framing/separator");
      if (separator.size() != 1) r.fail("/framing/separator", "must be one character");
      p.ascii.separator = separator[0];
    }
    if (framing.contains("line_end")) {
      p.ascii.line_end = r.text(framing["line_end"], "/framing/line_end");
    }
    try {
      const serial::AsciiFrameDecoder check(p.ascii);
    } catch (const std::invalid_argument& e) {
      r.fail("/framing", e.what());
    }
  } else if (type == "binary") {
    for (const char* key : {"separator", "line_end"}) {
      if (framing.contains(key)) r.fail(fmt::format("/framing/{}", key), "only ASCII framing");
    }
    p.framing = SerialFramingKind::kBinary;
    p.binary.field_count = p.fields.size();
    if (framing.contains("sync")) {
      const json& sync = framing["sync"];
      if (!sync.is_array() || sync.empty() || sync.size() > 4) {
        r.fail("/framing/sync", "must list 1 to 4 bytes");
      }
      p.binary.sync.clear();
      for (std::size_t i = 0; i < sync.size(); ++i) {
        p.binary.sync.push_back(static_cast<std::uint8_t>(
            r.integer(sync[i], fmt::format("/framing/sync/{}", i), 0, 255)));
      }
    }
    if (framing.contains("width")) {
      const std::string width = r.text(framing["width"], "/framing/width");
      if (width == "int16") {
        p.binary.width = serial::CountWidth::kInt16;
      } else if (width == "int32") {
        p.binary.width = serial::CountWidth::kInt32;
      } else {
        r.fail("/framing/width", R"(must be "int16" or "int32")");
      }
    }
  } else {
    r.fail("/framing/type", R"(must be "ascii" or "binary")");
  }
  if (framing.contains("count_range")) {
    const json& range = framing["count_range"];
    if (!range.is_array() || range.size() != 2) {
      r.fail("/framing/count_range", "must be [lowest, highest]");
    }
    p.count_min = static_cast<std::int32_t>(
        r.integer(range[0], "/framing/count_range/0", INT32_MIN, INT32_MAX));
    p.count_max = static_cast<std::int32_t>(
        r.integer(range[1], "/framing/count_range/1", INT32_MIN, INT32_MAX));
    if (p.count_min >= p.count_max) r.fail("/framing/count_range", "lowest must be below highest");
  }
}

}  // namespace

SerialProfile load_serial_profile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DeviceError(fmt::format("serial profile {}: cannot open", file.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const Reader r("serial profile " + file.string(),
                 [](const std::string& message) { throw DeviceError(message); });
  const json doc = r.parse(text);
  r.only_keys(doc, "",
              {"schema", "schema_version", "description", "model", "port", "framing", "calibration",
               "sample_rate_hz", "timeout_s", "reconnect_interval_s", "silence_timeout_s",
               "queue_capacity"});
  r.check_schema(doc, "isokin-serial-profile", kProfileSchemaVersion);
  SerialProfile p;
  p.name = file.stem().string();
  p.source = file;
  if (doc.contains("description")) p.description = r.text(doc["description"], "/description");
  p.model = doc.contains("model") ? r.text(doc["model"], "/model") : p.name;
  if (doc.contains("port")) read_port(r, doc["port"], p);
  read_framing(r, r.member(doc, "", "framing"), p);
  const json& calibration = r.member(doc, "", "calibration");
  r.only_keys(calibration, "/calibration", {"torque", "velocity", "angle"});
  p.torque = channel_map(r, calibration, "torque");
  p.velocity = channel_map(r, calibration, "velocity");
  p.angle = channel_map(r, calibration, "angle");
  p.sample_rate_hz =
      r.number(r.member(doc, "", "sample_rate_hz"), "/sample_rate_hz", 1.0, 1'000'000.0);
  if (doc.contains("timeout_s")) p.timeout_s = r.number(doc["timeout_s"], "/timeout_s", 0.001, 60);
  if (doc.contains("reconnect_interval_s")) {
    p.reconnect_interval_s =
        r.number(doc["reconnect_interval_s"], "/reconnect_interval_s", 0.001, 60);
  }
  if (doc.contains("silence_timeout_s")) {
    p.silence_timeout_s = r.number(doc["silence_timeout_s"], "/silence_timeout_s", 0.01, 3600);
  }
  if (doc.contains("queue_capacity")) {
    p.queue_capacity =
        static_cast<std::size_t>(r.integer(doc["queue_capacity"], "/queue_capacity", 1, 1 << 24));
  }
  return p;
}

std::filesystem::path find_serial_profile(std::string_view name_or_path,
                                          const std::vector<std::filesystem::path>& directories) {
  namespace fs = std::filesystem;
  fs::path given(name_or_path);
  std::error_code error;
  if (given.has_parent_path() || given.extension() == ".json") {
    if (fs::is_regular_file(given, error)) return given;
    throw DeviceError(fmt::format("serial profile {}: no such file", given.string()));
  }
  std::string looked;
  for (const auto& dir : directories) {
    fs::path candidate = dir / (std::string(name_or_path) + ".json");
    if (fs::is_regular_file(candidate, error)) return candidate;
    looked += fmt::format("{}{}", looked.empty() ? "" : ", ", dir.string());
  }
  throw DeviceError(fmt::format("serial profile '{}' not found (looked in: {})", name_or_path,
                                looked.empty() ? "nowhere" : looked));
}

}  // namespace isokin::drivers
