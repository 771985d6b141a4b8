#pragma once
// Runs a planned protocol on a device in the background, the way `isokin run` does (the same
// ProtocolRunner, SessionWriter, FanOut and LiveSessionAnalyser), and reports to the GUI
// thread through Qt signals. Recording never waits for the GUI: the live curves and the
// analysis are fan-out consumers.
//
// Thread contract: construct, start() and the operator requests on the GUI thread; signals are
// delivered on the GUI thread (queued).

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <QObject>
#include <QString>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session.h"
#include "isokin/drivers/registry.h"
#include "isokin/gui/live_curves.h"

namespace isokin::acquisition {
class ProtocolRunner;
}

namespace isokin::gui {

struct TestPlan {
  std::filesystem::path out;      // the session file; must not exist
  acquisition::SessionInfo info;  // subject and protocol; device filled on start
  std::vector<acquisition::PlannedSet> plan;
  std::string device = "sim";
  drivers::DeviceOptions device_options;
  double time_scale = 1.0;  // rests and positioning: 1 = real time, 0 = no waiting
  // Live stream to other programs (docs/stream-protocol.md): off when 0; a negative port lets
  // the system choose a free one (stream_port() tells which).
  int stream_port = 0;
  std::string stream_bind = "127.0.0.1";
  int stream_wait_clients = 0;  // the first set waits until this many clients are connected
};

// One repetition phase as the operator sees it.
struct LivePhase {
  int set_index = 0;
  QString set_label;         // "Left 60 °/s"
  int repetition = 0;        // 1-based
  QString movement;          // "extension"
  QString muscle;            // "quadriceps"
  double peak_torque = 0.0;  // N·m, magnitude
  double angle_at_peak = 0.0;
  double work = 0.0;  // J
  bool counted = true;
};

class TestSession : public QObject {
  Q_OBJECT
 public:
  explicit TestSession(QObject* parent = nullptr);
  ~TestSession() override;  // aborts a running test and waits for it

  // Starts the test in the background; false (and `error` set) when it cannot start.
  bool start(TestPlan plan, QString* error);
  [[nodiscard]] bool running() const { return running_.load(); }
  [[nodiscard]] LiveFeed& feed() { return feed_; }
  [[nodiscard]] const std::filesystem::path& path() const { return plan_.out; }
  // The port the live stream listens on while a test runs with one (0 otherwise).
  [[nodiscard]] int stream_port() const { return stream_port_.load(); }

  void pause();
  void resume();
  void start_now();  // ends a rest or positioning countdown
  void redo_set();
  void end_set();  // measuring-only devices: the operator ends the set
  void abort();
  void mark(const QString& note);

 Q_SIGNALS:
  // state: "positioning", "gravity trial", "set", "rest", "paused", "done", "aborted".
  // repetitions: planned in that set.
  void progress(const QString& state, int plan_index, int plan_size, const QString& set_label,
                int repetitions, double seconds_left);
  void phase_analysed(const isokin::gui::LivePhase& phase);
  void message(const QString& text);
  void set_ended(const QString& summary);
  // complete: every set recorded and the file finished. error: empty unless it failed.
  void finished(bool complete, const QString& path, const QString& error);

 private:
  void run();
  void post(std::function<void()> call);

  TestPlan plan_;
  LiveFeed feed_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  // Operator requests and the analyser reach the runner only while it exists.
  std::mutex runner_mutex_;
  acquisition::ProtocolRunner* runner_ = nullptr;
  template <typename Request>
  void with_runner(Request request);
  std::atomic<bool> abort_requested_{false};
  std::atomic<int> stream_port_{0};
};

// "Left 60 °/s", "Right isometric 60°", "Trunk 60 °/s", with "(attempt 2)" when redone.
[[nodiscard]] QString describe_set(const acquisition::SetInfo& set);

}  // namespace isokin::gui

Q_DECLARE_METATYPE(isokin::gui::LivePhase)
