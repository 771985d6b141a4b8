#include "isokin/analysis/repetition_segmenter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace isokin::analysis {

bool PhaseDetector::close(Eigen::Index end, MovementPhase& phase) {
  const bool found =
      sign_ != 0 && reached_ && std::abs(last_angle_ - start_angle_) >= settings_.minimum_range;
  if (found) {
    // Extension moves toward 0° flexion: negative velocity.
    phase.movement = sign_ < 0 ? drivers::Movement::kExtension : drivers::Movement::kFlexion;
    phase.repetition =
        phase.movement == drivers::Movement::kExtension ? extensions_++ : flexions_++;
    phase.begin = start_;
    phase.end = end;
  }
  return found;
}

bool PhaseDetector::step(Eigen::Index i, double velocity, double angle, MovementPhase& phase) {
  const int sign = velocity > 0.0 ? 1 : (velocity < 0.0 ? -1 : 0);
  bool found = false;
  if (sign != sign_ || i == 0) {
    if (i > 0) found = close(i, phase);
    sign_ = sign;
    start_ = i;
    reached_ = false;
    start_angle_ = angle;
  }
  if (sign != 0 && std::abs(velocity) > settings_.velocity_threshold) reached_ = true;
  last_angle_ = angle;
  return found;
}

bool PhaseDetector::finish(Eigen::Index n, MovementPhase& phase) {
  const bool found = n > 0 && close(n, phase);
  sign_ = 0;
  return found;
}

std::vector<MovementPhase> RepetitionSegmenter::segment(
    const Eigen::Ref<const Eigen::ArrayXd>& velocity,
    const Eigen::Ref<const Eigen::ArrayXd>& angle) const {
  std::vector<MovementPhase> phases;
  PhaseDetector detector(settings_);
  MovementPhase phase;
  for (Eigen::Index i = 0; i < velocity.size(); ++i) {
    if (detector.step(i, velocity[i], angle[i], phase)) phases.push_back(phase);
  }
  if (detector.finish(velocity.size(), phase)) phases.push_back(phase);
  return phases;
}

}  // namespace isokin::analysis

namespace isokin::analysis {

bool DevicePhaseDetector::close(Eigen::Index end, MovementPhase& phase) {
  constexpr Eigen::Index kMinimumSamples = 3;
  if (current_.phase == acquisition::DevicePhase::kNone || end - start_ < kMinimumSamples) {
    return false;
  }
  phase.movement = current_.phase == acquisition::DevicePhase::kExtension
                       ? drivers::Movement::kExtension
                       : drivers::Movement::kFlexion;
  phase.repetition = phase.movement == drivers::Movement::kExtension ? extensions_++ : flexions_++;
  phase.begin = start_;
  phase.end = end;
  return true;
}

bool DevicePhaseDetector::step(Eigen::Index i, const acquisition::DeviceSegment& segment,
                               MovementPhase& phase) {
  if (i > 0 && segment.phase == current_.phase && segment.repetition == current_.repetition) {
    return false;
  }
  const bool found = i > 0 && close(i, phase);
  current_ = segment;
  start_ = i;
  return found;
}

bool DevicePhaseDetector::finish(Eigen::Index n, MovementPhase& phase) {
  const bool found = n > 0 && close(n, phase);
  current_ = {};
  return found;
}

IsometricEffortDetector::IsometricEffortDetector(IsometricSettings settings, double sample_rate_hz)
    : settings_(settings),
      baseline_samples_(std::max<Eigen::Index>(
          1, static_cast<Eigen::Index>(std::lround(settings.baseline_time * sample_rate_hz)))),
      minimum_samples_(std::max<Eigen::Index>(
          3, static_cast<Eigen::Index>(std::lround(settings.minimum_duration * sample_rate_hz)))) {}

double IsometricEffortDetector::baseline() const {
  return baseline_count_ >= baseline_samples_ ? baseline_sum_ / static_cast<double>(baseline_count_)
                                              : std::numeric_limits<double>::quiet_NaN();
}

bool IsometricEffortDetector::close(Eigen::Index end, MovementPhase& phase) {
  const int sign = sign_;
  sign_ = 0;
  if (sign == 0 || end - start_ < minimum_samples_) return false;
  phase.movement = sign > 0 ? drivers::Movement::kExtension : drivers::Movement::kFlexion;
  phase.repetition = sign > 0 ? extensions_++ : flexions_++;
  phase.begin = start_;
  phase.end = end;
  return true;
}

bool IsometricEffortDetector::step(Eigen::Index i, double torque, MovementPhase& phase) {
  if (baseline_count_ < baseline_samples_) {
    // A NaN here makes the baseline NaN and so no effort is ever found: the set is then
    // reported as without efforts, never measured from a made-up zero.
    baseline_sum_ += torque;
    ++baseline_count_;
    return false;
  }
  const double deviation = torque - baseline();
  if (sign_ != 0) {
    // NaN ends an effort like a release.
    if (!(static_cast<double>(sign_) * deviation >= settings_.release_torque)) {
      return close(i, phase);
    }
    return false;
  }
  if (std::abs(deviation) > settings_.onset_torque) {
    sign_ = deviation > 0.0 ? 1 : -1;
    start_ = i;
  }
  return false;
}

bool IsometricEffortDetector::finish(Eigen::Index n, MovementPhase& phase) {
  return n > 0 && close(n, phase);
}

}  // namespace isokin::analysis
