// The simulator's eccentric, isometric, passive and trunk modes: signs, physiology that can be
// derived on paper, and ground truth that matches the samples it produced.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "isokin/drivers/simulated_dynamometer.h"

namespace {

using namespace isokin::drivers;

constexpr double kDegToRad = std::numbers::pi / 180.0;

std::vector<Sample> record(SimulatedDynamometer& sim, const MotionSetpoint& sp) {
  sim.apply(sp);
  sim.start();
  std::vector<Sample> all;
  std::vector<Sample> buffer(500);
  for (;;) {
    const auto r = sim.read(buffer);
    all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.count));
    if (r.status != ReadStatus::kOk) break;
  }
  sim.stop();
  return all;
}

SimulationSettings noiseless() {
  SimulationSettings s;
  s.torque_noise = 0.0;
  s.angle_noise = 0.0;
  s.velocity_noise = 0.0;
  return s;
}

// Largest torque in the working muscle's direction among the samples of a truth phase.
double measured_peak(const std::vector<Sample>& samples, const PhaseTruth& phase) {
  const double sign = phase.extensors ? 1.0 : -1.0;
  double peak = -1e9;
  for (const Sample& s : samples) {
    if (s.time >= phase.start_time && s.time <= phase.end_time)
      peak = std::max(peak, sign * s.torque);
  }
  return peak;
}

void expect_truth_matches_samples(const std::vector<Sample>& samples, const SetTruth& truth) {
  for (const PhaseTruth& phase : truth.phases) {
    // The 20× finer truth grid can only find a slightly higher peak than the 2 kHz samples.
    const double measured = measured_peak(samples, phase);
    EXPECT_LE(measured, phase.peak_torque + 1e-9);
    EXPECT_NEAR(measured, phase.peak_torque, 0.01 * phase.peak_torque + 0.05);
  }
}

TEST(SimulatorModes, EccentricEccentricKneeLengthensBothMuscleGroups) {
  SimulatedDynamometer sim(noiseless());
  sim.open();
  MotionSetpoint sp;
  sp.mode = ContractionMode::kEccentricEccentric;
  sp.extension_velocity = sp.flexion_velocity = 60.0;
  sp.repetitions = 2;
  const auto samples = record(sim, sp);
  const SetTruth& truth = sim.ground_truth().back();
  ASSERT_EQ(truth.phases.size(), 4u);
  const SimulatedSubject subject;
  for (const PhaseTruth& phase : truth.phases) {
    EXPECT_EQ(phase.contraction, Contraction::kEccentric);
    // Extension phase: the flexors (hamstrings) resist the lever; flexion: the quadriceps.
    EXPECT_EQ(phase.extensors, phase.movement == Movement::kFlexion);
    // Eccentric work is absorbed: negative.
    EXPECT_LT(phase.work, 0.0);
  }
  // First repetition, no fatigue: eccentric peak / isometric peak at the optimum angle
  // = 1.3 − 0.3·exp(−60/30) = 1.2594 (within the 1.2–1.4 reported in vivo).
  const double expected_ratio = 1.3 - 0.3 * std::exp(-2.0);
  EXPECT_NEAR(truth.phases[0].muscle_peak_torque / subject.hamstrings_isometric_peak,
              expected_ratio, 0.01);
  EXPECT_NEAR(truth.phases[1].muscle_peak_torque / subject.quadriceps_isometric_peak,
              expected_ratio, 0.01);
  // Signs: while the lever extends (velocity < 0) the measured torque is a flexor moment.
  for (const Sample& s : samples) {
    if (s.time > truth.phases[0].start_time + 0.1 && s.time < truth.phases[0].end_time - 0.1) {
      ASSERT_LT(s.velocity, 0.0);
      ASSERT_LT(s.torque, 0.0) << "at " << s.time;
    }
  }
  expect_truth_matches_samples(samples, truth);
}

TEST(SimulatorModes, ConcentricEccentricWorksTheQuadricepsBothWays) {
  SimulatedDynamometer sim(noiseless());
  sim.open();
  MotionSetpoint sp;
  sp.mode = ContractionMode::kConcentricEccentric;
  sp.repetitions = 1;
  const auto samples = record(sim, sp);
  const SetTruth& truth = sim.ground_truth().back();
  ASSERT_EQ(truth.phases.size(), 2u);
  EXPECT_TRUE(truth.phases[0].extensors);
  EXPECT_EQ(truth.phases[0].contraction, Contraction::kConcentric);
  EXPECT_GT(truth.phases[0].work, 0.0);
  EXPECT_TRUE(truth.phases[1].extensors);
  EXPECT_EQ(truth.phases[1].contraction, Contraction::kEccentric);
  EXPECT_LT(truth.phases[1].work, 0.0);
  // Eccentric quadriceps beat concentric quadriceps at the same speed.
  EXPECT_GT(truth.phases[1].muscle_peak_torque, 1.3 * truth.phases[0].muscle_peak_torque);
  expect_truth_matches_samples(samples, truth);
}

