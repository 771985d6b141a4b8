#pragma once
// Physiological model behind SimulatedDynamometer. Internal to the drivers library.

#include "isokin/drivers/domain.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace isokin::drivers::sim {

// Torque a fully activated, unfatigued muscle group produces (N·m, ≥ 0), from its torque–angle
// relation times a Hill-type concentric force–velocity relation.
class KneeMuscleModel {
 public:
  explicit KneeMuscleModel(const SimulatedSubject& subject) : subject_(subject) {}

  // speed: |angular velocity| in °/s, shortening (concentric).
  [[nodiscard]] double torque(Movement movement, Side side, double angle, double speed) const;
  // Moment of the limb's weight about the knee, signed (negative = flexion moment): the shank is
  // horizontal at 0° flexion in the seated test position.
  [[nodiscard]] double gravity_moment(double angle) const;

  // Relative torque–angle relation (1 at the optimum angle).
  static double angle_factor(Movement movement, double angle);
  // Relative concentric force–velocity relation (1 when isometric).
  static double velocity_factor(Movement movement, double speed);

 private:
  SimulatedSubject subject_;
};

// Lever kinematics of one movement from one angle to another: a cosine-shaped acceleration to
// the set speed, a constant-velocity (isokinetic) part, and a symmetric deceleration.
class PhaseKinematics {
 public:
  PhaseKinematics(double from_angle, double to_angle, double set_speed, double acceleration);

  struct State {
    double angle;     // °
    double velocity;  // °/s, signed
  };
  [[nodiscard]] State at(double t) const;
  [[nodiscard]] double duration() const { return duration_; }
  [[nodiscard]] double peak_speed() const { return speed_; }

 private:
  [[nodiscard]] double ramp_distance(double t) const;  // distance covered t s into a ramp

  double from_;
  double direction_;  // +1 toward flexion
  double distance_;
  double speed_;
  double ramp_time_;
  double duration_;
};

// Muscle activation over a movement of the given duration: rises after the start and relaxes
// before the end so torque is continuous at reversals.
double activation(double t, double duration);

}  // namespace isokin::drivers::sim
