// Every parameter on synthetic sets whose answers are derived on paper: within 0.1 % (angles
// within 0.5°, times within one sample plus the filter's rounding of velocity corners).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "isokin/analysis/session_analysis.h"
#include "synthetic_signals.h"

namespace {

using namespace isokin::analysis;
using isokin::drivers::Movement;
using isokin::drivers::Side;
using isokin::testing::SyntheticSet;
constexpr double kPi = std::numbers::pi;
constexpr double kInf = std::numeric_limits<double>::infinity();

double sine(double angle) {
  return std::sin(kPi * angle / 90.0);
}
auto zero = [](double) { return 0.0; };

void expect_rel(double measured, double truth, double tolerance = 1e-3) {
  EXPECT_NEAR(measured, truth, std::abs(truth) * tolerance) << "truth " << truth;
}

// 90° → 0° → 90° at 60 °/s, reached with 300 °/s² (0.2 s, 6° of ramp at each end).
// Extension τ = Pe·sin(πθ/90°), flexion τ = −Pf·sin(πθ/90°)·(1 + 0.005·θ).
TEST(IsokineticWindow, AccelerationDecelerationAndIsokineticWorkMatchPaper) {
  constexpr double rate = 2000.0;
  constexpr double pe = 200.0;
  constexpr double pf = 110.0;
  SyntheticSet s(rate);
  s.rest(0.5, 90.0, zero);
  s.move(90.0, 0.0, 60.0, 300.0, [](double a) { return pe * sine(a); });
  s.move(0.0, 90.0, 60.0, 300.0, [](double a) { return -pf * sine(a) * (1.0 + 0.005 * a); });
  s.rest(0.5, 90.0, zero);
  AnalysisSettings settings;
  const SetAnalysis a = analyze_set(s.set(60.0, 60.0), settings, 0.0, rate);
  ASSERT_EQ(a.extension.repetitions.size(), 1U);
  const PhaseResult& e = a.extension.repetitions[0];
  // On paper: band 60 ± 6 °/s is entered at v = 54 °/s, t = 54/300 = 0.18 s, after
  // ½·300·0.18² = 4.86° of travel; left symmetrically.
  const double band_angle = 4.86;
  EXPECT_TRUE(e.isokinetic.reached);
  EXPECT_NEAR(e.isokinetic.acceleration_time, 0.18, 2e-3);
  EXPECT_NEAR(e.isokinetic.deceleration_time, 0.18, 2e-3);
  EXPECT_NEAR(e.isokinetic.range_of_motion, 90.0 - 2.0 * band_angle, 0.1);
  EXPECT_DOUBLE_EQ(e.isokinetic.target_velocity, 60.0);
  EXPECT_NEAR(e.isokinetic.overshoot_time, 0.0, 1e-12);
  // Full-range work −∫τ dθ = Pe·(π/2)(2/π) = Pe; isokinetic work over [4.86°, 85.14°]:
  // Pe/2·(cos(π·4.86/90) − cos(π·85.14/90)) = Pe·cos(π·4.86/90).
  expect_rel(e.work, pe);
  expect_rel(e.isokinetic.work, pe * std::cos(kPi * band_angle / 90.0));
  expect_rel(e.peak_torque, pe);
  expect_rel(e.isokinetic.peak_torque, pe);
  EXPECT_NEAR(e.angle_at_peak, 45.0, 0.5);
  EXPECT_NEAR(e.isokinetic.angle_at_peak, 45.0, 0.5);
  EXPECT_EQ(e.muscle, MuscleGroup::kExtensors);
  EXPECT_EQ(e.contraction, Contraction::kConcentric);
  // Duration 90/60 + 0.2 s (the ramps take twice as long as at full speed); time to peak: the
  // lever reaches 45° halfway, 0.85 s after the start.
  EXPECT_NEAR(e.end_time - e.start_time, 1.7, 1.0 / rate);
  EXPECT_NEAR(e.time_to_peak, 0.85, 2.0 / rate);
  expect_rel(e.mean_power, pe / 1.7);
  // Isokinetic mean power: work over the isokinetic time, 1.7 − 2·0.18 s.
  expect_rel(e.isokinetic.mean_power, pe * std::cos(kPi * band_angle / 90.0) / (1.7 - 2.0 * 0.18));
  // Torque at 30° and 60°: Pe·sin(π/3) for both.
  ASSERT_EQ(e.torque_at_angles.size(), 2U);
  expect_rel(e.torque_at_angles[0], pe * std::sin(kPi / 3.0));
  expect_rel(e.torque_at_angles[1], pe * std::sin(2.0 * kPi / 3.0));
  EXPECT_NEAR(e.range_of_motion, 90.0, 0.01);

  // The flexion: ratio curve = Pf(1 + 0.005θ)/Pe at every angle where the quadriceps torque is
  // at least 10 % of its peak.
  const auto session_set = s.set(60.0, 60.0);
  isokin::acquisition::Session session;
  session.info.device.sample_rate_hz = rate;
  session.sets.push_back(session_set);
  const auto sa = analyze_session(session);
  ASSERT_EQ(sa.ratios.size(), 1U);
  const TorqueRatio& hq = sa.ratios[0];
  EXPECT_EQ(hq.kind, "conventional_hq");
  for (const double angle : {20.0, 30.0, 45.0, 60.0, 75.0}) {
    const auto k =
        static_cast<std::size_t>(std::lround((angle - hq.curve_start_angle) / hq.curve_step));
    ASSERT_LT(k, hq.curve.size());
    expect_rel(hq.curve[k], pf * (1.0 + 0.005 * angle) / pe);
  }
  // Below 10 % of the quadriceps peak (sin < 0.1, θ < 2.9°) the curve is not reported.
  EXPECT_TRUE(std::isnan(hq.curve.front()));
  // Peak of the flexion torque: maximum of sin(πθ/90)(1 + 0.005θ), found numerically on paper's
  // formula, not from the program: derivative zero at θ* where tan(πθ/90)·(π/90)(1+0.005θ) =
  // −0.005.
  double best_angle = 0.0;
  double best = 0.0;
  for (double angle = 0.0; angle <= 90.0; angle += 1e-4) {
    const double v = sine(angle) * (1.0 + 0.005 * angle);
    if (v > best) {
      best = v;
      best_angle = angle;
    }
  }
  const PhaseResult& f = a.flexion.repetitions[0];
  expect_rel(f.peak_torque, pf * best);
  EXPECT_NEAR(f.angle_at_peak, best_angle, 0.5);
  expect_rel(hq.value, pf * best / pe);
  // The curves' tops lie at the set speed: nothing to say about the acceleration.
  EXPECT_EQ(e.flags & kPhasePeakOutsideIsokinetic, 0U);
  EXPECT_EQ(f.flags & kPhasePeakOutsideIsokinetic, 0U);
}

// A fast movement whose highest torque comes in the acceleration, as an impact peak does:
// 90° → 0° at 300 °/s, reached with 3000 °/s² (0.1 s, 15° of ramp), τ = Pe·sin(πθ/90°) plus a
// bump 1.5·Pe·exp(−½((θ − 85°)/1.5°)²) in the ramp. On paper: the band 300 ± 30 °/s is entered
// at v = 270 °/s, after ½·270²/3000 = 12.15° (θ = 77.85°, where the bump is 2·10⁻⁵·Pe), so the
// isokinetic peak is the sine's, Pe at 45°, while the full-range top is the bump's.
class PeakInTheAcceleration : public ::testing::TestWithParam<double> {};

TEST_P(PeakInTheAcceleration, IsFlaggedAndTheIsokineticPeakIsTheLoadRangeTop) {
  const double rate = GetParam();
  constexpr double pe = 150.0;
  const auto torque = [](double a) {
    const double z = (a - 85.0) / 1.5;
    return pe * sine(a) + 1.5 * pe * std::exp(-0.5 * z * z);
  };
  SyntheticSet s(rate);
  s.rest(0.5, 90.0, zero);
  s.move(90.0, 0.0, 300.0, 3000.0, torque);
  s.rest(0.2, 0.0, zero);
  s.move(0.0, 90.0, 300.0, 3000.0, [](double a) { return -0.6 * pe * sine(a); });
  s.rest(0.5, 90.0, zero);
  const SetAnalysis a = analyze_set(s.set(300.0, 300.0), AnalysisSettings{}, 0.0, rate);
  ASSERT_EQ(a.extension.repetitions.size(), 1U);
  const PhaseResult& e = a.extension.repetitions[0];
  ASSERT_TRUE(e.isokinetic.reached);
  EXPECT_NE(e.flags & kPhasePeakOutsideIsokinetic, 0U);
  EXPECT_GT(e.angle_at_peak, 77.85);  // the full-range top: the bump, before the band
  expect_rel(e.isokinetic.peak_torque, pe);
  EXPECT_NEAR(e.isokinetic.angle_at_peak, 45.0, 0.5);
  expect_rel(a.extension.isokinetic_peak_torque, pe);
  // The flexion peaks at the set speed: no flag, and its isokinetic peak is the full-range one.
  const PhaseResult& f = a.flexion.repetitions.at(0);
  EXPECT_EQ(f.flags & kPhasePeakOutsideIsokinetic, 0U);
  expect_rel(f.isokinetic.peak_torque, 0.6 * pe);
  // One warning for the movement, not one per repetition.
  int warnings = 0;
  for (const auto& w : a.warnings) {
    if (w.find("outside the isokinetic window") != std::string::npos) {
      ++warnings;
      EXPECT_NE(w.find("extension"), std::string::npos) << w;
      EXPECT_NE(w.find("1 of 1 repetitions; at the set speed: 150.0 N·m"), std::string::npos) << w;
    }
  }
  EXPECT_EQ(warnings, 1);
}

INSTANTIATE_TEST_SUITE_P(Rates, PeakInTheAcceleration, ::testing::Values(100.0, 500.0, 2000.0));

// Eccentric hamstrings (flexor moment while the lever extends) against concentric quadriceps.
TEST(FunctionalRatio, EccentricHamstringsOverConcentricQuadriceps) {
  constexpr double rate = 1000.0;
  constexpr double pe = 220.0;
  constexpr double pf = 120.0;
  constexpr double he = 190.0;  // eccentric hamstrings are stronger than concentric ones
  isokin::acquisition::Session session;
  session.info.device.sample_rate_hz = rate;
  for (const bool eccentric : {false, true}) {
    SyntheticSet s(rate);
    s.rest(0.5, 90.0, zero);
    for (int r = 0; r < 3; ++r) {
      if (eccentric) {
        s.move(90.0, 0.0, 60.0, 600.0, [](double a) { return -he * sine(a); });
      } else {
        s.move(90.0, 0.0, 60.0, 600.0, [](double a) { return pe * sine(a); });
      }
      s.move(0.0, 90.0, 60.0, 600.0, [](double a) { return -pf * sine(a); });
    }
    s.rest(0.5, 90.0, zero);
    auto set = s.set(60.0, 60.0);
    set.info.index = eccentric ? 1 : 0;
    session.sets.push_back(set);
  }
  const auto a = analyze_session(session);
  ASSERT_EQ(a.sets.size(), 2U);
  const auto& ecc = a.sets[1].extension;
  EXPECT_EQ(ecc.muscle, MuscleGroup::kFlexors);
  EXPECT_EQ(ecc.contraction, Contraction::kEccentric);
  EXPECT_EQ(ecc.muscle_group, "hamstrings");
  expect_rel(ecc.peak_torque, he);
  // Work absorbed by the hamstrings: ∫ He·sin dθ = He J, reported positive.
  expect_rel(ecc.repetitions[0].work, he);
  const TorqueRatio* functional = nullptr;
  const TorqueRatio* conventional = nullptr;
  for (const auto& r : a.ratios) {
    if (r.kind == "functional_hq") functional = &r;
    if (r.kind == "conventional_hq") conventional = &r;
  }
  ASSERT_NE(functional, nullptr);
  ASSERT_NE(conventional, nullptr);
  expect_rel(functional->value, he / pe);
  EXPECT_EQ(functional->numerator, "hamstrings eccentric");
  EXPECT_EQ(functional->denominator, "quadriceps concentric");
  expect_rel(conventional->value, pf / pe);
  // Angle-specific functional ratio: He/Pe at every angle (same shape).
  for (const double v : functional->curve) {
    if (!std::isnan(v)) expect_rel(v, he / pe, 2e-3);
  }
  // Thresholds only annotate: conventional 0.545 < 0.6 is flagged, functional 0.86 < 1.0 too.
  int hq_flags = 0;
  for (const auto& f : a.flags) {
    if (f.code == "conventional_hq_low" || f.code == "functional_hq_low") ++hq_flags;
    EXPECT_FALSE(f.source.empty());
  }
  EXPECT_EQ(hq_flags, 2);
}

// 15 repetitions with peak torque 200 − 4i (extension) and 100 − i (flexion), i = 0…14.
TEST(Fatigue, IndicesMatchPaperValues) {
  constexpr double rate = 1000.0;
  SyntheticSet s(rate);
  s.rest(0.5, 90.0, zero);
  for (int i = 0; i < 15; ++i) {
    const double pe = 200.0 - 4.0 * i;
    const double pf = 100.0 - 1.0 * i;
    s.move(90.0, 0.0, 180.0, 3000.0, [pe](double a) { return pe * sine(a); });
    s.move(0.0, 90.0, 180.0, 3000.0, [pf](double a) { return -pf * sine(a); });
  }
  s.rest(0.5, 90.0, zero);
  const auto a = analyze_set(s.set(180.0, 180.0), {}, 0.0, rate);
  ASSERT_EQ(a.extension.repetitions.size(), 15U);
  const auto& f = a.extension.fatigue;
  // Work per phase = peak torque (sine shape). First five: 960 J, last five: 760 J.
  expect_rel(f.work_fatigue, 100.0 * (1.0 - 760.0 / 960.0));
  expect_rel(f.endurance_ratio, 760.0 / 960.0);
  // First three mean 196, last three 148.
  expect_rel(f.thorstensson_index, 100.0 * (1.0 - 148.0 / 196.0));
  expect_rel(f.peak_torque_slope, -4.0);
  expect_rel(f.peak_torque_slope_percent, -2.0);
  // Coefficient of variation of 200 − 4i: SD = 4·sqrt(Σ(i−7)²/14) = 4·sqrt(20), mean 172.
  expect_rel(a.extension.coefficient_of_variation, 100.0 * 4.0 * std::sqrt(20.0) / 172.0);
  // H:Q drift: least-squares slope of (100 − i)/(200 − 4i) over i (paper formula).
  double sx = 0, sy = 0, sxy = 0, sxx = 0;
  for (int i = 0; i < 15; ++i) {
    const double y = (100.0 - i) / (200.0 - 4.0 * i);
    sx += i;
    sy += y;
    sxy += i * y;
    sxx += i * i;
  }
  const double slope = (15 * sxy - sx * sy) / (15 * sxx - sx * sx);
  ASSERT_EQ(a.hq_by_repetition.size(), 15U);
  expect_rel(a.hq_by_repetition[14], 86.0 / 144.0);
  expect_rel(a.hq_drift_slope, slope, 5e-3);
  EXPECT_EQ(a.extension.best_repetition, 0);
  expect_rel(a.extension.total_work, 15 * 200.0 - 4.0 * 105.0);
}

// The leg rests horizontal (θ = 0°, τ = −T_g) before the set; muscle torques as above.
TEST(GravityCorrection, EstimatedFromRestAndAddedBack) {
  constexpr double rate = 1000.0;
  constexpr double tg = 12.0;
  constexpr double pe = 180.0;
  constexpr double pf = 100.0;
  auto gravity = [](double a) { return -tg * std::cos(a * kPi / 180.0); };
  SyntheticSet s(rate);
  s.rest(0.5, 0.0, gravity);
  for (int r = 0; r < 3; ++r) {
    s.move(0.0, 90.0, 60.0, 600.0, [&](double a) { return -pf * sine(a) + gravity(a); });
    s.move(90.0, 0.0, 60.0, 600.0, [&](double a) { return pe * sine(a) + gravity(a); });
  }
  s.rest(0.5, 0.0, gravity);
  const auto set = s.set(60.0, 60.0);
  const auto a = analyze_set(set, {}, 0.0, rate);
  EXPECT_EQ(a.gravity.mode, GravityMode::kFromRest);
  expect_rel(a.gravity.limb_moment, tg, 1e-9);
  expect_rel(a.extension.peak_torque, pe);
  expect_rel(a.flexion.peak_torque, pf);
  EXPECT_NEAR(a.extension.angle_at_peak, 45.0, 0.5);
  // Given explicitly: same numbers. Off: extension loses, flexion gains T_g·cos θ.
  AnalysisSettings given;
  given.gravity.mode = GravityMode::kGiven;
  given.gravity.limb_moment = tg;
  const auto b = analyze_set(set, given, 0.0, rate);
  EXPECT_EQ(b.gravity.mode, GravityMode::kGiven);
  expect_rel(b.extension.peak_torque, pe);
  AnalysisSettings off;
  off.gravity.mode = GravityMode::kOff;
  const auto c = analyze_set(set, off, 0.0, rate);
  EXPECT_EQ(c.gravity.mode, GravityMode::kOff);
  EXPECT_FALSE(c.gravity.reason.empty());
  EXPECT_LT(c.extension.peak_torque, pe - 5.0);
  EXPECT_GT(c.flexion.peak_torque, pf + 5.0);
}

// A passive gravity trial (relaxed limb moved slowly 90°→0°→90°, τ = −T_g·cos θ + a 1.5 N·m
// sensor offset) serves the test set of the same side, whose own rest (at 90°) cannot.
TEST(GravityCorrection, PassiveTrialGivesTheLimbMomentDespiteAnOffset) {
  constexpr double rate = 500.0;
  constexpr double tg = 14.0;
  constexpr double pe = 190.0;
  constexpr double pf = 95.0;
  auto gravity = [](double a) { return -tg * std::cos(a * kPi / 180.0); };
  SyntheticSet trial(rate);
  trial.rest(0.5, 90.0, [&](double a) { return gravity(a) + 1.5; });
  trial.move(90.0, 0.0, 30.0, 300.0, [&](double a) { return gravity(a) + 1.5; });
  trial.move(0.0, 90.0, 30.0, 300.0, [&](double a) { return gravity(a) + 1.5; });
  SyntheticSet test(rate);
  test.rest(0.5, 90.0, gravity);
  for (int r = 0; r < 3; ++r) {
    test.move(90.0, 0.0, 60.0, 600.0, [&](double a) { return pe * sine(a) + gravity(a); });
    test.move(0.0, 90.0, 60.0, 600.0, [&](double a) { return -pf * sine(a) + gravity(a); });
  }
  test.rest(0.5, 90.0, gravity);
  isokin::acquisition::Session session;
  session.info.device.sample_rate_hz = rate;
  session.sets.push_back(trial.set(30.0, 30.0));
  session.sets[0].info.kind = isokin::acquisition::kSetKindGravity;
  session.sets.push_back(test.set(60.0, 60.0));
  session.sets[1].info.index = 1;
  const auto a = analyze_session(session);
  ASSERT_EQ(a.gravity_trials.size(), 1U);
  EXPECT_EQ(a.gravity_trials[0].estimate.mode, GravityMode::kFromTrial);
  expect_rel(a.gravity_trials[0].estimate.limb_moment, tg, 1e-9);
  ASSERT_EQ(a.sets.size(), 1U);  // the trial is not a test set
  EXPECT_EQ(a.sets[0].set_index, 1);
  EXPECT_EQ(a.sets[0].gravity.mode, GravityMode::kFromTrial);
  expect_rel(a.sets[0].gravity.limb_moment, tg, 1e-9);
  expect_rel(a.sets[0].extension.peak_torque, pe);
  expect_rel(a.sets[0].flexion.peak_torque, pf);
  // An explicit setting wins over the trial.
  AnalysisSettings off;
  off.gravity.mode = GravityMode::kOff;
  EXPECT_EQ(analyze_session(session, off).sets[0].gravity.mode, GravityMode::kOff);
}

// The trunk's 0° is upright: its weight's flexor moment is T_g·sin θ, not cos θ. A rest at 60°
// flexion measures −T_g·sin 60°; the correction adds T_g·sin θ back along the movement.
TEST(GravityCorrection, TheTrunksWeightActsWithTheSineOfItsFlexion) {
  constexpr double kTg = 120.0;  // upper body, horizontal
  const auto weight = [](double a) { return -kTg * std::sin(kPi * a / 180.0); };
  SyntheticSet s(1000.0);
  s.rest(0.5, 60.0, weight);
  s.move(60.0, 0.0, 60.0, 600.0,
         [&](double a) { return 150 * std::sin(kPi * a / 60.0) + weight(a); });
  s.move(0.0, 60.0, 60.0, 600.0,
         [&](double a) { return -80 * std::sin(kPi * a / 60.0) + weight(a); });
  auto set = s.set(60, 60);
  set.info.setpoint.joint = isokin::drivers::Joint::kTrunk;
  const auto a = analyze_set(set, {}, 0.0, 1000.0);
  EXPECT_EQ(a.gravity.mode, GravityMode::kFromRest);
  expect_rel(a.gravity.limb_moment, kTg, 1e-9);
  // The muscles' own peaks, on paper: 150 and 80 N·m at 30°.
  expect_rel(a.extension.peak_torque, 150.0);
  expect_rel(a.flexion.peak_torque, 80.0);
  EXPECT_EQ(a.extension.muscle_group, "trunk extensors");
  // Upright (sin 0° = 0) a rest tells nothing about T_g: off, and the reason says why.
  SyntheticSet upright(1000.0);
  upright.rest(0.5, 0.0, weight);
  upright.move(0.0, 60.0, 60.0, 600.0,
               [&](double a) { return -80 * std::sin(kPi * a / 60.0) + weight(a); });
  auto set2 = upright.set(60, 60);
  set2.info.setpoint.joint = isokin::drivers::Joint::kTrunk;
  const auto b = analyze_set(set2, {}, 0.0, 1000.0);
  EXPECT_EQ(b.gravity.mode, GravityMode::kOff);
  EXPECT_NE(b.gravity.reason.find("vertical"), std::string::npos) << b.gravity.reason;
}

TEST(GravityCorrection, OffWithAReasonWhenTheRestIsVerticalOrMissing) {
  SyntheticSet vertical(1000.0);
  vertical.rest(0.5, 90.0, zero);
  vertical.move(90.0, 0.0, 60.0, 600.0, [](double a) { return 100 * sine(a); });
  vertical.move(0.0, 90.0, 60.0, 600.0, [](double a) { return -60 * sine(a); });
  const auto a = analyze_set(vertical.set(60, 60), {}, 0.0, 1000.0);
  EXPECT_EQ(a.gravity.mode, GravityMode::kOff);
  EXPECT_NE(a.gravity.reason.find("vertical"), std::string::npos);
  SyntheticSet no_rest(1000.0);
  no_rest.move(90.0, 0.0, 60.0, kInf, [](double a) { return 100 * sine(a); });
  no_rest.move(0.0, 90.0, 60.0, kInf, [](double a) { return -60 * sine(a); });
  const auto b = analyze_set(no_rest.set(60, 60), {}, 0.0, 1000.0);
  EXPECT_EQ(b.gravity.mode, GravityMode::kOff);
  EXPECT_NE(b.gravity.reason.find("too little rest"), std::string::npos);
}

}  // namespace
