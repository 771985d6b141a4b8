#include "isokin/drivers/domain.h"

#include "isokin/drivers/device.h"

namespace isokin::drivers {

std::string_view to_string(Side side) {
  return side == Side::kLeft ? "left" : "right";
}

std::string_view to_string(Joint /*joint*/) {
  return "knee";
}

std::string_view to_string(ContractionMode /*mode*/) {
  return "concentric/concentric";
}

std::string_view to_string(Movement movement) {
  return movement == Movement::kExtension ? "extension" : "flexion";
}

std::optional<Side> parse_side(std::string_view text) {
  if (text == "left") return Side::kLeft;
  if (text == "right") return Side::kRight;
  return std::nullopt;
}

std::optional<Joint> parse_joint(std::string_view text) {
  if (text == "knee") return Joint::kKnee;
  return std::nullopt;
}

std::optional<ContractionMode> parse_contraction_mode(std::string_view text) {
  if (text == "concentric/concentric") return ContractionMode::kConcentricConcentric;
  return std::nullopt;
}

std::string_view muscle_group(Joint /*joint*/, Movement movement) {
  return movement == Movement::kExtension ? "quadriceps" : "hamstrings";
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
