// Peak torque, its angle, torque at 30° and 60°, and work of the analysis against the
// simulator's ground truth, over rates, speeds, noise levels and seeds: the table of
// docs/analysis.md §15, with the information limit of the peak (tests/analysis/
// peak_information_limit.h) for comparison, and the isokinetic peak torque against the truth's
// within the isokinetic band (docs/analysis.md §7). Not a speed benchmark; it lives here with the
// other measurement programs. Usage: accuracy_sweep [SEEDS [NOISE]] (default 8 seeds; 0.25, 0.8
// and 3 N·m).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "../tests/analysis/peak_information_limit.h"
#include "../tests/analysis/simulated_set.h"
#include "../tests/analysis/simulator_truth.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

using namespace isokin;

struct Errors {
  double worst_peak = 0.0;
  double sum_squared_peak = 0.0;
  double worst_work = 0.0;
  double worst_angle = 0.0;            // °
  double worst_torque_at_angle = 0.0;  // relative, 30° and 60°
  double sum_squared_limit = 0.0;      // relative standard error of the peak, squared
  double worst_over_limit = 0.0;       // peak error / its standard error
  // Isokinetic peak torque against the truth's, where that peak lies inside the window (not at
  // its edge, where the measured window's edge and the truth's differ by the filter's lag).
  double worst_isokinetic_peak = 0.0;
  double sum_squared_isokinetic_peak = 0.0;
  int isokinetic_phases = 0;
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
  const auto simulated = testing::simulate_set(settings, setpoint);
  const acquisition::RecordedSet& set = simulated.recorded;
  const drivers::SetTruth& truth = simulated.truth;
  // The same set without noise: at the rate under test (information limit) and at 20 kHz
  // (torque at an angle, free of interpolation error).
  drivers::SimulationSettings quiet = settings;
  quiet.torque_noise = quiet.angle_noise = quiet.velocity_noise = 0.0;
  const auto clean = drivers::simulate_set(quiet, setpoint);
  quiet.sample_rate_hz = 20000.0;
  const auto fine = drivers::simulate_set(quiet, setpoint);
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
    if (testing::isokinetic_peak_inside(t)) {
      const double iso =
          std::abs(r.isokinetic.peak_torque - t.isokinetic_peak_torque) / t.isokinetic_peak_torque;
      e.worst_isokinetic_peak = std::max(e.worst_isokinetic_peak, std::isnan(iso) ? 1.0 : iso);
      e.sum_squared_isokinetic_peak += iso * iso;
      ++e.isokinetic_phases;
    }
    e.worst_work = std::max(e.worst_work, std::abs(r.work - t.work) / std::abs(t.work));
    e.worst_angle = std::max(e.worst_angle, std::abs(r.angle_at_peak - t.angle_at_peak));
    const double sign = t.extensors ? 1.0 : -1.0;
    for (std::size_t k = 0; k < a.torque_angles.size(); ++k) {
      const double expected = testing::torque_at_crossing(fine, t, a.torque_angles[k]);
      e.worst_torque_at_angle =
          std::max(e.worst_torque_at_angle, std::abs(r.torque_at_angles[k] - expected) / expected);
    }
    std::vector<double> curve;
    std::vector<double> time;
    for (const auto& c : clean) {
      if (c.time >= t.start_time && c.time <= t.end_time) {
        curve.push_back(sign * c.torque);
        time.push_back(c.time);
      }
    }
    const auto m = static_cast<Eigen::Index>(curve.size());
    const double limit =
        testing::peak_standard_error(Eigen::Map<const Eigen::ArrayXd>(curve.data(), m),
                                     Eigen::Map<const Eigen::ArrayXd>(time.data(), m), noise) /
        t.peak_torque;
    e.sum_squared_limit += limit * limit;
    e.worst_over_limit = std::max(e.worst_over_limit, peak / limit);
    ++e.phases;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned seeds = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 8;
  fmt::print(
      "noise N·m,rate Hz,velocity deg/s,phases,missing,peak worst %,peak rms %,peak limit rms %,"
      "worst error / limit,angle worst deg,torque at angle worst %,work worst %,"
      "isokinetic phases,isokinetic peak worst %,isokinetic peak rms %\n");
  std::vector<double> noises = {0.25, 0.8, 3.0};
  if (argc > 2) noises = {std::strtod(argv[2], nullptr)};
  for (const double noise : noises) {
    for (const double rate : {100.0, 200.0, 500.0, 1000.0, 2000.0}) {
      for (const double velocity : {30.0, 60.0, 180.0, 300.0}) {
        Errors e;
        for (unsigned seed = 1; seed <= seeds; ++seed) measure(rate, velocity, noise, seed, e);
        const double phases = std::max(e.phases, 1);
        const double isokinetic_phases = std::max(e.isokinetic_phases, 1);
        fmt::print(
            "{},{},{},{},{},{:.2f},{:.2f},{:.2f},{:.1f},{:.1f},{:.2f},{:.2f},{},{:.2f},{:.2f}\n",
            noise, rate, velocity, e.phases, e.missing, 100.0 * e.worst_peak,
            100.0 * std::sqrt(e.sum_squared_peak / phases),
            100.0 * std::sqrt(e.sum_squared_limit / phases), e.worst_over_limit, e.worst_angle,
            100.0 * e.worst_torque_at_angle, 100.0 * e.worst_work, e.isokinetic_phases,
            100.0 * e.worst_isokinetic_peak,
            100.0 * std::sqrt(e.sum_squared_isokinetic_peak / isokinetic_phases));
      }
    }
  }
}
