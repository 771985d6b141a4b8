#include "isokin/analysis/repetition_parameters.h"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <numbers>

namespace isokin::analysis {

double direction_sign(drivers::Movement movement) {
  return movement == drivers::Movement::kExtension ? 1.0 : -1.0;
}

Eigen::Index peak_torque_index(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                               drivers::Movement movement) {
  Eigen::Index index = 0;
  (direction_sign(movement) * torque).maxCoeff(&index);
  return index;
}

double work(const Eigen::Ref<const Eigen::ArrayXd>& torque,
            const Eigen::Ref<const Eigen::ArrayXd>& angle_deg) {
  const Eigen::Index n = torque.size();
  if (n < 2) return 0.0;
  const auto mean_torque = 0.5 * (torque.head(n - 1) + torque.tail(n - 1));
  const auto step = angle_deg.tail(n - 1) - angle_deg.head(n - 1);
  return -(mean_torque * step).sum() * std::numbers::pi / 180.0;
}

double angle_of_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                     const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak) {
  // Torque–angle curves are flat at the top, so the sample of highest torque wanders with noise
  // by several degrees. Fit a parabola τ(θ) = c0 + c1·θ + c2·θ² by least squares to the
  // contiguous top of the curve (within kTopFraction of the peak) and take its vertex.
  constexpr double kTopFraction = 0.03;
  constexpr Eigen::Index kMinPoints = 5;
  const double level = directed_torque[peak] * (1.0 - kTopFraction);
  Eigen::Index lo = peak;
  Eigen::Index hi = peak;
  while (lo > 0 && directed_torque[lo - 1] >= level) --lo;
  while (hi + 1 < directed_torque.size() && directed_torque[hi + 1] >= level) ++hi;
  const Eigen::Index n = hi - lo + 1;
  if (n < kMinPoints) return angle[peak];
  const double center = angle[peak];
  Eigen::MatrixXd design(n, 3);
  design.col(0).setOnes();
  design.col(1) = (angle.segment(lo, n) - center).matrix();
  design.col(2) = design.col(1).array().square().matrix();
  const Eigen::Vector3d c =
      design.colPivHouseholderQr().solve(directed_torque.segment(lo, n).matrix());
  if (!(c[2] < 0.0)) return angle[peak];  // not concave: keep the sample
  const double vertex = center - c[1] / (2.0 * c[2]);
  const double a_min = angle.segment(lo, n).minCoeff();
  const double a_max = angle.segment(lo, n).maxCoeff();
  return vertex >= a_min && vertex <= a_max ? vertex : angle[peak];
}

namespace {

// Time at which the velocity crosses zero between samples a and b (linear interpolation).
double zero_crossing_time(const PhaseSignals& s, Eigen::Index a, Eigen::Index b) {
  const double va = s.velocity[a];
  const double vb = s.velocity[b];
  if (va == vb) return s.time[a];
  const double fraction = std::clamp(va / (va - vb), 0.0, 1.0);
  return s.time[a] + fraction * (s.time[b] - s.time[a]);
}

}  // namespace

PhaseResult analyze_phase(const PhaseSignals& s, const MovementPhase& phase) {
  // The movement starts and ends between the phase's outer samples and their neighbours, so
  // include those neighbours: integrals and the range then span the reversal points.
  const Eigen::Index lo = std::max<Eigen::Index>(phase.begin - 1, 0);
  const Eigen::Index hi = std::min<Eigen::Index>(phase.end + 1, s.time.size());
  const Eigen::Index n = hi - lo;
  const auto torque = s.torque.segment(lo, n);
  const auto angle = s.angle.segment(lo, n);
  PhaseResult r;
  r.movement = phase.movement;
  r.repetition = phase.repetition;
  r.start_time =
      phase.begin > 0 ? zero_crossing_time(s, phase.begin - 1, phase.begin) : s.time[phase.begin];
  r.end_time = phase.end < s.time.size() ? zero_crossing_time(s, phase.end - 1, phase.end)
                                         : s.time[phase.end - 1];
  const Eigen::Index peak = peak_torque_index(torque, phase.movement);
  const double sign = direction_sign(phase.movement);
  r.peak_torque = sign * torque[peak];
  r.angle_at_peak = angle_of_peak(sign * torque, angle, peak);
  r.time_to_peak = s.time[lo + peak] - r.start_time;
  r.work = work(torque, angle);
  r.range_of_motion = angle.maxCoeff() - angle.minCoeff();
  const double duration = r.end_time - r.start_time;
  r.mean_power = duration > 0.0 ? r.work / duration : 0.0;
  return r;
}

}  // namespace isokin::analysis
