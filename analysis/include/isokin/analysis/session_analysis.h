#pragma once
// Offline analysis of a recorded session: filter, segment, per-repetition parameters, set
// summaries, conventional H:Q ratio per side and speed, and bilateral deficits.

#include <string>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/repetition_parameters.h"
#include "isokin/analysis/repetition_segmenter.h"

namespace isokin::analysis {

struct AnalysisSettings {
  // Zero-phase Butterworth applied to torque, angle and velocity: order-2 design run forward and
  // backward (4th-order zero-lag response), as recommended for biomechanical signals by
  // Winter, Biomechanics and Motor Control of Human Movement, 4th ed., ch. 3.
  int filter_order = 2;
  double filter_cutoff_hz = 20.0;
  SegmentationSettings segmentation;
};

// All repetitions of one movement (e.g. every extension of a set).
struct MovementSummary {
  drivers::Movement movement = drivers::Movement::kExtension;
  std::string muscle_group;  // "quadriceps", "hamstrings"
  std::vector<PhaseResult> repetitions;
  int best_repetition = -1;                // index of the highest peak torque; −1 when none
  double peak_torque = 0.0;                // N·m, of the best repetition
  double peak_torque_per_body_mass = 0.0;  // N·m/kg; 0 when body mass unknown
  double angle_at_peak = 0.0;              // ° of the best repetition
  double total_work = 0.0;                 // J, sum over repetitions
};

struct SetAnalysis {
  int set_index = 0;
  drivers::Side side = drivers::Side::kRight;
  double velocity = 0.0;  // °/s, set extension velocity
  MovementSummary extension;
  MovementSummary flexion;
  // Conventional H:Q: concentric hamstrings peak torque / concentric quadriceps peak torque.
  double hq_ratio = 0.0;
  std::vector<std::string> warnings;  // e.g. "no repetitions found"
};

// Left vs right for one muscle group at one speed.
struct BilateralComparison {
  double velocity = 0.0;
  std::string muscle_group;
  double left_peak_torque = 0.0;
  double right_peak_torque = 0.0;
  // 100 · (stronger − weaker) / stronger; the weaker side is named.
  double deficit_percent = 0.0;
  drivers::Side weaker_side = drivers::Side::kLeft;
};

struct SessionAnalysis {
  AnalysisSettings settings;
  std::vector<SetAnalysis> sets;
  std::vector<BilateralComparison> bilateral;
};

SetAnalysis analyze_set(const acquisition::RecordedSet& set, const AnalysisSettings& settings,
                        double body_mass_kg = 0.0);
SessionAnalysis analyze_session(const acquisition::Session& session,
                                const AnalysisSettings& settings = {});

}  // namespace isokin::analysis
