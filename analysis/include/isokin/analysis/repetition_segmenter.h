#pragma once
// Splits a set into movement phases from the angular velocity: a phase is a run of one velocity
// sign that reaches the hysteresis threshold, bounded by the zero crossings around it.

#include <Eigen/Core>
#include <vector>

#include "isokin/drivers/domain.h"

namespace isokin::analysis {

struct MovementPhase {
  drivers::Movement movement = drivers::Movement::kExtension;
  int repetition = 0;      // 0-based count of this movement within the set
  Eigen::Index begin = 0;  // first sample
  Eigen::Index end = 0;    // one past the last sample
};

struct SegmentationSettings {
  double velocity_threshold = 10.0;  // °/s a movement must exceed to count (hysteresis)
  double minimum_range = 10.0;       // ° a movement must cover to count
};

class RepetitionSegmenter {
 public:
  explicit RepetitionSegmenter(SegmentationSettings settings = {}) : settings_(settings) {}

  // velocity in °/s (positive toward flexion), angle in °; same length.
  [[nodiscard]] std::vector<MovementPhase> segment(
      const Eigen::Ref<const Eigen::ArrayXd>& velocity,
      const Eigen::Ref<const Eigen::ArrayXd>& angle) const;

 private:
  SegmentationSettings settings_;
};

}  // namespace isokin::analysis
