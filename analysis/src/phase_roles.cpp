#include "isokin/analysis/phase_roles.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace isokin::analysis {

std::string_view to_string(PhaseRole role) {
  switch (role) {
    case PhaseRole::kTest:
      return "test";
    case PhaseRole::kWarmUp:
      return "warm-up";
    case PhaseRole::kPassive:
      return "passive";
    case PhaseRole::kOutside:
      return "outside";
    case PhaseRole::kCutOff:
      return "cut-off";
  }
  return "test";
}

std::optional<PhaseRole> parse_phase_role(std::string_view text) {
  for (const auto role : {PhaseRole::kTest, PhaseRole::kWarmUp, PhaseRole::kPassive,
                          PhaseRole::kOutside, PhaseRole::kCutOff}) {
    if (to_string(role) == text) return role;
  }
  return std::nullopt;
}

double mean_effort_torque(const PhaseResult& phase) {
  const double range_rad = phase.range_of_motion * std::numbers::pi / 180.0;
  if (!(range_rad > 0.0) || !std::isfinite(phase.work)) return std::nan("");
  return std::abs(phase.work) / range_rad;
}

namespace {

bool undecided(const PhaseResult& p) {
  return p.role == PhaseRole::kTest && p.role_reason.empty();
}

void decide(PhaseResult& p, PhaseRole role, std::string reason) {
  p.role = role;
  p.role_reason = std::move(reason);
}

// Movements the device did not mark are not part of its test; say where they lie.
void apply_device_marks(std::vector<PhaseResult>& phases) {
  const auto first = std::find_if(phases.begin(), phases.end(),
                                  [](const PhaseResult& p) { return p.device_marked; });
  if (first == phases.end()) {
    for (auto& p : phases) {
      if (undecided(p)) decide(p, PhaseRole::kOutside, "the device marked no repetition");
    }
    return;
  }
  const auto last = std::find_if(phases.rbegin(), phases.rend(),
                                 [](const PhaseResult& p) { return p.device_marked; });
  for (auto& p : phases) {
    if (p.device_marked || !undecided(p)) continue;
    if (p.end_time <= first->start_time) {
      decide(p, PhaseRole::kOutside, "before the device's first repetition");
    } else if (p.start_time >= last->end_time) {
      decide(p, PhaseRole::kOutside, "after the device's last repetition");
    } else {
      decide(p, PhaseRole::kOutside, "between the device's repetitions, not marked by it");
    }
  }
}

// Phases whose numbers say nothing about effort (NaN, or an angle no joint can span): their
// flags speak for them.
bool effort_unknown(const PhaseResult& p) {
  return (p.flags & (kPhaseNonFinite | kPhaseAngleOutOfRange)) != 0;
}

// No effort: the mean torque over the range is a small fraction of the set's strongest movement.
void apply_effort(std::vector<PhaseResult>& phases, double fraction) {
  double strongest = 0.0;
  for (const auto& p : phases) {
    if (p.role == PhaseRole::kCutOff || effort_unknown(p)) continue;
    const double effort = mean_effort_torque(p);
    if (effort > strongest) strongest = effort;
  }
  if (!(strongest > 0.0)) return;
  for (auto& p : phases) {
    if ((!undecided(p) && p.role != PhaseRole::kOutside) || effort_unknown(p)) continue;
    const double effort = mean_effort_torque(p);
    if (!(effort < fraction * strongest)) continue;
    const std::string why = fmt::format(
        "no effort (positioning or passive movement): mean torque over the range {:.1f} N·m, "
        "under {:g} % of the set's strongest movement ({:.1f} N·m)",
        effort, 100.0 * fraction, strongest);
    // A movement outside the device's test keeps that reason first; it was no effort either.
    decide(p, p.role == PhaseRole::kOutside ? PhaseRole::kOutside : PhaseRole::kPassive,
           p.role == PhaseRole::kOutside ? p.role_reason + "; " + why : why);
  }
}

// Efforts beyond the planned repetitions of each movement.
void apply_plan(std::vector<PhaseResult>& phases, int planned) {
  std::array<int, 2> seen{};
  for (auto& p : phases) {
    if (!undecided(p)) continue;
    int& count = seen[p.movement == drivers::Movement::kExtension ? 0 : 1];
    if (++count > planned) {
      decide(p, PhaseRole::kOutside,
             fmt::format("past the planned {} repetitions ({} {} of the set)", planned,
                         drivers::to_string(p.movement), count));
    }
  }
}

}  // namespace

void assign_phase_roles(std::vector<PhaseResult>& phases, const RoleContext& context,
                        const RoleSettings& settings) {
  for (auto& p : phases) {
    p.role = PhaseRole::kTest;
    p.role_reason.clear();
    if ((p.flags & kPhaseTruncated) != 0) {
      decide(p, PhaseRole::kCutOff, "the recording ends inside it (cut off)");
    }
  }
  if (context.device_marks) apply_device_marks(phases);
  if (!context.isometric) apply_effort(phases, settings.passive_effort_fraction);
  if (settings.limit_to_planned_repetitions && context.planned_repetitions > 0 &&
      !context.device_marks) {
    apply_plan(phases, context.planned_repetitions);
  }
  std::array<int, 2> marked{};  // the device's own count of each movement
  for (auto& p : phases) {
    const int device_count =
        p.device_marked ? ++marked[p.movement == drivers::Movement::kExtension ? 0 : 1] : 0;
    if (!undecided(p)) continue;
    if (context.warm_up_set) {
      decide(p, PhaseRole::kWarmUp, "a repetition of a warm-up set");
    } else if (p.device_marked) {
      decide(p, PhaseRole::kTest,
             fmt::format("the device's {} {}", drivers::to_string(p.movement), device_count));
    } else {
      decide(p, PhaseRole::kTest, "an effort of the test");
    }
  }
}

}  // namespace isokin::analysis
