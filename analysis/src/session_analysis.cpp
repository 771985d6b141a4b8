#include "isokin/analysis/session_analysis.h"

#include <cmath>
#include <map>

#include "isokin/analysis/low_pass_filter.h"

namespace isokin::analysis {
namespace {

using drivers::Movement;
using drivers::Side;

Eigen::Map<const Eigen::ArrayXd> column(const std::vector<double>& v) {
  return {v.data(), static_cast<Eigen::Index>(v.size())};
}

MovementSummary summarize(Movement movement, std::vector<PhaseResult> reps, double body_mass) {
  MovementSummary m;
  m.movement = movement;
  m.muscle_group = std::string(drivers::muscle_group(drivers::Joint::kKnee, movement));
  m.repetitions = std::move(reps);
  for (std::size_t i = 0; i < m.repetitions.size(); ++i) {
    const auto& r = m.repetitions[i];
    m.total_work += r.work;
    if (m.best_repetition < 0 || r.peak_torque > m.peak_torque) {
      m.best_repetition = static_cast<int>(i);
      m.peak_torque = r.peak_torque;
      m.angle_at_peak = r.angle_at_peak;
    }
  }
  if (body_mass > 0.0) m.peak_torque_per_body_mass = m.peak_torque / body_mass;
  return m;
}

}  // namespace

SetAnalysis analyze_set(const acquisition::RecordedSet& set, const AnalysisSettings& settings,
                        double body_mass_kg) {
  SetAnalysis result;
  result.set_index = set.info.index;
  result.side = set.info.setpoint.side;
  result.velocity = set.info.setpoint.extension_velocity;

  const auto& sig = set.signals;
  std::vector<PhaseResult> extensions;
  std::vector<PhaseResult> flexions;
  if (sig.size() < 3) {
    result.warnings.emplace_back("set has fewer than 3 samples");
  } else {
    const double rate = static_cast<double>(sig.size() - 1) / (sig.time.back() - sig.time.front());
    const ButterworthLowPass filter(settings.filter_order, settings.filter_cutoff_hz, rate);
    const Eigen::ArrayXd torque = filter.filtfilt(column(sig.torque));
    // Position sensors are precise; the angle is used as recorded.
    const Eigen::Map<const Eigen::ArrayXd> angle = column(sig.angle);
    const Eigen::ArrayXd velocity = filter.filtfilt(column(sig.velocity));
    const Eigen::Map<const Eigen::ArrayXd> time = column(sig.time);
    const auto phases = RepetitionSegmenter(settings.segmentation).segment(velocity, angle);
    const PhaseSignals signals{time, torque, angle, velocity};
    for (const auto& phase : phases) {
      auto r = analyze_phase(signals, phase);
      (phase.movement == Movement::kExtension ? extensions : flexions).push_back(r);
    }
  }
  result.extension = summarize(Movement::kExtension, std::move(extensions), body_mass_kg);
  result.flexion = summarize(Movement::kFlexion, std::move(flexions), body_mass_kg);
  if (result.extension.repetitions.empty() || result.flexion.repetitions.empty()) {
    result.warnings.emplace_back("no complete extension/flexion repetitions found");
  } else if (result.extension.peak_torque > 0.0) {
    result.hq_ratio = result.flexion.peak_torque / result.extension.peak_torque;
  }
  return result;
}

SessionAnalysis analyze_session(const acquisition::Session& session,
                                const AnalysisSettings& settings) {
  SessionAnalysis out;
  out.settings = settings;
  for (const auto& set : session.sets) {
    out.sets.push_back(analyze_set(set, settings, session.info.subject.body_mass_kg));
  }
  // Latest set per side and speed (a redone set replaces the earlier one).
  std::map<double, std::map<Side, const SetAnalysis*>> by_speed;
  for (const auto& s : out.sets) by_speed[s.velocity][s.side] = &s;
  for (const auto& [speed, sides] : by_speed) {
    if (sides.size() != 2) continue;
    const SetAnalysis& left = *sides.at(Side::kLeft);
    const SetAnalysis& right = *sides.at(Side::kRight);
    for (const auto movement : {Movement::kExtension, Movement::kFlexion}) {
      const auto& l = movement == Movement::kExtension ? left.extension : left.flexion;
      const auto& r = movement == Movement::kExtension ? right.extension : right.flexion;
      if (l.best_repetition < 0 || r.best_repetition < 0) continue;
      BilateralComparison c;
      c.velocity = speed;
      c.muscle_group = l.muscle_group;
      c.left_peak_torque = l.peak_torque;
      c.right_peak_torque = r.peak_torque;
      const double stronger = std::max(l.peak_torque, r.peak_torque);
      const double weaker = std::min(l.peak_torque, r.peak_torque);
      c.weaker_side = l.peak_torque <= r.peak_torque ? Side::kLeft : Side::kRight;
      c.deficit_percent = stronger > 0.0 ? 100.0 * (stronger - weaker) / stronger : 0.0;
      out.bilateral.push_back(c);
    }
  }
  return out;
}

}  // namespace isokin::analysis
