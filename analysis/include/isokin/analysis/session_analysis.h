#pragma once
// Offline analysis of a recorded session: every set through the same LiveAnalyser the live view
// uses, then the session's ratios (conventional and functional H:Q, flexor/extensor ratios,
// angle-specific curves), bilateral deficits, limb symmetry and interpretive flags.

#include <limits>
#include <string>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/repetition_parameters.h"
#include "isokin/analysis/repetition_segmenter.h"
#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

// Left vs right for one muscle group at one speed.
struct BilateralComparison {
  double velocity = 0.0;                                         // °/s; 0 for isometric efforts
  double hold_angle = std::numeric_limits<double>::quiet_NaN();  // °, isometric efforts
  std::string muscle_group;
  Contraction contraction = Contraction::kConcentric;
  double left_peak_torque = 0.0;
  double right_peak_torque = 0.0;
  // 100 · (stronger − weaker) / stronger; the weaker side is named.
  double deficit_percent = 0.0;
  // Limb symmetry index: 100 · weaker / stronger (= 100 − deficit).
  double limb_symmetry_index = 0.0;
  drivers::Side weaker_side = drivers::Side::kLeft;
};

// A ratio of two best peak torques of one side at one speed.
struct TorqueRatio {
  std::string kind;  // "conventional_hq", "functional_hq", "isometric_hq" (knee);
                     // "flexor_extensor", "functional_flexor_extensor",
                     // "isometric_flexor_extensor" (other joints)
  drivers::Side side = drivers::Side::kRight;
  double velocity = 0.0;                                         // °/s; 0 for isometric efforts
  double hold_angle = std::numeric_limits<double>::quiet_NaN();  // °, isometric efforts
  std::string numerator;                                         // e.g. "hamstrings eccentric"
  std::string denominator;                                       // e.g. "quadriceps concentric"
  double value = 0.0;
  // Angle-specific form: numerator / denominator torque on the common angle grid, from the
  // best repetitions; NaN where the denominator is below 10 % of its peak.
  double curve_start_angle = 0.0;
  double curve_step = 1.0;
  std::vector<double> curve;
};

// An interpretive flag: a value beyond a documented threshold. Never changes a number.
struct Flag {
  std::string code;     // "conventional_hq_low", "functional_hq_low", "bilateral_deficit",
                        // "limb_symmetry_low", "repetition_variation_high"
  std::string message;  // readable, names side/speed/muscle
  double value = 0.0;
  double threshold = 0.0;
  std::string source;  // literature reference of the threshold
};

// A passive gravity-correction trial and the limb moment it gave.
struct GravityTrial {
  int set_index = 0;
  drivers::Side side = drivers::Side::kRight;
  GravityEstimate estimate;
};

struct SessionAnalysis {
  AnalysisSettings settings;
  std::vector<GravityTrial> gravity_trials;
  std::vector<SetAnalysis> sets;  // test and warm-up sets (gravity trials are listed above)
  std::vector<BilateralComparison> bilateral;
  std::vector<TorqueRatio> ratios;
  std::vector<Flag> flags;
};

// sample_rate_hz: the device's nominal rate; 0 = derived from the time column.
SetAnalysis analyze_set(const acquisition::RecordedSet& set, const AnalysisSettings& settings,
                        double body_mass_kg = 0.0, double sample_rate_hz = 0.0);
SessionAnalysis analyze_session(const acquisition::Session& session,
                                const AnalysisSettings& settings = {});

}  // namespace isokin::analysis
