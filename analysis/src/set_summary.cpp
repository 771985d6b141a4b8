#include "isokin/analysis/set_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "isokin/analysis/fatigue.h"

namespace isokin::analysis {
namespace {

// A phase with NaN numbers, or only part of a movement, is listed but never best or summed.
bool usable(const PhaseResult& r) {
  return (r.flags & (kPhaseNonFinite | kPhaseTruncated | kPhaseAngleOutOfRange)) == 0;
}

std::string describe_flags(const PhaseResult& r) {
  std::string text;
  auto add = [&](std::uint32_t bit, const char* what) {
    if ((r.flags & bit) == 0) return;
    if (!text.empty()) text += "; ";
    text += what;
  };
  add(kPhaseNonFinite, "NaN or infinite values in its signals, its numbers are NaN");
  add(kPhaseTorqueClipped, "torque clipped at the sensor limit, peak torque is a lower bound");
  add(kPhaseGap, "samples missing or time steps irregular inside it");
  add(kPhaseNoIsokinetic, "the set velocity was never reached, no isokinetic values");
  add(kPhaseFlatTorque, "torque flat (no effort or a dead sensor)");
  add(kPhaseTruncated, "the recording ends inside it (cut off): not counted");
  add(kPhaseAngleOutOfRange,
      "its angle spans more than 360° (a damaged or out-of-range angle): no torque-angle curve, "
      "not counted");
  return text;
}

}  // namespace

MovementSummary summarize_movement(drivers::Movement movement, drivers::Joint joint,
                                   std::vector<PhaseResult> reps, double body_mass) {
  MovementSummary m;
  m.movement = movement;
  // Concentric naming until a repetition says otherwise.
  m.muscle =
      movement == drivers::Movement::kExtension ? MuscleGroup::kExtensors : MuscleGroup::kFlexors;
  m.repetitions = std::move(reps);
  std::vector<PhaseResult> valid;
  double sum_power = 0.0;
  for (std::size_t i = 0; i < m.repetitions.size(); ++i) {
    const auto& r = m.repetitions[i];
    if (!usable(r)) continue;
    valid.push_back(r);
    m.total_work += r.work;
    sum_power += r.mean_power;
    if (m.best_repetition < 0 || r.peak_torque > m.peak_torque) {
      m.best_repetition = static_cast<int>(i);
      m.peak_torque = r.peak_torque;
      m.angle_at_peak = r.angle_at_peak;
      m.muscle = r.muscle;
      m.contraction = r.contraction;
    }
    if (r.isokinetic.reached && !(r.isokinetic.peak_torque <= m.isokinetic_peak_torque)) {
      m.isokinetic_peak_torque = r.isokinetic.peak_torque;
    }
  }
  m.muscle_group = std::string(muscle_group_name(joint, m.muscle));
  if (body_mass > 0.0) m.peak_torque_per_body_mass = m.peak_torque / body_mass;
  const auto n = static_cast<double>(valid.size());
  if (!valid.empty()) {
    double sum = 0.0;
    for (const auto& r : valid) sum += r.peak_torque;
    m.mean_peak_torque = sum / n;
    m.mean_power = sum_power / n;
  }
  if (valid.size() >= 2) {
    double ss = 0.0;
    for (const auto& r : valid)
      ss += (r.peak_torque - m.mean_peak_torque) * (r.peak_torque - m.mean_peak_torque);
    m.coefficient_of_variation = 100.0 * std::sqrt(ss / (n - 1.0)) / m.mean_peak_torque;
  }
  m.fatigue = fatigue_indices(valid);
  return m;
}

void summarize_set(SetAnalysis& set, const std::vector<PhaseResult>& phases, double body_mass) {
  std::vector<PhaseResult> extensions;
  std::vector<PhaseResult> flexions;
  for (const auto& p : phases) {
    (p.movement == drivers::Movement::kExtension ? extensions : flexions).push_back(p);
    if ((p.flags & ~kPhasePeakOutsideIsokinetic) != kPhaseOk) {
      set.warnings.push_back(std::string(drivers::to_string(p.movement)) + " " +
                             std::to_string(p.repetition + 1) + ": " + describe_flags(p));
    }
  }
  set.extension = summarize_movement(drivers::Movement::kExtension, set.joint,
                                     std::move(extensions), body_mass);
  set.flexion =
      summarize_movement(drivers::Movement::kFlexion, set.joint, std::move(flexions), body_mass);
  // Usual at fast speeds, so one line per movement rather than one per repetition.
  for (const MovementSummary* m : {&set.extension, &set.flexion}) {
    const auto outside = std::count_if(
        m->repetitions.begin(), m->repetitions.end(),
        [](const PhaseResult& p) { return (p.flags & kPhasePeakOutsideIsokinetic) != 0; });
    if (outside == 0) continue;
    set.warnings.push_back(fmt::format(
        "{} ({}): peak torque outside the isokinetic window (acceleration, deceleration or speed "
        "overshoot) in {} of {} repetitions; at the set speed: {:.1f} N·m",
        drivers::to_string(m->movement), m->muscle_group, outside, m->repetitions.size(),
        m->isokinetic_peak_torque));
  }
  const auto& e = set.extension;
  const auto& f = set.flexion;
  if (e.best_repetition < 0 || f.best_repetition < 0) {
    set.warnings.emplace_back("no complete extension/flexion repetitions found");
    return;
  }
  for (const auto* m : {&e, &f}) {
    if (m->repetitions.size() == 1) {
      set.warnings.push_back("only one " + std::string(drivers::to_string(m->movement)) +
                             ": no coefficient of variation or fatigue indices");
    }
  }
  const bool same_kind =
      e.contraction == f.contraction &&
      (e.contraction == Contraction::kConcentric || e.contraction == Contraction::kIsometric);
  const bool agonist_antagonist =
      e.muscle == MuscleGroup::kExtensors && f.muscle == MuscleGroup::kFlexors && same_kind;
  if (!agonist_antagonist || !(e.peak_torque > 0.0)) return;
  set.hq_ratio = f.peak_torque / e.peak_torque;
  const std::size_t pairs = std::min(e.repetitions.size(), f.repetitions.size());
  for (std::size_t i = 0; i < pairs; ++i) {
    set.hq_by_repetition.push_back(f.repetitions[i].peak_torque / e.repetitions[i].peak_torque);
  }
  if (pairs >= 3) set.hq_drift_slope = fit_line(set.hq_by_repetition).slope;
}

}  // namespace isokin::analysis
