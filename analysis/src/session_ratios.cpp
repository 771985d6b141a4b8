#include "isokin/analysis/session_ratios.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace isokin::analysis {
namespace {

// Imported recordings may not know the set velocity (stored as 0).
std::string speed_text(double velocity) {
  return velocity > 0.0 ? fmt::format("{:g} °/s", velocity) : std::string("speed ?");
}
// The test condition: a speed, or the hold angle of an isometric effort.
std::string condition_text(double condition, Contraction contraction) {
  return contraction == Contraction::kIsometric ? fmt::format("at {:g}°", condition)
                                                : speed_text(condition);
}

using drivers::Side;

struct Effort {
  const MovementSummary* summary = nullptr;
  double velocity = 0.0;
  drivers::Joint joint = drivers::Joint::kKnee;
};

// (velocity or isometric hold angle, muscle, contraction, side) → latest summary with a best
// repetition.
using EffortKey = std::tuple<double, MuscleGroup, Contraction, Side>;

std::string effort_name(drivers::Joint joint, MuscleGroup m, Contraction c) {
  return std::string(muscle_group_name(joint, m)) + " " + std::string(drivers::to_string(c));
}

}  // namespace

void angle_specific_ratio(const PhaseResult& num, const PhaseResult& den, double step,
                          TorqueRatio& out, double floor_fraction) {
  out.curve.clear();
  out.curve_step = step;
  if (num.torque_curve.empty() || den.torque_curve.empty() || !(step > 0.0)) return;
  const double num_end =
      num.curve_start_angle + step * static_cast<double>(num.torque_curve.size() - 1);
  const double den_end =
      den.curve_start_angle + step * static_cast<double>(den.torque_curve.size() - 1);
  const double start = std::max(num.curve_start_angle, den.curve_start_angle);
  const double end = std::min(num_end, den_end);
  if (end < start) return;
  out.curve_start_angle = start;
  const auto count = static_cast<std::size_t>(std::lround((end - start) / step)) + 1;
  const auto ni = static_cast<std::size_t>(std::lround((start - num.curve_start_angle) / step));
  const auto di = static_cast<std::size_t>(std::lround((start - den.curve_start_angle) / step));
  const double floor = floor_fraction * den.peak_torque;
  for (std::size_t k = 0; k < count; ++k) {
    const double d = den.torque_curve[di + k];
    out.curve.push_back(d >= floor && d > 0.0 ? num.torque_curve[ni + k] / d : kNotAvailable);
  }
}

