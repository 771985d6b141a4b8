#pragma once
// Fatigue indices over the repetitions of one movement (definitions in docs/analysis.md).

#include <span>

#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

struct LineFit {
  double slope = kNotAvailable;      // per repetition
  double intercept = kNotAvailable;  // fitted value at repetition 0
};
// Least-squares line through (i, values[i]); NaN when fewer than 2 values.
LineFit fit_line(std::span<const double> values);

// Needs ≥ 3 repetitions for work fatigue and slopes, ≥ 6 for Thorstensson's index, ≥ 10 for the
// endurance ratio (non-overlapping fives); otherwise NaN.
// peak_torques and works: one per repetition, in order (the same length).
FatigueIndices fatigue_indices(std::span<const double> peak_torques, std::span<const double> works);

}  // namespace isokin::analysis
