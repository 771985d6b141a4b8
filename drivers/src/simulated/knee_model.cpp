#include "simulated/knee_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace isokin::drivers::sim {
namespace {

constexpr double kDegToRad = std::numbers::pi / 180.0;

// Skewed Gaussian: different widths below and above the optimum angle.
double skewed_bell(double angle, double optimum, double width_below, double width_above) {
  const double width = angle < optimum ? width_below : width_above;
  const double z = (angle - optimum) / width;
  return std::exp(-0.5 * z * z);
}

}  // namespace

double JointMuscleModel::angle_factor(bool extensors, double angle) const {
  if (joint_ == Joint::kTrunk) {
    // Back extensors are strongest with the trunk flexed (~45°), abdominal flexors near upright.
    return extensors ? skewed_bell(angle, 45.0, 40.0, 50.0) : skewed_bell(angle, 10.0, 40.0, 40.0);
  }
  // Optimum angles from isokinetic knee studies: extensors peak at 60–70° flexion, flexors at
  // 20–40° (e.g. Knapik et al. 1983; Lindahl et al. 1969).
  return extensors ? skewed_bell(angle, 65.0, 35.0, 30.0) : skewed_bell(angle, 30.0, 40.0, 45.0);
}

double JointMuscleModel::velocity_factor(bool extensors, double speed,
                                         Contraction contraction) const {
  const double v = std::abs(speed);
  if (contraction == Contraction::kIsometric) return 1.0;
  if (contraction == Contraction::kEccentric) {
    // Lengthening: torque rises above isometric and levels off at eccentric_ratio within a few
    // tens of °/s (Westing et al. 1988: 1.2–1.4× isometric).
    constexpr double kRise = 30.0;  // °/s
    return subject_.eccentric_ratio - (subject_.eccentric_ratio - 1.0) * std::exp(-v / kRise);
  }
  // Hill: T/T0 = (1 − v/vmax) / (1 + v/(k·vmax)). Hamstrings lose less torque with speed than
  // quadriceps, which is why the conventional H:Q ratio rises with velocity.
  double vmax = extensors ? 1200.0 : 1500.0;
  if (joint_ == Joint::kTrunk) vmax = extensors ? 600.0 : 700.0;
  const double k = 0.3;
  const double clamped = std::clamp(v, 0.0, vmax);
  return (1.0 - clamped / vmax) / (1.0 + clamped / (k * vmax));
}

double JointMuscleModel::torque(bool extensors, Side side, double angle, double speed,
                                Contraction contraction) const {
  double peak = 0.0;
  if (joint_ == Joint::kTrunk) {
    // One trunk, no sides.
    peak =
        extensors ? subject_.trunk_extensors_isometric_peak : subject_.trunk_flexors_isometric_peak;
  } else {
    peak = extensors ? subject_.quadriceps_isometric_peak : subject_.hamstrings_isometric_peak;
    if (side == Side::kLeft) {
      peak *= extensors ? subject_.left_quadriceps_factor : subject_.left_hamstrings_factor;
    }
  }
  return peak * angle_factor(extensors, angle) * velocity_factor(extensors, speed, contraction);
}

double JointMuscleModel::gravity_moment(double angle) const {
  if (joint_ == Joint::kTrunk) {
    return -subject_.upper_body_gravity_moment() * std::sin(angle * kDegToRad);
  }
  return -subject_.limb_gravity_moment() * std::cos(angle * kDegToRad);
}

double JointMuscleModel::largest_gravity_moment() const {
  return joint_ == Joint::kTrunk ? subject_.upper_body_gravity_moment()
                                 : subject_.limb_gravity_moment();
}

PhaseKinematics::PhaseKinematics(double from_angle, double to_angle, double set_speed,
                                 double acceleration)
    : from_(from_angle),
      direction_(to_angle >= from_angle ? 1.0 : -1.0),
      distance_(std::abs(to_angle - from_angle)),
      speed_(std::abs(set_speed)) {
  // Mean acceleration over a ramp is speed / ramp_time; a ramp covers speed·ramp_time/2.
  ramp_time_ = speed_ / acceleration;
  if (speed_ * ramp_time_ > distance_) {  // range too short to reach the set speed
    speed_ = std::sqrt(distance_ * acceleration);
    ramp_time_ = speed_ / acceleration;
  }
  duration_ = ramp_time_ + distance_ / speed_;
}

double PhaseKinematics::ramp_distance(double t) const {
  const double x = std::numbers::pi * t / ramp_time_;
  return 0.5 * speed_ * (t - ramp_time_ / std::numbers::pi * std::sin(x));
}

PhaseKinematics::State PhaseKinematics::at(double t) const {
  t = std::clamp(t, 0.0, duration_);
  double s = 0.0;
  double v = 0.0;
  if (t < ramp_time_) {
    s = ramp_distance(t);
    v = 0.5 * speed_ * (1.0 - std::cos(std::numbers::pi * t / ramp_time_));
  } else if (t <= duration_ - ramp_time_) {
    s = 0.5 * speed_ * ramp_time_ + speed_ * (t - ramp_time_);
    v = speed_;
  } else {
    const double left = duration_ - t;
    s = distance_ - ramp_distance(left);
    v = 0.5 * speed_ * (1.0 - std::cos(std::numbers::pi * left / ramp_time_));
  }
  return {from_ + direction_ * s, direction_ * v};
}

double activation(double t, double duration) {
  constexpr double kRise = 0.03;   // s
  constexpr double kRelax = 0.02;  // s
  if (t <= 0.0 || t >= duration) return 0.0;
  return (1.0 - std::exp(-t / kRise)) * (1.0 - std::exp(-(duration - t) / kRelax));
}

double isometric_activation(double t, double duration) {
  constexpr double kRise = 0.15;  // s: maximal voluntary effort reaches its plateau in ~0.5 s
  constexpr double kRelax = 0.1;  // s
  if (t <= 0.0 || t >= duration) return 0.0;
  return (1.0 - std::exp(-t / kRise)) * (1.0 - std::exp(-(duration - t) / kRelax));
}

}  // namespace isokin::drivers::sim
