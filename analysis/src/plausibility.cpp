#include "isokin/analysis/plausibility.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace isokin::analysis {
namespace {

void check_angles(SetAnalysis& set, std::span<const double> time, std::span<const double> angle) {
  const auto range = drivers::anatomical_range(set.joint);
  double lowest = std::numeric_limits<double>::infinity();
  double highest = -std::numeric_limits<double>::infinity();
  std::size_t outside = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < angle.size(); ++i) {
    const double a = angle[i];
    if (!std::isfinite(a)) continue;
    lowest = std::min(lowest, a);
    highest = std::max(highest, a);
    if (a >= range.min && a <= range.max) continue;
    if (outside++ == 0) first = i;
  }
  if (outside == 0) return;
  const std::string joint(drivers::to_string(set.joint));
  // A few samples are a glitch of the recording; most of them, a wrong mapping.
  const bool glitch =
      static_cast<double>(outside) < kAngleGlitchFraction * static_cast<double>(angle.size());
  set.warnings.push_back(fmt::format(
      "{} of {} samples (the first at {:.2f} s) lie outside the {}'s anatomical range ({:g}° "
      "to {:g}°; the recording spans {:.0f}° to {:.0f}°): {}",
      outside, angle.size(), first < time.size() ? time[first] : 0.0, joint, range.min, range.max,
      lowest, highest,
      glitch
          ? "isolated samples, a glitch of the recording"
          : "the angle's sign, offset or unit is mapped wrongly, or the joint is not a " + joint));
}

void check_rate(SetAnalysis& set, std::span<const double> time, double nominal) {
  if (!(nominal > 0.0) || time.size() < 3) return;
  const double span = time.back() - time.front();
  if (!(span > 0.0) || !std::isfinite(span)) return;
  const double measured = static_cast<double>(time.size() - 1) / span;
  if (std::abs(measured - nominal) <= kRateMismatch * nominal) return;
  set.warnings.push_back(fmt::format(
      "the time column gives {:.1f} Hz, the device's rate is {:g} Hz: samples were lost, or "
      "the rate or time unit is wrong",
      measured, nominal));
}

// The median top speed of the counted movements against the set velocity.
void check_speed(SetAnalysis& set, const MovementSummary& m, double set_velocity) {
  if (!(set_velocity > 0.0)) return;
  std::vector<double> tops;
  for (const auto& r : m.repetitions) {
    if (counts(r.role) && std::isfinite(r.isokinetic.max_velocity)) {
      tops.push_back(r.isokinetic.max_velocity);
    }
  }
  if (tops.empty()) return;
  std::nth_element(tops.begin(), tops.begin() + static_cast<std::ptrdiff_t>(tops.size() / 2),
                   tops.end());
  const double typical = tops[tops.size() / 2];
  if (typical <= kSpeedMismatchFactor * set_velocity &&
      typical * kSpeedMismatchFactor >= set_velocity) {
    return;
  }
  set.warnings.push_back(fmt::format(
      "{}s ran at about {:.0f} °/s, the set velocity is {:g} °/s: the speed or the velocity "
      "channel's scale is wrong",
      drivers::to_string(m.movement), typical, set_velocity));
}

}  // namespace

void check_plausibility(SetAnalysis& set, std::span<const double> time,
                        std::span<const double> angle, double nominal_rate_hz) {
  check_angles(set, time, angle);
  check_rate(set, time, nominal_rate_hz);
  if (set.phases_from == "isometric") return;
  check_speed(set, set.extension, set.velocity);
  check_speed(set, set.flexion, set.flexion_velocity);
}

}  // namespace isokin::analysis
