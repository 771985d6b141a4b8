#pragma once
// From published phases to a set's summaries: best repetition, totals, variation, fatigue and the
// set's own flexor/extensor ratio and its drift.

#include <vector>

#include "isokin/analysis/set_analysis.h"

namespace isokin::analysis {

// Phases whose numbers are NaN (non-finite input) are listed but never chosen as best or summed.
MovementSummary summarize_movement(drivers::Movement movement, drivers::Joint joint,
                                   std::vector<PhaseResult> repetitions, double body_mass_kg);

// Fills a set's extension/flexion summaries, ratios and phase warnings from its phases.
void summarize_set(SetAnalysis& set, const std::vector<PhaseResult>& phases, double body_mass_kg);

}  // namespace isokin::analysis
