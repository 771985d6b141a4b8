#pragma once
// Across the sets of a session: ratios between muscle groups of one side (conventional and
// functional H:Q, angle-specific curves), left/right comparisons, and the interpretive flags.

#include "isokin/analysis/session_analysis.h"

namespace isokin::analysis {

// Fills analysis.bilateral, .ratios and .flags from analysis.sets (a redone set replaces the
// earlier one of the same side, speed, muscle group and contraction).
void compare_sets(SessionAnalysis& analysis);

// Angle-specific ratio numerator/denominator on their common grid; NaN where the denominator is
// below `floor_fraction` of its peak.
void angle_specific_ratio(const PhaseResult& numerator, const PhaseResult& denominator, double step,
                          TorqueRatio& out, double floor_fraction = 0.1);

}  // namespace isokin::analysis
