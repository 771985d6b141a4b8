#include "isokin/acquisition/protocol.h"

#include "isokin/drivers/json_document.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

// The schema is documented in docs/protocols.md; keep the two in step.

namespace isokin::acquisition {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Checker = drivers::JsonDocument;

RangeOfMotion range_of_motion(const Checker& c, const json& value, const std::string& where,
                              drivers::Joint joint) {
  if (!value.is_object()) c.fail(where, "must be an object {\"min\": …, \"max\": …}");
  c.only_keys(value, where, {"min", "max"});
  // Physiological limits: knee −10 (hyperextension) to 150°, trunk −30 to 110° flexion.
  const double low = joint == drivers::Joint::kTrunk ? -30.0 : -10.0;
  const double high = joint == drivers::Joint::kTrunk ? 110.0 : 150.0;
  RangeOfMotion r;
  r.min = c.number(c.member(value, where, "min"), where + "/min", low, high, "°");
  r.max = c.number(c.member(value, where, "max"), where + "/max", low, high, "°");
  if (r.max - r.min < 10.0) c.fail(where, "max must exceed min by at least 10°");
  return r;
}

ProtocolSet parse_set(const Checker& c, const json& value, const std::string& where,
                      const Protocol& protocol, double default_rest) {
  if (!value.is_object()) c.fail(where, "each set must be an object");
  c.only_keys(value, where,
              {"label", "mode", "velocity_deg_s", "extension_velocity_deg_s",
               "flexion_velocity_deg_s", "repetitions", "warm_up_repetitions",
               "range_of_motion_deg", "angles_deg", "contraction_s", "rest_after_s"});
  ProtocolSet set;
  const std::string mode = c.text(c.member(value, where, "mode"), where + "/mode");
  const auto parsed = drivers::parse_contraction_mode(mode);
  if (!parsed) {
    c.fail(where + "/mode",
           fmt::format("unknown mode '{}' (concentric/concentric, concentric/eccentric, "
                       "eccentric/eccentric, isometric)",
                       mode));
  }
  set.mode = *parsed;
  set.repetitions =
      c.integer(c.member(value, where, "repetitions"), where + "/repetitions", 1, 100);
  set.range = value.contains("range_of_motion_deg")
                  ? range_of_motion(c, value["range_of_motion_deg"], where + "/range_of_motion_deg",
                                    protocol.joint)
                  : protocol.range;
  set.rest_after = value.contains("rest_after_s")
                       ? c.number(value["rest_after_s"], where + "/rest_after_s", 0, 3600, "s")
                       : default_rest;
  if (value.contains("warm_up_repetitions")) {
    set.warm_up_repetitions =
        c.integer(value["warm_up_repetitions"], where + "/warm_up_repetitions", 0, 20);
  }
  const bool isometric = set.mode == drivers::ContractionMode::kIsometric;
  if (isometric) {
    for (const char* key :
         {"velocity_deg_s", "extension_velocity_deg_s", "flexion_velocity_deg_s"}) {
      if (value.contains(key)) c.fail(where + "/" + key, "an isometric set has no velocity");
    }
    const json& angles = c.member(value, where, "angles_deg");
    if (!angles.is_array() || angles.empty())
      c.fail(where + "/angles_deg", "must be a non-empty array");
    for (std::size_t i = 0; i < angles.size(); ++i) {
      set.hold_angles.push_back(c.number(angles[i], fmt::format("{}/angles_deg/{}", where, i),
                                         set.range.min, set.range.max, "°"));
    }
    if (value.contains("contraction_s")) {
      set.contraction_time = c.number(value["contraction_s"], where + "/contraction_s", 1, 30, "s");
    }
    set.extension_velocity = set.flexion_velocity = 60.0;  // unused; keeps setpoints valid
  } else {
    for (const char* key : {"angles_deg", "contraction_s"}) {
      if (value.contains(key)) c.fail(where + "/" + key, "only isometric sets have this");
    }
    const bool one = value.contains("velocity_deg_s");
    const bool both =
        value.contains("extension_velocity_deg_s") || value.contains("flexion_velocity_deg_s");
    if (one == both) {
      c.fail(where,
             "give either velocity_deg_s or extension_velocity_deg_s and "
             "flexion_velocity_deg_s");
    }
    if (one) {
      set.extension_velocity = set.flexion_velocity =
          c.number(value["velocity_deg_s"], where + "/velocity_deg_s", 1, 500, "°/s");
    } else {
      set.extension_velocity = c.number(c.member(value, where, "extension_velocity_deg_s"),
                                        where + "/extension_velocity_deg_s", 1, 500, "°/s");
      set.flexion_velocity = c.number(c.member(value, where, "flexion_velocity_deg_s"),
                                      where + "/flexion_velocity_deg_s", 1, 500, "°/s");
    }
  }
  if (value.contains("label")) {
    set.label = c.text(value["label"], where + "/label");
  } else if (isometric) {
    set.label = "isometric";
  } else {
    set.label = fmt::format("{:g} °/s {}", set.extension_velocity, mode);
  }
  return set;
}

}  // namespace