void compare_sets(SessionAnalysis& a) {
  std::map<EffortKey, Effort> efforts;
  for (const auto& s : a.sets) {
    if (s.kind == acquisition::kSetKindWarmUp) continue;  // warm-ups are submaximal by design
    for (const auto* m : {&s.extension, &s.flexion}) {
      if (m->best_repetition < 0) continue;
      const double v = m->contraction == Contraction::kIsometric      ? s.hold_angle
                       : m->movement == drivers::Movement::kExtension ? s.velocity
                                                                      : s.flexion_velocity;
      efforts[{v, m->muscle, m->contraction, s.side}] = {m, v, s.joint};
    }
  }
  const auto& thresholds = a.settings.flags;
  // Bilateral: same muscle, contraction and speed on both sides.
  for (const auto& [key, left] : efforts) {
    const auto& [v, muscle, contraction, side] = key;
    if (side != Side::kLeft) continue;
    const auto right_it = efforts.find({v, muscle, contraction, Side::kRight});
    if (right_it == efforts.end()) continue;
    const auto& right = right_it->second;
    BilateralComparison c;
    const bool isometric = contraction == Contraction::kIsometric;
    c.velocity = isometric ? 0.0 : v;
    if (isometric) c.hold_angle = v;
    c.muscle_group = left.summary->muscle_group;
    c.contraction = contraction;
    c.left_peak_torque = left.summary->peak_torque;
    c.right_peak_torque = right.summary->peak_torque;
    const double stronger = std::max(c.left_peak_torque, c.right_peak_torque);
    const double weaker = std::min(c.left_peak_torque, c.right_peak_torque);
    c.weaker_side = c.left_peak_torque <= c.right_peak_torque ? Side::kLeft : Side::kRight;
    c.deficit_percent = stronger > 0.0 ? 100.0 * (stronger - weaker) / stronger : 0.0;
    c.limb_symmetry_index = stronger > 0.0 ? 100.0 * weaker / stronger : 0.0;
    a.bilateral.push_back(c);
    const std::string where =
        fmt::format("{} {} {}", c.muscle_group, drivers::to_string(contraction),
                    condition_text(v, contraction));
    if (c.deficit_percent > thresholds.bilateral_deficit_max) {
      a.flags.push_back({"bilateral_deficit",
                         fmt::format("{}: {} side {:.1f} % weaker (threshold {:g} %)", where,
                                     drivers::to_string(c.weaker_side), c.deficit_percent,
                                     thresholds.bilateral_deficit_max),
                         c.deficit_percent, thresholds.bilateral_deficit_max,
                         "Sapega 1990, J Bone Joint Surg Am 72:1562-74 (10-15 % abnormal)"});
    }
    if (c.limb_symmetry_index < thresholds.limb_symmetry_min) {
      a.flags.push_back({"limb_symmetry_low",
                         fmt::format("{}: limb symmetry index {:.1f} % (threshold {:g} %)", where,
                                     c.limb_symmetry_index, thresholds.limb_symmetry_min),
                         c.limb_symmetry_index, thresholds.limb_symmetry_min,
                         "Grindem et al. 2016, Br J Sports Med 50:804-8 (LSI >= 90 %)"});
    }
  }
  // Ratios: flexors (concentric or eccentric) over concentric extensors, same side and speed.
  for (const auto& [key, den] : efforts) {
    const auto& [v, muscle, contraction, side] = key;
    if (muscle != MuscleGroup::kExtensors || contraction == Contraction::kEccentric) continue;
    const bool isometric = contraction == Contraction::kIsometric;
    // Isometric efforts pair with isometric ones at the same angle only.
    const std::vector<Contraction> numerators =
        isometric ? std::vector{Contraction::kIsometric}
                  : std::vector{Contraction::kConcentric, Contraction::kEccentric};
    for (const auto flexor_contraction : numerators) {
      const auto num_it = efforts.find({v, MuscleGroup::kFlexors, flexor_contraction, side});
      if (num_it == efforts.end()) continue;
      const auto& num = num_it->second;
      const bool knee = den.joint == drivers::Joint::kKnee;
      const bool conventional = flexor_contraction == Contraction::kConcentric;
      TorqueRatio r;
      r.kind = isometric      ? (knee ? "isometric_hq" : "isometric_flexor_extensor")
               : conventional ? (knee ? "conventional_hq" : "flexor_extensor")
                              : (knee ? "functional_hq" : "functional_flexor_extensor");
      r.side = side;
      r.velocity = isometric ? 0.0 : v;
      if (isometric) r.hold_angle = v;
      r.numerator = effort_name(num.joint, MuscleGroup::kFlexors, flexor_contraction);
      r.denominator = effort_name(den.joint, MuscleGroup::kExtensors, contraction);
      r.value = num.summary->peak_torque / den.summary->peak_torque;
      angle_specific_ratio(
          num.summary->repetitions[static_cast<std::size_t>(num.summary->best_repetition)],
          den.summary->repetitions[static_cast<std::size_t>(den.summary->best_repetition)],
          a.settings.angle_curve_step, r);
      a.ratios.push_back(r);
      // No flag threshold is established for isometric H:Q (docs/analysis.md §10).
      if (!knee || isometric) continue;
      const double threshold =
          conventional ? thresholds.conventional_hq_min : thresholds.functional_hq_min;
      if (r.value < threshold) {
        a.flags.push_back(
            {conventional ? "conventional_hq_low" : "functional_hq_low",
             fmt::format("{} {}: {} H:Q {:.2f} below {:.2f}", drivers::to_string(side),
                         speed_text(v), conventional ? "conventional" : "functional", r.value,
                         threshold),
             r.value, threshold,
             conventional ? "Coombs & Garbutt 2002, J Sports Sci Med 1:56-62"
                          : "Aagaard et al. 1998, Am J Sports Med 26:231-7"});
      }
    }
  }
  // Consistency of effort within each set.
  for (const auto& s : a.sets) {
    for (const auto* m : {&s.extension, &s.flexion}) {
      if (!(m->coefficient_of_variation > thresholds.coefficient_of_variation_max)) continue;
      a.flags.push_back(
          {"repetition_variation_high",
           fmt::format("set {} {} {} {}: peak torque varies {:.1f} % between repetitions",
                       s.set_index, drivers::to_string(s.side), speed_text(s.velocity),
                       m->muscle_group, m->coefficient_of_variation),
           m->coefficient_of_variation, thresholds.coefficient_of_variation_max,
           "Biodex System 4 clinical resource manual (CV above 15 % suggests submaximal or "
           "inconsistent effort)"});
    }
  }
}

}  // namespace isokin::analysis
