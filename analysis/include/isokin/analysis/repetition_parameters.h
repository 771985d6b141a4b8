#pragma once
// Parameters of one movement phase. The muscle group comes from the direction of the torque
// (extensor moment = extensors, e.g. quadriceps), the contraction type from torque direction vs
// movement direction (same = concentric, opposite = eccentric). Torque is "directed" along the
// muscle moment, so every effort gives a positive peak torque; work is positive for both
// concentric (done by the muscles) and eccentric (absorbed by them) efforts.

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include <string>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/phase_role.h"
#include "isokin/analysis/repetition_segmenter.h"

namespace isokin::analysis {

enum class MuscleGroup { kExtensors, kFlexors };
using drivers::Contraction;  // kConcentric, kEccentric (kIsometric: not from moving phases)

std::string_view to_string(MuscleGroup group);  // "extensors", "flexors"
// Joint-aware name: knee → "quadriceps"/"hamstrings"; trunk → "trunk extensors"/"trunk flexors".
std::string_view muscle_group_name(drivers::Joint joint, MuscleGroup group);

// Bits of PhaseResult::flags: why a phase's numbers deserve caution (docs/analysis.md).
enum PhaseFlag : std::uint32_t {
  kPhaseOk = 0,
  kPhaseNonFinite = 1u << 0,      // NaN/Inf in the window: numbers are NaN, never guessed
  kPhaseTorqueClipped = 1u << 1,  // torque at the sensor limit (status bit or flat top)
  kPhaseGap = 1u << 2,            // samples lost or time jumps inside the phase
  kPhaseNoIsokinetic = 1u << 3,   // the set velocity was never reached
  kPhaseFlatTorque = 1u << 4,     // torque did not vary: no effort or a dead sensor
  kPhaseTruncated = 1u << 5,      // the recording ended while the lever was still moving
  // The full-range peak lies outside the isokinetic window (in the acceleration, deceleration or an
  // overshoot): the isokinetic peak torque is the load-range value (docs/analysis.md §7).
  kPhasePeakOutsideIsokinetic = 1u << 6,
  // The angle spans more than any joint can (kMaxJointRange): a damaged file, a hostile import
  // or a broken sensor. No torque–angle curve; listed, never best or summed (§12).
  kPhaseAngleOutOfRange = 1u << 7,
};

// Widest angle span (°) a phase may have: no joint turns further. A span beyond it is not a
// movement, and sizing the torque–angle curve by it would allocate without bound.
inline constexpr double kMaxJointRange = 360.0;

// A phase whose directed torque varies less than this (N·m) shows no effort or a dead sensor.
inline constexpr double kFlatTorqueRange = 2.0;

struct PhaseSignals {
  Eigen::Ref<const Eigen::ArrayXd> time;               // s
  Eigen::Ref<const Eigen::ArrayXd> torque;             // N·m, filtered, gravity-corrected
  Eigen::Ref<const Eigen::ArrayXd> angle;              // °, as recorded
  Eigen::Ref<const Eigen::ArrayXd> velocity;           // °/s, as recorded (phase limits)
  Eigen::Ref<const Eigen::ArrayXd> filtered_velocity;  // °/s (isokinetic window)
};

// The part of a phase within tolerance of the set velocity (docs/analysis.md, "windowing").
struct IsokineticResult {
  bool reached = false;
  double target_velocity = 0.0;    // °/s, magnitude
  double start_time = 0.0;         // s, first isokinetic sample
  double end_time = 0.0;           // s, last isokinetic sample
  double acceleration_time = 0.0;  // s from movement start to start_time
  double deceleration_time = 0.0;  // s from end_time to movement end
  double overshoot_time = 0.0;     // s with |v| above the tolerance band (excluded)
  double max_velocity = 0.0;       // °/s, highest |v| in the phase
  double peak_torque = 0.0;        // N·m, directed, isokinetic samples only
  double angle_at_peak = 0.0;      // °
  double time_to_peak = 0.0;       // s from the movement start
  double work = 0.0;               // J over the isokinetic samples
  double mean_power = 0.0;         // W = work / isokinetic duration
  double range_of_motion = 0.0;    // °, max − min angle of the isokinetic samples
};

struct PhaseResult {
  drivers::Movement movement = drivers::Movement::kExtension;
  int repetition = 0;  // 0-based count of this movement within the set
  MuscleGroup muscle = MuscleGroup::kExtensors;
  Contraction contraction = Contraction::kConcentric;
  double start_time = 0.0;  // s, velocity zero crossing
  double end_time = 0.0;    // s
  // Full range of the movement (acceleration and deceleration included):
  double peak_torque = 0.0;      // N·m, directed
  double angle_at_peak = 0.0;    // °
  double time_to_peak = 0.0;     // s from start_time
  double work = 0.0;             // J, |∫ τ dθ| signed +: θ in rad, trapezoid
  double range_of_motion = 0.0;  // °
  double mean_power = 0.0;       // W = work / duration
  // Directed torque at AnalysisSettings::torque_angles (linear interpolation); NaN when the
  // phase does not reach an angle.
  std::vector<double> torque_at_angles;
  // Directed torque on a grid of AnalysisSettings::angle_curve_step degrees from
  // curve_start_angle upward (angle-specific ratios).
  double curve_start_angle = 0.0;
  std::vector<double> torque_curve;
  IsokineticResult isokinetic;
  // Isometric efforts: mean directed torque over IsometricSettings::plateau_time centred on the
  // peak (NaN for moving phases).
  double plateau_torque = std::numeric_limits<double>::quiet_NaN();
  double gravity_moment = 0.0;  // N·m added back (T_g); 0 when the correction is off
  std::uint32_t flags = kPhaseOk;
  // What the phase was in the test and why (set by summarize_set, docs/analysis.md §16).
  PhaseRole role = PhaseRole::kTest;
  std::string role_reason;
  // The device marked this phase as one of its repetitions (sets with device segmentation);
  // false for movements found from the velocity outside the device's marks.
  bool device_marked = false;
};

// Sign that turns torque into directed torque for a movement (concentric assumption).
double direction_sign(drivers::Movement movement);

// Peak of the directed torque over [begin, end): its index.
Eigen::Index peak_torque_index(const Eigen::Ref<const Eigen::ArrayXd>& torque,
                               drivers::Movement movement);

// Mechanical work done by the subject on the lever, trapezoid over angle in radians:
// W = −∫ τ dθ. Positive when the muscles shorten (concentric).
double work(const Eigen::Ref<const Eigen::ArrayXd>& torque,
            const Eigen::Ref<const Eigen::ArrayXd>& angle_deg);

struct PeakFit {
  double angle = 0.0;   // °
  double torque = 0.0;  // N·m, directed
};
// The narrow fit: peak torque and its angle from the vertex of a parabola in angle fitted to the
// top 3 % of the curve; the peak sample when the fit is not concave, has fewer than 5
// samples or its vertex lies outside them.
PeakFit fit_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                 const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak);

