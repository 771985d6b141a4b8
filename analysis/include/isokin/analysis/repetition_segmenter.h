#pragma once
// Splits a set into movement phases from the angular velocity as recorded: a phase is a run of one
// velocity sign that reaches the hysteresis threshold, bounded by the zero crossings around it.
// PhaseDetector is the streaming form; RepetitionSegmenter runs it over a whole set, so live and
// offline segmentation are the same code. DevicePhaseDetector takes the phases a device (or a
// vendor export) marked itself; IsometricEffortDetector finds efforts in sets without movement.

#include <Eigen/Core>
#include <vector>

#include "isokin/acquisition/session.h"
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

// A phase is a run of samples with the same device phase (extension or flexion) and repetition
// number; samples marked "none" separate phases. Runs shorter than 3 samples are ignored.
class DevicePhaseDetector {
 public:
  bool step(Eigen::Index i, const acquisition::DeviceSegment& segment, MovementPhase& phase);
  bool finish(Eigen::Index n, MovementPhase& phase);

 private:
  bool close(Eigen::Index end, MovementPhase& phase);
  acquisition::DeviceSegment current_;
  Eigen::Index start_ = 0;
  int extensions_ = 0;
  int flexions_ = 0;
};

// An isometric effort is a run of torque at least onset_torque away from the resting baseline
// (mean of the first baseline_time seconds), ending when it comes back within release_torque;
// its direction names the movement it resists (extensor moment = extension effort).
class IsometricEffortDetector {
 public:
  IsometricEffortDetector(IsometricSettings settings, double sample_rate_hz);
  bool step(Eigen::Index i, double torque, MovementPhase& phase);
  bool finish(Eigen::Index n, MovementPhase& phase);
  // The resting torque the efforts are measured from (N·m); NaN until the baseline is known.
  [[nodiscard]] double baseline() const;

 private:
  bool close(Eigen::Index end, MovementPhase& phase);
  IsometricSettings settings_;
  Eigen::Index baseline_samples_ = 1;
  Eigen::Index minimum_samples_ = 1;
  double baseline_sum_ = 0.0;
  Eigen::Index baseline_count_ = 0;
  int sign_ = 0;  // direction of the effort in progress; 0 = none
  Eigen::Index start_ = 0;
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
