#pragma once
// Splits a set into movement phases from the angular velocity as recorded: a phase is a run of one
// velocity sign that reaches the hysteresis threshold, bounded by the zero crossings around it.
// PhaseDetector is the streaming form; RepetitionSegmenter runs it over a whole set, so live and
// offline segmentation are the same code.

#include <Eigen/Core>
#include <vector>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/drivers/domain.h"

namespace isokin::analysis {

struct MovementPhase {
  drivers::Movement movement = drivers::Movement::kExtension;
  int repetition = 0;      // 0-based count of this movement within the set
  Eigen::Index begin = 0;  // first sample
  Eigen::Index end = 0;    // one past the last sample
};

class PhaseDetector {
 public:
  explicit PhaseDetector(SegmentationSettings settings = {}) : settings_(settings) {}
  // Feeds sample i (indices consecutive from 0). Returns true and fills `phase` when a phase
  // ended just before sample i. NaN velocity ends a run like a zero.
  bool step(Eigen::Index i, double velocity, double angle, MovementPhase& phase);
  // End of data after n samples: closes the open run.
  bool finish(Eigen::Index n, MovementPhase& phase);

 private:
  bool close(Eigen::Index end, MovementPhase& phase);
  SegmentationSettings settings_;
  int sign_ = 0;
  Eigen::Index start_ = 0;
  bool reached_ = false;
  double start_angle_ = 0.0;
  double last_angle_ = 0.0;
  int extensions_ = 0;
  int flexions_ = 0;
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
