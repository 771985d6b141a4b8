#pragma once
// Incremental analysis of one set: consumes samples as they arrive and publishes each movement
// phase's results as soon as they are final. The offline analysis (analyze_set) runs this very
// class over the recorded samples, so live and offline results are bit-identical.
//
// Why a phase is published a little after it ends: its numbers come from zero-phase filtering of
// the window [begin − margin, end + margin] (margin_seconds()), so they are final once the margin
// after the phase has arrived, or at finish().
//
// Gravity: analyze_session uses a session's passive gravity trial (set kind "gravity") for the
// later sets of the same side. To get the same numbers live, pass
// settings.gravity = {GravityMode::kGiven, estimate_limb_moment_from_trial(...).limb_moment}
// (gravity_correction.h) once the trial is recorded. Not thread-safe: one thread pushes.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "isokin/acquisition/session.h"
#include "isokin/analysis/analysis_settings.h"
#include "isokin/analysis/low_pass_filter.h"
#include "isokin/analysis/repetition_parameters.h"
#include "isokin/analysis/repetition_segmenter.h"
#include "isokin/analysis/set_analysis.h"
#include "isokin/drivers/sample.h"

namespace isokin::analysis {

class LiveAnalyser {
 public:
  // Called on the thread that calls push()/finish(); must not throw.
  using PhaseCallback = std::function<void(const PhaseResult&)>;

  // The sample columns an analyser keeps for its set. Analysing many sets one after the other
  // (analyze_session), hand them from one analyser to the next: their memory is then allocated
  // and paged in once, not once per set (docs/performance.md, "Profile").
  struct Buffers {
    std::vector<double> time, torque, angle, velocity;
    std::vector<std::uint32_t> status;
  };

  // sample_rate_hz: the device's nominal rate (DeviceDescription::sample_rate_hz). Throws
  // std::invalid_argument naming the bad value (rate ≤ 0, filter cut-off above Nyquist, ...).
  // buffers: memory to reuse (from release_buffers()); their content is discarded.
  LiveAnalyser(const acquisition::SetInfo& set, double sample_rate_hz,
               AnalysisSettings settings = {}, PhaseCallback on_phase = {},
               double body_mass_kg = 0.0, Buffers buffers = {});

  // Real-time path: never throws, amortised O(samples). Samples must be in time order.
  void push(std::span<const drivers::Sample> samples) noexcept;
  // For sets with the device's own segmentation (SetInfo::device_segmented): one segment per
  // sample; samples without one count as "between phases".
  void push(std::span<const drivers::Sample> samples,
            std::span<const acquisition::DeviceSegment> segments) noexcept;
  // Offline: samples [begin, end) of a recorded set's columns (with its device segments when it
  // has them), without building Samples first. The same results as pushing them as Samples.
  void push(const acquisition::SetSignals& signals, std::size_t begin, std::size_t end) noexcept;
  // End of set: publishes the phases still waiting for their margin. Further push() is ignored.
  void finish() noexcept;

  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] std::size_t sample_count() const { return time_.size(); }
  // Phases published so far, in order of their end.
  [[nodiscard]] const std::vector<PhaseResult>& phases() const { return published_; }
  [[nodiscard]] const GravityEstimate& gravity() const { return gravity_; }
  // Delay between a phase's end and its publication.
  [[nodiscard]] double margin_seconds() const;
  // Set summary over the phases published so far (final after finish()).
  [[nodiscard]] SetAnalysis result() const;
  // Hands over the sample columns for the next analyser, after result(): the analyser is then
  // finished and holds no samples.
  [[nodiscard]] Buffers release_buffers();

 private:
  // A phase found, waiting for its margin; device_marked: one of the device's marked runs.
  struct PendingPhase {
    MovementPhase phase;
    bool device_marked = false;
  };
  template <typename SampleAt>
  void push_samples(std::size_t count, SampleAt sample_at,
                    std::span<const acquisition::DeviceSegment> segments) noexcept;
  void decide_gravity(std::int64_t rest_end);
  void decide_isometric_gravity();
  bool detect(std::int64_t i, const drivers::Sample& sample,
              const acquisition::DeviceSegment& segment, MovementPhase& phase);
  void detect_unmarked(std::int64_t i, const drivers::Sample& sample,
                       const acquisition::DeviceSegment& segment);
  [[nodiscard]] bool overlaps_marks(const MovementPhase& phase) const;
  void publish_ready(bool at_end);
  void publish(const PendingPhase& pending);
  // The fitted peaks bounded by the phase's raw samples (repetition_parameters.h, bound_peak).
  void bound_peaks(PhaseResult& r, const MovementPhase& phase,
                   const Eigen::Ref<const Eigen::ArrayXd>& raw_torque,
                   const Eigen::Ref<const Eigen::ArrayXd>& angle,
                   const Eigen::Ref<const Eigen::ArrayXd>& time) const;
  void note_time_not_advancing(std::int64_t sample, double time, double previous);

  acquisition::SetInfo set_;
  double sample_rate_hz_;
  AnalysisSettings settings_;
  PhaseCallback on_phase_;
  double body_mass_kg_;
  ButterworthLowPass filter_;
  std::int64_t margin_samples_ = 0;
  double range_tolerance_ = 0.0;  // N·m: "at the limit" allows for the float round trip
  bool finished_ = false;
  bool gravity_decided_ = false;
  GravityEstimate gravity_;
  // Exactly one way of finding phases per set: velocity, the device's columns, or isometric
  // efforts (docs/analysis.md §3).
  enum class Phases { kVelocity, kDevice, kIsometric } phases_ = Phases::kVelocity;
  PhaseDetector detector_;
  DevicePhaseDetector device_detector_;  // constructed with the segmentation settings
  std::optional<IsometricEffortDetector> effort_detector_;
  double isometric_baseline_ = 0.0;  // N·m subtracted from isometric torque (gravity from rest)
  std::vector<double> time_, torque_, angle_, velocity_;
  std::vector<std::uint32_t> status_;  // device status, plus kTimeGap for irregular steps
  std::vector<PendingPhase> pending_;
  // Device-segmented sets: runs of marked samples [first, last) so far, and the open run's
  // start (−1 = none). A movement found from the velocity that overlaps none of them is listed
  // too, as outside the device's test (docs/analysis.md §16).
  std::vector<std::pair<std::int64_t, std::int64_t>> marked_runs_;
  std::int64_t marked_run_start_ = -1;
  std::array<int, 2> published_count_{};  // phases of each movement published so far
  std::vector<PhaseResult> published_;
  std::vector<std::string> warnings_;
  std::size_t time_not_advancing_ = 0;    // time steps <= 0 (or NaN) seen in the set
  std::string first_time_not_advancing_;  // where the first was, for the warning
};

}  // namespace isokin::analysis
