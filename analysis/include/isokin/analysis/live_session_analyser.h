#pragma once
// The live analysis of a whole session, as one FanOut consumer: a LiveAnalyser per set, the
// passive gravity trial turned into the limb moment that the later sets of its side use (the
// choice analyze_session makes, so live numbers equal the offline ones), and, for devices that
// only measure, the signal that a set's planned repetitions are all in. Shared by `isokin run`
// and the desktop application.
//
// Thread contract: the FanOut calls begin_set/consume/end_set on the consumer's own thread and
// every callback runs there; repetitions_done() may be read from any thread.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "isokin/acquisition/fan_out.h"
#include "isokin/analysis/live_analyser.h"

namespace isokin::analysis {

struct LiveSessionCallbacks {
  // Each movement phase the moment it is final.
  std::function<void(const acquisition::SetInfo&, const PhaseResult&)> on_phase;
  // Something the operator should read ("gravity trial: limb moment 12.3 N·m").
  std::function<void(const std::string&)> on_message;
  // Once per set, when the device does not end sets itself and the planned extensions and
  // flexions have all been analysed: the caller ends the set (ProtocolRunner::request_end_set).
  std::function<void()> on_planned_repetitions_done;
  // At the end of each analysed set, with the set's summary.
  std::function<void(const acquisition::SetInfo&, const SetAnalysis&)> on_set_end;
};

class LiveSessionAnalyser final : public acquisition::SampleConsumer {
 public:
  LiveSessionAnalyser(double sample_rate_hz, double body_mass_kg, bool device_ends_sets,
                      LiveSessionCallbacks callbacks);
  ~LiveSessionAnalyser() override;

  void begin_set(const acquisition::SetInfo& set) override;
  void consume(std::span<const drivers::Sample> samples) override;
  void end_set(const acquisition::SetStats& stats) override;

  // Flexions analysed in the running set (the repetition under way is one more).
  [[nodiscard]] int repetitions_done() const noexcept { return repetitions_done_.load(); }

 private:
  void say(const std::string& text) const;
  void report(const PhaseResult& result);

  double sample_rate_hz_;
  double body_mass_kg_;
  bool device_ends_sets_;
  LiveSessionCallbacks callbacks_;
  std::atomic<int> repetitions_done_{0};

  acquisition::SetInfo set_;
  int planned_ = 0;
  std::array<int, 2> counted_{};  // extensions, flexions analysed and not cut off
  bool planned_reported_ = false;
  std::unique_ptr<LiveAnalyser> analyser_;
  bool in_gravity_trial_ = false;
  std::vector<double> trial_torque_;  // the passive trial, analysed when it ends
  std::vector<double> trial_angle_;
  std::map<drivers::Side, double> trial_moment_;  // N·m, per side, from its gravity trial
};

}  // namespace isokin::analysis
