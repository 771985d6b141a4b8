#pragma once
// Isokinetic windowing: only samples whose speed lies within a tolerance of the set velocity
// count for the "isokinetic" parameters; the acceleration and deceleration phases and any
// overshoot above the band are excluded and reported as times.

#include <Eigen/Core>
#include <cmath>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/repetition_parameters.h"

namespace isokin::analysis {

// Half-width of the tolerance band around target (°/s).
double isokinetic_tolerance(double target_velocity, const IsokineticSettings& settings);

// True when a sample of angular velocity `velocity` (°/s, either sign) is isokinetic: its speed
// lies within `band` (isokinetic_tolerance) of the target.
inline bool within_isokinetic_band(double velocity, double target_velocity, double band) {
  return std::abs(std::abs(velocity) - target_velocity) <= band;
}

// Set velocity estimated from a movement whose target is unknown: the median speed of the
// samples faster than half the phase's top speed (the plateau dominates them).
double estimate_target_velocity(const Eigen::Ref<const Eigen::ArrayXd>& filtered_velocity);

// Samples [lo, hi) of the signals; directed = muscle-directed torque sign (+1 extensors),
// work_sign = +1 concentric, −1 eccentric. start_time/end_time: the movement's limits.
IsokineticResult isokinetic_window(const PhaseSignals& s, Eigen::Index lo, Eigen::Index hi,
                                   double start_time, double end_time, double directed,
                                   double work_sign, double target_velocity,
                                   const IsokineticSettings& settings);

}  // namespace isokin::analysis
