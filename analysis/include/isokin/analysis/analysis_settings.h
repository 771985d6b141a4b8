#pragma once
// Every setting of the analysis, with its default and the reason for it (docs/analysis.md).
// Results carry the settings they were computed with.

#include <limits>
#include <vector>

namespace isokin::analysis {

// Where the movement phases of a set come from (docs/analysis.md §3).
enum class SegmentationSource {
  kAuto,      // the device's own repetition/phase columns when the set has them, else velocity
  kVelocity,  // velocity zero crossings with hysteresis, always
  kDevice,    // the device's columns; a set without them gives no phases and a warning
};

struct SegmentationSettings {
  SegmentationSource source = SegmentationSource::kAuto;
  double velocity_threshold = 10.0;  // °/s a movement must exceed to count (hysteresis)
  double minimum_range = 10.0;       // ° a movement must cover to count
};

// Isometric sets (no movement): an effort is a run of torque away from the resting baseline
// (the mean of the set's first baseline_time seconds, when the subject is relaxed).
struct IsometricSettings {
  double baseline_time = 0.25;    // s
  double onset_torque = 10.0;     // N·m from baseline: an effort starts (about 3-5 % of an adult
                                  // knee MVC; common onset criteria are 2.5-10 %, Maffiuletti 2016)
  double release_torque = 5.0;    // N·m from baseline: it ends (hysteresis against noise)
  double minimum_duration = 0.3;  // s: shorter excursions are twitches or artefacts
  double plateau_time = 1.0;      // s around the peak over which the mean torque is reported
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
  // An imported recording whose export states the device's own gravity setting (the import
  // mapping's "device_gravity": "off" or "on") is analysed as the device recorded it when mode
  // is kFromRest: its torque as exported, not corrected (again). False: estimate from the rest
  // regardless (docs/analysis.md §4).
  bool follow_device_setting = true;
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

// Which movements of a set are the test (docs/analysis.md §16, "Which movements count").
struct RoleSettings {
  // A movement whose mean torque over its range (work / range of motion) is below this fraction
  // of the strongest movement of the set shows no effort: the lever carried a relaxed limb
  // (positioning, a passive return, CPM). Submaximal but real efforts stay far above it: a
  // fatigue set ends near 50 % of its first repetitions, the weakest H:Q reported in patients is
  // about 0.3.
  double passive_effort_fraction = 0.2;
  // Movements beyond the set's planned repetitions (SetInfo setpoint) are outside the test, when
  // the phases come from the velocity and the plan is known. Off: every effort counts.
  bool limit_to_planned_repetitions = true;
};

// Which value is a set's headline peak torque (the best repetition, ratios, deficits, per body
// mass); the other is reported beside it (docs/analysis.md §7).
enum class PeakBasis {
  kIsokinetic,  // the torque at the set speed (the isokinetic window: vendors' "windowing")
  kFullRange,   // the whole movement, acceleration and deceleration included
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
  IsometricSettings isometric;
  GravitySettings gravity;
  IsokineticSettings isokinetic;
  // The torque sensor's measuring range (N·m): a sample at or beyond a limit is clipped, so a
  // peak there is only a lower bound. analyze_session takes it from the file's "torque" channel;
  // NaN = unknown (then only the device's status bit says so). Guessing clipping from flat tops
  // is not done: a quantised signal (e.g. a 10-bit ADC) stays on its top count for tens of ms.
  double torque_range_min = std::numeric_limits<double>::quiet_NaN();
  double torque_range_max = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> torque_angles = {30.0, 60.0};  // ° at which torque is reported
  double angle_curve_step = 1.0;  // ° grid of the torque–angle curve (angle-specific ratios)
  FlagThresholds flags;
  RoleSettings roles;
  PeakBasis peak_basis = PeakBasis::kIsokinetic;
};

}  // namespace isokin::analysis
