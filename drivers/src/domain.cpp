#include "isokin/drivers/domain.h"

#include "isokin/drivers/device.h"

namespace isokin::drivers {

std::string_view to_string(Side side) {
  switch (side) {
    case Side::kLeft:
      return "left";
    case Side::kRight:
      return "right";
    case Side::kNone:
      return "none";
  }
  return "unknown";
}

std::string_view to_string(Joint joint) {
  return joint == Joint::kTrunk ? "trunk" : "knee";
}

std::string_view to_string(ContractionMode mode) {
  switch (mode) {
    case ContractionMode::kConcentricConcentric:
      return "concentric/concentric";
    case ContractionMode::kConcentricEccentric:
      return "concentric/eccentric";
    case ContractionMode::kEccentricEccentric:
      return "eccentric/eccentric";
    case ContractionMode::kIsometric:
      return "isometric";
  }
  return "unknown";
}

std::string_view to_string(Movement movement) {
  return movement == Movement::kExtension ? "extension" : "flexion";
}

std::string_view to_string(Contraction contraction) {
  switch (contraction) {
    case Contraction::kConcentric:
      return "concentric";
    case Contraction::kEccentric:
      return "eccentric";
    case Contraction::kIsometric:
      return "isometric";
  }
  return "unknown";
}

std::optional<Side> parse_side(std::string_view text) {
  if (text == "left") return Side::kLeft;
  if (text == "right") return Side::kRight;
  if (text == "none") return Side::kNone;
  return std::nullopt;
}

std::optional<Joint> parse_joint(std::string_view text) {
  if (text == "knee") return Joint::kKnee;
  if (text == "trunk") return Joint::kTrunk;
  return std::nullopt;
}

std::optional<ContractionMode> parse_contraction_mode(std::string_view text) {
  for (const auto mode :
       {ContractionMode::kConcentricConcentric, ContractionMode::kConcentricEccentric,
        ContractionMode::kEccentricEccentric, ContractionMode::kIsometric}) {
    if (text == to_string(mode)) return mode;
  }
  return std::nullopt;
}

AnatomicalRange anatomical_range(Joint joint) {
  return joint == Joint::kTrunk ? AnatomicalRange{-40.0, 120.0} : AnatomicalRange{-20.0, 160.0};
}

std::string_view muscle_group_name(Joint joint, bool extensors) {
  if (joint == Joint::kTrunk) return extensors ? "trunk extensors" : "trunk flexors";
  return extensors ? "quadriceps" : "hamstrings";
}

std::string_view muscle_group(Joint joint, Movement movement) {
  return muscle_group_name(joint, movement == Movement::kExtension);
}

PhaseEffort phase_effort(ContractionMode mode, Movement movement) {
  const bool extension = movement == Movement::kExtension;
  switch (mode) {
    case ContractionMode::kConcentricConcentric:
      return {extension, Contraction::kConcentric};
    case ContractionMode::kConcentricEccentric:
      return {true, extension ? Contraction::kConcentric : Contraction::kEccentric};
    case ContractionMode::kEccentricEccentric:
      return {!extension, Contraction::kEccentric};
    case ContractionMode::kIsometric:
      return {extension, Contraction::kIsometric};
  }
  return {extension, Contraction::kConcentric};
}

std::string_view to_string(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kTimeout:
      return "timeout";
    case ReadStatus::kEndOfStream:
      return "end of stream";
    case ReadStatus::kDisconnected:
      return "disconnected";
    case ReadStatus::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace isokin::drivers