Protocol parse_protocol(std::string_view json_text, const std::string& source) {
  const Checker c(source, [](const std::string& message) { throw ProtocolError(message); });
  const json doc = c.parse(json_text);
  if (!doc.is_object()) c.fail("", "a protocol must be a JSON object");
  c.only_keys(doc, "",
              {"schema", "schema_version", "name", "description", "joint", "movement", "sides",
               "subject_data", "range_of_motion_deg", "gravity_correction", "positioning_s",
               "rest_between_sets_s", "rest_between_sides_s", "sets"});
  c.check_schema(doc, "isokin-protocol", kProtocolSchemaVersion);
  Protocol p;
  p.json_text = std::string(json_text);
  p.name = c.text(c.member(doc, "", "name"), "/name");
  if (p.name.empty() || !std::all_of(p.name.begin(), p.name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
      })) {
    c.fail("/name", "must be non-empty and use only a–z, 0–9 and '-'");
  }
  if (doc.contains("description")) p.description = c.text(doc["description"], "/description");
  const std::string joint = c.text(c.member(doc, "", "joint"), "/joint");
  const auto parsed_joint = drivers::parse_joint(joint);
  if (!parsed_joint) c.fail("/joint", fmt::format("unknown joint '{}' (knee, trunk)", joint));
  p.joint = *parsed_joint;
  if (doc.contains("movement") && c.text(doc["movement"], "/movement") != "extension/flexion") {
    c.fail("/movement", "only \"extension/flexion\" is supported");
  }
  if (p.joint == drivers::Joint::kTrunk) {
    if (doc.contains("sides")) c.fail("/sides", "a trunk protocol has no sides");
    p.sides = {drivers::Side::kNone};
  } else {
    const json& sides = c.member(doc, "", "sides");
    if (!sides.is_array() || sides.empty() || sides.size() > 2) {
      c.fail("/sides", "must be [\"right\"], [\"left\"] or both, in testing order");
    }
    for (std::size_t i = 0; i < sides.size(); ++i) {
      const std::string where = fmt::format("/sides/{}", i);
      const auto side = drivers::parse_side(c.text(sides[i], where));
      if (!side || *side == drivers::Side::kNone) c.fail(where, "must be \"left\" or \"right\"");
      if (std::find(p.sides.begin(), p.sides.end(), *side) != p.sides.end()) {
        c.fail(where, "side listed twice");
      }
      p.sides.push_back(*side);
    }
  }
  if (doc.contains("subject_data")) {
    const json& data = doc["subject_data"];
    if (!data.is_array()) c.fail("/subject_data", "must be an array");
    for (std::size_t i = 0; i < data.size(); ++i) {
      const std::string where = fmt::format("/subject_data/{}", i);
      const std::string item = c.text(data[i], where);
      if (item != "id" && item != "body_mass") c.fail(where, "must be \"id\" or \"body_mass\"");
      p.subject_data.push_back(item);
    }
  }
  p.range =
      range_of_motion(c, c.member(doc, "", "range_of_motion_deg"), "/range_of_motion_deg", p.joint);
  if (doc.contains("gravity_correction")) {
    const json& g = doc["gravity_correction"];
    if (!g.is_object()) c.fail("/gravity_correction", "must be an object");
    c.only_keys(g, "/gravity_correction", {"trial", "velocity_deg_s"});
    p.gravity_trial =
        c.boolean(c.member(g, "/gravity_correction", "trial"), "/gravity_correction/trial");
    if (g.contains("velocity_deg_s")) {
      p.gravity_velocity =
          c.number(g["velocity_deg_s"], "/gravity_correction/velocity_deg_s", 5, 60, "°/s");
    }
  }
  if (doc.contains("positioning_s")) {
    p.positioning_time = c.number(doc["positioning_s"], "/positioning_s", 0, 600, "s");
  }
  const double rest =
      doc.contains("rest_between_sets_s")
          ? c.number(doc["rest_between_sets_s"], "/rest_between_sets_s", 0, 3600, "s")
          : 60.0;
  if (doc.contains("rest_between_sides_s")) {
    p.rest_between_sides =
        c.number(doc["rest_between_sides_s"], "/rest_between_sides_s", 0, 3600, "s");
  }
  const json& sets = c.member(doc, "", "sets");
  if (!sets.is_array() || sets.empty()) c.fail("/sets", "must be a non-empty array");
  for (std::size_t i = 0; i < sets.size(); ++i) {
    p.sets.push_back(parse_set(c, sets[i], fmt::format("/sets/{}", i), p, rest));
  }
  return p;
}

