#include "isokin/acquisition/protocol_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <thread>

namespace isokin::acquisition {

std::string_view to_string(RunnerState state) {
  switch (state) {
    case RunnerState::kIdle:
      return "idle";
    case RunnerState::kPositioning:
      return "positioning";
    case RunnerState::kGravityTrial:
      return "gravity trial";
    case RunnerState::kSet:
      return "set";
    case RunnerState::kRest:
      return "rest";
    case RunnerState::kPaused:
      return "paused";
    case RunnerState::kDone:
      return "done";
    case RunnerState::kAborted:
      return "aborted";
  }
  return "unknown";
}

ProtocolRunner::ProtocolRunner(std::vector<PlannedSet> plan, drivers::Device& device,
                               SessionWriter& writer, FanOut& fan_out, RunnerOptions options)
    : plan_(std::move(plan)),
      device_(device),
      writer_(writer),
      fan_out_(fan_out),
      options_(std::move(options)) {}

void ProtocolRunner::request_pause() noexcept {
  pause_.store(true);
  stop_reason_.store("paused by the operator (set redone)");
  stop_set_.store(true);
}
void ProtocolRunner::request_resume() noexcept {
  pause_.store(false);
}
void ProtocolRunner::request_start_now() noexcept {
  start_now_.store(true);
}
void ProtocolRunner::request_redo() noexcept {
  redo_.store(true);
  stop_reason_.store("stopped by the operator to redo the set");
  stop_set_.store(true);
}
void ProtocolRunner::request_end_set(const char* reason) noexcept {
  if (state_.load() != RunnerState::kSet && state_.load() != RunnerState::kGravityTrial) return;
  end_set_.store(true);
  stop_reason_.store(reason);
  stop_set_.store(true);
}

void ProtocolRunner::request_abort() noexcept {
  abort_.store(true);
  stop_reason_.store("aborted");
  stop_set_.store(true);
}

void ProtocolRunner::mark(std::string note) {
  // The writer takes events from any thread and writes them with its next flush, so a mark
  // made during a set survives a crash of the set.
  writer_.add_event({writer_.session_time(), last_set_index_.load(), "mark", std::move(note)});
}

void ProtocolRunner::event(std::string kind, std::string detail, int set_index) {
  writer_.add_event({writer_.session_time(), set_index, std::move(kind), std::move(detail)});
}

void ProtocolRunner::enter(RunnerState state, double seconds_left) {
  state_.store(state);
  if (options_.on_progress) {
    RunnerProgress p;
    p.state = state;
    p.plan_index = index_;
    p.plan_size = plan_.size();
    p.set = index_ < plan_.size() ? &plan_[index_] : nullptr;
    p.attempt = attempt_;
    p.seconds_left = seconds_left;
    options_.on_progress(p);
  }
}

bool ProtocolRunner::wait(RunnerState state, double seconds) {
  using Clock = std::chrono::steady_clock;
  double left = seconds * options_.time_scale;
  start_now_.store(false);  // a request made before this countdown does not cut it short
  enter(state, left);
  auto last = Clock::now();
  double since_report = 0.0;
  bool paused = false;
  for (;;) {
    if (abort_.load()) return false;
    if (pause_.load() != paused) {
      paused = !paused;
      event(paused ? "pause" : "resume", std::string(to_string(state)));
      enter(paused ? RunnerState::kPaused : state, left);
    }
    if (!paused && left <= 0.0) break;
    if (!paused && start_now_.exchange(false)) {
      event("start-now", std::string(to_string(state)));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto now = Clock::now();
    const double step = std::chrono::duration<double>(now - last).count();
    last = now;
    if (!paused) {
      left -= step;
      since_report += step;
      if (since_report >= 1.0 && left > 0.0) {
        since_report = 0.0;
        enter(state, left);
      }
    }
  }
  return !abort_.load();
}

RunnerState ProtocolRunner::run() {
  event("session-start", fmt::format("{} sets planned", plan_.size()));
  const auto aborted = [&] {
    event("abort", "operator abort");
    writer_.write_events();
    enter(RunnerState::kAborted);
    return RunnerState::kAborted;
  };
  index_ = 0;
  attempt_ = 1;
  while (index_ < plan_.size()) {
    const PlannedSet& planned = plan_[index_];
    if (planned.starts_side && attempt_ == 1) {
      event("positioning", fmt::format("{} side", drivers::to_string(planned.info.setpoint.side)));
      if (!wait(RunnerState::kPositioning, planned.positioning)) return aborted();
    }
    if (abort_.load()) return aborted();
    // A pause requested between sets holds here until resumed.
    if (pause_.load() && !wait(RunnerState::kRest, 0.0)) return aborted();

    SetInfo info = planned.info;
    info.index = next_set_index_++;
    last_set_index_.store(info.index);
    info.attempt = attempt_;
    const bool gravity = info.kind == kSetKindGravity;
    stop_set_.store(false);
    end_set_.store(false);
    enter(gravity ? RunnerState::kGravityTrial : RunnerState::kSet);
    event("set-start", fmt::format("{} (attempt {})", info.label, info.attempt), info.index);
    AcquisitionOptions acquisition = options_.acquisition;
    acquisition.stop_reason = &stop_reason_;
    acquisition.stop_completes = &end_set_;
    SetStats stats = acquire_set(device_, writer_, info, fan_out_, &stop_set_, acquisition);
    recorded_.emplace_back(info, stats);
    if (options_.on_set_end) options_.on_set_end(planned, info, stats);

    event("set-end",
          fmt::format("{}: {} samples, {}", info.label, stats.sample_count,
                      stats.complete ? "complete" : stats.end_reason),
          info.index);
    if (abort_.load()) return aborted();
    if (stats.sample_count == 0 && !stats.complete && !stop_set_.load()) {
      device_failure_ = fmt::format(
          "set {} ({}) recorded no samples: the device is gone or "
          "failing ({}); the session stops here, incomplete",
          info.index + 1, info.label, stats.end_reason);
      event("device-failed", device_failure_, info.index);
      writer_.write_events();
      enter(RunnerState::kAborted);
      return RunnerState::kAborted;
    }
    const bool interrupted = stop_set_.load() && !end_set_.load();
    const bool redo = consume_redo();
    if (redo || (interrupted && pause_.load())) {
      // Stopped mid-set by the operator (redo or pause): record the same set again.
      event("redo-set", fmt::format("{} attempt {}", info.label, attempt_ + 1), info.index);
      ++attempt_;
      if (pause_.load() && !wait(RunnerState::kRest, 0.0)) return aborted();
      continue;
    }
    event("rest", fmt::format("{:g} s", planned.rest_after), info.index);
    writer_.write_events();  // on disk before the rest, whatever happens during it
    if (!wait(RunnerState::kRest, planned.rest_after)) return aborted();
    if (consume_redo()) {
      // Redo requested during the rest: the set just recorded is done again.
      event("redo-set", fmt::format("{} attempt {}", info.label, attempt_ + 1), info.index);
      ++attempt_;
      continue;
    }
    ++index_;
    attempt_ = 1;
  }
  event("session-end", "all sets recorded");
  writer_.write_events();
  enter(RunnerState::kDone);
  return RunnerState::kDone;
}

}  // namespace isokin::acquisition
