// Offline analysis of a simulated set, against a streaming read of the same samples (the
// memory-bandwidth floor any analysis must pay), in the same process.
#include <benchmark/benchmark.h>

#include <numeric>
#include <span>

#include "isokin/analysis/live_analyser.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

isokin::acquisition::RecordedSet simulated_set(int repetitions) {
  isokin::drivers::SimulatedDynamometer sim;
  sim.open();
  isokin::drivers::MotionSetpoint sp;
  sp.repetitions = repetitions;
  sim.apply(sp);
  sim.start();
  isokin::acquisition::RecordedSet set;
  set.info.setpoint = sp;
  std::vector<isokin::drivers::Sample> buffer(4096);
  for (;;) {
    const auto r = sim.read(buffer);
    for (std::size_t i = 0; i < r.count; ++i) set.signals.append(buffer[i]);
    if (r.status != isokin::drivers::ReadStatus::kOk) break;
  }
  return set;
}

void BM_AnalyzeSet(benchmark::State& state) {
  const auto set = simulated_set(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto result = isokin::analysis::analyze_set(set, {});
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * set.signals.size()));
}
BENCHMARK(BM_AnalyzeSet)->Arg(5)->Arg(30);

// The live path as `isokin run` drives it: blocks of 64 samples (32 ms at 2 kHz) into a
// LiveAnalyser that publishes each phase. Items = samples, so time per item is ns per sample.
void BM_LiveAnalyserPush(benchmark::State& state) {
  const auto set = simulated_set(static_cast<int>(state.range(0)));
  const auto& s = set.signals;
  std::vector<isokin::drivers::Sample> samples(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    samples[i] = {s.time[i], s.torque[i], s.angle[i], s.velocity[i], s.status[i]};
  }
  constexpr std::size_t kBlock = 64;
  for (auto _ : state) {
    std::size_t phases = 0;
    isokin::analysis::LiveAnalyser live(set.info, 2000.0, {},
                                        [&](const isokin::analysis::PhaseResult&) { ++phases; });
    for (std::size_t i = 0; i < samples.size(); i += kBlock) {
      live.push(std::span(samples).subspan(i, std::min(kBlock, samples.size() - i)));
    }
    live.finish();
    benchmark::DoNotOptimize(phases);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_LiveAnalyserPush)->Arg(5)->Arg(30);

void BM_StreamingReadFloor(benchmark::State& state) {
  const auto set = simulated_set(static_cast<int>(state.range(0)));
  const auto& s = set.signals;
  for (auto _ : state) {
    double sum = std::accumulate(s.torque.begin(), s.torque.end(), 0.0) +
                 std::accumulate(s.angle.begin(), s.angle.end(), 0.0) +
                 std::accumulate(s.velocity.begin(), s.velocity.end(), 0.0);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_StreamingReadFloor)->Arg(5)->Arg(30);

}  // namespace
