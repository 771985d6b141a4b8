#include "isokin/analysis/isokinetic_window.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

double isokinetic_tolerance(double target_velocity, const IsokineticSettings& settings) {
  return std::max(settings.tolerance_fraction * target_velocity, settings.tolerance_min);
}

double estimate_target_velocity(const Eigen::Ref<const Eigen::ArrayXd>& filtered_velocity) {
  const double top = filtered_velocity.abs().maxCoeff();
  std::vector<double> fast;
  fast.reserve(static_cast<std::size_t>(filtered_velocity.size()));
  for (const double v : filtered_velocity) {
    if (std::abs(v) >= 0.5 * top) fast.push_back(std::abs(v));
  }
  if (fast.empty()) return 0.0;
  auto middle = fast.begin() + static_cast<std::ptrdiff_t>(fast.size() / 2);
  std::nth_element(fast.begin(), middle, fast.end());
  return *middle;
}

IsokineticResult isokinetic_window(const PhaseSignals& s, Eigen::Index lo, Eigen::Index hi,
                                   double start_time, double end_time, double directed,
                                   double work_sign, double target_velocity,
                                   const IsokineticSettings& settings) {
  constexpr double kRad = std::numbers::pi / 180.0;
  IsokineticResult r;
  r.target_velocity = target_velocity;
  const double band = isokinetic_tolerance(target_velocity, settings);
  auto in_band = [&](Eigen::Index i) {
    return within_isokinetic_band(s.filtered_velocity[i], target_velocity, band);
  };
  Eigen::Index first = -1;
  Eigen::Index last = -1;
  Eigen::Index peak = -1;
  double duration = 0.0;
  double integral = 0.0;  // ∫ τ dθ over isokinetic intervals
  double angle_min = 0.0;
  double angle_max = 0.0;
  for (Eigen::Index i = lo; i < hi; ++i) {
    const double speed = std::abs(s.filtered_velocity[i]);
    r.max_velocity = std::max(r.max_velocity, speed);
    const double dt = i + 1 < hi ? s.time[i + 1] - s.time[i] : 0.0;
    if (speed > target_velocity + band) r.overshoot_time += dt;
    if (!in_band(i)) continue;
    if (first < 0) {
      first = i;
      angle_min = angle_max = s.angle[i];
    }
    last = i;
    angle_min = std::min(angle_min, s.angle[i]);
    angle_max = std::max(angle_max, s.angle[i]);
    if (peak < 0 || directed * s.torque[i] > directed * s.torque[peak]) peak = i;
    if (i + 1 < hi && in_band(i + 1)) {
      duration += dt;
      const double step = s.angle[i + 1] - s.angle[i];
      integral += 0.5 * (s.torque[i] + s.torque[i + 1]) * step;
    }
  }
  if (first < 0 || duration <= 0.0) {
    constexpr double nan = kNotAvailable;
    r.start_time = r.end_time = r.acceleration_time = r.deceleration_time = nan;
    r.peak_torque = r.angle_at_peak = r.time_to_peak = r.work = r.mean_power = nan;
    r.range_of_motion = nan;
    return r;
  }
  r.reached = true;
  r.start_time = s.time[first];
  r.end_time = s.time[last];
  r.acceleration_time = r.start_time - start_time;
  r.deceleration_time = end_time - r.end_time;
  r.peak_torque = directed * s.torque[peak];
  r.angle_at_peak = s.angle[peak];
  r.time_to_peak = s.time[peak] - start_time;
  r.work = -work_sign * integral * kRad;
  r.mean_power = r.work / duration;
  r.range_of_motion = angle_max - angle_min;
  return r;
}

}  // namespace isokin::analysis
