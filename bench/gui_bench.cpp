// The desktop application's two speed promises (docs/performance.md), offscreen:
// - a live-curve redraw with 20 s at 2 kHz visible fits a 60 Hz frame (16 ms), measured against
//   the same redraw without min/max decimation in the same process;
// - opening a 1-hour session and laying out its report takes under a second, measured against
//   a 1-minute session (what grows with length).
#include <benchmark/benchmark.h>

#include <QApplication>
#include <QDir>
#include <QLineSeries>
#include <QPixmap>
#include <QTextDocument>
#include <filesystem>
#include <map>
#include <memory>

#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"
#include "isokin/gui/live_curves.h"
#include "isokin/gui/report.h"

namespace {

using isokin::acquisition::RecordedSet;
using isokin::drivers::Sample;

QApplication& application() {
  static int argc = 1;
  static char name[] = "isokin_gui_bench";
  static char* argv[] = {name, nullptr};
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static QApplication app(argc, argv);
  return app;
}

RecordedSet simulated_set(int repetitions, isokin::drivers::Side side, double velocity) {
  isokin::drivers::SimulatedDynamometer sim;
  sim.open();
  isokin::drivers::MotionSetpoint sp;
  sp.repetitions = repetitions;
  sp.side = side;
  sp.extension_velocity = velocity;
  sp.flexion_velocity = velocity;
  sim.apply(sp);
  sim.start();
  RecordedSet set;
  set.info.setpoint = sp;
  set.info.label = std::to_string(static_cast<int>(velocity)) + " °/s";
  std::vector<Sample> buffer(4096);
  for (;;) {
    const auto r = sim.read(buffer);
    for (std::size_t i = 0; i < r.count; ++i) set.signals.append(buffer[i]);
    if (r.status != isokin::drivers::ReadStatus::kOk) break;
  }
  set.stats.sample_count = set.signals.time.size();
  set.stats.complete = true;
  return set;
}

std::vector<Sample> samples_of(const RecordedSet& set, double seconds) {
  std::vector<Sample> out;
  const auto& s = set.signals;
  for (std::size_t i = 0; i < s.time.size() && s.time[i] <= seconds; ++i) {
    Sample sample;
    sample.time = s.time[i];
    sample.torque = s.torque[i];
    sample.angle = s.angle[i];
    sample.velocity = s.velocity[i];
    out.push_back(sample);
  }
  return out;
}

void redraw(benchmark::State& state, bool decimated) {
  application();
  const RecordedSet set = simulated_set(8, isokin::drivers::Side::kRight, 60.0);
  const auto samples = samples_of(set, 20.0);  // 20 s at 2 kHz
  isokin::gui::LiveCurves curves;
  curves.resize(1280, 480);
  curves.setAttribute(Qt::WA_DontShowOnScreen);
  curves.show();
  QApplication::processEvents();
  curves.show_samples(set.info, samples);
  auto* series = qobject_cast<QLineSeries*>(curves.time_view()->chart()->series().front());
  QList<QPointF> all;
  for (const Sample& s : samples) all.append({s.time, s.torque});
  for (auto _ : state) {
    if (decimated) {
      curves.update_series();
    } else {
      curves.update_series();
      series->replace(all);  // every sample, as a plot without decimation would draw
    }
    benchmark::DoNotOptimize(curves.grab());
  }
  state.counters["samples"] = static_cast<double>(samples.size());
}

void BM_LiveRedraw20sAt2kHz(benchmark::State& state) {
  redraw(state, true);
}
void BM_LiveRedraw20sAt2kHzUndecimated(benchmark::State& state) {
  redraw(state, false);
}
BENCHMARK(BM_LiveRedraw20sAt2kHz)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LiveRedraw20sAt2kHzUndecimated)->Unit(benchmark::kMillisecond);

// A bilateral session of about `minutes` at 2 kHz, written once per run.
std::filesystem::path session_file(int minutes) {
  static std::map<int, std::filesystem::path> made;
  if (auto it = made.find(minutes); it != made.end()) return it->second;
  isokin::acquisition::Session session;
  session.complete = true;
  session.info.subject.id = "BENCH";
  session.info.subject.body_mass_kg = 75.0;
  session.info.device.driver = "sim";
  session.info.device.sample_rate_hz = 2000.0;
  // One repetition at 60 °/s over the simulator's range takes about 3.3 s.
  const int repetitions = std::max(1, minutes * 60 / 4 / 3);
  int index = 0;
  for (const auto side : {isokin::drivers::Side::kRight, isokin::drivers::Side::kLeft}) {
    for (const double velocity : {60.0, 180.0}) {
      auto set = simulated_set(velocity == 60.0 ? repetitions : repetitions * 2, side, velocity);
      set.info.index = index++;
      session.sets.push_back(std::move(set));
    }
  }
  const auto path = std::filesystem::temp_directory_path() /
                    ("isokin-gui-bench-" + std::to_string(minutes) + "min.h5");
  std::filesystem::remove(path);
  isokin::acquisition::write_session(path, session);
  made[minutes] = path;
  return path;
}

void BM_OpenSessionReport(benchmark::State& state) {
  application();
  const auto path = session_file(static_cast<int>(state.range(0)));
  std::size_t samples = 0;
  for (auto _ : state) {
    isokin::gui::AnalysedSession current;
    current.session = std::make_shared<const isokin::acquisition::Session>(
        isokin::acquisition::read_session(path));
    current.analysis = isokin::analysis::analyze_session(*current.session);
    const isokin::gui::Report report(std::move(current), {});
    const auto document = report.document(900);
    benchmark::DoNotOptimize(document->pageCount());
    samples = 0;
    for (const auto& set : report.current().session->sets) samples += set.signals.time.size();
  }
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_OpenSessionReport)->Arg(1)->Arg(60)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
