#pragma once
// From published phases to a set's summaries: each phase's role, then over the counted ones the
// best repetition, totals, variation, fatigue and the set's own flexor/extensor ratio and its
// drift.

#include <vector>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

// Phases whose numbers are NaN (non-finite input), and phases that do not count (their role), are
// listed but never chosen as best or summed.
MovementSummary summarize_movement(drivers::Movement movement, drivers::Joint joint,
                                   std::vector<PhaseResult> repetitions, double body_mass_kg,
                                   PeakBasis basis = PeakBasis::kIsokinetic);

// Assigns each phase its role (phase_roles.h), then fills the set's extension/flexion summaries,
// ratios and warnings. The set's kind, phases_from, mode and planned_repetitions must be set.
void summarize_set(SetAnalysis& set, std::vector<PhaseResult> phases, double body_mass_kg,
                   const AnalysisSettings& settings);

}  // namespace isokin::analysis
