// The analysis against the simulator's ground truth (noise-free model on a fine grid).
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

using isokin::acquisition::RecordedSet;
using isokin::analysis::AnalysisSettings;
using isokin::analysis::analyze_set;
using isokin::analysis::SetAnalysis;
using isokin::drivers::MotionSetpoint;
using isokin::drivers::Movement;
using isokin::drivers::Sample;
using isokin::drivers::SetTruth;
using isokin::drivers::Side;
using isokin::drivers::SimulatedDynamometer;
using isokin::drivers::SimulationSettings;

struct SimulatedSet {
  RecordedSet recorded;
  SetTruth truth;
};

SimulatedSet simulate(const SimulationSettings& settings, const MotionSetpoint& sp) {
  SimulatedDynamometer sim(settings);
  sim.open();
  sim.apply(sp);
  sim.start();
  SimulatedSet out;
  out.recorded.info.setpoint = sp;
  std::vector<Sample> buffer(1000);
  for (;;) {
    const auto r = sim.read(buffer);
    for (std::size_t i = 0; i < r.count; ++i) out.recorded.signals.append(buffer[i]);
    if (r.status != isokin::drivers::ReadStatus::kOk) break;
  }
  sim.close();
  out.truth = sim.ground_truth().back();
  return out;
}

double relative_error(double measured, double truth) {
  return std::abs(measured - truth) / truth;
}

// (sample rate, velocity, torque noise)
class GroundTruth : public ::testing::TestWithParam<std::tuple<double, double, double>> {};

TEST_P(GroundTruth, PeakTorqueWorkAngleAndRatioWithinTolerance) {
  const auto [rate, velocity, noise] = GetParam();
  SimulationSettings settings;
  settings.sample_rate_hz = rate;
  settings.torque_noise = noise;
  settings.seed = 7;
  MotionSetpoint sp;
  sp.side = Side::kLeft;
  sp.extension_velocity = velocity;
  sp.flexion_velocity = velocity;
  sp.repetitions = 5;
  const SimulatedSet s = simulate(settings, sp);
  AnalysisSettings analysis;
  analysis.filter_cutoff_hz = std::min(analysis.filter_cutoff_hz, rate / 4.0);
  const SetAnalysis a = analyze_set(s.recorded, analysis);

  ASSERT_EQ(a.extension.repetitions.size(), 5U);
  ASSERT_EQ(a.flexion.repetitions.size(), 5U);
  double truth_ext_peak = 0.0;
  double truth_flex_peak = 0.0;
  for (const auto& truth : s.truth.phases) {
    const bool ext = truth.movement == Movement::kExtension;
    const auto& measured = (ext ? a.extension : a.flexion).repetitions.at(truth.repetition);
    SCOPED_TRACE(::testing::Message()
                 << (ext ? "extension" : "flexion") << " rep " << truth.repetition);
    EXPECT_LT(relative_error(measured.peak_torque, truth.peak_torque), 0.01)
        << measured.peak_torque << " vs " << truth.peak_torque;
    EXPECT_LT(relative_error(measured.work, truth.work), 0.01)
        << measured.work << " vs " << truth.work;
    EXPECT_NEAR(measured.angle_at_peak, truth.angle_at_peak, 1.0);
    (ext ? truth_ext_peak : truth_flex_peak) =
        std::max(ext ? truth_ext_peak : truth_flex_peak, truth.peak_torque);
  }
  EXPECT_LT(relative_error(a.hq_ratio, truth_flex_peak / truth_ext_peak), 0.01);
}

INSTANTIATE_TEST_SUITE_P(
    RatesSpeedsNoise, GroundTruth,
    ::testing::Values(std::make_tuple(2000.0, 60.0, 0.8), std::make_tuple(2000.0, 180.0, 0.8),
                      std::make_tuple(2000.0, 300.0, 0.8), std::make_tuple(2000.0, 60.0, 3.0),
                      std::make_tuple(1000.0, 180.0, 0.8), std::make_tuple(500.0, 60.0, 0.8),
                      std::make_tuple(100.0, 60.0, 0.8), std::make_tuple(100.0, 180.0, 0.8)));

TEST(SimulatedSubject, ExtensorsPeakNearSixtyFiveDegreesFlexorsNearThirty) {
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = 60.0;
  SimulationSettings settings;
  settings.subject.body_mass_kg = 1e-9;  // no limb weight: the muscles' own curves
  const SimulatedSet s = simulate(settings, sp);
  for (const auto& truth : s.truth.phases) {
    if (truth.movement == Movement::kExtension) {
      EXPECT_NEAR(truth.angle_at_peak, 65.0, 5.0);
    } else {
      EXPECT_NEAR(truth.angle_at_peak, 30.0, 10.0);
    }
  }
}

}  // namespace
