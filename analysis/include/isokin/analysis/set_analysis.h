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
  // Every phase of this movement in the set, whatever its role (PhaseResult::role); the values
  // below are over the counted ones (test repetitions, or warm-up ones in a warm-up set).
  std::vector<PhaseResult> repetitions;
  int counted_repetitions = 0;
  // Index into repetitions of the best counted one: the highest headline peak among those that
  // reached the isokinetic window (any counted one when none did, with a warning); −1 = none.
  int best_repetition = -1;
  PeakBasis peak_basis = PeakBasis::kIsokinetic;  // what peak_torque is (AnalysisSettings)
  // The headline: the best repetition's torque at the set speed (isokinetic basis; its
  // full-range peak when no repetition reached the set speed) or its full-range peak.
  double peak_torque = 0.0;                 // N·m
  bool peak_at_set_speed = false;           // peak_torque comes from the isokinetic window
  double peak_torque_per_body_mass = 0.0;   // N·m/kg; 0 when body mass unknown
  double angle_at_peak = 0.0;               // ° of the headline peak
  double full_range_peak_torque = 0.0;      // N·m, the best repetition's whole-movement peak
  double full_range_angle_at_peak = 0.0;    // °
  double total_work = 0.0;                  // J, sum over counted repetitions
  double mean_peak_torque = kNotAvailable;  // N·m, headline peaks of the counted repetitions
  double coefficient_of_variation = kNotAvailable;  // %, of those peaks (sample SD / mean)
  double mean_power = kNotAvailable;                // W, mean over counted repetitions
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
  // How the phases were found (docs/analysis.md §3): "velocity", "device" (the device's own
  // repetition/phase columns) or "isometric" (efforts from the resting torque).
  std::string phases_from = "velocity";
  int planned_repetitions = 0;  // per movement, from the protocol (setpoint); 0 = not known
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