TEST(SimulatorModes, IsometricHoldsTheLeverAndRampsTheEffort) {
  SimulatedDynamometer sim(noiseless());
  sim.open();
  MotionSetpoint sp;
  sp.mode = ContractionMode::kIsometric;
  sp.hold_angle = 65.0;  // the quadriceps' optimum angle in the model
  sp.contraction_time = 3.0;
  sp.repetitions = 2;
  const auto samples = record(sim, sp);
  const SetTruth& truth = sim.ground_truth().back();
  ASSERT_EQ(truth.phases.size(), 4u);
  for (const Sample& s : samples) {
    ASSERT_EQ(s.angle, 65.0);
    ASSERT_EQ(s.velocity, 0.0);
  }
  const SimulatedSubject subject;
  const double gravity = -subject.limb_gravity_moment() * std::cos(65.0 * kDegToRad);
  const PhaseTruth& first = truth.phases[0];
  EXPECT_EQ(first.contraction, Contraction::kIsometric);
  EXPECT_EQ(first.work, 0.0);
  EXPECT_NEAR(first.end_time - first.start_time, 3.0, 1e-9);
  // Plateau of a 3 s effort: activation (1 − e^(−t/0.15))(1 − e^(−(3−t)/0.1)) peaks at ≈ 1.
  EXPECT_NEAR(first.muscle_peak_torque, subject.quadriceps_isometric_peak, 0.5);
  EXPECT_NEAR(first.peak_torque, subject.quadriceps_isometric_peak + gravity, 0.5);
  // Ramp: 0.15 s into the effort the torque is at 1 − 1/e of the muscle's peak.
  const auto at = std::find_if(samples.begin(), samples.end(),
                               [&](const Sample& s) { return s.time >= first.start_time + 0.15; });
  ASSERT_NE(at, samples.end());
  EXPECT_NEAR(at->torque - gravity, (1 - std::exp(-1.0)) * subject.quadriceps_isometric_peak, 2.0);
  // The flexion effort pulls the other way.
  EXPECT_FALSE(truth.phases[1].extensors);
  expect_truth_matches_samples(samples, truth);
}

TEST(SimulatorModes, PassiveSweepMeasuresOnlyTheLimbsWeight) {
  SimulatedDynamometer sim(noiseless());
  sim.open();
  MotionSetpoint sp;
  sp.passive = true;
  sp.repetitions = 1;
  sp.extension_velocity = sp.flexion_velocity = 30.0;
  const auto samples = record(sim, sp);
  const SimulatedSubject subject;
  for (const Sample& s : samples) {
    ASSERT_NEAR(s.torque, -subject.limb_gravity_moment() * std::cos(s.angle * kDegToRad), 1e-9);
  }
}

TEST(SimulatorModes, TrunkExtensorsAreStrongerAndTheUpperBodyPullsIntoFlexion) {
  SimulatedDynamometer sim(noiseless());
  sim.open();
  MotionSetpoint sp;
  sp.joint = Joint::kTrunk;
  sp.angle_min = 0.0;
  sp.angle_max = 60.0;
  sp.extension_velocity = sp.flexion_velocity = 60.0;
  sp.repetitions = 1;
  const auto samples = record(sim, sp);
  const SetTruth& truth = sim.ground_truth().back();
  const SimulatedSubject subject;
  // At rest, flexed 60°: 75 kg × 0.6 × 9.81 m/s² × 0.2 m × sin 60° = 76.5 N·m of flexion moment.
  EXPECT_NEAR(samples.front().torque, -75.0 * 0.6 * 9.81 * 0.2 * std::sin(60.0 * kDegToRad), 1e-9);
  EXPECT_NEAR(truth.limb_gravity_moment, subject.upper_body_gravity_moment(), 1e-12);
  ASSERT_EQ(truth.phases.size(), 2u);
  // Hill at 60 °/s with vmax 600 (extensors) and 700 (flexors), k = 0.3, peak angles in range.
  const auto hill = [](double v, double vmax) { return (1 - v / vmax) / (1 + v / (0.3 * vmax)); };
  EXPECT_NEAR(truth.phases[0].muscle_peak_torque,
              subject.trunk_extensors_isometric_peak * hill(60, 600), 1.5);
  EXPECT_NEAR(truth.phases[1].muscle_peak_torque,
              subject.trunk_flexors_isometric_peak * hill(60, 700), 1.5);
  EXPECT_GT(truth.phases[0].muscle_peak_torque, truth.phases[1].muscle_peak_torque);
  expect_truth_matches_samples(samples, truth);
}

TEST(SimulatorModes, IsometricSetpointWithoutAContractionTimeIsRefused) {
  SimulatedDynamometer sim;
  sim.open();
  MotionSetpoint sp;
  sp.mode = ContractionMode::kIsometric;
  sp.contraction_time = 0.0;
  EXPECT_THROW(sim.apply(sp), DeviceError);
}

TEST(Domain, ModeNamesRoundTrip) {
  for (const auto mode :
       {ContractionMode::kConcentricConcentric, ContractionMode::kConcentricEccentric,
        ContractionMode::kEccentricEccentric, ContractionMode::kIsometric}) {
    EXPECT_EQ(parse_contraction_mode(to_string(mode)), mode);
  }
  EXPECT_EQ(parse_joint("trunk"), Joint::kTrunk);
  EXPECT_FALSE(parse_contraction_mode("isokinetic").has_value());
  EXPECT_EQ(muscle_group(Joint::kTrunk, Movement::kExtension), "trunk extensors");
}

}  // namespace
