#include "isokin/analysis/live_analyser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "isokin/analysis/gravity_correction.h"
#include "isokin/analysis/plausibility.h"
#include "isokin/analysis/set_summary.h"

namespace isokin::analysis {
namespace {

// Internal status bit: the time step before this sample is irregular (gap or backwards).
constexpr std::uint32_t kTimeGap = 1u << 31;
// A step longer than this many nominal periods is a gap.
constexpr double kGapFactor = 1.5;
// Cut-offs at or above this fraction of the rate are lowered to rate / 4 (with a warning).
constexpr double kMaxCutoffFraction = 0.4;

double checked_rate(double rate) {
  if (!(rate > 0.0) || !std::isfinite(rate)) {
    throw std::invalid_argument("sample rate must be positive, got " + std::to_string(rate));
  }
  return rate;
}

double usable_cutoff(const AnalysisSettings& s, double rate) {
  return s.filter_cutoff_hz >= kMaxCutoffFraction * rate ? rate / 4.0 : s.filter_cutoff_hz;
}

double target_velocity(const drivers::MotionSetpoint& sp, drivers::Movement movement) {
  return movement == drivers::Movement::kExtension ? sp.extension_velocity : sp.flexion_velocity;
}

Eigen::Map<const Eigen::ArrayXd> column(const std::vector<double>& v, std::int64_t lo,
                                        std::int64_t hi) {
  return {v.data() + lo, static_cast<Eigen::Index>(hi - lo)};
}

}  // namespace

LiveAnalyser::LiveAnalyser(const acquisition::SetInfo& set, double sample_rate_hz,
                           AnalysisSettings settings, PhaseCallback on_phase, double body_mass_kg,
                           Buffers buffers)
    : set_(set),
      sample_rate_hz_(checked_rate(sample_rate_hz)),
      settings_(std::move(settings)),
      on_phase_(std::move(on_phase)),
      body_mass_kg_(body_mass_kg),
      filter_(settings_.filter_order, usable_cutoff(settings_, sample_rate_hz_), sample_rate_hz_),
      detector_(settings_.segmentation),
      device_detector_(settings_.segmentation),
      time_(std::move(buffers.time)),
      torque_(std::move(buffers.torque)),
      angle_(std::move(buffers.angle)),
      velocity_(std::move(buffers.velocity)),
      status_(std::move(buffers.status)) {
  for (auto* v : {&time_, &torque_, &angle_, &velocity_}) v->clear();
  status_.clear();
  if (filter_.cutoff_hz() != settings_.filter_cutoff_hz) {
    warnings_.push_back(fmt::format(
        "filter cut-off lowered from {:g} Hz to {:g} Hz (sample rate {:g} Hz: the cut-off must "
        "stay below {:g} × the rate)",
        settings_.filter_cutoff_hz, filter_.cutoff_hz(), sample_rate_hz_, kMaxCutoffFraction));
  }
  if (std::isfinite(settings_.torque_range_min) && std::isfinite(settings_.torque_range_max)) {
    range_tolerance_ = 1e-6 * (settings_.torque_range_max - settings_.torque_range_min);
  }
  margin_samples_ = static_cast<std::int64_t>(
      std::ceil(settings_.filter_margin_periods * sample_rate_hz_ / filter_.cutoff_hz()));
  const bool isometric = set_.setpoint.mode == drivers::ContractionMode::kIsometric;
  if (isometric) {
    phases_ = Phases::kIsometric;
    effort_detector_.emplace(settings_.isometric, sample_rate_hz_);
  } else if (settings_.segmentation.source == SegmentationSource::kDevice ||
             (settings_.segmentation.source == SegmentationSource::kAuto &&
              set_.device_segmented)) {
    phases_ = Phases::kDevice;
    if (!set_.device_segmented) {
      warnings_.emplace_back(
          "segmentation from the device's repetition/phase columns was asked for, but this set "
          "has none: no phases");
    }
  }
  if (settings_.gravity.mode == GravityMode::kGiven) {
    gravity_.mode = GravityMode::kGiven;
    gravity_.limb_moment = settings_.gravity.limb_moment;
    gravity_decided_ = true;
  } else if (settings_.gravity.mode == GravityMode::kOff) {
    gravity_.reason = "off by setting";
    gravity_decided_ = true;
  }
  // Pre-size for a typical set (a minute) so the real-time path rarely reallocates.
  const auto expected = static_cast<std::size_t>(60.0 * sample_rate_hz_);
  for (auto* v : {&time_, &torque_, &angle_, &velocity_}) v->reserve(expected);
  status_.reserve(expected);
}

LiveAnalyser::Buffers LiveAnalyser::release_buffers() {
  finished_ = true;
  return {std::move(time_), std::move(torque_), std::move(angle_), std::move(velocity_),
          std::move(status_)};
}

double LiveAnalyser::margin_seconds() const {
  return static_cast<double>(margin_samples_ + 1) / sample_rate_hz_;
}

void LiveAnalyser::push(std::span<const drivers::Sample> samples) noexcept {
  push(samples, {});
}

bool LiveAnalyser::detect(std::int64_t i, const drivers::Sample& sample,
                          const acquisition::DeviceSegment& segment, MovementPhase& phase) {
  switch (phases_) {
    case Phases::kDevice:
      return device_detector_.step(i, segment, sample.angle, phase);
    case Phases::kIsometric:
      return effort_detector_->step(i, sample.torque, phase);
    case Phases::kVelocity:
      break;
  }
  return detector_.step(i, sample.velocity, sample.angle, phase);
}

template <typename SampleAt>
void LiveAnalyser::push_samples(std::size_t count, SampleAt sample_at,
                                std::span<const acquisition::DeviceSegment> segments) noexcept {
  if (finished_) return;
  const double max_step = kGapFactor / sample_rate_hz_;
  for (std::size_t k = 0; k < count; ++k) {
    const drivers::Sample s = sample_at(k);
    const auto i = static_cast<std::int64_t>(time_.size());
    std::uint32_t status = s.status;
    // At the sensor's range limit: the true torque may have been higher (NaN limits: unknown).
    if (s.torque >= settings_.torque_range_max - range_tolerance_ ||
        s.torque <= settings_.torque_range_min + range_tolerance_) {
      status |= drivers::kStatusTorqueClipped;
    }
    if (i > 0) {
      const double step = s.time - time_.back();
      if (!(step > 0.0 && step <= max_step)) status |= kTimeGap;
      if (!(step > 0.0)) note_time_not_advancing(i, s.time, time_.back());
    }
    time_.push_back(s.time);
    torque_.push_back(s.torque);
    angle_.push_back(s.angle);
    velocity_.push_back(s.velocity);
    status_.push_back(status);
    const auto segment = k < segments.size() ? segments[k] : acquisition::DeviceSegment{};
    MovementPhase phase;
    if (detect(i, s, segment, phase)) {
      if (!gravity_decided_) decide_gravity(phase.begin);
      pending_.push_back({phase, phases_ == Phases::kDevice});
    }
    if (phases_ == Phases::kDevice) detect_unmarked(i, s, segment);
  }
  publish_ready(false);
}

void LiveAnalyser::detect_unmarked(std::int64_t i, const drivers::Sample& sample,
                                   const acquisition::DeviceSegment& segment) {
  const bool marked = segment.phase != acquisition::DevicePhase::kNone;
  if (marked && marked_run_start_ < 0) marked_run_start_ = i;
  if (!marked && marked_run_start_ >= 0) {
    marked_runs_.emplace_back(marked_run_start_, i);
    marked_run_start_ = -1;
  }
  MovementPhase phase;
  if (detector_.step(i, sample.velocity, sample.angle, phase) && !overlaps_marks(phase)) {
    pending_.push_back({phase, false});
  }
}

bool LiveAnalyser::overlaps_marks(const MovementPhase& phase) const {
  if (marked_run_start_ >= 0 && marked_run_start_ < phase.end) return true;
  // Runs end in time order: only the latest ones can reach into a phase that just ended.
  for (auto run = marked_runs_.rbegin(); run != marked_runs_.rend(); ++run) {  // NOLINT: backwards
    if (run->second <= phase.begin) break;
    if (run->first < phase.end) return true;
  }
  return false;
}

void LiveAnalyser::push(std::span<const drivers::Sample> samples,
                        std::span<const acquisition::DeviceSegment> segments) noexcept {
  push_samples(
      samples.size(), [&](std::size_t k) { return samples[k]; }, segments);
}

void LiveAnalyser::push(const acquisition::SetSignals& signals, std::size_t begin,
                        std::size_t end) noexcept {
  end = std::min(end, signals.size());
  if (begin >= end) return;
  // Device segments are either absent or one per sample (acquisition::SetSignals).
  const auto segments = signals.device_segments.size() == signals.size()
                            ? std::span(signals.device_segments).subspan(begin, end - begin)
                            : std::span<const acquisition::DeviceSegment>();
  push_samples(
      end - begin,
      [&](std::size_t k) {
        const std::size_t i = begin + k;
        return drivers::Sample{signals.time[i], signals.torque[i], signals.angle[i],
                               signals.velocity[i],
                               i < signals.status.size() ? signals.status[i] : drivers::kStatusOk};
      },
      segments);
}

void LiveAnalyser::finish() noexcept {
  if (finished_) return;
  MovementPhase phase;
  const auto n = static_cast<Eigen::Index>(time_.size());
  const bool found = phases_ == Phases::kDevice      ? device_detector_.finish(n, phase)
                     : phases_ == Phases::kIsometric ? effort_detector_->finish(n, phase)
                                                     : detector_.finish(n, phase);
  if (found) {
    if (!gravity_decided_) decide_gravity(phase.begin);
    pending_.push_back({phase, phases_ == Phases::kDevice});
  }
  if (phases_ == Phases::kDevice) {
    if (marked_run_start_ >= 0) marked_runs_.emplace_back(marked_run_start_, n);
    marked_run_start_ = -1;
    if (detector_.finish(n, phase) && !overlaps_marks(phase)) pending_.push_back({phase, false});
    // The two detectors close their phases at different samples: publish in time order.
    std::stable_sort(
        pending_.begin(), pending_.end(),
        [](const PendingPhase& a, const PendingPhase& b) { return a.phase.begin < b.phase.begin; });
  }
  if (!gravity_decided_) decide_gravity(static_cast<std::int64_t>(time_.size()));
  publish_ready(true);
  finished_ = true;
}

void LiveAnalyser::decide_gravity(std::int64_t rest_end) {
  gravity_decided_ = true;
  if (phases_ == Phases::kIsometric) {
    decide_isometric_gravity();
    return;
  }
  gravity_ = estimate_limb_moment(column(torque_, 0, rest_end), column(angle_, 0, rest_end),
                                  column(velocity_, 0, rest_end), settings_.gravity,
                                  sample_rate_hz_, set_.setpoint.joint);
}

void LiveAnalyser::decide_isometric_gravity() {
  const double baseline = effort_detector_->baseline();
  const auto rest = static_cast<int>(std::min<std::size_t>(
      time_.size(),
      static_cast<std::size_t>(std::lround(settings_.isometric.baseline_time * sample_rate_hz_))));
  if (!std::isfinite(baseline)) {
    gravity_.reason = "no resting torque before the first effort (too short or not finite)";
    return;
  }
  // The resting torque is the limb's weight moment at the hold angle (plus any sensor offset):
  // subtracting it is the gravity correction. T_g is reported where cos θ allows it.
  isometric_baseline_ = baseline;
  gravity_.mode = GravityMode::kFromRest;
  gravity_.rest_samples = rest;
  const double cosine = gravity_lever(set_.setpoint.hold_angle, set_.setpoint.joint);
  gravity_.limb_moment = std::abs(cosine) >= 0.1 ? -baseline / cosine : 0.0;
}

void LiveAnalyser::publish_ready(bool at_end) {
  // Movements outside the device's marks can be found before the first marked one, which
  // decides the gravity correction: they wait for it, so every phase is corrected alike.
  if (!gravity_decided_ && !at_end) return;
  const auto n = static_cast<std::int64_t>(time_.size());
  std::size_t done = 0;
  while (done < pending_.size() &&
         (at_end || pending_[done].phase.end + 1 + margin_samples_ <= n)) {
    publish(pending_[done]);
    ++done;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
}

void LiveAnalyser::publish(const PendingPhase& pending) {
  const MovementPhase& phase = pending.phase;
  // The window this phase's numbers depend on, and nothing else: live and offline agree.
  const auto n = static_cast<std::int64_t>(time_.size());
  const std::int64_t lo = std::max<std::int64_t>(0, phase.begin - 1 - margin_samples_);
  const std::int64_t hi = std::min<std::int64_t>(n, phase.end + 1 + margin_samples_);
  const auto time = column(time_, lo, hi);
  const auto angle = column(angle_, lo, hi);
  const auto velocity = column(velocity_, lo, hi);
  Eigen::ArrayXd torque = column(torque_, lo, hi);
  const bool finite =
      time.allFinite() && angle.allFinite() && velocity.allFinite() && torque.allFinite();
  if (phases_ == Phases::kIsometric && gravity_.mode == GravityMode::kFromRest) {
    torque -= isometric_baseline_;
  } else {
    correct_for_gravity(torque, angle, gravity_.limb_moment, set_.setpoint.joint);
  }
  Eigen::ArrayXd filtered_torque;
  Eigen::ArrayXd filtered_velocity;
  filter_.filtfilt(torque, velocity, filtered_torque, filtered_velocity);
  const PhaseSignals signals{time, filtered_torque, angle, velocity, filtered_velocity};
  MovementPhase local = phase;
  local.begin -= lo;
  local.end -= lo;
  PhaseResult r = phases_ == Phases::kIsometric
                      ? analyze_isometric_effort(signals, local, settings_)
                      : analyze_phase(signals, local, settings_,
                                      target_velocity(set_.setpoint, phase.movement));
  if (finite && phases_ != Phases::kIsometric) bound_peaks(r, local, torque, angle, time);
  r.gravity_moment = gravity_.limb_moment;
  r.device_marked = pending.device_marked;
  // Numbered among every phase of its movement in the set, marked by the device or not.
  r.repetition = published_count_[phase.movement == drivers::Movement::kExtension ? 0 : 1]++;
  for (std::int64_t i = phase.begin; i < phase.end; ++i) {
    const std::uint32_t s = status_[static_cast<std::size_t>(i)];
    if ((s & drivers::kStatusTorqueClipped) != 0) r.flags |= kPhaseTorqueClipped;
    if ((s & (drivers::kStatusGapBefore | drivers::kStatusCorrupt | kTimeGap)) != 0) {
      r.flags |= kPhaseGap;
    }
  }
  // Still moving at the last sample: the set was stopped (abort, redo, unplug) mid-movement,
  // so its numbers describe part of a repetition. A lever already at rest is a whole movement.
  // An effort reaching the last sample was still held when the recording ended; a movement
  // (found from velocity or marked by the device, whose last mark often runs to the end of an
  // export) was cut off only if the lever was still moving.
  const bool cut_off = phases_ == Phases::kIsometric ||
                       std::abs(velocity_[n - 1]) > settings_.segmentation.velocity_threshold;
  if (phase.end == n && cut_off) r.flags |= kPhaseTruncated;
  if (!finite) {
    r.flags |= kPhaseNonFinite;
    r.peak_torque = r.angle_at_peak = r.time_to_peak = r.work = r.mean_power = kNotAvailable;
    r.range_of_motion = kNotAvailable;
  }
  published_.push_back(std::move(r));
  if (on_phase_) on_phase_(published_.back());
}

void LiveAnalyser::bound_peaks(PhaseResult& r, const MovementPhase& phase,
                               const Eigen::Ref<const Eigen::ArrayXd>& raw_torque,
                               const Eigen::Ref<const Eigen::ArrayXd>& angle,
                               const Eigen::Ref<const Eigen::ArrayXd>& time) const {
  const double directed = r.muscle == MuscleGroup::kExtensors ? 1.0 : -1.0;
  const auto window =
      static_cast<Eigen::Index>(std::lround(kPeakMeanWindowSeconds * sample_rate_hz_));
  const Eigen::Index n = phase.end - phase.begin;
  const Eigen::ArrayXd raw = directed * raw_torque.segment(phase.begin, n);
  const bool same = r.isokinetic.peak_torque == r.peak_torque;
  const PeakFit full =
      bound_peak({r.angle_at_peak, r.peak_torque}, raw, angle.segment(phase.begin, n), window);
  r.peak_torque = full.torque;
  r.angle_at_peak = full.angle;
  if (!r.isokinetic.reached) return;
  if (same) {
    r.isokinetic.peak_torque = full.torque;
    r.isokinetic.angle_at_peak = full.angle;
    return;
  }
  // The isokinetic samples of the phase: those inside the window's times.
  Eigen::Index first = phase.begin;
  while (first < phase.end && time[first] < r.isokinetic.start_time) ++first;
  Eigen::Index last = first;
  while (last < phase.end && time[last] <= r.isokinetic.end_time) ++last;
  if (last <= first) return;
  const PeakFit iso = bound_peak({r.isokinetic.angle_at_peak, r.isokinetic.peak_torque},
                                 directed * raw_torque.segment(first, last - first),
                                 angle.segment(first, last - first), window);
  r.isokinetic.peak_torque = iso.torque;
  r.isokinetic.angle_at_peak = iso.angle;
}

void LiveAnalyser::note_time_not_advancing(std::int64_t sample, double time, double previous) {
  if (time_not_advancing_++ > 0) return;  // the first is named, the rest counted
  first_time_not_advancing_ =
      fmt::format("at sample {} (t = {:g} s after {:g} s)", sample, time, previous);
}

SetAnalysis LiveAnalyser::result() const {
  SetAnalysis a;
  a.set_index = set_.index;
  a.side = set_.setpoint.side;
  a.joint = set_.setpoint.joint;
  a.mode = set_.setpoint.mode;
  a.velocity = set_.setpoint.extension_velocity;
  a.flexion_velocity = set_.setpoint.flexion_velocity;
  a.kind = set_.kind;
  a.planned_repetitions = set_.setpoint.repetitions;
  a.phases_from = phases_ == Phases::kDevice      ? "device"
                  : phases_ == Phases::kIsometric ? "isometric"
                                                  : "velocity";
  if (phases_ == Phases::kIsometric) {
    a.velocity = a.flexion_velocity = 0.0;
    a.hold_angle = set_.setpoint.hold_angle;
  }
  a.gravity = gravity_;
  a.warnings = warnings_;
  if (time_not_advancing_ > 0) {
    // Such steps are gaps to the analysis (no phase spans them), but the recording's clock is
    // wrong: say so, once per set.
    a.warnings.push_back(fmt::format(
        "time runs backwards or stands still {} ({} time step(s) <= 0 in this set); phases "
        "are not measured across them",
        first_time_not_advancing_, time_not_advancing_));
  }
  if (time_.size() < 3) a.warnings.emplace_back("set has fewer than 3 samples");
  summarize_set(a, published_, body_mass_kg_, settings_);
  check_plausibility(a, time_, angle_, sample_rate_hz_);
  return a;
}

}  // namespace isokin::analysis
