#include "isokin/analysis/set_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/fatigue.h"
#include "isokin/analysis/phase_roles.h"

namespace isokin::analysis {
namespace {

// A phase with NaN numbers, or only part of a movement, is listed but never best or summed.
bool usable(const PhaseResult& r) {
  return (r.flags & (kPhaseNonFinite | kPhaseTruncated | kPhaseAngleOutOfRange)) == 0 &&
         counts(r.role);
}

bool isokinetic_peak_known(const PhaseResult& r) {
  return r.contraction != Contraction::kIsometric && r.isokinetic.reached &&
         std::isfinite(r.isokinetic.peak_torque);
}

// The repetition's headline peak and its angle under the chosen basis.
struct HeadlinePeak {
  double torque = 0.0;
  double angle = 0.0;
  bool at_set_speed = false;
};
HeadlinePeak headline(const PhaseResult& r, PeakBasis basis) {
  if (basis == PeakBasis::kIsokinetic && isokinetic_peak_known(r)) {
    return {r.isokinetic.peak_torque, r.isokinetic.angle_at_peak, true};
  }
  return {r.peak_torque, r.angle_at_peak, false};
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

// Index of the best counted repetition: among those whose headline is at the set speed when any
// is (isokinetic basis), else among all counted ones.
int best_repetition(const std::vector<PhaseResult>& reps, PeakBasis basis) {
  int best = -1;
  bool best_at_speed = false;
  double best_torque = 0.0;
  for (std::size_t i = 0; i < reps.size(); ++i) {
    if (!usable(reps[i])) continue;
    const HeadlinePeak h = headline(reps[i], basis);
    const bool better = best < 0 || (h.at_set_speed && !best_at_speed) ||
                        (h.at_set_speed == best_at_speed && h.torque > best_torque);
    if (!better) continue;
    best = static_cast<int>(i);
    best_at_speed = h.at_set_speed;
    best_torque = h.torque;
  }
  return best;
}

}  // namespace

MovementSummary summarize_movement(drivers::Movement movement, drivers::Joint joint,
                                   std::vector<PhaseResult> reps, double body_mass,
                                   PeakBasis basis) {
  MovementSummary m;
  m.movement = movement;
  m.peak_basis = basis;
  // Concentric naming until a repetition says otherwise.
  m.muscle =
      movement == drivers::Movement::kExtension ? MuscleGroup::kExtensors : MuscleGroup::kFlexors;
  m.repetitions = std::move(reps);
  m.best_repetition = best_repetition(m.repetitions, basis);
  std::vector<double> peaks;
  std::vector<double> works;
  double sum_power = 0.0;
  for (const auto& r : m.repetitions) {
    if (!usable(r)) continue;
    peaks.push_back(headline(r, basis).torque);
    works.push_back(r.work);
    m.total_work += r.work;
    sum_power += r.mean_power;
    if (r.isokinetic.reached && !(r.isokinetic.peak_torque <= m.isokinetic_peak_torque)) {
      m.isokinetic_peak_torque = r.isokinetic.peak_torque;
    }
  }
  m.counted_repetitions = static_cast<int>(peaks.size());
  if (m.best_repetition >= 0) {
    const auto& best = m.repetitions[static_cast<std::size_t>(m.best_repetition)];
    const HeadlinePeak h = headline(best, basis);
    m.peak_torque = h.torque;
    m.angle_at_peak = h.angle;
    m.peak_at_set_speed = h.at_set_speed;
    m.full_range_peak_torque = best.peak_torque;
    m.full_range_angle_at_peak = best.angle_at_peak;
    m.muscle = best.muscle;
    m.contraction = best.contraction;
  }
  m.muscle_group = std::string(muscle_group_name(joint, m.muscle));
  if (body_mass > 0.0) m.peak_torque_per_body_mass = m.peak_torque / body_mass;
  const auto n = static_cast<double>(peaks.size());
  if (!peaks.empty()) {
    double sum = 0.0;
    for (const double p : peaks) sum += p;
    m.mean_peak_torque = sum / n;
    m.mean_power = sum_power / n;
  }
  if (peaks.size() >= 2) {
    double ss = 0.0;
    for (const double p : peaks) ss += (p - m.mean_peak_torque) * (p - m.mean_peak_torque);
    m.coefficient_of_variation = 100.0 * std::sqrt(ss / (n - 1.0)) / m.mean_peak_torque;
  }
  m.fatigue = fatigue_indices(peaks, works);
  return m;
}

namespace {

void warn_about_phases(SetAnalysis& set, const std::vector<PhaseResult>& phases) {
  for (const auto& p : phases) {
    const std::string name =
        std::string(drivers::to_string(p.movement)) + " " + std::to_string(p.repetition + 1);
    if (!counts(p.role)) {
      set.warnings.push_back(
          fmt::format("{} ({:.1f}-{:.1f} s, peak {:.1f} N·m) not counted ({}): {}", name,
                      p.start_time, p.end_time, p.peak_torque, to_string(p.role), p.role_reason));
    } else if ((p.flags & ~kPhasePeakOutsideIsokinetic) != kPhaseOk) {
      set.warnings.push_back(name + ": " + describe_flags(p));
    }
  }
  // Usual at fast speeds, so one line per movement rather than one per repetition.
  for (const MovementSummary* m : {&set.extension, &set.flexion}) {
    const auto outside =
        std::count_if(m->repetitions.begin(), m->repetitions.end(), [](const PhaseResult& p) {
          return counts(p.role) && (p.flags & kPhasePeakOutsideIsokinetic) != 0;
        });
    if (outside > 0) {
      set.warnings.push_back(fmt::format(
          "{} ({}): full-range peak torque outside the isokinetic window (acceleration, "
          "deceleration or speed overshoot) in {} of {} repetitions; at the set speed: {:.1f} N·m",
          drivers::to_string(m->movement), m->muscle_group, outside, m->counted_repetitions,
          m->isokinetic_peak_torque));
    }
    if (m->best_repetition >= 0 && m->peak_basis == PeakBasis::kIsokinetic &&
        !m->peak_at_set_speed && m->contraction != Contraction::kIsometric) {
      set.warnings.push_back(
          fmt::format("{} ({}): no counted repetition reached the set speed; the peak shown is the "
                      "full-range value",
                      drivers::to_string(m->movement), m->muscle_group));
    }
  }
}

// Why a set has no ratio when one movement has no counted effort.
std::string missing_effort_reason(const MovementSummary& m) {
  if (m.repetitions.empty()) return "no movement found";
  std::string roles;
  for (const auto& r : m.repetitions) {
    if (!roles.empty()) roles += ", ";
    roles += fmt::format("{} {}", to_string(r.role), r.repetition + 1);
  }
  return "none of its movements counts (" + roles + ")";
}

}  // namespace

void summarize_set(SetAnalysis& set, std::vector<PhaseResult> phases, double body_mass,
                   const AnalysisSettings& settings) {
  RoleContext context;
  context.warm_up_set = set.kind == acquisition::kSetKindWarmUp;
  context.device_marks = set.phases_from == "device";
  context.isometric = set.phases_from == "isometric";
  context.planned_repetitions = set.planned_repetitions;
  assign_phase_roles(phases, context, settings.roles);
  std::vector<PhaseResult> extensions;
  std::vector<PhaseResult> flexions;
  for (auto& p : phases) {
    (p.movement == drivers::Movement::kExtension ? extensions : flexions).push_back(p);
  }
  const PeakBasis basis = settings.peak_basis;
  set.extension = summarize_movement(drivers::Movement::kExtension, set.joint,
                                     std::move(extensions), body_mass, basis);
  set.flexion = summarize_movement(drivers::Movement::kFlexion, set.joint, std::move(flexions),
                                   body_mass, basis);
  warn_about_phases(set, phases);
  const auto& e = set.extension;
  const auto& f = set.flexion;
  if (e.best_repetition < 0 || f.best_repetition < 0) {
    // An isometric set often tests one muscle group only (a maximal voluntary contraction).
    const bool one_sided_isometric =
        set.phases_from == "isometric" && (e.best_repetition >= 0 || f.best_repetition >= 0);
    if (one_sided_isometric) return;
    set.warnings.emplace_back("no complete extension/flexion repetitions found");
    for (const MovementSummary* m : {&e, &f}) {
      if (m->best_repetition >= 0) continue;
      set.warnings.push_back(fmt::format("no {} effort counts, so the set has no ratio: {}",
                                         drivers::to_string(m->movement),
                                         missing_effort_reason(*m)));
    }
    return;
  }
  for (const auto* m : {&e, &f}) {
    if (m->counted_repetitions == 1) {
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
  // Repetition pairs: the i-th counted flexion over the i-th counted extension.
  std::vector<double> extension_peaks;
  std::vector<double> flexion_peaks;
  for (const auto& r : e.repetitions) {
    if (usable(r)) extension_peaks.push_back(headline(r, basis).torque);
  }
  for (const auto& r : f.repetitions) {
    if (usable(r)) flexion_peaks.push_back(headline(r, basis).torque);
  }
  const std::size_t pairs = std::min(extension_peaks.size(), flexion_peaks.size());
  for (std::size_t i = 0; i < pairs; ++i) {
    set.hq_by_repetition.push_back(flexion_peaks[i] / extension_peaks[i]);
  }
  if (pairs >= 3) set.hq_drift_slope = fit_line(set.hq_by_repetition).slope;
}

}  // namespace isokin::analysis
