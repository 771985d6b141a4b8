// Isometric efforts (no movement to segment) and segmentation from the device's own
// repetition/phase columns, against answers derived on paper and the simulator's ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "analysis/simulated_set.h"
#include "analysis/synthetic_signals.h"
#include "isokin/analysis/session_analysis.h"

namespace {

using namespace isokin;
using analysis::AnalysisSettings;
using analysis::SetAnalysis;
using drivers::ContractionMode;

double relative_error(double measured, double truth) {
  return std::abs(measured - truth) / std::abs(truth);
}

// A held lever at `angle` with a resting torque `baseline` (the limb's weight) and efforts
// shaped A·sin²(π t / D): peak A above baseline at D/2, onset where A·sin² = onset_torque.
acquisition::RecordedSet isometric_set(double rate, double baseline, double angle,
                                       const std::vector<double>& amplitudes, double duration) {
  acquisition::RecordedSet set;
  set.info.setpoint.mode = ContractionMode::kIsometric;
  set.info.setpoint.hold_angle = angle;
  double t = 0.0;
  const auto hold = [&](double seconds, auto torque_at) {
    const auto n = static_cast<long>(std::lround(seconds * rate));
    for (long i = 0; i < n; ++i) {
      set.signals.append({t, baseline + torque_at(static_cast<double>(i) / rate), angle, 0.0, 0});
      t += 1.0 / rate;
    }
  };
  hold(1.0, [](double) { return 0.0; });
  for (const double a : amplitudes) {
    hold(duration, [&](double u) {
      const double s = std::sin(std::numbers::pi * u / duration);
      return a * s * s;
    });
    hold(2.0, [](double) { return 0.0; });
  }
  return set;
}

TEST(IsometricEfforts, PeakTimeToPeakAndPlateauFromPaper) {
  constexpr double kRate = 1000.0;
  constexpr double kBaseline = -17.3;  // limb weight at 30°: −T_g·cos 30° with T_g = 20 N·m
  constexpr double kDuration = 3.0;
  // Extension effort of 240 N·m, flexion effort of 130 N·m, then another extension of 228.
  const auto set = isometric_set(kRate, kBaseline, 30.0, {240.0, -130.0, 228.0}, kDuration);
  const SetAnalysis a = analysis::analyze_set(set, {}, 80.0, kRate);

  ASSERT_EQ(a.extension.repetitions.size(), 2u);
  ASSERT_EQ(a.flexion.repetitions.size(), 1u);
  EXPECT_EQ(a.hold_angle, 30.0);
  EXPECT_EQ(a.gravity.mode, analysis::GravityMode::kFromRest);
  // The resting torque is the limb's weight at the hold angle: T_g = −baseline / cos θ.
  EXPECT_NEAR(a.gravity.limb_moment, -kBaseline / std::cos(std::numbers::pi / 6.0), 1e-9);
  const auto& e = a.extension.repetitions[0];
  EXPECT_EQ(e.contraction, drivers::Contraction::kIsometric);
  EXPECT_LT(relative_error(e.peak_torque, 240.0), 1e-3);
  EXPECT_LT(relative_error(a.extension.repetitions[1].peak_torque, 228.0), 1e-3);
  EXPECT_LT(relative_error(a.flexion.repetitions[0].peak_torque, 130.0), 1e-3);
  EXPECT_EQ(e.angle_at_peak, 30.0);
  EXPECT_EQ(e.work, 0.0);
  // Onset at A·sin²(πu/D) = 10 N·m; peak at D/2.
  const double onset = kDuration / std::numbers::pi * std::asin(std::sqrt(10.0 / 240.0));
  EXPECT_NEAR(e.time_to_peak, kDuration / 2.0 - onset, 2.0 / kRate);
  // Mean of sin² over π/2 ± a with a = π·0.5 s / D: 1/2 + sin(2a) / (4a).
  const double half_width = std::numbers::pi * 0.5 / kDuration;
  const double plateau = 240.0 * (0.5 + std::sin(2.0 * half_width) / (4.0 * half_width));
  EXPECT_LT(relative_error(e.plateau_torque, plateau), 1e-3) << e.plateau_torque << " " << plateau;
  EXPECT_LT(relative_error(a.hq_ratio, 130.0 / 240.0), 1e-3);
  EXPECT_LT(relative_error(a.extension.peak_torque_per_body_mass, 240.0 / 80.0), 1e-3);
}

TEST(IsometricEfforts, TwitchesBelowTheOnsetOrShorterThanTheMinimumAreNotEfforts) {
  constexpr double kRate = 500.0;
  auto set = isometric_set(kRate, 0.0, 60.0, {8.0, 150.0}, 2.0);  // 8 N·m < 10 N·m onset
  // A 0.1 s spike of 100 N·m: far above the onset, far shorter than 0.3 s.
  for (std::size_t i = 600; i < 650; ++i) set.signals.torque[i] += 100.0;
  const SetAnalysis a = analysis::analyze_set(set, {}, 0.0, kRate);
  ASSERT_EQ(a.extension.repetitions.size(), 1u);
  EXPECT_LT(relative_error(a.extension.peak_torque, 150.0), 1e-3);
}

TEST(IsometricEfforts, AnEffortCutOffByTheEndOfTheRecordingIsNotCounted) {
  constexpr double kRate = 500.0;
  auto set = isometric_set(kRate, 0.0, 60.0, {200.0, 220.0}, 2.0);
  // 500 samples per second: 1 s rest, 2 s effort, 2 s rest, then half the second effort.
  const std::size_t cut = 500 + 1000 + 1000 + 500;
  for (auto* v :
       {&set.signals.time, &set.signals.torque, &set.signals.angle, &set.signals.velocity}) {
    v->resize(cut);
  }
  set.signals.status.resize(cut);
  const SetAnalysis a = analysis::analyze_set(set, {}, 0.0, kRate);
  ASSERT_EQ(a.extension.repetitions.size(), 2u);
  EXPECT_NE(a.extension.repetitions[1].flags & analysis::kPhaseTruncated, 0u);
  EXPECT_EQ(a.extension.best_repetition, 0);
  EXPECT_LT(relative_error(a.extension.peak_torque, 200.0), 1e-3);
}

// The simulator's isometric efforts, with noise, gravity included at the hold angle: the peak
// torque corrected from the resting torque is the muscle's own.
class SimulatedIsometric : public ::testing::TestWithParam<std::tuple<double, double>> {};

TEST_P(SimulatedIsometric, PeakIsTheMusclesOwnWithinOnePercent) {
  const auto [rate, angle] = GetParam();
  drivers::SimulationSettings settings;
  settings.sample_rate_hz = rate;
  settings.seed = 7;
  drivers::MotionSetpoint sp;
  sp.mode = ContractionMode::kIsometric;
  sp.hold_angle = angle;
  sp.repetitions = 3;
  sp.contraction_time = 3.0;
  const auto s = isokin::testing::simulate_set(settings, sp);
  const SetAnalysis a = analysis::analyze_set(s.recorded, {}, 0.0, rate);
  ASSERT_EQ(a.extension.repetitions.size() + a.flexion.repetitions.size(), s.truth.phases.size());
  for (const auto& truth : s.truth.phases) {
    const auto& reps = truth.movement == drivers::Movement::kExtension ? a.extension.repetitions
                                                                       : a.flexion.repetitions;
    const auto& measured = reps.at(static_cast<std::size_t>(truth.repetition));
    EXPECT_LT(relative_error(measured.peak_torque, truth.muscle_peak_torque), 0.01)
        << "rep " << truth.repetition << " " << drivers::to_string(truth.movement) << ": "
        << measured.peak_torque << " vs " << truth.muscle_peak_torque;
    EXPECT_NEAR(measured.angle_at_peak, angle, 0.5);  // the angle sensor is noisy too
  }
}

INSTANTIATE_TEST_SUITE_P(RatesAndAngles, SimulatedIsometric,
                         ::testing::Values(std::make_tuple(100.0, 30.0),
                                           std::make_tuple(1000.0, 60.0),
                                           std::make_tuple(2000.0, 90.0)));

// A knee set whose device marked its phases, with the marks placed exactly on the velocity
// zero crossings: the same phases, hence the same numbers, as velocity segmentation.
acquisition::RecordedSet device_marked_set(double rate) {
  isokin::testing::SyntheticSet synth(rate);
  const auto quadriceps = [](double a) { return 150.0 * std::sin(std::numbers::pi * a / 90.0); };
  const auto hamstrings = [](double a) { return -90.0 * std::sin(std::numbers::pi * a / 90.0); };
  synth.rest(0.5, 90.0, [](double) { return 0.0; });
  for (int rep = 0; rep < 3; ++rep) {
    synth.move(90.0, 0.0, 60.0, 600.0, quadriceps);
    synth.move(0.0, 90.0, 60.0, 600.0, hamstrings);
  }
  synth.rest(0.5, 90.0, [](double) { return 0.0; });
  acquisition::RecordedSet set = synth.set(60.0, 60.0);
  auto& sig = set.signals;
  int repetition = 0;
  for (std::size_t i = 0; i < sig.size(); ++i) {
    const double v = sig.velocity[i];
    const auto phase = v < 0.0   ? acquisition::DevicePhase::kExtension
                       : v > 0.0 ? acquisition::DevicePhase::kFlexion
                                 : acquisition::DevicePhase::kNone;
    if (phase == acquisition::DevicePhase::kExtension && i > 0 && !(sig.velocity[i - 1] < 0.0)) {
      ++repetition;
    }
    sig.device_segments.push_back(
        {phase == acquisition::DevicePhase::kNone ? 0 : repetition, phase});
  }
  set.info.device_segmented = true;
  return set;
}

TEST(DevicePhases, MarksOnTheZeroCrossingsGiveTheVelocitySegmentation) {
  const auto set = device_marked_set(1000.0);
  AnalysisSettings by_velocity;
  by_velocity.segmentation.source = analysis::SegmentationSource::kVelocity;
  const SetAnalysis device = analysis::analyze_set(set, {}, 0.0, 1000.0);
  const SetAnalysis velocity = analysis::analyze_set(set, by_velocity, 0.0, 1000.0);
  ASSERT_EQ(device.extension.repetitions.size(), 3u);
  ASSERT_EQ(device.flexion.repetitions.size(), 3u);
  ASSERT_EQ(velocity.extension.repetitions.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(device.extension.repetitions[i].peak_torque,
              velocity.extension.repetitions[i].peak_torque);
    EXPECT_EQ(device.flexion.repetitions[i].work, velocity.flexion.repetitions[i].work);
  }
  EXPECT_LT(relative_error(device.extension.peak_torque, 150.0), 1e-3);
  EXPECT_LT(relative_error(device.hq_ratio, 90.0 / 150.0), 1e-3);
}

TEST(DevicePhases, TheDevicesMarksAreUsedWhenVelocityCannotSegment) {
  auto set = device_marked_set(1000.0);
  // A velocity channel that never exceeds the 10 °/s hysteresis (e.g. not exported).
  for (double& v : set.signals.velocity) v *= 0.1;
  AnalysisSettings by_velocity;
  by_velocity.segmentation.source = analysis::SegmentationSource::kVelocity;
  EXPECT_EQ(analysis::analyze_set(set, by_velocity, 0.0, 1000.0).extension.repetitions.size(), 0u);
  const SetAnalysis device = analysis::analyze_set(set, {}, 0.0, 1000.0);
  ASSERT_EQ(device.extension.repetitions.size(), 3u);
  ASSERT_EQ(device.flexion.repetitions.size(), 3u);
  // Work = ∫τ dθ = 150 N·m · (2/π)·(π/2 rad) = 150 J from the angle, whatever the velocity says.
  EXPECT_LT(relative_error(device.extension.repetitions[1].work, 150.0), 2e-3);
}

TEST(DevicePhases, MarksFlickeringAtRestAreNotMovements) {
  auto set = device_marked_set(1000.0);
  // The first 0.5 s are a rest at 90°: marks alternating every 5 samples, as a noisy velocity
  // sign would give, must not make movements (they cover no range).
  for (std::size_t i = 0; i < 500; ++i) {
    set.signals.device_segments[i] = {100 + static_cast<int>(i / 5),
                                      (i / 5) % 2 == 0 ? acquisition::DevicePhase::kExtension
                                                       : acquisition::DevicePhase::kFlexion};
  }
  const SetAnalysis a = analysis::analyze_set(set, {}, 0.0, 1000.0);
  EXPECT_EQ(a.phases_from, "device");
  EXPECT_EQ(a.extension.repetitions.size(), 3u);
  EXPECT_EQ(a.flexion.repetitions.size(), 3u);
}

TEST(DevicePhases, AskingForDeviceColumnsASetLacksWarnsAndFindsNothing) {
  auto set = device_marked_set(1000.0);
  set.info.device_segmented = false;
  set.signals.device_segments.clear();
  AnalysisSettings by_device;
  by_device.segmentation.source = analysis::SegmentationSource::kDevice;
  const SetAnalysis a = analysis::analyze_set(set, by_device, 0.0, 1000.0);
  // The movements are listed (nothing recorded disappears), none of them as the test.
  EXPECT_EQ(a.extension.counted_repetitions, 0);
  EXPECT_EQ(a.flexion.counted_repetitions, 0);
  EXPECT_EQ(a.extension.best_repetition, -1);
  for (const auto* m : {&a.extension, &a.flexion}) {
    for (const auto& r : m->repetitions) {
      EXPECT_EQ(r.role, analysis::PhaseRole::kOutside);
      EXPECT_EQ(r.role_reason, "the device marked no repetition");
    }
  }
  bool warned = false;
  for (const auto& w : a.warnings)
    warned = warned || w.find("device's repetition/phase") != std::string::npos;
  EXPECT_TRUE(warned);
}

}  // namespace
