#include "live_session.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <thread>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/live_stream.h"
#include "isokin/analysis/gravity_correction.h"
#include "isokin/analysis/live_analyser.h"

namespace isokin::cli {
namespace {

using acquisition::PlannedSet;
using acquisition::SetInfo;
using acquisition::SetStats;
using drivers::Sample;

std::atomic<acquisition::ProtocolRunner*> g_runner{nullptr};
std::atomic<bool> g_wait_aborted{false};  // Ctrl-C while waiting for stream clients

// Lines from the runner, the analyser and the progress threads, never interleaved.
class Printer {
 public:
  explicit Printer(std::ostream& out) : out_(out) {}
  void line(const std::string& text) {
    const std::lock_guard lock(mutex_);
    out_ << text << '\n';
    out_.flush();
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(std::max(0.0, std::round(seconds)));
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

std::string describe(const SetInfo& set) {
  const auto& sp = set.setpoint;
  const std::string side = sp.joint == drivers::Joint::kTrunk
                               ? std::string("trunk")
                               : std::string(drivers::to_string(sp.side));
  return fmt::format("{} {}{}", side, set.label,
                     set.attempt > 1 ? fmt::format(" (attempt {})", set.attempt) : "");
}

// Per-repetition results as they are final.
class AnalyserConsumer final : public acquisition::SampleConsumer {
 public:
  // ends_sets: the device ends each set itself; otherwise this consumer ends it once the planned
  // repetitions have been analysed.
  AnalyserConsumer(Printer& printer, double sample_rate, double body_mass, std::atomic<int>& reps,
                   bool ends_sets)
      : printer_(printer),
        sample_rate_(sample_rate),
        body_mass_(body_mass),
        reps_(reps),
        device_ends_sets_(ends_sets) {}

  // Results also go to the stream's clients; printing can be off (stream only).
  void set_outputs(bool print, acquisition::LiveStream* stream) {
    print_ = print;
    stream_ = stream;
  }

  void begin_set(const SetInfo& set) override {
    set_index_ = set.index;
    analyser_.reset();
    reps_.store(0);
    planned_ = set.setpoint.repetitions;
    done_ = {0, 0};
    if (!device_ends_sets_) {
      printer_.line(
          set.kind == acquisition::kSetKindGravity
              ? "  the device only measures: type e + Enter when the passive sweep is done"
              : fmt::format("  the device only measures: the set ends after {} "
                            "extensions and flexions (or type e + Enter)",
                            planned_));
    }
    side_ = set.setpoint.side;
    joint_ = set.setpoint.joint;
    in_gravity_trial_ = set.kind == acquisition::kSetKindGravity;
    trial_torque_.clear();
    trial_angle_.clear();
    if (in_gravity_trial_) return;  // relaxed limb: nothing to analyse, only the limb's weight
    // The same choice analyze_session makes, so live numbers equal `isokin analyze`: a set uses
    // the limb (or trunk) moment of its side's passive gravity trial when one was recorded.
    analysis::AnalysisSettings settings;
    if (const auto trial = trial_moment_.find(side_); trial != trial_moment_.end()) {
      settings.gravity.mode = analysis::GravityMode::kGiven;
      settings.gravity.limb_moment = trial->second;
    }
    try {
      analyser_ = std::make_unique<analysis::LiveAnalyser>(
          set, sample_rate_, settings, [this](const analysis::PhaseResult& r) { report(r); },
          body_mass_);
    } catch (const std::exception& e) {
      say(fmt::format("  live analysis off for this set: {}", e.what()));
    }
  }
  void consume(std::span<const Sample> samples) override {
    if (analyser_) analyser_->push(samples);
    if (in_gravity_trial_) {
      for (const Sample& s : samples) {
        trial_torque_.push_back(s.torque);
        trial_angle_.push_back(s.angle);
      }
    }
  }
  void end_set(const SetStats& /*stats*/) override {
    if (analyser_) analyser_->finish();
    analyser_.reset();
    if (in_gravity_trial_) {
      const auto n = static_cast<Eigen::Index>(trial_torque_.size());
      const auto estimate = analysis::estimate_limb_moment_from_trial(
          Eigen::Map<const Eigen::ArrayXd>(trial_torque_.data(), n),
          Eigen::Map<const Eigen::ArrayXd>(trial_angle_.data(), n), joint_);
      if (estimate.mode == analysis::GravityMode::kFromTrial) {
        trial_moment_[side_] = estimate.limb_moment;
        say(fmt::format("  gravity trial: limb moment {:.1f} N·m", estimate.limb_moment));
      } else {
        say(fmt::format("  gravity trial unusable: {}", estimate.reason));
      }
    }
  }

 private:
  void say(const std::string& text) {
    if (print_) printer_.line(text);
  }
  void report(const analysis::PhaseResult& r) {
    if (r.movement == drivers::Movement::kFlexion) reps_.store(r.repetition + 1);
    if ((r.flags & analysis::kPhaseTruncated) == 0) {
      ++done_[r.movement == drivers::Movement::kExtension ? 0 : 1];
    }
    if (!device_ends_sets_ && planned_ > 0 && done_[0] >= planned_ && done_[1] >= planned_) {
      if (auto* runner = g_runner.load()) runner->request_end_set("planned repetitions recorded");
    }
    if (stream_ != nullptr) stream_->publish_json(repetition_json(r));
    say(fmt::format(
        "    rep {:>2} {:<9} {:<10} {:<10} peak {:6.1f} N·m at {:3.0f}°, work {:6.1f} J{}",
        r.repetition + 1, drivers::to_string(r.movement),
        analysis::muscle_group_name(joint_, r.muscle), drivers::to_string(r.contraction),
        r.peak_torque, r.angle_at_peak, r.work,
        (r.flags & analysis::kPhaseTruncated) != 0 ? "  (cut off: not counted)" : ""));
  }

  // docs/stream-protocol.md §5: one phase (extension or flexion) of a repetition.
  std::string repetition_json(const analysis::PhaseResult& r) const {
    const nlohmann::json j = {{"type", "repetition"},
                              {"set_index", set_index_},
                              {"repetition", r.repetition + 1},
                              {"movement", drivers::to_string(r.movement)},
                              {"muscle", analysis::muscle_group_name(joint_, r.muscle)},
                              {"contraction", drivers::to_string(r.contraction)},
                              {"start_time", r.start_time},
                              {"end_time", r.end_time},
                              {"peak_torque", r.peak_torque},
                              {"angle_at_peak", r.angle_at_peak},
                              {"time_to_peak", r.time_to_peak},
                              {"work", r.work},
                              {"mean_power", r.mean_power},
                              {"range_of_motion", r.range_of_motion},
                              {"gravity_moment", r.gravity_moment},
                              {"counted", (r.flags & analysis::kPhaseTruncated) == 0},
                              {"flags", r.flags}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  Printer& printer_;
  double sample_rate_;
  double body_mass_;
  std::atomic<int>& reps_;
  bool device_ends_sets_ = true;
  int planned_ = 0;
  std::array<int, 2> done_{};  // extensions, flexions analysed (not cut off)
  bool print_ = true;
  acquisition::LiveStream* stream_ = nullptr;
  int set_index_ = -1;
  drivers::Joint joint_ = drivers::Joint::kKnee;
  drivers::Side side_ = drivers::Side::kRight;
  std::unique_ptr<analysis::LiveAnalyser> analyser_;
  bool in_gravity_trial_ = false;
  std::vector<double> trial_torque_;  // the passive trial, analysed when it ends
  std::vector<double> trial_angle_;
  std::map<drivers::Side, double> trial_moment_;  // N·m, per side, from its gravity trial
};

// About once a second of device time: set, repetition, live peak torque, time left.
class ProgressConsumer final : public acquisition::SampleConsumer {
 public:
  ProgressConsumer(Printer& printer, const std::atomic<int>& reps,
                   const std::atomic<double>& seconds_after_set)
      : printer_(printer), reps_(reps), seconds_after_set_(seconds_after_set) {}

  void begin_set(const SetInfo& set) override {
    set_ = set;
    peak_ = 0.0;
    next_report_ = 1.0;
    duration_ = estimated_set_seconds({set, 0.0, false, 0.0});
  }
  void consume(std::span<const Sample> samples) override {
    for (const Sample& s : samples) {
      peak_ = std::max(peak_, std::abs(s.torque));
      if (s.time >= next_report_) {
        next_report_ += 1.0;
        const double left = std::max(0.0, duration_ - s.time) + seconds_after_set_.load();
        printer_.line(fmt::format("  [{}] rep {}/{}  peak {:.1f} N·m  ~{} left", describe(set_),
                                  // the repetition under way: one past those analysed
                                  std::min(reps_.load() + 1, set_.setpoint.repetitions),
                                  set_.setpoint.repetitions, peak_, clock_text(left)));
      }
    }
  }

 private:
  Printer& printer_;
  const std::atomic<int>& reps_;
  const std::atomic<double>& seconds_after_set_;
  SetInfo set_;
  double peak_ = 0.0;
  double next_report_ = 1.0;
  double duration_ = 0.0;
};

}  // namespace

double estimated_set_seconds(const PlannedSet& set) {
  // The simulator's timing (SimulationSettings defaults); real devices are close to it.
  const auto& sp = set.info.setpoint;
  constexpr double kRestBefore = 0.5;
  if (sp.mode == drivers::ContractionMode::kIsometric) {
    return 2 * kRestBefore + sp.repetitions * 2 * sp.contraction_time +
           (2 * sp.repetitions - 1) * 2.0;
  }
  const double range = sp.angle_max - sp.angle_min;
  const double rep = range / sp.extension_velocity + range / sp.flexion_velocity + 0.15;
  return 2 * kRestBefore + sp.repetitions * rep;
}

void abort_live_session() noexcept {
  g_wait_aborted.store(true);
  if (auto* runner = g_runner.load()) runner->request_abort();
}

OperatorInput::OperatorInput() : thread_([this] { run(); }) {}

OperatorInput::~OperatorInput() {
  stop_.store(true);
  thread_.join();
}

void OperatorInput::run() {
  std::string pending;
  while (!stop_.load()) {
    // Poll, so that the destructor never waits on a terminal nobody types into.
    pollfd input{STDIN_FILENO, POLLIN, 0};
    if (::poll(&input, 1, 100) <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) return;  // end of input (e.g. /dev/null): no operator
    pending.append(buffer, static_cast<std::size_t>(n));
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      auto* runner = g_runner.load();
      if (runner == nullptr || line.empty()) continue;
      switch (line[0]) {
        case 'p':
          runner->request_pause();
          break;
        case 'c':
          runner->request_resume();
          break;
        case 's':
          runner->request_start_now();
          break;
        case 'r':
          runner->request_redo();
          break;
        case 'q':
          runner->request_abort();
          break;
        case 'm':
          runner->mark(line.size() > 2 ? line.substr(2) : std::string());
          break;
        case 'e':
          runner->request_end_set("ended by the operator");
          break;
        default:
          break;
      }
    }
  }
}

LiveSessionResult record_live_session(drivers::Device& device, const LiveSessionOptions& options,
                                      std::ostream& out) {
  Printer printer(out);
  g_wait_aborted.store(false);
  // The stream listens before the file is created: a port in use leaves no file behind. Its
  // events go to the writer once there is one.
  std::atomic<acquisition::SessionWriter*> event_writer{nullptr};
  std::optional<acquisition::LiveStream> stream;
  if (options.stream_port != 0) {
    acquisition::LiveStreamOptions stream_options;
    stream_options.bind_address = options.stream_bind;
    stream_options.port = static_cast<std::uint16_t>(options.stream_port);
    // Not a real-time source (--fast): data comes far faster than a client reads, so a client
    // may fall further behind before it counts as stuck.
    if (options.lossless) stream_options.client_backlog_bytes = std::size_t{64} << 20;
    stream_options.on_event = [&event_writer](const std::string& kind, const std::string& detail,
                                              int set_index) {
      if (auto* writer = event_writer.load()) {
        writer->add_event({writer->session_time(), set_index, kind, detail});
      }
    };
    stream.emplace(options.info, std::move(stream_options));
  }
  acquisition::SessionWriter writer(options.out, options.info);
  event_writer.store(&writer);
  // Whatever happens below, the stream's thread stops before the writer goes.
  struct StopStream {
    std::optional<acquisition::LiveStream>& stream;
    ~StopStream() {
      if (stream) stream->stop();
    }
  } const stop_stream{stream};
  if (stream) {
    printer.line(fmt::format("Streaming live data on {}:{} (docs/stream-protocol.md)",
                             stream->address(), stream->port()));
    if (stream->address() != "127.0.0.1" && stream->address() != "::1") {
      printer.line(fmt::format(
          "WARNING: {} is reachable from other machines; the stream has no authentication or "
          "encryption (docs/security.md)",
          stream->address()));
    }
  }
  std::atomic<int> reps{0};
  std::atomic<double> seconds_after_set{0.0};
  AnalyserConsumer analyser(printer, options.info.device.sample_rate_hz,
                            options.info.subject.body_mass_kg, reps, device.ends_sets_itself());
  ProgressConsumer progress(printer, reps, seconds_after_set);
  LiveSessionResult result;
  {
    // Declared after the consumers, so its threads stop before they go away.
    acquisition::FanOut fan_out;
    fan_out.set_wait_when_full(options.lossless);
    analyser.set_outputs(options.live_output, stream ? &*stream : nullptr);
    // A measuring-only device needs the analyser to know when a set's repetitions are done.
    if (options.live_output || stream || !device.ends_sets_itself()) {
      fan_out.add("analyser", analyser);
    }
    if (options.live_output) fan_out.add("progress", progress);
    if (stream) fan_out.add("stream", *stream);
    // Time left after each set: its rest plus every later set and rest.
    std::vector<double> after(options.plan.size() + 1, 0.0);
    for (std::size_t i = options.plan.size(); i-- > 0;) {
      after[i] = after[i + 1] + options.plan[i].rest_after * options.time_scale +
                 (i + 1 < options.plan.size() ? estimated_set_seconds(options.plan[i + 1]) : 0.0);
    }

    acquisition::RunnerOptions runner_options;
    runner_options.time_scale = options.time_scale;
    runner_options.acquisition.wait_when_full = options.lossless;
    runner_options.on_progress = [&](const acquisition::RunnerProgress& p) {
      if (p.plan_index < after.size()) seconds_after_set.store(after[p.plan_index]);
      if (!options.live_output || p.set == nullptr) return;
      const std::string where =
          fmt::format("set {}/{} {}", p.plan_index + 1, p.plan_size, describe(p.set->info));
      switch (p.state) {
        case acquisition::RunnerState::kPositioning:
          printer.line(
              fmt::format("positioning for {} ({} left)", where, clock_text(p.seconds_left)));
          break;
        case acquisition::RunnerState::kSet:
        case acquisition::RunnerState::kGravityTrial:
          printer.line(fmt::format("{}{}: {} repetitions",
                                   to_string(p.state) == "set" ? "" : "gravity trial, ", where,
                                   p.set->info.setpoint.repetitions));
          break;
        case acquisition::RunnerState::kRest:
          if (p.seconds_left > 0.0)
            printer.line(fmt::format("  rest {} ", clock_text(p.seconds_left)));
          break;
        case acquisition::RunnerState::kPaused:
          printer.line("  paused");
          break;
        default:
          break;
      }
    };
    runner_options.on_set_end = [&](const PlannedSet&, const SetInfo& info, const SetStats& stats) {
      fan_out.wait_until_idle(2.0);  // this set's results print before the next set starts
      if (options.on_set_end) options.on_set_end(info, stats);
    };
    acquisition::ProtocolRunner runner(options.plan, device, writer, fan_out, runner_options);
    g_runner.store(&runner);
    if (stream && options.stream_wait_clients > 0) {
      printer.line(fmt::format("Waiting for {} stream client(s) (Ctrl-C to abort)",
                               options.stream_wait_clients));
      while (stream->client_count() < options.stream_wait_clients &&
             runner.state() != acquisition::RunnerState::kAborted && !g_wait_aborted.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    try {
      result.state = runner.run();
    } catch (...) {
      g_runner.store(nullptr);
      throw;
    }
    g_runner.store(nullptr);
    result.recorded = runner.recorded();
  }
  if (stream) {
    stream->stop();
    const auto s = stream->stats();
    const std::string summary = fmt::format(
        "{} clients served, {} dropped as too slow, {} protocol errors, {} refused; {} samples "
        "and {} messages published, {} bytes sent",
        s.clients_served, s.clients_dropped, s.protocol_errors, s.clients_refused,
        s.samples_published, s.messages_published, s.bytes_sent);
    writer.add_event({writer.session_time(), -1, "stream-stats", "session: " + summary});
    writer.write_events();
    printer.line("Stream: " + summary);
  }
  if (result.state == acquisition::RunnerState::kDone) writer.finish();
  return result;
}

}  // namespace isokin::cli
