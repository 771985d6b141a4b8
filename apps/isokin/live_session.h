#pragma once
// Records a planned protocol with the ProtocolRunner and, optionally, shows it live: progress
// (set, repetition, live peak torque, time left) and each repetition's results from the
// LiveAnalyser as they come. Shared by `isokin run` and `isokin demo`.

#include <atomic>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <thread>
#include <vector>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/protocol_runner.h"
#include "isokin/drivers/device.h"

namespace isokin::cli {

struct LiveSessionOptions {
  std::filesystem::path out;
  acquisition::SessionInfo info;  // device, subject, protocol filled by the caller
  std::vector<acquisition::PlannedSet> plan;
  double time_scale = 1.0;  // rests and positioning: 1 = real time, 0 = none
  bool live_output = true;  // progress and per-repetition results
  // The device is not real time (simulator without pacing): wait instead of dropping.
  bool lossless = false;
  std::function<void(const acquisition::SetInfo&, const acquisition::SetStats&)> on_set_end;
  // Each device event as it is recorded (a silent serial line, a lost port); may be empty.
  std::function<void(const drivers::DeviceEvent&)> on_device_event;
  // Live stream to other programs (docs/stream-protocol.md); off when stream_port is 0.
  int stream_port = 0;
  std::string stream_bind = "127.0.0.1";
  int stream_wait_clients = 0;  // before the first set
};

struct LiveSessionResult {
  acquisition::RunnerState state = acquisition::RunnerState::kIdle;
  std::vector<std::pair<acquisition::SetInfo, acquisition::SetStats>> recorded;
  // Not empty when the device ended the session (state kAborted): ProtocolRunner's reason.
  std::string device_failure;
};

// Finishes the file (marks it complete) only when every set was recorded. Throws what
// recording throws (file write failures keep what was flushed).
LiveSessionResult record_live_session(drivers::Device& device, const LiveSessionOptions& options,
                                      std::ostream& out);

// A recording never depends on who reads its progress: SIGPIPE is ignored from here on, so a
// closed pipe (`isokin run … | head`) only makes the output fail (std::ostream's badbit) while
// the recording goes on to its end. Call before the first line is printed.
void keep_recording_when_output_closes();

// After a recording: if `out` failed (a closed pipe, a full disk), says so on standard error,
// naming the file, which is complete or incomplete as the recording ended.
void report_lost_output(const std::ostream& out, const std::filesystem::path& file);

// Async-signal-safe: asks the session being recorded (if any) to abort.
void abort_live_session() noexcept;

// Reads operator commands, one per line, from standard input while a session records:
// "p" pause, "c" continue, "r" redo the set, "m TEXT" mark, "q" abort. Stops at end of input.
class OperatorInput {
 public:
  OperatorInput();
  ~OperatorInput();
  OperatorInput(const OperatorInput&) = delete;
  OperatorInput& operator=(const OperatorInput&) = delete;
  static constexpr const char* kHelp =
      "Commands (then Enter): s start now, p pause, c continue, e end set, r redo set, m TEXT "
      "mark, "
      "q abort "
      "(or Ctrl-C)";

 private:
  void run();
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Estimated seconds a planned set takes on the device (rest excluded).
double estimated_set_seconds(const acquisition::PlannedSet& set);

}  // namespace isokin::cli
