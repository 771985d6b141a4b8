#pragma once
// What a movement phase was in the test (docs/analysis.md §16): only test repetitions enter a
// set's best repetition, means, variation, fatigue, totals and ratios; every other phase stays
// listed with its role and the reason for it.

#include <optional>
#include <string_view>

namespace isokin::analysis {

enum class PhaseRole {
  kTest,     // a repetition of the test
  kWarmUp,   // a repetition of a warm-up set (counts in its own set only, never in ratios)
  kPassive,  // no effort: positioning, a passive return, CPM (the lever carries a relaxed limb)
  kOutside,  // before the device's first or after its last repetition, or past the planned count
  kCutOff,   // the recording ends inside it
};

// "test", "warm-up", "passive", "outside", "cut-off" (the JSON and CSV form).
std::string_view to_string(PhaseRole role);
std::optional<PhaseRole> parse_phase_role(std::string_view text);

// Test and warm-up repetitions are the set's efforts; the others are listed only.
constexpr bool counts(PhaseRole role) {
  return role == PhaseRole::kTest || role == PhaseRole::kWarmUp;
}

}  // namespace isokin::analysis
