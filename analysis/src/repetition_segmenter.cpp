#include "isokin/analysis/repetition_segmenter.h"

#include <cmath>

namespace isokin::analysis {

std::vector<MovementPhase> RepetitionSegmenter::segment(
    const Eigen::Ref<const Eigen::ArrayXd>& velocity,
    const Eigen::Ref<const Eigen::ArrayXd>& angle) const {
  std::vector<MovementPhase> phases;
  int extensions = 0;
  int flexions = 0;
  const Eigen::Index n = velocity.size();
  Eigen::Index i = 0;
  while (i < n) {
    // Find the next sample beyond the threshold in either direction.
    while (i < n && !(std::abs(velocity[i]) > settings_.velocity_threshold)) ++i;
    if (i >= n) break;
    const double sign = velocity[i] > 0.0 ? 1.0 : -1.0;
    // Widen to the zero crossings on both sides.
    Eigen::Index begin = i;
    while (begin > 0 && sign * velocity[begin - 1] > 0.0) --begin;
    Eigen::Index end = i;
    while (end < n && sign * velocity[end] > 0.0) ++end;
    i = end;

    const Eigen::Index last = end - 1;
    const double range = std::abs(angle[last] - angle[begin]);
    if (range < settings_.minimum_range) continue;
    MovementPhase phase;
    // Extension moves toward 0° flexion: negative velocity.
    phase.movement = sign < 0.0 ? drivers::Movement::kExtension : drivers::Movement::kFlexion;
    phase.repetition = phase.movement == drivers::Movement::kExtension ? extensions++ : flexions++;
    phase.begin = begin;
    phase.end = end;
    phases.push_back(phase);
  }
  return phases;
}

}  // namespace isokin::analysis
