#pragma once
// Results of one set: every phase, per-movement summaries, fatigue indices and the set's own
// ratios. Values that cannot be computed are NaN (JSON null), never 0, and a warning says why.

#include <limits>
#include <string>
#include <vector>

#include "isokin/analysis/repetition_parameters.h"

namespace isokin::analysis {

inline constexpr double kNotAvailable = std::numeric_limits<double>::quiet_NaN();

// How the limb-weight moment was obtained for a set.
struct GravityEstimate {
  GravityMode mode = GravityMode::kOff;  // what was actually used (kOff when unavailable)
  double limb_moment = 0.0;              // N·m at full extension (T_g); 0 when off
  int rest_samples = 0;                  // samples the estimate used (kFromRest)
  std::string reason;                    // why it is off; empty when on
};

// Fatigue over the repetitions of one movement (docs/analysis.md, "Fatigue").
struct FatigueIndices {
  double work_fatigue = kNotAvailable;        // %, 100·(1 − W last third / W first third)
  double endurance_ratio = kNotAvailable;     // W last five / W first five
  double thorstensson_index = kNotAvailable;  // %, 100·(1 − mean PT last 3 / mean PT first 3)
  double peak_torque_slope = kNotAvailable;   // N·m per repetition, least squares
  double peak_torque_slope_percent = kNotAvailable;  // %/repetition of the fitted first value
};

// All repetitions of one movement (e.g. every extension of a set).
struct MovementSummary {
  drivers::Movement movement = drivers::Movement::kExtension;
  MuscleGroup muscle = MuscleGroup::kExtensors;  // of the best repetition
  Contraction contraction = Contraction::kConcentric;
  std::string muscle_group;  // joint-aware name: "quadriceps", "hamstrings", "extensors"...
  std::vector<PhaseResult> repetitions;
  int best_repetition = -1;                 // index of the highest peak torque; −1 when none
  double peak_torque = 0.0;                 // N·m, of the best repetition
  double peak_torque_per_body_mass = 0.0;   // N·m/kg; 0 when body mass unknown
  double angle_at_peak = 0.0;               // ° of the best repetition
  double total_work = 0.0;                  // J, sum over repetitions
  double mean_peak_torque = kNotAvailable;  // N·m over repetitions
  double coefficient_of_variation = kNotAvailable;  // %, of peak torque (sample SD / mean)
  double mean_power = kNotAvailable;                // W, mean over repetitions
  double isokinetic_peak_torque = kNotAvailable;    // N·m, best over isokinetic windows
  FatigueIndices fatigue;
};

struct SetAnalysis {
  int set_index = 0;
  std::string kind = "test";  // acquisition::SetInfo::kind: "test", "warm-up"
  drivers::Side side = drivers::Side::kRight;
  drivers::Joint joint = drivers::Joint::kKnee;
  drivers::ContractionMode mode = drivers::ContractionMode::kConcentricConcentric;  // set-point
  double velocity = 0.0;              // °/s, set extension velocity
  double flexion_velocity = 0.0;      // °/s, set flexion velocity
  double hold_angle = kNotAvailable;  // °, isometric sets: where the lever was held
  MovementSummary extension;
  MovementSummary flexion;
  // Conventional H:Q (knee) / agonist–antagonist ratio: flexor / extensor peak torque when both
  // are concentric in this set, or both isometric (isometric H:Q at hold_angle); NaN otherwise.
  double hq_ratio = kNotAvailable;  // NaN (with a warning) when not available
  // H:Q of each repetition pair (flexion i / extension i) and its drift over the set.
  std::vector<double> hq_by_repetition;
  double hq_drift_slope = kNotAvailable;  // ratio units per repetition, least squares
  GravityEstimate gravity;
  std::vector<std::string> warnings;  // e.g. "no repetitions found"
};

}  // namespace isokin::analysis
