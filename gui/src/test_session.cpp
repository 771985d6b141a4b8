#include "isokin/gui/test_session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <optional>

#include "isokin/acquisition/fan_out.h"
#include "isokin/acquisition/live_stream.h"
#include "isokin/acquisition/new_file.h"
#include "isokin/acquisition/protocol_runner.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/acquisition/streamed_recording.h"
#include "isokin/analysis/live_session_analyser.h"
#include "isokin/analysis/stream_messages.h"

namespace isokin::gui {

QString describe_set(const acquisition::SetInfo& set) {
  const auto& sp = set.setpoint;
  QString side;
  switch (sp.side) {
    case drivers::Side::kLeft:
      side = QStringLiteral("Left");
      break;
    case drivers::Side::kRight:
      side = QStringLiteral("Right");
      break;
    case drivers::Side::kNone:
      side = QStringLiteral("Trunk");
      break;
  }
  QString what = sp.mode == drivers::ContractionMode::kIsometric
                     ? QStringLiteral("isometric %1°").arg(sp.angle_min, 0, 'f', 0)
                     : QStringLiteral("%1 °/s").arg(sp.extension_velocity, 0, 'f', 0);
  if (set.kind == acquisition::kSetKindGravity) what = QStringLiteral("gravity trial");
  if (set.kind == acquisition::kSetKindWarmUp) what += QStringLiteral(" warm-up");
  QString text = QStringLiteral("%1 %2").arg(side, what);
  if (set.attempt > 1) text += QStringLiteral(" (attempt %1)").arg(set.attempt);
  return text;
}

TestSession::TestSession(QObject* parent) : QObject(parent) {}

TestSession::~TestSession() {
  abort();
  if (thread_.joinable()) thread_.join();
}

void TestSession::post(std::function<void()> call) {
  QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
}

bool TestSession::start(TestPlan plan, QString* error) {
  if (running_.load()) {
    if (error != nullptr) *error = tr("a test is already running");
    return false;
  }
  if (thread_.joinable()) thread_.join();
  if (plan.plan.empty()) {
    if (error != nullptr) *error = tr("the protocol has no sets");
    return false;
  }
  // The CLI's rule and words; StreamedRecording enforces it again when it creates the file.
  try {
    acquisition::RecordingFile::check_new(plan.out);
  } catch (const std::runtime_error& refused) {
    if (error != nullptr) *error = QString::fromStdString(refused.what());
    return false;
  }
  plan_ = std::move(plan);
  abort_requested_.store(false);
  running_.store(true);
  thread_ = std::thread([this] { run(); });
  return true;
}

void TestSession::run() {
  QString failure;
  bool complete = false;
  try {
    const auto device = drivers::make_device(plan_.device, plan_.device_options);
    device->open();
    acquisition::SessionInfo info = plan_.info;
    info.device = device->describe();
    const bool lossless = plan_.device == "sim" && !plan_.device_options.realtime;
    std::optional<acquisition::LiveStreamOptions> stream_options;
    if (plan_.stream_port != 0) {
      stream_options.emplace();
      stream_options->bind_address = plan_.stream_bind;
      stream_options->port = static_cast<std::uint16_t>(std::max(0, plan_.stream_port));
      if (lossless) stream_options->client_backlog_bytes = std::size_t{64} << 20;  // unpaced
    }
    acquisition::StreamedRecording recording(plan_.out, info, std::move(stream_options));
    acquisition::SessionWriter& writer = recording.writer();
    acquisition::LiveStream* const live_stream = recording.stream();
    if (live_stream != nullptr) {
      stream_port_.store(live_stream->port());
      const QString where = tr("Streaming live data on %1:%2 (docs/stream-protocol.md)")
                                .arg(QString::fromStdString(live_stream->address()))
                                .arg(live_stream->port());
      post([this, where] { Q_EMIT message(where); });
    }

    analysis::LiveSessionCallbacks callbacks;
    callbacks.on_phase = [this, live_stream](const acquisition::SetInfo& set,
                                             const analysis::PhaseResult& r) {
      if (live_stream != nullptr) live_stream->publish_json(analysis::repetition_message(set, r));
      LivePhase phase;
      phase.set_index = set.index;
      phase.set_label = describe_set(set);
      phase.repetition = r.repetition + 1;
      phase.movement = QString::fromUtf8(drivers::to_string(r.movement).data());
      phase.muscle = QString::fromStdString(
          std::string(analysis::muscle_group_name(set.setpoint.joint, r.muscle)));
      phase.peak_torque = std::abs(r.peak_torque);
      phase.angle_at_peak = r.angle_at_peak;
      phase.work = r.work;
      phase.counted = (r.flags & analysis::kPhaseTruncated) == 0;
      post([this, phase] { Q_EMIT phase_analysed(phase); });
    };
    callbacks.on_message = [this](const std::string& text) {
      const QString line = QString::fromStdString(text);
      post([this, line] { Q_EMIT message(line); });
    };
    callbacks.on_planned_repetitions_done = [this] {
      with_runner([](auto& r) { r.request_end_set("planned repetitions recorded"); });
    };
    analysis::LiveSessionAnalyser analyser(info.device.sample_rate_hz, info.subject.body_mass_kg,
                                           device->ends_sets_itself(), std::move(callbacks));
    acquisition::RunnerState state = acquisition::RunnerState::kIdle;
    {
      acquisition::FanOut fan_out;  // after the consumers: its threads stop first
      fan_out.set_wait_when_full(lossless);
      fan_out.add("analyser", analyser);
      fan_out.add("display", feed_);
      if (live_stream != nullptr) fan_out.add("stream", *live_stream);
      acquisition::RunnerOptions options;
      options.time_scale = plan_.time_scale;
      options.acquisition.wait_when_full = lossless;
      options.on_progress = [this](const acquisition::RunnerProgress& p) {
        const QString state_name = QString::fromUtf8(acquisition::to_string(p.state).data());
        const QString label = p.set != nullptr ? describe_set(p.set->info) : QString();
        const int index = static_cast<int>(p.plan_index);
        const int size = static_cast<int>(p.plan_size);
        const double left = p.seconds_left;
        const int repetitions = p.set != nullptr ? p.set->info.setpoint.repetitions : 0;
        post([this, state_name, index, size, label, repetitions, left] {
          Q_EMIT progress(state_name, index, size, label, repetitions, left);
        });
      };
      options.on_set_end = [this, &fan_out](const acquisition::PlannedSet&,
                                            const acquisition::SetInfo& set,
                                            const acquisition::SetStats& stats) {
        fan_out.wait_until_idle(2.0);  // the set's last repetitions reach the GUI first
        const QString summary =
            tr("%1: %2 samples, %3 dropped, %4")
                .arg(describe_set(set))
                .arg(stats.sample_count)
                .arg(stats.dropped_samples)
                .arg(stats.complete ? tr("complete") : QString::fromStdString(stats.end_reason));
        post([this, summary] { Q_EMIT set_ended(summary); });
      };
      acquisition::ProtocolRunner runner(plan_.plan, *device, writer, fan_out, options);
      {
        const std::lock_guard lock(runner_mutex_);
        runner_ = &runner;
        if (abort_requested_.load()) runner.request_abort();
      }
      while (live_stream != nullptr && live_stream->client_count() < plan_.stream_wait_clients &&
             !abort_requested_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      struct Forget {
        TestSession& session;
        ~Forget() {
          const std::lock_guard lock(session.runner_mutex_);
          session.runner_ = nullptr;
        }
      } const forget{*this};
      state = runner.run();
    }
    device->close();
    if (live_stream != nullptr) {
      const QString summary = QString::fromStdString(recording.end_stream());
      post([this, summary] { Q_EMIT message(tr("Stream: %1").arg(summary)); });
    }
    stream_port_.store(0);
    if (state == acquisition::RunnerState::kDone) {
      writer.finish();
      complete = true;
    }
  } catch (const std::exception& e) {
    failure = QString::fromStdString(e.what());
  }
  stream_port_.store(0);
  const QString path = QString::fromStdString(plan_.out.string());
  post([this, complete, path, failure] {
    if (thread_.joinable()) thread_.join();
    running_.store(false);
    Q_EMIT finished(complete, path, failure);
  });
}

template <typename Request>
void TestSession::with_runner(Request request) {
  const std::lock_guard lock(runner_mutex_);
  if (runner_ != nullptr) request(*runner_);
}

void TestSession::pause() {
  with_runner([](auto& r) { r.request_pause(); });
}
void TestSession::resume() {
  with_runner([](auto& r) { r.request_resume(); });
}
void TestSession::start_now() {
  with_runner([](auto& r) { r.request_start_now(); });
}
void TestSession::redo_set() {
  with_runner([](auto& r) { r.request_redo(); });
}
void TestSession::end_set() {
  with_runner([](auto& r) { r.request_end_set("ended by the operator"); });
}
void TestSession::abort() {
  const std::lock_guard lock(runner_mutex_);
  abort_requested_.store(true);
  if (runner_ != nullptr) runner_->request_abort();
}
void TestSession::mark(const QString& note) {
  const std::string text = note.toStdString();
  with_runner([&](auto& r) { r.mark(text); });
}

}  // namespace isokin::gui
