#pragma once
// Vocabulary of an isokinetic test shared by every layer. String forms are part of the file
// format (docs/file-format.md).

#include <optional>
#include <string_view>

namespace isokin::drivers {

// kNone: a midline joint (the trunk), tested once, not per side.
enum class Side { kLeft, kRight, kNone };
// Knee: angle = knee flexion. Trunk: angle = trunk (hip/lumbar) flexion from upright; the
// extensors are the back muscles. Both: positive torque = extensor moment.
enum class Joint { kKnee, kTrunk };
// Which muscle group works, and how, in each movement phase (docs/protocols.md):
//                          extension phase (toward 0°)    flexion phase (toward flexion)
//   concentric/concentric  extensors concentric            flexors concentric
//   concentric/eccentric   extensors concentric            extensors eccentric
//   eccentric/eccentric    flexors eccentric               extensors eccentric
//   isometric              extensors isometric             flexors isometric (lever held still)
enum class ContractionMode {
  kConcentricConcentric,
  kConcentricEccentric,
  kEccentricEccentric,
  kIsometric,
};
// Direction of one movement phase. Extension moves toward 0° (negative velocity).
enum class Movement { kExtension, kFlexion };
enum class Contraction { kConcentric, kEccentric, kIsometric };

std::string_view to_string(Side side);
std::string_view to_string(Joint joint);
std::string_view to_string(ContractionMode mode);
std::string_view to_string(Movement movement);
std::string_view to_string(Contraction contraction);

std::optional<Side> parse_side(std::string_view text);
std::optional<Joint> parse_joint(std::string_view text);
std::optional<ContractionMode> parse_contraction_mode(std::string_view text);

// Muscle group that drives a movement in a concentric contraction.
std::string_view muscle_group(Joint joint, Movement movement);

// The muscle group working in a phase of a set in this mode ("extensors" side of the joint when
// working_extensors is true), and how it contracts.
struct PhaseEffort {
  bool extensors = true;  // the extensors work (positive torque); false: the flexors
  Contraction contraction = Contraction::kConcentric;
};
PhaseEffort phase_effort(ContractionMode mode, Movement movement);
// The joint angles a human joint can take (°, isokin's convention for that joint), generously:
// a recording outside them is mapped wrongly (sign, offset or unit) or not of this joint.
// Knee: up to 20° of hyperextension and 160° of flexion (normal ranges: about 5° of
// hyperextension to 140-150° of flexion, Soucie et al. 2011, Haemophilia 17:500-7). Trunk:
// 40° of extension to 120° of flexion from upright (lumbar and hip flexion together).
struct AnatomicalRange {
  double min = 0.0;  // °
  double max = 0.0;  // °
};
AnatomicalRange anatomical_range(Joint joint);

// Muscle group name for the extensors/flexors of a joint: quadriceps/hamstrings, extensors/flexors.
std::string_view muscle_group_name(Joint joint, bool extensors);

}  // namespace isokin::drivers
