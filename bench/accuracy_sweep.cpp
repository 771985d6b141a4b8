// Peak torque and work of the analysis against the simulator's ground truth, over rates, speeds,
// noise levels and seeds: the table of docs/analysis.md §15. Not a speed benchmark; it lives
// here with the other measurement programs. Usage: accuracy_sweep [SEEDS] (default 8).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

using namespace isokin;

struct Errors {
  double worst_peak = 0.0;
  double sum_squared_peak = 0.0;
  double worst_work = 0.0;
  int phases = 0;
  int missing = 0;
};

void measure(double rate, double velocity, double noise, unsigned seed, Errors& e) {
  drivers::SimulationSettings settings;
  settings.sample_rate_hz = rate;
  settings.torque_noise = noise;
  settings.seed = seed;
  drivers::MotionSetpoint setpoint;
  setpoint.extension_velocity = setpoint.flexion_velocity = velocity;
  setpoint.repetitions = 5;
  drivers::SimulatedDynamometer sim(settings);
  sim.open();
  sim.apply(setpoint);
  sim.start();
  acquisition::RecordedSet set;
  set.info.setpoint = setpoint;
  std::vector<drivers::Sample> buffer(4096);
  for (;;) {
    const auto r = sim.read(buffer);
    for (std::size_t i = 0; i < r.count; ++i) set.signals.append(buffer[i]);
    if (r.status != drivers::ReadStatus::kOk) break;
  }
  const drivers::SetTruth truth = sim.ground_truth().back();
  analysis::AnalysisSettings a;
  a.filter_cutoff_hz = std::min(a.filter_cutoff_hz, rate / 4.0);
  a.gravity.mode = analysis::GravityMode::kOff;  // the truth is "as measured"
  const auto result = analysis::analyze_set(set, a, 0.0, rate);
  for (const auto& t : truth.phases) {
    const auto& reps = t.movement == drivers::Movement::kExtension ? result.extension.repetitions
                                                                   : result.flexion.repetitions;
    if (static_cast<std::size_t>(t.repetition) >= reps.size()) {
      ++e.missing;
      continue;
    }
    const auto& r = reps[static_cast<std::size_t>(t.repetition)];
    const double peak = std::abs(r.peak_torque - t.peak_torque) / t.peak_torque;
    e.worst_peak = std::max(e.worst_peak, peak);
    e.sum_squared_peak += peak * peak;
    e.worst_work = std::max(e.worst_work, std::abs(r.work - t.work) / std::abs(t.work));
    ++e.phases;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned seeds = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 8;
  fmt::print(
      "noise N·m,rate Hz,velocity deg/s,phases,missing,peak worst %,peak rms %,work worst %\n");
  for (const double noise : {0.8, 3.0}) {
    for (const double rate : {100.0, 200.0, 500.0, 1000.0, 2000.0}) {
      for (const double velocity : {30.0, 60.0, 180.0, 300.0}) {
        Errors e;
        for (unsigned seed = 1; seed <= seeds; ++seed) measure(rate, velocity, noise, seed, e);
        fmt::print("{},{},{},{},{},{:.2f},{:.2f},{:.2f}\n", noise, rate, velocity, e.phases,
                   e.missing, 100.0 * e.worst_peak,
                   100.0 * std::sqrt(e.sum_squared_peak / std::max(e.phases, 1)),
                   100.0 * e.worst_work);
      }
    }
  }
}
