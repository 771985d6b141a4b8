#pragma once
// Checks of a set's recording against what it says about itself (docs/analysis.md §16): angles a
// joint cannot take, a sample rate the time column contradicts, movements far from the set
// speed. Each finding is a warning in the result; no number is changed.

#include <span>
#include <string>
#include <vector>

#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

// A time column whose rate differs by more than this fraction from the device's nominal rate.
inline constexpr double kRateMismatch = 0.05;
// Below this fraction of a set's samples, angles outside the joint's range are a glitch.
inline constexpr double kAngleGlitchFraction = 0.01;
// Counted movements whose typical top speed is outside [1/f, f] × the set velocity.
inline constexpr double kSpeedMismatchFactor = 1.5;

// Appends the findings to set.warnings. time and angle: the set's samples as recorded;
// nominal_rate_hz: the device's rate (0 = not known).
void check_plausibility(SetAnalysis& set, std::span<const double> time,
                        std::span<const double> angle, double nominal_rate_hz);

}  // namespace isokin::analysis
