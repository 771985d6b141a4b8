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

double KneeMuscleModel::angle_factor(Movement movement, double angle) {
  // Optimum angles from isokinetic knee studies: extensors peak at 60–70° flexion, flexors at
  // 20–40° (e.g. Knapik et al. 1983; Lindahl et al. 1969).
  return movement == Movement::kExtension ? skewed_bell(angle, 65.0, 35.0, 30.0)
                                          : skewed_bell(angle, 30.0, 40.0, 45.0);
}

double KneeMuscleModel::velocity_factor(Movement movement, double speed) {
  // Hill: T/T0 = (1 − v/vmax) / (1 + v/(k·vmax)). Hamstrings lose less torque with speed than
  // quadriceps, which is why the conventional H:Q ratio rises with velocity.
  const double vmax = movement == Movement::kExtension ? 1200.0 : 1500.0;
  const double k = 0.3;
  const double v = std::clamp(std::abs(speed), 0.0, vmax);
  return (1.0 - v / vmax) / (1.0 + v / (k * vmax));
}

double KneeMuscleModel::torque(Movement movement, Side side, double angle, double speed) const {
  const bool extension = movement == Movement::kExtension;
  double peak = extension ? subject_.quadriceps_isometric_peak : subject_.hamstrings_isometric_peak;
  if (side == Side::kLeft) {
    peak *= extension ? subject_.left_quadriceps_factor : subject_.left_hamstrings_factor;
  }
  return peak * angle_factor(movement, angle) * velocity_factor(movement, speed);
}

double KneeMuscleModel::gravity_moment(double angle) const {
  return -subject_.limb_gravity_moment() * std::cos(angle * kDegToRad);
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

}  // namespace isokin::drivers::sim
