#pragma once
// Reading the simulator's ground truth against an analysis (test helper, also used by
// bench/accuracy_sweep).

#include <algorithm>
#include <cmath>
#include <vector>

#include "isokin/analysis/set_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace isokin::testing {

// The analysed repetition that corresponds to a phase of the truth.
inline const analysis::PhaseResult& measured_phase(const analysis::SetAnalysis& a,
                                                   const drivers::PhaseTruth& truth) {
  const bool extension = truth.movement == drivers::Movement::kExtension;
  return (extension ? a.extension : a.flexion).repetitions.at(truth.repetition);
}

// The truth's torque at `target` degrees during `phase`: the noise-free signals `fine` where they
// first cross the angle (linear interpolation), in the direction of the working muscle. NaN when
// the phase does not reach the angle.
inline double torque_at_crossing(const std::vector<drivers::Sample>& fine,
                                 const drivers::PhaseTruth& phase, double target) {
  const double sign = phase.extensors ? 1.0 : -1.0;
  for (std::size_t i = 1; i < fine.size(); ++i) {
    const auto& p = fine[i - 1];
    const auto& q = fine[i];
    if (p.time >= phase.start_time && q.time <= phase.end_time &&
        (p.angle - target) * (q.angle - target) <= 0.0 && p.angle != q.angle) {
      return sign * (p.torque + (target - p.angle) / (q.angle - p.angle) * (q.torque - p.torque));
    }
  }
  return std::nan("");
}

// The truth's isokinetic peak lies inside its window, at least 1° from the window's first and
// last points (at those it depends on where each, the filtered speed and the true one, says the
// band begins). False when the speed never reaches the band.
inline bool isokinetic_peak_inside(const drivers::PhaseTruth& t) {
  constexpr double kMargin = 1.0;  // °
  const double from = std::min(t.isokinetic_start_angle, t.isokinetic_end_angle);
  const double to = std::max(t.isokinetic_start_angle, t.isokinetic_end_angle);
  return t.isokinetic_angle_at_peak - from >= kMargin && to - t.isokinetic_angle_at_peak >= kMargin;
}

}  // namespace isokin::testing
