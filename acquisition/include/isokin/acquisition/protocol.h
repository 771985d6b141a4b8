#pragma once
// Test protocols: JSON files (schema in docs/protocols.md) turned into the ordered list of sets
// a ProtocolRunner performs.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/drivers/domain.h"

namespace isokin::acquisition {

inline constexpr int kProtocolSchemaVersion = 1;

// A protocol that cannot be used; what() is "<source>:<line>:<column>: <problem>" for syntax
// errors and "<source>: <json pointer>: <problem>" for content errors.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RangeOfMotion {
  double min = 0.0;  // ° flexion
  double max = 0.0;  // ° flexion
};

struct ProtocolSet {
  std::string label;  // shown to the operator and stored with the set
  drivers::ContractionMode mode = drivers::ContractionMode::kConcentricConcentric;
  double extension_velocity = 0.0;  // °/s, magnitude (not used when isometric)
  double flexion_velocity = 0.0;    // °/s
  int repetitions = 0;
  int warm_up_repetitions = 0;      // a separate submaximal familiarisation set before the test set
  RangeOfMotion range;              // the protocol's range unless the set overrides it
  std::vector<double> hold_angles;  // isometric: one test set per angle, ° flexion
  double contraction_time = 5.0;    // isometric: s per effort
  double rest_after = 60.0;         // s after the set (after each angle when isometric)
};

struct Protocol {
  std::string name;
  std::string description;
  drivers::Joint joint = drivers::Joint::kKnee;
  std::vector<drivers::Side> sides;       // in testing order; trunk: one pass, recorded as "right"
  std::vector<std::string> subject_data;  // required before running: "id", "body_mass"
  RangeOfMotion range;
  bool gravity_trial = false;         // weigh the limb before each side's first set
  double gravity_velocity = 30.0;     // °/s of the passive gravity-correction sweep
  double positioning_time = 10.0;     // s the operator is given to position the subject per side
  double rest_between_sides = 120.0;  // s
  std::vector<ProtocolSet> sets;
  std::string json_text;  // verbatim, for the session file
};

// One set the runner will record, in order.
struct PlannedSet {
  SetInfo info;              // index filled when recorded
  double rest_after = 0.0;   // s of rest after this set
  bool starts_side = false;  // the operator (re)positions the subject before this set
  double positioning = 0.0;  // s given for that positioning
};

// Parses and validates; source names the file in messages. Throws ProtocolError.
Protocol parse_protocol(std::string_view json_text, const std::string& source);
Protocol load_protocol(const std::filesystem::path& path);

// The sets to run. only_side restricts a bilateral protocol to one side (knee only).
std::vector<PlannedSet> plan_protocol(const Protocol& protocol,
                                      const std::vector<drivers::Side>& only_side = {});

// Where the shipped data directory `name` ("protocols", "profiles") is: <prefix>/share/isokin/
// <name> next to the running executable when installed, else `build_tree` (the source tree's).
std::filesystem::path shipped_directory(std::string_view name,
                                        const std::filesystem::path& build_tree);

// Directories searched for protocols, in order: $ISOKIN_PROTOCOL_PATH (colon-separated), the
// user's ($XDG_CONFIG_HOME or ~/.config)/isokin/protocols, then the shipped directory.
std::vector<std::filesystem::path> protocol_directories(const std::filesystem::path& shipped);
// A path to an existing file, or the name of a protocol in one of the directories. Throws
// ProtocolError listing where it looked.
std::filesystem::path find_protocol(std::string_view name_or_path,
                                    const std::vector<std::filesystem::path>& directories);

}  // namespace isokin::acquisition
