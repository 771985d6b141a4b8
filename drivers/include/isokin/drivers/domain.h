#pragma once
// Vocabulary of an isokinetic test shared by every layer. String forms are part of the file
// format (docs/file-format.md).

#include <optional>
#include <string_view>

namespace isokin::drivers {

enum class Side { kLeft, kRight };
enum class Joint { kKnee };
enum class ContractionMode { kConcentricConcentric };
// Direction of one movement phase. Extension moves toward 0° (negative velocity).
enum class Movement { kExtension, kFlexion };

std::string_view to_string(Side side);
std::string_view to_string(Joint joint);
std::string_view to_string(ContractionMode mode);
std::string_view to_string(Movement movement);

std::optional<Side> parse_side(std::string_view text);
std::optional<Joint> parse_joint(std::string_view text);
std::optional<ContractionMode> parse_contraction_mode(std::string_view text);

// Muscle group that drives a movement in a concentric contraction.
std::string_view muscle_group(Joint joint, Movement movement);

}  // namespace isokin::drivers
