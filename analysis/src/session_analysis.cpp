#include "isokin/analysis/session_analysis.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "isokin/analysis/gravity_correction.h"

#include "isokin/analysis/live_analyser.h"
#include "isokin/analysis/session_ratios.h"

namespace isokin::analysis {

namespace {

// analyze_set with the analyser's sample columns reused from the previous set (and handed back
// for the next one): a session's sets then page in that memory once.
SetAnalysis analyze_set_reusing(const acquisition::RecordedSet& set,
                                const AnalysisSettings& settings, double body_mass_kg,
                                double sample_rate_hz, LiveAnalyser::Buffers& buffers) {
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
  LiveAnalyser live(set.info, rate, settings, {}, body_mass_kg, std::move(buffers));
  // In blocks, as samples arrive live (the results do not depend on the block size).
  constexpr std::size_t kBlock = 4096;
  for (std::size_t i = 0; i < sig.size(); i += kBlock) live.push(sig, i, i + kBlock);
  live.finish();
  SetAnalysis result = live.result();
  buffers = live.release_buffers();
  return result;
}

// The device's own gravity setting of each set of an imported session ("off", "on", or empty
// when the session does not say), from the import mapping kept in /protocol/json: one object for
// every set, or {"sources": [one per set]}. Parsed once per session.
std::vector<std::string> device_gravity(const acquisition::Session& session) {
  std::vector<std::string> out(session.sets.size());
  if (session.info.protocol_json.find("device_gravity") == std::string::npos) return out;
  const auto doc = nlohmann::json::parse(session.info.protocol_json, nullptr, false);
  if (!doc.is_object()) return out;
  const auto setting = [](const nlohmann::json& mapping) {
    const auto value = mapping.find("device_gravity");
    if (value == mapping.end() || !value->is_string()) return std::string();
    const auto text = value->get<std::string>();
    return text == "off" || text == "on" ? text : std::string();
  };
  const auto sources = doc.find("sources");
  const bool per_set = sources != doc.end() && sources->is_array();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!per_set) {
      out[i] = setting(doc);
    } else if (i < sources->size() && (*sources)[i].is_object()) {
      out[i] = setting((*sources)[i]);
    }
  }
  return out;
}

}  // namespace

SetAnalysis analyze_set(const acquisition::RecordedSet& set, const AnalysisSettings& settings,
                        double body_mass_kg, double sample_rate_hz) {
  LiveAnalyser::Buffers buffers;
  return analyze_set_reusing(set, settings, body_mass_kg, sample_rate_hz, buffers);
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
  LiveAnalyser::Buffers buffers;  // one set after the other: the same memory for all
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
  const auto device_settings = device_gravity(session);
  for (std::size_t index = 0; index < session.sets.size(); ++index) {
    const auto& set = session.sets[index];
    if (set.info.kind == acquisition::kSetKindGravity) continue;
    const auto trial = trial_moment.find(set.info.setpoint.side);
    const bool use_trial =
        settings.gravity.mode == GravityMode::kFromRest && trial != trial_moment.end();
    AnalysisSettings set_settings = settings;
    if (use_trial) {
      set_settings.gravity.mode = GravityMode::kGiven;
      set_settings.gravity.limb_moment = trial->second;
    }
    const std::string device = settings.gravity.mode == GravityMode::kFromRest && !use_trial &&
                                       settings.gravity.follow_device_setting
                                   ? device_settings[index]
                                   : std::string();
    if (!device.empty()) set_settings.gravity.mode = GravityMode::kOff;
    auto a =
        analyze_set_reusing(set, set_settings, session.info.subject.body_mass_kg, rate, buffers);
    a.kind = set.info.kind;
    if (use_trial) a.gravity.mode = GravityMode::kFromTrial;
    if (!device.empty()) {
      a.gravity.reason = device == "off"
                             ? "as the device recorded it (its gravity correction was off); "
                               "--estimate-gravity estimates the limb's weight from the rest"
                             : "the device already corrected the torque for the limb's weight";
    }
    out.sets.push_back(std::move(a));
  }
  compare_sets(out);
  return out;
}

}  // namespace isokin::analysis
