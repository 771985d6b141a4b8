#include "isokin/analysis/live_session_analyser.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <exception>

#include "isokin/analysis/gravity_correction.h"

namespace isokin::analysis {

LiveSessionAnalyser::LiveSessionAnalyser(double sample_rate_hz, double body_mass_kg,
                                         bool device_ends_sets, LiveSessionCallbacks callbacks)
    : sample_rate_hz_(sample_rate_hz),
      body_mass_kg_(body_mass_kg),
      device_ends_sets_(device_ends_sets),
      callbacks_(std::move(callbacks)) {}

LiveSessionAnalyser::~LiveSessionAnalyser() = default;

void LiveSessionAnalyser::begin_set(const acquisition::SetInfo& set) {
  set_ = set;
  analyser_.reset();
  repetitions_done_.store(0);
  planned_ = set.setpoint.repetitions;
  counted_ = {0, 0};
  planned_reported_ = false;
  in_gravity_trial_ = set.kind == acquisition::kSetKindGravity;
  trial_torque_.clear();
  trial_angle_.clear();
  if (!device_ends_sets_) {
    say(in_gravity_trial_
            ? "the device only measures: end the set when the passive sweep is done"
            : fmt::format("the device only measures: the set ends after {} extensions and "
                          "flexions (or when the operator ends it)",
                          planned_));
  }
  if (in_gravity_trial_) return;  // relaxed limb: nothing to analyse, only the limb's weight
  AnalysisSettings settings;
  if (const auto trial = trial_moment_.find(set.setpoint.side); trial != trial_moment_.end()) {
    settings.gravity.mode = GravityMode::kGiven;
    settings.gravity.limb_moment = trial->second;
  }
  try {
    analyser_ = std::make_unique<LiveAnalyser>(
        set, sample_rate_hz_, settings, [this](const PhaseResult& r) { report(r); }, body_mass_kg_);
  } catch (const std::exception& e) {
    say(fmt::format("live analysis off for this set: {}", e.what()));
  }
}

void LiveSessionAnalyser::consume(std::span<const drivers::Sample> samples) {
  if (analyser_) analyser_->push(samples);
  if (in_gravity_trial_) {
    for (const drivers::Sample& s : samples) {
      trial_torque_.push_back(s.torque);
      trial_angle_.push_back(s.angle);
    }
  }
}

void LiveSessionAnalyser::end_set(const acquisition::SetStats& /*stats*/) {
  if (analyser_) {
    analyser_->finish();
    if (callbacks_.on_set_end) callbacks_.on_set_end(set_, analyser_->result());
    analyser_.reset();
  }
  if (!in_gravity_trial_) return;
  const auto n = static_cast<Eigen::Index>(trial_torque_.size());
  const auto estimate = estimate_limb_moment_from_trial(
      Eigen::Map<const Eigen::ArrayXd>(trial_torque_.data(), n),
      Eigen::Map<const Eigen::ArrayXd>(trial_angle_.data(), n), set_.setpoint.joint);
  if (estimate.mode == GravityMode::kFromTrial) {
    trial_moment_[set_.setpoint.side] = estimate.limb_moment;
    say(fmt::format("gravity trial: limb moment {:.1f} N·m", estimate.limb_moment));
  } else {
    say(fmt::format("gravity trial unusable: {}", estimate.reason));
  }
}

void LiveSessionAnalyser::say(const std::string& text) const {
  if (callbacks_.on_message) callbacks_.on_message(text);
}

void LiveSessionAnalyser::report(const PhaseResult& r) {
  if (r.movement == drivers::Movement::kFlexion) repetitions_done_.store(r.repetition + 1);
  if ((r.flags & kPhaseTruncated) == 0) {
    ++counted_[r.movement == drivers::Movement::kExtension ? 0 : 1];
  }
  if (callbacks_.on_phase) callbacks_.on_phase(set_, r);
  if (!device_ends_sets_ && !planned_reported_ && planned_ > 0 && counted_[0] >= planned_ &&
      counted_[1] >= planned_) {
    planned_reported_ = true;
    if (callbacks_.on_planned_repetitions_done) callbacks_.on_planned_repetitions_done();
  }
}

}  // namespace isokin::analysis
