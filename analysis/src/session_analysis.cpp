#include "isokin/analysis/session_analysis.h"

#include <cmath>
#include <map>
#include <vector>

#include "isokin/analysis/gravity_correction.h"

#include "isokin/analysis/live_analyser.h"
#include "isokin/analysis/session_ratios.h"

namespace isokin::analysis {

SetAnalysis analyze_set(const acquisition::RecordedSet& set, const AnalysisSettings& settings,
                        double body_mass_kg, double sample_rate_hz) {
  const auto& sig = set.signals;
  double rate = sample_rate_hz;
  if (!(rate > 0.0) && sig.size() >= 2) {
    rate = static_cast<double>(sig.size() - 1) / (sig.time.back() - sig.time.front());
  }
  if (!(rate > 0.0) || !std::isfinite(rate)) {
    SetAnalysis empty;
    empty.set_index = set.info.index;
    empty.side = set.info.setpoint.side;
    empty.joint = set.info.setpoint.joint;
    empty.velocity = set.info.setpoint.extension_velocity;
    empty.gravity.reason = "no samples";
    empty.warnings.emplace_back(sig.size() < 3 ? "set has fewer than 3 samples"
                                               : "sample rate cannot be derived from the time");
    empty.warnings.emplace_back("no complete extension/flexion repetitions found");
    return empty;
  }
  // The same code as the live view: feed every sample, then end the set.
  LiveAnalyser live(set.info, rate, settings, {}, body_mass_kg);
  constexpr std::size_t kBlock = 4096;
  std::vector<drivers::Sample> block;
  block.reserve(kBlock);
  // Device segments are either absent or one per sample (acquisition::SetSignals).
  const bool segmented = sig.device_segments.size() == sig.size();
  std::size_t block_start = 0;
  const auto push_block = [&] {
    live.push(block, segmented ? std::span(sig.device_segments).subspan(block_start, block.size())
                               : std::span<const acquisition::DeviceSegment>());
    block_start += block.size();
    block.clear();
  };
  for (std::size_t i = 0; i < sig.size(); ++i) {
    block.push_back({sig.time[i], sig.torque[i], sig.angle[i], sig.velocity[i],
                     i < sig.status.size() ? sig.status[i] : drivers::kStatusOk});
    if (block.size() == kBlock) push_block();
  }
  push_block();
  live.finish();
  return live.result();
}

SessionAnalysis analyze_session(const acquisition::Session& session,
                                const AnalysisSettings& requested) {
  AnalysisSettings settings = requested;
  // The torque sensor's range as the device declared it, unless the caller gave one.
  for (const auto& channel : session.info.device.channels) {
    if (channel.name == "torque" && channel.range_max > channel.range_min &&
        std::isnan(settings.torque_range_min) && std::isnan(settings.torque_range_max)) {
      settings.torque_range_min = channel.range_min;
      settings.torque_range_max = channel.range_max;
    }
  }
  SessionAnalysis out;
  out.settings = settings;
  const double rate = session.info.device.sample_rate_hz;
  // Passive gravity trials first: their limb moment serves every set of the same side.
  std::map<drivers::Side, double> trial_moment;
  for (const auto& set : session.sets) {
    if (set.info.kind != acquisition::kSetKindGravity) continue;
    const auto& sig = set.signals;
    const auto n = static_cast<Eigen::Index>(sig.size());
    GravityTrial trial;
    trial.set_index = set.info.index;
    trial.side = set.info.setpoint.side;
    trial.estimate = estimate_limb_moment_from_trial(
        Eigen::Map<const Eigen::ArrayXd>(sig.torque.data(), n),
        Eigen::Map<const Eigen::ArrayXd>(sig.angle.data(), n), set.info.setpoint.joint);
    if (trial.estimate.mode == GravityMode::kFromTrial) {
      trial_moment[trial.side] = trial.estimate.limb_moment;
    }
    out.gravity_trials.push_back(trial);
  }
  for (const auto& set : session.sets) {
    if (set.info.kind == acquisition::kSetKindGravity) continue;
    const auto trial = trial_moment.find(set.info.setpoint.side);
    const bool use_trial =
        settings.gravity.mode == GravityMode::kFromRest && trial != trial_moment.end();
    AnalysisSettings set_settings = settings;
    if (use_trial) {
      set_settings.gravity.mode = GravityMode::kGiven;
      set_settings.gravity.limb_moment = trial->second;
    }
    auto a = analyze_set(set, set_settings, session.info.subject.body_mass_kg, rate);
    a.kind = set.info.kind;
    if (use_trial) a.gravity.mode = GravityMode::kFromTrial;
    out.sets.push_back(std::move(a));
  }
  compare_sets(out);
  return out;
}

}  // namespace isokin::analysis
