#pragma once
// Decides each phase's role in a set (docs/analysis.md §16). Sources, most trusted first: the
// device's own repetition marks, the protocol's plan (the planned repetitions), then the signal
// (a movement without effort is passive). The rules see the whole set, so a set's roles are final
// when it ends; live results are the same rules over the phases published so far.

#include <string>
#include <vector>

#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/repetition_parameters.h"

namespace isokin::analysis {

struct RoleContext {
  bool warm_up_set = false;     // the set's kind is "warm-up"
  bool device_marks = false;    // phases come from the device's marks (plus unmarked movements)
  bool isometric = false;       // efforts of an isometric set: every complete effort counts
  int planned_repetitions = 0;  // per movement, from the protocol; 0 = not known
};

// Sets role and role_reason of every phase (in time order).
void assign_phase_roles(std::vector<PhaseResult>& phases, const RoleContext& context,
                        const RoleSettings& settings);

// Mean directed torque over the movement's range (N·m): work / range of motion. The effort
// measure of the passive rule; NaN when the phase has no range.
double mean_effort_torque(const PhaseResult& phase);

}  // namespace isokin::analysis
