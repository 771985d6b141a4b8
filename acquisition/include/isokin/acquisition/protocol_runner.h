#pragma once
// Drives any Device through a planned protocol, the way an operator runs a test:
//
//   idle → positioning → [gravity trial] → set → rest → set → … → done
//
// with pause (a running set is stopped and redone after resume; a rest or positioning countdown
// is frozen), redo-set (the running or the last set is recorded again as a new attempt) and
// abort (the running set ends as aborted; the session is left incomplete). Every transition is
// written to the session file as an event.
//
// Thread contract: run() on one thread; request_*() and mark() from any thread (signal handlers
// may call request_abort(): it only stores atomics).

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/set_acquisition.h"
#include "isokin/drivers/device.h"

namespace isokin::acquisition {

enum class RunnerState {
  kIdle,
  kPositioning,
  kGravityTrial,
  kSet,
  kRest,
  kPaused,
  kDone,
  kAborted
};
std::string_view to_string(RunnerState state);

struct RunnerProgress {
  RunnerState state = RunnerState::kIdle;
  std::size_t plan_index = 0;  // the set being recorded or coming next
  std::size_t plan_size = 0;
  const PlannedSet* set = nullptr;  // that set (null when done)
  int attempt = 1;
  double seconds_left = 0.0;  // of the current rest or positioning
};

struct RunnerOptions {
  // Multiplies every wait (positioning, rest): 1 = real time, 0 = no waiting (tests, demo).
  double time_scale = 1.0;
  AcquisitionOptions acquisition;
  // Called on the runner's thread at each transition and about once a second while waiting.
  std::function<void(const RunnerProgress&)> on_progress;
  // Called on the runner's thread when a set has ended and is on disk.
  std::function<void(const PlannedSet&, const SetInfo&, const SetStats&)> on_set_end;
};

class ProtocolRunner {
 public:
  ProtocolRunner(std::vector<PlannedSet> plan, drivers::Device& device, SessionWriter& writer,
                 FanOut& fan_out, RunnerOptions options = {});

  // Runs to the end or to an abort; returns kDone or kAborted. Does not finish() the writer:
  // the caller does that after kDone. Throws what acquisition throws (file write failures).
  // A set that records no sample without being stopped (the device is gone or failing: an
  // unplugged serial board) ends the session there, kAborted with device_failure() saying why:
  // recording the remaining sets empty would call a session of nothing "complete".
  RunnerState run();

  void request_pause() noexcept;
  void request_resume() noexcept;
  // Ends a positioning or rest countdown now (the operator is ready); ignored during a set.
  void request_start_now() noexcept;
  void request_redo() noexcept;
  // Ends the running set as complete (reason: e.g. "planned repetitions recorded", "ended by the
  // operator"); what a measuring-only device needs, since it never ends a set itself. A string
  // literal: it is kept, not copied.
  void request_end_set(const char* reason) noexcept;
  void request_abort() noexcept;
  void mark(std::string note);

  [[nodiscard]] RunnerState state() const noexcept { return state_.load(); }
  // After run(): why the device stopped the session (empty when it did not).
  [[nodiscard]] const std::string& device_failure() const { return device_failure_; }
  // The sets recorded, in order, with their stats.
  [[nodiscard]] const std::vector<std::pair<SetInfo, SetStats>>& recorded() const {
    return recorded_;
  }

 private:
  void enter(RunnerState state, double seconds_left = 0.0);
  void event(std::string kind, std::string detail, int set_index = -1);
  // Waits seconds × time_scale, honouring pause and abort. Returns false when aborted.
  bool wait(RunnerState state, double seconds);
  bool consume_redo() noexcept { return redo_.exchange(false); }

  std::vector<PlannedSet> plan_;
  drivers::Device& device_;
  SessionWriter& writer_;
  FanOut& fan_out_;
  RunnerOptions options_;
  std::atomic<RunnerState> state_{RunnerState::kIdle};
  std::atomic<bool> pause_{false};
  std::atomic<bool> redo_{false};
  std::atomic<bool> start_now_{false};
  std::atomic<bool> abort_{false};
  std::atomic<bool> stop_set_{false};                // tells acquire_set to end the running set
  std::atomic<const char*> stop_reason_{"aborted"};  // and the end_reason it writes
  std::atomic<bool> end_set_{false};                 // the stop ends the set as complete
  std::atomic<int> last_set_index_{-1};  // of the set running or last run: marks belong to it
  std::size_t index_ = 0;
  int attempt_ = 1;
  int next_set_index_ = 0;
  std::vector<std::pair<SetInfo, SetStats>> recorded_;
  std::string device_failure_;
};

}  // namespace isokin::acquisition
