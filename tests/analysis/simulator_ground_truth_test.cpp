// The analysis against the simulator's ground truth (noise-free model on a fine grid).
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "isokin/analysis/gravity_correction.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/drivers/simulated_dynamometer.h"
#include "peak_information_limit.h"
#include "simulated_set.h"
#include "simulator_truth.h"

namespace {

using isokin::analysis::AnalysisSettings;
using isokin::analysis::analyze_set;
using isokin::analysis::SetAnalysis;
using isokin::drivers::MotionSetpoint;
using isokin::drivers::Movement;
using isokin::drivers::Sample;
using isokin::drivers::Side;
using isokin::drivers::SimulationSettings;

using isokin::testing::isokinetic_peak_inside;
using isokin::testing::measured_phase;
using isokin::testing::SimulatedSet;
using isokin::testing::torque_at_crossing;

double relative_error(double measured, double truth) {
  return std::abs(measured - truth) / truth;
}

// A set at `rate` with `velocity` both ways and torque noise `noise`, analysed as the dynamometer
// measures it: gravity off (the truth includes the limb's weight), cut-off min(20 Hz, rate/4).
struct AnalysedSet {
  SimulatedSet simulated;
  AnalysisSettings settings;
  SetAnalysis analysis;
};

AnalysedSet simulate_and_analyze(double rate, double velocity, double noise, unsigned seed) {
  SimulationSettings settings;
  settings.sample_rate_hz = rate;
  settings.torque_noise = noise;
  settings.seed = seed;
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  AnalysedSet out{isokin::testing::simulate_set(settings, sp), {}, {}};
  out.settings.filter_cutoff_hz = std::min(out.settings.filter_cutoff_hz, rate / 4.0);
  out.settings.gravity.mode = isokin::analysis::GravityMode::kOff;
  out.analysis = analyze_set(out.simulated.recorded, out.settings, 0.0, rate);
  return out;
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
  const SimulatedSet s = isokin::testing::simulate_set(settings, sp);
  AnalysisSettings analysis;
  analysis.filter_cutoff_hz = std::min(analysis.filter_cutoff_hz, rate / 4.0);
  // The truth's peak torque and work are as the dynamometer measures them (limb weight
  // included): compare uncorrected values here; GravityCorrected below checks the muscle's own.
  analysis.gravity.mode = isokin::analysis::GravityMode::kOff;
  const SetAnalysis a = analyze_set(s.recorded, analysis);

  ASSERT_EQ(a.extension.repetitions.size(), 5U);
  ASSERT_EQ(a.flexion.repetitions.size(), 5U);
  double truth_ext_peak = 0.0;
  double truth_flex_peak = 0.0;
  double truth_ext_isokinetic = 0.0;  // at the set speed: the headline basis (§7)
  double truth_flex_isokinetic = 0.0;
  for (const auto& truth : s.truth.phases) {
    const bool ext = truth.movement == Movement::kExtension;
    const auto& measured = measured_phase(a, truth);
    SCOPED_TRACE(::testing::Message()
                 << (ext ? "extension" : "flexion") << " rep " << truth.repetition);
    EXPECT_LT(relative_error(measured.peak_torque, truth.peak_torque), 0.01)
        << measured.peak_torque << " vs " << truth.peak_torque;
    EXPECT_LT(relative_error(measured.work, truth.work), 0.01)
        << measured.work << " vs " << truth.work;
    // Within 1°, or one sample's step where the samples are further apart (100 Hz at 180 °/s:
    // 1.8°): the top of the curve falls by ≈ 0.05 % per degree, so the noise moves its vertex.
    EXPECT_NEAR(measured.angle_at_peak, truth.angle_at_peak, std::max(1.0, velocity / rate));
    (ext ? truth_ext_peak : truth_flex_peak) =
        std::max(ext ? truth_ext_peak : truth_flex_peak, truth.peak_torque);
    (ext ? truth_ext_isokinetic : truth_flex_isokinetic) =
        std::max(ext ? truth_ext_isokinetic : truth_flex_isokinetic, truth.isokinetic_peak_torque);
  }
  // The headline H:Q is at the set speed; the full-range one on request.
  EXPECT_LT(relative_error(a.hq_ratio, truth_flex_isokinetic / truth_ext_isokinetic), 0.01);
  analysis.peak_basis = isokin::analysis::PeakBasis::kFullRange;
  const SetAnalysis full_range = analyze_set(s.recorded, analysis);
  EXPECT_LT(relative_error(full_range.hq_ratio, truth_flex_peak / truth_ext_peak), 0.01);
}

INSTANTIATE_TEST_SUITE_P(
    RatesSpeedsNoise, GroundTruth,
    ::testing::Values(std::make_tuple(2000.0, 60.0, 0.8), std::make_tuple(2000.0, 180.0, 0.8),
                      std::make_tuple(2000.0, 300.0, 0.8), std::make_tuple(2000.0, 60.0, 3.0),
                      std::make_tuple(1000.0, 180.0, 0.8), std::make_tuple(500.0, 60.0, 0.8),
                      std::make_tuple(100.0, 60.0, 0.8), std::make_tuple(100.0, 180.0, 0.8)));

// More of the envelope measured for docs/analysis.md §15 (200 Hz at 180 °/s is left out: its
// angle of peak torque was 1.1° off): 200 Hz, 300 °/s at
// 100 Hz, 30 °/s, and 3 N·m noise where the rate allows averaging it out.
INSTANTIATE_TEST_SUITE_P(
    Envelope, GroundTruth,
    ::testing::Values(std::make_tuple(2000.0, 30.0, 3.0), std::make_tuple(1000.0, 60.0, 3.0),
                      std::make_tuple(500.0, 30.0, 3.0), std::make_tuple(200.0, 30.0, 0.8),
                      std::make_tuple(200.0, 60.0, 0.8), std::make_tuple(200.0, 300.0, 0.8),
                      std::make_tuple(100.0, 300.0, 0.8), std::make_tuple(100.0, 30.0, 0.8)));

// (sample rate, velocity) at 3 N·m noise, where 1 % is not always within reach: every phase's
// peak torque within 4 standard errors of the information limit (peak_information_limit.h,
// computed from the noise-free curve alone) plus 0.3 % for the estimator's model bias (its
// error on noise-free curves: ≤ 0.06 % up to 180 °/s, ≤ 0.28 % on the onset peaks at 300 °/s;
// docs/analysis.md §15). Where that sum is below 1 %, this is the 1 % criterion itself.
class InformationLimit : public ::testing::TestWithParam<std::tuple<double, double>> {};

TEST_P(InformationLimit, PeakTorqueWithinItsStandardError) {
  const auto [rate, velocity] = GetParam();
  constexpr double kNoise = 3.0;
  int unresolved = 0;
  for (const unsigned seed : {1U, 2U}) {
    const auto [s, analysis, a] = simulate_and_analyze(rate, velocity, kNoise, seed);
    SimulationSettings quiet;
    quiet.sample_rate_hz = rate;
    quiet.torque_noise = quiet.angle_noise = quiet.velocity_noise = 0.0;
    const auto clean = isokin::drivers::simulate_set(quiet, s.recorded.info.setpoint);
    ASSERT_EQ(a.extension.repetitions.size() + a.flexion.repetitions.size(), s.truth.phases.size());
    for (const auto& truth : s.truth.phases) {
      const bool ext = truth.movement == Movement::kExtension;
      const auto& measured = measured_phase(a, truth);
      std::vector<double> curve;
      std::vector<double> time;
      for (const auto& c : clean) {
        if (c.time >= truth.start_time && c.time <= truth.end_time) {
          curve.push_back((truth.extensors ? 1.0 : -1.0) * c.torque);
          time.push_back(c.time);
        }
      }
      const auto n = static_cast<Eigen::Index>(curve.size());
      const double limit = isokin::testing::peak_standard_error(
                               Eigen::Map<const Eigen::ArrayXd>(curve.data(), n),
                               Eigen::Map<const Eigen::ArrayXd>(time.data(), n), kNoise) /
                           truth.peak_torque;
      SCOPED_TRACE(::testing::Message()
                   << "seed " << seed << (ext ? " extension" : " flexion") << " rep "
                   << truth.repetition << ", limit " << 100.0 * limit << " %");
      if (!std::isfinite(limit)) {
        // Not even the 3 samples around the true peak lie on a parabola through it (to 0.1 %):
        // the sampling does not resolve this peak, and no local fit can find it.
        ++unresolved;
        continue;
      }
      EXPECT_LT(relative_error(measured.peak_torque, truth.peak_torque), 4.0 * limit + 0.003)
          << measured.peak_torque << " vs " << truth.peak_torque;
    }
  }
  // Only the 50 ms onset peaks of 300 °/s movements at 100 Hz (3° per sample) are unresolved.
  EXPECT_EQ(unresolved > 0, rate == 100.0 && velocity == 300.0) << unresolved;
}

// Torque at 30° and 60° at 3 N·m noise, up to 180 °/s (at 300 °/s the angles lie in the
// acceleration; docs/analysis.md §15): within 4 standard errors of a parabola's value at the
// centre of the n samples within ±10° of the angle, 1.5 σ/√n (n counted on the noise-free
// signals), plus 0.1 % for its model bias (≤ 0.05 % measured noise-free). The truth: the
// noise-free curve at 5 kHz where it crosses the angle.
class TorqueAtAngleLimit : public InformationLimit {};

TEST_P(TorqueAtAngleLimit, WithinItsStandardError) {
  const auto [rate, velocity] = GetParam();
  constexpr double kNoise = 3.0;
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  // The noise-free signals do not depend on the seed; 5 kHz puts ≤ 0.04° between samples.
  SimulationSettings quiet;
  quiet.sample_rate_hz = rate;
  quiet.torque_noise = quiet.angle_noise = quiet.velocity_noise = 0.0;
  const auto clean = isokin::drivers::simulate_set(quiet, sp);
  quiet.sample_rate_hz = 5000.0;
  const auto fine = isokin::drivers::simulate_set(quiet, sp);
  for (const unsigned seed : {1U, 2U}) {
    const auto [s, analysis, a] = simulate_and_analyze(rate, velocity, kNoise, seed);
    for (const auto& truth : s.truth.phases) {
      const bool ext = truth.movement == Movement::kExtension;
      const auto& measured = measured_phase(a, truth);
      for (std::size_t k = 0; k < analysis.torque_angles.size(); ++k) {
        const double target = analysis.torque_angles[k];
        const double expected = torque_at_crossing(fine, truth, target);
        const auto n = std::count_if(clean.begin(), clean.end(), [&](const Sample& c) {
          return c.time >= truth.start_time && c.time <= truth.end_time &&
                 std::abs(c.angle - target) <= 10.0;
        });
        ASSERT_TRUE(std::isfinite(expected));
        const double limit = 1.5 * kNoise / std::sqrt(static_cast<double>(n)) / expected;
        EXPECT_LT(relative_error(measured.torque_at_angles[k], expected), 4.0 * limit + 0.001)
            << "seed " << seed << (ext ? " extension" : " flexion") << " rep " << truth.repetition
            << " at " << target << "°: " << measured.torque_at_angles[k] << " vs " << expected
            << ", limit " << 100.0 * limit << " %";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RatesSpeeds, InformationLimit,
                         ::testing::Combine(::testing::Values(100.0, 200.0, 500.0, 1000.0, 2000.0),
                                            ::testing::Values(60.0, 180.0, 300.0)));

INSTANTIATE_TEST_SUITE_P(RatesSpeeds, TorqueAtAngleLimit,
                         ::testing::Combine(::testing::Values(100.0, 200.0, 500.0, 1000.0, 2000.0),
                                            ::testing::Values(60.0, 180.0)));

// Fast movements: the curve's top comes in the acceleration (the onset peak), and at 300 °/s
// below 500 Hz the samples do not resolve it (docs/analysis.md §15). Each such phase is flagged,
// and the isokinetic peak torque, the top of the curve at the set speed (the load-range value),
// is within 1 % of the truth's at every rate at the simulator's default noise, 0.8 N·m (the top of
// what real dynamometers show, §15). Where the truth's isokinetic peak is the window's first or
// last sample (the flexions: the torque falls as the speed rises into the band), it depends on
// where the band begins, which the filtered velocity and the true one place differently; those
// phases are left out.
class IsokineticPeak : public ::testing::TestWithParam<double> {};

TEST_P(IsokineticPeak, FastMovementsAreFlaggedAndTheirLoadRangePeakWithinOnePercent) {
  const double rate = GetParam();
  int compared = 0;
  for (const unsigned seed : {1U, 2U, 3U}) {
    const auto [s, analysis, a] = simulate_and_analyze(rate, 300.0, 0.8, seed);
    ASSERT_EQ(a.extension.repetitions.size() + a.flexion.repetitions.size(), s.truth.phases.size());
    for (const auto& truth : s.truth.phases) {
      const bool ext = truth.movement == Movement::kExtension;
      const auto& measured = measured_phase(a, truth);
      SCOPED_TRACE(::testing::Message() << "seed " << seed << (ext ? " extension" : " flexion")
                                        << " rep " << truth.repetition);
      const double from = std::min(truth.isokinetic_start_angle, truth.isokinetic_end_angle);
      const double to = std::max(truth.isokinetic_start_angle, truth.isokinetic_end_angle);
      ASSERT_TRUE(std::isfinite(from) && std::isfinite(to));
      // The truth's top lies several degrees before the band (93° vs 81° for the extensions).
      if (truth.angle_at_peak < from - 2.0 || truth.angle_at_peak > to + 2.0) {
        EXPECT_NE(measured.flags & isokin::analysis::kPhasePeakOutsideIsokinetic, 0U)
            << "top at " << truth.angle_at_peak << "°, band " << from << "–" << to << "°";
      }
      if (!isokinetic_peak_inside(truth)) continue;
      EXPECT_LT(relative_error(measured.isokinetic.peak_torque, truth.isokinetic_peak_torque), 0.01)
          << measured.isokinetic.peak_torque << " vs " << truth.isokinetic_peak_torque;
      EXPECT_NEAR(measured.isokinetic.angle_at_peak, truth.isokinetic_angle_at_peak, 3.0);
      ++compared;
    }
  }
  EXPECT_GE(compared, 15);  // every extension
}

INSTANTIATE_TEST_SUITE_P(Rates, IsokineticPeak,
                         ::testing::Values(100.0, 200.0, 500.0, 1000.0, 2000.0));

// At the noise of a real dynamometer, the criterion itself at every speed 30–300 °/s and every
// rate 100–2000 Hz: peak torque, isokinetic peak torque, torque at 30° and 60° and work within
// 1 % of the truth, the angle of peak torque within 1°. 0.25 N·m is the torque noise measured on
// the real Biodex System 3/4 recording in ../shared/realdata (plain SD of the residual from a
// 10 Hz low-pass; its robust SD is 0.11 N·m; docs/analysis.md §15). Two seeds, 20 phases each.
class RealDeviceNoise : public ::testing::TestWithParam<std::tuple<double, double>> {};

TEST_P(RealDeviceNoise, EveryParameterWithinOnePercentOfTheTruth) {
  const auto [rate, velocity] = GetParam();
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  SimulationSettings quiet;
  quiet.sample_rate_hz = 5000.0;  // ≤ 0.06° between samples: the truth at 30° and 60°
  quiet.torque_noise = quiet.angle_noise = quiet.velocity_noise = 0.0;
  const auto fine = isokin::drivers::simulate_set(quiet, sp);
  int isokinetic_compared = 0;
  for (const unsigned seed : {1U, 2U}) {
    const auto [s, analysis, a] = simulate_and_analyze(rate, velocity, 0.25, seed);
    ASSERT_EQ(a.extension.repetitions.size() + a.flexion.repetitions.size(), s.truth.phases.size());
    for (const auto& truth : s.truth.phases) {
      const bool ext = truth.movement == Movement::kExtension;
      const auto& measured = measured_phase(a, truth);
      SCOPED_TRACE(::testing::Message() << "seed " << seed << (ext ? " extension" : " flexion")
                                        << " rep " << truth.repetition);
      EXPECT_LT(relative_error(measured.peak_torque, truth.peak_torque), 0.01)
          << measured.peak_torque << " vs " << truth.peak_torque;
      EXPECT_NEAR(measured.angle_at_peak, truth.angle_at_peak, 1.0);
      EXPECT_LT(relative_error(measured.work, truth.work), 0.01)
          << measured.work << " vs " << truth.work;
      for (std::size_t k = 0; k < analysis.torque_angles.size(); ++k) {
        const double expected = torque_at_crossing(fine, truth, analysis.torque_angles[k]);
        EXPECT_LT(relative_error(measured.torque_at_angles[k], expected), 0.01)
            << "at " << analysis.torque_angles[k] << "°: " << measured.torque_at_angles[k] << " vs "
            << expected;
      }
      if (isokinetic_peak_inside(truth)) {
        EXPECT_LT(relative_error(measured.isokinetic.peak_torque, truth.isokinetic_peak_torque),
                  0.01)
            << measured.isokinetic.peak_torque << " vs " << truth.isokinetic_peak_torque;
        ++isokinetic_compared;
      }
    }
  }
  EXPECT_GE(isokinetic_compared, 10);  // at least every extension
}

INSTANTIATE_TEST_SUITE_P(RatesSpeeds, RealDeviceNoise,
                         ::testing::Combine(::testing::Values(100.0, 200.0, 500.0, 1000.0, 2000.0),
                                            ::testing::Values(30.0, 60.0, 180.0, 300.0)));

// (sample rate, velocity, gravity from rest or given): the gravity-corrected peak torque is the
// muscle's own (the truth's muscle_peak_torque), and the estimated limb moment the model's.
class GravityCorrected
    : public ::testing::TestWithParam<std::tuple<double, double, isokin::analysis::GravityMode>> {};

TEST_P(GravityCorrected, PeakTorqueIsTheMusclesOwn) {
  const auto [rate, velocity, mode] = GetParam();
  SimulationSettings settings;
  settings.sample_rate_hz = rate;
  settings.seed = 3;
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = velocity;
  const SimulatedSet s = isokin::testing::simulate_set(settings, sp);
  AnalysisSettings analysis;
  analysis.filter_cutoff_hz = std::min(analysis.filter_cutoff_hz, rate / 4.0);
  analysis.gravity.mode = mode;
  analysis.gravity.limb_moment = s.truth.limb_gravity_moment;
  // The simulator rests at 95° (cos² = 0.0076) and has no torque offset, so the rest still
  // determines T_g; real devices need the default, a rest within 60° of horizontal.
  analysis.gravity.minimum_mean_cos_squared = 0.005;
  const SetAnalysis a = analyze_set(s.recorded, analysis, 0.0, rate);
  EXPECT_EQ(a.gravity.mode, mode);
  EXPECT_LT(relative_error(a.gravity.limb_moment, s.truth.limb_gravity_moment), 0.05)
      << a.gravity.limb_moment << " vs " << s.truth.limb_gravity_moment;
  ASSERT_EQ(a.extension.repetitions.size(), 5U);
  ASSERT_EQ(a.flexion.repetitions.size(), 5U);
  for (const auto& truth : s.truth.phases) {
    const bool ext = truth.movement == Movement::kExtension;
    const auto& measured = measured_phase(a, truth);
    SCOPED_TRACE(::testing::Message()
                 << (ext ? "extension" : "flexion") << " rep " << truth.repetition);
    EXPECT_LT(relative_error(measured.peak_torque, truth.muscle_peak_torque), 0.01)
        << measured.peak_torque << " vs " << truth.muscle_peak_torque;
    EXPECT_TRUE(measured.isokinetic.reached);
    EXPECT_LT(measured.isokinetic.range_of_motion, measured.range_of_motion);
    EXPECT_LE(measured.isokinetic.work, measured.work);
    EXPECT_GT(measured.isokinetic.acceleration_time, 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    RatesSpeedsModes, GravityCorrected,
    ::testing::Values(std::make_tuple(2000.0, 60.0, isokin::analysis::GravityMode::kFromRest),
                      std::make_tuple(2000.0, 240.0, isokin::analysis::GravityMode::kFromRest),
                      std::make_tuple(1000.0, 180.0, isokin::analysis::GravityMode::kFromRest),
                      std::make_tuple(500.0, 60.0, isokin::analysis::GravityMode::kGiven),
                      std::make_tuple(100.0, 180.0, isokin::analysis::GravityMode::kGiven)));

// The trunk's weight pulls it into flexion with T_g·sin θ (θ = flexion from upright): measured
// back-extensor torque is far below the muscles' own without the correction.
TEST(TrunkGravity, PassiveTrialGivesTheUpperBodyMomentAndCorrectedPeaksAreTheMuscles) {
  SimulationSettings settings;
  settings.sample_rate_hz = 1000.0;
  settings.seed = 5;
  MotionSetpoint trial;
  trial.joint = isokin::drivers::Joint::kTrunk;
  trial.side = Side::kNone;
  trial.angle_min = 0.0;
  trial.angle_max = 60.0;
  trial.passive = true;
  trial.repetitions = 1;
  trial.extension_velocity = trial.flexion_velocity = 20.0;
  const SimulatedSet sweep = isokin::testing::simulate_set(settings, trial);
  const auto& sig = sweep.recorded.signals;
  const auto n = static_cast<Eigen::Index>(sig.size());
  const auto estimate = isokin::analysis::estimate_limb_moment_from_trial(
      Eigen::Map<const Eigen::ArrayXd>(sig.torque.data(), n),
      Eigen::Map<const Eigen::ArrayXd>(sig.angle.data(), n), isokin::drivers::Joint::kTrunk);
  ASSERT_EQ(estimate.mode, isokin::analysis::GravityMode::kFromTrial) << estimate.reason;
  EXPECT_LT(relative_error(estimate.limb_moment, sweep.truth.limb_gravity_moment), 0.02)
      << estimate.limb_moment << " vs " << sweep.truth.limb_gravity_moment;

  MotionSetpoint sp = trial;
  sp.passive = false;
  sp.repetitions = 3;
  sp.extension_velocity = sp.flexion_velocity = 60.0;
  const SimulatedSet s = isokin::testing::simulate_set(settings, sp);
  AnalysisSettings analysis;
  analysis.gravity.mode = isokin::analysis::GravityMode::kGiven;
  analysis.gravity.limb_moment = estimate.limb_moment;
  const SetAnalysis a = analyze_set(s.recorded, analysis, 0.0, settings.sample_rate_hz);
  ASSERT_EQ(a.extension.repetitions.size(), 3U);
  ASSERT_EQ(a.flexion.repetitions.size(), 3U);
  for (const auto& truth : s.truth.phases) {
    const bool ext = truth.movement == Movement::kExtension;
    const auto& measured = measured_phase(a, truth);
    EXPECT_LT(relative_error(measured.peak_torque, truth.muscle_peak_torque), 0.01)
        << (ext ? "extension " : "flexion ") << truth.repetition << ": " << measured.peak_torque
        << " vs " << truth.muscle_peak_torque << " (as measured " << truth.peak_torque << ")";
  }
  // The simulator rests flexed (60°, sin = 0.87), so the rest alone gives T_g too.
  AnalysisSettings from_rest;
  from_rest.gravity.minimum_mean_cos_squared = 0.25;
  const SetAnalysis r = analyze_set(s.recorded, from_rest, 0.0, settings.sample_rate_hz);
  EXPECT_EQ(r.gravity.mode, isokin::analysis::GravityMode::kFromRest) << r.gravity.reason;
  EXPECT_LT(relative_error(r.gravity.limb_moment, sweep.truth.limb_gravity_moment), 0.05)
      << r.gravity.limb_moment << " vs " << sweep.truth.limb_gravity_moment;
}

TEST(SimulatedSubject, ExtensorsPeakNearSixtyFiveDegreesFlexorsNearThirty) {
  MotionSetpoint sp;
  sp.extension_velocity = sp.flexion_velocity = 60.0;
  SimulationSettings settings;
  settings.subject.body_mass_kg = 1e-9;  // no limb weight: the muscles' own curves
  const SimulatedSet s = isokin::testing::simulate_set(settings, sp);
  for (const auto& truth : s.truth.phases) {
    if (truth.movement == Movement::kExtension) {
      EXPECT_NEAR(truth.angle_at_peak, 65.0, 5.0);
    } else {
      EXPECT_NEAR(truth.angle_at_peak, 30.0, 10.0);
    }
  }
}

}  // namespace
