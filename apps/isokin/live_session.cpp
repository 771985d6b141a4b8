#include "live_session.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/live_stream.h"
#include "isokin/acquisition/streamed_recording.h"
#include "isokin/analysis/live_session_analyser.h"
#include "isokin/analysis/stream_messages.h"

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

std::string repetition_line(const SetInfo& set, const analysis::PhaseResult& r) {
  return fmt::format(
      "    rep {:>2} {:<9} {:<10} {:<10} peak {:6.1f} N·m at {:3.0f}°, work {:6.1f} J{}",
      r.repetition + 1, drivers::to_string(r.movement),
      analysis::muscle_group_name(set.setpoint.joint, r.muscle), drivers::to_string(r.contraction),
      r.peak_torque, r.angle_at_peak, r.work,
      (r.flags & analysis::kPhaseTruncated) != 0 ? "  (cut off: not counted)" : "");
}

// About once a second of device time: set, repetition, live peak torque, time left.
class ProgressConsumer final : public acquisition::SampleConsumer {
 public:
  ProgressConsumer(Printer& printer, const analysis::LiveSessionAnalyser& analyser,
                   const std::atomic<double>& seconds_after_set)
      : printer_(printer), analyser_(analyser), seconds_after_set_(seconds_after_set) {}

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
        printer_.line(
            fmt::format("  [{}] rep {}/{}  peak {:.1f} N·m  ~{} left", describe(set_),
                        // the repetition under way: one past those analysed
                        std::min(analyser_.repetitions_done() + 1, set_.setpoint.repetitions),
                        set_.setpoint.repetitions, peak_, clock_text(left)));
      }
    }
  }

 private:
  Printer& printer_;
  const analysis::LiveSessionAnalyser& analyser_;
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

void keep_recording_when_output_closes() {
  std::signal(SIGPIPE, SIG_IGN);
}

void report_lost_output(const std::ostream& out, const std::filesystem::path& file) {
  if (out.good()) return;
  std::cerr << "isokin: the progress output could not be written (closed pipe?) and was lost; "
               "the recording went on regardless: see `isokin info "
            << file.string() << "`\n";
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
  std::optional<acquisition::LiveStreamOptions> stream_options;
  if (options.stream_port != 0) {
    stream_options.emplace();
    stream_options->bind_address = options.stream_bind;
    stream_options->port = static_cast<std::uint16_t>(options.stream_port);
    // Not a real-time source (--fast): data comes far faster than a client reads, so a client
    // may fall further behind before it counts as stuck.
    if (options.lossless) stream_options->client_backlog_bytes = std::size_t{64} << 20;
  }
  acquisition::StreamedRecording recording(options.out, options.info, std::move(stream_options));
  acquisition::SessionWriter& writer = recording.writer();
  acquisition::LiveStream* const stream = recording.stream();
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
  std::atomic<double> seconds_after_set{0.0};
  analysis::LiveSessionCallbacks callbacks;
  callbacks.on_phase = [&](const SetInfo& set, const analysis::PhaseResult& r) {
    if (stream != nullptr) stream->publish_json(analysis::repetition_message(set, r));
    if (options.live_output) printer.line(repetition_line(set, r));
  };
  // Few and needed by the operator (how a measuring-only device's set ends): printed always.
  callbacks.on_message = [&](const std::string& text) { printer.line("  " + text); };
  callbacks.on_planned_repetitions_done = [] {
    if (auto* runner = g_runner.load()) runner->request_end_set("planned repetitions recorded");
  };
  analysis::LiveSessionAnalyser analyser(options.info.device.sample_rate_hz,
                                         options.info.subject.body_mass_kg,
                                         device.ends_sets_itself(), std::move(callbacks));
  ProgressConsumer progress(printer, analyser, seconds_after_set);
  LiveSessionResult result;
  {
    // Declared after the consumers, so its threads stop before they go away.
    acquisition::FanOut fan_out;
    fan_out.set_wait_when_full(options.lossless);
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
    runner_options.acquisition.on_device_event = options.on_device_event;
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
    result.device_failure = runner.device_failure();
  }
  if (stream != nullptr) printer.line("Stream: " + recording.end_stream());
  if (result.state == acquisition::RunnerState::kDone) writer.finish();
  return result;
}

}  // namespace isokin::cli