// Peak torque and its angle for a movement phase (docs/analysis.md §6): maximum of a cubic in
// time fitted to every sample where the curve lies within 10 % of its peak, the window found
// from the curve itself by iterated parabolas; when that window is cut by the phase's edge or
// the lever's speed varies in it by more than 10 % (the peak falls in the acceleration), the
// narrow fit above. The angle is the recorded angle at the maximum's time (linear
// interpolation). time increasing; all four arrays of the same length.
PeakFit fit_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                 const Eigen::Ref<const Eigen::ArrayXd>& time,
                 const Eigen::Ref<const Eigen::ArrayXd>& angle,
                 const Eigen::Ref<const Eigen::ArrayXd>& velocity, Eigen::Index peak);

// Bounds a fitted peak by the raw (unfiltered, gravity-corrected, directed) samples it describes
// (docs/analysis.md §6): never above the highest raw sample, and never more than
// kPeakBelowMeanTop below the highest mean of `window` consecutive raw samples (50 ms: what a
// person reads as the sustained top). The fit assumes a smooth top; a broad, irregular plateau
// (real eccentric efforts) is not one, and there the highest mean is the better reading. When
// raised to that floor, the angle is the middle of that mean's samples.
inline constexpr double kPeakBelowMeanTop = 0.01;
inline constexpr double kPeakMeanWindowSeconds = 0.05;
PeakFit bound_peak(PeakFit fit, const Eigen::Ref<const Eigen::ArrayXd>& directed_raw,
                   const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index window);

// Angle of peak torque, robust to noise on flat-topped curves (vertex of a parabola fitted to the
// top 3 % of the curve); falls back to the angle of the peak sample.
double angle_of_peak(const Eigen::Ref<const Eigen::ArrayXd>& directed_torque,
                     const Eigen::Ref<const Eigen::ArrayXd>& angle, Eigen::Index peak);

// Analyses one isometric effort of already filtered, gravity-corrected torque: peak (largest
// sample), angle and time to peak from the effort's onset, plateau mean; no work or power.
PhaseResult analyze_isometric_effort(const PhaseSignals& signals, const MovementPhase& effort,
                                     const AnalysisSettings& settings = {});

// Analyses one phase of already filtered, gravity-corrected signals.
PhaseResult analyze_phase(const PhaseSignals& signals, const MovementPhase& phase,
                          const AnalysisSettings& settings = {}, double target_velocity = 0.0);

}  // namespace isokin::analysis
