#pragma once
// Every setting of the analysis, with its default and the reason for it (docs/analysis.md).
// Results carry the settings they were computed with.

#include <vector>

namespace isokin::analysis {

struct SegmentationSettings {
  double velocity_threshold = 10.0;  // °/s a movement must exceed to count (hysteresis)
  double minimum_range = 10.0;       // ° a movement must cover to count
};

enum class GravityMode {
  kOff,       // torque used as measured
  kGiven,     // GravitySettings::limb_moment, e.g. from a separate passive trial
  kFromRest,  // estimated from the resting samples before the first movement of each set
  // From the session's passive gravity-correction trial (a set of kind "gravity") of the same
  // side. Only analyze_session sets it, when mode is kFromRest and such a trial exists.
  kFromTrial,
};

struct GravitySettings {
  GravityMode mode = GravityMode::kFromRest;
  double limb_moment = 0.0;        // N·m at full extension (leg horizontal), for kGiven
  double rest_velocity = 2.0;      // °/s: |velocity| below this counts as rest
  double minimum_rest_time = 0.2;  // s of rest needed for an estimate
  // Near vertical (θ ≈ 90°) the rest torque hardly depends on T_g, and any sensor offset δ
  // becomes an error δ/cos θ in T_g. Below this Σcos²θ/n (|cos θ| < 0.5, θ > 60°) the
  // correction is off and the result says why. Simulated data have no offset and may lower it.
  double minimum_mean_cos_squared = 0.25;
};

struct IsokineticSettings {
  // A sample is isokinetic when | |v| − v_set | ≤ max(tolerance_fraction·v_set, tolerance_min).
  double tolerance_fraction = 0.10;
  double tolerance_min = 5.0;  // °/s
};

// Thresholds of the interpretive flags: flags never change a number, they only annotate.
struct FlagThresholds {
  double conventional_hq_min = 0.6;     // Coombs & Garbutt 2002; Kannus 1994
  double functional_hq_min = 1.0;       // Aagaard et al. 1998
  double bilateral_deficit_max = 15.0;  // % (10–15 %: Sapega 1990; Impellizzeri et al. 2007)
  double limb_symmetry_min = 90.0;      // % (LSI ≥ 90 %: return-to-sport criterion, Grindem 2016)
  double coefficient_of_variation_max = 15.0;  // % between repetitions (Biodex manual: 15 %)
};

struct AnalysisSettings {
  // Zero-phase Butterworth applied to torque and velocity: order-2 design run forward and
  // backward (4th-order zero-lag response), as recommended for biomechanical signals by
  // Winter, Biomechanics and Motor Control of Human Movement, 4th ed., ch. 3.
  int filter_order = 2;
  double filter_cutoff_hz = 20.0;
  // Each phase is filtered over [begin − margin, end + margin] so its numbers depend only on
  // that window (live == offline). Margin = filter_margin_periods / cutoff seconds.
  double filter_margin_periods = 3.0;
  SegmentationSettings segmentation;
  GravitySettings gravity;
  IsokineticSettings isokinetic;
  std::vector<double> torque_angles = {30.0, 60.0};  // ° at which torque is reported
  double angle_curve_step = 1.0;  // ° grid of the torque–angle curve (angle-specific ratios)
  FlagThresholds flags;
};

}  // namespace isokin::analysis