Protocol load_protocol(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ProtocolError(fmt::format("{}: cannot open the protocol file", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse_protocol(text.str(), path.string());
}

std::vector<PlannedSet> plan_protocol(const Protocol& protocol,
                                      const std::vector<drivers::Side>& only_side) {
  std::vector<drivers::Side> sides;
  for (const auto side : protocol.sides) {
    if (only_side.empty() ||
        std::find(only_side.begin(), only_side.end(), side) != only_side.end()) {
      sides.push_back(side);
    }
  }
  if (sides.empty()) {
    throw ProtocolError(
        fmt::format("protocol '{}' does not test the requested side", protocol.name));
  }
  std::vector<PlannedSet> plan;
  for (std::size_t side_index = 0; side_index < sides.size(); ++side_index) {
    bool first_of_side = true;
    auto add = [&](drivers::MotionSetpoint sp, const char* kind, std::string label, int set_number,
                   double rest) {
      sp.joint = protocol.joint;
      sp.side = sides[side_index];
      PlannedSet planned;
      planned.info.setpoint = sp;
      planned.info.kind = kind;
      planned.info.label = std::move(label);
      planned.info.protocol_set = set_number;
      planned.rest_after = rest;
      planned.starts_side = first_of_side;
      planned.positioning = first_of_side ? protocol.positioning_time : 0.0;
      first_of_side = false;
      plan.push_back(std::move(planned));
    };
    if (protocol.gravity_trial) {
      drivers::MotionSetpoint sp;
      sp.passive = true;
      sp.repetitions = 1;
      sp.extension_velocity = sp.flexion_velocity = protocol.gravity_velocity;
      sp.angle_min = protocol.range.min;
      sp.angle_max = protocol.range.max;
      add(sp, kSetKindGravity, "gravity correction", -1, 10.0);
    }
    for (std::size_t i = 0; i < protocol.sets.size(); ++i) {
      const ProtocolSet& set = protocol.sets[i];
      drivers::MotionSetpoint sp;
      sp.mode = set.mode;
      sp.extension_velocity = set.extension_velocity;
      sp.flexion_velocity = set.flexion_velocity;
      sp.angle_min = set.range.min;
      sp.angle_max = set.range.max;
      sp.contraction_time = set.contraction_time;
      const int number = static_cast<int>(i);
      const bool last_set = i + 1 == protocol.sets.size();
      if (set.mode == drivers::ContractionMode::kIsometric) {
        for (std::size_t a = 0; a < set.hold_angles.size(); ++a) {
          sp.hold_angle = set.hold_angles[a];
          sp.repetitions = set.repetitions;
          const bool last = last_set && a + 1 == set.hold_angles.size();
          add(sp, kSetKindTest, fmt::format("{} {:g}°", set.label, sp.hold_angle), number,
              last ? 0.0 : set.rest_after);
        }
        continue;
      }
      if (set.warm_up_repetitions > 0) {
        sp.repetitions = set.warm_up_repetitions;
        add(sp, kSetKindWarmUp, set.label + " warm-up", number, std::min(set.rest_after, 30.0));
      }
      sp.repetitions = set.repetitions;
      add(sp, kSetKindTest, set.label, number, last_set ? 0.0 : set.rest_after);
    }
    if (side_index + 1 < sides.size()) plan.back().rest_after = protocol.rest_between_sides;
  }
  return plan;
}

fs::path shipped_directory(std::string_view name, const fs::path& build_tree) {
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path installed = executable.parent_path().parent_path() / "share/isokin" / name;
    if (fs::is_directory(installed, error)) return installed;
  }
  return build_tree;
}

std::vector<fs::path> protocol_directories(const fs::path& shipped) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("ISOKIN_PROTOCOL_PATH"); env != nullptr) {
    std::stringstream list(env);
    std::string item;
    while (std::getline(list, item, ':')) {
      if (!item.empty()) dirs.emplace_back(item);
    }
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    dirs.push_back(fs::path(xdg) / "isokin" / "protocols");
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    dirs.push_back(fs::path(home) / ".config" / "isokin" / "protocols");
  }
  dirs.push_back(shipped);
  return dirs;
}

fs::path find_protocol(std::string_view name_or_path, const std::vector<fs::path>& directories) {
  const fs::path direct(name_or_path);
  std::error_code error;
  if (fs::is_regular_file(direct, error)) return direct;
  std::string looked;
  for (const auto& dir : directories) {
    const fs::path candidate = dir / (std::string(name_or_path) + ".json");
    if (fs::is_regular_file(candidate, error)) return candidate;
    looked += fmt::format("{}{}", looked.empty() ? "" : ", ", dir.string());
  }
  throw ProtocolError(fmt::format(
      "{}: no such protocol file, and no protocol of that name in {} (see `isokin protocols`)",
      name_or_path, looked));
}

}  // namespace isokin::acquisition
