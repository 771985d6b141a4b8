#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "isokin/drivers/registry.h"
#include "isokin/drivers/simulated_dynamometer.h"

namespace {

using namespace isokin::drivers;

std::vector<Sample> run_set(SimulatedDynamometer& sim, const MotionSetpoint& sp) {
  sim.apply(sp);
  sim.start();
  std::vector<Sample> all;
  std::vector<Sample> buffer(777);  // odd block size on purpose
  for (;;) {
    const auto r = sim.read(buffer);
    all.insert(all.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.count));
    if (r.status == ReadStatus::kEndOfStream) break;
    EXPECT_EQ(r.status, ReadStatus::kOk);
  }
  sim.stop();
  return all;
}

TEST(SimulatedDynamometer, SameSeedSameSamplesOtherSeedOtherNoise) {
  SimulationSettings settings;
  settings.seed = 42;
  SimulatedDynamometer a(settings);
  SimulatedDynamometer b(settings);
  settings.seed = 43;
  SimulatedDynamometer c(settings);
  a.open();
  b.open();
  c.open();
  const MotionSetpoint sp;
  const auto sa = run_set(a, sp);
  const auto sb = run_set(b, sp);
  const auto sc = run_set(c, sp);
  ASSERT_EQ(sa.size(), sb.size());
  ASSERT_EQ(sa.size(), sc.size());
  int differing = 0;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    ASSERT_EQ(sa[i].torque, sb[i].torque);
    ASSERT_EQ(sa[i].angle, sb[i].angle);
    differing += sa[i].torque != sc[i].torque ? 1 : 0;
  }
  EXPECT_GT(differing, static_cast<int>(sa.size()) / 2);
}

TEST(SimulatedDynamometer, TimesAreRegularAndCountMatchesTruth) {
  SimulationSettings settings;
  settings.sample_rate_hz = 1000.0;
  SimulatedDynamometer sim(settings);
  sim.open();
  const auto samples = run_set(sim, MotionSetpoint{});
  ASSERT_EQ(sim.ground_truth().size(), 1U);
  EXPECT_EQ(samples.size(), sim.ground_truth()[0].sample_count);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ASSERT_DOUBLE_EQ(samples[i].time, static_cast<double>(i) / 1000.0);
  }
  EXPECT_EQ(sim.describe().sample_rate_hz, 1000.0);
  EXPECT_EQ(sim.describe().driver, "sim");
}

TEST(SimulatedDynamometer, LeverReachesSetVelocityAndFollowsRangeOfMotion) {
  SimulationSettings settings;
  settings.velocity_noise = 0.0;
  settings.angle_noise = 0.0;
  SimulatedDynamometer sim(settings);
  sim.open();
  MotionSetpoint sp;
  sp.extension_velocity = 180.0;
  sp.flexion_velocity = 120.0;
  sp.angle_min = 10.0;
  sp.angle_max = 90.0;
  const auto samples = run_set(sim, sp);
  double min_angle = 1e9;
  double max_angle = -1e9;
  double min_velocity = 0.0;
  double max_velocity = 0.0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    min_angle = std::min(min_angle, samples[i].angle);
    max_angle = std::max(max_angle, samples[i].angle);
    min_velocity = std::min(min_velocity, samples[i].velocity);
    max_velocity = std::max(max_velocity, samples[i].velocity);
    // Velocity is the derivative of angle (sign convention: positive toward flexion).
    const double dt = samples[i].time - samples[i - 1].time;
    const double derivative = (samples[i].angle - samples[i - 1].angle) / dt;
    const double mean_velocity = 0.5 * (samples[i].velocity + samples[i - 1].velocity);
    ASSERT_NEAR(derivative, mean_velocity, 1.0) << "at t = " << samples[i].time;
  }
  EXPECT_NEAR(min_angle, 10.0, 1e-9);
  EXPECT_NEAR(max_angle, 90.0, 1e-9);
  EXPECT_NEAR(min_velocity, -180.0, 1e-9);  // extension
  EXPECT_NEAR(max_velocity, 120.0, 1e-9);   // flexion
}

TEST(SimulatedDynamometer, TruthShowsFatigueForceVelocityAndSideDeficit) {
  SimulationSettings settings;
  SimulatedDynamometer sim(settings);
  sim.open();
  auto peaks = [&](Side side, double velocity) {
    MotionSetpoint sp;
    sp.side = side;
    sp.extension_velocity = sp.flexion_velocity = velocity;
    run_set(sim, sp);
    std::vector<double> ext;
    for (const auto& p : sim.ground_truth().back().phases) {
      if (p.movement == Movement::kExtension) ext.push_back(p.muscle_peak_torque);
    }
    return ext;
  };
  const auto right60 = peaks(Side::kRight, 60.0);
  const auto right180 = peaks(Side::kRight, 180.0);
  const auto left60 = peaks(Side::kLeft, 60.0);
  ASSERT_EQ(right60.size(), 5U);
  for (std::size_t i = 1; i < right60.size(); ++i) EXPECT_LT(right60[i], right60[i - 1]);
  EXPECT_LT(right180[0], 0.8 * right60[0]);
  EXPECT_NEAR(left60[0] / right60[0], settings.subject.left_quadriceps_factor, 1e-3);
  // A 75 kg adult's quadriceps at 60 °/s: roughly 2.5–3.5 N·m/kg.
  EXPECT_GT(right60[0] / settings.subject.body_mass_kg, 2.5);
  EXPECT_LT(right60[0] / settings.subject.body_mass_kg, 3.5);
}

TEST(SimulatedDynamometer, LimbWeightShowsAtRest) {
  SimulationSettings settings;
  settings.torque_noise = 0.0;
  SimulatedDynamometer sim(settings);
  sim.open();
  MotionSetpoint sp;
  sp.angle_max = 60.0;  // resting position before the first repetition
  const auto samples = run_set(sim, sp);
  // Seated: at 60° flexion the shank's weight pulls toward flexion, a negative moment.
  const double expected =
      -settings.subject.limb_gravity_moment() * std::cos(60.0 * std::numbers::pi / 180.0);
  EXPECT_NEAR(samples.front().torque, expected, 1e-9);
  EXPECT_LT(expected, -5.0);
}

TEST(SimulatedDynamometer, RejectsInvalidUseWithClearErrors) {
  SimulatedDynamometer sim;
  EXPECT_THROW(sim.start(), DeviceError);
  MotionSetpoint bad;
  bad.repetitions = 0;
  EXPECT_THROW(sim.apply(bad), DeviceError);
  std::vector<Sample> buffer(8);
  EXPECT_EQ(sim.read(buffer).status, ReadStatus::kError);
  SimulationSettings settings;
  settings.sample_rate_hz = 0.0;
  EXPECT_THROW(SimulatedDynamometer{settings}, DeviceError);
}

TEST(DeviceRegistry, MakesSimulatorAndNamesAvailableDriversOnUnknownName) {
  const auto device = make_device("sim");
  EXPECT_EQ(device->describe().driver, "sim");
  try {
    make_device("biodex9000");
    FAIL() << "expected DeviceError";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("biodex9000"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("sim"), std::string::npos);
  }
}

}  // namespace
