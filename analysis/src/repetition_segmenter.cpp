#include "isokin/analysis/repetition_segmenter.h"

#include <cmath>

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
