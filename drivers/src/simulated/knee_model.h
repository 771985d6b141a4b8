#pragma once
// Physiological model behind SimulatedDynamometer: a knee (quadriceps/hamstrings) or a trunk
// (back extensors/abdominal flexors). Internal to the drivers library.

#include "isokin/drivers/domain.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace isokin::drivers::sim {

// Torque a fully activated, unfatigued muscle group produces (N·m, ≥ 0), from its torque–angle
// relation times a force–velocity relation (Hill-type when shortening, a plateau above
// isometric when lengthening).
class JointMuscleModel {
 public:
  JointMuscleModel(Joint joint, const SimulatedSubject& subject)
      : joint_(joint), subject_(subject) {}

  // speed: |angular velocity| in °/s.
  [[nodiscard]] double torque(bool extensors, Side side, double angle, double speed,
                              Contraction contraction) const;
  // Moment of the limb's (knee) or upper body's (trunk) weight about the axis, signed
  // (negative = flexion moment). Knee: the shank is horizontal at 0° flexion in the seated test
  // position. Trunk: upright at 0°, the weight pulls into flexion as the trunk bends forward.
  [[nodiscard]] double gravity_moment(double angle) const;
  [[nodiscard]] double largest_gravity_moment() const;

  // Relative torque–angle relation (1 at the optimum angle).
  [[nodiscard]] double angle_factor(bool extensors, double angle) const;
  // Relative force–velocity relation (1 when isometric).
  [[nodiscard]] double velocity_factor(bool extensors, double speed, Contraction contraction) const;

 private:
  Joint joint_;
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
// Activation of an isometric effort: a ramp up over ~0.5 s, a hold, and a relaxation.
double isometric_activation(double t, double duration);

}  // namespace isokin::drivers::sim
