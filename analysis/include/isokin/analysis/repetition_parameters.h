#pragma once
// Parameters of one movement phase, computed from filtered signals. Torque is taken in the
// direction of the movement ("directed"): +torque for extension, −torque for flexion, so a
// concentric effort gives positive peak torque and positive work.

#include <Eigen/Core>

#include "isokin/analysis/repetition_segmenter.h"

namespace isokin::analysis {

struct PhaseSignals {
  Eigen::Ref<const Eigen::ArrayXd> time;      // s
  Eigen::Ref<const Eigen::ArrayXd> torque;    // N·m
  Eigen::Ref<const Eigen::ArrayXd> angle;     // °
  Eigen::Ref<const Eigen::ArrayXd> velocity;  // °/s
};

struct PhaseResult {
  drivers::Movement movement = drivers::Movement::kExtension;
  int repetition = 0;
  double start_time = 0.0;       // s
  double end_time = 0.0;         // s
  double peak_torque = 0.0;      // N·m, directed
  double angle_at_peak = 0.0;    // °
  double time_to_peak = 0.0;     // s from start_time
  double work = 0.0;             // J = −∫ torque dθ (θ in rad)
  double range_of_motion = 0.0;  // °
  double mean_power = 0.0;       // W = work / duration
};

// Sign that turns torque into directed torque for a movement.
double direction_sign(drivers::Movement movement);

// Peak of the directed torque over [begin, end): its index.
Eigen::Index peak_torque_index(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                               drivers::Movement movement);

// Mechanical work done by the subject on the lever, trapezoid over angle in radians:
// W = −∫ τ dθ. Positive when the muscles shorten (concentric).
double work(const Eigen::Ref<const Eigen::ArrayXd>& torque,
            const Eigen::Ref<const Eigen::ArrayXd>& angle_deg);

// Angle of peak torque, robust to noise on flat-topped curves (vertex of a parabola fitted to the
// top 3 % of the curve); falls back to the angle of the peak sample.
double angle_of_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                     const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak);

PhaseResult analyze_phase(const PhaseSignals& signals, const MovementPhase& phase);

}  // namespace isokin::analysis
