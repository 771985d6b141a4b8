#pragma once
// One timestamped measurement in isokin's units and sign convention (see docs/file-format.md):
// torque in N·m, positive = extensor moment; angle = joint flexion in degrees, 0 = full
// extension; velocity = d(angle)/dt in °/s, positive toward flexion; time in seconds.

#include <cstdint>

namespace isokin::drivers {

// Bits of Sample::status. Values are part of the file format: never renumber.
enum SampleStatus : std::uint32_t {
  kStatusOk = 0,
  kStatusTorqueClipped = 1u << 0,  // torque at the sensor's range limit
  kStatusAngleClipped = 1u << 1,   // angle at the sensor's range limit
  kStatusGapBefore = 1u << 2,      // samples were lost between the previous sample and this one
  kStatusCorrupt = 1u << 3,        // the device flagged this sample as unreliable
};

// Beyond these no dynamometer measures (the largest turn a joint makes, ten times the torque
// and speed any device reaches): a value outside is a damaged frame or file, a wrong calibration
// or a broken sensor. The edges (drivers, importers) keep such samples, marked kStatusCorrupt,
// and say so; the analysis never sizes anything by them (docs/security.md).
inline constexpr double kPhysicalAngleLimit = 360.0;      // |°|
inline constexpr double kPhysicalTorqueLimit = 5000.0;    // |N·m|
inline constexpr double kPhysicalVelocityLimit = 5000.0;  // |°/s|

// False for a value outside the limits above; NaN is not judged here (the analysis flags it).
[[nodiscard]] constexpr bool within_physical_range(double torque, double angle, double velocity) {
  return !(torque > kPhysicalTorqueLimit || torque < -kPhysicalTorqueLimit ||
           angle > kPhysicalAngleLimit || angle < -kPhysicalAngleLimit ||
           velocity > kPhysicalVelocityLimit || velocity < -kPhysicalVelocityLimit);
}

struct Sample {
  double time = 0.0;      // s, from the start of the set
  double torque = 0.0;    // N·m
  double angle = 0.0;     // °
  double velocity = 0.0;  // °/s
  std::uint32_t status = kStatusOk;
};

}  // namespace isokin::drivers
